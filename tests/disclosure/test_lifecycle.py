"""The disclosure lifecycle through the service, on SQLite and PostgreSQL: every step, refusal and record."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from custodes import registers
from custodes.agreements import service as agreements
from custodes.database import SETTINGS_KEY, Database
from custodes.disclosure import service as disclosure
from custodes.disclosure.models import Disclosure
from custodes.disclosure.schemas import CheckResult, RequestUnreadable, ReviewOutcome, Status
from custodes.identity import service as identity
from custodes.kit.db import utcnow
from custodes.kit.timefmt import london_day
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter
from custodes.settings import Settings
from tests.conftest import TEST_SECRET
from tests.disclosure.world import (
    FAR_AHEAD,
    LONG_AGO,
    make_world,
    principal,
    probation_request,
    scheme_request,
)
from tests.support.concurrency import at_once

OFFICER, AIC, SUPERVISOR, DPU, OTHER_AIC, UNTRAINED = (
    principal(s) for s in ("S1001", "S1002", "S1003", "S1004", "S1005", "S1006")
)
YY = f"{datetime.now(UTC).year % 100:02d}"


@pytest.fixture
def world(db: Session) -> Session:
    make_world(db)
    return db


def _entries(db: Session, disclosure_id: int) -> list[dict[str, object]]:
    ledger.flush_pending(db)
    rows = ledger.search(db, EntryFilter(object_type="disclosure", object_id=str(disclosure_id)), limit=1000)
    return [
        {"op": e.op, "actor": e.actor, **e.detail, "recipients": e.recipients, "why": e.justification}
        for e in reversed(rows)
    ]


def _check(db: Session, request: dict[str, object]) -> CheckResult:
    return disclosure.check(db, request, actor="system:test")


def _draft(db: Session, request: dict[str, object] | None = None) -> int:
    request = request or scheme_request()
    disclosure_id = disclosure.create_draft(db, request, OFFICER)
    disclosure.update_draft(db, disclosure_id, request, OFFICER)
    return disclosure_id


def _authorised(db: Session, request: dict[str, object] | None = None, by: object = AIC) -> int:
    disclosure_id = _draft(db, request)
    disclosure.submit(db, disclosure_id, OFFICER)
    disclosure.authorise(db, disclosure_id, by, "grounds are current")  # type: ignore[arg-type]
    return disclosure_id


def _released(db: Session, request: dict[str, object] | None = None) -> tuple[int, str]:
    disclosure_id = _authorised(db, request)
    return disclosure_id, disclosure.release(db, disclosure_id, AIC)


# --------------------------------------------------------------------------- checking


def test_a_complete_authorised_scheme_request_is_ready(world: Session) -> None:
    request = scheme_request(authorisation={"by": "S1002", "at": "2026-10-03T10:00:00Z"})
    result = _check(world, request)
    assert result.as_dict() == {"decision": "ready", "findings": []}


def test_without_authorisation_the_request_needs_action(world: Session) -> None:
    result = _check(world, scheme_request())
    assert result.decision.value == "needs_action"
    assert result.codes() == {"AUTHORISATION_MISSING"}


def test_the_subjects_own_address_is_caught_however_it_is_written(world: Session) -> None:
    items = scheme_request()["items"]
    items[1]["content"] = "Frequents the shops near 12 acacia avenue"
    result = _check(world, scheme_request(items=items))
    assert "CONTAINS_ADDRESS" in result.codes()
    assert result.decision.value == "blocked"


def test_an_item_naming_a_protected_person_is_blocked(world: Session) -> None:
    items = scheme_request()["items"]
    items[1]["content"] = "Often seen with Jane Witness outside the store"
    assert "PROTECTED_PERSON" in _check(world, scheme_request(items=items)).codes()


def test_the_people_disclosing_must_be_trained_and_unconflicted(world: Session) -> None:
    codes = _check(world, scheme_request(requested_by="S1006")).codes()
    assert "DISCLOSER_TRAINING_EXPIRED" in codes


def test_recipients_schemes_and_agreements_are_checked_against_the_registers(world: Session) -> None:
    codes = _check(world, scheme_request(recipients=["M-0001", "M-0003", "NOBODY"])).codes()
    assert {"NOT_SCHEME_MEMBER", "RECIPIENT_UNKNOWN"} <= codes
    one_off = probation_request(route="agreement", recipients=["UNI"])
    assert "AGREEMENT_NOT_IN_FORCE" in _check(world, one_off).codes()
    not_party = probation_request(route="agreement", recipients=["PROB-SE"])
    assert "AGREEMENT_MISSING" in _check(world, not_party).codes()
    to_council = probation_request(route="competent_authority", recipients=["KCC"])
    assert "RECIPIENT_NOT_COMPETENT_AUTHORITY" in _check(world, to_council).codes()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"requested_by": "NOBODY"}, "requested_by"),
        ({"subject": "N9999"}, "subject"),
        ({"route": "carrier_pigeon"}, "route"),
        (
            {"intelligence": [{"record_id": "INT-1", "recorded_at": "31/12/2025"}]},
            "intelligence.0.recorded_at",
        ),
        ({"lawful_basis": "because"}, "lawful_basis"),
        ({"colour": "blue"}, "colour"),
        ({"authorisation": {"by": "GHOST", "at": "2026-10-03T10:00:00Z"}}, "authorisation.by"),
    ],
    ids=[
        "unknown-staff",
        "unknown-subject",
        "unknown-route",
        "bad-date",
        "unknown-basis",
        "unknown-field",
        "ghost",
    ],
)
def test_bad_requests_are_refused_naming_the_field(
    world: Session, change: dict[str, object], field: str
) -> None:
    with pytest.raises(RequestUnreadable) as refused:
        _check(world, scheme_request(**change))
    assert any(problem.startswith(f"{field}:") for problem in refused.value.problems), refused.value.problems


# --------------------------------------------------------------------------- the lifecycle


def test_a_scheme_disclosure_from_draft_to_release(world: Session) -> None:
    disclosure_id, reference = _released(world)
    assert reference == f"CZ/001/{YY}"
    detail = disclosure.view(world, disclosure_id, AIC, "test")
    assert detail.summary.status == Status.RELEASED
    assert detail.summary.review_due == date.today() + timedelta(days=60)
    assert [line.recipient_id for line in detail.recipients] == ["M-0001", "M-0002"]
    steps = [step for step in _entries(world, disclosure_id) if step["op"] != "consultation"]
    assert [(s["op"], s["action"]) for s in steps] == [
        ("collection", "drafted"),
        ("alteration", "submitted"),
        ("authorisation", "authorised"),
        ("disclosure", "released"),
    ]
    released = next(s for s in steps if s["op"] == "disclosure")
    assert released["recipients"] == ["M-0001", "M-0002"]
    assert released["why"] and released["reference"] == reference
    assert released["actor"] == "staff:S1002"


def test_references_are_consecutive_per_area_and_do_not_restart_at_the_new_year(world: Session) -> None:
    first = disclosure.next_reference(world, "ZZ", datetime(2026, 12, 31, 23, 0, tzinfo=UTC))
    second = disclosure.next_reference(world, "ZZ", datetime(2027, 1, 1, 9, 0, tzinfo=UTC))
    other = disclosure.next_reference(world, "YY", datetime(2027, 1, 1, 9, 0, tzinfo=UTC))
    assert (first, second, other) == ("ZZ/001/26", "ZZ/002/27", "YY/001/27")


def test_nobody_authorises_their_own_request_and_aics_only_their_area(world: Session) -> None:
    disclosure_id = _draft(world)
    disclosure.submit(world, disclosure_id, OFFICER)
    with pytest.raises(disclosure.DisclosureError) as own:
        disclosure.authorise(world, disclosure_id, OFFICER)
    assert own.value.result is not None and "SELF_AUTHORISATION" in own.value.result.codes()
    with pytest.raises(disclosure.DisclosureError) as elsewhere:
        disclosure.authorise(world, disclosure_id, OTHER_AIC)
    assert elsewhere.value.result is not None
    assert "AUTHORISER_NOT_PERMITTED" in elsewhere.value.result.codes()
    with pytest.raises(disclosure.DisclosureError):
        disclosure.authorise(
            world, disclosure_id, SUPERVISOR
        )  # supervisors do not authorise scheme disclosures
    assert disclosure.authorisation_queue(world, OTHER_AIC) == []
    assert [row.id for row in disclosure.authorisation_queue(world, AIC)] == [disclosure_id]


def test_a_blocked_request_cannot_be_submitted_until_fixed(world: Session) -> None:
    request = scheme_request()
    request["items"][1]["content"] = "He has previous convictions for theft and lives at 12 Acacia Avenue"
    disclosure_id = _draft(world, request)
    with pytest.raises(disclosure.DisclosureError) as refused:
        disclosure.submit(world, disclosure_id, OFFICER)
    assert refused.value.result is not None
    assert {"CONTAINS_ADDRESS", "CONTAINS_PREVIOUS_CONVICTIONS"} <= refused.value.result.codes()
    disclosure.update_draft(world, disclosure_id, scheme_request(), OFFICER)
    disclosure.submit(world, disclosure_id, OFFICER)


def test_refusal_needs_reasons_and_closes_the_request(world: Session) -> None:
    disclosure_id = _draft(world)
    disclosure.submit(world, disclosure_id, OFFICER)
    with pytest.raises(disclosure.DisclosureError):
        disclosure.refuse(world, disclosure_id, AIC, "  ")
    disclosure.refuse(world, disclosure_id, AIC, "Intelligence is single-source; corroborate first.")
    detail = disclosure.view(world, disclosure_id, OFFICER, "test")
    assert detail.summary.status == Status.REFUSED
    assert detail.refusal_reason == "Intelligence is single-source; corroborate first."
    with pytest.raises(disclosure.DisclosureError):
        disclosure.release(world, disclosure_id, AIC)


def test_release_records_undertakings_collected_at_the_counter(world: Session) -> None:
    world.execute(
        __import__("sqlalchemy").text(
            "UPDATE scheme_member SET undertaking_signed_on = NULL WHERE member_id = 'M-0002'"
        )
    )
    disclosure_id = _draft(world)
    disclosure.submit(world, disclosure_id, OFFICER)
    disclosure.authorise(world, disclosure_id, AIC)
    with pytest.raises(disclosure.DisclosureError) as missing:
        disclosure.release(world, disclosure_id, AIC)
    assert missing.value.result is not None and missing.value.result.codes() == {"UNDERTAKING_MISSING"}
    disclosure.release(world, disclosure_id, AIC, {"M-0002": date.today()})
    lines = {line.recipient_id: line for line in disclosure.view(world, disclosure_id, AIC, "t").recipients}
    assert lines["M-0002"].undertaking_signed_on == date.today()


def test_only_the_requester_the_authoriser_or_the_dpu_release(world: Session) -> None:
    disclosure_id = _authorised(world)
    for outsider in (UNTRAINED, OTHER_AIC):
        with pytest.raises(disclosure.DisclosureError, match="Only the requesting officer, the authoriser"):
            disclosure.release(world, disclosure_id, outsider)
    assert disclosure.release(world, disclosure_id, DPU).startswith("CZ/")


@pytest.mark.parametrize(
    ("undertakings", "message"),
    [
        ({"M-0002": date.today() + timedelta(days=3)}, "a future day"),
        ({"M-9999": date.today()}, "M-9999 is not a recipient of this disclosure"),
        ({"": date.today()}, r"\(blank\) is not a recipient"),
    ],
)
def test_undertakings_at_release_are_checked(
    world: Session, undertakings: dict[str, date], message: str
) -> None:
    disclosure_id = _authorised(world)
    with pytest.raises(disclosure.DisclosureError, match=message):
        disclosure.release(world, disclosure_id, AIC, undertakings)


def test_refusing_is_deciding_with_the_authoriser_rules(world: Session) -> None:
    disclosure_id = _draft(world)
    disclosure.submit(world, disclosure_id, OFFICER)
    for outsider in (OTHER_AIC, UNTRAINED):  # another area's AIC; someone who may not authorise
        with pytest.raises(disclosure.DisclosureError, match="You may not decide this request"):
            disclosure.refuse(world, disclosure_id, outsider, "No.")
    disclosure.refuse(world, disclosure_id, AIC, "Intelligence is single-source.")


def test_competent_authority_relay_is_authorised_by_a_supervisor(world: Session) -> None:
    disclosure_id = _authorised(world, probation_request(), by=SUPERVISOR)
    reference = disclosure.release(world, disclosure_id, SUPERVISOR)
    assert reference.startswith("CZ/")
    detail = disclosure.view(world, disclosure_id, DPU, "test")
    assert detail.summary.review_due is None  # reviews are for scheme disclosures (K10 7.8)
    disclosure.record_receipt(world, disclosure_id, "PROB-SE", OFFICER)
    assert disclosure.view(world, disclosure_id, DPU, "t").recipients[0].receipt_at is not None


def test_an_emergency_disclosure_is_released_at_once_and_completed_afterwards(world: Session) -> None:
    request = probation_request(
        route="emergency", rationale="Threat to life: he said he would go to her house."
    )
    disclosure_id = _draft(world, request)
    reference = disclosure.release(world, disclosure_id, OFFICER)
    detail = disclosure.view(world, disclosure_id, OFFICER, "t")
    assert reference and detail.summary.completion_due is not None and detail.authorised_by is None
    assert [row.id for row in disclosure.authorisation_queue(world, SUPERVISOR)] == [disclosure_id]
    disclosure.authorise(world, disclosure_id, SUPERVISOR, "justified: threat to life")
    assert disclosure.view(world, disclosure_id, OFFICER, "t").authorised_by == "S1003"


@pytest.mark.parametrize(
    ("changes", "missing"),
    [
        ({"rationale": ""}, "why (the rationale)"),
        ({"items": []}, "what is disclosed (an item)"),
    ],
)
def test_an_emergency_release_needs_what_and_why_recorded_at_the_time(
    world: Session, changes: dict[str, object], missing: str
) -> None:
    request = {**probation_request(route="emergency", rationale="Threat to life."), **changes}
    disclosure_id = _draft(world, request)
    with pytest.raises(disclosure.DisclosureError, match=missing.replace("(", r"\(").replace(")", r"\)")):
        disclosure.release(world, disclosure_id, OFFICER)


def test_reviews_retain_or_withdraw_with_notices(world: Session) -> None:
    kept, _ = _released(world)
    withdrawn, _ = _released(world, scheme_request(exclusion_notice=True))
    assert disclosure.view(world, withdrawn, AIC, "t").summary.review_due == date.today() + timedelta(
        days=120
    )
    disclosure.review(world, kept, AIC, ReviewOutcome.RETAIN, "Still active in the area")
    assert disclosure.view(world, kept, AIC, "t").summary.review_due == date.today() + timedelta(days=60)
    disclosure.review(world, withdrawn, AIC, ReviewOutcome.WITHDRAW, "Moved out of the county")
    detail = disclosure.view(world, withdrawn, AIC, "t")
    assert detail.summary.status == Status.WITHDRAWN
    assert sorted((n.kind.value, n.recipient_id) for n in detail.notices) == [
        ("withdrawal", "M-0001"),
        ("withdrawal", "M-0002"),
    ]


def test_review_overdue_shows_on_a_released_disclosure(world: Session) -> None:
    disclosure_id, _ = _released(world)
    detail = disclosure.view(world, disclosure_id, AIC, "t")
    request = detail.request
    later = disclosure.evaluate(
        world, request, date.today() + timedelta(days=61), review_due=detail.summary.review_due
    )
    assert "REVIEW_OVERDUE" in later.codes()


# --------------------------------------------------------------------------- corrections


def test_a_wrong_source_record_reaches_every_disclosure_that_drew_on_it(world: Session) -> None:
    first, _ = _released(world)
    second, _ = _released(world)
    unrelated = _authorised(world, probation_request(), by=SUPERVISOR)
    disclosure.release(world, unrelated, SUPERVISOR)
    correction_id, notices = disclosure.report_correction(  # the system named as people type it
        world, DPU, description="INT-5 was about a different man", system=" genesis", record_id="INT-5 "
    )
    assert sorted((n.disclosure_id, n.recipient_id) for n in notices) == [
        (first, "M-0001"),
        (first, "M-0002"),
        (second, "M-0001"),
        (second, "M-0002"),
    ]
    assert len(disclosure.notices(world, outstanding=True)) == 4
    disclosure.acknowledge_notice(world, notices[0].id, DPU, "phoned the manager")
    assert len(disclosure.notices(world, outstanding=True)) == 3
    corrections = [e for e in _entries(world, first) if e["op"] == "correction"]
    assert corrections and corrections[0]["recipients"] == ["M-0001", "M-0002"]
    assert correction_id > 0


def test_a_wrong_intelligence_record_reaches_the_disclosures_it_was_grounds_for(world: Session) -> None:
    grounds = scheme_request()["intelligence"][0]
    cites_int7 = scheme_request(intelligence=[{**grounds, "record_id": "INT-7"}])  # items: CI-88, INT-5
    first, _ = _released(world, cites_int7)
    second, _ = _released(world)  # INT-5 twice: an item's source and the intelligence grounds
    unrelated = _authorised(world, probation_request(), by=SUPERVISOR)
    disclosure.release(world, unrelated, SUPERVISOR)

    def reached(system: str, record_id: str) -> list[tuple[int, str]]:
        _, notices = disclosure.report_correction(
            world, DPU, description=f"{record_id} was wrong", system=system, record_id=record_id
        )
        return sorted((n.disclosure_id, n.recipient_id) for n in notices)

    # INT-7 is no item's source: only the intelligence grounds reach the first disclosure
    assert reached(" genesis", "INT-7 ") == [(first, "M-0001"), (first, "M-0002")]
    # both paths match the second disclosure: one notice per recipient, one correction entry
    assert reached("Genesis", "INT-5") == [
        (first, "M-0001"),
        (first, "M-0002"),
        (second, "M-0001"),
        (second, "M-0002"),
    ]
    assert len([e for e in _entries(world, second) if e["op"] == "correction"]) == 1
    assert [e["recipients"] for e in _entries(world, first) if e["op"] == "correction"] == [
        ["M-0001", "M-0002"],
        ["M-0001", "M-0002"],
    ]
    # intelligence grounds are held on the intelligence systems: the same id elsewhere is another record
    assert reached("PNC", "INT-7") == []
    assert reached("Genesis", "int-7") == []  # a record id is as the system gives it, as for items
    identity.set_config(world, "intelligence_systems", "Athena; Genesis", DPU)
    assert reached("ATHENA", "INT-7") == [(first, "M-0001"), (first, "M-0002")]


def test_a_disclosed_fact_reaches_disclosures_carrying_the_same_words(world: Session) -> None:
    first = _authorised(world, probation_request(), by=SUPERVISOR)
    disclosure.release(world, first, SUPERVISOR)
    again = probation_request()
    again["items"][0]["source"] = {"kind": "system_record", "system": "PNC", "record_id": "PNC-9"}
    again["items"][0]["content"] = (
        "  seen with a co-defendant on 3 October in breach of a NON-association condition"
    )
    second = _authorised(world, again, by=SUPERVISOR)
    disclosure.release(world, second, SUPERVISOR)
    unrelated = _authorised(world, probation_request(items=scheme_request()["items"][1:]), by=SUPERVISOR)
    disclosure.release(world, unrelated, SUPERVISOR)
    _, notices = disclosure.report_correction(
        world, DPU, description="It was 4 October", disclosure_id=first, item_number=0
    )
    assert {n.disclosure_id for n in notices} == {first, second}


def test_a_correction_needs_a_description_and_a_target(world: Session) -> None:
    with pytest.raises(disclosure.DisclosureError):
        disclosure.report_correction(world, DPU, description="", system="Genesis", record_id="INT-5")
    with pytest.raises(disclosure.DisclosureError):
        disclosure.report_correction(world, DPU, description="wrong")


# --------------------------------------------------------------------------- retention


def test_disposal_erases_personal_data_but_the_ledger_still_verifies(
    backend: str, new_database: Callable[[str], str], tmp_path: object
) -> None:
    from pathlib import Path

    home = Path(str(tmp_path)) / "home"
    settings = Settings(home=home, database_url=new_database(backend), secret_key=TEST_SECRET)
    home.mkdir()
    ledger.ensure_signing_key(settings)
    database = Database.open(settings)
    try:
        with database.factory.begin() as session:
            make_world(session)
            released, _ = _released(session)
            held, _ = _released(session)
            disclosure.set_legal_hold(session, held, "Civil claim 2026-123", "staff:S1004")
        later = date.today() + timedelta(days=7 * 365)
        with database.factory.begin() as session:
            preview = disclosure.dispose(session, "staff:S1004", later, dry_run=True)
            assert (preview.erased, preview.held) == ([released], [held])
            report = disclosure.dispose(session, "staff:S1004", later)
            assert report.redacted_entries == 4  # drafted, submitted, authorised, released
        with database.factory.begin() as session:
            detail = disclosure.view(session, released, principal("S1004"), "t")
            assert detail.summary.status == Status.DESTROYED and detail.summary.subject_id == "(erased)"
            assert detail.request is None and detail.recipients[0].recipient_id == "M-0001"
            assert disclosure.view(session, held, principal("S1004"), "t").summary.subject_id == "N2001"
            assert ledger.search(session, EntryFilter(subject="N2001", object_id=str(released))) == []
            assert ledger.verify(session, settings).intact
    finally:
        database.close()


def test_a_legal_hold_placed_after_the_list_was_drawn_up_still_wins(
    world: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import text

    released, _ = _released(world)
    later = date.today() + timedelta(days=7 * 365)
    stale = disclosure.due_for_disposal(world, later)
    assert [row.id for row in stale[0]] == [released]
    # Another session places a hold between the list and the erasing (here, straight in the database).
    world.connection().execute(
        text("UPDATE disclosure SET legal_hold = 'Claim 2026-7' WHERE id = :i"), {"i": released}
    )
    monkeypatch.setattr(disclosure, "due_for_disposal", lambda _session, _on: stale)
    report = disclosure.dispose(world, "staff:S1004", later)
    assert (report.erased, report.held) == ([], [released])
    assert disclosure.view(world, released, DPU, "t").summary.status == Status.RELEASED


# --------------------------------------------------------------------------- concurrency


def test_two_releases_in_one_area_at_the_same_moment_get_consecutive_numbers(
    committing_sessions: sessionmaker[Session],
) -> None:
    factory = committing_sessions
    with factory.begin() as session:
        make_world(session)
        ids = [_authorised(session) for _ in range(4)]
    barrier = threading.Barrier(len(ids))
    references: list[str] = []

    def release(disclosure_id: int) -> None:
        barrier.wait()
        with factory.begin() as session:
            references.append(disclosure.release(session, disclosure_id, AIC))

    threads = [threading.Thread(target=release, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(references) == [f"CZ/{n:03d}/{YY}" for n in range(1, 5)]


def test_a_receipt_recorded_twice_at_once_is_recorded_once(
    committing_sessions: sessionmaker[Session],
) -> None:
    factory = committing_sessions
    with factory.begin() as session:
        make_world(session)
        disclosure_id = _authorised(session, probation_request(), by=SUPERVISOR)
        disclosure.release(session, disclosure_id, SUPERVISOR)
    outcome = at_once(factory, lambda s: disclosure.record_receipt(s, disclosure_id, "PROB-SE", OFFICER))
    assert outcome == [None]  # the second finds it recorded and leaves it be
    with factory() as session:
        receipts = [e for e in _entries(session, disclosure_id) if e.get("action") == "receipt recorded"]
        assert len(receipts) == 1
        history = disclosure.view(session, disclosure_id, DPU, "t").history
        assert [h.action for h in history].count("receipt recorded") == 1


def test_a_notice_acknowledged_twice_at_once_is_acknowledged_once(
    committing_sessions: sessionmaker[Session],
) -> None:
    factory = committing_sessions
    with factory.begin() as session:
        make_world(session)
        disclosure_id = _authorised(session, probation_request(), by=SUPERVISOR)
        disclosure.release(session, disclosure_id, SUPERVISOR)
        _, issued = disclosure.report_correction(
            session, DPU, description="OCC-77 was wrong", system="Athena", record_id="OCC-77"
        )
        notice_id = issued[0].id
    outcome = at_once(
        factory, lambda s: disclosure.acknowledge_notice(s, notice_id, DPU, "phoned the manager")
    )
    assert outcome == [None]
    with factory() as session:
        entries = _entries(session, disclosure_id)
        acknowledged = [e for e in entries if "acknowledged" in str(e.get("action"))]
        assert len(acknowledged) == 1
        assert disclosure.notices(session, outstanding=True) == []


def test_a_retention_rule_first_changed_twice_at_once_is_changed_twice(
    committing_sessions: sessionmaker[Session],
) -> None:
    factory = committing_sessions
    with factory.begin() as session:
        make_world(session)
    default = disclosure.RETENTION_DEFAULTS["disclosure_refused"][0]
    days = iter((400, 500))  # the first session's change, then the second's
    outcome = at_once(
        factory,
        lambda s: disclosure.set_retention_rule(s, "disclosure_refused", next(days), "", DPU.actor),
    )
    assert outcome == [None]  # the second waits for the first's rule and changes it
    with factory() as session:
        rule = {v.record_type: v for v in disclosure.retention_rules(session)}["disclosure_refused"]
        assert (rule.keep_days, rule.changed_by) == (500, DPU.actor)
        ledger.flush_pending(session)
        changes = ledger.search(session, EntryFilter(object_type="retention_rule"), limit=10)
        assert {(e.detail["old_days"], e.detail["new_days"]) for e in changes} == {
            (default, 400),
            (400, 500),
        }


# --------------------------------------------------------------------------- expiry


def _agreement_request() -> dict[str, object]:
    return probation_request(
        route="agreement",
        recipients=["KCC"],
        agreement="KMISA",
        purpose="prevention_of_crime",
        lawful_basis="CDA1998_s115",
    )


def test_a_disclosure_expires_when_its_scheme_or_agreement_ends(world: Session) -> None:
    scheme, _ = _released(world)
    withdrawn, _ = _released(world)
    disclosure.review(world, withdrawn, AIC, ReviewOutcome.WITHDRAW, "Moved away")
    under_agreement = _authorised(world, _agreement_request(), by=SUPERVISOR)
    disclosure.release(world, under_agreement, SUPERVISOR)
    relay = _authorised(world, probation_request(), by=SUPERVISOR)
    disclosure.release(world, relay, SUPERVISOR)
    today = date.today()
    assert disclosure.expire(world, "system:cli", today) == []

    agreements.set_agreement_status(world, "KMISA", "suspended", "audit", "staff:S1004")
    assert disclosure.expire(world, "system:cli", today) == []  # a suspension may be lifted
    agreements.set_agreement_status(world, "KMISA", "withdrawn", "council left", "staff:S1004")
    agreements.update_scheme(world, "SCH-01", _scheme_values(recognised="false"), "staff:S1004")
    # A withdrawal is final at once; a scheme must stay unrecognised for the grace period (30 days).
    assert disclosure.expire(world, "system:cli", today, dry_run=True) == [under_agreement]
    later = today + timedelta(days=30)
    assert disclosure.expire(world, "system:cli", later, dry_run=True) == [scheme, under_agreement]
    # A dry run changes nothing.
    assert disclosure.view(world, scheme, DPU, "t").summary.status == Status.RELEASED
    assert disclosure.expire(world, "system:cli", later) == [scheme, under_agreement]
    assert disclosure.expire(world, "system:cli", later) == []  # once

    for disclosure_id, why in ((scheme, "no longer recognised"), (under_agreement, "KMISA withdrawn")):
        detail = disclosure.view(world, disclosure_id, DPU, "t")
        assert detail.summary.status == Status.EXPIRED and detail.summary.review_due is None
        assert detail.history[-1].action == "expired" and why in (detail.history[-1].note or "")
        expired = [e for e in _entries(world, disclosure_id) if e.get("action") == "expired"]
        assert len(expired) == 1 and why in str(expired[0]["why"]) and expired[0]["actor"] == "system:cli"
    assert disclosure.view(world, withdrawn, DPU, "t").summary.status == Status.WITHDRAWN
    assert disclosure.view(world, relay, DPU, "t").summary.status == Status.RELEASED  # one-off transfer
    # Retention runs from the expiry, and an expired disclosure is destroyed at its end.
    due, _ = disclosure.due_for_disposal(world, today + timedelta(days=6 * 365))
    assert {scheme, under_agreement} <= {row.id for row in due}


def _scheme_values(*, recognised: str, name: str = "Maidstone ShopWatch") -> dict[str, str]:
    """SCH-01 as the scheme import or its edit page gives it."""
    return {
        "name": name,
        "area_code": "CZ",
        "recognised": recognised,
        "manager_name": "Pat Manager",
        "manager_vetted_until": FAR_AHEAD,
    }


def test_a_scheme_import_with_a_data_error_does_not_expire_its_disclosures(world: Session) -> None:
    """`recognised` is rewritten by every import: it must have read false for the grace period first."""
    scheme, _ = _released(world)
    today = london_day(utcnow())
    agreements.update_scheme(world, "SCH-01", _scheme_values(recognised="false"), "system:import")
    assert disclosure.expire(world, "system:cli", today) == []
    assert disclosure.expire(world, "system:cli", today + timedelta(days=29)) == []
    # Put right by the next import: nothing ever expires, however late the job runs.
    agreements.update_scheme(world, "SCH-01", _scheme_values(recognised="true"), "system:import")
    assert disclosure.expire(world, "system:cli", today + timedelta(days=400)) == []
    assert disclosure.view(world, scheme, DPU, "t").summary.status == Status.RELEASED

    # Really no longer recognised: the grace period runs from the change (a later edit to the scheme
    # starts it again: the register cannot say which field changed when, so it never ends early).
    agreements.update_scheme(world, "SCH-01", _scheme_values(recognised="false"), "system:import")
    assert disclosure.expire(world, "system:cli", today + timedelta(days=29)) == []
    identity.set_config(world, "expiry_grace_days", "7", DPU)
    assert disclosure.expire(world, "system:cli", today + timedelta(days=6)) == []
    assert disclosure.expire(world, "system:cli", today + timedelta(days=7)) == [scheme]
    detail = disclosure.view(world, scheme, DPU, "t")
    assert detail.summary.status == Status.EXPIRED and "no longer recognised" in (
        detail.history[-1].note or ""
    )


def _kmisa() -> dict[str, str]:
    """KMISA as the agreement import or its edit page gives it, without an end date."""
    return {
        "title": "Kent and Medway Information Sharing Agreement",
        "kind": "ISA",
        "parties": "KCC",
        "purposes": "prevention_of_crime;safeguarding",
        "data_categories": "name;description;offending_indication;other",
        "lawful_bases": "CDA1998_s115",
        "start_date": LONG_AGO,
        "review_date": FAR_AHEAD,
    }


def test_an_agreement_end_date_just_imported_does_not_expire_its_disclosures_at_once(world: Session) -> None:
    """An end date can be moved by an import or the edit page: ended counts from the later of the day after
    the end date and the change that set it, plus the grace period. A withdrawal is final at once."""
    under_agreement = _authorised(world, _agreement_request(), by=SUPERVISOR)
    disclosure.release(world, under_agreement, SUPERVISOR)
    today = london_day(utcnow())
    kmisa = _kmisa()
    agreements.update_agreement(world, "KMISA", {**kmisa, "end_date": "2020-06-30"}, "system:import")
    assert disclosure.expire(world, "system:cli", today) == []
    assert disclosure.expire(world, "system:cli", today + timedelta(days=29)) == []
    assert disclosure.expire(world, "system:cli", today + timedelta(days=30), dry_run=True) == [
        under_agreement
    ]
    # An end date still to come counts from the day after it.
    agreements.update_agreement(world, "KMISA", {**kmisa, "end_date": FAR_AHEAD}, "system:import")
    assert disclosure.expire(world, "system:cli", today + timedelta(days=400)) == []
    ends = today + timedelta(days=10)
    agreements.update_agreement(world, "KMISA", {**kmisa, "end_date": ends.isoformat()}, "system:import")
    assert disclosure.expire(world, "system:cli", ends + timedelta(days=30)) == []
    assert disclosure.expire(world, "system:cli", ends + timedelta(days=31)) == [under_agreement]
    expired = [e for e in _entries(world, under_agreement) if e.get("action") == "expired"]
    assert len(expired) == 1 and "KMISA ended" in str(expired[0]["why"])


def test_the_expiry_check_reads_each_agreement_once(world: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    """The end date the grace period runs from is the one read with the agreement's other facts."""
    under_agreement = _authorised(world, _agreement_request(), by=SUPERVISOR)
    disclosure.release(world, under_agreement, SUPERVISOR)
    agreements.update_agreement(world, "KMISA", {**_kmisa(), "end_date": "2020-06-30"}, "system:import")
    read: list[str] = []
    get_agreement = agreements.get_agreement

    def counted(session: Session, agreement_id: str) -> object:
        read.append(agreement_id)
        return get_agreement(session, agreement_id)

    monkeypatch.setattr(agreements, "get_agreement", counted)
    row = world.get(Disclosure, under_agreement)
    assert row is not None
    later = london_day(utcnow()) + timedelta(days=30)
    assert "KMISA ended" in (disclosure.expiry_reason(world, row, later) or "")
    assert read == ["KMISA"]


