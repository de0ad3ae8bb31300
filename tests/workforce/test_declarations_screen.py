"""Declarations made on screen and decided by the line manager (issue 4.3): validation, the ledger, the
supervisor's queue, registers (searchable, exported, consulted) and the redacted publication."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from custodes.identity import service as identity
from custodes.identity.permissions import Role
from custodes.identity.schemas import Principal
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter
from custodes.workforce import service as workforce
from custodes.workforce import web as workforce_web
from custodes.workforce.models import Declaration
from custodes.workforce.schemas import DeclarationForm, DeclarationKind, DeclarationStatus, SubjectRef
from tests.conftest import PASSWORD, log_in, make_account, post_form
from tests.support.concurrency import at_once
from tests.workforce.test_training_compliance import ACTOR, make_force

TODAY = date(2026, 6, 1)
NEIGHBOUR = DeclarationForm(
    kind="conflict_of_interest",
    surname="Smith",
    forenames="Jack",
    date_of_birth="1990-05-01",
    postcode="me14 1aa",
    relationship="neighbour",
    description="Lives next door; I have concerns about visitors at night.",
)
GIFT = DeclarationForm(
    kind="gift_hospitality",
    organisation="Acme Motors Ltd",
    description="Offered a free car valet",
    value_pounds="£60",
    gift_accepted="declined",
)


def _principal(db: Session, staff_id: str) -> Principal:
    return identity.principal_for(db, staff_id)


def test_making_a_declaration_checks_the_form(db: Session) -> None:
    make_force(db)
    with pytest.raises(workforce.DeclarationProblems) as caught:
        workforce.make_declaration(db, "P1", DeclarationForm(kind="conflict_of_interest"), actor="staff:P1")
    fields = {f for f, _p in caught.value.problems}
    # Every problem of the person on the first submit (the review: the date of birth or postcode was asked
    # for only once the name was right, so "surname" alone was listed here).
    assert fields == {"surname", "forenames", "date_of_birth", "relationship", "description"}
    with pytest.raises(workforce.DeclarationProblems) as caught:
        workforce.make_declaration(
            db, "P1", DeclarationForm(kind="gift_hospitality", value_pounds="lots"), actor="staff:P1"
        )
    assert {f for f, _p in caught.value.problems} == {
        "organisation",
        "description",
        "value_pounds",
        "gift_accepted",
    }
    with pytest.raises(workforce.DeclarationProblems):
        workforce.make_declaration(db, "NOBODY", GIFT, actor="staff:NOBODY")  # not in the staff register


@pytest.mark.parametrize(("field", "value"), [("forenames", "J*"), ("forenames", "-"), ("surname", "Sm?th")])
def test_a_declared_name_without_letters_or_with_a_wildcard_is_refused(
    db: Session, field: str, value: str
) -> None:
    """Such a name would match nobody at the gate: the declarer would never be referred."""
    make_force(db)
    form = replace(NEIGHBOUR, **{field: value})
    with pytest.raises(workforce.DeclarationProblems) as caught:
        workforce.make_declaration(db, "P1", form, actor="staff:P1")
    assert caught.value.problems == [
        (field, "must contain letters; wildcards are not accepted — give the person's name in full")
    ]


NAME_ONLY = (
    "give their date of birth or their postcode, or tick “I don't know their date of birth or postcode”"
)


@pytest.mark.parametrize(
    ("changes", "problems"),
    [
        ({"date_of_birth": "", "postcode": ""}, [("date_of_birth", NAME_ONLY)]),
        ({"date_of_birth": ""}, []),  # the postcode is enough
        ({"postcode": ""}, []),  # so is the date of birth
        ({"date_of_birth": "", "postcode": "", "subject_id": "N9"}, []),  # an id matches on its own
        (
            {"date_of_birth": "", "postcode": "", "kind": "reportable_association"},
            [("date_of_birth", NAME_ONLY)],
        ),
        ({"date_of_birth": "", "postcode": "", "name_only": "yes"}, []),  # ticked: they know only the name
        # with no name at all, every missing part is named at once
        (
            {"date_of_birth": "", "postcode": "", "surname": "", "forenames": ""},
            [
                ("surname", "give the person's surname (or their record id if you know it)"),
                ("forenames", "give the person's forenames (or their record id if you know it)"),
                ("date_of_birth", NAME_ONLY),
            ],
        ),
    ],
)
def test_a_person_declared_by_name_needs_a_date_of_birth_or_postcode(
    db: Session, changes: dict[str, str], problems: list[tuple[str, str]]
) -> None:
    """Review: a conflict declared by name alone was accepted, and the gate, which never matches a name
    alone, could never refer a search for that person."""
    make_force(db)
    form = replace(NEIGHBOUR, **changes)
    if problems:
        with pytest.raises(workforce.DeclarationProblems) as caught:
            workforce.make_declaration(db, "P1", form, actor="staff:P1")
        assert caught.value.problems == problems
    else:
        assert workforce.make_declaration(db, "P1", form, actor="staff:P1")


@pytest.mark.parametrize("born", ["1990-W18-2", "19900501", "1990-5-1"])
def test_a_declared_date_of_birth_is_strictly_a_date(db: Session, born: str) -> None:
    make_force(db)
    with pytest.raises(workforce.DeclarationProblems) as caught:
        workforce.make_declaration(db, "P1", replace(NEIGHBOUR, date_of_birth=born), actor="staff:P1")
    assert caught.value.problems == [("date_of_birth", "is not a date (YYYY-MM-DD)")]


def test_a_declaration_by_name_alone_says_it_is_matched_by_name(client: TestClient, db: Session) -> None:
    """A person declared by name alone (ticked on the form, or stored so before the form required more) is
    matched by their full name: the declarer's page, the line manager's and the queue say that every search
    of that name is referred. (It used to say, in jargon, that "the gate" could not match it.)"""
    make_force(db)
    named_only = workforce.make_declaration(
        db, "P1", replace(NEIGHBOUR, date_of_birth="", postcode="", name_only="yes"), actor="staff:P1"
    )
    matched = workforce.make_declaration(db, "P2", NEIGHBOUR, actor="staff:P2")
    for sid in ("P1", "M1"):
        identity.set_password(db, sid, PASSWORD, ACTOR)
    db.commit()
    said = (
        "This declaration can only be matched by name: searches of anyone with this name will be referred to"
    )
    log_in(client, "P1")
    own = html.unescape(client.get(f"/declarations/{named_only}").text)
    assert f"{said} your line manager." in own and "the gate" not in own.lower()
    client.cookies.clear()
    log_in(client, "M1")
    page = html.unescape(client.get(f"/declarations/{named_only}").text)
    assert f"{said} you." in page and "Your decision" in page
    assert said not in html.unescape(client.get(f"/declarations/{matched}").text)
    queue = client.get("/declarations/queue").text
    assert queue.count("Matched by name only") == 1


def test_the_form_offers_to_declare_by_name_alone_and_shows_every_problem_at_once(
    client: TestClient, db: Session
) -> None:
    make_force(db)
    identity.set_password(db, "P1", PASSWORD, ACTOR)
    db.commit()
    log_in(client, "P1")
    form = html.unescape(client.get("/declarations/new?kind=reportable_association").text)
    assert "I don't know their date of birth or postcode" in form
    bad = post_form(client, "/declarations", {"kind": "reportable_association", "description": "x"})
    text = html.unescape(bad.text)  # type: ignore[attr-defined]
    assert bad.status_code == 400 and "Please put right" in text  # type: ignore[attr-defined]
    for line in (
        "Their surname: give",
        "Their forenames: give",
        "Their date of birth: give their date of birth",
    ):
        assert line in text
    assert "gate" not in text.lower().replace("delegate", "")
    made = post_form(
        client,
        "/declarations",
        {
            "kind": "reportable_association",
            "surname": "Thompson",
            "forenames": "Adam",
            "name_only": "yes",
            "relationship": "friend",
            "description": "Old friend.",
        },
    )
    assert made.status_code == 303  # type: ignore[attr-defined]


def test_made_and_decided_declarations_are_ledger_entries(db: Session) -> None:
    make_force(db)
    declaration_id = workforce.make_declaration(db, "P1", NEIGHBOUR, actor="staff:P1")
    db.commit()
    (made,) = ledger.search(db, EntryFilter(op="declaration", object_id=declaration_id))
    assert made.actor == "staff:P1" and made.detail["kind"] == "conflict_of_interest"
    # The gate's matching sees it at once (named, same date of birth).
    subject = SubjectRef(surname="SMITH", forenames="jack", date_of_birth=date(1990, 5, 1))
    assert [d.declaration_id for d in workforce.declared_conflicts(db, "P1", subject)] == [declaration_id]

    manager = _principal(db, "M1")
    with pytest.raises(workforce.DeclarationProblems) as caught:
        workforce.decide_declaration(
            db, declaration_id, manager, outcome="approved_with_conditions", review_on=str(TODAY), today=TODAY
        )
    assert {f for f, _p in caught.value.problems} == {"conditions", "review_on"}
    status = workforce.decide_declaration(
        db,
        declaration_id,
        manager,
        outcome="approved_with_conditions",
        conditions="Removed from any investigation involving Jack Smith.",
        review_on=str(TODAY + timedelta(days=180)),
        today=TODAY,
    )
    db.commit()
    assert status == DeclarationStatus.APPROVED_WITH_CONDITIONS
    (decided,) = ledger.search(db, EntryFilter(op="authorisation", object_id=declaration_id))
    assert decided.actor == "staff:M1" and decided.detail["outcome"] == "approved_with_conditions"
    # Changing it later (at review) is an alteration naming the earlier decision.
    workforce.decide_declaration(
        db, declaration_id, manager, outcome="rejected", reasons="The conflict is now too close.", today=TODAY
    )
    db.commit()
    (changed,) = ledger.search(db, EntryFilter(op="alteration", object_id=declaration_id))
    assert (
        changed.detail["previous"] == "approved_with_conditions" and changed.detail["outcome"] == "rejected"
    )


def test_only_the_line_manager_decides(db: Session) -> None:
    make_force(db)
    make_account(db, "SGT2", {Role.SUPERVISOR})
    declaration_id = workforce.make_declaration(db, "P1", GIFT, actor="staff:P1")
    for someone in ("SGT2", "P1"):
        with pytest.raises(workforce.DeclarationError):
            workforce.decide_declaration(db, declaration_id, _principal(db, someone), outcome="approved")
    with pytest.raises(workforce.DeclarationError):
        workforce.view_declaration(db, declaration_id, _principal(db, "SGT2"))
    status = workforce.decide_declaration(
        db, declaration_id, _principal(db, "M1"), outcome="rejected", reasons="Must be declined", today=TODAY
    )
    db.commit()
    assert status == DeclarationStatus.REJECTED
    (refusal,) = ledger.search(db, EntryFilter(op="refusal", object_id=declaration_id))
    assert refusal.detail["reasons"] == "Must be declined"


def test_queue_registers_and_publication(db: Session) -> None:
    make_force(db)
    first = workforce.make_declaration(db, "P1", NEIGHBOUR, actor="staff:P1")
    gift = workforce.make_declaration(db, "P2", GIFT, actor="staff:P2")
    workforce.decide_declaration(
        db,
        gift,
        _principal(db, "M1"),
        outcome="approved",
        review_on=str(TODAY + timedelta(days=20)),
        today=TODAY,
    )
    awaiting, reviews = workforce.decision_queue(db, _principal(db, "M1"), TODAY)
    assert [d.declaration_id for d in awaiting] == [first]
    assert [d.declaration_id for d in reviews] == [gift]
    rows, total = workforce.declaration_register(db, "", "smith", actor="staff:P5")
    assert total == 1 and rows[0].declaration_id == first
    rows, total = workforce.declaration_register(db, "gift_hospitality", "", actor="staff:P5")
    assert [r.declaration_id for r in rows] == [gift]
    db.commit()
    consulted = ledger.search(db, EntryFilter(op="consultation", object_type="declaration_register"))
    assert {tuple(e.subjects) for e in consulted} == {("P1",), ("P2",)}
    (published,) = workforce.published_register(db, DeclarationKind.GIFT_HOSPITALITY)
    assert published.organisation == "Acme Motors Ltd" and published.value_pounds == 60
    assert published.gift_accepted is False and published.outcome == "Approved"
    assert "P2" not in repr(published) and "ForenameP2" not in repr(published)
    with pytest.raises(workforce.DeclarationError):
        workforce.published_register(db, DeclarationKind.CONFLICT_OF_INTEREST)


def test_screens(client: TestClient, db: Session) -> None:
    make_force(db)
    make_account(db, "PSD1", {Role.CCU})
    for sid in ("P1", "M1"):
        identity.set_password(db, sid, PASSWORD, ACTOR)
    db.commit()
    log_in(client, "P1")
    assert "Conflict of interest" in client.get("/declarations/new").text
    form = client.get("/declarations/new?kind=conflict_of_interest")
    assert "Do not search police systems" in form.text
    bad = post_form(client, "/declarations", {"kind": "conflict_of_interest", "surname": "Smith"})
    assert bad.status_code == 400 and "Please put right" in bad.text  # type: ignore[attr-defined]
    made = post_form(
        client,
        "/declarations",
        {
            "kind": "conflict_of_interest",
            "surname": "Smith",
            "forenames": "Jack",
            "postcode": "ME14 1AA",  # a name alone is refused: the gate could never match it
            "relationship": "neighbour",
            "description": "Next door.",
        },
    )
    assert made.status_code == 303  # type: ignore[attr-defined]
    path = made.headers["location"].split("?")[0]  # type: ignore[attr-defined]
    assert "Waiting for your line manager" in client.get(path).text
    assert client.get("/declarations/queue").status_code == 403
    client.cookies.clear()
    log_in(client, "M1")
    queue = client.get("/declarations/queue")
    assert path in queue.text
    decided = post_form(client, f"{path}/decide", {"outcome": "approved", "review_on": "2999-01-01"})
    assert decided.status_code == 303  # type: ignore[attr-defined]
    assert "Nothing is waiting for you" in client.get("/declarations/queue").text
    client.cookies.clear()
    log_in(client, "PSD1")
    register = client.get("/declarations/register?q=smith")
    assert register.status_code == 200 and "ForenameP1 SurnameP1" in register.text
    csv_text = client.get("/declarations/register/export.csv?kind=conflict_of_interest").text
    assert csv_text.splitlines()[0].startswith("declaration_id,") and "Smith" in csv_text
    assert client.get("/declarations/register/export.pdf").content.startswith(b"%PDF")
    for register_name in ("gifts-and-hospitality", "business-interests"):
        page = client.get(f"/declarations/published/{register_name}")
        assert page.status_code == 200 and "SurnameP1" not in page.text
        assert client.get(f"/declarations/published/{register_name}/export.pdf").content.startswith(b"%PDF")
    assert client.get("/declarations/published/conflicts").status_code == 404


def test_the_queue_consultation_names_the_declared_people_it_shows(db: Session) -> None:
    """Review: the queue shows each declared person, but its consultation entry named only the declarers."""
    make_force(db)
    by_id = DeclarationForm(
        kind="reportable_association",
        subject_id="N-4471",
        relationship="relative",
        description="My cousin, who has convictions for burglary.",
    )
    workforce.make_declaration(db, "P1", by_id, actor="staff:P1")
    workforce.make_declaration(db, "P2", NEIGHBOUR, actor="staff:P2")  # by name only: no id to name
    workforce.decision_queue(db, _principal(db, "M1"), TODAY)
    db.commit()
    (entry,) = ledger.search(db, EntryFilter(op="consultation", object_type="declaration_queue"))
    assert sorted(entry.subjects) == ["N-4471", "P1", "P2"]


def _awaiting(factory: sessionmaker[Session]) -> tuple[str, str]:
    """P1's gift declaration awaiting M1's decision, and the version the decision form carries."""
    with factory() as setup:
        make_force(setup)
        declaration_id = workforce.make_declaration(setup, "P1", GIFT, actor="staff:P1")
        setup.commit()
        seen = workforce.decision_version(
            workforce.view_declaration(setup, declaration_id, _principal(setup, "M1"))
        )
        setup.commit()
    return declaration_id, seen


def _decisions_of(factory: sessionmaker[Session], declaration_id: str) -> list[tuple[str, object]]:
    with factory() as session:
        found = ledger.search(session, EntryFilter(object_type="declaration", object_id=declaration_id))
        return sorted(
            (e.op, e.detail.get("previous"))
            for e in found
            if e.op != "declaration" and e.op != "consultation"
        )


def test_a_decision_pressed_twice_at_once_is_recorded_once(
    committing_sessions: sessionmaker[Session],
) -> None:
    """Review: with no row lock, two submissions at once both read "awaiting" (PostgreSQL READ COMMITTED)
    and both were recorded as the first decision. Now the second waits, reads the first's decision, and is
    refused: its form was for a declaration awaiting a decision."""
    declaration_id, seen = _awaiting(committing_sessions)

    def approve(session: Session) -> None:
        workforce.decide_declaration(
            session,
            declaration_id,
            _principal(session, "M1"),
            outcome="approved",
            review_on=str(TODAY + timedelta(days=365)),
            today=TODAY,
            seen=seen,
        )

    (second,) = at_once(committing_sessions, approve)
    assert isinstance(second, workforce.DeclarationError) and "decided meanwhile (approved on" in str(second)
    assert _decisions_of(committing_sessions, declaration_id) == [("authorisation", "awaiting_decision")]


def test_two_decisions_at_once_without_a_form_are_a_first_decision_and_a_change(
    committing_sessions: sessionmaker[Session],
) -> None:
    """Without the form's version (a caller of the service), the second decision reads the first afresh and
    is recorded as the change it is, naming the first, never as a second first decision."""
    declaration_id, _seen = _awaiting(committing_sessions)
    outcomes = iter((("approved", ""), ("rejected", "Declined on reflection.")))

    def decide(session: Session) -> None:
        outcome, reasons = next(outcomes)
        workforce.decide_declaration(
            session,
            declaration_id,
            _principal(session, "M1"),
            outcome=outcome,
            reasons=reasons,
            review_on=str(TODAY + timedelta(days=365)) if outcome == "approved" else "",
            today=TODAY,
        )

    assert at_once(committing_sessions, decide) == [None]
    assert _decisions_of(committing_sessions, declaration_id) == [
        ("alteration", "approved"),
        ("authorisation", "awaiting_decision"),
    ]


def test_days_are_london_days(db: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    """Review: the published register dated a declaration by its UTC date, and a decision's "after today"
    used the server's date. At 23:30 UTC on 30 June it is 1 July in London."""
    make_force(db)
    monkeypatch.setattr(workforce, "utcnow", lambda: datetime(2026, 6, 30, 23, 30, tzinfo=UTC))
    gift = workforce.make_declaration(db, "P2", GIFT, actor="staff:P2")
    (published,) = workforce.published_register(db, DeclarationKind.GIFT_HOSPITALITY)
    assert published.declared_on == date(2026, 7, 1)
    (detail,) = workforce.my_declarations(db, "P2")
    assert workforce_web._register_cells(detail)[1] == date(2026, 7, 1)
    manager = _principal(db, "M1")
    with pytest.raises(workforce.DeclarationProblems) as caught:
        workforce.decide_declaration(db, gift, manager, outcome="approved", review_on="2026-07-01")
    assert caught.value.problems == [("review_on", "must be after today")]
    status = workforce.decide_declaration(db, gift, manager, outcome="approved", review_on="2026-07-02")
    assert status == DeclarationStatus.APPROVED


