"""Checking an API request's bearer token takes no write lock: it used to run in the request's unit of work,
which the check began with BEGIN IMMEDIATE on SQLite (it may update the token's last-used time), so every
API request, a GET that changes nothing included, held the write lock from its first query to its end. The
token is now checked in a read-only unit of work, and its last-used time updated in a short write of its
own only when due (`web.deps.checked_token`)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from custodes.identity import service as identity
from custodes.identity.models import ApiToken
from custodes.identity.permissions import Role
from custodes.kit.db import transaction, utcnow
from custodes.web.app import create_app
from custodes.web.deps import SESSION_COOKIE, session_principal
from tests.conftest import log_in, make_account
from tests.ledger.helpers import Log, open_log

INTERVAL = timedelta(seconds=60)  # identity._SESSION_TOUCH_INTERVAL


@pytest.fixture
def served(
    backend: str, new_database: Callable[[str], str], tmp_path: Path
) -> Iterator[tuple[Log, TestClient, str]]:
    """The application on a database of its own (the usual `app` fixture shares one connection, where no
    unit of work begins as the server's do), with a `ledger:read` token."""
    log = open_log(backend, new_database(backend), tmp_path / "home")
    log.append(3)
    log.checkpoint()
    with transaction(log.factory) as session:
        token = identity.create_api_token(session, "verifier", ["ledger:read"], "system:test")
    app = create_app(log.settings, checkpointer=False)
    try:
        with TestClient(app, base_url="https://testserver") as client:
            yield log, client, token
    finally:
        app.state.database.close()
        log.close()


def _last_used(log: Log) -> Any:
    with log.factory() as session:
        return session.scalar(select(ApiToken.last_used_at).where(ApiToken.name == "verifier"))


def _set_last_used(log: Log, when: Any) -> None:
    with transaction(log.factory) as session:
        session.execute(update(ApiToken).where(ApiToken.name == "verifier").values(last_used_at=when))


class Statements:
    """The SQL the application's engine runs while recording."""

    def __init__(self, client: TestClient) -> None:
        self.engine = client.app.state.database.engine  # type: ignore[attr-defined]
        self.seen: list[str] = []
        event.listen(self.engine, "before_cursor_execute", self._record)

    def _record(self, _connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.seen.append(" ".join(statement.split()).upper())

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._record)

    def writes(self) -> list[str]:
        return [s for s in self.seen if s.startswith(("BEGIN IMMEDIATE", "UPDATE", "INSERT", "DELETE"))]

    def read_only_begins(self) -> int:
        return sum(s in ("BEGIN", "SET TRANSACTION READ ONLY") for s in self.seen)


@pytest.mark.parametrize("url", ["/api/v1/token", "/api/v1/ledger/checkpoint"])
def test_a_get_that_changes_nothing_takes_no_write_lock_for_its_token(
    served: tuple[Log, TestClient, str], url: str
) -> None:
    log, client, token = served
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(url, headers=headers).status_code == 200  # the first use is recorded
    first = _last_used(log)
    assert first is not None and utcnow() - first < timedelta(seconds=30)

    statements = Statements(client)
    try:
        assert client.get(url, headers=headers).status_code == 200
    finally:
        statements.close()
    assert statements.writes() == []  # no BEGIN IMMEDIATE (SQLite), nothing written
    assert statements.read_only_begins() >= 1  # the token was checked in a read-only unit of work
    assert _last_used(log) == first  # not due again within the interval

    if log.backend == "sqlite":  # and so it is answered while another connection holds the write lock
        writer = sqlite3.connect(log.url.removeprefix("sqlite:///"), isolation_level=None)
        try:
            writer.execute("BEGIN IMMEDIATE")
            assert client.get(url, headers=headers).status_code == 200
        finally:
            writer.execute("ROLLBACK")
            writer.close()


def test_the_last_used_time_is_updated_in_a_short_write_once_it_is_due(
    served: tuple[Log, TestClient, str],
) -> None:
    log, client, token = served
    headers = {"Authorization": f"Bearer {token}"}
    stale = utcnow() - INTERVAL - timedelta(seconds=5)
    _set_last_used(log, stale)
    statements = Statements(client)
    try:
        assert client.get("/api/v1/token", headers=headers).status_code == 200
    finally:
        statements.close()
    updates = [s for s in statements.writes() if s.startswith("UPDATE")]
    assert len(updates) == 1 and "API_TOKEN" in updates[0]
    assert utcnow() - _last_used(log) < timedelta(seconds=30)  # right to within the interval

    recent = utcnow() - INTERVAL + timedelta(seconds=20)
    _set_last_used(log, recent)
    assert client.get("/api/v1/token", headers=headers).status_code == 200
    assert _last_used(log) == recent  # not yet due: left as it was


def test_touching_a_token_leaves_a_last_use_set_meanwhile_by_another_request(db: Session) -> None:
    """Two requests may both find the last use due; the second's write leaves the first's time alone."""
    token = identity.create_api_token(db, "client", ["ledger:read"], "system:test")
    db.commit()
    found = identity.check_api_token(db, token)
    assert found is not None and found[1]  # never used: due
    row = db.scalars(select(ApiToken).where(ApiToken.name == "client")).one()
    just_now = utcnow() - timedelta(seconds=2)
    row.last_used_at = just_now
    db.commit()
    identity.touch_api_token(db, row.id)
    db.commit()
    db.expire_all()
    assert db.get(ApiToken, row.id).last_used_at == just_now  # type: ignore[union-attr]
    found = identity.check_api_token(db, token)
    assert found is not None and not found[1]


def test_the_upload_checks_find_the_session_without_the_write_lock(
    served: tuple[Log, TestClient, str],
) -> None:
    """Middleware finds an upload's session (web.app.HtmlOnly, UploadPermission) before the route runs: it
    did so in an ordinary unit of work, which on SQLite began with BEGIN IMMEDIATE, so every logged-in
    upload waited on (and took) the write lock twice more. It now reads in a read-only one."""
    log, client, _token = served
    with transaction(log.factory) as session:
        make_account(session, "UPL1", {Role.OFFICER})
    log_in(client, "UPL1")
    statements = Statements(client)
    try:
        found = session_principal(client.app, client.cookies[SESSION_COOKIE])
    finally:
        statements.close()
    assert found is not None and found.staff_id == "UPL1"
    assert statements.writes() == [] and statements.read_only_begins() >= 1
