"""Ledger tables, all append-only: database triggers refuse UPDATE and DELETE (see *_append_only_ddl)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    SQLColumnExpression,
    String,
    Text,
    literal_column,
)
from sqlalchemy.orm import Mapped, mapped_column

from custodes.kit.db import Base, UTCDateTime

_INDEX = BigInteger().with_variant(Integer, "sqlite")

# Search indexes lead with the entry's era (its index >> ERA_BITS, 4,096 entries): a batch of appends then
# lands in the newest few pages of each index instead of a page per entry scattered over the whole index,
# which is what held durable batched appends on SQLite to ~19,000/s (docs/performance.md). A search asks
# each era in turn (`service._by_era`). The era is a function of the verified index, so it cannot be
# tampered with apart from it.
ERA_BITS = 12


def era(index: SQLColumnExpression[int]) -> ColumnElement[int]:
    """The search indexes' leading expression: queries must spell it so for the planner to use them."""
    return index.op(">>")(literal_column(str(ERA_BITS)))


class LedgerEntry(Base):
    """One operation. `body` is the exact RFC 8785 bytes hashed into the tree (NULL once redacted)."""

    __tablename__ = "ledger_entry"

    # On SQLite an INTEGER PRIMARY KEY is the rowid itself: one B-tree fewer to write on every append.
    idx: Mapped[int] = mapped_column(_INDEX, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(80))
    op: Mapped[str] = mapped_column(String(32))  # 16 values: an index would cost every append, help no search
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(160))
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    redacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


Index("ix_ledger_entry_era_actor", era(LedgerEntry.idx), LedgerEntry.actor)
Index("ix_ledger_entry_era_object", era(LedgerEntry.idx), LedgerEntry.object_type, LedgerEntry.object_id)


class LedgerSubject(Base):
    """Which people an entry concerns, so "everything done with X's data" is one indexed lookup.

    Stored in entry order (appends go to the end; verify reads it alongside the entries), with an index
    by person for searches.
    """

    __tablename__ = "ledger_subject"

    idx: Mapped[int] = mapped_column(_INDEX, ForeignKey("ledger_entry.idx"), primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(160), primary_key=True)

    __table_args__ = ({"sqlite_with_rowid": False},)


Index("ix_ledger_subject_era_subject", era(LedgerSubject.idx), LedgerSubject.subject_id)


class LedgerNode(Base):
    """Stored interior hashes: complete aligned subtrees every NODE_STRIDE levels (proofs cost O(log n))."""

    __tablename__ = "ledger_node"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LedgerCheckpoint(Base):
    """A signed tree head, as issued (C2SP signed-note text)."""

    __tablename__ = "ledger_checkpoint"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    size: Mapped[int] = mapped_column(BigInteger)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LedgerRedaction(Base):
    """Authority to redact one entry's bytes at the end of retention (the only change the triggers allow)."""

    __tablename__ = "ledger_redaction"

    idx: Mapped[int] = mapped_column(BigInteger, ForeignKey("ledger_entry.idx"), primary_key=True)
    redacted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(200))


APPEND_ONLY_TABLES = (
    "ledger_entry",
    "ledger_subject",
    "ledger_node",
    "ledger_checkpoint",
    "ledger_redaction",
)

# An entry may change in one way only: its bytes and object id cleared, once, when a redaction row
# authorises it. Its leaf hash stays, so the tree still verifies. (`verify` also wants the `erasure` entry
# that records each redaction.)
_REDACTION_ALLOWED = (
    "OLD.body IS NOT NULL AND NEW.body IS NULL AND NEW.redacted_at IS NOT NULL AND NEW.object_id IS NULL"
    " AND NEW.idx = OLD.idx AND NEW.leaf_hash = OLD.leaf_hash AND NEW.at = OLD.at"
    " AND NEW.actor = OLD.actor AND NEW.op = OLD.op AND NEW.object_type = OLD.object_type"
    " AND EXISTS (SELECT 1 FROM ledger_redaction r WHERE r.idx = OLD.idx)"
)
_SUBJECT_DELETE_ALLOWED = "EXISTS (SELECT 1 FROM ledger_redaction r WHERE r.idx = OLD.idx)"


def sqlite_append_only_ddl() -> list[str]:
    ddl = []
    for table in APPEND_ONLY_TABLES:
        update_guard = f"WHEN NOT ({_REDACTION_ALLOWED})" if table == "ledger_entry" else ""
        delete_guard = f"WHEN NOT ({_SUBJECT_DELETE_ALLOWED})" if table == "ledger_subject" else ""
        ddl.append(
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} {update_guard} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
        )
        ddl.append(
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} {delete_guard} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
        )
    return ddl


# SQLite's INSERT OR REPLACE removes a row whose key it clashes with without firing its DELETE triggers,
# unless `recursive_triggers` is on: every connection Custodes makes turns it on (kit.db), so the triggers
# above refuse it there at no cost to appends. The tables written once per checkpoint or redaction also
# refuse a clashing row on any connection, with a BEFORE INSERT trigger (migration 0018); the per-entry
# tables do not, since a trigger per inserted row cost appends 12–47% (measured), and a connection made
# outside Custodes can drop triggers anyway (verify then finds the change). PostgreSQL has no REPLACE: its
# INSERT … ON CONFLICT DO UPDATE fires the UPDATE trigger.
NO_REPLACE_KEYS = {"ledger_checkpoint": ("seq",), "ledger_redaction": ("idx",)}


def sqlite_no_replace_ddl() -> list[str]:
    ddl = []
    for table, key in NO_REPLACE_KEYS.items():
        clash = " AND ".join(f"old_row.{column} = NEW.{column}" for column in key)
        ddl.append(
            f"CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table} "  # noqa: S608 - fixed names
            f"WHEN EXISTS (SELECT 1 FROM {table} old_row WHERE {clash}) "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
        )
    return ddl


def postgresql_append_only_ddl() -> list[str]:
    ddl = [
        f"""
        CREATE OR REPLACE FUNCTION custodes_ledger_guard() RETURNS trigger AS $$
        BEGIN
          IF TG_LEVEL = 'ROW' THEN
            IF TG_TABLE_NAME = 'ledger_entry' AND TG_OP = 'UPDATE' THEN
              IF {_REDACTION_ALLOWED} THEN
                RETURN NEW;
              END IF;
            ELSIF TG_TABLE_NAME = 'ledger_subject' AND TG_OP = 'DELETE' THEN
              IF {_SUBJECT_DELETE_ALLOWED} THEN
                RETURN OLD;
              END IF;
            END IF;
          END IF;
          RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
        END $$ LANGUAGE plpgsql
        """
    ]
    for table in APPEND_ONLY_TABLES:
        ddl.append(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION custodes_ledger_guard()"
        )
        ddl.append(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION custodes_ledger_guard()"
        )
    return ddl


class VerificationRun(Base):
    """The outcome of each `verify`, for the audit screen (not part of the ledger; a log of checks on it)."""

    __tablename__ = "ledger_verification_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    by: Mapped[str] = mapped_column(String(80))
    intact: Mapped[bool] = mapped_column(Boolean)
    size: Mapped[int] = mapped_column(BigInteger)
    fault_kind: Mapped[str | None] = mapped_column(String(40))
    fault_index: Mapped[int | None] = mapped_column(BigInteger)
    message: Mapped[str | None] = mapped_column(Text)
    seconds: Mapped[float] = mapped_column(Float)
