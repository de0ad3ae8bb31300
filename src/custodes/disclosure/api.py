"""Disclosure JSON API: the rule check for machine clients (scope `disclosure:check`)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query

from custodes.disclosure import service as disclosure
from custodes.disclosure.schemas import RequestUnreadable
from custodes.identity.permissions import Scope
from custodes.identity.schemas import TokenPrincipal
from custodes.web.deps import Db, JsonObject, json_request_body, require_scope, require_token_still_works

router = APIRouter(prefix="/api/v1/disclosures", tags=["disclosures"])
Checker = Annotated[TokenPrincipal, Depends(require_scope(Scope.DISCLOSURE_CHECK))]
# The days a check may be run as on: the rules add years and months to it, which past the calendar's ends
# (year 1 or 9999) cannot be done.
EARLIEST_AT = date(1900, 1, 1)
LATEST_AT = date(2200, 12, 31)


@router.post("/check", openapi_extra=json_request_body("A disclosure request, as in disclosure.md."))
def check(
    db: Db,
    client: Checker,
    request: JsonObject,  # read after the token is checked (web.deps.json_object)
    at: Annotated[
        date | None,
        Query(description="Check as on this day (default: today), 1900-01-01 to 2200-12-31."),
    ] = None,
) -> dict[str, Any]:
    """The decision (`blocked`, `needs_action`, `ready`) and every finding, as the CLI prints them."""
    if at is not None and not EARLIEST_AT <= at <= LATEST_AT:
        problem = f"must be a day from {EARLIEST_AT} to {LATEST_AT}, not {at.isoformat()}"
        raise HTTPException(422, [{"field": "at", "problem": problem}])
    require_token_still_works(db, client)
    try:
        result = disclosure.check(db, request, at, actor=client.actor, justification="rule check (API)")
        return result.as_dict()
    except RequestUnreadable as error:
        raise HTTPException(
            422, [{"field": p.split(": ", 1)[0], "problem": p.split(": ", 1)[-1]} for p in error.problems]
        ) from None
