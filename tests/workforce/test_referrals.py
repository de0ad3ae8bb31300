"""Gate referrals: the line manager's queue, recording the search, interaction and advice, closing; the
requester sees the outcome and advice (never the search); every step is in the ledger."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from custodes.identity import service as identity
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter
from custodes.workforce import gate
from tests.conftest import PASSWORD, csrf_token, log_in
from tests.support.concurrency import at_once
from tests.workforce.test_gate import ACTOR, make_gate_world


def _refer(db: Session, staff_id: str = "S1", subject_id: str = "N5") -> int:
    body = {"staff_id": staff_id, "subject_id": subject_id, "system": "PNC", "case_ref": "CR-7"}
    result = gate.check(db, gate.GateIndex(), body, ACTOR)
    assert isinstance(result, gate.GateDecision) and result.referral_id is not None
    return result.referral_id


def _close(db: Session, referral_id: int, handler: str = "M1", **changes: str) -> None:
    values = {
        "outcome": "searched_for_requester",
        "search_done": "PNC search on N5: nothing recent",
        "interaction": "Spoke to PC Smith",
        "advice": "Submit the intelligence through me; do not search your neighbour.",
    }
    gate.close_referral(db, referral_id, handler, **{**values, **changes})


def test_queue_close_and_outcome(db: Session) -> None:
    make_gate_world(db)
    referral_id = _refer(db)
    waiting, closed = gate.referral_queue(db, "M1")
    assert [r.id for r in waiting] == [referral_id] and closed == []
    assert waiting[0].staff_name == "John Smith" and waiting[0].codes == ("DECLARED_CONFLICT",)
    assert gate.referral_queue(db, "S1") == ([], [])  # not the requester's to handle
    view = gate.view_referral(db, referral_id, "M1")
    assert view.subject_id == "N5" and view.declaration_ids == ("D-2",)
    _close(db, referral_id)
    waiting, closed = gate.referral_queue(db, "M1")
    assert waiting == [] and [r.outcome for r in closed] == ["searched_for_requester"]
    mine = gate.my_referrals(db, "S1")
    assert mine[0].status == "closed" and mine[0].advice and mine[0].search_done is None
    assert mine[0].interaction is None
    db.commit()
    entries = ledger.search(db, EntryFilter(object_type="referral"))
    ops = sorted(e.op for e in entries)
    assert ops == ["alteration", "collection", "consultation"]
    closing = next(e for e in entries if e.op == "alteration")
    assert closing.actor == "staff:M1" and closing.detail == {
        "status": "closed",
        "outcome": "searched_for_requester",
    }


@pytest.mark.parametrize(
    ("handler", "changes", "message"),
    [
        ("S1", {}, "no such referral"),
        ("U1", {}, "no such referral"),
        ("M1", {"outcome": "shrug"}, "choose an outcome"),
        ("M1", {"advice": "  "}, "record the advice"),
        ("M1", {"search_done": ""}, "record the search done"),
    ],
)
def test_close_refuses(db: Session, handler: str, changes: dict[str, str], message: str) -> None:
    make_gate_world(db)
    referral_id = _refer(db)
    with pytest.raises(gate.ReferralError, match=message):
        _close(db, referral_id, handler, **changes)


def test_closed_once(db: Session) -> None:
    make_gate_world(db)
    referral_id = _refer(db)
    _close(db, referral_id)
    with pytest.raises(gate.ReferralError, match="already closed"):
        _close(db, referral_id)


def test_screens(client: TestClient, db: Session) -> None:
    make_gate_world(db)
    referral_id = _refer(db)
    for staff_id in ("M1", "S1"):
        identity.set_password(db, staff_id, PASSWORD, ACTOR)
    db.commit()
    log_in(client, "M1")
    queue = client.get("/referrals")
    assert (
        queue.status_code == 200 and f"/referrals/{referral_id}" in queue.text and "John Smith" in queue.text
    )
    assert (
        "seed" not in queue.text.lower() and "IOPC recommended to Hertfordshire" in queue.text
    )  # no design refs
    page = client.get(f"/referrals/{referral_id}")
    assert page.status_code == 200 and "Neighbour" not in page.text  # the list and page name the id given
    assert "N5" in page.text and "CR-7" in page.text
    bad = client.post(
        f"/referrals/{referral_id}/close", data={"csrftoken": csrf_token(client), "outcome": "x"}
    )
    assert bad.status_code == 400 and "choose an outcome" in bad.text
    # each problem listed and its field marked, not one combined sentence
    assert (
        "<li>Outcome: choose an outcome</li>" in bad.text
        and '<fieldset class="wrong"><legend>Outcome' in bad.text
    )
    for field in ("search_done", "interaction", "advice"):
        assert f'<div class="field wrong"><label for="{field}">' in bad.text
    assert "Advice and support given: record the advice" in bad.text
    done = client.post(
        f"/referrals/{referral_id}/close",
        data={
            "csrftoken": csrf_token(client),
            "outcome": "searched_nothing_found",
            "search_done": "Searched PNC for N5",
            "interaction": "Met in the office",
            "advice": "Report concerns to me, not by searching.",
        },
    )
    assert done.status_code == 303 and done.headers["location"].startswith("/referrals?done=")
    assert client.get("/referrals/999999").status_code == 404
    client.cookies.clear()
    log_in(client, "S1")
    mine = client.get("/me/referrals")
    assert mine.status_code == 200
    assert "Report concerns to me, not by searching." in mine.text and "Searched PNC for N5" not in mine.text
    assert "Mary Manager (M1)" in mine.text  # closed by: the name with the staff number
    assert client.get("/referrals").status_code == 403  # officers do not handle referrals


def test_a_manager_who_cannot_take_referrals_leaves_them_to_any_handler(db: Session) -> None:
    """Else the referral would sit for ever in the queue of someone who has no referrals screen."""
    from custodes.workforce.models import Referral, Staff

    make_gate_world(db)
    requester = db.get(Staff, "S1")
    assert requester is not None
    requester.line_manager_id = "U1"  # an officer: no referrals to handle
    db.flush()
    referral_id = _refer(db)
    assert db.get(Referral, referral_id).manager_id is None  # type: ignore[union-attr]
    assert [r.id for r in gate.referral_queue(db, "M1")[0]] == [referral_id]
    _close(db, referral_id, "M1")


def test_a_manager_without_referrals_is_passed_over_before_their_profile_is_loaded(db: Session) -> None:
    """Whether the manager can take referrals is a cheap query; their profile (for the conflict check) is
    only needed when they can. The referral's ledger entry names the manager it went to: none."""
    from custodes.workforce.models import Staff

    make_gate_world(db)
    requester = db.get(Staff, "S1")
    assert requester is not None
    requester.line_manager_id = "U1"  # an officer: no referrals to handle
    db.flush()
    index = gate.GateIndex()
    body = {"staff_id": "S1", "subject_id": "N5", "system": "PNC", "case_ref": "CR-7"}
    result = gate.check(db, index, body, ACTOR)
    assert isinstance(result, gate.GateDecision) and result.referral_id is not None
    assert "U1" not in index.profiles
    db.commit()
    opened = ledger.search(db, EntryFilter(object_type="referral", object_id=str(result.referral_id)))
    assert [e.detail["manager_id"] for e in opened] == [None] and "U1" not in opened[0].subjects


