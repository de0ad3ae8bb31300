"""Screens for the partner, agreement and scheme registers, and their CSV and PDF exports."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from pydantic import Field

from custodes.agreements import service as agreements
from custodes.agreements.schemas import (
    AGREEMENT_COLUMNS,
    AGREEMENT_KINDS,
    AGREEMENT_STATUSES,
    DATA_CATEGORIES,
    DEFAULT_REVIEW_REMINDER_DAYS,
    MEMBER_STATUSES,
    ORGANISATION_KINDS,
    PURPOSES,
    REVIEW_OUTCOMES,
    AgreementView,
    MemberView,
    OrganisationView,
    SchemeView,
)
from custodes.identity import service as identity
from custodes.identity.permissions import Permission, Role
from custodes.identity.schemas import Principal
from custodes.kit.db import utcnow
from custodes.kit.pdf import html_to_pdf
from custodes.web.deps import Db, require
from custodes.web.exports import attachment, csv_download
from custodes.web.forms import FieldText, RegisterForm
from custodes.web.notices import done_redirect
from custodes.web.templating import environment, render

router = APIRouter()
Viewer = Annotated[Principal, Depends(require(Permission.AGREEMENTS_VIEW))]
Manager = Annotated[Principal, Depends(require(Permission.AGREEMENTS_MANAGE))]
SchemeManager = Annotated[Principal, Depends(require(Permission.SCHEMES_MANAGE))]
Text = Annotated[str, Form(max_length=4000)]

LABELS = {
    "org_id": "Partner id",
    "name": "Name",
    "kind": "Kind",
    "competent_authority": "Competent authority",
    "contact": "Contact",
    "secure_channel": "Secure delivery",
    "agreement_id": "Agreement id",
    "title": "Title",
    "parties": "Parties",
    "purposes": "Purposes",
    "data_categories": "Data that may be shared",
    "lawful_bases": "Lawful bases",
    "start_date": "Start date",
    "review_date": "Review date",
    "end_date": "End date",
    "scheme_id": "Scheme id",
    "area_code": "Area",
    "recognised": "Recognised",
    "manager_name": "Scheme manager",
    "manager_vetted_until": "Manager's security check valid until",
    "member_id": "Member id",
    "registered_on": "Registered on",
    "undertaking_signed_on": "Undertaking signed on",
    "status": "Status",
    "reason": "Reason",
    "document": "The signed document",
    "reviewed_on": "Date reviewed",
    "outcome": "Outcome",
    "note": "Note",
    "next_review_date": "Next review date",
}
STATUS_BADGES = {
    "in_force": "ok",
    "not_started": "none",
    "review_overdue": "warn",
    "review_date_missing": "warn",
    "ended": "none",
    "suspended": "bad",
    "withdrawn": "bad",
    "active": "ok",
    "left": "none",
}


def _day(value: date | None) -> str:
    return f"{value.day} {value:%b %Y}" if value else "—"


def _page(request: Request, name: str, status_code: int = 200, **context: Any) -> Any:
    today = agreements.today()
    return render(
        request,
        f"agreements/{name}",
        status_code,
        day=_day,
        today=today,
        badges=STATUS_BADGES,
        statuses={**AGREEMENT_STATUSES, **MEMBER_STATUSES},
        labels=LABELS,
        **context,
    )


def _problems(error: agreements.AgreementsError) -> list[str]:
    return [f"{LABELS.get(field, field)}: {problem}" for field, problem in error.problems]


def _flag(value: str) -> str:
    return "true" if value in ("true", "on", "yes") else "false"


def _yes(value: bool) -> str:
    return "Yes" if value else "No"


def _changed(message: str, changed: bool) -> str:
    return message if changed else "Nothing had changed."


def _pdf(
    request: Request, principal: Principal, name: str, title: str, sections: list[dict[str, Any]]
) -> Response:
    html = environment.get_template("agreements/register_pdf.html").render(
        title=title,
        sections=sections,
        principal=principal,
        generated=utcnow(),
        force_name=request.app.state.settings.force_name,
        today=agreements.today(),
    )
    return attachment(html_to_pdf(html), "application/pdf", name)


# --------------------------------------------------------------------------- partners


class OrganisationForm(RegisterForm):
    org_id: FieldText = ""
    name: FieldText = ""
    kind: FieldText = ""
    competent_authority: FieldText = ""
    contact: FieldText = ""
    secure_channel: FieldText = ""

    def values(self) -> dict[str, str]:
        return {**super().values(), "competent_authority": _flag(self.competent_authority)}


def _organisation_page(
    request: Request, values: dict[str, Any], *, editing: bool, problems: Sequence[str] = ()
) -> Any:
    return _page(
        request,
        "partner_form.html",
        400 if problems else 200,
        title="Change partner" if editing else "Add a partner",
        values=values,
        editing=editing,
        problems=problems,
        kinds=ORGANISATION_KINDS,
    )


@router.get("/partners")
def partners(request: Request, db: Db, viewer: Viewer) -> Any:
    today = agreements.today()
    in_force: dict[str, int] = {}
    for agreement in agreements.list_agreements(db):
        if agreement.in_force_on(today):
            for party in agreement.parties:
                in_force[party] = in_force.get(party, 0) + 1
    return _page(
        request,
        "partners.html",
        title="Partners",
        rows=agreements.list_organisations(db),
        in_force=in_force,
        can_manage=viewer.can(Permission.AGREEMENTS_MANAGE),
    )


@router.get("/partners/export.csv")
def partners_csv(db: Db, _viewer: Viewer) -> Any:
    header = ["org_id", "name", "kind", "competent_authority", "contact", "secure_channel"]
    rows = ([getattr(org, column) for column in header] for org in agreements.list_organisations(db))
    return csv_download("custodes-partners.csv", header, rows)


@router.get("/partners/export.pdf")
def partners_pdf(request: Request, db: Db, viewer: Viewer) -> Any:
    rows = [
        [
            o.name,
            o.org_id,
            o.kind_title,
            _yes(o.competent_authority),
            o.contact,
            o.secure_channel,
        ]
        for o in agreements.list_organisations(db)
    ]
    section = {
        "heading": "Partner organisations",
        "columns": ["Name", "Id", "Kind", "Competent authority", "Contact", "Secure delivery"],
        "rows": rows,
    }
    return _pdf(request, viewer, "custodes-partners.pdf", "Partner register", [section])


@router.get("/partners/new")
def new_partner(request: Request, _manager: Manager) -> Any:
    return _organisation_page(request, {"kind": "", "competent_authority": "false"}, editing=False)


@router.post("/partners")
def create_partner(
    request: Request, db: Db, manager: Manager, form: Annotated[OrganisationForm, Form()]
) -> Any:
    values = form.values()
    try:
        created = agreements.create_organisation(db, values, manager.actor)
    except agreements.AgreementsError as error:
        return _organisation_page(request, values, editing=False, problems=_problems(error))
    return done_redirect(f"/partners/{quote(created)}", "Partner added.")


def _organisation_or_404(db: Db, org_id: str) -> OrganisationView:
    found = agreements.get_organisation(db, org_id)
    if found is None:
        raise HTTPException(404, f"There is no partner {org_id}.")
    return found


@router.get("/partners/{org_id}")
def partner(request: Request, db: Db, viewer: Viewer, org_id: str) -> Any:
    org = _organisation_or_404(db, org_id)
    schemes = {s.scheme_id: s for s in agreements.list_schemes(db)}
    return _page(
        request,
        "partner.html",
        title=org.name,
        org=org,
        agreements=agreements.agreements_for(db, org_id),
        memberships=agreements.memberships_of(db, org_id),
        schemes=schemes,
        can_manage=viewer.can(Permission.AGREEMENTS_MANAGE),
    )


@router.get("/partners/{org_id}/edit")
def edit_partner(request: Request, db: Db, _manager: Manager, org_id: str) -> Any:
    values = OrganisationForm.showing(_organisation_or_404(db, org_id))
    return _organisation_page(request, values, editing=True)


@router.post("/partners/{org_id}")
def update_partner(
    request: Request, db: Db, manager: Manager, org_id: str, form: Annotated[OrganisationForm, Form()]
) -> Any:
    values = {**form.values(), "org_id": org_id}
    try:
        changed = agreements.update_organisation(db, org_id, values, manager.actor)
    except agreements.AgreementsError as error:
        return _organisation_page(request, values, editing=True, problems=_problems(error))
    return done_redirect(f"/partners/{quote(org_id)}", _changed("Partner updated.", changed))


# --------------------------------------------------------------------------- agreements


class AgreementForm(RegisterForm):
    agreement_id: FieldText = ""
    title: FieldText = ""
    kind: FieldText = ""
    parties: list[str] = Field(default_factory=list)
    purposes: list[str] = Field(default_factory=list)
    data_categories: list[str] = Field(default_factory=list)
    lawful_bases: list[str] = Field(default_factory=list)
    other_lawful_bases: FieldText = ""
    start_date: FieldText = ""
    review_date: FieldText = ""
    end_date: FieldText = ""

    def values(self) -> dict[str, str]:
        # Other bases in words, one a line (";" separates too): a comma may be part of one ("Children Act
        # 2004, s.10"), so it does not.
        typed = (b.strip() for b in self.other_lawful_bases.replace("\n", ";").split(";"))
        bases = [*self.lawful_bases, *typed]
        return {
            "agreement_id": self.agreement_id,
            "title": self.title,
            "kind": self.kind,
            "parties": ";".join(self.parties),
            "purposes": ";".join(self.purposes),
            "data_categories": ";".join(self.data_categories),
            "lawful_bases": ";".join(b for b in bases if b),
            "start_date": self.start_date,
            "review_date": self.review_date,
            "end_date": self.end_date,
        }


def _agreement_page(
    request: Request, db: Db, values: dict[str, str], *, editing: bool, problems: Sequence[str] = ()
) -> Any:
    chosen = {key: set(values.get(key, "").split(";")) - {""} for key in ("parties", "purposes")}
    chosen["data_categories"] = set(values.get("data_categories", "").split(";")) - {""}
    bases = [b for b in values.get("lawful_bases", "").split(";") if b]
    codes = agreements.lawful_basis_codes(db)
    return _page(
        request,
        "agreement_form.html",
        400 if problems else 200,
        title="Change agreement" if editing else "Add an agreement",
        values=values,
        chosen=chosen,
        chosen_bases=set(bases),
        other_bases="\n".join(b for b in bases if b not in codes),
        editing=editing,
        problems=problems,
        kinds=AGREEMENT_KINDS,
        organisations=agreements.list_organisations(db),
        purposes=PURPOSES,
        categories=DATA_CATEGORIES,
        suggested_bases=codes,
        basis_words=agreements.lawful_basis_words(db),
    )


def _basis(words: dict[str, str], basis: str) -> str:
    """A lawful basis as staff read it: "Crime and Disorder Act 1998, s.115 (CDA1998_s115)" for a known code,
    a basis written in words as written."""
    return f"{words[basis]} ({basis})" if basis in words else basis


@router.get("/agreements")
def agreement_list(request: Request, db: Db, viewer: Viewer) -> Any:
    today = agreements.today()
    rows = agreements.list_agreements(db)
    return _page(
        request,
        "agreements.html",
        title="Sharing agreements",
        rows=rows,
        names={o.org_id: o.name for o in agreements.list_organisations(db)},
        reminders=agreements.review_reminders(db, today),
        overdue=[a for a in rows if a.status_on(today) in ("review_overdue", "review_date_missing")],
        within_days=DEFAULT_REVIEW_REMINDER_DAYS,
        can_manage=viewer.can(Permission.AGREEMENTS_MANAGE),
    )


AGREEMENT_EXPORT = [
    *AGREEMENT_COLUMNS,
    "status_today",
    "status_reason",
    "document_filename",
    "document_sha256",
]


def _agreement_cells(agreement: AgreementView, today: date) -> list[Any]:
    document = agreement.document
    return [
        *(getattr(agreement, column) for column in AGREEMENT_COLUMNS),
        agreement.status_on(today),
        agreement.status_reason,
        document.filename if document else None,
        document.sha256 if document else None,
    ]


@router.get("/agreements/export.csv")
def agreements_csv(db: Db, _viewer: Viewer) -> Any:
    today = agreements.today()
    rows = (_agreement_cells(a, today) for a in agreements.list_agreements(db))
    return csv_download("custodes-agreements.csv", AGREEMENT_EXPORT, rows)


@router.get("/agreements/export.pdf")
def agreements_pdf(request: Request, db: Db, viewer: Viewer) -> Any:
    today = agreements.today()
    names = {o.org_id: o.name for o in agreements.list_organisations(db)}
    words = agreements.lawful_basis_words(db)
    rows = [
        [
            f"{a.title} ({a.agreement_id})",
            a.kind_title,
            ", ".join(names.get(p, p) for p in a.parties),
            ", ".join(PURPOSES.get(p, p) for p in a.purposes),
            ", ".join(DATA_CATEGORIES.get(c, c) for c in a.data_categories),
            "; ".join(_basis(words, b) for b in a.lawful_bases),
            f"{_day(a.start_date)} to {_day(a.end_date) if a.end_date else 'no end date'}",
            _day(a.review_date) if a.review_date else "Missing",
            AGREEMENT_STATUSES[a.status_on(today)],
            f"{a.document.filename} (SHA-256 {a.document.sha256[:16]}…)" if a.document else "Not held",
        ]
        for a in agreements.list_agreements(db)
    ]
    section = {
        "heading": "Information sharing agreements",
        "columns": [
            "Agreement",
            "Kind",
            "Parties",
            "Purposes",
            "Data",
            "Lawful bases",
            "Runs",
            "Review",
            "Status today",
            "Document",
        ],
        "rows": rows,
    }
    return _pdf(request, viewer, "custodes-agreements.pdf", "Agreement register", [section])


@router.get("/agreements/new")
def new_agreement(request: Request, db: Db, _manager: Manager) -> Any:
    return _agreement_page(request, db, {}, editing=False)


@router.post("/agreements")
def create_agreement(
    request: Request, db: Db, manager: Manager, form: Annotated[AgreementForm, Form()]
) -> Any:
    values = form.values()
    try:
        created = agreements.create_agreement(db, values, manager.actor, by=manager)
    except agreements.AgreementsError as error:
        return _agreement_page(request, db, values, editing=False, problems=_problems(error))
    return done_redirect(
        f"/agreements/{quote(created)}", "Agreement added. Upload the signed document below."
    )


def _agreement_or_404(db: Db, agreement_id: str) -> AgreementView:
    found = agreements.get_agreement(db, agreement_id)
    if found is None:
        raise HTTPException(404, f"There is no agreement {agreement_id}.")
    return found


@router.get("/agreements/{agreement_id}")
def agreement(request: Request, db: Db, viewer: Viewer, agreement_id: str) -> Any:
    return _agreement_view(request, db, viewer, _agreement_or_404(db, agreement_id))


def _agreement_view(
    request: Request,
    db: Db,
    viewer: Principal,
    found: AgreementView,
    error: agreements.AgreementsError | None = None,
    form: str = "",
    values: dict[str, str] | None = None,
) -> Any:
    """The agreement's page; after a refused action (`form`: "status", "document" or "review"), again with
    the problems at the top of that form and its fields marked, keeping what was typed (400)."""
    problems = _problems(error) if error else []
    reviews = agreements.reviews_of(db, found.agreement_id)
    today = agreements.today()
    review_values = {
        "reviewed_on": today.isoformat(),
        "next_review_date": _a_year_after(today).isoformat(),
        **((values or {}) if form == "review" else {}),
    }
    return _page(
        request,
        "agreement.html",
        400 if error else 200,
        title=found.title,
        agreement=found,
        parties=[agreements.get_organisation(db, p) for p in found.parties],
        bases=[_basis(agreements.lawful_basis_words(db), b) for b in found.lawful_bases],
        purposes=PURPOSES,
        categories=DATA_CATEGORIES,
        can_manage=viewer.can(Permission.AGREEMENTS_MANAGE),
        problems={form: problems} if problems else {},
        wrong={field for field, _ in error.problems} if error else set(),
        values=values or {},
        reviews=reviews,
        reviewer=identity.staff_labeller(db, [r.reviewed_by for r in reviews]),
        outcomes=REVIEW_OUTCOMES,
        review_values=review_values,
    )


def _a_year_after(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


@router.post("/agreements/{agreement_id}/review")
def record_review(
    request: Request,
    db: Db,
    manager: Manager,
    agreement_id: str,
    reviewed_on: Text = "",
    outcome: Text = "",
    note: Text = "",
    next_review_date: Text = "",
) -> Any:
    found = _agreement_or_404(db, agreement_id)
    typed = {
        "reviewed_on": reviewed_on,
        "outcome": outcome,
        "note": note,
        "next_review_date": next_review_date,
    }
    try:
        review = agreements.record_review(db, agreement_id, typed, manager.actor)
    except agreements.AgreementsError as error:
        return _agreement_view(request, db, manager, found, error, "review", typed)
    if review.next_review_date is None:
        ended = agreements.get_agreement(db, agreement_id)
        ends = ended.end_date if ended is not None else review.reviewed_on
        done = f"Review recorded; the agreement ends on {_day(ends)}."
    else:
        done = f"Review recorded; next review {_day(review.next_review_date)}."
    return done_redirect(f"/agreements/{quote(agreement_id)}", done)


@router.get("/agreements/{agreement_id}/edit")
def edit_agreement(request: Request, db: Db, _manager: Manager, agreement_id: str) -> Any:
    values = AgreementForm.showing(_agreement_or_404(db, agreement_id))
    return _agreement_page(request, db, values, editing=True)


@router.post("/agreements/{agreement_id}")
def update_agreement(
    request: Request, db: Db, manager: Manager, agreement_id: str, form: Annotated[AgreementForm, Form()]
) -> Any:
    values = {**form.values(), "agreement_id": agreement_id}
    try:
        changed = agreements.update_agreement(db, agreement_id, values, manager.actor, by=manager)
    except agreements.AgreementsError as error:
        return _agreement_page(request, db, values, editing=True, problems=_problems(error))
    return done_redirect(f"/agreements/{quote(agreement_id)}", _changed("Agreement updated.", changed))


@router.post("/agreements/{agreement_id}/status")
def agreement_status(
    request: Request, db: Db, manager: Manager, agreement_id: str, action: Text = "", reason: Text = ""
) -> Any:
    path = f"/agreements/{quote(agreement_id)}"
    found = _agreement_or_404(db, agreement_id)
    wanted = {"suspend": "suspended", "withdraw": "withdrawn", "reinstate": None}
    typed = {"action": action, "reason": reason}
    try:
        if action not in wanted:
            problems = [("status", "choose suspend, withdraw or reinstate")]
            if not reason.strip():
                problems.append(("reason", "give the reason"))
            raise agreements.AgreementsError(problems)
        agreements.set_agreement_status(db, agreement_id, wanted[action], reason, manager.actor)
    except agreements.AgreementsError as error:
        return _agreement_view(request, db, manager, found, error, "status", typed)
    done = {"suspend": "suspended", "withdraw": "withdrawn", "reinstate": "reinstated"}[action]
    return done_redirect(path, f"Agreement {done}.")


@router.post("/agreements/{agreement_id}/document")
def upload_document(
    request: Request,
    db: Db,
    manager: Manager,
    agreement_id: str,
    document: Annotated[UploadFile | None, File()] = None,
) -> Any:
    path = f"/agreements/{quote(agreement_id)}"
    content = document.file.read(agreements.MAX_DOCUMENT_BYTES + 1) if document is not None else b""
    try:
        info = agreements.attach_document(
            db,
            agreement_id,
            document.filename or "" if document is not None else "",
            document.content_type or "" if document is not None else "",
            content,
            manager.actor,
        )
    except agreements.AgreementsError as error:
        return _agreement_view(request, db, manager, _agreement_or_404(db, agreement_id), error, "document")
    return done_redirect(path, f"Document {info.filename} stored.")


@router.get("/agreements/{agreement_id}/document")
def download_document(db: Db, _viewer: Viewer, agreement_id: str) -> Any:
    stored = agreements.get_document(db, agreement_id)
    if stored is None:
        raise HTTPException(404, f"No document is held for agreement {agreement_id}.")
    return attachment(stored.content, stored.info.content_type, stored.info.filename)


# --------------------------------------------------------------------------- schemes


class SchemeForm(RegisterForm):
    scheme_id: FieldText = ""
    name: FieldText = ""
    area_code: FieldText = ""
    recognised: FieldText = ""
    manager_name: FieldText = ""
    manager_vetted_until: FieldText = ""

    def values(self) -> dict[str, str]:
        return {**super().values(), "area_code": self.area_code.upper(), "recognised": _flag(self.recognised)}


def _scheme_page(
    request: Request,
    db: Db,
    values: dict[str, str],
    *,
    editing: bool,
    by: Principal,
    error: agreements.AgreementsError | None = None,
) -> Any:
    """Only the DPU chooses a scheme's area and recognition: others see them fixed. After a refusal, the
    problems at the top and the fields marked (400)."""
    problems = _problems(error) if error else []
    return _page(
        request,
        "scheme_form.html",
        400 if problems else 200,
        title="Change scheme" if editing else "Add a scheme",
        values=values,
        editing=editing,
        problems=problems,
        wrong={field for field, _ in error.problems} if error else set(),
        fixed=Role.DPU not in by.roles,
        areas=agreements.scheme_areas(db),
        area=identity.area_labeller(db),
    )


def _not_allowed(scheme_id: str, scheme: SchemeView) -> RedirectResponse:
    area = f"area {scheme.area_code}" if scheme.area_code else "no area"
    return done_redirect(
        f"/schemes/{quote(scheme_id)}",
        f"Not allowed: {scheme.name} ({scheme_id}, {area}) and its members are kept by the Area Intelligence "
        "Co-ordinator of its area or the Data Protection Unit.",
    )


def _vetting(scheme: SchemeView, today: date) -> tuple[str, str]:
    """(badge, words) for the scheme manager's security check (K10 7.3)."""
    if scheme.manager_name is None:
        return "none", "No approved scheme manager"
    if scheme.manager_vetted_until is None:
        return "bad", "No security check recorded"
    if not scheme.manager_vetted_on(today):
        return "bad", f"Security check expired {_day(scheme.manager_vetted_until)}"
    left = (scheme.manager_vetted_until - today).days
    if left <= DEFAULT_REVIEW_REMINDER_DAYS:
        return "warn", f"Security check expires {_day(scheme.manager_vetted_until)} ({left} days)"
    return "ok", f"Security check valid until {_day(scheme.manager_vetted_until)}"


