"""The corrections cascade on SQLite and PostgreSQL (disclosure.md, Corrections cascade; DPA 2018 s.38(5)):
whom a correction reaches, what it records, how it stops a release carrying the corrected fact, what its
screen logs and when its text is erased."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from custodes.disclosure import service as disclosure
from custodes.disclosure.models import Correction, Notice
from custodes.identity import service as identity
from custodes.imports import load_records
from custodes.kit.db import utcnow
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter
from tests.conftest import PASSWORD, log_in, post_form
from tests.disclosure.world import ACTOR, TODAY, make_world, principal, probation_request, scheme_request
from tests.support.concurrency import at_once

OFFICER, AIC, SUPERVISOR, DPU = (principal(s) for s in ("S1001", "S1002", "S1003", "S1004"))


@pytest.fixture
def world(db: Session) -> Session:
    make_world(db)
    load_records(
        db,
        "nominals",
        [
            {
                "subject_id": "N3003",
                "surname": "Other",
                "forenames": "Olly",
                "date_of_birth": "1980-01-01",
                "postcode": "ME16 8ZZ",
                "flags": "",
                "address": "7 Pine Road, Maidstone",
            }
        ],
        ACTOR,
    )
    db.flush()
    return db


def _authorised(db: Session, request: dict[str, Any] | None = None) -> int:
    request = request or scheme_request()
    disclosure_id = disclosure.create_draft(db, request, OFFICER)
    disclosure.update_draft(db, disclosure_id, request, OFFICER)
    disclosure.submit(db, disclosure_id, OFFICER)
    authoriser = AIC if request["route"] == "partnership_scheme" else SUPERVISOR
    disclosure.authorise(db, disclosure_id, authoriser, "grounds are current")
    return disclosure_id


def _released(db: Session, request: dict[str, Any] | None = None) -> int:
    disclosure_id = _authorised(db, request)
    releaser = AIC if (request or scheme_request())["route"] == "partnership_scheme" else SUPERVISOR
    disclosure.release(db, disclosure_id, releaser)
    return disclosure_id


def _about_olly(**changes: Any) -> dict[str, Any]:
    """A scheme disclosure about N3003 in K10's standard words, drawing on records of its own."""
    request = scheme_request(
        subject="N3003",
        intelligence=[{"record_id": "INT-9", "recorded_at": str(TODAY - timedelta(days=3))}],
        **changes,
    )
    request["items"][0]["source"] = {"system": "Genesis", "record_id": "CI-99", "kind": "system_record"}
    request["items"][0]["content"] = "custody image ref CI-99"
    request["items"][1]["source"] = {"system": "Genesis", "record_id": "INT-9", "kind": "system_record"}
    return request


# --------------------------------------------------------------------------- whom a correction reaches


def test_the_same_words_about_another_subject_are_not_reached(world: Session) -> None:
    about_jack = _released(world)
    jack_again = scheme_request()  # the same words about the same man, from a record of its own
    jack_again["items"][1]["source"] = {"system": "Genesis", "record_id": "INT-6", "kind": "system_record"}
    jack_again["intelligence"] = [{"record_id": "INT-6", "recorded_at": str(TODAY - timedelta(days=2))}]
    second_about_jack = _released(world, jack_again)
    about_olly = _released(world, _about_olly())
    _, issued = disclosure.report_correction(
        world,
        AIC,
        description="N2001 is not suspected of shop theft",
        disclosure_id=about_jack,
        item_number=1,
    )
    assert {n.disclosure_id for n in issued} == {about_jack, second_about_jack}
    assert about_olly not in {n.disclosure_id for n in disclosure.notices(world)}


def test_a_corrected_items_source_still_reaches_disclosures_about_anyone(world: Session) -> None:
    about_jack = _released(world)
    shared_source = _about_olly()
    shared_source["items"][1]["source"] = {"system": "Genesis", "record_id": "INT-5", "kind": "system_record"}
    shared_source["items"][1]["content"] = "Suspected of shop theft in the town centre"
    about_olly = _released(world, shared_source)
    _, issued = disclosure.report_correction(
        world,
        AIC,
        description="INT-5 was recorded against the wrong man",
        disclosure_id=about_jack,
        item_number=1,
    )
    assert {n.disclosure_id for n in issued} == {about_jack, about_olly}


