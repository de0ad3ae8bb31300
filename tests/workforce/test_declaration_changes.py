"""Declarations put right after they are made (UX review 16): dates of birth checked, people declared by
name alone, corrections while awaiting a decision, withdrawal requests decided by the line manager, and
updates that replace a decided declaration — each ledgered, and none opening a gap in the pre-access gate."""

from __future__ import annotations

import html
import re
from dataclasses import asdict, replace
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from custodes.identity import service as identity
from custodes.identity.permissions import Role
from custodes.identity.schemas import Principal
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter
from custodes.workforce import gate
from custodes.workforce import service as workforce
from custodes.workforce.models import Declaration
from custodes.workforce.schemas import DeclarationForm, DeclarationKind, SubjectRef
from tests.conftest import PASSWORD, log_in, make_account, post_form
from tests.workforce.test_gate import ACTOR as GATE_ACTOR
from tests.workforce.test_gate import make_gate_world
from tests.workforce.test_training_compliance import ACTOR, make_force

NEIGHBOUR = DeclarationForm(
    kind="reportable_association",
    surname="Thompson",
    forenames="Adam",
    date_of_birth="1990-05-01",
    postcode="ME14 1AA",
    relationship="friend",
    description="A friend from school;\nhe was arrested last year.",
)


def _fields(form: DeclarationForm) -> dict[str, str]:
    return {k: v for k, v in asdict(form).items() if v}


def _principal(db: Session, staff_id: str) -> Principal:
    return identity.principal_for(db, staff_id)


# --------------------------------------------------------------------------- finding 2: dates of birth


@pytest.mark.parametrize(
    ("born", "problem"),
    [
        ("2030-01-01", "must be in the past"),
        (str(date.today() + timedelta(days=2)), "must be in the past"),
        ("1880-01-01", "is more than 120 years ago: check the year"),
    ],
)
def test_a_declared_date_of_birth_must_be_in_the_past_and_plausible(
    db: Session, born: str, problem: str
) -> None:
    """Review: a date of birth of 1 January 2030 was accepted."""
    make_force(db)
    with pytest.raises(workforce.DeclarationProblems) as caught:
        workforce.make_declaration(db, "P1", replace(NEIGHBOUR, date_of_birth=born), actor="staff:P1")
    assert caught.value.problems == [("date_of_birth", problem)]


def test_a_plausible_date_of_birth_is_accepted(db: Session) -> None:
    make_force(db)
    assert workforce.make_declaration(
        db, "P1", replace(NEIGHBOUR, date_of_birth="1930-02-01"), actor="staff:P1"
    )


# --------------------------------------------------------------------------- finding 4: words on the page


def _logged_in(client: TestClient, db: Session, *staff_ids: str) -> None:
    for sid in staff_ids:
        identity.set_password(db, sid, PASSWORD, ACTOR)
    db.commit()


def test_the_details_keep_their_line_breaks_in_normal_text(client: TestClient, db: Session) -> None:
    """UX review 16: the details showed in a monospace <pre> box, under "Details" — a label the form does
    not use."""
    make_force(db)
    declaration_id = workforce.make_declaration(db, "P1", NEIGHBOUR, actor="staff:P1")
    _logged_in(client, db, "P1")
    log_in(client, "P1")
    page = client.get(f"/declarations/{declaration_id}").text
    assert "<pre>" not in page
    assert "A friend from school;<br>he was arrested last year." in page
    assert "<dt>The nature and extent of the association</dt>" in page


def test_a_problem_with_the_details_is_named_as_the_form_labels_them(client: TestClient, db: Session) -> None:
    make_force(db)
    _logged_in(client, db, "P1")
    log_in(client, "P1")
    values = {**_fields(NEIGHBOUR), "description": ""}
    bad = post_form(client, "/declarations", values)
    text = html.unescape(bad.text)  # type: ignore[attr-defined]
    assert "The nature and extent of the association: describe the nature and extent" in text
    assert "Details:" not in text


def test_the_done_message_after_a_decision_says_what_was_decided_in_words(
    client: TestClient, db: Session
) -> None:
    """UX review 16: it led with the id ("D20261124-B2840C: approved with conditions.")."""
    make_force(db)
    declaration_id = workforce.make_declaration(db, "P1", NEIGHBOUR, actor="staff:P1")
    _logged_in(client, db, "M1")
    log_in(client, "M1")
    page = client.get(f"/declarations/{declaration_id}").text
    seen = re.search(r'name="seen" value="([^"]*)"', page)
    assert seen
    done = post_form(
        client,
        f"/declarations/{declaration_id}/decide",
        {
            "outcome": "approved_with_conditions",
            "conditions": "No searches about him; refer to me.",
            "review_on": "2099-05-01",
            "seen": seen.group(1),
        },
    )
    assert done.status_code == 303  # type: ignore[attr-defined]
    queue = html.unescape(client.get(done.headers["location"]).text)  # type: ignore[attr-defined]
    assert (
        "ForenameP1 SurnameP1's reportable association (Adam Thompson): approved with conditions; "
        "review 1 May 2099." in queue
    )


