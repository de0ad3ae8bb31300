"""The corrections cascade on SQLite and PostgreSQL (disclosure.md, Corrections cascade; DPA 2018 s.38(5)):
whom a correction reaches, what it records, how it stops a release carrying the corrected fact, what its
screen logs and when its text is erased."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from custodes.disclosure import service as disclosure
from custodes.imports import load_records
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter
from tests.disclosure.world import ACTOR, TODAY, make_world, principal, probation_request, scheme_request

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
        world, AIC, description="N2001 is not suspected of shop theft", disclosure_id=about_jack, item_number=1
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
        world, AIC, description="INT-5 was recorded against the wrong man", disclosure_id=about_jack,
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
        world, DPU, description="Jack Smith (N2001) was not at the scene on 3 Oct", system="Athena",
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
