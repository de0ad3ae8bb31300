"""Workforce rules. This issue: the staff register and its import."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from custodes.identity import service as identity
from custodes.identity.permissions import Role
from custodes.kit.db import utcnow
from custodes.kit.tabular import BatchRejected, RowProblem, RowReader, SourceRow
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryDraft, Op
from custodes.workforce.models import Staff
from custodes.workforce.schemas import ImportSummary, StaffRecord, StaffView

STAFF_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}"
_STORED_FIELDS = (
    "surname",
    "forenames",
    "date_of_birth",
    "team_id",
    "area_code",
    "line_manager_id",
    "home_postcode",
    "home_lat",
    "home_lon",
)


def parse_staff_rows(rows: Sequence[SourceRow], known_ids: set[str]) -> list[StaffRecord]:
    """Validate every row; raise BatchRejected listing every problem. `known_ids`: staff already stored."""
    problems: list[RowProblem] = []
    records: list[StaffRecord] = []
    seen: dict[str, int] = {}
    for row in rows:
        cells = RowReader(row)
        staff_id = cells.text("staff_id", required=True, pattern=STAFF_ID_PATTERN)
        if staff_id is not None and staff_id in seen:
            cells.problem("staff_id", f"{staff_id} already appears on line {seen[staff_id]}")
        roles = cells.items("role", required=True, allowed=[r.value for r in Role])
        before = len(cells.problems)
        lat = cells.number("home_lat", low=-90, high=90)
        lon = cells.number("home_lon", low=-180, high=180)
        # Only when both cells are valid on their own: a bad latitude is reported once, as itself.
        if (lat is None) != (lon is None) and len(cells.problems) == before:
            cells.problem(
                "home_lat" if lat is None else "home_lon", "give both home_lat and home_lon, or neither"
            )
        record = StaffRecord(
            staff_id=staff_id or "",
            surname=cells.text("surname", required=True, max_length=100) or "",
            forenames=cells.text("forenames", required=True, max_length=100) or "",
            date_of_birth=cells.date("date_of_birth"),
            roles=frozenset(Role(r) for r in roles if r in Role.__members__.values()),
            team_id=cells.text("team_id", max_length=32),
            area_code=cells.text("area_code", max_length=8, pattern=r"[A-Z0-9]{1,8}"),
            line_manager_id=cells.text("line_manager_id", pattern=STAFF_ID_PATTERN),
            home_postcode=cells.postcode("home_postcode"),
            home_lat=lat,
            home_lon=lon,
        )
        if staff_id is not None:
            seen.setdefault(staff_id, row.line)
        problems += cells.problems
        records.append(record)
    everyone = known_ids | set(seen)
    for row, record in zip(rows, records, strict=True):
        manager = record.line_manager_id
        if manager and manager == record.staff_id:
            problems.append(
                RowProblem(
                    row.file, row.line, "line_manager_id", "a member of staff cannot manage themselves"
                )
            )
        elif manager and manager not in everyone:
            problems.append(
                RowProblem(
                    row.file,
                    row.line,
                    "line_manager_id",
                    f"{manager} is not in this file or the staff register",
                )
            )
    if problems:
        raise BatchRejected(problems)
    return records


def _digest(value: Any) -> str:
    return hashlib.sha256(str(value).encode()).hexdigest()


def import_staff(session: Session, rows: Sequence[SourceRow], actor: str) -> ImportSummary:
    """Store a staff file whole, or nothing (BatchRejected). New rows are collections, changes alterations."""
    existing = {staff.staff_id: staff for staff in session.scalars(select(Staff))}
    records = parse_staff_rows(rows, set(existing))
    identity.preload_accounts(session)
    created = updated = unchanged = 0
    now = utcnow()
    for record in records:
        values = {name: getattr(record, name) for name in _STORED_FIELDS}
        staff = existing.get(record.staff_id)
        if staff is None:
            session.add(Staff(staff_id=record.staff_id, created_at=now, updated_at=now, **values))
            ledger.record(
                session, _staff_entry(actor, Op.COLLECTION, record.staff_id, {"fields": sorted(values)})
            )
            created += 1
        else:
            changes = {
                name: {"old_sha256": _digest(getattr(staff, name)), "new_sha256": _digest(value)}
                for name, value in values.items()
                if getattr(staff, name) != value
            }
            if changes:
                for name in changes:
                    setattr(staff, name, values[name])
                staff.updated_at = now
                ledger.record(
                    session, _staff_entry(actor, Op.ALTERATION, record.staff_id, {"changes": changes})
                )
                updated += 1
            else:
                unchanged += 1
        identity.ensure_account(session, record.staff_id, record.display_name, set(record.roles), actor)
    return ImportSummary("staff", created, updated, unchanged)


def _staff_entry(actor: str, op: Op, staff_id: str, detail: dict[str, Any]) -> EntryDraft:
    return EntryDraft(
        actor=actor, op=op, object_type="staff", object_id=staff_id, subjects=(staff_id,), detail=detail
    )


def view_staff(session: Session, staff_id: str, *, actor: str, justification: str) -> StaffView | None:
    """A staff record for a screen. Showing it is a consultation, so it is logged."""
    staff = session.get(Staff, staff_id)
    if staff is None:
        return None
    manager = session.get(Staff, staff.line_manager_id) if staff.line_manager_id else None
    ledger.record(
        session,
        EntryDraft(
            actor=actor,
            op=Op.CONSULTATION,
            object_type="staff",
            object_id=staff_id,
            subjects=(staff_id,),
            justification=justification,
        ),
    )
    return StaffView(
        staff_id=staff.staff_id,
        name=f"{staff.forenames} {staff.surname}",
        date_of_birth=staff.date_of_birth,
        team_id=staff.team_id,
        area_code=staff.area_code,
        line_manager_id=staff.line_manager_id,
        line_manager_name=f"{manager.forenames} {manager.surname}" if manager else None,
    )