# ------------------------------------------------------------------ finding 1: correct, withdraw, update


def _refers(db: Session, index: gate.GateIndex, staff_id: str, subject: dict[str, str]) -> tuple[str, ...]:
    """The declarations a search of `subject` by `staff_id` is referred for (a fresh index and a kept one,
    which follows the ledger, must agree)."""
    body = {"system": "PNC", "purpose": "investigation", "staff_id": staff_id, "subject": subject}
    kept = gate.check(db, index, body, GATE_ACTOR)
    fresh = gate.check(db, gate.GateIndex(), body, GATE_ACTOR)
    assert isinstance(kept, gate.GateDecision) and isinstance(fresh, gate.GateDecision)
    assert kept.declaration_ids == fresh.declaration_ids
    return fresh.declaration_ids


ADAM = {"surname": "Thompson", "forenames": "Adam", "date_of_birth": "1990-05-01"}
BRIAN = {"surname": "Baker", "forenames": "Brian", "date_of_birth": "1985-02-02"}


def _decide(db: Session, declaration_id: str) -> None:
    workforce.decide_declaration(
        db,
        declaration_id,
        _principal(db, "M1"),
        outcome="approved",
        review_on=str(date.today() + timedelta(days=200)),
    )


def test_a_correction_before_the_decision_is_recorded_with_before_and_after(db: Session) -> None:
    make_gate_world(db)
    declaration_id = workforce.make_declaration(db, "S1", NEIGHBOUR, actor="staff:S1")
    me = _principal(db, "S1")
    changed = workforce.correct_declaration(
        db, declaration_id, me, replace(NEIGHBOUR, date_of_birth="1991-05-01", postcode="")
    )
    assert [(c.field, c.before, c.after) for c in changed] == [
        ("date_of_birth", "1 May 1990", "1 May 1991"),
        ("postcode", "ME14 1AA", ""),
    ]
    db.commit()
    (entry,) = ledger.search(db, EntryFilter(op="alteration", object_id=declaration_id))
    assert entry.actor == "staff:S1" and sorted(entry.detail["changes"]) == ["date_of_birth", "postcode"]
    (history,) = workforce.declaration_history(db, declaration_id)
    assert history.event == "corrected" and history.by == "S1" and len(history.changes) == 2
    # Nothing changed: nothing recorded.
    assert (
        workforce.correct_declaration(
            db, declaration_id, me, replace(NEIGHBOUR, date_of_birth="1991-05-01", postcode="")
        )
        == ()
    )
    # The same rules as making one.
    with pytest.raises(workforce.DeclarationProblems) as caught:
        workforce.correct_declaration(db, declaration_id, me, replace(NEIGHBOUR, date_of_birth="2030-01-01"))
    assert caught.value.problems == [("date_of_birth", "must be in the past")]
    # Only the declarer, and only before the decision.
    with pytest.raises(workforce.DeclarationError):
        workforce.correct_declaration(db, declaration_id, _principal(db, "M1"), NEIGHBOUR)
    _decide(db, declaration_id)
    with pytest.raises(workforce.DeclarationError, match="Update these details"):
        workforce.correct_declaration(db, declaration_id, me, NEIGHBOUR)


def test_correcting_to_someone_else_still_refers_the_first_person_until_the_decision(db: Session) -> None:
    """Declare A, correct to B, search A: still referred until the line manager, who sees the change,
    decides."""
    make_gate_world(db)
    index = gate.GateIndex()
    declaration_id = workforce.make_declaration(db, "S1", NEIGHBOUR, actor="staff:S1")
    assert _refers(db, index, "S1", ADAM) == (declaration_id,)
    form = replace(NEIGHBOUR, surname="Baker", forenames="Brian", date_of_birth="1985-02-02", postcode="")
    workforce.correct_declaration(db, declaration_id, _principal(db, "S1"), form)
    db.commit()
    assert _refers(db, index, "S1", ADAM) == (declaration_id,)
    assert _refers(db, index, "S1", BRIAN) == (declaration_id,)
    assert [d.declaration_id for d in workforce.declared_conflicts(db, "S1", _ref(ADAM))] == [declaration_id]
    _decide(db, declaration_id)
    db.commit()
    assert _refers(db, index, "S1", ADAM) == ()
    assert _refers(db, index, "S1", BRIAN) == (declaration_id,)


def _ref(subject: dict[str, str]) -> SubjectRef:
    return SubjectRef(
        surname=subject["surname"],
        forenames=subject["forenames"],
        date_of_birth=date.fromisoformat(subject["date_of_birth"]),
    )


