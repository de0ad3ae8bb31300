"""Monitoring tables: nominals (people in police records), cases and their people, rostered duty."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from custodes.kit.db import Base, UTCDateTime


class Nominal(Base):
    """A person known to force systems. `flags` is the sorted `;` list as imported; `public_figure`,
    `protected` and `staff_id` are derived from it for queries. `*_key` columns hold the names as matched
    (trimmed, spaces collapsed, case-folded)."""

    __tablename__ = "nominal"
    __table_args__ = (Index("ix_nominal_name_key", "surname_key", "forenames_key"),)

    subject_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    surname: Mapped[str] = mapped_column(String(100))
    forenames: Mapped[str] = mapped_column(String(100))
    surname_key: Mapped[str] = mapped_column(String(100))
    forenames_key: Mapped[str] = mapped_column(String(100))
    # As the gate and the detectors match names (workforce.gate.match_keys): variants, Mc/Mac, initials.
    match_surname: Mapped[str] = mapped_column(String(100), default="")
    match_forename: Mapped[str] = mapped_column(String(100), default="")
    match_joined: Mapped[str] = mapped_column(String(100), default="")
    # The same for the name's other spelling (kit.names.other_match_keys: Müller as "mueller", Đorđević as
    # "djordjevic", Søren as "soeren"), "" where the part has no letter English writes two ways.
    match_surname_other: Mapped[str] = mapped_column(String(100), default="")
    match_forename_other: Mapped[str] = mapped_column(String(100), default="")
    match_joined_other: Mapped[str] = mapped_column(String(100), default="")
    # The folded keys (kit.names.fold_match_keys, migration 0021; marks as since 0022), every name: the
    # letters folded, "=", the letters as typed with "%" after each written two ways and "+" before each
    # written-out second letter (Hoey-Müller "hoymuller=ho+eymu%ller"; Mueller "muller=mu+eller"), matched
    # by LIKE both ways, letter by letter (kit.names.folds_alike). Up to three times a key's length.
    match_surname_fold: Mapped[str] = mapped_column(String(400), default="")
    match_forename_fold: Mapped[str] = mapped_column(String(400), default="")
    match_joined_fold: Mapped[str] = mapped_column(String(400), default="")
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    postcode: Mapped[str | None] = mapped_column(String(10), index=True)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(500))
    flags: Mapped[str] = mapped_column(String(400))
    public_figure: Mapped[bool] = mapped_column(Boolean)
    protected: Mapped[bool] = mapped_column(Boolean, index=True)
    staff_id: Mapped[str | None] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Case(Base):
    """A case or task. `assigned_staff` and `subject_ids` are sorted `;` lists as imported; the link tables
    `case_staff` and `case_subject` hold the same, one row per person, for the monitoring queries."""

    __tablename__ = "case_record"

    case_ref: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None while open
    team_id: Mapped[str | None] = mapped_column(String(32), index=True)
    assigned_staff: Mapped[str] = mapped_column(Text)
    subject_ids: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CaseStaff(Base):
    __tablename__ = "case_staff"

    case_ref: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)


class CaseSubject(Base):
    __tablename__ = "case_subject"

    case_ref: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class RosterPeriod(Base):
    """A rostered duty period. `roster_key` is `staff_id@start` (start in UTC, ISO 8601)."""

    __tablename__ = "roster_period"
    __table_args__ = (Index("ix_roster_period_staff_start", "staff_id", "starts_at"),)

    roster_key: Mapped[str] = mapped_column(String(80), primary_key=True)
    staff_id: Mapped[str] = mapped_column(String(32))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


# --------------------------------------------------------------------------- access logs


class AccessIngest(Base):
    """One `monitor ingest` (or API push): what was read, stored, ignored as duplicate and quarantined. The
    events themselves are in the Parquet store (events.py); each batch of them has a ledger entry."""

    __tablename__ = "access_ingest"

    ingest_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    actor: Mapped[str] = mapped_column(String(80))
    files: Mapped[str] = mapped_column(Text)  # JSON list of source names
    received: Mapped[int] = mapped_column(Integer)
    stored: Mapped[int] = mapped_column(Integer)
    duplicates: Mapped[int] = mapped_column(Integer)
    quarantined: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class AccessBatch(Base):
    """Up to 65,536 stored events committed to the ledger by one `consultation` entry: `root` is the RFC 9162
    tree head of their leaves (events.leaf_json_sql), in `leaf` order."""

    __tablename__ = "access_batch"

    batch_id: Mapped[str] = mapped_column(String(48), primary_key=True)
    ingest_id: Mapped[str] = mapped_column(ForeignKey("access_ingest.ingest_id"), index=True)
    events: Mapped[int] = mapped_column(Integer)
    root: Mapped[str] = mapped_column(String(64))  # hex
    first_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)


class QuarantinedRow(Base):
    """A malformed access-log row, kept as read, with every problem found in it."""

    __tablename__ = "access_quarantine"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ingest_id: Mapped[str] = mapped_column(ForeignKey("access_ingest.ingest_id"), index=True)
    source: Mapped[str] = mapped_column(String(300))
    line: Mapped[int] = mapped_column(Integer)
    problems: Mapped[str] = mapped_column(Text)
    raw: Mapped[str] = mapped_column(Text)  # JSON object: the cells as read, or {"line": …} (events.py)


class MonitorRun(Base):
    """One evaluation of the detectors over a window (`monitor run`, or the screen's "Run now")."""

    __tablename__ = "monitor_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor: Mapped[str] = mapped_column(String(80))
    window_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    window_to: Mapped[datetime | None] = mapped_column(UTCDateTime)
    events: Mapped[int] = mapped_column(Integer)
    about_people: Mapped[int] = mapped_column(Integer)  # events with a subject
    explained: Mapped[int] = mapped_column(Integer)
    explained_by: Mapped[str] = mapped_column(Text, default="{}")  # JSON: cited_case, assigned_case, …
    alerts: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Alert(Base):
    """Accesses by one member of staff to one subject (or one staff's search volume) that the detectors
    flagged, grouped over time. `alert_id` is stable across runs, so triage survives a re-run."""

    __tablename__ = "alert"
    __table_args__ = (Index("ix_alert_status_score", "status", "score"),)

    alert_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    staff_id: Mapped[str] = mapped_column(String(32), index=True)
    subject_id: Mapped[str | None] = mapped_column(String(64), index=True)
    rules: Mapped[str] = mapped_column(String(300))  # `;` list of rule codes
    score: Mapped[int] = mapped_column(Integer)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)
    events: Mapped[int] = mapped_column(Integer)
    explanation: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # new / dismissed / investigating / closed
    dismissal_reason: Mapped[str | None] = mapped_column(Text)
    triaged_by: Mapped[str | None] = mapped_column(String(32))
    triaged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    investigation_id: Mapped[int | None] = mapped_column(ForeignKey("investigation.id"), index=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("monitor_run.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AlertEvent(Base):
    """An access in an alert, with the rules it met and its explanation (or why none was found)."""

    __tablename__ = "alert_event"

    alert_id: Mapped[str] = mapped_column(ForeignKey("alert.alert_id"), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    system: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    case_ref: Mapped[str | None] = mapped_column(String(64))
    rules: Mapped[str] = mapped_column(String(300))
    explanation: Mapped[str] = mapped_column(Text)
    batch_id: Mapped[str] = mapped_column(String(48))


class Investigation(Base):
    """Alerts grouped for the counter-corruption unit: notes, an outcome, an evidence pack."""

    __tablename__ = "investigation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)  # INV/NNN/YY
    title: Mapped[str] = mapped_column(String(200))
    staff_id: Mapped[str] = mapped_column(String(32), index=True)  # the member of staff investigated
    status: Mapped[str] = mapped_column(String(16))  # open / closed
    outcome: Mapped[str | None] = mapped_column(String(32))
    outcome_reason: Mapped[str | None] = mapped_column(Text)
    opened_by: Mapped[str] = mapped_column(String(32))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_by: Mapped[str | None] = mapped_column(String(32))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class InvestigationNote(Base):
    __tablename__ = "investigation_note"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    investigation_id: Mapped[int] = mapped_column(ForeignKey("investigation.id"), index=True)
    author: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class IdentityReveal(Base):
    """Alerts show staff pseudonymously during triage; revealing who it is needs a recorded reason."""

    __tablename__ = "identity_reveal"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[str] = mapped_column(ForeignKey("alert.alert_id"), index=True)
    revealed_to: Mapped[str] = mapped_column(String(32), index=True)
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
