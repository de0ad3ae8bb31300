"""`POST /api/v1/access-events` (scope `ingest`): force systems push access events as they happen.

The same checks and store as `custodes monitor ingest`: good events are stored, malformed ones quarantined
and named by their position in `events`, repeats (same event_id) ignored. Answered once committed.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request

from custodes.identity.permissions import Scope
from custodes.identity.schemas import TokenPrincipal
from custodes.monitoring import events
from custodes.monitoring import service as monitoring
from custodes.web.deps import Db, JsonObject, json_request_body, require_scope, require_token_still_works

router = APIRouter(prefix="/api/v1", tags=["monitoring"])
Ingester = Annotated[TokenPrincipal, Depends(require_scope(Scope.INGEST))]
MAX_EVENTS = 100_000


@router.post(
    "/access-events", openapi_extra=json_request_body('{"events": [ {access event}, ... ]} (monitoring.md)')
)
def push_events(
    request: Request,
    db: Db,
    client: Ingester,
    body: JsonObject,  # read after the token is checked (web.deps.json_object)
) -> dict[str, Any]:
    """Store a batch of access events; the answer counts what was stored, ignored and quarantined, and
    names each quarantined event by its index in `events` with every problem found in it. A key beside
    `events` is refused (422 naming it): a misspelt `events` must not pass for an empty or partial batch."""
    unknown = sorted(key for key in body if key != "events")
    if unknown:
        raise HTTPException(
            422,
            [
                {"field": key, "problem": 'is not a field here: the body is {"events": [...]}'}
                for key in unknown
            ],
        )
    batch = body.get("events")
    if not isinstance(batch, list) or not batch:
        raise HTTPException(422, [{"field": "events", "problem": "must be a non-empty list of events"}])
    if len(batch) > MAX_EVENTS:
        raise HTTPException(422, [{"field": "events", "problem": f"at most {MAX_EVENTS:,} events a request"}])
    source = events.source_from_records("events", batch)
    require_token_still_works(db, client)
    try:
        summary = monitoring.ingest(db, request.app.state.settings, [source], client.actor)
    except (monitoring.CapacityError, monitoring.StoreBusy) as error:
        raise HTTPException(503, [{"field": "events", "problem": str(error)}]) from None
    return {
        "ingest_id": summary.ingest_id,
        "received": summary.received,
        "stored": summary.stored,
        "duplicates": summary.duplicates,
        "quarantined": summary.quarantined,
        "problems": [
            {"event": problem.line, "field": problem.column, "problem": problem.problem}
            for problem in summary.problems
        ],
        "ignored_fields": list(summary.ignored_columns),
    }
