"""Workforce tables."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from custodes.kit.crypto import EncryptedFloat, EncryptedString
from custodes.kit.db import Base, UTCDateTime

HOME_LOCATION = "home_location"  # the deferred group of Staff's encrypted home columns


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
    # Where they live: encrypted at rest (kit/crypto.py; docs/security.md), so never filtered on in SQL, and
    # deferred: loaded (and decrypted) when read, or with undefer_group(HOME_LOCATION), not with every Staff.
    home_postcode: Mapped[str | None] = mapped_column(
        EncryptedString("staff.home_postcode"), deferred=True, deferred_group=HOME_LOCATION
    )
    home_lat: Mapped[float | None] = mapped_column(
        EncryptedFloat("staff.home_lat"), deferred=True, deferred_group=HOME_LOCATION
    )
    home_lon: Mapped[float | None] = mapped_column(
        EncryptedFloat("staff.home_lon"), deferred=True, deferred_group=HOME_LOCATION
    )
    collar_number: Mapped[str | None] = mapped_column(String(16))
    rank: Mapped[str | None] = mapped_column(String(40))
    start_date: Mapped[date | None] = mapped_column(Date)
    leave_date: Mapped[date | None] = mapped_column(Date)  # the last day of service
    # A protected characteristic used only for vetting disparity monitoring, shown only in aggregate:
    # White, Black, Asian, Mixed, Other (the census groups of imports.md `population`), or None.
    ethnicity_group: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Team(Base):
    """A team's name (and the area it belongs to), so that screens show "North Division Response Team A
    (NA-RESP1)" rather than the bare id the staff register and cases carry. Reference data: filled by
    `custodes import teams` and the demo; a team id with no row here is shown as the id."""

    __tablename__ = "team"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    area_code: Mapped[str | None] = mapped_column(String(8))
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
    # The outcome of the decision as made (granted or refused; None while undecided, or when the row
    # arrived already lapsed or withdrawn). Set when a file gives the row one of those two statuses; a
    # later status (granted → lapsed, withdrawn) never touches it, so the disparity table keeps counting
    # the decision that was made.
    decision: Mapped[str | None] = mapped_column(String(16))
    decided_on: Mapped[date | None] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)  # None: does not expire
    applied_on: Mapped[date | None] = mapped_column(
        Date
    )  # optional import column; backlog age counts from it
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
    # Made on a screen (imported declarations leave these empty): what it is, in the declarer's words.
    description: Mapped[str | None] = mapped_column(Text)
    organisation: Mapped[str | None] = mapped_column(String(200))  # the business, or who offered the gift
    value_pounds: Mapped[int | None] = mapped_column(Integer)  # a gift's or hospitality's estimated value
    gift_accepted: Mapped[bool | None] = mapped_column(Boolean)
    # The supervisor's decision (DeclarationStatus); None for imported declarations decided elsewhere.
    status: Mapped[str | None] = mapped_column(String(32), index=True)
    decided_by: Mapped[str | None] = mapped_column(String(32))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    conditions: Mapped[str | None] = mapped_column(Text)
    decision_reasons: Mapped[str | None] = mapped_column(Text)
    review_on: Mapped[date | None] = mapped_column(Date)
    # An update of a decided declaration names the one it replaces; that one stays in force until this is
    # decided, then is ended as replaced.
    replaces_id: Mapped[str | None] = mapped_column(String(64), index=True)
    # DeclarationEnd: withdrawn (the line manager accepted a request) or replaced; None while in force. An
    # ended declaration is no longer matched at the pre-access gate.
    ended: Mapped[str | None] = mapped_column(String(16))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A request to withdraw it, waiting for the line manager (it stays in force until they decide).
    withdrawal_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DeclarationHistory(Base):
    """What happened to a declaration after it was made, for its page: a correction (`changes`: JSON, the
    fields with their values before and after, and the person as declared before), a withdrawal request
    and its decision (`reason`), an update sent or the declaration replaced (`reason`: the other id)."""

    __tablename__ = "declaration_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    declaration_id: Mapped[str] = mapped_column(String(64), index=True)
    event: Mapped[str] = mapped_column(String(32))  # DeclarationEvent
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    by: Mapped[str] = mapped_column(String(32))  # staff id
    reason: Mapped[str | None] = mapped_column(Text)
    changes: Mapped[str | None] = mapped_column(Text)


class Referral(Base):
    """A pre-access check that was referred (`DECLARED_CONFLICT`, `SELF`): the line manager runs the search
    on the requester's behalf and records the interaction and advice (seed 002, 2.2.11–2.2.12)."""

    __tablename__ = "referral"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_id: Mapped[str] = mapped_column(String(32), index=True)  # the requester
    manager_id: Mapped[str | None] = mapped_column(String(32), index=True)  # None: any supervisor
    system: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str | None] = mapped_column(String(64))
    subject_name: Mapped[str | None] = mapped_column(String(210))  # as shown: forenames then surname
    # As given, to match handlers against (a name-only referral has nothing else to check them by).
    subject_surname: Mapped[str | None] = mapped_column(String(100))
    subject_forenames: Mapped[str | None] = mapped_column(String(100))
    subject_date_of_birth: Mapped[date | None] = mapped_column(Date)
    subject_postcode: Mapped[str | None] = mapped_column(String(10))
    purpose: Mapped[str | None] = mapped_column(String(200))
    case_ref: Mapped[str | None] = mapped_column(String(64))
    codes: Mapped[str] = mapped_column(String(100))  # sorted `;` list of the gate's refer codes
    declaration_ids: Mapped[str] = mapped_column(Text)  # `;` list of the matching declarations
    status: Mapped[str] = mapped_column(String(16), index=True)  # open / closed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(32))
    search_done: Mapped[str | None] = mapped_column(
        Text
    )  # what the manager searched (not shown to requester)
    interaction: Mapped[str | None] = mapped_column(Text)
    advice: Mapped[str | None] = mapped_column(Text)
    closed_by: Mapped[str | None] = mapped_column(String(32))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
