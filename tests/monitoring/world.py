"""A small hand-made force for the detector tests: one searcher (S1, team T1, living at 51.2700, 0.5200,
postcode ME14 1AA, surname Smith) and a person for every rule, so each rule can be raised by one access."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from custodes.imports import load_records
from custodes.monitoring import service as monitoring
from custodes.monitoring.schemas import EVENT_COLUMNS
from custodes.settings import Settings
from custodes.workforce import service as workforce
from custodes.workforce.models import Declaration
from custodes.workforce.schemas import STAFF_COLUMNS, DeclarationForm

ACTOR = "system:test"
DAY0 = datetime(2026, 10, 5, tzinfo=UTC)  # a Monday


def _staff(staff_id: str, surname: str, forenames: str, team: str, born: str, **home: str) -> dict[str, str]:
    row = dict.fromkeys(STAFF_COLUMNS, "")
    row.update(
        staff_id=staff_id, surname=surname, forenames=forenames, role="officer", team_id=team,
        area_code="CZ", date_of_birth=born, **home,
    )  # fmt: skip
    return row


STAFF = [
    _staff(
        "S1",
        "Smith",
        "John",
        "T1",
        "1980-01-01",
        home_postcode="ME14 1AA",
        home_lat="51.2700",
        home_lon="0.5200",
    ),
    _staff(
        "S2",
        "Okafor",
        "Ada",
        "T1",
        "1985-05-05",
        home_postcode="CT1 1AA",
        home_lat="51.2800",
        home_lon="1.0800",
    ),
    _staff(
        "S3",
        "Patel",
        "Ravi",
        "T2",
        "1975-03-03",
        home_postcode="TN1 1AA",
        home_lat="51.1300",
        home_lon="0.2600",
    ),
]


def _nominal(subject_id: str, surname: str, forenames: str, **extra: str) -> dict[str, str]:
    row = {"subject_id": subject_id, "surname": surname, "forenames": forenames, "date_of_birth": "",
           "postcode": "", "lat": "", "lon": "", "flags": ""}  # fmt: skip
    row.update(extra)
    return row


NOMINALS = [
    _nominal("N-SELF", "Smith", "John", flags="staff:S1", date_of_birth="1980-01-01"),
    _nominal("N-REL", "SMITH", "Mary", postcode="ME14 1AA", lat="51.2701", lon="0.5201"),
    _nominal("N-NB", "Jones", "Alan", postcode="ME14 2BB", lat="51.2712", lon="0.5200"),  # ~133 m
    _nominal(
        "N-DECL",
        "Mac Donald",
        "Kenneth",
        date_of_birth="1970-07-07",
        postcode="TN23 4ZZ",
        lat="51.14",
        lon="0.87",
    ),
    _nominal("N-COL", "Okafor", "Ada", flags="staff:S2"),
    _nominal("N-PUB", "Grant", "Hugh", flags="public_figure", lat="51.5", lon="-0.12"),
    _nominal("N-FAR", "Smith", "Peter", postcode="CT9 1ZZ", lat="51.38", lon="1.38"),  # common surname, far
    _nominal("N-CASE", "Brown", "Lee", postcode="ME10 1AA", lat="51.34", lon="0.73"),
    _nominal("N-TEAM", "Green", "Sam", postcode="ME12 1AA", lat="51.42", lon="0.80"),
    _nominal("N-RAND", "White", "Kim", postcode="DA1 1AA", lat="51.44", lon="0.21"),
    _nominal("N-NBCASE", "Black", "Jo", postcode="ME14 1AB", lat="51.2705", lon="0.5205"),  # a neighbour…
]

CASES = [
    {
        "case_ref": "C-1",
        "kind": "investigation",
        "opened_at": "2026-09-01T00:00:00+00:00",
        "closed_at": "",
        "team_id": "T1",
        "assigned_staff": "S1",
        "subject_ids": "N-CASE;N-NBCASE",
    },
    {
        "case_ref": "C-2",
        "kind": "investigation",
        "opened_at": "2026-09-01T00:00:00+00:00",
        "closed_at": "",
        "team_id": "T1",
        "assigned_staff": "S2",
        "subject_ids": "N-TEAM",
    },
    {
        "case_ref": "C-3",
        "kind": "investigation",
        "opened_at": "2026-09-01T00:00:00+00:00",
        "closed_at": "2026-09-30T00:00:00+00:00",
        "team_id": "T2",
        "assigned_staff": "S3",
        "subject_ids": "N-RAND",
    },
]

DECLARATIONS = [
    # Declared by name and date of birth only, spelt differently from the nominal ("McDonald", "Ken").
    {
        "declaration_id": "D-1",
        "staff_id": "S1",
        "kind": "conflict_of_interest",
        "subject_id": "",
        "surname": "McDonald",
        "forenames": "K",
        "date_of_birth": "1970-07-07",
        "postcode": "",
        "relationship": "friend",
        "declared_at": "2026-01-01T00:00:00+00:00",
    },
]


# People who are or are not a searcher by name (SELF: name with date of birth or home postcode, as the gate).
LOOKALIKE_STAFF = [
    _staff(
        "S4",
        "Smith",
        "Karl",  # matched under its spelling variant, Carl
        "T2",
        "1990-02-02",
        home_postcode="TN2 5AA",
        home_lat="51.1400",
        home_lon="0.2900",
    ),
]
LOOKALIKES = [
    _nominal("N-KSMITH", "Smith", "K", date_of_birth="1990-02-02"),  # S4: Karl's initial, same birth date
    _nominal("N-HOME", "Smith", "John", postcode="me14 1aa"),  # S1: name and home postcode, no birth date
    _nominal("N-NAMESAKE", "Smith", "John", postcode="CT9 1ZZ", lat="51.38", lon="1.38"),  # S1's name only
]


def load_lookalikes(db: Session) -> None:
    load_records(db, "staff", LOOKALIKE_STAFF, ACTOR)
    load_records(db, "nominals", LOOKALIKES, ACTOR)
    db.flush()


# People declared by name alone (no record id, date of birth or postcode): S1 ticked "I don't know their
# date of birth or postcode" for Adam Thompson; S2's "R Wilson" was stored by name alone with an initial
# before the form asked for a full name.
NAME_ONLY_NOMINALS = [
    _nominal("N-ADAM", "Thompson", "Adam", date_of_birth="1985-03-04", postcode="TN1 1AA"),
    _nominal("N-ADAMJ", "THOMPSON", "Adam James", postcode="CT2 2BB"),  # the same full name, another person?
    _nominal("N-BRIAN", "Thompson", "Brian", date_of_birth="1985-03-04"),  # another forename
    _nominal("N-ROBERT", "Wilson", "Robert", date_of_birth="1970-01-01"),  # not S2's initial "R"
    _nominal("N-RW", "Wilson", "R.", date_of_birth="1971-01-01"),  # that initial as the register holds it
]


def load_name_only(db: Session) -> str:
    """NAME_ONLY_NOMINALS, S1's name-only declaration made on the form (returned: its id) and S2's old
    one, D-INITIAL."""
    load_records(db, "nominals", NAME_ONLY_NOMINALS, ACTOR)
    form = DeclarationForm(
        kind="reportable_association",
        surname="Thompson",
        forenames="Adam",
        relationship="friend",
        description="An old school friend; I hear he deals drugs.",
        name_only="yes",
    )
    declaration_id = workforce.make_declaration(db, "S1", form, actor="staff:S1")
    at = datetime(2026, 1, 1, tzinfo=UTC)
    db.add(
        Declaration(
            declaration_id="D-INITIAL", staff_id="S2", kind="conflict_of_interest", surname="Wilson",
            forenames="R", relationship="friend", declared_at=at, created_at=at, updated_at=at,
        )
    )  # fmt: skip
    db.flush()
    return declaration_id


def rosters(days: int = 10) -> list[dict[str, str]]:
    """S1 works 07:00–17:00 every day of the test fortnight."""
    rows = []
    for day in range(days):
        start = DAY0 + timedelta(days=day, hours=7)
        rows.append(
            {"staff_id": "S1", "start": start.isoformat(), "end": (start + timedelta(hours=10)).isoformat()}
        )
    return rows


def load_world(db: Session, with_rosters: bool = True) -> None:
    load_records(db, "staff", STAFF, ACTOR)
    load_records(db, "nominals", NOMINALS, ACTOR)
    load_records(db, "cases", CASES, ACTOR)
    load_records(db, "declarations", DECLARATIONS, ACTOR)
    if with_rosters:
        load_records(db, "rosters", rosters(), ACTOR)
    db.flush()


def event(event_id: str, subject: str | None, *, day: int = 0, hour: int = 10, staff: str = "S1",
          action: str = "view", case_ref: str = "", minute: int = 0) -> dict[str, str]:  # fmt: skip
    at = DAY0 + timedelta(days=day, hours=hour, minutes=minute)
    return {
        "event_id": event_id, "occurred_at": at.isoformat(), "system": "PNC", "staff_id": staff,
        "action": action, "record_type": "person", "record_id": subject or "", "subject_id": subject or "",
        "query_text": "", "case_ref": case_ref, "device_id": "D1",
    }  # fmt: skip


def write_events(folder: Path, rows: Sequence[dict[str, Any]], name: str = "events.csv") -> Path:
    path = folder / name
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=EVENT_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def ingest(db: Session, settings: Settings, folder: Path, rows: Sequence[dict[str, Any]]) -> None:
    monitoring.ingest_files(db, settings, [write_events(folder, rows)], ACTOR)
    db.commit()  # the files are published when the ingest commits
