"""The ledger alongside other transactions: lock order at commit, the witness file, verify during a
disposal, and readers that must not hold SQLite's write lock."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from custodes.kit.db import utcnow
from custodes.ledger import service as ledger
from custodes.ledger.models import LedgerEntry, VerificationRun
from tests.ledger.helpers import Log, draft


def _run(by: str) -> VerificationRun:
    return VerificationRun(id=1, at=utcnow(), by=by, intact=True, size=0, seconds=0.0)


# --------------------------------------------------------------------------- lock order at commit


def test_two_committers_waiting_on_a_row_do_not_deadlock(fresh_log: Log) -> None:
    """PostgreSQL: the business change is flushed before the ledger's lock is taken, so a commit waiting for
    a row lock does not hold the ledger's lock meanwhile, and the row's holder can still append and commit
    (it was "deadlock detected"). SQLite has one writer at a time from BEGIN: nothing to interleave."""
    if fresh_log.backend != "postgresql":
        pytest.skip("row locks and the advisory lock are PostgreSQL's")
    with fresh_log.factory() as session:
        session.add(_run("setup"))
        session.commit()
    errors: list[BaseException] = []
    holder, waiter = fresh_log.factory(), fresh_log.factory()
    unlocked = waiter.get(VerificationRun, 1)  # read without a lock; its change is flushed only at commit
    assert unlocked is not None
    locked = holder.scalars(select(VerificationRun).with_for_update()).one()
    locked.by = "holder"
    holder.flush()
    ledger.record(holder, draft(1))
    unlocked.by = "waiter"
    ledger.record(waiter, draft(2))

    def commit_the_waiter() -> None:
        try:
            waiter.commit()  # its flush waits for the holder's row lock
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    thread = threading.Thread(target=commit_the_waiter)
    thread.start()
    time.sleep(0.5)
    try:
        holder.commit()  # takes the ledger's lock: it must not be held by the waiter
    except BaseException as error:
        errors.append(error)
    thread.join(timeout=60)
    holder.close()
    waiter.close()
    assert not errors, f"a commit failed: {errors[0]!r}"
    with fresh_log.factory() as session:
        assert session.scalars(select(VerificationRun.by)).all() == ["waiter"]
        assert ledger.size(session) == 2
    assert fresh_log.verify().intact


def test_entries_drafted_while_the_commit_flushes_are_appended(fresh_log: Log) -> None:
    """The commit's flush runs before the append, so an entry recorded by a flush hook commits with it."""
    with fresh_log.factory() as session:
        session.add(_run("flushed at commit"))

        def record_on_flush(flushing: Session, *_: object) -> None:
            ledger.record(flushing, draft(7))

        event.listen(session, "before_flush", record_on_flush, once=True)
        session.commit()
    with fresh_log.factory() as session:
        assert session.scalars(select(LedgerEntry.object_id)).all() == ["R7"]
        assert session.get(VerificationRun, 1) is not None
