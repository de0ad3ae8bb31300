"""The ledger's rules: appending entries with their business change, checkpoints, proofs, verification.

Appends happen when the unit of work commits (a Session `before_commit` hook), so a change and its entries
commit together or not at all, and the tree-size lock is held only for the moment of the append.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import multiprocessing
import os
import re
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    LargeBinary,
    create_engine,
    delete,
    event,
    func,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool
from sqlalchemy.sql.functions import FunctionElement

from custodes.database import SETTINGS_KEY
from custodes.kit.canonical import canonical_text
from custodes.kit.db import transaction, utcnow
from custodes.kit.files import replace_file
from custodes.kit.timefmt import rfc3339
from custodes.ledger import merkle
from custodes.ledger.models import (
    APPEND_ONLY_TABLES,
    ERA_BITS,
    LedgerCheckpoint,
    LedgerEntry,
    LedgerNode,
    LedgerRedaction,
    LedgerSubject,
    VerificationRun,
    era,
)
from custodes.ledger.note import (
    Checkpoint,
    NoteError,
    Signer,
    Verifier,
    format_checkpoint,
    generate_signer_key,
)
from custodes.ledger.note import open_checkpoint as open_signed_checkpoint
from custodes.ledger.schemas import (
    CheckpointInfo,
    EntryDraft,
    EntryFilter,
    EntryRejected,
    Fault,
    FaultKind,
    LedgerStatus,
    Op,
    StoredEntry,
    VerifyReport,
)
from custodes.settings import Settings, write_private_file

log = structlog.get_logger(__name__)

NODE_STRIDE = (
    4  # interior hashes are stored at levels 4, 8, 12, …: ~n/15 extra rows, proofs in O(log n) reads
)
CHUNK_LEVEL = 16  # verify works in aligned chunks of 2**16 entries (complete subtrees), one task each
_PARALLEL_FROM_CHUNKS = 4  # smaller logs are verified in-process, inside the caller's transaction
_PENDING = "custodes.ledger.pending"
_CANDIDATE = "custodes.ledger.frontier"
_WITNESS = "custodes.ledger.witness"
_PG_LOCK_KEY = 0x637573746F646573 & 0x7FFFFFFFFFFFFFFF  # "custodes"


class LedgerError(RuntimeError):
    """The ledger cannot do what was asked (missing key, corrupt store, bad proof request)."""


# --------------------------------------------------------------------------- recording


def record(session: Session, draft: EntryDraft) -> None:
    """Queue an entry; it is appended in the same transaction when the session commits."""
    session.info.setdefault(_PENDING, []).append(draft)


def record_consultation(
    session: Session,
    *,
    actor: str,
    object_type: str,
    object_id: str | None = None,
    subjects: tuple[str, ...] = (),
    justification: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Personal data was shown (a screen, a list, an export): a `consultation`, with why (DPA 2018 s.62)."""
    draft = EntryDraft(
        actor=actor,
        op=Op.CONSULTATION,
        object_type=object_type,
        object_id=object_id,
        subjects=subjects,
        justification=justification,
        detail=detail or {},
    )
    record(session, draft)


def record_many(session: Session, drafts: Iterable[EntryDraft]) -> None:
    session.info.setdefault(_PENDING, []).extend(drafts)


def flush_pending(session: Session) -> int:
    """Append queued entries now (still uncommitted); returns the new tree size."""
    pending: list[EntryDraft] = session.info.pop(_PENDING, [])
    connection = session.connection()
    if not pending:
        return _head(connection)[0]
    frontier = _append(connection, pending)
    session.info[_CANDIDATE] = (str(connection.engine.url), frontier)
    settings = session.info.get(SETTINGS_KEY)
    if settings is not None:
        _checkpoint_if_due(session, connection, frontier, settings)
    return frontier.size


def _checkpoint_if_due(
    session: Session, connection: Connection, frontier: _Frontier, settings: Settings
) -> None:
    """Sign the new head in the same transaction when `checkpoint_every_entries` or `_seconds` have passed.

    The append already holds the lock and knows the root, so this costs one signature; a busy writer can
    then never starve the background checkpointer of the lock (which it did on SQLite, benchmarked).
    """
    latest = _Queries(connection).rows(
        "SELECT size, issued_at, root FROM ledger_checkpoint ORDER BY seq DESC LIMIT 1"
    )
    previous: tuple[str, ...] = ()
    if latest:
        size, issued, root = latest[0]
        previous = (_previous_line(size, bytes(root)),)
        issued = datetime.fromisoformat(issued) if isinstance(issued, str) else issued
        age = (utcnow() - issued.replace(tzinfo=issued.tzinfo or UTC)).total_seconds()
        if (
            frontier.size - size < settings.checkpoint_every_entries
            and age < settings.checkpoint_every_seconds
        ):
            return
    now = utcnow()
    note = _signer(settings).sign(
        format_checkpoint(settings.ledger_origin, frontier.size, frontier.root(), previous)
    )
    stored_at: Any = now if connection.dialect.name != "sqlite" else now.strftime("%Y-%m-%d %H:%M:%S.%f")
    connection.exec_driver_sql(
        _insert_sql(connection, "ledger_checkpoint", ("size", "root", "note", "issued_at")),
        (frontier.size, frontier.root(), note, stored_at),
    )
    session.info[_WITNESS] = (settings.witness_file, frontier.size, note)


_signers: dict[tuple[Path, str], Signer] = {}


def _signer(settings: Settings) -> Signer:
    key = (settings.resolved_signing_key_file, settings.ledger_origin)
    if key not in _signers:
        _signers[key] = load_signer(settings)
    return _signers[key]


@event.listens_for(Session, "before_commit")
def _append_pending_on_commit(session: Session) -> None:
    """Flush the business change first (a no-op when there is none), then append: its row locks are then
    waited for before the ledger's lock is taken (PostgreSQL), never while holding it, which deadlocked two
    committers and queued every append behind any row-lock wait. Entries drafted by flush hooks are
    appended too: the queue is read after the flush."""
    session.flush()
    if session.info.get(_PENDING):
        flush_pending(session)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    candidate = session.info.pop(_CANDIDATE, None)
    if candidate is not None:
        url, frontier = candidate
        _frontier_cache[url] = frontier.copy()
    witness = session.info.pop(_WITNESS, None)
    if witness is not None:
        try:
            _write_witness(*witness)
        except Exception:  # the change has committed: say so in the log, never fail the caller now
            log.exception("witness_write_failed", path=str(witness[0]), size=witness[1])


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    for key in (_PENDING, _CANDIDATE, _WITNESS):
        session.info.pop(key, None)


# --------------------------------------------------------------------------- the tree's right edge


@dataclass(slots=True)
class _Frontier:
    """Roots of the perfect subtrees that make up the tree (its compact range), largest first.

    Their sizes are the binary digits of `size`, so appending leaf number n merges as many times as n
    has trailing zero bits. Every merged node at a stored level is reported, to be written to (or, when
    verifying, compared with) ledger_node.
    """

    size: int = 0
    last_leaf: bytes | None = None
    hashes: list[bytes] = field(default_factory=list)

    def extend(self, leaves: Sequence[bytes], completed: list[tuple[int, int, bytes]]) -> None:
        """Append leaf hashes (the verify and append hot path: kept to one tight loop)."""
        hashes, sha256, size = self.hashes, hashlib.sha256, self.size
        for leaf in leaves:
            size += 1
            digest = leaf
            for level in range(1, (size & -size).bit_length()):
                digest = sha256(b"\x01" + hashes.pop() + digest).digest()
                if not level % NODE_STRIDE:
                    completed.append((level, (size >> level) - 1, digest))
            hashes.append(digest)
        if leaves:
            self.size, self.last_leaf = size, leaves[-1]

    def root(self) -> bytes:
        return _fold(self.hashes)

    def copy(self) -> _Frontier:
        return _Frontier(self.size, self.last_leaf, list(self.hashes))


def _fold(hashes: Sequence[bytes]) -> bytes:
    """The root of a compact range (perfect subtree roots, largest first)."""
    if not hashes:
        return merkle.EMPTY_ROOT
    digest = hashes[-1]
    for left in reversed(hashes[:-1]):
        digest = hashlib.sha256(b"\x01" + left + digest).digest()
    return digest


_frontier_cache: dict[str, _Frontier] = {}