def test_expiry_locks_only_the_disclosures_it_expires(
    backend: str, committing_sessions: sessionmaker[Session]
) -> None:
    """A released disclosure that is not expiring stays free for a reviewer while the job runs."""
    if backend != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite's write lock holds off every other writer anyway")
    factory = committing_sessions
    with factory.begin() as session:
        make_world(session)
        kept = _authorised(session, _agreement_request(), by=SUPERVISOR)
        disclosure.release(session, kept, SUPERVISOR)
        ending, _ = _released(session)
        agreements.update_scheme(session, "SCH-01", _scheme_values(recognised="false"), "system:import")

    def lock_now(session: Session, disclosure_id: int) -> None:
        query = select(Disclosure.id).where(Disclosure.id == disclosure_id).with_for_update(nowait=True)
        session.execute(query).one()

    with factory() as job, factory() as reviewer:
        on = london_day(utcnow()) + timedelta(days=400)
        assert disclosure.expire(job, "system:cli", on) == [ending]
        lock_now(reviewer, kept)  # not locked by the job
        reviewer.rollback()
        with pytest.raises(OperationalError):
            lock_now(reviewer, ending)  # the one it expired is, until the job commits
        reviewer.rollback()
        job.rollback()


# --------------------------------------------------------------------------- completing an emergency record


