"""Workforce screens: a member of staff's own record; training, vetting and declarations (issue 4)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date
from typing import Annotated, Any, TypedDict
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import Response

from custodes.identity import service as identity_service
from custodes.identity.permissions import ROLE_TITLES, Permission
from custodes.identity.schemas import Principal
from custodes.kit.db import utcnow
from custodes.kit.pdf import html_to_pdf
from custodes.kit.timefmt import london_day
from custodes.web.deps import Db, require
from custodes.web.exports import attachment, csv_download
from custodes.web.notices import done_redirect
from custodes.web.templating import environment, render
from custodes.workforce import charts, gate
from custodes.workforce import service as workforce
from custodes.workforce.schemas import (
    ETHNICITY_GROUPS,
    PUBLISHABLE,
    DeclarationDetail,
    DeclarationEvent,
    DeclarationForm,
    DeclarationKind,
    DeclarationStatus,
    PublishedDeclaration,
    Relationship,
    TrainingState,
    VettingStatus,
)

router = APIRouter()


@router.get("/me")
def my_record(
    request: Request, db: Db, principal: Annotated[Principal, Depends(require(Permission.SELF_VIEW))]
) -> Any:
    staff = workforce.view_staff(db, principal.staff_id, actor=principal.actor, justification="own record")
    on = london_day(utcnow())
    return render(
        request,
        "my_record.html",
        title="My record",
        staff=staff,
        area=identity_service.area_labeller(db),
        team=workforce.team_labeller(db),
        role_titles=[ROLE_TITLES[r] for r in sorted(principal.roles)],
        # Training, vetting and declarations (issue 4): one's own, so not logged.
        training=workforce.training_record(db, principal.staff_id, on),
        vetting=workforce.vetting_record(db, principal.staff_id),
        # What has lapsed or lapses within 30 days, with what to do and what it stops, under its row.
        steps={(s.kind, s.key): s for s in workforce.my_next_steps(db, principal.staff_id, on)},
        declarations=workforce.my_declarations(db, principal.staff_id),
        referrals=gate.my_referrals(db, principal.staff_id),  # the gate names this page: it links there
        kind_titles=KIND_TITLES,
        outcome_title=workforce.outcome_title,
        day=_day,
        today=on,
    )


# --------------------------------------------------------------------------- training, vetting, declarations
# Issue 4 items 1–3: the training dashboard, vetting oversight, declarations and their registers.

TrainingViewer = Annotated[Principal, Depends(require(Permission.TRAINING_VIEW))]
VettingViewer = Annotated[Principal, Depends(require(Permission.VETTING_VIEW))]
RegisterHolder = Annotated[Principal, Depends(require(Permission.WORKFORCE_REGISTERS))]
Decider = Annotated[Principal, Depends(require(Permission.DECLARATIONS_DECIDE))]
# Making and following one's own declarations; who may see a given declaration is the service's rule.
Declarer = Annotated[Principal, Depends(require(Permission.SELF_VIEW))]
Text = Annotated[str, Form(max_length=4000)]


def _posted_declaration(
    kind: Text = "",
    subject_id: Text = "",
    surname: Text = "",
    forenames: Text = "",
    date_of_birth: Text = "",
    postcode: Text = "",
    relationship: Text = "",
    description: Text = "",
    organisation: Text = "",
    value_pounds: Text = "",
    gift_accepted: Text = "",
    name_only: Text = "",
) -> DeclarationForm:
    """The declaration form's fields as posted (made, or corrected), for the service to check."""
    return DeclarationForm(
        kind,
        subject_id,
        surname,
        forenames,
        date_of_birth,
        postcode,
        relationship,
        description,
        organisation,
        value_pounds,
        gift_accepted,
        name_only,
    )


PostedDeclaration = Annotated[DeclarationForm, Depends(_posted_declaration)]

