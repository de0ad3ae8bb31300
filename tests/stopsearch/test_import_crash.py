"""A process killed (SIGKILL) in the middle of stop-search imports loses no acknowledged month: each month
holds what its last acknowledged import stored, or what a later import committed just before the kill, and
every month's file is there and whole (docs/stopsearch.md, "Replacement")."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import select

from custodes.kit.db import transaction
from custodes.stopsearch import service
from custodes.stopsearch.models import StopSearchMonth
from custodes.stopsearch.schemas import ReportRequest
from tests.crash import Installation, kill_while_working

CHILD = Path(__file__).with_name("import_crash_child.py")
KILLS = {"sqlite": 6, "postgresql": 4}


def _kill_during_imports(url: str, home: Path, run: int, chance: random.Random) -> list[list[str]]:
    return kill_while_working(CHILD, [url, str(home), str(run)], chance, lines_first=(2, 6), pause=0.2)


def _allowed_counts(lines: list[list[str]]) -> dict[str, set[int]]:
    """Per month: the last acknowledged count, and every count tried after it (it may have committed)."""
    allowed: dict[str, set[int]] = {}
    for kind, month, count in lines:
        if kind == "done":
            allowed[month] = {int(count)}
    tried_after: dict[str, set[int]] = {}
    for kind, month, count in lines:
        if kind == "done":
            tried_after[month] = set()
        elif month in tried_after:
            tried_after[month].add(int(count))
    return {month: counts | tried_after.get(month, set()) for month, counts in allowed.items()}


@pytest.mark.slow
def test_sigkill_during_imports_loses_no_acknowledged_month(
    backend: str, new_database: Callable[[str], str], tmp_path: Path
) -> None:
    made = Installation.create(new_database(backend), tmp_path / "home")
    url, home, settings, factory = made.url, made.home, made.settings, made.factory
    chance = random.Random(20261122)
    lines: list[list[str]] = []
    for run in range(KILLS[backend]):
        lines += _kill_during_imports(url, home, run, chance)
    allowed = _allowed_counts(lines)
    assert allowed, "some imports were acknowledged"
    store = service.record_store(settings)
    with transaction(factory) as session:
        months = {row.month: row for row in session.scalars(select(StopSearchMonth))}
        assert set(allowed) <= set(months), "every acknowledged month is there"
        for month, row in months.items():
            path = store.path(row.force, row.data_file)
            query = f"SELECT count(*), min(month), max(month) FROM read_parquet('{path}')"
            (stored,) = duckdb.connect().execute(query).fetchall()
            assert stored == (row.records, month, month), f"{month}: the file is whole and its row agrees"
            if month in allowed:
                assert row.records in allowed[month], f"{month}: {row.records} not in {allowed[month]}"
        report = service.report(session, settings, ReportRequest("kent", "2019-01", "2019-03"))
        assert report["records"] == sum(row.records for row in months.values())
    files = list(store.folder("kent").glob("*.parquet"))
    assert len(files) <= len(months) + KILLS[backend], "at most one file left over per kill (swept later)"