def _keepers(scheme: SchemeView, area: Any) -> str:
    """Who may change the scheme's record, in words."""
    if scheme.area_code is None:
        return "the Data Protection Unit"
    return f"the Area Intelligence Co-ordinator for {area(scheme.area_code)} or the Data Protection Unit"


@router.get("/schemes")
def scheme_list(request: Request, db: Db, viewer: Viewer) -> Any:
    today = agreements.today()
    rows = agreements.list_schemes(db)
    return _page(
        request,
        "schemes.html",
        title="Crime-reduction schemes",
        rows=rows,
        area=identity.area_labeller(db),
        vetting={s.scheme_id: _vetting(s, today) for s in rows},
        counts=agreements.member_counts(db),
        can_manage=viewer.can(Permission.SCHEMES_MANAGE),
    )


MEMBER_COLUMNS_PDF = ["Member id", "Name", "Organisation", "Registered", "Undertaking signed", "Status"]
SCHEME_EXPORT = [
    "scheme_id",
    "scheme_name",
    "area_code",
    "recognised",
    "manager_name",
    "manager_vetted_until",
    "member_id",
    "member_name",
    "org_id",
    "registered_on",
    "undertaking_signed_on",
    "member_status",
]


def _scheme_rows(schemes: list[SchemeView], register: dict[str, list[MemberView]]) -> Iterable[list[Any]]:
    for s in schemes:
        scheme = [s.scheme_id, s.name, s.area_code, s.recognised, s.manager_name, s.manager_vetted_until]
        members = register.get(s.scheme_id, [])
        for m in members:
            yield [*scheme, m.member_id, m.name, m.org_id, m.registered_on, m.undertaking_signed_on, m.status]
        if not members:
            yield [*scheme, *([None] * 6)]


