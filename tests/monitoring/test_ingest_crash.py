"""A process killed (SIGKILL) in the middle of ingests loses no acknowledged access, and leaves the store
and the database agreeing: every stored access belongs to a recorded batch whose ledger entry holds its
tree head, and every recorded batch has all its accesses (docs/monitoring.md, "Crash safety")."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import select

from custodes.kit.db import transaction
from custodes.ledger import merkle
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter
from custodes.monitoring import service as monitoring
from custodes.monitoring.models import AccessBatch, AccessIngest
from tests.crash import Installation, kill_while_working

CHILD = Path(__file__).with_name("ingest_crash_child.py")
KILLS = {"sqlite": 8, "postgresql": 5}


def _kill_during_ingests(url: str, home: Path, run: int, chance: random.Random) -> list[list[str]]:
    return kill_while_working(CHILD, [url, str(home), str(run)], chance, lines_first=(1, 3), pause=0.3)


@pytest.mark.slow
def test_sigkill_during_ingests_loses_nothing_acknowledged(
    backend: str, new_database: Callable[[str], str], tmp_path: Path
) -> None:
    made = Installation.create(new_database(backend), tmp_path / "home")
    url, home, settings, factory = made.url, made.home, made.settings, made.factory
    chance = random.Random(20261122)
    acknowledged: list[list[str]] = []
    for run in range(KILLS[backend]):
        acknowledged += _kill_during_ingests(url, home, run, chance)
    with transaction(factory) as session:
        monitoring.recover(session, monitoring.event_store(settings))
    store = monitoring.event_store(settings)
    assert store.staged_ingests() == []
    stored = duckdb.sql(
        f"SELECT event_id, batch_id FROM read_parquet('{store.glob()}', hive_partitioning = false)"
    ).fetchall()
    ids = {event_id for event_id, _ in stored}
    assert len(ids) == len(stored)  # nothing stored twice
    for run, number, _ingest_id, first, last in acknowledged:
        expected = {f"E{run}-{number}-{i}" for i in range(int(first), int(last) + 1)}
        assert expected <= ids, f"acknowledged ingest {run}/{number} lost {len(expected - ids)} accesses"
    with transaction(factory) as session:
        batches = {b.batch_id: b for b in session.scalars(select(AccessBatch))}
        recorded = set(session.scalars(select(AccessIngest.ingest_id)))
        assert {ingest_id for _, _, ingest_id, _, _ in acknowledged} <= recorded
        stored_batches = {batch_id for _, batch_id in stored}
        assert stored_batches == set(batches), "stored accesses and recorded batches disagree"
        for batch in batches.values():
            assert merkle.root(monitoring.batch_leaves(settings, batch.batch_id)).hex() == batch.root
            query = EntryFilter(object_type="access_batch", object_id=batch.batch_id)
            entry = ledger.search(session, query, limit=1)
            assert entry and entry[0].content is not None and entry[0].content["detail"]["root"] == batch.root
    assert len(acknowledged) >= KILLS[backend]