class _Queries:
    """Fixed SQL on the DBAPI cursor: proofs and appends make many tiny reads, and SQLAlchemy's statement
    building was most of their cost (profiled). Write `?`; it becomes `%s` for psycopg."""

    def __init__(self, connection: Connection) -> None:
        raw: Any = connection.connection.driver_connection
        self._cursor = raw.cursor()
        self._qmark = connection.dialect.paramstyle == "qmark"

    def rows(self, sql: str, *params: Any) -> list[Any]:
        self._cursor.execute(sql if self._qmark else sql.replace("?", "%s"), params)
        return list(self._cursor.fetchall())


class _NodeStore:
    """Complete-subtree hashes read from the database: leaves, stored levels, and the few levels between."""

    def __init__(self, connection: Connection) -> None:
        self._sql = _Queries(connection)
        self._memo: dict[tuple[int, int], bytes] = {}

    def get(self, level: int, idx: int) -> bytes:
        key = (level, idx)
        found = self._memo.get(key)
        if found is not None:
            return found
        base = level - level % NODE_STRIDE
        if base == level and level > 0:
            stored = self._sql.rows("SELECT hash FROM ledger_node WHERE level = ? AND idx = ?", level, idx)
            digest = bytes(stored[0][0]) if stored else self._fold(level - NODE_STRIDE, level, idx)
        elif level == 0:
            digest = self._fold(0, 0, idx)
        else:
            digest = self._fold(base, level, idx)
        self._memo[key] = digest
        return digest

    def _fold(self, base: int, level: int, idx: int) -> bytes:
        width = 1 << (level - base)
        hashes = self._range(base, idx * width, (idx + 1) * width)
        while len(hashes) > 1:
            hashes = [
                hashlib.sha256(b"\x01" + hashes[i] + hashes[i + 1]).digest() for i in range(0, len(hashes), 2)
            ]
        return hashes[0]

    def _range(self, level: int, start: int, end: int) -> list[bytes]:
        if level == 0:
            sql = "SELECT leaf_hash FROM ledger_entry WHERE idx >= ? AND idx < ? ORDER BY idx"
            rows = [row[0] for row in self._sql.rows(sql, start, end)]
        else:
            sql = "SELECT hash FROM ledger_node WHERE level = ? AND idx >= ? AND idx < ? ORDER BY idx"
            rows = [row[0] for row in self._sql.rows(sql, level, start, end)]
        if len(rows) != end - start:
            raise LedgerError(f"the stored tree is incomplete at level {level}, entries {start}–{end - 1}")
        return rows


def _load_frontier(connection: Connection, size: int, last_leaf: bytes | None) -> _Frontier:
    cached = _frontier_cache.get(str(connection.engine.url))
    if cached is not None and cached.size == size and cached.last_leaf == last_leaf:
        return cached.copy()
    store = _NodeStore(connection)
    frontier = _Frontier(size=size, last_leaf=last_leaf)
    offset = 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size & (1 << level):
            frontier.hashes.append(store.get(level, offset >> level))
            offset += 1 << level
    return frontier


# --------------------------------------------------------------------------- appending


def _lock(connection: Connection) -> None:
    """Serialise appends. SQLite transactions already hold the write lock (BEGIN IMMEDIATE)."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK_KEY})")


def _head(connection: Connection) -> tuple[int, bytes | None]:
    rows = _Queries(connection).rows("SELECT idx, leaf_hash FROM ledger_entry ORDER BY idx DESC LIMIT 1")
    return (0, None) if not rows else (rows[0][0] + 1, bytes(rows[0][1]))


_ENTRY_COLUMNS = ("idx", "at", "actor", "op", "object_type", "object_id", "body", "leaf_hash")


def _insert_sql(connection: Connection, table: str, columns: tuple[str, ...]) -> str:
    """A plain DBAPI executemany statement: the append's hot path skips ORM and type processing."""
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    marks = ", ".join([mark] * len(columns))
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608 - fixed names only


# An entry's bytes, built from a template: the envelope's keys are fixed and already in JCS order, so only the
# values are encoded (strings by the standard library's C escaper, which matches JCS for strings; `detail`
# by canonical JSON). tests/ledger/test_service.py checks the result against the generic encoder.
_ENTRY_TEMPLATE = (
    '{"actor":%s,"at":"%s","detail":%s,"index":%d,"justification":%s,"object":{"id":%s,"type":%s},'
    '"op":%s,"recipients":[%s],"salt":"%s","subjects":[%s],"v":1}'
)
_quote: Callable[[str], str] = json.encoder.encode_basestring


_OP_NAME = {op: str(op) for op in Op}
_OP_TEXT = {op: _quote(name) for op, name in _OP_NAME.items()}


def _entry_bytes(draft: EntryDraft, index: int, at_text: str, salt: str) -> tuple[bytes, list[str]]:
    """The entry's exact bytes, and its subjects (sorted, unique: the subject rows hold them as a set).

    The append's hot path (about a quarter of a batched append): one pass, no intermediate tuples."""
    actor, object_type, object_id, justification = (
        draft.actor,
        draft.object_type,
        draft.object_id,
        draft.justification,
    )
    if type(actor) is not str or type(object_type) is not str or draft.op not in _OP_TEXT:
        raise EntryRejected(f"the {draft.op} entry for {object_type} has a field that is not text")
    if type(object_id) not in _TEXT_OR_NONE or type(justification) not in _TEXT_OR_NONE:
        raise EntryRejected(f"the {draft.op} entry for {object_type}: object id or justification is not text")
    if not all([type(value) is str for value in (*draft.subjects, *draft.recipients)]):
        raise EntryRejected(f"the {draft.op} entry for {object_type}: a subject or recipient is not text")
    people = list(draft.subjects) if len(draft.subjects) < 2 else sorted(set(draft.subjects))
    try:
        text = _ENTRY_TEMPLATE % (
            _quote(actor),
            at_text,
            canonical_text(draft.detail),
            index,
            "null" if justification is None else _quote(justification),
            "null" if object_id is None else _quote(object_id),
            _quote(object_type),
            _OP_TEXT[draft.op],
            ",".join([_quote(r) for r in draft.recipients]),
            salt,
            ",".join([_quote(p) for p in people]),
        )
        return text.encode("utf-8"), people
    except (ValueError, UnicodeError, TypeError) as error:  # e.g. lone surrogates: not UTF-8, so not JSON
        raise EntryRejected(
            f"the {draft.op} entry for {object_type} {object_id} is not valid text: {error}"
        ) from error


_TEXT_OR_NONE = (str, type(None))


def _append(connection: Connection, drafts: Sequence[EntryDraft]) -> _Frontier:
    _lock(connection)
    size, last_leaf = _head(connection)
    frontier = _load_frontier(connection, size, last_leaf)
    now = utcnow()
    at_text = rfc3339(now)
    stored_at: Any = now if connection.dialect.name != "sqlite" else now.strftime("%Y-%m-%d %H:%M:%S.%f")
    salts = os.urandom(16 * len(drafts)).hex()  # one system call per batch, not one per entry
    sha256 = hashlib.sha256
    entries: list[tuple[Any, ...]] = []
    subjects: list[tuple[str, int]] = []
    leaves: list[bytes] = []
    for offset, draft in enumerate(drafts):
        index = size + offset
        body, people = _entry_bytes(draft, index, at_text, salts[32 * offset : 32 * offset + 32])
        leaf = sha256(b"\x00" + body).digest()
        leaves.append(leaf)
        op = _OP_NAME[draft.op]
        entries.append((index, stored_at, draft.actor, op, draft.object_type, draft.object_id, body, leaf))
        for subject in people:
            subjects.append((subject, index))
    completed: list[tuple[int, int, bytes]] = []
    frontier.extend(leaves, completed)
    _insert_many(connection, "ledger_entry", _ENTRY_COLUMNS, entries)
    _insert_many(connection, "ledger_subject", ("subject_id", "idx"), subjects)
    _insert_many(connection, "ledger_node", ("level", "idx", "hash"), completed)
    return frontier


_COPY_FROM_ROWS = 32  # below this, COPY's set-up costs more than it saves (measured)


def _insert_many(connection: Connection, table: str, columns: tuple[str, ...], rows: Sequence[Any]) -> None:
    """PostgreSQL batches: one COPY (executemany sends a statement per row, profiled); else executemany."""
    if not rows:
        return
    if connection.dialect.name != "postgresql" or len(rows) < _COPY_FROM_ROWS:
        connection.exec_driver_sql(_insert_sql(connection, table, columns), rows)
        return
    raw: Any = connection.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def size(session: Session) -> int:
    return _head(session.connection())[0]