def _scheme_sections(
    schemes: list[SchemeView], register: dict[str, list[MemberView]], today: date
) -> list[dict[str, Any]]:
    sections = []
    for s in schemes:
        vetting = _vetting(s, today)[1]
        members = register.get(s.scheme_id, [])
        sections.append(
            {
                "heading": f"{s.name} ({s.scheme_id})",
                "facts": [
                    ("Area", s.area_code or "—"),
                    ("Recognised", "Yes" if s.recognised else "No — no disclosures under this scheme"),
                    ("Scheme manager", s.manager_name or "None"),
                    ("Manager vetting", vetting),
                    ("Members", f"{sum(m.current for m in members)} active of {len(members)}"),
                ],
                "columns": MEMBER_COLUMNS_PDF,
                "rows": [
                    [
                        m.member_id,
                        m.name,
                        m.org_id or "Not a listed partner",
                        _day(m.registered_on),
                        _day(m.undertaking_signed_on) if m.undertaking_signed_on else "NOT SIGNED",
                        MEMBER_STATUSES.get(m.status, m.status),
                    ]
                    for m in members
                ],
            }
        )
    return sections


@router.get("/schemes/export.csv")
def schemes_csv(db: Db, viewer: Viewer) -> Any:
    register = agreements.view_members_register(db, None, actor=viewer.actor)
    rows = _scheme_rows(agreements.list_schemes(db), register)
    return csv_download("custodes-schemes.csv", SCHEME_EXPORT, rows)