def test_a_withdrawal_is_a_request_the_line_manager_decides_and_it_refers_until_accepted(db: Session) -> None:
    make_gate_world(db)
    index = gate.GateIndex()
    declaration_id = workforce.make_declaration(db, "S1", NEIGHBOUR, actor="staff:S1")
    _decide(db, declaration_id)
    me, manager = _principal(db, "S1"), _principal(db, "M1")
    with pytest.raises(workforce.DeclarationProblems) as caught:
        workforce.request_withdrawal(db, declaration_id, me, "  ")
    assert [f for f, _p in caught.value.problems] == ["withdrawal_reason"]
    workforce.request_withdrawal(db, declaration_id, me, "Declared by mistake: another Adam.")
    db.commit()
    # Pending: still in force.
    assert _refers(db, index, "S1", ADAM) == (declaration_id,)
    with pytest.raises(workforce.DeclarationError, match="already asked"):
        workforce.request_withdrawal(db, declaration_id, me, "again")
    with pytest.raises(workforce.DeclarationError):
        workforce.decide_withdrawal(db, declaration_id, me, outcome="accept")  # not the declarer's to decide
    waiting, _reviews = workforce.decision_queue(db, manager, date.today())
    assert [d.declaration_id for d in waiting] == [declaration_id]
    # Refused, with reasons: it stays in force.
    with pytest.raises(workforce.DeclarationProblems) as caught:
        workforce.decide_withdrawal(db, declaration_id, manager, outcome="refuse")
    assert [f for f, _p in caught.value.problems] == ["withdrawal_reasons"]
    assert not workforce.decide_withdrawal(
        db, declaration_id, manager, outcome="refuse", reasons="You still see him every week."
    )
    db.commit()
    assert _refers(db, index, "S1", ADAM) == (declaration_id,)
    (refusal,) = ledger.search(db, EntryFilter(op="refusal", object_id=declaration_id))
    assert (
        refusal.detail["withdrawal"] == "refused"
        and refusal.detail["reasons"] == "You still see him every week."
    )
    # Asked again and accepted: withdrawn, no longer referred, not in the queue, not decidable.
    workforce.request_withdrawal(db, declaration_id, me, "We have not spoken for a year.")
    assert workforce.decide_withdrawal(db, declaration_id, manager, outcome="accept")
    db.commit()
    assert _refers(db, index, "S1", ADAM) == ()
    assert workforce.declared_conflicts(db, "S1", _ref(ADAM)) == []
    assert workforce.decision_queue(db, manager, date.today())[0] == []
    with pytest.raises(workforce.DeclarationError):
        workforce.decide_withdrawal(db, declaration_id, manager, outcome="accept")  # a second press
    with pytest.raises(workforce.DeclarationError, match="no longer in force"):
        workforce.decide_declaration(db, declaration_id, manager, outcome="rejected", reasons="x")
    events = [h.event for h in workforce.declaration_history(db, declaration_id)]
    assert events == [
        "withdrawal_requested",
        "withdrawal_refused",
        "withdrawal_requested",
        "withdrawal_accepted",
    ]
    ops = [
        e.op for e in ledger.search(db, EntryFilter(object_id=declaration_id)) if e.detail.get("withdrawal")
    ]
    assert sorted(ops) == ["alteration", "alteration", "authorisation", "refusal"]


def test_an_update_replaces_the_decided_declaration_once_it_is_decided(db: Session) -> None:
    make_gate_world(db)
    index = gate.GateIndex()
    me = _principal(db, "S1")
    old = workforce.make_declaration(db, "S1", NEIGHBOUR, actor="staff:S1")
    with pytest.raises(workforce.DeclarationError, match="correct it instead"):
        workforce.make_declaration(db, "S1", NEIGHBOUR, actor="staff:S1", replaces=old)  # not decided yet
    _decide(db, old)
    assert workforce.form_of(db, old, me).surname == "Thompson"  # the update starts prefilled
    form = replace(NEIGHBOUR, surname="Baker", forenames="Brian", date_of_birth="1985-02-02")
    new = workforce.make_declaration(db, "S1", form, actor="staff:S1", replaces=old)
    db.commit()
    assert workforce.pending_update(db, old) == new
    with pytest.raises(workforce.DeclarationError, match="already sent an update"):
        workforce.make_declaration(db, "S1", form, actor="staff:S1", replaces=old)
    with pytest.raises(workforce.DeclarationError):
        workforce.make_declaration(db, "P9", form, actor="staff:P9", replaces=old)  # not theirs
    # Until the update is decided, both are in force.
    assert _refers(db, index, "S1", ADAM) == (old,)
    assert _refers(db, index, "S1", BRIAN) == (new,)
    detail = workforce.view_declaration(db, new, _principal(db, "M1"))
    assert {c.field for c in workforce.replacement_changes(db, detail)} == {
        "surname",
        "forenames",
        "date_of_birth",
    }
    _decide(db, new)
    db.commit()
    assert _refers(db, index, "S1", ADAM) == ()
    assert _refers(db, index, "S1", BRIAN) == (new,)
    assert workforce.view_declaration(db, old, me).ended == "replaced"
    assert [h.event for h in workforce.declaration_history(db, old)] == ["update_sent", "replaced"]
    (ended,) = [e for e in ledger.search(db, EntryFilter(op="alteration", object_id=old))]
    assert ended.detail == {"ended": "replaced", "replaced_by": new}


