"""`custodes demo` loads a force in which every disclosure screen has something real to show."""

from __future__ import annotations

from sqlalchemy.orm import Session

from custodes.agreements import service as agreements
from custodes.demo import load_demo
from custodes.disclosure import service as disclosure
from custodes.identity.permissions import Role
from custodes.kit.db import utcnow
from custodes.kit.timefmt import london_day

TODAY = london_day(utcnow())


def test_the_demo_has_disclosures_at_every_stage(db: Session) -> None:
    logins = load_demo(db, seed=11, staff_count=200)
    assert sorted(role for role, *_ in logins) == sorted(role.value for role in Role)
    counts = disclosure.counts_by_status(db)
    for status in ("draft", "submitted", "authorised", "refused", "released", "withdrawn"):
        assert counts.get(status, 0) >= 1, f"no {status} disclosure in the demo"
    outstanding = disclosure.notices(db, outstanding=True)
    assert any(notice.kind.value == "correction" for notice in outstanding)
    assert any(row.review_due and row.review_due < TODAY for row in disclosure.review_queue(db))
    statuses = {view.status_on(TODAY) for view in agreements.list_agreements(db)}
    assert {"in_force", "ended"} <= statuses
    assert len(agreements.list_schemes(db)) == 3
