"""Stop and search screens: what is imported, the report (as published), publications, supervisory samples.

Thin: parse the query or form, call stopsearch.service (where the rules are), render. The report screen shows
exactly what the publication shows (publication.report_view and the shared template _report.html).
References (SSR/001/26, SSS/001/26) travel in URLs with '-' for '/'.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import JSONResponse

from custodes.identity import service as identity
from custodes.identity.permissions import Permission
from custodes.identity.schemas import Principal
from custodes.stopsearch import publication, service
from custodes.stopsearch.analysis import shift_month
from custodes.stopsearch.forces import force_key
from custodes.stopsearch.publication import CENSUS_TITLES, ETHNICITY_TITLES, VOCABULARY_TITLES, month_title
from custodes.stopsearch.schemas import CENSUSES, ETHNICITY_SOURCES, GROUPS, ReportRequest
from custodes.web.deps import Db, require
from custodes.web.exports import attachment
from custodes.web.notices import done_redirect
from custodes.web.templating import render, uk_time
from custodes.workforce import service as workforce

router = APIRouter()

Viewer = Annotated[Principal, Depends(require(Permission.STOPSEARCH_VIEW))]
Manager = Annotated[Principal, Depends(require(Permission.STOPSEARCH_MANAGE))]
Reviewer = Annotated[Principal, Depends(require(Permission.STOPSEARCH_REVIEW))]
Short = Annotated[str, Form(max_length=100)]
Note = Annotated[str, Form(max_length=4000)]

_MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
DEFAULT_SAMPLE_SIZE = 103  # the inspectorate's sample (stopsearch.md)
RECORD_LABELS = (
    ("date", "Date"),
    ("type", "Type"),
    ("self_defined", "Self-defined ethnicity"),
    ("officer_defined", "Officer-defined ethnicity"),
    ("gender", "Gender"),
    ("age_range", "Age range"),
    ("legislation", "Legislation"),
    ("object", "Object of search"),
    ("drug_search_type", "Drug search type"),
    ("outcome", "Outcome"),
    ("officer_id", "Officer"),
    ("team", "Team"),
    ("body_worn_video", "Body-worn video"),
)


def url_ref(reference: str) -> str:
    return reference.replace("/", "-")


def _reference(segment: str) -> str:
    return segment.replace("-", "/")


def _page(request: Request, name: str, status_code: int = 200, **context: Any) -> Any:
    return render(
        request,
        f"stopsearch/{name}",
        status_code,
        month_title=month_title,
        url_ref=url_ref,
        census_titles=CENSUS_TITLES,
        ethnicity_titles=ETHNICITY_TITLES,
        force_title=service.force_name,
        **context,
    )


# --------------------------------------------------------------------------- what is imported


@router.get("/stopsearch")
def overview(request: Request, db: Db, viewer: Viewer) -> Any:
    forces = service.force_summaries(db)
    return _page(
        request,
        "overview.html",
        title="Stop and search",
        forces=forces,
        flags={force.force: service.data_flags(force) for force in forces},
        vocabulary_titles=VOCABULARY_TITLES,
        samples=service.samples(db)[:5],
        publications=service.publications(db)[:5],
        may_manage=viewer.can(Permission.STOPSEARCH_MANAGE),
    )


# --------------------------------------------------------------------------- the report


def _filters(params: Any, forces: list[service.ForceSummary]) -> dict[str, str]:
    """The report's filters from the query (or form), with defaults: the first force, its last 12 months."""
    force = (params.get("force") or "").strip()[:100]
    if not force and forces:
        force = forces[0].force
    chosen = next((f for f in forces if f.force == (force_key(force) or force)), None)
    period_to = (params.get("to") or "").strip()[:20]
    period_from = (params.get("from") or "").strip()[:20]
    if chosen and chosen.months:
        last = chosen.months[-1].month
        period_to = period_to or last
        if not period_from:
            first = shift_month(period_to, -11) if _MONTH.fullmatch(period_to) else last
            period_from = max(first, chosen.months[0].month)
    return {
        "force": force,
        "from": period_from,
        "to": period_to,
        "ethnicity": (params.get("ethnicity") or "self").strip()[:20],
        "population": (params.get("population") or "").strip()[:20],  # blank: the census nearest the period
    }


