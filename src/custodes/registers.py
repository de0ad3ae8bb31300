"""Storing an imported register: create new rows, alter changed ones, each with its ledger entry.

Every `custodes import` kind ends here once its rows are parsed and validated, so the import contract
(imports.md: new rows are `collection` entries, changed rows `alteration` entries) is kept in one place.
An alteration records the SHA-256 of the old and new value of each changed field, never the values.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from custodes.kit.db import Base, utcnow
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryDraft, Op

# Keys looked up per query: PostgreSQL (psycopg) takes at most 65,535 bind parameters in one statement.
KEY_CHUNK = 5000


@dataclass(frozen=True, slots=True)
class ImportSummary:
    kind: str
    created: int
    updated: int
    unchanged: int

    def __str__(self) -> str:
        return f"{self.kind}: {self.created} new, {self.updated} updated, {self.unchanged} unchanged"


def digest(value: Any) -> str:
    return hashlib.sha256(str(value).encode()).hexdigest()


def changed_fields(row: Any, values: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """The fields of `values` that differ from `row`, as old/new digests for an alteration entry."""
    return {
        name: {"old_sha256": digest(getattr(row, name)), "new_sha256": digest(value)}
        for name, value in values.items()
        if getattr(row, name) != value
    }


def rows_by_key(session: Session, model: type[Base], key: str, wanted: Sequence[Any]) -> dict[Any, Any]:
    """The rows of `model` whose `key` is one of `wanted`, by key: looked up in chunks, as one `IN (...)`
    of more than 65,535 keys is refused by PostgreSQL."""
    column = getattr(model, key)
    found: dict[Any, Any] = {}
    distinct = list(dict.fromkeys(wanted))
    for start in range(0, len(distinct), KEY_CHUNK):
        chunk = distinct[start : start + KEY_CHUNK]
        found.update(
            (getattr(row, key), row) for row in session.scalars(select(model).where(column.in_(chunk)))
        )
    return found


def store_register(
    session: Session,
    model: type[Base],
    records: Sequence[Mapping[str, Any]],
    *,
    kind: str,
    key: str,
    actor: str,
    subjects: Callable[[Mapping[str, Any]], tuple[str, ...]] = lambda record: (),
) -> ImportSummary:
    """Upsert `records` (column → value, including `key`) into `model`, recording each change.

    Models with `created_at` / `updated_at` columns have them kept. Rows not in `records` are left alone.
    An alteration's subjects are those of the row before and after (a case that no longer names someone
    is still about them).
    """
    existing = rows_by_key(session, model, key, [record[key] for record in records])
    stamps = {name for name in ("created_at", "updated_at") if hasattr(model, name)}
    now = utcnow()
    created = updated = unchanged = 0
    for record in records:
        record_id = str(record[key])
        row = existing.get(record[key])
        people = subjects(record)
        if row is None:
            times = {name: now for name in stamps}
            session.add(model(**record, **times))
            detail: dict[str, Any] = {"fields": sorted(name for name in record if name != key)}
            op, created = Op.COLLECTION, created + 1
        else:
            changes = changed_fields(row, record)
            if not changes:
                unchanged += 1
                continue
            before = subjects({name: getattr(row, name) for name in record})
            people = tuple(dict.fromkeys((*people, *before)))
            for name in changes:
                setattr(row, name, record[name])
            if "updated_at" in stamps:
                row.updated_at = now
            detail, op, updated = {"changes": changes}, Op.ALTERATION, updated + 1
        ledger.record(
            session,
            EntryDraft(
                actor=actor,
                op=op,
                object_type=kind,
                object_id=record_id,
                subjects=people,
                detail=detail,
            ),
        )
    return ImportSummary(kind, created, updated, unchanged)
