"""Workforce tables."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from custodes.kit.db import Base, UTCDateTime


class Staff(Base):
    """A member of the workforce. Roles and log-in live in identity; this is the personnel record."""

    __tablename__ = "staff"

    staff_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    surname: Mapped[str] = mapped_column(String(100), index=True)
    forenames: Mapped[str] = mapped_column(String(100))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    team_id: Mapped[str | None] = mapped_column(String(32), index=True)
    area_code: Mapped[str | None] = mapped_column(String(8), index=True)
    line_manager_id: Mapped[str | None] = mapped_column(String(32), index=True)
    home_postcode: Mapped[str | None] = mapped_column(String(10))
    home_lat: Mapped[float | None] = mapped_column(Float)
    home_lon: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Course(Base):
    """A training course. `mandatory_for` and `gates` are sorted `;` lists (empty mandatory_for: everyone)."""

    __tablename__ = "course"

    course_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    mandatory_for: Mapped[str] = mapped_column(String(200))
    validity_months: Mapped[int | None] = mapped_column(Integer)  # None: never expires
    gates: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TrainingCompletion(Base):
    """One completion of a course. `training_key` is `staff_id/course_code/completed_on` (the natural key)."""

    __tablename__ = "training_completion"
    __table_args__ = (Index("ix_training_completion_staff_course", "staff_id", "course_code"),)

    training_key: Mapped[str] = mapped_column(String(80), primary_key=True)
    staff_id: Mapped[str] = mapped_column(String(32))
    course_code: Mapped[str] = mapped_column(String(32), index=True)
    completed_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Vetting(Base):
    """One vetting application and its decision. `vetting_key` is `staff_id/level/decided_on`, with
    `pending` in place of the date while the application is undecided."""

    __tablename__ = "vetting"

    vetting_key: Mapped[str] = mapped_column(String(80), primary_key=True)
    staff_id: Mapped[str] = mapped_column(String(32), index=True)
    level: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    decided_on: Mapped[date | None] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)  # None: does not expire
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Declaration(Base):
    """A written declaration to a supervisor (workforce.md). Person kinds name a subject by id or name."""

    __tablename__ = "declaration"

    declaration_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str | None] = mapped_column(String(64), index=True)
    surname: Mapped[str | None] = mapped_column(String(100))
    forenames: Mapped[str | None] = mapped_column(String(100))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    postcode: Mapped[str | None] = mapped_column(String(10))
    relationship: Mapped[str | None] = mapped_column(String(16))
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
