"""`custodes demo`: a realistic synthetic force, loaded through the same services as real imports."""

from __future__ import annotations

import os
import secrets
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from contextlib import closing, suppress
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from custodes.agreements import demo as agreements_demo
from custodes.database import Database
from custodes.disclosure import demo as disclosure_demo
from custodes.identity import service as identity
from custodes.identity.permissions import ROLE_TITLES, Role
from custodes.imports import load_records
from custodes.kit.db import transaction
from custodes.kit.files import sync_folder
from custodes.learning import demo as learning_demo
from custodes.ledger import service as ledger
from custodes.monitoring import demo as monitoring_demo
from custodes.settings import Settings
from custodes.stopsearch import demo as stopsearch_demo
from custodes.workforce import demo as workforce_demo
from custodes.workforce import service as workforce

DEMO_ACTOR = "system:demo"
DEMO_MARKER = "custodes-demo-home.txt"
WITNESS_FILES = ("ledger-latest-checkpoint.txt", "ledger-latest-checkpoint.txt.lock")
"""The checkpoint witness (`Settings.witness_file`) and its lock."""

# What `custodes init` and `custodes demo` put in a home: `--replace` removes these and nothing else.
_DEMO_FILES = (
    "custodes.db",
    "custodes.db-journal",
    "custodes.db-wal",
    "custodes.db-shm",
    "data-encryption.key",
    "ledger-signing.key",
    *WITNESS_FILES,
    "secret.key",
    "monitoring",
    "stopsearch",
)


BUILDING = "demo-building-"  # the folder, inside the home, where the demo is built before it is moved in


class DemoHomeError(Exception):
    """`custodes demo --replace` would remove something that is not an earlier demo's."""


class DemoFailed(Exception):
    """The demo stopped part way; the message says what was kept (nothing, when it was built aside).
    `exit_code`: 130 when it was interrupted (Ctrl-C), as a shell expects, else 1."""

    def __init__(self, message: str, cause: BaseException) -> None:
        super().__init__(message)
        self.exit_code = 130 if isinstance(cause, KeyboardInterrupt) else 1


def _what_stopped(error: BaseException) -> str:
    if isinstance(error, KeyboardInterrupt):
        return "interrupted"
    return f"{type(error).__name__}: {error}"


def claim_demo_home(settings: Settings) -> None:
    """Mark the home as the demo's, before loading, so that `--replace` may remove it later."""
    (settings.home / DEMO_MARKER).write_text(
        "Made by `custodes demo`: `custodes demo --replace` removes this installation and starts over.\n",
        encoding="utf-8",
    )


def remove_demo_home(settings: Settings) -> None:
    """Remove an earlier demo's database, keys and stores from the home (whole or interrupted), so that the
    demo starts over. Refuses anything else: a home without the demo's marker, or settings that put the
    database, keys or stores outside the home."""
    home = settings.home
    if not home.exists():
        return
    if not (home / DEMO_MARKER).is_file():
        if any(home.iterdir()):
            raise DemoHomeError(
                f"--replace removes only a home an earlier `custodes demo` made, and {home} is not one "
                f"(it has no {DEMO_MARKER}). Nothing was removed: use another --home folder."
            )
        return
    outside = [
        name
        for name, path in (
            ("the database", None if settings.database_url else home / "custodes.db"),
            ("the monitoring folder", settings.resolved_monitoring_dir),
            ("the ledger signing key", settings.resolved_signing_key_file),
            ("the data encryption key", settings.resolved_data_key_file),
        )
        if path is None or Path(path).resolve().parent != home.resolve()
    ]
    if outside:
        raise DemoHomeError(
            f"--replace removes only what is inside {home}, and the settings put {', '.join(outside)} "
            "elsewhere. Nothing was removed."
        )
    for name in (*_DEMO_FILES, DEMO_MARKER):
        path = home / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
    for pattern in ("demo-events-*", f"{BUILDING}*"):  # a demo killed while writing events or building
        for scratch in home.glob(pattern):
            if scratch.is_dir() and not scratch.is_symlink():
                shutil.rmtree(scratch)