def test_the_referral_entry_names_the_manager_it_went_to(db: Session) -> None:
    make_gate_world(db)
    referral_id = _refer(db)
    db.commit()
    opened = ledger.search(db, EntryFilter(object_type="referral", object_id=str(referral_id)))
    assert [e.detail["manager_id"] for e in opened] == ["M1"] and "M1" in opened[0].subjects


def test_two_handlers_closing_at_once_close_it_once(committing_sessions: sessionmaker[Session]) -> None:
    """The second waits for the first (PostgreSQL locks the row; SQLite's write lock the transaction),
    then finds it closed, instead of writing its outcome over the first."""

    factory = committing_sessions
    with factory() as setup:
        make_gate_world(setup)
        referral_id = _refer(setup)
        setup.commit()
    outcome = at_once(factory, lambda session: _close(session, referral_id, "M1"))
    assert isinstance(outcome[0], gate.ReferralError) and "already closed" in str(outcome[0])


def test_a_manager_the_search_is_about_never_handles_it(db: Session) -> None:
    """S1 declared an association with a record that is their own line manager: M1 must not run that
    search for S1, nor see it; the referral goes to the other handlers."""
    from custodes.imports import load_records
    from custodes.workforce.models import Referral

    make_gate_world(db)
    load_records(db, "nominals", [{"subject_id": "N-M1", "surname": "Manager", "forenames": "Mary",
                                   "flags": "staff:M1"}], ACTOR)  # fmt: skip
    declaration = {"declaration_id": "D-9", "staff_id": "S1", "kind": "reportable_association",
                   "subject_id": "N-M1", "relationship": "other", "declared_at": "2024-01-01"}  # fmt: skip
    load_records(db, "declarations", [declaration], ACTOR)
    referral_id = _refer(db, subject_id="N-M1")
    assert db.get(Referral, referral_id).manager_id is None  # type: ignore[union-attr]
    assert gate.referral_queue(db, "M1") == ([], [])
    with pytest.raises(gate.ReferralError, match="no such referral"):
        gate.view_referral(db, referral_id, "M1")