def _request(filters: dict[str, str]) -> ReportRequest:
    return ReportRequest(
        filters["force"], filters["from"], filters["to"], filters["ethnicity"], filters["population"]
    )


def _report_page(
    request: Request, db: Db, viewer: Principal, params: Any, *, problem: str | None = None
) -> Any:
    forces = service.force_summaries(db)
    filters = _filters(params, forces)
    view = None
    if forces and problem is None:
        try:
            report = service.report(db, request.app.state.settings, _request(filters))
        except service.ReportError as error:
            problem = str(error)
        else:
            name = service.force_name(report["force"])
            threshold = service.suppression_threshold(db)
            view = publication.report_view(report, force_name=name, threshold=threshold)
    return _page(
        request,
        "report.html",
        400 if problem else 200,
        title="Stop and search report",
        forces=forces,
        filters=filters,
        query=urlencode(filters),
        view=view,
        problem=problem,
        censuses=CENSUSES,
        ethnicities=ETHNICITY_SOURCES,
        may_publish=viewer.can(Permission.STOPSEARCH_MANAGE),
    )


@router.get("/stopsearch/report")
def report_screen(request: Request, db: Db, viewer: Viewer) -> Any:
    return _report_page(request, db, viewer, request.query_params)


@router.get("/stopsearch/report.pdf")
def report_pdf(request: Request, db: Db, viewer: Viewer) -> Any:
    forces = service.force_summaries(db)
    filters = _filters(request.query_params, forces)
    try:
        report = service.report(db, request.app.state.settings, _request(filters))
    except service.ReportError as error:
        return _report_page(request, db, viewer, request.query_params, problem=str(error))
    pdf = publication.render_pdf(
        report, force_name=service.force_name(report["force"]), threshold=service.suppression_threshold(db)
    )
    return attachment(
        pdf, "application/pdf", f"stop-search-{report['force']}-{report['from']}-{report['to']}.pdf"
    )


@router.get("/stopsearch/report.json")
def report_json(request: Request, db: Db, _viewer: Viewer) -> Any:
    filters = _filters(request.query_params, service.force_summaries(db))
    try:
        report = service.report(db, request.app.state.settings, _request(filters))
    except service.ReportError as error:
        return JSONResponse({"detail": str(error)}, status_code=400)
    return JSONResponse(report)


def _confirm_page(
    request: Request,
    db: Db,
    manager: Principal,
    filters: dict[str, str],
    *,
    reason: str = "",
    problem: str | None = None,
) -> Any:
    """What publishing will fix, exactly, and any publication of the same period and settings already made."""
    forces = service.force_summaries(db)
    report = None
    earlier: list[service.EarlierPublication] = []
    try:
        report = service.report(db, request.app.state.settings, _request(filters))
    except service.ReportError as error:
        problem = problem or str(error)
    else:
        earlier = service.same_publications(db, report)
    return _page(
        request,
        "publish.html",
        400 if problem else 200,
        title="Publish the stop and search report",
        forces=forces,
        filters=filters,
        query=urlencode(filters),
        report=report,
        earlier=earlier,
        who=_who(db, [e.published_by for e in earlier]),
        reason=reason,
        reason_limit=service.REISSUE_REASON_LIMIT,
        problem=problem,
    )


@router.get("/stopsearch/publish")
def confirm_publish(request: Request, db: Db, manager: Manager) -> Any:
    filters = _filters(request.query_params, service.force_summaries(db))
    return _confirm_page(request, db, manager, filters)


@router.post("/stopsearch/publish")
def publish(
    request: Request,
    db: Db,
    manager: Manager,
    force: Short = "",
    period_from: Annotated[str, Form(alias="from", max_length=20)] = "",
    period_to: Annotated[str, Form(alias="to", max_length=20)] = "",
    ethnicity: Short = "self",
    population: Short = "",
    reason: Annotated[str, Form(max_length=service.REISSUE_REASON_LIMIT + 1000)] = "",
) -> Any:
    filters = {"force": force, "from": period_from, "to": period_to, "ethnicity": ethnicity,
               "population": population}  # fmt: skip
    try:
        published = service.publish(
            db, request.app.state.settings, _request(filters), actor=manager.actor, reason=reason
        )
    except service.ReportError as error:
        return _confirm_page(request, db, manager, filters, reason=reason, problem=f"Not published: {error}")
    return done_redirect("/stopsearch/publications", f"Published {published.reference}.")


