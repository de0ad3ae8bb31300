"""Builds the web application: routers from every module, security middleware, error pages."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import structlog
from asgi_csrf import asgi_csrf
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError, StatementError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from custodes import __version__
from custodes.agreements import web as agreements_web
from custodes.database import Database
from custodes.disclosure import api as disclosure_api
from custodes.disclosure import service as disclosure_service
from custodes.disclosure import web as disclosure_web
from custodes.identity import api as identity_api
from custodes.identity import service as identity_service
from custodes.identity import web as identity_web
from custodes.kit.crypto import UNREADABLE, DecryptionFailed, KeyMissing, key_problem
from custodes.kit.ratelimit import RateLimit
from custodes.learning import web as learning_web
from custodes.ledger import api as ledger_api
from custodes.ledger import service as ledger
from custodes.ledger import web as ledger_web
from custodes.monitoring import api as monitoring_api
from custodes.monitoring import audit_accesses as monitoring_audit_accesses
from custodes.monitoring import audit_people as monitoring_audit_people
from custodes.monitoring import ledger_screen as monitoring_ledger_screen
from custodes.monitoring import service as monitoring_service
from custodes.monitoring import web as monitoring_web
from custodes.settings import Settings
from custodes.stopsearch import web as stopsearch_web
from custodes.web import csrf_multipart, pages
from custodes.web.deps import (
    SESSION_COOKIE,
    Forbidden,
    LoginRequired,
    Unauthorised,
    client_address,
    live_session,
    problem_fields,
    record_access_denied,
    refusal_limit,
    refuse_without_token,
    route_permissions,
    session_principal,
    token_client,
)
from custodes.web.templating import render
from custodes.workforce import api as workforce_api
from custodes.workforce import web as workforce_web

log = structlog.get_logger(__name__)

UNEXPECTED = (
    "Something went wrong on our side and it has been logged. Try again; if it keeps happening, tell the "
    "service desk."
)

STATIC = Path(__file__).parent / "static"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


def create_app(
    settings: Settings | None = None, database: Database | None = None, *, checkpointer: bool = True
) -> FastAPI:
    settings = settings or Settings()
    database = database or Database.open(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        worker = ledger.Checkpointer(database.factory, settings) if checkpointer else None
        if worker:
            worker.start()
        if _app.state.settings.gate_warm_start:
            await run_in_threadpool(workforce_api.warm_start, _app)
        yield
        if worker:
            worker.stop()

    app = _App(
        title="Custodes",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.database = database
    app.state.login_limit = RateLimit(settings.login_rate_limit, "login")
    app.state.unknown_login_limits = identity_service.UnknownLoginLimits.from_settings(settings)
    app.state.refusal_limit = refusal_limit(settings)
    # The screens stay out of the published schema (/api/v1/openapi.json, public): it documents the API only.
    for screens in (pages, identity_web, ledger_web, workforce_web):
        app.include_router(screens.router, include_in_schema=False)
    app.include_router(identity_api.router)
    app.include_router(ledger_api.router)
    app.include_router(agreements_web.router, include_in_schema=False)
    app.include_router(disclosure_web.router, include_in_schema=False)
    app.include_router(disclosure_api.router)
    app.include_router(workforce_api.router)
    app.include_router(monitoring_api.router)
    for screens in (learning_web, monitoring_web, stopsearch_web):
        app.include_router(screens.router, include_in_schema=False)
    # What the audit screens show a member of the counter-corruption unit of its casework (ledger.web).
    ledger_web.add_screen(app, monitoring_ledger_screen.screen)
    # Whom a subject access report looks for by name in the texts it withholds (the nominal register).
    ledger_web.add_name_lookup(app, monitoring_service.nominal_names)
    # Whom the audit screens find by name, for the subject id a ledger search takes (the nominal register).
    ledger_web.add_person_finder(app, monitoring_audit_people.find)
    ledger_web.add_person_namer(app, monitoring_audit_people.name)
    # Which accesses to police systems a search by person or member of staff lists (the access-event store).
    ledger_web.add_access_lister(app, monitoring_audit_accesses.accesses)
    # How the audit screens name a disclosure: by its reference once released (the disclosure module's).
    ledger_web.add_record_references(app, "disclosure", disclosure_service.references)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _add_error_handlers(app)
    app.add_middleware(workforce_api.AccessCheckFront)  # innermost: the gate skips FastAPI's routing
    app.add_middleware(UploadPermission)  # inside asgi-csrf (below): the token is checked before it refuses
    csrf_multipart.install()  # asgi-csrf 0.11 cannot read upload forms with current python-multipart
    app.add_middleware(
        HtmlOnly,
        middleware=asgi_csrf,
        signing_secret=settings.resolved_secret_key,
        always_protect={"/login"},
        cookie_secure=settings.cookie_secure,
        cookie_samesite="Strict",
    )
    # Outermost of ours (inside Starlette's error layer): a body too large for asgi-csrf or the gate is a 413.
    app.add_middleware(BodyLimit, limit_mb=settings.max_request_mb)
    return app


class _App(FastAPI):
    """FastAPI with the security headers around the whole finished application.

    Starlette puts its ServerErrorMiddleware (and FastAPI its body-size limit) outside every middleware added
    with `add_middleware`, so a header layer added that way never saw their answers: an unhandled exception
    was answered with no CSP, nosniff, X-Frame-Options or no-store. Wrapping the built stack covers every
    response, 500s included."""

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack(), https_only=self.state.settings.cookie_secure)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, _exc: LoginRequired) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": "log in first"}, status_code=401)
        # The page asked for, query string and all (/declarations/new?kind=gift), so the log-in returns to
        # it; the log-in page still follows only a same-site path (identity.web._safe_next).
        query = request.scope.get("query_string", b"").decode("latin-1")
        wanted = request.url.path + (f"?{query}" if query else "")
        return RedirectResponse(f"/login?next={quote(wanted, safe='/')}", status_code=303)

    @app.exception_handler(Unauthorised)
    async def _unauthorised(request: Request, exc: Unauthorised) -> Response:
        status, body, headers = refuse_without_token(
            request.app, client_address(request), request.method, request.url.path, exc.reason
        )
        return JSONResponse(body, status_code=status, headers=headers)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        return forbidden(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _is_api(request):
            if exc.status_code in CONTENT_REFUSALS:
                _record_content_refusal(request, exc.status_code, exc.detail)
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        title = {404: "Not found", 405: "Not allowed", 413: "Too large"}.get(
            exc.status_code, "Something went wrong"
        )
        message = f"The request {exc.detail}." if isinstance(exc, BodyTooLarge) else str(exc.detail)
        return render(request, "error.html", exc.status_code, title=title, message=message)

    @app.exception_handler(OverflowError)
    async def _id_out_of_range(request: Request, exc: OverflowError) -> Response:
        """A record number too large for the database (SQLite: past 64 bits) names no record. Any other
        overflow (date arithmetic, say) is a defect, answered as one, not as a missing record."""
        if SQLITE_INTEGER_OVERFLOW not in str(exc):
            raise exc
        return await _http_error(request, StarletteHTTPException(404, "There is no such record."))

    @app.exception_handler(DataError)
    async def _value_out_of_range(request: Request, exc: DataError) -> Response:
        if type(exc.orig).__name__ != "NumericValueOutOfRange":  # PostgreSQL: past int4 or int8
            raise exc
        return await _http_error(request, StarletteHTTPException(404, "There is no such record."))

    @app.exception_handler(KeyMissing)
    @app.exception_handler(DecryptionFailed)
    @app.exception_handler(StatementError)
    async def _data_key(request: Request, exc: Exception) -> Response:
        """Data encrypted at rest cannot be read or written: the operator must restore the data key."""
        problem = key_problem(exc)
        if problem is None:
            raise exc
        log.error("data encryption key", problem=str(problem))
        if _is_api(request):
            return JSONResponse({"detail": UNREADABLE}, status_code=503)
        return render(request, "error.html", 503, title="Unavailable", message=UNREADABLE)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, _exc: Exception) -> Response:
        """A defect: the plain error page, never a traceback. Starlette's ServerErrorMiddleware calls this and
        then re-raises the exception, so the server still logs it with its traceback."""
        if _is_api(request):
            return JSONResponse({"detail": "internal error"}, status_code=500)
        try:
            return render(request, "error.html", 500, title="Something went wrong", message=UNEXPECTED)
        except Exception:  # the page itself failed (e.g. the database is down): plain text will do
            log.exception("rendering the error page")
            return PlainTextResponse(UNEXPECTED, status_code=500)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = [_problem(error) for error in exc.errors()]
        if _is_api(request):
            _record_content_refusal(request, 422, problems)
            return JSONResponse({"detail": problems}, status_code=422)
        message = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
        return render(request, "error.html", 400, title="Please check the form", message=message)


def forbidden(request: Request, exc: Forbidden) -> Response:
    """The answer to a request refused for its permission or scope, recorded as an `access_denied` entry:
    the routes' (through the error handler) and an upload's refused before it is read (`UploadPermission`)."""
    actor = exc.principal.actor if exc.principal is not None else "system:web"
    record_access_denied(request, actor, {"needs": exc.permission})
    if _is_api(request):
        return JSONResponse({"detail": f"this needs {exc.permission}"}, status_code=403)
    return render(
        request,
        "error.html",
        403,
        title="Not allowed",
        message="Your role does not give access to this page. The attempt has been recorded.",
    )


CONTENT_REFUSALS = (413, 422)  # a request refused for what it sent (not for who sent it)
SQLITE_INTEGER_OVERFLOW = "too large to convert to SQLite INTEGER"  # sqlite3 binding a number past 64 bits


def _problem(error: Any) -> dict[str, str]:
    """One validation error as `{"field", "problem"}`: the field's dotted path (`body` for the body as a
    whole: a JSON syntax error's location is a character offset, not a field)."""
    if error.get("type") == "json_invalid":
        offset = error["loc"][-1] if len(error["loc"]) > 1 else None
        why = (error.get("ctx") or {}).get("error", "")
        problem = "is not valid JSON" + (f": {why}" if why else "")
        return {
            "field": "body",
            "problem": problem + (f" (character {offset})" if isinstance(offset, int) else ""),
        }
    return {
        "field": ".".join(str(p) for p in error["loc"][1:]) or str(error["loc"][0]),
        "problem": error["msg"],
    }