# --------------------------------------------------------------------------- what a correction records


def _correction_entries(db: Session, correction_id: int) -> list[ledger.StoredEntry]:
    ledger.flush_pending(db)
    criteria = EntryFilter(object_type="disclosure_correction", object_id=str(correction_id))
    return ledger.search(db, criteria, limit=10)


def test_a_correction_reaching_no_disclosure_is_still_in_the_ledger(world: Session) -> None:
    correction_id, issued = disclosure.report_correction(
        world,
        DPU,
        description="Jack Smith (N2001) was not at the scene on 3 Oct",
        system="Athena",
        record_id="OCC-404",
    )
    assert issued == []
    (entry,) = _correction_entries(world, correction_id)
    assert entry.op == "correction" and entry.actor == DPU.actor
    assert entry.justification == "Jack Smith (N2001) was not at the scene on 3 Oct"
    assert entry.detail["action"] == "correction recorded"
    assert entry.detail["system"] == "Athena" and entry.detail["record_id"] == "OCC-404"
    assert entry.detail["disclosures"] == []


def test_a_correction_names_the_subjects_of_the_disclosures_it_reached(world: Session) -> None:
    about_jack = _released(world)
    relay = _released(world, probation_request())
    about_olly = _released(world, _about_olly())
    correction_id, _ = disclosure.report_correction(
        world, DPU, description="INT-5 was about a different man", disclosure_id=about_jack, item_number=1
    )
    (entry,) = _correction_entries(world, correction_id)
    assert entry.detail["disclosures"] == [about_jack]
    assert entry.subjects == ["N2001"]
    correction_id, _ = disclosure.report_correction(
        world, DPU, description="the custody images were swapped", system="Genesis", record_id="CI-99"
    )
    (entry,) = _correction_entries(world, correction_id)
    assert entry.detail["disclosures"] == [about_olly] and entry.subjects == ["N3003"]
    assert relay not in entry.detail["disclosures"]


# --------------------------------------------------------------------------- releasing what was corrected


def test_a_request_authorised_before_a_correction_to_its_source_is_not_released(world: Session) -> None:
    disclosure_id = _authorised(world)
    correction_id, _ = disclosure.report_correction(
        world, DPU, description="INT-5 was about someone else", system="Genesis", record_id="INT-5"
    )
    with pytest.raises(disclosure.DisclosureError, match="Cannot release") as refused:
        disclosure.release(world, disclosure_id, AIC)
    assert refused.value.result is not None
    (finding,) = [f for f in refused.value.result.findings if f.code == "FACT_CORRECTED"]
    assert finding.where == "items.1"
    assert finding.message.startswith(
        f"Item 2: its source record Genesis INT-5 was reported inaccurate (correction {correction_id}, "
    )
    assert "after the item was verified" in finding.message and "verify it again" in finding.message
    assert disclosure.view(world, disclosure_id, DPU, "t").summary.status == "authorised"


def test_a_draft_carrying_a_corrected_fact_is_released_once_verified_again(world: Session) -> None:
    request = scheme_request()
    disclosure_id = disclosure.create_draft(world, request, OFFICER)
    disclosure.report_correction(
        world, DPU, description="INT-5 was about someone else", system=" GENESIS ", record_id="INT-5 "
    )
    assert "FACT_CORRECTED" in disclosure.update_draft(world, disclosure_id, request, OFFICER).codes()
    with pytest.raises(disclosure.DisclosureError, match="Cannot submit"):
        disclosure.submit(world, disclosure_id, OFFICER)
    checked = {"by": "S1001", "at": utcnow().isoformat(), "method": "checked the corrected INT-5"}
    request["items"][1]["verified"] = checked
    assert "FACT_CORRECTED" not in disclosure.update_draft(world, disclosure_id, request, OFFICER).codes()
    disclosure.submit(world, disclosure_id, OFFICER)
    disclosure.authorise(world, disclosure_id, AIC, "re-verified")
    assert disclosure.release(world, disclosure_id, AIC)


