"""registers.store_register, which every `custodes import` kind but staff and agreements ends in: what an
alteration entry records of the values, who it names, and looking up a batch of any size."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from custodes import registers
from custodes.imports import load_records

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
