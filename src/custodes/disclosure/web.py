"""Disclosure screens: the request wizard, the case page, the queues, reviews, corrections and documents.

Thin: each handler parses the form, calls `disclosure.service`, and renders. The wizard posts the whole
request each time and shows the rule findings beside the part of the form they concern.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from custodes.agreements import service as agreements
from custodes.disclosure import rules
from custodes.disclosure import service as disclosure
from custodes.disclosure.schemas import (
    JAPAN_QUESTIONS,
    ROUTE_TITLES,
    STATUS_TITLES,
    CheckResult,
    DisclosureDetail,
    ItemKind,
    Nature,
    OffenceOutcome,
    OutcomeKind,
    PersonCategory,
    Purpose,
    RequestUnreadable,
    ReviewOutcome,
    Route,
    SourceKind,
    Status,
)
from custodes.identity import service as identity
from custodes.identity.permissions import Permission
from custodes.identity.schemas import Principal
from custodes.kit.db import utcnow
from custodes.kit.pdf import html_to_pdf
from custodes.kit.timefmt import london_day, rfc3339
from custodes.kit.words import plural
from custodes.web.deps import Db, require
from custodes.web.forms import date_of_birth_in
from custodes.web.notices import done_redirect
from custodes.web.templating import environment, render

router = APIRouter()
Requester = Annotated[Principal, Depends(require(Permission.DISCLOSURE_REQUEST))]
Authoriser = Annotated[Principal, Depends(require(Permission.DISCLOSURE_AUTHORISE))]
Reviewer = Annotated[Principal, Depends(require(Permission.DISCLOSURE_REVIEW))]
Overseer = Annotated[Principal, Depends(require(Permission.DISCLOSURE_OVERSEE))]
Corrector = Annotated[Principal, Depends(require(Permission.CORRECTIONS_MANAGE))]
# A case is open to the people on it and to those who authorise or oversee; the service decides.
Anyone = Annotated[Principal, Depends(require(Permission.SELF_VIEW))]
MAX_ROWS = 30  # items, intelligence records or past outcomes in one request


async def posted(request: Request) -> FormData:
    return await request.form()


Posted = Annotated[FormData, Depends(posted)]


# The lawful bases configured by default (identity's `lawful_bases`), in words. The code is what is stored
# and checked; a code configured locally that is not here is shown as it is.
LAWFUL_BASIS_TITLES = {
    "DPA2018_Part3": "Data Protection Act 2018, Part 3 (law enforcement)",
    "CDA1998_s115": "Crime and Disorder Act 1998, s.115",
    "common_law": "Common law (policing purposes)",
    "UKGDPR_6_1_e": "UK GDPR Art. 6(1)(e): public task",
    "UKGDPR_6_1_d": "UK GDPR Art. 6(1)(d): vital interests",
    "UKGDPR_6_1_c": "UK GDPR Art. 6(1)(c): legal obligation",
}


def route_title(route: Route | str) -> str:
    """A route's name in a list, as the request form names it: "Crime-reduction scheme", "One-off share"."""
    return ROUTE_TITLES[Route(route)].split(" (")[0].split(":")[0]


def basis_title(code: str | None) -> str:
    """A lawful basis as staff read it: its words for a known code, else the code itself."""
    return LAWFUL_BASIS_TITLES.get(code or "", code or "")


def _names(db: Db) -> dict[str, Any]:
    """What lists and the case page need to show names beside codes: partner organisations (not personal
    data; scheme members, who may be individuals, are named on the case page, within its consultation),
    schemes and agreements."""
    return {
        "route_title": route_title,
        "recipient_names": {o.org_id: o.name for o in agreements.list_organisations(db)},
        "scheme_names": {scheme.scheme_id: scheme.name for scheme in agreements.list_schemes(db)},
        "agreement_names": {a.agreement_id: a.title for a in agreements.list_agreements(db)},
    }


def _people(db: Db, staff_ids: Iterable[str | None]) -> dict[str, Any]:
    """`who` ('Tunde Mills (S12778)') for the staff numbers a page shows, in one query, and `area` ('North
    Division (NA)') for area codes. Colleagues' names are not a subject's personal data: not logged."""
    return {"who": identity.staff_labeller(db, staff_ids), "area": identity.area_labeller(db)}


def _rows_subjects(db: Db, principal: Principal, why: str, *row_lists: Sequence[Any]) -> dict[str, Any]:
    """`subjects`: who each row is about (name and nominal id), for a list; one consultation for the page,
    naming everyone it shows."""
    ids = [row.subject_id for rows in row_lists for row in rows]
    return {"subjects": disclosure.subjects_shown(db, ids, actor=principal.actor, justification=why)}


def _subject_on_form(
    db: Db, principal: Principal, subject_id: str | None, detail: DisclosureDetail | None = None
) -> Any:
    """Who the form's subject is, shown beside the field: the case's (already within the case page's
    consultation) or, for an id just typed or chosen, looked up and logged as a consultation."""
    if not subject_id:
        return None
    stored = detail.extra.get("subject") if detail else None
    if stored is not None and stored.subject_id == subject_id:
        return stored
    shown = disclosure.subjects_shown(
        db,
        [subject_id],
        actor=principal.actor,
        justification="disclosure request form: who the subject is",
        object_type="disclosure",
    )
    return shown[subject_id]


def _rows_people(db: Db, *row_lists: Sequence[Any]) -> dict[str, Any]:
    return _people(db, [row.requested_by for rows in row_lists for row in rows])


def _detail_people(db: Db, detail: DisclosureDetail) -> dict[str, Any]:
    return _people(
        db,
        [
            detail.summary.requested_by,
            detail.authorised_by,
            detail.refused_by,
            detail.released_by,
            *(review.reviewed_by for review in detail.reviews),
            *(line.actor for line in detail.history),
            *(item.verified.by for item in (detail.request.items if detail.request else ()) if item.verified),
        ],
    )


def _verifiers(db: Db, document: dict[str, Any], *others: str | None) -> dict[str, Any]:
    """`who` for the form's items' "Verified by" (the form's document, as typed or stored), and `others`."""
    items = document.get("items") or []
    return _people(
        db, [*(((i.get("verified") or {}).get("by")) for i in items if isinstance(i, dict)), *others]
    )