def entries_since(
    session: Session, start: int, object_types: Collection[str] | None = None
) -> tuple[int, list[tuple[int, str, str | None]]]:
    """For a cache kept in step with the ledger (the pre-access gate's index): `(next_start, entries)`, where
    `entries` are `(index, object_type, object_id)` of the entries from `start` on, in index order, only
    those of `object_types` if given, and `next_start` is one past the last entry read (`start` if none).
    One primary-key range read in fixed SQL: it runs before every batch of gate decisions."""
    rows = _Queries(session.connection()).rows(
        "SELECT idx, object_type, object_id FROM ledger_entry WHERE idx >= ? ORDER BY idx", start
    )
    if not rows:
        return start, []
    wanted = [(idx, kind, object_id) for idx, kind, object_id in rows]
    if object_types is not None:  # in Python: given `object_type IN (...)`, SQLite would scan that index
        wanted = [row for row in wanted if row[1] in object_types]
    return rows[-1][0] + 1, wanted


def entry_subjects(session: Session, indexes: Collection[int]) -> list[str]:
    """The subject ids of these entries (one per entry and subject, so a person may appear more than once)."""
    if not indexes:
        return []
    return list(session.scalars(select(LedgerSubject.subject_id).where(LedgerSubject.idx.in_(indexes))))


# --------------------------------------------------------------------------- keys and checkpoints


def ensure_signing_key(settings: Settings) -> bool:
    """Create the Ed25519 signing key outside the database if there is none; True if created."""
    path = settings.resolved_signing_key_file
    if path.exists():
        return False
    write_private_file(path, generate_signer_key(settings.ledger_origin) + "\n")
    return True


def load_signer(settings: Settings) -> Signer:
    """The signing key, refused if users other than its owner may read or change the file: whoever can read
    it can sign checkpoints for a rewritten log."""
    path = settings.resolved_signing_key_file
    try:
        mode = path.stat().st_mode
        if mode & 0o077:
            raise LedgerError(
                f"the ledger signing key {path} is open to other users (permissions {mode & 0o777:o}): "
                f"only its owner may read it; run `chmod 600 {path}`"
            )
        return Signer(path.read_text().strip())
    except FileNotFoundError:
        raise LedgerError(f"no ledger signing key at {path}: run `custodes init`") from None


def verifier_key(settings: Settings) -> str:
    return load_signer(settings).verifier_key()


def trusted_key(settings: Settings, given: str | None = None) -> str:
    """The key checkpoints must be signed with: an auditor's copy of the published key, else the pinned
    `ledger_public_key`, else the installation's own signing key's."""
    if given or settings.ledger_public_key:
        return str(given or settings.ledger_public_key)
    if not settings.resolved_signing_key_file.exists():
        raise LedgerError(
            "no key to check the checkpoints with: pass --public-key (the published key), "
            "or set CUSTODES_LEDGER_PUBLIC_KEY"
        )
    return verifier_key(settings)


def _info(row: LedgerCheckpoint) -> CheckpointInfo:
    return CheckpointInfo(row.seq, row.size, row.root, row.note, row.issued_at)


def latest_checkpoint(session: Session) -> CheckpointInfo | None:
    row = session.scalars(select(LedgerCheckpoint).order_by(LedgerCheckpoint.seq.desc()).limit(1)).first()
    return None if row is None else _info(row)


def issue_checkpoint(
    session: Session, settings: Settings, *, only_if_grown: bool = True
) -> CheckpointInfo | None:
    """Sign the current tree head. With only_if_grown, do nothing when the latest checkpoint is current."""
    tree_size = flush_pending(session)
    connection = session.connection()
    _lock(connection)
    latest = latest_checkpoint(session)
    if only_if_grown and latest is not None and latest.size >= tree_size:
        return None
    root = root_at(session, tree_size)
    previous = () if latest is None else (_previous_line(latest.size, latest.root),)
    note = load_signer(settings).sign(format_checkpoint(settings.ledger_origin, tree_size, root, previous))
    row = LedgerCheckpoint(size=tree_size, root=root, note=note, issued_at=utcnow())
    session.add(row)
    session.flush()
    session.info[_WITNESS] = (settings.witness_file, tree_size, note)
    return _info(row)


# Each checkpoint names the one before it in an extension line (C2SP tlog-checkpoint allows extension lines
# after the root hash; they are signed with the rest), so a checkpoint deleted from the middle of the
# sequence is noticed: the next one names it. Checkpoints issued before this line existed have none.
_PREVIOUS = "previous-checkpoint"


def _previous_line(size: int, root: bytes) -> str:
    return f"{_PREVIOUS} {size} {base64.b64encode(root).decode('ascii')}"


def _named_previous(checkpoint: Checkpoint) -> tuple[int, bytes] | None:
    """(size, root) of the checkpoint this one says came before it; None if it names none.

    Raises NoteError if the line is malformed."""
    for line in checkpoint.extensions:
        name, _, value = line.partition(" ")
        if name != _PREVIOUS:
            continue
        size_text, _, root_text = value.partition(" ")
        try:
            root = base64.b64decode(root_text, validate=True)
        except ValueError:
            root = b""
        if not size_text.isdigit() or len(root) != 32 or _previous_line(int(size_text), root) != line:
            raise NoteError(f"malformed {_PREVIOUS} line: {line!r}")
        return int(size_text), root
    return None


def _write_witness(path: Path, tree_size: int, note: str) -> None:
    """Keep the newest checkpoint outside the database: written to a temporary file of its own, fsynced,
    then renamed over it. Writers take turns (an fcntl lock beside it) and each re-reads the size under the
    lock, so an older checkpoint never replaces a newer one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.with_name(path.name + ".lock").open("a") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)  # released when the lock file is closed
        current = _read_witness_size(path)
        if current is not None and current > tree_size:
            return
        replace_file(path, note, 0o644)  # a signed checkpoint is public


def _read_witness_size(path: Path) -> int | None:
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
        return int(lines[1])
    except (FileNotFoundError, IndexError, ValueError):
        return None


def status(session: Session, settings: Settings) -> LedgerStatus:
    return LedgerStatus(size(session), latest_checkpoint(session), verifier_key(settings))


# --------------------------------------------------------------------------- proofs


def root_at(session: Session, tree_size: int) -> bytes:
    current = size(session)
    if not 0 <= tree_size <= current:
        raise LedgerError(f"tree size {tree_size} is outside the log (0–{current})")
    if tree_size == 0:
        return merkle.EMPTY_ROOT
    return merkle.range_root(0, tree_size, _NodeStore(session.connection()).get)


def prove_inclusion(session: Session, index: int, tree_size: int | None = None) -> dict[str, Any]:
    current = size(session)
    tree_size = current if tree_size is None else tree_size
    if not 0 <= index < tree_size <= current:
        raise LedgerError(f"need 0 <= index < size <= {current}; got index {index}, size {tree_size}")
    store = _NodeStore(session.connection())
    path = merkle.inclusion_proof(index, tree_size, store.get)
    return {
        "leaf_index": index,
        "tree_size": tree_size,
        "leaf_hash": store.get(0, index).hex(),
        "inclusion_path": [node.hex() for node in path],
        "root_hash": merkle.range_root(0, tree_size, store.get).hex(),
    }


def prove_consistency(session: Session, old_size: int, new_size: int | None = None) -> dict[str, Any]:
    current = size(session)
    new_size = current if new_size is None else new_size
    if not 0 <= old_size <= new_size <= current:
        raise LedgerError(f"need 0 <= old size <= new size <= {current}; got {old_size}, {new_size}")
    store = _NodeStore(session.connection())
    path = merkle.consistency_proof(old_size, new_size, store.get) if 0 < old_size < new_size else []
    old_root = merkle.range_root(0, old_size, store.get) if old_size else merkle.EMPTY_ROOT
    new_root = merkle.range_root(0, new_size, store.get) if new_size else merkle.EMPTY_ROOT
    return {
        "old_size": old_size,
        "new_size": new_size,
        "consistency_path": [node.hex() for node in path],
        "old_root": old_root.hex(),
        "new_root": new_root.hex(),
    }


# --------------------------------------------------------------------------- reading


def export_lines(session: Session, start: int = 0, end: int | None = None) -> Iterator[bytes]:
    """Entry bytes in index order, `{"redacted":"<leaf hash>"}` for redacted ones; [start, end)."""
    query = select(LedgerEntry.body, LedgerEntry.leaf_hash).where(LedgerEntry.idx >= start)
    if end is not None:
        query = query.where(LedgerEntry.idx < end)
    for body, leaf in session.execute(query.order_by(LedgerEntry.idx).execution_options(yield_per=5000)):
        yield body if body is not None else b'{"redacted":"' + leaf.hex().encode() + b'"}'


def _stored(row: LedgerEntry) -> StoredEntry:
    content = json.loads(row.body) if row.body is not None else None
    return StoredEntry(
        row.idx, row.at, row.actor, row.op, row.object_type, row.object_id, row.leaf_hash, content
    )


def search(
    session: Session, criteria: EntryFilter, *, limit: int = 100, offset: int = 0
) -> list[StoredEntry]:
    """The newest entries that match, `offset` of them skipped."""
    found: list[StoredEntry] = []
    for row in _matching(session, criteria, newest_first=True, wanted=offset + limit):
        if offset:
            offset -= 1
        elif len(found) < limit:
            found.append(_stored(row))
        else:
            break
    return found


def count(session: Session, criteria: EntryFilter) -> int:
    total = 0
    for window in _era_windows(session, criteria, newest_first=True, growing=False):
        query = _filtered(criteria, window).subquery()
        total += session.scalar(select(func.count()).select_from(query)) or 0
    return total


def iter_matching(session: Session, criteria: EntryFilter) -> Iterator[StoredEntry]:
    for row in _matching(session, criteria, newest_first=False):
        yield _stored(row)


_FIRST_WINDOW, _LARGEST_WINDOW = 4, 1024  # eras a query asks about (of 4,096 entries each)


def _matching(
    session: Session, criteria: EntryFilter, *, newest_first: bool, wanted: int | None = None
) -> Iterator[LedgerEntry]:
    """Matching entries in index order, asked of the search indexes one window of eras at a time.

    The indexes lead with the era (models.ERA_BITS), so each query names its eras: an exact-match search
    reads a few index pages per era, not the whole index. Windows start small and grow, so "the latest
    100" of a common value stops early and a rare one needs few queries."""
    order = LedgerEntry.idx.desc() if newest_first else LedgerEntry.idx
    for window in _era_windows(session, criteria, newest_first=newest_first, growing=wanted is not None):
        query = _filtered(criteria, window).order_by(order)
        if wanted is not None:
            rows = list(session.scalars(query.limit(wanted)))
            wanted -= len(rows)
            yield from rows
            if wanted <= 0:
                return
        else:
            yield from session.scalars(query.execution_options(yield_per=2000))