KIND_TITLES = {
    DeclarationKind.CONFLICT_OF_INTEREST.value: "Conflict of interest",
    DeclarationKind.REPORTABLE_ASSOCIATION.value: "Reportable association",
    DeclarationKind.BUSINESS_INTEREST.value: "Business interest",
    DeclarationKind.GIFT_HOSPITALITY.value: "Gift or hospitality",
}
REGISTER_TITLES = {
    "": "All declarations",
    DeclarationKind.CONFLICT_OF_INTEREST.value: "Conflicts of interest",
    DeclarationKind.REPORTABLE_ASSOCIATION.value: "Reportable associations",
    DeclarationKind.BUSINESS_INTEREST.value: "Business interests",
    DeclarationKind.GIFT_HOSPITALITY.value: "Gifts and hospitality",
}
RELATIONSHIP_TITLES = {
    Relationship.NEIGHBOUR.value: "Neighbour",
    Relationship.RELATIVE.value: "Relative (family)",
    Relationship.PARTNER.value: "Partner",
    Relationship.EX_PARTNER.value: "Former partner",
    Relationship.FRIEND.value: "Friend",
    Relationship.ACQUAINTANCE.value: "Acquaintance (e.g. a friend of a friend, same pub or club)",
    Relationship.BUSINESS.value: "Business or work contact",
    Relationship.OTHER.value: "Other (explain below)",
}
OUTCOME_BADGES = {
    DeclarationStatus.AWAITING.value: "warn",
    DeclarationStatus.APPROVED.value: "ok",
    DeclarationStatus.APPROVED_WITH_CONDITIONS.value: "ok",
    DeclarationStatus.REJECTED.value: "bad",
}
FIELD_LABELS = {
    "kind": "What you are declaring",
    "subject_id": "Their record id",
    "surname": "Their surname",
    "forenames": "Their forenames",
    "date_of_birth": "Their date of birth",
    "postcode": "Their postcode",
    "relationship": "How you know them",
    "description": "Details",  # on the form, the label of its kind (description_label)
    "organisation": "Business or organisation",
    "value_pounds": "Value (£)",
    "gift_accepted": "Accepted or declined",
    "staff_id": "Staff register",
    "outcome": "Decision",
    "conditions": "Conditions",
    "reasons": "Reasons",
    "review_on": "Review date",
    "withdrawal_reason": "Why you want to withdraw it",
    "withdrawal_outcome": "Your decision on the request",
    "withdrawal_reasons": "Your reasons",
}
STATE_TITLES = {
    TrainingState.CURRENT: "Current",
    TrainingState.DUE_SOON: "Due soon",
    TrainingState.OUT_OF_DATE: "Out of date",
}
STATE_BADGES = {TrainingState.CURRENT: "ok", TrainingState.DUE_SOON: "warn", TrainingState.OUT_OF_DATE: "bad"}
VETTING_STAGES = {VettingStatus.APPLIED.value: "Applied", VettingStatus.IN_PROGRESS.value: "In progress"}
DISPARITY_METHOD = (
    "Refusal rate = refusals ÷ decisions (granted or refused) decided in the period. Ratio = a group's "
    "refusal rate ÷ the reference group's. 95% confidence interval by Katz's log method: "
    "exp(ln ratio ± 1.96 × √(1/a − 1/n₁ + 1/c − 1/n₀)), where a of n₁ were refused in the group and c of n₀ "
    "in the reference group. An interval wholly above 1 means that group is refused more often than the "
    "reference group by more than chance would explain; one that contains 1 shows no clear difference."
)


def _day(value: date | None) -> str:
    return f"{value.day} {value:%b %Y}" if value else "—"


def _number(value: str | None, default: int, low: int, high: int) -> int:
    try:
        return max(low, min(high, int(value))) if value else default
    except ValueError:
        return default


def _date(value: str | None, default: date) -> date:
    try:
        return date.fromisoformat(value) if value else default
    except ValueError:
        return default


def _pdf(
    request: Request, principal: Principal | None, name: str, title: str, sections: list[dict[str, Any]]
) -> Response:
    html = environment.get_template("workforce/report_pdf.html").render(
        title=title,
        sections=sections,
        principal=principal,
        generated=utcnow(),
        force_name=request.app.state.settings.force_name,
        today=london_day(utcnow()),
    )
    return attachment(html_to_pdf(html), "application/pdf", name)


def _page(request: Request, name: str, status_code: int = 200, **context: Any) -> Any:
    return render(
        request,
        f"workforce/{name}",
        status_code,
        day=_day,
        kind_titles=KIND_TITLES,
        relationship_titles=RELATIONSHIP_TITLES,
        outcome_title=workforce.outcome_title,
        outcome_badges=OUTCOME_BADGES,
        state_titles=STATE_TITLES,
        state_badges=STATE_BADGES,
        **context,
    )


# --------------------------------------------------------------------------- training


# Where training and vetting records come from (no screen records them), and who puts one right.
RECORDS_SOURCE = {
    "training": (
        "Training completions come from the force's training system: they reach Custodes when its records "
        "are imported (custodes import training FILE). To correct one, contact the people who import "
        "them: your force's HR and training team."
    ),
    "vetting": (
        "Vetting decisions come from the force vetting unit's records: they reach Custodes when those are "
        "imported (custodes import vetting FILE). To correct one, contact the people who import them: the "
        "force vetting unit, or your HR team."
    ),
}


def _source(db: Db, kind: str) -> dict[str, Any]:
    return {"text": RECORDS_SOURCE[kind], "last": workforce.records_last_changed(db)[kind], "kind": kind}


@router.get("/training")
def training_dashboard(request: Request, db: Db, viewer: TrainingViewer) -> Any:
    on = london_day(utcnow())
    within = _number(request.query_params.get("within"), 60, 0, 366)
    # A line manager's own people first, with their vetting (names shown: logged by the services).
    mine = workforce.line_report_training(db, viewer.staff_id, on, within, actor=viewer.actor)
    return _page(
        request,
        "training.html",
        title="Training compliance",
        board=workforce.training_dashboard(db, on, within),
        team=workforce.team_labeller(db),
        area=identity_service.area_labeller(db),
        within=within,
        today=on,
        mine=mine,
        vetting=workforce.visible_vetting(db, viewer, [m.staff_id for m in mine], on) if mine else {},
        source=_source(db, "training"),
    )


