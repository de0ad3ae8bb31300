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


@dataclass(frozen=True, slots=True)
class NominalIdentity:
    """Who a nominal is, and no more: what the pre-access gate matches a subject id against."""

    subject_id: str
    surname: str
    forenames: str
    date_of_birth: date | None
    postcode: str | None
    staff_id: str | None  # as NominalView.staff_id
