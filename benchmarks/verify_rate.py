"""Full verification rate (spec: ledger.md, "Performance targets": ≥ 500,000 entries/s).

Builds a log of --size entries (batched appends through the service, one signed checkpoint at the end so
verification also checks a signature and a root), then times `ledger.verify` over all of it.

    .venv/bin/python benchmarks/verify_rate.py [--backend sqlite|postgresql] [--size 1000000] [--keep PATH]
        [--profile]
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import random
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

from custodes.kit.db import transaction
from custodes.ledger import service as ledger
from custodes.ledger.service import CHUNK_LEVEL, _Frontier

TARGET = 500_000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    common.add_common_arguments(parser)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--build-batch", type=int, default=10_000)
    parser.add_argument("--keep", type=Path, default=None, help="SQLite file to keep and reuse")
    parser.add_argument("--repeat", type=int, default=2, help="time verify this many times; report the best")
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also time the least any verifier must do (SQLite): read each entry, hash it and the tree",
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)
    common.header(f"full verification ({args.backend}, {args.size:,} entries)")
    with common.bench_database(
        args.backend, pg_fsync=args.pg_fsync == "on", sqlite_sync=args.sqlite_sync, keep=args.keep
    ) as database:
        have = common.ledger_size(database)
        if have < args.size:
            seconds = common.append_batches(database, args.size - have, args.build_batch, rng, label="build")
            print(
                f"built {args.size - have:,} entries in {seconds:.0f} s "
                f"({(args.size - have) / seconds:,.0f}/s)"
            )
        with transaction(database.factory) as session:
            ledger.issue_checkpoint(session, database.settings)
        best = None
        for attempt in range(args.repeat):
            profile = args.profile and attempt == args.repeat - 1
            with database.factory() as session, common.maybe_profile(profile, "ledger.verify"):
                started = time.perf_counter()
                result = ledger.verify(session, database.settings)
                elapsed = time.perf_counter() - started
            if not result.intact:
                raise SystemExit(f"verification failed: {result.fault}")
            rate = result.size / elapsed
            print(
                f"  run {attempt + 1}: verified {result.size:,} entries "
                f"and {result.checkpoints} checkpoint(s) "
                f"in {elapsed:.2f} s: {rate:,.0f} entries/s" + (" (under the profiler)" if profile else "")
            )
            if not profile:
                best = rate if best is None else max(best, rate)
        if best is None:
            print("(only profiled runs; pass --repeat 2 or more for an unprofiled figure)")
            return
        common.report(
            f"full verification ({database.label}, {result.size:,} entries)", best, "entries/s", TARGET
        )
        if args.floor and database.backend == "sqlite":
            floor(database.url.removeprefix("sqlite:///"), result.size)


def _hash_chunk(task: tuple[str, int, int]) -> bytes:
    """Read [start, end), check each leaf hash and the index in its bytes, build the chunk's tree."""
    path, start, end = task
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    cursor = connection.execute(
        f"SELECT idx, body, leaf_hash FROM ledger_entry WHERE idx >= {start} AND idx < {end} ORDER BY idx"
    )
    frontier, completed, sha256, position = _Frontier(), [], hashlib.sha256, start
    while rows := cursor.fetchmany(20_000):
        leaves = []
        for idx, body, leaf in rows:
            if idx != position or sha256(b"\x00" + body).digest() != leaf:
                raise SystemExit(f"entry {position} does not verify")
            if not body.startswith(b',"index":%d,' % position, body.rfind(b',"index":')):
                raise SystemExit(f"entry {position} names another index")
            leaves.append(leaf)
            position += 1
        frontier.extend(leaves, completed)
        completed.clear()
    connection.close()
    return frontier.root()


def floor(path: str, size: int) -> None:
    """The least a verifier must do, in the same worker processes as `verify`: no searchable-column or
    subject-row check, no stored-node comparison, no checkpoint. What `verify` adds must fit above it."""
    chunk = 1 << CHUNK_LEVEL
    tasks = [(path, start, min(start + chunk, size)) for start in range(0, size, chunk)]
    with multiprocessing.get_context("fork").Pool(os.cpu_count() or 1) as pool:
        started = time.perf_counter()
        pool.map(_hash_chunk, tasks, 1)
        elapsed = time.perf_counter() - started
    common.report(
        f"floor: leaf hashes, index check and tree only, {os.cpu_count()} processes",
        size / elapsed,
        "entries/s",
        TARGET,
    )


if __name__ == "__main__":
    main()
