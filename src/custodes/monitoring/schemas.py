"""Monitoring value types."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

NOMINAL_COLUMNS = ("subject_id", "surname", "forenames", "date_of_birth", "postcode", "lat", "lon", "flags")
NOMINAL_OPTIONAL = ("address",)
CASE_COLUMNS = ("case_ref", "kind", "opened_at", "closed_at", "team_id", "assigned_staff", "subject_ids")
ROSTER_COLUMNS = ("staff_id", "start", "end")
STAFF_FLAG_PREFIX = "staff:"


class NominalFlag(StrEnum):
    PUBLIC_FIGURE = "public_figure"
    PROTECTED = "protected"  # witness, DVDS/CSODS applicant, refuge or safe address (disclosure.md)


@dataclass(frozen=True, slots=True)
class NominalView:
    subject_id: str
    surname: str
    forenames: str
    date_of_birth: date | None
    postcode: str | None
    address: str | None
    flags: frozenset[str]  # as imported, e.g. {"protected", "staff:S1"}
    protected: bool
    staff_id: str | None  # from a staff:<id> flag: this person is that member of the workforce

    @property
    def lives_in(self) -> str:
        """Where they live, to tell people apart and no closer: the town (the address's last part) and the
        postcode district ("Maidstone (ME14)"); "" if neither is held. Screens withhold it for a protected
        person."""
        address, postcode = self.address or "", (self.postcode or "").strip()
        town = address.rsplit(",", 1)[-1].strip() if "," in address else ""
        district = postcode.split()[0] if postcode else ""
        return f"{town} ({district})" if town and district else town or district


@dataclass(frozen=True, slots=True)
class NominalIdentity:
    """Who a nominal is, and no more: what the pre-access gate matches a subject id against."""

    subject_id: str
    surname: str
    forenames: str
    date_of_birth: date | None
    postcode: str | None
    staff_id: str | None  # as NominalView.staff_id


# --------------------------------------------------------------------------- access events

# An access event as systems send it (monitoring.md), in this order. `subject_id` is empty for a search
# that returned no person; `occurred_at` is ISO 8601 with an offset.
EVENT_COLUMNS = (
    "event_id",
    "occurred_at",
    "system",
    "staff_id",
    "action",
    "record_type",
    "record_id",
    "subject_id",
    "query_text",
    "case_ref",
    "device_id",
)
EVENT_REQUIRED = ("event_id", "occurred_at", "system", "staff_id", "action")


class AlertStatus:
    NEW = "new"
    DISMISSED = "dismissed"  # triaged: no case to answer (a reason is required)
    INVESTIGATING = "investigating"
    CLOSED = "closed"  # its investigation closed with an outcome
    ACTIVE = (NEW, INVESTIGATING)
    SETTLED = (DISMISSED, CLOSED)  # decisions that stand: newer accesses raise a new alert


class Action(StrEnum):
    SEARCH = "search"
    VIEW = "view"
    UPDATE = "update"
    PRINT = "print"
    EXPORT = "export"


class Rule(StrEnum):
    """The detectors' rule codes (monitoring.md)."""

    SELF = "SELF"
    RELATIVE_OR_HOUSEHOLD = "RELATIVE_OR_HOUSEHOLD"
    NEIGHBOUR = "NEIGHBOUR"
    DECLARED_CONFLICT = "DECLARED_CONFLICT"
    COLLEAGUE = "COLLEAGUE"
    PUBLIC_FIGURE = "PUBLIC_FIGURE"
    UNEXPLAINED = "UNEXPLAINED"
    CASE_MISMATCH = "CASE_MISMATCH"
    REPEATED_INTEREST = "REPEATED_INTEREST"
    VOLUME_ANOMALY = "VOLUME_ANOMALY"
    OFF_DUTY = "OFF_DUTY"


# Rules about who the subject is to the searcher: they raise an alert even when a case explains the access.
RELATIONSHIP_RULES = frozenset(
    {Rule.SELF, Rule.RELATIVE_OR_HOUSEHOLD, Rule.NEIGHBOUR, Rule.DECLARED_CONFLICT, Rule.COLLEAGUE}
)