@router.get("/training/chart.svg")
def training_chart(request: Request, db: Db, _viewer: TrainingViewer) -> Any:
    within = _number(request.query_params.get("within"), 60, 0, 366)
    board = workforce.training_dashboard(db, london_day(utcnow()), within)
    return Response(
        charts.compliance_svg(board, identity_service.area_labeller(db)), media_type="image/svg+xml"
    )


@router.get("/training/teams/{team_id}")
def training_team(request: Request, db: Db, viewer: TrainingViewer, team_id: str) -> Any:
    on = london_day(utcnow())
    within = _number(request.query_params.get("within"), 60, 0, 366)
    members = workforce.team_training(db, team_id, on, within, actor=viewer.actor)
    teams = workforce.team_labeller(db)
    # "North Division Response Team A (NA-RESP1)" once named, "team NA-RESP1" until then
    heading = teams(team_id) if teams.named(team_id) else f"team {team_id}"
    return _page(
        request,
        "training_team.html",
        title=f"Training: {heading}",
        team_id=team_id,
        heading=heading,
        members=members,
        within=within,
        today=on,
        counts={state: sum(1 for m in members if m.state == state) for state in TrainingState},
        # Vetting beside training: everyone's to the vetting viewers, one's own people's to a line manager.
        vetting=workforce.visible_vetting(db, viewer, [m.staff_id for m in members], on),
        source=_source(db, "training"),
    )


# --------------------------------------------------------------------------- vetting


def _vetting_context(request: Request, db: Db, viewer: Principal) -> dict[str, Any]:
    on = london_day(utcnow())
    params = request.query_params
    within = _number(params.get("within"), 90, 0, 730)
    since = _date(params.get("since"), workforce.add_months(on, -60))  # five years (29 Feb: 28 Feb)
    until = _date(params.get("until"), on)
    reference = params.get("reference", "White")
    if reference not in ETHNICITY_GROUPS:
        reference = "White"
    return {
        "today": on,
        "within": within,
        "since": since,
        "until": until,
        "reference": reference,
        "groups": ETHNICITY_GROUPS,
        "renewals": workforce.renewals_due(db, on, within, actor=viewer.actor),
        "backlog": workforce.vetting_backlog(db, on, actor=viewer.actor),
        "disparity": workforce.vetting_disparity(db, since, until, reference),
        "stages": VETTING_STAGES,
        "method": DISPARITY_METHOD,
        "team": workforce.team_labeller(db),
        "source": _source(db, "vetting"),
    }


@router.get("/vetting")
def vetting_overview(request: Request, db: Db, viewer: VettingViewer) -> Any:
    return _page(request, "vetting.html", title="Vetting", **_vetting_context(request, db, viewer))


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def _ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


@router.get("/vetting/export.pdf")
def vetting_pdf(request: Request, db: Db, viewer: VettingViewer) -> Any:
    c = _vetting_context(request, db, viewer)
    table = c["disparity"]
    disparity = {
        "heading": f"Refusal rates by group, {_day(table.since)} to {_day(table.until)}",
        "facts": [
            ("Reference group", table.reference),
            ("Small-number suppression", f"figures based on fewer than {table.threshold} are not shown"),
            ("Decisions with no group recorded", f"{table.not_recorded} (counted, not compared)"),
        ],
        "columns": ["Group", "Decisions", "Refused", "Refusal rate", "Ratio", "95% interval", "Reading"],
        "rows": [
            [
                r.group,
                r.decisions,
                r.refused,
                _pct(r.rate),
                _ratio(r.ratio),
                f"{_ratio(r.low)} – {_ratio(r.high)}" if r.low is not None else "—",
                r.note or r.reading,
            ]
            for r in table.rows
        ],
        "notes": [DISPARITY_METHOD],
    }
    backlog = c["backlog"]
    backlog_section = {
        "heading": f"Backlog: {backlog.total} open applications by stage and age",
        "columns": ["Stage", *backlog.bands, "Total"],
        "rows": [[VETTING_STAGES.get(stage, stage), *row, sum(row)] for stage, row in backlog.counts.items()],
    }
    oldest = {
        "heading": "Oldest open applications",
        "columns": ["Name", "Staff id", "Team", "Level", "Stage", "Applied", "Age (days)"],
        "rows": [
            [
                b.name,
                b.staff_id,
                c["team"](b.team_id),
                b.level,
                VETTING_STAGES.get(b.status, b.status),
                _day(b.applied_on),
                b.age_days,
            ]
            for b in backlog.oldest
        ],
    }
    renewals = {
        "heading": f"Renewals due within {c['within']} days (and overdue)",
        "columns": ["Name", "Staff id", "Team", "Level", "Expires", "Days left", "Renewal applied"],
        "rows": [
            [
                r.name,
                r.staff_id,
                c["team"](r.team_id),
                r.level,
                _day(r.expires_on),
                r.days_left,
                "Yes" if r.renewal_applied else "No",
            ]
            for r in c["renewals"]
        ],
    }
    return _pdf(
        request,
        viewer,
        "custodes-vetting.pdf",
        "Vetting report",
        [disparity, backlog_section, oldest, renewals],
    )


