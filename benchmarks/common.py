"""Shared plumbing for the benchmark scripts: throwaway databases, realistic entries, printing, profiling.

Not a test module. Each script makes its own database:

- SQLite: a file in a temporary folder (or a path given with --keep), through `make_engine`, so WAL,
  synchronous=FULL and BEGIN IMMEDIATE are exactly what the application uses;
- PostgreSQL: CUSTODES_BENCH_POSTGRES_URL if set (a fresh database is created on that server), else a
  throwaway cluster started here from the Debian binaries. Unlike tests/support/postgres.py (fsync=off,
  for speed), this cluster keeps the server's durable defaults: fsync=on, synchronous_commit=on,
  full_page_writes=on. Pass `--pg-fsync off` to a script to compare with the test cluster's settings.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import os
import platform
import pstats
import random
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # for tests.support.postgres
if str(REPO / "src") not in sys.path:
    sys.path.insert(1, str(REPO / "src"))

from sqlalchemy import Engine, create_engine, text  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402
from tests.support.postgres import throwaway_cluster  # noqa: E402

from custodes.database import migrate  # noqa: E402
from custodes.kit.crypto import attach_key  # noqa: E402
from custodes.kit.db import make_engine, make_session_factory  # noqa: E402
from custodes.ledger import service as ledger  # noqa: E402
from custodes.ledger.schemas import EntryDraft, Op  # noqa: E402
from custodes.settings import Settings  # noqa: E402

# --------------------------------------------------------------------------- the machine


def machine_summary() -> str:
    memory = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    cpu = platform.processor() or "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    import sqlite3

    return (
        f"machine: {os.cpu_count()} CPUs ({cpu}), {memory} RAM; Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}"
    )


def header(title: str) -> None:
    print(f"== {title}")
    print(machine_summary())
    sys.stdout.flush()


# --------------------------------------------------------------------------- printing


def fmt_number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:,.1f}"
    return f"{value:,.2f}"


def report(
    label: str, value: float, unit: str, target: float | None, *, higher_is_better: bool = True
) -> float:
    """Print `label: value unit — target ≥ T — R× target`; the ratio is > 1 when the target is met."""
    if target is None:
        print(f"{label}: {fmt_number(value)} {unit} — no target")
        sys.stdout.flush()
        return float("nan")
    if higher_is_better:
        ratio = value / target
        sign = "≥"
    else:
        ratio = target / value if value > 0 else float("inf")
        sign = "≤"
    verdict = "MET" if ratio >= 1 else "NOT MET"
    print(
        f"{label}: {fmt_number(value)} {unit} — target {sign} {fmt_number(target)} {unit} — "
        f"{ratio:.2f}× target ({verdict})"
    )
    sys.stdout.flush()
    return ratio


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an unsorted list."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]


# --------------------------------------------------------------------------- profiling


@contextlib.contextmanager
def maybe_profile(enabled: bool, title: str, top: int = 15) -> Iterator[None]:
    """With --profile: cProfile the block and print the top functions by cumulative and by own time."""
    if not enabled:
        yield
        return
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()
        for order in ("cumulative", "tottime"):
            buffer = io.StringIO()
            stats = pstats.Stats(profiler, stream=buffer)
            stats.strip_dirs().sort_stats(order).print_stats(top)
            text_out = buffer.getvalue()
            # Keep the table, drop pstats' preamble about the file names.
            start = text_out.find("   ncalls")
            total = re.search(r"([\d,]+) function calls.*? in ([\d.]+) seconds", text_out)
            print(
                f"\n-- profile of {title}: top {top} by {order} time"
                + (f" (total {total.group(2)} s)" if total else "")
            )
            print(text_out[start:].rstrip() if start >= 0 else text_out)
        print()
        sys.stdout.flush()


# --------------------------------------------------------------------------- command line


def add_common_arguments(
    parser: argparse.ArgumentParser, *, backends: tuple[str, ...] = ("sqlite", "postgresql")
) -> None:
    parser.add_argument("--backend", choices=backends, default="sqlite")
    parser.add_argument(
        "--pg-fsync",
        choices=("on", "off"),
        default="on",
        help="PostgreSQL throwaway cluster: fsync on (durable, default) or off (the test suite's cluster)",
    )
    parser.add_argument(
        "--sqlite-sync",
        choices=("FULL", "NORMAL"),
        default="FULL",
        help="SQLite: PRAGMA synchronous; FULL is the application's (make_engine); NORMAL only to measure "
        "what the per-commit fsync costs",
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the timed part and print the top 15")
    parser.add_argument("--seed", type=int, default=20240601)


# --------------------------------------------------------------------------- databases


@dataclass
class BenchDatabase:
    backend: str
    url: str
    engine: Engine
    factory: sessionmaker[Session]
    settings: Settings
    home: Path
    reused: bool = False

    @property
    def label(self) -> str:
        return "SQLite" if self.backend == "sqlite" else "PostgreSQL"


@contextlib.contextmanager
def durable_cluster(fsync: bool = True) -> Iterator[str]:
    """The test suite's throwaway PostgreSQL cluster, with the server's durable defaults (or fsync off)."""
    with throwaway_cluster(durable=fsync, options="-c shared_buffers=512MB -c max_wal_size=4GB") as url:
        yield url


@contextlib.contextmanager
def _postgres_server(fsync: bool) -> Iterator[str]:
    given = os.environ.get("CUSTODES_BENCH_POSTGRES_URL")
    if given:
        yield given
        return
    with durable_cluster(fsync=fsync) as url:
        yield url


def _settings(home: Path, url: str, engine: Engine) -> Settings:
    settings = Settings(
        home=home,
        database_url=url,
        secret_key="benchmark-secret-not-for-production-0123456789",
        checkpoint_every_seconds=1.0,
    )
    ledger.ensure_signing_key(settings)
    settings.ensure_data_key()
    attach_key(engine, settings.data_key)  # as Database.open does
    return settings


def _sqlite_engine(url: str, synchronous: str) -> Engine:
    engine = make_engine(url)
    if synchronous != "FULL":
        from sqlalchemy import event

        @event.listens_for(engine, "connect")
        def _relax(dbapi_connection: object, _record: object) -> None:  # runs after make_engine's listener
            dbapi_connection.execute(f"PRAGMA synchronous={synchronous}")  # type: ignore[attr-defined]

    return engine


@contextlib.contextmanager
def bench_database(
    backend: str, *, pg_fsync: bool = True, keep: Path | None = None, sqlite_sync: str = "FULL"
) -> Iterator[BenchDatabase]:
    """A fresh, migrated database on `backend`, dropped afterwards.

    With `keep` (SQLite only), the database file lives at that path and survives the run; if it exists it is
    reused as it is (its signing key beside it), so a large log is built once.
    """
    if backend == "sqlite" and sqlite_sync != "FULL":
        print(
            f"NOTE: SQLite PRAGMA synchronous={sqlite_sync}, not the application's FULL: not a durable figure"
        )
    if backend == "sqlite":
        if keep is not None:
            keep = keep.resolve()
            home = keep.parent / (keep.name + ".home")
            home.mkdir(parents=True, exist_ok=True)
            reused = keep.exists()
            url = f"sqlite:///{keep}"
            engine = _sqlite_engine(url, sqlite_sync)
            if not reused:
                migrate(engine)
            try:
                yield BenchDatabase(
                    backend,
                    url,
                    engine,
                    make_session_factory(engine),
                    _settings(home, url, engine),
                    home,
                    reused,
                )
            finally:
                engine.dispose()
            return
        home = Path(tempfile.mkdtemp(prefix="custodes-bench-"))
        url = f"sqlite:///{home / 'custodes.db'}"
        engine = _sqlite_engine(url, sqlite_sync)
        try:
            migrate(engine)
            yield BenchDatabase(
                backend, url, engine, make_session_factory(engine), _settings(home, url, engine), home
            )
        finally:
            engine.dispose()
            shutil.rmtree(home, ignore_errors=True)
        return
    if backend != "postgresql":
        raise ValueError(backend)
    if keep is not None:
        raise SystemExit("--keep is for SQLite only")
    with _postgres_server(pg_fsync) as server:
        name = f"custodes_bench_{os.getpid()}_{random.randrange(1 << 30)}"
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = re.sub(r"/[^/]*$", f"/{name}", server)
        engine = make_engine(url)
        home = Path(tempfile.mkdtemp(prefix="custodes-bench-"))
        try:
            migrate(engine)
            yield BenchDatabase(
                backend, url, engine, make_session_factory(engine), _settings(home, url, engine), home
            )
        finally:
            engine.dispose()
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
            shutil.rmtree(home, ignore_errors=True)


# --------------------------------------------------------------------------- realistic entries

_REASONS = (
    "Enquiry for crime report {ref}: suspect research",
    "Safeguarding referral {ref}: checking household",
    "Custody record {ref}: identity confirmation",
    "Missing person enquiry {ref}: associates",
    "Vetting application {ref}: intelligence check",
)
_FIELDS = (
    ["name", "date_of_birth", "addresses"],
    ["name", "warning_markers"],
    ["name", "date_of_birth", "pnc_id", "convictions"],
    ["addresses", "associates"],
    ["name", "description", "photographs"],
)
_SOURCES = ("nominal_search", "record_view", "case_link", "api:niche")


def consultation(rng: random.Random) -> EntryDraft:
    """A consultation of a nominal record, as an access-log import or a record view would record it."""
    nominal = f"N{rng.randrange(10**7):07d}"
    ref = f"CR/{rng.randrange(100000):05d}/{rng.choice((23, 24, 25))}"
    return EntryDraft(
        actor=f"staff:S{rng.randrange(100000):05d}",
        op=Op.CONSULTATION,
        object_type="nominal",
        object_id=nominal,
        subjects=(nominal,),
        justification=rng.choice(_REASONS).format(ref=ref),
        detail={
            "fields": rng.choice(_FIELDS),
            "source": rng.choice(_SOURCES),
            "terminal": f"WS{rng.randrange(4000):04d}",
        },
    )


def draft_batches(rng: random.Random, batch: int, distinct: int = 16) -> list[list[EntryDraft]]:
    """A pool of ready-made batches, reused round-robin: EntryDrafts are immutable and the ledger adds index,
    time and salt on append, so reuse measures the ledger and not the caller's object construction."""
    return [[consultation(rng) for _ in range(batch)] for _ in range(distinct)]