def builds_aside(settings: Settings) -> bool:
    """Whether `build_demo` can build the demo aside and move it in whole: the database is the home's
    SQLite file and the access-event store the home's folder (all the demo writes is then in the home).
    Not so for a PostgreSQL database, or a store configured elsewhere: the demo then loads in place."""
    if settings.database_url:
        return False
    store = settings.resolved_monitoring_dir
    return store.resolve() == (settings.home / "monitoring").resolve()


def build_demo(
    settings: Settings, *, seed: int, staff_count: int, progress: Any = None
) -> list[tuple[str, str, str, str]]:
    """Load the demo force into the installation `custodes init` has just made (its database empty), whole
    or not at all where the installation allows it (`builds_aside`); the demo log-ins.

    Built aside: in a folder of its own inside the home (`demo-building-…`), with a database of its own
    (a copy of the empty one `init` made), the installation's keys and its own stores and checkpoint
    witness file. Only once all of it has loaded, committed and been checkpointed is it moved into the
    home: the stores first (one rename each), then the database file (one rename over the empty one, which
    is what makes the demo present), then the witness file. A failure or Ctrl-C before the database's
    rename removes the folder and puts back any store already moved: the database, stores and witness
    file are as `init` left them. Otherwise (`builds_aside`
    false) it loads in place and commits once part way, after ingesting the access logs (`load_demo`).

    Raises `DemoFailed` (from the cause) on any error or Ctrl-C, saying what was kept."""
    if not builds_aside(settings):
        try:
            return _load(settings, seed=seed, staff_count=staff_count, progress=progress)
        except (Exception, KeyboardInterrupt) as error:
            raise DemoFailed(
                f"The demo stopped part way ({_what_stopped(error)}). It was loading in place "
                "(the database is not the home's SQLite file, or the access-event store is elsewhere), so "
                "what it committed before the failure is kept: if the access logs had been ingested, the "
                "force's staff, registers, disclosures and access logs are stored. Drop and create the "
                "database again (and empty the access-event store), then run `custodes demo`.",
                error,
            ) from error
    home = settings.home
    building = Path(tempfile.mkdtemp(prefix=BUILDING, dir=home))
    try:
        staged_home = building / "home"
        staged_home.mkdir()
        staged = settings.model_copy(
            update={
                "home": staged_home,
                "database_url": None,
                "monitoring_dir": None,
                "signing_key_file": settings.resolved_signing_key_file.resolve(),
                "data_key_file": settings.resolved_data_key_file.resolve(),
                "secret_key": settings.resolved_secret_key,
            }
        )
        try:
            _copy_database(home / _DATABASE, staged_home / _DATABASE)
            logins = _load(staged, seed=seed, staff_count=staff_count, progress=progress)
        except (Exception, KeyboardInterrupt) as error:
            raise DemoFailed(
                f"The demo stopped part way ({_what_stopped(error)}). Nothing of it was kept: it "
                f"was being built aside, in {building.name}, which has been removed, and the database, the "
                "access-event and stop-search stores and the checkpoint file are as they were (an empty "
                "installation). Run `custodes demo` again.",
                error,
            ) from error
        _move_in(staged_home, home, building / "replaced")
        return logins
    finally:
        shutil.rmtree(building, ignore_errors=True)


def _copy_database(source: Path, target: Path) -> None:
    """A copy of the empty database `custodes init` made (SQLite's online backup: every page, consistent)."""
    with closing(sqlite3.connect(source)) as original, closing(sqlite3.connect(target)) as copy:
        original.backup(copy)


def _load(
    settings: Settings, *, seed: int, staff_count: int, progress: Any
) -> list[tuple[str, str, str, str]]:
    """`load_demo` in one unit of work (it commits once more part way), then a signed checkpoint."""
    database = Database.open(settings)
    try:
        with transaction(database.factory) as session:
            logins = load_demo(session, settings, seed=seed, staff_count=staff_count, progress=progress)
        with transaction(database.factory) as session:
            ledger.issue_checkpoint(session, settings)
    finally:
        database.close()  # SQLite: the last connection closed folds the write-ahead log into the file
    return logins


