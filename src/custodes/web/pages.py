"""Pages that belong to no single module: the home page of each role."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from custodes.agreements import service as agreements
from custodes.disclosure import service as disclosure
from custodes.identity import service as identity
from custodes.identity.permissions import ROLE_TITLES, Permission
from custodes.identity.schemas import Principal
from custodes.kit.db import utcnow
from custodes.kit.timefmt import london_day
from custodes.learning import service as learning
from custodes.ledger import service as ledger
from custodes.monitoring import casework
from custodes.stopsearch import service as stopsearch
from custodes.stopsearch.publication import month_title
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
    # One's own training and vetting that has lapsed or lapses within 30 days: what to do and what it stops.
    on = london_day(utcnow())
    context["my_steps"] = workforce.my_next_steps(db, principal.staff_id, on)
    # Each role's main work, as counts (no names, so nothing is logged) linking to the queue that shows it.
    if principal.can(Permission.DECLARATIONS_DECIDE):
        context["declarations_to_decide"] = workforce.awaiting_decision_count(db, principal)
    if principal.can(Permission.REFERRALS_HANDLE):
        context["referrals_open"] = gate.open_referral_count(db, principal.staff_id)
    if principal.can(Permission.ALERTS_INVESTIGATE):
        # Only what the viewer may see: alerts and investigations about them are kept from them.
        context["alerts_new"] = casework.status_counts(db, principal)[casework.AlertStatus.NEW]
        context["investigations_open"] = casework.investigation_count(db, principal)
    if principal.can(Permission.TRAINING_VIEW):
        # A line manager's own people first; the force-wide dashboard is a link (counting it is the page's).
        if workforce.has_line_reports(db, principal.staff_id, on):
            context["my_people"] = workforce.line_report_counts(db, principal.staff_id, on)
        context["training_view"] = True
    if principal.can(Permission.VETTING_VIEW):
        expired, not_applied, due = workforce.renewal_counts(db, on, workforce.NEXT_STEP_DAYS)
        context["vetting_counts"] = {"expired": expired, "not_applied": not_applied, "due": due}
    if principal.can(Permission.AGREEMENTS_MANAGE):
        # Past its review date an agreement is not relied on: disclosures under it are blocked.
        day = agreements.today()
        rows = agreements.list_agreements(db)
        context["agreements_overdue"] = sum(
            1 for a in rows if a.status_on(day) in ("review_overdue", "review_date_missing")
        )
        context["agreements_due"] = len(agreements.review_reminders(db, day))
    if principal.can(Permission.LEARNING_MANAGE):
        day = learning.today()
        late = learning.list_recommendations(db, overdue_on=day)
        context["learning_overdue"] = sum(len(r.overdue_actions(day)) for r in late)
        context["learning_overdue_recommendations"] = len(late)
    if principal.can(Permission.STOPSEARCH_VIEW):
        forces = stopsearch.force_summaries(db)
        months = [m for force in forces for m in force.months]
        samples = stopsearch.samples(db)
        context["stopsearch"] = {
            "forces": len(forces),
            "latest_month": month_title(max(m.month for m in months)) if months else None,
            "last_import": max(m.imported_at for m in months) if months else None,
            "samples_open": sum(1 for s in samples if s.reviewed < s.size),
            "reviews_left": sum(s.size - s.reviewed for s in samples),
            "may_manage": principal.can(Permission.STOPSEARCH_MANAGE),
        }
    if principal.can(Permission.LEDGER_VIEW):
        context["ledger_status"] = ledger.status(db, request.app.state.settings)
        context["verification"] = ledger.latest_verification(db)
    if principal.can(Permission.ACCOUNTS_VIEW):
        context["accounts_total"] = identity.list_accounts(db, limit=1)[1]
        context["role_requests"] = len(identity.pending_role_requests(db))
    if principal.can(Permission.TOKENS_MANAGE):
        context["tokens_pending"] = identity.pending_token_count(db)
    return render(request, "home.html", **context)
