"""Pages that belong to no single module: the home page of each role."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from custodes.disclosure import service as disclosure
from custodes.identity import service as identity
from custodes.identity.permissions import ROLE_TITLES, Permission
from custodes.identity.schemas import Principal
from custodes.ledger import service as ledger
from custodes.monitoring import casework
from custodes.web.deps import Db, require
from custodes.web.templating import render
from custodes.workforce import gate
from custodes.workforce import service as workforce

router = APIRouter()


@router.get("/")
def home(
    request: Request, db: Db, principal: Annotated[Principal, Depends(require(Permission.SELF_VIEW))]
) -> Any:
    context: dict[str, Any] = {"role_titles": [ROLE_TITLES[role] for role in sorted(principal.roles)]}
    context["disclosure_work"] = disclosure.work_for(db, principal)
    # One's own declarations and referrals, as counts, so that a decision or advice is not missed.
    context["my_declarations_awaiting"] = workforce.my_declarations_awaiting(db, principal.staff_id)
    context["my_referrals_open"], context["my_referrals_closed"] = gate.my_referral_counts(
        db, principal.staff_id
    )
    # Each role's main work, as counts (no names, so nothing is logged) linking to the queue that shows it.
    if principal.can(Permission.DECLARATIONS_DECIDE):
        context["declarations_to_decide"] = workforce.awaiting_decision_count(db, principal)
    if principal.can(Permission.REFERRALS_HANDLE):
        context["referrals_open"] = gate.open_referral_count(db, principal.staff_id)
    if principal.can(Permission.ALERTS_INVESTIGATE):
        # Only what the viewer may see: alerts and investigations about them are kept from them.
        context["alerts_new"] = casework.status_counts(db, principal)[casework.AlertStatus.NEW]
        context["investigations_open"] = casework.investigation_count(db, principal)
    if principal.can(Permission.LEDGER_VIEW):
        context["ledger_status"] = ledger.status(db, request.app.state.settings)
        context["verification"] = ledger.latest_verification(db)
    if principal.can(Permission.ACCOUNTS_VIEW):
        context["accounts_total"] = identity.list_accounts(db, limit=1)[1]
        context["role_requests"] = len(identity.pending_role_requests(db))
    if principal.can(Permission.TOKENS_MANAGE):
        context["tokens_pending"] = identity.pending_token_count(db)
    return render(request, "home.html", **context)
