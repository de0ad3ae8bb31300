"""Ledger JSON API for outside verifiers and machine clients (scope `ledger:read`).

Every route here only reads the ledger, and reads it in a read-only unit of work of its own
(`web.deps.reading`): the request's unit of work is a BEGIN IMMEDIATE on SQLite and would hold the write lock
for the whole read (an export of 100,000 entries, a proof over a large log), so that every writer waited. (The
token is checked in a read-only unit of work of its own: `web.deps.checked_token`.) What a route records (the
consultation of /entries) is written after the read, in the request's own short unit of work, committed before
the answer is sent (docs/ledger.md).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import PlainTextResponse, Response

from custodes.identity.permissions import Scope
from custodes.identity.schemas import TokenPrincipal
from custodes.ledger import service as ledger
from custodes.web.deps import Db, reading, require_scope

router = APIRouter(prefix="/api/v1/ledger", tags=["ledger"])
Reader = Annotated[TokenPrincipal, Depends(require_scope(Scope.LEDGER_READ))]
MAX_ENTRIES = 100_000  # a request of /entries


@router.get("/public-key", response_class=PlainTextResponse)
def public_key(request: Request, _client: Reader) -> str:
    return ledger.verifier_key(request.app.state.settings) + "\n"


@router.get("/checkpoint", response_class=PlainTextResponse)
def checkpoint(request: Request, db: Db, _client: Reader) -> str:
    with reading(request, db) as reader:
        latest = ledger.latest_checkpoint(reader)
    if latest is None:
        raise HTTPException(404, "no checkpoint has been issued yet")
    return latest.note


@router.get("/proofs/inclusion")
def inclusion(
    request: Request,
    db: Db,
    _client: Reader,
    index: Annotated[int, Query(ge=0)],
    size: Annotated[int | None, Query(ge=1)] = None,
) -> dict[str, Any]:
    try:
        with reading(request, db) as reader:
            return ledger.prove_inclusion(reader, index, size)
    except ledger.LedgerError as error:
        field = "index" if size is None or index >= size else "size"
        raise HTTPException(422, [{"field": field, "problem": str(error)}]) from None


@router.get("/proofs/consistency")
def consistency(
    request: Request,
    db: Db,
    _client: Reader,
    old_size: Annotated[int, Query(ge=0)],
    new_size: Annotated[int | None, Query(ge=0)] = None,
) -> dict[str, Any]:
    try:
        with reading(request, db) as reader:
            return ledger.prove_consistency(reader, old_size, new_size)
    except ledger.LedgerError as error:
        field = "old_size" if new_size is None or old_size > new_size else "new_size"
        raise HTTPException(422, [{"field": field, "problem": str(error)}]) from None


@router.get("/entries")
def entries(
    request: Request,
    db: Db,
    client: Reader,
    start: Annotated[int, Query(alias="from", ge=0)] = 0,
    end: Annotated[int | None, Query(alias="to", ge=0)] = None,
) -> Response:
    """Entry bytes as JSON Lines, [from, to), exactly as `custodes ledger export` prints them: at most
    100,000 entries a request. Without `to`, the 100,000 from `from` (fewer at the end of the ledger); a
    `to` more than 100,000 past `from` is refused (422 naming `to`), never silently cut short."""
    if end is None:
        end = start + MAX_ENTRIES
    elif end - start > MAX_ENTRIES:
        problem = (
            f"is at most {MAX_ENTRIES:,} past from ({start + MAX_ENTRIES}); ask for the rest in more requests"
        )
        raise HTTPException(422, [{"field": "to", "problem": problem}])
    with reading(request, db) as reader:
        lines = list(ledger.export_lines(reader, start, end))
    if lines:  # the consultation: a short write in the request's unit of work, committed before the answer
        ledger.record_export(db, client.actor, start, start + len(lines), "ledger API")
    return Response(b"".join(line + b"\n" for line in lines), media_type="application/jsonl")
