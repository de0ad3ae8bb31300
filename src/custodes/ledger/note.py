"""C2SP signed notes (Ed25519) carrying C2SP tlog-checkpoints.

Follows https://c2sp.org/signed-note and golang.org/x/mod/sumdb/note byte for byte:

* key id: first 4 bytes, big-endian, of SHA-256(name || "\\n" || 0x01 || public key);
* verifier key: ``<name>+<8 hex key id>+<base64(0x01 || public key)>``;
* private key: ``PRIVATE+KEY+<name>+<8 hex key id>+<base64(0x01 || 32-byte seed)>``;
* signed note: text (ending in "\\n"), a blank line, then one or more lines
  ``— <name> <base64(key id || signature)>`` (em dash U+2014, space).

A checkpoint (https://c2sp.org/tlog-checkpoint) is a note text of an origin line,
a decimal tree size line, a base64 root hash line and optional extension lines.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = [
    "Checkpoint",
    "NoteError",
    "Signer",
    "Verifier",
    "format_checkpoint",
    "generate_signer_key",
    "key_id",
    "open_checkpoint",
    "parse_checkpoint",
]

ALG_ED25519 = 0x01
MAX_SIGNATURES = 100
"""Notes with more signature lines than this are rejected as malformed (as in Go)."""

_SIG_PREFIX = "— "
_HEX8 = re.compile(r"[0-9a-fA-F]{8}")
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")
_MAX_UINT64 = 2**64 - 1
_ROOT_SIZE = 32


class NoteError(ValueError):
    """A key, note or checkpoint is malformed, or a note fails verification."""


def _is_valid_name(name: str) -> bool:
    """Non-empty, valid UTF-8, no Unicode spaces, no '+', no control characters."""
    if not name or "+" in name or _CONTROL.search(name):
        return False
    if any(c.isspace() for c in name):
        return False
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _b64decode(text: str) -> bytes | None:
    """Strict standard base64 (RFC 4648 §4): padded, canonical, no stray characters."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error, ValueError):
        return None
    if base64.b64encode(raw).decode("ascii") != text:
        return None
    return raw


