"""Monitoring rules. This issue: the reference registers (nominals, cases, rosters) and nominal look-ups."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from custodes.kit.tabular import BatchRejected, RowProblem, RowReader, SourceRow, normalise_postcode
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryDraft, Op
from custodes.monitoring.models import Case, CaseStaff, CaseSubject, Nominal, RosterPeriod
from custodes.monitoring.schemas import STAFF_FLAG_PREFIX, NominalFlag, NominalIdentity, NominalView
from custodes.registers import ImportSummary, store_register
from custodes.workforce import service as workforce

SUBJECT_ID_PATTERN = workforce.RECORD_ID_PATTERN
_CHUNK = 5000


def _cells(rows: Sequence[SourceRow], column: str) -> set[str]:
    """Every id named in a column of the rows (lists split), for looking references up in one go."""
    return {item.strip() for row in rows for item in row.values.get(column, "").split(";") if item.strip()}


def _existing_subjects(session: Session, candidates: Iterable[str]) -> set[str]:
    wanted = sorted(set(candidates))
    found: set[str] = set()
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        found.update(session.scalars(select(Nominal.subject_id).where(Nominal.subject_id.in_(chunk))))
    return found


# --------------------------------------------------------------------------- nominals


def parse_nominal_rows(rows: Sequence[SourceRow], known_staff: set[str]) -> list[dict[str, Any]]:
    """Validate nominal rows. `flags`: `public_figure`, `protected`, at most one `staff:<staff_id>` naming
    someone in the staff register; lat and lon both or neither; `address` optional free text."""
    problems: list[RowProblem] = []
    records: list[dict[str, Any]] = []
    allowed = ", ".join([*(f.value for f in NominalFlag), f"{STAFF_FLAG_PREFIX}<staff_id>"])
    for row in rows:
        cells = RowReader(row)
        flags = cells.items("flags")
        staff_ids = [
            flag.removeprefix(STAFF_FLAG_PREFIX) for flag in flags if flag.startswith(STAFF_FLAG_PREFIX)
        ]
        for flag in flags:
            if flag not in NominalFlag.__members__.values() and not flag.startswith(STAFF_FLAG_PREFIX):
                cells.problem("flags", f"{flag!r} is not one of: {allowed}")
        if len(set(staff_ids)) > 1:
            cells.problem("flags", "a person can be only one member of staff (more than one staff: flag)")
        for staff_id in staff_ids:
            if not staff_id:
                cells.problem("flags", "staff: needs a staff id (staff:<staff_id>)")
            elif staff_id not in known_staff:
                cells.problem("flags", f"{staff_id} is not in the staff register")
        before = len(cells.problems)
        lat = cells.number("lat", low=-90, high=90)
        lon = cells.number("lon", low=-180, high=180)
        if (lat is None) != (lon is None) and len(cells.problems) == before:
            cells.problem("lat" if lat is None else "lon", "give both lat and lon, or neither")
        surname = cells.text("surname", required=True, max_length=100)
        forenames = cells.text("forenames", required=True, max_length=100)
        records.append(
            {
                "subject_id": cells.text("subject_id", required=True, pattern=SUBJECT_ID_PATTERN),
                "surname": surname,
                "forenames": forenames,
                "surname_key": workforce.normalise_name(surname),
                "forenames_key": workforce.normalise_name(forenames),
                "date_of_birth": cells.date("date_of_birth"),
                "postcode": cells.postcode("postcode"),
                "lat": lat,
                "lon": lon,
                "address": cells.text("address", max_length=500),
                "flags": ";".join(sorted(set(flags))),
                "public_figure": NominalFlag.PUBLIC_FIGURE in flags,
                "protected": NominalFlag.PROTECTED in flags,
                "staff_id": staff_ids[0] if staff_ids else None,
            }
        )
        problems += cells.problems
    problems += workforce.duplicate_keys(rows, [r["subject_id"] for r in records], "subject_id")
    if problems:
        raise BatchRejected(problems)
    return records


def _nominal_subjects(record: Mapping[str, Any]) -> tuple[str, ...]:
    staff_id = record["staff_id"]
    return (record["subject_id"], staff_id) if staff_id else (record["subject_id"],)


def import_nominals(session: Session, rows: Sequence[SourceRow], actor: str) -> ImportSummary:
    """Store nominals; the key is `subject_id`. A staff:<id> flag must name someone already in the staff
    register; the entry then names both ids (the same person)."""
    flagged = {flag.removeprefix(STAFF_FLAG_PREFIX) for flag in _cells(rows, "flags")}
    records = parse_nominal_rows(rows, workforce.existing_staff_ids(session, flagged))
    return store_register(
        session, Nominal, records, kind="nominal", key="subject_id", actor=actor, subjects=_nominal_subjects
    )


# --------------------------------------------------------------------------- cases


def parse_case_rows(
    rows: Sequence[SourceRow], known_staff: set[str], known_subjects: set[str]
) -> list[dict[str, Any]]:
    """Validate case rows: `assigned_staff` in the staff register, `subject_ids` in the nominal register,
    `closed_at` empty while open and not before `opened_at`."""
    problems: list[RowProblem] = []
    records: list[dict[str, Any]] = []
    for row in rows:
        cells = RowReader(row)
        opened_at = cells.moment("opened_at", required=True)
        closed_at = cells.moment("closed_at")
        if opened_at and closed_at and closed_at < opened_at:
            cells.problem("closed_at", "is before opened_at")
        staff = cells.items("assigned_staff")
        subjects = cells.items("subject_ids")
        for staff_id in dict.fromkeys(staff):
            if staff_id not in known_staff:
                cells.problem("assigned_staff", f"{staff_id} is not in the staff register")
        for subject_id in dict.fromkeys(subjects):
            if subject_id not in known_subjects:
                cells.problem("subject_ids", f"{subject_id} is not in the nominal register")
        records.append(
            {
                "case_ref": cells.text("case_ref", required=True, pattern=SUBJECT_ID_PATTERN),
                "kind": cells.text("kind", required=True, max_length=40),
                "opened_at": opened_at,
                "closed_at": closed_at,
                "team_id": cells.text("team_id", max_length=32),
                "assigned_staff": ";".join(sorted(set(staff))),
                "subject_ids": ";".join(sorted(set(subjects))),
            }
        )
        problems += cells.problems
    problems += workforce.duplicate_keys(rows, [r["case_ref"] for r in records], "case_ref")
    if problems:
        raise BatchRejected(problems)
    return records


def _case_subjects(record: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(item for item in record["subject_ids"].split(";") if item)


def import_cases(session: Session, rows: Sequence[SourceRow], actor: str) -> ImportSummary:
    """Store cases; the key is `case_ref`. Staff and nominals must already be stored. The entry names the
    case's subjects; the link tables are rewritten for every case in the batch."""
    staff = workforce.existing_staff_ids(session, _cells(rows, "assigned_staff"))
    subjects = _existing_subjects(session, _cells(rows, "subject_ids"))
    records = parse_case_rows(rows, staff, subjects)
    summary = store_register(
        session, Case, records, kind="case", key="case_ref", actor=actor, subjects=_case_subjects
    )
    refs = [record["case_ref"] for record in records]
    for start in range(0, len(refs), _CHUNK):
        chunk = refs[start : start + _CHUNK]
        session.execute(delete(CaseStaff).where(CaseStaff.case_ref.in_(chunk)))
        session.execute(delete(CaseSubject).where(CaseSubject.case_ref.in_(chunk)))
    session.add_all(
        CaseStaff(case_ref=r["case_ref"], staff_id=s)
        for r in records
        for s in r["assigned_staff"].split(";")
        if s
    )
    session.add_all(
        CaseSubject(case_ref=r["case_ref"], subject_id=s)
        for r in records
        for s in r["subject_ids"].split(";")
        if s
    )
    session.flush()
    return summary