def _era_windows(
    session: Session, criteria: EntryFilter, *, newest_first: bool, growing: bool
) -> Iterator[range | None]:
    """Ranges of eras to query, in order; one `None` (no era condition) when no search index applies."""
    if not (criteria.subject or criteria.actor or criteria.object_type):
        yield None
        return
    eras = (size(session) + (1 << ERA_BITS) - 1) >> ERA_BITS
    width = _FIRST_WINDOW if growing else _LARGEST_WINDOW
    done = 0
    while done < eras:
        width = min(width, eras - done)
        yield range(eras - done - width, eras - done) if newest_first else range(done, done + width)
        done += width
        width = min(width * 2, _LARGEST_WINDOW)


def _filtered(criteria: EntryFilter, eras: range | None = None) -> Any:
    query = select(LedgerEntry)
    if criteria.subject:
        query = query.join(LedgerSubject, LedgerSubject.idx == LedgerEntry.idx).where(
            LedgerSubject.subject_id == criteria.subject
        )
        if eras is not None:
            query = query.where(era(LedgerSubject.idx).in_(eras))
    if eras is not None and (criteria.actor or criteria.object_type):
        query = query.where(era(LedgerEntry.idx).in_(eras))
    if criteria.actor:
        query = query.where(LedgerEntry.actor == criteria.actor)
    if criteria.op:
        query = query.where(LedgerEntry.op == criteria.op)
    if criteria.object_type:
        query = query.where(LedgerEntry.object_type == criteria.object_type)
    if criteria.object_id:
        query = query.where(LedgerEntry.object_id == criteria.object_id)
    if criteria.since:
        query = query.where(LedgerEntry.at >= criteria.since)
    if criteria.until:
        query = query.where(LedgerEntry.at < criteria.until)
    if criteria.before is not None:
        query = query.where(LedgerEntry.idx < criteria.before)
    for text_ in sorted(criteria.hidden):
        query = query.where(_not_mentioning(text_))
    return query


def _not_mentioning(text_: str) -> ColumnElement[bool]:
    """Entries whose bytes do not contain `text_`, byte for byte (redacted ones hold nothing)."""
    if not text_:
        raise LedgerError("cannot hide entries mentioning an empty text")
    needle = literal(text_.encode(), LargeBinary)
    return or_(LedgerEntry.body.is_(None), _BytesPosition(LedgerEntry.body, needle) == 0)


class _BytesPosition(FunctionElement[int]):
    """Where a byte string starts in another (1-based, 0 if absent), exactly (no LIKE wildcards or folding of
    case): instr() on SQLite, position() on PostgreSQL."""

    type = Integer()
    name = "bytes_position"
    inherit_cache = True


@compiles(_BytesPosition)
def _instr(element: _BytesPosition, compiler: Any, **kw: Any) -> str:
    haystack, needle = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"instr({haystack}, {needle})"


@compiles(_BytesPosition, "postgresql")
def _position(element: _BytesPosition, compiler: Any, **kw: Any) -> str:
    haystack, needle = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"position({needle} in {haystack})"


def operations() -> list[str]:
    return [str(op) for op in Op]


# --------------------------------------------------------------------------- redaction


def redact(session: Session, index: int, reason: str, actor: str) -> None:
    """Clear an entry's bytes at the end of retention; its leaf hash stays, so the tree still verifies."""
    row = session.get(LedgerEntry, index)
    if row is None:
        raise LedgerError(f"no entry {index}")
    if row.body is None:
        return
    now = utcnow()
    session.add(LedgerRedaction(idx=index, redacted_at=now, reason=reason[:200]))
    session.flush()
    session.execute(
        update(LedgerEntry).where(LedgerEntry.idx == index).values(body=None, object_id=None, redacted_at=now)
    )
    session.execute(delete(LedgerSubject).where(LedgerSubject.idx == index))
    record(
        session,
        EntryDraft(
            actor=actor,
            op=Op.ERASURE,
            object_type="ledger_entry",
            object_id=str(index),
            detail={"reason": reason},
        ),
    )


# --------------------------------------------------------------------------- verification


def _body_index(body: bytes) -> int | None:
    """The entry's own `index` field. JCS sorts keys, and nothing after the top-level `index` can hold an
    `index` key, so the last `,"index":` is the top-level one."""
    at = body.rfind(b',"index":')
    if at < 0:
        return None
    end = body.find(b",", at + 9)
    try:
        return int(body[at + 9 : end])
    except ValueError:
        return None


@dataclass(slots=True)
class _Scan:
    """State of one pass over the stored log."""

    expected: int = 0
    fault: Fault | None = None
    redacted: int = 0
    roots: dict[int, bytes] = field(default_factory=dict)

    def fail(self, kind: FaultKind, index: int, message: str) -> None:
        """Keep the first bad index; at the same index a structural fault explains more than the index."""
        current = self.fault
        if (
            current is None
            or index < current.index
            or (index == current.index and current.kind == FaultKind.INDEX_ALTERED)
        ):
            self.fault = Fault(kind, index, message)