def _choices(db: Db) -> dict[str, Any]:
    """What the wizard's selects offer."""
    return {
        "routes": ROUTE_TITLES,
        "purposes": [p.value for p in Purpose],
        "item_kinds": [k.value for k in ItemKind],
        "source_kinds": [k.value for k in SourceKind],
        "natures": [n.value for n in Nature],
        "categories": [c.value for c in PersonCategory],
        "outcomes": [o.value for o in OffenceOutcome],
        "outcome_kinds": [k.value for k in OutcomeKind],
        "lawful_bases": disclosure.vocabulary(db),
        "basis_title": basis_title,
        "japan_questions": JAPAN_QUESTIONS,
        "organisations": agreements.list_organisations(db),
        "schemes": agreements.list_schemes(db),
        "agreements": agreements.list_agreements(db),
    }


# --------------------------------------------------------------------------- form ↔ request document


def _text(form: FormData, key: str) -> str | None:
    value = form.get(key)
    return value.strip() or None if isinstance(value, str) else None


def _route_fields(form: FormData) -> dict[str, str | None]:
    """The scheme and the agreement as the form shows them: each only on its own route (the forms hide the
    other, so a choice left in a hidden field is not taken)."""
    route = _text(form, "route")
    return {
        "scheme": _text(form, "scheme") if route == Route.PARTNERSHIP_SCHEME.value else None,
        "agreement": _text(form, "agreement") if route == Route.AGREEMENT.value else None,
    }


# The wizard's repeated groups: form prefix → (request field, what a row is called).
GROUPS = {
    "item": ("items", "items"),
    "intel": ("intelligence", "intelligence records"),
    "outcome": ("previous_outcomes", "previous outcomes"),
}


def _rows(form: FormData, prefix: str) -> list[int]:
    """Row numbers present in the form for a repeated group (`item-3-kind` → 3), minus removed ones."""
    numbers = set()
    for key in form:
        parts = key.split("-")
        if len(parts) >= 3 and parts[0] == prefix and parts[1].isdigit():
            numbers.add(int(parts[1]))
    return sorted(n for n in numbers if not form.get(f"{prefix}-{n}-remove"))


def full(document: dict[str, Any], prefix: str) -> bool:
    """Whether a repeated group already holds MAX_ROWS rows (the wizard then offers no "Add" button)."""
    return len(document.get(GROUPS[prefix][0]) or []) >= MAX_ROWS


def document_from_form(form: FormData, actor: Principal, previous: dict[str, Any]) -> dict[str, Any]:
    """The request document the wizard's fields describe. Verification keeps who verified and when.

    A group holds at most MAX_ROWS rows: more are refused (RequestUnreadable naming the limit), never
    dropped. The "Add" buttons are `add_row`'s."""
    before = {index: item for index, item in enumerate(previous.get("items", []))}
    document: dict[str, Any] = {
        "route": _text(form, "route"),
        "subject": _text(form, "subject"),
        "purpose": _text(form, "purpose"),
        "recipients": [r for r in form.getlist("recipients") if isinstance(r, str) and r.strip()],
        **_route_fields(form),
        "lawful_basis": _text(form, "lawful_basis"),
        "rationale": _text(form, "rationale"),
        "items": [_item(form, n, actor, before.get(n)) for n in _rows(form, "item")],
        "intelligence": [
            {
                "record_id": _text(form, f"intel-{n}-record_id"),
                "recorded_at": _text(form, f"intel-{n}-recorded_at"),
                "grading": _text(form, f"intel-{n}-grading"),
                "summary": _text(form, f"intel-{n}-summary"),
            }
            for n in _rows(form, "intel")
            if _text(form, f"intel-{n}-record_id") or _text(form, f"intel-{n}-recorded_at")
        ],
        "previous_outcomes": [
            {
                "kind": _text(form, f"outcome-{n}-kind"),
                "record_id": _text(form, f"outcome-{n}-record_id"),
                "date": _text(form, f"outcome-{n}-date"),
            }
            for n in _rows(form, "outcome")
            if _text(form, f"outcome-{n}-kind")
        ],
        "risk_assessment": {"risks": _text(form, "risks"), "plan": _text(form, "plan")},
        "japan": {name: _text(form, f"japan-{name}") for name in JAPAN_QUESTIONS},
        "danger_to_recipients": bool(form.get("danger_to_recipients")),
        "exclusion_notice": bool(form.get("exclusion_notice")),
        "name_justification": _text(form, "name_justification"),
    }
    too_many = [
        f"{field}: a request holds at most {MAX_ROWS} {words}; the form sent {len(document[field])}, so "
        "nothing was saved"
        for field, words in GROUPS.values()
        if len(document[field]) > MAX_ROWS
    ]
    if too_many:
        raise RequestUnreadable(too_many)
    return document


BLANK_ROWS = {
    "item": {"kind": "other", "content": ""},
    "intel": {"record_id": "", "recorded_at": ""},
    "outcome": {"kind": "conviction"},
}


def add_row(document: dict[str, Any], prefix: str) -> bool:
    """The wizard's "Add …" button: a blank row at the end of the group, unless it is full (False)."""
    if full(document, prefix):
        return False
    document[GROUPS[prefix][0]].append(dict(BLANK_ROWS[prefix]))
    return True


def _checked_against(item: dict[str, Any]) -> tuple[Any, ...]:
    """What an item's verification vouches for: its words, its source record and (a photo) the photo's
    details. A verification is kept only while all of them stay as they were."""

    def plain(value: Any) -> Any:
        return (value.strip() or None) if isinstance(value, str) else value

    source, photo = item.get("source"), item.get("photo")
    return (
        plain(item.get("content")),
        tuple(plain(source.get(key)) for key in ("kind", "system", "record_id")) if source else None,
        tuple(plain(photo.get(key)) for key in ("custody_image", "offence_outcome", "held_on"))
        if photo
        else None,
    )


def _item(form: FormData, n: int, actor: Principal, before: dict[str, Any] | None) -> dict[str, Any]:
    key = f"item-{n}-"
    item: dict[str, Any] = {
        "kind": _text(form, key + "kind") or "other",
        "content": _text(form, key + "content") or "",
        "nature": _text(form, key + "nature"),
        "person_category": _text(form, key + "person_category"),
        "special_category": bool(form.get(key + "special_category")),
        "sensitive_condition": _text(form, key + "sensitive_condition"),
        "strictly_necessary": _text(form, key + "strictly_necessary"),
    }
    source_kind = _text(form, key + "source_kind")
    if source_kind:
        item["source"] = {
            "kind": source_kind,
            "system": _text(form, key + "source_system"),
            "record_id": _text(form, key + "source_record_id"),
        }
    if item["kind"] == ItemKind.PHOTO:
        item["photo"] = {
            "custody_image": bool(form.get(key + "custody_image")),
            "offence_outcome": _text(form, key + "offence_outcome") or "not_known",
            "held_on": _text(form, key + "held_on"),
        }
    if form.get(key + "verified"):
        earlier = (before or {}).get("verified")
        same = before is not None and earlier and _checked_against(before) == _checked_against(item)
        item["verified"] = (
            earlier
            if same
            else {
                "by": actor.staff_id,
                "at": rfc3339(utcnow()),
                "method": _text(form, key + "verified_method") or "checked against the source record",
            }
        )
    return item


