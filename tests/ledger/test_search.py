"""Searching the ledger: the search indexes lead with the entry's era, so a search asks one window of eras at
a time. Whatever the windows, the answers must be exactly those of a plain filter over every entry."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import text

from custodes.ledger import service as ledger
from custodes.ledger.models import ERA_BITS
from custodes.ledger.schemas import EntryDraft, EntryFilter, Op
from custodes.ledger.service import _filtered
from tests.ledger.helpers import Log, open_log

ERA = 1 << ERA_BITS
ENTRIES = 4 * ERA + 300  # five eras, the last one partly filled


def _draft(n: int) -> EntryDraft:
    op = (Op.CONSULTATION, Op.COLLECTION, Op.ALTERATION)[n % 3]
    return EntryDraft(
        actor=f"staff:S{n % 5}" if n % 4 else "system:import",
        op=op,
        object_type=("nominal", "case")[n % 2],
        object_id=f"R{n % 37}",
        subjects=tuple(f"P{(n * k) % 53}" for k in range(n % 3)),  # none, one or two people
        justification="case C1" if op == Op.CONSULTATION else None,
    )


DRAFTS = [_draft(n) for n in range(ENTRIES)]


@pytest.fixture(scope="module")
def searchable(
    backend: str, new_database: Callable[[str], str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Log]:
    log = open_log(backend, new_database(backend), Path(tmp_path_factory.mktemp("home")))
    with log.factory() as session:
        for start in range(0, ENTRIES, 5000):
            ledger.record_many(session, DRAFTS[start : start + 5000])
            session.commit()
    yield log
    log.close()


def _expected(criteria: EntryFilter) -> list[int]:
    """Indexes of the matching entries, oldest first, by a plain filter over the drafts."""
    return [
        index
        for index, made in enumerate(DRAFTS)
        if (not criteria.subject or criteria.subject in made.subjects)
        and (not criteria.actor or made.actor == criteria.actor)
        and (not criteria.op or str(made.op) == criteria.op)
        and (not criteria.object_type or made.object_type == criteria.object_type)
        and (not criteria.object_id or made.object_id == criteria.object_id)
    ]


CRITERIA = [
    EntryFilter(subject="P7"),
    EntryFilter(subject="P0"),  # in about a third of all entries
    EntryFilter(subject="P52", actor="staff:S2"),
    EntryFilter(actor="system:import"),
    EntryFilter(actor="staff:S3", op="alteration"),
    EntryFilter(object_type="case"),
    EntryFilter(object_type="nominal", object_id="R11"),
    EntryFilter(object_id="R5"),  # no search index leads with the id alone: one plain query
    EntryFilter(op="collection"),
    EntryFilter(subject="nobody"),
]


@pytest.mark.parametrize(
    "criteria", CRITERIA, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.described().items())
)
def test_search_count_and_export_match_a_plain_filter(searchable: Log, criteria: EntryFilter) -> None:
    expected = _expected(criteria)
    with searchable.factory() as session:
        assert ledger.count(session, criteria) == len(expected)
        assert [e.index for e in ledger.iter_matching(session, criteria)] == expected
        newest = expected[::-1]
        assert [e.index for e in ledger.search(session, criteria, limit=100)] == newest[:100]
        assert [e.index for e in ledger.search(session, criteria, limit=7, offset=95)] == newest[95:102]


@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    criteria=st.sampled_from(CRITERIA),
    limit=st.integers(1, 300),
    offset=st.integers(0, 3000),
    windows=st.tuples(st.integers(1, 3), st.integers(1, 4)),
)
def test_any_page_with_any_windows_is_the_plain_filters_page(
    searchable: Log,
    monkeypatch: pytest.MonkeyPatch,
    criteria: EntryFilter,
    limit: int,
    offset: int,
    windows: tuple[int, int],
) -> None:
    first, growth = windows
    monkeypatch.setattr(ledger, "_FIRST_WINDOW", first)
    monkeypatch.setattr(ledger, "_LARGEST_WINDOW", first * growth)
    newest = _expected(criteria)[::-1]
    with searchable.factory() as session:
        found = ledger.search(session, criteria, limit=limit, offset=offset)
        assert [e.index for e in found] == newest[offset : offset + limit]
        assert ledger.count(session, criteria) == len(newest)


@pytest.mark.parametrize(
    ("criteria", "index"),
    [
        (EntryFilter(subject="P7"), "ix_ledger_subject_era_subject"),
        (EntryFilter(actor="staff:S1"), "ix_ledger_entry_era_actor"),
        (EntryFilter(object_type="nominal", object_id="R3"), "ix_ledger_entry_era_object"),
    ],
)
def test_searches_use_the_era_indexes(searchable: Log, criteria: EntryFilter, index: str) -> None:
    """The planner only uses an expression index when the query spells the expression the same way."""
    if searchable.backend != "sqlite":
        pytest.skip("PostgreSQL's planner picks by table statistics; SQLite's plan is fixed by the query")
    query = _filtered(criteria, range(0, 3))
    with searchable.engine.connect() as connection:
        compiled = query.compile(connection, compile_kwargs={"literal_binds": True})
        plan = " ".join(row[-1] for row in connection.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
    assert f"USING INDEX {index}" in plan or f"USING COVERING INDEX {index}" in plan, plan
