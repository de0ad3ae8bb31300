"""Screens for the learning register: the list with its filters, a recommendation, its actions, exports."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from pydantic import Field
from starlette.routing import BaseRoute

from custodes.identity.permissions import Permission
from custodes.identity.schemas import Principal
from custodes.kit.db import utcnow
from custodes.kit.pdf import html_to_pdf
from custodes.learning import service as learning
from custodes.learning.controls import CONTROLS, FAMILIES, Control
from custodes.learning.schemas import (
    ACCEPTANCE,
    ACTION_STATUSES,
    SOURCE_KINDS,
    STATUSES,
    RecommendationView,
)
from custodes.web.deps import Db, require
from custodes.web.exports import attachment, csv_cell
from custodes.web.forms import RegisterForm
from custodes.web.notices import done_redirect
from custodes.web.templating import environment, render

router = APIRouter()
Viewer = Annotated[Principal, Depends(require(Permission.LEARNING_VIEW))]
Manager = Annotated[Principal, Depends(require(Permission.LEARNING_MANAGE))]
Text = Annotated[str, Form(max_length=25000)]
LongText = Annotated[str, Field(max_length=25000)]

LABELS = {
    "source_kind": "Source",
    "source_reference": "Reference",
    "issued_on": "Date",
    "title": "Title",
    "text": "Recommendation",
    "accepted": "Accepted",
    "reason": "Reason",
    "status": "Status",
    "evidence": "Evidence",
    "controls": "Controls",
    "recommendation": "Recommendation",
    "action": "Action",
    "owner_staff_id": "Owner",
    "due_on": "Due date",
    "completed_on": "Completed on",
}
BADGES = {
    "open": "warn",
    "in_progress": "warn",
    "done": "ok",
    "closed": "none",
    "yes": "ok",
    "partly": "warn",
}
BADGES["no"] = "bad"


def _day(value: date | None) -> str:
    return f"{value.day} {value:%b %Y}" if value else "—"


def _get_paths(routes: Sequence[BaseRoute]) -> frozenset[str]:
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI releases that flatten included routers into app.routes
        return frozenset(
            route.path for route in routes if isinstance(route, APIRoute) and "GET" in (route.methods or ())
        )
    return frozenset(
        str(context.path)
        for context in iter_route_contexts(routes)
        if isinstance(context.original_route, APIRoute) and "GET" in (context.original_route.methods or ())
    )


def _screens(request: Request) -> frozenset[str]:
    """The GET screens this installation has, so a control's place is linked only when it exists."""
    state = request.app.state
    if getattr(state, "learning_screens", None) is None:
        state.learning_screens = _get_paths(request.app.routes)
    return frozenset(state.learning_screens)


def _page(request: Request, name: str, status_code: int = 200, **context: Any) -> Any:
    return render(
        request,
        f"learning/{name}",
        status_code,
        day=_day,
        today=learning.today(),
        badges=BADGES,
        statuses=STATUSES,
        acceptance=ACCEPTANCE,
        action_statuses=ACTION_STATUSES,
        sources=SOURCE_KINDS,
        controls=CONTROLS,
        families=FAMILIES,
        screens=_screens(request),
        labels=LABELS,
        **context,
    )


def _problems(error: learning.LearningError) -> list[str]:
    return [f"{LABELS.get(field, field)}: {problem}" for field, problem in error.problems]


def _wrong(error: learning.LearningError) -> set[str]:
    """The fields to highlight on the form that was refused."""
    return {field for field, _problem in error.problems}


# --------------------------------------------------------------------------- the register


def _filters(source: str, status: str, overdue: str, control: str) -> dict[str, str]:
    """The filters asked for, keeping only known values (an unknown one is ignored, not an error)."""
    chosen = {
        "source": source if source in SOURCE_KINDS else "",
        "status": status if status in STATUSES else "",
        "overdue": "1" if overdue in ("1", "on", "true", "yes") else "",
        "control": control.upper() if control.upper() in CONTROLS else "",
    }
    return {key: value for key, value in chosen.items() if value}


def _register(db: Db, chosen: dict[str, str], day: date) -> list[RecommendationView]:
    return learning.list_recommendations(
        db,
        source_kind=chosen.get("source"),
        status=chosen.get("status"),
        overdue_on=day if chosen.get("overdue") else None,
        control=chosen.get("control"),
    )


@router.get("/learning")
def register(
    request: Request,
    db: Db,
    viewer: Viewer,
    source: str = "",
    status: str = "",
    overdue: str = "",
    control: str = "",
) -> Any:
    chosen = _filters(source, status, overdue, control)
    today = learning.today()
    rows = _register(db, chosen, today)
    everything = rows if not chosen else learning.list_recommendations(db)
    return _page(
        request,
        "register.html",
        title="Learning register",
        rows=rows,
        chosen=chosen,
        query=urlencode(chosen),
        overdue_total=sum(len(r.overdue_actions(today)) for r in everything),
        total=len(everything),
        used_controls=sorted({c for r in everything for c in r.controls}, key=list(CONTROLS).index),
        can_manage=viewer.can(Permission.LEARNING_MANAGE),
    )


