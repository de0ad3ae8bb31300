"""Stop-search vocabulary, the columns of an import, and the shape of a report.

The report is a plain JSON-ready dict (docs/stopsearch.md, "The report"): the CLI writes it as JSON,
publication.py renders it as HTML and PDF, and the screens show it. Its stable keys are those of the spec;
the others (monthly, rolling_12_months, grounds_review, ratio_bounds_unknown, version, ...) extend it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

GROUPS = ("White", "Black", "Asian", "Mixed", "Other", "Not stated")
POPULATION_GROUPS = GROUPS[:-1]
REFERENCE_GROUP = "White"
CENSUSES = ("census2011", "census2021")
ETHNICITY_SOURCES = ("self", "officer")
DRUG_SEARCH_TYPES = ("possession", "supply")

# data.police.uk's 15 columns, exactly as published, and the force-system columns some forces add.
PUBLISHED_COLUMNS = (
    "Type",
    "Date",
    "Part of a policing operation",
    "Policing operation",
    "Latitude",
    "Longitude",
    "Gender",
    "Age range",
    "Self-defined ethnicity",
    "Officer-defined ethnicity",
    "Legislation",
    "Object of search",
    "Outcome",
    "Outcome linked to object of search",
    "Removal of more than just outer clothing",
)
FORCE_COLUMNS = ("Grounds", "Drug search type", "Officer id", "Team", "Body-worn video")
# Where each column is kept (Parquet column names).
STORED_NAMES = {
    "Type": "type",
    "Date": "date",
    "Part of a policing operation": "part_of_operation",
    "Policing operation": "operation",
    "Latitude": "latitude",
    "Longitude": "longitude",
    "Gender": "gender",
    "Age range": "age_range",
    "Self-defined ethnicity": "self_defined",
    "Officer-defined ethnicity": "officer_defined",
    "Legislation": "legislation",
    "Object of search": "object",
    "Outcome": "outcome",
    "Outcome linked to object of search": "outcome_linked",
    "Removal of more than just outer clothing": "removal",
    "Grounds": "grounds",
    "Drug search type": "drug_search_type",
    "Officer id": "officer_id",
    "Team": "team",
    "Body-worn video": "body_worn_video",
}
SEARCH_TYPES = ("Person search", "Person and Vehicle search", "Vehicle search")
VEHICLE_ONLY = "Vehicle search"
ARREST_OUTCOMES = ("Arrest", "Suspect arrested")
# Outcomes used before April 2018 (the old vocabulary) and after.
OLD_OUTCOMES = frozenset(
    {
        "Nothing found - no further action",
        "Suspect arrested",
        "Suspect summonsed to court",
        "Offender given drugs possession warning",
        "Offender given penalty notice",
        "Offender cautioned",
        "Local resolution",
        "Article found - Detailed outcome unavailable",
    }
)
NEW_OUTCOMES = frozenset(
    {
        "A no further action disposal",
        "Arrest",
        "Community resolution",
        "Khat or Cannabis warning",
        "Penalty Notice for Disorder",
        "Summons / charged by post",
        "Caution (simple or conditional)",
    }
)


@dataclass(frozen=True, slots=True)
class ReportRequest:
    force: str
    period_from: str  # YYYY-MM
    period_to: str  # YYYY-MM, inclusive
    ethnicity: str = "self"  # self | officer
    census: str = ""  # census2011 | census2021; blank: the census nearest the period (service.choose_census)


@dataclass(frozen=True, slots=True)
class StopSearchImportSummary:
    files: int
    records: int
    months: tuple[str, ...]  # force/YYYY-MM imported
    replaced: tuple[str, ...]  # force/YYYY-MM that were already there and are now replaced

    def __str__(self) -> str:
        replaced = f", replacing {len(self.replaced)}" if self.replaced else ""
        return f"stop-searches: {self.records:,} records in {len(self.months)} force-month(s){replaced}"


@dataclass(frozen=True, slots=True)
class PopulationImportSummary:
    created: int
    updated: int
    unchanged: int
    not_stored: tuple[str, ...]  # forces whose figures were skipped: no resident population (forces.py)

    def __str__(self) -> str:
        text = f"population: {self.created} new, {self.updated} updated, {self.unchanged} unchanged"
        if self.not_stored:
            text += (
                f"; not stored for {', '.join(self.not_stored)}: no resident population to count searches "
                "against (their rates and ratios are not computed)"
            )
        return text


Report = dict[str, Any]
