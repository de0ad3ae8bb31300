"""The ledger alongside other transactions: lock order at commit, the witness file, verify during a
disposal, and readers that must not hold SQLite's write lock."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from structlog.testing import capture_logs

from custodes.kit.db import transaction, utcnow
from custodes.ledger import service as ledger
from custodes.ledger.models import LedgerEntry, VerificationRun
from custodes.ledger.note import Signer, Verifier, format_checkpoint, generate_signer_key, open_checkpoint
from custodes.ledger.schemas import EntryDraft, Op
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


# --------------------------------------------------------------------------- the witness file


def _notes(sizes: tuple[int, ...]) -> tuple[Verifier, dict[int, str]]:
    signer = Signer(generate_signer_key("origin"))
    return Verifier(signer.verifier_key()), {
        n: signer.sign(format_checkpoint("origin", n, bytes(32))) for n in sizes
    }


def test_overlapping_witness_writes_neither_fail_nor_go_backwards(tmp_path: Path) -> None:
    """Each writer has its own temporary file (they shared one: FileNotFoundError after the commit), and
    the newest checkpoint is never replaced by an older one."""
    verifier, notes = _notes((9, 10, 99, 100, 999, 1000))
    path = tmp_path / "ledger-latest-checkpoint.txt"
    errors: list[BaseException] = []

    def writer(size: int) -> None:
        for _ in range(100):
            try:
                ledger._write_witness(path, size, notes[size])
            except BaseException as error:  # reported by the assertion below
                errors.append(error)

    threads = [threading.Thread(target=writer, args=(size,)) for size in notes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, f"{len(errors)} witness writes failed, e.g. {errors[0]!r}"
    assert open_checkpoint(path.read_text(), verifier).size == 1000
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name, path.name + ".lock"]  # no temporaries
    ledger._write_witness(path, 99, notes[99])
    assert open_checkpoint(path.read_text(), verifier).size == 1000


def test_a_witness_that_cannot_be_written_does_not_fail_the_commit(
    fresh_log: Log, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checkpoint has committed when the witness is written: a failure is logged, not raised (it was
    raised after the commit, and the caller's rollback then failed too), and the next checkpoint writes it."""
    fresh_log.append(3)

    def refuse(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ledger, "_write_witness", refuse)
    with capture_logs() as logged:
        assert fresh_log.checkpoint() == 3
    assert [entry["event"] for entry in logged] == ["witness_write_failed"]
    assert logged[0]["size"] == 3 and logged[0]["log_level"] == "error"
    with fresh_log.factory() as session:
        latest = ledger.latest_checkpoint(session)
        assert latest is not None and latest.size == 3
    assert not fresh_log.settings.witness_file.exists()
    monkeypatch.undo()
    fresh_log.append(1)
    fresh_log.checkpoint()
    assert fresh_log.settings.witness_file.read_text().split("\n")[1] == "4"


# --------------------------------------------------------------------------- verify during a disposal


@pytest.mark.parametrize("parallel", [False, True], ids=["in-process", "workers"])
def test_a_redaction_committed_while_verify_runs_is_not_tampering(
    fresh_log: Log, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, parallel: bool
) -> None:
    """A disposal that commits between verify's statements (PostgreSQL: each sees what committed before
    it) was reported as "entry 7 has no bytes and no redaction record". The scan now reads each cleared
    entry's redaction row in the statement that reads its bytes."""
    fresh_log.append(40)
    fresh_log.checkpoint()
    done = tmp_path / "redacted"  # a file, not a variable: verify's workers are forked processes

    def redact_once() -> None:
        try:
            done.touch(exist_ok=False)
        except FileExistsError:
            return
        with transaction(fresh_log.factory) as other:
            ledger.redact(other, 7, "end of retention", "system:retention")

    if fresh_log.backend == "sqlite":  # the disposal would wait for verify's transaction: no race to make
        redact_once()
    else:
        original = ledger._stream

        def stream_after_a_redaction(connection: Any, sql: str, *args: Any) -> Iterator[list[Any]]:
            if "idx >= 0 " in sql:  # the disposal commits just before entry 7's chunk is read
                redact_once()
            yield from original(connection, sql, *args)

        monkeypatch.setattr(ledger, "_stream", stream_after_a_redaction)
    report = fresh_log.verify(parallel=parallel)
    assert done.exists()
    assert report.intact, report.fault
    assert report.redacted == 1


# --------------------------------------------------------------------------- read-only units of work


