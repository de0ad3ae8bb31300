"""`custodes import KIND FILE...`: each kind's columns and the module service that stores it.

Atomic per command: every file is read and validated, then stored in one transaction, or nothing is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from custodes.agreements import schemas as agreement_schemas
from custodes.agreements import service as agreements
from custodes.kit.tabular import BatchRejected, RowProblem, SourceRow, read_file
from custodes.monitoring import service as monitoring
from custodes.monitoring.schemas import CASE_COLUMNS, NOMINAL_COLUMNS, NOMINAL_OPTIONAL, ROSTER_COLUMNS
from custodes.workforce import service as workforce
from custodes.workforce.schemas import (
    COURSE_COLUMNS,
    DECLARATION_COLUMNS,
    STAFF_COLUMNS,
    STAFF_OPTIONAL,
    TEAM_COLUMNS,
    TEAM_OPTIONAL,
    TRAINING_COLUMNS,
    VETTING_COLUMNS,
    VETTING_OPTIONAL,
    ImportSummary,
)

Importer = Callable[[Session, Sequence[SourceRow], str], ImportSummary]


@dataclass(frozen=True, slots=True)
class ImportKind:
    name: str
    columns: tuple[str, ...]
    optional: tuple[str, ...]
    store: Importer
    description: str


KINDS: dict[str, ImportKind] = {
    "staff": ImportKind(
        "staff", STAFF_COLUMNS, STAFF_OPTIONAL, workforce.import_staff, "the staff register, with roles"
    ),
    "teams": ImportKind(
        "teams", TEAM_COLUMNS, TEAM_OPTIONAL, workforce.import_teams, "team names (and areas) for the screens"
    ),
    "courses": ImportKind("courses", COURSE_COLUMNS, (), workforce.import_courses, "training courses"),
    "training": ImportKind(
        "training", TRAINING_COLUMNS, (), workforce.import_training, "training completions"
    ),
    "vetting": ImportKind(
        "vetting", VETTING_COLUMNS, VETTING_OPTIONAL, workforce.import_vetting, "vetting decisions"
    ),
    "declarations": ImportKind(
        "declarations",
        DECLARATION_COLUMNS,
        (),
        workforce.import_declarations,
        "conflicts, associations, business interests, gifts and hospitality",
    ),
    "nominals": ImportKind(
        "nominals", NOMINAL_COLUMNS, NOMINAL_OPTIONAL, monitoring.import_nominals, "people in force systems"
    ),
    "cases": ImportKind("cases", CASE_COLUMNS, (), monitoring.import_cases, "cases and the people on them"),
    "rosters": ImportKind("rosters", ROSTER_COLUMNS, (), monitoring.import_rosters, "rostered duty periods"),
    "organisations": ImportKind(
        "organisations",
        agreement_schemas.ORGANISATION_COLUMNS,
        agreement_schemas.ORGANISATION_OPTIONAL,
        agreements.import_organisations,
        "partner organisations",
    ),
    "agreements": ImportKind(
        "agreements",
        agreement_schemas.AGREEMENT_COLUMNS,
        (),
        agreements.import_agreements,
        "information sharing agreements (parties must be registered organisations)",
    ),
    "schemes": ImportKind(
        "schemes", agreement_schemas.SCHEME_COLUMNS, (), agreements.import_schemes, "crime-reduction schemes"
    ),
    "scheme-members": ImportKind(
        "scheme-members",
        agreement_schemas.MEMBER_COLUMNS,
        agreement_schemas.MEMBER_OPTIONAL,
        agreements.import_scheme_members,
        "members registers of crime-reduction schemes",
    ),
}


Progress = Callable[[str, int, int], None]  # what it is doing, steps done, steps in all


def read_files(
    kind: ImportKind, paths: Sequence[Path], progress: Progress | None = None
) -> tuple[list[SourceRow], list[RowProblem]]:
    """Every file's checkable rows, and every file's own problems (one broken file hides no other's)."""
    rows: list[SourceRow] = []
    problems: list[RowProblem] = []
    for number, path in enumerate(paths):
        if progress is not None:
            progress(f"Reading {path.name}", number, len(paths) + 1)
        found, unreadable = read_file(path, kind.columns, kind.optional)
        rows += found
        problems += unreadable
    return rows, problems


def run_import(
    session: Session, kind_name: str, paths: Sequence[Path], actor: str, progress: Progress | None = None
) -> ImportSummary:
    """Read and store; raises kit.tabular.BatchRejected (nothing stored) on any bad row or file.

    When a file cannot be read (or has a bad header or line), the rows of the others are still checked so
    that one run lists every problem; the caller's transaction is then rolled back by the BatchRejected."""
    kind = KINDS[kind_name]
    rows, problems = read_files(kind, paths, progress)
    if progress is not None:
        progress(f"Checking and storing {len(rows):,} rows", len(paths), len(paths) + 1)
    if not problems:
        return kind.store(session, rows, actor)
    try:
        kind.store(session, rows, actor)
    except BatchRejected as rejected:
        problems += rejected.problems
    raise BatchRejected(problems)


def load_records(
    session: Session, kind_name: str, records: Sequence[Mapping[str, str]], actor: str, source: str = "demo"
) -> ImportSummary:
    """Store in-memory rows exactly as if they came from a file (the demo and tests build data this way)."""
    kind = KINDS[kind_name]
    columns = (*kind.columns, *kind.optional)
    rows = [
        SourceRow(
            source,
            line,
            {
                column: record.get(column, "")
                for column in columns
                if column in record or column in kind.columns
            },
        )
        for line, record in enumerate(records, start=2)
    ]
    return kind.store(session, rows, actor)
