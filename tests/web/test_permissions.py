"""Permission matrix over every route of the app, for every role (NetBox style).

Each route's requirement is read from its own dependencies (tests/web/routemap.py); the table in
identity.permissions says which roles hold it. A role without the permission is refused with 403 and the
refusal is in the ledger; a role with it is never refused; nobody logged out gets further than the log-in
page; machine clients need a bearer token carrying the route's scope.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from custodes.identity import service as identity
from custodes.identity.permissions import ROLE_PERMISSIONS, Permission, Role, Scope
from custodes.kit.ratelimit import RateLimit
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter
from custodes.web.navigation import MENU
from tests.conftest import csrf_token, log_in, make_account
from tests.support.streaming import CHUNK, Streaming
from tests.web.routemap import (
    PUBLIC_OTHER,
    PUBLIC_ROUTES,
    TARGET,
    RouteInfo,
    World,
    api_routes,
    make_world,
    other_routes,
    route_table_app,
)

_APP = route_table_app()
ROUTES = api_routes(_APP)
HTML_PROTECTED = [r for r in ROUTES if not r.is_api and r.permission is not None]
API_PROTECTED = [r for r in ROUTES if r.is_api and (r.scope is not None or r.any_token)]


def _denials(db: Session, actor: str, url: str) -> list[dict[str, object]]:
    db.expire_all()
    rows = ledger.search(db, EntryFilter(op="access_denied", actor=actor, object_id=url))
    return [row.detail for row in rows]


def _request(client: TestClient, route: RouteInfo, url: str) -> int:
    """Status and redirect target; a redirect to the log-in page counts as 401 (the session was refused)."""
    if route.method == "GET":
        response = client.get(url)
    else:
        assert route.method == "POST", f"{route}: the matrix only knows GET and POST"
        response = client.post(url, data={"csrftoken": csrf_token(client)})
    return 401 if response.headers.get("location", "").startswith("/login") else response.status_code


# --------------------------------------------------------------------------- declarations


def test_every_route_declares_a_permission_or_is_public_on_purpose() -> None:
    undeclared = [str(r) for r in ROUTES if r.public and (r.method, r.path) not in PUBLIC_ROUTES]
    assert not undeclared, f"routes with no permission, scope or token requirement: {undeclared}"
    declared_but_listed = [str(r) for r in ROUTES if not r.public and (r.method, r.path) in PUBLIC_ROUTES]
    assert not declared_but_listed
    present = {(r.method, r.path) for r in ROUTES}
    assert present >= PUBLIC_ROUTES, f"stale public allow-list entries: {PUBLIC_ROUTES - present}"
    assert other_routes(_APP) == sorted(PUBLIC_OTHER), "a non-FastAPI route was added: declare its access"


def test_screens_use_permissions_and_the_api_uses_tokens() -> None:
    for route in ROUTES:
        if route.is_api:
            assert route.permission is None, f"{route}: API routes authenticate machine clients by token"
        else:
            assert route.scope is None and not route.any_token, f"{route}: screens need a logged-in role"


def test_every_permission_guards_a_route() -> None:
    used = {r.permission for r in ROUTES if r.permission is not None}
    unused = set(Permission) - used
    assert not unused, f"permissions no route checks: {sorted(unused)}"


def test_the_menu_shows_a_page_only_to_those_who_may_open_it() -> None:
    pages = {r.path: r.permission for r in ROUTES if r.method == "GET"}
    for item in MENU:
        assert item.path in pages, f"menu item {item.label} points at no page"
        assert pages[item.path] == item.permission, f"menu item {item.label}: {item.permission}"


def test_matrix_covers_both_outcomes() -> None:
    """The table itself: every protected route is allowed to some role and refused to another."""
    for route in HTML_PROTECTED:
        holders = {role for role in Role if route.permission in ROLE_PERMISSIONS[role]}
        assert holders, f"{route}: no role can use it"
        if route.permission != Permission.SELF_VIEW:
            assert holders != set(Role), f"{route}: every role holds {route.permission}"


def test_every_role_may_change_their_own_password() -> None:
    """/me/password is in the matrix below like every route; it must stay open to every role."""
    declared = {(r.method, r.path): r.permission for r in HTML_PROTECTED}
    for method in ("GET", "POST"):
        assert declared[(method, "/me/password")] == Permission.SELF_VIEW
    assert all(Permission.SELF_VIEW in ROLE_PERMISSIONS[role] for role in Role)


# --------------------------------------------------------------------------- staff, by role


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_role_matrix(role: Role, client: TestClient, db: Session, logged_in: Callable[[Role], str]) -> None:
    world = make_world(db)
    staff_id = logged_in(role)
    granted = ROLE_PERMISSIONS[role]
    problems = []
    # GETs first, then POSTs: a POST may change what a later page shows, never whether it is allowed.
    ordered = sorted(HTML_PROTECTED, key=lambda r: (r.method != "GET", r.path))
    for route in ordered:
        url = world.url(route)
        status = _request(client, route, url)
        allowed = route.permission in granted
        if allowed and status in (401, 403):
            problems.append(f"{route}: {role} holds {route.permission} but got {status}")
        elif allowed and status >= 500:
            problems.append(f"{route}: {role} got {status}")
        elif not allowed:
            if status != 403:
                problems.append(f"{route}: {role} lacks {route.permission} but got {status}")
            elif not any(d.get("needs") == route.permission for d in _denials(db, f"staff:{staff_id}", url)):
                problems.append(f"{route}: refusal of {role} is not recorded as access_denied")
    assert not problems, "\n".join(problems)
    if Permission.ACCOUNTS_MANAGE not in granted:
        refreshed = identity.get_account(db, TARGET)
        assert refreshed is not None and refreshed.roles == (Role.OFFICER,) and refreshed.active


def test_an_upload_to_any_screen_is_refused_unread_to_a_role_without_its_permission(
    app: FastAPI, db: Session
) -> None:
    """FastAPI reads a form, files and all, before a route's permission check: a logged-in member of staff
    could make any POST screen read an upload of up to max_request_mb before its 403. Every POST screen now
    refuses a multipart form from a role without its permission once its CSRF token (the first chunk) is
    read, and records it: one check for every route (web.app.UploadPermission), from the route's own
    declaration."""
    world = make_world(db)
    wrapper = Streaming(app)
    upload = {"file": ("a.csv", b"x" * (3 * CHUNK), "text/csv")}
    problems = []
    with TestClient(wrapper, base_url="https://testserver", follow_redirects=False) as client:  # type: ignore[arg-type]
        for role in Role:
            lacking = [
                r for r in HTML_PROTECTED if r.method == "POST" and r.permission not in ROLE_PERMISSIONS[role]
            ]
            if not lacking:
                continue
            staff_id = make_account(db, f"UPLOAD{role.value.upper()}", {role})
            client.cookies.clear()
            assert log_in(client, staff_id).status_code == 303  # type: ignore[attr-defined]
            for route in lacking:
                url = world.url(route)
                wrapper.read = 0
                response = client.post(url, data={"csrftoken": csrf_token(client)}, files=upload)
                if response.status_code != 403 or wrapper.read > CHUNK:
                    problems.append(f"{route}: {role} got {response.status_code} having read {wrapper.read}")
                elif not any(
                    d.get("needs") == route.permission for d in _denials(db, f"staff:{staff_id}", url)
                ):
                    problems.append(f"{route}: refusal of {role}'s upload is not recorded as access_denied")
    assert not problems, "\n".join(problems)


def test_nobody_logged_in_is_sent_to_the_login_page(client: TestClient, db: Session) -> None:
    world = make_world(db)
    problems = []
    for route in HTML_PROTECTED:
        url = world.url(route)
        client.cookies.clear()
        response = (
            client.get(url)
            if route.method == "GET"
            else client.post(url, data={"csrftoken": csrf_token(client)})
        )
        location = response.headers.get("location", "")
        if response.status_code != 303 or location != f"/login?next={url}":
            problems.append(f"{route}: {response.status_code} {location!r}")
    assert not problems, "\n".join(problems)


def test_a_session_does_not_open_the_api_and_a_token_does_not_open_screens(
    client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    token = identity.create_api_token(db, "every scope", list(Scope), "system:test")
    db.commit()
    logged_in(Role.AUDITOR)  # holds every ledger permission
    for route in API_PROTECTED:
        assert client.request(route.method, route.path).status_code == 401, route
    client.cookies.clear()
    for route in HTML_PROTECTED:
        if route.method == "GET" and "{" not in route.path:
            response = client.get(route.path, headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 303, route


# --------------------------------------------------------------------------- machine clients


def test_api_matrix(client: TestClient, db: Session, app: FastAPI) -> None:
    # Hundreds of refusals from one address: lift the per-address limit (tests/web/test_token_refusals.py).
    app.state.refusal_limit = RateLimit("100000/minute", "test")
    only = {scope: identity.create_api_token(db, f"only {scope}", [scope], "system:test") for scope in Scope}
    db.commit()
    tokens = {t.name: t.id for t in identity.list_api_tokens(db)}
    problems = []
    for route in API_PROTECTED:
        body = {"json": {}} if route.method == "POST" else {}

        def call(headers: dict[str, str] | None = None, route: RouteInfo = route, body: dict = body) -> Any:
            return client.request(route.method, route.path, headers=headers, **body)

        bare = call()
        if bare.status_code != 401 or bare.headers.get("www-authenticate") != "Bearer":
            problems.append(f"{route}: no token gave {bare.status_code}")
        for bad in ("Bearer cst_not-a-token", "Bearer ", "Basic dXNlcjpwYXNz", only[Scope.INGEST]):
            status = call({"Authorization": bad}).status_code
            if status != 401:
                problems.append(f"{route}: Authorization {bad[:12]!r} gave {status}")
        for scope, token in only.items():
            status = call({"Authorization": f"Bearer {token}"}).status_code
            allowed = route.any_token or scope == route.scope
            if allowed and (status in (401, 403) or status >= 500):
                problems.append(f"{route}: token with {scope} got {status}")
            if not allowed:
                actor = f"system:api-token-{tokens[f'only {scope}']}"
                if status != 403:
                    problems.append(f"{route}: token with only {scope} got {status}")
                elif not any(d.get("needs") == route.scope for d in _denials(db, actor, route.path)):
                    problems.append(f"{route}: refusal of a {scope} token is not recorded")
    assert not problems, "\n".join(problems)


def test_public_routes_need_nothing(client: TestClient) -> None:
    assert client.get("/api/v1/health").json()["status"] == "ok"
    assert client.get("/login").status_code == 200
    assert client.get("/api/v1/openapi.json").status_code == 200
    assert client.get("/static/custodes.css").status_code == 200


def test_world_fills_every_path(db: Session) -> None:
    world: World = make_world(db)
    for route in ROUTES:
        assert "{" not in world.url(route)
