"""Ledger append throughput (spec: ledger.md, "Performance targets").

(a) durable batched append: transactions of 1,000 consultation entries, for --seconds or --entries;
    target ≥ 50,000 entries/s on SQLite, ≥ 20,000 entries/s on PostgreSQL.
(b) one entry committed with its business change per transaction (a `config_value` row, or a `staff` row,
    plus its entry, through the ORM session as the application does it); target ≥ 2,000 entries/s on SQLite.

    .venv/bin/python benchmarks/ledger_append.py [--backend sqlite|postgresql] [--seconds 30] [--profile]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

from custodes.identity.models import ConfigValue
from custodes.kit.db import transaction, utcnow
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryDraft, Op
from custodes.workforce.models import Staff

BATCHED_TARGET = {"sqlite": 50_000, "postgresql": 20_000}
SINGLE_TARGET = {"sqlite": 2_000}


def batched(database: common.BenchDatabase, args: argparse.Namespace, rng: random.Random) -> None:
    pool = common.draft_batches(rng, args.batch)
    # Warm up: the first append loads the frontier, compiles statements, opens the pool's connection.
    with transaction(database.factory) as session:
        ledger.record_many(session, pool[0])
    done = 0
    commits: list[float] = []
    turn = 0
    phases = common.Phases(database.engine, enabled=args.breakdown and not args.profile)
    with common.maybe_profile(args.profile, f"batched append ({database.label})"):
        started = time.perf_counter()
        deadline = started + args.seconds
        while True:
            drafts = pool[turn % len(pool)]
            turn += 1
            begun = time.perf_counter()
            with transaction(database.factory) as session:
                ledger.record_many(session, drafts)
            now = time.perf_counter()
            commits.append(now - begun)
            done += len(drafts)
            if (args.entries and done >= args.entries) or (not args.entries and now >= deadline):
                break
        elapsed = time.perf_counter() - started
    phases.close()
    rate = done / elapsed
    print(
        f"  {done:,} entries in {len(commits):,} transactions of {args.batch:,}, {elapsed:.1f} s; "
        f"per transaction p50 {common.percentile(commits, 0.5) * 1000:.1f} ms, "
        f"p99 {common.percentile(commits, 0.99) * 1000:.1f} ms"
    )
    common.report(
        f"append (batched {args.batch:,}, {common.durability(args, database)}, {database.label})",
        rate,
        "entries/s",
        BATCHED_TARGET.get(database.backend),
    )
    if args.profile:
        print("  (timed under cProfile: the rate is lower than without --profile)")
    phases.print(elapsed, len(commits), f"transaction of {args.batch:,}")
    thirds = [commits[i * len(commits) // 3 : (i + 1) * len(commits) // 3] for i in range(3)]
    print(
        "  mean transaction time by third of the run (the log grows): "
        + ", ".join(f"{sum(t) / len(t) * 1000:.1f} ms" for t in thirds if t)
    )
    with database.factory() as session:
        size = ledger.size(session)
    assert size == done + len(pool[0]), (size, done)


def single(database: common.BenchDatabase, args: argparse.Namespace, rng: random.Random) -> None:
    run = rng.randrange(10**6)
    actors = [f"S{rng.randrange(100000):05d}" for _ in range(200)]

    def one(i: int) -> None:
        staff_id = actors[i % len(actors)]
        with transaction(database.factory) as session:
            now = utcnow()
            if args.business == "config":
                key = f"bench.{run}.{i}"
                session.add(ConfigValue(key=key, value=str(i), changed_by=staff_id, changed_at=now))
                draft = EntryDraft(
                    actor=f"staff:{staff_id}",
                    op=Op.CONFIGURATION,
                    object_type="config",
                    object_id=key,
                    detail={"old": "", "new": str(i)},
                )
            else:
                new_id = f"B{run:06d}{i:07d}"
                session.add(
                    Staff(
                        staff_id=new_id,
                        surname="Benchmark",
                        forenames="Pat",
                        date_of_birth=date(1980, 1, 1),
                        team_id="T001",
                        area_code="A1",
                        line_manager_id=staff_id,
                        home_postcode="AB1 2CD",
                        created_at=now,
                        updated_at=now,
                    )
                )
                draft = EntryDraft(
                    actor=f"staff:{staff_id}",
                    op=Op.COLLECTION,
                    object_type="staff",
                    object_id=new_id,
                    subjects=(new_id,),
                    detail={"fields": ["surname", "forenames", "date_of_birth", "team_id"]},
                )
            ledger.record(session, draft)

    one(-1)  # warm up
    done = 0
    latencies: list[float] = []
    phases = common.Phases(database.engine, enabled=args.breakdown and not args.profile)
    with common.maybe_profile(args.profile, f"single-entry transactions ({database.label})"):
        started = time.perf_counter()
        deadline = started + args.single_seconds
        while True:
            begun = time.perf_counter()
            one(done)
            now = time.perf_counter()
            latencies.append(now - begun)
            done += 1
            if now >= deadline:
                break
        elapsed = time.perf_counter() - started
    phases.close()
    print(
        f"  {done:,} transactions ({args.business} row + 1 entry each), {elapsed:.1f} s; "
        f"p50 {common.percentile(latencies, 0.5) * 1000:.2f} ms, "
        f"p99 {common.percentile(latencies, 0.99) * 1000:.2f} ms"
    )
    common.report(
        f"append (one entry + its {args.business} row per transaction, "
        f"{common.durability(args, database)}, {database.label})",
        done / elapsed,
        "entries/s",
        SINGLE_TARGET.get(database.backend),
    )
    if args.profile:
        print("  (timed under cProfile: the rate is lower than without --profile)")
    phases.print(elapsed, done, "transaction")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    common.add_common_arguments(parser)
    parser.add_argument("--seconds", type=float, default=30.0, help="duration of (a), batched")
    parser.add_argument(
        "--entries", type=int, default=0, help="stop (a) after N entries instead of --seconds"
    )
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument(
        "--single-seconds", type=float, default=15.0, help="duration of (b), one per transaction"
    )
    parser.add_argument("--business", choices=("config", "staff"), default="config")
    parser.add_argument("--only", choices=("batched", "single"), default=None)
    parser.add_argument(
        "--no-breakdown",
        dest="breakdown",
        action="store_false",
        help="no wall-clock breakdown: its wrappers cost ~0.5 µs a call, ~2 %% of a batched append",
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)
    common.header(f"ledger append ({args.backend})")
    if args.only != "single":
        with common.bench_database(
            args.backend, pg_fsync=args.pg_fsync == "on", sqlite_sync=args.sqlite_sync
        ) as database:
            batched(database, args, rng)
    if args.only != "batched":
        with common.bench_database(
            args.backend, pg_fsync=args.pg_fsync == "on", sqlite_sync=args.sqlite_sync
        ) as database:
            single(database, args, rng)


if __name__ == "__main__":
    main()
