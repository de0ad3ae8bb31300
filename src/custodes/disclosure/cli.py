"""`custodes disclosure …`: check a request against the rules, and run the retention disposal job."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from custodes.context import CLI_ACTOR, console, fail, unit_of_work
from custodes.disclosure import service as disclosure
from custodes.disclosure.schemas import RequestUnreadable
from custodes.kit.words import plural

app = typer.Typer(help="Disclosures: check requests against the rules; retention.", no_args_is_help=True)


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as error:
        fail(f"{path}: cannot read the file: {error.strerror}", 2)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        fail(f"{path}: not a JSON request: {error}", 2)


@app.command()
def check(
    request_file: Annotated[
        Path, typer.Argument(metavar="REQUEST.json", help="A disclosure request (JSON).")
    ],
    at: Annotated[
        str | None, typer.Option("--at", metavar="YYYY-MM-DD", help="Check as on this day (default: today).")
    ] = None,
) -> None:
    """Print the decision and findings as JSON. Exit 0 whatever the decision; 2 if unreadable."""
    day = _day(at)
    data = _read_json(request_file)
    with unit_of_work(checkpoint=False) as session:
        try:
            result = disclosure.check(session, data, day, actor=CLI_ACTOR, justification="rule check (CLI)")
        except RequestUnreadable as error:
            fail(f"{request_file}: " + "; ".join(error.problems), 2)
    typer.echo(json.dumps(result.as_dict(), ensure_ascii=False))


@app.command()
def dispose(
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            metavar="YYYY-MM-DD",
            help="Dispose as on this day (default: today; a later day only with --dry-run).",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be erased; change nothing.")
    ] = False,
) -> None:
    """Mark expired the released disclosures whose agreement or scheme has ended; return to draft the requests
    left submitted or authorised past their time (lapsed); then erase the personal data
    of disclosures past their retention (legal holds excepted), redacting their ledger entries and recording
    each erasure."""
    day = _day(at) or date.today()
    if day > date.today() and not dry_run:  # a preview of a later day is fine; acting on one is not
        fail("--at: only --dry-run may look ahead; disposing as of a later day would erase records early.", 2)
    with unit_of_work() as session:
        expired = disclosure.expire(session, CLI_ACTOR, day, dry_run=dry_run)
        lapsed = disclosure.lapse(session, CLI_ACTOR, day, dry_run=dry_run)
        report = disclosure.dispose(session, CLI_ACTOR, day, dry_run=dry_run)
    console.print(f"{'Would mark' if dry_run else 'Marked'} {plural(len(expired), 'disclosure')} expired.")
    if expired:
        console.print("Expired: " + ", ".join(str(number) for number in expired))
    console.print(
        f"{'Would return' if dry_run else 'Returned'} {len(lapsed)} request(s) not acted on "
        "to draft (lapsed)."
    )
    if lapsed:
        console.print("Lapsed: " + ", ".join(str(number) for number in lapsed))
    verb = "Would erase" if dry_run else "Erased"
    console.print(
        f"{verb} {len(report.erased)} disclosure record(s); {len(report.held)} held by a legal hold."
    )
    if report.erased:
        console.print("Records: " + ", ".join(str(number) for number in report.erased))
    if not dry_run:
        console.print(f"Redacted {report.redacted_entries} ledger entries (their leaf hashes remain).")


def _day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"--at: {value!r} is not a date (YYYY-MM-DD)", 2)
