"""Workforce rules: the staff register, training, vetting and declarations, and the checks built on them."""

from __future__ import annotations

import calendar
import json
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session, undefer, undefer_group

from custodes.identity import service as identity
from custodes.identity.permissions import Permission, Role
from custodes.identity.schemas import Principal
from custodes.kit.crypto import DecryptionFailed
from custodes.kit.db import utcnow
from custodes.kit.geo import metres_between
from custodes.kit.names import (
    NAME_RULE,
    PersonKey,
    folded_surname_key,
    forenames_agree,
    same_person,
    same_surname,
    surname_key,
    usable_name,
)
from custodes.kit.tabular import (
    BatchRejected,
    RowProblem,
    RowReader,
    SourceRow,
    normalise_postcode,
    where_first,
)
from custodes.kit.timefmt import london, london_day
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryDraft, Op
from custodes.registers import keyed_changes, store_register
from custodes.workforce.models import (
    HOME_LOCATION,
    Course,
    Declaration,
    DeclarationHistory,
    Referral,
    Staff,
    Team,
    TrainingCompletion,
    Vetting,
)
from custodes.workforce.schemas import (
    AGE_BANDS,
    DECISION_OUTCOMES,
    DECISIONS,
    ETHNICITY_GROUPS,
    PERSON_DECLARATIONS,
    PUBLISHABLE,
    STAFF_OPTIONAL,
    TEAM_OPTIONAL,
    UNDECIDED_VETTING,
    VETTING_LEVELS,
    Backlog,
    BacklogCase,
    ComplianceCounts,
    CourseCompliance,
    CourseGate,
    CourseState,
    DeclarationChange,
    DeclarationDetail,
    DeclarationEnd,
    DeclarationEvent,
    DeclarationForm,
    DeclarationKind,
    DeclarationStatus,
    DeclarationView,
    DiscloserReadiness,
    DisparityRow,
    DisparityTable,
    HistoryEntry,
    ImportSummary,
    MemberTraining,
    NextStep,
    PeopleCounts,
    PublishedDeclaration,
    Relationship,
    RenewalDue,
    StaffRecord,
    StaffView,
    SubjectRef,
    TrainingDashboard,
    TrainingState,
    TrainingStatus,
    VettingStatus,
    VettingSummary,
    VettingView,
    normalise_vetting_level,
)

STAFF_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}"
AREA_FORM = "an area code such as NORTH (up to 8 capital letters or digits)"
STAFF_ID_FORM = (
    "a staff number such as S1001 (up to 32 letters, digits, _ or -, starting with a letter or digit)"
)
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
    seen: dict[str, SourceRow] = {}
    for row in rows:
        cells = RowReader(row)
        staff_id = cells.text("staff_id", required=True, pattern=STAFF_ID_PATTERN, form=STAFF_ID_FORM)
        if staff_id is not None and staff_id in seen:
            cells.problem("staff_id", f"{staff_id} already appears on {where_first(seen[staff_id], row)}")
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
            area_code=cells.text("area_code", max_length=8, pattern=r"[A-Z0-9]{1,8}", form=AREA_FORM),
            line_manager_id=cells.text("line_manager_id", pattern=STAFF_ID_PATTERN, form=STAFF_ID_FORM),
            home_postcode=cells.postcode("home_postcode"),
            home_lat=lat,
            home_lon=lon,
            collar_number=cells.text(
                "collar_number",
                max_length=16,
                pattern=r"[A-Za-z0-9][A-Za-z0-9 /-]*",
                form="a collar number such as PC 1234 (letters, digits, spaces, / or -)",
            ),
            rank=cells.text("rank", max_length=40),
            start_date=cells.date("start_date"),
            leave_date=cells.date("leave_date"),
            ethnicity_group=cells.choice("ethnicity_group", ETHNICITY_GROUPS),
        )
        if record.start_date and record.leave_date and record.leave_date < record.start_date:
            cells.problem("leave_date", "the leave date is before the start date")
        if staff_id is not None:
            seen.setdefault(staff_id, row)
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


def import_staff(session: Session, rows: Sequence[SourceRow], actor: str) -> ImportSummary:
    """Store a staff file whole, or nothing (BatchRejected). New rows are collections, changes alterations."""
    # undefer("*"): with the (deferred, encrypted) home location, which the file is compared with
    existing = {staff.staff_id: staff for staff in session.scalars(select(Staff).options(undefer("*")))}
    records = parse_staff_rows(rows, set(existing))
    identity.preload_accounts(session)
    created = updated = unchanged = 0
    now = utcnow()
    for row, record in zip(rows, records, strict=True):
        values = {name: getattr(record, name) for name in _STORED_FIELDS}
        # Optional columns: a file without one leaves the stored value alone.
        values.update((name, getattr(record, name)) for name in STAFF_OPTIONAL if name in row.values)
        staff = existing.get(record.staff_id)
        if staff is None:
            session.add(Staff(staff_id=record.staff_id, created_at=now, updated_at=now, **values))
            ledger.record(
                session, _staff_entry(actor, Op.COLLECTION, record.staff_id, {"fields": sorted(values)})
            )
            created += 1
        else:
            changes = keyed_changes(session, staff, values, kind="staff", object_id=record.staff_id)
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
        if "leave_date" in row.values:
            identity.set_last_day(session, record.staff_id, record.leave_date, actor)
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
    ledger.record_consultation(
        session,
        actor=actor,
        object_type="staff",
        object_id=staff_id,
        subjects=(staff_id,),
        justification=justification,
    )
    return StaffView(
        staff_id=staff.staff_id,
        name=f"{staff.forenames} {staff.surname}",
        date_of_birth=staff.date_of_birth,
        team_id=staff.team_id,
        area_code=staff.area_code,
        line_manager_id=staff.line_manager_id,
        line_manager_name=f"{manager.forenames} {manager.surname}" if manager else None,
        collar_number=staff.collar_number,
        rank=staff.rank,
        start_date=staff.start_date,
        leave_date=staff.leave_date,
    )


# --------------------------------------------------------------------------- teams
# The staff register and cases carry a team id only; the team register gives it a name (and an area), so
# screens show "North Division Response Team A (NA-RESP1)". A team with no name stored is shown as its id.


def parse_team_rows(rows: Sequence[SourceRow]) -> list[dict[str, Any]]:
    """Validate team rows (`team_id, name[, area_code]`); raise BatchRejected listing every problem. A file
    without the optional `area_code` column leaves stored areas alone."""
    problems: list[RowProblem] = []
    records: list[dict[str, Any]] = []
    for row in rows:
        cells = RowReader(row)
        record: dict[str, Any] = {
            "team_id": cells.text("team_id", required=True, max_length=32),
            "name": cells.text("name", required=True, max_length=120),
        }
        record.update(
            (column, cells.text(column, max_length=8, pattern=r"[A-Z0-9]{1,8}", form=AREA_FORM))
            for column in TEAM_OPTIONAL
            if column in row.values
        )
        records.append(record)
        problems += cells.problems
    problems += duplicate_keys(rows, [r["team_id"] for r in records], "team_id")
    if problems:
        raise BatchRejected(problems)
    return records


def import_teams(session: Session, rows: Sequence[SourceRow], actor: str) -> ImportSummary:
    """Store team names whole or not at all; the key is `team_id`. A team need not have staff yet (the
    register may be loaded before the staff file), and a team id with no row here is shown as the id."""
    return store_register(session, Team, parse_team_rows(rows), kind="team", key="team_id", actor=actor)


def team_names(session: Session) -> dict[str, str]:
    """Every named team: team id → name, in one query (a force has hundreds of teams, not millions)."""
    return {team_id: name for team_id, name in session.execute(select(Team.team_id, Team.name))}


def team_label(names: Mapping[str, str], team_id: str | None) -> str:
    """'North Division Response Team A (NA-RESP1)' if the team is named, else its id; '—' for none."""
    if not team_id:
        return "—"
    return f"{names[team_id]} ({team_id})" if team_id in names else team_id


class TeamLabeller:
    """team_label with this force's team names, for a screen or document to call on each team id it shows
    (`named` tells a template whether to say "team T4" or just the name with its id). A team's name is
    reference data, not personal data: not logged."""

    def __init__(self, names: Mapping[str, str]) -> None:
        self.names = names

    def __call__(self, team_id: str | None) -> str:
        return team_label(self.names, team_id)

    def named(self, team_id: str | None) -> bool:
        return bool(team_id) and team_id in self.names


def team_labeller(session: Session) -> TeamLabeller:
    """A TeamLabeller over every named team (one query), beside identity's area_labeller and
    staff_labeller."""
    return TeamLabeller(team_names(session))


# --------------------------------------------------------------------------- shared helpers


def london_today() -> date:
    """Today in London: the day a date in the workforce records means (kit.timefmt.london_day)."""
    return london_day(utcnow())


def in_service(on: date) -> ColumnElement[bool]:
    """Staff rows in service on `on`: no leave date (the last day of service) before it."""
    return or_(Staff.leave_date.is_(None), Staff.leave_date >= on)


_CHUNK = 5000
CODE_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}"
CODE_FORM = (
    "a course code such as MI-2024 (up to 32 letters, digits, _ . or -, starting with a letter or digit)"
)
RECORD_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.:/-]{0,63}"
RECORD_ID_FORM = (
    "a reference such as N1001 (up to 64 letters, digits, _ . : / or -, starting with a letter or digit)"
)
_DATE_ONLY = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"


def existing_staff_ids(session: Session, candidates: Iterable[str]) -> set[str]:
    """Which of `candidates` are in the staff register (for other modules' imports to check references)."""
    return _existing(session, Staff.staff_id, candidates)


def _existing(session: Session, column: Any, candidates: Iterable[str]) -> set[str]:
    wanted = sorted({c for c in candidates if c})
    found: set[str] = set()
    for start in range(0, len(wanted), _CHUNK):
        found.update(session.scalars(select(column).where(column.in_(wanted[start : start + _CHUNK]))))
    return found


def _list_cell(values: Iterable[str]) -> str:
    """A `;` list as stored: sorted, without duplicates, so re-ordering a cell is not a change."""
    return ";".join(sorted(set(values)))


def _split(stored: str | None) -> frozenset[str]:
    return frozenset(item for item in (stored or "").split(";") if item)


def time_or_date(cells: RowReader, column: str, *, required: bool = False) -> datetime | None:
    """An ISO 8601 time with offset, or a bare date (taken as midnight UTC)."""
    value = cells.row.values.get(column, "")
    if re.fullmatch(_DATE_ONLY, value):
        day = cells.date(column)
        return None if day is None else datetime.combine(day, time(), tzinfo=UTC)
    return cells.moment(column, required=required)


