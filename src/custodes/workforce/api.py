"""The pre-access gate for force systems: `POST /api/v1/access-check` (scope `access-check`).

Thin, and fast on purpose (workforce.md: p99 < 5 ms, ≥ 2,000 decisions/s): the route and its token check
are `async` with no database session of their own; a token is checked against the database once and then
cached until the gate's index sees an `api_token` entry in the ledger (and re-checked inside the decision's
transaction if it did); the decision itself is made and recorded by the group-commit writer
(`gate.DecisionWriter`), and answered only once its ledger entry has committed.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from custodes.identity import service as identity
from custodes.identity.permissions import Scope
from custodes.identity.schemas import TokenPrincipal
from custodes.kit.db import transaction
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryDraft, Op
from custodes.web.deps import Forbidden, Unauthorised, require_scope
from custodes.workforce import gate

router = APIRouter(prefix="/api/v1", tags=["access-check"])
_TOKEN_RECHECK_SECONDS = 60.0  # as identity touches `last_used_at`
_lock = threading.Lock()


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


def _bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _resolve(factory: Any, token: str) -> TokenPrincipal | None:
    with transaction(factory) as session:
        return identity.resolve_api_token(session, token) if token else None


def _unauthorised_entry(request: Request, reason: str) -> EntryDraft:
    return EntryDraft(
        actor="system:web",
        op=Op.ACCESS_DENIED,
        object_type="route",
        object_id=request.url.path,
        detail={"method": request.method, "needs": str(Scope.ACCESS_CHECK), "refused": reason},
    )


class GateClient(require_scope):
    """`require_scope(ACCESS_CHECK)` with a token cache. A refused token is recorded, like every refusal."""

    async def __call__(self, request: Request) -> TokenPrincipal:  # type: ignore[override]
        writer = writer_for(request.app)
        token = _bearer(request)
        cache: dict[str, tuple[TokenPrincipal, int, float]] = request.app.state.gate_tokens
        hit = cache.get(token)
        now = time.monotonic()
        generation = writer.index.token_generation
        if hit is not None and hit[1] == generation and now - hit[2] < _TOKEN_RECHECK_SECONDS:
            client = hit[0]
        else:
            found = await run_in_threadpool(_resolve, request.app.state.database.factory, token)
            if found is None:
                reason = "no bearer token" if not token else "unknown, revoked or malformed token"
                draft = _unauthorised_entry(request, reason)
                await asyncio.wrap_future(writer.submit_future(lambda s: ledger.record(s, draft)))
                raise Unauthorised()
            client = found
            if self.scope in client.scopes:
                cache[token] = (client, generation, now)
        if self.scope not in client.scopes:
            raise Forbidden(str(self.scope), client)
        request.state.gate_token = (token, generation)
        return client


Client = Annotated[TokenPrincipal, Depends(GateClient(Scope.ACCESS_CHECK))]
_REVOKED = object()


def _decide(
    writer: gate.DecisionWriter, data: Any, client: TokenPrincipal, token: str, generation: int
) -> Any:
    def run(session: Session) -> Any:
        if writer.index.token_generation != generation:  # a token changed since it was checked: again
            again = identity.resolve_api_token(session, token)
            if again is None or Scope.ACCESS_CHECK not in again.scopes:
                gate.record_refusal(session, client.actor, [("token", "revoked")], data)
                return _REVOKED
        return gate.check(session, writer.index, data, client.actor, synced=True)

    return run


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
async def access_check(request: Request, client: Client) -> JSONResponse:
    """The gate's decision: `{"decision": "allow" | "refer" | "deny", "reasons": [...], "referral_id"?}`.
    A request that cannot be decided is refused with 422 and the problems; the refusal is recorded."""
    writer = writer_for(request.app)
    token, generation = request.state.gate_token
    try:
        data: Any = json.loads(await request.body())
    except ValueError:
        data = None
    subject_id = data.get("subject_id") if isinstance(data, dict) else None
    job = _decide(writer, data, client, token, generation)
    result = await asyncio.wrap_future(
        writer.submit_future(job, subject_id if isinstance(subject_id, str) else None)
    )
    if result is _REVOKED:
        request.app.state.gate_tokens.pop(token, None)
        return JSONResponse(
            {"detail": "a valid bearer token is required"}, 401, headers={"WWW-Authenticate": "Bearer"}
        )
    if isinstance(result, gate.RequestRefused):
        return JSONResponse({"detail": result.as_list()}, 422)
    return JSONResponse(result.as_dict())