def verify(
    session: Session,
    settings: Settings,
    progress: Callable[[int, int], None] | None = None,
    *,
    workers: int | None = None,
    chunk_level: int = CHUNK_LEVEL,
    public_key: str | None = None,
) -> VerifyReport:
    """Recompute every leaf and the tree; check every checkpoint's signature and consistency, with
    `trusted_key(settings, public_key)`.

    Large logs are checked in aligned chunks of 2**chunk_level entries by `workers` processes (default:
    one per CPU, from four chunks up), which read committed data; smaller ones in this transaction.
    """
    started = time.perf_counter()
    try:
        verifier = Verifier(trusted_key(settings, public_key))
    except NoteError as error:
        raise LedgerError(f"the public key is not a signed-note verifier key: {error}") from None
    # The copy outside the database first: it is written after its checkpoint commits, so a checkpoint
    # issued while verify runs cannot look like a rollback.
    witness = _read_witness(settings.witness_file, verifier)
    checkpoints = [
        _info(row) for row in session.scalars(select(LedgerCheckpoint).order_by(LedgerCheckpoint.seq))
    ]
    wanted_roots = {cp.size for cp in checkpoints}
    if isinstance(witness, Checkpoint):
        wanted_roots.add(witness.size)
    scan = _scan_leaves(session, wanted_roots, progress, workers, chunk_level)
    report = VerifyReport(size=scan.expected, checkpoints=len(checkpoints), redacted=scan.redacted)
    report.root = scan.roots.get(scan.expected)
    if isinstance(witness, NoteError):
        scan.fail(
            FaultKind.CHECKPOINT_SIGNATURE_INVALID,
            _read_witness_size(settings.witness_file) or 0,
            f"the checkpoint kept outside the database ({settings.witness_file}): {witness}",
        )
        witness = None
    _check_checkpoints(scan, checkpoints, witness, verifier, settings.ledger_origin)
    report.fault = scan.fault
    report.seconds = time.perf_counter() - started
    return report


@dataclass(slots=True)
class _Chunk:
    """What one aligned range of entries [start, end) contributes to verification."""

    start: int
    end: int
    fault: Fault | None = None
    redacted: int = 0
    hashes: list[bytes] = field(default_factory=list)  # compact range of the chunk's leaves
    cuts: dict[int, list[bytes]] = field(
        default_factory=dict
    )  # compact range of [start, size) per wanted size


def _scan_leaves(
    session: Session,
    wanted_roots: set[int],
    progress: Callable[[int, int], None] | None,
    workers: int | None = None,
    chunk_level: int = CHUNK_LEVEL,
) -> _Scan:
    """Every entry: sequence, own index, leaf hash, searchable copies, stored subtree hashes, wanted roots.

    Chunks are scanned in worker processes (reading committed data) when the log is large, else here.
    """
    assert chunk_level % NODE_STRIDE == 0
    connection = session.connection()
    last = connection.execute(select(func.max(LedgerEntry.idx))).scalar()
    total = 0 if last is None else last + 1
    width = 1 << chunk_level
    ranges = [(start, min(start + width, total)) for start in range(0, total, width)]
    wanted = sorted(wanted_roots)
    if workers is None:
        workers = min(os.cpu_count() or 1, 4) if len(ranges) >= _PARALLEL_FROM_CHUNKS else 1
    if workers > 1:
        url = connection.engine.url.render_as_string(hide_password=False)
        tasks = [(url, start, end, wanted) for start, end in ranges]
        pool = multiprocessing.get_context("fork").Pool(workers)
        chunks: Iterable[_Chunk] = pool.imap(_scan_chunk_in_worker, tasks)
    else:
        pool = None
        chunks = (_scan_chunk(connection, start, end, wanted) for start, end in ranges)
    try:
        return _combine(connection, chunks, total, chunk_level, wanted_roots, progress)
    finally:
        if pool is not None:
            pool.terminate()


def _combine(
    connection: Connection,
    chunks: Iterable[_Chunk],
    total: int,
    chunk_level: int,
    wanted_roots: set[int],
    progress: Callable[[int, int], None] | None,
) -> _Scan:
    """Fold the chunks' roots into the upper tree, checking stored nodes above the chunks."""
    scan = _Scan()
    upper = {
        (level, idx): digest
        for level, idx, digest in connection.execute(
            select(LedgerNode.level, LedgerNode.idx, LedgerNode.hash).where(LedgerNode.level > chunk_level)
        )
    }
    top, tail = _Frontier(), list[bytes]()
    completed: list[tuple[int, int, bytes]] = []
    if 0 in wanted_roots:
        scan.roots[0] = merkle.EMPTY_ROOT
    for chunk in chunks:
        if chunk.fault is not None:
            scan.fail(chunk.fault.kind, chunk.fault.index, chunk.fault.message)
        scan.redacted += chunk.redacted
        for size, hashes in chunk.cuts.items():
            scan.roots[size] = _fold([*top.hashes, *hashes])
        if chunk.end - chunk.start == 1 << chunk_level:
            top.extend([_fold(chunk.hashes)], completed)
            _compare_nodes(scan, [(chunk_level + lv, i, h) for lv, i, h in completed], upper)
            completed.clear()
        else:
            tail = chunk.hashes
        scan.expected = chunk.end
        if progress is not None:
            progress(chunk.end, total)
    scan.roots[total] = _fold([*top.hashes, *tail])
    _check_beyond_the_end(connection, scan, total)
    _check_before_the_start(connection, scan)
    _check_redactions_recorded(connection, scan)
    return scan


def _check_before_the_start(connection: Connection, scan: _Scan) -> None:
    """Rows at a negative index: outside the tree, so no hash covers them, yet searches would show them."""
    for table in (LedgerEntry, LedgerSubject, LedgerRedaction):
        lowest = connection.execute(select(func.min(table.idx))).scalar()
        if lowest is not None and lowest < 0:
            scan.fail(FaultKind.EXTRA_LEAF, lowest, f"{table.__tablename__} has a row at index {lowest}")
    if (connection.execute(select(func.min(LedgerNode.idx))).scalar() or 0) < 0:
        scan.fail(FaultKind.TREE_NODE_ALTERED, 0, "ledger_node has a row at a negative index")


def _check_redactions_recorded(connection: Connection, scan: _Scan) -> None:
    """Each redaction must be recorded by an `erasure` entry after it (`redact` appends one): a row put in
    ledger_redaction by other means would otherwise let an entry's bytes be wiped unnoticed. Run after the
    scan, which has checked every entry's searchable columns against its bytes."""
    redacted = set(
        connection.execute(
            select(LedgerRedaction.idx)
            .join(LedgerEntry, LedgerEntry.idx == LedgerRedaction.idx)
            .where(LedgerEntry.body.is_(None))
        ).scalars()
    )
    if not redacted:
        return
    latest_record: dict[str, int] = {}
    for object_id, at in connection.execute(
        select(LedgerEntry.object_id, LedgerEntry.idx).where(
            era(LedgerEntry.idx) >= min(redacted) >> ERA_BITS,
            LedgerEntry.object_type == "ledger_entry",
            LedgerEntry.op == Op.ERASURE,
        )
    ):
        if object_id is not None:
            latest_record[object_id] = max(at, latest_record.get(object_id, -1))
    for index in sorted(redacted):
        if latest_record.get(str(index), -1) <= index:
            scan.fail(
                FaultKind.LEAF_ALTERED,
                index,
                f"entry {index}'s bytes were cleared, but no erasure entry after it records the redaction",
            )
            return


def _check_beyond_the_end(connection: Connection, scan: _Scan, total: int) -> None:
    """Stored tree nodes or subject rows past the last entry: entries at the end were removed.

    The last entry is looked up again after the nodes and subject rows: on PostgreSQL each statement sees
    what committed before it, so entries appended while verify ran come with their nodes and rows."""
    highest_nodes = connection.execute(
        select(LedgerNode.level, func.max(LedgerNode.idx)).group_by(LedgerNode.level)
    ).all()
    highest_subject = connection.execute(select(func.max(LedgerSubject.idx))).scalar()
    last = connection.execute(select(func.max(LedgerEntry.idx))).scalar()
    total = max(total, 0 if last is None else last + 1)
    for level, highest in highest_nodes:
        if (highest + 1) << level > total:
            scan.fail(
                FaultKind.LEAF_MISSING,
                total,
                f"the stored tree covers entries past the last one ({total - 1})",
            )
    if highest_subject is not None and highest_subject >= total:
        scan.fail(
            FaultKind.LEAF_MISSING,
            total,
            f"subject rows name entry {highest_subject}, past the last one ({total - 1})",
        )


_worker_engines: dict[str, Any] = {}


def _scan_chunk_in_worker(task: tuple[str, int, int, list[int]]) -> _Chunk:
    """A verify worker: its own read-only connection (no BEGIN IMMEDIATE: the caller may hold the lock)."""
    url, start, end, wanted = task
    engine = _worker_engines.get(url)
    if engine is None:
        engine = _worker_engines[url] = create_engine(url, poolclass=NullPool)
    with engine.connect() as connection:
        return _scan_chunk(connection, start, end, wanted)