def add_months(day: date, months: int) -> date:
    """`day` plus whole months, the day clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    total = day.year * 12 + day.month - 1 + months
    year, month = divmod(total, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _unknown_references(
    rows: Sequence[SourceRow], records: Sequence[dict[str, Any]], column: str, known: set[str], register: str
) -> list[RowProblem]:
    return [
        RowProblem(row.file, row.line, column, f"{record[column]} is not in the {register}")
        for row, record in zip(rows, records, strict=True)
        if record.get(column) and record[column] not in known
    ]


def duplicate_keys(
    rows: Sequence[SourceRow], keys: Sequence[str | None], column: str, what: str = ""
) -> list[RowProblem]:
    """A problem for each row whose key (None: unknown, skipped) an earlier row already has."""
    seen: dict[str, SourceRow] = {}
    problems = []
    for row, key in zip(rows, keys, strict=True):
        if key is None:
            continue
        if key in seen:
            problems.append(
                RowProblem(
                    row.file,
                    row.line,
                    column,
                    f"{what or key} already appears on {where_first(seen[key], row)}",
                )
            )
        else:
            seen[key] = row
    return problems


def _staff_subject(record: Mapping[str, Any]) -> tuple[str, ...]:
    return (record["staff_id"],)


# --------------------------------------------------------------------------- courses


def parse_course_rows(rows: Sequence[SourceRow]) -> list[dict[str, Any]]:
    """Validate course rows (imports.md `courses`); raise BatchRejected listing every problem."""
    problems: list[RowProblem] = []
    records: list[dict[str, Any]] = []
    for row in rows:
        cells = RowReader(row)
        months = cells.text(
            "validity_months",
            pattern=r"[0-9]{1,4}",
            form="a whole number of months (up to 4 digits), such as 36",
        )
        if months is not None and int(months) == 0:
            cells.problem(
                "validity_months", "must be at least 1 (leave it empty for a course that never expires)"
            )
        records.append(
            {
                "course_code": cells.text("course_code", required=True, pattern=CODE_PATTERN, form=CODE_FORM),
                "title": cells.text("title", required=True, max_length=200),
                "mandatory_for": _list_cell(cells.items("mandatory_for", allowed=[r.value for r in Role])),
                "validity_months": int(months) if months else None,
                "gates": _list_cell(cells.items("gates", allowed=[g.value for g in CourseGate])),
            }
        )
        problems += cells.problems
    problems += duplicate_keys(rows, [r["course_code"] for r in records], "course_code")
    if problems:
        raise BatchRejected(problems)
    return records


def import_courses(session: Session, rows: Sequence[SourceRow], actor: str) -> ImportSummary:
    """Store course rows whole or not at all; the key is `course_code`."""
    return store_register(
        session, Course, parse_course_rows(rows), kind="course", key="course_code", actor=actor
    )


# --------------------------------------------------------------------------- training


def training_key(staff_id: str, course_code: str, completed_on: date) -> str:
    return f"{staff_id}/{course_code}/{completed_on.isoformat()}"


def parse_training_rows(
    rows: Sequence[SourceRow], known_staff: set[str], known_courses: set[str]
) -> list[dict[str, Any]]:
    """Validate training rows; `known_staff` / `known_courses`: the ids already stored that rows may name."""
    problems: list[RowProblem] = []
    records: list[dict[str, Any]] = []
    today = london_today()  # a completion dated tomorrow in London is in the future, whatever the server
    for row in rows:
        cells = RowReader(row)
        record: dict[str, Any] = {
            "staff_id": cells.text("staff_id", required=True, pattern=STAFF_ID_PATTERN, form=STAFF_ID_FORM),
            "course_code": cells.text("course_code", required=True, pattern=CODE_PATTERN, form=CODE_FORM),
            "completed_on": cells.date("completed_on", required=True),
        }
        complete = all(record.values())
        record["training_key"] = training_key(**record) if complete else None
        records.append(record)
        problems += cells.problems
        if record["completed_on"] and record["completed_on"] > today:
            # A completion not yet made would read as the latest, and as expired, hiding the real one.
            problems.append(
                RowProblem(row.file, row.line, "completed_on", f"{record['completed_on']} is in the future")
            )
    problems += _unknown_references(rows, records, "staff_id", known_staff, "staff register")
    problems += _unknown_references(rows, records, "course_code", known_courses, "course register")
    problems += duplicate_keys(rows, [r["training_key"] for r in records], "completed_on", "this completion")
    if problems:
        raise BatchRejected(problems)
    return records


def import_training(session: Session, rows: Sequence[SourceRow], actor: str) -> ImportSummary:
    """Store training completions. The natural key is (staff_id, course_code, completed_on): each completion
    is its own record, so a refresher adds to the history instead of replacing it, and re-importing a
    completion leaves it unchanged. Staff and courses must already be in their registers."""
    staff = existing_staff_ids(session, (row.values.get("staff_id", "") for row in rows))
    courses = _existing(session, Course.course_code, (row.values.get("course_code", "") for row in rows))
    records = parse_training_rows(rows, staff, courses)
    return store_register(
        session,
        TrainingCompletion,
        records,
        kind="training",
        key="training_key",
        actor=actor,
        subjects=_staff_subject,
    )


# --------------------------------------------------------------------------- vetting


def vetting_key(staff_id: str, level: str, decided_on: date | None) -> str:
    return f"{staff_id}/{level}/{decided_on.isoformat() if decided_on else 'pending'}"


def parse_vetting_rows(rows: Sequence[SourceRow], known_staff: set[str]) -> list[dict[str, Any]]:
    """Validate vetting rows. `decided_on` is required once decided and must be empty while applied or in
    progress; `expires_on` (empty: does not expire) must not be before `decided_on`."""
    problems: list[RowProblem] = []
    records: list[dict[str, Any]] = []
    for row in rows:
        cells = RowReader(row)
        staff_id = cells.text("staff_id", required=True, pattern=STAFF_ID_PATTERN, form=STAFF_ID_FORM)
        given = cells.text(
            "level",
            required=True,
            max_length=16,
            pattern=r"[A-Za-z0-9][A-Za-z0-9 _-]{0,15}",
            form="a vetting level such as NPPV2 (up to 16 letters, digits, spaces, _ or -)",
        )
        level = normalise_vetting_level(given) if given else None
        if level is not None and level not in VETTING_LEVELS:
            cells.problem(
                "level", f"{given!r} is not a vetting level: give one of {', '.join(VETTING_LEVELS)}"
            )
            level = None
        status = cells.choice("status", [s.value for s in VettingStatus], required=True)
        decided_on = cells.date("decided_on")
        expires_on = cells.date("expires_on")
        applied_on = cells.date("applied_on")
        if applied_on and decided_on and applied_on > decided_on:
            cells.problem("applied_on", "is after decided_on")
        if status in UNDECIDED_VETTING and decided_on is not None:
            cells.problem("decided_on", f"must be empty while the status is {status}")
        elif status is not None and status not in UNDECIDED_VETTING and not row.values.get("decided_on"):
            cells.problem("decided_on", f"is required when the status is {status}")
        if decided_on and expires_on and expires_on < decided_on:
            cells.problem("expires_on", "is before decided_on")
        key = vetting_key(staff_id, level, decided_on) if staff_id and level else None
        records.append(
            {
                "vetting_key": key,
                "staff_id": staff_id,
                "level": level,
                "status": status,
                "decided_on": decided_on,
                "expires_on": expires_on,
                **({"applied_on": applied_on} if "applied_on" in row.values else {}),
                # The decision's outcome, set by a row that gives one; a later lapse or withdrawal of the
                # same decision leaves the stored outcome alone (the disparity table counts it).
                **({"decision": status} if status in DECISION_OUTCOMES else {}),
            }
        )
        problems += cells.problems
    problems += _unknown_references(rows, records, "staff_id", known_staff, "staff register")
    problems += duplicate_keys(
        rows, [r["vetting_key"] for r in records], "decided_on", "this vetting (staff, level, decided_on)"
    )
    if problems:
        raise BatchRejected(problems)
    return records


def import_vetting(session: Session, rows: Sequence[SourceRow], actor: str) -> ImportSummary:
    """Store vetting records. The key is (staff_id, level, decided_on): each decision is kept (refusal rates
    need them), and re-importing one with a new status or expiry (e.g. granted → lapsed) is an alteration;
    the outcome of the decision (`decision`: granted or refused) stays as it was made. Levels are stored
    in one spelling (`normalise_vetting_level`); a row stored under a key spelt otherwise (before levels
    were normalised) is found by staff, level and decision date and keeps its key.
    An undecided application is keyed (staff_id, level, pending); when a decision for the same staff and
    level arrives and the batch does not also carry a pending row, the application becomes that decision
    (its key is renamed, recorded as an alteration of the pending record, then its fields altered)."""
    staff = existing_staff_ids(session, (row.values.get("staff_id", "") for row in rows))
    records = parse_vetting_rows(rows, staff)
    stored = _stored_vetting_keys(session, {r["staff_id"] for r in records})
    for record in records:
        record["vetting_key"] = stored.get(
            (record["staff_id"], record["level"], record["decided_on"]), record["vetting_key"]
        )
    _promote_pending_vetting(session, records, actor, stored)
    return store_register(
        session, Vetting, records, kind="vetting", key="vetting_key", actor=actor, subjects=_staff_subject
    )


def _stored_vetting_keys(
    session: Session, staff_ids: Iterable[str]
) -> dict[tuple[str, str, date | None], str]:
    """(staff_id, level, decided_on) → the key it is stored under, for these staff."""
    wanted = sorted(staff_ids)
    found: dict[tuple[str, str, date | None], str] = {}
    for start in range(0, len(wanted), _CHUNK):
        query = select(Vetting.staff_id, Vetting.level, Vetting.decided_on, Vetting.vetting_key).where(
            Vetting.staff_id.in_(wanted[start : start + _CHUNK])
        )
        found.update(((s, lv, d), key) for s, lv, d, key in session.execute(query))
    return found


def _promote_pending_vetting(
    session: Session,
    records: Sequence[dict[str, Any]],
    actor: str,
    stored_keys: Mapping[tuple[str, str, date | None], str],
) -> None:
    def pending_key(record: Mapping[str, Any]) -> str:
        staff_id, level = record["staff_id"], record["level"]
        return stored_keys.get((staff_id, level, None), vetting_key(staff_id, level, None))

    keys = {record["vetting_key"] for record in records}
    decided = [r for r in records if r["decided_on"] is not None]
    wanted = {pending_key(r) for r in decided} - keys
    if not wanted:
        return
    pending = {
        row.vetting_key: row
        for row in session.scalars(select(Vetting).where(Vetting.vetting_key.in_(wanted)))
    }
    if not pending:
        return
    stored = _existing(session, Vetting.vetting_key, (r["vetting_key"] for r in decided))
    for record in decided:
        old = pending_key(record)
        if old in pending and record["vetting_key"] not in stored:
            row = pending.pop(old)
            row.vetting_key = record["vetting_key"]
            ledger.record(
                session,
                EntryDraft(
                    actor=actor,
                    op=Op.ALTERATION,
                    object_type="vetting",
                    object_id=old,
                    subjects=(record["staff_id"],),
                    detail={"renamed_to": record["vetting_key"]},
                ),
            )
    session.flush()


# --------------------------------------------------------------------------- declarations


# An imported conflict or association still needs a date of birth or postcode (or a subject id); on screen
# the declarer may tick that they know only the name (NAME_ONLY_RULE), and such a declaration matches by the
# full name (`declared_matches`).
MATCH_RULE = (
    "give their date of birth or postcode as well as their name, so that searches of this person "
    "can be recognised"
)


NAME_ONLY_RULE = (
    "give their date of birth or their postcode, or tick “I don't know their date of birth or postcode”"
)
# A declaration by name alone matches every subject of that name (`declared_matches`), so the name must be
# a full one: an initial or a single letter would refer everyone sharing it.
NAME_ONLY_MIN_LETTERS = 2
NAME_ONLY_FULL_NAME = {
    "forenames": "give their first forename in full (at least 2 letters, not an initial): with no date of "
    "birth or postcode they are matched by name alone, and an initial would match everyone with that "
    "initial and surname",
    "surname": "give their surname in full (at least 2 letters): with no date of birth or postcode they are "
    "matched by name alone",
}
OLDEST_AGE = 120  # years: a declared person older than this is a mistyped year


def birth_date_problem(born: date | None, today: date | None = None) -> str | None:
    """What is wrong with a declared person's date of birth, if anything: it must be in the past, and not
    more than OLDEST_AGE years ago (a mistyped year, which would never match anyone). The form and the
    import both check it here."""
    if born is None:
        return None
    day = today or london_today()
    if born >= day:
        return "must be in the past"
    if born < add_months(day, -12 * OLDEST_AGE):
        return f"is more than {OLDEST_AGE} years ago: check the year"
    return None


def parse_declaration_rows(rows: Sequence[SourceRow], known_staff: set[str]) -> list[dict[str, Any]]:
    """Validate declaration rows. Empty `kind` means conflict_of_interest. A conflict or association must
    name its person (subject_id, or surname and forenames with date_of_birth or postcode) and the
    relationship; the other kinds may."""
    problems: list[RowProblem] = []
    records: list[dict[str, Any]] = []
    for row in rows:
        cells = RowReader(row)
        kind = cells.choice("kind", [k.value for k in DeclarationKind]) or (
            None if row.values.get("kind") else DeclarationKind.CONFLICT_OF_INTEREST.value
        )
        record: dict[str, Any] = {
            "declaration_id": cells.text(
                "declaration_id", required=True, pattern=RECORD_ID_PATTERN, form=RECORD_ID_FORM
            ),
            "staff_id": cells.text("staff_id", required=True, pattern=STAFF_ID_PATTERN, form=STAFF_ID_FORM),
            "kind": kind,
            "subject_id": cells.text("subject_id", pattern=RECORD_ID_PATTERN, form=RECORD_ID_FORM),
            "surname": cells.text("surname", max_length=100),
            "forenames": cells.text("forenames", max_length=100),
            "date_of_birth": cells.date("date_of_birth"),
            "postcode": cells.postcode("postcode"),
            "relationship": cells.choice("relationship", [r.value for r in Relationship]),
            "declared_at": time_or_date(cells, "declared_at", required=True),
        }
        wrong_birth = birth_date_problem(record["date_of_birth"])
        if wrong_birth:
            cells.problem("date_of_birth", wrong_birth)
        if kind in PERSON_DECLARATIONS:
            named = row.values.get("surname") and row.values.get("forenames")
            if not row.values.get("subject_id") and not named:
                column = "surname" if not row.values.get("surname") else "forenames"
                cells.problem(column, "give subject_id, or surname and forenames, of the person declared")
            if not row.values.get("relationship"):
                cells.problem("relationship", f"is required for a {kind}")
            for column in ("surname", "forenames"):
                if record[column] and not usable_name(record[column]):
                    cells.problem(column, f"{NAME_RULE} — give the person's name in full")
            given = row.values.get("date_of_birth") or row.values.get("postcode")
            if named and not row.values.get("subject_id") and not given:
                cells.problem("date_of_birth", MATCH_RULE)
        records.append(record)
        problems += cells.problems
    problems += _unknown_references(rows, records, "staff_id", known_staff, "staff register")
    problems += duplicate_keys(rows, [r["declaration_id"] for r in records], "declaration_id")
    if problems:
        raise BatchRejected(problems)
    return records


def _declaration_subjects(record: Mapping[str, Any]) -> tuple[str, ...]:
    return (record["staff_id"], record["subject_id"]) if record["subject_id"] else (record["staff_id"],)


def import_declarations(session: Session, rows: Sequence[SourceRow], actor: str) -> ImportSummary:
    """Store declarations; the key is `declaration_id`. The entry names the member of staff and the
    declared subject's id, if any. Staff must already be in the register; a subject id need not be a
    stored nominal (people are declared before, or without, any police record of them)."""
    staff = existing_staff_ids(session, (row.values.get("staff_id", "") for row in rows))
    records = parse_declaration_rows(rows, staff)
    return store_register(
        session,
        Declaration,
        records,
        kind="declaration",
        key="declaration_id",
        actor=actor,
        subjects=_declaration_subjects,
    )


# --------------------------------------------------------------------------- rules used by other modules


def _course_applies(course: Course, roles: frozenset[str]) -> bool:
    mandatory_for = _split(course.mandatory_for)
    return not mandatory_for or bool(mandatory_for & roles)


def _roles(session: Session, staff_id: str) -> frozenset[str]:
    account = identity.get_account(session, staff_id)
    return frozenset(str(role) for role in account.roles) if account else frozenset()


def _expiry(course: Course, completed_on: date) -> date | None:
    return None if course.validity_months is None else add_months(completed_on, course.validity_months)


def _latest_completions(session: Session, staff_id: str, on: date) -> dict[str, date]:
    """Each course's latest completion on or before `on` (the latest is always the longest-lasting)."""
    query = (
        select(TrainingCompletion.course_code, func.max(TrainingCompletion.completed_on))
        .where(TrainingCompletion.staff_id == staff_id, TrainingCompletion.completed_on <= on)
        .group_by(TrainingCompletion.course_code)
    )
    return {code: day for code, day in session.execute(query)}


def _is_current(course: Course, completed_on: date | None, on: date) -> bool:
    """A completion is current until completed_on + validity_months, that day included."""
    if completed_on is None:
        return False
    expires = _expiry(course, completed_on)
    return expires is None or on <= expires