def test_a_name_only_declaration_can_have_its_details_added_later(db: Session) -> None:
    make_gate_world(db)
    index = gate.GateIndex()
    form = replace(NEIGHBOUR, date_of_birth="", postcode="", name_only="yes")
    declaration_id = workforce.make_declaration(db, "S1", form, actor="staff:S1")
    other_adam = {**ADAM, "date_of_birth": "1970-01-01"}
    assert _refers(db, index, "S1", other_adam) == (declaration_id,)
    workforce.correct_declaration(db, declaration_id, _principal(db, "S1"), NEIGHBOUR)
    _decide(db, declaration_id)
    db.commit()
    assert _refers(db, index, "S1", other_adam) == ()
    assert _refers(db, index, "S1", ADAM) == (declaration_id,)


def _done(client: TestClient, response: object) -> str:
    assert response.status_code == 303, getattr(response, "text", "")[:2000]  # type: ignore[attr-defined]
    return html.unescape(client.get(response.headers["location"]).text)  # type: ignore[attr-defined]


def test_the_screens_correct_withdraw_and_update_a_declaration(client: TestClient, db: Session) -> None:
    make_force(db)
    declaration_id = workforce.make_declaration(db, "P1", NEIGHBOUR, actor="staff:P1")
    _logged_in(client, db, "P1", "M1")
    log_in(client, "P1")
    page = html.unescape(client.get(f"/declarations/{declaration_id}").text)
    assert "Correct these details" in page and "Ask to withdraw this declaration" in page
    form = html.unescape(client.get(f"/declarations/{declaration_id}/correct").text)
    assert 'value="Thompson"' in form and 'value="1990-05-01"' in form and "Save the correction" in form
    # A problem is shown beside its field, what was typed kept.
    bad = post_form(
        client,
        f"/declarations/{declaration_id}/correct",
        {**_fields(NEIGHBOUR), "date_of_birth": "2030-01-01"},
    )
    text = html.unescape(bad.text)  # type: ignore[attr-defined]
    assert bad.status_code == 400 and "Their date of birth: must be in the past" in text  # type: ignore[attr-defined]
    assert 'value="2030-01-01"' in text
    done = _done(
        client,
        post_form(
            client,
            f"/declarations/{declaration_id}/correct",
            {**_fields(NEIGHBOUR), "date_of_birth": "1991-05-01"},
        ),
    )
    assert "Your correction is saved; your line manager sees it before deciding." in done
    assert "Corrected before the decision by ForenameP1 SurnameP1" in done and "1 May 1991" in done
    # Asking to withdraw needs a reason, shown beside the field.
    bad = post_form(client, f"/declarations/{declaration_id}/withdraw", {"withdrawal_reason": ""})
    text = html.unescape(bad.text)  # type: ignore[attr-defined]
    assert bad.status_code == 400 and "Why you want to withdraw it: say why" in text  # type: ignore[attr-defined]
    done = _done(
        client,
        post_form(client, f"/declarations/{declaration_id}/withdraw", {"withdrawal_reason": "By mistake."}),
    )
    assert "Your request to withdraw this declaration is sent to your line manager" in done
    assert "You asked to withdraw this declaration" in done
    # Someone else's declaration cannot be corrected or withdrawn.
    other = workforce.make_declaration(db, "P2", NEIGHBOUR, actor="staff:P2")
    db.commit()
    assert client.get(f"/declarations/{other}/correct").status_code == 404
    refused = post_form(client, f"/declarations/{other}/withdraw", {"withdrawal_reason": "x"})
    assert refused.status_code == 303  # type: ignore[attr-defined]
    assert workforce.view_declaration(db, other, _principal(db, "P2")).withdrawal_requested_at is None
    # The line manager sees the correction and the request, and decides both.
    client.cookies.clear()
    log_in(client, "M1")
    queue = html.unescape(client.get("/declarations/queue").text)
    assert "ForenameP1 SurnameP1 asks to withdraw it" in queue
    page = html.unescape(client.get(f"/declarations/{declaration_id}").text)
    assert "Corrected before the decision" in page and "1 May 1990" in page and "1 May 1991" in page
    assert "Request to withdraw this declaration" in page and "“By mistake.”" in page
    done = _done(
        client,
        post_form(
            client,
            f"/declarations/{declaration_id}/withdrawal",
            {"withdrawal_outcome": "refuse", "withdrawal_reasons": "You still see him."},
        ),
    )
    assert (
        "ForenameP1 SurnameP1's request to withdraw their reportable association (Adam Thompson): refused: "
        "the declaration stays in force." in done
    )
    page = html.unescape(client.get(f"/declarations/{declaration_id}").text)
    seen = re.search(r'name="seen" value="([^"]*)"', page)
    assert seen
    post_form(
        client,
        f"/declarations/{declaration_id}/decide",
        {"outcome": "approved", "review_on": "2099-01-01", "seen": seen.group(1)},
    )
    # The declarer, after the decision: "Update these details" starts a prefilled form that replaces it.
    client.cookies.clear()
    log_in(client, "P1")
    page = html.unescape(client.get(f"/declarations/{declaration_id}").text)
    assert "Update these details" in page and "Correct these details" not in page
    form = html.unescape(client.get(f"/declarations/new?replaces={declaration_id}").text)
    assert f'name="replaces" value="{declaration_id}"' in form and 'value="Thompson"' in form
    done = _done(
        client,
        post_form(
            client,
            "/declarations",
            {**_fields(NEIGHBOUR), "postcode": "ME15 6AA", "replaces": declaration_id},
        ),
    )
    assert f"Your declaration {declaration_id} stays in force until they decide this one" in done
    assert f'This updates declaration <a href="/declarations/{declaration_id}">' in done
    assert (
        "an update of this declaration"
        in html.unescape(client.get(f"/declarations/{declaration_id}").text).lower()
    )