def _emergency_at_the_time() -> dict[str, object]:
    """What an officer records in the moment: what, to whom, why; told by phone, not yet classified."""
    why = "Threat to life: he said he would go to her house."
    request = probation_request(route="emergency", rationale=why)
    item = request["items"][0]  # type: ignore[index]
    item.update(nature=None, person_category=None, verified=None)
    item["source"] = {"kind": "verbal", "system": None, "record_id": None}
    return {**request, "lawful_basis": None}


def test_an_emergency_record_is_completed_after_release_then_authorised(
    world: Session, settings: Settings
) -> None:
    world.info[SETTINGS_KEY] = settings
    disclosure_id = _draft(world, _emergency_at_the_time())
    disclosure.release(world, disclosure_id, OFFICER)
    detail = disclosure.view(world, disclosure_id, OFFICER, "t")
    assert {"LAWFUL_BASIS_MISSING", "ITEM_NOT_CLASSIFIED", "FACT_UNVERIFIED"} <= detail.result.codes()
    with pytest.raises(disclosure.DisclosureError, match="Cannot authorise"):
        disclosure.authorise(world, disclosure_id, SUPERVISOR, "justified")

    partly = disclosure.complete_emergency(world, disclosure_id, {"lawful_basis": "DPA2018_Part3"}, OFFICER)
    assert "LAWFUL_BASIS_MISSING" not in partly.codes() and "ITEM_NOT_CLASSIFIED" in partly.codes()
    verified = {"by": "S1001", "at": datetime.now(UTC).isoformat(), "method": "checked on Athena"}
    item = {
        "nature": "fact",
        "person_category": "convicted",
        "source": {"kind": "system_record", "system": "Athena", "record_id": "OCC-77"},
        "verified": verified,
        "content": "something else entirely",  # not a completion field: what was said stays as said
    }
    result = disclosure.complete_emergency(world, disclosure_id, {"items": [item]}, OFFICER)
    assert result.codes() == {"AUTHORISATION_MISSING"}
    completed = disclosure.view(world, disclosure_id, OFFICER, "t").request
    assert completed is not None and completed.items[0].content.startswith("Seen with a co-defendant")
    assert completed.rationale == "Threat to life: he said he would go to her house."

    disclosure.authorise(world, disclosure_id, SUPERVISOR, "justified: threat to life")
    assert disclosure.view(world, disclosure_id, OFFICER, "t").authorised_by == "S1003"
    entries = [e for e in _entries(world, disclosure_id) if e.get("action") == "emergency record completed"]
    assert [sorted(e["changes"]) for e in entries] == [["lawful_basis"], ["items.0"]]  # type: ignore[call-overload]
    key = registers.digest_key(settings)
    assert entries[0]["changes"] == {
        "lawful_basis": _keyed(key, disclosure_id, "lawful_basis", None, "DPA2018_Part3")
    }
    assert set(entries[1]["changes"]["items.0"]) == {"old_hmac", "new_hmac"}  # type: ignore[index]
    # The record it was checked against now carries it: a correction to that record reaches it.
    _, notices = disclosure.report_correction(
        world, DPU, description="wrong date", system="Athena", record_id="OCC-77"
    )
    assert {n.disclosure_id for n in notices} == {disclosure_id}
    with pytest.raises(disclosure.DisclosureError, match="not yet authorised"):
        disclosure.complete_emergency(world, disclosure_id, {"lawful_basis": "common_law"}, OFFICER)


