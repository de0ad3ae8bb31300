"""The counter-corruption unit's casework rules (monitoring.casework): the queue, pseudonymised triage,
identity reveals, dismissals, investigations and their references, notes, outcomes, evidence packs.

Alerts are made directly in the database here, as `monitor run` stores them (one per staff and subject,
status "new", its AlertEvent rows), so these tests do not depend on the detectors.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from custodes.cli import app
from custodes.identity import service as identity
from custodes.identity.schemas import Principal
from custodes.imports import load_records
from custodes.kit.db import utcnow
from custodes.kit.timefmt import london_day
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter, StoredEntry
from custodes.monitoring import casework, evidence
from custodes.monitoring.casework import CaseworkError, NotFound
from custodes.monitoring.models import Alert, AlertEvent, IdentityReveal, Investigation, MonitorRun
from custodes.settings import Settings

ACTOR = "system:test"
SEARCHER = "PC101"  # Peter Parry, team T4: the alerts are mostly about him
OTHER = "PC102"  # Sam Hale, team T5
UNIT = "CCU201"  # Carol Black, counter-corruption unit
UNIT_OTHER = "CCU202"  # Ben Ward, counter-corruption unit: accessed, and accessing, in the alerts below
START = datetime(2026, 3, 2, 9, 15, tzinfo=UTC)
OPENING = "The pattern needs his account: opening an investigation."  # why an investigation is opened


def make_people(db: Session) -> None:
    load_records(
        db,
        "staff",
        [
            {
                "staff_id": SEARCHER,
                "surname": "Parry",
                "forenames": "Peter",
                "role": "officer",
                "team_id": "T4",
            },
            {"staff_id": OTHER, "surname": "Hale", "forenames": "Sam", "role": "officer", "team_id": "T5"},
            {"staff_id": UNIT, "surname": "Black", "forenames": "Carol", "role": "ccu", "team_id": "PSD"},
            {"staff_id": UNIT_OTHER, "surname": "Ward", "forenames": "Ben", "role": "ccu", "team_id": "PSD"},
        ],
        ACTOR,
    )
    load_records(
        db,
        "nominals",
        [
            {"subject_id": "N9", "surname": "Doe", "forenames": "Jane", "postcode": "ME14 1XX"},
            {"subject_id": "N11", "surname": "Grant", "forenames": "Hugh", "flags": "public_figure"},
            {"subject_id": "N20", "surname": "Ward", "forenames": "Ben", "flags": f"staff:{UNIT_OTHER}"},
        ],
        ACTOR,
    )


def make_run(db: Session) -> int:
    run = MonitorRun(
        actor=ACTOR,
        window_from=None,
        window_to=None,
        events=1000,
        about_people=900,
        explained=880,
        alerts=4,
        at=utcnow(),
    )
    db.add(run)
    db.flush()
    return run.id


def make_alert(
    db: Session,
    run_id: int,
    alert_id: str,
    staff_id: str,
    subject_id: str | None,
    rules: Sequence[str],
    score: int,
    explanation: str,
    *,
    events: int = 2,
    start: datetime = START,
) -> Alert:
    """An alert as `monitor run` stores it, with `events` accesses a day apart."""
    times = [start + timedelta(days=3 * i, minutes=7 * i) for i in range(events)]
    alert = Alert(
        alert_id=alert_id,
        staff_id=staff_id,
        subject_id=subject_id,
        rules=";".join(rules),
        score=score,
        first_at=times[0],
        last_at=times[-1],
        events=events,
        explanation=explanation,
        status="new",
        run_id=run_id,
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    db.add(alert)
    db.flush()
    for number, at in enumerate(times, start=1):
        db.add(
            AlertEvent(
                alert_id=alert_id,
                event_id=f"{alert_id}-e{number}",
                occurred_at=at,
                system="PNC" if number % 2 else "Niche RMS",
                action="view" if number % 2 else "search",
                case_ref=None,
                rules=";".join(rules),
                explanation=f"{staff_id} looked at {subject_id or 'records'}: no case of {staff_id} on it.",
                batch_id="batch-test-1",
            )
        )
    db.flush()
    return alert


def make_alerts(db: Session) -> dict[str, str]:
    """Four alerts: two about PC101, one by PC102 about a member of the unit, one by that member."""
    run_id = make_run(db)
    make_alert(
        db,
        run_id,
        "AL-NEIGHBOUR",
        SEARCHER,
        "N9",
        ["NEIGHBOUR", "UNEXPLAINED"],
        87,
        f"{SEARCHER} viewed N9 3 times over 9 days with no case assigned to {SEARCHER} or team T4 that "
        f"involves N9; N9 lives 140 m from {SEARCHER}'s home (Peter Parry).",
        events=3,
    )
    make_alert(
        db,
        run_id,
        "AL-CELEBRITY",
        SEARCHER,
        "N11",
        ["PUBLIC_FIGURE", "UNEXPLAINED"],
        45,
        f"{SEARCHER} searched for N11, a public figure, with no case that involves N11.",
    )
    make_alert(
        db,
        run_id,
        "AL-COLLEAGUE",
        OTHER,
        "N20",
        ["COLLEAGUE", "UNEXPLAINED"],
        60,
        f"{OTHER} viewed N20, a member of the workforce, with no case that involves N20.",
    )
    make_alert(
        db,
        run_id,
        "AL-UNIT",
        UNIT_OTHER,
        "N9",
        ["UNEXPLAINED"],
        70,
        f"{UNIT_OTHER} viewed N9 with no case assigned to {UNIT_OTHER} that involves N9.",
    )
    return {"neighbour": "AL-NEIGHBOUR", "celebrity": "AL-CELEBRITY", "colleague": "AL-COLLEAGUE"}


def principal(db: Session, staff_id: str) -> Principal:
    found = identity.principal_for(db, staff_id)
    assert found is not None
    return found


@pytest.fixture
def world(db: Session) -> dict[str, str]:
    make_people(db)
    ids = make_alerts(db)
    db.commit()
    return ids


@pytest.fixture
def carol(db: Session, world: dict[str, str]) -> Principal:
    return principal(db, UNIT)


@pytest.fixture
def ben(db: Session, world: dict[str, str]) -> Principal:
    return principal(db, UNIT_OTHER)


def entries_on(db: Session, object_type: str, object_id: str) -> list[StoredEntry]:
    db.commit()  # append what is queued
    return list(ledger.iter_matching(db, EntryFilter(object_type=object_type, object_id=object_id)))


# --------------------------------------------------------------------------- pseudonyms


def test_pseudonyms_are_stable_distinct_and_keyed(settings: Settings) -> None:
    first = casework.pseudonym(settings, SEARCHER)
    assert first == casework.pseudonym(settings, SEARCHER)
    assert first.startswith("Staff ") and len(first) == len("Staff 7F3A9K")
    assert SEARCHER not in first
    assert first != casework.pseudonym(settings, OTHER)
    other_force = Settings(home=settings.home, database_url=settings.database_url, secret_key="another-" * 6)
    assert casework.pseudonym(other_force, SEARCHER) != first  # keyed: not guessable from the staff id


# --------------------------------------------------------------------------- the queue


def test_the_queue_lists_new_alerts_by_score_without_naming_staff(
    db: Session, settings: Settings, carol: Principal
) -> None:
    rows, total = casework.alert_queue(db, settings, carol)
    assert total == 4
    assert [r.alert_id for r in rows] == ["AL-NEIGHBOUR", "AL-UNIT", "AL-COLLEAGUE", "AL-CELEBRITY"]
    top = rows[0]
    label = casework.pseudonym(settings, SEARCHER)
    assert top.staff_label == label and top.rules == ("NEIGHBOUR", "UNEXPLAINED") and top.events == 3
    assert SEARCHER not in top.explanation and "Peter Parry" not in top.explanation
    assert top.explanation.startswith(f"{label} viewed N9 3 times") and f"{label}'s home" in top.explanation
    assert rows[3].staff_label == label  # the same pseudonym on every alert about him


def test_the_queue_filters_by_rule_and_status(db: Session, settings: Settings, carol: Principal) -> None:
    rows, total = casework.alert_queue(db, settings, carol, rule="PUBLIC_FIGURE")
    assert total == 1 and rows[0].alert_id == "AL-CELEBRITY"
    rows, total = casework.alert_queue(db, settings, carol, rule="UNEXPLAINED")
    assert total == 4
    casework.dismiss_alert(db, "AL-CELEBRITY", carol, "Working on Operation Glass with the press office.")
    assert casework.alert_queue(db, settings, carol)[1] == 3
    rows, total = casework.alert_queue(db, settings, carol, status="dismissed")
    assert [r.alert_id for r in rows] == ["AL-CELEBRITY"]
    assert casework.alert_queue(db, settings, carol, status="")[1] == 4
    assert casework.status_counts(db, carol) == {"new": 3, "investigating": 0, "dismissed": 1, "closed": 0}


def test_a_member_of_the_unit_never_sees_alerts_about_themself(
    db: Session, settings: Settings, ben: Principal
) -> None:
    rows, total = casework.alert_queue(db, settings, ben, status="")
    # AL-UNIT: his own accesses. AL-COLLEAGUE: someone looked at him (N20 is him).
    assert total == 2 and {r.alert_id for r in rows} == {"AL-NEIGHBOUR", "AL-CELEBRITY"}
    assert casework.status_counts(db, ben)["new"] == 2
    for alert_id in ("AL-UNIT", "AL-COLLEAGUE"):
        with pytest.raises(NotFound):
            casework.view_alert(db, settings, alert_id, ben)
        with pytest.raises(NotFound):
            casework.dismiss_alert(db, alert_id, ben, "nothing in it")
        with pytest.raises(NotFound):
            casework.reveal_identity(db, alert_id, ben, "curious")
        with pytest.raises(NotFound):
            casework.open_investigation(db, [alert_id], ben, "about me", reason=OPENING)
    assert db.get(Alert, "AL-UNIT").status == "new"  # type: ignore[union-attr]
    assert not entries_on(db, "alert", "AL-UNIT") and not entries_on(db, "alert", "AL-COLLEAGUE")


# --------------------------------------------------------------------------- one alert, reveals


def test_viewing_an_alert_is_a_logged_consultation_and_keeps_the_staff_hidden(
    db: Session, settings: Settings, carol: Principal
) -> None:
    detail = casework.view_alert(db, settings, "AL-NEIGHBOUR", carol)
    assert not detail.revealed and detail.staff is None and detail.staff_id is None
    assert detail.alert.staff_label == detail.pseudonym
    assert detail.subject is not None and detail.subject.surname == "Doe"
    assert detail.subject.postcode is None  # a neighbour's postcode is the searcher's street
    assert detail.subject_hidden == "postcode withheld while the identity is hidden"
    assert [e.event_id for e in detail.events] == ["AL-NEIGHBOUR-e1", "AL-NEIGHBOUR-e2", "AL-NEIGHBOUR-e3"]
    assert all(SEARCHER not in e.explanation for e in detail.events)
    assert [o.alert_id for o in detail.other_new] == ["AL-CELEBRITY"]
    (entry,) = entries_on(db, "alert", "AL-NEIGHBOUR")
    assert entry.op == "consultation" and entry.actor == f"staff:{UNIT}"
    assert entry.subjects == ["N9"] and "triage of alert AL-NEIGHBOUR" in (entry.justification or "")
    # No one's staff record was consulted: nothing on the searcher yet.
    assert not [e for e in entries_on(db, "staff", SEARCHER) if e.op == "consultation"]


def test_revealing_needs_a_reason_and_is_recorded(db: Session, settings: Settings, carol: Principal) -> None:
    with pytest.raises(CaseworkError, match="give a reason for revealing"):
        casework.reveal_identity(db, "AL-NEIGHBOUR", carol, "   ")
    assert casework.reveal_identity(db, "AL-NEIGHBOUR", carol, "Score 87: need to check his postings.")
    assert not casework.reveal_identity(db, "AL-NEIGHBOUR", carol, "again")  # once is enough
    reveals = db.scalars(select(IdentityReveal)).all()
    assert [(r.alert_id, r.revealed_to, r.reason) for r in reveals] == [
        ("AL-NEIGHBOUR", UNIT, "Score 87: need to check his postings.")
    ]
    (entry,) = entries_on(db, "alert", "AL-NEIGHBOUR")
    assert entry.op == "consultation" and entry.subjects == [SEARCHER]
    assert entry.justification == "Score 87: need to check his postings."
    assert entry.detail == {"action": "identity revealed"}

    detail = casework.view_alert(db, settings, "AL-NEIGHBOUR", carol)
    assert detail.revealed and detail.staff is not None
    assert (detail.staff.name, detail.staff.staff_id, detail.staff.team_id) == ("Peter Parry", SEARCHER, "T4")
    assert detail.alert.staff_label == "Peter Parry" and SEARCHER in detail.alert.explanation
    assert (
        detail.subject is not None and detail.subject.postcode == "ME14 1XX" and detail.subject_hidden is None
    )
    assert [r.reason for r in detail.reveals] == ["Score 87: need to check his postings."]
    assert entries_on(db, "staff", SEARCHER)[-1].op == "consultation"  # his record, shown: logged
    # Revealed to Carol on this alert only: not to Ben, and not on the other alert about the same man.
    assert not casework.view_alert(db, settings, "AL-NEIGHBOUR", principal(db, UNIT_OTHER)).revealed
    assert not casework.view_alert(db, settings, "AL-CELEBRITY", carol).revealed


@pytest.mark.parametrize("rule", ["SELF", "RELATIVE_OR_HOUSEHOLD"])
def test_the_person_looked_at_does_not_give_away_a_hidden_searcher(
    db: Session, settings: Settings, carol: Principal, rule: str
) -> None:
    load_records(db, "nominals", [{"subject_id": "N-PP", "surname": "Parry", "forenames": "Peter"}], ACTOR)
    make_alert(db, make_run(db), "AL-OWN", SEARCHER, "N-PP", [rule], 90, f"{SEARCHER} viewed N-PP.")
    db.commit()
    hidden = casework.view_alert(db, settings, "AL-OWN", carol)
    assert hidden.subject is None and hidden.alert.subject_id is None  # the record id too: it is theirs
    assert "N-PP" not in hidden.alert.explanation
    assert hidden.subject_hidden == (
        "Withheld, record id included, while the member of staff's identity is hidden (it would give them "
        "away)."
    )
    casework.reveal_identity(db, "AL-OWN", carol, "Self-search: check the circumstances.")
    shown = casework.view_alert(db, settings, "AL-OWN", carol)
    assert shown.subject is not None and shown.subject.surname == "Parry" and shown.subject_hidden is None


def test_a_record_that_is_the_viewer_by_name_and_birth_date_is_about_them(
    db: Session, settings: Settings, carol: Principal, ben: Principal
) -> None:
    """As the SELF rule matches people: no `staff:` flag needed (here with a variant and an initial)."""
    from datetime import date

    from custodes.workforce.models import Staff

    unit = db.get(Staff, UNIT)
    assert unit is not None
    unit.date_of_birth = date(1975, 3, 4)
    nominal = {"subject_id": "N-CB", "surname": "BLACK", "forenames": "C", "date_of_birth": "1975-03-04"}
    load_records(db, "nominals", [nominal], ACTOR)
    make_alert(db, make_run(db), "AL-ON-CAROL", SEARCHER, "N-CB", ["UNEXPLAINED"], 70, "viewed N-CB")
    db.commit()
    queue, _ = casework.alert_queue(db, settings, carol, status="")
    assert "AL-ON-CAROL" not in {row.alert_id for row in queue}
    with pytest.raises(NotFound):
        casework.view_alert(db, settings, "AL-ON-CAROL", carol)
    assert casework.view_alert(db, settings, "AL-ON-CAROL", ben).alert.alert_id == "AL-ON-CAROL"


def test_a_record_that_is_the_viewer_by_name_and_home_postcode_is_about_them(
    db: Session, settings: Settings, carol: Principal
) -> None:
    """SELF matches name + home postcode too (no date of birth on either side here)."""
    from custodes.workforce.models import Staff

    unit = db.get(Staff, UNIT)
    assert unit is not None
    unit.date_of_birth, unit.home_postcode = None, "ME14 1XX"
    nominals = [
        {"subject_id": "N-HOME", "surname": "Black", "forenames": "Carol", "postcode": "ME14 1XX"},
        {"subject_id": "N-AWAY", "surname": "Black", "forenames": "Carol", "postcode": "ME15 6AB"},
    ]
    load_records(db, "nominals", nominals, ACTOR)
    run = make_run(db)
    for subject in ("N-HOME", "N-AWAY"):
        make_alert(db, run, f"AL-{subject}", SEARCHER, subject, ["UNEXPLAINED"], 70, f"viewed {subject}")
    db.commit()
    queue, _ = casework.alert_queue(db, settings, carol, status="")
    shown = {row.alert_id for row in queue}
    assert "AL-N-HOME" not in shown and "AL-N-AWAY" in shown


# --------------------------------------------------------------------------- dismissal


def test_dismissal_needs_a_reason(db: Session, settings: Settings, carol: Principal) -> None:
    with pytest.raises(CaseworkError, match="Please give a reason for dismissing the alert"):
        casework.dismiss_alert(db, "AL-CELEBRITY", carol, "")
    with pytest.raises(CaseworkError, match="under 4,000 characters"):
        casework.dismiss_alert(db, "AL-CELEBRITY", carol, "x" * 4001)
    assert db.get(Alert, "AL-CELEBRITY").status == "new"  # type: ignore[union-attr]
    casework.dismiss_alert(db, "AL-CELEBRITY", carol, "  Tasked by the press office (Op Glass).  ")
    alert = db.get(Alert, "AL-CELEBRITY")
    assert alert is not None and alert.status == "dismissed"
    assert (alert.dismissal_reason, alert.triaged_by) == ("Tasked by the press office (Op Glass).", UNIT)
    (entry,) = entries_on(db, "alert", "AL-CELEBRITY")
    assert entry.op == "review" and set(entry.subjects) == {SEARCHER, "N11"}
    assert entry.detail == {"decision": "dismissed", "reason": "Tasked by the press office (Op Glass)."}
    with pytest.raises(CaseworkError, match="already been dismissed"):
        casework.dismiss_alert(db, "AL-CELEBRITY", carol, "twice")
    with pytest.raises(CaseworkError, match="already been dismissed"):
        casework.open_investigation(db, ["AL-CELEBRITY"], carol, reason=OPENING)


# --------------------------------------------------------------------------- investigations


def test_investigations_take_consecutive_references(db: Session, carol: Principal) -> None:
    year = london_day(utcnow()).year % 100
    first = casework.open_investigation(db, ["AL-NEIGHBOUR"], carol, "Neighbour of PC Parry", reason=OPENING)
    second = casework.open_investigation(db, ["AL-COLLEAGUE"], carol, reason=OPENING)
    references = [db.get(Investigation, i).reference for i in (first, second)]  # type: ignore[union-attr]
    assert references == [f"INV/001/{year:02d}", f"INV/002/{year:02d}"]
    assert casework.next_reference(db, utcnow()) == f"INV/003/{year:02d}"
    assert db.get(Investigation, second).title == "Another member of staff, no work explains it"  # type: ignore[union-attr]


def test_opening_an_investigation_from_alerts_about_one_member_of_staff(
    db: Session, settings: Settings, carol: Principal
) -> None:
    with pytest.raises(CaseworkError, match="at least one alert"):
        casework.open_investigation(db, [], carol, reason=OPENING)
    with pytest.raises(CaseworkError, match="one member of staff"):
        casework.open_investigation(db, ["AL-NEIGHBOUR", "AL-COLLEAGUE"], carol, reason=OPENING)
    investigation_id = casework.open_investigation(
        db, ["AL-NEIGHBOUR", "AL-CELEBRITY"], carol, " Op  Hedge ", reason=OPENING
    )
    row = db.get(Investigation, investigation_id)
    assert row is not None and (row.title, row.staff_id, row.status, row.opened_by) == (
        "Op Hedge",
        SEARCHER,
        "open",
        UNIT,
    )
    for alert_id in ("AL-NEIGHBOUR", "AL-CELEBRITY"):
        alert = db.get(Alert, alert_id)
        assert alert is not None and (alert.status, alert.investigation_id) == (
            "investigating",
            investigation_id,
        )
        (entry,) = entries_on(db, "alert", alert_id)
        assert entry.op == "review" and entry.detail == {
            "decision": "investigation",
            "investigation": row.reference,
        }
    (opened,) = entries_on(db, "investigation", row.reference)
    assert opened.op == "collection" and set(opened.subjects) == {SEARCHER, "N9", "N11"}
    assert opened.detail["alerts"] == ["AL-NEIGHBOUR", "AL-CELEBRITY"]
    with pytest.raises(CaseworkError, match=f"already part of an investigation \\({row.reference}\\)"):
        casework.dismiss_alert(db, "AL-NEIGHBOUR", carol, "changed my mind")
    rows, _total = casework.alert_queue(db, settings, carol, status="investigating")
    assert {r.investigation_ref for r in rows} == {row.reference}


def test_alerts_are_added_only_to_an_open_investigation_of_the_same_member_of_staff(
    db: Session, settings: Settings, carol: Principal
) -> None:
    investigation_id = casework.open_investigation(db, ["AL-NEIGHBOUR"], carol, reason=OPENING)
    # Offered only once the alert is revealed to the viewer (an investigation's reference names its staff).
    assert casework.view_alert(db, settings, "AL-CELEBRITY", carol).open_investigations == []
    casework.reveal_identity(db, "AL-CELEBRITY", carol, "Same officer as the investigation")
    detail = casework.view_alert(db, settings, "AL-CELEBRITY", carol)
    assert [i.id for i in detail.open_investigations] == [investigation_id]
    assert casework.view_alert(db, settings, "AL-COLLEAGUE", carol).open_investigations == []
    with pytest.raises(CaseworkError, match="someone other than"):
        casework.add_alerts(db, investigation_id, ["AL-COLLEAGUE"], carol)
    reference = casework.add_alerts(db, investigation_id, ["AL-CELEBRITY"], carol)
    assert db.get(Alert, "AL-CELEBRITY").investigation_id == investigation_id  # type: ignore[union-attr]
    assert [e.detail.get("action") for e in entries_on(db, "investigation", reference)] == [
        "opened",
        "alerts added",
    ]


def test_the_member_of_staff_investigated_and_the_people_in_it_never_see_it(
    db: Session, settings: Settings, carol: Principal, ben: Principal
) -> None:
    about_parry = casework.open_investigation(db, ["AL-NEIGHBOUR"], carol, reason=OPENING)
    about_ben = casework.open_investigation(db, ["AL-UNIT"], carol, reason=OPENING)  # Ben's own accesses
    looked_at_ben = casework.open_investigation(
        db, ["AL-COLLEAGUE"], carol, reason=OPENING
    )  # Ben was looked at
    assert {r.id for r in casework.investigations(db, carol)} == {about_parry, about_ben, looked_at_ben}
    assert [r.id for r in casework.investigations(db, ben)] == [about_parry]
    (shown,) = entries_on(db, "investigation_list", "")[-1:] or [None]
    assert shown is not None and shown.op == "consultation" and shown.actor == f"staff:{UNIT_OTHER}"
    assert shown.subjects == [SEARCHER]  # who Ben saw under investigation, in the ledger
    for hidden in (about_ben, looked_at_ben):
        with pytest.raises(NotFound):
            casework.view_investigation(db, settings, hidden, ben)
        with pytest.raises(NotFound):
            casework.add_note(db, hidden, ben, "anything")
        with pytest.raises(NotFound):
            casework.close_investigation(db, hidden, ben, "no_case_to_answer", "nothing")
    parry = principal(db, SEARCHER)
    assert about_parry not in {r.id for r in casework.investigations(db, parry, status="")}
    with pytest.raises(NotFound):
        casework.view_investigation(db, settings, about_parry, parry)


def test_notes_and_closing_with_an_outcome(db: Session, settings: Settings, carol: Principal) -> None:
    investigation_id = casework.open_investigation(
        db, ["AL-NEIGHBOUR", "AL-CELEBRITY"], carol, reason=OPENING
    )
    with pytest.raises(CaseworkError, match="write the note"):
        casework.add_note(db, investigation_id, carol, " \n ")
    reference = casework.add_note(db, investigation_id, carol, "Spoke to his inspector: no tasking on N9.")
    with pytest.raises(CaseworkError, match="choose an outcome"):
        casework.close_investigation(db, investigation_id, carol, "sacked", "because")
    with pytest.raises(CaseworkError, match="give the reason for the outcome"):
        casework.close_investigation(db, investigation_id, carol, "misconduct", "")
    assert db.get(Investigation, investigation_id).status == "open"  # type: ignore[union-attr]
    casework.close_investigation(
        db, investigation_id, carol, "management_advice", "Admitted curiosity; advised and retrained."
    )
    row = db.get(Investigation, investigation_id)
    assert row is not None and (row.status, row.outcome, row.closed_by) == (
        "closed",
        "management_advice",
        UNIT,
    )
    assert {db.get(Alert, a).status for a in ("AL-NEIGHBOUR", "AL-CELEBRITY")} == {"closed"}  # type: ignore[union-attr]
    with pytest.raises(CaseworkError, match="is closed"):
        casework.add_note(db, investigation_id, carol, "late")
    with pytest.raises(CaseworkError, match="is closed"):
        casework.close_investigation(db, investigation_id, carol, "criminal", "again")
    detail = casework.view_investigation(db, settings, investigation_id, carol)
    assert [n.text for n in detail.notes] == ["Spoke to his inspector: no tasking on N9."]
    assert detail.staff is not None and detail.staff.name == "Peter Parry"
    assert [a.alert_id for a in detail.alerts] == ["AL-NEIGHBOUR", "AL-CELEBRITY"]
    assert len(detail.events) == 5 and SEARCHER in detail.alerts[0].explanation  # named: under investigation
    ops = [(e.op, e.detail.get("action")) for e in entries_on(db, "investigation", reference)]
    assert ops == [
        ("collection", "opened"),
        ("collection", "note added"),
        ("review", "closed"),
        ("consultation", None),
    ]
    note_entry = entries_on(db, "investigation", reference)[1]
    assert "Spoke to" not in json.dumps(note_entry.detail) and len(note_entry.detail["sha256"]) == 64


# --------------------------------------------------------------------------- evidence pack


def test_the_evidence_pack_holds_the_entries_and_proofs_and_verifies(
    db: Session, settings: Settings, carol: Principal
) -> None:
    casework.reveal_identity(db, "AL-NEIGHBOUR", carol, "to decide")
    investigation_id = casework.open_investigation(db, ["AL-NEIGHBOUR"], carol, "Op Hedge", reason=OPENING)
    casework.add_note(db, investigation_id, carol, "First note.")
    db.commit()
    contexts: list[dict[str, object]] = []

    def report(context: dict[str, object]) -> str:
        contexts.append(context)
        return "<h1>Evidence pack</h1>"

    name, content = evidence.build_pack(db, settings, investigation_id, carol, report)
    db.commit()
    reference = db.get(Investigation, investigation_id).reference  # type: ignore[union-attr]
    assert name == f"evidence-{reference.replace('/', '-')}.zip"
    archive = zipfile.ZipFile(io.BytesIO(content))
    assert archive.namelist() == list(evidence.FILES)
    assert archive.read("report.pdf").startswith(b"%PDF")
    lines = archive.read("entries.jsonl").split(b"\n")[:-1]
    exported = {json.loads(line)["index"]: line for line in ledger.export_lines(db)}
    assert all(exported[json.loads(line)["index"]] == line for line in lines)  # byte for byte
    objects = [(json.loads(line)["object"]["type"], json.loads(line)["object"]["id"]) for line in lines]
    assert ("investigation", reference) in objects and ("alert", "AL-NEIGHBOUR") in objects
    # Its own making is in it: the consultation recorded for the pack, before the checkpoint.
    last = json.loads(lines[-1])
    assert last["op"] == "consultation" and "evidence pack" in last["justification"]
    checkpoint = archive.read("checkpoint.txt").decode()
    assert checkpoint == ledger.latest_checkpoint(db).note  # type: ignore[union-attr]
    assert archive.read("public-key.txt").decode().strip() == ledger.verifier_key(settings)
    proofs = json.loads(archive.read("proofs.json"))
    assert len(proofs["entries"]) == len(lines)
    assert [p.get("event_id") or p["event"]["event_id"] for p in proofs["accesses"]] == [
        "AL-NEIGHBOUR-e1",
        "AL-NEIGHBOUR-e2",
        "AL-NEIGHBOUR-e3",
    ]
    # These accesses were made up for the test, not ingested: the pack says it has no proof of them, and
    # that no ledger entry records them found (make_alert writes the tables, not the ledger).
    problems = evidence.verify_pack(content, ledger.verifier_key(settings))
    assert problems == [
        *(
            f"access AL-NEIGHBOUR-e{n}: no proof in the pack ({p['problem']})"
            for n, p in zip((1, 2, 3), proofs["accesses"], strict=True)
        ),
        "alert AL-NEIGHBOUR: its entries in entries.jsonl record 0 access(es) found, but investigation.json "
        "lists 3",
    ]
    assert contexts and contexts[0]["unproven"]


def test_a_tampered_evidence_pack_does_not_verify(db: Session, settings: Settings, carol: Principal) -> None:
    investigation_id = casework.open_investigation(db, ["AL-NEIGHBOUR"], carol, "Op Hedge", reason=OPENING)
    db.commit()
    _name, content = evidence.build_pack(db, settings, investigation_id, carol, lambda _c: "<p>r</p>")
    archive = zipfile.ZipFile(io.BytesIO(content))
    files = {name: archive.read(name) for name in archive.namelist()}
    files["entries.jsonl"] = files["entries.jsonl"].replace(b'"Op Hedge"', b'"Op Hodge"', 1)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as altered:
        for name, data in files.items():
            altered.writestr(name, data)
    problems = evidence.verify_pack(buffer.getvalue(), ledger.verifier_key(settings))
    assert any("is not in the signed ledger (or was altered)" in p for p in problems)
    # The same through `custodes monitor verify-pack`, which needs no installation.
    tampered = settings.home / "tampered.zip"
    tampered.write_bytes(buffer.getvalue())
    key = ledger.verifier_key(settings)
    refused = CliRunner().invoke(app, ["monitor", "verify-pack", str(tampered), "--public-key", key])
    assert refused.exit_code == 1 and "is not in the signed ledger" in refused.output
    other_key = Settings(home=settings.home.parent / "elsewhere", database_url=settings.database_url)
    other_key.home.mkdir()
    ledger.ensure_signing_key(other_key)
    assert evidence.verify_pack(content, ledger.verifier_key(other_key))[0].startswith("checkpoint.txt:")


def test_an_evidence_pack_of_ingested_accesses_proves_each_of_them(
    db: Session, settings: Settings, tmp_path: Path
) -> None:
    """End to end: accesses ingested and run through the detectors; the pack proves every one of them."""
    from custodes.monitoring import service as monitoring
    from tests.monitoring.world import event, ingest, load_world

    load_world(db)
    load_records(
        db, "staff", [{"staff_id": "CCU9", "surname": "Khan", "forenames": "Nadia", "role": "ccu"}], ACTOR
    )
    folder = tmp_path / "in"
    folder.mkdir()
    ingest(
        db, settings, folder, [event("e1", "N-NB"), event("e2", "N-NB", day=2), event("e3", "N-NB", day=5)]
    )
    summary = monitoring.run(db, settings, ACTOR)
    db.commit()
    (alert,) = [a for a in summary.alerts if a.subject_id == "N-NB"]
    unit = principal(db, "CCU9")
    shown = casework.view_alert(db, settings, alert.alert_id, unit)
    assert "S1" not in shown.alert.explanation and "John Smith" not in shown.alert.explanation
    assert shown.pseudonym in shown.alert.explanation
    investigation_id = casework.open_investigation(db, [alert.alert_id], unit, reason=OPENING)
    db.commit()

    _name, content = evidence.build_pack(db, settings, investigation_id, unit, lambda _context: "<p>r</p>")
    db.commit()
    assert evidence.verify_pack(content, ledger.verifier_key(settings)) == []
    pack = settings.home / "pack.zip"
    pack.write_bytes(content)
    key = ledger.verifier_key(settings)
    accepted = CliRunner().invoke(app, ["monitor", "verify-pack", str(pack), "--public-key", key])
    assert accepted.exit_code == 0, accepted.output
    archive = zipfile.ZipFile(io.BytesIO(content))
    proofs = json.loads(archive.read("proofs.json"))
    assert [p["event"]["event_id"] for p in proofs["accesses"]] == ["e1", "e2", "e3"]
    kinds = {json.loads(line)["object"]["type"] for line in archive.read("entries.jsonl").splitlines()}
    assert {"access_batch", "alert", "investigation"} <= kinds
