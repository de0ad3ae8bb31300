"""`custodes monitor ingest|run|explain|prove|verify-proof|verify-pack|verify-store` (monitoring.md,
docs/cli.md)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from custodes.context import (
    CLI_ACTOR,
    console,
    errors,
    fail,
    key_or_file,
    progress_bar,
    settings,
    unit_of_work,
)
from custodes.database import Database
from custodes.kit.db import transaction
from custodes.kit.timefmt import london
from custodes.kit.words import plural
from custodes.monitoring import events, service

app = typer.Typer(help="Access-log monitoring: ingest, detect, explain, prove.", no_args_is_help=True)


@app.command()
def ingest(
    files: Annotated[list[Path], typer.Argument(help="Access logs: .csv, .jsonl or .parquet.", exists=True)],
    show: Annotated[int, typer.Option(help="List at most this many quarantined rows.")] = 50,
) -> None:
    """Store access events. Malformed rows are quarantined and listed by file and line; the rest are
    stored; events already stored (same event_id) are ignored. Exits 1 if any row was quarantined or a
    file could not be read."""
    for path in files:
        try:
            events.check_format(path)
        except events.UnknownFormat as error:
            fail(str(error), 2)
    with progress_bar(transient=False) as bar:
        task = bar.add_task("Reading", total=1)

        def step(what: str, done: int, total: int) -> None:
            bar.update(task, description=what, completed=done, total=total)

        try:
            with unit_of_work() as session:
                summary = service.ingest_files(session, settings(), files, CLI_ACTOR, step)
        except (service.CapacityError, service.StoreBusy) as error:
            fail(str(error))
        bar.update(task, description="Done", completed=1, total=1)
    for problem in summary.problems[:show]:
        errors.print(str(problem), markup=False)
    if len(summary.problems) > show:
        errors.print(f"… and {len(summary.problems) - show} more (see the Monitoring screen).")
    if summary.ignored_columns:
        errors.print(f"Columns not used: {', '.join(summary.ignored_columns)}", markup=False)
    console.print(f"{summary} ({summary.batches} ledger entr{'y' if summary.batches == 1 else 'ies'}).")
    if summary.quarantined or summary.problems:
        raise typer.Exit(1)


def _day(value: str | None, option: str, end: bool = False) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        fail(f"{option}: {value!r} is not a date (YYYY-MM-DD) or an ISO 8601 time", 2)
    if len(value) == 10:  # a date: the window includes the whole of the --to day
        moment = datetime.combine(date.fromisoformat(value), time(), UTC) + timedelta(days=1 if end else 0)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@app.command()
def run(
    alerts_out: Annotated[
        Path, typer.Option("--alerts-out", help="Write the alerts here, one JSON per line.")
    ],
    start: Annotated[str | None, typer.Option("--from", metavar="DATE", help="First day (UTC).")] = None,
    end: Annotated[str | None, typer.Option("--to", metavar="DATE", help="Last day, included.")] = None,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify/--no-verify",
            help="First check the batches the window reads against their ledger entries (default).",
        ),
    ] = True,
) -> None:
    """Run every detector over the stored events in the window and write the alerts. They also appear on
    the counter-corruption screens (triage kept for alerts seen before). First the batches of accesses the
    window reads are checked against their ledger entries: exit 1, naming each batch and entry, if one does
    not match (`--no-verify` skips the check)."""
    window = (_day(start, "--from"), _day(end, "--to", end=True))
    phases = service.run_phases(verify)
    with progress_bar(transient=False) as bar:
        task = bar.add_task("Running the detectors", total=phases)

        def step(what: str, done: int, total: int) -> None:
            bar.update(task, description=what, completed=done, total=total)

        try:
            with unit_of_work() as session:
                summary = service.run(session, settings(), CLI_ACTOR, window, progress=step, verify=verify)
        except service.StoreTampered as error:
            bar.stop()
            for problem in error.report.problems:
                errors.print(problem.message, markup=False)
            fail(
                f"{plural(len(error.report.problems), 'batch', 'batches')} of stored accesses the window "
                "reads do not match the ledger: the detectors were not run and nothing was recorded "
                "(custodes monitor verify-store; docs/monitoring.md)"
            )
        except (service.CapacityError, service.DecidedMeanwhile, service.StoreBusy) as error:
            fail(str(error))
        bar.update(task, description="Done", completed=phases)
    written = service.write_alerts(summary.alerts, alerts_out)
    console.print(
        f"{summary.events:,} accesses; {summary.about_people:,} about a person, "
        f"{summary.explained_share:.1%} explained by the work that justifies them; "
        f"{plural(written, 'alert')} ({summary.new_alerts:,} new) written to {alerts_out}."
    )


@app.command()
def explain(
    event_id: Annotated[str, typer.Argument(help="The access's event_id.")],
    start: Annotated[
        str | None, typer.Option("--from", metavar="DATE", help="First day (UTC), as for `monitor run`.")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", metavar="DATE", help="Last day, included.")] = None,
) -> None:
    """Print the explanation found for one access, or why none was found, and the rules it meets: those a
    `monitor run` over the same window (default: every stored access) finds."""
    window = (_day(start, "--from"), _day(end, "--to", end=True))
    try:
        with unit_of_work(checkpoint=False) as session:
            found = service.explain(session, settings(), event_id, CLI_ACTOR, window)
    except (service.OutsideWindow, service.CapacityError) as error:
        fail(str(error))
    if found is None:
        fail(f"no stored access has event_id {event_id!r}")
    event = found.event
    when = london(event["occurred_at"], True)
    console.print(
        f"{event['event_id']}: {event['staff_id']} {event['action']} "
        f"{event['subject_id'] or '(no person)'} on {event['system']} at {when}",
        markup=False,
    )
    console.print(f"Explanation: {found.words}", markup=False)
    console.print(f"Rules met: {', '.join(found.rules) or 'none'}", markup=False)
    for case in found.cases_involving_subject:
        closed = london(case["closed_at"]) if case["closed_at"] else "still open"
        # "Northtown Response Team B (T14)" once the team register names it, "team T14" until then
        team = (
            f"{case['team_name']} ({case['team_id']})"
            if case["team_name"]
            else f"team {case['team_id'] or '-'}"
        )
        console.print(
            f"  case {case['case_ref']} ({team}; assigned "
            f"{', '.join(case['assigned_staff']) or 'nobody'}): opened {london(case['opened_at'])}, {closed}",
            markup=False,
        )


@app.command()
def prove(
    event_id: Annotated[str, typer.Argument(help="The access's event_id.")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the proof here instead of printing it.")
    ] = None,
    batch: Annotated[
        str | None,
        typer.Option("--batch", help="The access's batch, for an event_id stored twice (on two days)."),
    ] = None,
) -> None:
    """Print the proof that this access is in the ledger (for an evidence pack or an outside checker)."""
    with unit_of_work() as session:
        try:
            proof = service.access_proof(session, settings(), event_id, CLI_ACTOR, batch)
        except service.ProofUnavailable as error:
            fail(str(error))
    text = json.dumps(proof, indent=2, ensure_ascii=False)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")


@app.command("verify-proof")
def verify_proof(
    proof_file: Annotated[
        Path,
        typer.Argument(help="A proof from `monitor prove` or an evidence pack.", exists=True, dir_okay=False),
    ],
    public_key: Annotated[str, typer.Option("--public-key", help="Verifier key, or a file holding it.")],
) -> None:
    """Check an access's proof offline, with only the ledger's public key. Exit 0 if it holds, 1 if not."""
    key = key_or_file(public_key)
    try:
        proof = json.loads(proof_file.read_text(encoding="utf-8"))
        problems = service.verify_access_proof(proof, key)
    except (ValueError, KeyError, TypeError) as error:
        fail(f"{proof_file}: not a proof ({error})")
    for problem in problems:
        errors.print(problem, markup=False)
    if problems:
        raise typer.Exit(1)
    console.print(f"The access {proof['event']['event_id']} is in the ledger: proof verified.", markup=False)


@app.command("verify-pack")
def verify_pack(
    pack: Annotated[
        Path, typer.Argument(help="An investigation's evidence pack (ZIP).", exists=True, dir_okay=False)
    ],
    public_key: Annotated[str, typer.Option("--public-key", help="Verifier key, or a file holding it.")],
) -> None:
    """Check an evidence pack offline: every ledger entry in it and every access's proof against the signed
    checkpoint, with the force's published key. Exit 0 if it holds, 1 naming each problem."""
    from custodes.monitoring import evidence

    key = key_or_file(public_key)
    problems = evidence.verify_pack(pack.read_bytes(), key)
    for problem in problems:
        errors.print(problem, markup=False)
    if problems:
        raise typer.Exit(1)
    console.print(f"{pack.name}: every entry and every access verified against the signed checkpoint.")