def test_completing_an_emergency_record_cannot_change_what_was_disclosed(world: Session) -> None:
    sourced = probation_request(route="emergency", rationale="Threat to life.", lawful_basis=None)
    disclosure_id = _draft(world, sourced)
    disclosure.release(world, disclosure_id, OFFICER)
    other_source = {"source": {"kind": "system_record", "system": "PNC", "record_id": "PNC-1"}}
    with pytest.raises(disclosure.DisclosureError, match="that source stays"):
        disclosure.complete_emergency(world, disclosure_id, {"items": [other_source]}, OFFICER)
    with pytest.raises(disclosure.DisclosureError, match="cannot be added to or removed"):
        disclosure.complete_emergency(world, disclosure_id, {"items": [{}, {}]}, OFFICER)
    with pytest.raises(disclosure.DisclosureError, match="rationale recorded at the time"):
        disclosure.complete_emergency(world, disclosure_id, {"rationale": ""}, OFFICER)
    with pytest.raises(disclosure.DisclosureError, match="Only the officer who drafted"):
        disclosure.complete_emergency(world, disclosure_id, {"lawful_basis": "common_law"}, SUPERVISOR)
    relay = _authorised(world, probation_request(), by=SUPERVISOR)
    disclosure.release(world, relay, SUPERVISOR)
    with pytest.raises(disclosure.DisclosureError, match="emergency"):
        disclosure.complete_emergency(world, relay, {"lawful_basis": "common_law"}, OFFICER)


