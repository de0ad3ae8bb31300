"""`custodes ledger …`: the auditors' command-line contract (ledger.md, stable)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from custodes.context import CLI_ACTOR, console, errors, fail, key_or_file, settings, unit_of_work
from custodes.database import Database
from custodes.kit.db import transaction
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryDraft, Op, VerifyReport
from custodes.settings import Settings

app = typer.Typer(
    help="The evidential audit trail: verify, checkpoints, proofs, export.", no_args_is_help=True
)


@contextmanager
def reading() -> Iterator[Session]:
    """A read-only unit of work (`transaction(read_only=True)`): exports, verification and proofs can run
    for minutes, and must not hold SQLite's write lock (every writer waited, then failed after 30 s)."""
    database = Database.open(settings())
    try:
        with transaction(database.factory, read_only=True) as session:
            yield session
    finally:
        database.close()


def _describe(report: VerifyReport) -> str:
    if report.fault is None:
        root = report.root.hex() if report.root else "-"
        return f"OK: {report.size:,} entries, {report.checkpoints} checkpoint(s) verified; root {root}"
    fault = report.fault
    return f"FAULT at index {fault.index}: {fault.kind} — {fault.message}"


@app.command()
def verify(
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    public_key: Annotated[
        str | None,
        typer.Option("--public-key", help="The published verifier key to trust, or a file holding it."),
    ] = None,
) -> None:
    """Recompute every leaf and the tree; check every checkpoint. Exit 1 naming the first bad index."""
    current = settings()
    with reading() as session:
        try:
            report = _verify(session, current, as_json, key_or_file(public_key) if public_key else None)
        except OSError as error:
            fail(f"cannot read {error.filename}: {error.strerror}", 2)
        except ledger.LedgerError as error:
            fail(str(error), 2)
    _record_run(report)
    console.print_json(json.dumps(report.as_dict())) if as_json else console.print(_describe(report))
    if not report.intact:
        raise typer.Exit(1)


def _record_run(report: VerifyReport) -> None:
    """The record of the run, a short write of its own. An auditor may verify a read-only copy (a read-only
    file, a database role without INSERT): the record is then left out with a warning, and the verdict
    still printed and returned as the exit status."""
    try:
        with unit_of_work(checkpoint=False) as session:
            ledger.record_verification(session, report, CLI_ACTOR)
    except (SQLAlchemyError, OSError) as error:
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        errors.print(
            f"Warning: this run is not recorded in the ledger, which could not be written ({reason})."
        )


def _verify(session: Session, current: Settings, as_json: bool, public_key: str | None) -> VerifyReport:
    if as_json or not sys.stderr.isatty():
        return ledger.verify(session, current, public_key=public_key)
    with Progress(
        TextColumn("Verifying"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,}"),
        TimeRemainingColumn(),
        transient=True,
    ) as progress:
        task = progress.add_task("verify", total=None)
        return ledger.verify(
            session,
            current,
            lambda done, total: progress.update(task, completed=done, total=total),
            public_key=public_key,
        )


@app.command()
def checkpoint(
    new: Annotated[bool, typer.Option("--new", help="Issue a fresh checkpoint first.")] = False,
) -> None:
    """Print the latest (or a freshly issued) checkpoint as signed-note text."""
    current = settings()
    with unit_of_work(checkpoint=False) if new else reading() as session:
        if new:
            ledger.record(
                session,
                EntryDraft(
                    actor=CLI_ACTOR,
                    op=Op.CHECKPOINT,
                    object_type="ledger",
                    object_id=None,
                    detail={"reason": "requested on the command line"},
                ),
            )
            issued = ledger.issue_checkpoint(session, current, only_if_grown=False)
        else:
            issued = ledger.latest_checkpoint(session)
    if issued is None:
        fail("no checkpoint has been issued yet (use --new)")
    sys.stdout.write(issued.note)


@app.command("public-key")
def public_key() -> None:
    """Print the verifier key (signed-note convention: name+keyid+base64 key)."""
    try:
        print(ledger.verifier_key(settings()))
    except ledger.LedgerError as error:
        fail(str(error))


@app.command()
def export(
    start: Annotated[int, typer.Option("--from", min=0, help="First index (inclusive).")] = 0,
    end: Annotated[
        int | None, typer.Option("--to", min=0, help="Stop before this index (exclusive).")
    ] = None,
) -> None:
    """Print the entries' exact bytes, one per line, in index order."""
    out = sys.stdout.buffer
    with reading() as session:
        for line in ledger.export_lines(session, start, end):
            out.write(line + b"\n")
    out.flush()


@app.command("prove-inclusion")
def prove_inclusion(
    index: int,
    size: Annotated[int | None, typer.Option("--size", help="Tree size (default: current).")] = None,
) -> None:
    """RFC 9162 inclusion proof for one entry, as JSON."""
    with reading() as session:
        try:
            proof = ledger.prove_inclusion(session, index, size)
        except ledger.LedgerError as error:
            fail(str(error))
    print(json.dumps(proof))


@app.command("prove-consistency")
def prove_consistency(old_size: int, new_size: Annotated[int | None, typer.Argument()] = None) -> None:
    """RFC 9162 consistency proof between two tree sizes, as JSON."""
    with reading() as session:
        try:
            proof = ledger.prove_consistency(session, old_size, new_size)
        except ledger.LedgerError as error:
            fail(str(error))
    print(json.dumps(proof))


@app.command("verify-offline")
def verify_offline(
    entries: Annotated[Path, typer.Option("--entries", help="Output of `custodes ledger export`.")],
    checkpoint_file: Annotated[
        Path, typer.Option("--checkpoint", help="A signed checkpoint (signed-note text).")
    ],
    public_key: Annotated[str, typer.Option("--public-key", help="Verifier key, or a file holding it.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Verify exported entries against a signed checkpoint, without the database."""
    try:
        key = key_or_file(public_key)
        note = checkpoint_file.read_text(encoding="utf-8")
        with entries.open("rb") as lines:
            report = ledger.verify_offline(lines, note, key)
    except OSError as error:
        fail(f"cannot read {error.filename}: {error.strerror}", 2)
    except UnicodeDecodeError:
        fail("cannot read the checkpoint or the public key: not UTF-8 text", 2)
    console.print_json(json.dumps(report.as_dict())) if as_json else console.print(_describe(report))
    if not report.intact:
        raise typer.Exit(1)


@app.command("grant-app-role")
def grant_app_role(role: str) -> None:
    """PostgreSQL: give an existing login role what the web app needs, with no UPDATE/DELETE on the ledger."""
    with unit_of_work(checkpoint=False) as session:
        try:
            statements = ledger.restrict_app_role(session, role)
        except ledger.LedgerError as error:
            fail(str(error))
        ledger.record(
            session,
            EntryDraft(
                actor=CLI_ACTOR,
                op=Op.CONFIGURATION,
                object_type="database_role",
                object_id=role,
                detail={"granted": "application role, ledger append-only"},
            ),
        )
    for statement in statements:
        console.print(statement + ";")
