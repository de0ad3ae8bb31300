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
    "ReferralView",
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
# Optional staff columns (workforce.md "Records"): a file without one leaves the stored values alone.
# `ethnicity_group` is a protected characteristic used only for disparity monitoring.
STAFF_OPTIONAL = ("collar_number", "rank", "start_date", "leave_date", "ethnicity_group")
ETHNICITY_GROUPS = ("White", "Black", "Asian", "Mixed", "Other")  # as imports.md `population`
# `custodes import teams` (workforce.md "Teams"): a team's name, and optionally its area.
TEAM_COLUMNS = ("team_id", "name")
TEAM_OPTIONAL = ("area_code",)


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
    collar_number: str | None = None
    rank: str | None = None
    start_date: date | None = None
    leave_date: date | None = None
    ethnicity_group: str | None = None

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
    collar_number: str | None = None
    rank: str | None = None
    start_date: date | None = None
    leave_date: date | None = None


# --------------------------------------------------------------------------- training, vetting, declarations

COURSE_COLUMNS = ("course_code", "title", "mandatory_for", "validity_months", "gates")
TRAINING_COLUMNS = ("staff_id", "course_code", "completed_on")
VETTING_COLUMNS = ("staff_id", "level", "status", "decided_on", "expires_on")
VETTING_OPTIONAL = ("applied_on",)
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
# The statuses that are the outcome of a vetting decision (`Vetting.decision`, the disparity table).
DECISION_OUTCOMES = frozenset({VettingStatus.GRANTED, VettingStatus.REFUSED})
# The vetting levels a file may give (workforce.md: e.g. RV, MV, NPPV 1–3, SC, DV; with the national
# security CTC), as stored: upper case without spaces, hyphens or underscores ("NPPV 3", "nppv-3": NPPV3).
VETTING_LEVELS = ("RV", "NPPV1", "NPPV2", "NPPV3", "MV", "CTC", "SC", "DV")


def normalise_vetting_level(value: str) -> str:
    """A vetting level as stored and compared: upper case, without spaces, hyphens or underscores."""
    return "".join(ch for ch in value if ch not in " _-\t").upper()


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


# --------------------------------------------------------------------------- training compliance


class TrainingState(StrEnum):
    CURRENT = "current"
    DUE_SOON = "due_soon"  # current today, expires within the window
    OUT_OF_DATE = "out_of_date"  # never completed, or expired


@dataclass(frozen=True, slots=True)
class ComplianceCounts:
    """People, each counted once by their worst mandatory course: out of date, else due soon, else current."""

    label: str
    staff: int = 0
    current: int = 0
    due_soon: int = 0
    out_of_date: int = 0

    def percent(self, count: int) -> float:
        return 100.0 * count / self.staff if self.staff else 0.0

    @property
    def compliant_percent(self) -> float:
        """Current today, including those due soon."""
        return self.percent(self.current + self.due_soon)


@dataclass(frozen=True, slots=True)
class CourseCompliance:
    course_code: str
    title: str
    gates: frozenset[str]
    required: int  # people the course is mandatory for
    current: int
    due_soon: int
    out_of_date: int


@dataclass(frozen=True, slots=True)
class TrainingDashboard:
    on: date
    within_days: int
    force: ComplianceCounts
    areas: list[ComplianceCounts]  # label: area code
    teams: dict[str, list[ComplianceCounts]]  # area code → its teams (label: team id)
    courses: list[CourseCompliance]


@dataclass(frozen=True, slots=True)
class CourseState:
    course_code: str
    title: str
    state: TrainingState
    last_completed_on: date | None
    expires_on: date | None


@dataclass(frozen=True, slots=True)
class MemberTraining:
    staff_id: str
    name: str
    state: TrainingState  # the worst of `courses`
    courses: list[CourseState]  # mandatory courses only


# --------------------------------------------------------------------------- vetting oversight


@dataclass(frozen=True, slots=True)
class RenewalDue:
    staff_id: str
    name: str
    team_id: str | None
    area_code: str | None
    level: str
    expires_on: date
    days_left: int  # negative: already expired
    renewal_applied: bool  # an application at the same level is open


AGE_BANDS: tuple[tuple[int, int | None, str], ...] = (
    (0, 30, "Up to 30 days"),
    (31, 60, "31–60 days"),
    (61, 90, "61–90 days"),
    (91, 180, "91–180 days"),
    (181, None, "Over 180 days"),
)


