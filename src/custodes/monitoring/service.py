"""Monitoring rules: the reference registers (nominals, cases, rosters), access-log ingest, the detector runs
and their alerts, explanations and proofs. Triage and investigations are in casework.py."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import ByteSize, TypeAdapter
from sqlalchemy import Text, delete, func, insert, select, text
from sqlalchemy import cast as sa_cast
from sqlalchemy import event as sa_event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from custodes.identity import service as identity
from custodes.kit.canonical import canonical_json
from custodes.kit.db import UTCDateTime, utcnow
from custodes.kit.names import fold_match_keys, match_keys, other_match_keys
from custodes.kit.tabular import BatchRejected, RowProblem, RowReader, SourceRow, normalise_postcode
from custodes.kit.timefmt import rfc3339
from custodes.kit.words import plural
from custodes.ledger import merkle, note
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryDraft, EntryFilter, Op
from custodes.monitoring import alerts as alert_rules
from custodes.monitoring import detectors, events
from custodes.monitoring.alerts import AlertDraft
from custodes.monitoring.models import (
    AccessBatch,
    AccessIngest,
    Alert,
    AlertEvent,
    Case,
    CaseStaff,
    CaseSubject,
    MonitorRun,
    Nominal,
    QuarantinedRow,
    RosterPeriod,
)
from custodes.monitoring.schemas import (
    EVENT_COLUMNS,
    STAFF_FLAG_PREFIX,
    AlertStatus,
    NominalFlag,
    NominalIdentity,
    NominalView,
    Rule,
)
from custodes.registers import ImportSummary, session_digest_key, store_register, value_digest
from custodes.settings import Settings
from custodes.workforce import service as workforce

SUBJECT_ID_PATTERN = workforce.RECORD_ID_PATTERN
SUBJECT_ID_FORM = workforce.RECORD_ID_FORM
CASE_REF_FORM = (
    "a case reference such as C1001 (up to 64 letters, digits, _ . : / or -, starting with a letter or digit)"
)
_MATCH_COLUMNS = ("match_surname", "match_forename", "match_joined")
_OTHER_MATCH_COLUMNS = ("match_surname_other", "match_forename_other", "match_joined_other")
_FOLD_MATCH_COLUMNS = ("match_surname_fold", "match_forename_fold", "match_joined_fold")
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
                "subject_id": cells.text(
                    "subject_id", required=True, pattern=SUBJECT_ID_PATTERN, form=SUBJECT_ID_FORM
                ),
                "surname": surname,
                "forenames": forenames,
                "surname_key": workforce.normalise_name(surname),
                "forenames_key": workforce.normalise_name(forenames),
                **dict(zip(_MATCH_COLUMNS, match_keys(surname, forenames), strict=True)),
                **dict(zip(_OTHER_MATCH_COLUMNS, other_match_keys(surname, forenames), strict=True)),
                **dict(zip(_FOLD_MATCH_COLUMNS, fold_match_keys(surname, forenames), strict=True)),
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
                "case_ref": cells.text(
                    "case_ref", required=True, pattern=SUBJECT_ID_PATTERN, form=CASE_REF_FORM
                ),
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
        staff_id = cells.text(
            "staff_id", required=True, pattern=workforce.STAFF_ID_PATTERN, form=workforce.STAFF_ID_FORM
        )
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


def nominal_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Nominal)) or 0


def nominal_identities(session: Session, subject_ids: Iterable[str] | None) -> dict[str, NominalIdentity]:
    """Name, date of birth, postcode and staff link of these nominals (all of them if `subject_ids` is
    None), by subject id (ids not in the register are left out). For rule checking, so not logged. One
    query on the key for the few columns the gate needs, for a whole batch of decisions: loading each
    through the ORM (`get_nominal`) was measured at 0.6 ms a decision."""
    wanted = None if subject_ids is None else set(subject_ids)
    if wanted is not None and not wanted:
        return {}
    columns = (
        Nominal.subject_id,
        Nominal.surname,
        Nominal.forenames,
        Nominal.date_of_birth,
        Nominal.postcode,
        Nominal.staff_id,
    )
    query = select(*columns)
    if wanted is not None:
        query = query.where(Nominal.subject_id.in_(wanted))
    return {row[0]: NominalIdentity(*row) for row in session.execute(query)}


NAME_LOOKUP_BATCH = 500  # subject ids asked for in one query by nominal_names


def nominal_names(session: Session, subject_ids: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
    """The name, as (surname, forenames), of each of these nominals that the register holds, by subject id:
    what a subject access report looks for to withhold a text naming another person (ledger.web's
    `add_name_lookup`). Not logged: the names are looked for, never shown. In batches of NAME_LOOKUP_BATCH
    ids (an export's entries may name many thousands of people)."""
    wanted = sorted(set(subject_ids))
    found: dict[str, list[tuple[str, str]]] = {}
    for start in range(0, len(wanted), NAME_LOOKUP_BATCH):
        batch = wanted[start : start + NAME_LOOKUP_BATCH]
        query = select(Nominal.subject_id, Nominal.surname, Nominal.forenames)
        for subject_id, surname, forenames in session.execute(query.where(Nominal.subject_id.in_(batch))):
            found[subject_id] = [(surname, forenames)]
    return found


def view_nominal(session: Session, subject_id: str, *, actor: str, justification: str) -> NominalView | None:
    """A nominal for a screen. Showing it is a consultation, so it is logged with its justification."""
    nominal = get_nominal(session, subject_id)
    if nominal is None:
        return None
    ledger.record_consultation(
        session,
        actor=actor,
        object_type="nominal",
        object_id=subject_id,
        subjects=(subject_id,),
        justification=justification,
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


NOMINAL_SEARCH_LIMIT = 20  # people shown by one search for a person by name


class NominalSearchRefused(ValueError):
    """A search for a person by name that is not run: `problems` gives each field's message (naming the
    field and the rule)."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__(" ".join(problems.values()))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class NominalCandidates:
    """People a search by name found: at most `limit` of them, by name; `more` if others match too."""

    people: tuple[NominalView, ...]
    more: bool


def search_nominals(
    session: Session,
    surname: str,
    forenames: str = "",
    date_of_birth: date | None = None,
    *,
    actor: str,
    reason: str,
    purpose: str,
    limit: int = NOMINAL_SEARCH_LIMIT,
) -> NominalCandidates:
    """People in the nominal register whose surname begins with `surname` and, where given, whose forenames
    begin with `forenames` and who were born on `date_of_birth` (names trimmed, spaces collapsed, any case),
    by surname, forenames and date of birth; at most `limit`, and whether more match.

    A search for a person is a consultation, as a ledger search by person is: it needs a reason
    (NominalSearchRefused otherwise) and records a `consultation` (object `nominal_search`) naming every
    person shown, with the reason as justification and `purpose` (what the search is for) in the detail.
    What was typed is personal data, so the entry holds keyed digests of it (registers.value_digest), not
    the words: whoever holds the installation's key and a name can confirm it was the one searched for.
    """
    surname_key, forenames_key = workforce.normalise_name(surname), workforce.normalise_name(forenames)
    problems = {}
    if len(surname_key) < 2:
        problems["surname"] = "Surname: give at least the first two letters of the person's surname."
    if not (reason or "").strip():
        problems["reason"] = (
            "Reason for this search: give the reason (a case reference or the request you are answering)."
        )
    if problems:
        raise NominalSearchRefused(problems)
    query = select(Nominal).where(Nominal.surname_key.startswith(surname_key, autoescape=True))
    if forenames_key:
        query = query.where(Nominal.forenames_key.startswith(forenames_key, autoescape=True))
    if date_of_birth is not None:
        query = query.where(Nominal.date_of_birth == date_of_birth)
    query = query.order_by(
        Nominal.surname_key, Nominal.forenames_key, Nominal.date_of_birth, Nominal.subject_id
    ).limit(limit + 1)
    found = [_view(nominal) for nominal in session.scalars(query)]
    people = tuple(found[:limit])
    key = session_digest_key(session)
    typed = {"surname": surname_key, "forenames": forenames_key, "date_of_birth": date_of_birth}
    criteria = {
        name: (value_digest(key, "nominal_search", actor, name, value) if key else "not recorded: no key")
        for name, value in typed.items()
        if value
    }
    ledger.record_consultation(
        session,
        actor=actor,
        object_type="nominal_search",
        subjects=tuple(person.subject_id for person in people),
        justification=reason.strip(),
        detail={
            "purpose": purpose,
            "criteria_hmac": criteria,
            "shown": len(people),
            "more": len(found) > limit,
        },
    )
    return NominalCandidates(people, more=len(found) > limit)


# --------------------------------------------------------------------------- access logs: ingest


@dataclass(frozen=True, slots=True)
class IngestSummary:
    ingest_id: str
    received: int
    stored: int
    duplicates: int  # already stored, or repeated in this ingest: ignored
    quarantined: int
    batches: int  # ledger entries written
    problems: tuple[RowProblem, ...]  # every quarantined row's problems, by file and line
    ignored_columns: tuple[str, ...]

    def __str__(self) -> str:
        return (
            f"{self.received:,} events read: {self.stored:,} stored, {self.duplicates:,} duplicates ignored, "
            f"{self.quarantined:,} quarantined"
        )


def event_store(settings: Settings) -> events.EventStore:
    return events.EventStore(settings.resolved_monitoring_dir)


def _duckdb(settings: Settings) -> duckdb.DuckDBPyConnection:
    """DuckDB for ingests, runs and look-ups: within `monitoring_memory_limit`, spilling into the store at
    most `monitoring_spill_limit` and half the disk's free space (the database may share the disk)."""
    spill_dir = event_store(settings).spill_dir
    spill_dir.mkdir(parents=True, exist_ok=True)
    allowed = TypeAdapter(ByteSize).validate_python(settings.monitoring_spill_limit)
    spill_limit = min(int(allowed), shutil.disk_usage(spill_dir).free // 2)
    return events.connect(
        memory_limit=settings.monitoring_memory_limit, spill_dir=spill_dir, spill_limit=spill_limit
    )


class CapacityError(RuntimeError):
    """An ingest or detector run needed more memory and spill space than the settings allow."""


@contextmanager
def _within_capacity(settings: Settings, advice: str) -> Iterator[None]:
    """DuckDB's out-of-memory error (memory and spill both used up) in words an operator can act on."""
    try:
        yield
    except duckdb.OutOfMemoryException as error:
        raise CapacityError(
            f"This needed more than the {settings.monitoring_memory_limit} of memory "
            f"(CUSTODES_MONITORING_MEMORY_LIMIT) and the disk it may spill to "
            f"(CUSTODES_MONITORING_SPILL_LIMIT, {settings.monitoring_spill_limit}, and never over half "
            f"the free space). "
            f"{advice} Nothing was recorded."
        ) from error


def recover(session: Session, store: events.EventStore) -> None:
    """Finish what a crash interrupted: a staged ingest whose commit happened is published, any other is
    discarded (its rows were never acknowledged). An ingest still in progress — in this transaction or
    another, in this process or another — holds its claim and is left alone."""
    for ingest_id in store.staged_ingests():
        claim = store.claim(ingest_id)
        if claim is None:
            continue
        if session.get(AccessIngest, ingest_id) is not None and ingest_id not in session.info.get(_MINE, ()):
            claim.publish()
        else:
            claim.discard()


_MINE = "custodes.monitoring.ingests"  # session.info: this session's own (uncommitted) ingests
_STORE_LOCK = "custodes.monitoring.store_lock"  # session.info: the store's ingest lock, while held
_INGEST_WAIT_SECONDS = 60.0


class DecidedMeanwhile(RuntimeError):
    """An alert the detectors would continue was dismissed or closed while they ran: run them again."""


class StoreBusy(RuntimeError):
    """Another ingest held the event store for longer than an ingest waits."""


def _hold_ingest_lock(session: Session, store: events.EventStore) -> None:
    """Take the store's ingest lock for the rest of this transaction (once: a transaction may ingest
    several times); it is released when the transaction ends, after its files are published."""
    if _STORE_LOCK in session.info:
        return
    handle = store.lock_for_ingest(_INGEST_WAIT_SECONDS)
    if handle is None:
        raise StoreBusy(
            "Another ingest is still storing access events; this one waited a minute. Try again when it "
            "has finished."
        )
    session.info[_STORE_LOCK] = handle

    def release(_session: Session, transaction: Any) -> None:
        if transaction.parent is None and _STORE_LOCK in session.info:
            session.info.pop(_STORE_LOCK).close()

    sa_event.listen(session, "after_transaction_end", release)


def ingest_files(
    session: Session, settings: Settings, paths: Sequence[Path], actor: str, progress: Progress | None = None
) -> IngestSummary:
    """Read access logs (CSV, JSON Lines, Parquet) and store every good row; see `ingest`."""
    sources = []
    for path in paths:
        if progress:
            progress(f"Reading {path.name}", 0, len(paths))
        sources.append(events.read_source(path))
    return ingest(session, settings, sources, actor, progress)


def ingest(
    session: Session,
    settings: Settings,
    sources: Sequence[events.SourceFile],
    actor: str,
    progress: Progress | None = None,
) -> IngestSummary:
    """Store the good rows of these access logs, quarantine the malformed ones (named by file and line),
    ignore events already stored (by `event_id`), and write one `consultation` ledger entry per batch of up
    to 65,536 stored events, holding the Merkle tree head of their leaves. The files are published into the
    store when the transaction commits (events.py)."""
    store = event_store(settings)
    recover(session, store)
    _hold_ingest_lock(session, store)
    # Made under the store's lock, to the microsecond: ids (and so batch ids) sort in the order ingests
    # were acknowledged, which is how the detectors pick the copy of an event_id stored twice that counts.
    ingest_id = f"I{utcnow():%Y%m%d%H%M%S%f}{secrets.token_hex(3)}"
    claim = store.claim(ingest_id)
    assert claim is not None  # a new id: nobody else holds it
    earlier = tuple(session.info.get(_MINE, ()))  # this transaction's ingests, staged but not yet stored
    totals = _Totals()
    step = _Steps(progress, len(sources) + 1)
    many = sum(source.rows for source in sources) >= _HASH_IN_WORKERS_FROM
    hasher = events.TreeHasher((os.cpu_count() or 1) if many else 1)  # before DuckDB starts its threads
    salt_key = secrets.token_hex(16)  # for this ingest's salts only; never stored (see _number_new)
    con = _duckdb(settings)
    try:
        # A file at a time: memory stays bounded and the cost linear in events, however many are sent.
        for number, source in enumerate(sources):
            step(f"Storing {source.name}")
            with _within_capacity(
                settings,
                "Ingest fewer events at a time (smaller files, fewer a request), or allow more memory.",
            ):
                _ingest_one(con, store, (ingest_id, earlier), number, source, totals, hasher, salt_key)
        step("Recording the ingest")
        roots = hasher.roots()
        _record_ingest(
            session,
            ingest_id,
            actor,
            [source.name for source in sources],
            counts=(totals.received, totals.stored, totals.duplicates, len(totals.quarantined)),
            batches=[_Batch(*span, roots[span[0]]) for span in totals.batches],
            quarantined=totals.quarantined,
        )
    except BaseException:
        claim.discard()
        raise
    finally:
        con.close()
        hasher.close()
    _publish_on_commit(session, claim)
    problems = tuple(p for source in sources for p in source.file_problems) + tuple(
        RowProblem(row.source, row.line, *problem.partition(": ")[::2])
        for row in totals.quarantined
        for problem in row.problems.split("; ")
    )
    return IngestSummary(
        ingest_id=ingest_id,
        received=totals.received,
        stored=totals.stored,
        duplicates=totals.duplicates,
        quarantined=len(totals.quarantined),
        batches=len(totals.batches),
        problems=problems,
        ignored_columns=tuple(sorted({c for source in sources for c in source.ignored_columns})),
    )


Progress = Callable[[str, int, int], None]  # (what is happening, steps done, steps in all)
_HASH_IN_WORKERS_FROM = 4 * events.LEAVES_PER_BATCH  # events; fewer are hashed faster than workers start


class _Steps:
    def __init__(self, progress: Progress | None, total: int) -> None:
        self.progress, self.total, self.done = progress, total, 0

    def __call__(self, what: str) -> None:
        if self.progress:
            self.progress(what, self.done, self.total)
        self.done += 1


@dataclass(frozen=True, slots=True)
class _Quarantined:
    source: str
    line: int
    problems: str
    raw: str


@dataclass
class _Totals:
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    quarantined: list[_Quarantined] = field(default_factory=list)
    batches: list[_Span] = field(default_factory=list)


_Span = tuple[str, int, datetime, datetime]  # a batch: its id, how many accesses, the first and last times


@dataclass(frozen=True, slots=True)
class _Batch:
    batch_id: str
    events: int
    first_at: datetime
    last_at: datetime
    root: bytes


def _ingest_one(
    con: duckdb.DuckDBPyConnection,
    store: events.EventStore,
    ingests: tuple[str, tuple[str, ...]],
    number: int,
    source: events.SourceFile,
    totals: _Totals,
    hasher: events.TreeHasher,
    salt_key: str,
) -> None:
    """Check one file's rows, quarantine the bad, write the new ones under staging/ and hash their batches.
    `ingests`: this ingest's id, and the transaction's earlier ingests (their rows count as stored)."""
    ingest_id = ingests[0]
    totals.received += source.rows + len(source.problems)
    totals.quarantined += _check_source(con, source, number)
    stored, duplicates = _number_new(con, store, ingests, number, len(totals.batches), salt_key)
    totals.stored += stored
    totals.duplicates += duplicates
    if stored:
        totals.batches += _write_new(con, store, ingest_id, number, hasher)


def _check_source(
    con: duckdb.DuckDBPyConnection, source: events.SourceFile, number: int
) -> list[_Quarantined]:
    """Build `checked` (every row of the file with its problems, read once); return the quarantined rows,
    each with every problem found in it."""
    events.checked_rows(con, source, number).create_view(f"checked_{number}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE checked AS SELECT * FROM checked_{number}")
    quarantined = [
        _Quarantined(source.name, p.line, f"{p.column}: {p.problem}", source.raw_rows.get(p.line, "{}"))
        for p in source.problems
    ]
    cells = ", ".join(c for c in EVENT_COLUMNS if c != "occurred_at")
    bad = con.execute(
        f"SELECT line, problem, {cells}, occurred_text FROM checked WHERE problem IS NOT NULL ORDER BY line"
    )
    names = [d[0] for d in bad.description]
    for row in bad.fetchall():
        found = dict(zip(names, row, strict=True))
        raw = {c: found.get(c if c != "occurred_at" else "occurred_text") for c in EVENT_COLUMNS}
        quarantined.append(_Quarantined(source.name, found["line"], found["problem"], json.dumps(raw)))
    return sorted(quarantined, key=lambda row: row.line)


def _scalar(con: duckdb.DuckDBPyConnection, sql: str, parameters: Sequence[Any] = ()) -> int:
    # fetchall, not fetchone: DuckDB 2 leaves a result read with fetchone open, and the next file's
    # CREATE OR REPLACE of the tables it reads then fails (ResourceInUseException).
    rows = con.execute(sql, list(parameters)).fetchall()
    return int(rows[0][0]) if rows and rows[0][0] is not None else 0


def _number_new(
    con: duckdb.DuckDBPyConnection,
    store: events.EventStore,
    ingests: tuple[str, tuple[str, ...]],
    number: int,
    batches_before: int,
    salt_key: str,
) -> tuple[int, int]:
    """Build `numbered`: the good rows not already stored (nor staged earlier in this transaction), the
    first of each event_id, with their batch, leaf position, salt and day. Returns (stored, duplicates).

    Each salt is SHA-256 of `salt_key` (random, never stored) and the row's file and line, cut to 128 bits:
    a proof shows one access's salt, and DuckDB's `uuid()` comes from a generator whose state a few outputs
    give away, which would let the siblings' salts be predicted and their hashes brute-forced."""
    counted = con.execute(
        "SELECT count(*), count(DISTINCT event_id) FROM checked WHERE problem IS NULL"
    ).fetchall()
    good, unique = (int(counted[0][0]), int(counted[0][1])) if counted else (0, 0)
    first_only = (
        "" if good == unique else "QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY line) = 1"
    )
    days = [f"{day:%Y-%m-%d}" for (day,) in con.execute(
        "SELECT DISTINCT CAST(moment AS DATE) FROM checked WHERE problem IS NULL"
    ).fetchall()]  # fmt: skip
    ingest_id, earlier = ingests
    stored_globs = store.day_globs(days) + [
        glob for staged in (*earlier, ingest_id) for glob in store.staged_day_globs(staged, days)
    ]
    not_stored = (
        "AND NOT EXISTS (SELECT 1 FROM read_parquet($globs, hive_partitioning = false) s "
        "WHERE s.event_id = c.event_id)"
        if stored_globs
        else ""
    )
    per_batch = events.LEAVES_PER_BATCH
    text = ", ".join(c for c in EVENT_COLUMNS if c != "occurred_at")
    # A new table's rowids number its rows 0..n-1 in insertion order, so the batch and the leaf position
    # come from the rowid: `row_number() OVER ()` ran on one thread and was half of this step (profiled).
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE fresh AS
        SELECT {text}, moment AS occurred_at, epoch_us(moment) AS at_us,
               CAST(date_diff('day', DATE '1970-01-01', CAST(moment AS DATE)) AS INTEGER) AS day_num,
               left(sha256($salt_key || ':{number}:' || line), 32) AS salt,
               strftime(moment, '%Y-%m-%d') AS day
        FROM checked c WHERE problem IS NULL {not_stored} {first_only}
        """,
        {"salt_key": salt_key, **({"globs": stored_globs} if stored_globs else {})},
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP VIEW numbered AS
        SELECT *, '{ingest_id}-' || lpad(CAST({batches_before} + rowid // {per_batch} AS VARCHAR), 5, '0')
                   AS batch_id,
               CAST(rowid % {per_batch} AS INTEGER) AS leaf
        FROM fresh
        """
    )
    stored = _scalar(con, "SELECT count(*) FROM fresh")
    return stored, good - stored


def _write_new(
    con: duckdb.DuckDBPyConnection,
    store: events.EventStore,
    ingest_id: str,
    number: int,
    hasher: events.TreeHasher,
) -> list[_Span]:
    """Write `numbered` under staging/ partitioned by day (fsynced) and start on each batch's tree head."""
    staged = store.staged(ingest_id)
    staged.mkdir(parents=True, exist_ok=True)
    columns = ", ".join([*events.STORED_COLUMNS, "day"])
    con.execute(
        f"COPY (SELECT {columns} FROM numbered) TO '{staged}' (FORMAT parquet, PARTITION_BY (day), "
        f"FILENAME_PATTERN '{ingest_id}_{number}_{{i}}', OVERWRITE_OR_IGNORE)"
    )
    events.fsync_tree(staged)
    spans = con.execute(
        "SELECT batch_id, count(*), min(occurred_at), max(occurred_at) FROM numbered "
        "GROUP BY batch_id ORDER BY batch_id"
    ).fetchall()
    events.hash_batches(con, "numbered", hasher, [(batch_id, int(n)) for batch_id, n, _, _ in spans])
    return [(batch_id, int(n), first, last) for batch_id, n, first, last in spans]


def _record_ingest(
    session: Session,
    ingest_id: str,
    actor: str,
    files: list[str],
    *,
    counts: tuple[int, int, int, int],
    batches: list[_Batch],
    quarantined: list[_Quarantined],
) -> None:
    received, stored, duplicates, bad = counts
    session.add(
        AccessIngest(
            ingest_id=ingest_id,
            actor=actor,
            files=json.dumps(files),
            received=received,
            stored=stored,
            duplicates=duplicates,
            quarantined=bad,
            at=utcnow(),
        )
    )
    session.flush()
    session.add_all(
        QuarantinedRow(ingest_id=ingest_id, source=q.source, line=q.line, problems=q.problems, raw=q.raw)
        for q in quarantined
    )
    drafts = []
    for batch in batches:
        batch_id, count, first, last, root = (
            batch.batch_id,
            batch.events,
            batch.first_at,
            batch.last_at,
            batch.root.hex(),
        )
        session.add(
            AccessBatch(
                batch_id=batch_id, ingest_id=ingest_id, events=count, root=root, first_at=first, last_at=last
            )
        )
        drafts.append(
            EntryDraft(
                actor=actor,
                op=Op.CONSULTATION,
                object_type="access_batch",
                object_id=batch_id,
                justification="accesses recorded by force systems (access log ingest)",
                detail={
                    "events": count,
                    "root": root,
                    "first_at": rfc3339(first),
                    "last_at": rfc3339(last),
                    "files": files,
                    "leaf": "RFC 8785 JSON of each access, RFC 9162 tree in leaf order (docs/monitoring.md)",
                },
            )
        )
    ledger.record_many(session, drafts)
    session.flush()


def _publish_on_commit(session: Session, claim: events.InFlight) -> None:
    """The files go into the store once the transaction that records them has committed; on a rollback
    they are discarded. Until then the claim keeps `recover` (any session, any process) off them."""
    session.info.setdefault(_MINE, set()).add(claim.ingest_id)

    def publish(_session: Session) -> None:
        session.info[_MINE].discard(claim.ingest_id)
        claim.publish()

    def discard(_session: Session, _transaction: Any) -> None:
        session.info[_MINE].discard(claim.ingest_id)
        claim.discard()

    sa_event.listen(session, "after_commit", publish, once=True)
    sa_event.listen(session, "after_soft_rollback", discard, once=True)


# --------------------------------------------------------------------------- detectors: reference data

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FAR_FUTURE_US = 2**62


def micros(moment: datetime | None) -> int | None:
    """Microseconds since the epoch: how the detectors compare times (detectors.py)."""
    return None if moment is None else (moment - _EPOCH) // timedelta(microseconds=1)


def thresholds(session: Session) -> detectors.Thresholds:
    value = lambda key: int(identity.config_value(session, key))  # noqa: E731
    return detectors.Thresholds(
        neighbour_m=value("neighbour_distance_m"),
        household_m=value("household_distance_m"),
        repeat_days=value("repeated_interest_days"),
        repeat_window_days=value("repeated_interest_window_days"),
        volume_ratio=value("volume_ratio"),
        volume_minimum=value("volume_minimum_searches"),
        off_duty_grace_minutes=value("off_duty_grace_minutes"),
        alert_gap_days=value("alert_gap_days"),
    )


# The name's keys (kit.names.match_keys); its other spelling's (other_match_keys), "" for a part that has
# none; and its folded keys (fold_match_keys), which mark the letters written two ways and the written-out
# second letters, and match by LIKE both ways, letter by letter (detectors._same_surname, detectors._agree).
_KEYS = (
    ("surname_key", pa.string()),
    ("forename_key", pa.string()),
    ("joined_key", pa.string()),
    ("surname_other", pa.string()),
    ("forename_other", pa.string()),
    ("joined_other", pa.string()),
    ("surname_fold", pa.string()),
    ("forename_fold", pa.string()),
    ("joined_fold", pa.string()),
)


def _name_keys(surname: str | None, forenames: str | None) -> tuple[str, ...]:
    """The nine key columns of _KEYS for a name."""
    return (
        *match_keys(surname, forenames),
        *other_match_keys(surname, forenames),
        *fold_match_keys(surname, forenames),
    )


_SCHEMAS = {
    "staff_ref": pa.schema(
        [
            ("staff_id", pa.string()),
            ("team_id", pa.string()),
            *_KEYS,
            ("date_of_birth", pa.date32()),
            ("home_postcode", pa.string()),
            ("home_lat", pa.float64()),
            ("home_lon", pa.float64()),
        ]
    ),
    "nominal_ref": pa.schema(
        [
            ("subject_id", pa.string()),
            *_KEYS,
            ("date_of_birth", pa.date32()),
            ("postcode", pa.string()),
            ("lat", pa.float64()),
            ("lon", pa.float64()),
            ("public_figure", pa.bool_()),
            ("staff_id", pa.string()),
        ]
    ),
    "cases": pa.schema(
        [
            ("case_ref", pa.string()),
            ("team_id", pa.string()),
            ("opened_us", pa.int64()),
            ("closed_us", pa.int64()),
        ]
    ),
    "case_staff": pa.schema([("case_ref", pa.string()), ("staff_id", pa.string())]),
    "case_subject": pa.schema([("case_ref", pa.string()), ("subject_id", pa.string())]),
    "decl_ref": pa.schema(
        [
            ("declaration_id", pa.string()),
            ("staff_id", pa.string()),
            ("relationship", pa.string()),
            ("subject_id", pa.string()),
            *_KEYS,
            ("date_of_birth", pa.date32()),
            ("postcode", pa.string()),
        ]
    ),
    "roster_day": pa.schema(
        [
            ("staff_id", pa.string()),
            ("day_num", pa.int32()),
            ("from_us", pa.int64()),
            ("until_us", pa.int64()),
        ]
    ),
    "rostered": pa.schema([("staff_id", pa.string()), ("from_us", pa.int64()), ("until_us", pa.int64())]),
    "referral_ref": pa.schema(
        [
            ("referral_id", pa.int64()),
            ("staff_id", pa.string()),
            ("subject_id", pa.string()),
            ("from_us", pa.int64()),
            ("until_us", pa.int64()),
        ]
    ),
}


def _table(name: str, rows: Iterable[Sequence[Any]]) -> pa.Table:
    schema = _SCHEMAS[name]
    columns = list(zip(*rows, strict=True)) or [() for _ in schema.names]
    return pa.table([pa.array(list(c), f.type) for c, f in zip(columns, schema, strict=True)], schema=schema)


_FIELD, _RECORD = "\x1f", "\x1e"  # ASCII unit and record separators: never in imported text


def _columns(session: Session, columns: Sequence[Any]) -> list[pa.Array]:
    """Whole columns of one of this module's tables as text arrays (NULL as null), read in one round trip:
    the database joins every row into one string and Arrow splits it again. Fetching rows one by one
    through the driver cost more than running the detectors (a force has hundreds of thousands)."""
    postgres = session.get_bind().dialect.name == "postgresql"
    cells = [func.coalesce(_as_text(column) if postgres else column, "") for column in columns]
    row: Any = cells[0]
    for cell in cells[1:]:
        row = row.op("||")(_FIELD).op("||")(cell)
    packed = func.string_agg(row, _RECORD) if postgres else func.group_concat(row, _RECORD)
    text = session.execute(select(packed).select_from(columns[0].table)).scalar()
    if not text:
        return [pa.array([], pa.string()) for _ in columns]
    records = pc.split_pattern(pa.array([text]), _RECORD).flatten()
    fields = pc.split_pattern(records, _FIELD)
    found = []
    for index in range(len(columns)):
        values = pc.list_element(fields, index)
        found.append(pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values))
    return found


def _as_text(column: Any) -> Any:
    """PostgreSQL: a column as text, times in UTC as SQLite keeps them."""
    if isinstance(column.type, UTCDateTime):
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24:MI:SS.US")
    return sa_cast(column, Text)


def _micros_array(values: pa.Array) -> pa.Array:
    """UTC times as text ('2026-10-05 10:00:00.000000', see _columns) → microseconds since the epoch."""
    return pc.cast(pc.cast(values, pa.timestamp("us")), pa.int64())


def _nominal_table(session: Session) -> pa.Table:
    subject, *keys, born, postcode, lat, lon, public, staff = _columns(
        session,
        [
            Nominal.subject_id, Nominal.match_surname, Nominal.match_forename, Nominal.match_joined,
            Nominal.match_surname_other, Nominal.match_forename_other, Nominal.match_joined_other,
            Nominal.match_surname_fold, Nominal.match_forename_fold, Nominal.match_joined_fold,
            Nominal.date_of_birth, Nominal.postcode, Nominal.lat, Nominal.lon, Nominal.public_figure,
            Nominal.staff_id,
        ],
    )  # fmt: skip
    flag = (
        pc.equal(pc.if_else(pc.is_null(public), "0", public), "1")
        if len(public)
        else pa.array([], pa.bool_())
    )
    arrays = [
        subject, *(pc.fill_null(key, "") for key in keys),
        pc.cast(born, pa.date32()), postcode, pc.cast(lat, pa.float64()), pc.cast(lon, pa.float64()),
        pc.or_(flag, pc.equal(public, "true")) if len(public) else flag, staff,
    ]  # fmt: skip
    return pa.table(arrays, schema=_SCHEMAS["nominal_ref"])


def _case_table(session: Session) -> pa.Table:
    ref, team, opened, closed = _columns(
        session, [Case.case_ref, Case.team_id, Case.opened_at, Case.closed_at]
    )
    return pa.table([ref, team, _micros_array(opened), _micros_array(closed)], schema=_SCHEMAS["cases"])


def _pairs_table(session: Session, name: str, columns: Sequence[Any]) -> pa.Table:
    return pa.table(_columns(session, columns), schema=_SCHEMAS[name])


def _postcode(value: str | None) -> str | None:
    return (normalise_postcode(value) or value.strip().upper()) if value else None


def reference_tables(session: Session, limits: detectors.Thresholds) -> dict[str, pa.Table]:
    """The reference data the detectors join events against: this module's registers read column-wise,
    staff, declarations and referrals through the workforce service."""
    staff = [
        (s[0], s[1], *_name_keys(s[2], s[3]), s[4], _postcode(s[5]), s[6], s[7])
        for s in workforce.staff_for_monitoring(session)
    ]
    declared = [
        (d[0], d[1], d[2], d[3], *_name_keys(d[4], d[5]), d[6], _postcode(d[7]))
        for d in workforce.declared_people(session)
    ]
    referrals = [(r[0], r[1], r[2], micros(r[3]), micros(r[4])) for r in workforce.referral_searches(session)]
    roster_days, rostered = _roster_tables(session, limits.off_duty_grace_minutes)
    return {
        "staff_ref": _table("staff_ref", staff),
        "nominal_ref": _nominal_table(session),
        "cases": _case_table(session),
        "case_staff": _pairs_table(session, "case_staff", [CaseStaff.case_ref, CaseStaff.staff_id]),
        "case_subject": _pairs_table(session, "case_subject", [CaseSubject.case_ref, CaseSubject.subject_id]),
        "decl_ref": _table("decl_ref", declared),
        "roster_day": roster_days,
        "rostered": rostered,
        "referral_ref": _table("referral_ref", referrals),
    }


def _roster_tables(session: Session, grace_minutes: int) -> tuple[pa.Table, pa.Table]:
    """Each duty period (widened by the grace) on every day it touches, and each rostered person's span
    in whole days (a 3 a.m. access on the first rostered day is off duty too). Vectorised: a force rosters
    hundreds of thousands of shifts."""
    staff_ids, starts, ends = _columns(
        session, [RosterPeriod.staff_id, RosterPeriod.starts_at, RosterPeriod.ends_at]
    )
    grace = grace_minutes * 60_000_000
    start = _micros_array(starts).to_numpy(zero_copy_only=False) - grace
    end = _micros_array(ends).to_numpy(zero_copy_only=False) + grace
    first_day, last_day = start // _DAY_US, end // _DAY_US
    per_period = (last_day - first_day + 1).astype(np.int64)
    which = np.repeat(np.arange(len(staff_ids)), per_period)
    offset = np.arange(len(which)) - np.repeat(np.cumsum(per_period) - per_period, per_period)
    days = pa.table(
        [staff_ids.take(which), pa.array((first_day[which] + offset).astype(np.int32)),
         pa.array(start[which]), pa.array(end[which])],
        schema=_SCHEMAS["roster_day"],
    )  # fmt: skip
    spans = (
        pa.table(
            {"staff_id": staff_ids, "from_us": first_day * _DAY_US, "until_us": (last_day + 1) * _DAY_US - 1}
        )
        .group_by("staff_id")
        .aggregate([("from_us", "min"), ("until_us", "max")])
    )
    columns = [spans.column("staff_id"), spans.column("from_us_min"), spans.column("until_us_max")]
    return days, pa.table(columns, schema=_SCHEMAS["rostered"])


_DAY_US = alert_rules.DAY_US


# --------------------------------------------------------------------------- detectors: running


@dataclass(frozen=True, slots=True)
class RunSummary:
    run_id: int
    events: int
    about_people: int
    explained: int
    explained_by: dict[str, int]
    alerts: list[AlertDraft]  # as stored: the id, rules and score the screens show (_as_stored)
    new_alerts: int

    @property
    def explained_share(self) -> float:
        return self.explained / self.about_people if self.about_people else 1.0


def find_alerts(
    session: Session,
    settings: Settings,
    window: tuple[datetime | None, datetime | None] = (None, None),
    engine: detectors.Engine | None = None,
    phase: Callable[[str], None] | None = None,
) -> tuple[list[AlertDraft], dict[str, int]]:
    """Run every detector over the stored events in the window and build the alerts (nothing is stored).
    `phase` is told each of `FIND_PHASES` phases as it starts (for a progress bar)."""
    limits = thresholds(session)
    store = event_store(settings)
    recover(session, store)
    span = (micros(window[0]) or 0, micros(window[1]) or _FAR_FUTURE_US)
    events_dir = str(store.events_dir) if store.has_events() else None
    con = None
    if engine is None:
        con = _duckdb(settings)
        engine = detectors.DuckEngine(con)
    try:
        with _within_capacity(settings, _RUN_ADVICE):
            references = reference_tables(session, limits)
            found = detectors.evaluate(engine, references, events_dir, span, limits, phase)
    finally:
        if con is not None:
            con.close()
    if phase:
        phase("Building the alerts")
    return alert_rules.build(found.flagged, found.volume, limits, _settled(session)), found.counts


_RUN_ADVICE = (
    "Run the detectors over a shorter period (custodes monitor run --from DATE --to DATE), "
    "or allow more memory."
)


def _settled(session: Session) -> dict[str, set[str]]:
    """By kind of alert, the accesses in alerts that were dismissed or closed (alerts.build)."""
    settled: dict[str, set[str]] = {alert_rules.PATTERN: set(), alert_rules.VOLUME: set()}
    rows = session.execute(
        select(Alert.rules, AlertEvent.event_id)
        .join(AlertEvent, AlertEvent.alert_id == Alert.alert_id)
        .where(Alert.status.in_(AlertStatus.SETTLED))
    )
    for rules, event_id in rows:
        settled[alert_rules.kind_of(rules.split(";"))].add(event_id)
    return settled


def run(
    session: Session,
    settings: Settings,
    actor: str,
    window: tuple[datetime | None, datetime | None] = (None, None),
    engine: detectors.Engine | None = None,
    progress: Progress | None = None,
    verify: bool = False,
) -> RunSummary:
    """Evaluate the detectors and keep the alerts: new ones as `new`, known ones (same id) updated with their
    triage left as it was. The run is a `combination` entry in the ledger; each new alert a `collection`.

    One run at a time: a second run (the web's button, `custodes monitor run`) waits for the first to commit
    and then reads the alerts it stored, so it continues them rather than storing them again.

    `progress` (what, done, total) is told each phase as it starts: waiting for another run, each of
    `find_alerts`' phases (one per detector query among them), storing the alerts and recording the run.

    `verify` (`custodes monitor run` does, unless --no-verify): first check the batches the window reads
    against their ledger entries (`verify_store`) and refuse with StoreTampered, naming each batch and its
    entry, if one does not match: the detectors then never analyse accesses edited, removed or added in the
    store. Checked before any other statement of the transaction, so the store's ingest lock is not waited
    for while holding SQLite's write lock."""
    step = _Steps(progress, run_phases(verify))
    if verify:
        step("Checking the stored accesses")
        checked = verify_store(session, settings, window, advice=_RUN_ADVICE)
        if not checked.intact:
            raise StoreTampered(checked)
    step("Waiting for any other run")
    one_run_at_a_time(session)
    alerts, counts = find_alerts(session, settings, window, engine, step)
    step("Storing the alerts")
    explained_by = {key: counts[key] for key in ("cited_case", "assigned_case", "team_case", "referral")}
    record = MonitorRun(
        actor=actor,
        window_from=window[0],
        window_to=window[1],
        events=counts["events"],
        about_people=counts["about_people"],
        explained=counts["explained"],
        explained_by=json.dumps(explained_by),
        alerts=len(alerts),
        at=utcnow(),
    )
    try:
        with session.begin_nested():  # a run refused part-way (DecidedMeanwhile) leaves nothing behind
            session.add(record)
            session.flush()
            new, alerts = _store_alerts(session, record.id, alerts, actor)
    except IntegrityError as error:  # not expected under the lock; never a 500 if it happens all the same
        raise DecidedMeanwhile(
            "Another detector run stored some of the same alerts at the same time, so this run's findings "
            "are out of date. Nothing was stored: run the detectors again."
        ) from error
    step("Recording the run")
    ledger.record(
        session,
        EntryDraft(
            actor=actor,
            op=Op.COMBINATION,
            object_type="monitor_run",
            object_id=str(record.id),
            justification="misuse detection: access logs combined with cases, rosters and declarations",
            detail={
                "from": rfc3339(window[0]) if window[0] else None,
                "to": rfc3339(window[1]) if window[1] else None,
                **counts,
                "alerts": len(alerts),
                "new_alerts": new,
            },
        ),
    )
    return RunSummary(
        record.id, counts["events"], counts["about_people"], counts["explained"], explained_by, alerts, new
    )


FIND_PHASES = detectors.phase_count() + 1  # find_alerts: the detectors' phases, then building the alerts
RUN_PHASES = 1 + FIND_PHASES + 2  # run: waiting for the lock, finding, storing, recording


def run_phases(verify: bool) -> int:
    """The steps `run` reports: RUN_PHASES, and first checking the store when it verifies."""
    return RUN_PHASES + (1 if verify else 0)


# PostgreSQL: detector runs take this transaction lock, so they store alerts one at a time (SQLite: every
# writing transaction already holds the database's write lock, from BEGIN IMMEDIATE).
_RUN_LOCK = int.from_bytes(hashlib.sha256(b"custodes.monitoring.run").digest()[:8], "big") >> 1


def one_run_at_a_time(session: Session) -> None:
    """Wait for any other detector run to commit, and hold it off until this transaction ends. Taken before
    the run reads the alerts, so it sees everything an earlier run stored (READ COMMITTED reads afresh)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _RUN_LOCK})
    else:
        session.execute(select(1))  # begins the transaction: SQLite takes its write lock (BEGIN IMMEDIATE)


def _store_alerts(
    session: Session, run_id: int, drafts: Sequence[AlertDraft], actor: str
) -> tuple[int, list[AlertDraft]]:
    """Keep the run's alerts; return how many are new, and each draft as the alert it was stored in (see
    `_as_stored`). An alert's accesses only ever grow, whatever the window: a draft continuing an open
    alert (same first access, a shared access, or within `alert_gap_days` of it) adds its new accesses to
    it, and leaves it untouched if it has none. Dismissed and closed alerts are never reopened:
    `alerts.build` has already left their accesses out."""
    one_run_at_a_time(session)  # run() holds it already (taking it again is free); other callers take it here
    now = utcnow()
    targets, known = _open_alerts_continued(session, drafts)
    entries, rows, kept = [], [], []
    for draft in drafts:
        alert = targets.get(draft.alert_id)
        alert_id = alert.alert_id if alert is not None else draft.alert_id
        fresh = [event for event in draft.events if event.event_id not in known.get(alert_id, ())]
        if not fresh:
            if alert is not None:
                kept.append((draft, alert))
            continue
        rows += [_alert_event_row(alert_id, event) for event in fresh]
        if alert is None:
            if session.get(Alert, alert_id) is not None:  # settled after the detectors read the alerts
                raise DecidedMeanwhile(
                    f"Alert {alert_id} was dismissed or closed while the detectors ran, so their findings "
                    "are out of date. Nothing was stored: run the detectors again."
                )
            alert = _new_alert(draft, run_id, now)
            session.add(alert)
            entries.append(_alert_entry(actor, Op.COLLECTION, alert_id, draft, len(fresh)))
        else:
            _extend(alert, draft, known.get(alert_id, set()), len(fresh), run_id, now)
            entries.append(_alert_entry(actor, Op.ALTERATION, alert_id, draft, len(fresh)))
        kept.append((draft, alert))
    session.flush()
    if rows:  # a bulk INSERT, not one unit-of-work object per access (a large run has tens of thousands)
        session.execute(insert(AlertEvent), rows)
    ledger.record_many(session, entries)
    session.flush()
    new = sum(1 for entry in entries if entry.op == Op.COLLECTION)
    return new, [_as_stored(draft, alert) for draft, alert in kept]


def _as_stored(draft: AlertDraft, alert: Alert) -> AlertDraft:
    """A run's alert as the counter-corruption screens show it: the id, rules, score, span and explanation
    of the alert it was stored in (an open alert it continued keeps its own id, and its rules and span
    only widen); the accesses, this run's findings in it."""
    return replace(
        draft,
        alert_id=alert.alert_id,
        rules=tuple(Rule(rule) for rule in alert.rules.split(";") if rule),
        score=alert.score,
        first_at=alert.first_at,
        last_at=alert.last_at,
        explanation=alert.explanation,
    )