def test_only_its_requester_may_complete_an_emergency_record_and_only_until_it_is_authorised(
    world: Session,
) -> None:
    disclosure_id = _draft(world, _emergency_at_the_time())
    disclosure.release(world, disclosure_id, OFFICER)
    detail = disclosure.view(world, disclosure_id, OFFICER, "t")
    assert disclosure.may_complete(detail, OFFICER) and not disclosure.may_complete(detail, SUPERVISOR)
    relay = _authorised(world, probation_request(), by=SUPERVISOR)
    disclosure.release(world, relay, SUPERVISOR)
    assert not disclosure.may_complete(disclosure.view(world, relay, OFFICER, "t"), OFFICER)  # not emergency
    verified = {"by": "S1001", "at": datetime.now(UTC).isoformat(), "method": "checked on Athena"}
    item = {
        "nature": "fact",
        "person_category": "convicted",
        "source": {"kind": "system_record", "system": "Athena", "record_id": "OCC-77"},
        "verified": verified,
    }
    completion = {"lawful_basis": "DPA2018_Part3", "items": [item]}
    assert disclosure.complete_emergency(world, disclosure_id, completion, OFFICER).codes() == {
        "AUTHORISATION_MISSING"
    }
    disclosure.authorise(world, disclosure_id, SUPERVISOR, "threat to life")
    assert not disclosure.may_complete(disclosure.view(world, disclosure_id, OFFICER, "t"), OFFICER)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _keyed(key: bytes, disclosure_id: int, field: str, old: object, new: object) -> dict[str, str]:
    return {
        "old_hmac": registers.value_digest(key, "disclosure", str(disclosure_id), field, old),
        "new_hmac": registers.value_digest(key, "disclosure", str(disclosure_id), field, new),
    }