def test_the_register_says_which_declarations_are_withdrawn_or_asked_to_be(
    client: TestClient, db: Session
) -> None:
    make_force(db)
    make_account(db, "PSD1", {Role.CCU})
    withdrawn = workforce.make_declaration(db, "P1", NEIGHBOUR, actor="staff:P1")
    asked = workforce.make_declaration(db, "P2", replace(NEIGHBOUR, surname="Baker"), actor="staff:P2")
    workforce.request_withdrawal(db, withdrawn, _principal(db, "P1"), "By mistake.")
    workforce.decide_withdrawal(db, withdrawn, _principal(db, "M1"), outcome="accept")
    workforce.request_withdrawal(db, asked, _principal(db, "P2"), "No longer in contact.")
    _logged_in(client, db, "PSD1")
    log_in(client, "PSD1")
    register = client.get("/declarations/register").text
    assert register.count('<span class="muted">Withdrawn</span>') == 1
    assert register.count("Withdrawal asked for") == 1


# ------------------------------------------------------------------ review of the corrections work (0023)

CAROL = {"surname": "Clark", "forenames": "Carol", "date_of_birth": "1979-03-03"}


def _reject(db: Session, declaration_id: str) -> None:
    workforce.decide_declaration(
        db, declaration_id, _principal(db, "M1"), outcome="rejected", reasons="Not what was agreed."
    )


def _update(db: Session, old: str, subject: dict[str, str], postcode: str = "") -> str:
    form = replace(NEIGHBOUR, **subject, postcode=postcode)
    return workforce.make_declaration(db, "S1", form, actor="staff:S1", replaces=old)


def test_a_rejected_update_leaves_the_declaration_it_would_replace_in_force(db: Session) -> None:
    """Review (HIGH): rejecting an update ended the declaration it was meant to replace, so the gate stopped
    referring searches of the person it named, and a rejected update naming the same person took them out
    of `declared_people`. Only an approval ends it now."""
    make_gate_world(db)
    index = gate.GateIndex()
    me = _principal(db, "S1")
    old = workforce.make_declaration(db, "S1", NEIGHBOUR, actor="staff:S1")
    _decide(db, old)
    # An update naming someone else, rejected: the old one stays in force.
    other = _update(db, old, CAROL)
    _reject(db, other)
    db.commit()
    assert workforce.view_declaration(db, old, me).ended is None
    assert _refers(db, index, "S1", ADAM) == (old,)
    assert [h.event for h in workforce.declaration_history(db, old)] == ["update_sent", "update_rejected"]
    assert [(h.event, h.reason) for h in workforce.declaration_history(db, other)] == [
        ("update_rejected", old)
    ]
    assert not ledger.search(db, EntryFilter(op="alteration", object_id=old))  # nothing ended
    # The rejected update is not the one to update: the old one is.
    assert not workforce.may_update(db, workforce.view_declaration(db, other, me), me)
    with pytest.raises(workforce.DeclarationError, match=f"update {old} instead"):
        _update(db, other, ADAM)
    # An update naming the same person again, approved: it refers instead of the old one.
    again = _update(db, old, ADAM, postcode="ME15 6AA")
    _decide(db, again)
    db.commit()
    assert workforce.view_declaration(db, old, me).ended == "replaced"
    assert _refers(db, index, "S1", ADAM) == (again,)
    # An update naming someone else, approved: the first person is no longer referred; the new one is.
    brian = _update(db, again, BRIAN)
    _decide(db, brian)
    db.commit()
    assert _refers(db, index, "S1", ADAM) == ()
    assert _refers(db, index, "S1", BRIAN) == (brian,)


