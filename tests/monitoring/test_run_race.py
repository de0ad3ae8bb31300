"""Two detector runs at once (the web's "Run the detectors" and `custodes monitor run`, or two members of
the unit pressing the button) that find the same new alert: the second waits for the first (a transaction
lock on PostgreSQL, the write lock on SQLite) and continues the alert it stored. It used to fail on
PostgreSQL with an IntegrityError (a 500 on the web), or store one pattern as two alerts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from custodes.kit.db import utcnow
from custodes.monitoring import service as monitoring
from custodes.monitoring.alerts import AlertDraft, AlertEventDraft
from custodes.monitoring.models import Alert, MonitorRun
from custodes.monitoring.schemas import Rule
from custodes.settings import Settings
from tests.monitoring.test_casework import SEARCHER, make_people
from tests.monitoring.world import event, ingest, load_world
from tests.support.concurrency import at_once

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _run(session: Session) -> None:
    rules = (Rule.NEIGHBOUR, Rule.UNEXPLAINED)
    us = int(T0.timestamp() * 1e6)
    events = (AlertEventDraft("ev-1", us, "PNC", "view", None, "batch-1", rules, "no case"),)
    draft = AlertDraft("ANEWALERT000001", SEARCHER, "N9", rules, 70, T0, T0, events, "words")
    run = MonitorRun(
        actor="system:test", events=1, about_people=1, explained=0, explained_by="{}", alerts=1, at=utcnow()
    )
    session.add(run)
    session.flush()
    monitoring._store_alerts(session, run.id, [draft], "system:test")


def test_two_runs_at_once_finding_the_same_new_alert(committing_sessions: sessionmaker[Session]) -> None:
    with committing_sessions() as setup:
        make_people(setup)
        setup.commit()
    (outcome,) = at_once(committing_sessions, _run)
    with committing_sessions() as session:
        assert session.scalar(select(func.count()).select_from(Alert)) == 1
    print("second run's outcome:", type(outcome).__name__, str(outcome)[:200])
    assert outcome is None, f"second run failed: {type(outcome).__name__}: {outcome}"


def _draft(ids: list[str], alert_id: str) -> AlertDraft:
    rules = (Rule.NEIGHBOUR, Rule.UNEXPLAINED)
    base = int(T0.timestamp() * 1e6)
    events = tuple(
        AlertEventDraft(e, base + n * 86_400_000_000, "PNC", "view", None, "batch-1", rules, "no case")
        for n, e in enumerate(ids)
        if e
    )
    first = datetime.fromtimestamp(events[0].at_us / 1e6, UTC)
    last = datetime.fromtimestamp(events[-1].at_us / 1e6, UTC)
    return AlertDraft(alert_id, SEARCHER, "N9", rules, 70, first, last, events, "words")


def _store(draft: AlertDraft):
    def step(session: Session) -> None:
        run = MonitorRun(
            actor="system:test",
            events=1,
            about_people=1,
            explained=0,
            explained_by="{}",
            alerts=1,
            at=utcnow(),
        )
        session.add(run)
        session.flush()
        monitoring._store_alerts(session, run.id, [draft], "system:test")

    return step


def test_two_runs_with_different_windows_at_once_split_one_pattern(
    committing_sessions: sessionmaker[Session],
) -> None:
    """`monitor run` over everything (first access ev-1) and the web's 90-day run (first access in its
    window ev-2) at once: two alerts for one pattern, the same access in both."""
    with committing_sessions() as setup:
        make_people(setup)
        setup.commit()
    whole = _draft(["ev-1", "ev-2"], "AWHOLE000000001")
    recent = _draft(["", "ev-2"], "ARECENT00000001")
    (outcome,) = at_once(committing_sessions, _store(whole), _store(recent))
    from custodes.monitoring.models import AlertEvent

    with committing_sessions() as session:
        alerts = session.scalars(select(Alert.alert_id).order_by(Alert.alert_id)).all()
        held = session.execute(select(AlertEvent.alert_id, AlertEvent.event_id)).all()
    print(outcome, alerts, held)
    assert outcome is None
    assert len(alerts) == 1, f"one pattern stored as {alerts}; accesses {sorted(held)}"


def test_a_leftover_integrity_error_asks_for_another_run(
    db: Session, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should two runs ever clash all the same, the run is refused in words (the web shows them, with 503),
    never a 500, and nothing of it is stored."""
    load_world(db)
    folder = tmp_path / "in"
    folder.mkdir()
    ingest(db, settings, folder, [event("e1", "N-NB")])

    def clash(*_args: object, **_kwargs: object) -> None:
        raise IntegrityError("INSERT INTO alert ...", {}, Exception("duplicate key value"))

    monkeypatch.setattr(monitoring, "_store_alerts", clash)
    with pytest.raises(monitoring.DecidedMeanwhile, match="run the detectors again"):
        monitoring.run(db, settings, "system:test")
    assert db.scalar(select(func.count()).select_from(MonitorRun)) == 0
