"""Storing an imported register: create new rows, alter changed ones, each with its ledger entry.

Every `custodes import` kind ends here once its rows are parsed and validated, so the import contract
(imports.md: new rows are `collection` entries, changed rows `alteration` entries) is kept in one place.

An alteration names each changed field and records, never the values, a keyed digest of the old and new
value (`value_digest`: HMAC-SHA-256 under a key derived from the installation's secret key, which is kept
outside the database). A plain SHA-256 would not do: the ledger is exported, and the values of a register
(dates of birth, names, postcodes) are few enough to hash every candidate and look the digests up. Columns
encrypted at rest (a member of staff's home location) get no digest at all, nor does any field when the
session carries no installation settings (no secret key): the entry then says the values were not recorded.
The other alterations that record values (agreements, a disclosure's completion, the learning register) use
`keyed_changes` / `change_record` too: no alteration's `changes` holds a plain SHA-256 of a value.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from custodes.database import SETTINGS_KEY
from custodes.kit.crypto import EncryptedFloat, EncryptedString
from custodes.kit.db import Base, utcnow
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryDraft, Op
from custodes.settings import SecretMissing, Settings

# Keys looked up per query: PostgreSQL (psycopg) takes at most 65,535 bind parameters in one statement.
KEY_CHUNK = 5000
_DIGEST_LABEL = b"custodes.ledger.value-digest.v1"
NOT_RECORDED_ENCRYPTED = "not recorded: encrypted at rest"
NOT_RECORDED_NO_KEY = "not recorded: no installation secret key"


@dataclass(frozen=True, slots=True)
class ImportSummary:
    kind: str
    created: int
    updated: int
    unchanged: int

    def __str__(self) -> str:
        return f"{self.kind}: {self.created} new, {self.updated} updated, {self.unchanged} unchanged"


def digest_key(settings: Settings) -> bytes:
    """The key of the ledger's value digests, derived from the installation's secret key (CUSTODES_SECRET_KEY
    or <home>/secret.key): never in the database or the ledger. SecretMissing if there is none."""
    return hmac.new(settings.resolved_secret_key.encode(), _DIGEST_LABEL, hashlib.sha256).digest()


def value_digest(key: bytes, kind: str, object_id: str, field: str, value: Any) -> str:
    """HMAC-SHA-256 of one value of one field of one record (`str(value)`; None is "None"). Bound to the
    record and field, so equal values elsewhere give other digests. Whoever holds the secret key and a value
    can confirm an entry's digest; the ledger alone gives nothing to guess against."""
    message = b"\x00".join(part.encode() for part in (kind, object_id, field, str(value)))
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def session_digest_key(session: Session) -> bytes | None:
    """The digest key of the installation whose session this is; None if the session carries no settings or
    the installation has no secret key (values are then not recorded, never digested without a key)."""
    settings = session.info.get(SETTINGS_KEY)
    if settings is None:
        return None
    try:
        return digest_key(settings)
    except SecretMissing:
        return None


def _encrypted(row: Any, name: str) -> bool:
    table = getattr(type(row), "__table__", None)
    column = None if table is None else table.columns.get(name)
    return column is not None and isinstance(column.type, (EncryptedString, EncryptedFloat))


def change_record(
    key: bytes | None, kind: str, object_id: str, field: str, old: Any, new: Any, *, encrypted: bool = False
) -> dict[str, str]:
    """One field's entry in an alteration's `changes`: keyed digests of the old and new value, or why the
    values are not recorded."""
    if encrypted:
        return {"values": NOT_RECORDED_ENCRYPTED}
    if key is None:
        return {"values": NOT_RECORDED_NO_KEY}
    return {
        "old_hmac": value_digest(key, kind, object_id, field, old),
        "new_hmac": value_digest(key, kind, object_id, field, new),
    }


def keyed_changes(
    session: Session, row: Any, values: Mapping[str, Any], *, kind: str, object_id: str
) -> dict[str, dict[str, str]]:
    """The fields of `values` that differ from `row`, each with its `change_record` for an alteration entry
    about record `object_id` of `kind` (the entry's object type and id)."""
    key = session_digest_key(session)
    return {
        name: change_record(
            key, kind, object_id, name, getattr(row, name), value, encrypted=_encrypted(row, name)
        )
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
            changes = keyed_changes(session, row, record, kind=kind, object_id=record_id)
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