@dataclass(frozen=True, slots=True)
class BacklogCase:
    staff_id: str
    name: str
    team_id: str | None
    level: str
    status: str
    applied_on: date
    age_days: int


@dataclass(frozen=True, slots=True)
class Backlog:
    on: date
    bands: tuple[str, ...]
    counts: dict[str, list[int]]  # stage (applied, in_progress) → count per band
    oldest: list[BacklogCase]

    @property
    def total(self) -> int:
        return sum(sum(row) for row in self.counts.values())

    def band_total(self, band: int) -> int:
        return sum(row[band] for row in self.counts.values())


@dataclass(frozen=True, slots=True)
class DisparityRow:
    group: str
    decisions: int | None  # None: suppressed
    refused: int | None
    rate: float | None  # refusals per decision, 0–1
    ratio: float | None  # rate / the reference group's rate
    low: float | None  # 95% confidence interval of the ratio
    high: float | None
    reference: bool = False
    suppressed: bool = False
    note: str = ""

    @property
    def reading(self) -> str:
        """Plain English: does the interval show a difference from the reference group?"""
        if self.reference or self.ratio is None or self.low is None or self.high is None:
            return ""
        if self.low > 1:
            return "refused more often"
        if self.high < 1:
            return "refused less often"
        return "no clear difference"


@dataclass(frozen=True, slots=True)
class DisparityTable:
    since: date
    until: date
    reference: str
    threshold: int
    rows: list[DisparityRow]
    not_recorded: int  # decisions about people with no group recorded (counted, not compared)


# --------------------------------------------------------------------------- declarations made on screen


class DeclarationStatus(StrEnum):
    AWAITING = "awaiting_decision"
    APPROVED = "approved"
    APPROVED_WITH_CONDITIONS = "approved_with_conditions"
    REJECTED = "rejected"


class DeclarationEnd(StrEnum):
    """Why a declaration is no longer in force (no longer matched at the pre-access gate)."""

    WITHDRAWN = "withdrawn"  # the line manager accepted the declarer's request
    REPLACED = "replaced"  # an update of it was decided


class DeclarationEvent(StrEnum):
    CORRECTED = "corrected"  # by the declarer, while awaiting the decision
    WITHDRAWAL_REQUESTED = "withdrawal_requested"
    WITHDRAWAL_ACCEPTED = "withdrawal_accepted"
    WITHDRAWAL_REFUSED = "withdrawal_refused"
    UPDATE_SENT = "update_sent"  # a new declaration replacing this one was made (reason: its id)
    REPLACED = "replaced"  # that update was approved (reason: its id)
    # That update was rejected: this one stays in force (on the replaced one, reason: the update's id; on the
    # update, reason: the replaced one's id).
    UPDATE_REJECTED = "update_rejected"


@dataclass(frozen=True, slots=True)
class DeclarationChange:
    """One field changed: its name, and the values before and after as shown (text, "" for none)."""

    field: str
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    event: str  # DeclarationEvent
    at: datetime
    by: str  # staff id
    by_name: str | None
    reason: str | None
    changes: tuple[DeclarationChange, ...] = ()


DECISIONS = (
    DeclarationStatus.APPROVED,
    DeclarationStatus.APPROVED_WITH_CONDITIONS,
    DeclarationStatus.REJECTED,
)
# The registers that may be published with personal details removed (workforce.md), by URL name.
PUBLISHABLE = {
    "gifts-and-hospitality": DeclarationKind.GIFT_HOSPITALITY,
    "business-interests": DeclarationKind.BUSINESS_INTEREST,
}


@dataclass(frozen=True, slots=True)
class DeclarationForm:
    """What a member of staff writes on the declaration screen (text as typed; the service validates)."""

    kind: str = ""
    subject_id: str = ""
    surname: str = ""
    forenames: str = ""
    date_of_birth: str = ""
    postcode: str = ""
    relationship: str = ""
    description: str = ""
    organisation: str = ""
    value_pounds: str = ""
    gift_accepted: str = ""  # "accepted" / "declined"
    # Ticked: "I don't know their date of birth or postcode" (a person declared by name alone).
    name_only: str = ""