def discloser_readiness(session: Session, staff_id: str, on: date) -> DiscloserReadiness:
    """Training and vetting of someone taking part in a disclosure, on `on` (disclosure.md DISCLOSER_*).

    Missing training: the titles of courses that gate `disclosure`, apply to the person's roles (held by
    identity; an empty `mandatory_for` applies to everyone) and have no completion current on `on`. With no
    such course, training is current. Vetting is current with a `granted` decision, decided on or before
    `on`, whose `expires_on` is empty or on/after `on`. Not a consultation: nothing is logged.
    """
    staff = session.get(Staff, staff_id)
    roles = _roles(session, staff_id)
    gating = [
        course
        for course in session.scalars(select(Course).order_by(Course.course_code))
        if CourseGate.DISCLOSURE in _split(course.gates) and _course_applies(course, roles)
    ]
    latest = _latest_completions(session, staff_id, on) if gating else {}
    missing = tuple(c.title for c in gating if not _is_current(c, latest.get(c.course_code), on))
    return DiscloserReadiness(
        staff_id=staff_id,
        known=staff is not None,
        roles=roles,
        area_code=staff.area_code if staff else None,
        training_current=not missing,
        missing_training=missing,
        vetting_current=_vetting_current(session, staff_id, on),
    )


def _vetting_current(session: Session, staff_id: str, on: date) -> bool:
    query = select(Vetting.level, Vetting.status, Vetting.decided_on, Vetting.expires_on).where(
        Vetting.staff_id == staff_id
    )
    rows = [(level, status, decided, expires) for level, status, decided, expires in session.execute(query)]
    return bool(levels_in_force(rows, on))


VettingRow = tuple[str, str, date | None, date | None]  # level, status, decided on, expires on


def levels_in_force(rows: Iterable[VettingRow], on: date) -> set[str]:
    """The vetting levels held on `on`. Each level's latest decision made by then settles it: a grant that
    has not expired holds; a later withdrawal, refusal or lapse ends an earlier grant (each decision is
    its own row). Applications still in progress decide nothing."""
    latest: dict[str, tuple[date, str, date | None]] = {}
    for level, status, decided_on, expires_on in rows:
        when = decided_on or date.min
        if status in UNDECIDED_VETTING or when > on:
            continue
        if level not in latest or when >= latest[level][0]:
            latest[level] = (when, status, expires_on)
    return {
        level
        for level, (_when, status, expires_on) in latest.items()
        if status == VettingStatus.GRANTED and (expires_on is None or expires_on >= on)
    }


def normalise_name(value: str | None) -> str:
    """For matching: trimmed, inner spaces collapsed, case-folded."""
    return " ".join((value or "").split()).casefold()


def registered_keys(session: Session, subject_ids: Iterable[str]) -> dict[str, PersonKey]:
    """The nominal register's details (name, date of birth, postcode) for these subject ids, as keys to
    match, in bulk (`monitoring.nominal_identities`, 5,000 ids a query); ids not in the register are left
    out. For rule checking: nothing is logged."""
    from custodes.monitoring import service as monitoring  # monitoring's service uses this module

    wanted = sorted({i for i in subject_ids if i})
    found: dict[str, PersonKey] = {}
    for start in range(0, len(wanted), 5000):
        for subject_id, n in monitoring.nominal_identities(session, wanted[start : start + 5000]).items():
            found[subject_id] = PersonKey.of(
                n.subject_id, n.surname, n.forenames, n.date_of_birth, n.postcode
            )
    return found


def subject_keys(session: Session, subject: SubjectRef) -> list[PersonKey]:
    """The subject as matched (`keys_of`), the nominal register read for its id."""
    registered = registered_keys(session, [subject.subject_id] if subject.subject_id else [])
    return keys_of(subject, registered.get(subject.subject_id or ""))


def keys_of(subject: SubjectRef, registered: PersonKey | None) -> list[PersonKey]:
    """The subject as matched. Named by an id in the nominal register (`registered`: the register's details
    for it), it is that record's person whatever name comes with it: the register's details are always one
    key, so a declaration or a person matched by that id or by the register's name cannot be dodged by
    giving another name; a name given as well is a second key (completed with the register's date of birth
    and postcode where not given), matched too, never instead. Every key carries the id given."""
    named = (subject.subject_id, subject.surname, subject.forenames)
    if registered is None:
        return [PersonKey.of(*named, subject.date_of_birth, subject.postcode)]
    if not (subject.surname or subject.forenames):
        return [registered]
    given = PersonKey.of(
        *named, subject.date_of_birth or registered.date_of_birth, subject.postcode or registered.postcode
    )
    return [registered, given]


def name_only(key: PersonKey) -> bool:
    """A declared person known by name alone: no subject id, date of birth or postcode."""
    return (
        not key.subject_id
        and key.date_of_birth is None
        and not key.postcode
        and bool(key.surname and key.forenames)
    )


def declared_matches(declared: PersonKey, subject: PersonKey) -> bool:
    """A declared person matches a subject as `same_person` says (by id, or by name with the same date of
    birth or postcode); a person declared by name alone (`name_only`) matches any subject of that full name,
    surname and forenames, normalised as `same_person` compares names (case, spacing, hyphens, spelling
    variants, initials). That refers more searches than needed: the safe side, as the form and the line
    manager are told. A declared initial does not stand for any name here (the form asks a name-only
    declaration for a first forename of at least two letters, NAME_ONLY_FULL_NAME; one stored with an
    initial matches only a subject given that same initial): else "J Smith" would refer every John, Jane
    and Jo Smith. A subject given by an initial still matches a declared full forename (the search could
    be them). The monitoring detectors' `declared` step is the same rule in SQL."""
    if same_person(declared, subject):
        return True
    if not (name_only(declared) and same_surname(declared, subject) and forenames_agree(declared, subject)):
        return False
    first = declared.forenames[0]
    return len(first) > 1 or bool(subject.forenames and subject.forenames[0] == first)


def declaration_keys(declaration: Declaration, registered: Mapping[str, PersonKey]) -> list[PersonKey]:
    """A declared person as matched: as declared, and, when the declaration names a subject id in the
    nominal register, as the register holds that id (a declaration made by id then matches a search by
    name too)."""
    keys = [
        PersonKey.of(
            declaration.subject_id,
            declaration.surname,
            declaration.forenames,
            declaration.date_of_birth,
            declaration.postcode,
        )
    ]
    if declaration.subject_id and declaration.subject_id in registered:
        keys.append(registered[declaration.subject_id])
    return keys


def declared_conflicts(session: Session, staff_id: str, subject: SubjectRef) -> list[DeclarationView]:
    """The member of staff's conflict-of-interest and reportable-association declarations that match the
    subject, oldest first, as the pre-access gate matches (`declared_matches`: by subject id; or by name,
    tolerating case, spacing, hyphens, spelling variants and initials, with the same date of birth or
    postcode; a person declared by name alone by that full name). Both sides are also matched as the nominal
    register holds their ids (`subject_keys`, `declaration_keys`): an id decides whatever name comes with
    it, and declarations made by name match a subject given by id, and the other way round. Name matching
    applies even when both sides carry different ids: police systems hold duplicate records of one person,
    and a missed conflict is worse than a referral. Nothing is logged."""
    subjects = subject_keys(session, subject)
    query = (
        select(Declaration)
        .where(
            Declaration.staff_id == staff_id,
            Declaration.kind.in_([k.value for k in PERSON_DECLARATIONS]),
            Declaration.ended.is_(None),
        )
        .order_by(Declaration.declared_at, Declaration.declaration_id)
    )
    rows = list(session.scalars(query))
    earlier = earlier_people(
        session, [d.declaration_id for d in rows if d.status == DeclarationStatus.AWAITING]
    )
    ids = [d.subject_id for d in rows] + [k.subject_id for keys in earlier.values() for k in keys]
    registered = registered_keys(session, (i for i in ids if i))

    def keys(d: Declaration) -> list[PersonKey]:
        found = declaration_keys(d, registered)
        for key in earlier.get(d.declaration_id, ()):
            found.append(key)
            if key.subject_id and key.subject_id in registered:
                found.append(registered[key.subject_id])
        return found

    return [
        _declaration_view(d) for d in rows if any(declared_matches(k, s) for k in keys(d) for s in subjects)
    ]


def earlier_people(session: Session, declaration_ids: Sequence[str]) -> dict[str, list[PersonKey]]:
    """The people these declarations named before the declarer corrected them, as keys to match. The
    callers pass the declarations still awaiting their decision: until the line manager has decided (and
    so seen the correction), a search of the person as first declared is still referred, so that declaring
    someone and then correcting the declaration to someone else opens no unreferred search."""
    found: dict[str, list[PersonKey]] = {}
    wanted = sorted(set(declaration_ids))
    for start in range(0, len(wanted), 5000):
        query = select(DeclarationHistory.declaration_id, DeclarationHistory.changes).where(
            DeclarationHistory.declaration_id.in_(wanted[start : start + 5000]),
            DeclarationHistory.event == DeclarationEvent.CORRECTED,
        )
        for declaration_id, changes in session.execute(query):
            before = json.loads(changes or "{}").get("person_before")
            if before:
                born = date.fromisoformat(before["date_of_birth"]) if before.get("date_of_birth") else None
                key = PersonKey.of(
                    before.get("subject_id"),
                    before.get("surname"),
                    before.get("forenames"),
                    born,
                    before.get("postcode"),
                )
                found.setdefault(declaration_id, []).append(key)
    return found


def is_themself(session: Session, staff_id: str, subject: SubjectRef) -> bool:
    """Whether the subject is the member of staff, as the gate's SELF rule matches: their name (variants,
    initials) with their date of birth or home postcode from the staff register, the subject given by name
    or as the nominal register holds its id. (A nominal flagged `staff:<id>` is the caller's to check.)"""
    me = as_person(session, staff_id)
    if me is None:
        return False
    key = PersonKey.of(None, me.surname, me.forenames, me.date_of_birth, me.postcode)
    return any(same_person(key, s) for s in subject_keys(session, subject))


def _declaration_view(declaration: Declaration) -> DeclarationView:
    names = [part for part in (declaration.forenames, declaration.surname) if part]
    return DeclarationView(
        declaration_id=declaration.declaration_id,
        staff_id=declaration.staff_id,
        kind=declaration.kind,
        subject_id=declaration.subject_id,
        name=" ".join(names) or None,
        relationship=declaration.relationship,
        declared_at=declaration.declared_at,
    )


def training_record(session: Session, staff_id: str, on: date) -> list[TrainingStatus]:
    """A person's training on `on`: every course mandatory for their roles, and every course they completed
    (completions after `on` are not counted), by course code. Not logged (the person's own record)."""
    roles = _roles(session, staff_id)
    latest = _latest_completions(session, staff_id, on)
    found = []
    for course in session.scalars(select(Course).order_by(Course.course_code)):
        mandatory = _course_applies(course, roles)
        completed_on = latest.get(course.course_code)
        if not mandatory and completed_on is None:
            continue
        found.append(
            TrainingStatus(
                course_code=course.course_code,
                title=course.title,
                gates=_split(course.gates),
                mandatory=mandatory,
                last_completed_on=completed_on,
                expires_on=_expiry(course, completed_on) if completed_on else None,
                current=_is_current(course, completed_on, on),
            )
        )
    return found


def vetting_record(session: Session, staff_id: str) -> list[VettingView]:
    """A person's vetting applications and decisions: pending ones first, then newest decision first."""
    rows = session.scalars(select(Vetting).where(Vetting.staff_id == staff_id))
    views = [VettingView(r.level, r.status, r.decided_on, r.expires_on) for r in rows]
    return sorted(
        views, key=lambda v: (v.decided_on is not None, -(v.decided_on or date.min).toordinal(), v.level)
    )


# --------------------------------------------------------------------------- training compliance (issue 4.1)

_STATE_ORDER = {TrainingState.OUT_OF_DATE: 0, TrainingState.DUE_SOON: 1, TrainingState.CURRENT: 2}


def _roles_of(session: Session, staff_ids: Sequence[str]) -> dict[str, frozenset[str]]:
    roles: dict[str, frozenset[str]] = {}
    for start in range(0, len(staff_ids), _CHUNK):
        found = identity.roles_by_staff(session, staff_ids[start : start + _CHUNK])
        roles.update((staff_id, frozenset(names)) for staff_id, names in found.items())
    return roles


def _course_state(course: Course, completed_on: date | None, on: date, within_days: int) -> TrainingState:
    if not _is_current(course, completed_on, on):
        return TrainingState.OUT_OF_DATE
    expires = _expiry(course, completed_on) if completed_on else None
    if expires is not None and (expires - on).days <= within_days:
        return TrainingState.DUE_SOON
    return TrainingState.CURRENT


def _members_training(
    session: Session, staff: Sequence[Staff], on: date, within_days: int
) -> list[MemberTraining]:
    """Each person's mandatory courses on `on` and their worst state (no mandatory course: current)."""
    ids = [s.staff_id for s in staff]
    roles = _roles_of(session, ids)
    courses = list(session.scalars(select(Course).order_by(Course.course_code)))
    latest: dict[tuple[str, str], date] = {}
    for start in range(0, len(ids), _CHUNK):
        query = (
            select(
                TrainingCompletion.staff_id,
                TrainingCompletion.course_code,
                func.max(TrainingCompletion.completed_on),
            )
            .where(
                TrainingCompletion.staff_id.in_(ids[start : start + _CHUNK]),
                TrainingCompletion.completed_on <= on,
            )
            .group_by(TrainingCompletion.staff_id, TrainingCompletion.course_code)
        )
        latest.update({(sid, code): day for sid, code, day in session.execute(query)})
    members = []
    for person in staff:
        held = roles.get(person.staff_id, frozenset())
        states = []
        for course in courses:
            if not _course_applies(course, held):
                continue
            done = latest.get((person.staff_id, course.course_code))
            states.append(
                CourseState(
                    course_code=course.course_code,
                    title=course.title,
                    state=_course_state(course, done, on, within_days),
                    last_completed_on=done,
                    expires_on=_expiry(course, done) if done else None,
                )
            )
        worst = min((s.state for s in states), key=_STATE_ORDER.__getitem__, default=TrainingState.CURRENT)
        members.append(MemberTraining(person.staff_id, f"{person.forenames} {person.surname}", worst, states))
    return members


def _counts(label: str, members: Iterable[MemberTraining]) -> ComplianceCounts:
    tally = {state: 0 for state in TrainingState}
    for member in members:
        tally[member.state] += 1
    return ComplianceCounts(
        label=label,
        staff=sum(tally.values()),
        current=tally[TrainingState.CURRENT],
        due_soon=tally[TrainingState.DUE_SOON],
        out_of_date=tally[TrainingState.OUT_OF_DATE],
    )


