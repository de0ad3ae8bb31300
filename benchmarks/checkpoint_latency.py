"""Time from an entry's acknowledgement to a signed checkpoint covering it (spec: ledger.md, "Performance
targets": within 2 s, p99).

Runs the web process's `ledger.Checkpointer` thread (checkpoint_every_seconds, default 1 s) while a writer
appends entries at a steady --rate, in transactions of --batch, in another thread (as the web process's
request threads do) or another process (as an import job would). An entry is acknowledged when its
transaction's commit returns; it is covered when a checkpoint with tree size > its index has committed. The
checkpointer's commits are observed with SQLAlchemy session events on its own sessionmaker (no change to it).

    .venv/bin/python benchmarks/checkpoint_latency.py [--backend sqlite|postgresql] [--rate 1000] [--batch 1]
        [--seconds 30] [--writer thread|process] [--every 1.0]
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import multiprocessing
import random
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common
from sqlalchemy import event
from sqlalchemy.orm import Session

from custodes.kit.db import make_engine, make_session_factory, transaction
from custodes.ledger import service as ledger
from custodes.ledger.models import LedgerCheckpoint

TARGET_P99_S = 2.0


def write_steadily(
    url: str, rate: float, batch: int, seconds: float, seed: int, start_at: float
) -> list[tuple[int, int, float]]:
    """Append `rate` entries/s in transactions of `batch` for `seconds`.

    Returns (first index, end index, acknowledged at) per commit.

    Times are time.monotonic(), which is one clock for every process on Linux."""
    rng = random.Random(seed)
    pool = common.draft_batches(rng, batch, distinct=64)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    acks: list[tuple[int, int, float]] = []
    interval = batch / rate
    while time.monotonic() < start_at:
        time.sleep(0.001)
    begun = time.monotonic()
    due = begun
    turn = 0
    try:
        while True:
            now = time.monotonic()
            if now - begun >= seconds:
                break
            if now < due:
                time.sleep(due - now)
            drafts = pool[turn % len(pool)]
            turn += 1
            with transaction(factory) as session:
                ledger.record_many(session, drafts)
                end = ledger.flush_pending(session)
            acks.append((end - len(drafts), end, time.monotonic()))
            due += interval
    finally:
        engine.dispose()
    return acks


def _process_writer(queue: Any, *args: Any) -> None:
    queue.put(write_steadily(*args))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    common.add_common_arguments(parser)
    parser.add_argument("--rate", type=float, default=1000.0, help="entries per second")
    parser.add_argument("--batch", type=int, default=1, help="entries per writer transaction")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--every", type=float, default=1.0, help="checkpoint_every_seconds")
    parser.add_argument("--writer", choices=("thread", "process"), default="thread")
    args = parser.parse_args()
    common.header(
        f"checkpoint latency ({args.backend}; writer {args.writer} at {args.rate:,.0f} entries/s in "
        f"transactions of {args.batch}; checkpoint every {args.every} s)"
    )
    with common.bench_database(
        args.backend, pg_fsync=args.pg_fsync == "on", sqlite_sync=args.sqlite_sync
    ) as database:
        settings = database.settings.model_copy(update={"checkpoint_every_seconds": args.every})
        # The checkpointer gets its own engine and sessionmaker (as the web process's pool would give it
        # a connection of its own), so that listening to its commits sees nothing else.
        checkpoint_engine = make_engine(database.url)
        checkpoint_factory = make_session_factory(checkpoint_engine)
        issued: list[tuple[float, int]] = []  # (commit returned, tree size)
        flushed: dict[int, int] = {}
        lock = threading.Lock()

        phases: dict[int, list[float]] = {}
        waits: list[
            float
        ] = []  # session start → BEGIN returned (SQLite: the write lock; PostgreSQL: no lock yet)
        works: list[
            float
        ] = []  # BEGIN returned → commit returned (advisory lock, root, signature, insert, commit)

        @event.listens_for(checkpoint_factory, "after_transaction_create")
        def _created(session: Session, transaction: Any) -> None:
            if transaction.parent is None:
                phases[id(session)] = [time.monotonic()]

        @event.listens_for(checkpoint_factory, "after_begin")
        def _began(session: Session, _transaction: Any, _connection: Any) -> None:
            phases.setdefault(id(session), [time.monotonic()]).append(time.monotonic())

        @event.listens_for(checkpoint_factory, "after_flush")
        def _seen(session: Session, _context: Any) -> None:
            for item in session.new:
                if isinstance(item, LedgerCheckpoint):
                    flushed[id(session)] = item.size

        @event.listens_for(checkpoint_factory, "after_commit")
        def _committed(session: Session) -> None:
            size = flushed.pop(id(session), None)
            marks = phases.pop(id(session), None)
            if size is not None:
                now = time.monotonic()
                with lock:
                    issued.append((now, size))
                if marks and len(marks) >= 2:
                    waits.append(marks[1] - marks[0])
                    works.append(now - marks[1])

        @event.listens_for(checkpoint_factory, "after_rollback")
        def _rolled_back(session: Session) -> None:
            flushed.pop(id(session), None)
            phases.pop(id(session), None)

        checkpointer = ledger.Checkpointer(checkpoint_factory, settings)
        checkpointer.start()
        start_at = time.monotonic() + 0.5
        writer_args = (database.url, args.rate, args.batch, args.seconds, args.seed, start_at)
        with common.maybe_profile(args.profile, "writer thread and checkpointer (main thread waits)"):
            if args.writer == "thread":
                result: list[list[tuple[int, int, float]]] = []
                thread = threading.Thread(target=lambda: result.append(write_steadily(*writer_args)))
                thread.start()
                thread.join()
                acks = result[0]
            else:
                context = multiprocessing.get_context("spawn")
                queue = context.Queue()
                process = context.Process(target=_process_writer, args=(queue, *writer_args))
                process.start()
                acks = queue.get()
                process.join()
            # Let the checkpointer cover the tail.
            last = acks[-1][1]
            deadline = time.monotonic() + 10 * args.every + 5
            while time.monotonic() < deadline:
                with lock:
                    if issued and issued[-1][1] >= last:
                        break
                time.sleep(0.01)
        checkpointer.stop()
        checkpoint_engine.dispose()

        written = acks[-1][1] - acks[0][0]
        span = acks[-1][2] - acks[0][2]
        print(
            f"  writer: {written:,} entries in {len(acks):,} transactions over {span:.1f} s "
            f"({written / span if span else 0:,.0f} entries/s achieved); checkpoints issued: {len(issued)}"
        )
        times = [t for t, _ in issued]
        sizes = [s for _, s in issued]
        # Sizes grow with commit time (the checkpointer is one thread); the first checkpoint covering index i
        # is the first with size > i.
        latencies: list[float] = []
        uncovered = 0
        for first, end, acked in acks:
            position = bisect.bisect_right(sizes, end - 1)
            if position == len(sizes):
                uncovered += end - first
                continue
            # Every entry of the transaction is covered by the same checkpoint (size >= end) or, for part
            # of it, by an earlier one that saw the commit: take each entry's own first covering checkpoint.
            for index in range(first, end):
                k = bisect.bisect_right(sizes, index)
                latencies.append(max(0.0, times[k] - acked))
        if span and written / span < 0.9 * args.rate:
            print(f"  note: the writer fell behind the requested {args.rate:,.0f} entries/s")
        if uncovered:
            print(f"  {uncovered:,} acknowledged entries were never covered by a checkpoint")
        gaps = [b - a for a, b in itertools.pairwise(times)]
        if gaps:
            print(
                f"  interval between checkpoints: p50 {common.percentile(gaps, 0.5):.3f} s, "
                f"max {max(gaps):.3f} s"
            )
        if waits:
            print(
                f"  checkpointer transactions: waiting to begin (SQLite write lock) p50 "
                f"{common.percentile(waits, 0.5) * 1000:.1f} ms, max {max(waits) * 1000:.0f} ms; "
                f"issuing and committing p50 {common.percentile(works, 0.5) * 1000:.1f} ms, "
                f"max {max(works) * 1000:.0f} ms"
            )
        print(
            f"  acknowledgement → covering checkpoint committed, over {len(latencies):,} entries: "
            f"p50 {common.percentile(latencies, 0.5):.3f} s, p99 {common.percentile(latencies, 0.99):.3f} s, "
            f"max {max(latencies):.3f} s"
        )
        common.report(
            f"checkpoint latency p99 ({database.label}, {args.rate:,.0f} entries/s, "
            f"batch {args.batch}, {args.writer})",
            common.percentile(latencies, 0.99),
            "s",
            TARGET_P99_S,
            higher_is_better=False,
        )
        if uncovered:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
