"""`custodes demo`: a realistic synthetic force, loaded through the same services as real imports."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from custodes.agreements import demo as agreements_demo
from custodes.disclosure import demo as disclosure_demo
from custodes.identity import service as identity
from custodes.identity.permissions import ROLE_TITLES, Role
from custodes.imports import load_records
from custodes.learning import demo as learning_demo
from custodes.monitoring import demo as monitoring_demo
from custodes.settings import Settings
from custodes.stopsearch import demo as stopsearch_demo
from custodes.workforce import demo as workforce_demo
from custodes.workforce import service as workforce

DEMO_ACTOR = "system:demo"
DEMO_MARKER = "custodes-demo-home.txt"
# What `custodes init` and `custodes demo` put in a home: `--replace` removes these and nothing else.
_DEMO_FILES = (
    "custodes.db",
    "custodes.db-journal",
    "custodes.db-wal",
    "custodes.db-shm",
    "data-encryption.key",
    "ledger-signing.key",
    "ledger-latest-checkpoint.txt",
    "ledger-latest-checkpoint.txt.lock",
    "secret.key",
    "monitoring",
    "stopsearch",
)


class DemoHomeError(Exception):
    """`custodes demo --replace` would remove something that is not an earlier demo's."""


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
    for scratch in home.glob("demo-events-*"):  # a demo interrupted while writing its event files
        if scratch.is_dir() and not scratch.is_symlink():
            shutil.rmtree(scratch)


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

    Not all or nothing: it commits once on the way, after ingesting the access logs (the event files are
    published into the store when the ingest commits, and the detectors read the published store). An
    interrupted demo can leave part of the force stored: `custodes demo --replace` starts over."""
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