# --------------------------------------------------------------------------- rosters


def roster_key(staff_id: str, start: Any) -> str:
    return f"{staff_id}@{start.astimezone(UTC).isoformat()}"


def parse_roster_rows(rows: Sequence[SourceRow], known_staff: set[str]) -> list[dict[str, Any]]:
    """Validate roster rows: staff in the register, `end` after `start` (both times with offset)."""
    problems: list[RowProblem] = []
    records: list[dict[str, Any]] = []
    for row in rows:
        cells = RowReader(row)
        staff_id = cells.text("staff_id", required=True, pattern=workforce.STAFF_ID_PATTERN)
        start = cells.moment("start", required=True)
        end = cells.moment("end", required=True)
        if start and end and end <= start:
            cells.problem("end", "is not after start")
        if staff_id and staff_id not in known_staff:
            cells.problem("staff_id", f"{staff_id} is not in the staff register")
        records.append(
            {
                "roster_key": roster_key(staff_id, start) if staff_id and start else None,
                "staff_id": staff_id,
                "starts_at": start,
                "ends_at": end,
            }
        )
        problems += cells.problems
    problems += workforce.duplicate_keys(
        rows, [r["roster_key"] for r in records], "start", "this staff_id and start"
    )
    if problems:
        raise BatchRejected(problems)
    return records


