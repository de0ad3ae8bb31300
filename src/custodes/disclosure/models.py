"""Disclosure tables: requests through their lifecycle, references, reviews, corrections and retention."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from custodes.kit.db import Base, UTCDateTime


class Disclosure(Base):
    """One disclosure, draft to destruction. `document` is the request JSON (schemas.DisclosureRequest)."""

    __tablename__ = "disclosure"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reference: Mapped[str | None] = mapped_column(String(24), unique=True)
    route: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), index=True)
    area_code: Mapped[str] = mapped_column(String(8), index=True)
    requested_by: Mapped[str] = mapped_column(String(32), index=True)
    subject_id: Mapped[str | None] = mapped_column(String(64), index=True)  # None once erased
    document: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    authorised_by: Mapped[str | None] = mapped_column(String(32))
    authorised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refused_by: Mapped[str | None] = mapped_column(String(32))
    refused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refusal_reason: Mapped[str | None] = mapped_column(Text)
    released_by: Mapped[str | None] = mapped_column(String(32))
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_due: Mapped[date | None] = mapped_column(Date, index=True)
    completion_due: Mapped[datetime | None] = mapped_column(UTCDateTime)  # emergency route
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # refused, withdrawn or expired
    legal_hold: Mapped[str | None] = mapped_column(Text)  # the reason, while a hold applies
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DisclosureRecipient(Base):
    __tablename__ = "disclosure_recipient"

    disclosure_id: Mapped[int] = mapped_column(ForeignKey("disclosure.id"), primary_key=True)
    recipient_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    undertaking_signed_on: Mapped[date | None] = mapped_column(Date)
    receipt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DisclosedSource(Base):
    """What each released item drew on, so a correction finds every disclosure that carried it."""

    __tablename__ = "disclosed_source"
    __table_args__ = (Index("ix_disclosed_source_record", "system", "record_id"),)

    disclosure_id: Mapped[int] = mapped_column(ForeignKey("disclosure.id"), primary_key=True)
    item_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    system: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[str] = mapped_column(String(200))
    content_sha256: Mapped[str] = mapped_column(String(64), index=True)


class ReferenceCounter(Base):
    """The last reference number issued per area (K10 8.3: consecutive, never restarting at the new year)."""

    __tablename__ = "disclosure_reference_counter"

    area_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)


class DisclosureEvent(Base):
    """The case history a screen shows. The ledger holds the proof; this is the readable timeline."""

    __tablename__ = "disclosure_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    disclosure_id: Mapped[int] = mapped_column(ForeignKey("disclosure.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)


class DisclosureReview(Base):
    __tablename__ = "disclosure_review"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    disclosure_id: Mapped[int] = mapped_column(ForeignKey("disclosure.id"), index=True)
    reviewed_by: Mapped[str] = mapped_column(String(32))
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[str] = mapped_column(Text)
    next_review: Mapped[date | None] = mapped_column(Date)


class Correction(Base):
    """A disclosed fact or a source record reported inaccurate (K10 8.7b, DPA 2018 s.38(5))."""

    __tablename__ = "disclosure_correction"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reported_by: Mapped[str] = mapped_column(String(32))
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    system: Mapped[str | None] = mapped_column(String(64))
    record_id: Mapped[str | None] = mapped_column(String(200))
    content_sha256: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text)
    correct_text: Mapped[str | None] = mapped_column(Text)


class Notice(Base):
    """A correction or withdrawal notice to one recipient of one disclosure, until acknowledged."""

    __tablename__ = "disclosure_notice"
    __table_args__ = (UniqueConstraint("kind", "correction_id", "disclosure_id", "recipient_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    disclosure_id: Mapped[int] = mapped_column(ForeignKey("disclosure.id"), index=True)
    recipient_id: Mapped[str] = mapped_column(String(64))
    correction_id: Mapped[int | None] = mapped_column(ForeignKey("disclosure_correction.id"), index=True)
    issued_by: Mapped[str] = mapped_column(String(32))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_note: Mapped[str | None] = mapped_column(Text)


class RetentionRule(Base):
    """How long a kind of record is kept after it closes (defaults in service.RETENTION_DEFAULTS)."""

    __tablename__ = "retention_rule"

    record_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    keep_days: Mapped[int] = mapped_column(Integer)
    basis: Mapped[str] = mapped_column(Text)
    changed_by: Mapped[str] = mapped_column(String(32))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Disposal(Base):
    """One run of the disposal job: what it erased, for the record."""

    __tablename__ = "disposal_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_by: Mapped[str] = mapped_column(String(32))
    run_at: Mapped[datetime] = mapped_column(UTCDateTime)
    erased: Mapped[int] = mapped_column(Integer)
    held: Mapped[int] = mapped_column(Integer)
    redacted_entries: Mapped[int] = mapped_column(Integer)
    dry_run: Mapped[bool] = mapped_column(Boolean)
