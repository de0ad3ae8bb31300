"""Columns encrypted at rest: AES-256-GCM, a random nonce per value, the key kept outside the database.

A column declared `EncryptedString("purpose")` or `EncryptedFloat("purpose")` stores bytes; code reads and
writes plain values. The key is attached to an engine (`attach_key`, done by whoever builds the engine from
its settings), and looked up through the dialect SQLAlchemy hands the type, so two engines with different
keys never mix. There is no default key: using an encrypted column on an engine with no key raises
`KeyMissing`; a value written under another key, or altered, raises `DecryptionFailed`. NULL stays NULL.

Stored value: version byte (1), key id (4 bytes: the start of the key's SHA-256, to name the key that is
needed), nonce (12 random bytes), ciphertext and tag. The version, key id and the column's purpose are
authenticated as associated data, so a value copied into another column, or another row's column of a
different purpose, does not decrypt. Strings are padded to a multiple of 16 bytes so the stored length
does not give the value's length away.

Key ring, for rotation: a key file may hold several keys, one a line (`parse_keys`). The first encrypts
and decrypts; the later ones only decrypt, each found by the key id in a value's header (`KeyRing`). A
one-line file is a ring of one. Rotating means putting a new key first, re-encrypting every value of every
encrypted column (`encrypted_columns`, `reencrypt_column`: one transaction, by the caller), and only once
no value is under an old key (`count_by_key`) dropping the old keys. A key file can change while a process
runs: given a `stamp` (the file's modification time, say), an engine's ring is loaded again when it
changes, looked at at most once a second, and at once when a value names a key the ring lacks.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import struct
import threading
import time
import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import (
    Column,
    Engine,
    LargeBinary,
    MetaData,
    and_,
    bindparam,
    func,
    literal_column,
    select,
    tuple_,
    update,
)
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import CompileError
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import TableClause, column, table
from sqlalchemy.types import TypeDecorator

KEY_BYTES = 32
_VERSION = b"\x01"
_KEY_ID_BYTES = 4
_NONCE_BYTES = 12
_HEADER = len(_VERSION) + _KEY_ID_BYTES
_PAD_TO = 16

T = TypeVar("T")


class KeyMissing(RuntimeError):
    """No key, or an unreadable key: encrypted columns can be neither read nor written."""


class DecryptionFailed(RuntimeError):
    """A stored value does not decrypt: another key, another column's value, or altered."""


def key_problem(error: BaseException) -> KeyMissing | DecryptionFailed | None:
    """The key error behind `error`, if that is what it is: SQLAlchemy wraps one raised while a value is
    being written (binding parameters) in a StatementError."""
    cause = getattr(error, "orig", error)
    return cause if isinstance(cause, KeyMissing | DecryptionFailed) else None


# What users are told (503) when either happens: the operator's problem, not theirs.
UNREADABLE = (
    "Data encrypted at rest cannot be read: the data encryption key is missing or is not the one it was "
    "written with. Nothing was changed. Tell the system's operator (docs/security.md)."
)


def new_key_text() -> str:
    """A fresh random key, as the text of a key file (URL-safe base64 of 32 bytes)."""
    return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode("ascii")