@router.get("/schemes/export.pdf")
def schemes_pdf(request: Request, db: Db, viewer: Viewer) -> Any:
    register = agreements.view_members_register(db, None, actor=viewer.actor)
    sections = _scheme_sections(agreements.list_schemes(db), register, agreements.today())
    return _pdf(request, viewer, "custodes-schemes.pdf", "Scheme members registers", sections)


@router.get("/schemes/new")
def new_scheme(request: Request, db: Db, manager: SchemeManager) -> Any:
    if Role.DPU in manager.roles:
        return _scheme_page(request, db, {"recognised": "true"}, editing=False, by=manager)
    values = {"recognised": "false", "area_code": agreements.area_of(db, manager) or ""}
    return _scheme_page(request, db, values, editing=False, by=manager)


@router.post("/schemes")
def create_scheme(
    request: Request, db: Db, manager: SchemeManager, form: Annotated[SchemeForm, Form()]
) -> Any:
    values = form.values()
    try:
        created = agreements.create_scheme(db, values, manager.actor, by=manager)
    except agreements.AgreementsError as error:
        return _scheme_page(request, db, values, editing=False, by=manager, error=error)
    return done_redirect(f"/schemes/{quote(created)}", "Scheme added. Now add its members.")


def _scheme_or_404(db: Db, scheme_id: str) -> SchemeView:
    found = agreements.get_scheme(db, scheme_id)
    if found is None:
        raise HTTPException(404, f"There is no scheme {scheme_id}.")
    return found