@dataclass(frozen=True, slots=True)
class DeclarationDetail:
    declaration_id: str
    staff_id: str
    staff_name: str
    team_id: str | None
    area_code: str | None
    line_manager_id: str | None
    kind: str
    subject_id: str | None
    person_name: str | None
    date_of_birth: date | None
    postcode: str | None
    relationship: str | None
    description: str | None
    organisation: str | None
    value_pounds: int | None
    gift_accepted: bool | None
    declared_at: datetime
    status: str | None  # None: imported, decided outside Custodes
    decided_by: str | None
    decided_at: datetime | None
    conditions: str | None
    decision_reasons: str | None
    review_on: date | None
    # The person declared is the declarer's line manager (their staff id, a record flagged as them, or their
    # name with their date of birth or home postcode): the manager may not decide it.
    about_line_manager: bool = False
    replaces_id: str | None = None  # the declaration this one updates
    ended: str | None = None  # DeclarationEnd; None while in force
    ended_at: datetime | None = None
    withdrawal_requested_at: datetime | None = None  # a request waiting for the line manager
    withdrawal_reason: str | None = None
    # How many times the declarer has corrected it: part of `service.decision_version`, so a decision made on
    # a page opened before a correction is refused.
    corrections: int = 0

    @property
    def awaiting(self) -> bool:
        return self.status == DeclarationStatus.AWAITING and self.ended is None

    @property
    def by_name_only(self) -> bool:
        """A conflict or association naming its person by name alone (no subject id, date of birth or
        postcode): the pre-access gate matches it by the person's full name, so every search of anyone with
        that name is referred to the line manager (`service.declared_matches`)."""
        return (
            self.kind in PERSON_DECLARATIONS
            and not self.subject_id
            and self.date_of_birth is None
            and not self.postcode
        )


@dataclass(frozen=True, slots=True)
class PublishedDeclaration:
    """A register line with personal details removed: no names, ids, team or free-text conditions."""

    declared_on: date
    area_code: str | None
    organisation: str | None
    description: str | None
    value_pounds: int | None
    gift_accepted: bool | None
    outcome: str


# --------------------------------------------------------------------------- pre-access gate referrals


@dataclass(frozen=True, slots=True)
class ReferralLink:
    """A referral the gate opened because of a declaration, as the declaration's page lists it."""

    referral_id: int
    status: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ReferralView:
    """A referral as a screen shows it. `search_done` and `interaction` are for the manager's screen only."""

    id: int
    staff_id: str
    staff_name: str | None
    manager_id: str | None
    system: str
    subject_id: str | None
    subject_name: str | None
    subject_date_of_birth: date | None
    subject_postcode: str | None
    purpose: str | None
    case_ref: str | None
    codes: tuple[str, ...]
    declaration_ids: tuple[str, ...]
    status: str
    created_at: datetime
    outcome: str | None
    search_done: str | None
    interaction: str | None
    advice: str | None
    closed_by: str | None
    closed_at: datetime | None


# --------------------------------------------------------------------------- what needs doing (home, /me)


@dataclass(frozen=True, slots=True)
class NextStep:
    """A course or vetting level of one's own that has lapsed or lapses soon, with what to do about it and
    what it stops (the rules of discloser readiness and the pre-access gate, in words)."""

    kind: str  # "training" or "vetting"
    key: str  # the course code or the vetting level
    title: str  # "Data protection: annual refresher", "NPPV3 vetting"
    lapsed: bool  # out of date (expired or never done) now; else it lapses within the window
    on: date | None  # the day it expired or expires; None: never completed
    to_do: str  # what to do, in words
    blocks: str  # what it stops while lapsed, in words (a whole sentence)
    applied: bool = False  # vetting: a renewal application at this level is open


@dataclass(frozen=True, slots=True)
class VettingSummary:
    """One person's vetting on a day: each level's latest grant (level, expires on; None: does not expire),
    those expired and not since granted again, and levels with an application open."""

    held: tuple[tuple[str, date | None], ...]
    expired: tuple[tuple[str, date], ...]
    applied: tuple[str, ...]

    def expiring_within(self, on: date, days: int) -> tuple[tuple[str, date], ...]:
        return tuple(
            (level, expires)
            for level, expires in self.held
            if expires is not None and (expires - on).days <= days
        )


@dataclass(frozen=True, slots=True)
class PeopleCounts:
    """How many of a group of people have training or vetting to see to (counts only: not logged)."""

    people: int
    training_out_of_date: int
    training_due: int
    vetting_expired: int
    vetting_due: int