def import_rosters(session: Session, rows: Sequence[SourceRow], actor: str) -> ImportSummary:
    """Store rostered duty periods. The key is (staff_id, start): re-importing a period with a new end is an
    alteration; a period with a new start is a new period (the old one is left as it was)."""
    staff = workforce.existing_staff_ids(session, _cells(rows, "staff_id"))
    records = parse_roster_rows(rows, staff)
    return store_register(
        session,
        RosterPeriod,
        records,
        kind="roster",
        key="roster_key",
        actor=actor,
        subjects=lambda record: (record["staff_id"],),
    )


# --------------------------------------------------------------------------- look-ups


def _view(nominal: Nominal) -> NominalView:
    return NominalView(
        subject_id=nominal.subject_id,
        surname=nominal.surname,
        forenames=nominal.forenames,
        date_of_birth=nominal.date_of_birth,
        postcode=nominal.postcode,
        address=nominal.address,
        flags=frozenset(flag for flag in nominal.flags.split(";") if flag),
        protected=nominal.protected,
        staff_id=nominal.staff_id,
    )


def get_nominal(session: Session, subject_id: str) -> NominalView | None:
    """A nominal for rule checking (not shown to anyone), so nothing is logged; screens use `view_nominal`."""
    nominal = session.get(Nominal, subject_id)
    return None if nominal is None else _view(nominal)


def nominal_identities(session: Session, subject_ids: Iterable[str]) -> dict[str, NominalIdentity]:
    """Name, date of birth, postcode and staff link of these nominals, by subject id (ids not in the
    register are left out). For rule checking, so not logged. One query on the key for the few columns
    the gate needs, for a whole batch of decisions: loading each through the ORM (`get_nominal`) was
    measured at 0.6 ms a decision."""
    wanted = set(subject_ids)
    if not wanted:
        return {}
    columns = (
        Nominal.subject_id,
        Nominal.surname,
        Nominal.forenames,
        Nominal.date_of_birth,
        Nominal.postcode,
        Nominal.staff_id,
    )
    query = select(*columns).where(Nominal.subject_id.in_(wanted))
    return {row[0]: NominalIdentity(*row) for row in session.execute(query)}


def view_nominal(session: Session, subject_id: str, *, actor: str, justification: str) -> NominalView | None:
    """A nominal for a screen. Showing it is a consultation, so it is logged with its justification."""
    nominal = get_nominal(session, subject_id)
    if nominal is None:
        return None
    ledger.record(
        session,
        EntryDraft(
            actor=actor,
            op=Op.CONSULTATION,
            object_type="nominal",
            object_id=subject_id,
            subjects=(subject_id,),
            justification=justification,
        ),
    )
    return nominal


def protected_nominals(session: Session) -> list[NominalView]:
    """Every nominal flagged `protected`, by subject id. Not logged (rule checking)."""
    query = select(Nominal).where(Nominal.protected.is_(True)).order_by(Nominal.subject_id)
    return [_view(nominal) for nominal in session.scalars(query)]


def find_nominals(
    session: Session,
    surname: str,
    forenames: str,
    date_of_birth: date | None = None,
    postcode: str | None = None,
) -> list[NominalView]:
    """Nominals with this surname and forenames (trimmed, spaces collapsed, any case) and, where given, this
    date of birth and this postcode (normalised), by subject id. Not logged (rule checking)."""
    query = select(Nominal).where(
        Nominal.surname_key == workforce.normalise_name(surname),
        Nominal.forenames_key == workforce.normalise_name(forenames),
    )
    if date_of_birth is not None:
        query = query.where(Nominal.date_of_birth == date_of_birth)
    if postcode:
        query = query.where(Nominal.postcode == (normalise_postcode(postcode) or postcode.strip().upper()))
    return [_view(nominal) for nominal in session.scalars(query.order_by(Nominal.subject_id))]
