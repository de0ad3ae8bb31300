"""API requests without a valid bearer token: logged (not in the ledger) and rate-limited per address."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from structlog.testing import capture_logs

from custodes.database import Database
from custodes.identity import service as identity
from custodes.identity.permissions import Scope
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter
from custodes.settings import Settings
from custodes.web.app import create_app
from custodes.web.deps import NOT_VALID
from custodes.workforce import api as gate_api
from tests.workforce.test_gate import make_gate_world

GATE = "/api/v1/access-check"
BODY = {"staff_id": "S1", "subject_id": "N9", "system": "Genesis"}
UNKNOWN = {"Authorization": "Bearer cst_this-token-was-never-issued"}


@pytest.fixture(params=["front", "route"])
def limited_app(request: pytest.FixtureRequest, settings: Settings, db: Session, engine: Engine) -> FastAPI:
    """The app with a limit of 3 refusals a minute; the gate served by its fast front or by the FastAPI
    route (the two must behave alike)."""
    limited = settings.model_copy(update={"api_refusal_rate_limit": "3/minute"})
    factory = sessionmaker(
        bind=db.info["test_connection"], join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    app = create_app(limited, Database(engine, factory), checkpointer=False)
    if request.param == "route":
        app.user_middleware = [m for m in app.user_middleware if m.cls is not gate_api.AccessCheckFront]
    return app


@pytest.fixture
def limited(limited_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(limited_app, base_url="https://testserver", follow_redirects=False) as client:
        yield client


def _token(db: Session, scopes: list[Scope]) -> dict[str, str]:
    token = identity.create_api_token(db, "gate client", scopes, "system:test")
    db.commit()
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("headers", [{}, UNKNOWN, {"Authorization": "Basic dXNlcjpwYXNz"}])
def test_gate_refusals_without_a_valid_token_are_logged_not_recorded_and_limited(
    limited: TestClient, db: Session, headers: dict[str, str]
) -> None:
    make_gate_world(db)
    db.commit()
    start = ledger.size(db)
    with capture_logs() as logged:
        answers = [limited.post(GATE, json=BODY, headers=headers) for _ in range(5)]
    assert [a.status_code for a in answers] == [401, 401, 401, 429, 429]
    assert answers[0].headers["www-authenticate"] == "Bearer"
    assert answers[0].json() == {"detail": "a valid bearer token is required"}
    over = answers[3]
    assert "too many requests without a valid bearer token" in over.json()["detail"]
    assert 1 <= int(over.headers["retry-after"]) <= 60
    assert over.headers["x-content-type-options"] == "nosniff" and over.headers["cache-control"] == "no-store"
    db.expire_all()
    assert ledger.size(db) == start, "a refusal with no valid token added ledger entries"
    refused = [e for e in logged if e["event"] == "api request refused"]
    assert len(refused) == 3  # those over the limit are not logged one by one
    assert {(e["path"], e["client"], e["log_level"]) for e in refused} == {(GATE, "testclient", "info")}
    expected = NOT_VALID if headers == UNKNOWN else "no bearer token"
    assert {e["reason"] for e in refused} == {expected}


def test_a_valid_token_is_answered_from_an_address_over_the_limit(limited: TestClient, db: Session) -> None:
    """Only refusals count: a client with a valid token is not locked out by someone else's noise."""
    make_gate_world(db)
    good = _token(db, [Scope.ACCESS_CHECK])
    for _ in range(4):
        limited.post(GATE, json=BODY)
    assert limited.post(GATE, json=BODY).status_code == 429
    assert limited.post(GATE, json=BODY, headers=good).status_code == 200


def test_a_valid_token_without_the_scope_is_still_recorded(limited: TestClient, db: Session) -> None:
    """A refusal naming an authenticated actor (a real token, the wrong scope) stays in the ledger."""
    make_gate_world(db)
    wrong = _token(db, [Scope.INGEST])
    assert limited.post(GATE, json=BODY, headers=wrong).status_code == 403
    db.expire_all()
    denied = ledger.search(db, EntryFilter(op="access_denied"))
    assert [(e.object_id, e.detail["needs"]) for e in denied] == [(GATE, "access-check")]
    assert denied[0].actor.startswith("system:api-token-")


def test_every_token_route_shares_the_limit_and_none_records_a_refusal(
    limited: TestClient, db: Session
) -> None:
    """The other bearer-token routes (require_any_token, require_scope) refuse the same way, counted
    against the same per-address limit."""
    start = ledger.size(db)
    with capture_logs() as logged:
        assert limited.get("/api/v1/token").status_code == 401
        assert limited.get("/api/v1/token", headers=UNKNOWN).status_code == 401
        assert limited.post("/api/v1/access-events", json=[], headers=UNKNOWN).status_code == 401
        assert limited.post(GATE, json=BODY).status_code == 429
        over = limited.get("/api/v1/token")
    assert over.status_code == 429 and int(over.headers["retry-after"]) >= 1
    db.expire_all()
    assert ledger.size(db) == start
    assert [e["path"] for e in logged if e["event"] == "api request refused"] == [
        "/api/v1/token",
        "/api/v1/token",
        "/api/v1/access-events",
    ]
