"""Request dependencies: the unit of work, who is asking, and the one place permissions are checked."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import structlog
from fastapi import Depends, HTTPException, Request
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from custodes.identity import service as identity
from custodes.identity.permissions import Permission, Scope
from custodes.identity.schemas import Principal, TokenPrincipal
from custodes.kit.db import READ_ONLY, transaction
from custodes.kit.ratelimit import RateLimit
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryDraft, Op
from custodes.settings import Settings

log = structlog.get_logger(__name__)

SESSION_COOKIE = "custodes_session"
NO_BEARER = "no bearer token"
NOT_VALID = "unknown, revoked, expired, unapproved or malformed token"


class LoginRequired(Exception):
    """No valid session: HTML requests go to the log-in page."""


class Forbidden(Exception):
    def __init__(self, permission: str, principal: Principal | TokenPrincipal | None) -> None:
        super().__init__(permission)
        self.permission = permission
        self.principal = principal


class Unauthorised(Exception):
    """An API request without a valid bearer token; answered by `refuse_without_token`."""

    def __init__(self, reason: str = NOT_VALID) -> None:
        super().__init__(reason)
        self.reason = reason


def get_db(request: Request) -> Iterator[Session]:
    """One transaction per request: committed before the response is sent, rolled back on error."""
    session: Session = request.app.state.database.factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


Db = Annotated[Session, Depends(get_db, scope="function")]


@contextmanager
def reading(request: Request, db: Session) -> Iterator[Session]:
    """A read-only unit of work for a route's long read (`transaction(read_only=True)`: a deferred BEGIN on
    SQLite, holding no write lock, so writers carry on meanwhile; READ ONLY on PostgreSQL), after ending the
    request's own (`db`: the sign-in or token check, which may have begun with BEGIN IMMEDIATE).

    Nothing can be written in it. What the route records of the read (the consultation of the personal data
    it shows) it records afterwards in `db`, the request's unit of work again: a short write, committed
    before the answer is sent, so that nothing read is shown unless its record is committed (a failure to
    commit it is an error page, not the data)."""
    db.commit()
    with transaction(request.app.state.database.factory, read_only=True) as session:
        yield session


def cookie_signer(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(settings.resolved_secret_key, salt="custodes.session")


def session_token(request: Request) -> str | None:
    return signed_session_token(request.app.state.settings, request.cookies.get(SESSION_COOKIE))


def signed_session_token(settings: Settings, raw: str | None) -> str | None:
    """The session token a cookie's value carries, or None if it is missing or its signature is not ours."""
    if not raw:
        return None
    try:
        token = cookie_signer(settings).loads(raw)
    except BadSignature:
        return None
    return token if isinstance(token, str) else None


def live_session(app: Any, raw: str | None) -> bool:
    """Whether a session cookie's value opens a session now (signed by us, not ended, expired or idled out,
    its account usable): what `optional_principal` finds, checked without a request (web.app.HtmlOnly).
    Nothing is written: the idle session a route would mark ended is left for the route to end."""
    return session_principal(app, raw) is not None


def session_principal(app: Any, raw: str | None) -> Principal | None:
    """The member of staff whose live session a cookie's value opens, or None (`live_session`), found
    without a request and writing nothing."""
    token = signed_session_token(app.state.settings, raw)
    if token is None:
        return None
    # Read-only (a deferred BEGIN on SQLite): middleware must not wait on, or hold, the write lock.
    session: Session = app.state.database.factory(execution_options={READ_ONLY: True})
    try:
        return identity.resolve_session(session, app.state.settings, token)
    finally:
        session.rollback()  # what resolve_session marked (last seen) is the route's to write
        session.close()


