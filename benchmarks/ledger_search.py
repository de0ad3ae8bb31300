"""Search latency on a large log: what the era-first search indexes cost a reader (docs/performance.md).

The search indexes lead with the entry's era (4,096 entries), which keeps durable batched appends fast, so a
search asks each window of eras in turn. This times, on a kept log (build one with inclusion_proof.py
--keep), each in a fresh session as a request would: the newest 100 entries about a person, by a member of
staff and about an object, and the count of each, for --queries values sampled from the log.

    .venv/bin/python benchmarks/ledger_search.py --keep /tmp/custodes-bench/ledger-10m-era.db
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

from custodes.ledger import service as ledger
from custodes.ledger.models import ERA_BITS, LedgerEntry
from custodes.ledger.schemas import EntryFilter


def _samples(database: common.BenchDatabase, count: int, rng: random.Random) -> list[LedgerEntry]:
    size = common.ledger_size(database)
    with database.factory() as session:
        return [session.get_one(LedgerEntry, rng.randrange(size)) for _ in range(count)]


def _criteria(kind: str, entry: LedgerEntry) -> EntryFilter:
    if kind == "person":
        return EntryFilter(subject=entry.object_id)  # the benchmark's consultations name their nominal
    if kind == "staff":
        return EntryFilter(actor=entry.actor)
    return EntryFilter(object_type=entry.object_type, object_id=entry.object_id)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--keep", type=Path, required=True, help="a kept SQLite log (inclusion_proof.py --keep)"
    )
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args()
    if not args.keep.exists():
        raise SystemExit(f"{args.keep} does not exist: build it with inclusion_proof.py --keep {args.keep}")
    rng = random.Random(args.seed)
    with common.bench_database("sqlite", keep=args.keep) as database:
        size = common.ledger_size(database)
        common.header(f"ledger search (sqlite, {size:,} entries)")
        samples = _samples(database, args.queries, rng)
        for kind in ("person", "staff", "object"):
            for action in ("newest 100", "count"):
                times: list[float] = []
                found = 0
                for entry in samples:
                    criteria = _criteria(kind, entry)
                    started = time.perf_counter()
                    with database.factory() as session:
                        if action == "count":
                            found += ledger.count(session, criteria)
                        else:
                            found += len(ledger.search(session, criteria, limit=100))
                    times.append(time.perf_counter() - started)
                print(
                    f"  {kind:<6} {action:<10}  p50 {common.percentile(times, 0.5) * 1000:7.2f} ms   "
                    f"p99 {common.percentile(times, 0.99) * 1000:7.2f} ms   "
                    f"({found / len(samples):,.0f} entries a query on average)",
                    flush=True,
                )
        with database.factory() as session:
            recent = EntryFilter(object_type="nominal")
            started = time.perf_counter()
            ledger.search(session, recent, limit=100)
            print(
                f"  newest 100 of a common value (every entry is a nominal): "
                f"{(time.perf_counter() - started) * 1000:.2f} ms"
            )
            print(f"  ({(size + (1 << ERA_BITS) - 1) >> ERA_BITS:,} eras of {1 << ERA_BITS:,} entries)")


if __name__ == "__main__":
    main()