def _open_alerts_continued(
    session: Session, drafts: Sequence[AlertDraft]
) -> tuple[dict[str, Alert], dict[str, set[str]]]:
    """For each draft that continues an open alert, that alert (by the draft's id); and the accesses each
    of those alerts already holds."""
    staff = sorted({draft.staff_id for draft in drafts})
    # Locked, and read afresh, in one order: a dismissal or closing in progress is waited for, and an alert it
    # settled is no longer open here (PostgreSQL checks the status again once the lock is had).
    candidates = [
        alert
        for start in range(0, len(staff), _CHUNK)
        for alert in session.scalars(
            select(Alert)
            .where(Alert.staff_id.in_(staff[start : start + _CHUNK]), Alert.status.in_(AlertStatus.ACTIVE))
            .order_by(Alert.alert_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ]
    known: dict[str, set[str]] = {alert.alert_id: set() for alert in candidates}
    ids = list(known)
    for start in range(0, len(ids), _CHUNK):
        query = select(AlertEvent.alert_id, AlertEvent.event_id).where(
            AlertEvent.alert_id.in_(ids[start : start + _CHUNK])
        )
        for alert_id, event_id in session.execute(query):
            known[alert_id].add(event_id)
    by_thread: dict[tuple[str, str | None, str], list[Alert]] = {}
    for alert in candidates:
        thread = (alert.staff_id, alert.subject_id, alert_rules.kind_of(alert.rules.split(";")))
        by_thread.setdefault(thread, []).append(alert)
    gap = timedelta(days=thresholds(session).alert_gap_days)
    targets = {}
    for draft in drafts:
        thread = (draft.staff_id, draft.subject_id, alert_rules.kind_of(draft.rules))
        ids_in_draft = {event.event_id for event in draft.events}
        for alert in sorted(by_thread.get(thread, ()), key=lambda a: a.first_at):
            if (
                alert.alert_id == draft.alert_id
                or known[alert.alert_id] & ids_in_draft
                or (alert.first_at - gap <= draft.last_at and draft.first_at <= alert.last_at + gap)
            ):
                targets[draft.alert_id] = alert
                break
    return targets, known


def _new_alert(draft: AlertDraft, run_id: int, now: datetime) -> Alert:
    return Alert(
        alert_id=draft.alert_id,
        staff_id=draft.staff_id,
        subject_id=draft.subject_id,
        status=AlertStatus.NEW,
        created_at=now,
        rules=";".join(draft.rules),
        score=draft.score,
        first_at=draft.first_at,
        last_at=draft.last_at,
        events=len(draft.events),
        explanation=draft.explanation,
        run_id=run_id,
        updated_at=now,
    )


def _extend(alert: Alert, draft: AlertDraft, held: set[str], added: int, run_id: int, now: datetime) -> None:
    """New accesses for an open alert: its rules and span widen, its score never falls, triage stays. The
    explanation describes every access the alert holds: the draft's words replace it only when the draft saw
    all of them (`held`, the alert's accesses before this run); a narrower run (the web's last 90 days) adds
    its words after the alert's own, which stay."""
    rules = set(alert.rules.split(";")) | set(draft.rules)
    alert.rules = ";".join(rule for rule in alert_rules.ORDER if rule in rules)
    alert.score = max(alert.score, draft.score)
    alert.first_at, alert.last_at = min(alert.first_at, draft.first_at), max(alert.last_at, draft.last_at)
    alert.events += added
    if held <= {event.event_id for event in draft.events}:
        alert.explanation = draft.explanation
    elif draft.explanation not in alert.explanation:
        alert.explanation = f"{alert.explanation} Then, in a later run: {draft.explanation}"
    alert.run_id, alert.updated_at = run_id, now


def _alert_event_row(alert_id: str, event: alert_rules.AlertEventDraft) -> dict[str, Any]:
    return {
        "alert_id": alert_id,
        "event_id": event.event_id,
        "occurred_at": alert_rules.moment(event.at_us),
        "system": event.system,
        "action": event.action,
        "case_ref": event.case_ref,
        "rules": ";".join(event.rules),
        "explanation": event.explanation,
        "batch_id": event.batch_id,
    }


def _alert_entry(actor: str, op: Op, alert_id: str, draft: AlertDraft, added: int) -> EntryDraft:
    return EntryDraft(
        actor=actor,
        op=op,
        object_type="alert",
        object_id=alert_id,
        subjects=tuple(s for s in (draft.staff_id, draft.subject_id) if s),
        detail={"rules": list(draft.rules), "score": draft.score, "events": added},
    )


def write_alerts(alerts: Iterable[AlertDraft], path: Path) -> int:
    """One JSON object per line, as monitoring.md specifies."""
    count = 0
    with path.open("w", encoding="utf-8") as handle:
        for alert in alerts:
            handle.write(json.dumps(alert.as_json(), ensure_ascii=False) + "\n")
            count += 1
    return count


# --------------------------------------------------------------------------- one access explained


@dataclass(frozen=True, slots=True)
class AccessExplanation:
    event: dict[str, Any]
    explanation: str | None  # cited_case / assigned_case / team_case / referral / no_person, None: none
    words: str
    rules: tuple[str, ...]
    cases_involving_subject: list[dict[str, Any]]


def stored_events(settings: Settings, event_id: str, batch_id: str | None = None) -> list[dict[str, Any]]:
    """The stored accesses with this id (and batch), oldest batch first: an id is stored once a day at
    most, so an upstream system that repeats an id on another day has it stored twice (monitoring.md)."""
    store = event_store(settings)
    if not store.has_events():
        return []
    con = _duckdb(settings)
    try:
        cursor = con.execute(
            f"SELECT {', '.join(events.STORED_COLUMNS)} FROM read_parquet(?, hive_partitioning = false) "
            "WHERE event_id = ? AND (CAST(? AS VARCHAR) IS NULL OR batch_id = ?) ORDER BY batch_id, leaf",
            [store.glob(), event_id, batch_id, batch_id],
        )
        names = [column[0] for column in cursor.description]
        rows = cursor.fetchall()
    finally:
        con.close()
    return [dict(zip(names, row, strict=True)) for row in rows]


def stored_event(settings: Settings, event_id: str, batch_id: str | None = None) -> dict[str, Any] | None:
    """A stored access by id (the first stored, if the id was stored twice; or the one in `batch_id`), or
    None."""
    found = stored_events(settings, event_id, batch_id)
    return found[0] if found else None


def _consulted(session: Session, event: Mapping[str, Any], actor: str, why: str) -> None:
    """Showing a stored access to someone is a consultation of the people it names."""
    ledger.record_consultation(
        session,
        actor=actor,
        object_type="access_event",
        object_id=event["event_id"],
        subjects=tuple(dict.fromkeys(p for p in (event["staff_id"], event["subject_id"]) if p)),
        justification=why,
    )


class OutsideWindow(ValueError):
    """`explain` was asked about an access outside the window it was given."""


EXPLAINING = "explaining an access (monitoring)"


def explained_to(session: Session, found: AccessExplanation, actor: str, why: str = EXPLAINING) -> None:
    """Record that an explanation was shown to `actor`: a consultation of the people its access names. For
    callers that explained it with `actor=None` in a read-only unit of work (the screen and the API)."""
    _consulted(session, found.event, actor, why)


def explain(
    session: Session,
    settings: Settings,
    event_id: str,
    actor: str | None,
    window: tuple[datetime | None, datetime | None] = (None, None),
) -> AccessExplanation | None:
    """The explanation found for one stored access, or why none applies, and the rules it meets, as a
    detector run over the same window finds them (by default every stored access, as `monitor run` with
    no window). The detectors run over the accesses of that member of staff's team in the window (their
    own if they have no team): repeated interest needs their own, and volume compares a day with the
    team's median day. Logged as a consultation by `actor` (None: the caller records it, `explained_to`)."""
    event = stored_event(settings, event_id)
    if event is None:
        return None
    span = (micros(window[0]) or 0, micros(window[1]) or _FAR_FUTURE_US)
    if not span[0] <= event["at_us"] < span[1]:
        since = rfc3339(window[0]) if window[0] else "the first access"
        until = rfc3339(window[1]) if window[1] else "the last"
        raise OutsideWindow(
            f"{event_id} happened at {rfc3339(event['occurred_at'])}, outside the window {since} to {until}"
        )
    if actor is not None:
        _consulted(session, event, actor, EXPLAINING)
    limits = thresholds(session)
    references = reference_tables(session, limits)
    store = event_store(settings)
    con = _duckdb(settings)
    try:
        engine = _ScopedEngine(con)
        with _within_capacity(settings, "Explain it within a shorter period (--from DATE --to DATE)."):
            con.execute(
                "CREATE TEMP TABLE scope_events AS SELECT * FROM read_parquet(?, hive_partitioning = false) "
                "WHERE list_contains(?, staff_id) AND at_us >= ? AND at_us < ?",
                [store.glob(), _team_members(references["staff_ref"], event["staff_id"]), *span],
            )
            found = detectors.evaluate(engine, references, "scope_events", span, limits)
        # Every rule the access meets, not only those FLAGGED keeps (an explained access off duty raises
        # no alert, but is still off duty).
        facts = engine.rows(f"{detectors.EVENT_FACTS} WHERE e.event_id = '{_quote(event_id)}'")[0]
    finally:
        con.close()
    rules = list(alert_rules.event_rules(facts))
    if any(row["event_id"] == event_id for row in found.volume):
        rules.append(Rule.VOLUME_ANOMALY)
    teams = workforce.team_names(session)  # the access names its member of staff: teams by name too
    return AccessExplanation(
        event=event,
        explanation=facts["explanation"],
        words=alert_rules.name_teams(alert_rules.explain_access(facts), teams),
        rules=tuple(rule for rule in alert_rules.ORDER if rule in rules),
        cases_involving_subject=_cases_involving(session, event["subject_id"], teams),
    )


def _team_members(staff: pa.Table, staff_id: str) -> list[str]:
    """Everyone in this member of staff's team (the staff register's), or just them if they have none."""
    mine = pc.filter(staff.column("team_id"), pc.equal(staff.column("staff_id"), staff_id)).to_pylist()
    if not mine or mine[0] is None:
        return [staff_id]
    return pc.filter(staff.column("staff_id"), pc.equal(staff.column("team_id"), mine[0])).to_pylist()


def _quote(value: str) -> str:
    return value.replace("'", "''")


class _ScopedEngine(detectors.DuckEngine):
    """The detectors over the accesses already chosen into a table (`explain`), not the whole store."""

    def load_events(self, events_dir: str | None) -> None:
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW events AS SELECT * FROM {events_dir}")


def _cases_involving(
    session: Session, subject_id: str | None, teams: Mapping[str, str]
) -> list[dict[str, Any]]:
    """The cases involving this person, oldest first, each with its team's name (None if unnamed)."""
    if subject_id is None:
        return []
    query = (
        select(Case)
        .join(CaseSubject, CaseSubject.case_ref == Case.case_ref)
        .where(CaseSubject.subject_id == subject_id)
        .order_by(Case.opened_at)
    )
    return [
        {
            "case_ref": case.case_ref,
            "team_id": case.team_id,
            "team_name": teams.get(case.team_id) if case.team_id else None,
            "assigned_staff": [s for s in case.assigned_staff.split(";") if s],
            "opened_at": case.opened_at,
            "closed_at": case.closed_at,
        }
        for case in session.scalars(query)
    ]


# --------------------------------------------------------------------------- proof of one access


class ProofUnavailable(LookupError):
    """The access is not stored, or its batch is not yet covered by a signed checkpoint."""


def batch_leaves(settings: Settings, batch_id: str) -> list[bytes]:
    """The leaf hashes of a batch, recomputed from the stored events, in leaf order."""
    store = event_store(settings)
    con = _duckdb(settings)
    try:
        rows = con.execute(
            "SELECT hash FROM ("
            + events.leaf_hashes_sql(
                "read_parquet($glob, hive_partitioning = false)", "WHERE batch_id = $batch"
            )
            + ") ORDER BY leaf",
            {"glob": store.glob(), "batch": batch_id},
        ).fetchall()
    finally:
        con.close()
    return [bytes(row[0]) for row in rows]


def access_proof(
    session: Session, settings: Settings, event_id: str, actor: str | None, batch_id: str | None = None
) -> dict[str, Any]:
    """Everything an outsider needs to check that this access is in the ledger: the access's leaf (its
    canonical JSON), its inclusion proof in its batch's tree, the batch's `consultation` entry, that entry's
    inclusion proof in the ledger at the latest signed checkpoint, and the checkpoint. Verify with
    `custodes monitor verify-proof` or any RFC 9162 verifier (docs/monitoring.md). Showing the access is a
    consultation by `actor` (None: the caller has recorded it already). An id stored twice (on different
    days) needs its `batch_id`: without one it is refused, naming the batches."""
    return _Prover(session, settings).prove(event_id, actor, batch_id)


def access_proofs(
    session: Session, settings: Settings, accesses: Sequence[tuple[str, str]]
) -> list[dict[str, Any]]:
    """`access_proof` of each access, given as (event_id, batch_id) since an id can be stored twice, each
    batch's tree built once; for one that cannot be proven, {"event_id", "batch_id", "problem"}. Not
    logged: for callers that record the consultation themselves."""
    prover = _Prover(session, settings)
    proofs: list[dict[str, Any]] = []
    for event_id, batch_id in accesses:
        try:
            proofs.append(prover.prove(event_id, None, batch_id))
        except ProofUnavailable as error:
            proofs.append({"event_id": event_id, "batch_id": batch_id, "problem": str(error)})
    return proofs


class _Prover:
    """Proves accesses against the latest checkpoint, keeping each batch's tree for the next access."""

    def __init__(self, session: Session, settings: Settings) -> None:
        self.session, self.settings = session, settings
        self.checkpoint = ledger.latest_checkpoint(session)
        self.trees: dict[str, merkle.MemoryTree] = {}

    def _tree(self, batch: AccessBatch) -> merkle.MemoryTree:
        tree = self.trees.get(batch.batch_id)
        if tree is None:
            tree = self.trees[batch.batch_id] = merkle.MemoryTree(batch_leaves(self.settings, batch.batch_id))
        if tree.root().hex() != batch.root:
            raise ProofUnavailable(
                f"batch {batch.batch_id} no longer matches its ledger entry: tampered with"
            )
        return tree

    def prove(self, event_id: str, actor: str | None, batch_id: str | None = None) -> dict[str, Any]:
        session, checkpoint = self.session, self.checkpoint
        found = stored_events(self.settings, event_id, batch_id)
        if not found:
            where = f" in batch {batch_id}" if batch_id else ""
            raise ProofUnavailable(f"access {event_id} is not stored{where}")
        if len(found) > 1:
            batches = ", ".join(str(e["batch_id"]) for e in found)
            raise ProofUnavailable(
                f"access {event_id} is stored more than once (batches {batches}): "
                "say which batch to prove (--batch)"
            )
        event = found[0]
        batch = session.get(AccessBatch, event["batch_id"])
        if batch is None:
            raise ProofUnavailable(f"batch {event['batch_id']} of access {event_id} is not recorded")
        tree = self._tree(batch)
        query = EntryFilter(object_type="access_batch", object_id=batch.batch_id)
        entries = ledger.search(session, query, limit=1)
        if not entries or checkpoint is None or checkpoint.size <= entries[0].index:
            raise ProofUnavailable(f"batch {batch.batch_id} is not yet covered by a signed checkpoint")
        if actor is not None:
            _consulted(session, event, actor, "proving an access is in the ledger (monitoring)")
        entry_index = entries[0].index
        entry_bytes = next(ledger.export_lines(session, entry_index, entry_index + 1))
        in_ledger = ledger.prove_inclusion(session, entry_index, checkpoint.size)
        return {
            "event": {key: event[key] for key in EVENT_COLUMNS}
            | {"occurred_at": rfc3339(event["occurred_at"])},
            "leaf": events.leaf_bytes(event).decode(),
            "batch_id": batch.batch_id,
            "leaf_index": event["leaf"],
            "batch_size": tree.size,
            "batch_root": batch.root,
            "batch_proof": [node.hex() for node in tree.inclusion_proof(event["leaf"])],
            "entry_index": entry_index,
            "entry": entry_bytes.decode(),
            "tree_size": checkpoint.size,
            "entry_proof": in_ledger["inclusion_path"],
            "checkpoint": checkpoint.note,
        }


_PROOF_FIELDS: dict[str, type] = {
    "event": dict,
    "leaf": str,
    "batch_id": str,
    "leaf_index": int,
    "batch_size": int,
    "batch_root": str,
    "batch_proof": list,
    "entry_index": int,
    "entry": str,
    "tree_size": int,
    "entry_proof": list,
    "checkpoint": str,
}
_HEX_FIELDS = ("batch_root", "batch_proof", "entry_proof")
_KINDS = {dict: "a JSON object", str: "text", int: "a whole number", list: "a list"}
_ABSENT = object()


def _is_hex(value: Any) -> bool:
    try:
        return isinstance(value, str) and len(bytes.fromhex(value)) == 32
    except ValueError:
        return False


def malformed_proof(proof: Any) -> list[str]:
    """What is missing or of the wrong kind in a proof from `access_proof`, field by field (none: it can be
    checked)."""
    if not isinstance(proof, Mapping):
        return ["the proof is not a JSON object"]
    problems = []
    for name, kind in _PROOF_FIELDS.items():
        value = proof.get(name)
        if name not in proof:
            problems.append(f"{name}: missing")
        elif not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            problems.append(f"{name}: should be {_KINDS[kind]}")
        elif name in _HEX_FIELDS and not all(
            _is_hex(h) for h in (value if isinstance(value, list) else [value])
        ):
            many = isinstance(value, list)
            problems.append(
                f"{name}: should be {'a list of SHA-256 hashes' if many else 'a SHA-256 hash'} in hex"
            )
    if not problems:
        try:
            leaf = json.loads(proof["leaf"])
        except ValueError:
            leaf = None
        if not isinstance(leaf, dict):
            problems.append("leaf: not a JSON object")
        try:
            entry = json.loads(proof["entry"])
        except ValueError:
            entry = None
        if not isinstance(entry, dict):
            problems.append("entry: not a JSON object")
    return problems


def _event_differences(proof: Mapping[str, Any]) -> list[str]:
    """Where the access shown (`event`, `batch_id`) is not what the hashed leaf says, field by field; and
    whether the leaf's bytes are exactly the canonical JSON of the access shown (with its batch and salt).
    A proof proves its leaf: anything shown beside it must be that leaf, or the proof proves nothing of it."""
    shown, leaf = proof["event"], json.loads(proof["leaf"])

    def differs(name: str, value: Any, proven: Any) -> str:
        said = "is missing" if value is _ABSENT else f"shows {json.dumps(value)}"
        return f"{name}: {said} but the proven leaf holds {json.dumps(proven)}"

    problems = [
        differs(f"event.{key}", shown.get(key, _ABSENT), leaf.get(key))
        for key in EVENT_COLUMNS
        if shown.get(key, _ABSENT) != leaf.get(key)
    ]
    problems += [f"event.{key}: is not part of the proven leaf" for key in shown if key not in EVENT_COLUMNS]
    if leaf.get("batch_id") != proof["batch_id"]:
        problems.append(differs("batch_id", proof["batch_id"], leaf.get("batch_id")))
    if set(leaf) != set(events.LEAF_KEYS):
        problems.append("leaf: does not hold exactly the access's fields, its batch and its salt")
    elif not problems:
        expected = {**{key: shown[key] for key in EVENT_COLUMNS}, "batch_id": proof["batch_id"]}
        if proof["leaf"].encode() != canonical_json({**expected, "salt": leaf["salt"]}):
            problems.append("leaf: is not the canonical JSON (RFC 8785) of the access shown")
    return problems


def verify_access_proof(proof: Mapping[str, Any], public_key: str) -> list[str]:
    """Check a proof from `access_proof` with nothing but the verifier key; returns the problems (none: good).
    The proof is well formed; the access shown (`event`, `batch_id`) is exactly the leaf, field by field, and
    the leaf is its canonical JSON; the leaf hashes to the batch root; the batch entry names that root; the
    entry is in the ledger whose head the checkpoint signs."""
    malformed = malformed_proof(proof)
    if malformed:
        return malformed
    problems = _event_differences(proof)
    leaf = proof["leaf"].encode()
    if not merkle.verify_inclusion(
        merkle.leaf_hash(leaf), proof["leaf_index"], proof["batch_size"],
        [bytes.fromhex(h) for h in proof["batch_proof"]], bytes.fromhex(proof["batch_root"]),
    ):  # fmt: skip
        problems.append("the access is not in its batch's tree")
    entry = json.loads(proof["entry"])
    detail = entry.get("detail")
    if not isinstance(detail, dict) or detail.get("root") != proof["batch_root"]:
        problems.append("the ledger entry does not name this batch's tree head")
    try:
        head = note.open_checkpoint(proof["checkpoint"], note.Verifier(public_key))
    except note.NoteError as error:
        return [*problems, f"the checkpoint does not verify: {error}"]
    if head.size != proof["tree_size"] or not merkle.verify_inclusion(
        merkle.leaf_hash(proof["entry"].encode()), proof["entry_index"], proof["tree_size"],
        [bytes.fromhex(h) for h in proof["entry_proof"]], head.root,
    ):  # fmt: skip
        problems.append("the batch's ledger entry is not in the ledger the checkpoint signs")
    if entry.get("object") != {"type": "access_batch", "id": proof["batch_id"]}:
        problems.append("the ledger entry is not the entry of this access's batch")
    return problems


# --------------------------------------------------------------------------- the monitoring overview


@dataclass(frozen=True, slots=True)
class StoreFigures:
    accesses: int
    batches: int
    first_at: datetime | None
    last_at: datetime | None


@dataclass(frozen=True, slots=True)
class Overview:
    store: StoreFigures
    runs: list[MonitorRun]
    ingests: list[AccessIngest]
    alerts_by_status: dict[str, int]


def overview(session: Session, recent: int = 20) -> Overview:
    """What has been ingested and analysed: no personal data, so nothing is logged."""
    totals = session.execute(
        select(
            func.coalesce(func.sum(AccessBatch.events), 0),
            func.count(AccessBatch.batch_id),
            func.min(AccessBatch.first_at),
            func.max(AccessBatch.last_at),
        )
    ).one()
    runs = list(session.scalars(select(MonitorRun).order_by(MonitorRun.id.desc()).limit(recent)))
    ingests = list(session.scalars(select(AccessIngest).order_by(AccessIngest.at.desc()).limit(recent)))
    statuses = {
        status: count
        for status, count in session.execute(select(Alert.status, func.count()).group_by(Alert.status))
    }
    return Overview(StoreFigures(*totals), runs, ingests, statuses)


def ingest_record(session: Session, ingest_id: str) -> AccessIngest | None:
    return session.get(AccessIngest, ingest_id)


def quarantined_rows(
    session: Session, ingest_id: str, *, actor: str, limit: int = 500
) -> list[QuarantinedRow]:
    """An ingest's quarantined rows as read. They name staff and subjects, so showing them is a
    consultation of each person named (one entry for the page)."""
    query = (
        select(QuarantinedRow)
        .where(QuarantinedRow.ingest_id == ingest_id)
        .order_by(QuarantinedRow.source, QuarantinedRow.line)
        .limit(limit)
    )
    rows = list(session.scalars(query))
    people = sorted(
        {
            value
            for row in rows
            for key, value in json.loads(row.raw).items()
            if key in ("staff_id", "subject_id") and value
        }
    )
    if rows:
        ledger.record_consultation(
            session,
            actor=actor,
            object_type="access_ingest",
            object_id=ingest_id,
            subjects=tuple(people),
            justification="checking access-log rows quarantined at ingest",
        )
    return rows


# --------------------------------------------------------------------------- the store against the ledger


@dataclass(frozen=True, slots=True)
class StoreProblem:
    """One batch (or file) of the event store that does not match what the ledger records."""

    kind: str  # one of STORE_PROBLEM_KINDS
    batch_id: str | None  # None: a file whose batches cannot be told (unreadable)
    ledger_index: int | None  # the batch's `consultation` entry; None: no entry records it
    stored: int  # accesses found in the store for the batch
    recorded: int | None  # accesses the entry records
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "batch_id": self.batch_id,
            "ledger_index": self.ledger_index,
            "stored_events": self.stored,
            "recorded_events": self.recorded,
            "message": self.message,
        }


STORE_PROBLEM_KINDS = (
    "files_gone",
    "rows_missing",
    "rows_added",
    "row_changed",
    "time_changed",
    "unrecorded",
    "unreadable",
)


@dataclass(frozen=True, slots=True)
class StoreReport:
    """`verify_store`: the batches checked, the accesses read, and every problem, earliest entry first."""

    batches: int
    events: int
    problems: tuple[StoreProblem, ...]
    seconds: float = 0.0

    @property
    def intact(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "intact": self.intact,
            "batches_checked": self.batches,
            "events_checked": self.events,
            "problems": [problem.as_dict() for problem in self.problems],
            "seconds": round(self.seconds, 3),
        }


class StoreTampered(RuntimeError):
    """`run` was asked to verify the batches its window reads, and one does not match its ledger entry."""

    def __init__(self, report: StoreReport) -> None:
        self.report = report
        first = report.problems[0]
        more = len(report.problems) - 1
        super().__init__(
            f"The stored accesses do not match the ledger, so the detectors were not run: {first.message}"
            + (
                f" (and {plural(more, 'more problem')}: custodes monitor verify-store lists them)"
                if more
                else ""
            )
            + ". Nothing was recorded."
        )


@dataclass(frozen=True, slots=True)
class _Recorded:
    """What a batch's `consultation` entry records of it."""

    index: int
    batch_id: str
    events: int
    root: str
    first_at: datetime
    last_at: datetime


def _recorded_batches(session: Session) -> dict[str, _Recorded]:
    """Every access batch the ledger records, by batch id (the earliest entry for an id named twice)."""
    found: dict[str, _Recorded] = {}
    criteria = EntryFilter(object_type="access_batch", op=Op.CONSULTATION)
    for entry in ledger.iter_matching(session, criteria):
        detail = (entry.content or {}).get("detail") or {}
        if entry.object_id is None or entry.object_id in found:  # redacted, or named again
            continue
        found[entry.object_id] = _Recorded(
            entry.index,
            entry.object_id,
            int(detail.get("events", 0)),
            str(detail.get("root", "")),
            datetime.fromisoformat(detail["first_at"]),
            datetime.fromisoformat(detail["last_at"]),
        )
    return found


@contextmanager
def _store_quiet(session: Session, store: events.EventStore) -> Iterator[None]:
    """Hold the store's ingest lock (unless this session holds it already): no ingest is then between its
    commit and the publishing of its files, so the ledger read and the files listed agree."""
    if _STORE_LOCK in session.info:
        yield
        return
    handle = store.lock_for_ingest(_INGEST_WAIT_SECONDS)
    if handle is None:
        raise StoreBusy("An ingest held the event store for a minute: check the store when it has finished.")
    try:
        yield
    finally:
        handle.close()


def _in_day_range(path: Path, first: date, last: date) -> bool:
    name = path.parent.name
    try:
        day = date.fromisoformat(name.removeprefix("day="))
    except ValueError:
        return False
    return name.startswith("day=") and first <= day <= last


def _file_list(files: Sequence[Path]) -> str:
    return "[" + ", ".join(f"'{_quote(str(path))}'" for path in files) + "]"


def _stored_counts(
    con: duckdb.DuckDBPyConnection, files: list[Path], span: tuple[int, int]
) -> tuple[dict[str, tuple[int, bool, int]], list[Path], list[StoreProblem]]:
    """Per batch id in the files: how many accesses, whether any is in `span` (at_us), and how many have an
    `at_us` or `day_num` that is not their `occurred_at`. A file that does not read as the store's Parquet
    is a problem of its own, and left out (so are its accesses)."""
    problems: list[StoreProblem] = []
    readable = list(files)
    sql = (
        "SELECT batch_id, count(*), bool_or(at_us >= $lo AND at_us < $hi), "
        f"count(*) FILTER (WHERE {_DERIVED_DIFFER}) "
        "FROM read_parquet({files}, hive_partitioning = false) GROUP BY batch_id"
    )
    try:
        rows = con.execute(sql.format(files=_file_list(readable)), {"lo": span[0], "hi": span[1]}).fetchall()
    except duckdb.OutOfMemoryException:
        raise  # not a bad file: _within_capacity says so
    except duckdb.Error:
        readable = []
        for path in files:
            try:
                con.execute(f"SELECT batch_id, at_us FROM read_parquet('{_quote(str(path))}') LIMIT 0")
                readable.append(path)
            except duckdb.OutOfMemoryException:
                raise
            except duckdb.Error as error:
                reason = str(error).splitlines()[0]
                problems.append(
                    StoreProblem(
                        "unreadable",
                        None,
                        None,
                        0,
                        None,
                        f"the store's file {path} cannot be read as stored accesses ({reason}): the accesses "
                        "in it cannot be checked, and the batches they belonged to show as missing rows",
                    )
                )
        rows = (
            con.execute(sql.format(files=_file_list(readable)), {"lo": span[0], "hi": span[1]}).fetchall()
            if readable
            else []
        )
    return (
        {str(batch): (int(n), bool(inside), int(bad)) for batch, n, inside, bad in rows},
        readable,
        problems,
    )


# The detectors read an access's time and day as `at_us` and `day_num`, which the ingest derived from
# `occurred_at` (_number_new) and which are not in the leaf: a row whose derived columns differ from its
# leaf's time was edited (moved into or out of a window, or onto a case's dates) without changing the root.
_DERIVED_DIFFER = (
    "at_us IS DISTINCT FROM epoch_us(occurred_at) OR day_num IS DISTINCT FROM "
    "CAST(date_diff('day', DATE '1970-01-01', CAST(occurred_at AS DATE)) AS INTEGER)"
)


def _batch_root(con: duckdb.DuckDBPyConnection, files: list[Path], batch_id: str) -> bytes:
    """The batch's RFC 9162 tree head, rebuilt from its stored accesses exactly as the ingest built it
    (events.hash_batches: the same leaves, in leaf order, the same tree)."""
    if not files:
        return merkle.EMPTY_ROOT
    con.execute(
        "CREATE OR REPLACE TEMP VIEW verify_batch AS SELECT * FROM "
        f"read_parquet({_file_list(files)}, hive_partitioning = false) WHERE batch_id = '{_quote(batch_id)}'"
    )
    with events.TreeHasher() as hasher:
        events.hash_batches(con, "verify_batch", hasher)
        return hasher.roots().get(batch_id, merkle.EMPTY_ROOT)


def _accesses(count: int) -> str:
    return plural(count, "access", "accesses")


def _batch_problem(
    recorded: _Recorded | None, batch_id: str, stored: int, root: Callable[[], bytes], derived: int = 0
) -> StoreProblem | None:
    if recorded is None:
        return StoreProblem(
            "unrecorded",
            batch_id,
            None,
            stored,
            None,
            f"batch {batch_id}: no ledger entry records it, yet the store holds {_accesses(stored)} of it "
            "(put into the store, not ingested)",
        )
    named = f"batch {batch_id} (ledger entry {recorded.index})"
    counts = f"{stored:,} stored, {recorded.events:,} recorded"
    if stored == 0:
        return StoreProblem(
            "files_gone",
            batch_id,
            recorded.index,
            0,
            recorded.events,
            f"{named}: none of its {_accesses(recorded.events)} is in the store: the batch's files "
            f"are gone ({counts})",
        )
    if stored < recorded.events:
        return StoreProblem(
            "rows_missing",
            batch_id,
            recorded.index,
            stored,
            recorded.events,
            f"{named}: {_accesses(recorded.events - stored)} missing from the store ({counts})",
        )
    if stored > recorded.events:
        return StoreProblem(
            "rows_added",
            batch_id,
            recorded.index,
            stored,
            recorded.events,
            f"{named}: {_accesses(stored - recorded.events)} added to the store ({counts})",
        )
    if root().hex() != recorded.root:
        return StoreProblem(
            "row_changed",
            batch_id,
            recorded.index,
            stored,
            recorded.events,
            f"{named}: its stored accesses do not hash to the root the entry records: at least one was "
            f"changed ({counts})",
        )
    if derived:
        return StoreProblem(
            "time_changed",
            batch_id,
            recorded.index,
            stored,
            recorded.events,
            f"{named}: {_accesses(derived)} with a time or day the detectors read (at_us, day_num) that is "
            f"not the access's recorded occurred_at: changed after ingest ({counts})",
        )
    return None


def verify_store(
    session: Session,
    settings: Settings,
    window: tuple[datetime | None, datetime | None] | None = None,
    progress: Progress | None = None,
    advice: str = "Allow more memory, or more spill space.",
) -> StoreReport:
    """Check the stored accesses against the ledger: for every batch its `consultation` entry records and
    every batch found in the store, rebuild the batch's count and Merkle root from its Parquet rows as the
    ingest computed them (events.hash_batches) and compare with the entry. Reports each batch whose files
    are gone, that lost or gained rows, whose rows hash to another root (a row changed), or that no entry
    records; and each file that cannot be read. Problems come earliest ledger index first.

    `window` (as for `run`): only the batches a detector run over it reads — those the ledger says overlap
    it, and any found with an access in it. DuckDB reads one batch at a time (its days' files only), so
    memory stays within one batch of 65,536 accesses however large the store. `progress` is told each
    batch (what, done, total). Reads only; the store's ingest lock is held while the ledger is read and the
    files listed (an ingest waits, at most a minute, for that)."""
    started = datetime.now(UTC)
    store = event_store(settings)
    with _store_quiet(session, store):
        recover(session, store)
        files = sorted(store.events_dir.glob("*/*.parquet")) if store.events_dir.is_dir() else []
        recorded = _recorded_batches(session)
    span = (0, _FAR_FUTURE_US)
    wanted = dict(recorded)
    if window is not None:
        span = (micros(window[0]) or 0, micros(window[1]) or _FAR_FUTURE_US)
        wanted = {
            batch_id: batch
            for batch_id, batch in recorded.items()
            if (micros(batch.first_at) or 0) < span[1] and (micros(batch.last_at) or 0) >= span[0]
        }
    con = _duckdb(settings)
    try:
        with _within_capacity(settings, advice):
            counts, readable, problems = _stored_counts(con, files, span) if files else ({}, [], [])
            unrecorded = sorted(
                b
                for b, (_n, inside, _bad) in counts.items()
                if b not in recorded and (inside or window is None)
            )
            others = [
                b for b, (_n, inside, _bad) in counts.items() if b in recorded and b not in wanted and inside
            ]
            checking = sorted(
                [*wanted.values(), *(recorded[b] for b in others)], key=lambda batch: batch.index
            )
            total = len(checking) + len(unrecorded)
            stored_events = 0
            for done, batch in enumerate(checking):
                if progress:
                    progress(f"Batch {batch.batch_id}", done, total)
                stored, _inside, derived = counts.get(batch.batch_id, (0, False, 0))
                stored_events += stored
                days = (batch.first_at.date() - timedelta(days=1), batch.last_at.date() + timedelta(days=1))
                near = [path for path in readable if _in_day_range(path, *days)]
                found = _batch_problem(
                    batch, batch.batch_id, stored, partial(_batch_root, con, near, batch.batch_id), derived
                )
                if found is not None:
                    problems.append(found)
            for batch_id in unrecorded:
                stored_events += counts[batch_id][0]
                found = _batch_problem(None, batch_id, counts[batch_id][0], lambda: merkle.EMPTY_ROOT)
                assert found is not None
                problems.append(found)
            if progress:
                progress("Checked", total, total)
    finally:
        con.close()
    order = {kind: n for n, kind in enumerate(STORE_PROBLEM_KINDS)}
    problems.sort(
        key=lambda p: (p.ledger_index is None, p.ledger_index or 0, order[p.kind], p.batch_id or "")
    )
    seconds = (datetime.now(UTC) - started).total_seconds()
    return StoreReport(len(checking) + len(unrecorded), stored_events, tuple(problems), seconds)


def record_store_verification(session: Session, report: StoreReport, actor: str) -> None:
    """A `review` ledger entry for a `verify_store` run: its verdict, its counts and the problems found
    (batch ids, ledger indexes and counts: no access's content, so nobody's personal data)."""
    ledger.record(
        session,
        EntryDraft(
            actor=actor,
            op=Op.REVIEW,
            object_type="access_store",
            object_id=None,
            detail={
                "check": "stored accesses against their batches' ledger entries (monitor verify-store)",
                "intact": report.intact,
                "batches_checked": report.batches,
                "events_checked": report.events,
                "problems": len(report.problems),
                "first_problems": [problem.as_dict() for problem in report.problems[:20]],
                "seconds": round(report.seconds, 3),
            },
        ),
    )