def training_dashboard(session: Session, on: date, within_days: int = 60) -> TrainingDashboard:
    """Mandatory-training compliance by area and team on `on`: counts only, so nothing is logged.

    Staff in service on `on` are counted (not leavers whose leave date is before it). A person is out of
    date if any course mandatory for their roles is missing or expired, else due soon if one expires within
    `within_days`, else current. Staff without an area or team are counted under
    "—". Courses are counted per person the course is mandatory for.
    """
    staff = list(
        session.scalars(
            select(Staff).where(in_service(on)).order_by(Staff.area_code, Staff.team_id, Staff.staff_id)
        )
    )
    members = _members_training(session, staff, on, within_days)
    by_area: dict[str, list[MemberTraining]] = {}
    by_team: dict[str, dict[str, list[MemberTraining]]] = {}
    for person, member in zip(staff, members, strict=True):
        area, team = person.area_code or "—", person.team_id or "—"
        by_area.setdefault(area, []).append(member)
        by_team.setdefault(area, {}).setdefault(team, []).append(member)
    courses = []
    for course in session.scalars(select(Course).order_by(Course.course_code)):
        tally = {state: 0 for state in TrainingState}
        for member in members:
            for state in member.courses:
                if state.course_code == course.course_code:
                    tally[state.state] += 1
        courses.append(
            CourseCompliance(
                course_code=course.course_code,
                title=course.title,
                gates=_split(course.gates),
                required=sum(tally.values()),
                current=tally[TrainingState.CURRENT],
                due_soon=tally[TrainingState.DUE_SOON],
                out_of_date=tally[TrainingState.OUT_OF_DATE],
            )
        )
    return TrainingDashboard(
        on=on,
        within_days=within_days,
        force=_counts("Force", members),
        areas=[_counts(area, group) for area, group in sorted(by_area.items())],
        teams={
            area: [_counts(team, group) for team, group in sorted(teams.items())]
            for area, teams in sorted(by_team.items())
        },
        courses=courses,
    )


def team_training(
    session: Session, team_id: str, on: date, within_days: int, *, actor: str
) -> list[MemberTraining]:
    """A team's members in service on `on` and their mandatory training, worst first. Names are shown: a
    consultation."""
    query = select(Staff).where(Staff.team_id == team_id, in_service(on)).order_by(Staff.staff_id)
    staff = list(session.scalars(query))
    members = _members_training(session, staff, on, within_days)
    if members:
        ledger.record_consultation(
            session,
            actor=actor,
            object_type="training_team",
            object_id=team_id,
            subjects=tuple(m.staff_id for m in members),
            justification="training compliance: team list",
        )
    return sorted(members, key=lambda m: (_STATE_ORDER[m.state], m.name))


# --------------------------------------------------------------------------- vetting oversight (issue 4.2)


def _staff_names(session: Session, ids: Iterable[str]) -> dict[str, Staff]:
    wanted = sorted(set(ids))
    found: dict[str, Staff] = {}
    for start in range(0, len(wanted), _CHUNK):
        found.update(
            (s.staff_id, s)
            for s in session.scalars(select(Staff).where(Staff.staff_id.in_(wanted[start : start + _CHUNK])))
        )
    return found


def renewals_due(session: Session, on: date, within_days: int, *, actor: str) -> list[RenewalDue]:
    """The bring-forward list: for each person in service on `on` (no leave date before it), each level's
    latest grant by decision date (decided by `on`, as `levels_in_force` reads them), listed when it
    expires by `on` + `within_days`, expired ones included (soonest first). A later grant at that level
    replaces an earlier one, whatever either's expiry: a grant that never expired, superseded by one that
    does, no longer keeps the renewal off the list. Logged."""
    rows = _renewals(session, on, within_days)
    if rows:
        ledger.record_consultation(
            session,
            actor=actor,
            object_type="vetting_renewals",
            object_id=None,
            subjects=tuple(sorted({r.staff_id for r in rows})),
            justification="vetting renewal bring-forward list",
            detail={"within_days": within_days},
        )
    return rows


def renewal_counts(session: Session, on: date, within_days: int) -> tuple[int, int, int]:
    """For a home page: how many people in service have a level whose latest grant has expired, how many of
    those have not applied to renew it, and how many more have one expiring within `within_days`. The
    bring-forward list's rows as counts: no names, not logged."""
    rows = _renewals(session, on, within_days)
    expired = {r.staff_id for r in rows if r.days_left < 0}
    not_applied = {r.staff_id for r in rows if r.days_left < 0 and not r.renewal_applied}
    due = {r.staff_id for r in rows if r.days_left >= 0} - expired
    return len(expired), len(not_applied), len(due)


def _renewals(session: Session, on: date, within_days: int) -> list[RenewalDue]:
    latest: dict[tuple[str, str], tuple[date, date]] = {}  # (staff, level) → (decided on, expires on or max)
    granted = (
        select(Vetting.staff_id, Vetting.level, Vetting.decided_on, Vetting.expires_on)
        .join(Staff, Staff.staff_id == Vetting.staff_id)
        .where(
            Vetting.status == VettingStatus.GRANTED.value,
            Vetting.decided_on.is_not(None),
            Vetting.decided_on <= on,
            in_service(on),
        )
    )
    for staff_id, level, decided_on, expires_on in session.execute(granted):
        key, held = (staff_id, level), (decided_on or date.min, expires_on or date.max)
        if key not in latest or held > latest[key]:  # the latest decision; on one day, the longest-lasting
            latest[key] = held
    horizon = on.toordinal() + within_days
    due = {
        k: expires_on
        for k, (_decided, expires_on) in latest.items()
        if expires_on != date.max and expires_on.toordinal() <= horizon
    }
    pending = {
        (staff_id, level)
        for staff_id, level in session.execute(
            select(Vetting.staff_id, Vetting.level).where(
                Vetting.status.in_([s.value for s in UNDECIDED_VETTING])
            )
        )
    }
    people = _staff_names(session, (k[0] for k in due))
    rows = []
    for (staff_id, level), expires_on in due.items():
        person = people.get(staff_id)
        rows.append(
            RenewalDue(
                staff_id=staff_id,
                name=f"{person.forenames} {person.surname}" if person else staff_id,
                team_id=person.team_id if person else None,
                area_code=person.area_code if person else None,
                level=level,
                expires_on=expires_on,
                days_left=(expires_on - on).days,
                renewal_applied=(staff_id, level) in pending,
            )
        )
    rows.sort(key=lambda r: (r.expires_on, r.staff_id, r.level))
    return rows


def _band(age: int) -> int:
    for number, (low, high, _label) in enumerate(AGE_BANDS):
        if age >= low and (high is None or age <= high):
            return number
    return 0


def vetting_backlog(session: Session, on: date, *, actor: str, oldest: int = 15) -> Backlog:
    """Open applications (applied, in progress) by stage and age band; the `oldest` by name (logged).
    Age counts from `applied_on`, or from when the application was first stored if none was given."""
    counts = {
        status.value: [0] * len(AGE_BANDS) for status in (VettingStatus.APPLIED, VettingStatus.IN_PROGRESS)
    }
    cases = []
    query = select(Vetting).where(Vetting.status.in_([s.value for s in UNDECIDED_VETTING]))
    for row in session.scalars(query):
        applied = row.applied_on or london_day(row.created_at)
        age = max(0, (on - applied).days)
        counts[row.status][_band(age)] += 1
        cases.append((age, row.staff_id, row.level, row.status, applied))
    cases.sort(key=lambda c: (-c[0], c[1]))
    people = _staff_names(session, (c[1] for c in cases[:oldest]))
    named = []
    for age, staff_id, level, status, applied in cases[:oldest]:
        person = people.get(staff_id)
        named.append(
            BacklogCase(
                staff_id=staff_id,
                name=f"{person.forenames} {person.surname}" if person else staff_id,
                team_id=person.team_id if person else None,
                level=level,
                status=status,
                applied_on=applied,
                age_days=age,
            )
        )
    if named:
        ledger.record_consultation(
            session,
            actor=actor,
            object_type="vetting_backlog",
            object_id=None,
            subjects=tuple(sorted({c.staff_id for c in named})),
            justification="vetting backlog: oldest open applications",
        )
    return Backlog(on=on, bands=tuple(label for _l, _h, label in AGE_BANDS), counts=counts, oldest=named)


def suppression_threshold(session: Session) -> int:
    return int(identity.config_value(session, "small_number_suppression"))


def vetting_disparity(
    session: Session, since: date, until: date, reference: str = "White", threshold: int | None = None
) -> DisparityTable:
    """Refusal rates of vetting decisions (granted or refused, decided in [since, until]) by ethnicity
    group, counted by each decision's outcome as made (`Vetting.decision`: a grant later re-imported as
    lapsed or withdrawn is still a grant), with each group's risk ratio to the reference group and its 95%
    confidence interval.

    Method: risk ratio RR = (refused_g / decisions_g) / (refused_ref / decisions_ref); the interval is
    Katz's log method, exp(ln RR ± 1.96 · sqrt(1/a − 1/n₁ + 1/c − 1/n₀)) (scipy.stats.contingency.
    relative_risk). Not estimable when either group has no refusals. Small-number suppression: a group
    with fewer than `threshold` decisions, or with between 1 and `threshold` − 1 refusals, shows no
    figures (nor does any ratio that would need the reference group's suppressed figures). Aggregates
    only: nothing about any one person is shown, so nothing is logged.
    """
    from scipy.stats.contingency import relative_risk  # heavy import, only for this report

    limit = suppression_threshold(session) if threshold is None else threshold
    query = (
        select(Staff.ethnicity_group, Vetting.decision, func.count())
        .join(Staff, Staff.staff_id == Vetting.staff_id)
        .where(
            Vetting.decision.in_([VettingStatus.GRANTED.value, VettingStatus.REFUSED.value]),
            Vetting.decided_on >= since,
            Vetting.decided_on <= until,
        )
        .group_by(Staff.ethnicity_group, Vetting.decision)
    )
    tally: dict[str | None, list[int]] = {}
    for group, status, number in session.execute(query):
        cell = tally.setdefault(group, [0, 0])  # decisions, refused
        cell[0] += number
        if status == VettingStatus.REFUSED.value:
            cell[1] += number

    def hidden(decisions: int, refused: int) -> bool:
        return decisions < limit or 0 < refused < limit

    ref_n, ref_a = tally.get(reference, [0, 0])
    ref_hidden = hidden(ref_n, ref_a) or ref_n == 0
    rows = []
    for group in ETHNICITY_GROUPS:
        decisions, refused = tally.get(group, [0, 0])
        is_reference = group == reference
        if hidden(decisions, refused):
            note = f"fewer than {limit} decisions" if decisions < limit else f"fewer than {limit} refusals"
            rows.append(
                DisparityRow(
                    group, None, None, None, None, None, None, is_reference, True, f"Suppressed: {note}"
                )
            )
            continue
        rate = refused / decisions if decisions else None
        ratio = low = high = None
        note = ""
        if is_reference:
            ratio = 1.0 if decisions else None
            note = "Reference group"
        elif ref_hidden:
            note = "No ratio: the reference group's figures are suppressed"
        elif refused == 0 or ref_a == 0:
            note = "Ratio not estimable: no refusals in one of the groups"
        else:
            result = relative_risk(refused, decisions, ref_a, ref_n)
            interval = result.confidence_interval(confidence_level=0.95)
            ratio, low, high = float(result.relative_risk), float(interval.low), float(interval.high)
        rows.append(
            DisparityRow(group, decisions, refused, rate, ratio, low, high, is_reference, False, note)
        )
    unknown = tally.get(None, [0, 0])[0] + sum(
        v[0] for k, v in tally.items() if k and k not in ETHNICITY_GROUPS
    )
    return DisparityTable(since, until, reference, limit, rows, unknown)


# --------------------------------------------------------------------------- declarations on screen (4.3)


class DeclarationError(ValueError):
    """Not found, not the person's to see or decide, or not in a state to be decided."""


class DeclarationChanged(DeclarationError):
    """A decision made on a page that no longer shows the declaration as it is (the declarer corrected it,
    or asked again to withdraw it, since the page was opened): nothing is recorded; the page is to be read
    again."""


