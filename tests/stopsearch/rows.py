"""Small stop-search files for tests: rows as data.police.uk publishes them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from custodes.stopsearch.records import csv_text
from custodes.stopsearch.schemas import FORCE_COLUMNS, PUBLISHED_COLUMNS

LABELS = {
    "White": "White - English/Welsh/Scottish/Northern Irish/British",
    "Black": "Black/African/Caribbean/Black British - African",
    "Asian": "Asian/Asian British - Chinese",
    "Mixed": "Mixed/Multiple ethnic groups - White and Asian",
    "Other": "Other ethnic group - Any other ethnic group",
    "Not stated": "Other ethnic group - Not stated",
    "blank": "",
}


def search(
    month: str = "2019-05",
    group: str = "White",
    *,
    kind: str = "Person search",
    outcome: str = "A no further action disposal",
    linked: str = "",
    obj: str = "Controlled drugs",
    officer: str = "White",
    day: int = 3,
    **extra: str,
) -> dict[str, str]:
    row = {
        "Type": kind,
        "Date": f"{month}-{day:02d}T10:15:00+00:00",
        "Part of a policing operation": "False",
        "Policing operation": "",
        "Latitude": "51.27",
        "Longitude": "1.08",
        "Gender": "Male" if kind != "Vehicle search" else "",
        "Age range": "18-24" if kind != "Vehicle search" else "",
        "Self-defined ethnicity": LABELS[group] if kind != "Vehicle search" else "",
        "Officer-defined ethnicity": officer if kind != "Vehicle search" else "",
        "Legislation": "Misuse of Drugs Act 1971 (section 23)",
        "Object of search": obj,
        "Outcome": outcome,
        "Outcome linked to object of search": linked,
        "Removal of more than just outer clothing": "False",
    }
    for column, value in extra.items():
        row[column.replace("_", " ").capitalize() if column != "body_worn_video" else "Body-worn video"] = (
            value
        )
    return row


def write(folder: Path, month: str, force: str, rows: list[dict[str, str]], name: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    columns = list(PUBLISHED_COLUMNS) + [c for c in FORCE_COLUMNS if any(c in row for row in rows)]
    path = folder / (name or f"{month}-{force}-stop-and-search.csv")
    path.write_text(csv_text(rows, columns), encoding="utf-8")
    return path


def api_json(rows: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Rows written as the data.police.uk API (stops-force) returns them."""

    def boolean(text: str) -> bool | None:
        return {"True": True, "False": False}.get(text)

    return [
        {
            "age_range": row["Age range"] or None,
            "outcome": row["Outcome"] or None,
            "involved_person": row["Type"] != "Vehicle search",
            "self_defined_ethnicity": row["Self-defined ethnicity"] or None,
            "gender": row["Gender"] or None,
            "legislation": row["Legislation"] or None,
            "outcome_linked_to_object_of_search": boolean(row["Outcome linked to object of search"]),
            "datetime": row["Date"],
            "removal_of_more_than_outer_clothing": boolean(row["Removal of more than just outer clothing"]),
            "outcome_object": {"id": "bu-outcome", "name": row["Outcome"]},
            "location": {
                "latitude": row["Latitude"] or None,
                "street": {"id": 1, "name": "On or near Somewhere"},
                "longitude": row["Longitude"] or None,
            }
            if row["Latitude"]
            else None,
            "operation": boolean(row["Part of a policing operation"]),
            "officer_defined_ethnicity": row["Officer-defined ethnicity"] or None,
            "type": row["Type"],
            "operation_name": row["Policing operation"] or None,
            "object_of_search": row["Object of search"] or None,
        }
        for row in rows
    ]