def _b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def key_id(name: str, public_key: bytes) -> int:
    """Key id of an Ed25519 ``public_key`` (32 bytes) under ``name``."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([ALG_ED25519]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def _split_key(key: str, parts: int) -> list[str] | None:
    """Split at the first ``parts - 1`` '+' signs (the base64 tail may itself contain '+')."""
    fields = key.split("+", parts - 1)
    return fields if len(fields) == parts else None


def _parse_key_fields(name: str, hex_id: str, b64: str, what: str) -> tuple[int, bytes]:
    if not _is_valid_name(name):
        raise NoteError(f"malformed {what}: invalid key name {name!r}")
    if not _HEX8.fullmatch(hex_id):
        raise NoteError(f"malformed {what}: key id must be 8 hex digits")
    raw = _b64decode(b64)
    if raw is None or not raw:
        raise NoteError(f"malformed {what}: key data is not canonical base64")
    if raw[0] != ALG_ED25519:
        raise NoteError(f"malformed {what}: unknown key algorithm {raw[0]:#04x}")
    if len(raw) != 33:
        raise NoteError(f"malformed {what}: Ed25519 key must be 32 bytes")
    return int(hex_id, 16), raw[1:]


def generate_signer_key(name: str) -> str:
    """New random Ed25519 private key string ``PRIVATE+KEY+<name>+<id>+<base64>`` for ``name``."""
    if not _is_valid_name(name):
        raise NoteError(f"invalid key name {name!r}: must be non-empty, without spaces or '+'")
    private = Ed25519PrivateKey.generate()
    seed = private.private_bytes_raw()
    kid = key_id(name, private.public_key().public_bytes_raw())
    return f"PRIVATE+KEY+{name}+{kid:08x}+{_b64encode(bytes([ALG_ED25519]) + seed)}"


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise NoteError("malformed note: text must end with a newline")
    if _CONTROL.search(text):
        raise NoteError("malformed note: text contains control characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise NoteError("malformed note: text is not valid UTF-8") from exc


class Signer:
    """Signs note texts with an Ed25519 key given as a private key string."""

    __slots__ = ("_key", "_public", "key_id", "name")

    name: str
    key_id: int

    def __init__(self, private_key: str) -> None:
        fields = _split_key(private_key, 5)
        if fields is None or fields[0] != "PRIVATE" or fields[1] != "KEY":
            raise NoteError("malformed private key: expected PRIVATE+KEY+<name>+<id>+<key>")
        kid, seed = _parse_key_fields(fields[2], fields[3], fields[4], "private key")
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        self._public = self._key.public_key().public_bytes_raw()
        if key_id(fields[2], self._public) != kid:
            raise NoteError("malformed private key: key id does not match the key")
        self.name = fields[2]
        self.key_id = kid

    def verifier_key(self) -> str:
        """The matching verifier key string ``<name>+<id>+<base64>``."""
        return f"{self.name}+{self.key_id:08x}+{_b64encode(bytes([ALG_ED25519]) + self._public)}"

    def sign(self, text: str) -> str:
        """Sign ``text`` (must end in a newline) and return the whole signed note."""
        _check_text(text)
        sig = self._key.sign(text.encode("utf-8"))
        return f"{text}\n{_SIG_PREFIX}{self.name} {_b64encode(self.key_id.to_bytes(4, 'big') + sig)}\n"

    def __repr__(self) -> str:
        return f"Signer(name={self.name!r}, key_id={self.key_id:08x})"


class Verifier:
    """Verifies signed notes against one Ed25519 verifier key."""

    __slots__ = ("_key", "key_id", "name")

    name: str
    key_id: int

    def __init__(self, verifier_key: str) -> None:
        fields = _split_key(verifier_key, 3)
        if fields is None:
            raise NoteError("malformed verifier key: expected <name>+<id>+<key>")
        kid, public = _parse_key_fields(fields[0], fields[1], fields[2], "verifier key")
        if key_id(fields[0], public) != kid:
            raise NoteError("malformed verifier key: key id does not match the key")
        try:
            self._key = Ed25519PublicKey.from_public_bytes(public)
        except ValueError as exc:
            raise NoteError("malformed verifier key: invalid Ed25519 public key") from exc
        self.name = fields[0]
        self.key_id = kid

    def verify(self, note: str) -> str:
        """Return the text of ``note`` if it carries a valid signature by this key.

        Signatures by other keys are ignored, as the spec requires; every signature
        line naming this key (name and id) must verify.

        :raises NoteError: if the note is malformed, has no signature by this key,
            or a signature by this key is invalid.
        """
        if not isinstance(note, str):
            raise NoteError("malformed note: not a string")
        if _CONTROL.search(note):
            raise NoteError("malformed note: contains control characters")
        try:
            note.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise NoteError("malformed note: not valid UTF-8") from exc
        split = note.rfind("\n\n")
        if split < 0:
            raise NoteError("malformed note: no blank line before the signatures")
        text, block = note[: split + 1], note[split + 2 :]
        if not block or not block.endswith("\n"):
            raise NoteError("malformed note: signature block must be non-empty and end with a newline")
        lines = block[:-1].split("\n")
        if len(lines) > MAX_SIGNATURES:
            raise NoteError(f"malformed note: more than {MAX_SIGNATURES} signatures")
        message = text.encode("utf-8")
        found = False
        for line in lines:
            if not line.startswith(_SIG_PREFIX):
                raise NoteError("malformed note: signature line does not start with an em dash and space")
            name, sep, b64 = line[len(_SIG_PREFIX) :].partition(" ")
            raw = _b64decode(b64) if sep else None
            if not _is_valid_name(name) or raw is None or len(raw) < 5:
                raise NoteError("malformed note: bad signature line")
            if name != self.name or int.from_bytes(raw[:4], "big") != self.key_id:
                continue
            try:
                self._key.verify(raw[4:], message)
            except InvalidSignature as exc:
                raise NoteError(f"invalid signature for key {self.name}+{self.key_id:08x}") from exc
            found = True
        if not found:
            raise NoteError(f"unknown key: note has no signature by {self.name}+{self.key_id:08x}")
        return text

    def __repr__(self) -> str:
        return f"Verifier(name={self.name!r}, key_id={self.key_id:08x})"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A C2SP tlog-checkpoint: log origin, tree size and RFC 9162 root hash."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()


def format_checkpoint(origin: str, size: int, root: bytes, extensions: Sequence[str] = ()) -> str:
    """Checkpoint note text: origin, decimal size, base64 root, then any extension lines."""
    if not origin or "\n" in origin or _CONTROL.search(origin):
        raise NoteError("invalid checkpoint origin: must be a non-empty single line")
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= _MAX_UINT64:
        raise NoteError("invalid checkpoint size: must be an integer in [0, 2**64)")
    if not isinstance(root, bytes) or len(root) != _ROOT_SIZE:
        raise NoteError(f"invalid checkpoint root: must be {_ROOT_SIZE} bytes")
    for ext in extensions:
        if not ext or "\n" in ext or _CONTROL.search(ext):
            raise NoteError("invalid checkpoint extension: must be a non-empty single line")
    return "".join(f"{line}\n" for line in (origin, str(size), _b64encode(root), *extensions))


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse checkpoint note text strictly.

    :raises NoteError: on a missing or empty line, a non-canonical decimal size,
        a root that is not canonical base64 of 32 bytes, or a missing final newline.
    """
    if not isinstance(text, str) or not text.endswith("\n"):
        raise NoteError("malformed checkpoint: text must end with a newline")
    if _CONTROL.search(text):
        raise NoteError("malformed checkpoint: contains control characters")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise NoteError("malformed checkpoint: needs origin, size and root hash lines")
    if any(not line for line in lines):
        raise NoteError("malformed checkpoint: empty line")
    origin, size_line, root_line, *extensions = lines
    if not _DECIMAL.fullmatch(size_line) or int(size_line) > _MAX_UINT64:
        raise NoteError(f"malformed checkpoint: size {size_line!r} is not a canonical decimal uint64")
    root = _b64decode(root_line)
    if root is None or len(root) != _ROOT_SIZE:
        raise NoteError(f"malformed checkpoint: root hash must be canonical base64 of {_ROOT_SIZE} bytes")
    return Checkpoint(origin=origin, size=int(size_line), root=root, extensions=tuple(extensions))


def open_checkpoint(note: str, verifier: Verifier, *, origin: str | None = None) -> Checkpoint:
    """Verify a signed checkpoint note and parse its text.

    :param origin: if given, the checkpoint's origin line must equal it.
    :raises NoteError: if verification or parsing fails, or the origin differs.
    """
    checkpoint = parse_checkpoint(verifier.verify(note))
    if origin is not None and checkpoint.origin != origin:
        raise NoteError(f"checkpoint origin {checkpoint.origin!r} is not the expected {origin!r}")
    return checkpoint