_DATABASE = "custodes.db"
_SQLITE_SIDE_FILES = ("custodes.db-journal", "custodes.db-wal", "custodes.db-shm")


def _move_in(staged: Path, home: Path, replaced: Path) -> None:
    """Move a demo built in `staged` into `home`, the database last. What is in the home under the same
    names (the empty database and its side files, an empty store) goes into `replaced`, which is removed
    with the building folder. A rename that fails puts back those already made (renames within one folder
    tree do not fail in practice: this is for a disk error)."""
    left = [name for name in _SQLITE_SIDE_FILES if (staged / name).exists()]
    if left:  # the database was not closed cleanly: moving the file alone would lose what they hold
        raise DemoFailed(
            f"The demo's database was not closed cleanly ({', '.join(left)}). Nothing of it was kept.",
            RuntimeError(),
        )
    replaced.mkdir()
    done: list[tuple[Path, Path]] = []

    def move(source: Path, target: Path) -> None:
        os.replace(source, target)
        done.append((source, target))

    try:
        for name in _SQLITE_SIDE_FILES:  # the empty database's, so that none is applied to the demo's
            if (home / name).exists():
                move(home / name, replaced / name)
        # The stores first, the database by the one rename that makes the demo present, the checkpoint
        # witness after it (below): a witness ahead of its database reads as a rolled-back ledger.
        names = sorted(path.name for path in staged.iterdir() if path.name != _DATABASE)
        for name in [name for name in names if name not in WITNESS_FILES]:
            if (home / name).exists() or (home / name).is_symlink():
                move(home / name, replaced / name)
            move(staged / name, home / name)
        move(staged / _DATABASE, home / _DATABASE)
    except (Exception, KeyboardInterrupt) as error:  # a disk error, or Ctrl-C between two renames
        for source, target in reversed(done):
            os.replace(target, source)
        raise DemoFailed(
            f"The demo was built but could not be moved into {home} ({_what_stopped(error)}). Nothing of it "
            "was kept.",
            error,
        ) from error
    for name in (name for name in names if name in WITNESS_FILES):
        with suppress(OSError):  # the demo is in: an older witness left behind is behind it, which is normal
            os.replace(staged / name, home / name)
    sync_folder(home)


_NORTH = {"ME1", "ME2", "ME4", "ME5", "ME7", "ME8", "DA1"}


def _protected(seed: int) -> set[str]:
    return {row["subject_id"] for row in monitoring_demo.nominal_rows(seed) if row["flags"]}


def _load_registers(
    session: Session, staff: list[Any], seed: int, keep_current: set[str], say: Callable[[str], None]
) -> None:
    """Training, vetting, nominals, partners, agreements and schemes, through the import services."""
    today = date.today()
    training, vetting = workforce_demo.training_and_vetting(staff, seed, today, keep_current)
    say("Loading training, vetting and nominals…")
    load_records(session, "courses", list(workforce_demo.COURSES), DEMO_ACTOR)
    load_records(session, "training", training, DEMO_ACTOR)
    load_records(session, "vetting", vetting, DEMO_ACTOR)
    load_records(
        session, "vetting", workforce_demo.vetting_stages(staff, seed, today, keep_current), DEMO_ACTOR
    )
    say("Loading declarations…")
    workforce_demo.load_declarations(session, staff, seed, today)
    load_records(session, "nominals", monitoring_demo.nominal_rows(seed), DEMO_ACTOR)
    workforce_demo.load_referrals(session, seed)
    say("Loading partners, agreements and schemes…")
    load_records(session, "organisations", agreements_demo.organisation_rows(), DEMO_ACTOR)
    load_records(session, "agreements", agreements_demo.agreement_rows(today), DEMO_ACTOR)
    load_records(session, "schemes", agreements_demo.scheme_rows(today), DEMO_ACTOR)
    load_records(session, "scheme-members", agreements_demo.member_rows(today), DEMO_ACTOR)
    session.flush()


