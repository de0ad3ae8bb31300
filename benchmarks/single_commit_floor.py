"""What one durable transaction costs through each layer of the stack, before any ledger code runs.

The spec's target for "an entry committed on its own with its business change (one transaction each)" is
≥ 2,000/s on SQLite, i.e. 0.5 ms a transaction. Each transaction here writes what the service writes for
one configuration change: a `config_value` row, a `ledger_entry` row (a prebuilt ≈390-byte body) and its
`ledger_subject` row, on the migrated schema, WAL + synchronous=FULL + BEGIN IMMEDIATE:

  raw      the sqlite3 module alone;
  core     SQLAlchemy Core: `engine.begin()` on the application's engine (`make_engine`), three INSERTs;
  session  the application's session (`make_session_factory`, `kit.db.transaction`): the business row
           added through the ORM, the ledger rows on the session's DBAPI cursor as the ledger writes them.

Nothing is hashed, numbered or checkpointed: the rates are what the ledger's own work must fit under.
`ledger_append.py --only single` measures the real path.

    .venv/bin/python benchmarks/single_commit_floor.py [--seconds 10] [--only raw,core,session]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common
from sqlalchemy import insert

from custodes.identity.models import ConfigValue
from custodes.kit.db import transaction, utcnow
from custodes.ledger.models import LedgerEntry, LedgerSubject

TARGET = 2_000
AT_TEXT = "2026-11-22 12:00:00.000000"
ENTRY_SQL = (
    "INSERT INTO ledger_entry (idx, at, actor, op, object_type, object_id, body, leaf_hash) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
SUBJECT_SQL = "INSERT INTO ledger_subject (idx, subject_id) VALUES (?, ?)"
BODY = b'{"actor":"staff:S00001",' + b"x" * 340 + b"}"
LEAF = os.urandom(32)


def entry_row(i: int) -> tuple[object, ...]:
    return (i, AT_TEXT, "staff:S00001", "configuration", "config", f"bench.{i}", BODY, LEAF)


def raw(database: common.BenchDatabase) -> Callable[[int], None]:
    path = database.url.removeprefix("sqlite:///")
    connection = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=30000"):
        connection.execute(f"PRAGMA {pragma}")

    def one(i: int) -> None:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute(
            "INSERT INTO config_value (key, value, changed_by, changed_at) VALUES (?, ?, ?, ?)",
            (f"bench.{i}", str(i), "S00001", AT_TEXT),
        )
        connection.execute(ENTRY_SQL, entry_row(i))
        connection.execute(SUBJECT_SQL, (i, f"bench.{i}"))
        connection.execute("COMMIT")

    return one


def core(database: common.BenchDatabase) -> Callable[[int], None]:
    business, entry, subject = (
        insert(ConfigValue.__table__),
        insert(LedgerEntry.__table__),
        insert(LedgerSubject.__table__),
    )

    def one(i: int) -> None:
        now = utcnow()
        with database.engine.begin() as connection:
            connection.execute(
                business, {"key": f"bench.{i}", "value": str(i), "changed_by": "S00001", "changed_at": now}
            )
            connection.execute(
                entry,
                {
                    "idx": i,
                    "at": now,
                    "actor": "staff:S00001",
                    "op": "configuration",
                    "object_type": "config",
                    "object_id": f"bench.{i}",
                    "body": BODY,
                    "leaf_hash": LEAF,
                },
            )
            connection.execute(subject, {"idx": i, "subject_id": f"bench.{i}"})

    return one


def session(database: common.BenchDatabase) -> Callable[[int], None]:
    def one(i: int) -> None:
        with transaction(database.factory) as work:
            work.add(ConfigValue(key=f"bench.{i}", value=str(i), changed_by="S00001", changed_at=utcnow()))
            work.flush()
            cursor = work.connection().connection.driver_connection.cursor()
            cursor.execute(ENTRY_SQL, entry_row(i))
            cursor.execute(SUBJECT_SQL, (i, f"bench.{i}"))

    return one


LAYERS = {"raw": raw, "core": core, "session": session}


def measure(name: str, seconds: float) -> None:
    with common.bench_database("sqlite") as database:
        one = LAYERS[name](database)
        one(0)  # warm up: statements compiled, the pool's connection open
        done, started = 1, time.perf_counter()
        while time.perf_counter() - started < seconds:
            one(done)
            done += 1
        elapsed = time.perf_counter() - started
    rate = (done - 1) / elapsed
    common.report(f"{name:<8} one business row + one entry per durable transaction", rate, "tx/s", TARGET)
    print(f"  {elapsed / (done - 1) * 1000:.3f} ms a transaction", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--only", default="raw,core,session")
    args = parser.parse_args()
    common.header("one durable transaction through each layer (SQLite, WAL, synchronous=FULL)")
    for name in args.only.split(","):
        measure(name.strip(), args.seconds)


if __name__ == "__main__":
    main()