def _record_content_refusal(request: Request, status: int, problems: Any) -> None:
    """A valid token's request refused for its content is an `access_denied` entry under the token, as a
    refusal for its scope is (docs/security.md); a request with no valid token is not (refuse_without_token).
    """
    client = token_client(request)
    if client is not None:
        record_access_denied(request, client.actor, {"status": status, "fields": problem_fields(problems)})


class HtmlOnly:
    """Runs `middleware` (built with `options`) for everything but the API, which goes straight through:
    the API authenticates by bearer token only and never reads the session cookie, so there is no CSRF to
    forge.

    asgi-csrf parses cookies and signs a fresh token for every request before it asks `skip_if_scope`; the
    API (bearer tokens only, no cookies read) needs none of it, and the pre-access gate is latency-bound.

    The screens never read an `Authorization` header, so it is removed before asgi-csrf sees it: asgi-csrf
    skips its check for any request carrying `Authorization: Bearer …`, which would let a cookie-
    authenticated form post through without its token. A file upload (multipart form) from a browser with
    no live session is sent to the log-in page, as the route would send it, without its body being read:
    FastAPI reads a form, files and all, before the route's permission check runs. No live session means
    no session cookie, or one that is forged (its signature is not ours), ended, expired or idled out, or
    whose account can no longer log in (`deps.live_session`, the check the route itself makes). An upload
    from a live session whose holder's role does not allow it is refused by `UploadPermission`, inside
    asgi-csrf."""

    def __init__(self, app: ASGIApp, /, middleware: Callable[..., ASGIApp], **options: Any) -> None:
        self.app = app
        self.wrapped = middleware(app, **options)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.wrapped(scope, receive, send)
            return
        if scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() != b"authorization"]
        scope = {**scope, "headers": headers}
        if _is_upload(scope, headers) and not await run_in_threadpool(
            live_session, scope["app"], _cookie(headers, SESSION_COOKIE)
        ):
            target = f"/login?next={quote(scope['path'], safe='/')}"
            await RedirectResponse(target, status_code=303)(scope, receive, send)
            return
        await self.wrapped(scope, receive, send)