def append_batches(
    database: BenchDatabase,
    total: int,
    batch: int,
    rng: random.Random,
    *,
    progress_every: float = 10.0,
    label: str = "build",
) -> float:
    """Append `total` entries in transactions of `batch` through the service; returns seconds taken."""
    pool = draft_batches(rng, batch)
    done = 0
    started = time.perf_counter()
    last = started
    turn = 0
    while done < total:
        drafts = pool[turn % len(pool)]
        turn += 1
        if total - done < batch:
            drafts = drafts[: total - done]
        with database.factory() as session:
            ledger.record_many(session, drafts)
            session.commit()
        done += len(drafts)
        now = time.perf_counter()
        if now - last >= progress_every:
            rate = done / (now - started)
            remaining = (total - done) / rate if rate else float("inf")
            print(
                f"  {label}: {done:,} / {total:,} entries, {rate:,.0f}/s, ~{remaining:,.0f} s to go",
                flush=True,
            )
            last = now
    return time.perf_counter() - started


def ledger_size(database: BenchDatabase) -> int:
    with database.factory() as session:
        return ledger.size(session)


# --------------------------------------------------------------------------- wall-clock phases


class Phases:
    """Wall-clock time spent in the append's parts, measured without a profiler's distortion.

    Wraps, in this process only, the service's `_entry_bytes`, every `exec_driver_sql` statement (keyed
    by its first words: BEGIN, INSERT INTO ledger_entry, …) and the engine's DBAPI commit. The wrappers
    cost well under a microsecond a call.
    """

    def __init__(self, engine: Engine, enabled: bool = True) -> None:
        self.totals: dict[str, float] = {}
        self._undo: list[tuple[object, str, object]] = []
        self.enabled = enabled
        if not enabled:  # under --profile: cProfile's figures instead, without these wrappers in them
            return
        from sqlalchemy.engine import Connection

        from custodes.ledger import service

        totals = self.totals

        def timed(name: str, function):  # type: ignore[no-untyped-def]
            def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
                started = time.perf_counter()
                try:
                    return function(*args, **kwargs)
                finally:
                    totals[name] = totals.get(name, 0.0) + time.perf_counter() - started

            return wrapper

        original_sql = Connection.exec_driver_sql

        def exec_driver_sql(connection, statement, *args, **kwargs):  # type: ignore[no-untyped-def]
            key = " ".join(statement.replace("(", " ").split()[:3])
            started = time.perf_counter()
            try:
                return original_sql(connection, statement, *args, **kwargs)
            finally:
                totals[key] = totals.get(key, 0.0) + time.perf_counter() - started

        patches = [
            (service, "_entry_bytes", timed("_entry_bytes (entry bytes)", service._entry_bytes)),
            (service, "_head", timed("_head (read tree size)", service._head)),
            (service, "_append", timed("_append (whole append)", service._append)),
            (Connection, "exec_driver_sql", exec_driver_sql),
            (
                engine.dialect,
                "do_commit",
                timed("COMMIT (DBAPI commit: log write + fsync)", engine.dialect.do_commit),
            ),
            (Session, "flush", timed("Session.flush (ORM: the business row)", Session.flush)),
        ]
        for owner, name, replacement in patches:
            own = vars(owner)
            self._undo.append((owner, name, own.get(name, _MISSING)))
            setattr(owner, name, replacement)

    def close(self) -> None:
        for owner, name, previous in reversed(self._undo):
            if previous is _MISSING:
                delattr(owner, name)
            else:
                setattr(owner, name, previous)
        self._undo.clear()

    def print(self, elapsed: float, per: int, unit: str) -> None:
        """Top-level parts of the transaction, then the parts of the ledger's `_append` (nested in it)."""
        if not self.enabled:
            return
        totals = dict(self.totals)
        append = totals.pop("_append (whole append)", 0.0)
        inner = {
            k: v for k, v in totals.items() if k.startswith(("INSERT", "SELECT", "_entry_bytes", "_head"))
        }
        outer = {k: v for k, v in totals.items() if k not in inner}

        def line(name: str, seconds: float, indent: str = "") -> None:
            print(
                f"    {indent}{name:<{52 - len(indent)}} {seconds / per * 1000:8.3f} ms  "
                f"{seconds / elapsed * 100:5.1f}%"
            )

        print(f"  where the wall time goes (wall clock, per {unit}; share of {elapsed:.1f} s):")
        line("ledger _append (at commit, before_commit hook)", append)
        for name, seconds in sorted(inner.items(), key=lambda item: -item[1]):
            line(name, seconds, "  ")
        line("rest of _append (sha256, salt, dicts, tuples, frontier)", append - sum(inner.values()), "  ")
        for name, seconds in sorted(outer.items(), key=lambda item: -item[1]):
            line(name, seconds)
        line("everything else (SQLAlchemy session/pool, caller)", elapsed - append - sum(outer.values()))


_MISSING = object()


def durability(args: argparse.Namespace, database: BenchDatabase) -> str:
    if database.backend == "sqlite":
        return "durable" if args.sqlite_sync == "FULL" else f"NOT durable: synchronous={args.sqlite_sync}"
    if os.environ.get("CUSTODES_BENCH_POSTGRES_URL"):
        return "server's own durability settings"
    return "durable" if args.pg_fsync == "on" else "NOT durable: fsync=off"
