"""Test fixtures: every database test runs on real SQLite and on a real PostgreSQL server.

`db` is a session on an outer transaction rolled back after the test (Polar's pattern); the web app under
test shares that transaction, so each request's commit only releases a savepoint.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from custodes.database import Database, migrate
from custodes.identity import service as identity
from custodes.identity.permissions import Role
from custodes.kit.crypto import attach_key, parse_key
from custodes.kit.db import make_engine, make_session_factory
from custodes.ledger import service as ledger
from custodes.settings import Settings, write_private_file
from custodes.web.app import create_app
from tests.support.postgres import throwaway_cluster

BACKENDS = [b for b in os.environ.get("CUSTODES_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]
TEST_SECRET = "test-secret-not-for-production-0123456789abcdef"
# The data encryption key of every test engine and test home (a key file's text: base64 of 32 bytes).
TEST_DATA_KEY = "dGVzdC1kYXRhLWtleS1ub3QtZm9yLXByb2R1Y3Rpb24="
PASSWORD = "correct horse battery staple"
_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    url = os.environ.get("CUSTODES_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    with throwaway_cluster() as started:
        yield started


@pytest.fixture(scope="session")
def new_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], str]:
    """Make a fresh, migrated, empty database on a backend and return its URL."""

    def make(backend: str) -> str:
        number = next(_numbers)
        if backend == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('db') / f'custodes-{number}.db'}"
        else:
            server = request.getfixturevalue("postgres_server")
            name = f"custodes_test_{os.getpid()}_{number}"
            admin = create_engine(server, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            admin.dispose()
            url = re.sub(r"/[^/]*$", f"/{name}", server)
        engine = make_engine(url)
        migrate(engine)
        engine.dispose()
        return url

    return make


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def engine(backend: str, new_database: Callable[[str], str]) -> Iterator[Engine]:
    shared = keyed_engine(new_database(backend))
    yield shared
    shared.dispose()


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    connection = engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    session.info["test_connection"] = connection
    yield session
    session.close()
    outer.rollback()
    connection.close()


@pytest.fixture
def committing_sessions(backend: str, new_database: Callable[[str], str]) -> Iterator[sessionmaker[Session]]:
    """Sessions that commit for real, on a database of their own: for two sessions at once (the `db`
    session is one transaction rolled back after the test)."""
    engine = make_engine(new_database(backend))
    yield make_session_factory(engine, {})
    engine.dispose()


@pytest.fixture
def settings(tmp_path: Path, engine: Engine) -> Settings:
    current = Settings(
        home=tmp_path / "home",
        database_url=engine.url.render_as_string(hide_password=False),
        secret_key=TEST_SECRET,
        checkpoint_every_entries=1000,
    )
    current.home.mkdir(parents=True)
    ledger.ensure_signing_key(current)
    write_private_file(current.resolved_data_key_file, TEST_DATA_KEY + "\n")  # the engine's key
    return current


def keyed_engine(url: str) -> Engine:
    """An engine as the application makes it, with the test data encryption key attached."""
    made = make_engine(url)
    attach_key(made, parse_key(TEST_DATA_KEY, "TEST_DATA_KEY"))
    return made


@pytest.fixture
def app(settings: Settings, db: Session, engine: Engine) -> FastAPI:
    connection = db.info["test_connection"]
    factory = sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    return create_app(settings, Database(engine, factory), checkpointer=False)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as test_client:
        yield test_client


def make_account(db: Session, staff_id: str, roles: set[Role], password: str | None = PASSWORD) -> str:
    identity.ensure_account(db, staff_id, f"Test {staff_id}", roles, "system:test")
    if password is not None:
        identity.set_password(db, staff_id, password, "system:test")
    db.commit()
    return staff_id


def csrf_token(client: TestClient) -> str:
    if "csrftoken" not in client.cookies:
        client.get("/login")
    return str(client.cookies["csrftoken"])


def post_form(client: TestClient, url: str, data: dict[str, object] | None = None) -> object:
    return client.post(url, data={"csrftoken": csrf_token(client), **(data or {})})


def log_in(client: TestClient, staff_id: str, password: str = PASSWORD) -> object:
    return post_form(client, "/login", {"staff_id": staff_id, "password": password})


@pytest.fixture
def logged_in(client: TestClient, db: Session) -> Callable[[Role], str]:
    """Log the client in as a new account holding one role; returns the staff id."""

    def as_role(role: Role) -> str:
        staff_id = make_account(db, f"T{role.value.upper()}{next(_numbers)}", {role})
        client.cookies.clear()
        response = log_in(client, staff_id)
        assert response.status_code == 303, response.text  # type: ignore[attr-defined]
        return staff_id

    return as_role
