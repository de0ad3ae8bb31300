"""Supervisory samples: reproducible, stratified in proportion, reviewed, and reported with an interval."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from custodes.ledger.models import LedgerEntry
from custodes.settings import Settings
from custodes.stopsearch import service
from custodes.stopsearch.schemas import ReportRequest
from tests.stopsearch.rows import search, write

ACTOR = "staff:S1"


@pytest.fixture
def force(db: Session, settings: Settings, tmp_path: Path) -> str:
    rows = [search(group="White", team="North", grounds=f"Grounds {i}") for i in range(60)]
    rows += [search(group="Black", team="South", grounds=f"Grounds {i}") for i in range(30)]
    rows += [search(group="Asian", team="South") for _ in range(10)]
    rows += [search(kind="Vehicle search")] * 5
    service.import_stop_searches(db, settings, [write(tmp_path, "2019-05", "kent", rows)], actor=ACTOR)
    return "kent"


def _draw(
    db: Session, settings: Settings, seed: int, stratify: str | None = None, size: int = 10
) -> list[str]:
    sample = service.draw_sample(
        db, settings, force="kent", period_from="2019-05", period_to="2019-05", size=size, seed=seed,
        stratify=stratify, actor=ACTOR,
    )  # fmt: skip
    detail = service.sample_detail(db, sample.reference, actor=ACTOR)
    assert detail is not None
    return [item.record_key for item in detail[1]]


def test_the_same_seed_draws_the_same_records(db: Session, settings: Settings, force: str) -> None:
    first, again, other = _draw(db, settings, 7), _draw(db, settings, 7), _draw(db, settings, 8)
    assert first == again
    assert first != other
    assert len(set(first)) == 10
    assert all(not key.endswith(("/102", "/103", "/104", "/105", "/106")) for key in first), "no vehicle-only"


def test_stratified_sample_is_in_proportion(db: Session, settings: Settings, force: str) -> None:
    sample = service.draw_sample(
        db, settings, force="kent", period_from="2019-05", period_to="2019-05", size=20, seed=1,
        stratify="ethnicity", actor=ACTOR,
    )  # fmt: skip
    detail = service.sample_detail(db, sample.reference, actor=ACTOR)
    assert detail is not None
    assert Counter(item.ethnic_group for item in detail[1]) == {"White": 12, "Black": 6, "Asian": 2}
    assert sample.population_size == 100


def test_reviews_give_the_proportion_with_its_interval(db: Session, settings: Settings, force: str) -> None:
    sample = service.draw_sample(
        db, settings, force="kent", period_from="2019-05", period_to="2019-05", size=10, seed=3,
        stratify=None, actor=ACTOR,
    )  # fmt: skip
    for position in range(1, 11):
        service.record_review(
            db,
            sample.reference,
            position,
            recorded=position <= 8,
            strong=position <= 4,
            note=None,
            actor=ACTOR,
        )
    review = service.report(db, settings, ReportRequest("kent", "2019-05", "2019-05"))["grounds_review"]
    assert (review["reviewed"], review["recorded"], review["strong"]) == (10, 8, 4)
    assert review["proportion"] == 0.8
    low, high = review["ci95"]
    assert low < 0.8 < high
    assert sum(group["reviewed"] for group in review["by_group"].values()) == 10
    assert set(review["by_team"]) <= {"North", "South"}
    db.commit()
    ops = db.scalars(select(LedgerEntry.op).where(LedgerEntry.object_type == "stop_search_record")).all()
    assert ops == ["review"] * 10


def test_review_refusals(db: Session, settings: Settings, force: str) -> None:
    sample = service.draw_sample(
        db, settings, force="kent", period_from="2019-05", period_to="2019-05", size=2, seed=3,
        stratify=None, actor=ACTOR,
    )  # fmt: skip
    with pytest.raises(service.ReportError, match="cannot be strong when no reasonable grounds"):
        service.record_review(db, sample.reference, 1, recorded=False, strong=True, note=None, actor=ACTOR)
    with pytest.raises(service.ReportError, match="has no record 3"):
        service.record_review(db, sample.reference, 3, recorded=True, strong=None, note=None, actor=ACTOR)
    with pytest.raises(service.ReportError, match="there is no sample SSS/999/26"):
        service.record_review(db, "SSS/999/26", 1, recorded=True, strong=None, note=None, actor=ACTOR)
    with pytest.raises(service.ReportError, match="a sample can be stratified by 'ethnicity' only"):
        _draw(db, settings, 1, stratify="team")
    with pytest.raises(service.ReportError, match="no person searches in that period"):
        service.draw_sample(
            db, settings, force="kent", period_from="2020-01", period_to="2020-02", size=2, seed=3,
            stratify=None, actor=ACTOR,
        )  # fmt: skip


def test_viewing_a_sample_is_logged_as_a_consultation(db: Session, settings: Settings, force: str) -> None:
    _draw(db, settings, 5)
    db.commit()
    entry = db.scalars(select(LedgerEntry).where(LedgerEntry.op == "consultation")).one()
    assert entry.object_type == "stop_search_sample"
