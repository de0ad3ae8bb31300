"""The pre-access gate for force systems: `POST /api/v1/access-check` (scope `access-check`).

Fast on purpose (workforce.md: p99 < 5 ms over HTTP, ≥ 2,000 decisions/s). `AccessCheckFront`, an ASGI
layer in front of FastAPI's router, serves this one route itself: FastAPI's routing, dependency injection
and request objects cost more than the decision does (measured: about two thirds of the event loop's time
at full load). The FastAPI route below answers the same way through the same function (`answer`) and
documents the endpoint in the OpenAPI schema.

The token is checked against the database once and then cached until the gate's index sees an `api_token`
entry in the ledger (and re-checked inside the decision's transaction if it did). The decision itself is
made and recorded by the group-commit writer (`gate.DecisionWriter`), and answered only once its ledger
entry has committed. Every refusal of a valid token (wrong scope, bad body, a token revoked since it was
checked) is recorded too. A request with no valid token (none, unknown, malformed, revoked) has no
authenticated actor: it goes to the application log, not the ledger, and is rate-limited per client address
(`web.deps.refuse_without_token`).
"""

from __future__ import annotations

import gc
import json
import threading
import time
from dataclasses import dataclass
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from custodes.identity import service as identity
from custodes.identity.permissions import Scope as TokenScope
from custodes.identity.schemas import TokenPrincipal
from custodes.kit.crypto import UNREADABLE, DecryptionFailed, KeyMissing, key_problem
from custodes.kit.db import utcnow
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryDraft, Op
from custodes.web.deps import (
    NO_BEARER,
    NOT_VALID,
    Forbidden,
    Unauthorised,
    checked_token,
    refuse_without_token,
    require_scope,
)
from custodes.workforce import gate

log = structlog.get_logger(__name__)

PATH = "/api/v1/access-check"
MAX_BODY = 65_536  # a request is a few hundred bytes
_TOKEN_RECHECK_SECONDS = 60.0  # as identity touches `last_used_at`
_lock = threading.Lock()

router = APIRouter(prefix="/api/v1", tags=["access-check"])

Answer = tuple[int, Any, dict[str, str]]  # status, JSON body, extra headers
_UNAUTHORISED: Answer = (401, {"detail": "a valid bearer token is required"}, {"WWW-Authenticate": "Bearer"})
_REVOKED = object()


def writer_for(app: FastAPI) -> gate.DecisionWriter:
    """The app's decision writer (one per app, started on first use)."""
    writer: gate.DecisionWriter | None = getattr(app.state, "gate_writer", None)
    if writer is None:
        with _lock:
            writer = getattr(app.state, "gate_writer", None)
            if writer is None:
                writer = app.state.gate_writer = gate.DecisionWriter(app.state.database.factory)
                app.state.gate_tokens = {}
    return writer


def warm_start(app: FastAPI) -> int:
    """Load the gate's index in its writer before serving (setting `gate_warm_start`), then move everything
    alive to the collector's permanent generation: a full collection walking millions of index objects was
    measured at 1.3 s, long enough to fail every request waiting behind it. Returns the staff loaded."""
    writer = writer_for(app)
    loaded: int = writer.submit(lambda session: writer.index.preload(session), timeout=3600)
    gc.collect()
    gc.freeze()
    return loaded


def _bearer(authorization: str) -> str:
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _resolve(factory: Any, token: str) -> TokenPrincipal | None:
    return checked_token(factory, token) if token else None  # no write lock unless its last use is due


async def _record(writer: gate.DecisionWriter, draft: EntryDraft) -> None:
    await writer.decide_async(lambda session: ledger.record(session, draft))


def _route_refused(actor: str, method: str, **detail: str) -> EntryDraft:
    return EntryDraft(
        actor=actor,
        op=Op.ACCESS_DENIED,
        object_type="route",
        object_id=PATH,
        detail={"method": method, "needs": str(TokenScope.ACCESS_CHECK), **detail},
    )


@dataclass(frozen=True)
class Caller:
    client: TokenPrincipal
    token: str
    generation: int  # the index's token generation when the token was checked


async def authenticate(app: FastAPI, authorization: str) -> Caller:
    """The caller of the gate, from the token cache while the index has seen no token change. Raises
    Unauthorised (answered by `refuse_without_token`; recorded here only for a cached token found revoked,
    whose holder is known) or Forbidden (recorded by whoever answers it)."""
    writer = writer_for(app)
    token = _bearer(authorization)
    cache: dict[str, tuple[TokenPrincipal, int, float]] = app.state.gate_tokens
    generation = writer.index.token_generation
    hit = cache.get(token)
    now = time.monotonic()
    fresh = hit is not None and hit[1] == generation and now - hit[2] < _TOKEN_RECHECK_SECONDS
    if hit is not None and fresh and (hit[0].expires_at is None or hit[0].expires_at > utcnow()):
        client = hit[0]
    else:
        found = await run_in_threadpool(_resolve, app.state.database.factory, token) if token else None
        if found is None:
            if hit is not None:  # accepted before, revoked or expired since: refused under its holder
                cache.pop(token, None)
                holder, why = hit[0].actor, _lapsed(hit[0])
                await writer.decide_async(lambda s: gate.record_refusal(s, holder, [("token", why)]))
            raise Unauthorised(NOT_VALID if token else NO_BEARER)
        client = found
        if TokenScope.ACCESS_CHECK in client.scopes:
            cache[token] = (client, generation, now)
    if TokenScope.ACCESS_CHECK not in client.scopes:
        raise Forbidden(str(TokenScope.ACCESS_CHECK), client)
    return Caller(client, token, generation)