def test_what_an_emergency_record_said_at_release_is_added_to_never_rewritten(
    world: Session, settings: Settings
) -> None:
    world.info[SETTINGS_KEY] = settings
    why = "Threat to life: he said he would go to her house."
    disclosure_id = _draft(world, _emergency_at_the_time())
    disclosure.release(world, disclosure_id, OFFICER)
    for rewritten in ("He seemed dangerous.", "Threat to life.", ""):
        with pytest.raises(disclosure.DisclosureError, match="rationale recorded at the time"):
            disclosure.complete_emergency(world, disclosure_id, {"rationale": rewritten}, OFFICER)
    added = "The control room log confirms the call at 14:05."
    disclosure.complete_emergency(world, disclosure_id, {"rationale_addition": added}, OFFICER)
    now = disclosure.view(world, disclosure_id, OFFICER, "t").request
    assert now is not None and now.rationale == f"{why}\n\n{added}"
    # Adding again keeps the first addition too: it was recorded as well.
    disclosure.complete_emergency(world, disclosure_id, {"rationale": f"{why}\n\n{added} At 14:06."}, OFFICER)
    with pytest.raises(disclosure.DisclosureError, match="rationale recorded at the time"):
        disclosure.complete_emergency(world, disclosure_id, {"rationale": why}, OFFICER)

    # No lawful basis was recorded at release: one may be given, once.
    disclosure.complete_emergency(world, disclosure_id, {"lawful_basis": "DPA2018_Part3"}, OFFICER)
    disclosure.complete_emergency(
        world, disclosure_id, {"lawful_basis": "DPA2018_Part3"}, OFFICER
    )  # the same
    for other in ("common_law", ""):
        with pytest.raises(disclosure.DisclosureError, match="lawful basis recorded"):
            disclosure.complete_emergency(world, disclosure_id, {"lawful_basis": other}, OFFICER)
    completed = disclosure.view(world, disclosure_id, OFFICER, "t").request
    assert completed is not None and completed.lawful_basis == "DPA2018_Part3"

    # Each alteration entry holds keyed digests of the old and new value of each field it changed (bound to
    # this disclosure and field, keyed from the installation's secret key), never a plain SHA-256: a short
    # rationale or a lawful basis (one of a handful) would be given back by hashing the candidates.
    entries = [e for e in _entries(world, disclosure_id) if e.get("action") == "emergency record completed"]
    key = registers.digest_key(settings)
    assert [e["changes"] for e in entries] == [
        {"rationale": _keyed(key, disclosure_id, "rationale", why, f"{why}\n\n{added}")},
        {
            "rationale": _keyed(
                key, disclosure_id, "rationale", f"{why}\n\n{added}", f"{why}\n\n{added} At 14:06."
            )
        },
        {"lawful_basis": _keyed(key, disclosure_id, "lawful_basis", None, "DPA2018_Part3")},
    ]
    recorded = json.dumps([e["changes"] for e in entries])
    for value in (why, f"{why}\n\n{added}", "None", "DPA2018_Part3"):
        assert _sha(value) not in recorded, value