class DeclarationProblems(ValueError):
    """A declaration or decision form with problems: (field, problem) pairs, each shown beside its field."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{f}: {p}" for f, p in problems))
        self.problems = problems


_MAX_TEXT = 4000


def _clean(value: str) -> str:
    return " ".join(value.split()) if "\n" not in value else value.strip()


def _form_problems(form: DeclarationForm) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """Validate a declaration form; return (problems, the values to store)."""
    problems: list[tuple[str, str]] = []
    kinds = [k.value for k in DeclarationKind]
    kind = form.kind.strip()
    if kind not in kinds:
        problems.append(("kind", "choose what you are declaring"))
    values: dict[str, Any] = {"kind": kind}
    for name in ("subject_id", "surname", "forenames", "organisation"):
        text = _clean(getattr(form, name))
        limit = 200 if name == "organisation" else (64 if name == "subject_id" else 100)
        if len(text) > limit:
            problems.append((name, f"is longer than {limit} characters"))
        values[name] = text or None
    if values["subject_id"] and not re.fullmatch(RECORD_ID_PATTERN, values["subject_id"]):
        problems.append(("subject_id", "is not a record id (letters, digits, - _ . : /)"))
    description = form.description.strip()
    if len(description) > _MAX_TEXT:
        problems.append(("description", f"is longer than {_MAX_TEXT} characters"))
    values["description"] = description or None
    values["date_of_birth"] = None
    if form.date_of_birth.strip():
        born = form.date_of_birth.strip()
        try:  # strictly YYYY-MM-DD (the date field's value): fromisoformat alone also takes 1980-W01-1
            if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", born):
                raise ValueError(born)
            values["date_of_birth"] = date.fromisoformat(born)
        except ValueError:
            problems.append(("date_of_birth", "is not a date (YYYY-MM-DD)"))
        else:
            wrong = birth_date_problem(values["date_of_birth"])
            if wrong:
                problems.append(("date_of_birth", wrong))
    values["postcode"] = None
    if form.postcode.strip():
        values["postcode"] = normalise_postcode(form.postcode)
        if values["postcode"] is None:
            problems.append(("postcode", "is not a UK postcode"))
    relationship = form.relationship.strip()
    if relationship and relationship not in {r.value for r in Relationship}:
        problems.append(("relationship", "choose one of the relationships listed"))
    values["relationship"] = relationship or None
    values["value_pounds"] = None
    if form.value_pounds.strip():
        text = form.value_pounds.strip().lstrip("£").replace(",", "")
        if not re.fullmatch(r"[0-9]{1,7}(\.[0-9]{1,2})?", text):
            problems.append(("value_pounds", "give the value in pounds, e.g. 25"))
        else:
            values["value_pounds"] = round(float(text))
    values["gift_accepted"] = {"accepted": True, "declined": False}.get(form.gift_accepted.strip())
    if kind in PERSON_DECLARATIONS:
        # Every problem of the person at once: the surname, the forenames and the date of birth or postcode
        # are each checked whatever the others hold (the review found the last shown only once the name was
        # right).
        if not values["subject_id"]:
            for name, words in (("surname", "surname"), ("forenames", "forenames")):
                if not values[name]:
                    problems.append((name, f"give the person's {words} (or their record id if you know it)"))
        for name in ("surname", "forenames"):
            if values[name] and not usable_name(values[name]):
                problems.append((name, f"{NAME_RULE} — give the person's name in full"))
        given = form.date_of_birth.strip() or form.postcode.strip()
        if not values["subject_id"] and not given and not form.name_only.strip():
            problems.append(("date_of_birth", NAME_ONLY_RULE))
        if not values["subject_id"] and not given and form.name_only.strip():
            # Ticked, by name alone: a full name (NAME_ONLY_FULL_NAME), measured on the letters the gate
            # matches (kit.names: "J." and "J P" begin with the initial "j").
            key = PersonKey.of(None, values["surname"], values["forenames"], None, None)
            for name, short in (
                ("forenames", len(key.forenames[0]) if key.forenames else 0),
                ("surname", len(key.surname)),
            ):
                if values[name] and usable_name(values[name]) and short < NAME_ONLY_MIN_LETTERS:
                    problems.append((name, NAME_ONLY_FULL_NAME[name]))
        if not values["relationship"]:
            problems.append(("relationship", "say how you know them"))
        if not description:
            problems.append(("description", "describe the nature and extent of the conflict or association"))
    elif kind == DeclarationKind.BUSINESS_INTEREST:
        if not values["organisation"]:
            problems.append(("organisation", "name the business or organisation"))
        if not description:
            problems.append(
                ("description", "say what the interest or work is, and the hours or money involved")
            )
    elif kind == DeclarationKind.GIFT_HOSPITALITY:
        if not values["organisation"]:
            problems.append(("organisation", "say who offered it"))
        if not description:
            problems.append(("description", "say what was offered and why"))
        if values["value_pounds"] is None and not any(p[0] == "value_pounds" for p in problems):
            problems.append(("value_pounds", "give its value, or your best estimate"))
        if values["gift_accepted"] is None:
            problems.append(("gift_accepted", "say whether you accepted or declined it"))
    if kind not in PERSON_DECLARATIONS:
        for name in ("subject_id", "surname", "forenames", "date_of_birth", "postcode"):
            values[name] = None
        values["relationship"] = values["relationship"] if kind == DeclarationKind.BUSINESS_INTEREST else None
    if kind != DeclarationKind.GIFT_HOSPITALITY:
        values["value_pounds"] = values["gift_accepted"] = None
    return problems, values


def make_declaration(
    session: Session, staff_id: str, form: DeclarationForm, *, actor: str, replaces: str | None = None
) -> str:
    """A declaration made in writing on screen: stored awaiting the line manager's decision, and recorded
    as a `declaration` entry naming the declarer and the declared subject's id, if any.

    `replaces`: an update of one of the declarer's decided declarations (same kind), which names it; that
    one stays in force until this one is decided: ended as replaced if it is approved, still in force (as it
    stood) if it is rejected (`decide_declaration`)."""
    old = None
    if replaces:
        old = session.get(Declaration, replaces, with_for_update=True, populate_existing=True)
        if old is None or old.staff_id != staff_id:
            raise DeclarationError("There is no such declaration of yours to update.")
        refusal = _update_refusal(session, old)
        if refusal:
            raise DeclarationError(refusal)
        form = replace(form, kind=old.kind)
    problems, values = _form_problems(form)
    if session.get(Staff, staff_id) is None:
        problems.insert(0, ("staff_id", "you are not in the staff register, so cannot declare here: tell HR"))
    if problems:
        raise DeclarationProblems(problems)
    now = utcnow()
    declaration_id = f"D{now:%Y%m%d}-{secrets.token_hex(3).upper()}"
    session.add(
        Declaration(
            declaration_id=declaration_id,
            staff_id=staff_id,
            declared_at=now,
            status=DeclarationStatus.AWAITING.value,
            replaces_id=old.declaration_id if old is not None else None,
            created_at=now,
            updated_at=now,
            **values,
        )
    )
    subjects = (staff_id, values["subject_id"]) if values["subject_id"] else (staff_id,)
    detail: dict[str, Any] = {
        "kind": values["kind"],
        "relationship": values["relationship"],
        "made_on": "screen",
    }
    if old is not None:
        detail["replaces"] = old.declaration_id
        _history(session, old.declaration_id, DeclarationEvent.UPDATE_SENT, staff_id, reason=declaration_id)
    ledger.record(
        session,
        EntryDraft(
            actor=actor,
            op=Op.DECLARATION,
            object_type="declaration",
            object_id=declaration_id,
            subjects=subjects,
            detail=detail,
        ),
    )
    session.flush()
    return declaration_id


def _detail(
    declaration: Declaration, people: Mapping[str, Staff], about_manager: bool = False
) -> DeclarationDetail:
    staff = people.get(declaration.staff_id)
    names = [part for part in (declaration.forenames, declaration.surname) if part]
    return DeclarationDetail(
        declaration_id=declaration.declaration_id,
        staff_id=declaration.staff_id,
        staff_name=f"{staff.forenames} {staff.surname}" if staff else declaration.staff_id,
        team_id=staff.team_id if staff else None,
        area_code=staff.area_code if staff else None,
        line_manager_id=staff.line_manager_id if staff else None,
        kind=declaration.kind,
        subject_id=declaration.subject_id,
        person_name=" ".join(names) or None,
        date_of_birth=declaration.date_of_birth,
        postcode=declaration.postcode,
        relationship=declaration.relationship,
        description=declaration.description,
        organisation=declaration.organisation,
        value_pounds=declaration.value_pounds,
        gift_accepted=declaration.gift_accepted,
        declared_at=declaration.declared_at,
        status=declaration.status,
        decided_by=declaration.decided_by,
        decided_at=declaration.decided_at,
        conditions=declaration.conditions,
        decision_reasons=declaration.decision_reasons,
        review_on=declaration.review_on,
        about_line_manager=about_manager,
        replaces_id=declaration.replaces_id,
        ended=declaration.ended,
        ended_at=declaration.ended_at,
        withdrawal_requested_at=declaration.withdrawal_requested_at,
        withdrawal_reason=declaration.withdrawal_reason,
    )


def _details(session: Session, rows: Sequence[Declaration]) -> list[DeclarationDetail]:
    people = _staff_names(session, [r.staff_id for r in rows] + [r.decided_by for r in rows if r.decided_by])
    about = _about_line_managers(session, rows, people)
    corrections = _corrections(session, [r.declaration_id for r in rows if r.status is not None])
    return [
        replace(
            _detail(row, people, row.declaration_id in about),
            corrections=corrections.get(row.declaration_id, 0),
        )
        for row in rows
    ]


def _corrections(session: Session, declaration_ids: Sequence[str]) -> dict[str, int]:
    """How many times each of these declarations was corrected by its declarer (their history)."""
    found: dict[str, int] = {}
    wanted = sorted(set(declaration_ids))
    for start in range(0, len(wanted), 5000):
        query = (
            select(DeclarationHistory.declaration_id, func.count())
            .where(
                DeclarationHistory.declaration_id.in_(wanted[start : start + 5000]),
                DeclarationHistory.event == DeclarationEvent.CORRECTED.value,
            )
            .group_by(DeclarationHistory.declaration_id)
        )
        found.update({declaration_id: count for declaration_id, count in session.execute(query)})
    return found


def _about_line_managers(
    session: Session, rows: Sequence[Declaration], people: Mapping[str, Staff]
) -> set[str]:
    """The declarations (ids) among `rows` whose declared person is the declarer's line manager: the
    manager's staff id given as the subject id, a nominal flagged `staff:<manager>`, or (as the gate's SELF
    rule matches) the manager's name with their date of birth or home postcode, as declared or as the
    nominal register holds the declared id. The person as declared before any correction counts too, and
    for an update the person of the declaration it replaces: declaring one's manager and then correcting
    the declaration (or updating it) to someone else does not make it theirs to decide. For rule checking:
    nothing is logged."""
    from custodes.monitoring import service as monitoring  # monitoring's service uses this module

    manager_of = {
        r.declaration_id: people[r.staff_id].line_manager_id
        for r in rows
        if r.kind in PERSON_DECLARATIONS and r.staff_id in people and people[r.staff_id].line_manager_id
    }
    if not manager_of:
        return set()
    managers = _staff_names(session, {m for m in manager_of.values() if m})
    # The other people each declaration has named: before its corrections, and (an update) the replaced
    # declaration's person, as first declared and as it stands.
    replaced_of = {
        r.declaration_id: r.replaces_id for r in rows if r.replaces_id and r.declaration_id in manager_of
    }
    replaced = (
        {
            d.declaration_id: d
            for d in session.scalars(
                select(Declaration).where(Declaration.declaration_id.in_(sorted(set(replaced_of.values()))))
            )
        }
        if replaced_of
        else {}
    )
    earlier = earlier_people(session, [*manager_of, *replaced])
    others: dict[str, list[PersonKey]] = {i: list(earlier.get(i, ())) for i in manager_of}
    for declaration_id, old_id in replaced_of.items():
        old = replaced.get(old_id)
        if old is not None:
            others[declaration_id].append(
                PersonKey.of(old.subject_id, old.surname, old.forenames, old.date_of_birth, old.postcode)
            )
            others[declaration_id].extend(earlier.get(old_id, ()))
    subject_ids = sorted(
        {r.subject_id for r in rows if r.subject_id and r.declaration_id in manager_of}
        | {k.subject_id for keys in others.values() for k in keys if k.subject_id}
    )
    identities = {}
    for start in range(0, len(subject_ids), 5000):
        identities.update(monitoring.nominal_identities(session, subject_ids[start : start + 5000]))
    registered = {
        i: PersonKey.of(i, n.surname, n.forenames, n.date_of_birth, n.postcode) for i, n in identities.items()
    }
    found = set()
    for row in rows:
        manager_id = manager_of.get(row.declaration_id)
        manager = managers.get(manager_id or "")
        if manager_id is None or manager is None:
            continue
        keys = declaration_keys(row, registered)
        for key in others.get(row.declaration_id, ()):
            keys.append(key)
            if key.subject_id and key.subject_id in registered:
                keys.append(registered[key.subject_id])
        ids = {k.subject_id for k in keys if k.subject_id}
        flagged = {identities[i].staff_id for i in ids if i in identities}
        if manager_id in ids or manager_id in flagged:
            found.add(row.declaration_id)
            continue
        me = PersonKey.of(
            None, manager.surname, manager.forenames, manager.date_of_birth, manager.home_postcode
        )
        if any(same_person(me, key) or declared_matches(key, me) for key in keys):
            found.add(row.declaration_id)
    return found


def home_locations_readable(session: Session) -> bool:
    """Whether the stored home locations decrypt with the installation's data key: one stored value of each
    column is tried (a file may give coordinates without a postcode). KeyMissing if there is no key."""
    try:
        for column in (Staff.home_postcode, Staff.home_lat, Staff.home_lon):
            session.scalars(select(column).where(column.is_not(None)).limit(1)).all()
    except DecryptionFailed:
        return False
    return True


def forget_home_locations(session: Session, actor: str) -> int:
    """Clear every stored home location (written under a data key that is lost: they cannot be read, and
    nothing else can be done with them); recorded as one erasure. Returns how many staff had one."""
    held = or_(Staff.home_postcode.is_not(None), Staff.home_lat.is_not(None), Staff.home_lon.is_not(None))
    holders = session.scalar(select(func.count()).select_from(Staff).where(held)) or 0
    if holders:
        session.execute(update(Staff).values(home_postcode=None, home_lat=None, home_lon=None))
        ledger.record(
            session,
            EntryDraft(
                actor=actor,
                op=Op.ERASURE,
                object_type="staff_register",
                object_id="home_locations",
                detail={"reason": "data encryption key lost", "staff": holders},
            ),
        )
    return holders


def as_person(session: Session, staff_id: str) -> SubjectRef | None:
    """A member of staff as a person to find in other records (name, date of birth, home postcode). For
    matching only, never shown: not a consultation."""
    staff = session.get(Staff, staff_id)
    if staff is None:
        return None
    return SubjectRef(None, staff.surname, staff.forenames, staff.date_of_birth, staff.home_postcode)


def staff_name(session: Session, staff_id: str | None) -> str | None:
    staff = session.get(Staff, staff_id) if staff_id else None
    return f"{staff.forenames} {staff.surname}" if staff else None


def my_declarations(session: Session, staff_id: str) -> list[DeclarationDetail]:
    """One's own declarations, newest first (one's own record: not logged)."""
    query = (
        select(Declaration)
        .where(Declaration.staff_id == staff_id)
        .order_by(Declaration.declared_at.desc(), Declaration.declaration_id)
    )
    return _details(session, list(session.scalars(query)))


def my_declarations_awaiting(session: Session, staff_id: str) -> int:
    """How many of one's own declarations wait for a decision, for one's home page (a count: not logged)."""
    query = select(func.count()).where(
        Declaration.staff_id == staff_id,
        Declaration.ended.is_(None),
        or_(
            Declaration.status == DeclarationStatus.AWAITING.value,
            Declaration.withdrawal_requested_at.is_not(None),
        ),
    )
    return session.scalar(query) or 0


def may_decide(detail: DeclarationDetail, principal: Principal) -> bool:
    """The declarer's line manager decides (seed 002: declared to their supervisor), never the declarer,
    and never a declaration of a relationship with the manager themself (`about_line_manager`): such a
    declaration has no on-screen decision, as one by someone without a line manager has not; the
    counter-corruption unit sees it in the declarations register."""
    return (
        principal.can(Permission.DECLARATIONS_DECIDE)
        and detail.line_manager_id == principal.staff_id
        and detail.staff_id != principal.staff_id
        and not detail.about_line_manager
    )


ABOUT_YOU = (
    "This declaration is about you, so you cannot decide it: it has no decision on screen, and the "
    "counter-corruption unit sees it in the declarations register."
)


def view_declaration(session: Session, declaration_id: str, principal: Principal) -> DeclarationDetail:
    """One declaration, for the declarer, their line manager or a register holder; others get
    DeclarationError as if it did not exist. Seeing someone else's is a consultation."""
    row = session.get(Declaration, declaration_id)
    if row is None:
        raise DeclarationError("There is no such declaration, or it is not yours to see.")
    (detail,) = _details(session, [row])
    own = detail.staff_id == principal.staff_id
    if not (own or may_decide(detail, principal) or principal.can(Permission.WORKFORCE_REGISTERS)):
        raise DeclarationError("There is no such declaration, or it is not yours to see.")
    if not own:
        ledger.record_consultation(
            session,
            actor=principal.actor,
            object_type="declaration",
            object_id=declaration_id,
            subjects=_people_on_page(session, row),
            justification="declaration decision"
            if may_decide(detail, principal)
            else "declarations register",
        )
    return detail