def test_a_rejected_update_keeps_the_person_declared_until_one_is_approved(db: Session) -> None:
    make_gate_world(db)
    index = gate.GateIndex()
    old = workforce.make_declaration(db, "S1", NEIGHBOUR, actor="staff:S1")
    _decide(db, old)
    # An update keeping the same person, rejected: the person stays declared (the monitoring and casework
    # rules read `declared_people`, which leaves out rejected declarations).
    same = _update(db, old, ADAM, postcode="ME15 6AA")
    _reject(db, same)
    db.commit()
    assert [row[0] for row in workforce.declared_people(db, "S1") if row[0] in (old, same)] == [old]
    assert old in _refers(db, index, "S1", ADAM)
    new = _update(db, old, BRIAN)
    _reject(db, new)
    db.commit()
    assert old in _refers(db, index, "S1", ADAM)
    _decide(db, new)  # the manager changes their mind
    db.commit()
    assert old not in _refers(db, index, "S1", ADAM)
    assert _refers(db, index, "S1", BRIAN) == (new,)
    assert workforce.view_declaration(db, old, _principal(db, "S1")).ended == "replaced"


def test_both_pages_say_the_update_was_rejected(client: TestClient, db: Session) -> None:
    make_force(db)
    old = workforce.make_declaration(db, "P1", NEIGHBOUR, actor="staff:P1")
    workforce.decide_declaration(
        db, old, _principal(db, "M1"), outcome="approved", review_on=str(date.today() + timedelta(days=9))
    )
    new = workforce.make_declaration(
        db, "P1", replace(NEIGHBOUR, postcode="ME15 6AA"), actor="staff:P1", replaces=old
    )
    workforce.decide_declaration(db, new, _principal(db, "M1"), outcome="rejected", reasons="No.")
    _logged_in(client, db, "P1")
    log_in(client, "P1")
    old_page = html.unescape(client.get(f"/declarations/{old}").text)
    new_page = html.unescape(client.get(f"/declarations/{new}").text)
    assert f'Update rejected by ForenameM1 SurnameM1: <a href="/declarations/{new}">' in old_page
    assert "Update these details" in old_page
    assert f'Update rejected by ForenameM1 SurnameM1: <a href="/declarations/{old}">' in new_page
    assert f"This update was rejected, so {old} stays in force as it stands." in new_page
    assert "Update these details" not in new_page


def _seen(db: Session, declaration_id: str) -> str:
    return workforce.decision_version(workforce.view_declaration(db, declaration_id, _principal(db, "M1")))


def _approve(db: Session, declaration_id: str, seen: str) -> None:
    workforce.decide_declaration(
        db,
        declaration_id,
        _principal(db, "M1"),
        outcome="approved",
        review_on=str(date.today() + timedelta(days=200)),
        seen=seen,
    )


def test_a_decision_on_a_page_opened_before_a_correction_is_refused(db: Session) -> None:
    """Review (MEDIUM): the decision form's version was only the outcome and when it was decided, which a
    correction does not change, so a correction made while the manager had the page open was approved
    unseen. The version now counts the corrections."""
    make_gate_world(db)
    me = _principal(db, "S1")
    declaration_id = workforce.make_declaration(db, "S1", NEIGHBOUR, actor="staff:S1")
    seen = _seen(db, declaration_id)
    workforce.correct_declaration(db, declaration_id, me, replace(NEIGHBOUR, **BRIAN))
    db.commit()
    with pytest.raises(workforce.DeclarationChanged) as caught:
        _approve(db, declaration_id, seen)
    assert str(caught.value) == (
        "This declaration was corrected since you opened it: read the changes and decide again. Nothing was "
        "recorded."
    )
    assert workforce.view_declaration(db, declaration_id, me).awaiting
    _approve(db, declaration_id, _seen(db, declaration_id))  # read again: decided
    assert workforce.view_declaration(db, declaration_id, me).status == "approved"
    # An update corrected after the manager read what it changes: the same.
    update = _update(db, declaration_id, ADAM)
    seen = _seen(db, update)
    workforce.correct_declaration(db, update, me, replace(NEIGHBOUR, **CAROL))
    db.commit()
    with pytest.raises(workforce.DeclarationChanged):
        _approve(db, update, seen)
    assert workforce.view_declaration(db, declaration_id, me).ended is None
    _approve(db, update, _seen(db, update))
    assert workforce.view_declaration(db, declaration_id, me).ended == "replaced"


def test_the_screen_sends_a_decision_on_a_corrected_declaration_back_to_its_page(
    client: TestClient, db: Session
) -> None:
    make_force(db)
    declaration_id = workforce.make_declaration(db, "P1", NEIGHBOUR, actor="staff:P1")
    _logged_in(client, db, "M1")
    log_in(client, "M1")
    seen = re.search(r'name="seen" value="([^"]*)"', client.get(f"/declarations/{declaration_id}").text)
    assert seen
    workforce.correct_declaration(
        db, declaration_id, _principal(db, "P1"), replace(NEIGHBOUR, date_of_birth="1991-05-01")
    )
    db.commit()
    response = post_form(
        client,
        f"/declarations/{declaration_id}/decide",
        {"outcome": "approved", "review_on": "2099-01-01", "seen": seen.group(1)},
    )
    assert response.headers["location"].startswith(f"/declarations/{declaration_id}?")  # type: ignore[attr-defined]
    page = _done(client, response)
    assert "This declaration was corrected since you opened it: read the changes and decide again." in page
    assert "1 May 1991" in page
    assert workforce.view_declaration(db, declaration_id, _principal(db, "P1")).awaiting


