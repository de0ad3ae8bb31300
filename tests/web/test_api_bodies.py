"""API request bodies are read only after the bearer token is checked, and never past `max_request_mb`.

FastAPI reads and parses a `Body()` parameter before any dependency runs: a request with no token had its
whole body read (a 43 MB one included) before the 401, and a malformed one was answered 422 or 400, never 401
or 429, escaping the per-address refusal limit and its log. A file upload to a screen from a browser with no
session was spooled whole before the redirect to the log-in page."""

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from itsdangerous import URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from structlog.testing import capture_logs

from custodes.database import Database
from custodes.identity import service as identity
from custodes.identity.models import LoginSession
from custodes.identity.permissions import Role, Scope
from custodes.kit.db import utcnow
from custodes.kit.ratelimit import RateLimit
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter
from custodes.settings import Settings
from custodes.web.app import create_app
from custodes.web.deps import SESSION_COOKIE, cookie_signer
from tests.conftest import log_in, make_account
from tests.support.streaming import CHUNK, Streaming

PATHS = ("/api/v1/disclosures/check", "/api/v1/access-events")
JSON = {"content-type": "application/json"}


class Counting:
    """Counts the body bytes the application pulls from the server."""

    def __init__(self, app: FastAPI) -> None:
        self.app, self.read = app, 0

    async def __call__(self, scope: Any, receive: Callable[[], Any], send: Any) -> None:
        async def counted() -> Any:
            message = await receive()
            self.read += len(message.get("body", b""))
            return message

        await self.app(scope, counted, send)


@pytest.fixture
def counting(app: FastAPI) -> Iterator[tuple[TestClient, Counting]]:
    wrapper = Counting(app)
    with TestClient(wrapper, base_url="https://testserver", follow_redirects=False) as test_client:  # type: ignore[arg-type]
        yield test_client, wrapper


def _bearer(db: Session, *scopes: Scope) -> dict[str, str]:
    token = identity.create_api_token(db, "bodies", list(scopes), "system:test")
    db.commit()
    return {"Authorization": f"Bearer {token}"}


def test_malformed_bodies_without_a_token_are_refused_401_then_429_and_logged(
    client: TestClient, app: FastAPI
) -> None:
    for path in PATHS:
        app.state.refusal_limit = RateLimit("3/minute", f"bodies {path}")
        with capture_logs() as logged:
            answers = [client.post(path, content=b'{"x": 1', headers=JSON).status_code for _ in range(5)]
        assert answers == [401, 401, 401, 429, 429], path
        assert [e for e in logged if e["event"] == "api request refused"], path


def test_deeply_nested_body_without_a_token_is_401(client: TestClient) -> None:
    answer = client.post(PATHS[0], content=b"[" * 100_000 + b"]" * 100_000, headers=JSON)
    assert answer.status_code == 401, answer.text


def test_large_body_without_a_token_is_not_read(counting: tuple[TestClient, Counting]) -> None:
    client, wrapper = counting
    big = b'{"events": [' + b",".join([b'{"event_id": "' + b"x" * 200 + b'"}'] * 20_000) + b"]}"
    assert client.post(PATHS[1], content=big, headers=JSON).status_code == 401
    assert wrapper.read == 0


def test_anonymous_upload_to_a_screen_goes_to_log_in_unread(counting: tuple[TestClient, Counting]) -> None:
    client, wrapper = counting
    files = {"document": ("a.pdf", b"x" * 5_000_000, "application/pdf")}
    answer = client.post("/agreements/A1/document", files=files)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/agreements/A1/document"
    assert wrapper.read == 0


@pytest.mark.parametrize("cookie", ["forged", "other secret", "unknown token", "expired", "idle", "ended"])
def test_upload_with_a_dead_session_cookie_goes_to_log_in_unread(
    cookie: str, counting: tuple[TestClient, Counting], db: Session, settings: Settings
) -> None:
    """A browser carrying a session cookie, but no live session, had its whole upload read (up to
    max_request_mb) before the route found the session dead: the cookie's signature and the session are now
    checked first."""
    client, wrapper = counting
    make_account(db, "UP1", {Role.OFFICER})
    assert log_in(client, "UP1").status_code == 303  # type: ignore[attr-defined]
    genuine = client.cookies[SESSION_COOKIE]
    token = cookie_signer(settings).loads(genuine)
    row = db.scalars(select(LoginSession).where(LoginSession.staff_id == "UP1")).one()
    if cookie in {"expired", "idle", "ended"}:
        row.expires_at = utcnow() - timedelta(seconds=1) if cookie == "expired" else row.expires_at
        row.ended_at = utcnow() if cookie == "ended" else None
        if cookie == "idle":
            row.last_seen_at = utcnow() - timedelta(minutes=settings.session_idle_minutes, seconds=1)
        db.commit()
    else:
        client.cookies.set(
            SESSION_COOKIE,
            {
                "forged": genuine[:-2] + ("AA" if not genuine.endswith("AA") else "BB"),
                "other secret": URLSafeSerializer("another secret", salt="custodes.session").dumps(token),
                "unknown token": cookie_signer(settings).dumps("x" * 43),
            }[cookie],
        )
    wrapper.read = 0
    files = {"document": ("a.pdf", b"x" * 5_000_000, "application/pdf")}
    answer = client.post("/agreements/A1/document", files=files)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/agreements/A1/document"
    assert wrapper.read == 0
    db.expire_all()
    if cookie == "idle":  # the check writes nothing: the session is ended by the next route that meets it
        assert db.get(LoginSession, row.token_hash).ended_at is None  # type: ignore[union-attr]