class UploadPermission:
    """A file upload (multipart form) to a screen from a member of staff whose role does not allow its route
    is refused 403, recorded as the route would record it, before its body is read: FastAPI reads a form,
    files and all (up to `max_request_mb`), before the route's permission check runs. The route's
    permissions are read from its own dependencies (`deps.route_permissions`: the `require` the route
    declares, so there is nothing to keep in step), and the session's holder found as a route finds them
    (`deps.session_principal`).

    It runs inside asgi-csrf, which reads a multipart form only up to its `csrftoken` field (the token must
    come before any file) and checks it first: a forged upload is refused by asgi-csrf as before, so no
    other site can put refusals on someone's ledger record, and the refusal page has the CSRF token its
    log-out form needs. `HtmlOnly`, outside asgi-csrf, has already sent an upload with no live session to
    the log-in page unread. Other requests pass straight through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        headers = scope.get("headers", [])
        needs = route_permissions(scope["app"], scope) if _is_upload(scope, headers) else []
        if needs:
            principal = await run_in_threadpool(
                session_principal, scope["app"], _cookie(headers, SESSION_COOKIE)
            )
            missing = next((p for p in needs if principal is not None and not principal.can(p)), None)
            if missing is not None:
                request = Request(scope, receive)
                request.state.principal = principal  # the page's masthead, as the route's refusal shows it
                response = await run_in_threadpool(forbidden, request, Forbidden(str(missing), principal))
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _is_upload(scope: Scope, headers: list[tuple[bytes, bytes]]) -> bool:
    """A multipart (file upload) form sent by an unsafe method: no screen takes one from anyone logged out."""
    if scope["method"] in {"GET", "HEAD", "OPTIONS", "TRACE"}:
        return False
    content_type = next((value for key, value in headers if key.lower() == b"content-type"), b"")
    return content_type.lower().startswith(b"multipart/form-data")


def _cookie(headers: list[tuple[bytes, bytes]], name: str) -> str | None:
    """A cookie's value, read as a route reads it (Starlette: the first Cookie header, `cookie_parser`)."""
    header = next((value for key, value in headers if key.lower() == b"cookie"), None)
    return cookie_parser(header.decode("latin-1")).get(name) if header else None


