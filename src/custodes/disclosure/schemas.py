"""Disclosure value types: the request document (disclosure.md), findings, and what screens show.

The request is the JSON the API and `custodes disclosure check` accept, and also what a draft stores: one
shape from the first keystroke to the released record. Unknown keys are refused by name, so a misspelt
field is never silently ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, StringConstraints, ValidationError

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20_000)]
Identifier = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class Route(StrEnum):
    COMPETENT_AUTHORITY = "competent_authority"
    AGREEMENT = "agreement"
    ONE_OFF = "one_off"
    PARTNERSHIP_SCHEME = "partnership_scheme"
    EMERGENCY = "emergency"


ROUTE_TITLES = {
    Route.COMPETENT_AUTHORITY: "Competent authority (e.g. Probation, another force)",
    Route.AGREEMENT: "Under an information sharing agreement",
    Route.ONE_OFF: "One-off share (no agreement covers it)",
    Route.PARTNERSHIP_SCHEME: "Crime-reduction scheme (ShopWatch, PubWatch …)",
    Route.EMERGENCY: "Emergency: urgent sharing to prevent serious harm",
}


class ItemKind(StrEnum):
    PHOTO = "photo"
    NAME = "name"
    DESCRIPTION = "description"
    DATE_OF_BIRTH = "date_of_birth"
    ADDRESS = "address"
    INTELLIGENCE_SUMMARY = "intelligence_summary"
    OFFENDING_INDICATION = "offending_indication"
    WARNING_PHRASE = "warning_phrase"
    PREVIOUS_CONVICTIONS = "previous_convictions"
    PNC_WARNING_SIGNAL = "pnc_warning_signal"
    OTHER = "other"


class SourceKind(StrEnum):
    SYSTEM_RECORD = "system_record"
    DOCUMENT = "document"
    VERBAL = "verbal"
    BRIEFING = "briefing"


class Purpose(StrEnum):
    PREVENTION_OF_CRIME = "prevention_of_crime"
    DETECTION_OF_CRIME = "detection_of_crime"
    INVESTIGATION = "investigation"
    PROSECUTION = "prosecution"
    EXECUTION_OF_PENALTIES = "execution_of_penalties"
    PROTECTION_OF_PUBLIC = "protection_of_public"
    APPREHENSION = "apprehension"
    SAFEGUARDING = "safeguarding"
    OFFENDER_MANAGEMENT = "offender_management"


class Nature(StrEnum):
    FACT = "fact"
    ASSESSMENT = "assessment"


class PersonCategory(StrEnum):
    SUSPECT = "suspect"
    CONVICTED = "convicted"
    VICTIM = "victim"
    WITNESS = "witness"
    OTHER = "other"


class OffenceOutcome(StrEnum):
    CHARGED = "charged"
    CONVICTED = "convicted"
    CAUTIONED = "cautioned"
    NO_FURTHER_ACTION = "no_further_action"
    NOT_KNOWN = "not_known"


class OutcomeKind(StrEnum):
    CONVICTION = "conviction"
    CAUTION = "caution"
    FINAL_WARNING = "final_warning"
    REPRIMAND = "reprimand"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Photo(_Strict):
    custody_image: bool = False
    offence_outcome: OffenceOutcome = OffenceOutcome.NOT_KNOWN
    held_on: Text | None = None


class Source(_Strict):
    system: Text | None = None
    record_id: Text | None = None
    kind: SourceKind
    obtained_at: AwareDatetime | None = None


class Verification(_Strict):
    by: Identifier
    at: AwareDatetime
    method: Text | None = None


class Item(_Strict):
    kind: ItemKind
    content: Text = ""
    nature: Nature | None = None
    person_category: PersonCategory | None = None
    special_category: bool = False
    sensitive_condition: Text | None = None
    strictly_necessary: Text | None = None
    photo: Photo | None = None
    source: Source | None = None
    verified: Verification | None = None


class Intelligence(_Strict):
    record_id: Identifier
    recorded_at: date
    grading: Text | None = None
    summary: Text | None = None


Day = date  # a field below is called `date`


class PreviousOutcome(_Strict):
    kind: OutcomeKind
    record_id: Text | None = None
    date: Day | None = None


class RiskAssessment(_Strict):
    risks: Text | None = None
    plan: Text | None = None


class Japan(_Strict):
    """The JAPAN decision record (K10 6.4.1)."""

    justified: Text | None = None
    authorised: Text | None = None
    proportionate: Text | None = None
    auditable: Text | None = None
    necessary: Text | None = None


JAPAN_QUESTIONS = {
    "justified": "Justified: why is disclosure justified?",
    "authorised": "Authorised: under what authority?",
    "proportionate": "Proportionate: why is it proportionate to the risk?",
    "auditable": "Auditable: where is the decision recorded?",
    "necessary": "Necessary: why is it necessary, and could less do?",
}


class Authorisation(_Strict):
    by: Identifier
    at: AwareDatetime


class Undertaking(_Strict):
    recipient: Identifier
    signed_at: date


class DisclosureRequest(_Strict):
    route: Route
    requested_by: Identifier
    subject: Identifier
    recipients: list[Identifier] = []
    scheme: Identifier | None = None
    agreement: Identifier | None = None
    purpose: Purpose
    lawful_basis: Text | None = None
    rationale: Text | None = None
    items: list[Item] = []
    intelligence: list[Intelligence] = []
    previous_outcomes: list[PreviousOutcome] = []
    risk_assessment: RiskAssessment | None = None
    japan: Japan | None = None
    danger_to_recipients: bool = False
    exclusion_notice: bool = False
    name_justification: Text | None = None
    authorisation: Authorisation | None = None
    undertakings: list[Undertaking] = []

    def as_document(self) -> dict[str, Any]:
        """The request as JSON-ready data (what a draft stores and what the API echoes)."""
        return self.model_dump(mode="json")


class RequestUnreadable(ValueError):
    """A request that cannot be checked at all: every problem names its field."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def field_problems(error: ValidationError) -> list[str]:
    """Pydantic's errors as `field.path: message`, e.g. `items.0.source.kind: Input should be ...`."""
    problems = []
    for detail in error.errors():
        where = ".".join(str(part) for part in detail["loc"]) or "request"
        message = detail["msg"]
        if detail["type"] == "extra_forbidden":
            message = "unknown field"
        problems.append(f"{where}: {message}")
    return problems