@router.get("/schemes/{scheme_id}")
def scheme(request: Request, db: Db, viewer: Viewer, scheme_id: str) -> Any:
    return _scheme_view(request, db, viewer, scheme_id)


def _scheme_view(
    request: Request,
    db: Db,
    viewer: Principal,
    scheme_id: str,
    refused: tuple[str, list[str], str] | None = None,
) -> Any:
    """The scheme's page; `refused`: (member id, problems, date typed) after an undertaking was refused:
    shown at the top of the register and at that member's date box, with the date kept (400)."""
    found = _scheme_or_404(db, scheme_id)
    register = agreements.view_members_register(db, scheme_id, actor=viewer.actor)
    today = agreements.today()
    return _page(
        request,
        "scheme.html",
        400 if refused else 200,
        title=found.name,
        scheme=found,
        area=identity.area_labeller(db),
        vetting=_vetting(found, today),
        # What the disclosure rules do with this scheme today: SCHEME_NOT_RECOGNISED, then
        # SCHEME_MANAGER_NOT_VETTED, block every disclosure to its members.
        blocked=(
            "not_recognised"
            if not found.recognised
            else "manager"
            if found.manager_name is not None and not found.manager_vetted_on(today)
            else None
        ),
        keeper=_keepers(found, identity.area_labeller(db)),
        members=register.get(scheme_id, []),
        names={o.org_id: o.name for o in agreements.list_organisations(db)},
        can_manage=viewer.can(Permission.SCHEMES_MANAGE) and agreements.may_change_scheme(db, viewer, found),
        refused_member=refused[0] if refused else None,
        problems=refused[1] if refused else [],
        typed_date=refused[2] if refused else "",
    )