def route_permissions(app: Any, scope: Any) -> list[Permission]:
    """The permissions the route a request would reach requires (its `require` dependencies, however deep),
    found from the request's method and path before anything else of it is read; none if no route takes it
    (the router answers 404 or 405). For `web.app.UploadPermission`, which refuses an upload before FastAPI
    reads the form (it does so before any dependency runs)."""
    for route in _route_contexts(app):
        match, _child = route.matches(scope)
        if match is Match.FULL:
            dependant = getattr(route, "dependant", None)
            return list(dict.fromkeys(_required(dependant))) if dependant is not None else []
    return []


def _route_contexts(app: Any) -> list[Any]:
    """Every route of the app, in the order the router tries them, however routers were included."""
    try:
        from fastapi.routing import iter_route_contexts  # type: ignore[attr-defined,unused-ignore]
    except ImportError:  # FastAPI releases that flatten included routers into app.routes
        return list(app.routes)
    return list(iter_route_contexts(app.routes))


def _required(dependant: Any) -> Iterator[Permission]:
    for dependency in dependant.dependencies:
        if isinstance(dependency.call, require):
            yield dependency.call.permission
        yield from _required(dependency)


def optional_principal(request: Request, db: Db) -> Principal | None:
    token = session_token(request)
    principal = identity.resolve_session(db, request.app.state.settings, token) if token else None
    request.state.principal = principal
    return principal


class require:
    """Dependency that admits a logged-in member of staff holding `permission`."""

    def __init__(self, permission: Permission) -> None:
        self.permission = permission

    def __call__(self, request: Request, db: Db) -> Principal:
        principal = optional_principal(request, db)
        if principal is None:
            raise LoginRequired()
        if not principal.can(self.permission):
            raise Forbidden(str(self.permission), principal)
        return principal


class require_scope:
    """Dependency that admits a machine client whose bearer token carries `scope`."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def __call__(self, request: Request) -> TokenPrincipal:
        client = require_any_token(request)
        if self.scope not in client.scopes:
            raise Forbidden(str(self.scope), client)
        return client


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def require_any_token(request: Request) -> TokenPrincipal:
    """Any valid bearer token, whatever its scopes (checked by `checked_token`, not in the request's unit of
    work: a GET that changes nothing takes no write lock for it)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorised(NO_BEARER)
    client = checked_token(request.app.state.database.factory, token.strip())
    if client is None:
        raise Unauthorised(NOT_VALID)
    request.state.token_client = client  # whoever answers a refusal records it under this token
    return client


def checked_token(factory: sessionmaker[Session], token: str) -> TokenPrincipal | None:
    """The client behind a bearer token, or None (`identity.check_api_token`), checked in a read-only unit
    of work of its own. It used to be checked in a writing one, the request's (BEGIN IMMEDIATE on SQLite:
    the write lock, for the whole request), because it may update the token's last-used time; that is now
    a short write of its own, only when due (at most once a minute per token: the tokens screen's "last
    used" is right to within that), committed before the route runs."""
    with transaction(factory, read_only=True) as session:
        found = identity.check_api_token(session, token)
    if found is None:
        return None
    client, touch_due = found
    if touch_due:
        with transaction(factory) as session:
            identity.touch_api_token(session, client.token_id)
    return client


def require_token_still_works(db: Session, client: TokenPrincipal) -> None:
    """For a route that writes: its token, checked before the request's unit of work (`checked_token`),
    is checked again inside it just before the write (`identity.api_token_still_works`), so a token
    revoked while its request's body was arriving stores nothing."""
    if not identity.api_token_still_works(db, client.token_id):
        raise Unauthorised(NOT_VALID)


def token_client(request: Request) -> TokenPrincipal | None:
    """The valid bearer token this request was authenticated with, if it got that far."""
    client = getattr(request.state, "token_client", None)
    return client if isinstance(client, TokenPrincipal) else None


