"""Workforce value types."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from custodes.identity.permissions import Role
from custodes.registers import ImportSummary

__all__ = [
    "COURSE_COLUMNS",
    "DECLARATION_COLUMNS",
    "PERSON_DECLARATIONS",
    "STAFF_COLUMNS",
    "TRAINING_COLUMNS",
    "UNDECIDED_VETTING",
    "VETTING_COLUMNS",
    "CourseGate",
    "DeclarationKind",
    "DeclarationView",
    "DiscloserReadiness",
    "ImportSummary",
    "Relationship",
    "StaffRecord",
    "StaffView",
    "SubjectRef",
    "TrainingStatus",
    "VettingStatus",
    "VettingView",
]

STAFF_COLUMNS = (
    "staff_id",
    "surname",
    "forenames",
    "date_of_birth",
    "role",
    "team_id",
    "area_code",
    "line_manager_id",
    "home_postcode",
    "home_lat",
    "home_lon",
)


@dataclass(frozen=True, slots=True)
class StaffRecord:
    """A validated staff row, ready to store."""

    staff_id: str
    surname: str
    forenames: str
    date_of_birth: date | None
    roles: frozenset[Role]
    team_id: str | None
    area_code: str | None
    line_manager_id: str | None
    home_postcode: str | None
    home_lat: float | None
    home_lon: float | None

    @property
    def display_name(self) -> str:
        return f"{self.forenames} {self.surname}"


@dataclass(frozen=True, slots=True)
class StaffView:
    staff_id: str
    name: str
    date_of_birth: date | None
    team_id: str | None
    area_code: str | None
    line_manager_id: str | None
    line_manager_name: str | None


# --------------------------------------------------------------------------- training, vetting, declarations

COURSE_COLUMNS = ("course_code", "title", "mandatory_for", "validity_months", "gates")
TRAINING_COLUMNS = ("staff_id", "course_code", "completed_on")
VETTING_COLUMNS = ("staff_id", "level", "status", "decided_on", "expires_on")
DECLARATION_COLUMNS = (
    "declaration_id",
    "staff_id",
    "kind",
    "subject_id",
    "surname",
    "forenames",
    "date_of_birth",
    "postcode",
    "relationship",
    "declared_at",
)


class CourseGate(StrEnum):
    SYSTEM_ACCESS = "system_access"
    DISCLOSURE = "disclosure"


class VettingStatus(StrEnum):
    APPLIED = "applied"
    IN_PROGRESS = "in_progress"
    GRANTED = "granted"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"
    LAPSED = "lapsed"


UNDECIDED_VETTING = frozenset({VettingStatus.APPLIED, VettingStatus.IN_PROGRESS})


class DeclarationKind(StrEnum):
    CONFLICT_OF_INTEREST = "conflict_of_interest"
    REPORTABLE_ASSOCIATION = "reportable_association"
    BUSINESS_INTEREST = "business_interest"
    GIFT_HOSPITALITY = "gift_hospitality"


# The kinds that name a person (workforce.md): the gate and the disclosure rules match subjects against them.
PERSON_DECLARATIONS = frozenset(
    {DeclarationKind.CONFLICT_OF_INTEREST, DeclarationKind.REPORTABLE_ASSOCIATION}
)


class Relationship(StrEnum):
    NEIGHBOUR = "neighbour"
    RELATIVE = "relative"
    PARTNER = "partner"
    EX_PARTNER = "ex_partner"
    FRIEND = "friend"
    ACQUAINTANCE = "acquaintance"
    BUSINESS = "business"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class SubjectRef:
    """A person as a requester names them: by id, or by name with date of birth and/or postcode."""

    subject_id: str | None = None
    surname: str | None = None
    forenames: str | None = None
    date_of_birth: date | None = None
    postcode: str | None = None


@dataclass(frozen=True, slots=True)
class DiscloserReadiness:
    """Whether a member of staff may take part in a disclosure on a date (disclosure.md DISCLOSER_*)."""

    staff_id: str
    known: bool  # in the staff register
    roles: frozenset[str]
    area_code: str | None
    training_current: bool
    missing_training: tuple[
        str, ...
    ]  # titles of disclosure-gating courses missing or expired, by course code
    vetting_current: bool


@dataclass(frozen=True, slots=True)
class DeclarationView:
    declaration_id: str
    staff_id: str
    kind: str
    subject_id: str | None
    name: str | None  # "forenames surname" as declared, if a name was given
    relationship: str | None
    declared_at: datetime


@dataclass(frozen=True, slots=True)
class TrainingStatus:
    """One course on a person's training record: those that apply to their roles and those they did."""

    course_code: str
    title: str
    gates: frozenset[str]
    mandatory: bool  # mandatory for one of the person's roles (or for everyone)
    last_completed_on: date | None
    expires_on: date | None  # None: never expires, or never completed
    current: bool


@dataclass(frozen=True, slots=True)
class VettingView:
    level: str
    status: str
    decided_on: date | None
    expires_on: date | None
