"""What the ledger's SQLite schema alone allows: a bare sqlite3 loop, no service, no SQLAlchemy.

Writes transactions of --batch rows shaped like the ledger's (≈390-byte bodies, random staff and nominal
ids, one subject each) with WAL + synchronous=FULL + BEGIN IMMEDIATE, for --seconds on each variant:

  A  the migrated schema: search indexes that lead with the era (idx >> 12), and ledger_subject;
  R  A with the search indexes keyed at random, as before migration 0006 (actor; object type and id;
     ledger_subject by person);
  C  ledger_entry with no secondary index and no ledger_subject rows.

It is the ceiling that the service's batched append cannot pass whatever its Python costs.

    .venv/bin/python benchmarks/sqlite_schema_ceiling.py [--seconds 15] [--batch 1000] [--only A,R]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

from custodes.database import migrate
from custodes.kit.canonical import canonical_json
from custodes.kit.db import make_engine

VARIANTS = {
    "A": "migrated schema (era-first search indexes + ledger_subject)",
    "R": "search indexes keyed at random (before migration 0006)",
    "C": "ledger_entry only, no secondary index, no ledger_subject",
}
ERA_INDEXES = ("ix_ledger_entry_era_actor", "ix_ledger_entry_era_object", "ix_ledger_subject_era_subject")
RANDOM_INDEXES = (
    "CREATE INDEX ix_ledger_entry_actor ON ledger_entry (actor)",
    "CREATE INDEX ix_ledger_entry_object ON ledger_entry (object_type, object_id)",
    "CREATE INDEX ix_ledger_subject_subject_id ON ledger_subject (subject_id)",
)


def prepare(path: Path, variant: str) -> None:
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    connection = sqlite3.connect(path, isolation_level=None)
    if variant in "RC":
        for name in ERA_INDEXES:
            connection.execute(f"DROP INDEX {name}")
    if variant == "R":
        for statement in RANDOM_INDEXES:
            connection.execute(statement)
    if variant == "C":
        connection.execute("DROP INDEX ix_ledger_entry_at")
    connection.close()


def run(variant: str, seconds: float, batch: int, rng: random.Random) -> float:
    folder = Path(tempfile.mkdtemp(prefix="custodes-ceiling-"))
    path = folder / "ceiling.db"
    prepare(path, variant)
    connection = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=30000"):
        connection.execute(f"PRAGMA {pragma}")
    with_subjects = variant in "AR"
    drafts = common.draft_batches(rng, batch, distinct=4)
    done = 0
    inserting = committing = 0.0
    started = time.perf_counter()
    turn = 0
    while time.perf_counter() - started < seconds:
        at = time.strftime("%Y-%m-%d %H:%M:%S.000000")
        entries, subjects = [], []
        for offset, draft in enumerate(drafts[turn % len(drafts)]):
            index = done + offset
            body = canonical_json(
                {
                    "v": 1,
                    "index": index,
                    "actor": draft.actor,
                    "object": {"id": draft.object_id},
                    "justification": draft.justification,
                    "detail": draft.detail,
                    "salt": os.urandom(16).hex(),
                }
            )
            leaf = hashlib.sha256(b"\x00" + body).digest()
            entries.append(
                (index, at, draft.actor, "consultation", draft.object_type, draft.object_id, body, leaf)
            )
            subjects.append((draft.object_id, index))
        turn += 1
        begun = time.perf_counter()
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(
            "INSERT INTO ledger_entry (idx, at, actor, op, object_type, object_id, body, leaf_hash) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            entries,
        )
        if with_subjects:
            connection.executemany("INSERT INTO ledger_subject (subject_id, idx) VALUES (?, ?)", subjects)
        inserted = time.perf_counter()
        connection.execute("COMMIT")
        committed = time.perf_counter()
        inserting += inserted - begun
        committing += committed - inserted
        done += len(entries)
    transactions = done / batch
    rate = done / (inserting + committing)  # the database's share only: rows are built outside the timing
    print(
        f"{variant}  {VARIANTS[variant]:<58} {rate:>9,.0f} rows/s (DB time only)   per {batch:,}: "
        f"INSERTs {inserting / transactions * 1000:5.1f} ms, "
        f"COMMIT {committing / transactions * 1000:5.1f} ms "
        f"({done:,} rows)",
        flush=True,
    )
    connection.close()
    for leftover in folder.iterdir():
        leftover.unlink()
    folder.rmdir()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--only", default="A,R,C")
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args()
    common.header(
        "SQLite schema ceiling (bare sqlite3, durable, rows shaped like ledger entries; "
        "rates count only the time in INSERT and COMMIT)"
    )
    rng = random.Random(args.seed)
    for variant in args.only.split(","):
        run(variant.strip(), args.seconds, args.batch, rng)


if __name__ == "__main__":
    main()