# --------------------------------------------------------------------------- my requests and the wizard


@router.get("/disclosures")
def my_disclosures(request: Request, db: Db, principal: Requester) -> Any:
    rows = disclosure.list_disclosures(db, requested_by=principal.staff_id)
    return render(
        request,
        "disclosure/disclosures.html",
        **_names(db),
        **_rows_people(db, rows),
        **_rows_subjects(db, principal, "own disclosure requests list", rows),
        title="My disclosures",
        rows=rows,
        came_back={
            number: line
            for number, line in disclosure.came_back(db, rows).items()
            if line.actor != principal.staff_id  # not a request the officer took back themself
        },
        came_back_titles=CAME_BACK_TITLES,
        heading="My disclosure requests",
        status_titles=STATUS_TITLES,
        mine=True,
    )


# The badge beside the status of a request that came back to its officer (`disclosure.came_back`).
CAME_BACK_TITLES = {
    "sent back": "Sent back",
    "authorisation withdrawn": "Authorisation withdrawn",
    "lapsed": "Lapsed to draft",
    "returned to draft": "Returned to draft",
}


# What the first page's fields are called in a query string: the subject search sends them back with the
# person chosen, so what the officer had answered is kept.
START_FIELDS = ("route", "subject", "purpose", "scheme", "agreement")


@router.get("/disclosures/new")
def new_request(request: Request, db: Db, principal: Requester) -> Any:
    given = {key: (request.query_params.get(key) or "").strip() for key in START_FIELDS}
    # No route or purpose is chosen for the officer: each starts at "Choose…".
    document: dict[str, Any] = {key: value for key, value in given.items() if value}
    document = {**document, "recipients": []}
    return _start_page(request, db, principal, document, [])


# --------------------------------------------------------------------------- finding the subject by name