def _holder(rows: list[Any], role: Role, avoid: set[str]) -> Any:
    """The first member of staff with the role, preferably one holding that role alone (a specialist unit's
    sergeant is a supervisor too, and a demo log-in shows one role's screens) and not one of `avoid`."""
    holders = [row for row in rows if role.value in row.values["role"].split(";")]
    only = [row for row in holders if row.values["role"] == role.value] or holders
    return next((row for row in only if row.values["staff_id"] not in avoid), only[0])


def load_demo(
    session: Session,
    settings: Settings,
    *,
    seed: int,
    staff_count: int,
    progress: Any = None,
    events: int = monitoring_demo.DEMO_EVENTS,
) -> list[tuple[str, str, str, str]]:
    """Load the demo force; return (role, staff id, name, password) for one demo log-in per role.

    Not all or nothing by itself: it commits once on the way, after ingesting the access logs (the event
    files are published into the store when the ingest commits, and the detectors read the published
    store). `build_demo` runs it aside, in a database and stores of its own, and moves the result in only
    once it has all loaded."""
    rows = workforce_demo.staff_rows(seed, staff_count)
    say = progress.print if progress is not None else (lambda _message: None)
    say(f"Loading {len(rows):,} staff…")
    workforce.import_staff(session, rows, DEMO_ACTOR)
    load_records(session, "teams", workforce_demo.team_rows(), DEMO_ACTOR)
    session.flush()
    say(f"Generating {events:,} accesses to police systems, some of them misuse…")
    force = monitoring_demo.access_force(seed, rows, events)
    involved = monitoring_demo.involved_staff(force)
    # The unit's log-in should see the whole alert queue, and nobody is shown alerts about themselves.
    holders = {role: _holder(rows, role, involved if role is Role.CCU else set()) for role in Role}
    officer = holders[Role.OFFICER].values
    cast_ids = {row.values["staff_id"] for row in holders.values()} | {officer["line_manager_id"]}
    _load_registers(session, rows, seed, cast_ids, say)
    admin = identity.principal_for(session, holders[Role.ADMIN].values["staff_id"])
    if admin is not None:
        identity.set_config(session, "area_names", workforce_demo.AREA_NAMES, admin)
    say("Loading disclosures at every stage…")
    cast = disclosure_demo.Cast(
        officer=identity.principal_for(session, officer["staff_id"]),
        aic=identity.principal_for(session, holders[Role.AIC].values["staff_id"]),
        sergeant=identity.principal_for(session, officer["line_manager_id"]),
        dpu=identity.principal_for(session, holders[Role.DPU].values["staff_id"]),
    )
    north = [row["subject_id"] for row in monitoring_demo.nominal_rows(seed) if row["postcode"][:3] in _NORTH]
    disclosure_demo.load(session, cast, [s for s in north if s not in _protected(seed)][:12])
    learning_demo.load(session, {r.value: row.values["staff_id"] for r, row in holders.items()}, DEMO_ACTOR)
    say("Loading cases, rosters and the people on police systems…")
    monitoring_demo.load_registers(session, force, DEMO_ACTOR)
    say(f"Ingesting {force.event_count:,} accesses…")
    monitoring_demo.ingest_events(session, settings, force, DEMO_ACTOR)
    session.commit()  # publishes the event files (monitoring.md: published when the ingest commits)
    monitoring_demo.ingest_a_faulty_log(session, settings, force, DEMO_ACTOR)
    say("Running the misuse detectors; casework for the counter-corruption unit…")
    unit = identity.principal_for(session, holders[Role.CCU].values["staff_id"])
    monitoring_demo.detect_and_triage(session, settings, unit, DEMO_ACTOR)
    stopsearch_demo.load_demo(session, settings, seed=seed, progress=progress)
    logins = []
    for role in Role:
        holder = holders[role]
        password = secrets.token_urlsafe(12)
        identity.set_password(session, holder.values["staff_id"], password, DEMO_ACTOR)
        name = f"{holder.values['forenames']} {holder.values['surname']} — {ROLE_TITLES[role]}"
        logins.append((role.value, holder.values["staff_id"], name, password))
    return logins