def test_without_a_secret_key_a_completion_names_the_fields_only(world: Session) -> None:
    """A session without the installation's settings has no key: the changed fields are named, their values
    are not digested at all."""
    disclosure_id = _draft(world, _emergency_at_the_time())
    disclosure.release(world, disclosure_id, OFFICER)
    disclosure.complete_emergency(world, disclosure_id, {"lawful_basis": "DPA2018_Part3"}, OFFICER)
    (entry,) = [e for e in _entries(world, disclosure_id) if e.get("action") == "emergency record completed"]
    assert entry["changes"] == {"lawful_basis": {"values": "not recorded: no installation secret key"}}


def test_a_lawful_basis_recorded_at_an_emergency_release_stays(world: Session) -> None:
    disclosure_id = _draft(world, probation_request(route="emergency", rationale="Threat to life."))
    disclosure.release(world, disclosure_id, OFFICER)
    with pytest.raises(disclosure.DisclosureError, match="lawful basis recorded"):
        disclosure.complete_emergency(world, disclosure_id, {"lawful_basis": "common_law"}, OFFICER)
    request = disclosure.view(world, disclosure_id, OFFICER, "t").request
    assert request is not None and request.lawful_basis == "DPA2018_Part3"


def test_an_emergency_release_takes_its_danger_warning_with_it(world: Session) -> None:
    """Items cannot be added after release, so the warning cannot be left for the completion."""
    disclosure_id = _draft(world, {**_emergency_at_the_time(), "danger_to_recipients": True})
    with pytest.raises(disclosure.DisclosureError, match="the danger warning to the recipients"):
        disclosure.release(world, disclosure_id, OFFICER)