def _a_writer_can_lock(log: Log) -> bool:
    """SQLite: whether another connection can take the write lock now (within a second)."""
    writer = sqlite3.connect(log.url.removeprefix("sqlite:///"), timeout=1, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError as error:
        assert "locked" in str(error)
        return False
    finally:
        writer.close()


def test_a_read_only_unit_of_work_holds_no_write_lock(fresh_log: Log) -> None:
    """SQLite: an export, verification or proof ran in BEGIN IMMEDIATE and held the write lock to its end,
    so every writer waited 30 s and failed. A read-only unit of work begins deferred; its first read starts
    the snapshot it keeps to the end."""
    if fresh_log.backend != "sqlite":
        pytest.skip("SQLite's write lock")
    fresh_log.append(50)
    with transaction(fresh_log.factory) as writer:
        ledger.size(writer)
        assert not _a_writer_can_lock(fresh_log)  # an ordinary unit of work does hold it (appends need it)
    with transaction(fresh_log.factory, read_only=True) as reader:
        lines = ledger.export_lines(reader)
        next(lines)  # the export is under way
        assert _a_writer_can_lock(fresh_log)
        assert fresh_log.append(5) == 55  # a writer commits meanwhile
        assert len([next(lines), *lines]) == 49  # the export still reads its own snapshot: 50 entries
        assert ledger.size(reader) == 50


def test_verify_in_a_read_only_unit_of_work_sees_one_snapshot(
    fresh_log: Log, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Entries appended while verify reads (it no longer keeps writers out on SQLite) are not a fault."""
    fresh_log.append(40)
    fresh_log.checkpoint()
    original = ledger._stream
    appended: list[int] = []

    def stream_after_an_append(*args: Any) -> Iterator[list[Any]]:
        if not appended:
            appended.append(fresh_log.append(9))
            fresh_log.checkpoint()
        yield from original(*args)

    monkeypatch.setattr(ledger, "_stream", stream_after_an_append)
    with transaction(fresh_log.factory, read_only=True) as reader:
        report = ledger.verify(reader, fresh_log.settings)
    assert appended == [49]
    assert report.intact, report.fault
    monkeypatch.setattr(ledger, "_stream", original)
    assert fresh_log.verify().intact


def test_postgresql_refuses_a_write_in_a_read_only_unit_of_work(fresh_log: Log) -> None:
    if fresh_log.backend != "postgresql":
        pytest.skip("SQLite has no read-only transactions (a deferred one may write)")
    with (
        pytest.raises(DBAPIError, match="read-only transaction"),
        transaction(fresh_log.factory, read_only=True) as reader,
    ):
        ledger.record(reader, draft(1))
    with fresh_log.factory() as session:
        assert ledger.size(session) == 0


# --------------------------------------------------------------------------- redacted bytes on disk

SECRET = "Justification-naming-Jane-Doe-DOB-1980-01-02"


def test_redacted_bytes_do_not_linger_in_the_sqlite_file(fresh_log: Log) -> None:
    """SQLite leaves deleted content in free pages unless secure_delete is on: on in Debian's build, off by
    SQLite's default, which is simulated here (set before the application's own connect hook runs)."""
    if fresh_log.backend != "sqlite":
        pytest.skip("SQLite's file (PostgreSQL: VACUUM after a disposal, docs/ledger.md)")
    fresh_log.engine.dispose()
    event.listen(
        fresh_log.engine,
        "connect",
        lambda dbapi, _record: dbapi.execute("PRAGMA secure_delete=OFF"),
        insert=True,
    )
    with fresh_log.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
    fresh_log.append(20)
    with transaction(fresh_log.factory) as session:
        ledger.record(
            session,
            EntryDraft(
                actor="staff:S1",
                op=Op.CONSULTATION,
                object_type="disclosure",
                object_id="D1",
                subjects=("P-JANE",),
                justification=SECRET,
            ),
        )
    fresh_log.append(20)
    with transaction(fresh_log.factory) as session:
        ledger.redact(session, 20, "end of retention", "system:retention")
    assert fresh_log.verify().intact
    fresh_log.engine.dispose()
    database = Path(fresh_log.url.removeprefix("sqlite:///"))
    raw = sqlite3.connect(database)
    raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw.close()
    holding = [
        path.name
        for path in database.parent.glob(database.name + "*")
        if SECRET.encode() in path.read_bytes()
    ]
    assert holding == []
