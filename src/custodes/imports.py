"""`custodes import KIND FILE...`: each kind's columns and the module service that stores it.

Atomic per command: every file is read and validated, then stored in one transaction, or nothing is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from custodes.kit.tabular import SourceRow, read_rows
from custodes.workforce import service as workforce
from custodes.workforce.schemas import STAFF_COLUMNS, ImportSummary

Importer = Callable[[Session, Sequence[SourceRow], str], ImportSummary]


@dataclass(frozen=True, slots=True)
class ImportKind:
    name: str
    columns: tuple[str, ...]
    optional: tuple[str, ...]
    store: Importer
    description: str


KINDS: dict[str, ImportKind] = {
    "staff": ImportKind("staff", STAFF_COLUMNS, (), workforce.import_staff, "the staff register, with roles"),
}


def read_files(kind: ImportKind, paths: Sequence[Path]) -> list[SourceRow]:
    rows: list[SourceRow] = []
    for path in paths:
        rows += read_rows(path, kind.columns, kind.optional)
    return rows


def run_import(session: Session, kind_name: str, paths: Sequence[Path], actor: str) -> ImportSummary:
    """Read and store; raises kit.tabular.BatchRejected (nothing stored) on any bad row."""
    kind = KINDS[kind_name]
    return kind.store(session, read_files(kind, paths), actor)
