"""Identity JSON API: who a bearer token belongs to."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from custodes import __version__
from custodes.identity.schemas import TokenPrincipal
from custodes.web.deps import require_any_token

router = APIRouter(prefix="/api/v1")


@router.get("/health")
def health() -> dict[str, Any]:
    return {"status": "ok", "version": __version__}


@router.get("/token")
def token_info(client: Annotated[TokenPrincipal, Depends(require_any_token)]) -> dict[str, Any]:
    return {"id": client.token_id, "name": client.name, "scopes": sorted(client.scopes)}
