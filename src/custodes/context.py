"""What every command-line command shares: settings, the database, one transaction per command, output."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from sqlalchemy import make_url
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.orm import Session

from custodes.database import Database
from custodes.kit.crypto import DecryptionFailed, KeyMissing, key_problem
from custodes.kit.db import transaction
from custodes.settings import Settings

console = Console(highlight=False, soft_wrap=True, emoji=False)
errors = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)
CLI_ACTOR = "system:cli"


def progress_bar(*, transient: bool) -> Progress:
    """The bar long commands draw on standard error: what it is doing, how far, how long so far."""
    return Progress(
        TextColumn("{task.description:<32}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=errors,
        transient=transient,
    )


def use_home(home: Path | None) -> None:
    if home is not None:
        os.environ["CUSTODES_HOME"] = str(home)


def settings() -> Settings:
    return Settings()


def key_or_file(value: str) -> str:
    """A `--public-key` argument: the verifier key itself, or a file holding it."""
    path = Path(value)
    return path.read_text(encoding="utf-8").strip() if path.is_file() else value.strip()


def fail(message: str, code: int = 1) -> NoReturn:
    errors.print(f"[bold red]Error:[/] {message}")
    raise typer.Exit(code)


NOT_INITIALISED = "The database is not ready: run `custodes init` first."


def require_initialised() -> None:
    """Stop (exit 1) before `custodes init` has made the database, without making an empty SQLite file (as
    opening it would). A database whose tables are missing is caught by `missing_tables` when used."""
    current = settings()
    url = make_url(current.resolved_database_url)
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
        fail(NOT_INITIALISED)


def missing_tables(error: DBAPIError) -> bool:
    """The error is a table that does not exist (SQLite, PostgreSQL): `custodes init` was not run."""
    return "no such table" in str(error.orig) or getattr(error.orig, "sqlstate", "") == "42P01"


@contextmanager
def unit_of_work(checkpoint: bool = True) -> Iterator[Session]:
    """One transaction for the command; afterwards, sign a checkpoint covering what it recorded."""
    current = settings()
    database = Database.open(current)
    try:
        try:
            with transaction(database.factory) as session:
                yield session
        except (KeyMissing, DecryptionFailed, StatementError) as error:
            problem = key_problem(error)
            if problem is None:
                raise
            fail(f'{problem} (docs/security.md, "Encryption at rest"). Nothing was changed.')
        if checkpoint:
            from custodes.ledger import service as ledger

            with transaction(database.factory) as session:
                ledger.issue_checkpoint(session, current)
    finally:
        database.close()