def test_the_decision_form_refuses_a_second_press(client: TestClient, db: Session) -> None:
    make_force(db)
    identity.set_password(db, "M1", PASSWORD, ACTOR)
    declaration_id = workforce.make_declaration(db, "P1", GIFT, actor="staff:P1")
    db.commit()
    log_in(client, "M1")
    page = client.get(f"/declarations/{declaration_id}").text
    seen = re.search(r'name="seen" value="([^"]*)"', page)
    assert seen is not None
    form = {"outcome": "approved", "review_on": "2999-01-01", "seen": html.unescape(seen.group(1))}
    assert post_form(client, f"/declarations/{declaration_id}/decide", form).status_code == 303  # type: ignore[attr-defined]
    again = post_form(client, f"/declarations/{declaration_id}/decide", form)
    location = again.headers["location"]  # type: ignore[attr-defined]
    assert "decided%20meanwhile" in location
    assert len(ledger.search(db, EntryFilter(op="authorisation", object_id=declaration_id))) == 1
    assert ledger.search(db, EntryFilter(op="alteration", object_id=declaration_id)) == []


@pytest.mark.parametrize(
    "person",
    [
        {"surname": "Manager", "forenames": "Mary", "date_of_birth": "1970-01-01"},  # the review's case
        {"surname": "MANAGER", "forenames": "M.", "date_of_birth": "1970-01-01"},  # as the gate matches
        {"subject_id": "N-M1"},  # a record flagged staff:M1
        {"subject_id": "M1"},  # the manager's staff id
    ],
)
def test_a_line_manager_does_not_decide_a_declaration_about_themself(
    db: Session, person: dict[str, str]
) -> None:
    """Review: M1 approved S1's declaration of a relationship with M1. It is not M1's to decide, see or
    queue: refused in words (no decision on screen; the counter-corruption unit sees it in the register)."""
    from custodes.imports import load_records
    from tests.workforce.test_gate import ACTOR as GATE_ACTOR
    from tests.workforce.test_gate import make_gate_world

    make_gate_world(db)
    load_records(db, "nominals", [{"subject_id": "N-M1", "surname": "Other", "forenames": "Name",
                                   "flags": "staff:M1"}], GATE_ACTOR)  # fmt: skip
    form = DeclarationForm(
        kind="reportable_association",
        relationship="partner",
        description="we have been in a relationship since May",
        **person,
    )
    about_m1 = workforce.make_declaration(db, "S1", form, actor="staff:S1")
    other = workforce.make_declaration(db, "S1", NEIGHBOUR, actor="staff:S1")
    manager = _principal(db, "M1")
    with pytest.raises(workforce.DeclarationError) as caught:
        workforce.decide_declaration(db, about_m1, manager, outcome="approved", review_on="2999-01-01")
    assert str(caught.value) == workforce.ABOUT_YOU
    assert "counter-corruption unit" in str(caught.value)
    with pytest.raises(workforce.DeclarationError):
        workforce.view_declaration(db, about_m1, manager)
    awaiting, _reviews = workforce.decision_queue(db, manager, TODAY)
    assert [d.declaration_id for d in awaiting] == [other]
    assert workforce.decide_declaration(db, other, manager, outcome="approved", review_on="2999-01-01")
    holder = workforce.view_declaration(db, about_m1, _principal(db, "S1"))  # the declarer still sees it
    assert holder.about_line_manager and holder.status == DeclarationStatus.AWAITING