EXPORT_COLUMNS = [
    "recommendation",
    "source_kind",
    "source_reference",
    "issued_on",
    "title",
    "text",
    "accepted",
    "reason",
    "status",
    "evidence",
    "controls",
    "action_id",
    "action",
    "owner_staff_id",
    "due_on",
    "action_status",
    "overdue",
    "completed_on",
    "action_evidence",
]


@router.get("/learning/export.csv")
def register_csv(
    db: Db, _viewer: Viewer, source: str = "", status: str = "", overdue: str = "", control: str = ""
) -> Any:
    """One row per action (a recommendation without actions has one row with the action columns empty)."""
    today = learning.today()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    for rec in _register(db, _filters(source, status, overdue, control), today):
        head = [
            rec.label,
            rec.source_kind,
            rec.source_reference,
            rec.issued_on,
            rec.title,
            rec.text,
            rec.accepted,
            rec.reason,
            rec.status,
            rec.evidence,
            ";".join(rec.controls),
        ]
        tails: list[list[Any]] = [
            [
                a.id,
                a.text,
                a.owner_staff_id,
                a.due_on,
                a.status,
                "true" if a.overdue_on(today) else "false",
                a.completed_on,
                a.evidence,
            ]
            for a in rec.actions
        ] or [[None] * 8]
        for tail in tails:
            writer.writerow([csv_cell(cell) for cell in head + tail])
    return attachment(buffer.getvalue().encode(), "text/csv; charset=utf-8", "custodes-learning.csv")


@router.get("/learning/export.pdf")
def register_pdf(
    request: Request,
    db: Db,
    viewer: Viewer,
    source: str = "",
    status: str = "",
    overdue: str = "",
    control: str = "",
) -> Any:
    today = learning.today()
    chosen = _filters(source, status, overdue, control)
    html = environment.get_template("learning/register_pdf.html").render(
        title="Learning register",
        rows=_register(db, chosen, today),
        chosen=chosen,
        principal=viewer,
        generated=utcnow(),
        force_name=request.app.state.settings.force_name,
        today=today,
        day=_day,
        statuses=STATUSES,
        acceptance=ACCEPTANCE,
        action_statuses=ACTION_STATUSES,
        sources=SOURCE_KINDS,
        controls=CONTROLS,
    )
    return attachment(html_to_pdf(html), "application/pdf", "custodes-learning.pdf")


@router.get("/learning/controls")
def control_catalogue(request: Request, db: Db, _viewer: Viewer) -> Any:
    grouped: dict[str, list[Control]] = {family: [] for family in FAMILIES}
    for control in CONTROLS.values():
        grouped[control.family].append(control)
    return _page(
        request,
        "controls.html",
        title="Controls",
        grouped=grouped,
        answers=learning.recommendations_by_control(db),
    )


# --------------------------------------------------------------------------- a recommendation


def _form_page(
    request: Request, values: dict[str, str], *, editing: int | None, problems: list[str] | None = None
) -> Any:
    grouped: dict[str, list[Control]] = {family: [] for family in FAMILIES}
    for control in CONTROLS.values():
        grouped[control.family].append(control)
    return _page(
        request,
        "recommendation_form.html",
        400 if problems else 200,
        title=f"Change recommendation L-{editing}" if editing else "Add a recommendation",
        values=values,
        chosen=set(learning.split_codes(values.get("controls", ""))),
        grouped=grouped,
        editing=editing,
        problems=problems or [],
    )


class RecommendationForm(RegisterForm):
    """The add-and-change form of a recommendation (the text may be long: a whole recommendation)."""

    source_kind: LongText = ""
    source_reference: LongText = ""
    issued_on: LongText = ""
    title: LongText = ""
    text: LongText = ""
    accepted: LongText = ""
    reason: LongText = ""
    status: LongText = ""
    evidence: LongText = ""
    controls: list[str] = Field(default_factory=list)


Posted = Annotated[RecommendationForm, Form()]


@router.get("/learning/new")
def new_recommendation(request: Request, _manager: Manager) -> Any:
    return _form_page(request, {"status": "open", "source_kind": "", "accepted": ""}, editing=None)


