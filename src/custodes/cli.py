"""The `custodes` command. Commands are thin: parse, call a service, print."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from sqlalchemy.exc import DBAPIError, IntegrityError

from custodes import __version__
from custodes.context import (
    CLI_ACTOR,
    NOT_INITIALISED,
    console,
    errors,
    fail,
    missing_tables,
    progress_bar,
    require_initialised,
    settings,
    unit_of_work,
    use_home,
)
from custodes.datakey.cli import app as datakey_app
from custodes.disclosure.cli import app as disclosure_app
from custodes.identity.cli import accounts as accounts_app
from custodes.identity.cli import tokens as tokens_app
from custodes.imports import KINDS, Progress, run_import
from custodes.kit.tabular import BatchRejected
from custodes.kit.words import plural
from custodes.ledger.cli import app as ledger_app
from custodes.monitoring.cli import app as monitor_app
from custodes.stopsearch import cli as stopsearch_cli
from custodes.workforce import service as workforce_service
from custodes.workforce.cli import access_check
from custodes.workforce.schemas import ImportSummary

if TYPE_CHECKING:
    from custodes.database import Database

app = typer.Typer(
    help="Custodes: governs how personal information is accessed and disclosed, and proves it afterwards.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(ledger_app, name="ledger")
app.add_typer(disclosure_app, name="disclosure")
app.add_typer(tokens_app, name="api-token")
app.add_typer(accounts_app, name="account")
app.add_typer(monitor_app, name="monitor")
app.add_typer(stopsearch_cli.app, name="stopsearch")
app.add_typer(datakey_app, name="data-key")
app.command("access-check")(access_check)


def _version(value: bool) -> None:
    if value:
        print(__version__)
        raise typer.Exit()


@app.callback()
def main_options(
    home: Annotated[
        Path | None, typer.Option("--home", help="Installation folder (default $CUSTODES_HOME).")
    ] = None,
    _version_flag: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True)] = False,
) -> None:
    use_home(home)


@app.command()
def init(
    forget_home_locations: Annotated[
        bool,
        typer.Option(
            "--forget-home-locations",
            help="Only when the data encryption key is lost for good: clear the staff home locations it "
            "protected (import the staff file again to restore them) and make a new key.",
        ),
    ] = False,
) -> None:
    """Create the database (every migration), the ledger signing key, the data encryption key and the secret
    key. Safe to run twice."""
    from custodes.database import Database
    from custodes.ledger import service as ledger

    current = settings()
    current.home.mkdir(parents=True, exist_ok=True)
    current.ensure_secret_key()
    created = ledger.ensure_signing_key(current)
    created_data_key = current.ensure_data_key()  # before the migrations: 0009 encrypts stored values
    database = Database.open(current)
    try:
        database.upgrade()
        _check_data_key(database, current.resolved_data_key_file, created_data_key, forget_home_locations)
    finally:
        database.close()
    console.print(f"Database ready: {current.resolved_database_url}")
    console.print(
        ("Created" if created else "Kept") + f" the ledger signing key: {current.resolved_signing_key_file}"
    )
    console.print(
        ("Created" if created_data_key else "Kept")
        + f" the data encryption key: {current.resolved_data_key_file} (back it up apart from the database)"
    )


def _check_data_key(database: Database, key_file: Path, created: bool, forget: bool) -> None:
    """The stored home locations must read with the key: a key file lost (or a wrong one named) is not a
    new installation. A key made just now is removed again rather than left to look as if all were well;
    `--forget-home-locations` is the way on when the old key is gone for good."""
    from custodes.kit.db import transaction
    from custodes.workforce import service as workforce

    with transaction(database.factory) as session:
        if workforce.home_locations_readable(session):
            if forget:
                fail("The staff home locations can be read with this key: there is nothing to forget.")
            return
        if forget:
            cleared = workforce.forget_home_locations(session, CLI_ACTOR)
            console.print(
                f"Cleared the home locations of {plural(cleared, 'member')} of staff: import the staff file."
            )
            return
    if created:
        key_file.unlink()
    fail(
        f"The database holds staff home locations encrypted under another data key than {key_file}. "
        "Restore the key file they were written with (or set CUSTODES_DATA_KEY_FILE to it) and run "
        "`custodes init` again. If it is lost for good, `custodes init --forget-home-locations` clears "
        "them, and importing the staff file again restores them."
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Run the web app and API."""
    import uvicorn

    from custodes.kit.logs import configure
    from custodes.web.app import create_app

    configure()
    try:
        with unit_of_work(checkpoint=False) as session:  # the data key reads what it protects, or it says why
            readable = workforce_service.home_locations_readable(session)
    except DBAPIError as error:
        fail(NOT_INITIALISED if missing_tables(error) else f"{error.orig}")
    if not readable:
        fail(
            f"The staff home locations do not read with {settings().resolved_data_key_file}: restore the key "
            "file they were written with (`custodes init` says what to do)."
        )
    console.print(f"Custodes is at http://{'localhost' if host in ('127.0.0.1', '::1') else host}:{port}/")
    # uvloop and httptools (project dependencies) when importable, else asyncio and h11: "auto" picks them.
    uvicorn.run(
        create_app(settings()),
        host=host,
        port=port,
        log_level="warning",
        proxy_headers=True,
        loop="auto",
        http="auto",
    )


