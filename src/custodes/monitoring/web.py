"""Counter-corruption screens: the alert queue, triage of one alert, investigations and evidence packs.

Thin: parse the form, call monitoring.casework (where the rules are), render. Everything here needs
ALERTS_INVESTIGATE; which alerts and investigations a member of the unit may see is casework's rule.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from custodes.identity import service as identity
from custodes.identity.permissions import Permission
from custodes.identity.schemas import Principal
from custodes.kit.db import utcnow
from custodes.kit.timefmt import london_day
from custodes.kit.words import plural
from custodes.monitoring import casework, evidence, service
from custodes.monitoring.casework import (
    ACTION_TITLES,
    OUTCOMES,
    RULE_TITLES,
    STATUS_TITLES,
    AlertStatus,
    CaseworkError,
    InvestigationStatus,
    NotFound,
)
from custodes.web.deps import Db, reading, require
from custodes.web.notices import done_redirect
from custodes.web.templating import environment, render
from custodes.workforce import service as workforce

router = APIRouter()

Investigator = Annotated[Principal, Depends(require(Permission.ALERTS_INVESTIGATE))]
Reason = Annotated[str, Form(max_length=casework.MAX_TEXT)]
Note = Annotated[str, Form(max_length=casework.MAX_NOTE)]
Title = Annotated[str, Form(max_length=casework.MAX_TITLE)]
AlertIds = Annotated[list[str] | None, Form()]
Short = Annotated[str, Form(max_length=100)]

QUEUE_TABS = {
    AlertStatus.NEW: "New",
    AlertStatus.INVESTIGATING: "Under investigation",
    AlertStatus.DISMISSED: "Dismissed",
    AlertStatus.CLOSED: "Closed",
    "all": "All",
}
INVESTIGATION_TABS = {InvestigationStatus.OPEN: "Open", InvestigationStatus.CLOSED: "Closed", "all": "All"}
OUTCOME_HINTS = {
    "no_case_to_answer": "The accesses were justified, or there is not enough to act on.",
    "management_advice": "Dealt with by words of advice or a reflective practice review, not misconduct.",
    "misconduct": "Referred for misconduct proceedings.",
    "criminal": "Referred for criminal investigation (Computer Misuse Act, misconduct in public office).",
}


def _band(score: int) -> tuple[str, str]:
    """(words, css class) for a score."""
    if score >= 70:
        return "High", "bad"
    if score >= 40:
        return "Medium", "warn"
    return "Low", "none"


def _page(request: Request, name: str, status_code: int = 200, **context: Any) -> Any:
    return render(
        request,
        f"monitoring/{name}",
        status_code,
        rule_titles=RULE_TITLES,
        action_titles=ACTION_TITLES,
        status_titles=STATUS_TITLES,
        outcomes=OUTCOMES,
        outcome_hints=OUTCOME_HINTS,
        band=_band,
        **context,
    )


def _number(value: str | None, default: int = 1) -> int:
    try:
        return max(1, int(value)) if value else default
    except ValueError:
        return default


# --------------------------------------------------------------------------- the queue


def _selected_ids(value: str | None) -> list[str]:
    """`?selected=A1,A2`: the queue's selection as carried in its address."""
    return [part for part in (value or "").split(",") if part.strip()]