def _people_on_page(session: Session, row: Declaration) -> tuple[str, ...]:
    """Everyone a declaration's page names by id: the declarer and the person declared as it stands, as it
    stood before each correction (its History), and, for an update, as the declaration it replaces stands
    (its "what this update changes" table)."""
    found = {row.staff_id, row.subject_id}
    found.update(
        k.subject_id for k in earlier_people(session, [row.declaration_id]).get(row.declaration_id, ())
    )
    if row.replaces_id:
        old = session.get(Declaration, row.replaces_id)
        found.add(old.subject_id if old is not None else None)
    return tuple(sorted(s for s in found if s))


def declaration_summary(session: Session, declaration_id: str) -> DeclarationDetail:
    """A declaration its decider has just acted on, to say what happened in words (the page they came from
    showed it, and was logged): not logged again. DeclarationError if there is none."""
    row = session.get(Declaration, declaration_id)
    if row is None:
        raise DeclarationError("There is no such declaration.")
    (detail,) = _details(session, [row])
    return detail


def decision_version(detail: DeclarationDetail) -> str:
    """The declaration's decision as shown on a page (outcome and when) and how many corrections the page
    showed, for the decision form to carry back: `decide_declaration` refuses a decision made on an
    out-of-date page — decided meanwhile, or corrected by the declarer since the page was opened."""
    decided = f"{detail.status or ''}@{detail.decided_at.isoformat() if detail.decided_at else ''}"
    return f"{decided}#{detail.corrections}"


CORRECTED_MEANWHILE = (
    "This declaration was corrected since you opened it: read the changes and decide again. Nothing was "
    "recorded."
)


# Waiting for the line manager: a declaration to decide, or a request to withdraw one (never one ended).
_WAITING_FOR_MANAGER = and_(
    Declaration.ended.is_(None),
    or_(
        Declaration.status == DeclarationStatus.AWAITING.value,
        Declaration.withdrawal_requested_at.is_not(None),
    ),
)


def decision_queue(
    session: Session, principal: Principal, on: date
) -> tuple[list[DeclarationDetail], list[DeclarationDetail]]:
    """(awaiting the principal's decision, decided ones whose review date is within 30 days or past),
    for the people they line-manage. The queue shows names: a consultation when it is not empty."""
    team = select(Staff.staff_id).where(Staff.line_manager_id == principal.staff_id)
    awaiting = list(
        session.scalars(
            select(Declaration)
            .where(
                Declaration.staff_id.in_(team),
                _WAITING_FOR_MANAGER,
                Declaration.staff_id != principal.staff_id,
            )
            .order_by(Declaration.declared_at)
        )
    )
    reviews = list(
        session.scalars(
            select(Declaration)
            .where(
                Declaration.staff_id.in_(team),
                Declaration.review_on.is_not(None),
                Declaration.review_on <= date.fromordinal(on.toordinal() + 30),
                Declaration.staff_id != principal.staff_id,
                Declaration.ended.is_(None),
            )
            .order_by(Declaration.review_on)
        )
    )
    # A declaration of a relationship with the manager themself is not theirs to decide, nor to see here.
    waiting = [d for d in _details(session, awaiting) if not d.about_line_manager]
    due = [d for d in _details(session, reviews) if not d.about_line_manager]
    shown = waiting + due
    if shown:
        # The people shown: each declarer and the person they declared (by subject id, where one is given).
        people = {r.staff_id for r in shown} | {r.subject_id for r in shown if r.subject_id}
        ledger.record_consultation(
            session,
            actor=principal.actor,
            object_type="declaration_queue",
            object_id=principal.staff_id,
            subjects=tuple(sorted(people)),
            justification="declarations awaiting my decision",
        )
    return waiting, due


def awaiting_decision_count(session: Session, principal: Principal) -> int:
    """How many declarations wait for the principal's decision, as `decision_queue` lists them (never one
    about the manager themself), for their home page: a count only, so nothing is logged."""
    team = select(Staff.staff_id).where(Staff.line_manager_id == principal.staff_id)
    awaiting = list(
        session.scalars(
            select(Declaration).where(
                Declaration.staff_id.in_(team),
                _WAITING_FOR_MANAGER,
                Declaration.staff_id != principal.staff_id,
            )
        )
    )
    return sum(1 for d in _details(session, awaiting) if not d.about_line_manager)


def decide_declaration(
    session: Session,
    declaration_id: str,
    principal: Principal,
    *,
    outcome: str,
    conditions: str = "",
    reasons: str = "",
    review_on: str = "",
    today: date | None = None,
    seen: str | None = None,
) -> DeclarationStatus:
    """The line manager's decision: approve, approve with conditions (conditions required) or reject
    (reasons required); approvals need a review date after today. The first decision is an
    `authorisation` or `refusal` entry; a later one (at review) an `alteration` naming the previous one.

    The row is locked and read afresh first (PostgreSQL FOR UPDATE; SQLite's write lock serialises), so of
    two decisions at once the second waits and sees the first. `seen` (the form's `decision_version` of
    the declaration as it was shown) refuses a decision made on a page that is out of date: a second
    press of the button, or a decision someone else recorded meanwhile, is not recorded again."""
    row = session.get(Declaration, declaration_id, with_for_update=True, populate_existing=True)
    if row is None:
        raise DeclarationError("There is no such declaration.")
    (detail,) = _details(session, [row])
    if detail.about_line_manager and detail.line_manager_id == principal.staff_id:
        raise DeclarationError(ABOUT_YOU)
    if not may_decide(detail, principal):
        raise DeclarationError(f"Only {detail.staff_name}'s line manager can decide this declaration.")
    version = decision_version(detail)
    if seen is not None and seen != version:
        if seen.partition("#")[0] == version.partition("#")[0]:
            raise DeclarationChanged(CORRECTED_MEANWHILE)
        when = f" on {london(detail.decided_at)}" if detail.decided_at else ""
        raise DeclarationError(
            f"{declaration_id} was decided meanwhile ({outcome_title(detail.status).lower()}{when}); "
            "nothing was recorded. Open it again to see the decision before changing it."
        )
    if row.ended:
        raise DeclarationError(
            f"{detail.staff_name}'s declaration was {row.ended}: it is no longer in force."
        )
    day = today or london_today()
    problems: list[tuple[str, str]] = []
    if outcome not in {d.value for d in DECISIONS}:
        problems.append(("outcome", "choose approve, approve with conditions, or reject"))
    conditions, reasons = conditions.strip(), reasons.strip()
    if outcome == DeclarationStatus.APPROVED_WITH_CONDITIONS and not conditions:
        problems.append(("conditions", "say what the conditions are (e.g. removed from the investigation)"))
    if outcome == DeclarationStatus.REJECTED and not reasons:
        problems.append(("reasons", "give your reasons for rejecting it"))
    if len(conditions) > _MAX_TEXT or len(reasons) > _MAX_TEXT:
        problems.append(("conditions" if len(conditions) > _MAX_TEXT else "reasons", "is too long"))
    review: date | None = None
    if review_on.strip():
        try:
            review = date.fromisoformat(review_on.strip())
        except ValueError:
            problems.append(("review_on", "is not a date"))
        else:
            if review <= day:
                problems.append(("review_on", "must be after today"))
    elif outcome in (DeclarationStatus.APPROVED, DeclarationStatus.APPROVED_WITH_CONDITIONS):
        problems.append(("review_on", "set a date to review this declaration"))
    if problems:
        raise DeclarationProblems(problems)
    previous = row.status
    status = DeclarationStatus(outcome)
    now = utcnow()
    row.status = status.value
    row.decided_by = principal.staff_id
    row.decided_at = now
    row.conditions = conditions or None if status == DeclarationStatus.APPROVED_WITH_CONDITIONS else None
    row.decision_reasons = reasons or None
    row.review_on = review
    row.updated_at = now
    first = previous in (None, DeclarationStatus.AWAITING.value)
    if first:
        op = Op.REFUSAL if status == DeclarationStatus.REJECTED else Op.AUTHORISATION
    else:
        op = Op.ALTERATION
    _record_declaration_step(
        session,
        principal,
        op,
        row,
        {
            "kind": row.kind,
            "outcome": status.value,
            "previous": previous,
            "conditions": row.conditions,
            "reasons": row.decision_reasons,
            "review_on": review.isoformat() if review else None,
        },
    )
    if row.replaces_id:
        approvals = (DeclarationStatus.APPROVED.value, DeclarationStatus.APPROVED_WITH_CONDITIONS.value)
        if status.value in approvals and previous not in approvals:
            # An update approved (first, or at review after a rejection): the declaration it replaces ends.
            _end_replaced(session, row.replaces_id, row.declaration_id, principal)
        elif first and status == DeclarationStatus.REJECTED:
            # An update rejected: the declaration it was meant to replace stays in force, as it stood.
            rejected = DeclarationEvent.UPDATE_REJECTED
            _history(session, row.replaces_id, rejected, principal.staff_id, reason=row.declaration_id)
            _history(session, row.declaration_id, rejected, principal.staff_id, reason=row.replaces_id)
    return status


def _end_replaced(session: Session, old_id: str, new_id: str, principal: Principal) -> None:
    """The declaration an update replaces, once the update is approved: ended as replaced (no longer matched
    at the gate; the update is), unless it has ended meanwhile. A rejected update ends nothing."""
    old = session.get(Declaration, old_id, with_for_update=True, populate_existing=True)
    if old is None or old.ended:
        return
    now = utcnow()
    old.ended, old.ended_at, old.updated_at = DeclarationEnd.REPLACED.value, now, now
    _history(session, old_id, DeclarationEvent.REPLACED, principal.staff_id, reason=new_id)
    _record_declaration_step(
        session,
        principal,
        Op.ALTERATION,
        old,
        {"ended": DeclarationEnd.REPLACED.value, "replaced_by": new_id},
    )


# ------------------------------------------------------------------------- corrections, withdrawals, updates

# The fields a declarer writes (as `_form_problems` returns them, the kind aside), in the order shown.
CHANGEABLE = (
    "subject_id",
    "forenames",
    "surname",
    "date_of_birth",
    "postcode",
    "relationship",
    "description",
    "organisation",
    "value_pounds",
    "gift_accepted",
)
ENDED_WORDS = {
    DeclarationEnd.WITHDRAWN.value: "withdrawn",
    DeclarationEnd.REPLACED.value: "replaced by an update",
}


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "accepted" if value else "declined"
    if isinstance(value, date):
        return f"{value.day} {value:%B %Y}"
    return str(value)


def _person_before(row: Declaration) -> dict[str, Any]:
    return {
        "subject_id": row.subject_id,
        "surname": row.surname,
        "forenames": row.forenames,
        "date_of_birth": row.date_of_birth.isoformat() if row.date_of_birth else None,
        "postcode": row.postcode,
    }


def _history(
    session: Session,
    declaration_id: str,
    event: DeclarationEvent,
    by: str,
    *,
    reason: str | None = None,
    changes: dict[str, Any] | None = None,
) -> None:
    session.add(
        DeclarationHistory(
            declaration_id=declaration_id,
            event=event.value,
            at=utcnow(),
            by=by,
            reason=reason,
            changes=json.dumps(changes) if changes is not None else None,
        )
    )


def _own_row(session: Session, declaration_id: str, principal: Principal) -> Declaration:
    """One's own declaration, locked and read afresh; DeclarationError (as if it did not exist) otherwise."""
    row = session.get(Declaration, declaration_id, with_for_update=True, populate_existing=True)
    if row is None or row.staff_id != principal.staff_id:
        raise DeclarationError("There is no such declaration, or it is not yours to change.")
    return row


def _update_refusal(session: Session, row: Declaration) -> str | None:
    """Why this declaration cannot be updated (replaced by a new one), in words; None if it can."""
    if row.ended:
        return f"This declaration was {ENDED_WORDS[row.ended]}: it can no longer be updated."
    if row.status == DeclarationStatus.AWAITING:
        return "This declaration is still waiting for your line manager's decision: correct it instead."
    if row.status == DeclarationStatus.REJECTED and row.replaces_id:
        replaced = session.get(Declaration, row.replaces_id)
        if replaced is not None and not replaced.ended:
            return (
                f"This update was not approved, so your declaration {row.replaces_id} stays in force: to "
                f"send new details, update {row.replaces_id} instead."
            )
    pending = pending_update(session, row.declaration_id)
    if pending:
        return (
            f"You have already sent an update of this declaration ({pending}), which is waiting for your "
            "line manager's decision: correct that one instead."
        )
    return None


def may_correct(detail: DeclarationDetail, principal: Principal) -> bool:
    """The declarer may correct their declaration while it waits for the line manager's decision."""
    return detail.staff_id == principal.staff_id and detail.awaiting


def may_update(session: Session, detail: DeclarationDetail, principal: Principal) -> bool:
    """The declarer may send an update of a decided (or imported) declaration in force, one at a time."""
    if detail.staff_id != principal.staff_id:
        return False
    row = session.get(Declaration, detail.declaration_id)
    return row is not None and _update_refusal(session, row) is None