@router.get("/schemes/{scheme_id}/export.csv")
def scheme_csv(db: Db, viewer: Viewer, scheme_id: str) -> Any:
    found = _scheme_or_404(db, scheme_id)
    register = agreements.view_members_register(db, scheme_id, actor=viewer.actor)
    return csv_download(f"custodes-scheme-{scheme_id}.csv", SCHEME_EXPORT, _scheme_rows([found], register))


@router.get("/schemes/{scheme_id}/export.pdf")
def scheme_pdf(request: Request, db: Db, viewer: Viewer, scheme_id: str) -> Any:
    found = _scheme_or_404(db, scheme_id)
    register = agreements.view_members_register(db, scheme_id, actor=viewer.actor)
    sections = _scheme_sections([found], register, agreements.today())
    return _pdf(request, viewer, f"custodes-scheme-{scheme_id}.pdf", "Scheme members register", sections)


@router.get("/schemes/{scheme_id}/edit")
def edit_scheme(request: Request, db: Db, manager: SchemeManager, scheme_id: str) -> Any:
    found = _scheme_or_404(db, scheme_id)
    if not agreements.may_change_scheme(db, manager, found):
        return _not_allowed(scheme_id, found)
    return _scheme_page(request, db, SchemeForm.showing(found), editing=True, by=manager)