@contextmanager
def _reading() -> Iterator[Session]:
    """A read-only unit of work, as `custodes ledger verify` reads: a long check must not hold SQLite's
    write lock (every writer would wait, then fail)."""
    database = Database.open(settings())
    try:
        with transaction(database.factory, read_only=True) as session:
            yield session
    finally:
        database.close()


@app.command("verify-store")
def verify_store(
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Check every stored access against the ledger: rebuild each batch's count and Merkle root from the
    store's files and compare them with the batch's `consultation` entry. Exit 0 if every batch matches, 1
    naming each batch that does not (and its ledger index, earliest first), 2 if the store could not be
    checked. The run is recorded in the ledger (a `review` entry)."""
    current = settings()
    try:
        with _reading() as session:
            if as_json:
                report = service.verify_store(session, current)
            else:
                with progress_bar(transient=True) as bar:
                    task = bar.add_task("Checking the stored accesses", total=None)

                    def step(what: str, done: int, total: int) -> None:
                        bar.update(task, description=what, completed=done, total=total)

                    report = service.verify_store(session, current, progress=step)
    except (service.CapacityError, service.StoreBusy) as error:
        fail(str(error), 2)
    try:  # the record of the run: a short write of its own, whose failure must not hide the verdict
        with unit_of_work(checkpoint=False) as session:
            service.record_store_verification(session, report, CLI_ACTOR)
    except Exception as error:  # any failure to record: say so, then give the verdict
        errors.print(f"Warning: this check could not be recorded in the ledger ({error}).", markup=False)
    if as_json:
        console.print_json(json.dumps(report.as_dict()))
    else:
        for problem in report.problems:
            console.print(problem.message, markup=False)
        verdict = (
            "OK: every batch matches its ledger entry"
            if report.intact
            else f"FAULT: {plural(len(report.problems), 'problem')} found"
        )
        console.print(
            f"{verdict} ({plural(report.batches, 'batch', 'batches')}, "
            f"{plural(report.events, 'access', 'accesses')} checked in {report.seconds:.1f} s).",
            markup=False,
        )
    if not report.intact:
        raise typer.Exit(1)
