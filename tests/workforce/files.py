"""Helpers for register import tests: write a file, read it as the CLI does, store it with a service."""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from custodes.imports import KINDS
from custodes.kit.tabular import BatchRejected, SourceRow, read_rows
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter
from custodes.registers import ImportSummary

ACTOR = "system:test"


def write(folder: Path, kind: str, rows: Sequence[Mapping[str, str]], fmt: str = "csv") -> Path:
    """A CSV (with header, every column of the kind) or JSON Lines file of `rows` (missing cells empty)."""
    spec = KINDS[kind]
    columns = [*spec.columns, *(c for c in spec.optional if any(c in row for row in rows))]
    path = folder / f"{kind}-{len(list(folder.iterdir()))}.{fmt}"
    if fmt == "csv":
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(columns)
            writer.writerows([row.get(c, "") for c in columns] for row in rows)
    else:
        path.write_text("".join(json.dumps({c: row.get(c, "") for c in columns}) + "\n" for row in rows))
    return path


def read(folder: Path, kind: str, rows: Sequence[Mapping[str, str]], fmt: str = "csv") -> list[SourceRow]:
    spec = KINDS[kind]
    return read_rows(write(folder, kind, rows, fmt), spec.columns, spec.optional)


def store(db: Session, folder: Path, kind: str, rows: Sequence[Mapping[str, str]]) -> ImportSummary:
    summary = KINDS[kind].store(db, read(folder, kind, rows), ACTOR)
    db.commit()  # appends the ledger entries
    return summary


def rejected(
    db: Session, folder: Path, kind: str, rows: Sequence[Mapping[str, str]]
) -> dict[tuple[int, str], str]:
    """Store rows that must be refused; return {(line, column): problem} and check nothing was queued."""
    with pytest.raises(BatchRejected) as caught:
        KINDS[kind].store(db, read(folder, kind, rows), ACTOR)
    assert not db.new and not db.dirty, "a rejected batch must not change anything"
    found: dict[tuple[int, str], str] = {}
    for problem in caught.value.problems:
        found[(problem.line, problem.column)] = problem.problem
    return found


def entries(db: Session, object_type: str, op: str | None = None) -> list[ledger.StoredEntry]:
    return ledger.search(db, EntryFilter(op=op, object_type=object_type), limit=1000)


def count(db: Session, model: type[Any]) -> int:
    return int(db.scalar(select(func.count()).select_from(model)) or 0)


def staff(db: Session, folder: Path, *rows: tuple[str, str]) -> None:
    """Staff (id, roles) with made-up names, through the staff import (so identity holds the roles)."""
    store(
        db,
        folder,
        "staff",
        [{"staff_id": i, "surname": f"Surname{i}", "forenames": "F", "role": roles} for i, roles in rows],
    )