@router.post("/learning")
def create_recommendation(request: Request, db: Db, manager: Manager, form: Posted) -> Any:
    values = form.values()
    values["status"] = values["status"] or "open"
    try:
        created = learning.create_recommendation(db, values, manager.actor)
    except learning.LearningError as error:
        return _form_page(request, values, editing=None, problems=_problems(error))
    return done_redirect(f"/learning/{created}", "Recommendation added. Add its actions below.")


def _found(db: Db, recommendation_id: int) -> RecommendationView:
    found = learning.get_recommendation(db, recommendation_id)
    if found is None:
        raise HTTPException(404, f"There is no recommendation L-{recommendation_id}.")
    return found


def _detail(
    request: Request,
    db: Db,
    viewer: Principal,
    recommendation_id: int,
    *,
    problems: list[str] | None = None,
    wrong: set[str] | None = None,
    action_values: dict[str, str] | None = None,
    completing: int | None = None,
) -> Any:
    """The recommendation's page; after a refused form, its `problems` in the red box inside that form (the
    new action's, or the "Mark done" form of action `completing`), its `wrong` fields highlighted."""
    found = _found(db, recommendation_id)
    return _page(
        request,
        "recommendation.html",
        400 if problems else 200,
        title=f"{found.title} ({found.label})",
        rec=found,
        problems=problems or [],
        wrong=wrong or set(),
        action_values=action_values or {},
        completing=completing,
        can_manage=viewer.can(Permission.LEARNING_MANAGE),
    )


@router.get("/learning/{recommendation_id}")
def recommendation(request: Request, db: Db, viewer: Viewer, recommendation_id: str) -> Any:
    """A recommendation by its number (/learning/6) or by the reference the screens show (/learning/L-6,
    sent on to /learning/6); anything else is a page saying there is no such recommendation."""
    number = recommendation_id.strip().upper().removeprefix("L-").removeprefix("L")
    if not (number.isascii() and number.isdigit() and len(number) <= 9):
        raise HTTPException(404, f"There is no recommendation {recommendation_id}: references look like L-6.")
    if number != recommendation_id:
        return RedirectResponse(f"/learning/{int(number)}", status_code=303)
    return _detail(request, db, viewer, int(number))


@router.get("/learning/{recommendation_id}/edit")
def edit_recommendation(request: Request, db: Db, _manager: Manager, recommendation_id: int) -> Any:
    return _form_page(request, _found(db, recommendation_id).form_values(), editing=recommendation_id)


@router.post("/learning/{recommendation_id}")
def update_recommendation(
    request: Request, db: Db, manager: Manager, recommendation_id: int, form: Posted
) -> Any:
    _found(db, recommendation_id)
    values = form.values()
    try:
        changed = learning.update_recommendation(db, recommendation_id, values, manager.actor)
    except learning.LearningError as error:
        return _form_page(request, values, editing=recommendation_id, problems=_problems(error))
    return done_redirect(
        f"/learning/{recommendation_id}", "Recommendation updated." if changed else "Nothing had changed."
    )


@router.post("/learning/{recommendation_id}/actions")
def add_action(
    request: Request,
    db: Db,
    manager: Manager,
    recommendation_id: int,
    text: Text = "",
    owner_staff_id: Text = "",
    due_on: Text = "",
) -> Any:
    _found(db, recommendation_id)
    values = {"text": text, "owner_staff_id": owner_staff_id, "due_on": due_on}
    try:
        action_id = learning.add_action(db, recommendation_id, values, manager.actor)
    except learning.LearningError as error:
        return _detail(
            request,
            db,
            manager,
            recommendation_id,
            problems=_problems(error),
            wrong=_wrong(error),
            action_values=values,
        )
    return done_redirect(f"/learning/{recommendation_id}", _added(db, recommendation_id, action_id))


def _added(db: Db, recommendation_id: int, action_id: int) -> str:
    """The done message for an action added, in words: who owns it and when it is due."""
    found = learning.get_recommendation(db, recommendation_id)
    action = next((a for a in found.actions if a.id == action_id), None) if found else None
    if action is None:
        return "Action added."
    return f"Action added: owned by {action.owner_label}, due {_day(action.due_on)}."


@router.post("/learning/{recommendation_id}/actions/{action_id}/complete")
def complete_action(
    request: Request,
    db: Db,
    manager: Manager,
    recommendation_id: int,
    action_id: int,
    completed_on: Text = "",
    evidence: Text = "",
) -> Any:
    _found(db, recommendation_id)
    values = {"completed_on": completed_on, "evidence": evidence}
    try:
        learning.complete_action(db, action_id, values, manager.actor, recommendation_id=recommendation_id)
    except learning.LearningError as error:
        return _detail(
            request,
            db,
            manager,
            recommendation_id,
            problems=_problems(error),
            wrong=_wrong(error),
            action_values=values,
            completing=action_id,
        )
    return done_redirect(f"/learning/{recommendation_id}", "Action completed.")