def _subject_page(
    request: Request,
    principal: Principal,
    values: dict[str, str],
    found: Any = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Any:
    """The subject search. Not choosing for a draft or a new request's form (nothing carried), each person
    found also links to the disclosures about them (for those who oversee every disclosure) and to their
    audit trail (for those who search the ledger, with this search's reason, which the ledger requires)."""
    draft = values.get("draft", "")
    carried = _carried(values)
    looking_up = _looking_up(principal, values)

    def disclosures_about(subject_id: str) -> str:
        return "/disclosures/all?" + urlencode({"subject": subject_id})

    def audit_trail(subject_id: str) -> str:
        return "/audit/entries?" + urlencode({"subject": subject_id, "reason": values.get("reason", "")})

    return render(
        request,
        "disclosure/subject_search.html",
        status_code=status,
        title="Find a person" if looking_up else "Find the subject",
        looking_up=looking_up,
        values=values,
        found=found,
        errors=errors or {},
        draft=draft,
        carried=carried,
        limit=disclosure.SUBJECT_SEARCH_LIMIT,
        disclosures_about=disclosures_about
        if looking_up and principal.can(Permission.DISCLOSURE_OVERSEE)
        else None,
        audit_trail=audit_trail if looking_up and principal.can(Permission.LEDGER_VIEW) else None,
    )


def _carried(values: dict[str, str]) -> dict[str, str]:
    """A new request's answers carried through the subject search (choosing its subject)."""
    return {key: values[key] for key in START_FIELDS if key != "subject" and values.get(key)}


def _looking_up(principal: Principal, values: dict[str, str]) -> bool:
    """The search is to find a person's disclosures or audit trail: not for a draft or a new request, by
    someone who may see either."""
    may_see = principal.can(Permission.DISCLOSURE_OVERSEE) or principal.can(Permission.LEDGER_VIEW)
    return may_see and not values.get("draft") and not _carried(values)


@router.get("/disclosures/subjects")
def find_subject(request: Request, db: Db, principal: Requester) -> Any:
    """Search the nominal register by name (and date of birth) for a request's subject. Without JavaScript:
    a GET form, results with a "Choose" button each. Every person shown is a logged consultation."""
    keys = ("surname", "forenames", "date_of_birth", "reason", "draft", *START_FIELDS)
    values = {key: (request.query_params.get(key) or "").strip()[:200] for key in keys}
    if not values["draft"].isdigit():
        values["draft"] = ""
    if not any(values[key] for key in ("surname", "forenames", "date_of_birth", "reason")):
        return _subject_page(request, principal, values)  # the empty form: nothing searched, nothing shown
    errors: dict[str, str] = {}
    born = date_of_birth_in(values, errors)
    if not errors:
        try:
            found = disclosure.find_subject(
                db,
                principal,
                surname=values["surname"],
                forenames=values["forenames"],
                date_of_birth=born,
                reason=values["reason"],
                disclosure_id=int(values["draft"]) if values["draft"] else None,
                looking_up=_looking_up(principal, values),
            )
        except disclosure.SubjectSearchRefused as error:
            errors = dict(error.problems)
        except disclosure.DisclosureError as error:  # not their draft, or no longer a draft
            errors[""] = str(error)
        else:
            return _subject_page(request, principal, values, found)
    return _subject_page(request, principal, values, errors=errors, status=400)


@router.post("/disclosures/{disclosure_id}/subject")
def choose_subject(
    db: Db,
    principal: Requester,
    disclosure_id: int,
    subject: Annotated[str, Form(max_length=64)] = "",
) -> Any:
    try:
        disclosure.choose_subject(db, disclosure_id, subject, principal)
    except RequestUnreadable as error:
        return done_redirect(f"/disclosures/{disclosure_id}/edit", " ".join(_plain(error.problems)))
    except disclosure.DisclosureError as error:
        return done_redirect(f"/disclosures/{disclosure_id}", str(error))
    return done_redirect(
        f"/disclosures/{disclosure_id}/edit",
        f"Subject set to {subject.strip()}. The checks have been run again.",
    )


def _start_page(
    request: Request,
    db: Db,
    principal: Principal,
    document: dict[str, Any],
    problems: list[str],
    status: int = 200,
) -> Any:
    return render(
        request,
        "disclosure/new.html",
        status_code=status,
        title="New disclosure request",
        doc=document,
        problems=problems,
        subject=_subject_on_form(db, principal, document.get("subject")),
        **_choices(db),
    )


@router.post("/disclosures/new")
def create_request(request: Request, db: Db, principal: Requester, form: Posted) -> Any:
    document: dict[str, Any] = {
        "route": _text(form, "route"),
        "subject": _text(form, "subject"),
        "purpose": _text(form, "purpose"),
        **_route_fields(form),
        "recipients": [],
    }
    if form.get("then") == "find_subject":  # nothing saved yet: the search carries the answers and back
        answered = {key: document[key] for key in START_FIELDS if key != "subject" and document.get(key)}
        query = f"?{urlencode(answered)}" if answered else ""
        return RedirectResponse(f"/disclosures/subjects{query}", status_code=303)
    try:
        disclosure_id = disclosure.create_draft(db, document, principal)
    except RequestUnreadable as error:
        return _start_page(request, db, principal, document, _plain(error.problems), status=400)
    return done_redirect(
        f"/disclosures/{disclosure_id}/edit", "Draft saved. Fill in the rest; the checks update as you save."
    )


def _plain(problems: list[str]) -> list[str]:
    """Field paths as a sergeant reads them: `items.0.source.kind` → `Item 1, source kind`."""
    readable = []
    for problem in problems:
        where, _, message = problem.partition(": ")
        parts = where.split(".")
        words: list[str] = []
        for part in parts:
            if part.isdigit():
                words[-1] = f"{words[-1].rstrip('s')} {int(part) + 1}," if words else part
            else:
                words.append(part.replace("_", " "))
        readable.append(f"{' '.join(words).rstrip(',').capitalize()}: {message}")
    return readable


def _wizard(
    request: Request,
    db: Db,
    principal: Principal,
    disclosure_id: int,
    document: dict[str, Any],
    result: CheckResult | None,
    problems: list[str],
    status: int = 200,
    problems_heading: str = "",
    came_back: Any = None,
    detail: DisclosureDetail | None = None,
) -> Any:
    """The wizard. `came_back` is the step that last took the request back to draft (`view`'s
    extra["came_back"]): who sent it back or why it lapsed is shown at the top until it is submitted again."""
    members = []
    if document.get("scheme"):
        members = disclosure.recipient_choices(db, document["scheme"], disclosure_id, principal)
    return render(
        request,
        "disclosure/wizard.html",
        status_code=status,
        title=f"Request {disclosure_id}",
        disclosure_id=disclosure_id,
        doc=document,
        result=result,
        problems=problems,
        problems_heading=problems_heading,
        members=members,
        max_rows=MAX_ROWS,
        full={prefix: full(document, prefix) for prefix in GROUPS},
        came_back=came_back,
        subject=_subject_on_form(db, principal, document.get("subject"), detail),
        **_choices(db),
        **_verifiers(db, document, came_back.actor if came_back else None),
    )


@router.get("/disclosures/{disclosure_id}/edit")
def edit_request(request: Request, db: Db, principal: Requester, disclosure_id: int) -> Any:
    detail = _case(db, disclosure_id, principal, "editing own disclosure draft")
    if not _editable(detail, principal):
        return RedirectResponse(f"/disclosures/{disclosure_id}", status_code=303)
    return _wizard(
        request,
        db,
        principal,
        disclosure_id,
        _document(detail),
        detail.result,
        [],
        came_back=_came_back(detail),
        detail=detail,
    )


def _came_back(detail: DisclosureDetail) -> Any:
    return detail.extra.get("came_back")


def _editable(detail: DisclosureDetail, principal: Principal) -> bool:
    summary = detail.summary
    return summary.status == Status.DRAFT and summary.requested_by == principal.staff_id


def _document(detail: DisclosureDetail) -> dict[str, Any]:
    return detail.request.as_document() if detail.request else {}


@router.post("/disclosures/{disclosure_id}/edit")
def save_request(request: Request, db: Db, principal: Requester, disclosure_id: int, form: Posted) -> Any:
    detail = _case(db, disclosure_id, principal, "editing own disclosure draft")
    if not _editable(detail, principal):
        return done_redirect(
            f"/disclosures/{disclosure_id}", "Only a draft can be changed, by the officer who wrote it."
        )
    try:
        document = document_from_form(form, principal, _document(detail))
    except RequestUnreadable as error:  # more rows than a request holds: nothing is saved
        problems = _plain(error.problems)
        return _wizard(
            request,
            db,
            principal,
            disclosure_id,
            _document(detail),
            None,
            problems,
            status=400,
            came_back=_came_back(detail),
            detail=detail,
        )
    adding = form.get("add")
    added = isinstance(adding, str) and adding in GROUPS and add_row(document, adding)
    try:
        result = disclosure.update_draft(db, disclosure_id, document, principal)
    except RequestUnreadable as error:
        problems = _plain(error.problems)
        return _wizard(
            request,
            db,
            principal,
            disclosure_id,
            document,
            None,
            problems,
            400,
            came_back=_came_back(detail),
            detail=detail,
        )
    except disclosure.DisclosureError as error:
        return done_redirect(f"/disclosures/{disclosure_id}", str(error))
    if form.get("then") == "submit":
        return submit_request(request, db, principal, disclosure_id)
    if form.get("then") == "find_subject":
        return RedirectResponse(f"/disclosures/subjects?draft={disclosure_id}", status_code=303)
    if isinstance(adding, str) and adding in GROUPS:
        if added:
            return RedirectResponse(f"/disclosures/{disclosure_id}/edit#{adding}-end", status_code=303)
        return done_redirect(
            f"/disclosures/{disclosure_id}/edit",
            f"Saved. A request holds at most {MAX_ROWS} {GROUPS[adding][1]}: remove one to add another.",
            anchor=f"#{adding}-end",
        )
    message = {
        "ready": "Saved. No findings: you can submit it.",
        "needs_action": "Saved. Some findings need action before it can be released.",
        "blocked": "Saved. Blocking findings: this cannot go ahead as it stands.",
    }[result.decision.value]
    return done_redirect(f"/disclosures/{disclosure_id}/edit", message)


@router.post("/disclosures/{disclosure_id}/findings")
def live_findings(db: Db, principal: Requester, disclosure_id: int, form: Posted) -> Any:
    """The wizard's findings for what is on the form now, unsaved (progressive enhancement: wizard.js)."""
    try:
        current = disclosure.draft_document(db, disclosure_id, principal)
        result = disclosure.preview(
            db, disclosure_id, document_from_form(form, principal, current), principal
        )
    except RequestUnreadable as error:
        return {"decision": None, "problems": _plain(error.problems), "findings": []}
    except disclosure.DisclosureError as error:
        raise HTTPException(404, str(error)) from None
    return {
        "decision": result.decision.value,
        "problems": [],
        "findings": [{**f.as_dict(), "where": f.where} for f in result.findings],
    }


@router.post("/disclosures/{disclosure_id}/submit")
def submit_request(request: Request, db: Db, principal: Requester, disclosure_id: int) -> Any:
    try:
        disclosure.submit(db, disclosure_id, principal)
    except disclosure.DisclosureError as error:
        detail = _case(db, disclosure_id, principal, "editing own disclosure draft")
        if not _editable(detail, principal):
            return _case_page(request, db, principal, disclosure_id, {"": str(error)})
        result = error.result or detail.result
        document = _document(detail)
        heading = "Saved, but not submitted:"
        return _wizard(
            request,
            db,
            principal,
            disclosure_id,
            document,
            result,
            [str(error)],
            400,
            problems_heading=heading,
            came_back=_came_back(detail),
            detail=detail,
        )
    return done_redirect(f"/disclosures/{disclosure_id}", "Submitted for authorisation.")


# --------------------------------------------------------------------------- every disclosure, findings


@router.get("/disclosures/all")
def all_disclosures(request: Request, db: Db, principal: Overseer) -> Any:
    """Every disclosure, by status and, given a nominal id (`?subject=N2001`), only those about that person:
    how the DPU goes from a name (the subject search's "Disclosures about them") to their disclosures."""
    wanted = request.query_params.get("status", "")
    statuses = [Status(wanted)] if wanted in {s.value for s in Status} else []
    subject = (request.query_params.get("subject") or "").strip()[:64]
    rows = disclosure.list_disclosures(db, statuses=statuses, subject_id=subject or None)
    why = (
        f"disclosures oversight list: disclosures about {subject}"
        if subject
        else "disclosures oversight list"
    )
    # The person filtered on is named too (the heading), so the consultation names them even if none is found.
    shown = disclosure.subjects_shown(
        db, [subject, *(row.subject_id for row in rows)], actor=principal.actor, justification=why
    )
    return render(
        request,
        "disclosure/disclosures.html",
        **_names(db),
        **_rows_people(db, rows),
        subjects=shown,
        title="All disclosures",
        heading="All disclosures",
        rows=rows,
        counts=disclosure.counts_by_status(db, subject or None),
        status_titles=STATUS_TITLES,
        chosen=wanted if statuses else "",
        subject=subject,
        mine=False,
    )


@router.get("/disclosures/findings")
def findings_reference(request: Request, principal: Requester) -> Any:
    return render(
        request, "disclosure/findings.html", title="What the checks look for", findings=rules.FINDINGS
    )


# --------------------------------------------------------------------------- the case page


def _case(db: Db, disclosure_id: int, principal: Principal, why: str) -> DisclosureDetail:
    try:
        return disclosure.view(db, disclosure_id, principal, why)
    except disclosure.DisclosureError:
        raise HTTPException(404, "There is no such disclosure, or it is not yours to see.") from None


@router.get("/disclosures/{disclosure_id}")
def case_page(request: Request, db: Db, principal: Anyone, disclosure_id: int) -> Any:
    return _case_page(request, db, principal, disclosure_id)


def _case_page(
    request: Request,
    db: Db,
    principal: Principal,
    disclosure_id: int,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Any:
    """The case page; after a refused action, again with the error at its field (400) and what was typed."""
    detail = _case(db, disclosure_id, principal, "disclosure case page")
    return render(
        request,
        "disclosure/case.html",
        **_names(db),
        **_detail_people(db, detail),
        status_code=400 if errors else 200,
        errors=errors or {},
        values=values or {},
        title=detail.summary.label,
        d=detail,
        status_titles=STATUS_TITLES,
        route_titles=ROUTE_TITLES,
        may_complete=disclosure.may_complete(detail, principal),
        may_record_receipt=disclosure.may_record_receipt(detail, principal),
        may_return=disclosure.may_return_to_draft(detail, principal),
        may_send_back=disclosure.may_send_back(detail, principal),
        may_withdraw=disclosure.may_withdraw_authorisation(detail, principal),
        can_authorise=principal.can(Permission.DISCLOSURE_AUTHORISE),
        can_review=principal.can(Permission.DISCLOSURE_REVIEW),
        can_correct=principal.can(Permission.CORRECTIONS_MANAGE),
        can_hold=principal.can(Permission.RETENTION_MANAGE),
        japan_questions=JAPAN_QUESTIONS,
        basis_title=basis_title,
        today=london_day(utcnow()),
        now=utcnow(),
    )


# --------------------------------------------------------------------------- authorisation and release


@router.get("/disclosures/queue/authorise")
def authorisation_queue(request: Request, db: Db, principal: Authoriser) -> Any:
    waiting = disclosure.authorisation_queue(db, principal)
    to_release = disclosure.release_queue(db, principal)
    return render(
        request,
        "disclosure/queue.html",
        **_names(db),
        **_rows_people(db, waiting, to_release),
        **_rows_subjects(db, principal, "disclosure authorisation queue", waiting, to_release),
        title="Authorisation queue",
        waiting=waiting,
        to_release=to_release,
        stale=disclosure.stale_flags(
            db, [*waiting, *to_release], london_day(utcnow()), _stale_after(request)
        ),
        status_titles=STATUS_TITLES,
        now=utcnow(),
    )


@router.post("/disclosures/{disclosure_id}/authorise")
def authorise(
    request: Request,
    db: Db,
    principal: Authoriser,
    disclosure_id: int,
    note: Annotated[str, Form(max_length=4000)] = "",
) -> Any:
    return _step(
        request,
        db,
        principal,
        disclosure_id,
        "Authorised.",
        lambda: disclosure.authorise(db, disclosure_id, principal, note),
        values={"note": note},
    )


@router.post("/disclosures/{disclosure_id}/refuse")
def refuse(
    request: Request,
    db: Db,
    principal: Authoriser,
    disclosure_id: int,
    reasons: Annotated[str, Form(max_length=4000)] = "",
) -> Any:
    return _step(
        request,
        db,
        principal,
        disclosure_id,
        "Refused; the officer can see your reasons.",
        lambda: disclosure.refuse(db, disclosure_id, principal, reasons),
        field="" if reasons.strip() else "reasons",
        values={"reasons": reasons},
    )


@router.post("/disclosures/{disclosure_id}/send-back")
def send_back(
    request: Request,
    db: Db,
    principal: Authoriser,
    disclosure_id: int,
    reason: Annotated[str, Form(max_length=4000)] = "",
) -> Any:
    """An authoriser returns a submitted request to its officer as a draft, saying what to change."""
    return _step(
        request,
        db,
        principal,
        disclosure_id,
        "Sent back to the officer as a draft; they can see your reason.",
        lambda: disclosure.send_back(db, disclosure_id, principal, reason),
        field="" if reason.strip() else "send_back_reason",
        values={"send_back_reason": reason},
    )


@router.post("/disclosures/{disclosure_id}/withdraw-authorisation")
def withdraw_authorisation(
    request: Request,
    db: Db,
    principal: Authoriser,
    disclosure_id: int,
    reason: Annotated[str, Form(max_length=4000)] = "",
) -> Any:
    """An authoriser (or the DPU) withdraws the authorisation of a request not yet released, saying why."""
    return _step(
        request,
        db,
        principal,
        disclosure_id,
        "Authorisation withdrawn: it cannot be released, and waits for a decision again. "
        "The officer can see your reason.",
        lambda: disclosure.withdraw_authorisation(db, disclosure_id, principal, reason),
        field="" if reason.strip() else "withdraw_reason",
        values={"withdraw_reason": reason},
    )


@router.post("/disclosures/{disclosure_id}/release")
def release(request: Request, db: Db, principal: Requester, disclosure_id: int, form: Posted) -> Any:
    undertakings: dict[str, date] = {}
    typed = {
        key: value for key, value in form.items() if key.startswith("undertaking-") and isinstance(value, str)
    }
    errors = {}
    for key, value in typed.items():
        if value.strip():
            try:
                undertakings[key.removeprefix("undertaking-")] = date.fromisoformat(value.strip())
            except ValueError:
                errors[key] = f"Undertaking signed on: {value!r} is not a date. Give the day it was signed."
    if errors:
        return _case_page(request, db, principal, disclosure_id, errors, typed)
    try:
        reference = disclosure.release(db, disclosure_id, principal, undertakings)
    except disclosure.DisclosureError as error:
        return _case_page(request, db, principal, disclosure_id, {"": str(error)}, typed)
    return done_redirect(f"/disclosures/{disclosure_id}", f"Released. Reference {reference}.")


@router.post("/disclosures/{disclosure_id}/return")
def return_to_draft(
    request: Request,
    db: Db,
    principal: Requester,
    disclosure_id: int,
    reason: Annotated[str, Form(max_length=4000)] = "",
) -> Any:
    """The requesting officer takes a submitted or authorised request back as a draft, to put it right."""
    try:
        disclosure.return_to_draft(db, disclosure_id, principal, reason)
    except disclosure.DisclosureError as error:
        field = "" if reason.strip() else "return_reason"
        try:
            typed = {"return_reason": reason}
            return _case_page(request, db, principal, disclosure_id, {field: str(error)}, typed)
        except HTTPException:  # not theirs to see: the reason alone, on the error page
            raise HTTPException(400, str(error)) from None
    return done_redirect(
        f"/disclosures/{disclosure_id}/edit", "Returned to draft. Put it right, then submit it again."
    )


@router.post("/disclosures/{disclosure_id}/receipt")
def receipt(
    request: Request,
    db: Db,
    principal: Requester,
    disclosure_id: int,
    recipient: Annotated[str, Form(max_length=64)] = "",
) -> Any:
    return _step(
        request,
        db,
        principal,
        disclosure_id,
        f"Receipt by {recipient} recorded.",
        lambda: disclosure.record_receipt(db, disclosure_id, recipient, principal),
    )


def _step(
    request: Request,
    db: Db,
    principal: Principal,
    disclosure_id: int,
    message: str,
    action: Any,
    field: str = "",
    values: dict[str, str] | None = None,
) -> Any:
    """Do a case-page action: the "done" banner if it worked; if the service refused it, the case page
    again (400) with the reason at `field` (or at the top) and what was typed kept."""
    try:
        action()
    except disclosure.DisclosureError as error:
        try:
            return _case_page(request, db, principal, disclosure_id, {field: str(error)}, values)
        except HTTPException:  # not theirs to see: the reason alone, on the error page
            raise HTTPException(400, str(error)) from None
    return done_redirect(f"/disclosures/{disclosure_id}", message)


# --------------------------------------------------------------------------- completing an emergency record


def _completion_page(
    request: Request,
    db: Db,
    detail: DisclosureDetail,
    status: int = 200,
    errors: dict[str, str] | None = None,
    doc: dict[str, Any] | None = None,
) -> Any:
    """The completion form; after a refused save, again with each error at its field and what was typed."""
    return render(
        request,
        "disclosure/complete.html",
        status_code=status,
        title=f"Complete {detail.summary.label}",
        d=detail,
        doc=doc if doc is not None else _document(detail),
        errors=errors or {},
        **_choices(db),
        **_verifiers(db, doc if doc is not None else _document(detail)),
    )


def _field_id(problem: str) -> str:
    """The form field a service problem names: `items.0.source.kind: …` → `item-0-source_kind`."""
    where = problem.partition(": ")[0]
    parts = where.split(".")
    if len(parts) >= 3 and parts[0] == "items" and parts[1].isdigit():
        return f"item-{parts[1]}-{'_'.join(parts[2:])}"
    return "_".join(parts)


def _typed(stored: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """The stored record with what the officer typed laid over it, to show the form again as they left it."""
    shown = dict(stored)
    shown["items"] = [
        {**item, **{k: v for k, v in typed.items() if v is not None}}
        for item, typed in zip(stored.get("items", []), data.get("items", []), strict=True)
    ]
    if data.get("lawful_basis"):
        shown["lawful_basis_typed"] = data["lawful_basis"]
    shown["rationale_addition"] = data.get("rationale_addition")
    return shown


@router.get("/disclosures/{disclosure_id}/complete")
def completion_form(request: Request, db: Db, principal: Requester, disclosure_id: int) -> Any:
    detail = _case(db, disclosure_id, principal, "completing own emergency disclosure")
    if not disclosure.may_complete(detail, principal):
        return RedirectResponse(f"/disclosures/{disclosure_id}", status_code=303)
    return _completion_page(request, db, detail)


def completion_from_form(form: FormData, actor: Principal, previous: dict[str, Any]) -> dict[str, Any]:
    """The fields an emergency record is completed with (service.complete_emergency)."""
    items = []
    for n, before in enumerate(previous.get("items", [])):
        key = f"item-{n}-"
        item: dict[str, Any] = {
            "nature": _text(form, key + "nature"),
            "person_category": _text(form, key + "person_category"),
            "sensitive_condition": _text(form, key + "sensitive_condition"),
            "strictly_necessary": _text(form, key + "strictly_necessary"),
            "source": None,
            "verified": None,
        }
        if source_kind := _text(form, key + "source_kind"):
            item["source"] = {
                "kind": source_kind,
                "system": _text(form, key + "source_system"),
                "record_id": _text(form, key + "source_record_id"),
            }
        if form.get(key + "verified"):
            item["verified"] = before.get("verified") or {
                "by": actor.staff_id,
                "at": rfc3339(utcnow()),
                "method": _text(form, key + "verified_method") or "checked against the source record",
            }
        items.append(item)
    # The rationale recorded is shown, not posted: only an addition to it is. A lawful basis is offered only
    # while none is recorded.
    basis = {"rationale_addition": _text(form, "rationale_addition")}
    if not previous.get("lawful_basis"):
        basis["lawful_basis"] = _text(form, "lawful_basis")
    return {**basis, "items": items}


@router.post("/disclosures/{disclosure_id}/complete")
def complete(request: Request, db: Db, principal: Requester, disclosure_id: int, form: Posted) -> Any:
    detail = _case(db, disclosure_id, principal, "completing own emergency disclosure")
    if not disclosure.may_complete(detail, principal):
        return done_redirect(
            f"/disclosures/{disclosure_id}", "Only the officer who released it completes it."
        )
    data = completion_from_form(form, principal, _document(detail))
    try:
        result = disclosure.complete_emergency(db, disclosure_id, data, principal)
    except RequestUnreadable as error:
        errors = {
            _field_id(problem): plain
            for problem, plain in zip(error.problems, _plain(error.problems), strict=True)
        }
        return _completion_page(request, db, detail, 400, errors, _typed(_document(detail), data))
    except disclosure.DisclosureError as error:
        return _completion_page(request, db, detail, 400, {"": str(error)}, _typed(_document(detail), data))
    open_codes = result.codes() - {"AUTHORISATION_MISSING"}
    message = "Saved. Findings remain: see below." if open_codes else "Saved. It is ready to be authorised."
    return done_redirect(f"/disclosures/{disclosure_id}/complete", message)


# --------------------------------------------------------------------------- reviews


@router.get("/disclosures/queue/review")
def review_queue(request: Request, db: Db, principal: Reviewer) -> Any:
    rows = disclosure.review_queue(db, principal)
    return render(
        request,
        "disclosure/reviews.html",
        **_names(db),
        **_rows_people(db, rows),
        **_rows_subjects(db, principal, "disclosure reviews due", rows),
        title="Reviews due",
        rows=rows,
        today=london_day(utcnow()),
        status_titles=STATUS_TITLES,
    )


@router.post("/disclosures/{disclosure_id}/review")
def review(
    request: Request,
    db: Db,
    principal: Reviewer,
    disclosure_id: int,
    outcome: Annotated[str, Form()] = "",
    reasons: Annotated[str, Form(max_length=4000)] = "",
) -> Any:
    values = {"review-outcome": outcome, "review-reasons": reasons}
    if outcome not in {o.value for o in ReviewOutcome}:
        errors = {"review-outcome": "Outcome: choose whether to retain or withdraw."}
        return _case_page(request, db, principal, disclosure_id, errors, values)
    chosen = ReviewOutcome(outcome)
    message = "Retained; next review set." if chosen == ReviewOutcome.RETAIN else "Withdrawn; notices issued."
    return _step(
        request,
        db,
        principal,
        disclosure_id,
        message,
        lambda: disclosure.review(db, disclosure_id, principal, chosen, reasons),
        values=values,
    )


# --------------------------------------------------------------------------- corrections


@router.get("/corrections")
def corrections_page(request: Request, db: Db, principal: Corrector) -> Any:
    """The corrections screen; from a case (`?disclosure_id=12`, or its reference) it names the disclosure
    being corrected and offers its released items to choose from."""
    given = (request.query_params.get("disclosure_id") or "").strip()[:40]
    return _corrections(request, db, principal, values={"disclosure": given} if given else None)


def _corrections(
    request: Request,
    db: Db,
    principal: Principal,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Any:
    values = values or {}
    errors = dict(errors or {})
    recorded, outstanding = disclosure.corrections_screen(db, principal.actor)
    target = None
    if values.get("disclosure") and "disclosure" not in errors:
        try:
            disclosure_id = disclosure.find_disclosure(db, values["disclosure"])
            target = disclosure.correction_target(db, disclosure_id, principal)
        except disclosure.CorrectionRefused as error:
            errors.setdefault(error.field, str(error))
        except disclosure.DisclosureError as error:
            errors.setdefault("disclosure", f"Disclosure: {error}")
    return render(
        request,
        "disclosure/corrections.html",
        **_people(db, [c.reported_by for c in recorded]),
        status_code=400 if errors else 200,
        title="Corrections",
        corrections=recorded,
        outstanding=outstanding,
        now=utcnow(),
        errors=errors,
        values=values,
        target=target,
    )


CORRECTION_FIELDS = ("description", "system", "record_id", "disclosure", "item", "correct_text")


@router.post("/corrections")
def report_correction(request: Request, db: Db, principal: Corrector, form: Posted) -> Any:
    values = {key: (_text(form, key) or "")[:2000] for key in CORRECTION_FIELDS}
    values["disclosure"] = values["disclosure"] or (_text(form, "disclosure_id") or "")[:40]
    item = values["item"]
    if item and not (item.isdigit() and int(item) >= 1):
        error = {
            "item": f"Item: {item!r} is not an item number. Choose the item, or give its number (1, 2, …)."
        }
        return _corrections(request, db, principal, error, values)
    try:
        disclosure_id = disclosure.find_disclosure(db, values["disclosure"]) if values["disclosure"] else None
        correction_id, issued = disclosure.report_correction(
            db,
            principal,
            description=values["description"],
            system=values["system"] or None,
            record_id=values["record_id"] or None,
            disclosure_id=disclosure_id,
            item_number=int(item) - 1 if item else None,
            correct_text=values["correct_text"],
        )
    except disclosure.CorrectionRefused as refused:
        return _corrections(request, db, principal, {refused.field: str(refused)}, values)
    except disclosure.DisclosureError as error:
        return _corrections(request, db, principal, {"": str(error)}, values)
    reached = len({notice.disclosure_id for notice in issued})
    return done_redirect(
        "/corrections",
        f"Correction {correction_id} recorded: {plural(len(issued), 'notice')} "
        f"to the recipients of {plural(reached, 'disclosure')}.",
    )


@router.post("/corrections/notices/{notice_id}/acknowledge")
def acknowledge(
    db: Db, principal: Corrector, notice_id: int, note: Annotated[str, Form(max_length=2000)] = ""
) -> Any:
    try:
        disclosure.acknowledge_notice(db, notice_id, principal, note)
    except disclosure.DisclosureError as error:
        return done_redirect("/corrections", str(error))
    return done_redirect("/corrections", f"Notice {notice_id} acknowledged.")


# --------------------------------------------------------------------------- documents (PDF)

DOCUMENTS = {
    "authority": ("disclosure/pdf_authority.html", "Authority to release"),
    "review": ("disclosure/pdf_review.html", "Review record"),
    "undertaking": ("disclosure/pdf_undertaking.html", "Recipient undertaking"),
    "record": ("disclosure/pdf_record.html", "Disclosure record"),
}


@router.get("/disclosures/{disclosure_id}/{document}.pdf")
def document_pdf(request: Request, db: Db, principal: Anyone, disclosure_id: int, document: str) -> Any:
    if document not in DOCUMENTS:
        raise HTTPException(404, "No such document.")
    template, title = DOCUMENTS[document]
    detail = _case(db, disclosure_id, principal, f"printing the {title.lower()}")
    if detail.request is None:
        raise HTTPException(404, "This record's personal data was erased at the end of its retention.")
    if document == "authority" and detail.summary.released_at is None:
        # Offered from submission so the authoriser can read the grounds; marked so it is never taken for
        # the authority of a released disclosure.
        title = "Authority to release: for decision, not released"
    html = environment.get_template(template).render(
        **_detail_people(db, detail),
        d=detail,
        title=title,
        not_released=document == "authority" and detail.summary.released_at is None,
        generated=utcnow(),
        principal=principal,
        force_name=request.app.state.settings.force_name,
        route_titles=ROUTE_TITLES,
        status_titles=STATUS_TITLES,
        japan_questions=JAPAN_QUESTIONS,
        basis_title=basis_title,
    )
    name = (detail.summary.reference or f"request-{disclosure_id}").replace("/", "-")
    return Response(
        html_to_pdf(html),
        media_type="application/pdf",
        headers={"content-disposition": f'attachment; filename="{document}-{name}.pdf"'},
    )


# --------------------------------------------------------------------------- retention

Keeper = Annotated[Principal, Depends(require(Permission.RETENTION_MANAGE))]


@router.get("/retention")
def retention_page(request: Request, db: Db, principal: Keeper) -> Any:
    return _retention_page(request, db)


def _retention_page(
    request: Request, db: Db, errors: dict[str, str] | None = None, values: dict[str, str] | None = None
) -> Any:
    today = london_day(utcnow())
    due, held = disclosure.due_for_disposal(db, today)
    rules_now = disclosure.retention_rules(db)
    due_rows, held_rows = _summaries_of(db, due), _summaries_of(db, held)
    stale_after = _stale_after(request)
    stale = disclosure.stale_requests(db, today, stale_after)
    people = [rule.changed_by for rule in rules_now] + [
        r.requested_by for r in (*due_rows, *held_rows, *stale)
    ]
    return render(
        request,
        "disclosure/retention.html",
        **_names(db),
        **_people(db, people),
        status_code=400 if errors else 200,
        errors=errors or {},
        values=values or {},
        title="Retention",
        rules=rules_now,
        due=due_rows,
        held=held_rows,
        stale=stale,
        stale_flags=disclosure.stale_flags(db, stale, today, stale_after),
        stale_after=stale_after,
        stale_problem=disclosure.stale_setting_problem(db, stale_after),
        status_titles=STATUS_TITLES,
        basis_max=disclosure.RETENTION_BASIS_MAX,
    )


def _stale_after(request: Request) -> int:
    """The installation's `disclosure_stale_after_days` setting (docs/settings.md)."""
    return int(request.app.state.settings.disclosure_stale_after_days)


def _summaries_of(db: Db, rows: list[Any]) -> list[Any]:
    return [disclosure.summary_of(row) for row in rows]


@router.post("/retention/{record_type}")
def set_retention(
    request: Request,
    db: Db,
    principal: Keeper,
    record_type: str,
    keep_days: Annotated[str, Form(max_length=10)] = "",
    # A transport cap only: the rule (disclosure.RETENTION_BASIS_MAX) is the service's, so a basis a little
    # too long comes back at its field with the text kept, not as a bare error page.
    basis: Annotated[str, Form(max_length=4000)] = "",
) -> Any:
    field = f"keep_days-{record_type}"
    values = {field: keep_days, f"basis-{record_type}": basis}
    try:
        days = int(keep_days.strip())
    except ValueError:
        errors = {field: f"Keep for: give a whole number of days; {keep_days.strip()!r} is not one."}
        return _retention_page(request, db, errors, values)
    try:
        disclosure.set_retention_rule(
            db, record_type, days, basis, principal.actor, stale_after_days=_stale_after(request)
        )
    except disclosure.RetentionRuleRefused as error:
        if error.field == "basis":
            return _retention_page(request, db, {f"basis-{record_type}": str(error)}, values)
        return _retention_page(request, db, {field: f"Keep for: {error}"}, values)
    except disclosure.DisclosureError as error:
        return _retention_page(request, db, {field: f"Keep for: {error}"}, values)
    return done_redirect(
        "/retention", f"Retention for {record_type.replace('_', ' ')} set to {int(keep_days)} days."
    )


@router.post("/disclosures/{disclosure_id}/hold")
def legal_hold(
    request: Request,
    db: Db,
    principal: Keeper,
    disclosure_id: int,
    reason: Annotated[str, Form(max_length=2000)] = "",
    lift: Annotated[str, Form()] = "",
) -> Any:
    return _step(
        request,
        db,
        principal,
        disclosure_id,
        "Legal hold lifted." if lift else "Legal hold placed.",
        lambda: disclosure.set_legal_hold(db, disclosure_id, None if lift else reason, principal.actor),
        field="" if lift or reason.strip() else "hold-reason",
        values={"hold-reason": reason},
    )