def pending_update(session: Session, declaration_id: str) -> str | None:
    """The update of this declaration waiting for the line manager's decision, if any."""
    query = select(Declaration.declaration_id).where(
        Declaration.replaces_id == declaration_id,
        Declaration.ended.is_(None),
        Declaration.status == DeclarationStatus.AWAITING.value,
    )
    return session.scalars(query.limit(1)).first()


def form_of(session: Session, declaration_id: str, principal: Principal) -> DeclarationForm:
    """One's own declaration as the form shows it, to correct it or to start an update prefilled from it.
    DeclarationError if it is not the principal's."""
    row = session.get(Declaration, declaration_id)
    if row is None or row.staff_id != principal.staff_id:
        raise DeclarationError("There is no such declaration, or it is not yours to change.")
    person = row.kind in PERSON_DECLARATIONS
    return DeclarationForm(
        kind=row.kind,
        subject_id=row.subject_id or "",
        surname=row.surname or "",
        forenames=row.forenames or "",
        date_of_birth=row.date_of_birth.isoformat() if row.date_of_birth else "",
        postcode=row.postcode or "",
        relationship=row.relationship or "",
        description=row.description or "",
        organisation=row.organisation or "",
        value_pounds="" if row.value_pounds is None else str(row.value_pounds),
        gift_accepted="" if row.gift_accepted is None else ("accepted" if row.gift_accepted else "declined"),
        name_only="yes" if person and not (row.subject_id or row.date_of_birth or row.postcode) else "",
    )


def correct_declaration(
    session: Session, declaration_id: str, principal: Principal, form: DeclarationForm
) -> tuple[DeclarationChange, ...]:
    """The declarer corrects their declaration while it waits for the line manager's decision (the same
    rules as making one; the kind stays). Returns the fields changed (none: nothing is recorded). Recorded
    in the declaration's history with the values before and after, for the line manager to see before
    deciding, and as an `alteration` entry with the changes as keyed digests (as the register imports
    record theirs). Until the manager decides, the person as first declared is still matched at the gate
    (`earlier_people`)."""
    row = _own_row(session, declaration_id, principal)
    if row.ended:
        raise DeclarationError(
            f"This declaration was {ENDED_WORDS[row.ended]}: it can no longer be corrected."
        )
    if row.status != DeclarationStatus.AWAITING:
        raise DeclarationError(
            "Your line manager has already decided this declaration, so it can no longer be corrected: use "
            "“Update these details” to send them new details."
        )
    problems, values = _form_problems(replace(form, kind=row.kind))
    if problems:
        raise DeclarationProblems(problems)
    changed = {name: values[name] for name in CHANGEABLE if getattr(row, name) != values[name]}
    if not changed:
        return ()
    digests = keyed_changes(session, row, changed, kind="declaration", object_id=declaration_id)
    shown = tuple(DeclarationChange(n, _shown(getattr(row, n)), _shown(v)) for n, v in changed.items())
    before = _person_before(row)
    subjects = sorted({s for s in (row.staff_id, row.subject_id, values["subject_id"]) if s})
    now = utcnow()
    for name, value in changed.items():
        setattr(row, name, value)
    row.updated_at = now
    _history(
        session,
        declaration_id,
        DeclarationEvent.CORRECTED,
        principal.staff_id,
        changes={"fields": [[c.field, c.before, c.after] for c in shown], "person_before": before},
    )
    ledger.record(
        session,
        EntryDraft(
            actor=principal.actor,
            op=Op.ALTERATION,
            object_type="declaration",
            object_id=declaration_id,
            subjects=tuple(subjects),
            detail={"changes": digests, "corrected_by": "declarer", "status": row.status},
        ),
    )
    return shown


def request_withdrawal(session: Session, declaration_id: str, principal: Principal, reason: str) -> None:
    """The declarer asks to withdraw their declaration, with a reason, at any stage; the line manager
    decides (`decide_withdrawal`). Until then it stays in force: the gate still matches it."""
    row = _own_row(session, declaration_id, principal)
    if row.ended:
        raise DeclarationError(f"This declaration was {ENDED_WORDS[row.ended]} already.")
    if row.withdrawal_requested_at is not None:
        raise DeclarationError(
            "You have already asked to withdraw this declaration; your line manager has not decided yet."
        )
    reason = reason.strip()
    if not reason:
        raise DeclarationProblems(
            [("withdrawal_reason", "say why you want to withdraw it, e.g. “declared by mistake”")]
        )
    if len(reason) > _MAX_TEXT:
        raise DeclarationProblems([("withdrawal_reason", f"is longer than {_MAX_TEXT} characters")])
    now = utcnow()
    row.withdrawal_requested_at, row.withdrawal_reason, row.updated_at = now, reason, now
    _history(
        session, declaration_id, DeclarationEvent.WITHDRAWAL_REQUESTED, principal.staff_id, reason=reason
    )
    _record_declaration_step(
        session, principal, Op.ALTERATION, row, {"withdrawal": "requested", "reason": reason}
    )


WITHDRAWAL_OUTCOMES = ("accept", "refuse")


def withdrawal_version(detail: DeclarationDetail) -> str:
    """The request to withdraw a declaration as its page shows it (when it was asked for), for the form to
    carry back: `decide_withdrawal` refuses a decision on a request other than the one shown."""
    asked = detail.withdrawal_requested_at
    return asked.astimezone(UTC).isoformat() if asked else ""


WITHDRAWAL_CHANGED = (
    "This request to withdraw the declaration is not the one you opened: the first was decided and a new one "
    "made, with its own reason. Read it and decide again. Nothing was recorded."
)


def decide_withdrawal(
    session: Session,
    declaration_id: str,
    principal: Principal,
    *,
    outcome: str,
    reasons: str = "",
    seen: str | None = None,
) -> bool:
    """The line manager decides a request to withdraw a declaration (the same line manager who decides the
    declaration, `may_decide`): accept — it is withdrawn and no longer matched at the gate (an
    `authorisation` entry); refuse, with reasons — it stays in force (a `refusal` entry). Returns whether
    it was accepted. The row is locked and read afresh, so a second press finds nothing waiting; `seen`
    (the form's `withdrawal_version`) refuses a decision on a later request than the page showed
    (DeclarationChanged)."""
    row = session.get(Declaration, declaration_id, with_for_update=True, populate_existing=True)
    if row is None:
        raise DeclarationError("There is no such declaration.")
    (detail,) = _details(session, [row])
    if detail.about_line_manager and detail.line_manager_id == principal.staff_id:
        raise DeclarationError(ABOUT_YOU)
    if not may_decide(detail, principal):
        raise DeclarationError(f"Only {detail.staff_name}'s line manager can decide this request.")
    if row.ended or row.withdrawal_requested_at is None:
        raise DeclarationError(
            f"No request to withdraw {detail.staff_name}'s declaration is waiting: it was decided meanwhile, "
            "or none was made. Nothing was recorded."
        )
    if seen is not None and seen != withdrawal_version(detail):
        raise DeclarationChanged(WITHDRAWAL_CHANGED)
    reasons = reasons.strip()
    problems: list[tuple[str, str]] = []
    if outcome not in WITHDRAWAL_OUTCOMES:
        problems.append(("withdrawal_outcome", "choose to accept or refuse the request"))
    if outcome == "refuse" and not reasons:
        problems.append(
            ("withdrawal_reasons", "give your reasons for refusing: the declaration stays in force")
        )
    if len(reasons) > _MAX_TEXT:
        problems.append(("withdrawal_reasons", f"is longer than {_MAX_TEXT} characters"))
    if problems:
        raise DeclarationProblems(problems)
    accepted = outcome == "accept"
    now = utcnow()
    asked = row.withdrawal_reason
    if accepted:
        row.ended, row.ended_at = DeclarationEnd.WITHDRAWN.value, now
    row.withdrawal_requested_at, row.withdrawal_reason, row.updated_at = None, None, now
    event = DeclarationEvent.WITHDRAWAL_ACCEPTED if accepted else DeclarationEvent.WITHDRAWAL_REFUSED
    _history(session, declaration_id, event, principal.staff_id, reason=reasons or None)
    _record_declaration_step(
        session,
        principal,
        Op.AUTHORISATION if accepted else Op.REFUSAL,
        row,
        {
            "withdrawal": "accepted" if accepted else "refused",
            "asked_because": asked,
            "reasons": reasons or None,
        },
    )
    return accepted


def declaration_history(session: Session, declaration_id: str) -> list[HistoryEntry]:
    """What happened to a declaration after it was made, oldest first, for its page (shown with it: the
    page's own consultation covers it)."""
    rows = list(
        session.scalars(
            select(DeclarationHistory)
            .where(DeclarationHistory.declaration_id == declaration_id)
            .order_by(DeclarationHistory.at, DeclarationHistory.id)
        )
    )
    people = _staff_names(session, {r.by for r in rows})
    entries = []
    for r in rows:
        fields = json.loads(r.changes).get("fields", []) if r.changes else []
        who = people.get(r.by)
        entries.append(
            HistoryEntry(
                event=r.event,
                at=r.at,
                by=r.by,
                by_name=f"{who.forenames} {who.surname}" if who else None,
                reason=r.reason,
                changes=tuple(DeclarationChange(*f) for f in fields),
            )
        )
    return entries


def replacement_changes(session: Session, detail: DeclarationDetail) -> tuple[DeclarationChange, ...]:
    """What an update changes from the declaration it replaces (for the line manager deciding it)."""
    if not detail.replaces_id:
        return ()
    old = session.get(Declaration, detail.replaces_id)
    new = session.get(Declaration, detail.declaration_id)
    if old is None or new is None:
        return ()
    return tuple(
        DeclarationChange(n, _shown(getattr(old, n)), _shown(getattr(new, n)))
        for n in CHANGEABLE
        if getattr(old, n) != getattr(new, n)
    )


REGISTER_REVIEWS = {"overdue": "Review overdue", "due30": "Review due within 30 days"}


def staff_areas(session: Session) -> list[str]:
    """The area codes in the staff register, in order (for filters)."""
    found = session.scalars(select(Staff.area_code).where(Staff.area_code.is_not(None)).distinct())
    return sorted(code for code in found if code)


RECORDED = "recorded"  # the register's status filter for declarations that need no decision


def declaration_register(
    session: Session,
    kind: str,
    text: str,
    *,
    actor: str,
    limit: int = 500,
    offset: int = 0,
    status: str = "",
    area: str = "",
    review: str = "",
) -> tuple[list[DeclarationDetail], int]:
    """A register of one kind (or all kinds if `kind` is empty), newest first, filtered by `text` (staff
    id or name, declared person, organisation, description, team id or name), `status` (a
    DeclarationStatus, or RECORDED for those that need no decision), the declarer's `area` and `review` (a
    REGISTER_REVIEWS key, as of today in London). Names are shown: a consultation listing the people
    shown. Returns (rows `offset` to `offset + limit`, how many matched)."""
    query = select(Declaration).join(Staff, Staff.staff_id == Declaration.staff_id, isouter=True)
    if kind:
        query = query.where(Declaration.kind == kind)
    if status == RECORDED:
        query = query.where(Declaration.status.is_(None))
    elif status:
        query = query.where(Declaration.status == status)
    if area:
        query = query.where(Staff.area_code == area)
    today = london_today()
    if review == "overdue":
        query = query.where(Declaration.review_on < today)
    elif review == "due30":
        query = query.where(
            Declaration.review_on >= today, Declaration.review_on <= today + timedelta(days=30)
        )
    words = text.split()
    for word in words[:6]:
        pattern = f"%{word.lower()}%"
        query = query.where(
            or_(
                func.lower(Declaration.staff_id).like(pattern),
                func.lower(Staff.surname).like(pattern),
                func.lower(Staff.forenames).like(pattern),
                func.lower(Staff.team_id).like(pattern),
                Staff.team_id.in_(select(Team.team_id).where(func.lower(Team.name).like(pattern))),
                func.lower(Declaration.surname).like(pattern),
                func.lower(Declaration.forenames).like(pattern),
                func.lower(Declaration.subject_id).like(pattern),
                func.lower(Declaration.organisation).like(pattern),
                func.lower(Declaration.description).like(pattern),
                func.lower(Declaration.declaration_id).like(pattern),
            )
        )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = list(
        session.scalars(
            query.order_by(Declaration.declared_at.desc(), Declaration.declaration_id)
            .offset(offset)
            .limit(limit)
        )
    )
    details = _details(session, rows)
    if details:
        subjects = {d.staff_id for d in details} | {d.subject_id for d in details if d.subject_id}
        ledger.record_consultation(
            session,
            actor=actor,
            object_type="declaration_register",
            object_id=kind or "all",
            subjects=tuple(sorted(subjects)),
            justification="declarations register",
            detail={
                "search": text,
                **{k: v for k, v in (("status", status), ("area", area), ("review", review)) if v},
            },
        )
    return details, total


def outcome_title(status: str | None) -> str:
    return {
        DeclarationStatus.AWAITING.value: "Awaiting decision",
        DeclarationStatus.APPROVED.value: "Approved",
        DeclarationStatus.APPROVED_WITH_CONDITIONS.value: "Approved with conditions",
        DeclarationStatus.REJECTED.value: "Not approved",
    }.get(status or "", "Recorded")


def published_register(session: Session, kind: DeclarationKind) -> list[PublishedDeclaration]:
    """The gifts-and-hospitality or business-interests register with personal details removed: no
    names, staff ids, teams, conditions or reasons; area and the declarer's own description only
    (the form tells them it may be published). Only declarations in force: one replaced by an approved update
    (the update is listed instead) or withdrawn is left out. Nothing personal is shown, so nothing is
    logged."""
    if kind not in PUBLISHABLE.values():
        raise DeclarationError(f"The {kind} register is not published.")
    rows = session.execute(
        select(Declaration, Staff.area_code)
        .join(Staff, Staff.staff_id == Declaration.staff_id, isouter=True)
        .where(Declaration.kind == kind.value, Declaration.ended.is_(None))
        .order_by(Declaration.declared_at.desc(), Declaration.declaration_id)
    )
    return [
        PublishedDeclaration(
            declared_on=london_day(row.declared_at),
            area_code=area,
            organisation=row.organisation,
            description=row.description,
            value_pounds=row.value_pounds,
            gift_accepted=row.gift_accepted,
            outcome=outcome_title(row.status),
        )
        for row, area in rows
    ]


# --------------------------------------------------------------------------- for the monitoring detectors