def parse_request(data: Any) -> DisclosureRequest:
    try:
        return DisclosureRequest.model_validate(data)
    except ValidationError as error:
        raise RequestUnreadable(field_problems(error)) from None


class Severity(StrEnum):
    BLOCK = "block"
    ACTION = "action"


class Decision(StrEnum):
    BLOCKED = "blocked"
    NEEDS_ACTION = "needs_action"
    READY = "ready"


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    severity: Severity
    message: str
    policy: str
    where: str | None = None  # the part of the request it concerns, e.g. "items.2" (screens, not the CLI)
    # Whose data, besides the subject's, the finding gives away (a protected person an item names, a member
    # of staff's declared conflict): showing it is a consultation of their data too. Not printed.
    about: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, str]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "policy": self.policy,
        }


@dataclass(frozen=True, slots=True)
class CheckResult:
    findings: tuple[Finding, ...]

    @property
    def decision(self) -> Decision:
        severities = {finding.severity for finding in self.findings}
        if Severity.BLOCK in severities:
            return Decision.BLOCKED
        return Decision.NEEDS_ACTION if Severity.ACTION in severities else Decision.READY

    def as_dict(self) -> dict[str, Any]:
        return {"decision": self.decision.value, "findings": [f.as_dict() for f in self.findings]}

    def codes(self) -> set[str]:
        return {finding.code for finding in self.findings}

    def for_part(self, where: str) -> list[Finding]:
        return [finding for finding in self.findings if finding.where == where]


