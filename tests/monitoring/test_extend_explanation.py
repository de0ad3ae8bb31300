"""A run that continues an open alert with a narrower draft (the web's 90-day run over an older pattern)
used to replace the alert's explanation with the draft's words, which describe only the draft's accesses:
the stored alert then held 4 accesses, the rules REPEATED_INTEREST etc., a score of the old pattern, and an
explanation that said only 'once ... explained by case'. The alert's own words now stay, the later run's
follow them; a run that saw every access of the alert describes it whole."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from custodes.kit.db import utcnow
from custodes.monitoring import alerts as alert_rules
from custodes.monitoring import service as monitoring
from custodes.monitoring.detectors import Thresholds
from custodes.monitoring.models import Alert, MonitorRun
from custodes.settings import Settings
from tests.monitoring.test_casework import SEARCHER, make_people

DAY = 86_400_000_000
T0 = int(datetime(2026, 1, 5, 10, 0, tzinfo=UTC).timestamp() * 1e6)


def _row(event_id: str, at_us: int, explanation: str | None, repeated: int) -> dict:
    return dict(
        event_id=event_id,
        at_us=at_us,
        day_num=at_us // DAY,
        staff_id=SEARCHER,
        subject_id="N9",
        system="PNC",
        action="view",
        case_ref=None,
        batch_id="b1",
        team_id="T4",
        explanation=explanation,
        explained_by="CASE-7" if explanation else None,
        cited_state=None,
        is_self=0,
        relative=0,
        neighbour=1,
        declared=0,
        colleague=0,
        public_figure=0,
        distance_m=140.0,
        same_postcode=0,
        same_surname=0,
        declaration_id=None,
        relationship=None,
        nominal_staff_id=None,
        off_duty=0,
        repeated=repeated,
    )


def _store(db: Session, drafts) -> None:
    run = MonitorRun(
        actor="system:test", events=1, about_people=1, explained=0, explained_by="{}", alerts=1, at=utcnow()
    )
    db.add(run)
    db.flush()
    monitoring._store_alerts(db, run.id, drafts, "system:test")


def test_extended_alert_keeps_its_explanation_and_adds_the_new_accesses(
    db: Session, settings: Settings
) -> None:
    make_people(db)
    limits = Thresholds()
    old = [_row(f"e{n}", T0 + n * 5 * DAY, None, 1) for n in range(3)]  # 3 unexplained days: repeated
    (first,) = alert_rules.build(old, [], limits)
    _store(db, [first])
    later = [_row("e9", T0 + 100 * DAY + 0, "assigned_case", 0)]  # 20 days later, explained by a case
    # the later run's window no longer holds e0..e2 (e.g. the web's last-90-days run)
    later[0]["at_us"] = T0 + 30 * DAY
    later[0]["day_num"] = later[0]["at_us"] // DAY
    (second,) = alert_rules.build(later, [], limits)
    _store(db, [second])
    alert = db.get(Alert, first.alert_id)
    print(alert.rules, alert.score, alert.events, "|", alert.explanation)
    assert alert.events == 4 and "REPEATED_INTEREST" in alert.rules
    assert alert.explanation == f"{first.explanation} Then, in a later run: {second.explanation}"
    assert "3 times" in alert.explanation and "explained by case CASE-7" in alert.explanation


def test_a_run_over_every_access_describes_the_alert_whole(db: Session, settings: Settings) -> None:
    make_people(db)
    limits = Thresholds()
    old = [_row(f"e{n}", T0 + n * 5 * DAY, None, 1) for n in range(3)]
    (first,) = alert_rules.build(old, [], limits)
    _store(db, [first])
    whole = [*old, _row("e9", T0 + 30 * DAY, "assigned_case", 0)]  # `monitor run` over everything
    (second,) = alert_rules.build(whole, [], limits)
    _store(db, [second])
    alert = db.get(Alert, first.alert_id)
    assert alert.events == 4
    assert alert.explanation == second.explanation and "4 times" in alert.explanation, alert.explanation