def test_a_handler_named_without_an_id_never_handles_a_search_about_them(db: Session) -> None:
    """The reviewer's cases: the subject given by name only. M1 is S1's manager and the person S1 declared
    and searched for; H2, another handler, is searched for by name once M1 has left. Neither may see the
    referral about them: the name, date of birth and postcode given are matched against each handler."""
    from datetime import date, timedelta

    from custodes.identity import service as identity
    from custodes.imports import load_records

    make_gate_world(db)
    handler = {"staff_id": "H2", "surname": "Handler", "forenames": "Harry", "role": "supervisor",
               "date_of_birth": "1965-06-06"}  # fmt: skip
    load_records(db, "staff", [handler], ACTOR)
    declaration = {"declaration_id": "D-9", "staff_id": "S1", "kind": "conflict_of_interest",
                   "surname": "Manager", "forenames": "Mary", "date_of_birth": "1970-01-01",
                   "relationship": "relative", "declared_at": "2024-01-01"}  # fmt: skip
    load_records(db, "declarations", [declaration], ACTOR)
    mary = {"surname": "Manager", "forenames": "Mary", "date_of_birth": "1970-01-01"}
    by_name = {"staff_id": "S1", "system": "PNC", "case_ref": "CR-7", "subject": mary}
    about_m1 = gate.check(db, gate.GateIndex(), by_name, ACTOR)
    assert isinstance(about_m1, gate.GateDecision) and about_m1.referral_id is not None
    assert about_m1.referral_id not in [r.id for r in gate.referral_queue(db, "M1")[0]]
    assert about_m1.referral_id in [r.id for r in gate.referral_queue(db, "H2")[0]]
    with pytest.raises(gate.ReferralError, match="no such referral"):
        _close(db, about_m1.referral_id, "M1")

    load_records(db, "nominals", [{"subject_id": "N-H2", "surname": "Handler", "forenames": "H",
                                   "date_of_birth": "1965-06-06"}], ACTOR)  # fmt: skip
    also = {"declaration_id": "D-10", "staff_id": "S1", "kind": "conflict_of_interest", "subject_id": "N-H2",
            "relationship": "friend", "declared_at": "2024-01-01"}  # fmt: skip
    load_records(db, "declarations", [also], ACTOR)
    about_h2 = gate.check(db, gate.GateIndex(), {**by_name, "subject": {"surname": "Handler",
                          "forenames": "Harry", "date_of_birth": "1965-06-06"}}, ACTOR)  # fmt: skip
    assert isinstance(about_h2, gate.GateDecision) and about_h2.referral_id is not None
    identity.set_last_day(db, "M1", date.today() - timedelta(days=2), ACTOR)  # M1 leaves
    assert about_h2.referral_id not in [r.id for r in gate.referral_queue(db, "H2")[0]]
    with pytest.raises(gate.ReferralError, match="no such referral"):
        gate.view_referral(db, about_h2.referral_id, "H2")


def _queue_entries(db: Session) -> list[Any]:
    db.commit()
    return ledger.search(db, EntryFilter(object_type="referral_queue"))


def test_the_queue_shows_who_searched_for_whom_so_each_view_is_logged(db: Session) -> None:
    make_gate_world(db)
    first = _refer(db)  # S1 about N5 (declared neighbour)
    second = _refer(db, subject_id="N8")  # S1 about themself
    _close(db, second)
    assert _queue_entries(db) == []
    waiting, closed = gate.referral_queue(db, "M1")
    assert [r.id for r in waiting] == [first] and [r.id for r in closed] == [second]
    (entry,) = _queue_entries(db)
    assert entry.op == "consultation" and entry.actor == "staff:M1" and entry.object_id == "M1"
    assert sorted(entry.subjects) == ["N5", "N8", "S1"]  # the requesters and the people searched for
    assert entry.justification and entry.detail == {"referrals": [first, second]}
    gate.referral_queue(db, "M1")
    assert len(_queue_entries(db)) == 2  # one entry per view
    assert gate.referral_queue(db, "S1") == ([], [])  # nothing shown: nothing logged
    assert len(_queue_entries(db)) == 2


