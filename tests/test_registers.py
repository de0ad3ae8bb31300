"""registers.store_register, which every `custodes import` kind but staff and agreements ends in: what an
alteration entry records of the values, who it names, and looking up a batch of any size."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from custodes import registers
from custodes.database import SETTINGS_KEY
from custodes.imports import load_records
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter
from custodes.settings import Settings

ACTOR = "system:test"
NOMINAL = {
    "subject_id": "N1",
    "surname": "Walker",
    "forenames": "Ann",
    "date_of_birth": "1980-01-02",
    "postcode": "",
    "lat": "",
    "lon": "",
    "flags": "",
}
STAFF = {
    "staff_id": "S1",
    "surname": "Mills",
    "forenames": "Tunde",
    "date_of_birth": "1980-01-02",
    "role": "officer",
    "team_id": "T1",
    "area_code": "A1",
    "line_manager_id": "",
    "home_postcode": "",
    "home_lat": "",
    "home_lon": "",
}
CASE_HEAD = {"kind": "theft", "opened_at": "2024-01-01T00:00:00+00:00", "closed_at": "", "team_id": "T1"}


def _sha256(value: object) -> str:
    return hashlib.sha256(str(value).encode()).hexdigest()


def _alterations(db: Session, object_type: str, object_id: str) -> list[ledger.StoredEntry]:
    db.commit()
    found = ledger.search(db, EntryFilter(object_type=object_type, object_id=object_id), limit=100)
    return [entry for entry in found if entry.op == "alteration"]


def test_an_alteration_records_keyed_digests_never_plain_sha256(db: Session, settings: Settings) -> None:
    """A plain SHA-256 of a date of birth (some 40,000 candidates) or a name gives the value back to anyone
    holding the ledger export; the digest is keyed with the installation's secret key, held outside it."""
    db.info[SETTINGS_KEY] = settings
    load_records(db, "nominals", [NOMINAL], ACTOR)
    load_records(db, "nominals", [{**NOMINAL, "date_of_birth": "1981-03-04", "surname": "Bell"}], ACTOR)
    (alteration,) = _alterations(db, "nominal", "N1")
    key = registers.digest_key(settings)
    changes = alteration.detail["changes"]  # with the matching columns derived from the surname
    assert {name: changes[name] for name in ("surname", "date_of_birth")} == {
        "surname": {
            "old_hmac": registers.value_digest(key, "nominal", "N1", "surname", "Walker"),
            "new_hmac": registers.value_digest(key, "nominal", "N1", "surname", "Bell"),
        },
        "date_of_birth": {
            "old_hmac": registers.value_digest(key, "nominal", "N1", "date_of_birth", "1980-01-02"),
            "new_hmac": registers.value_digest(key, "nominal", "N1", "date_of_birth", "1981-03-04"),
        },
    }
    content = json.dumps(alteration.content)
    for value in ("Walker", "Bell", "1980-01-02", "1981-03-04"):
        assert value not in content and _sha256(value) not in content, value
    # Bound to the record and field: the same value elsewhere does not give the same digest.
    assert registers.value_digest(key, "nominal", "N2", "surname", "Bell") != registers.value_digest(
        key, "nominal", "N1", "surname", "Bell"
    )


def test_without_a_secret_key_the_values_are_not_recorded(db: Session) -> None:
    """A session without the installation's settings has no key: the fields are named, their values are not
    digested at all (never a plain SHA-256 in their place)."""
    load_records(db, "nominals", [NOMINAL], ACTOR)
    load_records(db, "nominals", [{**NOMINAL, "date_of_birth": "1981-03-04"}], ACTOR)
    (alteration,) = _alterations(db, "nominal", "N1")
    assert alteration.detail["changes"] == {
        "date_of_birth": {"values": "not recorded: no installation secret key"}
    }
    assert _sha256("1981-03-04") not in json.dumps(alteration.content)


@contextmanager
def _largest_nominal_lookup(db: Session) -> Iterator[list[int]]:
    """The number of bound parameters of each SELECT from the nominal register, while in the block."""
    counts: list[int] = []
    engine = db.get_bind().engine

    def seen(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM nominal" in statement:
            counts.append(len(parameters) if parameters else 0)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield counts
    finally:
        event.remove(engine, "before_cursor_execute", seen)


def test_a_batch_is_looked_up_in_chunks(db: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    """One `IN (...)` of every key of the batch is refused by PostgreSQL past 65,535 parameters (a 70,000
    nominal file could not be imported); the keys are looked up a chunk at a time. The chunk is made small
    here so that a few rows show it."""
    monkeypatch.setattr(registers, "KEY_CHUNK", 3)
    people = [{**NOMINAL, "subject_id": f"N{i}", "surname": f"S{i}"} for i in range(8)]
    load_records(db, "nominals", people[:5], ACTOR)
    changed = [
        {**person, "forenames": "Changed"} if person["subject_id"] == "N4" else person for person in people
    ]
    with _largest_nominal_lookup(db) as counts:
        summary = load_records(db, "nominals", changed, ACTOR)
    assert (summary.created, summary.updated, summary.unchanged) == (3, 1, 4)
    assert counts and max(counts) <= 3, counts


def test_a_case_altered_to_drop_a_subject_still_names_them(db: Session) -> None:
    """Re-importing a case without N2 changes what the register says about N2: the alteration names N2 as
    well as the subjects left, so a search of the ledger for N2 (a subject access request) finds it."""
    load_records(db, "nominals", [NOMINAL, {**NOMINAL, "subject_id": "N2", "surname": "Ng"}], ACTOR)
    case = {"case_ref": "C1", **CASE_HEAD, "assigned_staff": "", "subject_ids": "N1;N2"}
    load_records(db, "cases", [case], ACTOR)
    load_records(db, "cases", [{**case, "subject_ids": "N1"}], ACTOR)
    (alteration,) = _alterations(db, "case", "C1")
    assert alteration.subjects == ["N1", "N2"]
    found = ledger.search(db, EntryFilter(subject="N2", op="alteration"), limit=10)
    assert [entry.object_id for entry in found] == ["C1"]


def test_a_nominal_whose_staff_flag_is_removed_still_names_the_member_of_staff(db: Session) -> None:
    load_records(db, "staff", [STAFF], ACTOR)
    load_records(db, "nominals", [{**NOMINAL, "flags": "staff:S1"}], ACTOR)
    load_records(db, "nominals", [NOMINAL], ACTOR)
    (alteration,) = _alterations(db, "nominal", "N1")
    assert alteration.subjects == ["N1", "S1"]
