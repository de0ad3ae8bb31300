"""Rotating the data encryption key (docs/security.md, "Encryption at rest").

`rotate` re-encrypts every value of every encrypted column under a new key, with its ledger entry, in the
caller's one transaction, and last, before the caller commits, puts the new key first in the key file,
keeping the old ones below it: a refused or failed rotation leaves the file as it was, and if the commit
fails the values are still under the old keys, which the file still holds, so everything reads. `retire`
records the retirement of the old keys, only once no stored value names one; `drop_retired_keys`, after
that has committed, removes them from the file. On PostgreSQL each holds the tables with encrypted columns
against writes for its transaction (reads go on), so no write in flight is lost or left under a retired
key. Both read and write every module's encrypted columns directly, found from the SQLAlchemy metadata:
like a migration, this works below the modules' rules and changes no value, only how it is stored (but
`rotate --clear-unreadable` clears values that do not decrypt, each an erasure in the ledger).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, select, text
from sqlalchemy.orm import Session

from custodes.database import import_all_models
from custodes.kit import crypto
from custodes.kit.db import Base
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryDraft, Op
from custodes.settings import Settings

Progress = Callable[[str, int, int], None]  # (what is happening, values done, values in all)

# PostgreSQL: rotations and retirements run one at a time under this transaction lock (SQLite: the write
# lock), so two of them never both read the key file and each write their own.
_KEY_FILE_LOCK = int.from_bytes(hashlib.sha256(b"custodes.data_key").digest()[:8], "big") >> 1


class DataKeyRefused(Exception):
    """Not done, for the reason given (which says what, if anything, was changed)."""


@dataclass(frozen=True, slots=True)
class ColumnKeys:
    """How many stored values of one encrypted column are under each key id (None: not of this format)."""

    table: str
    column: str
    counts: dict[bytes | None, int]

    @property
    def name(self) -> str:
        return f"{self.table}.{self.column}"


@dataclass(frozen=True, slots=True)
class KeyStatus:
    key_ids: list[bytes]  # the key file's keys, the one that encrypts first
    columns: list[ColumnKeys]

    def values_under(self, key: bytes | None) -> int:
        return sum(column.counts.get(key, 0) for column in self.columns)

    @property
    def total(self) -> int:
        return sum(sum(column.counts.values()) for column in self.columns)

    def values_not_under(self, keys: list[bytes]) -> list[tuple[ColumnKeys, bytes | None, int]]:
        return [
            (column, key, number)
            for column in self.columns
            for key, number in column.counts.items()
            if key not in keys
        ]

    @property
    def unreadable(self) -> list[tuple[ColumnKeys, bytes | None, int]]:
        """Values under no key of the file (or not encrypted values at all)."""
        return self.values_not_under(self.key_ids)

    @property
    def under_old_keys(self) -> list[tuple[ColumnKeys, bytes | None, int]]:
        return self.values_not_under(self.key_ids[:1])


@dataclass(frozen=True, slots=True)
class Rotation:
    key_id: bytes
    previous: list[bytes]
    values: dict[str, int]  # re-encrypted, by table.column
    cleared: list[crypto.UnreadableValue] = field(default_factory=list)  # --clear-unreadable only


def encrypted_columns() -> list[Column[Any]]:
    """Every encrypted column of every module (any column whose type is an encrypted one)."""
    import_all_models()
    return crypto.encrypted_columns(Base.metadata)


def status(session: Session, settings: Settings) -> KeyStatus:
    """The key file's key ids and how many stored values are under each, read from the values' headers:
    nothing is decrypted."""
    return _status(session, settings.data_keys())


SHOWN = 20  # unreadable values named in a refusal, at most


def rotate(
    session: Session,
    settings: Settings,
    actor: str,
    progress: Progress | None = None,
    batch: int = 1000,
    clear_unreadable: bool = False,
) -> Rotation:
    """Re-encrypt every stored value under a new key and put that key first in the key file (the old ones
    below it); one ledger entry. The file is written last, once every value has been re-encrypted, still
    before the caller commits: a refused or failed rotation leaves the file as it was, and a commit that
    fails after leaves the file holding a new key no value is under yet, besides the old ones (harmless).

    Values that do not decrypt with the key their header names (altered, damaged) refuse the rotation,
    naming each column and row; with `clear_unreadable` they are cleared (NULL) instead, with an `erasure`
    ledger entry each. Values under a key the file lacks always refuse it: the key is to be found."""
    _one_at_a_time(session)
    _hold_writers(session)
    keys = settings.data_keys()
    path = settings.resolved_data_key_file
    before = _status(session, keys)
    missing = [found for found in before.unreadable if found[1] is not None or not clear_unreadable]
    if missing:
        raise DataKeyRefused(
            f"Not rotated: some stored values are under no key of {path} — {describe(missing)}. Add the key "
            "they were written with to the file (a line of its own) and rotate again. Nothing was changed."
        )
    new_keys = [_new_key(keys), *keys]
    ring = crypto.KeyRing(new_keys)
    unreadable: list[crypto.UnreadableValue] = []
    values = _reencrypt_all(session, ring, before.total, progress, batch, unreadable)
    if unreadable and not clear_unreadable:  # the caller rolls back: no value is changed
        raise DataKeyRefused(
            f"Not rotated: {_count(len(unreadable))} not decrypt with the keys of {path} — "
            f"{_name_rows(unreadable)}. Restore them from a database backup, or run "
            "`custodes data-key rotate --clear-unreadable` to clear just those values (recorded as erasures "
            "in the ledger; the staff import restores home locations). Nothing was changed: the key file "
            "and every stored value are as they were."
        )
    for value in unreadable:
        _record_cleared(session, actor, value)
    rotation = Rotation(ring.key_id, before.key_ids, values, unreadable)
    detail: dict[str, Any] = {"previous_keys": _hex(rotation.previous), "values": values}
    if unreadable:
        detail["cleared"] = {value.column: _per_column(unreadable, value.column) for value in unreadable}
    _record(session, actor, rotation.key_id, "rotated", **detail)
    try:
        settings.write_data_keys(new_keys)  # the old keys stay below: if the commit fails, all still reads
    except OSError as error:
        raise DataKeyRefused(
            f"Not rotated: the key file {path} could not be replaced ({error}). Nothing was changed: the key "
            "file and every stored value are as they were. Make its folder writable by this user (a new "
            "file is written beside it and renamed over it) and rotate again."
        ) from error
    return rotation


def retire(session: Session, settings: Settings, actor: str) -> list[bytes]:
    """Record the retirement of every key but the first of the key file, if no stored value is under one;
    the key ids to retire (none if the file holds one key). DataKeyRefused, naming the values, otherwise.

    The key file is not changed here: once the caller has committed, `drop_retired_keys` (in a transaction
    of its own) removes them from it. A failure between the two leaves the file holding the old keys, which
    is harmless: running `retire` again repeats both."""
    _one_at_a_time(session)
    _hold_writers(session)
    keys = settings.data_keys()
    if len(keys) == 1:
        return []
    now = _status(session, keys)
    if now.under_old_keys:
        raise DataKeyRefused(
            f"Not retired: some stored values are not under the current key {now.key_ids[0].hex()} — "
            f"{describe(now.under_old_keys)}. Run `custodes data-key rotate` to re-encrypt them, then "
            "retire again. The key file is unchanged."
        )
    _record(session, actor, now.key_ids[0], "retired", retired_keys=_hex(now.key_ids[1:]))
    return now.key_ids[1:]


def drop_retired_keys(session: Session, settings: Settings, retired: list[bytes]) -> list[bytes]:
    """Remove from the key file the keys `retire` recorded as retired (by id; never the first key), checking
    again, with writers held off, that no stored value is under one; the key ids removed. In a transaction
    of its own after `retire`'s has committed, so a rotation run in between keeps its new key."""
    _one_at_a_time(session)
    _hold_writers(session)
    keys = settings.data_keys()
    path = settings.resolved_data_key_file
    dropping = {crypto.key_id(key) for key in keys[1:]} & set(retired)
    if not dropping:
        return []
    now = _status(session, keys)
    still = [found for found in now.values_not_under([]) if found[1] in dropping]
    if still:
        raise DataKeyRefused(
            f"Not retired: some stored values were written under an old key since the check — "
            f"{describe(still)}. The ledger records the retirement, but the key file {path} still holds the "
            "old keys, so everything reads. Run `custodes data-key rotate`, then retire again."
        )
    try:
        settings.write_data_keys([key for key in keys if crypto.key_id(key) not in dropping])
    except OSError as error:
        raise DataKeyRefused(
            f"Not retired: the key file {path} could not be replaced ({error}). The ledger records the "
            "retirement, but the file still holds the old keys, so everything reads. Make its folder "
            "writable by this user and run `custodes data-key retire` again."
        ) from error
    return [key_id for key_id in now.key_ids if key_id in dropping]


