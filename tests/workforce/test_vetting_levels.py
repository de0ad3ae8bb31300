"""Vetting levels in one spelling (review): a file's "NPPV 3", "nppv3" or "NPPV-3" is stored as NPPV3, so a
withdrawal spelt one way ends a grant spelt another; an unknown level is refused naming the row and field;
migration 0014 normalises stored levels and records the outcome of decisions already stored."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from alembic import command
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from custodes.database import alembic_config, migrate
from custodes.imports import load_records
from custodes.kit.db import make_engine, utcnow
from custodes.workforce import service as workforce
from custodes.workforce.models import Vetting
from tests.workforce.files import rejected
from tests.workforce.test_training_compliance import ACTOR, make_force


def test_levels_are_stored_in_one_spelling_so_a_withdrawal_ends_the_grant(db: Session) -> None:
    make_force(db)
    load_records(
        db,
        "vetting",
        [
            {"staff_id": "P1", "level": "NPPV3", "status": "granted", "decided_on": "2024-01-01"},
            {"staff_id": "P1", "level": "NPPV 3", "status": "withdrawn", "decided_on": "2025-01-01"},
            {"staff_id": "P2", "level": "nppv-2", "status": "granted", "decided_on": "2024-01-01"},
            {"staff_id": "P3", "level": "sc", "status": "granted", "decided_on": "2024-01-01"},
        ],
        ACTOR,
    )
    db.commit()
    assert sorted((v.vetting_key, v.level) for v in db.scalars(select(Vetting))) == [
        ("P1/NPPV3/2024-01-01", "NPPV3"),
        ("P1/NPPV3/2025-01-01", "NPPV3"),
        ("P2/NPPV2/2024-01-01", "NPPV2"),
        ("P3/SC/2024-01-01", "SC"),
    ]
    assert not workforce.discloser_readiness(db, "P1", date(2026, 1, 1)).vetting_current
    assert workforce.discloser_readiness(db, "P2", date(2026, 1, 1)).vetting_current
    # The same decision spelt another way is the same record: re-importing it alters it.
    again = load_records(
        db,
        "vetting",
        [{"staff_id": "P2", "level": "NPPV2", "status": "lapsed", "decided_on": "2024-01-01"}],
        ACTOR,
    )
    assert (again.created, again.updated) == (0, 1)


def test_an_unknown_level_is_refused_naming_the_row_and_field(db: Session, tmp_path: Path) -> None:
    make_force(db)
    rows = [
        {"staff_id": "P1", "level": "NPPV3", "status": "granted", "decided_on": "2024-01-01"},
        {"staff_id": "P1", "level": "NPPV 4", "status": "granted", "decided_on": "2024-01-01"},
        {"staff_id": "P2", "level": "Gold", "status": "applied"},
    ]
    found = rejected(db, tmp_path, "vetting", rows)
    assert set(found) == {(3, "level"), (4, "level")}
    assert found[(3, "level")] == (
        "'NPPV 4' is not a vetting level: give one of RV, NPPV1, NPPV2, NPPV3, MV, CTC, SC, DV"
    )


def test_a_row_stored_under_an_older_spelling_is_found_by_staff_level_and_date(db: Session) -> None:
    """A row stored before levels were normalised keeps its key (earlier ledger entries name it); 0014
    normalised its level. Re-importing the decision alters that row instead of adding a second one, and an
    application stored so becomes its decision."""
    make_force(db)
    now = utcnow()
    old = {"status": "granted", "created_at": now, "updated_at": now}
    db.add(
        Vetting(
            vetting_key="P1/NPPV 3/2024-01-01",
            staff_id="P1",
            level="NPPV3",
            decided_on=date(2024, 1, 1),
            **old,
        )
    )
    db.add(
        Vetting(vetting_key="P2/nppv 2/pending", staff_id="P2", level="NPPV2", **{**old, "status": "applied"})
    )
    db.flush()
    summary = load_records(
        db,
        "vetting",
        [
            {"staff_id": "P1", "level": "NPPV 3", "status": "lapsed", "decided_on": "2024-01-01"},
            {"staff_id": "P2", "level": "NPPV2", "status": "granted", "decided_on": "2025-01-01"},
        ],
        ACTOR,
    )
    assert (summary.created, summary.updated) == (0, 2)
    assert sorted((v.vetting_key, v.status) for v in db.scalars(select(Vetting))) == [
        ("P1/NPPV 3/2024-01-01", "lapsed"),
        ("P2/NPPV2/2025-01-01", "granted"),
    ]


def test_migration_0014_records_outcomes_and_normalises_levels(
    backend: str, new_database: Callable[[str], str]
) -> None:
    engine = make_engine(new_database(backend))
    try:
        command.downgrade(alembic_config(engine), "0011")
        rows = [
            ("S1/NPPV 3/2024-01-01", "nppv 3", "granted"),
            ("S1/MV/2024-02-01", "MV", "refused"),
            ("S1/RV/2024-03-01", "RV", "lapsed"),
            ("S1/SC/pending", "s-c", "applied"),
        ]
        with engine.begin() as connection:
            for key, level, status in rows:
                connection.execute(
                    text(
                        "INSERT INTO vetting (vetting_key, staff_id, level, status, created_at, updated_at)"
                        " VALUES (:key, 'S1', :level, :status, :now, :now)"
                    ),
                    {"key": key, "level": level, "status": status, "now": "2026-01-01 00:00:00"},
                )
        migrate(engine)
        with engine.connect() as connection:
            found = connection.execute(
                text("SELECT vetting_key, level, decision FROM vetting ORDER BY vetting_key")
            )
            assert [tuple(row) for row in found] == [
                ("S1/MV/2024-02-01", "MV", "refused"),
                ("S1/NPPV 3/2024-01-01", "NPPV3", "granted"),
                ("S1/RV/2024-03-01", "RV", None),
                ("S1/SC/pending", "SC", None),
            ]
    finally:
        engine.dispose()