def test_the_queue_screen_is_logged(client: TestClient, db: Session) -> None:
    make_gate_world(db)
    _refer(db)
    identity.set_password(db, "M1", PASSWORD, ACTOR)
    db.commit()
    log_in(client, "M1")
    assert client.get("/referrals").status_code == 200
    (entry,) = _queue_entries(db)
    assert entry.actor == "staff:M1" and sorted(entry.subjects) == ["N5", "S1"]


def test_no_handler_takes_a_referral_about_themself_or_someone_they_declared(db: Session) -> None:
    """Without a usable manager any handler takes a referral, but not one about themself (by the register's
    name and date of birth, no `staff:` flag needed) nor about someone they declared a conflict with."""
    from custodes.imports import load_records
    from custodes.workforce.models import Staff

    make_gate_world(db)
    requester = db.get(Staff, "S1")
    assert requester is not None
    requester.line_manager_id = "U1"  # an officer: the referral goes to any handler
    db.flush()
    load_records(db, "nominals", [{"subject_id": "N-MM", "surname": "Manager", "forenames": "M",
                                   "date_of_birth": "1970-01-01"}], ACTOR)  # fmt: skip
    declarations = [
        {"declaration_id": "D-8", "staff_id": "S1", "kind": "reportable_association", "subject_id": subject,
         "relationship": "other", "declared_at": "2024-01-01"}
        for subject in ("N-MM", "N9")
    ]  # fmt: skip
    declarations[1]["declaration_id"] = "D-9"
    load_records(db, "declarations", declarations, ACTOR)
    mine = {"declaration_id": "D-M1", "staff_id": "M1", "kind": "conflict_of_interest", "subject_id": "N9",
            "relationship": "relative", "declared_at": "2024-01-01"}  # fmt: skip
    load_records(db, "declarations", [mine], ACTOR)
    about_m1, about_n9, about_n5 = _refer(db, subject_id="N-MM"), _refer(db, subject_id="N9"), _refer(db)
    assert [r.id for r in gate.referral_queue(db, "M1")[0]] == [about_n5]
    for referral_id in (about_m1, about_n9):
        with pytest.raises(gate.ReferralError, match="no such referral"):
            gate.view_referral(db, referral_id, "M1")


def test_referrals_of_a_line_manager_who_has_left_go_to_another_handler(db: Session) -> None:
    """The reviewer's case: M1 left; a referral assigned to M1 before, and one made after, must not wait
    for M1 (whose account no longer works) but reach any other handler."""
    from datetime import date, timedelta

    from custodes.imports import load_records

    make_gate_world(db)
    other = {"staff_id": "M2", "surname": "Other", "forenames": "Olga", "role": "supervisor"}
    load_records(db, "staff", [other], ACTOR)
    before = _refer(db)
    assert [r.id for r in gate.referral_queue(db, "M2")[0]] == []  # M1's to handle while M1 serves
    manager = {"staff_id": "M1", "surname": "Manager", "forenames": "Mary", "role": "supervisor"}
    last_day = str(date.today() - timedelta(days=40))
    load_records(db, "staff", [{**manager, "date_of_birth": "1970-01-01", "leave_date": last_day}], ACTOR)
    after = _refer(db)
    assert [r.id for r in gate.referral_queue(db, "M2")[0]] == [before, after]
    _close(db, before, "M2")
    assert [r.id for r in gate.referral_queue(db, "M2")[1]] == [before]


def _second_handler(db: Session, staff_id: str = "H2") -> None:
    from custodes.imports import load_records

    handler = {"staff_id": staff_id, "surname": "Handler", "forenames": "Harry", "role": "supervisor",
               "date_of_birth": "1965-06-06"}  # fmt: skip
    load_records(db, "staff", [handler], ACTOR)