def _scan_chunk(connection: Connection, start: int, end: int, wanted: list[int]) -> _Chunk:
    """Verify entries [start, end) — an aligned complete subtree, or the log's tail."""
    scan = _Scan(expected=start)
    chunk = _Chunk(start, end)
    stored = _stored_nodes_within(connection, start, end)
    frontier, sha256 = _Frontier(), hashlib.sha256
    completed: list[tuple[int, int, bytes]] = []
    for rows in _stream(connection, _scan_sql(connection, start, end), "custodes_scan"):
        position = scan.expected
        leaves = []
        for idx, body, leaf, head, tail, people, authorised in rows:
            if idx != position:
                scan.fail(
                    FaultKind.LEAF_MISSING, position, f"entry {position} is missing (next stored is {idx})"
                )
            if body is None:
                scan.redacted += 1
                if not authorised:
                    scan.fail(
                        FaultKind.LEAF_ALTERED, idx, f"entry {idx} has no bytes and no redaction record"
                    )
            elif sha256(b"\x00" + body).digest() != leaf:
                scan.fail(FaultKind.LEAF_ALTERED, idx, f"entry {idx}'s bytes do not match its leaf hash")
            elif not body.startswith(b',"index":%d,' % position, body.rfind(b',"index":')):
                _classify_misplaced(scan, position, _body_index(body))
            elif not (
                body.startswith(head)
                and body.endswith(people)
                and body.startswith(tail, body.rfind(b',"object":'))
            ) and not _index_matches_exactly(connection, idx, body):
                scan.fail(
                    FaultKind.INDEX_ALTERED,
                    idx,
                    f"entry {idx}'s search columns or subject rows do not match its bytes",
                )
            leaves.append(leaf)
            position += 1
        _feed(frontier, start, leaves, wanted, chunk.cuts, completed)
        _compare_nodes(scan, [(lv, (start >> lv) + i, h) for lv, i, h in completed], stored)
        completed.clear()
        scan.expected = position
    orphan = connection.execute(
        select(func.min(LedgerSubject.idx)).where(
            LedgerSubject.idx >= start,
            LedgerSubject.idx < end,
            ~select(LedgerEntry.idx).where(LedgerEntry.idx == LedgerSubject.idx).exists(),
        )
    ).scalar()
    if orphan is not None:
        scan.fail(FaultKind.INDEX_ALTERED, orphan, f"a subject row names entry {orphan}, which is not stored")
    if scan.expected < end:
        scan.fail(FaultKind.LEAF_MISSING, scan.expected, f"entry {scan.expected} is missing")
    chunk.fault, chunk.redacted, chunk.hashes = scan.fault, scan.redacted, frontier.hashes
    return chunk


def _stored_nodes_within(connection: Connection, start: int, end: int) -> dict[tuple[int, int], bytes]:
    """Stored subtree hashes lying wholly inside [start, end), read level by level on the primary key."""
    nodes: dict[tuple[int, int], bytes] = {}
    level = NODE_STRIDE
    while (1 << level) <= end - start:
        query = select(LedgerNode.idx, LedgerNode.hash).where(
            LedgerNode.level == level, LedgerNode.idx >= start >> level, LedgerNode.idx < end >> level
        )
        nodes.update(((level, idx), digest) for idx, digest in connection.execute(query))
        level += NODE_STRIDE
    return nodes


def _stream(connection: Connection, sql: str, name: str, batch: int = 20_000) -> Iterator[list[Any]]:
    """Rows in batches straight from the DBAPI cursor (server-side on PostgreSQL): verify's hot path."""
    raw: Any = connection.connection.driver_connection
    cursor = raw.cursor(name=name) if connection.dialect.name == "postgresql" else raw.cursor()
    try:
        cursor.execute(sql)
        while rows := cursor.fetchmany(batch):
            yield rows
    finally:
        cursor.close()


# What each entry's bytes must contain, built by the database from the searchable copies. JCS fixes the
# layout: `{"actor":…,"at":…,` first; `,"object":…,"op":…,"recipients":` after the detail and index;
# `,"subjects":[…],"v":1}` last (subjects sorted and unique, as appended).
_EXPECTED_SQL = {
    "sqlite": (
        """CAST('{"actor":"' || actor || '","at":"' || substr(at, 1, 10) || 'T' || substr(at, 12) || 'Z",'
           AS BLOB)""",
        """CAST(',"object":{"id":' || coalesce('"' || object_id || '"', 'null') || ',"type":"' || object_type
           || '"},"op":"' || op || '","recipients":' AS BLOB)""",
        """CAST(',"subjects":[' || coalesce((SELECT group_concat('"' || s.subject_id || '"', ',')
           FROM ledger_subject s WHERE s.idx = e.idx), '') || '],"v":1}' AS BLOB)""",
    ),
    "postgresql": (
        """convert_to('{"actor":"' || actor || '","at":"'
           || to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '",', 'UTF8')""",
        """convert_to(',"object":{"id":' || coalesce('"' || object_id || '"', 'null') || ',"type":"'
           || object_type || '"},"op":"' || op || '","recipients":', 'UTF8')""",
        """convert_to(',"subjects":[' || coalesce((SELECT string_agg('"' || s.subject_id || '"', ','
           ORDER BY s.subject_id COLLATE "C") FROM ledger_subject s WHERE s.idx = e.idx), '')
           || '],"v":1}', 'UTF8')""",
    ),
}


# Whether a cleared entry has its redaction row, read in the scan's own statement: on PostgreSQL each
# statement sees what committed before it, so a disposal committing between two statements made a
# legitimately redacted entry look wiped. Evaluated only for cleared entries.
_AUTHORISED_SQL = (
    "CASE WHEN body IS NULL THEN EXISTS (SELECT 1 FROM ledger_redaction r WHERE r.idx = e.idx) END"
)


def _scan_sql(connection: Connection, start: int, end: int) -> str:
    head, tail, people = _EXPECTED_SQL[connection.dialect.name]
    return (
        f"SELECT idx, body, leaf_hash, {head}, {tail}, {people}, {_AUTHORISED_SQL}"  # noqa: S608 - fixed SQL
        f" FROM ledger_entry e WHERE idx >= {int(start)} AND idx < {int(end)} ORDER BY idx"
    )


def _index_matches_exactly(connection: Connection, idx: int, body: bytes) -> bool:
    """The slow path, when the byte comparison differs (e.g. a value JSON had to escape)."""
    row = connection.execute(
        select(
            LedgerEntry.actor, LedgerEntry.op, LedgerEntry.object_type, LedgerEntry.object_id, LedgerEntry.at
        ).where(LedgerEntry.idx == idx)
    ).one()
    subjects = connection.execute(select(LedgerSubject.subject_id).where(LedgerSubject.idx == idx)).scalars()
    content = json.loads(body)
    return (
        content.get("actor") == row.actor
        and content.get("op") == row.op
        and content.get("object") == {"type": row.object_type, "id": row.object_id}
        and content.get("at") == rfc3339(row.at)
        and sorted(set(content.get("subjects", []))) == sorted(subjects)
    )


def _feed(
    frontier: _Frontier,
    offset: int,
    leaves: list[bytes],
    wanted: list[int],
    cuts: dict[int, list[bytes]],
    completed: list[tuple[int, int, bytes]],
) -> None:
    """Extend a chunk's frontier (its leaf 0 is entry `offset`), keeping its compact range at wanted sizes."""
    start, done = offset + frontier.size, 0
    for cut in wanted:
        if start < cut <= start + len(leaves):
            frontier.extend(leaves[done : cut - start], completed)
            cuts[cut] = list(frontier.hashes)
            done = cut - start
    frontier.extend(leaves[done:], completed)


def _compare_nodes(
    scan: _Scan, completed: list[tuple[int, int, bytes]], stored_nodes: dict[tuple[int, int], bytes]
) -> None:
    for level, node_idx, digest in completed:
        first, last = node_idx << level, ((node_idx + 1) << level) - 1
        # A fault already found inside (or before) this subtree names the entry exactly: keep it.
        if stored_nodes.pop((level, node_idx), None) != digest and not (
            scan.fault and scan.fault.index <= last
        ):
            scan.fail(
                FaultKind.TREE_NODE_ALTERED,
                first,
                f"entries {first}–{last} do not match the stored tree "
                "(an entry there was altered, inserted or removed together with its hash)",
            )
    completed.clear()


def _classify_misplaced(scan: _Scan, position: int, claimed: int | None) -> None:
    if claimed is None:
        scan.fail(FaultKind.LEAF_ALTERED, position, f"entry {position} has no readable index")
    elif claimed > position:
        scan.fail(
            FaultKind.LEAF_MISSING,
            position,
            f"entry {position} holds entry {claimed}: entries were removed or reordered",
        )
    else:
        scan.fail(
            FaultKind.EXTRA_LEAF,
            claimed,
            f"entry {position} holds entry {claimed}: {position - claimed} entry(s) inserted at {claimed}",
        )


