"""The gate's group-commit writer: waiting decisions commit together, one bad job sinks nothing else, and
the warm start loads the index before the web process serves."""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from custodes.workforce import api as gate_api
from custodes.workforce import gate
from custodes.workforce.models import Course
from tests.workforce.test_gate import ACTOR, make_gate_world

ALLOW = {"staff_id": "S1", "subject_id": "N9", "system": "PNC", "purpose": "investigation"}


def _decision(writer: gate.DecisionWriter) -> Any:
    return lambda session: gate.check(session, writer.index, ALLOW, ACTOR, synced=True)


def _fails(_session: Session) -> None:
    raise ValueError("this job is wrong")


def _breaks_the_commit(session: Session) -> None:
    session.add(Course(course_code="BROKEN"))  # no title: refused when the batch flushes


def _in_a_fresh_loop(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run it in a thread of its own: earlier tests (the browser's) may leave a loop running in this one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result(60)


async def _behind_a_blocker(writer: gate.DecisionWriter, jobs: list[Any]) -> list[Any]:
    """Queue `jobs` while the writer is busy with another, so that they wait and go as one batch."""
    started, release = threading.Event(), threading.Event()

    def blocker(_session: Session) -> str:
        started.set()
        release.wait(10)
        return "first"

    first = writer.decide_async(blocker)
    assert await asyncio.to_thread(started.wait, 10)
    waiting = [writer.decide_async(job) for job in jobs]
    release.set()
    assert await first == "first"
    return await asyncio.gather(*waiting, return_exceptions=True)


def test_waiting_decisions_commit_together_and_a_failing_job_fails_alone(app: FastAPI, db: Session) -> None:
    make_gate_world(db)
    db.commit()
    writer = gate_api.writer_for(app)
    jobs = [_decision(writer), _fails, _decision(writer), _decision(writer)]
    found = _in_a_fresh_loop(_behind_a_blocker(writer, jobs))
    assert [type(r).__name__ for r in found] == ["GateDecision", "ValueError", "GateDecision", "GateDecision"]
    assert all(r.decision == "allow" for r in found if isinstance(r, gate.GateDecision))
    assert (writer.batches, writer.jobs) == (2, 5)


def test_a_job_that_breaks_the_shared_commit_is_retried_alone(app: FastAPI, db: Session) -> None:
    make_gate_world(db)
    db.commit()
    writer = gate_api.writer_for(app)
    jobs = [_decision(writer), _breaks_the_commit, _decision(writer)]
    found = _in_a_fresh_loop(_behind_a_blocker(writer, jobs))
    assert isinstance(found[0], gate.GateDecision) and isinstance(found[2], gate.GateDecision)
    assert isinstance(found[1], Exception) and "course" in str(found[1]).lower()
    db.expire_all()
    assert db.get(Course, "BROKEN") is None


def test_a_thread_can_wait_for_its_job_too(app: FastAPI, db: Session) -> None:
    make_gate_world(db)
    db.commit()
    writer = gate_api.writer_for(app)
    assert writer.submit(_decision(writer)).decision == "allow"
    with pytest.raises(ValueError, match="this job is wrong"):
        writer.submit(_fails)


def test_warm_start_loads_the_index_and_freezes_it_for_the_collector(app: FastAPI, db: Session) -> None:
    make_gate_world(db)
    db.commit()
    try:
        loaded = gate_api.warm_start(app)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
    index = gate_api.writer_for(app).index
    assert loaded == len(index.profiles) > 0 and "S1" in index.profiles
    assert "N9" in index.nominals  # a small register is cached whole


def test_the_setting_warms_the_gate_before_the_app_serves(app: FastAPI, db: Session) -> None:
    make_gate_world(db)
    db.commit()
    app.state.settings = app.state.settings.model_copy(update={"gate_warm_start": True})
    try:
        with TestClient(app, base_url="https://testserver"):  # runs the start-up
            assert "S1" in gate_api.writer_for(app).index.profiles
    finally:
        gc.unfreeze()