# --------------------------------------------------------------------------- publications


@router.get("/stopsearch/publications")
def publications(request: Request, db: Db, viewer: Viewer) -> Any:
    published = service.publications(db)
    return _page(
        request,
        "publications.html",
        title="Published stop and search reports",
        publications=published,
        reissues={p.reference: service.reissue(p) for p in published},
        who=_who(db, [p.published_by for p in published]),
        may_publish=viewer.can(Permission.STOPSEARCH_MANAGE),
    )


def _published(db: Db, segment: str) -> Any:
    found = service.publication(db, _reference(segment))
    if found is None:
        raise HTTPException(404, f"There is no published report {_reference(segment)}.")
    return found


@router.get("/stopsearch/publications/{publication_ref}.pdf")
def publication_pdf(db: Db, _viewer: Viewer, publication_ref: str) -> Any:
    found = _published(db, publication_ref)
    return attachment(found.pdf, "application/pdf", f"{url_ref(found.reference)}.pdf")


@router.get("/stopsearch/publications/{publication_ref}.html")
def publication_html(db: Db, _viewer: Viewer, publication_ref: str) -> Any:
    """A download: the document carries its own styles, which this site's content policy would refuse."""
    found = _published(db, publication_ref)
    return attachment(found.html.encode(), "text/html; charset=utf-8", f"{url_ref(found.reference)}.html")


# --------------------------------------------------------------------------- supervisory samples


def _samples_page(
    request: Request,
    db: Db,
    viewer: Principal,
    *,
    problem: str | None = None,
    values: dict[str, str] | None = None,
) -> Any:
    forces = service.force_summaries(db)
    defaults = _filters({}, forces)
    defaults.update(size=str(DEFAULT_SAMPLE_SIZE), seed=str(secrets.randbelow(1_000_000)), stratify="")
    drawn = service.samples(db)
    return _page(
        request,
        "samples.html",
        400 if problem else 200,
        title="Supervisory samples",
        samples=drawn,
        who=_who(db, [s.drawn_by for s in drawn]),
        forces=forces,
        values=values or defaults,
        problem=problem,
        may_draw=viewer.can(Permission.STOPSEARCH_MANAGE),
    )


@router.get("/stopsearch/samples")
def samples(request: Request, db: Db, viewer: Viewer) -> Any:
    return _samples_page(request, db, viewer)


@router.post("/stopsearch/samples")
def draw_sample(
    request: Request,
    db: Db,
    manager: Manager,
    force: Short = "",
    period_from: Annotated[str, Form(alias="from", max_length=20)] = "",
    period_to: Annotated[str, Form(alias="to", max_length=20)] = "",
    size: Short = "",
    seed: Short = "",
    stratify: Short = "",
) -> Any:
    values = {"force": force, "from": period_from, "to": period_to, "size": size, "seed": seed,
              "stratify": stratify}  # fmt: skip
    numbers = {}
    for name, text, low in (("size", size, 1), ("seed", seed, 0)):
        try:
            numbers[name] = int(text.strip())
        except ValueError:
            numbers[name] = -1
        if numbers[name] < low or numbers[name] > 2**31 - 1:
            problem = (
                "Number of searches: give a whole number of at least 1."
                if name == "size"
                else "Seed: give a whole number (0 or more)."
            )
            return _samples_page(request, db, manager, problem=problem, values=values)
    try:
        sample = service.draw_sample(
            db,
            request.app.state.settings,
            force=force,
            period_from=period_from,
            period_to=period_to,
            size=numbers["size"],
            seed=numbers["seed"],
            stratify="ethnicity" if stratify == "ethnicity" else None,
            actor=manager.actor,
        )
    except service.ReportError as error:
        return _samples_page(request, db, manager, problem=f"No sample drawn: {error}", values=values)
    return done_redirect(
        f"/stopsearch/samples/{url_ref(sample.reference)}",
        f"Sample {sample.reference} drawn: {sample.size:,} of {sample.population_size:,} person searches.",
    )