def _one_at_a_time(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _KEY_FILE_LOCK})
    else:
        session.execute(select(1))  # begins the transaction: SQLite takes its write lock (BEGIN IMMEDIATE)


def _hold_writers(session: Session) -> None:
    """PostgreSQL: lock every table holding an encrypted column against writes until the transaction ends,
    waiting first for the transactions writing them now. Without it, under READ COMMITTED, a value changed
    and committed after rotation read it would be overwritten with the re-encryption of the old one, and a
    value written under an old key, committed after `retire` counted, would be left under a retired key.
    Reads go on. SQLite: the write lock taken at BEGIN IMMEDIATE already holds every writer off."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return
    quote = bind.dialect.identifier_preparer.format_table
    for table in sorted({column.table for column in encrypted_columns()}, key=lambda t: t.fullname):
        session.execute(text(f"LOCK TABLE {quote(table)} IN SHARE ROW EXCLUSIVE MODE"))


def _status(session: Session, keys: list[bytes]) -> KeyStatus:
    columns = [
        ColumnKeys(column.table.name, column.name, crypto.count_by_key(session, column))
        for column in encrypted_columns()
    ]
    return KeyStatus([crypto.key_id(key) for key in keys], columns)


def _new_key(keys: list[bytes]) -> bytes:
    """A fresh key whose id no key of the file has (two random ids clash once in 2^32)."""
    taken = {crypto.key_id(key) for key in keys}
    while True:
        key = crypto.parse_key(crypto.new_key_text(), "a new key")
        if crypto.key_id(key) not in taken:
            return key


def _reencrypt_all(
    session: Session,
    ring: crypto.KeyRing,
    total: int,
    progress: Progress | None,
    batch: int,
    unreadable: list[crypto.UnreadableValue],
) -> dict[str, int]:
    done = 0
    values: dict[str, int] = {}
    for column in encrypted_columns():
        name = f"{column.table.name}.{column.name}"

        def advance(rows: int, name: str = name) -> None:
            nonlocal done
            done += rows
            if progress is not None:
                progress(name, done, total)

        values[name] = crypto.reencrypt_column(session, column, ring, batch, advance, unreadable)
    return values


def _record(session: Session, actor: str, key: bytes, action: str, **detail: Any) -> None:
    """The ledger entry of a change to the key file: key ids only, never a key."""
    ledger.record(
        session,
        EntryDraft(
            actor=actor,
            op=Op.CONFIGURATION,
            object_type="data_key",
            object_id=key.hex(),
            detail={"action": action, **detail},
        ),
    )


def _record_cleared(session: Session, actor: str, value: crypto.UnreadableValue) -> None:
    """The erasure of one stored value that did not decrypt, cleared by `rotate --clear-unreadable`."""
    ledger.record(
        session,
        EntryDraft(
            actor=actor,
            op=Op.ERASURE,
            object_type=value.table,
            object_id=value.row_id,
            detail={
                "column": value.column,
                "reason": f"the stored value did not decrypt ({value.reason}); cleared by data-key rotate",
            },
        ),
    )


def _count(number: int) -> str:
    return f"{number} stored value does" if number == 1 else f"{number} stored values do"


def _per_column(values: list[crypto.UnreadableValue], column: str) -> int:
    return sum(1 for value in values if value.column == column)


def _name_rows(values: list[crypto.UnreadableValue]) -> str:
    named = "; ".join(str(value) for value in values[:SHOWN])
    return named + (f"; and {len(values) - SHOWN} more" if len(values) > SHOWN else "")


def _hex(keys: list[bytes]) -> list[str]:
    return [key.hex() for key in keys]


def describe(found: list[tuple[ColumnKeys, bytes | None, int]]) -> str:
    return "; ".join(
        f"{column.name}: {number} value{'s' if number != 1 else ''} "
        + (f"under key {key.hex()}" if key is not None else "not encrypted values of this format")
        for column, key, number in found
    )