def test_words_corrected_about_a_subject_block_the_same_words_about_them_only(world: Session) -> None:
    released = _released(world)
    disclosure.report_correction(
        world, DPU, description="He is not suspected of shop theft", disclosure_id=released, item_number=1
    )
    jack_again = scheme_request()  # the same words about the same man, from another record
    jack_again["items"][1]["source"] = {"system": "Genesis", "record_id": "INT-6", "kind": "system_record"}
    jack_again["intelligence"] = [{"record_id": "INT-6", "recorded_at": str(TODAY - timedelta(days=2))}]
    findings = disclosure.check(world, jack_again, actor="system:test").findings
    corrected = [f for f in findings if f.code == "FACT_CORRECTED"]
    assert [f.where for f in corrected] == ["items.1"]
    assert "Item 2: its wording about this subject was reported inaccurate" in corrected[0].message
    about_olly = _authorised(world, _about_olly())  # the standard words about someone else
    assert disclosure.release(world, about_olly, AIC)
    # The released disclosure itself is not re-judged: the correction reached it by notices.
    assert "FACT_CORRECTED" not in disclosure.view(world, released, DPU, "t").result.codes()


def _correct_int5(session: Session) -> object:
    return disclosure.report_correction(
        session, DPU, description="INT-5 was about someone else", system="Genesis", record_id="INT-5"
    )


def test_a_correction_reported_while_a_release_commits_reaches_it(
    committing_sessions: sessionmaker[Session],
) -> None:
    factory = committing_sessions
    with factory.begin() as session:
        make_world(session)
        disclosure_id = _authorised(session)
    outcome = at_once(factory, lambda s: disclosure.release(s, disclosure_id, AIC), _correct_int5)
    assert outcome == [None]
    with factory() as session:  # the correction waited for the release, and found it
        reached = disclosure.notices(session, disclosure_id=disclosure_id)
        assert sorted(n.recipient_id for n in reached) == ["M-0001", "M-0002"]


def test_a_release_while_a_correction_to_its_source_commits_is_refused(
    committing_sessions: sessionmaker[Session],
) -> None:
    factory = committing_sessions
    with factory.begin() as session:
        make_world(session)
        disclosure_id = _authorised(session)
    outcome = at_once(factory, _correct_int5, lambda s: disclosure.release(s, disclosure_id, AIC))
    assert len(outcome) == 1 and isinstance(outcome[0], disclosure.DisclosureError)
    assert outcome[0].result is not None and "FACT_CORRECTED" in outcome[0].result.codes()
    with factory() as session:  # the release waited for the correction, and saw it
        assert disclosure.view(session, disclosure_id, DPU, "t").summary.status == "authorised"
        assert disclosure.notices(session, disclosure_id=disclosure_id) == []


# --------------------------------------------------------------------------- the corrections screen


@pytest.fixture
def screens(world: Session) -> Session:
    for staff_id in ("S1001", "S1002", "S1004"):
        identity.set_password(world, staff_id, PASSWORD, "system:test")
    world.commit()
    return world


def test_the_corrections_screen_is_a_consultation_of_whom_it_shows(
    client: TestClient, screens: Session
) -> None:
    about_jack = _released(screens)
    relay = _released(screens, probation_request())  # to an organisation: no person among its recipients
    disclosure.report_correction(
        screens,
        DPU,
        description="Jack Smith was not the man seen on 3 October",
        disclosure_id=about_jack,
        item_number=1,
        correct_text="It was his brother Joe Smith",
    )
    disclosure.report_correction(
        screens, DPU, description="OCC-77 was wrong", system="Athena", record_id="OCC-77"
    )
    screens.commit()
    log_in(client, "S1004")
    page = client.get("/corrections")
    assert page.status_code == 200 and "Joe Smith" in page.text
    ledger.flush_pending(screens)
    (entry, *_) = ledger.search(screens, EntryFilter(object_type="disclosure_corrections"), limit=5)
    assert entry.op == "consultation" and entry.actor == DPU.actor
    assert entry.justification == disclosure.CORRECTIONS_JUSTIFICATION
    # N2001 through the disclosure the first correction reached; the relay is about N2001 too. The scheme's
    # members are individuals (no organisation), named among the notices; Probation is not a person.
    assert entry.subjects == ["M-0001", "M-0002", "N2001"]
    assert relay in {n.disclosure_id for n in disclosure.notices(screens, outstanding=True)}