MANAGER = {"surname": "Manager", "forenames": "Mary", "date_of_birth": "1970-01-01"}  # M1, make_gate_world


def test_a_declaration_about_the_manager_corrected_to_someone_else_is_still_not_theirs_to_decide(
    db: Session,
) -> None:
    """Review (MEDIUM): whether a declaration is about the line manager looked only at the person it names
    now: S declares their manager M, corrects it to X, and M could decide it (and see it in their queue)."""
    make_gate_world(db)
    manager = _principal(db, "M1")
    declaration_id = workforce.make_declaration(db, "S1", replace(NEIGHBOUR, **MANAGER), actor="staff:S1")
    assert workforce.view_declaration(db, declaration_id, _principal(db, "S1")).about_line_manager
    workforce.correct_declaration(db, declaration_id, _principal(db, "S1"), replace(NEIGHBOUR, **BRIAN))
    db.commit()
    detail = workforce.view_declaration(db, declaration_id, _principal(db, "S1"))
    assert detail.person_name == "Brian Baker"
    assert detail.about_line_manager and not workforce.may_decide(detail, manager)
    with pytest.raises(workforce.DeclarationError) as caught:
        _decide(db, declaration_id)
    assert str(caught.value) == workforce.ABOUT_YOU
    assert workforce.decision_queue(db, manager, date.today())[0] == []
    assert workforce.awaiting_decision_count(db, manager) == 0
    # Declared by the manager's staff id, then corrected: the same.
    by_id = workforce.make_declaration(
        db, "S1", replace(NEIGHBOUR, subject_id="M1", surname="", forenames="", postcode=""), actor="staff:S1"
    )
    workforce.correct_declaration(db, by_id, _principal(db, "S1"), replace(NEIGHBOUR, **CAROL))
    db.commit()
    assert workforce.view_declaration(db, by_id, _principal(db, "S1")).about_line_manager


def test_an_update_of_a_declaration_about_the_manager_is_not_theirs_to_decide(db: Session) -> None:
    """An imported declaration about the manager (no decision on screen) updated to someone else: deciding
    the update would end the one about the manager, so the manager may not decide it either."""
    make_gate_world(db)
    old = workforce.make_declaration(db, "S1", replace(NEIGHBOUR, **MANAGER), actor="staff:S1")
    db.get(Declaration, old).status = None  # imported: decided outside Custodes
    update = _update(db, old, BRIAN)
    db.commit()
    detail = workforce.view_declaration(db, update, _principal(db, "S1"))
    assert detail.about_line_manager and not workforce.may_decide(detail, _principal(db, "M1"))


GIFT = DeclarationForm(
    kind="gift_hospitality",
    organisation="Acme Motors Ltd",
    description="Offered a free car valet",
    value_pounds="£60",
    gift_accepted="declined",
)


def test_the_published_registers_leave_out_replaced_and_withdrawn_declarations(
    client: TestClient, db: Session
) -> None:
    """Review (LOW): the published gifts and business-interests registers ignored `ended`, so a replaced
    declaration was published alongside its update, and a withdrawn one stayed published."""
    make_force(db)
    manager = _principal(db, "M1")
    review = str(date.today() + timedelta(days=200))
    old = workforce.make_declaration(db, "P1", GIFT, actor="staff:P1")
    workforce.decide_declaration(db, old, manager, outcome="approved", review_on=review)
    new = workforce.make_declaration(
        db, "P1", replace(GIFT, value_pounds="£80"), actor="staff:P1", replaces=old
    )
    # While the update waits, the old one is in force: both are listed.
    assert sorted(
        p.value_pounds for p in workforce.published_register(db, DeclarationKind.GIFT_HOSPITALITY)
    ) == [
        60,
        80,
    ]
    workforce.decide_declaration(db, new, manager, outcome="approved", review_on=review)
    withdrawn = workforce.make_declaration(db, "P2", replace(GIFT, value_pounds="£15"), actor="staff:P2")
    workforce.request_withdrawal(db, withdrawn, _principal(db, "P2"), "Declared twice by mistake.")
    asked = [p.value_pounds for p in workforce.published_register(db, DeclarationKind.GIFT_HOSPITALITY)]
    assert sorted(asked) == [15, 80]  # a request alone leaves it in force
    workforce.decide_withdrawal(db, withdrawn, manager, outcome="accept")
    db.commit()
    (published,) = workforce.published_register(db, DeclarationKind.GIFT_HOSPITALITY)
    assert published.value_pounds == 80 and published.outcome == "Approved"
    make_account(db, "PSD1", {Role.CCU})
    _logged_in(client, db, "PSD1")
    log_in(client, "PSD1")
    csv = client.get("/declarations/published/gifts-and-hospitality/export.csv").text
    assert csv.count("Acme Motors Ltd") == 1 and ",80," in csv