def parse_key(text: str, source: str) -> bytes:
    """The key in a key file's text; `source` names the file in the error."""
    try:
        key = base64.urlsafe_b64decode(text.strip().encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise KeyMissing(f"{source} does not hold a data encryption key (URL-safe base64 of 32 bytes)")
    return key


def parse_keys(text: str, source: str) -> list[bytes]:
    """The keys of a key file's text, one a line, the one that encrypts first (blank lines are skipped)."""
    lines = [(number, line) for number, line in enumerate(text.splitlines(), 1) if line.strip()]
    if len(lines) <= 1:  # a one-key file is named as it always was
        return [parse_key(lines[0][1] if lines else "", source)]
    return [parse_key(line, f"line {number} of {source}") for number, line in lines]


def key_file_text(keys: Sequence[bytes]) -> str:
    """The text of a key file holding these keys, the first first."""
    return "".join(base64.urlsafe_b64encode(key).decode("ascii") + "\n" for key in keys)


def key_id(key: bytes) -> bytes:
    return hashlib.sha256(key).digest()[:_KEY_ID_BYTES]


def stored_key_id(stored: bytes) -> bytes | None:
    """The id of the key a stored value was written under, from its header (its first five bytes are
    enough); None if it is not an encrypted value of this format."""
    if len(stored) < _HEADER or stored[:1] != _VERSION:
        return None
    return bytes(stored[1:_HEADER])


def _not_under(purpose: str, stored_id: bytes, given: Sequence[bytes]) -> DecryptionFailed:
    names = ", ".join(key.hex() for key in given)
    given_text = f"the key given is {names}" if len(given) == 1 else f"the keys given are {names}"
    return DecryptionFailed(
        f"{purpose}: stored under data key {stored_id.hex()}, but {given_text} (wrong key file?)"
    )


class FieldCipher:
    """AES-256-GCM over single values, authenticated with the column's purpose."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise KeyMissing(f"a data encryption key is {KEY_BYTES} bytes, not {len(key)}")
        self._aead = AESGCM(key)
        self.key_id = key_id(key)
        self._header = _VERSION + self.key_id

    def encrypt(self, plaintext: bytes, purpose: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return self._header + nonce + self._aead.encrypt(nonce, plaintext, self._header + purpose.encode())

    def decrypt(self, stored: bytes, purpose: str) -> bytes:
        header, nonce = stored[:_HEADER], stored[_HEADER : _HEADER + _NONCE_BYTES]
        if stored_key_id(stored) is None or len(stored) < _HEADER + _NONCE_BYTES + 16:
            raise DecryptionFailed(f"{purpose}: the stored value is not an encrypted value of this format")
        if header[1:] != self.key_id:
            raise _not_under(purpose, header[1:], [self.key_id])
        try:
            return self._aead.decrypt(nonce, stored[_HEADER + _NONCE_BYTES :], header + purpose.encode())
        except InvalidTag:
            raise DecryptionFailed(f"{purpose}: the stored value does not decrypt (altered?)") from None


class KeyRing:
    """The keys of a key file: the first encrypts and decrypts; the others only decrypt the values written
    under them (until rotation has re-encrypted those), each found by the key id in the value's header."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        ciphers = [FieldCipher(key) for key in dict.fromkeys(keys)]  # a key given twice is one key
        if not ciphers:
            raise KeyMissing("a key ring needs at least one data encryption key")
        self._by_id = {cipher.key_id: cipher for cipher in ciphers}
        if len(self._by_id) != len(ciphers):  # 1 in 2^32 for two random keys; a new key is the way out
            raise KeyMissing("two different data encryption keys share a key id: replace the newer one")
        self.current = ciphers[0]
        self.key_ids = [cipher.key_id for cipher in ciphers]

    @property
    def key_id(self) -> bytes:
        return self.current.key_id

    def holds(self, stored: bytes) -> bool:
        """Whether a key of the ring is the one the value names (or the value is not of this format, when
        no other key would help)."""
        named = stored_key_id(stored)
        return named is None or named in self._by_id

    def encrypt(self, plaintext: bytes, purpose: str) -> bytes:
        return self.current.encrypt(plaintext, purpose)

    def decrypt(self, stored: bytes, purpose: str) -> bytes:
        named = stored_key_id(stored)
        if named is not None and named not in self._by_id:
            raise _not_under(purpose, named, self.key_ids)
        return self._by_id.get(named or b"", self.current).decrypt(stored, purpose)

    def reencrypt(self, stored: bytes, purpose: str) -> bytes:
        """The value written again under the current key (a fresh nonce too)."""
        return self.encrypt(self.decrypt(stored, purpose), purpose)


Keys = bytes | Sequence[bytes]
RECHECK_SECONDS = 1.0  # how often a changed key file is looked for: a stat, not a read


class _KeySource:
    """Keys given directly, or a loader called on first use (so engines that never touch an encrypted
    column need no key). With a `stamp` (a fingerprint of where the loader reads, e.g. the key file's
    modification time), the loader is called again when the stamp changes, so a running process takes up
    a rotated key file: looked at at most once a second, and at once when a value names a key not loaded."""

    def __init__(self, keys: Keys | Callable[[], Keys], stamp: Callable[[], object] | None) -> None:
        self._given = keys
        self._stamp = stamp if callable(keys) else None
        self._ring: KeyRing | None = None
        self._loaded_stamp: object = None
        self._checked_at = 0.0
        self._lock = threading.Lock()

    def ring(self, recheck: bool = False) -> KeyRing:
        with self._lock:
            if self._ring is None or self._stamp_changed(recheck):
                self._load()
            assert self._ring is not None
            return self._ring

    def encrypt(self, plaintext: bytes, purpose: str) -> bytes:
        return self.ring().encrypt(plaintext, purpose)

    def decrypt(self, stored: bytes, purpose: str) -> bytes:
        ring = self.ring()
        if not ring.holds(stored) and self._stamp is not None:  # written by a process with a newer key file
            ring = self.ring(recheck=True)
        return ring.decrypt(stored, purpose)

    def _stamp_changed(self, recheck: bool) -> bool:
        now = time.monotonic()
        if self._stamp is None or (not recheck and now - self._checked_at < RECHECK_SECONDS):
            return False
        self._checked_at = now
        return self._stamp() != self._loaded_stamp

    def _load(self) -> None:
        # The stamp is taken before the read: a change during the read is noticed at the next look.
        stamp = self._stamp() if self._stamp is not None else None
        keys = self._given() if callable(self._given) else self._given
        self._ring = KeyRing([keys] if isinstance(keys, bytes) else keys)
        self._loaded_stamp, self._checked_at = stamp, time.monotonic()


_keys: weakref.WeakKeyDictionary[Dialect, _KeySource] = weakref.WeakKeyDictionary()


def attach_key(
    engine: Engine, keys: Keys | Callable[[], Keys], stamp: Callable[[], object] | None = None
) -> None:
    """Use this key or key ring (or the keys this function returns, loaded on first use, and again when
    `stamp()` changes) for the engine's encrypted columns. Connections and sessions of the engine share its
    dialect, and so its keys."""
    _keys[engine.dialect] = _KeySource(keys, stamp)


def _source_for(bind: Engine | Connection | Dialect) -> _KeySource:
    dialect = bind if isinstance(bind, Dialect) else bind.dialect
    source = _keys.get(dialect)
    if source is None:
        raise KeyMissing(
            "no data encryption key is attached to this database engine, so encrypted columns can be "
            "neither read nor written (custodes.kit.crypto.attach_key; the application attaches the key "
            "named by its settings)"
        )
    return source


def cipher_for(bind: Engine | Connection | Dialect) -> KeyRing:
    """The key ring of an engine, connection or dialect; KeyMissing if none was attached."""
    return _source_for(bind).ring()


class _Encrypted(TypeDecorator[T], ABC):
    """Base of the encrypted column types: `purpose` (e.g. "table.column") is authenticated. Each type says
    how its values become bytes and back."""

    impl = LargeBinary
    cache_ok = True

    def __init__(self, purpose: str) -> None:
        super().__init__()
        self.purpose = purpose

    @abstractmethod
    def _encode(self, value: T) -> bytes: ...

    @abstractmethod
    def _decode(self, plaintext: bytes) -> T: ...

    def process_bind_param(self, value: T | None, dialect: Dialect) -> bytes | None:
        if value is None:
            return None
        return _source_for(dialect).encrypt(self._encode(value), self.purpose)

    def process_result_value(self, value: Any, dialect: Dialect) -> T | None:
        if value is None:
            return None
        return self._decode(_source_for(dialect).decrypt(bytes(value), self.purpose))

    def process_literal_param(self, value: T | None, dialect: Dialect) -> str:
        raise CompileError("an encrypted value cannot be rendered into SQL text: bind it as a parameter")


class EncryptedString(_Encrypted[str]):
    """A string stored encrypted (padded: the stored length says nothing finer than 16 bytes)."""

    cache_ok = True  # SQLAlchemy asks each class: `purpose` is the whole state

    def _encode(self, value: str) -> bytes:
        data = value.encode("utf-8") + b"\x80"  # ISO/IEC 7816-4 padding: unambiguous
        return data + b"\x00" * (-len(data) % _PAD_TO)

    def _decode(self, plaintext: bytes) -> str:
        return plaintext.rstrip(b"\x00")[:-1].decode("utf-8")

    @property
    def python_type(self) -> type[Any]:
        return str


class EncryptedFloat(_Encrypted[float]):
    """A float stored encrypted (8 bytes, IEEE 754: every value the same length)."""

    cache_ok = True  # SQLAlchemy asks each class: `purpose` is the whole state

    def _encode(self, value: float) -> bytes:
        return struct.pack(">d", float(value))

    def _decode(self, plaintext: bytes) -> float:
        (number,) = struct.unpack(">d", plaintext)
        return float(number)

    @property
    def python_type(self) -> type[Any]:
        return float


# --------------------------------------------------------------------------- every encrypted column at once


def encrypted_columns(metadata: MetaData) -> list[Column[Any]]:
    """Every column of the metadata's tables whose type is an encrypted one, by table and column name."""
    found = [c for t in metadata.tables.values() for c in t.columns if isinstance(c.type, _Encrypted)]
    return sorted(found, key=lambda c: (c.table.name, c.name))


def column_purpose(encrypted: Column[Any]) -> str:
    assert isinstance(encrypted.type, _Encrypted), f"{encrypted} is not an encrypted column"
    return encrypted.type.purpose


def _as_stored(encrypted: Column[Any]) -> TableClause:
    """The column's table with its primary key and the column as plain bytes: the values are read and
    written as stored, not through the encrypting type."""
    source = encrypted.table
    keys = [column(key.name, key.type) for key in source.primary_key.columns]
    if not keys:
        raise ValueError(f"{source.name} has no primary key: its encrypted values cannot be re-encrypted")
    return table(source.name, *keys, column(encrypted.name, LargeBinary()), schema=source.schema)


def count_by_key(session: Session, encrypted: Column[Any]) -> dict[bytes | None, int]:
    """How many stored values of the column are under each key id (None: not an encrypted value of this
    format), from the values' header bytes alone: nothing is decrypted and no value leaves the database."""
    stored = _as_stored(encrypted).c[encrypted.name]
    # Literal positions, not bound parameters: PostgreSQL matches the GROUP BY to the select list by text.
    header = func.substr(stored, literal_column("1"), literal_column(str(_HEADER)), type_=LargeBinary)
    rows = session.execute(select(header, func.count()).where(stored.is_not(None)).group_by(header))
    counts: dict[bytes | None, int] = {}
    for head, number in rows:
        named = stored_key_id(bytes(head))
        counts[named] = counts.get(named, 0) + number
    return counts


@dataclass(frozen=True, slots=True)
class UnreadableValue:
    """A stored value that does not decrypt, named by its column and its row's primary key."""

    column: str  # table.column
    row: tuple[tuple[str, Any], ...]  # (primary key column, value), in the key's order
    reason: str

    @property
    def table(self) -> str:
        return self.column.split(".", 1)[0]

    @property
    def row_id(self) -> str:
        """The row's primary key as text: "S07", or "1, mon" for a key of several columns."""
        return ", ".join(str(value) for _name, value in self.row)

    def __str__(self) -> str:
        where = ", ".join(f"{name} {value}" for name, value in self.row)
        return f"{self.column} of {where}: {self.reason}"


def reencrypt_column(
    session: Session,
    encrypted: Column[Any],
    ring: KeyRing,
    batch: int = 1000,
    done: Callable[[int], None] | None = None,
    unreadable: list[UnreadableValue] | None = None,
) -> int:
    """Write every stored value of the column again under the ring's current key, `batch` rows at a time in
    primary key order, calling `done(rows)` after each batch; returns how many values. It is part of the
    caller's transaction, so they are all re-encrypted or, if that rolls back, none. The caller keeps other
    writers of the table out meanwhile (PostgreSQL: a table lock), or a value changed after it was read
    here would be overwritten with the re-encryption of the one read.

    A value that does not decrypt raises DecryptionFailed naming its row's primary key; given a list
    `unreadable`, such values are written as NULL instead and listed in it (not counted): the caller
    decides whether to keep that or roll back."""
    raw = _as_stored(encrypted)
    keys = [raw.c[key.name] for key in encrypted.table.primary_key.columns]
    purpose = column_purpose(encrypted)
    rewrite = (
        update(raw)
        .where(and_(*(key == bindparam(f"key_{key.name}") for key in keys)))
        .values({encrypted.name: bindparam("sealed_value")})
    )
    total, after = 0, None
    while rows := _next_rows(session, keys, raw.c[encrypted.name], after, batch):
        written = []
        for row in rows:
            try:
                sealed: bytes | None = ring.reencrypt(bytes(row[-1]), purpose)
            except DecryptionFailed as error:
                found = UnreadableValue(
                    f"{encrypted.table.name}.{encrypted.name}",
                    tuple((key.name, row[i]) for i, key in enumerate(keys)),
                    str(error).removeprefix(f"{purpose}: "),
                )
                if unreadable is None:
                    raise DecryptionFailed(str(found)) from None
                unreadable.append(found)
                sealed = None
            else:
                total += 1
            written.append(
                {**{f"key_{key.name}": row[i] for i, key in enumerate(keys)}, "sealed_value": sealed}
            )
        session.execute(rewrite, written)
        after = tuple(rows[-1][:-1])
        if done is not None:
            done(len(rows))
    return total


def _next_rows(
    session: Session, keys: Sequence[Any], stored: Any, after: tuple[Any, ...] | None, size: int
) -> Sequence[Any]:
    """The next `size` rows holding a value, after the primary key `after` (keyset paging: no OFFSET scan)."""
    query = select(*keys, stored).where(stored.is_not(None)).order_by(*keys).limit(size)
    if after is not None:
        query = query.where(tuple_(*keys) > tuple_(*after) if len(keys) > 1 else keys[0] > after[0])
    return session.execute(query).all()