def staff_for_monitoring(session: Session) -> list[tuple[Any, ...]]:
    """(staff_id, team_id, surname, forenames, date_of_birth, home_postcode, home_lat, home_lon) of every
    member of staff: who they are and where they live, for the relationship detectors. Not logged."""
    columns = (
        Staff.staff_id,
        Staff.team_id,
        Staff.surname,
        Staff.forenames,
        Staff.date_of_birth,
        Staff.home_postcode,
        Staff.home_lat,
        Staff.home_lon,
    )
    return [tuple(row) for row in session.execute(select(*columns))]


def declared_people(session: Session, staff_id: str | None = None) -> list[tuple[Any, ...]]:
    """(declaration_id, staff_id, relationship, subject_id, surname, forenames, date_of_birth, postcode) of
    every declaration that names a person and was not rejected (only `staff_id`'s, if given). Not logged."""
    columns = (
        Declaration.declaration_id,
        Declaration.staff_id,
        Declaration.relationship,
        Declaration.subject_id,
        Declaration.surname,
        Declaration.forenames,
        Declaration.date_of_birth,
        Declaration.postcode,
    )
    query = select(*columns).where(
        Declaration.kind.in_([kind.value for kind in PERSON_DECLARATIONS]),
        or_(Declaration.status.is_(None), Declaration.status != DeclarationStatus.REJECTED),
        Declaration.ended.is_(None),
    )
    if staff_id is not None:
        query = query.where(Declaration.staff_id == staff_id)
    return [tuple(row) for row in session.execute(query.order_by(Declaration.declaration_id))]


def home_of(session: Session, staff_id: str) -> tuple[str | None, float | None, float | None] | None:
    """(home postcode, latitude, longitude) of a member of staff, None if not in the register: for matching
    their household in other records, never shown, so not logged."""
    staff = session.get(Staff, staff_id, options=[undefer_group(HOME_LOCATION)])
    if staff is None:
        return None
    return staff.home_postcode, staff.home_lat, staff.home_lon


def staff_close_to(
    session: Session, staff_id: str, people: Sequence[PersonKey], household_m: float
) -> set[str]:
    """The other members of staff close to `staff_id`: one of `people` (`declared_matches` against their
    name, date of birth and home postcode, as the gate matches a declared person: a person declared by name
    alone by that full name; the caller passes the people `staff_id` declared), or of their
    household: the same surname key and the same home postcode, or homes within `household_m` metres (the
    monitoring detectors' RELATIVE_OR_HOUSEHOLD test). Candidates are found by surname key or folded letters
    (every spelling of a surname English writes two ways: Müller, Mueller, Muller; kit.names.same_surname
    decides, letter by letter),
    and only their homes are read (decrypted). For rule checking: nothing is logged."""
    me = session.get(Staff, staff_id, options=[undefer_group(HOME_LOCATION)])
    mine = PersonKey.of(None, me.surname, None, None, None) if me is not None else None
    keys = [key for key in (*people, *([mine] if mine else [])) if key.surname]
    if not keys:
        return set()
    firsts, folds = {key.surname for key in keys}, {key.fold_surname.partition("=")[0] for key in keys}
    candidates = [
        other
        for other, surname in session.execute(select(Staff.staff_id, Staff.surname))
        if other != staff_id and (surname_key(surname) in firsts or folded_surname_key(surname) in folds)
    ]
    home = PersonKey.of(None, None, None, None, me.home_postcode).postcode if me is not None else None
    close = set()
    for start in range(0, len(candidates), 1000):
        query = (
            select(Staff)
            .where(Staff.staff_id.in_(candidates[start : start + 1000]))
            .options(undefer_group(HOME_LOCATION))
        )
        for other in session.scalars(query):
            key = PersonKey.of(None, other.surname, other.forenames, other.date_of_birth, other.home_postcode)
            if any(declared_matches(person, key) for person in people):
                close.add(other.staff_id)
            elif me is not None and mine is not None and same_surname(mine, key):
                apart = metres_between(me.home_lat, me.home_lon, other.home_lat, other.home_lon)
                if (home is not None and key.postcode == home) or (
                    apart is not None and apart <= household_m
                ):
                    close.add(other.staff_id)
    return close


def referral_searches(session: Session) -> list[tuple[Any, ...]]:
    """(referral id, who searches, subject_id, from, until) for referrals naming a subject: the line manager
    (or whoever closed it) searches on the requester's behalf while it is open, and on the day it closes."""
    query = select(Referral).where(Referral.subject_id.is_not(None))
    rows = []
    for referral in session.scalars(query):
        handler = referral.closed_by or referral.manager_id
        if handler:
            until = referral.closed_at or referral.created_at + timedelta(days=30)
            rows.append((referral.id, handler, referral.subject_id, referral.created_at, until))
    return rows


# --------------------------------------------------------------------------- what needs doing (home, /me)

NEXT_STEP_DAYS = 30  # a course or vetting level lapsing within this many days is shown as due
TRAINING_TO_DO = (
    "Book the course through your training system; completions reach Custodes when the training "
    "system's records are imported."
)
VETTING_TO_DO = (
    "Apply to renew it through the force vetting unit; decisions reach Custodes when the vetting records "
    "are imported."
)
VETTING_APPLIED = (
    "Your renewal application is with the force vetting unit; the decision reaches Custodes when the "
    "vetting records are imported."
)
_BLOCKS_DISCLOSURE = "you cannot make, authorise or release disclosures"
_BLOCKS_SYSTEMS = "the pre-access gate refuses your searches on force systems"


def _course_blocks(gates: frozenset[str], lapsed: bool) -> str:
    """What a lapsed mandatory course stops, from its gates (discloser readiness and the gate's
    NOT_TRAINED), as a sentence."""
    stopped = []
    if CourseGate.DISCLOSURE in gates:
        stopped.append(_BLOCKS_DISCLOSURE)
    if CourseGate.SYSTEM_ACCESS in gates:
        stopped.append(_BLOCKS_SYSTEMS)
    if not stopped:
        return (
            "It does not stop you using Custodes or force systems, but it is mandatory for your roles: "
            + ("it shows as out of date to your line manager." if lapsed else "keep it current.")
        )
    return ("Until then " if lapsed else "Once it lapses ") + " and ".join(stopped) + "."


def _vetting_by_level(
    rows: Iterable[VettingRow], on: date
) -> dict[str, tuple[str, date | None, date | None]]:
    """Each level's latest decision made by `on`, as levels_in_force reads them: status, decided, expires."""
    latest: dict[str, tuple[date, str, date | None, date | None]] = {}
    for level, status, decided_on, expires_on in rows:
        when = decided_on or date.min
        if status in UNDECIDED_VETTING or when > on:
            continue
        if level not in latest or when >= latest[level][0]:
            latest[level] = (when, status, decided_on, expires_on)
    return {level: (status, decided, expires) for level, (_w, status, decided, expires) in latest.items()}


def _summary(rows: Sequence[VettingRow], on: date) -> VettingSummary:
    held: list[tuple[str, date | None]] = []
    expired: list[tuple[str, date]] = []
    for level, (status, decided, expires) in sorted(_vetting_by_level(rows, on).items()):
        if status == VettingStatus.GRANTED:
            if expires is None or expires >= on:
                held.append((level, expires))
            else:
                expired.append((level, expires))
        elif status == VettingStatus.LAPSED and decided is not None:
            expired.append((level, decided))
    applied = sorted({level for level, status, _d, _e in rows if status in UNDECIDED_VETTING})
    return VettingSummary(tuple(held), tuple(expired), tuple(applied))


def _vetting_rows(session: Session, staff_ids: Sequence[str]) -> dict[str, list[VettingRow]]:
    found: dict[str, list[VettingRow]] = {staff_id: [] for staff_id in staff_ids}
    for start in range(0, len(staff_ids), _CHUNK):
        query = select(
            Vetting.staff_id, Vetting.level, Vetting.status, Vetting.decided_on, Vetting.expires_on
        )
        query = query.where(Vetting.staff_id.in_(staff_ids[start : start + _CHUNK]))
        for staff_id, level, status, decided, expires in session.execute(query):
            found[staff_id].append((level, status, decided, expires))
    return found


def my_next_steps(
    session: Session, staff_id: str, on: date, within_days: int = NEXT_STEP_DAYS
) -> list[NextStep]:
    """One's own mandatory courses and vetting levels that have lapsed or lapse within `within_days`, each
    with what to do and what it stops (lapsed first). One's own record: not logged."""
    steps: list[NextStep] = []
    for course in training_record(session, staff_id, on):
        if not course.mandatory:
            continue
        due = course.expires_on is not None and (course.expires_on - on).days <= within_days
        if course.current and not due:
            continue
        steps.append(
            NextStep(
                kind="training",
                key=course.course_code,
                title=course.title,
                lapsed=not course.current,
                on=course.expires_on,
                to_do=TRAINING_TO_DO,
                blocks=_course_blocks(course.gates, not course.current),
            )
        )
    rows = _vetting_rows(session, [staff_id])[staff_id]
    summary = _summary(rows, on)
    for level, expires in [*summary.expired, *summary.expiring_within(on, within_days)]:
        lapsed = expires < on
        # What is left once this level has gone: another level in force then still counts for disclosures.
        after = expires + timedelta(days=1) if not lapsed else on
        others = sorted(levels_in_force(rows, after) - {level})
        if others:
            blocks = (
                f"Your {' and '.join(others)} vetting still counts for disclosures, but systems that need "
                f"{level} vetting may refuse your searches at the pre-access gate"
            )
        else:
            blocks = f"{_BLOCKS_DISCLOSURE}, and {_BLOCKS_SYSTEMS}"
        lead = "Until it is renewed " if lapsed else "Once it lapses "
        applied = level in summary.applied
        steps.append(
            NextStep(
                kind="vetting",
                key=level,
                title=f"{level} vetting",
                lapsed=lapsed,
                on=expires,
                to_do=VETTING_APPLIED if applied else VETTING_TO_DO,
                blocks=(blocks + "." if others else lead + blocks + "."),
                applied=applied,
            )
        )
    return sorted(steps, key=lambda s: (not s.lapsed, s.on or date.min, s.kind, s.key))


def _line_reports(session: Session, manager_id: str, on: date) -> list[Staff]:
    query = select(Staff).where(Staff.line_manager_id == manager_id, in_service(on)).order_by(Staff.staff_id)
    return list(session.scalars(query))


def has_line_reports(session: Session, manager_id: str, on: date) -> bool:
    query = select(Staff.staff_id).where(Staff.line_manager_id == manager_id, in_service(on)).limit(1)
    return session.execute(query).first() is not None


def line_report_counts(
    session: Session, manager_id: str, on: date, within_days: int = NEXT_STEP_DAYS
) -> PeopleCounts:
    """How many of the people one line-manages have training out of date or due within `within_days`, and
    vetting expired or expiring in that time. Counts only: not logged."""
    staff = _line_reports(session, manager_id, on)
    members = _members_training(session, staff, on, within_days)
    vetting = _vetting_rows(session, [s.staff_id for s in staff])
    summaries = [_summary(rows, on) for rows in vetting.values()]
    return PeopleCounts(
        people=len(staff),
        training_out_of_date=sum(1 for m in members if m.state == TrainingState.OUT_OF_DATE),
        training_due=sum(1 for m in members if m.state == TrainingState.DUE_SOON),
        vetting_expired=sum(1 for v in summaries if v.expired),
        vetting_due=sum(1 for v in summaries if not v.expired and v.expiring_within(on, within_days)),
    )


def line_report_training(
    session: Session, manager_id: str, on: date, within_days: int, *, actor: str
) -> list[MemberTraining]:
    """The people one line-manages (in service on `on`) and their mandatory training, worst first. Names are
    shown: a consultation."""
    members = _members_training(session, _line_reports(session, manager_id, on), on, within_days)
    if members:
        ledger.record_consultation(
            session,
            actor=actor,
            object_type="training_team",
            object_id=f"line-reports:{manager_id}",
            subjects=tuple(m.staff_id for m in members),
            justification="training compliance: the people I line-manage",
        )
    return sorted(members, key=lambda m: (_STATE_ORDER[m.state], m.name))


def visible_vetting(
    session: Session, viewer: Principal, staff_ids: Sequence[str], on: date
) -> dict[str, VettingSummary]:
    """The vetting of those of `staff_ids` the viewer may see beside their training: everyone's with
    VETTING_VIEW, otherwise only the people the viewer line-manages (a line manager sees their own people's
    vetting levels and expiry dates, not anyone else's). Shown against names: a consultation."""
    wanted = list(dict.fromkeys(staff_ids))
    if not viewer.can(Permission.VETTING_VIEW):
        managed: set[str] = set()
        for start in range(0, len(wanted), _CHUNK):
            query = select(Staff.staff_id).where(
                Staff.staff_id.in_(wanted[start : start + _CHUNK]), Staff.line_manager_id == viewer.staff_id
            )
            managed.update(session.scalars(query))
        wanted = [staff_id for staff_id in wanted if staff_id in managed]
    if not wanted:
        return {}
    found = {staff_id: _summary(rows, on) for staff_id, rows in _vetting_rows(session, wanted).items()}
    ledger.record_consultation(
        session,
        actor=viewer.actor,
        object_type="vetting_team",
        object_id=None,
        subjects=tuple(wanted),
        justification="vetting beside training: team list",
    )
    return found


def records_last_changed(session: Session) -> dict[str, datetime | None]:
    """When an import last added or changed a training completion, and a vetting record (each row's own
    created/updated time; an import that changed nothing leaves no trace). Not personal data."""
    found: dict[str, datetime | None] = {}
    for name, model in (("training", TrainingCompletion), ("vetting", Vetting)):
        created, updated = session.execute(
            select(func.max(model.created_at), func.max(model.updated_at))
        ).one()
        stamps = [stamp for stamp in (created, updated) if stamp is not None]
        found[name] = max(stamps) if stamps else None
    return found


def _record_declaration_step(
    session: Session, principal: Principal, op: Op, row: Declaration, detail: dict[str, Any]
) -> None:
    """A step in a declaration's life, as a ledger entry about its declarer and the person it names."""
    ledger.record(
        session,
        EntryDraft(
            actor=principal.actor,
            op=op,
            object_type="declaration",
            object_id=row.declaration_id,
            subjects=tuple(s for s in (row.staff_id, row.subject_id) if s),
            detail=detail,
        ),
    )
