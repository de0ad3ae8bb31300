"""`custodes demo`: a realistic synthetic force, loaded through the same services as real imports."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy.orm import Session

from custodes.identity import service as identity
from custodes.identity.permissions import ROLE_TITLES, Role
from custodes.workforce import demo as workforce_demo
from custodes.workforce import service as workforce

DEMO_ACTOR = "system:demo"


def load_demo(
    session: Session, *, seed: int, staff_count: int, progress: Any = None
) -> list[tuple[str, str, str, str]]:
    """Load the demo force; return (role, staff id, name, password) for one demo log-in per role."""
    rows = workforce_demo.staff_rows(seed, staff_count)
    if progress is not None:
        progress.print(f"Loading {len(rows):,} staff…")
    workforce.import_staff(session, rows, DEMO_ACTOR)
    session.flush()
    logins = []
    for role in Role:
        holder = next(row for row in rows if role.value in row.values["role"].split(";"))
        password = secrets.token_urlsafe(12)
        identity.set_password(session, holder.values["staff_id"], password, DEMO_ACTOR)
        name = f"{holder.values['forenames']} {holder.values['surname']} — {ROLE_TITLES[role]}"
        logins.append((role.value, holder.values["staff_id"], name, password))
    return logins