@dataclass(frozen=True, slots=True)
class Back:
    """Where an alert's page goes back to: the queue's tab, filter, page and selection, as the queue's link
    or button that opened it carried them (`?status=…&rule=…&page=…&selected=…`), and as the alert page's
    forms send them on (`status`, `rule`, `at_page`, `selected`). Nothing carried: the queue as it opens."""

    status: str = ""
    rule: str = ""
    page: int = 1
    selected: tuple[str, ...] = ()
    staff: str = ""  # the staff code filter (casework.staff_code), "" for any

    @staticmethod
    def of(
        status: str | None, rule: str | None, page: str | None, selected: str | None, staff: str | None = None
    ) -> Back:
        return Back(
            status if status in QUEUE_TABS else "",
            rule if rule in RULE_TITLES else "",
            _number(page),
            tuple(_selected_ids(selected)),
            casework.staff_code(staff),
        )

    @property
    def carried(self) -> bool:
        return bool(self.status or self.rule or self.page > 1 or self.selected or self.staff)

    def query(self) -> str:
        """The queue's address query ("" when nothing is carried)."""
        if not self.carried:
            return ""
        query: dict[str, Any] = {
            "status": self.status or AlertStatus.NEW,
            "rule": self.rule,
            "page": self.page,
        }
        if self.staff:
            query["staff"] = self.staff
        if self.selected:
            query["selected"] = ",".join(self.selected)
        return urlencode(query)

    def queue(self) -> str:
        """The queue's address, back where the viewer was."""
        query = self.query()
        return f"/alerts?{query}" if query else "/alerts"

    def alert(self, alert_id: str) -> str:
        """An alert's address, carrying the way back."""
        query = self.query()
        path = f"/alerts/{quote(alert_id, safe='')}"
        return f"{path}?{query}" if query else path

    def investigation(self, investigation_id: int) -> str:
        """An investigation's address, carrying the way back (an investigation opened from, or added to
        from, an alert's page leads back to the queue that alert was opened from)."""
        query = self.query()
        path = f"/investigations/{investigation_id}"
        return f"{path}?{query}" if query else path

    def without(self, *alert_ids: str) -> Back:
        kept = tuple(i for i in self.selected if i not in alert_ids)
        return Back(self.status, self.rule, self.page, kept, self.staff)

    def fields(self) -> dict[str, str]:
        """The hidden fields of the alert and investigation pages' forms."""
        if not self.carried:
            return {}
        return {
            "status": self.status or AlertStatus.NEW,
            "rule": self.rule,
            "at_page": str(self.page),
            "selected": ",".join(self.selected),
            "staff": self.staff,
        }