def test_a_declaration_naming_someone_else_with_the_managers_surname_is_theirs_to_decide(db: Session) -> None:
    from tests.workforce.test_gate import make_gate_world

    make_gate_world(db)
    form = DeclarationForm(
        kind="conflict_of_interest",
        surname="Manager",
        forenames="Mark",
        date_of_birth="1970-01-01",
        relationship="relative",
        description="brother",
    )
    declaration_id = workforce.make_declaration(db, "S1", form, actor="staff:S1")
    assert workforce.decide_declaration(
        db, declaration_id, _principal(db, "M1"), outcome="approved", review_on="2999-01-01"
    )


def test_the_register_filters_by_decision_area_and_review_and_pages_by_fifty(
    client: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_force(db)
    make_account(db, "PSD1", {Role.CCU})
    today = workforce.london_today()
    conflict = workforce.make_declaration(db, "P1", NEIGHBOUR, actor="staff:P1")  # NA, awaiting
    soon = workforce.make_declaration(db, "P2", GIFT, actor="staff:P2")  # NA
    late = workforce.make_declaration(db, "P4", GIFT, actor="staff:P4")  # EA
    for declaration_id in (soon, late):
        workforce.decide_declaration(
            db,
            declaration_id,
            _principal(db, "M1"),
            outcome="approved",
            review_on=str(today + timedelta(days=10)),
            today=today,
        )
    row = db.get(Declaration, late)
    assert row is not None
    row.review_on = today - timedelta(days=3)  # decided a year ago: its review has passed
    db.commit()

    def listed(query: str) -> set[str]:
        rows, _total = workforce.declaration_register(
            db, "", "", actor="staff:PSD1", **dict([query.split("=")])
        )
        return {r.declaration_id for r in rows}

    assert listed("status=awaiting_decision") == {conflict}
    assert listed("status=approved") == {soon, late}
    assert listed("area=EA") == {late}
    assert listed("review=overdue") == {late}
    assert listed("review=due30") == {soon}

    log_in(client, "PSD1")
    page = client.get("/declarations/register?area=NA&status=approved").text
    assert f"/declarations/{soon}" in page and f"/declarations/{late}" not in page
    assert f"/declarations/{conflict}" not in page
    assert '<option value="NA" selected>NA</option>' in page and '<option value="approved" selected>' in page
    identity.set_config(
        db, "area_names", "NA = North Division", Principal("ADM", "Admin", frozenset({Role.ADMIN}))
    )
    db.commit()
    named = client.get("/declarations/register?area=NA").text
    assert '<option value="NA" selected>North Division (NA)</option>' in named
    assert (
        "export.csv?area=NA&amp;status=approved" in page or "export.csv?status=approved&amp;area=NA" in page
    )
    assert "relative (family))" not in page and "(family))" not in page  # one bracket, not two

    monkeypatch.setattr(workforce_web, "REGISTER_PAGE", 2)
    first = client.get("/declarations/register").text
    assert "3 declarations, 1–2 shown (page 1 of 2" in first and "Next page" in first
    second = client.get("/declarations/register?page=2").text
    assert "3–3 shown (page 2 of 2" in second and "Previous page" in second and "Next page" not in second


def test_ones_own_declarations_awaiting_a_decision_are_counted_for_the_home_page(db: Session) -> None:
    make_force(db)
    assert workforce.my_declarations_awaiting(db, "P2") == 0
    gift = workforce.make_declaration(db, "P2", GIFT, actor="staff:P2")
    workforce.make_declaration(db, "P2", GIFT, actor="staff:P2")
    assert workforce.my_declarations_awaiting(db, "P2") == 2
    workforce.decide_declaration(
        db, gift, _principal(db, "M1"), outcome="approved", review_on=str(TODAY + timedelta(days=365))
    )
    assert workforce.my_declarations_awaiting(db, "P2") == 1
    assert workforce.my_declarations_awaiting(db, "M1") == 0