def test_a_manager_who_declares_a_conflict_after_the_referral_loses_it(db: Session) -> None:
    """Review: the manager a referral went to kept it after declaring a conflict with the subject. It now
    goes to the other handlers, as if the manager had been passed over when it was opened."""
    from custodes.imports import load_records
    from custodes.workforce.models import Referral

    make_gate_world(db)
    _second_handler(db)
    referral_id = _refer(db)
    assert db.get(Referral, referral_id).manager_id == "M1"  # type: ignore[union-attr]
    assert [r.id for r in gate.referral_queue(db, "H2")[0]] == []  # M1's while M1 keeps it
    declaration = {"declaration_id": "D-M1", "staff_id": "M1", "kind": "conflict_of_interest",
                   "subject_id": "N5", "relationship": "relative", "declared_at": "2024-06-01"}  # fmt: skip
    load_records(db, "declarations", [declaration], ACTOR)
    assert gate.referral_queue(db, "M1") == ([], [])
    with pytest.raises(gate.ReferralError, match="no such referral"):
        gate.view_referral(db, referral_id, "M1")
    with pytest.raises(gate.ReferralError, match="no such referral"):
        _close(db, referral_id, "M1")
    assert [r.id for r in gate.referral_queue(db, "H2")[0]] == [referral_id]
    _close(db, referral_id, "H2")
    assert [r.id for r in gate.referral_queue(db, "H2")[1]] == [referral_id]
    with pytest.raises(gate.ReferralError, match="no such referral"):
        gate.view_referral(db, referral_id, "M1")  # closed, and still not M1's to see


def test_a_referral_whose_requester_changes_line_manager_goes_to_the_handlers(db: Session) -> None:
    """Review: a referral stayed with the former line manager and the new one never saw it. The former
    manager no longer keeps it: it is stranded, open to any handler (the new manager among them) as a
    referral without a manager is."""
    from custodes.workforce.models import Staff

    make_gate_world(db)
    _second_handler(db, "M2")
    _second_handler(db, "H3")
    referral_id = _refer(db)
    assert [r.id for r in gate.referral_queue(db, "M2")[0]] == []
    s1 = db.get(Staff, "S1")
    assert s1 is not None
    s1.line_manager_id = "M2"
    db.flush()
    assert [r.id for r in gate.referral_queue(db, "M2")[0]] == [referral_id]
    assert [r.id for r in gate.referral_queue(db, "H3")[0]] == [referral_id]
    gate.view_referral(db, referral_id, "M2")
    _close(db, referral_id, "M2")
    assert [r.id for r in gate.referral_queue(db, "H3")[1]] == [referral_id]  # closed ones too
    s1.line_manager_id = None  # no line manager at all: stranded the same way
    db.flush()
    assert [r.id for r in gate.referral_queue(db, "M2")[1]] == [referral_id]


def test_a_referral_and_its_declaration_link_each_other(client: TestClient, db: Session) -> None:
    """The line manager reaches the declaration from the referral, and sees on the declaration the
    searches it caused to be referred; the declarer (not a handler) sees no referral list."""
    make_gate_world(db)
    referral_id = _refer(db)
    assert [link.referral_id for link in gate.referrals_citing(db, "D-2", "M1")] == [referral_id]
    assert gate.referrals_citing(db, "D-2", "S1") == []  # the requester never handles their own
    assert gate.referrals_citing(db, "D-", "M1") == []  # an exact id, not a part of one
    for staff_id in ("M1", "S1"):
        identity.set_password(db, staff_id, PASSWORD, ACTOR)
    db.commit()
    log_in(client, "M1")
    assert '<a class="mono" href="/declarations/D-2">D-2</a>' in client.get(f"/referrals/{referral_id}").text
    declaration = client.get("/declarations/D-2")
    assert declaration.status_code == 200
    assert "Searches referred because of this declaration" in declaration.text
    assert f'<a href="/referrals/{referral_id}">Referral {referral_id}</a>' in declaration.text
    assert "open, waiting for a decision" in declaration.text
    client.cookies.clear()
    log_in(client, "S1")
    own = client.get("/declarations/D-2")
    assert own.status_code == 200 and "Searches referred" not in own.text


def test_the_requesters_home_page_points_to_their_referrals(client: TestClient, db: Session) -> None:
    make_gate_world(db)
    referral_id = _refer(db)
    identity.set_password(db, "S1", PASSWORD, ACTOR)
    db.commit()
    assert gate.my_referral_counts(db, "S1") == (1, 0)
    log_in(client, "S1")
    home = client.get("/").text
    assert "1 search of yours was referred to your line manager and is still open." in home
    _close(db, referral_id)
    db.commit()
    assert gate.my_referral_counts(db, "S1") == (0, 1)
    home = client.get("/").text
    assert "still open" not in home
    assert "1 referral of yours closed in the last 30 days: read your line manager's advice." in home
    assert gate.my_referral_counts(db, "M1") == (0, 0)  # the handler's own referrals, not those handled