def _queue_page(
    request: Request,
    db: Db,
    viewer: Principal,
    *,
    status: str,
    rule: str,
    page: int,
    ticked: list[str],
    staff: str = "",
    dismissed: str = "",
    problem: str | None = None,
    status_code: int = 200,
    values: dict[str, Any] | None = None,
) -> Any:
    """The queue, one page, with the selection (`ticked`: ids asked for, from the address or a form)."""
    status = status if status in QUEUE_TABS else AlertStatus.NEW
    rule = rule if rule in RULE_TITLES else ""
    staff = casework.staff_code(staff)
    settings = request.app.state.settings
    rows, total = casework.alert_queue(
        db, settings, viewer, status="" if status == "all" else status, rule=rule, page=page, staff=staff
    )
    pages = max(1, -(-total // casework.PAGE_SIZE))
    selection = casework.select_alerts(db, settings, viewer, ticked)
    refused = selection.problem
    if refused and status_code != 404:  # unknown ids: named, and left out of the selection carried on
        problem = f"{problem} {refused}" if problem else refused  # (a 404's problem names them already)
        status_code = status_code if status_code != 200 else 400
    chosen = selection.ids
    on_page = {row.alert_id for row in rows}
    carried = ",".join(chosen)

    def link(**changes: Any) -> str:
        query = {"status": status, "rule": rule, "page": 1, **changes}
        if staff and "staff" not in changes:
            query["staff"] = staff
        if carried:
            query["selected"] = carried
        return "/alerts?" + urlencode(query)

    back = Back(status, rule, page, chosen, staff)
    # Just dismissed (`?dismissed=A1`, from the dismissal's redirect): named and linked, if the viewer may
    # see it (checked as a selection is; otherwise nothing is said).
    just_dismissed = casework.select_alerts(db, settings, viewer, [dismissed]).rows if dismissed else ()

    return _page(
        request,
        "alerts.html",
        status_code,
        title="Misuse alerts",
        rows=rows,
        total=total,
        status=status,
        rule=rule,
        staff=staff,
        staff_codes=casework.staff_codes(selection.rows),
        page=page,
        pages=pages,
        tabs=QUEUE_TABS,
        counts=casework.status_counts(db, viewer),
        link=link,
        alert_link=back.alert,
        just_dismissed=just_dismissed[0] if just_dismissed else None,
        selection=selection,
        chosen=set(chosen),
        elsewhere=[row for row in selection.rows if row.alert_id not in on_page],
        carried=carried,
        max_selected=casework.MAX_SELECTED,
        problem=problem,
        values=values or {},
    )


@router.get("/alerts")
def alert_queue(request: Request, db: Db, viewer: Investigator) -> Any:
    params = request.query_params
    return _queue_page(
        request,
        db,
        viewer,
        status=params.get("status", AlertStatus.NEW),
        rule=params.get("rule", ""),
        page=_number(params.get("page")),
        ticked=_selected_ids(params.get("selected")),
        staff=params.get("staff", ""),
        dismissed=params.get("dismissed", ""),
    )


@router.post("/alerts/selection")
def keep_selection(
    request: Request,
    db: Db,
    viewer: Investigator,
    alert_id: AlertIds = None,
    status: Short = AlertStatus.NEW,
    rule: Short = "",
    staff: Short = "",
    page: Short = "",
    at_page: Short = "",
    clear: Short = "",
    open_alert: Annotated[str, Form(alias="open", max_length=200)] = "",
) -> Any:
    """The queue's tick boxes, sent by its page and filter buttons: the alerts ticked (on this page, and
    those selected on other pages, listed under the table) become the selection, carried in the address
    of the page asked for (`?selected=`), so ticks survive paging and filtering without JavaScript. An
    alert opened from the New tab (`open`, its row's button) is shown with the selection carried in its
    own address, so that its page leads back to the queue as it was, ticks included."""
    ticked = [] if clear else list(alert_id or [])
    selection = casework.select_alerts(db, request.app.state.settings, viewer, ticked)
    target = _number(page or at_page)  # the page asked for by the button pressed, else this page
    if selection.problem:
        return _queue_page(
            request, db, viewer, status=status, rule=rule, page=target, ticked=ticked, staff=staff
        )
    query: dict[str, Any] = {
        "status": status if status in QUEUE_TABS else AlertStatus.NEW,
        "rule": rule if rule in RULE_TITLES else "",
        "page": target,
    }
    if casework.staff_code(staff):
        query["staff"] = casework.staff_code(staff)
    if selection.ids:
        query["selected"] = ",".join(selection.ids)
    if open_alert.strip():
        path = f"/alerts/{quote(open_alert.strip(), safe='')}"
        return RedirectResponse(f"{path}?{urlencode(query)}", status_code=303)
    return RedirectResponse("/alerts?" + urlencode(query), status_code=303)


# --------------------------------------------------------------------------- one alert


def _checked_back(
    request: Request, db: Db, viewer: Principal, back: Back | None, problem: str | None
) -> tuple[Back, str | None]:
    """The way back with its selection checked as the queue checks it: ids naming no alert the viewer may
    see are refused in the same words whether or not they exist (added to `problem`) and left out."""
    back = back or Back()
    if back.selected:
        selection = casework.select_alerts(db, request.app.state.settings, viewer, back.selected)
        if selection.problem:
            problem = f"{problem} {selection.problem}" if problem else selection.problem
        back = Back(back.status, back.rule, back.page, selection.ids, back.staff)
    return back, problem


def _alert_page(
    request: Request,
    db: Db,
    viewer: Principal,
    alert_id: str,
    *,
    back: Back | None = None,
    problem: str | None = None,
    values: dict[str, Any] | None = None,
) -> Any:
    """One alert. `back`: the queue it was opened from (tab, filter, page, selection), for its link back and
    its forms; a selection naming alerts the viewer may not see is refused as the queue refuses it, in the
    same words whether or not they exist, and those ids are left out of the way back."""
    settings = request.app.state.settings
    try:
        detail = casework.view_alert(db, settings, alert_id, viewer)
    except NotFound as error:
        raise HTTPException(404, str(error)) from None
    back, problem = _checked_back(request, db, viewer, back, problem)
    others: dict[str, Any] = {
        "status": "all" if detail.alert.status != AlertStatus.NEW else AlertStatus.NEW,
        "rule": "",
        "page": 1,
        "staff": casework.staff_code(detail.pseudonym),
    }
    if back.selected:
        others["selected"] = ",".join(back.selected)
    return _page(
        request,
        "alert.html",
        400 if problem else 200,
        title=f"Alert: {detail.alert.staff_label}",
        d=detail,
        area=identity.area_labeller(db),
        team=workforce.team_labeller(db),
        back=back,
        others_link="/alerts?" + urlencode(others),
        problem=problem,
        values=values or {},
    )


# The queue the alert page was opened from, as its forms send it back (see Back).
BackSelected = Annotated[str, Form(max_length=casework.MAX_SELECTED * 41)]


def _back_from_form(
    status: Short = "", rule: Short = "", at_page: Short = "", selected: BackSelected = "", staff: Short = ""
) -> Back:
    """The way back to the queue as a form sends it (`status`, `rule`, `at_page`, `selected`: the alert
    page's hidden fields, or the queue's own form): checked as `Back.of` checks an address."""
    return Back.of(status, rule, at_page, selected, staff)


BackForm = Annotated[Back, Depends(_back_from_form)]


@router.get("/alerts/{alert_id}")
def alert_page(request: Request, db: Db, viewer: Investigator, alert_id: str) -> Any:
    params = request.query_params
    back = Back.of(
        params.get("status"),
        params.get("rule"),
        params.get("page"),
        params.get("selected"),
        params.get("staff"),
    )
    return _alert_page(request, db, viewer, alert_id, back=back)


@router.post("/alerts/{alert_id}/reveal")
def reveal_identity(
    request: Request,
    db: Db,
    viewer: Investigator,
    alert_id: str,
    back: BackForm,
    reason: Reason = "",
) -> Any:
    try:
        casework.reveal_identity(db, alert_id, viewer, reason)
    except NotFound as error:
        raise HTTPException(404, str(error)) from None
    except CaseworkError as error:
        return _alert_page(
            request, db, viewer, alert_id, back=back, problem=str(error), values={"reveal": reason}
        )
    return done_redirect(
        back.alert(alert_id), "Identity revealed to you. Your reason is recorded in the ledger."
    )


@router.post("/alerts/{alert_id}/dismiss")
def dismiss_alert(
    request: Request,
    db: Db,
    viewer: Investigator,
    alert_id: str,
    back: BackForm,
    reason: Reason = "",
) -> Any:
    """Dismissed, back to the queue it was opened from; the alert leaves the selection (a dismissed alert
    cannot go into an investigation)."""
    try:
        casework.dismiss_alert(db, alert_id, viewer, reason)
    except NotFound as error:
        raise HTTPException(404, str(error)) from None
    except CaseworkError as error:
        return _alert_page(
            request, db, viewer, alert_id, back=back, problem=str(error), values={"dismiss": reason}
        )
    # Which alert, as the queue shows it (the staff code and the first access's day), with a link to it.
    (shown,) = casework.select_alerts(db, request.app.state.settings, viewer, [alert_id]).rows
    day = f"{london_day(shown.first_at):%-d %b %Y}"
    message = f"Alert dismissed: {shown.staff_label}, {day}. Your reason is recorded."
    if alert_id in back.selected:
        message += " It was taken out of your selection."
    queue = back.without(alert_id).queue()
    where = f"{queue}{'&' if '?' in queue else '?'}{urlencode({'dismissed': alert_id})}"
    return done_redirect(where, message)


@router.post("/alerts/{alert_id}/add")
def add_alert_to_investigation(
    request: Request,
    db: Db,
    viewer: Investigator,
    alert_id: str,
    back: BackForm,
    investigation_id: Short = "",
) -> Any:
    try:
        number = int(investigation_id)
    except ValueError:
        return _alert_page(
            request, db, viewer, alert_id, back=back, problem="Please choose an investigation."
        )
    try:
        reference = casework.add_alerts(db, number, [alert_id], viewer)
    except NotFound as error:
        raise HTTPException(404, str(error)) from None
    except CaseworkError as error:
        return _alert_page(request, db, viewer, alert_id, back=back, problem=str(error))
    return done_redirect(back.without(alert_id).investigation(number), f"Alert added to {reference}.")


# --------------------------------------------------------------------------- investigations


@router.post("/investigations")
def open_investigation(
    request: Request,
    db: Db,
    viewer: Investigator,
    back: BackForm,
    alert_id: AlertIds = None,
    title: Title = "",
    from_alert: Short = "",
    reason: Reason = "",
) -> Any:
    """From the queue (the selection: alerts ticked on this page and on others) or from one alert's page
    (`from_alert`, others ticked; `back` is then the queue it was opened from, as its hidden fields send
    it). The reason is required: the investigation names the member of staff
    (casework.open_investigation). Refused from the queue, the queue is shown again with the selection;
    from an alert's page, that page, with its way back."""
    chosen = [*([from_alert] if from_alert else []), *(alert_id or [])]
    try:
        investigation_id = casework.open_investigation(
            db, chosen, viewer, title, reason, settings=request.app.state.settings
        )
    except CaseworkError as error:
        if from_alert:
            if isinstance(error, NotFound):
                raise HTTPException(404, str(error)) from None
            values = {"title": title, "also": set(alert_id or []), "open_reason": reason}
            return _alert_page(request, db, viewer, from_alert, back=back, problem=str(error), values=values)
        return _queue_page(
            request,
            db,
            viewer,
            status=back.status,
            rule=back.rule,
            page=back.page,
            ticked=list(alert_id or []),
            staff=back.staff,
            problem=str(error),
            status_code=404 if isinstance(error, NotFound) else 400,
            values={"title": title, "reason": reason},
        )
    reference = casework.investigation_reference(db, investigation_id, viewer)
    # From an alert's page, the investigation leads back to the queue that alert was opened from (less the
    # alerts now in the investigation); from the queue itself, as before, it does not.
    where = back.without(*chosen) if from_alert else Back()
    return done_redirect(where.investigation(investigation_id), f"Investigation {reference} opened.")


@router.get("/investigations")
def investigation_list(request: Request, db: Db, viewer: Investigator) -> Any:
    status = request.query_params.get("status", InvestigationStatus.OPEN)
    status = status if status in INVESTIGATION_TABS else InvestigationStatus.OPEN
    rows = casework.investigations(db, viewer, "" if status == "all" else status)
    return _page(
        request,
        "investigations.html",
        title="Investigations",
        rows=rows,
        status=status,
        tabs=INVESTIGATION_TABS,
    )


def _investigation_page(
    request: Request,
    db: Db,
    viewer: Principal,
    investigation_id: int,
    *,
    back: Back | None = None,
    problem: str | None = None,
    values: dict[str, Any] | None = None,
) -> Any:
    """One investigation. `back`: the queue the alert it was opened from (or added from) was opened from,
    for a link back and its forms, checked as the alert page checks it."""
    try:
        detail = casework.view_investigation(db, request.app.state.settings, investigation_id, viewer)
    except NotFound as error:
        raise HTTPException(404, str(error)) from None
    back, problem = _checked_back(request, db, viewer, back, problem)
    return _page(
        request,
        "investigation.html",
        400 if problem else 200,
        title=f"{detail.summary.reference}: {detail.summary.title}",
        d=detail,
        area=identity.area_labeller(db),
        team=workforce.team_labeller(db),
        back=back,
        problem=problem,
        values=values or {},
    )


@router.get("/investigations/{investigation_id}")
def investigation_page(request: Request, db: Db, viewer: Investigator, investigation_id: int) -> Any:
    params = request.query_params
    back = Back.of(
        params.get("status"),
        params.get("rule"),
        params.get("page"),
        params.get("selected"),
        params.get("staff"),
    )
    return _investigation_page(request, db, viewer, investigation_id, back=back)


@router.post("/investigations/{investigation_id}/alerts")
def add_alerts(
    request: Request,
    db: Db,
    viewer: Investigator,
    investigation_id: int,
    back: BackForm,
    alert_id: AlertIds = None,
) -> Any:
    try:
        reference = casework.add_alerts(db, investigation_id, alert_id or [], viewer)
    except NotFound as error:
        raise HTTPException(404, str(error)) from None
    except CaseworkError as error:
        return _investigation_page(request, db, viewer, investigation_id, back=back, problem=str(error))
    count = len(alert_id or [])
    return done_redirect(
        back.without(*(alert_id or [])).investigation(investigation_id),
        f"{count} alert{'s' if count != 1 else ''} added to {reference}.",
    )


@router.post("/investigations/{investigation_id}/notes")
def add_note(
    request: Request, db: Db, viewer: Investigator, investigation_id: int, back: BackForm, note: Note = ""
) -> Any:
    try:
        reference = casework.add_note(db, investigation_id, viewer, note)
    except NotFound as error:
        raise HTTPException(404, str(error)) from None
    except CaseworkError as error:
        return _investigation_page(
            request, db, viewer, investigation_id, back=back, problem=str(error), values={"note": note}
        )
    return done_redirect(back.investigation(investigation_id), f"Note added to {reference}.")


CLOSE_REFUSED = "Not closed. Please put right the form “Close the investigation” below:"


@router.post("/investigations/{investigation_id}/close")
def close_investigation(
    request: Request,
    db: Db,
    viewer: Investigator,
    investigation_id: int,
    back: BackForm,
    outcome: Short = "",
    reason: Reason = "",
) -> Any:
    try:
        reference = casework.close_investigation(db, investigation_id, viewer, outcome, reason)
    except NotFound as error:
        raise HTTPException(404, str(error)) from None
    except CaseworkError as error:
        values: dict[str, Any] = {"outcome": outcome, "reason": reason}
        if isinstance(error, casework.FieldProblems):  # said at each field, and listed at the top
            values["close_errors"] = error.fields
            return _investigation_page(
                request, db, viewer, investigation_id, back=back, problem=CLOSE_REFUSED, values=values
            )
        return _investigation_page(
            request, db, viewer, investigation_id, back=back, problem=str(error), values=values
        )
    title = OUTCOMES[outcome].lower()
    return done_redirect(back.investigation(investigation_id), f"{reference} closed: {title}.")


def _report_renderer(request: Request, db: Db) -> Callable[[dict[str, Any]], str]:
    """The evidence report's HTML from its context (evidence.build_pack, build_report)."""
    settings = request.app.state.settings
    template = environment.get_template("monitoring/evidence_pdf.html")
    areas = identity.area_labeller(db)
    teams = workforce.team_labeller(db)

    def report(context: dict[str, Any]) -> str:
        # The ledger history's actors by name beside their numbers (colleagues' names: not logged).
        who = identity.staff_labeller(db, [group.first.actor for group in context.get("history", [])])
        return template.render(
            force_name=settings.force_name,
            area=areas,
            team=teams,
            who=who,
            rule_titles=RULE_TITLES,
            action_titles=ACTION_TITLES,
            outcomes=OUTCOMES,
            **context,
        )

    return report


@router.get("/investigations/{investigation_id}/evidence.zip")
def evidence_pack(request: Request, db: Db, viewer: Investigator, investigation_id: int) -> Any:
    settings = request.app.state.settings
    try:
        name, content = evidence.build_pack(
            db, settings, investigation_id, viewer, _report_renderer(request, db)
        )
    except NotFound as error:
        raise HTTPException(404, str(error)) from None
    return Response(
        content,
        media_type="application/zip",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


@router.get("/investigations/{investigation_id}/report.pdf")
def evidence_report(request: Request, db: Db, viewer: Investigator, investigation_id: int) -> Any:
    """The evidence pack's report alone, to read without unpacking the ZIP; recorded as the pack is."""
    settings = request.app.state.settings
    try:
        name, content = evidence.build_report(
            db, settings, investigation_id, viewer, _report_renderer(request, db)
        )
    except NotFound as error:
        raise HTTPException(404, str(error)) from None
    return Response(
        content,
        media_type="application/pdf",
        headers={"content-disposition": f'inline; filename="{name}"'},
    )


# --------------------------------------------------------------------------- the overview (no alerts)

Overseer = Annotated[Principal, Depends(require(Permission.MONITORING_VIEW))]
EXPLANATION_TITLES = {
    "cited_case": "Case cited on the access",
    "assigned_case": "Case assigned to the searcher",
    "team_case": "Case of the searcher's team",
    "referral": "Referral (searching for a colleague)",
}
RUN_WINDOW_DAYS = 90


@router.get("/monitoring")
def monitoring_overview(request: Request, db: Db, viewer: Overseer) -> Any:
    """Accesses stored, ingests with their quarantined rows, detector runs and how much was explained."""
    return _overview_page(request, db, viewer)


def _overview_page(
    request: Request, db: Db, viewer: Principal, problem: str | None = None, status_code: int = 200
) -> Any:
    found = service.overview(db)
    latest = found.runs[0] if found.runs else None
    investigator = Permission.ALERTS_INVESTIGATE in viewer.permissions
    # The unit's members see alert figures over what they may see: force-wide totals would differ from
    # their queue by the alerts kept from them (about them, or people close to them).
    by_status = casework.status_counts(db, viewer) if investigator else found.alerts_by_status
    visible_runs = casework.run_alert_counts(db, viewer, (r.id for r in found.runs)) if investigator else {}
    return _page(
        request,
        "overview.html",
        status_code,
        problem=problem,
        title="Access monitoring",
        overview=found,
        alerts_by_status=by_status,
        run_alerts=(lambda run: visible_runs.get(run.id, (0, 0))[0])
        if investigator
        else (lambda run: run.alerts),
        alerts_heading="Alerts raised or added to (that you may see)" if investigator else "Alerts",
        investigator=investigator,
        latest=latest,
        latest_by=json.loads(latest.explained_by) if latest else {},
        explanation_titles=EXPLANATION_TITLES,
        files=lambda ingest: ", ".join(json.loads(ingest.files)),
        # Who ran the detectors or sent a file: members of staff by name (not alerts' subjects; not logged).
        who=identity.staff_labeller(db, [*(r.actor for r in found.runs), *(i.actor for i in found.ingests)]),
        may_run=investigator,
        window_days=RUN_WINDOW_DAYS,
    )


@router.get("/monitoring/ingests/{ingest_id}")
def ingest_page(request: Request, db: Db, viewer: Overseer, ingest_id: str) -> Any:
    record = service.ingest_record(db, ingest_id)
    if record is None:
        raise HTTPException(404, "No such ingest")
    rows = service.quarantined_rows(db, ingest_id, actor=viewer.actor)
    return _page(
        request,
        "ingest.html",
        title=f"Ingest {ingest_id}",
        ingest=record,
        who=identity.staff_labeller(db, [record.actor]),
        rows=rows,
        files=", ".join(json.loads(record.files)),
        raw=lambda row: json.loads(row.raw),
    )


@router.post("/monitoring/run")
def run_now(request: Request, db: Db, viewer: Investigator) -> Any:
    """Run the detectors over the last 90 days (the command line takes any window), after checking the
    batches of stored accesses they read against the ledger, as `custodes monitor run` does by default."""
    end = utcnow()
    window = (end - timedelta(days=RUN_WINDOW_DAYS), end)
    try:
        summary = service.run(db, request.app.state.settings, viewer.actor, window, verify=True)
    except (service.CapacityError, service.DecidedMeanwhile, service.StoreBusy) as error:
        return _overview_page(request, db, viewer, problem=str(error), status_code=503)
    except service.StoreTampered as error:
        return _overview_page(request, db, viewer, problem=str(error), status_code=409)
    # Counted over the alerts this member of the unit may see, never the run's force-wide totals.
    touched, new = casework.run_alert_counts(db, viewer, [summary.run_id])[summary.run_id]
    return done_redirect(
        "/monitoring",
        f"Detectors run over {plural(summary.events, 'access', 'accesses')}: "
        f"{plural(touched, 'alert')} raised or added to, "
        f"{new:,} new.",
    )


# --------------------------------------------------------------------------- explaining one access

EXPLAIN_REFUSED = "Not explained. Please put right the form below:"


def _explain_page(
    request: Request,
    db: Db,
    viewer: Principal,
    *,
    found: service.AccessExplanation | None = None,
    problem: str | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Any:
    event = found.event if found else None
    return _page(
        request,
        "explain.html",
        status_code,
        title="Explain an access",
        found=found,
        event=event,
        who=identity.staff_labeller(db, [event["staff_id"]] if event else []),
        explanation_titles=EXPLANATION_TITLES,
        problem=problem,
        errors=errors or {},
        values=values or {},
    )


def _day_field(value: str, field: str, *, end: bool = False) -> datetime | None:
    """A form's date (YYYY-MM-DD) as the window's bound, as `monitor explain --from/--to` reads it: the
    start of that day (UTC), or for the last day the start of the next; "" for none."""
    if not value.strip():
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{field}: {value.strip()!r} is not a date (YYYY-MM-DD).") from None
    start = datetime.combine(day, time(), tzinfo=UTC)
    return start + timedelta(days=1) if end else start


@router.get("/monitoring/explain")
def explain_form(request: Request, db: Db, viewer: Investigator) -> Any:
    """The form: an access's event id and a reason (and, if the store is large, a window)."""
    return _explain_page(request, db, viewer)


@router.post("/monitoring/explain")
def explain_access(
    request: Request,
    db: Db,
    viewer: Investigator,
    event_id: Short = "",
    reason: Reason = "",
    start: Annotated[str, Form(alias="from", max_length=20)] = "",
    end: Annotated[str, Form(alias="to", max_length=20)] = "",
) -> Any:
    """The explanation of one access, or why none applies, with the rules it meets and the cases involving
    the person: what `custodes monitor explain` prints. Casework decides whether the viewer may see it (not an
    access by them or about them or people close to them, nor one whose alert still hides its member of
    staff from them); shown, it is a consultation of the people it names, recorded with the reason."""
    values = {"event_id": event_id, "reason": reason, "from": start, "to": end}
    settings = request.app.state.settings
    errors: dict[str, str] = {}
    window: list[datetime | None] = [None, None]
    for index, (field, value) in enumerate((("from", start), ("to", end))):
        try:
            window[index] = _day_field(value, "From" if field == "from" else "To", end=field == "to")
        except ValueError as error:
            errors[field] = str(error)
    try:
        with reading(request, db) as reader:
            try:
                cleaned = casework.may_explain_access(reader, settings, event_id, viewer, reason)
            except casework.FieldProblems as error:
                errors = {**error.fields, **errors}
                cleaned = ""
            if errors:
                return _explain_page(
                    request,
                    db,
                    viewer,
                    problem=EXPLAIN_REFUSED,
                    errors=errors,
                    values=values,
                    status_code=400,
                )
            found = service.explain(reader, settings, event_id.strip(), None, (window[0], window[1]))
    except NotFound as error:
        return _explain_page(request, db, viewer, problem=str(error), values=values, status_code=404)
    except (CaseworkError, service.OutsideWindow) as error:
        return _explain_page(request, db, viewer, problem=str(error), values=values, status_code=400)
    except service.CapacityError as error:
        return _explain_page(request, db, viewer, problem=str(error), values=values, status_code=503)
    if found is None:  # gone since it was checked (it cannot be: the store only grows)
        return _explain_page(
            request, db, viewer, problem=casework.NO_SUCH_ACCESS, values=values, status_code=404
        )
    service.explained_to(db, found, viewer.actor, f"{service.EXPLAINING}: {cleaned}")
    return _explain_page(request, db, viewer, found=found, values={**values, "reason": ""})
