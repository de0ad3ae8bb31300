"""Monitoring end to end against monitoring.md's scale targets: 10 million events ingested and analysed in
under 30 s with peak memory under 4 GB, 100 million in under 5 minutes under 8 GB, on this 2-core machine,
and cost growing with events, not with events × reference rows.

    .venv/bin/python benchmarks/monitoring_pipeline.py [--events 1000000 10000000 ...] [--staff 3000]
        [--days 90] [--cache DIR] [--profile]

For each size, in a fresh child process (so that its peak memory is its own):
1. (not timed, in one child process) the generator's force: staff, nominals, cases, rosters and
   declarations imported into a new SQLite installation; the events written once as Parquet files (cached
   in --cache between runs);
2. timed, in a second child process, as the CLI runs them: `monitor ingest` of those files (checks,
   duplicates, the day-partitioned store, the ledger batch entries and their tree heads, commit and
   publish), then `monitor run` over everything (every detector, the alerts built and stored, the run's
   ledger entries);
3. peak resident memory of that second process (ru_maxrss), which includes DuckDB's.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

from custodes.database import Database, migrate
from custodes.imports import load_records
from custodes.kit.db import transaction
from custodes.ledger import service as ledger
from custodes.monitoring import service as monitoring
from custodes.monitoring.generator import ForceSpec, generate
from custodes.settings import Settings

ACTOR = "system:benchmark"
TARGETS = {10_000_000: (30.0, 4.0), 100_000_000: (300.0, 8.0)}  # seconds, GiB


def _events_dir(cache: Path, spec: ForceSpec) -> Path:
    return cache / f"events-{spec.seed}-{spec.staff}-{spec.days}-{spec.events}"


def _prepare(spec: ForceSpec, cache: Path, home: Path, out: Any) -> None:
    """Not timed: the force's reference data imported into a new installation at `home`, and its events
    written once as Parquet (cached). Sends the event files and the reference sizes."""
    force = generate(spec)
    folder = _events_dir(cache, spec)
    if not (folder / "done").exists():
        folder.mkdir(parents=True, exist_ok=True)
        force.write_events(folder, "parquet", rows_per_file=2_000_000)
        (folder / "done").write_text("")
    settings = _settings(home)
    database = Database.open(settings)
    migrate(database.engine)
    ledger.ensure_signing_key(settings)
    settings.ensure_data_key()  # staff home locations are encrypted with it
    with transaction(database.factory) as session:
        for kind, rows in (("staff", force.staff), ("nominals", force.nominals), ("cases", force.cases),
                           ("declarations", force.declarations), ("rosters", force.rosters)):  # fmt: skip
            load_records(session, kind, rows, ACTOR)
    database.engine.dispose()
    files = [str(path) for path in sorted(folder.glob("*.parquet"))]
    out.send(
        {"files": files, "window": force.window, "nominals": len(force.nominals), "cases": len(force.cases)}
    )


def _measure(home: Path, files: list[str], options: dict[str, Any], out: Any) -> None:
    """Timed, in a process of its own as `custodes monitor ingest` and `monitor run` are: the ingest of the
    files and a run over everything (or over windows of `window_days`); its peak memory is the process's
    maximum resident size."""
    profile, ingest_only = options["profile"], options["ingest_only"]
    settings = _settings(home)
    database = Database.open(settings)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    with common.maybe_profile(profile, "ingest"), transaction(database.factory) as session:
        summary = monitoring.ingest_files(session, settings, [Path(f) for f in files], ACTOR)
    ingested = time.perf_counter()
    run = None
    windows: list[float] = []
    if not ingest_only:
        for window in _windows(options["window"], options["window_days"]):
            begun = time.perf_counter()
            with common.maybe_profile(profile, "run"), transaction(database.factory) as session:
                run = monitoring.run(session, settings, ACTOR, window)
            windows.append(time.perf_counter() - begun)
    finished = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    database.engine.dispose()
    out.send(
        {
            "events": summary.stored,
            "ingest_s": ingested - started,
            "run_s": None if run is None else finished - ingested,
            "total_s": finished - started,
            "peak_gib": peak / 1024 / 1024,
            "start_gib": before / 1024 / 1024,
            "alerts": None if run is None else len(run.alerts),
            "explained": None if run is None else run.explained_share,
            "batches": summary.batches,
            "window_runs_s": windows,
        }
    )


def _windows(
    span: tuple[datetime, datetime], days: int | None
) -> list[tuple[datetime | None, datetime | None]]:
    """The whole store at once, or consecutive windows of `days` days over the generator's span."""
    if not days:
        return [(None, None)]
    start, end = span
    cuts = [start + timedelta(days=days * n) for n in range(-(-(end - start).days // days))]
    return [(cut, min(cut + timedelta(days=days), end)) for cut in cuts]


def _settings(home: Path) -> Settings:
    return Settings(home=home, secret_key="benchmark-only")


def _in_child(target: Any, *args: Any) -> dict[str, Any]:
    """Run `target(*args, sender)` in a fresh interpreter and return what it sends."""
    receiver, sender = multiprocessing.Pipe(duplex=False)
    child = multiprocessing.get_context("spawn").Process(target=target, args=(*args, sender))
    child.start()
    found: dict[str, Any] = receiver.recv()
    child.join()
    return found


def _row(size: int, found: dict[str, Any]) -> str:
    """One line of the table; the verdict only for a size (as asked for) with a target and a detector run."""
    events, run = found["events"], found["run_s"]
    target = TARGETS.get(size)
    verdict = "(ingest only)" if run is None else ""
    if target and run is not None:
        met = found["total_s"] <= target[0] and found["peak_gib"] <= target[1]
        verdict = f"{'met' if met else 'NOT met'} (< {target[0]:.0f} s, < {target[1]:.0f} GiB)"
    run_text = "—" if run is None else f"{run:.1f}"
    alerts = "—" if run is None else f"{found['alerts']:,}"
    explained = "—" if run is None else f"{found['explained']:.1%}"
    return (
        f"{events:>12,} {found['ingest_s']:>9.1f} {run_text:>7} {found['total_s']:>8.1f} "
        f"{1e6 * found['total_s'] / events:>9.2f} {found['peak_gib']:>9.2f} {alerts:>7} {explained:>9}  "
        + verdict
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--staff", type=int, default=3000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "custodes-bench-events")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--ingest-only", action="store_true", help="time the ingest alone (no detector run), e.g. at 100 M"
    )
    parser.add_argument(
        "--window-days", type=int, default=None, help="run the detectors over windows of this many days"
    )
    args = parser.parse_args()
    print(common.machine_summary())
    print(f"{'events':>12} {'ingest s':>9} {'run s':>7} {'total s':>8} {'µs/event':>9} {'peak GiB':>9} "
          f"{'alerts':>7} {'explained':>9}  target")  # fmt: skip
    results = []
    for events in args.events:
        spec = ForceSpec(seed=7, staff=args.staff, days=args.days, events=events)
        with tempfile.TemporaryDirectory(prefix="custodes-bench-") as home:
            prepared = _in_child(_prepare, spec, args.cache, Path(home))
            options = {
                "profile": args.profile,
                "ingest_only": args.ingest_only,
                "window_days": args.window_days,
                "window": prepared["window"],
            }
            measured = _in_child(_measure, Path(home), prepared["files"], options)
            found = {**measured, **prepared}
        del found["files"], found["window"]
        results.append(found)
        print(_row(events, found))
        if args.window_days:
            runs = ", ".join(f"{seconds:.1f}" for seconds in found["window_runs_s"])
            print(f"  detector runs over windows of {args.window_days} days: {runs} s")
    if len(results) > 1:
        first, last = results[0], results[-1]
        growth = (last["ingest_s"] / first["ingest_s"]) / (last["events"] / first["events"])
        span = f"{first['events']:,} and {last['events']:,}"
        print(f"ingest time grows {growth:.2f}× as fast as events between {span} (1.00 = linear)")
        if not args.ingest_only:
            growth = (last["total_s"] / first["total_s"]) / (last["events"] / first["events"])
            print(f"end-to-end time grows {growth:.2f}× as fast as events between {span}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