def _lapsed(client: TokenPrincipal) -> str:
    """Why a token accepted before is refused now: it expired, or it was revoked (the only other way)."""
    return "expired" if client.expires_at is not None and client.expires_at <= utcnow() else "revoked"


class GateClient(require_scope):
    """`require_scope(ACCESS_CHECK)` through the gate's token cache (the route map reads the scope)."""

    async def __call__(self, request: Request) -> Caller:  # type: ignore[override]
        return await authenticate(request.app, request.headers.get("authorization", ""))


def _decide(writer: gate.DecisionWriter, data: Any, caller: Caller) -> Any:
    def run(session: Session) -> Any:
        if writer.index.token_generation != caller.generation:  # a token changed since it was checked
            again = identity.resolve_api_token(session, caller.token)
            if again is None or TokenScope.ACCESS_CHECK not in again.scopes:
                why = _lapsed(caller.client) if again is None else "revoked"
                gate.record_refusal(session, caller.client.actor, [("token", why)], data)
                return _REVOKED
        return gate.check(session, writer.index, data, caller.client.actor, synced=True)

    return run


async def answer(app: FastAPI, caller: Caller, body: bytes | None) -> Answer:
    """The gate's answer to one authenticated request: `body` is None when it was larger than MAX_BODY."""
    writer = writer_for(app)
    if body is None:
        problem = [("body", f"larger than {MAX_BODY:,} bytes")]
        await writer.decide_async(lambda session: gate.record_refusal(session, caller.client.actor, problem))
        return 413, {"detail": [{"field": "body", "problem": problem[0][1]}]}, {}
    try:
        data: Any = json.loads(body)
    except ValueError:
        data = None
    subject_id = data.get("subject_id") if isinstance(data, dict) else None
    job = _decide(writer, data, caller)
    try:
        result = await writer.decide_async(job, subject_id if isinstance(subject_id, str) else None)
    except (KeyMissing, DecryptionFailed, StatementError) as error:  # nothing decided or recorded
        cause = key_problem(error)
        if cause is None:
            raise
        log.error("data encryption key", problem=str(cause))
        return 503, {"detail": UNREADABLE}, {}
    if result is _REVOKED:
        app.state.gate_tokens.pop(caller.token, None)
        return _UNAUTHORISED
    if isinstance(result, gate.RequestRefused):
        return 422, {"detail": result.as_list()}, {}
    return 200, result.as_dict(), {}


async def _front_answer(app: FastAPI, authorization: str, body: bytes | None, client: str) -> Answer:
    try:
        caller = await authenticate(app, authorization)
    except Unauthorised as refused:
        return refuse_without_token(app, client, "POST", PATH, refused.reason)
    except Forbidden as refused:
        assert refused.principal is not None
        await _record(writer_for(app), _route_refused(refused.principal.actor, "POST"))
        return 403, {"detail": f"this needs {refused.permission}"}, {}
    return await answer(app, caller, body)


class AccessCheckFront:
    """ASGI layer that serves `POST /api/v1/access-check` before FastAPI's router and passes everything
    else on. It sits inside the security-headers layer, so its responses carry them too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        try:
            body = await _read_body(receive)
        except _Disconnected:
            return
        authorization = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"authorization"), "")
        client = scope["client"][0] if scope.get("client") else "unknown"  # as web.deps.client_address
        status, payload, headers = await _front_answer(scope["app"], authorization, body, client)
        content = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        raw = [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode())]
        raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": content})


class _Disconnected(Exception):
    """The client went away before sending the whole body: nothing to decide or answer."""


async def _read_body(receive: Receive) -> bytes | None:
    """The whole body, or None once it passes MAX_BODY (the rest is read and dropped)."""
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size <= MAX_BODY:
            chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks) if size <= MAX_BODY else None


_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "description": '{"staff_id", "system", "subject_id" | "subject": {"surname", '
                    '"forenames", "date_of_birth", "postcode"}, "purpose", "case_ref"} (workforce.md)',
                }
            }
        },
    }
}


@router.post("/access-check", response_model=None, openapi_extra=_BODY)
async def access_check(
    request: Request, caller: Annotated[Caller, Depends(GateClient(TokenScope.ACCESS_CHECK))]
) -> JSONResponse:
    """The gate's decision: `{"decision": "allow" | "refer" | "deny", "reasons": [...], "referral_id"?}`.
    A request that cannot be decided is refused with 422 and the problems; the refusal is recorded.
    (In the app, `AccessCheckFront` serves this path; this route answers the same way and documents it.)"""
    body = await request.body()
    status, payload, headers = await answer(request.app, caller, body if len(body) <= MAX_BODY else None)
    return JSONResponse(payload, status, headers=headers)