@router.get("/vetting/renewals.csv")
def vetting_renewals_csv(request: Request, db: Db, viewer: VettingViewer) -> Any:
    on = london_day(utcnow())
    within = _number(request.query_params.get("within"), 90, 0, 730)
    rows = workforce.renewals_due(db, on, within, actor=viewer.actor)
    names = workforce.team_names(db)
    header = [
        "staff_id",
        "name",
        "team_id",
        "team_name",  # beside the id (machines match on that): blank until the team register names it
        "area_code",
        "level",
        "expires_on",
        "days_left",
        "renewal_applied",
    ]
    return csv_download(
        "custodes-vetting-renewals.csv",
        header,
        (
            [
                *(r.staff_id, r.name, r.team_id, _team_name(names, r.team_id), r.area_code, r.level),
                *(r.expires_on, r.days_left, "true" if r.renewal_applied else "false"),
            ]
            for r in rows
        ),
    )


def _team_name(names: Mapping[str, str], team_id: str | None) -> str | None:
    """A CSV's `team_name` cell: the team register's name for the team, blank if it has none."""
    return names.get(team_id) if team_id else None


# --------------------------------------------------------------------------- declarations: making one


EVENT_WORDS = {
    DeclarationEvent.CORRECTED.value: "Corrected before the decision",
    DeclarationEvent.WITHDRAWAL_REQUESTED.value: "Withdrawal asked for",
    DeclarationEvent.WITHDRAWAL_ACCEPTED.value: "Withdrawal accepted",
    DeclarationEvent.WITHDRAWAL_REFUSED.value: "Withdrawal refused",
    DeclarationEvent.UPDATE_SENT.value: "Update sent",
    DeclarationEvent.REPLACED.value: "Replaced, the update approved",
    DeclarationEvent.UPDATE_REJECTED.value: "Update rejected",
}
# The description field's label on the form, by kind: problems with it are named the same way.
DESCRIPTION_LABELS = {
    DeclarationKind.CONFLICT_OF_INTEREST.value: "The nature and extent of the conflict",
    DeclarationKind.REPORTABLE_ASSOCIATION.value: "The nature and extent of the association",
    DeclarationKind.BUSINESS_INTEREST.value: "What the interest is",
    DeclarationKind.GIFT_HOSPITALITY.value: "What was offered, and why",
}


def _labels(kind: str) -> dict[str, str]:
    return {**FIELD_LABELS, "description": DESCRIPTION_LABELS.get(kind, FIELD_LABELS["description"])}


def _form_values(form: DeclarationForm) -> dict[str, str]:
    return {name: getattr(form, name) for name in DeclarationForm.__dataclass_fields__}


def _declaration_form(
    request: Request,
    form: DeclarationForm,
    problems: Sequence[tuple[str, str]] = (),
    *,
    correcting: str | None = None,
    replaces: str | None = None,
) -> Any:
    """The declaration form: a new declaration, a correction of one awaiting its decision (`correcting`),
    or an update of a decided one that replaces it (`replaces`), prefilled and of the same kind."""
    if correcting:
        title, action = f"Correct your declaration {correcting}", f"/declarations/{correcting}/correct"
    elif replaces:
        title, action = f"Update your declaration {replaces}", "/declarations"
    else:
        title, action = "Make a declaration", "/declarations"
    return _page(
        request,
        "declaration_form.html",
        400 if problems else 200,
        title=title,
        action=action,
        correcting=correcting,
        replaces=replaces,
        values=_form_values(form),
        problems=[(_labels(form.kind).get(f, f), p) for f, p in problems],
        wrong={f for f, _p in problems},
        kinds=KIND_TITLES,
    )


@router.get("/declarations")
def my_declarations(request: Request, db: Db, principal: Declarer) -> Any:
    return _page(
        request,
        "declarations.html",
        title="My declarations",
        rows=workforce.my_declarations(db, principal.staff_id),
        can_decide=principal.can(Permission.DECLARATIONS_DECIDE),
    )


@router.get("/declarations/new")
def new_declaration(request: Request, db: Db, principal: Declarer) -> Any:
    replaces = request.query_params.get("replaces", "")
    if replaces:  # "Update these details": a new declaration prefilled from this one, replacing it
        try:
            form = workforce.form_of(db, replaces, principal)
        except workforce.DeclarationError:
            raise HTTPException(404, "There is no such declaration, or it is not yours to see.") from None
        return _declaration_form(request, form, replaces=replaces)
    kind = request.query_params.get("kind", "")
    return _declaration_form(request, DeclarationForm(kind=kind if kind in KIND_TITLES else ""))


@router.post("/declarations")
def make_declaration(
    request: Request,
    db: Db,
    principal: Declarer,
    form: PostedDeclaration,
    replaces: Text = "",
) -> Any:
    try:
        declaration_id = workforce.make_declaration(
            db, principal.staff_id, form, actor=principal.actor, replaces=replaces or None
        )
    except workforce.DeclarationProblems as error:
        return _declaration_form(request, form, error.problems, replaces=replaces or None)
    except workforce.DeclarationError as error:
        target = f"/declarations/{replaces}" if replaces else "/declarations"
        return done_redirect(target, str(error))
    if replaces:
        return done_redirect(
            f"/declarations/{declaration_id}",
            f"Your update is sent to your line manager. Your declaration {replaces} stays in force until "
            "they decide this one: if they approve it, that one is marked replaced; if they reject it, that "
            "one stays in force as it stands.",
        )
    return done_redirect(
        f"/declarations/{declaration_id}", "Declaration made. Your line manager will decide on it."
    )


