"""The audit screens read in a read-only unit of work: their searches, the subject access report and the CSV
and PDF exports used to read in the request's own, which checking the sign-in began with BEGIN IMMEDIATE on
SQLite, so an export of 200,000 entries held up every writer (log-ins, disclosures, the gate) until it was
done. The consultation of what they show is still recorded, after the read, and committed before the page
or file is sent (docs/ledger.md, "Reading without the write lock")."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from custodes.identity.permissions import Role
from custodes.ledger import service as ledger
from custodes.ledger import web as ledger_web
from custodes.ledger.schemas import EntryFilter, StoredEntry
from custodes.web.app import create_app
from tests.conftest import log_in, make_account
from tests.ledger.helpers import Log, a_writer_commits, open_log

AUDITOR = "S7001"


@pytest.fixture
def audited(
    backend: str, new_database: Callable[[str], str], tmp_path: Path
) -> Iterator[tuple[Log, TestClient]]:
    """A ledger of a few dozen entries served by the application on a database of its own (the usual `app`
    fixture shares one connection, where no unit of work begins as the server's do), an auditor logged in.
    Server errors are answered (500), not raised, as a browser would see them."""
    log = open_log(backend, new_database(backend), tmp_path / "home")
    log.append(30)
    log.checkpoint()
    with log.factory() as session:
        make_account(session, AUDITOR, {Role.AUDITOR})
    app = create_app(log.settings, checkpointer=False)
    try:
        with TestClient(
            app, base_url="https://testserver", follow_redirects=False, raise_server_exceptions=False
        ) as client:
            assert log_in(client, AUDITOR).status_code == 303  # type: ignore[attr-defined]
            yield log, client
    finally:
        app.state.database.close()
        log.close()


def _consultations(log: Log) -> list[StoredEntry]:
    """The auditor's consultations, newest first."""
    with log.factory() as session:
        return ledger.search(session, EntryFilter(actor=f"staff:{AUDITOR}", op="consultation"), limit=100)


@pytest.mark.parametrize(
    ("url", "reads_with", "recorded_as", "subject"),
    [
        ("/audit/entries?op=disclosure", "search", "ledger_search", None),
        ("/audit/entries?subject=P1&reason=SAR-7", "search", "ledger_search", "P1"),  # the report, on screen
        ("/audit/export.csv?subject=P1&reason=SAR-7", "iter_matching", "ledger_search", "P1"),
        ("/audit/export.csv?op=collection", "iter_matching", "ledger_search", None),
        ("/audit/export.pdf?subject=P1&reason=SAR-7", "iter_matching", "ledger_search", "P1"),
        ("/audit/entries/3", "get_entry", "ledger_entry", None),
    ],
)
def test_an_audit_search_report_or_export_reads_without_the_write_lock_and_records_its_consultation(
    audited: tuple[Log, TestClient],
    monkeypatch: pytest.MonkeyPatch,
    url: str,
    reads_with: str,
    recorded_as: str,
    subject: str | None,
) -> None:
    log, client = audited
    monkeypatch.setattr(ledger_web, "html_to_pdf", lambda html: b"%PDF")
    consulted = len(_consultations(log))
    with log.factory() as session:
        before = ledger.size(session)
    original = getattr(ledger, reads_with)
    seen: list[tuple[bool, int]] = []

    def reading(session: Session, *args: Any, **kwargs: Any) -> Any:
        ledger.size(session)  # the read is under way
        seen.append(a_writer_commits(log, session))
        return original(session, *args, **kwargs)

    monkeypatch.setattr(ledger, reads_with, reading)
    answer = client.get(url)
    assert answer.status_code == 200, answer.text
    assert seen == [(True, before + 1)]  # a writer committed while the read was under way
    recorded = _consultations(log)
    assert len(recorded) == consulted + 1  # committed with the answer, after the read
    assert recorded[0].object_type == recorded_as and recorded[0].index > before
    if subject is not None:
        assert subject in recorded[0].subjects and recorded[0].justification == "SAR-7"
    if recorded_as == "ledger_entry":
        assert recorded[0].object_id == "3"


def test_an_export_whose_consultation_cannot_be_recorded_is_not_handed_out(
    audited: tuple[Log, TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    log, client = audited
    consulted = len(_consultations(log))

    def refused(*_args: Any) -> Any:
        raise RuntimeError("the ledger refused the append")

    monkeypatch.setattr(ledger, "_append", refused)
    answer = client.get("/audit/export.csv?subject=P1&reason=SAR-7")
    assert answer.status_code == 500
    assert "at_utc" not in answer.text and "P1" not in answer.text  # no file without its record
    monkeypatch.undo()
    assert len(_consultations(log)) == consulted
