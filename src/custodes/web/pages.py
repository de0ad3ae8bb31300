"""Pages that belong to no single module: the home page of each role."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from custodes.disclosure import service as disclosure
from custodes.identity import service as identity
from custodes.identity.permissions import ROLE_TITLES, Permission
from custodes.identity.schemas import Principal
from custodes.ledger import service as ledger
from custodes.web.deps import Db, require
from custodes.web.templating import render

router = APIRouter()


@router.get("/")
def home(
    request: Request, db: Db, principal: Annotated[Principal, Depends(require(Permission.SELF_VIEW))]
) -> Any:
    context: dict[str, Any] = {"role_titles": [ROLE_TITLES[role] for role in sorted(principal.roles)]}
    context["disclosure_work"] = disclosure.work_for(db, principal)
    if principal.can(Permission.LEDGER_VIEW):
        context["ledger_status"] = ledger.status(db, request.app.state.settings)
        context["verification"] = ledger.latest_verification(db)
    if principal.can(Permission.ACCOUNTS_VIEW):
        context["accounts_total"] = identity.list_accounts(db, limit=1)[1]
        context["role_requests"] = len(identity.pending_role_requests(db))
    if principal.can(Permission.TOKENS_MANAGE):
        context["tokens_pending"] = identity.pending_token_count(db)
    return render(request, "home.html", **context)