@router.post("/schemes/{scheme_id}")
def update_scheme(
    request: Request, db: Db, manager: SchemeManager, scheme_id: str, form: Annotated[SchemeForm, Form()]
) -> Any:
    values = {**form.values(), "scheme_id": scheme_id}
    try:
        changed = agreements.update_scheme(db, scheme_id, values, manager.actor, by=manager)
    except agreements.AgreementsError as error:
        return _scheme_page(request, db, values, editing=True, by=manager, error=error)
    return done_redirect(f"/schemes/{quote(scheme_id)}", _changed("Scheme updated.", changed))


# --------------------------------------------------------------------------- scheme members


class MemberForm(RegisterForm):
    member_id: FieldText = ""
    name: FieldText = ""
    org_id: FieldText = ""
    registered_on: FieldText = ""
    undertaking_signed_on: FieldText = ""
    status: FieldText = ""


def _member_page(
    request: Request,
    db: Db,
    scheme: SchemeView,
    values: dict[str, str],
    *,
    editing: bool,
    problems: Sequence[str] = (),
) -> Any:
    return _page(
        request,
        "member_form.html",
        400 if problems else 200,
        title="Change member" if editing else "Register a member",
        scheme=scheme,
        values=values,
        editing=editing,
        problems=problems,
        organisations=agreements.list_organisations(db),
        member_statuses=MEMBER_STATUSES,
    )


