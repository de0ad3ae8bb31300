"""Two members of the unit deciding on the same alert or investigation at the same moment, on a real database
(PostgreSQL READ COMMITTED; SQLite serialises): one decision stands, the other is refused in words, and the
ledger holds only the decision that stands."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from custodes.identity import service as identity
from custodes.identity.schemas import Principal
from custodes.kit.db import utcnow
from custodes.kit.timefmt import london_day
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter
from custodes.monitoring import casework
from custodes.monitoring import service as monitoring
from custodes.monitoring.alerts import AlertDraft, AlertEventDraft
from custodes.monitoring.casework import CaseworkError
from custodes.monitoring.models import Alert, AlertEvent, Investigation, InvestigationNote, MonitorRun
from custodes.monitoring.schemas import Rule
from tests.monitoring.test_casework import SEARCHER, UNIT, make_alerts, make_people
from tests.support.concurrency import at_once

Step = Callable[[Session], object]
FIRST = f"INV/001/{london_day(utcnow()).year % 100:02d}"


def _viewer(session: Session) -> Principal:
    found = identity.principal_for(session, UNIT)
    assert found is not None
    return found


def _world(factory: sessionmaker[Session], investigate: list[str] | None = None) -> int | None:
    with factory() as setup:
        make_people(setup)
        make_alerts(setup)
        found = (
            casework.open_investigation(setup, investigate, _viewer(setup), "Op Hedge", "Pattern of look-ups")
            if investigate
            else None
        )
        setup.commit()
    return found


def _one_then_other(factory: sessionmaker[Session], first: Step, second: Step) -> BaseException | None:
    """`first` in one session and, while it holds its uncommitted change, `second` in another."""
    steps = iter((first, second))
    (outcome,) = at_once(factory, lambda session: next(steps)(session))
    return outcome


def _dismiss(session: Session) -> None:
    casework.dismiss_alert(session, "AL-NEIGHBOUR", _viewer(session), "explained: working on a case")


def _investigate(session: Session) -> None:
    casework.open_investigation(session, ["AL-NEIGHBOUR"], _viewer(session), "Op Race", "Pattern of look-ups")


def _decisions(session: Session, alert_id: str) -> list[dict[str, object]]:
    entries = ledger.iter_matching(session, EntryFilter(object_type="alert", object_id=alert_id))
    return [e.detail for e in entries if "decision" in e.detail]


def _closings(session: Session, reference: str) -> list[dict[str, object]]:
    entries = ledger.iter_matching(session, EntryFilter(object_type="investigation", object_id=reference))
    return [e.detail for e in entries if e.detail.get("action") == "closed"]


def test_an_alert_dismissed_while_it_is_put_in_an_investigation_stays_dismissed(
    committing_sessions: sessionmaker[Session],
) -> None:
    _world(committing_sessions)
    refused = _one_then_other(committing_sessions, _dismiss, _investigate)
    assert (
        isinstance(refused, CaseworkError)
        and str(refused) == "Alert AL-NEIGHBOUR has already been dismissed."
    )
    with committing_sessions() as session:
        alert = session.get(Alert, "AL-NEIGHBOUR")
        assert alert is not None and (alert.status, alert.investigation_id) == ("dismissed", None)
        assert session.scalar(select(func.count()).select_from(Investigation)) == 0
        assert _decisions(session, "AL-NEIGHBOUR") == [
            {"decision": "dismissed", "reason": "explained: working on a case"}
        ]


def test_an_alert_put_in_an_investigation_while_it_is_dismissed_stays_in_it(
    committing_sessions: sessionmaker[Session],
) -> None:
    _world(committing_sessions)
    refused = _one_then_other(committing_sessions, _investigate, _dismiss)
    assert isinstance(refused, CaseworkError)
    assert str(refused) == f"Alert AL-NEIGHBOUR is already part of an investigation ({FIRST})."
    with committing_sessions() as session:
        alert = session.get(Alert, "AL-NEIGHBOUR")
        assert alert is not None and (alert.status, alert.dismissal_reason) == ("investigating", None)
        assert _decisions(session, "AL-NEIGHBOUR") == [{"decision": "investigation", "investigation": FIRST}]


def test_an_alert_dismissed_twice_at_once_is_dismissed_once(
    committing_sessions: sessionmaker[Session],
) -> None:
    _world(committing_sessions)
    refused = _one_then_other(committing_sessions, _dismiss, _dismiss)
    assert isinstance(refused, CaseworkError) and "already been dismissed" in str(refused)
    with committing_sessions() as session:
        assert len(_decisions(session, "AL-NEIGHBOUR")) == 1


def test_an_alert_put_in_two_investigations_at_once_is_in_one(
    committing_sessions: sessionmaker[Session],
) -> None:
    _world(committing_sessions)
    refused = _one_then_other(committing_sessions, _investigate, _investigate)
    assert isinstance(refused, CaseworkError) and f"already part of an investigation ({FIRST})" in str(
        refused
    )
    with committing_sessions() as session:
        assert [i.reference for i in session.scalars(select(Investigation))] == [FIRST]
        assert len(_decisions(session, "AL-NEIGHBOUR")) == 1


def _close(outcome: str) -> Step:
    def step(session: Session) -> None:
        (row,) = session.scalars(select(Investigation))
        casework.close_investigation(session, row.id, _viewer(session), outcome, f"decided: {outcome}")

    return step


def _add_celebrity(session: Session) -> None:
    (row,) = session.scalars(select(Investigation))
    casework.add_alerts(session, row.id, ["AL-CELEBRITY"], _viewer(session))


def test_an_investigation_closed_twice_at_once_has_one_outcome(
    committing_sessions: sessionmaker[Session],
) -> None:
    _world(committing_sessions, ["AL-NEIGHBOUR"])
    refused = _one_then_other(committing_sessions, _close("misconduct"), _close("no_case_to_answer"))
    assert isinstance(refused, CaseworkError) and str(refused) == f"{FIRST} is closed."
    with committing_sessions() as session:
        (row,) = session.scalars(select(Investigation))
        assert (row.outcome, row.outcome_reason) == ("misconduct", "decided: misconduct")
        assert [c["outcome"] for c in _closings(session, FIRST)] == ["misconduct"]


def test_an_alert_added_while_the_investigation_is_closed_is_closed_with_it(
    committing_sessions: sessionmaker[Session],
) -> None:
    investigation_id = _world(committing_sessions, ["AL-NEIGHBOUR"])
    assert _one_then_other(committing_sessions, _add_celebrity, _close("misconduct")) is None
    with committing_sessions() as session:
        linked = select(Alert).where(Alert.investigation_id == investigation_id)
        statuses = {a.alert_id: a.status for a in session.scalars(linked)}
        assert statuses == {"AL-NEIGHBOUR": "closed", "AL-CELEBRITY": "closed"}


def test_no_alert_is_added_to_an_investigation_being_closed(
    committing_sessions: sessionmaker[Session],
) -> None:
    _world(committing_sessions, ["AL-NEIGHBOUR"])
    refused = _one_then_other(committing_sessions, _close("misconduct"), _add_celebrity)
    assert isinstance(refused, CaseworkError) and str(refused) == f"{FIRST} is closed."
    with committing_sessions() as session:
        alert = session.get(Alert, "AL-CELEBRITY")
        assert alert is not None and (alert.status, alert.investigation_id) == ("new", None)
        assert _decisions(session, "AL-CELEBRITY") == []


@pytest.mark.parametrize("note_first", [False, True])
def test_no_note_is_added_to_an_investigation_being_closed(
    committing_sessions: sessionmaker[Session], note_first: bool
) -> None:
    _world(committing_sessions, ["AL-NEIGHBOUR"])

    def note(session: Session) -> None:
        (row,) = session.scalars(select(Investigation))
        casework.add_note(session, row.id, _viewer(session), "Spoke to the supervisor.")

    steps = (note, _close("misconduct")) if note_first else (_close("misconduct"), note)
    refused = _one_then_other(committing_sessions, *steps)
    with committing_sessions() as session:
        assert session.scalars(select(Investigation.status)).all() == ["closed"]
        notes = list(session.scalars(select(InvestigationNote.text)))
    if note_first:
        assert refused is None and notes == ["Spoke to the supervisor."]
    else:
        assert isinstance(refused, CaseworkError) and str(refused) == f"{FIRST} is closed." and notes == []


def _run_continuing_the_neighbour_alert(session: Session) -> None:
    """What `monitor run` stores when the detectors, having read AL-NEIGHBOUR as open, find a fourth access
    that continues it."""
    alert = session.get(Alert, "AL-NEIGHBOUR")
    assert alert is not None
    rules = (Rule.NEIGHBOUR, Rule.UNEXPLAINED)
    times = [*session.scalars(select(AlertEvent.occurred_at).where(AlertEvent.alert_id == "AL-NEIGHBOUR"))]
    later = max(times) + timedelta(days=2)
    at_us = [int(at.timestamp() * 1e6) for at in [*times, later]]
    events = tuple(
        AlertEventDraft(f"AL-NEIGHBOUR-e{n}", us, "PNC", "view", None, "batch-test-1", rules, "no case")
        for n, us in enumerate(at_us, start=1)
    )
    draft = AlertDraft("AL-NEIGHBOUR", SEARCHER, "N9", rules, 90, alert.first_at, later, events, "again")
    run = MonitorRun(actor="system:test", events=4, about_people=4, explained=0, explained_by="{}", alerts=1,
                     at=utcnow())  # fmt: skip
    session.add(run)
    session.flush()
    monitoring._store_alerts(session, run.id, [draft], "system:test")


@pytest.mark.parametrize("dismissed_first", [True, False])
def test_a_run_and_a_dismissal_at_once_never_add_accesses_to_a_dismissed_alert(
    committing_sessions: sessionmaker[Session], dismissed_first: bool
) -> None:
    """Dismissed first: the run waits for it and is refused in words, storing nothing (run it again). Run
    first: the dismissal waits and then dismisses the alert as the run left it, with its fourth access."""
    _world(committing_sessions)
    steps = (_dismiss, _run_continuing_the_neighbour_alert)
    refused = _one_then_other(committing_sessions, *(steps if dismissed_first else steps[::-1]))
    with committing_sessions() as session:
        alert = session.get(Alert, "AL-NEIGHBOUR")
        assert alert is not None and alert.status == "dismissed"
        held = session.scalar(select(func.count()).where(AlertEvent.alert_id == "AL-NEIGHBOUR"))
    if dismissed_first:
        assert isinstance(refused, monitoring.DecidedMeanwhile) and "run the detectors again" in str(refused)
        assert (alert.events, held) == (3, 3)
    else:
        assert refused is None and (alert.events, held) == (4, 4)
