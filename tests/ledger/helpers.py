"""Shared helpers for the ledger tests: fresh logs on a real database, entry drafts, raw-SQL tampering."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from custodes.kit.db import make_engine, make_session_factory, transaction
from custodes.ledger import service as ledger
from custodes.ledger.models import APPEND_ONLY_TABLES
from custodes.ledger.schemas import EntryDraft, Op, VerifyReport
from custodes.settings import Settings

TEST_SECRET = "test-secret-not-for-production-0123456789abcdef"


def draft(n: int, *, subjects: Sequence[str] | None = None) -> EntryDraft:
    """A varied, valid entry: cycles through operations, with and without subjects."""
    ops = (Op.COLLECTION, Op.ALTERATION, Op.CONSULTATION, Op.DISCLOSURE, Op.REVIEW, Op.ERASURE)
    op = ops[n % len(ops)]
    return EntryDraft(
        actor=f"staff:S{n % 7}" if n % 3 else "system:test",
        op=op,
        object_type="record",
        object_id=f"R{n}",
        subjects=tuple(subjects) if subjects is not None else ((f"P{n % 11}",) if n % 2 else ()),
        justification=f"case C{n}" if op in (Op.CONSULTATION, Op.DISCLOSURE) else None,
        recipients=("org:CPS",) if op == Op.DISCLOSURE else (),
        detail={"n": n, "note": "ünïcode ✓" if n % 5 == 0 else "plain"},
    )


@dataclass
class Log:
    """A fresh, migrated database that really commits, with its own home (signing key, witness file)."""

    backend: str
    url: str
    engine: Engine
    factory: sessionmaker[Session]
    settings: Settings

    def append(self, count: int, start: int | None = None) -> int:
        """Append `count` entries in one transaction; returns the new tree size."""
        with transaction(self.factory) as session:
            first = ledger.size(session) if start is None else start
            ledger.record_many(session, [draft(first + i) for i in range(count)])
            return ledger.flush_pending(session)

    def checkpoint(self) -> int:
        with transaction(self.factory) as session:
            issued = ledger.issue_checkpoint(session, self.settings, only_if_grown=False)
            assert issued is not None
            return issued.size

    def verify(self, *, parallel: bool = False) -> VerifyReport:
        """Verify in this process, or (parallel) in two worker processes over 16-entry chunks."""
        with transaction(self.factory) as session:
            if parallel:
                return ledger.verify(session, self.settings, workers=2, chunk_level=4)
            return ledger.verify(session, self.settings)

    def lines(self, start: int = 0, end: int | None = None) -> list[bytes]:
        with transaction(self.factory) as session:
            return list(ledger.export_lines(session, start, end))

    def close(self) -> None:
        self.engine.dispose()


def settings_for(home: Path, url: str) -> Settings:
    current = Settings(home=home, database_url=url, secret_key=TEST_SECRET)
    home.mkdir(parents=True, exist_ok=True)
    ledger.ensure_signing_key(current)
    return current


def open_log(backend: str, url: str, home: Path) -> Log:
    engine = make_engine(url)
    return Log(backend, url, engine, make_session_factory(engine), settings_for(home, url))


def cli_env(log: Log) -> dict[str, str]:
    return {
        "CUSTODES_HOME": str(log.settings.home),
        "CUSTODES_DATABASE_URL": log.url,
        "CUSTODES_SECRET_KEY": TEST_SECRET,
    }


@contextmanager
def tampering(url: str) -> Iterator[Connection]:
    """A raw connection with the append-only guards switched off, as an administrator with DDL rights has.

    SQLite: the triggers are dropped (and this plain engine does not enforce foreign keys);
    PostgreSQL: `session_replication_role = replica` stops the triggers (and the foreign-key checks) firing.
    """
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            if engine.dialect.name == "sqlite":
                for table in APPEND_ONLY_TABLES:
                    connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_update")
                    connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_delete")
                    connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_replace")
            else:
                connection.exec_driver_sql("SET session_replication_role = replica")
            yield connection
    finally:
        engine.dispose()


def row(connection: Connection, index: int) -> dict[str, Any]:
    found = (
        connection.execute(text("SELECT * FROM ledger_entry WHERE idx = :i"), {"i": index}).mappings().one()
    )
    return dict(found)


def forged_body(index: int) -> bytes:
    """A well-formed entry for `index` that the log never held."""
    from custodes.kit.canonical import canonical_json

    return canonical_json(
        {
            "v": 1,
            "index": index,
            "at": "2020-01-01T00:00:00.000000Z",
            "actor": "staff:FORGER",
            "op": "consultation",
            "object": {"type": "record", "id": "FORGED"},
            "subjects": [],
            "justification": "none",
            "recipients": [],
            "detail": {},
            "salt": "00" * 16,
        }
    )


def leaf_of(body: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + body).digest()


def parsed(line: bytes) -> dict[str, Any]:
    value = json.loads(line)
    assert isinstance(value, dict)
    return value


def a_writer_can_lock(log: Log) -> bool:
    """SQLite: whether another connection can take the write lock now (within a second)."""
    writer = sqlite3.connect(log.url.removeprefix("sqlite:///"), timeout=1, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError as error:
        assert "locked" in str(error)
        return False
    finally:
        writer.close()


def reads_only(log: Log, session: Session) -> bool:
    """Whether `session` reads without keeping writers out: on SQLite, another connection can take the
    write lock meanwhile; on PostgreSQL, the transaction is READ ONLY (a plain one takes no lock to read
    either, but it is not the read-only unit of work the routes are meant to use)."""
    if log.backend == "sqlite":
        return a_writer_can_lock(log)
    return session.execute(text("SHOW transaction_read_only")).scalar() == "on"


def a_writer_commits(log: Log, session: Session) -> tuple[bool, int]:
    """While `session` reads: whether it is read-only (above), and the ledger's size after a writer appends
    an entry meanwhile (-1 if it would have to wait for the reader: on SQLite, 30 s and then fail)."""
    free = reads_only(log, session)
    return free, log.append(1) if free or log.backend != "sqlite" else -1