class BodyTooLarge(StarletteHTTPException):
    """Raised by `BodyLimit`'s receive once a body passes the limit; answered 413 by the error handlers."""

    def __init__(self, limit_mb: int) -> None:
        super().__init__(413, body_too_large(limit_mb))


def body_too_large(limit_mb: int) -> str:
    return f"is larger than {limit_mb} MB (the max_request_mb setting)"


class BodyLimit:
    """No request body past `max_request_mb` is read (docs/settings.md). One whose Content-Length says it
    is larger is answered 413 at once, unread; one that grows past the limit as it arrives (no
    Content-Length) fails the read with `BodyTooLarge`, which the error handlers answer with 413. Bodies
    are otherwise read only where they are used: the API after the token is checked (web.deps.json_object).
    """

    def __init__(self, app: ASGIApp, limit_mb: int) -> None:
        self.app = app
        self.limit_mb = limit_mb
        self.limit = limit_mb * 1024 * 1024

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise BodyTooLarge(self.limit_mb)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except BodyTooLarge:  # read outside the routes' error handlers (asgi-csrf reading a form, the gate)
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        problem = body_too_large(self.limit_mb)
        response: Response
        if scope["path"].startswith("/api/"):
            response = JSONResponse({"detail": [{"field": "body", "problem": problem}]}, status_code=413)
        else:
            response = PlainTextResponse(f"The request {problem}.", status_code=413)
        await response(scope, receive, send)


class SecurityHeaders:
    """Headers every response carries; pages with personal data are never cached."""

    def __init__(self, app: ASGIApp, https_only: bool) -> None:
        self.app = app
        self.headers: list[tuple[bytes, bytes]] = [
            (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"same-origin"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]
        if https_only:
            self.headers.append((b"strict-transport-security", b"max-age=31536000"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[Any] = list(message.get("headers", []))
                headers.extend(self.headers)
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