def test_a_correction_refused_on_the_screen_still_logs_what_the_page_shows(
    client: TestClient, screens: Session
) -> None:
    log_in(client, "S1004")
    before = len(ledger.search(screens, EntryFilter(object_type="disclosure_corrections"), limit=50))
    page = post_form(client, "/corrections", {"description": "", "system": "Athena", "record_id": "OCC-1"})
    assert page.status_code == 400 and "Say what is inaccurate." in page.text
    ledger.flush_pending(screens)
    assert (
        len(ledger.search(screens, EntryFilter(object_type="disclosure_corrections"), limit=50)) == before + 1
    )


# --------------------------------------------------------------------------- retention


def _texts(db: Session, correction_id: int) -> tuple[str, str | None]:
    row = db.get(Correction, correction_id, populate_existing=True)
    assert row is not None
    return row.description, row.correct_text


def test_a_corrections_text_goes_with_the_last_disclosure_it_reached(world: Session) -> None:
    first, second = _released(world), _released(world)
    correction_id, issued = disclosure.report_correction(
        world,
        DPU,
        description="Jack Smith was not the man seen; it was Joe Smith",
        disclosure_id=first,
        item_number=1,
        correct_text="The man seen was Joe Smith",
    )
    disclosure.acknowledge_notice(world, issued[0].id, DPU, "Told Mr Patel at the Corner Shop")
    unrelated_id, _ = disclosure.report_correction(
        world, DPU, description="OCC-404 named the wrong man", system="Athena", record_id="OCC-404"
    )
    disclosure.set_legal_hold(world, second, "Civil claim 2026-123", "staff:S1004")
    later = TODAY + timedelta(days=7 * 365)
    assert disclosure.dispose(world, "system:test", later).erased == [first]
    # The second disclosure still holds it: the correction is kept whole.
    assert _texts(world, correction_id) == (
        "Jack Smith was not the man seen; it was Joe Smith",
        "The man seen was Joe Smith",
    )
    assert _correction_entries(world, correction_id) != []
    assert [n.id for n in disclosure.notices(world, disclosure_id=first)] == [issued[0].id, issued[1].id]
    acknowledged = world.get(Notice, issued[0].id, populate_existing=True)
    assert acknowledged is not None and acknowledged.acknowledged_note is None  # "Told Mr Patel …" erased

    disclosure.set_legal_hold(world, second, None, "staff:S1004")
    report = disclosure.dispose(world, "system:test", later)
    assert report.erased == [second]
    assert _texts(world, correction_id) == ("(erased)", None)
    assert _correction_entries(world, correction_id) == []  # redacted: no longer found by its id
    erasure = [
        e
        for e in ledger.search(world, EntryFilter(object_type="disclosure", object_id=str(second)), limit=50)
        if e.op == "erasure"
    ]
    assert erasure[0].detail["corrections_erased"] == [correction_id]
    # A correction that reached no disclosure has no retention of its own to end with: it stays.
    assert _texts(world, unrelated_id)[0] == "OCC-404 named the wrong man"
    # What it was against stays: a new request drawing on the corrected record is still held.
    assert "FACT_CORRECTED" in disclosure.check(world, scheme_request(), actor="system:test").codes()


# --------------------------------------------------------------------------- naming the item


def _reference(db: Session, disclosure_id: int) -> str:
    return disclosure.references(db, [str(disclosure_id)])[str(disclosure_id)]


def test_a_disclosure_is_found_by_its_reference_or_its_number(world: Session) -> None:
    released = _released(world)
    reference = _reference(world, released)
    assert disclosure.find_disclosure(world, reference) == released
    assert disclosure.find_disclosure(world, f" {reference.lower()} ") == released
    assert disclosure.find_disclosure(world, str(released)) == released
    with pytest.raises(disclosure.CorrectionRefused, match="there is no disclosure 'NA/999/26'") as refused:
        disclosure.find_disclosure(world, "NA/999/26")
    assert refused.value.field == "disclosure"


