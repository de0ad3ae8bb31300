"""Workforce rules: the staff register, training, vetting and declarations, and the checks built on them."""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from custodes.identity import service as identity
from custodes.identity.permissions import Role
from custodes.kit.db import utcnow
from custodes.kit.tabular import BatchRejected, RowProblem, RowReader, SourceRow, normalise_postcode
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryDraft, Op
from custodes.registers import changed_fields, store_register
from custodes.workforce.models import Course, Declaration, Staff, TrainingCompletion, Vetting
from custodes.workforce.schemas import (
    PERSON_DECLARATIONS,
    UNDECIDED_VETTING,
    CourseGate,
    DeclarationKind,
    DeclarationView,
    DiscloserReadiness,
    ImportSummary,
    Relationship,
    StaffRecord,
    StaffView,
    SubjectRef,
    TrainingStatus,
    VettingStatus,
    VettingView,
)

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
            changes = changed_fields(staff, values)
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


# --------------------------------------------------------------------------- shared helpers

_CHUNK = 5000
CODE_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}"
RECORD_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.:/-]{0,63}"
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
    seen: dict[str, int] = {}
    problems = []
    for row, key in zip(rows, keys, strict=True):
        if key is None:
            continue
        if key in seen:
            problems.append(
                RowProblem(row.file, row.line, column, f"{what or key} already appears on line {seen[key]}")
            )
        else:
            seen[key] = row.line
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
        months = cells.text("validity_months", pattern=r"[0-9]{1,4}")
        if months is not None and int(months) == 0:
            cells.problem(
                "validity_months", "must be at least 1 (leave it empty for a course that never expires)"
            )
        records.append(
            {
                "course_code": cells.text("course_code", required=True, pattern=CODE_PATTERN),
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
    for row in rows:
        cells = RowReader(row)
        record: dict[str, Any] = {
            "staff_id": cells.text("staff_id", required=True, pattern=STAFF_ID_PATTERN),
            "course_code": cells.text("course_code", required=True, pattern=CODE_PATTERN),
            "completed_on": cells.date("completed_on", required=True),
        }
        complete = all(record.values())
        record["training_key"] = training_key(**record) if complete else None
        records.append(record)
        problems += cells.problems
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
        staff_id = cells.text("staff_id", required=True, pattern=STAFF_ID_PATTERN)
        level = cells.text("level", required=True, max_length=16, pattern=r"[A-Za-z0-9][A-Za-z0-9 _-]{0,15}")
        status = cells.choice("status", [s.value for s in VettingStatus], required=True)
        decided_on = cells.date("decided_on")
        expires_on = cells.date("expires_on")
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
    need them), and re-importing one with a new status or expiry (e.g. granted → lapsed) is an alteration.
    An undecided application is keyed (staff_id, level, pending); when a decision for the same staff and
    level arrives and the batch does not also carry a pending row, the application becomes that decision
    (its key is renamed, recorded as an alteration of the pending record, then its fields altered)."""
    staff = existing_staff_ids(session, (row.values.get("staff_id", "") for row in rows))
    records = parse_vetting_rows(rows, staff)
    _promote_pending_vetting(session, records, actor)
    return store_register(
        session, Vetting, records, kind="vetting", key="vetting_key", actor=actor, subjects=_staff_subject
    )


def _promote_pending_vetting(session: Session, records: Sequence[dict[str, Any]], actor: str) -> None:
    keys = {record["vetting_key"] for record in records}
    decided = [r for r in records if r["decided_on"] is not None]
    wanted = {vetting_key(r["staff_id"], r["level"], None) for r in decided} - keys
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
        old = vetting_key(record["staff_id"], record["level"], None)
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


def parse_declaration_rows(rows: Sequence[SourceRow], known_staff: set[str]) -> list[dict[str, Any]]:
    """Validate declaration rows. Empty `kind` means conflict_of_interest. A conflict or association must
    name its person (subject_id, or surname and forenames) and the relationship; the other kinds may."""
    problems: list[RowProblem] = []
    records: list[dict[str, Any]] = []
    for row in rows:
        cells = RowReader(row)
        kind = cells.choice("kind", [k.value for k in DeclarationKind]) or (
            None if row.values.get("kind") else DeclarationKind.CONFLICT_OF_INTEREST.value
        )
        record: dict[str, Any] = {
            "declaration_id": cells.text("declaration_id", required=True, pattern=RECORD_ID_PATTERN),
            "staff_id": cells.text("staff_id", required=True, pattern=STAFF_ID_PATTERN),
            "kind": kind,
            "subject_id": cells.text("subject_id", pattern=RECORD_ID_PATTERN),
            "surname": cells.text("surname", max_length=100),
            "forenames": cells.text("forenames", max_length=100),
            "date_of_birth": cells.date("date_of_birth"),
            "postcode": cells.postcode("postcode"),
            "relationship": cells.choice("relationship", [r.value for r in Relationship]),
            "declared_at": time_or_date(cells, "declared_at", required=True),
        }
        if kind in PERSON_DECLARATIONS:
            named = row.values.get("surname") and row.values.get("forenames")
            if not row.values.get("subject_id") and not named:
                column = "surname" if not row.values.get("surname") else "forenames"
                cells.problem(column, "give subject_id, or surname and forenames, of the person declared")
            if not row.values.get("relationship"):
                cells.problem("relationship", f"is required for a {kind}")
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
    query = select(Vetting.vetting_key).where(
        Vetting.staff_id == staff_id,
        Vetting.status == VettingStatus.GRANTED.value,
        or_(Vetting.decided_on.is_(None), Vetting.decided_on <= on),
        or_(Vetting.expires_on.is_(None), Vetting.expires_on >= on),
    )
    return session.scalars(query.limit(1)).first() is not None


def normalise_name(value: str | None) -> str:
    """For matching: trimmed, inner spaces collapsed, case-folded."""
    return " ".join((value or "").split()).casefold()


def _same_postcode(first: str | None, second: str | None) -> bool:
    if not first or not second:
        return False
    return (normalise_postcode(first) or normalise_name(first)) == (
        normalise_postcode(second) or normalise_name(second)
    )


def _complete_subject(session: Session, subject: SubjectRef) -> SubjectRef:
    """Fill a subject named only by id from the nominal register, so name-based declarations match too."""
    if not subject.subject_id or (
        subject.surname and subject.forenames and (subject.date_of_birth or subject.postcode)
    ):
        return subject
    from custodes.monitoring import service as monitoring  # monitoring's service uses this module

    nominal = monitoring.get_nominal(session, subject.subject_id)
    if nominal is None:
        return subject
    return SubjectRef(
        subject_id=subject.subject_id,
        surname=subject.surname or nominal.surname,
        forenames=subject.forenames or nominal.forenames,
        date_of_birth=subject.date_of_birth or nominal.date_of_birth,
        postcode=subject.postcode or nominal.postcode,
    )


def declaration_matches(declaration: Declaration, subject: SubjectRef) -> bool:
    """By subject id; or by surname and forenames (trimmed, any case) and the date of birth or postcode.

    Name matching applies even when both sides carry different ids: police systems hold duplicate
    records of one person, and a missed conflict is worse than a referral.
    """
    if declaration.subject_id and declaration.subject_id == subject.subject_id:
        return True
    if not (declaration.surname and declaration.forenames and subject.surname and subject.forenames):
        return False
    if normalise_name(declaration.surname) != normalise_name(subject.surname):
        return False
    if normalise_name(declaration.forenames) != normalise_name(subject.forenames):
        return False
    same_birth = declaration.date_of_birth is not None and declaration.date_of_birth == subject.date_of_birth
    return same_birth or _same_postcode(declaration.postcode, subject.postcode)


def declared_conflicts(session: Session, staff_id: str, subject: SubjectRef) -> list[DeclarationView]:
    """The member of staff's conflict-of-interest and reportable-association declarations that match the
    subject (see `declaration_matches`), oldest first. A subject given only by id is completed from the
    nominal register (monitoring) so that declarations made by name still match. Nothing is logged."""
    subject = _complete_subject(session, subject)
    query = (
        select(Declaration)
        .where(Declaration.staff_id == staff_id, Declaration.kind.in_([k.value for k in PERSON_DECLARATIONS]))
        .order_by(Declaration.declared_at, Declaration.declaration_id)
    )
    return [_declaration_view(d) for d in session.scalars(query) if declaration_matches(d, subject)]


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
