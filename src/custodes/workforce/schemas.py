"""Workforce value types."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from custodes.identity.permissions import Role

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
class ImportSummary:
    kind: str
    created: int
    updated: int
    unchanged: int

    def __str__(self) -> str:
        return f"{self.kind}: {self.created} new, {self.updated} updated, {self.unchanged} unchanged"


@dataclass(frozen=True, slots=True)
class StaffView:
    staff_id: str
    name: str
    date_of_birth: date | None
    team_id: str | None
    area_code: str | None
    line_manager_id: str | None
    line_manager_name: str | None
