"""Cross-site request forgery, security headers, and the secret every installation must have."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from custodes.identity import service as identity
from custodes.identity.permissions import Role, Scope
from custodes.settings import SecretMissing, Settings
from custodes.web.app import CONTENT_SECURITY_POLICY, create_app
from custodes.web.deps import require_scope
from tests.conftest import PASSWORD, csrf_token, make_account
from tests.web.routemap import api_routes, make_world, route_table_app

_ROUTES = api_routes(route_table_app())
FORM_POSTS = [r for r in _ROUTES if r.method == "POST" and not r.is_api]


# --------------------------------------------------------------------------- CSRF


@pytest.mark.parametrize("token", ["missing", "wrong", "other signed", "header only wrong"])
def test_every_form_post_needs_the_csrf_token(
    token: str, client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    assert FORM_POSTS, "no form POST routes found"
    world = make_world(db)
    logged_in(Role.ADMIN)
    good = csrf_token(client)
    forged_elsewhere = TestClient(client.app, base_url="https://testserver")
    other = csrf_token(forged_elsewhere)  # validly signed, but another browser's
    forged_elsewhere.close()
    assert other != good
    data: dict[str, str] = {"value": "77", "roles": "admin", "decision": "approve", "name": "x"}
    headers = {}
    if token == "wrong":
        data["csrftoken"] = good[:-3] + "abc"
    elif token == "other signed":
        data["csrftoken"] = other
    elif token == "header only wrong":
        headers["x-csrftoken"] = "nonsense"
    for route in FORM_POSTS:
        response = client.post(world.url(route), data=data, headers=headers)
        assert response.status_code == 403, f"{route} accepted a POST with a {token} CSRF token"
    # Nothing was done: the configuration, the target's roles and the pending request are unchanged.
    assert identity.config_value(db, "review_days") == "60"
    db.expire_all()
    assert identity.get_account(db, "TARGET1").roles == (Role.OFFICER,)  # type: ignore[union-attr]
    assert len(identity.pending_role_requests(db)) == 1
    # And the session still works, with the right token.
    saved = client.post("/admin/config/review_days", data={"csrftoken": good, "value": "61"})
    assert saved.status_code == 303


def test_a_json_body_does_not_bypass_csrf(client: TestClient, logged_in: Callable[[Role], str]) -> None:
    logged_in(Role.ADMIN)
    response = client.post("/admin/config/review_days", json={"value": "5"})
    assert response.status_code == 403


def test_login_is_always_protected(client: TestClient, db: Session) -> None:
    make_account(db, "SEC1", {Role.OFFICER})
    client.cookies.clear()
    # No cookie at all: asgi_csrf would normally let that through; /login is on its always_protect list.
    response = client.post("/login", data={"staff_id": "SEC1", "password": PASSWORD})
    assert response.status_code == 403
    assert "custodes_session" not in client.cookies
    csrf_token(client)  # now with the CSRF cookie, but still no token in the form
    assert client.post("/login", data={"staff_id": "SEC1", "password": PASSWORD}).status_code == 403
    good = {"staff_id": "SEC1", "password": PASSWORD, "csrftoken": csrf_token(client)}
    assert client.post("/login", data=good).status_code == 303


def test_bearer_token_api_requests_are_not_subject_to_csrf(
    client: TestClient, db: Session, app: FastAPI
) -> None:
    """No API route takes a POST yet, so the test adds one the way a module would."""

    @app.post("/api/v1/test-ingest")
    def ingest(client: object = Depends(require_scope(Scope.INGEST))) -> dict[str, bool]:
        return {"stored": True}

    token = identity.create_api_token(db, "shipper", [Scope.INGEST], "system:test")
    db.commit()
    csrf_token(client)  # the client holds a CSRF cookie, as a browser would; the API ignores it
    response = client.post("/api/v1/test-ingest", json={}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.json() == {"stored": True}
    # Without a token there is no session to forge either: 401 or the CSRF refusal, never success.
    assert client.post("/api/v1/test-ingest", json={}).status_code in (401, 403)


# --------------------------------------------------------------------------- headers


def _assert_security_headers(response: object, cached: bool = False) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] in ("same-origin", "no-referrer", "strict-origin-when-cross-origin")
    assert headers["strict-transport-security"].startswith("max-age=")
    if cached:
        assert "no-store" not in headers.get("cache-control", "")
    else:
        assert headers["cache-control"] == "no-store"


def test_security_headers_on_every_kind_of_response(
    client: TestClient, logged_in: Callable[[Role], str]
) -> None:
    _assert_security_headers(client.get("/login"))
    _assert_security_headers(client.get("/"))  # redirect to log-in
    _assert_security_headers(client.get("/api/v1/health"))
    _assert_security_headers(client.get("/api/v1/token"))  # 401
    _assert_security_headers(client.post("/login", data={"csrftoken": "x"}))  # CSRF refusal
    logged_in(Role.DPU)
    _assert_security_headers(client.get("/"))
    _assert_security_headers(client.get("/audit/export.csv"))
    _assert_security_headers(client.get("/admin/accounts"))  # 403
    _assert_security_headers(client.get("/no/such/page"))  # 404
    _assert_security_headers(client.get("/static/custodes.css"), cached=True)


def test_an_unhandled_error_is_answered_with_the_headers_and_the_plain_error_page(app: FastAPI) -> None:
    """Starlette answers unhandled exceptions outside every added middleware: the headers must still be
    there, and the answer must be the plain error page (or JSON for the API), never a traceback."""

    @app.get("/test-boom")
    def boom() -> None:
        raise RuntimeError("secret internals: /srv/custodes/settings.py line 12")

    @app.get("/api/v1/test-boom")
    def api_boom() -> None:
        raise RuntimeError("secret internals: /srv/custodes/settings.py line 12")

    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as client:
        page = client.get("/test-boom")
        assert page.status_code == 500
        _assert_security_headers(page)
        assert page.headers["content-type"].startswith("text/html")
        assert "<h1>Something went wrong</h1>" in page.text and "has been logged" in page.text
        for leak in ("Traceback", "RuntimeError", "secret internals", "settings.py"):
            assert leak not in page.text
        api = client.get("/api/v1/test-boom")
        assert api.status_code == 500
        _assert_security_headers(api)
        assert api.json() == {"detail": "internal error"}


def test_pages_have_no_inline_script_or_style(client: TestClient, logged_in: Callable[[Role], str]) -> None:
    """The CSP forbids inline script; a page relying on it would silently break."""
    pages = [client.get("/login").text]
    logged_in(Role.ADMIN)
    for path in ("/", "/me", "/admin/accounts", "/admin/tokens", "/admin/config"):
        pages.append(client.get(path).text)
    for text in pages:
        # Scripts are files from /static (the CSP allows 'self'); none is written into the page.
        assert not re.search(r"<script(?![^>]*\bsrc=\"/static/)", text, re.IGNORECASE)
        assert " onclick=" not in text.lower() and " onload=" not in text.lower()


# --------------------------------------------------------------------------- the secret


def test_no_default_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CUSTODES_SECRET_KEY", raising=False)
    monkeypatch.delenv("ASGI_CSRF_SECRET", raising=False)
    assert Settings.model_fields["secret_key"].default is None
    bare = Settings(home=tmp_path / "empty", database_url="sqlite://")
    with pytest.raises(SecretMissing, match="CUSTODES_SECRET_KEY"):
        _ = bare.resolved_secret_key
    with pytest.raises(SecretMissing):
        create_app(Settings(home=tmp_path / "empty", database_url="sqlite://"), checkpointer=False)


def test_secret_from_environment_or_home_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUSTODES_SECRET_KEY", "from-the-environment-0123456789")
    assert Settings(home=tmp_path).resolved_secret_key == "from-the-environment-0123456789"
    monkeypatch.delenv("CUSTODES_SECRET_KEY")
    home = Settings(home=tmp_path / "home")
    home.ensure_secret_key()
    key_file = tmp_path / "home" / "secret.key"
    assert key_file.stat().st_mode & 0o077 == 0, "the secret key file must be private to its owner"
    made = home.resolved_secret_key
    assert len(made) >= 48
    home.ensure_secret_key()  # safe twice: the key is kept
    assert Settings(home=tmp_path / "home").resolved_secret_key == made
    assert Settings(home=tmp_path / "other").model_copy().secret_key is None


def test_two_installations_do_not_share_a_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CUSTODES_SECRET_KEY", raising=False)
    first, second = Settings(home=tmp_path / "a"), Settings(home=tmp_path / "b")
    first.ensure_secret_key()
    second.ensure_secret_key()
    assert first.resolved_secret_key != second.resolved_secret_key


def test_the_api_skips_the_csrf_middleware_but_keeps_the_security_headers(client: TestClient) -> None:
    api = client.get("/api/v1/health")
    assert api.status_code == 200
    assert "csrftoken" not in api.headers.get("set-cookie", "")
    assert api.headers["x-content-type-options"] == "nosniff"
    assert api.headers["cache-control"] == "no-store"
    page = client.get("/login")
    assert "csrftoken=" in page.headers.get("set-cookie", "")