def test_a_correction_names_the_field_at_fault(world: Session) -> None:
    released = _released(world)
    reference = _reference(world, released)
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"disclosure_id": released}, "item", f"Item: choose which item of {reference} is wrong."),
        ({"item_number": 1}, "disclosure", "Disclosure: name the disclosure whose item 2 is wrong"),
        ({"disclosure_id": released, "item_number": 5}, "item", f"Item: {reference} released no item 6."),
        ({"system": "Athena"}, "record_id", "Record id: name the record in Athena that is wrong."),
        ({"record_id": "OCC-1"}, "system", "Source system: name the system that holds record OCC-1."),
        ({"disclosure_id": 9999, "item_number": 0}, "disclosure", "Disclosure: there is no disclosure 9999."),
    ]
    for given, field, message in cases:
        with pytest.raises(disclosure.CorrectionRefused) as refused:
            disclosure.report_correction(world, DPU, description="wrong date", **given)
        assert (refused.value.field, str(refused.value)[: len(message)]) == (field, message), given
    draft = disclosure.create_draft(world, scheme_request(), OFFICER)
    with pytest.raises(disclosure.CorrectionRefused, match="has not been released") as refused:
        disclosure.report_correction(world, DPU, description="wrong", disclosure_id=draft, item_number=0)
    assert refused.value.field == "disclosure"
    assert disclosure.corrections(world) == []


def test_the_form_from_a_case_names_the_disclosure_and_lists_its_items(
    client: TestClient, screens: Session
) -> None:
    released = _released(screens)
    reference = _reference(screens, released)
    screens.commit()
    log_in(client, "S1004")
    case = client.get(f"/disclosures/{released}")
    assert f'href="/corrections?disclosure_id={released}"' in case.text
    page = client.get(f"/corrections?disclosure_id={released}")
    assert page.status_code == 200
    assert f"Correcting {reference}" in page.text
    assert 'type="radio" name="item" value="1"' in page.text and 'value="2"' in page.text
    assert "Item 1: photo" in page.text and "custody image ref CI-88" in page.text
    assert "Item 2: offending indication" in page.text and "It is suspected that this subject" in page.text
    # The item texts are the subject's data: shown within a consultation naming them, as the case page's is.
    ledger.flush_pending(screens)
    shown = ledger.search(screens, EntryFilter(object_type="disclosure", object_id=str(released)), limit=20)
    (entry,) = [e for e in shown if e.justification == disclosure.CORRECTION_TARGET_JUSTIFICATION]
    assert entry.op == "consultation" and entry.actor == DPU.actor and "N2001" in entry.subjects
    # The reference everyone uses leads to the same form.
    assert f"Correcting {reference}" in client.get(f"/corrections?disclosure_id={reference}").text


def test_a_correction_is_recorded_against_a_disclosure_named_by_its_reference(
    client: TestClient, screens: Session
) -> None:
    released = _released(screens)
    reference = _reference(screens, released)
    screens.commit()
    log_in(client, "S1004")
    done = post_form(
        client,
        "/corrections",
        {"description": "The arrest was on 3 April", "disclosure": reference, "item": "2"},
    )
    assert done.status_code == 303 and "Correction " in client.get(done.headers["location"]).text
    (notice, *_) = disclosure.notices(screens, disclosure_id=released)
    assert notice.correction_id is not None


def test_the_item_left_out_is_asked_for_at_its_field_with_the_items_to_choose(
    client: TestClient, screens: Session
) -> None:
    released = _released(screens)
    reference = _reference(screens, released)
    screens.commit()
    log_in(client, "S1004")
    page = post_form(
        client, "/corrections", {"description": "The arrest was on 3 April", "disclosure": reference}
    )
    assert page.status_code == 400
    assert f"Item: choose which item of {reference} is wrong." in page.text
    assert "Name the source record" not in page.text
    assert 'id="item-error"' in page.text and f"Correcting {reference}" in page.text
    assert "Item 2: offending indication" in page.text
    assert "The arrest was on 3 April" in page.text  # what was typed is kept
    assert disclosure.corrections(screens) == []


def test_an_unknown_reference_is_refused_at_the_disclosure_field(
    client: TestClient, screens: Session
) -> None:
    log_in(client, "S1004")
    page = post_form(
        client, "/corrections", {"description": "wrong date", "disclosure": "NA/999/26", "item": "1"}
    )
    assert page.status_code == 400
    assert "Disclosure: there is no disclosure &#39;NA/999/26&#39;" in page.text
    assert 'id="disclosure-error"' in page.text and 'value="NA/999/26"' in page.text
    page = post_form(
        client, "/corrections", {"description": "wrong date", "disclosure": "NA/999/26", "item": "x"}
    )
    assert page.status_code == 400 and 'id="item-error"' in page.text
