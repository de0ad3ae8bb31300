"""The demo register: the seeds' recommendations, each linked to its controls, with owned actions."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from custodes.learning import demo
from custodes.learning import service as learning
from tests.learning.helpers import ACTOR, OTHER_OWNER, OWNER, make_owners

DAY = date(2026, 3, 1)


def test_demo_register(db: Session) -> None:
    make_owners(db)
    owners = {"dpu": OWNER, "supervisor": OWNER, "analyst": OTHER_OWNER, "ccu": OTHER_OWNER}
    ids = demo.load(db, owners, ACTOR, today=DAY)
    db.commit()
    recs = {r.id: r for r in learning.list_recommendations(db)}
    kent, durham, herts, stops, corruption, vulnerable = (recs[i] for i in ids)
    assert (kent.source_kind, kent.accepted, kent.status) == ("IOPC", "no", "closed")
    assert "Force Policy W1011" in (kent.reason or "") and "KMISA" in (kent.reason or "")
    assert {"FACT_UNVERIFIED", "RATIONALE_MISSING", "LEDGER"} <= set(kent.controls)
    assert (durham.accepted, durham.status) == ("yes", "in_progress")
    assert {"DISCLOSER_TRAINING_EXPIRED", "LAWFUL_BASIS_MISSING"} <= set(durham.controls)
    assert [a.id for a in durham.overdue_actions(DAY)] and durham.open_actions
    assert herts.status == "done" and "DECLARED_CONFLICT" in herts.controls
    assert all(a.status == "done" for a in herts.actions)
    assert stops.source_kind == "HMICFRS" and "STOPSEARCH_REPORT" in stops.controls
    assert {"ACCESS_MONITORING", "UNEXPLAINED"} <= set(corruption.controls)
    assert vulnerable.controls == ()  # outside what Custodes does
    assert {a.owner_staff_id for r in recs.values() for a in r.actions} == {OWNER, OTHER_OWNER}
