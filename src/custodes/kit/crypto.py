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
does not give the value's length away. There is one key at a time: rotation is not supported yet.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import struct
import threading
import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, TypeVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Engine, LargeBinary
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import CompileError
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


def key_id(key: bytes) -> bytes:
    return hashlib.sha256(key).digest()[:_KEY_ID_BYTES]


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
        if header[:1] != _VERSION or len(stored) < _HEADER + _NONCE_BYTES + 16:
            raise DecryptionFailed(f"{purpose}: the stored value is not an encrypted value of this format")
        if header[1:] != self.key_id:
            raise DecryptionFailed(
                f"{purpose}: stored under data key {header[1:].hex()}, but the key given is "
                f"{self.key_id.hex()} (wrong key file?)"
            )
        try:
            return self._aead.decrypt(nonce, stored[_HEADER + _NONCE_BYTES :], header + purpose.encode())
        except InvalidTag:
            raise DecryptionFailed(f"{purpose}: the stored value does not decrypt (altered?)") from None


class _KeySource:
    """A key given directly, or a loader called once, on first use (so engines that never touch an
    encrypted column need no key)."""

    def __init__(self, key: bytes | Callable[[], bytes]) -> None:
        self._given = key
        self._cipher: FieldCipher | None = None
        self._lock = threading.Lock()

    def cipher(self) -> FieldCipher:
        if self._cipher is None:
            with self._lock:
                if self._cipher is None:
                    key = self._given if isinstance(self._given, bytes) else self._given()
                    self._cipher = FieldCipher(key)
        return self._cipher


_keys: weakref.WeakKeyDictionary[Dialect, _KeySource] = weakref.WeakKeyDictionary()


def attach_key(engine: Engine, key: bytes | Callable[[], bytes]) -> None:
    """Use this key (or the key this function returns, loaded on first use) for the engine's encrypted
    columns. Connections and sessions of the engine share its dialect, and so its key."""
    _keys[engine.dialect] = _KeySource(key)


def cipher_for(bind: Engine | Connection | Dialect) -> FieldCipher:
    """The cipher of an engine, connection or dialect; KeyMissing if none was attached."""
    dialect = bind if isinstance(bind, Dialect) else bind.dialect
    source = _keys.get(dialect)
    if source is None:
        raise KeyMissing(
            "no data encryption key is attached to this database engine, so encrypted columns can be "
            "neither read nor written (custodes.kit.crypto.attach_key; the application attaches the key "
            "named by its settings)"
        )
    return source.cipher()


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
        return cipher_for(dialect).encrypt(self._encode(value), self.purpose)

    def process_result_value(self, value: Any, dialect: Dialect) -> T | None:
        if value is None:
            return None
        return self._decode(cipher_for(dialect).decrypt(bytes(value), self.purpose))

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