def _sample_page(
    request: Request, db: Db, viewer: Principal, segment: str, *, problem: str | None = None
) -> Any:
    detail = service.sample_detail(db, _reference(segment), actor=viewer.actor)
    if detail is None:
        raise HTTPException(404, f"There is no sample {_reference(segment)}.")
    sample, items = detail
    show = request.query_params.get("show", "all")
    show = show if show in ("all", "todo") else "all"
    reviewed = [item for item in items if item.grounds_recorded is not None]
    teams = workforce.team_labeller(db)
    return _page(
        request,
        "sample.html",
        400 if problem else 200,
        title=f"Sample {sample.reference}",
        sample=sample,
        who=_who(db, [sample.drawn_by, *(item.reviewed_by for item in items)]),
        items=[item for item in items if show == "all" or item.grounds_recorded is None],
        total=len(items),
        reviewed=len(reviewed),
        recorded=sum(1 for item in reviewed if item.grounds_recorded),
        strong=sum(1 for item in reviewed if item.grounds_strong),
        show=show,
        record=lambda item: _record_rows(service.record(item), teams),
        grounds=lambda item: service.record(item).get("grounds"),
        problem=problem,
        may_review=viewer.can(Permission.STOPSEARCH_REVIEW),
        groups=GROUPS,
    )


_YES_NO = {"true": "Yes", "1": "Yes", "yes": "Yes", "false": "No", "0": "No", "no": "No"}


def _record_rows(record: dict[str, Any], team: Callable[[str | None], str]) -> list[tuple[str, str]]:
    """A sampled record's facts as read: the team by its name, yes/no in words, the date as every screen
    writes it."""
    rows = []
    for key, label in RECORD_LABELS:
        value = record.get(key)
        if value is None or value == "":
            continue
        if key == "date":
            shown = _when(str(value))
        elif key == "team":
            shown = team(str(value))
        elif key == "body_worn_video":
            shown = _YES_NO.get(str(value).strip().lower(), str(value))
        else:
            shown = str(value)
        rows.append((label, shown))
    return rows


def _when(text: str) -> str:
    """data.police.uk's 2019-01-21T19:08:00+00:00 as 21 Jan 2019 19:08 (London)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    return uk_time(moment)


def _who(db: Db, actors: Iterable[str | None]) -> Callable[[str | None], str]:
    """Staff by name with their number; a component as the audit screens write it, "system: demo"."""
    staff = identity.staff_labeller(db, actors)

    def who(actor: str | None) -> str:
        kind, _, name = (actor or "").partition(":")
        return staff(actor) if kind in ("staff", "") or not name else f"{kind}: {name}"

    return who


@router.get("/stopsearch/samples/{sample_ref}")
def sample(request: Request, db: Db, viewer: Viewer, sample_ref: str) -> Any:
    return _sample_page(request, db, viewer, sample_ref)


@router.post("/stopsearch/samples/{sample_ref}/items/{position}")
def review_item(
    request: Request,
    db: Db,
    reviewer: Reviewer,
    sample_ref: str,
    position: int,
    recorded: Short = "",
    strong: Short = "",
    note: Note = "",
) -> Any:
    if recorded not in ("yes", "no"):
        return _sample_page(
            request, db, reviewer, sample_ref,
            problem=f"Record {position}: say whether reasonable grounds were recorded (yes or no).",
        )  # fmt: skip
    if recorded == "yes" and strong not in ("yes", "no"):
        return _sample_page(
            request, db, reviewer, sample_ref,
            problem=f"Record {position}: say whether the grounds recorded were strong (yes or no).",
        )  # fmt: skip
    try:
        service.record_review(
            db,
            _reference(sample_ref),
            position,
            recorded=recorded == "yes",
            strong=(strong == "yes") if recorded == "yes" else None,
            note=note,
            actor=reviewer.actor,
        )
    except service.ReportError as error:
        return _sample_page(request, db, reviewer, sample_ref, problem=f"Record {position}: {error}.")
    return done_redirect(
        f"/stopsearch/samples/{sample_ref}",
        f"Record {position} reviewed.",
        anchor=f"#item-{position + 1}",
    )