@router.get("/schemes/{scheme_id}/members/new")
def new_member(request: Request, db: Db, manager: SchemeManager, scheme_id: str) -> Any:
    found = _scheme_or_404(db, scheme_id)
    if not agreements.may_change_scheme(db, manager, found):
        return _not_allowed(scheme_id, found)
    values = {"status": "active", "registered_on": agreements.today().isoformat()}
    return _member_page(request, db, found, values, editing=False)


@router.post("/schemes/{scheme_id}/members")
def create_member(
    request: Request, db: Db, manager: SchemeManager, scheme_id: str, form: Annotated[MemberForm, Form()]
) -> Any:
    found = _scheme_or_404(db, scheme_id)
    values = form.values()
    try:
        member_id = agreements.create_member(db, scheme_id, values, manager.actor, by=manager)
    except agreements.AgreementsError as error:
        return _member_page(request, db, found, values, editing=False, problems=_problems(error))
    return done_redirect(
        f"/schemes/{quote(scheme_id)}",
        f"{values['name'].strip()} ({member_id}) is now a member of {found.name}.",
    )


@router.get("/schemes/{scheme_id}/members/{member_id}/edit")
def edit_member(request: Request, db: Db, manager: SchemeManager, scheme_id: str, member_id: str) -> Any:
    found = _scheme_or_404(db, scheme_id)
    if not agreements.may_change_scheme(db, manager, found):
        return _not_allowed(scheme_id, found)  # before the member's record is shown (a consultation)
    member = agreements.view_member(db, scheme_id, member_id, actor=manager.actor)
    if member is None:
        raise HTTPException(404, f"There is no member {member_id} of scheme {scheme_id}.")
    return _member_page(request, db, found, MemberForm.showing(member), editing=True)


@router.post("/schemes/{scheme_id}/members/{member_id}")
def update_member(
    request: Request,
    db: Db,
    manager: SchemeManager,
    scheme_id: str,
    member_id: str,
    form: Annotated[MemberForm, Form()],
) -> Any:
    found = _scheme_or_404(db, scheme_id)
    values = {**form.values(), "member_id": member_id}
    try:
        changed = agreements.update_member(db, scheme_id, member_id, values, manager.actor, by=manager)
    except agreements.AgreementsError as error:
        return _member_page(request, db, found, values, editing=True, problems=_problems(error))
    done = f"{values['name'].strip()} ({member_id}): membership of {found.name} updated."
    return done_redirect(f"/schemes/{quote(scheme_id)}", _changed(done, changed))


@router.post("/schemes/{scheme_id}/members/{member_id}/undertaking")
def record_undertaking(
    request: Request, db: Db, manager: SchemeManager, scheme_id: str, member_id: str, signed_on: Text = ""
) -> Any:
    path = f"/schemes/{quote(scheme_id)}"
    try:
        try:
            day = date.fromisoformat(signed_on.strip())
        except ValueError:
            raise agreements.AgreementsError(
                [("undertaking_signed_on", f"give the date {member_id} signed the undertaking")]
            ) from None
        agreements.record_undertaking(db, scheme_id, member_id, day, manager.actor, by=manager)
    except agreements.AgreementsError as error:
        return _scheme_view(request, db, manager, scheme_id, (member_id, _problems(error), signed_on))
    member = agreements.scheme_member(db, scheme_id, member_id)  # shown next on the register's page
    who = f"{member.name} ({member_id})" if member is not None else member_id
    return done_redirect(path, f"Recorded: {who} signed the undertaking on {_day(day)}.")