# --------------------------------------------------------------------------- declarations: deciding


@router.get("/declarations/queue")
def declaration_queue(request: Request, db: Db, principal: Decider) -> Any:
    on = london_day(utcnow())
    awaiting, reviews = workforce.decision_queue(db, principal, on)
    return _page(
        request,
        "declaration_queue.html",
        title="Declarations to decide",
        awaiting=awaiting,
        reviews=reviews,
        today=on,
    )


# --------------------------------------------------------------------------- declarations: registers


def _register_query(request: Request) -> tuple[str, str]:
    kind = request.query_params.get("kind", "")
    return (kind if kind in KIND_TITLES else ""), request.query_params.get("q", "").strip()[:200]


REGISTER_PAGE = 50
REGISTER_STATUSES = {
    **{status.value: workforce.outcome_title(status.value) for status in DeclarationStatus},
    workforce.RECORDED: "Recorded (no decision needed)",
}


class _Filters(TypedDict):
    status: str
    area: str
    review: str


def _chosen(filters: dict[str, str]) -> _Filters:
    return {"status": filters["status"], "area": filters["area"], "review": filters["review"]}


def _register_filters(request: Request) -> dict[str, str]:
    """The register's filters as chosen (status, area, review due); anything unknown is ignored."""
    params = request.query_params
    status, review = params.get("status", ""), params.get("review", "")
    area = params.get("area", "").strip().upper()[:8]
    return {
        "status": status if status in REGISTER_STATUSES else "",
        "area": area if area.isalnum() else "",
        "review": review if review in workforce.REGISTER_REVIEWS else "",
    }


def _register_cells(
    d: DeclarationDetail,
    team: workforce.TeamLabeller | None = None,
    names: Mapping[str, str] | None = None,
) -> list[Any]:
    """A register line; with `team` (the PDF), the team by its name as well as its id in one cell; with
    `names` (the CSV), the id in one cell (for matching with other data) and the name, blank if the team
    is not named, in the next."""
    teams: list[str | None]
    if team:
        teams = [team(d.team_id)]
    else:
        teams = [d.team_id] if names is None else [d.team_id, _team_name(names, d.team_id)]
    return [
        d.declaration_id,
        london_day(d.declared_at),
        d.staff_id,
        d.staff_name,
        *teams,
        KIND_TITLES.get(d.kind, d.kind),
        d.person_name or d.subject_id,
        RELATIONSHIP_TITLES.get(d.relationship or "", d.relationship),
        d.organisation,
        d.value_pounds,
        d.description,
        workforce.outcome_title(d.status),
        d.conditions,
        d.review_on,
    ]


REGISTER_COLUMNS = [
    "Declaration",
    "Declared",
    "Staff id",
    "Name",
    "Team",
    "Kind",
    "Person declared",
    "Relationship",
    "Organisation",
    "Value (£)",
    "Details",
    "Decision",
    "Conditions",
    "Review",
]