def record_access_denied(request: Request, actor: str, detail: dict[str, Any]) -> None:
    """An `access_denied` entry for a refused request (scope, permission or content), in a transaction of
    its own: the request's own unit of work has been rolled back. The one place such refusals are
    recorded for the routes (the pre-access gate records its own, through its writer)."""
    with transaction(request.app.state.database.factory) as session:
        ledger.record(
            session,
            EntryDraft(
                actor=actor,
                op=Op.ACCESS_DENIED,
                object_type="route",
                object_id=request.url.path,
                detail={"method": request.method, **detail},
            ),
        )


def problem_fields(problems: Any) -> list[str]:
    """The fields a refusal's `[{"field", "problem"}]` names, for its ledger entry: names only, not the
    problems, which may quote what was sent (at most 20 fields, each cut to 100 characters)."""
    if not isinstance(problems, list):
        return []
    fields = [str(p.get("field", ""))[:100] for p in problems if isinstance(p, dict)]
    return fields[:20]


def _body_problem(problem: str, status: int = 422) -> HTTPException:
    return HTTPException(status, [{"field": "body", "problem": problem}])


async def json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object, read only once the bearer token is known to be valid.

    FastAPI reads and parses a `Body()` parameter before any dependency runs, so a request with no valid
    token had its whole body read (and a malformed one refused 422, never 401 or 429, outside the
    per-address refusal limit). Routes take this dependency after their `require_scope` one instead; if it
    comes first, it authenticates here. Every fault is a 422 naming `body` (413 past the size limit)."""
    if token_client(request) is None:
        require_any_token(request)
    try:
        raw = await request.body()
    except StarletteHTTPException as error:  # web.app.BodyLimit: past max_request_mb (413)
        if error.status_code != 413:
            raise
        raise _body_problem(str(error.detail), 413) from None
    if not raw.strip():
        raise _body_problem("is missing: send a JSON object")
    try:
        data = json.loads(raw)
    except UnicodeDecodeError:
        raise _body_problem("is not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise _body_problem(f"is not valid JSON: {error.msg} (character {error.pos})") from None
    except RecursionError:
        raise _body_problem("is not valid JSON: nested too deeply") from None
    if not isinstance(data, dict):
        raise _body_problem(f"must be a JSON object, not {_json_type(data)}")
    return data


def _json_type(value: object) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "true or false"
    if value is None:
        return "null"
    return "a number"


JsonObject = Annotated[dict[str, Any], Depends(json_object)]


def json_request_body(description: str) -> dict[str, Any]:
    """`openapi_extra` documenting the JSON object a `JsonObject` route reads (it has no `Body()`)."""
    schema = {"type": "object", "description": description}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


Answer = tuple[int, dict[str, str], dict[str, str]]  # status, JSON body, extra headers
UNAUTHORISED_DETAIL = "a valid bearer token is required"
TOO_MANY_DETAIL = "too many requests without a valid bearer token from this address; try again later"


def refusal_limit(settings: Settings) -> RateLimit:
    """The per-address limit on API requests refused for want of a valid token (`app.state.refusal_limit`)."""
    return RateLimit(settings.api_refusal_rate_limit, "api-token-refused")


def refuse_without_token(app: Any, client: str, method: str, path: str, reason: str) -> Answer:
    """The answer to an API request with no valid bearer token (none, unknown, malformed, revoked, expired
    or not approved): 401, or 429 once `client` (an address) passes `api_refusal_rate_limit`.

    Such a refusal goes to the application log, not the ledger: it has no authenticated actor and names no
    one's data, so a ledger entry would be permanent noise that anyone on the network could add at will
    (docs/security.md). Refusals over the limit are not logged one by one (debug level)."""
    limit: RateLimit = app.state.refusal_limit
    if limit.hit(client):
        log.info("api request refused", client=client, method=method, path=path, reason=reason)
        return 401, {"detail": UNAUTHORISED_DETAIL}, {"WWW-Authenticate": "Bearer"}
    log.debug("api request refused over the rate limit", client=client, method=method, path=path)
    return 429, {"detail": TOO_MANY_DETAIL}, {"Retry-After": str(limit.retry_after(client))}
