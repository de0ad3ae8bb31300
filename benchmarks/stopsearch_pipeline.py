"""Stop and search end to end against stopsearch.md's targets on this 2-core machine: 1,000,000 records
(about two years of England and Wales) imported and the JSON report produced in under 10 s; the HTML report
in under 20 s.

    .venv/bin/python benchmarks/stopsearch_pipeline.py [--records 1000000 ...] [--months 24] [--force kent]
        [--force-columns] [--cache DIR] [--profile]

For each size, in a fresh child process (so that its peak memory is its own):
1. (not timed) the generator's data.police.uk files, one a month (the 15 published columns; with
   --force-columns the force-system ones too), written once (cached in --cache between runs); a new
   installation (a temporary CUSTODES_HOME with its SQLite database, migrated, with a signing key) and the
   force area's Census 2011 population imported;
2. timed: `custodes import stop-searches` (service.import_stop_searches: read, check, Parquet, the ledger
   entries, commit) and `custodes stopsearch report --format json` (service.report, then the JSON text);
3. timed: `--format html`: the report again and publication.render_html (charts included);
4. timed, for information: `--format pdf` (the report and publication.render_pdf);
5. peak resident memory of the child (ru_maxrss), DuckDB's included.
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

from custodes.database import Database, migrate
from custodes.kit.db import transaction
from custodes.ledger import service as ledger
from custodes.settings import Settings
from custodes.stopsearch import publication, service
from custodes.stopsearch.analysis import shift_month
from custodes.stopsearch.generator import population_rows, write_force
from custodes.stopsearch.schemas import ReportRequest

ACTOR = "system:benchmark"
FIRST_MONTH = "2018-01"
SEED = 20240601
TARGETS = {"import_json_s": 10.0, "html_s": 20.0}  # seconds (stopsearch.md, for 1,000,000 records)


def _files(cache: Path, force: str, records: int, months: int, force_columns: bool) -> list[Path]:
    folder = (
        cache / f"stopsearch-{SEED}-{force}-{records}-{months}{'-force-columns' if force_columns else ''}"
    )
    if not (folder / "done").exists():
        folder.mkdir(parents=True, exist_ok=True)
        per_month, extra = divmod(records, months)
        started = time.perf_counter()
        # The first `extra` months carry one more record, so the total is exactly `records`.
        paths = write_force(
            folder, force, FIRST_MONTH, extra, per_month + 1, SEED, force_columns=force_columns
        )
        paths += write_force(
            folder,
            force,
            shift_month(FIRST_MONTH, extra),
            months - extra,
            per_month,
            SEED,
            force_columns=force_columns,
        )
        print(
            f"  generated {records:,} records in {len(paths)} files in {time.perf_counter() - started:.1f} s"
        )
        (folder / "done").write_text("")
    return sorted(folder.glob("*-stop-and-search.csv"))


def _measure(
    force: str, records: int, months: int, force_columns: bool, cache: Path, profile: bool, out: Any
) -> None:
    files = _files(cache, force, records, months, force_columns)
    last = shift_month(FIRST_MONTH, months - 1)
    request = ReportRequest(force, FIRST_MONTH, last)
    with tempfile.TemporaryDirectory(prefix="custodes-bench-") as home:
        settings = Settings(home=Path(home), secret_key="benchmark-only-not-for-production-0123456789")
        database = Database.open(settings)
        migrate(database.engine)
        ledger.ensure_signing_key(settings)
        population = Path(home) / "population.csv"
        with population.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, ["force", "census", "group", "population"])
            writer.writeheader()
            writer.writerows(population_rows(force))
        with transaction(database.factory) as session:
            service.import_population(session, [population], actor=ACTOR)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

        started = time.perf_counter()
        with common.maybe_profile(profile, "import"), transaction(database.factory) as session:
            summary = service.import_stop_searches(session, settings, files, actor=ACTOR)
        imported = time.perf_counter()
        with common.maybe_profile(profile, "JSON report"), transaction(database.factory) as session:
            text = json.dumps(service.report(session, settings, request), indent=2)
        reported = time.perf_counter()

        with common.maybe_profile(profile, "HTML report"), transaction(database.factory) as session:
            result = service.report(session, settings, request)
            threshold = service.suppression_threshold(session)
            html = publication.render_html(result, force_name=service.force_name(force), threshold=threshold)
        html_done = time.perf_counter()

        with common.maybe_profile(profile, "PDF report"), transaction(database.factory) as session:
            result = service.report(session, settings, request)
            pdf = publication.render_pdf(result, force_name=service.force_name(force), threshold=threshold)
        pdf_done = time.perf_counter()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        database.engine.dispose()
    figures = json.loads(text)
    out.send(
        {
            "records": summary.records,
            "files": len(files),
            "csv_mb": sum(path.stat().st_size for path in files) / 1e6,
            "import_s": imported - started,
            "json_s": reported - imported,
            "import_json_s": reported - started,
            "html_s": html_done - reported,
            "pdf_s": pdf_done - html_done,
            "peak_gib": peak / 1024 / 1024,
            "setup_peak_gib": before / 1024 / 1024,
            "json_kb": len(text) / 1000,
            "html_kb": len(html) / 1000,
            "pdf_kb": len(pdf) / 1000,
            "person_searches": figures["person_searches"],
            "black_to_white": figures["groups"]["Black"]["ratio_to_white"],
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--force", default="kent")
    parser.add_argument(
        "--force-columns",
        action="store_true",
        help="add the force-system columns (grounds text, officer, team, ...): a third more bytes to read",
    )
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "custodes-bench-stopsearch"
    )
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    common.header("stop and search: import + report (stopsearch.md)")
    results = []
    for records in args.records:
        receiver, sender = multiprocessing.Pipe(duplex=False)
        child = multiprocessing.get_context("spawn").Process(
            target=_measure,
            args=(args.force, records, args.months, args.force_columns, args.cache, args.profile, sender),
        )
        child.start()
        found = receiver.recv()
        child.join()
        results.append(found)
        f = found
        print(
            f"-- {f['records']:,} records in {f['files']} monthly files ({f['csv_mb']:.0f} MB of CSV, "
            f"{'with' if args.force_columns else 'without'} the force-system columns); "
            f"{f['person_searches']:,} person searches; Black/White ratio {f['black_to_white']:.2f}"
        )
        # The targets are for 1,000,000 records; other sizes are for information.
        targets = TARGETS if records == 1_000_000 else {}
        print(f"  import {f['import_s']:.1f} s, JSON report {f['json_s']:.1f} s ({f['json_kb']:.0f} kB)")
        common.report(
            "  import + JSON report",
            f["import_json_s"],
            "s",
            targets.get("import_json_s"),
            higher_is_better=False,
        )
        common.report(
            "  HTML report (report + render_html)", f["html_s"], "s", targets.get("html_s"),
            higher_is_better=False,
        )  # fmt: skip
        common.report(f"  PDF report (report + render_pdf; {f['pdf_kb']:.0f} kB)", f["pdf_s"], "s", None)
        print(f"  peak memory {f['peak_gib']:.2f} GiB (after set-up {f['setup_peak_gib']:.2f} GiB)")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
