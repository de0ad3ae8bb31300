"""Access monitoring for machine clients (docs/monitoring.md, "API").

- `POST /api/v1/access-events` (scope `ingest`): force systems push access events as they happen. The same
  checks and store as `custodes monitor ingest`: good events are stored, malformed ones quarantined and named
  by their position in `events`, repeats (same event_id) ignored. Answered once committed.
- `GET /api/v1/access-events/{event_id}/explanation` (scope `access-explain`): what `custodes monitor
  explain` prints, as JSON. Read in a read-only unit of work (`web.deps.reading`: the detectors run over the
  searcher's team's accesses, no write lock held meanwhile); the consultation of the people it names is
  recorded afterwards in the request's own, committed before the answer is sent.

Alerts, investigations and evidence packs have no API on purpose (docs/monitoring.md, "Why alerts,
investigations and evidence packs have no API").
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from custodes.identity.permissions import Scope
from custodes.identity.schemas import TokenPrincipal
from custodes.kit.timefmt import rfc3339
from custodes.monitoring import events
from custodes.monitoring import service as monitoring
from custodes.monitoring.schemas import EVENT_COLUMNS
from custodes.web.deps import (
    Db,
    JsonObject,
    json_request_body,
    reading,
    require_scope,
    require_token_still_works,
)

router = APIRouter(prefix="/api/v1", tags=["monitoring"])
Ingester = Annotated[TokenPrincipal, Depends(require_scope(Scope.INGEST))]
Explainer = Annotated[TokenPrincipal, Depends(require_scope(Scope.ACCESS_EXPLAIN))]
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


def _when(value: Any) -> Any:
    return rfc3339(value) if isinstance(value, datetime) else value


def explanation_json(found: monitoring.AccessExplanation) -> dict[str, Any]:
    """An explanation as the API gives it: the access (its fields as sent, times in RFC 3339 UTC, and the
    batch it is sealed in), the explanation's code (`cited_case`, `assigned_case`, `team_case`, `referral`;
    null when none applies, `no_person` for a search that found nobody) and its words, the rules it meets,
    and every case involving the person, with its team's name (null if the register names none)."""
    event = found.event
    return {
        "event": {
            **{column: _when(event.get(column)) for column in EVENT_COLUMNS},
            "batch_id": event.get("batch_id"),
        },
        "explanation": found.explanation,
        "words": found.words,
        "rules": list(found.rules),
        "cases_involving_subject": [
            {key: _when(value) for key, value in case.items()} for case in found.cases_involving_subject
        ],
    }


def _bound(day: date | None, *, end: bool = False) -> datetime | None:
    """`from`/`to` as `monitor explain --from/--to` reads them: the start of that day (UTC), or for the last
    day the start of the next."""
    if day is None:
        return None
    start = datetime.combine(day, time(), tzinfo=UTC)
    return start + timedelta(days=1) if end else start


@router.get("/access-events/{event_id}/explanation")
def explain_access(
    request: Request,
    db: Db,
    client: Explainer,
    event_id: str,
    start: Annotated[date | None, Query(alias="from", description="First day (UTC), YYYY-MM-DD")] = None,
    end: Annotated[date | None, Query(alias="to", description="Last day (UTC), included")] = None,
) -> dict[str, Any]:
    """The explanation found for one stored access, or why none applies, the rules it meets (as a detector
    run over `from`..`to` finds them; by default every stored access) and every case involving the person:
    what `custodes monitor explain EVENT_ID` prints. 404 naming the event id if no access has it; 422 naming
    `from` or `to` if the access happened outside them; 503 if it needs more memory than allowed. Recorded as
    a consultation of the member of staff and the person (object `access_event`), by this token."""
    window = (_bound(start), _bound(end, end=True))
    settings = request.app.state.settings
    try:
        with reading(request, db) as reader:
            found = monitoring.explain(reader, settings, event_id, None, window)
    except monitoring.OutsideWindow as error:
        field = "from" if window[0] is not None and _before(settings, event_id, window[0]) else "to"
        raise HTTPException(422, [{"field": field, "problem": str(error)}]) from None
    except monitoring.CapacityError as error:
        raise HTTPException(503, [{"field": "from", "problem": str(error)}]) from None
    if found is None:
        raise HTTPException(404, f"no stored access has event_id {event_id!r}")
    monitoring.explained_to(db, found, client.actor, f"{monitoring.EXPLAINING}, through the API")
    return explanation_json(found)


def _before(settings: Any, event_id: str, start: datetime) -> bool:
    """Whether the access happened before `start` (so `from` excluded it, not `to`)."""
    event = monitoring.stored_event(settings, event_id)
    return event is not None and event["at_us"] < (monitoring.micros(start) or 0)