@pytest.fixture
def streaming(app: FastAPI) -> Iterator[tuple[TestClient, Streaming]]:
    wrapper = Streaming(app)
    with TestClient(wrapper, base_url="https://testserver", follow_redirects=False) as test_client:  # type: ignore[arg-type]
        yield test_client, wrapper


def test_upload_from_a_role_without_the_permission_is_refused_403_unread(
    streaming: tuple[TestClient, Streaming], db: Session
) -> None:
    """A logged-in officer's upload to a route needing `agreements:manage` was read whole (up to
    max_request_mb: FastAPI reads a form before the route's dependencies) and only then refused 403. The
    route's permission is now checked before: once asgi-csrf has read the form up to its token (the first
    chunk), the rest is never read; the refusal is recorded as the route's would be."""
    client, wrapper = streaming
    make_account(db, "UP2", {Role.OFFICER})
    assert log_in(client, "UP2").status_code == 303  # type: ignore[attr-defined]
    files = {"document": ("a.pdf", b"x" * 5_000_000, "application/pdf")}
    wrapper.read = 0
    forged = client.post("/agreements/A1/document", files=files)  # no CSRF token: asgi-csrf refuses it
    assert forged.status_code == 403 and "Your role" not in forged.text
    db.expire_all()
    assert ledger.search(db, EntryFilter(op="access_denied", actor="staff:UP2")) == []  # forged: not recorded
    wrapper.read = 0
    data = {"csrftoken": client.cookies["csrftoken"]}
    answer = client.post("/agreements/A1/document", files=files, data=data)
    assert answer.status_code == 403
    assert "Your role does not give access to this page. The attempt has been recorded." in answer.text
    assert f'name="csrftoken" value="{client.cookies["csrftoken"]}"' in answer.text  # log-out form works
    assert 0 < wrapper.read <= CHUNK  # the token's chunk: the 5 MB file never read
    db.expire_all()
    refused = [e.detail for e in ledger.search(db, EntryFilter(op="access_denied", actor="staff:UP2"))]
    assert refused == [{"method": "POST", "needs": "agreements:manage"}]


def test_upload_from_a_role_with_the_permission_is_read(
    streaming: tuple[TestClient, Streaming], db: Session
) -> None:
    client, wrapper = streaming
    make_account(db, "UP3", {Role.DPU})
    assert log_in(client, "UP3").status_code == 303  # type: ignore[attr-defined]
    wrapper.read = 0
    files = {"document": ("a.pdf", b"x" * 300_000, "application/pdf")}
    data = {"csrftoken": client.cookies["csrftoken"]}
    answer = client.post("/agreements/A1/document", files=files, data=data)
    assert answer.status_code == 404  # read, then the route finds no agreement A1
    assert wrapper.read > 300_000


def test_malformed_body_with_a_valid_token_names_the_body(client: TestClient, db: Session) -> None:
    headers = {**_bearer(db, Scope.DISCLOSURE_CHECK, Scope.INGEST), **JSON}
    cases = {
        b'{"route": "one_off",}': "is not valid JSON: Expecting property name enclosed in double quotes "
        "(character 20)",
        b"[" * 100_000 + b"]" * 100_000: "is not valid JSON: nested too deeply",
        b"": "is missing: send a JSON object",
        b"[1]": "must be a JSON object, not a list",
        b"\xff\xfe{": "is not UTF-8 text",
    }
    for path in PATHS:
        for body, problem in cases.items():
            answer = client.post(path, content=body, headers=headers)
            assert answer.status_code == 422, (path, body[:20], answer.text)
            assert answer.json() == {"detail": [{"field": "body", "problem": problem}]}, (path, body[:20])


def test_a_body_over_the_limit_is_refused_413_unread(settings: Settings, db: Session, engine: Engine) -> None:
    small = settings.model_copy(update={"max_request_mb": 1})
    factory = sessionmaker(bind=db.info["test_connection"], join_transaction_mode="create_savepoint")
    wrapper = Counting(create_app(small, Database(engine, factory), checkpointer=False))
    headers = {**_bearer(db, Scope.INGEST), **JSON}
    big = b'{"events": [' + b",".join([b'{"event_id": "' + b"x" * 100 + b'"}'] * 20_000) + b"]}"
    too_large = {"detail": [{"field": "body", "problem": "is larger than 1 MB (the max_request_mb setting)"}]}

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit is found while reading (TestClient
        # delivers it in one message, so how much is read past the limit is not measured here)
        for start in range(0, len(big), 65_536):
            yield big[start : start + 65_536]

    with TestClient(wrapper, base_url="https://testserver") as client:  # type: ignore[arg-type]
        answer = client.post(PATHS[1], content=big, headers=headers)
        assert (answer.status_code, answer.json()) == (413, too_large)
        assert wrapper.read == 0  # Content-Length said so: refused unread
        answer = client.post(PATHS[1], content=chunks(), headers=headers)
        assert (answer.status_code, answer.json()) == (413, too_large)
        db.expire_all()  # read under the token: recorded as its refusal (not so one refused unread above)
        refused = [e.detail for e in ledger.search(db, EntryFilter(op="access_denied"))]
        assert refused == [{"method": "POST", "status": 413, "fields": ["body"]}]
        form = {"cookie": "x=1", "content-type": "application/x-www-form-urlencoded"}  # asgi-csrf reads it
        upload = client.post("/agreements/A1/document", content=chunks(), headers=form)
        assert (upload.status_code, upload.text) == (
            413,
            "The request is larger than 1 MB (the max_request_mb setting).",
        )