STOP_SEARCH_KINDS = ("stop-searches", "population")


@app.command("import")
def import_files(
    kind: Annotated[str, typer.Argument(help=f"One of: {', '.join((*KINDS, *STOP_SEARCH_KINDS))}.")],
    files: Annotated[list[Path], typer.Argument(help="CSV or JSON Lines (stop-searches: also API JSON).")],
    force: Annotated[
        str | None, typer.Option(help="stop-searches: the force, when the file names do not say.")
    ] = None,
    census: Annotated[
        str | None, typer.Option(help="population: census2011 or census2021, for a table by force.")
    ] = None,
    month: Annotated[
        str | None,
        typer.Option(
            help="stop-searches: the month (YYYY-MM) of files whose names give none, such as API JSON."
        ),
    ] = None,
) -> None:
    """Import reference data: all rows of all files, or nothing if any row is bad."""
    if (force and kind != "stop-searches") or (month and kind != "stop-searches"):
        fail("--force and --month are for stop-searches", 2)
    if census and kind != "population":
        fail("--census is for population", 2)
    require_initialised()
    if kind == "stop-searches":
        return stopsearch_cli.import_stop_searches(files, force, month)
    if kind == "population":
        return stopsearch_cli.import_population(files, census)
    if kind not in KINDS:
        fail(f"unknown kind {kind!r}; known kinds: {', '.join((*KINDS, *STOP_SEARCH_KINDS))}", 2)
    with progress_bar(transient=True) as bar:
        task = bar.add_task(f"Importing {kind}", total=None)

        def step(what: str, done: int, total: int) -> None:
            bar.update(task, description=what, completed=done, total=total)

        summary = _import(kind, files, step)
        bar.update(task, description="Done", completed=1, total=1)
    console.print(f"Imported {summary}.")


def _import(kind: str, files: list[Path], step: Progress) -> ImportSummary:
    """Run the import; every way it can be refused ends the command with a message (exit 1)."""
    try:
        with unit_of_work() as session:
            return run_import(session, kind, files, CLI_ACTOR, step)
    except BatchRejected as rejected:
        for problem in rejected.problems:
            errors.print(str(problem), markup=False)
        fail(f"{plural(len(rejected.problems), 'problem')} found; nothing was imported.")
    except IntegrityError:
        # Another import (or a screen) stored some of the same rows while this one ran (PostgreSQL: this
        # one waited on its insert, then found the row there).
        fail(
            "Some of these rows were stored by someone else while this import ran: nothing was imported. "
            "Run the import again."
        )
    except DBAPIError as error:
        if not missing_tables(error):
            raise
        fail(NOT_INITIALISED)


@app.command()
def demo(
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same force.")] = 2026,
    staff: Annotated[int, typer.Option(help="How many staff.", min=50)] = 3000,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Start over: first remove an earlier demo's database, keys and stores from the home "
            "(only a home an earlier `custodes demo` made; scripts/demo passes it).",
        ),
    ] = False,
) -> None:
    """Load a realistic synthetic force into a new installation and print the demo log-ins."""
    from custodes.demo import DemoFailed, DemoHomeError, build_demo, claim_demo_home, remove_demo_home
    from custodes.ledger import service as ledger

    current = settings()
    if replace:
        try:
            remove_demo_home(current)
        except DemoHomeError as error:
            fail(str(error))
    init()
    with unit_of_work(checkpoint=False) as session:
        recorded = ledger.size(session)
    if recorded:
        fail(
            f"This installation already holds data ({recorded:,} ledger entries): the demo loads only into a "
            "new one, never on top of an installation's data. Use another --home folder, or "
            "`custodes demo --replace` to start over in a home an earlier `custodes demo` made."
        )
    claim_demo_home(current)  # before loading: a demo stopped part way in place can be replaced too
    try:
        logins = build_demo(current, seed=seed, staff_count=staff, progress=console)
    except DemoFailed as failed:
        fail(str(failed), code=failed.exit_code)
    console.print()
    console.print("[bold]Demo log-ins[/] (staff number / password):")
    for role, staff_id, name, password in logins:
        console.print(f"  {role:<11} {staff_id:<8} {password}   {name}")


def main() -> None:
    app()