def test_the_consultation_of_a_declaration_names_everyone_its_page_shows(
    client: TestClient, db: Session
) -> None:
    """Review (LOW): the page's History shows the person as first declared, and an update's page the
    replaced declaration's person, but the consultation named only the person declared now."""
    make_force(db)
    by_id = replace(NEIGHBOUR, subject_id="N-1001", surname="", forenames="", date_of_birth="", postcode="")
    corrected = workforce.make_declaration(db, "P1", by_id, actor="staff:P1")
    workforce.correct_declaration(db, corrected, _principal(db, "P1"), replace(by_id, subject_id="N-1002"))
    old = workforce.make_declaration(db, "P2", replace(by_id, subject_id="N-2001"), actor="staff:P2")
    workforce.decide_declaration(
        db, old, _principal(db, "M1"), outcome="approved", review_on=str(date.today() + timedelta(days=9))
    )
    new = workforce.make_declaration(
        db, "P2", replace(by_id, subject_id="N-2002"), actor="staff:P2", replaces=old
    )
    _logged_in(client, db, "M1")
    log_in(client, "M1")
    page = client.get(f"/declarations/{corrected}").text
    assert "N-1001" in page and "N-1002" in page
    page = client.get(f"/declarations/{new}").text
    assert "N-2001" in page and "N-2002" in page
    db.expire_all()
    seen = {
        e.object_id: sorted(e.subjects)
        for e in ledger.search(db, EntryFilter(op="consultation", object_type="declaration"))
    }
    assert seen[corrected] == ["N-1001", "N-1002", "P1"]
    assert seen[new] == ["N-2001", "N-2002", "P2"]


def test_a_withdrawal_decision_on_a_page_showing_an_earlier_request_is_refused(db: Session) -> None:
    """Review (LOW): a request refused, then asked again with another reason; the manager's Accept on a page
    showing the first request accepted the second unseen. The form carries when the request it shows was
    made."""
    make_gate_world(db)
    me, manager = _principal(db, "S1"), _principal(db, "M1")
    declaration_id = workforce.make_declaration(db, "S1", NEIGHBOUR, actor="staff:S1")
    _decide(db, declaration_id)
    workforce.request_withdrawal(db, declaration_id, me, "Declared by mistake.")
    db.commit()
    first = workforce.withdrawal_version(workforce.view_declaration(db, declaration_id, manager))
    assert first
    workforce.decide_withdrawal(
        db, declaration_id, manager, outcome="refuse", reasons="He is your cousin.", seen=first
    )
    workforce.request_withdrawal(db, declaration_id, me, "We have fallen out.")
    db.commit()
    with pytest.raises(workforce.DeclarationChanged) as caught:
        workforce.decide_withdrawal(db, declaration_id, manager, outcome="accept", seen=first)
    assert "not the one you opened" in str(caught.value)
    assert workforce.view_declaration(db, declaration_id, me).ended is None
    second = workforce.withdrawal_version(workforce.view_declaration(db, declaration_id, manager))
    assert second != first
    assert workforce.decide_withdrawal(db, declaration_id, manager, outcome="accept", seen=second)
    assert workforce.view_declaration(db, declaration_id, me).ended == "withdrawn"


def test_the_withdrawal_form_carries_the_request_it_shows(client: TestClient, db: Session) -> None:
    make_force(db)
    declaration_id = workforce.make_declaration(db, "P1", NEIGHBOUR, actor="staff:P1")
    workforce.request_withdrawal(db, declaration_id, _principal(db, "P1"), "By mistake.")
    _logged_in(client, db, "M1")
    log_in(client, "M1")
    page = client.get(f"/declarations/{declaration_id}").text
    seen = re.search(r'name="withdrawal_seen" value="([^"]+)"', page)
    assert seen
    workforce.decide_withdrawal(db, declaration_id, _principal(db, "M1"), outcome="refuse", reasons="No.")
    workforce.request_withdrawal(db, declaration_id, _principal(db, "P1"), "Another reason.")
    db.commit()
    response = post_form(
        client,
        f"/declarations/{declaration_id}/withdrawal",
        {"withdrawal_outcome": "accept", "withdrawal_seen": seen.group(1)},
    )
    assert response.headers["location"].startswith(f"/declarations/{declaration_id}?")  # type: ignore[attr-defined]
    page = _done(client, response)
    assert "This request to withdraw the declaration is not the one you opened" in page
    assert "“Another reason.”" in page
    db.expire_all()
    assert workforce.view_declaration(db, declaration_id, _principal(db, "P1")).ended is None
