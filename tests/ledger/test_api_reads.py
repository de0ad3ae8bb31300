"""The JSON API's ledger routes read in a read-only unit of work: they used to read in the request's own,
which checking the token began with BEGIN IMMEDIATE on SQLite, so a client reading the ledger (100,000
entries a request) held every writer up until it was done (docs/ledger.md, "Reading without the write
lock")."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from custodes.identity import service as identity
from custodes.kit.db import transaction
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter
from custodes.web.app import create_app
from tests.ledger.helpers import Log, a_writer_commits, open_log


@pytest.fixture
def served(
    backend: str, new_database: Callable[[str], str], tmp_path: Path
) -> Iterator[tuple[Log, TestClient, dict[str, str]]]:
    """A ledger of a few dozen entries served by the application on a database of its own (the usual `app`
    fixture shares one connection, where no unit of work begins as the server's do)."""
    log = open_log(backend, new_database(backend), tmp_path / "home")
    log.append(30)
    log.checkpoint()
    with transaction(log.factory) as session:
        token = identity.create_api_token(session, "verifier", ["ledger:read"], "system:test")
    app = create_app(log.settings, checkpointer=False)
    try:
        with TestClient(app, base_url="https://testserver") as client:
            yield log, client, {"Authorization": f"Bearer {token}"}
    finally:
        app.state.database.close()
        log.close()


@pytest.mark.parametrize(
    ("url", "reads_with"),
    [
        ("/api/v1/ledger/checkpoint", "latest_checkpoint"),
        ("/api/v1/ledger/proofs/inclusion?index=3", "prove_inclusion"),
        ("/api/v1/ledger/proofs/consistency?old_size=5", "prove_consistency"),
    ],
)
def test_an_api_proof_or_checkpoint_reads_without_the_write_lock(
    served: tuple[Log, TestClient, dict[str, str]], monkeypatch: pytest.MonkeyPatch, url: str, reads_with: str
) -> None:
    log, client, headers = served
    with log.factory() as session:
        before = ledger.size(session)
    original = getattr(ledger, reads_with)
    seen: list[tuple[bool, int]] = []

    def reading(session: Session, *args: Any) -> Any:
        ledger.size(session)  # the read is under way
        seen.append(a_writer_commits(log, session))
        return original(session, *args)

    monkeypatch.setattr(ledger, reads_with, reading)
    answer = client.get(url, headers=headers)
    assert answer.status_code == 200, answer.text
    assert seen == [(True, before + 1)]


def test_an_api_read_of_entries_holds_no_write_lock_and_records_what_its_snapshot_held(
    served: tuple[Log, TestClient, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    log, client, headers = served
    with log.factory() as session:
        before = ledger.size(session)
    original = ledger.export_lines
    seen: list[tuple[bool, int]] = []

    def export_lines(session: Session, *args: Any) -> Iterator[bytes]:
        lines = original(session, *args)
        yield next(lines)  # the export is under way
        seen.append(a_writer_commits(log, session))
        yield from lines

    monkeypatch.setattr(ledger, "export_lines", export_lines)
    answer = client.get("/api/v1/ledger/entries?from=0", headers=headers)
    assert answer.status_code == 200, answer.text
    assert seen == [(True, before + 1)]
    assert len(answer.content.splitlines()) == before  # the read's own snapshot: not the writer's entry
    with log.factory() as session:
        recorded = ledger.search(session, EntryFilter(op="consultation", object_type="ledger_export"))
        assert [entry.object_id for entry in recorded] == [f"0-{before}"]  # committed with the answer
        assert ledger.size(session) == before + 2
