"""Reference-data value types: partners, sharing agreements, crime-reduction schemes and their members.

The views are what the disclosure rule engine reads; they are frozen and carry no database state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from custodes.registers import ImportSummary

__all__ = [
    "AGREEMENT_COLUMNS",
    "AGREEMENT_KINDS",
    "AGREEMENT_STATUSES",
    "DATA_CATEGORIES",
    "DEFAULT_REVIEW_REMINDER_DAYS",
    "LAWFUL_BASIS_PATTERN",
    "LAWFUL_BASIS_WORDS",
    "MANUAL_STATUSES",
    "MAX_LAWFUL_BASIS",
    "MEMBER_COLUMNS",
    "MEMBER_OPTIONAL",
    "MEMBER_STATUSES",
    "ORGANISATION_COLUMNS",
    "ORGANISATION_KINDS",
    "ORGANISATION_OPTIONAL",
    "PURPOSES",
    "REVIEW_OUTCOMES",
    "SCHEME_COLUMNS",
    "SUGGESTED_LAWFUL_BASES",
    "AgreementStatus",
    "AgreementView",
    "DocumentInfo",
    "ImportSummary",
    "MemberView",
    "OrganisationView",
    "RecipientView",
    "ReminderView",
    "ReviewView",
    "SchemeView",
    "StoredDocument",
]

ORGANISATION_COLUMNS = ("org_id", "name", "kind", "competent_authority")
ORGANISATION_OPTIONAL = ("secure_channel", "contact")
AGREEMENT_COLUMNS = (
    "agreement_id",
    "title",
    "kind",
    "parties",
    "purposes",
    "data_categories",
    "lawful_bases",
    "start_date",
    "review_date",
    "end_date",
)
SCHEME_COLUMNS = ("scheme_id", "name", "area_code", "recognised", "manager_name", "manager_vetted_until")
MEMBER_COLUMNS = ("member_id", "scheme_id", "name", "registered_on", "undertaking_signed_on", "status")
MEMBER_OPTIONAL = ("org_id",)

ORGANISATION_KINDS: dict[str, str] = {
    "police": "Police force",
    "probation": "Probation Service",
    "local_authority": "Local authority",
    "education": "Education",
    "health": "Health",
    "crime_reduction_scheme": "Crime-reduction scheme",
    "business": "Business",
    "charity": "Charity",
    "other": "Other",
}
AGREEMENT_KINDS: dict[str, str] = {
    "ISA": "Information sharing agreement",
    "MOU": "Memorandum of understanding",
    "DSA": "Data sharing agreement",
    "repeat_sharing_form": "Repeat sharing form",
}
# DPA 2018 s.31 law-enforcement purposes, plus safeguarding and offender management (disclosure.md).
PURPOSES: dict[str, str] = {
    "prevention_of_crime": "Prevention of crime",
    "detection_of_crime": "Detection of crime",
    "investigation": "Investigation",
    "prosecution": "Prosecution",
    "execution_of_penalties": "Execution of penalties",
    "protection_of_public": "Protection of the public",
    "apprehension": "Apprehension",
    "safeguarding": "Safeguarding",
    "offender_management": "Offender management",
}
# The item kinds of a disclosure (disclosure.md): what an agreement allows to be shared.
DATA_CATEGORIES: dict[str, str] = {
    "photo": "Photograph",
    "name": "Name",
    "description": "Description",
    "date_of_birth": "Date of birth",
    "address": "Address",
    "intelligence_summary": "Intelligence summary",
    "offending_indication": "Offending indication",
    "warning_phrase": "Warning phrase",
    "previous_convictions": "Previous convictions",
    "pnc_warning_signal": "PNC warning signal",
    "other": "Other",
}
# Lawful bases: the codes of the configurable vocabulary (identity's `lawful_bases`) are offered on the form,
# with their words; any other basis is written in words and stored as written.
SUGGESTED_LAWFUL_BASES = ("DPA2018_Part3", "CDA1998_s115", "common_law", "UKGDPR_6_1_e", "UKGDPR_6_1_d")
# The known codes in words (as disclosure.web.LAWFUL_BASIS_TITLES); the setting `lawful_basis_names` adds
# words for codes configured locally.
LAWFUL_BASIS_WORDS: dict[str, str] = {
    "DPA2018_Part3": "Data Protection Act 2018, Part 3 (law enforcement)",
    "CDA1998_s115": "Crime and Disorder Act 1998, s.115",
    "common_law": "Common law (policing purposes)",
    "UKGDPR_6_1_e": "UK GDPR Art. 6(1)(e): public task",
    "UKGDPR_6_1_d": "UK GDPR Art. 6(1)(d): vital interests",
    "UKGDPR_6_1_c": "UK GDPR Art. 6(1)(c): legal obligation",
}
LAWFUL_BASIS_PATTERN = r"[A-Za-z][A-Za-z0-9_.\-]{0,63}"  # a code
MAX_LAWFUL_BASIS = 200  # a basis written in words
MEMBER_STATUSES: dict[str, str] = {"active": "Active", "suspended": "Suspended", "left": "Left"}
MANUAL_STATUSES: dict[str, str] = {"suspended": "Suspended", "withdrawn": "Withdrawn"}
AGREEMENT_STATUSES: dict[str, str] = {
    "not_started": "Not started",
    "in_force": "In force",
    "review_overdue": "Review overdue",
    "review_date_missing": "Review date missing",
    "ended": "Ended",
    "suspended": "Suspended",
    "withdrawn": "Withdrawn",
}
DEFAULT_REVIEW_REMINDER_DAYS = 30
# What a review of an agreement decided.
REVIEW_OUTCOMES: dict[str, str] = {
    "continue": "Continue",
    "continue_with_changes": "Continue with changes",
    "end": "End the agreement",
}

AgreementStatus = Literal[
    "not_started", "in_force", "review_overdue", "review_date_missing", "ended", "suspended", "withdrawn"
]


@dataclass(frozen=True, slots=True)
class OrganisationView:
    org_id: str
    name: str
    kind: str
    competent_authority: bool
    contact: str | None
    secure_channel: str | None

    @property
    def kind_title(self) -> str:
        return ORGANISATION_KINDS.get(self.kind, self.kind)


@dataclass(frozen=True, slots=True)
class RecipientView:
    """Whoever a disclosure may go to: a partner organisation or a registered scheme member."""

    recipient_id: str
    kind: Literal["organisation", "scheme_member"]
    name: str
    competent_authority: bool
    org_id: str | None
    scheme_id: str | None
    member_status: str | None
    undertaking_signed_on: date | None
    registered_on: date | None = None  # members only

    def member_on(self, day: date) -> bool:
        """An organisation, or a member active and registered on or before `day` (K10 6.2.1)."""
        if self.kind == "organisation":
            return True
        return self.member_status == "active" and self.registered_on is not None and self.registered_on <= day

    def undertaking_on(self, day: date) -> date | None:
        """The date the undertaking was signed, if on or before `day` (K10 8.2.1): one dated later is not
        signed yet."""
        signed = self.undertaking_signed_on
        return signed if signed is not None and signed <= day else None


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    filename: str
    content_type: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class StoredDocument:
    info: DocumentInfo
    content: bytes


@dataclass(frozen=True, slots=True)
class AgreementView:
    agreement_id: str
    title: str
    kind: str
    parties: tuple[str, ...]
    purposes: tuple[str, ...]
    data_categories: tuple[str, ...]
    lawful_bases: tuple[str, ...]
    start_date: date
    review_date: date | None
    end_date: date | None
    manual_status: str | None
    status_reason: str | None = None
    document: DocumentInfo | None = None

    def status_on(self, day: date) -> AgreementStatus:
        """The status on `day`. The start, review and end dates themselves are days the agreement is in force.

        A manual suspension or withdrawal wins; then not started, ended, and past its review date (treated as
        suspended: an agreement nobody has reviewed is not relied on). An agreement recorded before a review
        date was required may have none: it is `review_date_missing`, not in force either, until the DPU
        gives it one (otherwise it would never fall due for review).
        """
        if self.manual_status == "withdrawn":
            return "withdrawn"
        if self.manual_status == "suspended":
            return "suspended"
        if day < self.start_date:
            return "not_started"
        if self.end_date is not None and day > self.end_date:
            return "ended"
        if self.review_date is None:
            return "review_date_missing"
        if day > self.review_date:
            return "review_overdue"
        return "in_force"

    def in_force_on(self, day: date) -> bool:
        return self.status_on(day) == "in_force"

    def covers(self, purpose: str, categories: tuple[str, ...] | list[str] = ()) -> bool:
        """Whether the agreement names the purpose and every data category."""
        return purpose in self.purposes and all(c in self.data_categories for c in categories)

    @property
    def kind_title(self) -> str:
        return AGREEMENT_KINDS.get(self.kind, self.kind)


@dataclass(frozen=True, slots=True)
class SchemeView:
    scheme_id: str
    name: str
    area_code: str | None
    recognised: bool
    manager_name: str | None
    manager_vetted_until: date | None

    def manager_vetted_on(self, day: date) -> bool:
        """An approved scheme manager with a security check current on `day` (K10 7.3). False too for a
        scheme with no manager, which K10 7.5 allows: the rules ask this only of a scheme that names one."""
        return (
            self.manager_name is not None
            and self.manager_vetted_until is not None
            and day <= self.manager_vetted_until
        )


@dataclass(frozen=True, slots=True)
class MemberView:
    member_id: str
    scheme_id: str
    name: str
    org_id: str | None
    registered_on: date
    undertaking_signed_on: date | None
    status: str

    @property
    def current(self) -> bool:
        """An active member (K10 6.2.1); whether an undertaking is signed is a separate check. Registration
        dates are never in the future (imports and forms refuse them); `current_on` checks one anyway."""
        return self.status == "active"

    def current_on(self, day: date) -> bool:
        """Active and registered on or before `day`."""
        return self.current and self.registered_on <= day

    @property
    def individual(self) -> bool:
        return self.org_id is None


@dataclass(frozen=True, slots=True)
class ReminderView:
    agreement: AgreementView
    days_left: int


@dataclass(frozen=True, slots=True)
class ReviewView:
    """One recorded review of an agreement."""

    agreement_id: str
    reviewed_on: date
    outcome: str
    note: str | None
    next_review_date: date | None
    reviewed_by: str

    @property
    def outcome_title(self) -> str:
        return REVIEW_OUTCOMES.get(self.outcome, self.outcome)
