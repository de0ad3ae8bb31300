"""Where stop-search records live: one Parquet file per force-month, named afresh on every import.

The database row (models.StopSearchMonth) names the current file, so replacing a month is atomic: the new
file is written first, the row points at it when the transaction commits, and only then is the old file
removed. Files no row names (a crash between writing and committing) are swept on the next import.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path

import pyarrow as pa

from custodes.kit.files import sync_folder

SCHEMA = pa.schema(
    [
        ("force", pa.string()),
        ("source_month", pa.string()),
        ("month", pa.string()),
        ("line", pa.int32()),
        ("type", pa.string()),
        ("date", pa.string()),
        ("part_of_operation", pa.bool_()),
        ("operation", pa.string()),
        ("latitude", pa.float64()),
        ("longitude", pa.float64()),
        ("gender", pa.string()),
        ("age_range", pa.string()),
        ("self_defined", pa.string()),
        ("officer_defined", pa.string()),
        ("legislation", pa.string()),
        ("object", pa.string()),
        ("outcome", pa.string()),
        ("outcome_linked", pa.bool_()),
        ("removal", pa.bool_()),
        ("grounds", pa.string()),
        ("drug_search_type", pa.string()),
        ("officer_id", pa.string()),
        ("team", pa.string()),
        ("body_worn_video", pa.bool_()),
        ("self_group", pa.string()),
        ("officer_group", pa.string()),
        ("person", pa.bool_()),
        ("arrest", pa.bool_()),
    ]
)
# Unreferenced files younger than this may belong to an import still in progress.
SWEEP_AFTER_SECONDS = 3600


class RecordStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def folder(self, force: str) -> Path:
        return self.root / force

    def path(self, force: str, data_file: str) -> Path:
        return self.folder(force) / data_file

    def write(self, force: str, month: str, write: Callable[[Path], None]) -> str:
        """`write` makes the month's Parquet file; keep it durably under a new name and return the name."""
        folder = self.folder(force)
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{month}.{uuid.uuid4().hex[:12]}.parquet"
        partial = folder / f".{name}.partial"
        write(partial)
        with partial.open("rb") as handle:
            os.fsync(handle.fileno())
        partial.rename(folder / name)
        sync_folder(folder)  # the new name itself survives a crash once the database names the file
        return name

    def remove(self, force: str, data_file: str) -> None:
        self.path(force, data_file).unlink(missing_ok=True)

    def sweep(self, referenced: Iterable[tuple[str, str]]) -> int:
        """Delete old files no force-month names (left by a crash before commit); returns how many."""
        keep = {self.path(force, name) for force, name in referenced}
        cutoff = time.time() - SWEEP_AFTER_SECONDS
        removed = 0
        for path in self.root.glob("*/*.parquet*"):
            if path not in keep and path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                removed += 1
        return removed