@router.get("/declarations/register")
def declaration_register(request: Request, db: Db, holder: RegisterHolder) -> Any:
    kind, text = _register_query(request)
    filters = _register_filters(request)
    try:
        page = max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        page = 1
    rows, total = workforce.declaration_register(
        db,
        kind,
        text,
        actor=holder.actor,
        limit=REGISTER_PAGE,
        offset=(page - 1) * REGISTER_PAGE,
        **_chosen(filters),
    )
    chosen = {"kind": kind, "q": text, **filters}
    return _page(
        request,
        "declaration_register.html",
        title=REGISTER_TITLES[kind],
        rows=rows,
        total=total,
        kind=kind,
        q=text,
        filters=filters,
        statuses=REGISTER_STATUSES,
        reviews=workforce.REGISTER_REVIEWS,
        areas=workforce.staff_areas(db),
        area=identity_service.area_labeller(db),
        team=workforce.team_labeller(db),
        page=page,
        pages=max(1, (total + REGISTER_PAGE - 1) // REGISTER_PAGE),
        first=(page - 1) * REGISTER_PAGE + 1,
        registers=REGISTER_TITLES,
        query=urlencode({k: v for k, v in chosen.items() if v}),
        publishable=PUBLISHABLE,
    )


@router.get("/declarations/register/export.csv")
def declaration_register_csv(request: Request, db: Db, holder: RegisterHolder) -> Any:
    kind, text = _register_query(request)
    filters = _register_filters(request)
    rows, _total = workforce.declaration_register(
        db, kind, text, actor=holder.actor, limit=100_000, **_chosen(filters)
    )
    names = workforce.team_names(db)
    header = [
        "declaration_id",
        "declared_on",
        "staff_id",
        "name",
        "team_id",
        "team_name",
        "kind",
        "person_declared",
        "relationship",
        "organisation",
        "value_pounds",
        "details",
        "decision",
        "conditions",
        "review_on",
    ]
    return csv_download(
        f"custodes-declarations-{kind or 'all'}.csv",
        header,
        (_register_cells(d, names=names) for d in rows),
    )


@router.get("/declarations/register/export.pdf")
def declaration_register_pdf(request: Request, db: Db, holder: RegisterHolder) -> Any:
    kind, text = _register_query(request)
    filters = _register_filters(request)
    rows, _total = workforce.declaration_register(
        db, kind, text, actor=holder.actor, limit=100_000, **_chosen(filters)
    )
    teams = workforce.team_labeller(db)
    cells = [[_day(c) if isinstance(c, date) else c for c in _register_cells(d, teams)] for d in rows]
    section = {
        "heading": REGISTER_TITLES[kind] + (f" matching “{text}”" if text else ""),
        "columns": REGISTER_COLUMNS,
        "rows": cells,
        "notes": [
            "Contains personal data: OFFICIAL-SENSITIVE. Producing this register is recorded in the ledger."
        ],
    }
    return _pdf(
        request, holder, f"custodes-declarations-{kind or 'all'}.pdf", "Declarations register", [section]
    )


def _published(register: str) -> tuple[str, DeclarationKind]:
    kind = PUBLISHABLE.get(register)
    if kind is None:
        raise HTTPException(
            404, "Only the gifts-and-hospitality and business-interests registers are published."
        )
    return REGISTER_TITLES[kind.value], kind


PUBLISHED_COLUMNS = {
    DeclarationKind.GIFT_HOSPITALITY: [
        "Date",
        "Area",
        "Offered by",
        "What was offered",
        "Value (£)",
        "Accepted?",
        "Decision",
    ],
    DeclarationKind.BUSINESS_INTEREST: ["Date", "Area", "Business or organisation", "Interest", "Decision"],
}


def _published_cells(kind: DeclarationKind, row: PublishedDeclaration, *, pdf: bool = False) -> list[Any]:
    declared = _day(row.declared_on) if pdf else row.declared_on
    if kind == DeclarationKind.GIFT_HOSPITALITY:
        accepted = None if row.gift_accepted is None else ("Accepted" if row.gift_accepted else "Declined")
        return [
            declared,
            row.area_code,
            row.organisation,
            row.description,
            row.value_pounds,
            accepted,
            row.outcome,
        ]
    return [declared, row.area_code, row.organisation, row.description, row.outcome]


@router.get("/declarations/published/{register}")
def published_register(request: Request, db: Db, _holder: RegisterHolder, register: str) -> Any:
    title, kind = _published(register)
    rows = workforce.published_register(db, kind)
    return _page(
        request,
        "published_register.html",
        title=f"{title} (for publication)",
        heading=title,
        register=register,
        columns=PUBLISHED_COLUMNS[kind],
        rows=[_published_cells(kind, r, pdf=True) for r in rows],
    )


@router.get("/declarations/published/{register}/export.csv")
def published_register_csv(db: Db, _holder: RegisterHolder, register: str) -> Any:
    _title, kind = _published(register)
    rows = workforce.published_register(db, kind)
    header = [
        c.lower().replace(" ", "_").replace("(£)", "pounds").replace("?", "") for c in PUBLISHED_COLUMNS[kind]
    ]
    return csv_download(f"{register}-register.csv", header, (_published_cells(kind, r) for r in rows))


@router.get("/declarations/published/{register}/export.pdf")
def published_register_pdf(request: Request, db: Db, _holder: RegisterHolder, register: str) -> Any:
    title, kind = _published(register)
    rows = workforce.published_register(db, kind)
    section = {
        "heading": title,
        "columns": PUBLISHED_COLUMNS[kind],
        "rows": [_published_cells(kind, r, pdf=True) for r in rows],
        "notes": ["Personal details (names, staff numbers, teams) have been removed for publication."],
    }
    return _pdf(request, None, f"{register}-register.pdf", f"{title} register", [section])


# ----------------------------------------------------------- one declaration (after the fixed paths)


def _declaration_or_404(db: Db, declaration_id: str, principal: Principal) -> DeclarationDetail:
    try:
        return workforce.view_declaration(db, declaration_id, principal)
    except workforce.DeclarationError:
        raise HTTPException(404, "There is no such declaration, or it is not yours to see.") from None


def _declaration_page(
    request: Request,
    db: Db,
    principal: Principal,
    detail: DeclarationDetail,
    values: dict[str, str] | None = None,
    problems: Sequence[tuple[str, str]] = (),
    problems_for: str = "decide",
) -> Any:
    own = detail.staff_id == principal.staff_id
    can_decide = workforce.may_decide(detail, principal)
    # The menu marks where the page belongs: one's own under "Declarations", a team member's (to decide or
    # to review) under "Decide declarations", anyone else's under "Registers" — the path alone always said
    # "Declarations".
    nav_path = None
    if (
        not own
        and principal.can(Permission.DECLARATIONS_DECIDE)
        and detail.line_manager_id == principal.staff_id
    ):
        nav_path = "/declarations/queue"
    elif not own and principal.can(Permission.WORKFORCE_REGISTERS):
        nav_path = "/declarations/register"
    return _page(
        request,
        "declaration.html",
        400 if problems else 200,
        nav_path=nav_path,
        title=f"{KIND_TITLES.get(detail.kind, detail.kind)} {detail.declaration_id}",
        d=detail,
        description_label=DESCRIPTION_LABELS.get(detail.kind, "Details"),
        own=own,
        can_decide=can_decide,
        decided_by_name=workforce.staff_name(db, detail.decided_by),
        team=workforce.team_labeller(db),
        values=values or {},
        problems=[(_labels(detail.kind).get(f, f), p) for f, p in problems],
        problems_for=problems_for,
        wrong={f for f, _p in problems},
        today=london_day(utcnow()),
        seen=workforce.decision_version(detail),
        withdrawal_seen=workforce.withdrawal_version(detail),
        may_correct=workforce.may_correct(detail, principal),
        may_update=workforce.may_update(db, detail, principal),
        pending_update=workforce.pending_update(db, detail.declaration_id),
        history=workforce.declaration_history(db, detail.declaration_id),
        replaced_changes=workforce.replacement_changes(db, detail),
        labels=_labels(detail.kind),
        ended_words=workforce.ENDED_WORDS,
        event_words=EVENT_WORDS,
        referrals=(
            gate.referrals_citing(db, detail.declaration_id, principal.staff_id)
            if principal.can(Permission.REFERRALS_HANDLE)
            else []
        ),
    )


@router.get("/declarations/{declaration_id}")
def declaration_page(request: Request, db: Db, principal: Declarer, declaration_id: str) -> Any:
    return _declaration_page(request, db, principal, _declaration_or_404(db, declaration_id, principal))


@router.post("/declarations/{declaration_id}/decide")
def decide_declaration(
    request: Request,
    db: Db,
    principal: Decider,
    declaration_id: str,
    outcome: Text = "",
    conditions: Text = "",
    reasons: Text = "",
    review_on: Text = "",
    seen: Text = "",
) -> Any:
    try:
        status = workforce.decide_declaration(
            db,
            declaration_id,
            principal,
            outcome=outcome,
            conditions=conditions,
            reasons=reasons,
            review_on=review_on,
            today=london_day(utcnow()),
            seen=seen or None,
        )
    except workforce.DeclarationChanged as error:  # back to the page, to read what changed
        return done_redirect(f"/declarations/{declaration_id}", str(error))
    except workforce.DeclarationError as error:
        return done_redirect("/declarations/queue", str(error))
    except workforce.DeclarationProblems as error:
        detail = _declaration_or_404(db, declaration_id, principal)
        values = {"outcome": outcome, "conditions": conditions, "reasons": reasons, "review_on": review_on}
        return _declaration_page(request, db, principal, detail, values, error.problems)
    return done_redirect("/declarations/queue", _decided_words(db, declaration_id, status))


def _decided_words(db: Db, declaration_id: str, status: str) -> str:
    """The done message after a decision, in words: "Laura Taylor's reportable association (Adam
    Thompson): approved with conditions; review 1 May 2027." (the id is on the page it came from)."""
    d = workforce.declaration_summary(db, declaration_id)
    about = d.person_name or d.organisation or d.subject_id
    what = KIND_TITLES.get(d.kind, d.kind).lower() + (f" ({about})" if about else "")
    review = f"; review {d.review_on.day} {d.review_on:%B %Y}" if d.review_on else ""
    return f"{d.staff_name}'s {what}: {workforce.outcome_title(status).lower()}{review}."


# ------------------------------------------------------- correcting, withdrawing and updating a declaration


@router.get("/declarations/{declaration_id}/correct")
def correct_declaration_form(request: Request, db: Db, principal: Declarer, declaration_id: str) -> Any:
    try:
        form = workforce.form_of(db, declaration_id, principal)
    except workforce.DeclarationError:
        raise HTTPException(404, "There is no such declaration, or it is not yours to see.") from None
    return _declaration_form(request, form, correcting=declaration_id)


@router.post("/declarations/{declaration_id}/correct")
def correct_declaration(
    request: Request,
    db: Db,
    principal: Declarer,
    declaration_id: str,
    posted: PostedDeclaration,
) -> Any:
    try:
        kind = workforce.form_of(db, declaration_id, principal).kind
    except workforce.DeclarationError:
        raise HTTPException(404, "There is no such declaration, or it is not yours to see.") from None
    form = replace(posted, kind=kind)  # a correction keeps the declaration's kind
    try:
        changed = workforce.correct_declaration(db, declaration_id, principal, form)
    except workforce.DeclarationProblems as error:
        return _declaration_form(request, form, error.problems, correcting=declaration_id)
    except workforce.DeclarationError as error:
        return done_redirect(f"/declarations/{declaration_id}", str(error))
    if not changed:
        return done_redirect(f"/declarations/{declaration_id}", "Nothing was changed, so nothing was saved.")
    return done_redirect(
        f"/declarations/{declaration_id}",
        "Your correction is saved; your line manager sees it before deciding.",
    )


@router.post("/declarations/{declaration_id}/withdraw")
def request_withdrawal(
    request: Request, db: Db, principal: Declarer, declaration_id: str, withdrawal_reason: Text = ""
) -> Any:
    try:
        workforce.request_withdrawal(db, declaration_id, principal, withdrawal_reason)
    except workforce.DeclarationProblems as error:
        detail = _declaration_or_404(db, declaration_id, principal)
        values = {"withdrawal_reason": withdrawal_reason}
        return _declaration_page(request, db, principal, detail, values, error.problems, "withdraw")
    except workforce.DeclarationError as error:
        return done_redirect(f"/declarations/{declaration_id}", str(error))
    return done_redirect(
        f"/declarations/{declaration_id}",
        "Your request to withdraw this declaration is sent to your line manager. Until they decide, it stays "
        "in force: searches about this person are still referred to them.",
    )


@router.post("/declarations/{declaration_id}/withdrawal")
def decide_withdrawal(
    request: Request,
    db: Db,
    principal: Decider,
    declaration_id: str,
    withdrawal_outcome: Text = "",
    withdrawal_reasons: Text = "",
    withdrawal_seen: Text = "",
) -> Any:
    try:
        accepted = workforce.decide_withdrawal(
            db,
            declaration_id,
            principal,
            outcome=withdrawal_outcome,
            reasons=withdrawal_reasons,
            seen=withdrawal_seen or None,
        )
    except workforce.DeclarationChanged as error:  # back to the page, to read the request now waiting
        return done_redirect(f"/declarations/{declaration_id}", str(error))
    except workforce.DeclarationError as error:
        return done_redirect("/declarations/queue", str(error))
    except workforce.DeclarationProblems as error:
        detail = _declaration_or_404(db, declaration_id, principal)
        values = {"withdrawal_outcome": withdrawal_outcome, "withdrawal_reasons": withdrawal_reasons}
        return _declaration_page(request, db, principal, detail, values, error.problems, "withdrawal")
    d = workforce.declaration_summary(db, declaration_id)
    about = d.person_name or d.organisation or d.subject_id
    what = KIND_TITLES.get(d.kind, d.kind).lower() + (f" ({about})" if about else "")
    if accepted:
        words = "accepted: it is withdrawn and no longer refers their searches to you."
    else:
        words = "refused: the declaration stays in force."
    return done_redirect("/declarations/queue", f"{d.staff_name}'s request to withdraw their {what}: {words}")


# --------------------------------------------------------------------------- pre-access gate referrals

ReferralHandler = Annotated[Principal, Depends(require(Permission.REFERRALS_HANDLE))]
REFERRAL_CODES = {"DECLARED_CONFLICT": "Declared conflict or association", "SELF": "The subject is themself"}


def _referral_page(request: Request, name: str, status_code: int = 200, **context: Any) -> Any:
    return render(
        request,
        f"workforce/{name}",
        status_code,
        outcomes=gate.OUTCOMES,
        code_titles=REFERRAL_CODES,
        systems=gate.SYSTEMS,
        day=_day,
        **{"who": str, **context},
    )


REFERRAL_FIELDS = {
    "outcome": "Outcome",
    "search_done": "Search done",
    "interaction": "Interaction with the requester",
    "advice": "Advice and support given",
}


@router.get("/referrals")
def referral_queue(request: Request, db: Db, principal: ReferralHandler) -> Any:
    waiting, closed = gate.referral_queue(db, principal.staff_id)
    return _referral_page(request, "referrals.html", title="Referrals", waiting=waiting, closed=closed)


@router.get("/referrals/{referral_id}")
def referral_page(request: Request, db: Db, principal: ReferralHandler, referral_id: int) -> Any:
    try:
        referral = gate.view_referral(db, referral_id, principal.staff_id)
    except gate.ReferralError as error:
        raise HTTPException(404, str(error)) from None
    return _referral_page(
        request,
        "referral.html",
        title=f"Referral {referral_id}",
        r=referral,
        values={},
        who=identity_service.staff_labeller(db, [referral.closed_by or ""]),
    )


@router.post("/referrals/{referral_id}/close")
def close_referral(
    request: Request,
    db: Db,
    principal: ReferralHandler,
    referral_id: int,
    outcome: Text = "",
    search_done: Text = "",
    interaction: Text = "",
    advice: Text = "",
) -> Any:
    values = {"outcome": outcome, "search_done": search_done, "interaction": interaction, "advice": advice}
    try:
        gate.close_referral(db, referral_id, principal.staff_id, **values)
    except gate.ReferralError as error:
        try:
            referral = gate.view_referral(db, referral_id, principal.staff_id)
        except gate.ReferralError:
            raise HTTPException(404, str(error)) from None
        return _referral_page(
            request,
            "referral.html",
            400,
            title=f"Referral {referral_id}",
            r=referral,
            values=values,
            problem=None if error.problems else str(error),
            problems=[(REFERRAL_FIELDS[f], p) for f, p in error.problems],
            wrong={f for f, _p in error.problems},
        )
    return done_redirect(
        "/referrals", f"Referral {referral_id} closed: the requester can see the outcome and advice."
    )


@router.get("/me/referrals")
def my_referrals(
    request: Request, db: Db, principal: Annotated[Principal, Depends(require(Permission.SELF_VIEW))]
) -> Any:
    mine = gate.my_referrals(db, principal.staff_id)
    return _referral_page(
        request,
        "my_referrals.html",
        title="My referrals",
        referrals=mine,
        who=identity_service.staff_labeller(db, [r.closed_by or "" for r in mine]),
    )
