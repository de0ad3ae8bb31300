"""Monitoring tables: nominals (people in police records), cases and their people, rostered duty."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Float, Index, String, Text
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