def _read_witness(path: Path, verifier: Verifier) -> Checkpoint | NoteError | None:
    try:
        return open_signed_checkpoint(path.read_text(encoding="utf-8"), verifier)
    except FileNotFoundError:
        return None
    except NoteError as error:
        return error  # reported by verify as a forged checkpoint


def _check_checkpoints(
    scan: _Scan,
    checkpoints: list[CheckpointInfo],
    witness: Checkpoint | None,
    verifier: Verifier,
    origin: str,
) -> None:
    previous = 0
    stored: set[tuple[int, bytes]] = set()  # (size, root) of the checkpoints before this one
    matched: list[int] = []  # sizes of the checkpoints whose root the log's tree has
    for cp in checkpoints:
        try:
            opened = open_signed_checkpoint(cp.note, verifier)
        except NoteError as error:
            scan.fail(FaultKind.CHECKPOINT_SIGNATURE_INVALID, cp.size, f"checkpoint {cp.seq}: {error}")
            previous = max(previous, cp.size)  # it is present, only forged: not a rolled-back database
            stored.add((cp.size, cp.root))
            continue
        _check_previous_named(scan, opened, stored, f"checkpoint {cp.seq}")
        stored.add((cp.size, cp.root))
        if (opened.origin, opened.size, opened.root) != (origin, cp.size, cp.root):
            scan.fail(
                FaultKind.CHECKPOINT_INCONSISTENT,
                cp.size,
                f"checkpoint {cp.seq}'s note does not match its row",
            )
        if cp.size < previous:
            scan.fail(
                FaultKind.CHECKPOINT_ROLLED_BACK,
                cp.size,
                f"checkpoint {cp.seq} (size {cp.size}) is older than the one before it (size {previous})",
            )
        previous = max(previous, cp.size)
        if _check_root(scan, opened, f"checkpoint {cp.seq}", _vouched(matched, cp.size)):
            matched.append(cp.size)
    if witness is not None:
        if witness.size > previous:
            scan.fail(
                FaultKind.CHECKPOINT_ROLLED_BACK,
                previous,
                f"the database's latest checkpoint (size {previous}) is older than the one kept "
                f"outside it (size {witness.size})",
            )
        _check_root(
            scan, witness, "the checkpoint kept outside the database", _vouched(matched, witness.size)
        )


def _vouched(matched: list[int], size: int) -> int:
    """The largest size below `size` at which a checkpoint matched the log (0 if none)."""
    return max((at for at in matched if at < size), default=0)


def _check_previous_named(
    scan: _Scan, checkpoint: Checkpoint, stored: set[tuple[int, bytes]], name: str
) -> None:
    """The checkpoint it names as the one before it must be stored before it: else it was deleted."""
    try:
        named = _named_previous(checkpoint)
    except NoteError as error:
        scan.fail(FaultKind.CHECKPOINT_INCONSISTENT, checkpoint.size, f"{name}: {error}")
        return
    if named is not None and named not in stored:
        size, root = named
        scan.fail(
            FaultKind.CHECKPOINT_ROLLED_BACK,
            size,
            f"{name} follows a checkpoint of size {size} (root {root.hex()}) that is not stored before it: "
            "a checkpoint was deleted",
        )


def _check_root(scan: _Scan, checkpoint: Checkpoint, name: str, vouched: int = 0) -> bool:
    """Whether the log's tree at the checkpoint's size has its root. `vouched`: the largest smaller size at
    which an earlier checkpoint matched, so every entry before it is as signed. When the root differs, an
    entry was rewritten together with its leaf hash (and the stored nodes): which one cannot be known
    from the roots, so the fault keeps the checkpoint's size as its index and names the range it lies in."""
    if checkpoint.size > scan.expected:
        scan.fail(
            FaultKind.LEAF_MISSING,
            scan.expected,
            f"{name} covers {checkpoint.size} entries but the log has {scan.expected}",
        )
        return False
    if scan.roots.get(checkpoint.size) != checkpoint.root:
        scan.fail(
            FaultKind.CHECKPOINT_INCONSISTENT,
            checkpoint.size,
            f"{name} (size {checkpoint.size}) does not match the log's tree: an entry from {vouched} to "
            f"{checkpoint.size - 1} differs from what it signed"
            + (f" (the entries before {vouched} match an earlier checkpoint)" if vouched else ""),
        )
        return False
    return True


# --------------------------------------------------------------------------- offline verification


def verify_offline(lines: Iterable[bytes], checkpoint_note: str, public_key: str) -> VerifyReport:
    """Check exported entries against a signed checkpoint, with no database: what an outside auditor runs."""
    started = time.perf_counter()
    report = VerifyReport()
    scan = _Scan()
    try:
        checkpoint = open_signed_checkpoint(checkpoint_note, Verifier(public_key))
    except NoteError as error:
        report.fault = Fault(FaultKind.CHECKPOINT_SIGNATURE_INVALID, 0, str(error))
        return report
    try:
        named = _named_previous(checkpoint)
    except NoteError as error:
        scan.fail(FaultKind.CHECKPOINT_INCONSISTENT, checkpoint.size, f"the checkpoint: {error}")
        named = None
    # The root at the size of the checkpoint it names as the one before it is taken on the way past, by
    # the test each line already makes (no work added per entry).
    cut = named[0] if named is not None and named[0] < checkpoint.size else checkpoint.size
    limit = cut
    tree = merkle.CompactRange()
    beyond = 0
    for position, raw in enumerate(lines):
        line = raw.rstrip(b"\r\n")
        if position >= limit:
            if position < checkpoint.size:  # at the cut
                scan.roots[cut] = tree.root()
                limit = checkpoint.size
            else:
                beyond += 1 if line.strip() else 0  # a blank line at the end holds no entry
                continue
        if line.startswith(b'{"redacted":'):
            leaf = _redacted_leaf(line)
            if leaf is None:
                scan.fail(
                    FaultKind.LEAF_ALTERED,
                    position,
                    f'line {position + 1} is not a valid redaction: expected {{"redacted":"<leaf hash>"}} '
                    "with the 32-byte leaf hash as 64 hex digits",
                )
                leaf = bytes(32)
            scan.redacted += 1
        else:
            leaf = hashlib.sha256(b"\x00" + line).digest()
            if _body_index(line) != position:
                _classify_misplaced(scan, position, _body_index(line))
        tree.append(leaf)
        scan.expected = position + 1
    report.size = scan.expected
    report.checkpoints = 1
    report.redacted = scan.redacted
    scan.roots[scan.expected] = report.root = tree.root()
    _check_root(scan, checkpoint, "the checkpoint")
    if named is not None and named[0] <= scan.expected and scan.roots.get(named[0]) != named[1]:
        scan.fail(
            FaultKind.CHECKPOINT_INCONSISTENT,
            named[0],
            f"the checkpoint says the one before it had size {named[0]} and root {named[1].hex()}, "
            "which does not match these entries",
        )
    if beyond:
        scan.fail(
            FaultKind.EXTRA_LEAF,
            checkpoint.size,
            f"{beyond} line(s) beyond the checkpoint's size {checkpoint.size} are not covered by it, from "
            f"line {checkpoint.size + 1} (entry {checkpoint.size}) on: export with --to {checkpoint.size}, "
            "or verify against a newer checkpoint",
        )
    report.fault = scan.fault
    report.seconds = time.perf_counter() - started
    return report


def _redacted_leaf(line: bytes) -> bytes | None:
    """The leaf hash a redacted entry's line gives, None unless it is exactly `{"redacted":"<64 hex>"}`."""
    try:
        value = json.loads(line)
        leaf = bytes.fromhex(value["redacted"])
    except (ValueError, KeyError, TypeError):
        return None
    return leaf if len(leaf) == 32 and value.keys() == {"redacted"} else None


# --------------------------------------------------------------------------- the checkpointer


class Checkpointer:
    """Background thread of the web process: signs new entries at least every `checkpoint_every_seconds`."""

    def __init__(self, factory: sessionmaker[Session], settings: Settings) -> None:
        self._factory = factory
        self._settings = settings
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="custodes-checkpointer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self._settings.checkpoint_every_seconds):
            try:
                with transaction(self._factory) as session:
                    issue_checkpoint(session, self._settings)
            except Exception:  # keep checkpointing; the failure is logged for the operator
                log.exception("checkpoint_failed")


