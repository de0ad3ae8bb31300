"""Inclusion-proof latency on a large log (spec: ledger.md, "Performance targets": < 5 ms for a leaf of a
10,000,000-entry log, no full rebuild).

Builds a log of --size entries on SQLite through the service (batched appends), then times
`ledger.prove_inclusion` for --proofs random leaves, each in a fresh session as a request would, and checks
every proof with `merkle.verify_inclusion` against the tree head.

    .venv/bin/python benchmarks/inclusion_proof.py [--size 10000000] [--keep /tmp/ledger-10m.db] [--profile]

With --keep the database file is kept (and reused by later runs, which top it up to --size if smaller), so
a rerun skips the build.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

from custodes.ledger import merkle
from custodes.ledger import service as ledger

TARGET_MS = 5.0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    common.add_common_arguments(parser, backends=("sqlite", "postgresql"))
    parser.add_argument("--size", type=int, default=10_000_000)
    parser.add_argument("--proofs", type=int, default=1000)
    parser.add_argument(
        "--build-batch", type=int, default=10_000, help="entries per transaction while building"
    )
    parser.add_argument("--keep", type=Path, default=None, help="SQLite file to keep and reuse")
    parser.add_argument(
        "--build-seconds",
        type=float,
        default=0,
        help="stop building after this long and measure at the size reached (0: build all of --size)",
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)
    common.header(f"inclusion proof ({args.backend}, {args.size:,} entries)")
    with common.bench_database(
        args.backend, pg_fsync=args.pg_fsync == "on", sqlite_sync=args.sqlite_sync, keep=args.keep
    ) as database:
        have = common.ledger_size(database)
        if have < args.size:
            wanted = args.size - have
            if args.build_seconds:
                print(
                    f"building: {have:,} entries present, adding up to {wanted:,} "
                    f"for at most {args.build_seconds:.0f} s"
                )
            else:
                print(
                    f"building: {have:,} entries present, adding {wanted:,} "
                    f"in transactions of {args.build_batch:,}"
                )
            started = time.perf_counter()
            pool = common.draft_batches(rng, args.build_batch)
            done, turn, last = 0, 0, started
            while done < wanted:
                drafts = pool[turn % len(pool)][: wanted - done]
                turn += 1
                with database.factory() as session:
                    ledger.record_many(session, drafts)
                    session.commit()
                done += len(drafts)
                now = time.perf_counter()
                if now - last >= 30:
                    rate = done / (now - started)
                    print(
                        f"  built {have + done:,} / {args.size:,}: {rate:,.0f} entries/s, "
                        f"~{(wanted - done) / rate / 60:.1f} min to go",
                        flush=True,
                    )
                    last = now
                if args.build_seconds and now - started >= args.build_seconds:
                    rate = done / (now - started)
                    print(
                        f"  stopping the build at {have + done:,} entries after {now - started:.0f} s "
                        f"({rate:,.0f}/s; the full {args.size:,} would take "
                        f"~{(args.size - have) / rate / 60:.0f} min)"
                    )
                    break
            elapsed = time.perf_counter() - started
            print(f"built {done:,} entries in {elapsed:.0f} s: {done / elapsed:,.0f} entries/s")
        size = common.ledger_size(database)
        if size < args.size:
            print(f"measuring at {size:,} entries (not the requested {args.size:,})")
        with database.factory() as session:
            root = ledger.root_at(session, size)
        leaves = [rng.randrange(size) for _ in range(args.proofs)]
        times: list[float] = []
        failures = 0
        # One warm-up request: connection pool, statement cache.
        with database.factory() as session:
            ledger.prove_inclusion(session, 0)
        with common.maybe_profile(args.profile, f"prove_inclusion ×{args.proofs} at size {size:,}"):
            for index in leaves:
                with database.factory() as session:
                    begun = time.perf_counter()
                    proof = ledger.prove_inclusion(session, index)
                    times.append(time.perf_counter() - begun)
                ok = (
                    proof["tree_size"] == size
                    and bytes.fromhex(proof["root_hash"]) == root
                    and merkle.verify_inclusion(
                        bytes.fromhex(proof["leaf_hash"]),
                        index,
                        size,
                        [bytes.fromhex(node) for node in proof["inclusion_path"]],
                        root,
                    )
                )
                failures += not ok
        path_length = len(proof["inclusion_path"])
        print(
            f"  {len(leaves):,} proofs at tree size {size:,} (path length ~{path_length}); "
            f"{len(leaves) - failures:,} verify with merkle.verify_inclusion against the tree head, "
            f"{failures} fail"
        )
        ms = [t * 1000 for t in times]
        print(f"  mean {sum(ms) / len(ms):.2f} ms, max {max(ms):.2f} ms")
        common.report(
            f"inclusion proof p50 ({database.label}, {size:,} entries)",
            common.percentile(ms, 0.5),
            "ms",
            TARGET_MS,
            higher_is_better=False,
        )
        common.report(
            f"inclusion proof p99 ({database.label}, {size:,} entries)",
            common.percentile(ms, 0.99),
            "ms",
            TARGET_MS,
            higher_is_better=False,
        )
        if failures:
            raise SystemExit(f"{failures} proofs did not verify")


if __name__ == "__main__":
    main()
