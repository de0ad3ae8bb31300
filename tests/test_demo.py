"""`custodes demo` loads a force in which every disclosure and counter-corruption screen has something real
to show."""

from __future__ import annotations

from sqlalchemy.orm import Session

from custodes.agreements import service as agreements
from custodes.demo import load_demo
from custodes.disclosure import service as disclosure
from custodes.identity import service as identity
from custodes.identity.permissions import Role
from custodes.identity.schemas import Principal
from custodes.kit.db import utcnow
from custodes.kit.timefmt import london_day
from custodes.monitoring import casework
from custodes.monitoring import service as monitoring
from custodes.settings import Settings
from custodes.workforce import service as workforce

TODAY = london_day(utcnow())


def test_the_demo_has_something_on_every_screen(db: Session, settings: Settings) -> None:
    logins = load_demo(db, settings, seed=11, staff_count=200, events=20_000)
    assert sorted(role for role, *_ in logins) == sorted(role.value for role in Role)
    check_logins(db, logins)
    dpu = identity.principal_for(db, next(staff_id for role, staff_id, *_ in logins if role == Role.DPU))
    check_disclosures(db, dpu)
    unit = identity.principal_for(db, next(staff_id for role, staff_id, *_ in logins if role == Role.CCU))
    check_monitoring(db, settings, unit)


def check_logins(db: Session, logins: list[tuple[str, str, str, str]]) -> None:
    """Each demo log-in holds its own role only: the auditor and the administrator were supervisors too
    (their unit's sergeants), so they saw the authorisation queue and declarations to decide. The officer
    still has a line manager who is a supervisor, to authorise their requests and decide declarations."""
    for role, staff_id, *_ in logins:
        assert identity.principal_for(db, staff_id).roles == {Role(role)}, role
    officer = next(staff_id for role, staff_id, *_ in logins if role == Role.OFFICER)
    record = workforce.view_staff(db, officer, actor="system:test", justification="test")
    assert record is not None and record.line_manager_id is not None
    assert Role.SUPERVISOR in identity.principal_for(db, record.line_manager_id).roles
    # Teams have names (the team register), so screens show "North Division Response Team A (NA-RESP1)".
    teams = workforce.team_labeller(db)
    assert teams.named(record.team_id), record.team_id
    assert teams(record.team_id).endswith(f" ({record.team_id})")


def check_disclosures(db: Session, dpu: Principal) -> None:
    counts = disclosure.counts_by_status(db)
    for status in ("draft", "submitted", "authorised", "refused", "released", "withdrawn"):
        assert counts.get(status, 0) >= 1, f"no {status} disclosure in the demo"
    outstanding = disclosure.notices(db, outstanding=True)
    assert any(notice.kind.value == "correction" for notice in outstanding)
    assert any(row.review_due and row.review_due < TODAY for row in disclosure.review_queue(db, dpu))
    statuses = {view.status_on(TODAY) for view in agreements.list_agreements(db)}
    assert {"in_force", "ended"} <= statuses
    assert len(agreements.list_schemes(db)) == 3


def check_monitoring(db: Session, settings: Settings, unit: Principal) -> None:
    """Access logs stored, alerts of several rules, and casework the unit's log-in can see (none of it
    about that log-in's holder, who would not be shown alerts about themselves)."""
    store = monitoring.overview(db).store
    assert store.accesses >= 19_000
    assert store.batches >= 1
    assert monitoring.event_store(settings).has_events()
    rows, total = casework.alert_queue(db, settings, unit, status="")
    assert total >= 20
    rules = {rule for row in rows for rule in row.rules}
    assert {"SELF", "DECLARED_CONFLICT", "NEIGHBOUR", "REPEATED_INTEREST", "VOLUME_ANOMALY"} <= rules
    counts = casework.status_counts(db, unit)
    assert counts[casework.AlertStatus.DISMISSED] == 1
    assert counts[casework.AlertStatus.INVESTIGATING] == 1
    assert counts[casework.AlertStatus.CLOSED] == 1
    (dismissed,), _ = casework.alert_queue(db, settings, unit, status=casework.AlertStatus.DISMISSED)
    assert casework.view_alert(db, settings, dismissed.alert_id, unit).dismissal_reason
    (still_open,) = casework.investigations(db, unit, casework.InvestigationStatus.OPEN)
    assert casework.view_investigation(db, settings, still_open.id, unit).notes
    (closed,) = casework.investigations(db, unit, casework.InvestigationStatus.CLOSED)
    assert closed.outcome in casework.OUTCOMES
    detail = casework.view_investigation(db, settings, closed.id, unit)
    assert detail.outcome_reason
    assert detail.notes