def record_verification(session: Session, report: VerifyReport, by: str) -> None:
    fault = report.fault
    session.add(
        VerificationRun(
            at=utcnow(),
            by=by,
            intact=report.intact,
            size=report.size,
            fault_kind=str(fault.kind) if fault else None,
            fault_index=fault.index if fault else None,
            message=fault.message if fault else None,
            seconds=report.seconds,
        )
    )


def latest_verification(session: Session) -> VerificationRun | None:
    return session.scalars(select(VerificationRun).order_by(VerificationRun.id.desc()).limit(1)).first()


def _searched_people(criteria: EntryFilter) -> list[str]:
    return [p for p in (criteria.subject, _staff_id(criteria.actor)) if p]


def check_search_reason(criteria: EntryFilter, reason: str | None) -> None:
    """A search for a person or a member of staff needs its reason (LedgerError if it is missing)."""
    if _searched_people(criteria) and not (reason or "").strip():
        raise LedgerError(
            "give the reason for this search (a case reference or the request you are answering)"
        )


def record_search(
    session: Session,
    actor: str,
    criteria: EntryFilter,
    reason: str | None,
    shown: Iterable[str] = (),
) -> None:
    """Searching the ledger for a person or a member of staff consults their data, and so does a page of
    results that names people: log it, with the reason, naming the people searched for and `shown` (the
    people the results on screen name: one page of them, not every match)."""
    check_search_reason(criteria, reason)
    people = dict.fromkeys([*_searched_people(criteria), *shown])
    record_consultation(
        session,
        actor=actor,
        object_type="ledger_search",
        subjects=tuple(people),
        justification=(reason or "").strip() or "ledger audit",
        detail={"criteria": criteria.described()},
    )


@dataclass(frozen=True, slots=True)
class SubjectView:
    """An entry as a report on one person shows it (a subject access report, handed to that person): the
    people column names only them, the others are counted, and the texts that name others are withheld."""

    subjects: tuple[str, ...]  # the subject, if the entry names them
    others: int  # how many other people the entry concerns (not named)
    justification: str | None
    detail: dict[str, Any] | None  # None: withheld, it names other people

    @property
    def people(self) -> str:
        named = ", ".join(self.subjects)
        if not self.others:
            return named
        others = f"{self.others} other {'person' if self.others == 1 else 'people'}"
        return f"{named} and {others}" if named else others


WITHHELD_FOR_OTHERS = "(withheld: it names other people)"
SURNAME_ALONE_FROM = 3  # letters: a shorter surname (Li, Ng) names someone only with a forename


def _name_words(text: str) -> str:
    """A name as a pattern: its words in order, any run of spaces between them, any case."""
    return r"\s+".join(re.escape(word) for word in text.split())


def _name_pattern(names: Iterable[tuple[str, str]]) -> re.Pattern[str] | None:
    """What names a person in a typed text: their surname with their forenames (all of them, or any one)
    either way round ("Jack Smith", "SMITH Jack", "Smith, Jack"), and the surname alone if it has at least
    SURNAME_ALONE_FROM letters; whole words only ("Smith's" counts, "Smithson" does not), any case."""
    forms: set[str] = set()
    for surname, forenames in names:
        surname, forenames = " ".join(surname.split()), " ".join(forenames.split())
        if not surname:
            continue
        if sum(character.isalpha() for character in surname) >= SURNAME_ALONE_FROM:
            forms.add(_name_words(surname))
        for given in {forenames, *forenames.split()} - {""}:
            forms.add(f"{_name_words(given)}\\s+{_name_words(surname)}")
            forms.add(f"{_name_words(surname)},?\\s+{_name_words(given)}")
    if not forms:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(sorted(forms, key=len, reverse=True)) + r")(?!\w)", re.I)


class KnownNames:
    """The names of the people entries concern, by their subject id (as a module that keeps a register of
    people knows them: `ledger.web.add_name_lookup`), so that a report on one person can withhold a text
    that names another by name, not only by id. A person not given here is found by their id alone."""

    def __init__(self, names: Mapping[str, Iterable[tuple[str, str]]] | None = None) -> None:
        found = {person: _name_pattern(pairs) for person, pairs in (names or {}).items()}
        self._patterns = {person: pattern for person, pattern in found.items() if pattern is not None}

    def named(self, text: str, people: Iterable[str]) -> bool:
        """Whether `text` names one of `people` by name."""
        return any((pattern := self._patterns.get(person)) and pattern.search(text) for person in people)


def _strings(value: Any) -> Iterator[str]:
    """The texts in a detail (keys and values), as typed: a name split by a line break is found in them,
    not in their JSON (where the break reads `\\n`)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def subject_view(entry: StoredEntry, subject: str, names: KnownNames | None = None) -> SubjectView:
    """What a report on `subject` shows of `entry`: only that person by name (see SubjectView). A text is
    withheld if it holds another person's id, or (`names`) their name as KnownNames finds it."""
    named = entry.subjects
    others = [person for person in named if person != subject]
    mine = tuple(person for person in named if person == subject)[:1]

    def names_others(*texts: str) -> bool:
        if any(person in text for text in texts for person in others):
            return True
        return names is not None and any(names.named(text, others) for text in texts)

    justification = entry.justification
    if justification and names_others(justification):
        justification = WITHHELD_FOR_OTHERS
    detail: dict[str, Any] | None = entry.detail
    if detail and names_others(json.dumps(detail, ensure_ascii=False), *_strings(detail)):
        detail = None
    return SubjectView(subjects=mine, others=len(others), justification=justification, detail=detail)


def record_export(session: Session, actor: str, start: int, end: int, channel: str) -> None:
    """Entries [start, end) handed out whole (they name people and reasons): a consultation, recorded by
    range, since an export may hold millions of entries."""
    record_consultation(
        session,
        actor=actor,
        object_type="ledger_export",
        object_id=f"{start}-{end}",
        justification=f"ledger entries read through the {channel} (verification or audit)",
        detail={"from": start, "to": end},
    )


def _staff_id(actor: str | None) -> str | None:
    return actor.split(":", 1)[1] if actor and actor.startswith("staff:") else None


def get_entry(session: Session, index: int, hidden: Collection[str] = ()) -> StoredEntry | None:
    """One entry, None if there is none or it mentions one of `hidden` (as EntryFilter.hidden). Not logged:
    the caller records what it shows (record_entry_view)."""
    query = _filtered(EntryFilter(hidden=frozenset(hidden))).where(LedgerEntry.idx == index)
    row = session.scalars(query).first()
    return None if row is None else _stored(row)


def record_entry_view(session: Session, entry: StoredEntry, actor: str) -> None:
    """Showing an entry consults the data of the people it is shown to concern."""
    record_consultation(
        session,
        actor=actor,
        object_type="ledger_entry",
        object_id=str(entry.index),
        subjects=tuple(entry.shown_subjects),
        justification=f"audit of ledger entry {entry.index}",
    )


def view_entry(session: Session, index: int, actor: str) -> StoredEntry | None:
    """One entry for the audit screen; showing it consults the data of the people it concerns."""
    found = get_entry(session, index)
    if found is not None:
        record_entry_view(session, found, actor)
    return found


# --------------------------------------------------------------------------- PostgreSQL privileges


def restrict_app_role(session: Session, role: str) -> list[str]:
    """Grant a PostgreSQL login role what the application needs, and no UPDATE/DELETE/TRUNCATE on the
    ledger beyond the redaction columns: the triggers' guard, doubled by privileges (ledger.md)."""
    if session.get_bind().dialect.name != "postgresql":
        raise LedgerError("application-role privileges apply to PostgreSQL only")
    if not role.replace("_", "").isalnum():
        raise LedgerError("a role name is letters, digits and underscores")
    quoted = f'"{role}"'
    ledger_tables = ", ".join(APPEND_ONLY_TABLES)
    statements = [
        f"GRANT USAGE ON SCHEMA public TO {quoted}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}",
        f"REVOKE UPDATE, DELETE, TRUNCATE ON {ledger_tables} FROM {quoted}",
        f"GRANT UPDATE (body, object_id, redacted_at) ON ledger_entry TO {quoted}",
        f"GRANT DELETE ON ledger_subject TO {quoted}",
    ]
    for statement in statements:
        session.execute(text(statement))
    return statements