class Status(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    AUTHORISED = "authorised"
    REFUSED = "refused"
    RELEASED = "released"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    DESTROYED = "destroyed"


STATUS_TITLES = {
    Status.DRAFT: "Draft",
    Status.SUBMITTED: "Awaiting authorisation",
    Status.AUTHORISED: "Authorised, not yet released",
    Status.REFUSED: "Refused",
    Status.RELEASED: "Released",
    Status.WITHDRAWN: "Withdrawn",
    Status.EXPIRED: "Expired",
    Status.DESTROYED: "Destroyed",
}


class ReviewOutcome(StrEnum):
    RETAIN = "retain"
    WITHDRAW = "withdraw"


class NoticeKind(StrEnum):
    CORRECTION = "correction"
    WITHDRAWAL = "withdrawal"


@dataclass(frozen=True, slots=True)
class RecipientLine:
    recipient_id: str
    name: str
    undertaking_signed_on: date | None
    receipt_at: datetime | None


@dataclass(frozen=True, slots=True)
class SubjectShown:
    """Who a request is about, as the screens show it beside the nominal id: from the nominal register
    (`disclosure.service.subjects_shown`, which logs the showing), or marked not in it."""

    subject_id: str
    known: bool  # in the nominal register
    name: str = ""  # "Adam SMITH"
    born: date | None = None
    lives_in: str = ""  # "Ashford (TN25)"; "" if not held, or for a protected person

    @property
    def short(self) -> str:
        """For lists: "Adam SMITH — N509774", or "N123 — not in the nominal register"."""
        if not self.known:
            return f"{self.subject_id} — not in the nominal register"
        return f"{self.name} — {self.subject_id}"

    @property
    def full(self) -> str:
        """For a form or a case: "Adam SMITH, born 12 Jun 1975, Ashford (TN25) — N509774"."""
        if not self.known:
            return self.short
        parts = [self.name]
        parts.append(
            f"born {self.born.day} {self.born.strftime('%b %Y')}" if self.born else "date of birth not held"
        )
        if self.lives_in:
            parts.append(self.lives_in)
        return f"{', '.join(parts)} — {self.subject_id}"


@dataclass(frozen=True, slots=True)
class DisclosureSummary:
    """A row in a queue or list: no item content, only what identifies the case."""

    id: int
    reference: str | None
    route: Route
    status: Status
    area_code: str
    requested_by: str
    subject_id: str
    recipients: tuple[str, ...]
    created_at: datetime
    submitted_at: datetime | None
    released_at: datetime | None
    review_due: date | None
    completion_due: datetime | None
    last_step: datetime | None = None  # submitted or authorised requests: when they last moved (staleness)

    @property
    def label(self) -> str:
        return self.reference or f"Request {self.id}"


@dataclass(frozen=True, slots=True)
class DisclosureDetail:
    summary: DisclosureSummary
    request: DisclosureRequest | None  # None once erased at the end of retention
    result: CheckResult
    recipients: tuple[RecipientLine, ...]
    authorised_by: str | None
    authorised_at: datetime | None
    refused_by: str | None
    refusal_reason: str | None
    released_by: str | None
    history: tuple[HistoryLine, ...] = ()
    reviews: tuple[ReviewLine, ...] = ()
    notices: tuple[NoticeLine, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class HistoryLine:
    at: datetime
    actor: str
    action: str
    note: str | None


@dataclass(frozen=True, slots=True)
class ReviewLine:
    reviewed_at: datetime
    reviewed_by: str
    outcome: ReviewOutcome
    reasons: str
    next_review: date | None


@dataclass(frozen=True, slots=True)
class NoticeLine:
    id: int
    kind: NoticeKind
    disclosure_id: int
    reference: str | None
    recipient_id: str
    issued_at: datetime
    acknowledged_at: datetime | None
    correction_id: int | None
    recipient_name: str = ""


@dataclass(frozen=True, slots=True)
class RetentionView:
    record_type: str
    keep_days: int
    basis: str
    default_days: int
    changed_by: str | None
    changed_at: datetime | None


@dataclass(frozen=True, slots=True)
class DisposalReport:
    erased: list[int]
    held: list[int]
    redacted_entries: int
    dry_run: bool


@dataclass(frozen=True, slots=True)
class CorrectableItem:
    """One released item of a disclosure, as the corrections form offers it: its number as staff count
    (from 1), its kind in words and the start of its text."""

    number: int
    kind: str  # "intelligence summary"
    text: str  # the first words of what was disclosed


@dataclass(frozen=True, slots=True)
class CorrectionTarget:
    """The disclosure a correction is being reported against, with the items it released to choose from."""

    disclosure_id: int
    label: str  # "NA/007/26", or "Request 12" before release
    released: bool
    items: tuple[CorrectableItem, ...] = ()
