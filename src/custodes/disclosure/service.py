"""Disclosure rules in action: checking requests, and the lifecycle from draft to destruction.

The findings themselves live in `rules.py`; this module gathers what they need from the other modules'
services (`Facts`), applies them at every step, and records every transition in the ledger with the s.62
fields: who, what, about whom, why (justification) and to whom (recipients).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, func, or_, select, text, update
from sqlalchemy.orm import Session

from custodes import registers
from custodes.agreements import service as agreements
from custodes.disclosure import rules
from custodes.disclosure.models import (
    Correction,
    DisclosedSource,
    Disclosure,
    DisclosureEvent,
    DisclosureRecipient,
    DisclosureReview,
    Disposal,
    Notice,
    ReferenceCounter,
    RetentionRule,
)
from custodes.disclosure.schemas import (
    STATUS_TITLES,
    Authorisation,
    CheckResult,
    CorrectableItem,
    CorrectionTarget,
    DisclosureDetail,
    DisclosureRequest,
    DisclosureSummary,
    DisposalReport,
    HistoryLine,
    NoticeKind,
    NoticeLine,
    RecipientLine,
    RequestUnreadable,
    RetentionView,
    ReviewLine,
    ReviewOutcome,
    Route,
    Severity,
    Status,
    SubjectShown,
    Undertaking,
    parse_request,
)
from custodes.identity import service as identity
from custodes.identity.permissions import Permission, Role
from custodes.identity.schemas import Principal
from custodes.kit.db import create_if_absent, locked_row, utcnow
from custodes.kit.timefmt import london_day
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryDraft, EntryFilter, Op
from custodes.monitoring import service as monitoring
from custodes.settings import DEFAULT_DISCLOSURE_STALE_AFTER_DAYS, LONGEST_RETENTION_DAYS
from custodes.workforce import service as workforce
from custodes.workforce.schemas import SubjectRef

# Action findings that later steps resolve, so they do not stop an earlier one.
_SETTLED_AT = {
    "submit": {"AUTHORISATION_MISSING", "UNDERTAKING_MISSING"},
    "authorise": {"UNDERTAKING_MISSING"},
    "release": set(),
}
OPEN_STATUSES = (Status.DRAFT, Status.SUBMITTED, Status.AUTHORISED)


class DisclosureError(Exception):
    """A step that the rules or the lifecycle do not allow; the message says why, in plain English."""

    def __init__(self, message: str, result: CheckResult | None = None) -> None:
        super().__init__(message)
        self.result = result


# --------------------------------------------------------------------------- reading requests


def vocabulary(session: Session) -> list[str]:
    """The lawful bases an officer may name (configuration `lawful_bases`)."""
    return [
        basis.strip() for basis in identity.config_value(session, "lawful_bases").split(";") if basis.strip()
    ]


def read_request(session: Session, data: Any) -> DisclosureRequest:
    """Parse a request and check the ids that must exist; RequestUnreadable names every bad field.

    Recipients, scheme and agreement are not checked here: an unknown one is a finding, not bad input.
    """
    request = parse_request(data)
    problems = []
    if not _staff_known(session, request.requested_by):
        problems.append(f"requested_by: {request.requested_by} is not in the staff register")
    if monitoring.get_nominal(session, request.subject) is None:
        problems.append(f"subject: {request.subject} is not a known nominal")
    if request.authorisation and not _staff_known(session, request.authorisation.by):
        problems.append(f"authorisation.by: {request.authorisation.by} is not in the staff register")
    for number, item in enumerate(request.items):
        if item.verified and not _staff_known(session, item.verified.by):
            problems.append(f"items.{number}.verified.by: {item.verified.by} is not in the staff register")
    for number, undertaking in enumerate(request.undertakings):
        if undertaking.recipient not in request.recipients:
            problems.append(f"undertakings.{number}.recipient: {undertaking.recipient} is not a recipient")
    allowed = vocabulary(session)
    if request.lawful_basis and request.lawful_basis not in allowed:
        problems.append(f"lawful_basis: {request.lawful_basis} is not one of {', '.join(allowed)}")
    if problems:
        raise RequestUnreadable(problems)
    return request


def _staff_known(session: Session, staff_id: str) -> bool:
    return workforce.discloser_readiness(session, staff_id, date.today()).known


def check(
    session: Session, data: Any, on: date | None = None, *, actor: str, justification: str = "rule check"
) -> CheckResult:
    """`custodes disclosure check` and `POST /api/v1/disclosures/check`: the findings for a request.

    The findings are drawn from the subject's records (their stored address, conflicts declared about them,
    protected people) and quote the request's items back, so a check is a consultation of the subject's
    data, recorded in the ledger like opening a case.
    """
    request = read_request(session, data)
    result = evaluate(session, request, on or london_day(utcnow()))
    _consulted(
        session, actor, "disclosure_check", None, shown_about(request.subject, result, actor), justification
    )
    return result


def shown_about(subject: str, result: CheckResult, actor: str) -> tuple[str, ...]:
    """Whose data showing these findings consults: the subject, every protected person an item reveals
    (`PROTECTED_PERSON` confirms that a name or address is a refuge's or a protected witness's), and every
    other member of staff whose declared relationship with the subject a finding gives away."""
    others = (person for f in result.findings for person in f.about if f"staff:{person}" != actor)
    return tuple(dict.fromkeys((subject, *others)))


def _consulted(
    session: Session,
    actor: str,
    object_type: str,
    object_id: str | None,
    subjects: tuple[str, ...],
    justification: str,
) -> None:
    ledger.record_consultation(
        session,
        actor=actor,
        object_type=object_type,
        object_id=object_id,
        subjects=subjects,
        justification=justification,
    )


def evaluate(
    session: Session,
    request: DisclosureRequest,
    on: date,
    *,
    review_due: date | None = None,
    undertakings: Iterable[str] = (),
    corrections: bool = True,
    releaser: str | None = None,
) -> CheckResult:
    """The findings for a request. `corrections`: whether corrections recorded against its items count
    (FACT_CORRECTED); not for a disclosure already released, which corrections reach by notices."""
    facts = gather_facts(
        session, request, on, review_due, undertakings, corrections=corrections, releaser=releaser
    )
    return rules.evaluate(request, facts)


def gather_facts(
    session: Session,
    request: DisclosureRequest,
    on: date,
    review_due: date | None = None,
    undertakings: Iterable[str] = (),
    *,
    corrections: bool = True,
    releaser: str | None = None,
) -> rules.Facts:
    """What the rules need to know. `releaser`: the member of staff releasing, when they are neither the
    requester nor the authoriser (the DPU), checked as a third person handling the disclosure."""
    recipients = {recipient: _recipient_facts(session, recipient, on) for recipient in request.recipients}
    subject = monitoring.get_nominal(session, request.subject)
    authoriser = request.authorisation.by if request.authorisation else None
    return rules.Facts(
        on=on,
        recipients=recipients,
        agreements=_agreement_facts(session, request, recipients, on),
        scheme=_scheme_facts(session, request.scheme, on),
        requester=_discloser_facts(session, request.requested_by, subject, on),
        authoriser=_discloser_facts(session, authoriser, subject, on) if authoriser else None,
        subject=_person(subject) if subject else None,
        protected=tuple(_person(person) for person in monitoring.protected_nominals(session)),
        intelligence_currency_days=int(identity.config_value(session, "intelligence_currency_days")),
        intelligence_systems=_intelligence_systems(session),
        review_due=review_due,
        # An undertaking given in the request counts from the day it was signed, as the register's does.
        undertakings_on_file=frozenset(undertakings)
        | {u.recipient for u in request.undertakings if u.signed_at <= on},
        corrections=_corrections_against(session, request) if corrections else (),
        releaser=_discloser_facts(session, releaser, subject, on) if releaser else None,
    )


def _intelligence_systems(session: Session) -> tuple[str, ...]:
    """The configured intelligence systems (`intelligence_systems`, names separated by ';'), as named."""
    names = identity.config_value(session, "intelligence_systems").split(";")
    return tuple(name.strip() for name in names if name.strip())


def _recipient_facts(session: Session, recipient_id: str, on: date) -> rules.RecipientFacts | None:
    """A member counts as registered, and their undertaking as signed, only from the dates the register
    gives: on `on`, a later date has not happened yet (K10 6.2.1, 8.2.1)."""
    found = agreements.find_recipient(session, recipient_id)
    if found is None:
        return None
    return rules.RecipientFacts(
        recipient_id=found.recipient_id,
        name=found.name,
        competent_authority=found.competent_authority,
        org_id=found.org_id,
        scheme_id=found.scheme_id,
        member_active=found.member_on(on),
        undertaking_signed_on=found.undertaking_on(on),
    )


def _agreement_facts(
    session: Session,
    request: DisclosureRequest,
    recipients: dict[str, rules.RecipientFacts | None],
    on: date,
) -> tuple[rules.AgreementFacts, ...]:
    if request.agreement:
        found = agreements.get_agreement(session, request.agreement)
        views = [found] if found else []
    elif request.route == Route.AGREEMENT:
        org_ids = {r.org_id for r in recipients.values() if r and r.org_id}
        views = [view for org_id in sorted(org_ids) for view in agreements.agreements_for(session, org_id)]
    else:
        return ()
    return tuple(
        rules.AgreementFacts(
            agreement_id=view.agreement_id,
            title=view.title,
            parties=frozenset(view.parties),
            purposes=frozenset(view.purposes),
            data_categories=frozenset(view.data_categories),
            status=view.status_on(on),
            end_date=view.end_date,
        )
        for view in views
    )


def _scheme_facts(session: Session, scheme_id: str | None, on: date) -> rules.SchemeFacts | None:
    scheme = agreements.get_scheme(session, scheme_id) if scheme_id else None
    if scheme is None:
        return None
    return rules.SchemeFacts(
        scheme_id=scheme.scheme_id,
        name=scheme.name,
        area_code=scheme.area_code or "",
        recognised=scheme.recognised,
        manager_vetted=scheme.manager_vetted_on(on),
        manager_named=scheme.manager_name is not None,
    )


def _discloser_facts(session: Session, staff_id: str, subject: Any, on: date) -> rules.DiscloserFacts | None:
    readiness = workforce.discloser_readiness(session, staff_id, on)
    if not readiness.known:
        return None
    conflicts: tuple[str, ...] = ()
    if subject is not None:
        reference = SubjectRef(
            subject_id=subject.subject_id,
            surname=subject.surname,
            forenames=subject.forenames,
            date_of_birth=subject.date_of_birth,
            postcode=subject.postcode,
        )
        declared = workforce.declared_conflicts(session, staff_id, reference)
        conflicts = tuple(d.relationship or d.kind for d in declared)
        if subject.staff_id == staff_id or workforce.is_themself(session, staff_id, reference):
            conflicts += ("self",)
    return rules.DiscloserFacts(
        staff_id=staff_id,
        roles=frozenset(str(role) for role in readiness.roles),
        area_code=readiness.area_code,
        training_current=readiness.training_current,
        missing_training=tuple(readiness.missing_training),
        vetting_current=readiness.vetting_current,
        conflicts=conflicts,
    )


def _person(nominal: Any) -> rules.PersonFacts:
    return rules.PersonFacts(
        subject_id=nominal.subject_id,
        name=f"{nominal.forenames} {nominal.surname}".strip() or None,
        address=nominal.address,
        postcode=nominal.postcode,
    )


# --------------------------------------------------------------------------- the lifecycle


def _today() -> date:
    return london_day(utcnow())


def _load(session: Session, disclosure_id: int, *, lock: bool = False) -> Disclosure:
    """The disclosure row; `lock` takes its row lock (PostgreSQL `FOR UPDATE`; SQLite's write lock is already
    held) and reads it afresh, so a step's checks see what a concurrent step committed, not a copy loaded
    earlier in the same session (e.g. by the case view a screen opened first)."""
    query = select(Disclosure).where(Disclosure.id == disclosure_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    row = session.scalars(query).one_or_none()
    if row is None:
        raise DisclosureError(f"There is no disclosure {disclosure_id}.")
    return row


def _request_of(row: Disclosure) -> DisclosureRequest:
    return DisclosureRequest.model_validate_json(row.document)


def _store_document(row: Disclosure, request: DisclosureRequest) -> None:
    row.document = json.dumps(request.as_document(), ensure_ascii=False, sort_keys=True)


def _area_for(session: Session, request: DisclosureRequest) -> str:
    """Scheme disclosures belong to the scheme's area; others to the requester's."""
    if request.route == Route.PARTNERSHIP_SCHEME and request.scheme:
        scheme = agreements.get_scheme(session, request.scheme)
        if scheme is not None and scheme.area_code:
            return scheme.area_code
    area = workforce.discloser_readiness(session, request.requested_by, _today()).area_code
    return area or "HQ"


def _event(session: Session, row: Disclosure, actor: Principal, action: str, note: str | None = None) -> None:
    session.add(
        DisclosureEvent(disclosure_id=row.id, at=utcnow(), actor=actor.staff_id, action=action, note=note)
    )


def _entry(
    session: Session,
    row: Disclosure,
    actor: str,
    op: Op,
    action: str,
    *,
    justification: str | None = None,
    recipients: Sequence[str] = (),
    **detail: Any,
) -> None:
    ledger.record(
        session,
        EntryDraft(
            actor=actor,
            op=op,
            object_type="disclosure",
            object_id=str(row.id),
            subjects=(row.subject_id,) if row.subject_id else (),
            justification=justification,
            recipients=tuple(recipients),
            detail={"action": action, "route": row.route, "status": row.status, **detail},
        ),
    )


# A new request's first questions, which the form leaves unanswered ("Choose…") until the officer chooses.
FIRST_QUESTIONS = {
    "route": "choose how it is being shared (the route)",
    "purpose": "choose the purpose of the disclosure",
}


def create_draft(session: Session, data: Any, actor: Principal) -> int:
    """A new draft from the wizard's first page (or the API). The requester is always the actor."""
    unanswered: dict[str, str] = {}
    if isinstance(data, dict):
        data = {**data, "requested_by": actor.staff_id}
        unanswered = {field: words for field, words in FIRST_QUESTIONS.items() if not data.get(field)}
    try:
        request = read_request(session, data)
    except RequestUnreadable as error:
        if not unanswered:
            raise
        others = [problem for problem in error.problems if problem.partition(":")[0] not in unanswered]
        raise RequestUnreadable(
            [f"{field}: {words}" for field, words in unanswered.items()] + others
        ) from None
    now = utcnow()
    row = Disclosure(
        route=request.route.value,
        status=Status.DRAFT.value,
        area_code=_area_for(session, request),
        requested_by=actor.staff_id,
        subject_id=request.subject,
        document="{}",
        created_at=now,
        updated_at=now,
    )
    _store_document(row, request)
    session.add(row)
    session.flush()
    _event(session, row, actor, "drafted")
    _entry(session, row, actor.actor, Op.COLLECTION, "drafted", subject_purpose=request.purpose.value)
    return row.id


def update_draft(session: Session, disclosure_id: int, data: Any, actor: Principal) -> CheckResult:
    """Save the wizard; returns the findings for the saved request."""
    row = _load(session, disclosure_id, lock=True)
    _must_be_requester(row, actor)
    if row.status != Status.DRAFT:
        raise DisclosureError("Only a draft can be changed. This request has been submitted.")
    if isinstance(data, dict):
        data = {**data, "requested_by": row.requested_by, "authorisation": None}
    request = read_request(session, data)
    before = row.document
    row.route, row.subject_id = request.route.value, request.subject
    row.area_code = _area_for(session, request)
    _store_document(row, request)
    if row.document != before:
        row.updated_at = utcnow()
        _entry(session, row, actor.actor, Op.ALTERATION, "draft saved", sha256=_sha256(row.document))
    return evaluate(session, request, _today())


def preview(session: Session, disclosure_id: int, data: Any, actor: Principal) -> CheckResult:
    """The findings a draft would have with these answers, without saving them (the wizard, as one types).

    Showing them is a consultation of the subject on the form (which may not yet be the one saved).
    """
    row = _load(session, disclosure_id)
    _must_be_requester(row, actor)
    if isinstance(data, dict):
        data = {**data, "requested_by": row.requested_by, "authorisation": None}
    request = read_request(session, data)
    result = evaluate(session, request, _today())
    subjects = shown_about(request.subject, result, actor.actor)
    _consulted(session, actor.actor, "disclosure", str(row.id), subjects, "checking own disclosure draft")
    return result


def draft_document(session: Session, disclosure_id: int, actor: Principal) -> dict[str, Any]:
    """The stored request of one's own draft, to merge a form into (nothing is shown, so nothing logged)."""
    row = _load(session, disclosure_id)
    _must_be_requester(row, actor)
    return _request_of(row).as_document() if row.erased_at is None else {}


def recipient_choices(session: Session, scheme_id: str, disclosure_id: int, actor: Principal) -> list[Any]:
    """The scheme's members register for the wizard's recipient list. Members who are individuals are
    people, so showing it is a consultation of their data (as on the scheme's own register page)."""
    register = agreements.view_members_register(
        session,
        scheme_id,
        actor=actor.actor,
        justification=f"choosing recipients for disclosure request {disclosure_id}",
    )
    return register.get(scheme_id, [])


SUBJECT_SEARCH_LIMIT = monitoring.NOMINAL_SEARCH_LIMIT  # people one search for a subject shows


class SubjectSearchRefused(DisclosureError):
    """A search for a subject that is not run; `problems` gives each field's message."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__(" ".join(problems.values()))
        self.problems = problems


def find_subject(
    session: Session,
    actor: Principal,
    *,
    surname: str,
    forenames: str = "",
    date_of_birth: date | None = None,
    reason: str,
    disclosure_id: int | None = None,
    looking_up: bool = False,
) -> monitoring.NominalCandidates:
    """People the officer may choose as a request's subject, found by name (and date of birth) in the
    nominal register. A person search like any other: a reason is required and the people shown are a
    consultation (`monitoring.search_nominals`; DisclosureError naming the field if refused). `looking_up`:
    the search is to find a person's disclosures or audit trail, not to choose a subject, and its ledger
    entry says so."""
    if disclosure_id is not None:
        row = _load(session, disclosure_id)
        _must_be_requester(row, actor)
        if row.status != Status.DRAFT:
            raise DisclosureError("Only a draft's subject can be chosen. This request has been submitted.")
    if disclosure_id is not None:
        purpose = f"choosing the subject of disclosure request {disclosure_id}"
    elif looking_up:
        purpose = "finding a person's disclosures or audit trail"
    else:
        purpose = "choosing the subject of a new disclosure request"
    try:
        return monitoring.search_nominals(
            session,
            surname,
            forenames,
            date_of_birth,
            actor=actor.actor,
            reason=reason,
            purpose=purpose,
        )
    except monitoring.NominalSearchRefused as error:
        raise SubjectSearchRefused(error.problems) from None


def choose_subject(session: Session, disclosure_id: int, subject: str, actor: Principal) -> CheckResult:
    """Make `subject` (a nominal id, as chosen from `find_subject`'s results) the subject of one's own draft:
    saved as the wizard saves it (an alteration entry if it changed). Returns the draft's findings."""
    row = _load(session, disclosure_id)
    _must_be_requester(row, actor)
    if not subject.strip():
        raise DisclosureError("Subject: choose a person from the search results.")
    return update_draft(session, disclosure_id, {**_request_of(row).as_document(), "subject": subject}, actor)


def _must_be_requester(row: Disclosure, actor: Principal) -> None:
    if row.requested_by != actor.staff_id:
        raise DisclosureError("Only the officer who drafted this request can change or submit it.")


def _refuse_step(step: str, result: CheckResult) -> None:
    settled = _SETTLED_AT[step]
    open_findings = [f for f in result.findings if f.code not in settled]
    if open_findings:
        blocking = [f for f in open_findings if f.severity == Severity.BLOCK]
        what = "blocking findings" if blocking else "findings that need action"
        raise DisclosureError(f"Cannot {step}: resolve the {what} first.", result)


def submit(session: Session, disclosure_id: int, actor: Principal) -> CheckResult:
    row = _load(session, disclosure_id, lock=True)
    _must_be_requester(row, actor)
    if row.status != Status.DRAFT:
        raise DisclosureError("This request has already been submitted.")
    request = _request_of(row)
    result = evaluate(session, request, _today())
    _refuse_step("submit", result)
    row.status, row.submitted_at = Status.SUBMITTED.value, utcnow()
    _event(session, row, actor, "submitted")
    _entry(session, row, actor.actor, Op.ALTERATION, "submitted", justification=request.rationale)
    return result


# A request waiting for a decision, or authorised and not yet released, goes back to its officer as a draft:
# a rule now blocking it (a correction, training or vetting lapsed, a member or agreement no longer current),
# or a mistake seen after submitting, is put right in the wizard and the request submitted again.
RETURNABLE_STATUSES = (Status.SUBMITTED, Status.AUTHORISED)


# The events that put a request back to draft, by whom: its officer, an authoriser, the retention run.
_BACK_TO_DRAFT = frozenset({"returned to draft", "sent back", "lapsed"})
# An authoriser (or the DPU) withdraws an authorisation: the request waits for a decision again.
AUTHORISATION_WITHDRAWN = "authorisation withdrawn"
# Every event that moves a request between draft, submitted and authorised (what `view` reads back).
_MOVES = _BACK_TO_DRAFT | {"submitted", "authorised", "refused", AUTHORISATION_WITHDRAWN}


def may_return_to_draft(detail: DisclosureDetail, actor: Principal) -> bool:
    """Whether `actor` may return the case as `view` showed it to draft (what `return_to_draft` enforces)."""
    summary = detail.summary
    return summary.status in RETURNABLE_STATUSES and summary.requested_by == actor.staff_id


def return_to_draft(session: Session, disclosure_id: int, actor: Principal, reason: str) -> None:
    """The requesting officer takes back a submitted or authorised (not released) request to change it.

    Any authorisation is withdrawn with it: what is changed must be authorised again after it is submitted
    again. A case event and an `alteration` ledger entry (action `returned to draft`, the reason as
    justification, naming who had authorised it, if anyone)."""
    row = _load(session, disclosure_id, lock=True)
    _must_be_requester(row, actor)
    if row.status not in RETURNABLE_STATUSES:
        raise DisclosureError(
            "Only a request submitted or authorised, and not yet released, can be returned to draft; "
            f"this one is {STATUS_TITLES[Status(row.status)].lower()}."
        )
    if not reason.strip():
        raise DisclosureError("Reason for returning it to draft: say what needs changing.")
    _to_draft(session, row, actor.staff_id, actor.actor, "returned to draft", reason.strip())


def may_send_back(detail: DisclosureDetail, actor: Principal) -> bool:
    """Whether `actor` may be offered "Send back" on the case as `view` showed it (`send_back` enforces the
    rest: the same rules as authorising say who may decide)."""
    summary = detail.summary
    return (
        summary.status == Status.SUBMITTED
        and actor.can(Permission.DISCLOSURE_AUTHORISE)
        and summary.requested_by != actor.staff_id
    )


def send_back(session: Session, disclosure_id: int, actor: Principal, reason: str) -> None:
    """An authoriser sends a submitted request back to its officer for changes, with the reason: neither
    authorising nor refusing it. It goes to draft (as `return_to_draft`, through `_to_draft`), the officer
    sees the reason on the case page, and it is a case event and an `alteration` ledger entry (action
    `sent back`). Only someone who could decide it may: sending back is part of deciding."""
    row = _load(session, disclosure_id, lock=True)
    if row.status != Status.SUBMITTED:
        raise DisclosureError(
            "Only a submitted request can be sent back to its officer; "
            f"this one is {STATUS_TITLES[Status(row.status)].lower()}."
        )
    if row.requested_by == actor.staff_id:
        raise DisclosureError(
            "Nobody may decide their own disclosure: to change your own request, return it to draft."
        )
    if not reason.strip():
        raise DisclosureError("Reason for sending it back: say what the officer needs to change.")
    barred = _barred_as_decider(session, row, actor)
    if barred:
        raise DisclosureError("You may not decide this request: " + " ".join(barred))
    _to_draft(session, row, actor.staff_id, actor.actor, "sent back", reason.strip())


def _barred_as_decider(
    session: Session, row: Disclosure, actor: Principal, *, dpu_in_every_area: bool = False
) -> list[str]:
    """Why `actor` may not decide this request (authorise, refuse, send back, withdraw an authorisation):
    every `block` finding on the authorisation with them as decider (role, area, training, vetting,
    conflicts). `dpu_in_every_area` waives the role-and-area finding for the DPU, as for reviews."""
    as_decider = _request_of(row).model_copy(
        update={"authorisation": Authorisation(by=actor.staff_id, at=utcnow())}
    )
    return [
        f.message
        for f in _evaluate_row(session, row, as_decider).findings
        if f.where == "authorisation"
        and f.severity == Severity.BLOCK
        and not (dpu_in_every_area and f.code == "AUTHORISER_NOT_PERMITTED" and Role.DPU in actor.roles)
    ]


def may_withdraw_authorisation(detail: DisclosureDetail, actor: Principal) -> bool:
    """Whether `actor` may be offered "Withdraw the authorisation" on the case as `view` showed it
    (`withdraw_authorisation` enforces the rest: the rules that say who may decide it)."""
    summary = detail.summary
    return (
        summary.status == Status.AUTHORISED
        and actor.can(Permission.DISCLOSURE_AUTHORISE)
        and summary.requested_by != actor.staff_id
    )


def withdraw_authorisation(session: Session, disclosure_id: int, actor: Principal, reason: str) -> None:
    """Withdraw the authorisation of a request authorised and not yet released, with the reason: it may no
    longer be released, and it waits for a decision again (submitted), for its authoriser or another to
    authorise it afresh, refuse it or send it back to its officer, who sees the reason on the case page.

    Withdrawing is deciding again, so the rules that say who may authorise say who may withdraw (role, area,
    training, vetting, conflicts; never the requester, who returns it to draft instead); the DPU, who may
    release any authorised request, may withdraw in every area (only the role-and-area finding is waived, as
    for reviews). A case event and an `alteration` ledger entry (action `authorisation withdrawn`, the reason
    as justification, `previous_status`, `authorisation_withdrawn` naming the authoriser). The withdrawal is
    a step: the request's pending period (`lapse`) and stale flag count from it."""
    row = _load(session, disclosure_id, lock=True)
    if row.status != Status.AUTHORISED:
        raise DisclosureError(
            "Only an authorised request not yet released can have its authorisation withdrawn; "
            f"this one is {STATUS_TITLES[Status(row.status)].lower()}."
        )
    if row.requested_by == actor.staff_id:
        raise DisclosureError(
            "Nobody may decide their own disclosure: to take back your own request, return it to draft."
        )
    if not reason.strip():
        raise DisclosureError(
            "Reason for withdrawing the authorisation: say why it may no longer be released."
        )
    barred = _barred_as_decider(session, row, actor, dpu_in_every_area=True)
    if barred:
        raise DisclosureError("You may not withdraw this authorisation: " + " ".join(barred))
    authorised_by = row.authorised_by
    _store_document(row, _request_of(row).model_copy(update={"authorisation": None}))
    row.status, row.authorised_by, row.authorised_at = Status.SUBMITTED.value, None, None
    row.updated_at = utcnow()
    session.add(
        DisclosureEvent(
            disclosure_id=row.id,
            at=row.updated_at,
            actor=actor.staff_id,
            action=AUTHORISATION_WITHDRAWN,
            note=reason.strip(),
        )
    )
    _entry(
        session,
        row,
        actor.actor,
        Op.ALTERATION,
        AUTHORISATION_WITHDRAWN,
        justification=reason.strip(),
        previous_status=Status.AUTHORISED.value,
        authorisation_withdrawn=authorised_by,
    )


def _to_draft(
    session: Session, row: Disclosure, event_actor: str, ledger_actor: str, action: str, reason: str
) -> None:
    """Put a submitted or authorised request (checked by the caller) back to draft: the one way back, used by
    the officer (`return_to_draft`), the authoriser (`send_back`) and the retention run (`lapse`).

    Any authorisation is withdrawn; the draft's retention clock starts again from now. A case event and an
    `alteration` ledger entry (`action`, the reason as justification, `previous_status`, and
    `authorisation_withdrawn` naming who had authorised it, if anyone)."""
    was, authorised_by = row.status, row.authorised_by
    request = _request_of(row).model_copy(update={"authorisation": None})
    _store_document(row, request)
    row.status, row.submitted_at = Status.DRAFT.value, None
    row.authorised_by, row.authorised_at = None, None
    row.updated_at = utcnow()
    session.add(
        DisclosureEvent(
            disclosure_id=row.id, at=row.updated_at, actor=event_actor, action=action, note=reason
        )
    )
    _entry(
        session,
        row,
        ledger_actor,
        Op.ALTERATION,
        action,
        justification=reason,
        previous_status=was,
        authorisation_withdrawn=authorised_by,
    )


def authorise(session: Session, disclosure_id: int, actor: Principal, note: str = "") -> CheckResult:
    """An AIC, supervisor or the DPU authorises (the rules check who may, and that it is not their own)."""
    row = _load(session, disclosure_id, lock=True)
    emergency_completion = awaiting_completion(row)
    if row.status != Status.SUBMITTED and not emergency_completion:
        raise DisclosureError(f"Only a submitted request can be authorised; this one is {row.status}.")
    now = utcnow()
    request = _request_of(row).model_copy(update={"authorisation": Authorisation(by=actor.staff_id, at=now)})
    result = _evaluate_row(session, row, request)
    _refuse_step("authorise", result)
    _store_document(row, request)
    row.authorised_by, row.authorised_at = actor.staff_id, now
    if not emergency_completion:
        row.status = Status.AUTHORISED.value
    _event(session, row, actor, "authorised", note or None)
    _entry(session, row, actor.actor, Op.AUTHORISATION, "authorised", justification=note or request.rationale)
    return result


# What completing an emergency record may change: how the disclosure is recorded, never what was disclosed
# (route, subject, recipients, purpose, each item's kind and words, which are in the release's ledger entry).
# Nor what was recorded: the rationale is only added to, and a lawful basis is given only if none is recorded.
COMPLETION_FIELDS = ("lawful_basis", "rationale")
COMPLETION_ITEM_FIELDS = (
    "nature",
    "person_category",
    "sensitive_condition",
    "strictly_necessary",
    "source",
    "verified",
)


def _awaits_completion(route: str, status: str, authorised_by: str | None) -> bool:
    """An emergency disclosure is released first; its record is completed and authorised after."""
    return route == Route.EMERGENCY and status == Status.RELEASED and not authorised_by


def awaiting_completion(row: Disclosure) -> bool:
    return _awaits_completion(row.route, row.status, row.authorised_by)


def may_complete(detail: DisclosureDetail, actor: Principal) -> bool:
    """Whether `actor` may complete the case as `view` showed it: it awaits completion and they requested it
    (what `complete_emergency` enforces), so screens offer it only then."""
    summary = detail.summary
    return (
        _awaits_completion(summary.route, summary.status, detail.authorised_by)
        and summary.requested_by == actor.staff_id
    )


def complete_emergency(
    session: Session, disclosure_id: int, data: dict[str, Any], actor: Principal
) -> CheckResult:
    """The requester completes an emergency disclosure's record after its release (then it is authorised).

    `data` may give `rationale_addition` (a paragraph added to the rationale), `rationale` (which must begin
    with the rationale recorded so far: what was recorded stays as it was), `lawful_basis` (only if none is
    recorded yet; once given it stays) and, per item (same order and number as released), its `nature`,
    `person_category`, `sensitive_condition`, `strictly_necessary`, `source` and `verified`. An item's source
    may be given or changed only if it had no record to check against when released (none, a verbal or
    briefing source, or no record id): a record it was sourced to stays. Each changed field's old and new
    SHA-256 go in the alteration entry. Returns the findings still open.
    """
    _corrections_lock(session, exclusive=False)  # a source given here: a correction to it must reach it
    row = _load(session, disclosure_id, lock=True)
    _must_be_requester(row, actor)
    if not awaiting_completion(row):
        raise DisclosureError("Only an emergency disclosure released and not yet authorised is completed.")
    request = _request_of(row)
    given_items = data.get("items", [{} for _ in request.items])
    if not isinstance(given_items, list) or len(given_items) != len(request.items):
        raise DisclosureError("The items released cannot be added to or removed; complete each one.")
    document = request.as_document()
    for key in COMPLETION_FIELDS:
        if key in data:
            document[key] = data[key] or None
    addition = data.get("rationale_addition")
    if isinstance(addition, str) and addition.strip():
        document["rationale"] = "\n\n".join(
            part for part in (document.get("rationale"), addition.strip()) if part
        )
    for number, given in enumerate(given_items):
        updated = document["items"][number]
        for key in COMPLETION_ITEM_FIELDS:
            if isinstance(given, dict) and key in given:
                updated[key] = given[key]
    completed = read_request(session, document)
    if not (completed.rationale or "").startswith(request.rationale or ""):
        raise DisclosureError(
            "The rationale recorded at the time cannot be changed or removed: add to it what you know now."
        )
    if request.lawful_basis is not None and completed.lawful_basis != request.lawful_basis:
        raise DisclosureError(
            f"The lawful basis recorded ({request.lawful_basis}) cannot be changed: it is how the disclosure "
            "was justified."
        )
    changed_sources: list[int] = []
    items = list(completed.items)
    for number, (before, after) in enumerate(zip(request.items, completed.items, strict=True)):
        if _source_key(before) == _source_key(after):
            items[number] = after.model_copy(update={"source": before.source})  # as released, in full
            continue
        if _sourced_to_a_record(before):
            record = (_source_key(before) or ("", "", ""))[2]
            raise DisclosureError(f"Item {number + 1} was released sourced to {record}; that source stays.")
        changed_sources.append(number)
    completed = completed.model_copy(update={"items": items})
    changes = _completion_changes(session, row.id, request, completed)
    _store_document(row, completed)
    for number in changed_sources:  # a correction to the record now checked against must reach it
        carried = session.get(DisclosedSource, (row.id, number))
        source = completed.items[number].source
        if carried is not None:
            carried.system = (source.system or "") if source else ""
            carried.record_id = (source.record_id or "") if source else ""
    if changes:
        row.updated_at = utcnow()
        _event(session, row, actor, "emergency record completed", ", ".join(changes))
        _entry(
            session,
            row,
            actor.actor,
            Op.ALTERATION,
            "emergency record completed",
            justification=completed.rationale,
            changes=changes,
            sha256=_sha256(row.document),
        )
    return _evaluate_row(session, row, completed)


def _completion_changes(
    session: Session, disclosure_id: int, before: DisclosureRequest, after: DisclosureRequest
) -> dict[str, dict[str, str]]:
    """Each changed field (`items.<n>` for an item) with the keyed digests of its old and new values, as the
    register imports record their alterations (registers.keyed_changes: HMAC under a key derived from the
    installation's secret key, bound to this disclosure and the field; an item's value is its JSON). A plain
    SHA-256 would give a short rationale or a lawful basis back to whoever hashes the candidates."""
    object_id = str(disclosure_id)
    changes = registers.keyed_changes(
        session,
        before,
        {key: getattr(after, key) for key in COMPLETION_FIELDS},
        kind="disclosure",
        object_id=object_id,
    )
    key = registers.session_digest_key(session)
    for number, (old, new) in enumerate(zip(before.items, after.items, strict=True)):
        if old != new:
            field = f"items.{number}"
            changes[field] = registers.change_record(
                key, "disclosure", object_id, field, old.model_dump_json(), new.model_dump_json()
            )
    return changes


def _source_key(item: Any) -> tuple[str, str, str] | None:
    source = item.source
    return (source.kind.value, source.system or "", source.record_id or "") if source else None


def _sourced_to_a_record(item: Any) -> bool:
    source = item.source
    return bool(source and source.kind not in rules.UNVERIFIABLE_SOURCES and source.record_id)


def _undertakings(request: DisclosureRequest, given: dict[str, date]) -> list[Undertaking]:
    """Undertakings signed at release: by this disclosure's recipients, on a day that has come."""
    recipients, today = set(request.recipients), _today()
    for recipient, signed_on in given.items():
        if recipient not in recipients:
            raise DisclosureError(f"{recipient or '(blank)'} is not a recipient of this disclosure.")
        if signed_on > today:
            raise DisclosureError(
                f"The undertaking of {recipient} cannot be signed on {signed_on}, a future day."
            )
    return [Undertaking(recipient=r, signed_at=d) for r, d in given.items()]


def refuse(session: Session, disclosure_id: int, actor: Principal, reasons: str) -> None:
    row = _load(session, disclosure_id, lock=True)
    if row.status != Status.SUBMITTED:
        raise DisclosureError(f"Only a submitted request can be refused; this one is {row.status}.")
    if row.requested_by == actor.staff_id:
        raise DisclosureError("Nobody may decide their own disclosure.")
    if not reasons.strip():
        raise DisclosureError("Give the reasons for refusing, so the officer knows what to do.")
    now = utcnow()
    # Refusing is deciding: the same rules as authorising say who may (role, area, training, conflicts).
    barred = _barred_as_decider(session, row, actor)
    if barred:
        raise DisclosureError("You may not decide this request: " + " ".join(barred))
    row.status, row.refused_by, row.refused_at, row.closed_at = Status.REFUSED.value, actor.staff_id, now, now
    row.refusal_reason = reasons.strip()
    _event(session, row, actor, "refused", row.refusal_reason)
    _entry(session, row, actor.actor, Op.REFUSAL, "refused", justification=row.refusal_reason)


def release(
    session: Session, disclosure_id: int, actor: Principal, undertakings: dict[str, date] | None = None
) -> str:
    """Release: nothing may be open. Issues the reference and records the disclosure with its recipients.

    `undertakings` records signed undertakings (Form 3797) collected at release, by recipient id.
    An emergency disclosure is released by its requester at once; its completion is due afterwards.
    A correction recorded against an item (its source record, or its words about the subject) after the
    item was verified blocks the release (FACT_CORRECTED); releases and corrections take turns (see
    `_corrections_lock`), so a correction reported meanwhile is either seen here or reaches this release.
    """
    _corrections_lock(session, exclusive=False)
    row = _load(session, disclosure_id, lock=True)
    emergency = row.route == Route.EMERGENCY and row.status == Status.DRAFT
    if emergency:
        _must_be_requester(row, actor)
    elif row.status != Status.AUTHORISED:
        raise DisclosureError(f"Only an authorised request can be released; this one is {row.status}.")
    elif actor.staff_id not in (row.requested_by, row.authorised_by) and Role.DPU not in actor.roles:
        raise DisclosureError("Only the requesting officer, the authoriser or the DPU may release it.")
    request = _request_of(row)
    signed = _undertakings(request, undertakings or {})
    if signed:
        kept = [u for u in request.undertakings if u.recipient not in (undertakings or {})]
        request = request.model_copy(update={"undertakings": kept + signed})
    # Whoever releases handles the disclosure too: the DPU releasing someone else's is checked for training,
    # vetting and conflicts (being the subject included) as the requester and the authoriser were.
    releaser = None if actor.staff_id in (row.requested_by, row.authorised_by) else actor.staff_id
    result = _evaluate_row(session, row, request, releaser=releaser)
    if barred := [f for f in result.findings if f.where == "released_by"]:
        raise DisclosureError("You may not release it: " + " ".join(f.message for f in barred), result)
    if emergency:
        if any(f.severity == Severity.BLOCK for f in result.findings):
            raise DisclosureError(
                "Cannot release: even an emergency disclosure may not break a block rule.", result
            )
        minimal: dict[str, object] = {
            "what is disclosed (an item)": request.items,
            "why (the rationale)": request.rationale,
        }
        # Items cannot be added after release, so a warning the recipients need must go with it.
        minimal["the danger warning to the recipients"] = "DANGER_WARNING_REQUIRED" not in result.codes()
        if missing := [part for part, given in minimal.items() if not given]:
            raise DisclosureError(
                "An emergency release still needs its record made at the time: "
                + " and ".join(missing)
                + ".",
                result,
            )
    else:
        _refuse_step("release", result)
    now = utcnow()
    _store_document(row, request)
    row.reference = next_reference(session, row.area_code, now)
    row.status, row.released_by, row.released_at = Status.RELEASED.value, actor.staff_id, now
    row.review_due = _review_due(session, row, request, london_day(now))
    if emergency:
        hours = int(identity.config_value(session, "emergency_completion_hours"))
        row.completion_due = now + timedelta(hours=hours)
    _store_recipients(session, row, request)
    _store_sources(session, row, request)
    _event(session, row, actor, "released", row.reference)
    _entry(
        session,
        row,
        actor.actor,
        Op.DISCLOSURE,
        "released",
        justification=request.rationale or "emergency disclosure",
        recipients=request.recipients,
        reference=row.reference,
        items=[{"kind": i.kind.value, "sha256": _sha256(i.content)} for i in request.items],
        lawful_basis=request.lawful_basis,
    )
    return row.reference


def _evaluate_row(
    session: Session, row: Disclosure, request: DisclosureRequest, *, releaser: str | None = None
) -> CheckResult:
    on_file = session.scalars(
        select(DisclosureRecipient.recipient_id).where(
            DisclosureRecipient.disclosure_id == row.id,
            DisclosureRecipient.undertaking_signed_on.is_not(None),
        )
    )
    return evaluate(
        session,
        request,
        _today(),
        undertakings=list(on_file),
        corrections=row.released_at is None,
        releaser=releaser,
    )


def _review_due(
    session: Session, row: Disclosure, request: DisclosureRequest, released_on: date
) -> date | None:
    """K10 7.8: scheme disclosures are reviewed within 60 days, or 120 under an exclusion notice."""
    if row.route != Route.PARTNERSHIP_SCHEME:
        return None
    key = "review_days_exclusion" if request.exclusion_notice else "review_days"
    return released_on + timedelta(days=int(identity.config_value(session, key)))


def _store_recipients(session: Session, row: Disclosure, request: DisclosureRequest) -> None:
    signed = {u.recipient: u.signed_at for u in request.undertakings}
    for recipient_id in request.recipients:
        found = agreements.find_recipient(session, recipient_id)
        on_register = found.undertaking_signed_on if found else None
        session.merge(
            DisclosureRecipient(
                disclosure_id=row.id,
                recipient_id=recipient_id,
                name=found.name if found else recipient_id,
                undertaking_signed_on=signed.get(recipient_id, on_register),
            )
        )


def _store_sources(session: Session, row: Disclosure, request: DisclosureRequest) -> None:
    for number, item in enumerate(request.items):
        source = item.source
        session.add(
            DisclosedSource(
                disclosure_id=row.id,
                item_number=number,
                system=(source.system or "") if source else "",
                record_id=(source.record_id or "") if source else "",
                content_sha256=_fact_digest(item.content),
            )
        )


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _fact_digest(text: str) -> str:
    """The same fact, however it was spaced or capitalised."""
    return _sha256(" ".join(text.lower().split()))


def next_reference(session: Session, area_code: str, at: datetime) -> str:
    """`AREA/NNN/YY`: the next number in the area, consecutive across years, safe under concurrent releases.

    The counter row is created if absent (insert-or-ignore), then incremented with one UPDATE … RETURNING:
    the row lock (PostgreSQL) or the write lock (SQLite) makes two releases take different numbers.
    """
    create_if_absent(session, ReferenceCounter, area_code=area_code, last_number=0)
    number = session.execute(
        update(ReferenceCounter)
        .where(ReferenceCounter.area_code == area_code)
        .values(last_number=ReferenceCounter.last_number + 1)
        .returning(ReferenceCounter.last_number)
    ).scalar_one()
    return f"{area_code}/{number:03d}/{london_day(at).year % 100:02d}"


def _handles(actor: Principal, *people: str | None) -> bool:
    """Whether `actor` is one of the people on a disclosure (requester, authoriser, releaser) or the DPU."""
    return actor.staff_id in people or Role.DPU in actor.roles


def may_record_receipt(detail: DisclosureDetail, actor: Principal) -> bool:
    """Whether `actor` may record receipts on the case as `view` showed it (what `record_receipt` enforces),
    so screens offer the button only then."""
    people = (detail.summary.requested_by, detail.authorised_by, detail.released_by)
    return detail.summary.status == Status.RELEASED and _handles(actor, *people)


def record_receipt(session: Session, disclosure_id: int, recipient_id: str, actor: Principal) -> None:
    """Record that a recipient received the disclosure, once: the disclosure row is locked before the
    "not yet recorded" check, so two people recording it at once write one receipt and one ledger entry."""
    row = _load(session, disclosure_id, lock=True)
    if not _handles(actor, row.requested_by, row.authorised_by, row.released_by):
        raise DisclosureError(
            "Only the requesting officer, the authoriser, whoever released it or the DPU may record a "
            "receipt for this disclosure."
        )
    line = session.get(DisclosureRecipient, (disclosure_id, recipient_id), populate_existing=True)
    if line is None or row.status != Status.RELEASED:
        raise DisclosureError(f"{recipient_id} did not receive this disclosure.")
    if line.receipt_at is None:
        line.receipt_at = utcnow()
        _event(session, row, actor, "receipt recorded", recipient_id)
        _entry(session, row, actor.actor, Op.ALTERATION, "receipt recorded", recipient=recipient_id)


def review(
    session: Session, disclosure_id: int, actor: Principal, outcome: ReviewOutcome, reasons: str
) -> None:
    """The 60/120-day review: retain (next review set) or withdraw (notices to every recipient)."""
    row = _load(session, disclosure_id, lock=True)
    if row.status != Status.RELEASED or row.review_due is None:
        raise DisclosureError("Only a released scheme disclosure is reviewed.")
    if not reasons.strip():
        raise DisclosureError("Record the reasons for the review decision.")
    now, today = utcnow(), _today()
    request = _request_of(row)
    # Reviewing is deciding again: the rules that say who may authorise (and refuse) say who may review — an
    # AIC of the scheme's area, trained, vetted, unconflicted and not its requester. The DPU reviews in
    # every area (the review queue shows them all), so only the role-and-area finding is waived for them.
    as_decider = request.model_copy(update={"authorisation": Authorisation(by=actor.staff_id, at=now)})
    barred = [
        f
        for f in _evaluate_row(session, row, as_decider).findings
        if f.where == "authorisation"
        and f.severity == Severity.BLOCK
        and not (f.code == "AUTHORISER_NOT_PERMITTED" and Role.DPU in actor.roles)
    ]
    if barred:
        raise DisclosureError("You may not review this disclosure: " + " ".join(f.message for f in barred))
    next_review = _review_due(session, row, request, today) if outcome == ReviewOutcome.RETAIN else None
    session.add(
        DisclosureReview(
            disclosure_id=row.id,
            reviewed_by=actor.staff_id,
            reviewed_at=now,
            outcome=outcome.value,
            reasons=reasons.strip(),
            next_review=next_review,
        )
    )
    if outcome == ReviewOutcome.RETAIN:
        row.review_due = next_review
    else:
        row.status, row.closed_at, row.review_due = Status.WITHDRAWN.value, now, None
        for line in _recipients(session, row.id):
            _issue_notice(session, row, line.recipient_id, NoticeKind.WITHDRAWAL, actor, None)
    _event(session, row, actor, f"reviewed: {outcome.value}", reasons.strip())
    _entry(session, row, actor.actor, Op.REVIEW, f"review: {outcome.value}", justification=reasons.strip())


def _recipients(session: Session, disclosure_id: int) -> list[DisclosureRecipient]:
    query = select(DisclosureRecipient).where(DisclosureRecipient.disclosure_id == disclosure_id)
    return list(session.scalars(query.order_by(DisclosureRecipient.recipient_id)))


def _issue_notice(
    session: Session,
    row: Disclosure,
    recipient_id: str,
    kind: NoticeKind,
    actor: Principal,
    correction_id: int | None,
) -> None:
    session.add(
        Notice(
            kind=kind.value,
            disclosure_id=row.id,
            recipient_id=recipient_id,
            correction_id=correction_id,
            issued_by=actor.staff_id,
            issued_at=utcnow(),
        )
    )


# --------------------------------------------------------------------------- corrections cascade


class CorrectionRefused(DisclosureError):
    """A correction refused for one of its fields: `field` is "description", "system", "record_id",
    "disclosure" or "item" ("" when no one field is at fault)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def find_disclosure(session: Session, given: str, field: str = "disclosure") -> int:
    """The disclosure someone names by its reference ("NA/007/26", the name on every document and notice)
    or by its number ("12"); CorrectionRefused at `field` naming what was given if there is none."""
    text = given.strip()
    if text.isdigit():
        found = session.scalar(select(Disclosure.id).where(Disclosure.id == int(text)))
    else:
        found = session.scalar(select(Disclosure.id).where(Disclosure.reference == text.upper()))
    if found is None:
        raise CorrectionRefused(
            field,
            f"Disclosure: there is no disclosure {text!r}. Give its reference, as on the case page "
            "(e.g. NA/007/26), or its number.",
        )
    return found


CORRECTION_TARGET_JUSTIFICATION = "corrections: choosing the inaccurate item of a disclosure"
ITEM_TEXT_SHOWN = 80  # characters of an item's text shown to pick it by


def correction_target(
    session: Session,
    disclosure_id: int,
    actor: Principal,
    justification: str = CORRECTION_TARGET_JUSTIFICATION,
) -> CorrectionTarget:
    """The disclosure a correction is reported against and the items it released, each with its kind and
    the start of its text, for the corrections form to offer. The texts are personal data: reading them is
    the case view's consultation (`view`), naming the subject and whoever else the items reveal."""
    detail = view(session, disclosure_id, actor, justification)
    released = detail.summary.released_at is not None
    carried = set(
        session.scalars(
            select(DisclosedSource.item_number).where(DisclosedSource.disclosure_id == disclosure_id)
        )
    )
    items = []
    for number, item in enumerate(detail.request.items if detail.request is not None else ()):
        if number not in carried:
            continue
        text = " ".join(item.content.split())
        if len(text) > ITEM_TEXT_SHOWN:
            text = text[: ITEM_TEXT_SHOWN - 1].rstrip() + "…"
        items.append(CorrectableItem(number + 1, item.kind.value.replace("_", " "), text))
    return CorrectionTarget(disclosure_id, detail.summary.label, released, tuple(items))


def report_correction(
    session: Session,
    actor: Principal,
    *,
    description: str,
    system: str | None = None,
    record_id: str | None = None,
    disclosure_id: int | None = None,
    item_number: int | None = None,
    correct_text: str | None = None,
) -> tuple[int, list[NoticeLine]]:
    """Record that a source record, or a disclosed fact, is inaccurate, and notify every recipient of it.

    A source record (system + record id) reaches every released disclosure that drew on it; a disclosed
    fact (a disclosure's item) reaches every released disclosure that drew on the item's source, and every
    released disclosure about the same subject carrying the same words. The same words about someone else
    are another fact (K10's standard wording is shared by every scheme disclosure), so they are not reached.
    Refused with CorrectionRefused naming the field at fault. `item_number` counts from 0.
    """
    if not description.strip():
        raise CorrectionRefused("description", "Say what is inaccurate.")
    system = system.strip() if system and system.strip() else None
    record_id = record_id.strip() if record_id and record_id.strip() else None
    row = None
    if disclosure_id is not None:
        row = session.get(Disclosure, disclosure_id)
        if row is None:
            raise CorrectionRefused("disclosure", f"Disclosure: there is no disclosure {disclosure_id}.")
    named_record = system is not None and record_id is not None
    if row is not None and item_number is None and not named_record:
        label = summary_of(row).label
        raise CorrectionRefused("item", f"Item: choose which item of {label} is wrong.")
    if row is None and item_number is not None and not named_record:
        raise CorrectionRefused(
            "disclosure",
            f"Disclosure: name the disclosure whose item {item_number + 1} is wrong, by its reference "
            "(e.g. NA/007/26) or its number.",
        )
    _corrections_lock(session, exclusive=True)
    digest = subject = None
    if row is not None and item_number is not None:
        carried = session.get(DisclosedSource, (row.id, item_number))
        if carried is None:
            label = summary_of(row).label
            if row.released_at is None:
                raise CorrectionRefused(
                    "disclosure",
                    f"Disclosure: {label} has not been released, so no recipient holds its items.",
                )
            raise CorrectionRefused("item", f"Item: {label} released no item {item_number + 1}.")
        digest, subject = carried.content_sha256, row.subject_id
        system, record_id = carried.system or None, carried.record_id or None
    elif system is not None and record_id is None:
        raise CorrectionRefused("record_id", f"Record id: name the record in {system} that is wrong.")
    elif record_id is not None and system is None:
        raise CorrectionRefused("system", f"Source system: name the system that holds record {record_id}.")
    elif not named_record:
        raise CorrectionRefused(
            "", "Name the source record (system and record id), or the disclosure and the item that is wrong."
        )
    correction = Correction(
        reported_by=actor.staff_id,
        reported_at=utcnow(),
        system=system,
        record_id=record_id,
        content_sha256=digest,
        description=description.strip(),
        correct_text=(correct_text or "").strip() or None,
    )
    session.add(correction)
    session.flush()
    reached = affected_disclosures(session, system, record_id, digest, subject)
    for reached_row in reached:
        for line in _recipients(session, reached_row.id):
            _issue_notice(
                session, reached_row, line.recipient_id, NoticeKind.CORRECTION, actor, correction.id
            )
        _event(session, reached_row, actor, "correction issued", correction.description)
        _entry(
            session,
            reached_row,
            actor.actor,
            Op.CORRECTION,
            "correction issued",
            justification=correction.description,
            recipients=[line.recipient_id for line in _recipients(session, reached_row.id)],
            correction=correction.id,
        )
    _correction_entry(session, correction, actor, subject, reached)
    session.flush()
    return correction.id, notices(session, correction_id=correction.id)


def _correction_entry(
    session: Session,
    correction: Correction,
    actor: Principal,
    subject: str | None,
    reached: Sequence[Disclosure],
) -> None:
    """The correction's own ledger entry, whether or not it reached a released disclosure: its description
    (the justification) is personal data recorded about someone, so recording it is logged in every case.
    It names the subject of the corrected disclosure and of every disclosure reached."""
    subjects = {subject} | {row.subject_id for row in reached}
    ledger.record(
        session,
        EntryDraft(
            actor=actor.actor,
            op=Op.CORRECTION,
            object_type="disclosure_correction",
            object_id=str(correction.id),
            subjects=tuple(sorted(s for s in subjects if s)),
            justification=correction.description,
            detail={
                "action": "correction recorded",
                "system": correction.system,
                "record_id": correction.record_id,
                "words_sha256": correction.content_sha256,
                "correct_text_given": correction.correct_text is not None,
                "disclosures": [row.id for row in reached],
            },
        ),
    )


# PostgreSQL: releases (shared) and corrections (exclusive) take this transaction lock, so a correction waits
# for the releases under way to commit, and finds them; a release waits for a correction being recorded,
# and sees it. Releases do not wait for each other. SQLite's write lock already serialises them all.
_CORRECTIONS_LOCK = int.from_bytes(hashlib.sha256(b"custodes.corrections").digest()[:8], "big") >> 1


def _corrections_lock(session: Session, *, exclusive: bool) -> None:
    if session.get_bind().dialect.name == "postgresql":
        function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        session.execute(text(f"SELECT {function}(:key)"), {"key": _CORRECTIONS_LOCK})


def _corrections_against(session: Session, request: DisclosureRequest) -> tuple[rules.CorrectionFacts, ...]:
    """The corrections recorded against what the request's items carry, for FACT_CORRECTED: any correction to
    an item's source record (the system whatever its case, the record id as the system gives it, as the
    cascade matches), and any correction of a released item about the same subject in the same words (one
    that reached a disclosure about this subject carrying them). The rule keeps those reported after the
    item was verified."""
    found: dict[tuple[int, int], rules.CorrectionFacts] = {}
    for number, item in enumerate(request.items):
        source = item.source
        system = (source.system or "").strip() if source else ""
        record_id = (source.record_id or "").strip() if source else ""
        if system and record_id:
            query = select(Correction.id, Correction.reported_at).where(
                func.lower(func.trim(Correction.system)) == system.lower(),
                func.trim(Correction.record_id) == record_id,
            )
            for correction_id, at in session.execute(query):
                against = f"its source record {system} {record_id}"
                found[number, correction_id] = rules.CorrectionFacts(number, correction_id, at, against)
        if not item.content.strip():
            continue
        digest = _fact_digest(item.content)
        reached_subject = (
            select(Notice.correction_id)
            .join(Disclosure, Disclosure.id == Notice.disclosure_id)
            .join(DisclosedSource, DisclosedSource.disclosure_id == Notice.disclosure_id)
            .where(Disclosure.subject_id == request.subject, DisclosedSource.content_sha256 == digest)
        )
        query = select(Correction.id, Correction.reported_at).where(
            Correction.content_sha256 == digest, Correction.id.in_(reached_subject)
        )
        for correction_id, at in session.execute(query):
            words = rules.CorrectionFacts(number, correction_id, at, "its wording about this subject")
            found.setdefault((number, correction_id), words)
    return tuple(found[key] for key in sorted(found))


def affected_disclosures(
    session: Session,
    system: str | None,
    record_id: str | None,
    digest: str | None,
    subject: str | None = None,
) -> list[Disclosure]:
    """Every released disclosure an item of which drew on the record (system + record id), or which cites
    the record among its intelligence grounds, whoever it is about; and every released disclosure about
    `subject` an item of which carried the fact (digest: the same words). Each once.

    Words alone match only about the same subject: the same words about another person are a different
    fact (every scheme disclosure may use K10's standard wording), and a correction's text about one
    person must not go to the recipients of a disclosure about someone else. No subject, no word match.
    """
    conditions: list[ColumnElement[bool]] = []
    if system and record_id:  # "Genesis" and "genesis" are one system; a record id is as the system gives it
        conditions.append(
            (func.lower(DisclosedSource.system) == system.strip().lower())
            & (DisclosedSource.record_id == record_id.strip())
        )
    if digest and subject:
        about_subject = select(Disclosure.id).where(Disclosure.subject_id == subject)
        conditions.append(
            (DisclosedSource.content_sha256 == digest) & DisclosedSource.disclosure_id.in_(about_subject)
        )
    if not conditions:
        return []
    ids = select(DisclosedSource.disclosure_id).where(or_(*conditions))
    found: ColumnElement[bool] = Disclosure.id.in_(ids)
    grounds = _citing_intelligence(session, system, record_id)
    if grounds:
        found = or_(found, Disclosure.id.in_(grounds))
    query = select(Disclosure).where(found, Disclosure.released_at.is_not(None))
    return list(session.scalars(query.order_by(Disclosure.id)))


def _citing_intelligence(session: Session, system: str | None, record_id: str | None) -> list[int]:
    """Released disclosures citing the record as intelligence grounds (`intelligence[].record_id`).

    Intelligence grounds name a record id only: they are held on the intelligence systems (configuration
    `intelligence_systems`), so a record on one of those systems matches as an item's source does: the
    system whatever its case, the record id as the system gives it.
    """
    if not (system and record_id):
        return []
    held_on = {
        name.strip().lower() for name in identity.config_value(session, "intelligence_systems").split(";")
    }
    if system.strip().lower() not in held_on:
        return []
    record_id = record_id.strip()
    as_stored = json.dumps(record_id, ensure_ascii=False)[1:-1]  # as _store_document writes it
    query = select(Disclosure.id, Disclosure.document).where(
        Disclosure.released_at.is_not(None),
        Disclosure.erased_at.is_(None),
        Disclosure.document.contains(as_stored, autoescape=True),  # narrows; the check below decides
    )
    return [
        disclosure_id
        for disclosure_id, document in session.execute(query)
        if any(
            ground.record_id == record_id
            for ground in DisclosureRequest.model_validate_json(document).intelligence
        )
    ]


def acknowledge_notice(session: Session, notice_id: int, actor: Principal, note: str = "") -> None:
    """Record a recipient's acknowledgement, once: the notice's disclosure is locked and the notice read
    again before the "not yet acknowledged" check, so two acknowledgements at once record one."""
    notice = session.get(Notice, notice_id)
    if notice is None:
        raise DisclosureError(f"There is no notice {notice_id}.")
    row = _load(session, notice.disclosure_id, lock=True)
    session.refresh(notice)
    if notice.acknowledged_at is not None:
        return
    notice.acknowledged_at, notice.acknowledged_note = utcnow(), note.strip() or None
    _event(session, row, actor, f"{notice.kind} acknowledged", notice.recipient_id)
    _entry(
        session,
        row,
        actor.actor,
        Op.ALTERATION,
        f"{notice.kind} notice acknowledged",
        recipient=notice.recipient_id,
    )


def notices(
    session: Session,
    *,
    outstanding: bool = False,
    correction_id: int | None = None,
    disclosure_id: int | None = None,
) -> list[NoticeLine]:
    query = (
        select(Notice, Disclosure.reference, DisclosureRecipient.name)
        .join(Disclosure, Disclosure.id == Notice.disclosure_id)
        .outerjoin(
            DisclosureRecipient,
            (DisclosureRecipient.disclosure_id == Notice.disclosure_id)
            & (DisclosureRecipient.recipient_id == Notice.recipient_id),
        )
    )
    if outstanding:
        query = query.where(Notice.acknowledged_at.is_(None))
    if correction_id is not None:
        query = query.where(Notice.correction_id == correction_id)
    if disclosure_id is not None:
        query = query.where(Notice.disclosure_id == disclosure_id)
    return [
        NoticeLine(
            id=n.id,
            kind=NoticeKind(n.kind),
            disclosure_id=n.disclosure_id,
            reference=reference,
            recipient_id=n.recipient_id,
            issued_at=n.issued_at,
            acknowledged_at=n.acknowledged_at,
            correction_id=n.correction_id,
            recipient_name=name or n.recipient_id,
        )
        for n, reference, name in session.execute(query.order_by(Notice.issued_at, Notice.id))
    ]


def corrections(session: Session) -> list[Correction]:
    return list(session.scalars(select(Correction).order_by(Correction.reported_at.desc())))


CORRECTIONS_JUSTIFICATION = "corrections and correction notices (DPA 2018 s.38(5))"


def corrections_screen(
    session: Session, actor: str, justification: str = CORRECTIONS_JUSTIFICATION
) -> tuple[list[Correction], list[NoticeLine]]:
    """The corrections recorded and the notices outstanding, for the corrections screen.

    A correction's description and correct text are about the people its disclosures were about, and the
    notices name their recipients, some of whom are individual scheme members: showing them is one
    consultation naming the subjects of the disclosures the corrections reached and the individual members
    among the notices' recipients."""
    recorded = corrections(session)
    outstanding = notices(session, outstanding=True)
    reached = (
        select(Disclosure.subject_id)
        .join(Notice, Notice.disclosure_id == Disclosure.id)
        .where(Notice.correction_id.in_([c.id for c in recorded]), Disclosure.subject_id.is_not(None))
        .distinct()
    )
    subjects = set(session.scalars(reached)) if recorded else set()
    for recipient_id in {n.recipient_id for n in outstanding}:
        found = agreements.find_recipient(session, recipient_id)
        if found is not None and found.kind == "scheme_member" and found.org_id is None:
            subjects.add(recipient_id)
    ledger.record_consultation(
        session,
        actor=actor,
        object_type="disclosure_corrections",
        subjects=tuple(sorted(s for s in subjects if s)),
        justification=justification,
        detail={"corrections": len(recorded), "notices_outstanding": len(outstanding)},
    )
    return recorded, outstanding


# --------------------------------------------------------------------------- lists and the case view


def _summary(row: Disclosure, recipients: Sequence[str]) -> DisclosureSummary:
    return DisclosureSummary(
        id=row.id,
        reference=row.reference,
        route=Route(row.route),
        status=Status(row.status),
        area_code=row.area_code,
        requested_by=row.requested_by,
        subject_id=row.subject_id or "(erased)",
        recipients=tuple(recipients),
        created_at=row.created_at,
        submitted_at=row.submitted_at,
        released_at=row.released_at,
        review_due=row.review_due,
        completion_due=row.completion_due,
        last_step=_last_step(row) if row.status in RETURNABLE_STATUSES else None,
    )


def summary_of(row: Disclosure) -> DisclosureSummary:
    return _summary(row, _request_recipients(row))


def _summaries(session: Session, rows: Sequence[Disclosure]) -> list[DisclosureSummary]:
    return [summary_of(row) for row in rows]


def _request_recipients(row: Disclosure) -> list[str]:
    try:
        return list(json.loads(row.document).get("recipients", []))
    except ValueError:
        return []


def list_disclosures(
    session: Session,
    *,
    requested_by: str | None = None,
    statuses: Iterable[Status] = (),
    area_code: str | None = None,
    subject_id: str | None = None,
    limit: int = 200,
) -> list[DisclosureSummary]:
    query = select(Disclosure)
    if subject_id:
        query = query.where(Disclosure.subject_id == subject_id)
    if requested_by:
        query = query.where(Disclosure.requested_by == requested_by)
    wanted = [status.value for status in statuses]
    if wanted:
        query = query.where(Disclosure.status.in_(wanted))
    if area_code:
        query = query.where(Disclosure.area_code == area_code)
    return _summaries(session, list(session.scalars(query.order_by(Disclosure.id.desc()).limit(limit))))


def authorisation_queue(session: Session, actor: Principal) -> list[DisclosureSummary]:
    """Requests this person could authorise: submitted, not their own, for a route their role covers, and
    (scheme disclosures) in their area; emergency releases awaiting completion are included."""
    readiness = workforce.discloser_readiness(session, actor.staff_id, _today())
    roles = {str(role) for role in actor.roles}
    query = select(Disclosure).where(
        or_(
            Disclosure.status == Status.SUBMITTED.value,
            (Disclosure.route == Route.EMERGENCY.value)
            & (Disclosure.status == Status.RELEASED.value)
            & Disclosure.authorised_by.is_(None),
        ),
        Disclosure.requested_by != actor.staff_id,
    )
    rows = [
        row
        for row in session.scalars(query.order_by(Disclosure.submitted_at, Disclosure.id))
        if rules.AUTHORISER_ROLES[Route(row.route)] & roles
        and (row.route != Route.PARTNERSHIP_SCHEME or "dpu" in roles or row.area_code == readiness.area_code)
    ]
    return _summaries(session, rows)


def release_queue(session: Session, actor: Principal) -> list[DisclosureSummary]:
    """Authorised requests ready to release: the authoriser's own, or any for the DPU."""
    query = select(Disclosure).where(Disclosure.status == Status.AUTHORISED.value)
    if "dpu" not in {str(role) for role in actor.roles}:
        query = query.where(
            or_(Disclosure.authorised_by == actor.staff_id, Disclosure.requested_by == actor.staff_id)
        )
    return _summaries(session, list(session.scalars(query.order_by(Disclosure.authorised_at))))


def review_queue(session: Session, actor: Principal, within_days: int = 14) -> list[DisclosureSummary]:
    """Released scheme disclosures due for review in the next `within_days`, overdue first: those of the
    actor's area (a scheme disclosure's area is its scheme's), or every area's for the DPU."""
    horizon = _today() + timedelta(days=within_days)
    query = select(Disclosure).where(
        Disclosure.status == Status.RELEASED.value,
        Disclosure.review_due.is_not(None),
        Disclosure.review_due <= horizon,
    )
    if Role.DPU not in actor.roles:
        area = workforce.discloser_readiness(session, actor.staff_id, _today()).area_code
        query = query.where(Disclosure.area_code == (area or ""))
    return _summaries(session, list(session.scalars(query.order_by(Disclosure.review_due))))


def work_for(session: Session, actor: Principal) -> dict[str, Any]:
    """What waits for this person, for their home page: counts, and their own requests that came back to
    them (sent back, authorisation withdrawn, lapsed) with the reason given. That reason is about the
    request, so showing it is a consultation naming their subjects (one entry, only when there are any)."""
    work: dict[str, Any] = {}
    if actor.can(Permission.DISCLOSURE_REQUEST):
        mine = list_disclosures(session, requested_by=actor.staff_id, statuses=OPEN_STATUSES)
        work["my_open"] = len(mine)
        back = came_back(session, mine)
        returned = [
            (row, back[row.id]) for row in mine if row.id in back and back[row.id].actor != actor.staff_id
        ]
        work["my_came_back"] = returned
        if returned:
            subjects = tuple(dict.fromkeys(row.subject_id for row, _ in returned))
            _consulted(
                session, actor.actor, "disclosure_list", None, subjects, "home page: requests that came back"
            )
        # Authorised and waiting for the requester to release them: the first case, to link to it.
        ready = [row.id for row in mine if row.status == Status.AUTHORISED]
        work["my_authorised"] = len(ready)
        work["my_authorised_first"] = min(ready, default=0)
    if actor.can(Permission.DISCLOSURE_AUTHORISE):
        work["to_authorise"] = len(authorisation_queue(session, actor))
        work["to_release"] = len(release_queue(session, actor))
    if actor.can(Permission.DISCLOSURE_REVIEW):
        due = review_queue(session, actor)
        work["reviews_due"] = len(due)
        work["reviews_overdue"] = sum(1 for row in due if row.review_due and row.review_due < _today())
    if actor.can(Permission.CORRECTIONS_MANAGE):
        work["notices_outstanding"] = len(notices(session, outstanding=True))
    return work


def counts_by_status(session: Session, subject_id: str | None = None) -> dict[str, int]:
    """How many disclosures are in each status: all of them, or those about `subject_id`."""
    query = select(Disclosure.status, func.count()).group_by(Disclosure.status)
    if subject_id:
        query = query.where(Disclosure.subject_id == subject_id)
    return {status: count for status, count in session.execute(query)}


def view(session: Session, disclosure_id: int, actor: Principal, justification: str) -> DisclosureDetail:
    """The whole case for a screen or a document. Showing it is a consultation of the subject's data."""
    row = _load(session, disclosure_id)
    may_see = (
        row.requested_by == actor.staff_id
        or row.authorised_by == actor.staff_id
        or {"aic", "dpu", "auditor", "supervisor"} & {str(role) for role in actor.roles}
    )
    if not may_see:
        raise DisclosureError("You may only open your own disclosures.")
    request = _request_of(row) if row.erased_at is None else None
    result = CheckResult(())
    if request is not None and row.status == Status.RELEASED:
        result = evaluate(
            session,
            request,
            _today(),
            review_due=row.review_due,
            undertakings=request.recipients,
            corrections=False,
        )
    elif request is not None and row.status in OPEN_STATUSES:
        result = _evaluate_row(session, row, request)
    if row.subject_id:
        ledger.record_consultation(
            session,
            actor=actor.actor,
            object_type="disclosure",
            object_id=str(row.id),
            subjects=shown_about(row.subject_id, result, actor.actor),
            justification=justification,
        )
    history = tuple(
        HistoryLine(e.at, e.actor, e.action, e.note)
        for e in session.scalars(
            select(DisclosureEvent)
            .where(DisclosureEvent.disclosure_id == row.id)
            .order_by(DisclosureEvent.id)
        )
    )
    # A draft sent back by an authoriser (or returned, or lapsed) shows why, until it is submitted again; a
    # request whose authorisation was withdrawn shows why, until it is decided again.
    moves = [line for line in history if line.action in _MOVES]
    came_back = _came_back(Status(row.status), moves[-1] if moves else None)
    recipients = _recipients(session, row.id)
    lines = tuple(
        RecipientLine(r.recipient_id, r.name, r.undertaking_signed_on, r.receipt_at) for r in recipients
    ) or tuple(RecipientLine(r, _recipient_name(session, r), None, None) for r in _request_recipients(row))
    return DisclosureDetail(
        summary=_summary(row, [line.recipient_id for line in lines]),
        request=request,
        result=result,
        recipients=lines,
        authorised_by=row.authorised_by,
        authorised_at=row.authorised_at,
        refused_by=row.refused_by,
        refusal_reason=row.refusal_reason,
        released_by=row.released_by,
        history=history,
        reviews=tuple(
            ReviewLine(r.reviewed_at, r.reviewed_by, ReviewOutcome(r.outcome), r.reasons, r.next_review)
            for r in session.scalars(
                select(DisclosureReview)
                .where(DisclosureReview.disclosure_id == row.id)
                .order_by(DisclosureReview.id)
            )
        ),
        notices=tuple(notices(session, disclosure_id=row.id)),
        extra={
            "legal_hold": row.legal_hold,
            "erased_at": row.erased_at,
            "came_back": came_back,
            # Who it is about, shown in the case header and the release summary: within the consultation
            # above, which names the subject.
            "subject": _subject_shown(session, row.subject_id) if row.subject_id else None,
        },
    )


def _subject_shown(session: Session, subject_id: str) -> SubjectShown:
    """Who `subject_id` is, from the nominal register, not logged: callers show it within a consultation."""
    nominal = monitoring.get_nominal(session, subject_id)
    if nominal is None:
        return SubjectShown(subject_id, known=False)
    return SubjectShown(
        subject_id,
        known=True,
        name=f"{nominal.forenames} {nominal.surname.upper()}".strip(),
        born=nominal.date_of_birth,
        lives_in="" if nominal.protected else nominal.lives_in,
    )


def subjects_shown(
    session: Session,
    subject_ids: Iterable[str],
    *,
    actor: str,
    justification: str,
    object_type: str = "disclosure_list",
) -> dict[str, SubjectShown]:
    """Who each of these subjects is (name, date of birth, town), for a list or a form to show beside the
    nominal id. Showing them is one consultation naming every person the page shows (those the register
    holds), in the page's unit of work; nothing is logged when nobody is shown."""
    wanted = [subject for subject in dict.fromkeys(subject_ids) if subject and subject != "(erased)"]
    shown = {subject: _subject_shown(session, subject) for subject in wanted}
    named = tuple(subject for subject, person in shown.items() if person.known)
    if named:
        _consulted(session, actor, object_type, None, named, justification)
    return shown


def _came_back(status: Status, last: HistoryLine | None) -> HistoryLine | None:
    """`last`, the request's latest move, if it is what took the request back and it has not moved on since:
    a draft sent back, returned or lapsed, or a submitted request whose authorisation was withdrawn."""
    if last is None:
        return None
    back = (status == Status.DRAFT and last.action in _BACK_TO_DRAFT) or (
        status == Status.SUBMITTED and last.action == AUTHORISATION_WITHDRAWN
    )
    return last if back else None


def came_back(session: Session, rows: Sequence[DisclosureSummary]) -> dict[int, HistoryLine]:
    """For a list: the rows that came back to their officer (as the case page's notice says), by id, with
    the step that took each back (who, when, why). One query for the whole list."""
    statuses = {row.id: row.status for row in rows if row.status in (Status.DRAFT, Status.SUBMITTED)}
    if not statuses:
        return {}
    query = (
        select(DisclosureEvent)
        .where(DisclosureEvent.disclosure_id.in_(statuses), DisclosureEvent.action.in_(_MOVES))
        .order_by(DisclosureEvent.disclosure_id, DisclosureEvent.id)
    )
    last = {event.disclosure_id: event for event in session.scalars(query)}
    found = {
        number: _came_back(statuses[number], HistoryLine(e.at, e.actor, e.action, e.note))
        for number, e in last.items()
    }
    return {number: line for number, line in found.items() if line is not None}


def _recipient_name(session: Session, recipient_id: str) -> str:
    found = agreements.find_recipient(session, recipient_id)
    return found.name if found else f"{recipient_id} (not in any register)"


# --------------------------------------------------------------------------- retention


RETENTION_DEFAULTS: dict[str, tuple[int, str]] = {
    "disclosure_released": (
        6 * 365,
        "released disclosures: six years after release, withdrawal or expiry (force schedule)",
    ),
    "disclosure_refused": (2 * 365, "refused requests: two years after refusal"),
    "disclosure_draft": (90, "drafts never submitted: ninety days after the last change"),
    # Not an erasure: a request left submitted or authorised this long lapses to draft (see `lapse`), and is
    # then kept as a draft, so erased `disclosure_draft` days later unless its officer takes it up.
    "disclosure_pending": (
        90,
        "requests submitted or authorised and not acted on: back to draft ninety days after the last step",
    ),
}

# A request waiting `disclosure_stale_after_days` (a setting, default 30) since its last step is flagged
# stale on the queues and the retention page. It must be less than the pending rule, or the flag would come
# only on the lapse day (which it then does, `stale_setting_problem` saying why).
STALE_SETTING = "disclosure_stale_after_days (CUSTODES_DISCLOSURE_STALE_AFTER_DAYS)"


def stale_setting_problem(session: Session, stale_after_days: int) -> str | None:
    """Why the installation's `disclosure_stale_after_days` setting does not work with the
    `disclosure_pending` retention rule as it stands (it must be less), or None: for the retention page."""
    pending_days = _pending_days(session)
    if stale_after_days < pending_days:
        return None
    return (
        f"The setting {STALE_SETTING} is {stale_after_days} days: it must be less than the disclosure "
        f"pending period ({pending_days} days), or a request is flagged stale only on the day it lapses to "
        f"draft. Lower the setting below {pending_days} days, or keep requests pending longer."
    )


def retention_rules(session: Session) -> list[RetentionView]:
    stored = {row.record_type: row for row in session.scalars(select(RetentionRule))}
    views = []
    for record_type, (days, basis) in RETENTION_DEFAULTS.items():
        row = stored.get(record_type)
        views.append(
            RetentionView(
                record_type,
                row.keep_days if row else days,
                row.basis if row else basis,
                days,
                row.changed_by if row else None,
                row.changed_at if row else None,
            )
        )
    return views


RETENTION_BASIS_MAX = 500
"""The longest basis (the legal basis or reason) a retention rule may give, in characters."""


class RetentionRuleRefused(DisclosureError):
    """A retention change refused for one of its fields: `field` is "keep_days" or "basis"."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def set_retention_rule(
    session: Session,
    record_type: str,
    keep_days: int,
    basis: str,
    actor: str,
    *,
    stale_after_days: int = DEFAULT_DISCLOSURE_STALE_AFTER_DAYS,
) -> None:
    """Change how long a record type is kept; safe when two people change it at once (see below).

    `stale_after_days` is the installation's `disclosure_stale_after_days` setting: the pending period must
    stay longer, or requests would be flagged stale only on the day they lapse."""
    if record_type not in RETENTION_DEFAULTS:
        raise DisclosureError(f"{record_type} is not a record type with a retention rule.")
    if not 1 <= keep_days <= LONGEST_RETENTION_DAYS:
        raise RetentionRuleRefused("keep_days", "Keep for between 1 day and 100 years.")
    if len(basis.strip()) > RETENTION_BASIS_MAX:
        raise RetentionRuleRefused(
            "basis",
            f"The basis can be at most {RETENTION_BASIS_MAX} characters; this one has {len(basis.strip())}. "
            "Shorten it, or cite the policy that sets the period out in full.",
        )
    if record_type == "disclosure_pending" and keep_days <= stale_after_days:
        raise RetentionRuleRefused(
            "keep_days",
            f"Requests not acted on must stay pending longer than the {stale_after_days} days after which "
            f"they are flagged stale, as the setting {STALE_SETTING} says: give at least "
            f"{stale_after_days + 1} days, or have the setting lowered first.",
        )
    default_days, default_basis = RETENTION_DEFAULTS[record_type]
    # Created holding the default if absent, then locked: two first-time changes at once run in turn.
    row = locked_row(
        session,
        RetentionRule,
        record_type=record_type,
        keep_days=default_days,
        basis=default_basis,
        changed_by=actor,
        changed_at=utcnow(),
    )
    old = row.keep_days
    row.keep_days, row.basis = keep_days, basis.strip() or default_basis
    row.changed_by, row.changed_at = actor, utcnow()
    ledger.record(
        session,
        EntryDraft(
            actor=actor,
            op=Op.CONFIGURATION,
            object_type="retention_rule",
            object_id=record_type,
            detail={"old_days": old, "new_days": keep_days},
        ),
    )


def set_legal_hold(session: Session, disclosure_id: int, reason: str | None, actor: str) -> None:
    """Place (reason given) or lift (None) a legal hold: a held record is never disposed of."""
    row = _load(session, disclosure_id, lock=True)
    if reason is not None and not reason.strip():
        raise DisclosureError("Give the reason for the legal hold (e.g. the case or claim it serves).")
    row.legal_hold = reason.strip() if reason else None
    action = "legal hold placed" if reason else "legal hold lifted"
    session.add(
        DisclosureEvent(disclosure_id=row.id, at=utcnow(), actor=actor, action=action, note=row.legal_hold)
    )
    _entry(session, row, actor, Op.ALTERATION, action, justification=row.legal_hold)


# A withdrawal by the DPU is final (set_agreement_status refuses to change it, and imports never touch it). An
# end date is not: an import or the edit page can move it, so "ended" must have stood for the grace period. A
# suspension or an overdue review can be lifted, so they never end a disclosure made under the agreement.
_AGREEMENT_OVER = frozenset({"ended", "withdrawn"})
_EXPIRING_ROUTES = (Route.AGREEMENT.value, Route.PARTNERSHIP_SCHEME.value)


def _grace_days(session: Session) -> int:
    return int(identity.config_value(session, "expiry_grace_days"))


def _over_for_good(session: Session, agreement: rules.AgreementFacts, on: date, grace: int) -> bool:
    """The agreement is withdrawn, or has been ended for `grace` days: counted from the later of the day after
    its end date and the last change to its record (which may be the change that set the end date)."""
    if agreement.status == "withdrawn":
        return True
    if agreement.status != "ended":
        return False
    changed = agreements.agreement_changed_at(session, agreement.agreement_id)
    if agreement.end_date is None or changed is None:
        return False
    ended_since = max(agreement.end_date + timedelta(days=1), london_day(changed))
    return ended_since + timedelta(days=grace) <= on


def expiry_reason(session: Session, row: Disclosure, on: date) -> str | None:
    """Why a released disclosure has expired on `on`, or None: the basis it was shared on has ended for good.

    - `partnership_scheme`: the scheme has not been recognised for `expiry_grace_days` (or is no longer in
      the register), so its members may no longer hold what was shared with them (K10 6.2.1). The flag is
      rewritten by every scheme import, so a day's reading of it is not enough;
    - `agreement`: for every recipient, each agreement naming their organisation that covers the purpose and
      every item's data category has been withdrawn, or has been ended for `expiry_grace_days`.
    Other routes are one-off transfers with no continuing basis: they stay released until destroyed.
    """
    if row.status != Status.RELEASED or row.route not in _EXPIRING_ROUTES or row.erased_at is not None:
        return None
    request = _request_of(row)
    grace = _grace_days(session)
    if row.route == Route.PARTNERSHIP_SCHEME:
        scheme = agreements.get_scheme(session, request.scheme) if request.scheme else None
        if scheme is None:
            return f"scheme {request.scheme} is no longer in the register"
        since = agreements.scheme_unrecognised_since(session, scheme.scheme_id)
        if since is None or london_day(since) + timedelta(days=grace) > on:
            return None
        unchanged = london_day(since)
        return f"scheme {scheme.scheme_id} is no longer recognised (its record unchanged since {unchanged})"
    facts = gather_facts(session, request, on, corrections=False)
    kinds = {item.kind.value for item in request.items}
    ended: list[str] = []
    for recipient in facts.recipients.values():
        if recipient is None or recipient.org_id is None:
            return None  # nothing to judge by: leave it to the reviewers, not a job
        covering = [
            a
            for a in facts.agreements
            if recipient.org_id in a.parties
            and request.purpose.value in a.purposes
            and kinds <= a.data_categories
        ]
        if not covering or not all(_over_for_good(session, a, on, grace) for a in covering):
            return None
        ended += [f"{a.agreement_id} {a.status}" for a in covering]
    if not ended:
        return None
    return "the agreement it was shared under is over: " + ", ".join(sorted(set(ended)))


def expire(session: Session, actor: str, on: date, *, dry_run: bool = False) -> list[int]:
    """Mark expired every released disclosure whose basis has ended as on `on` (see `expiry_reason`).

    Run by `custodes disclosure dispose` before the disposal itself. The candidates are found without locks;
    only those expiring are then locked, read afresh and checked again before they change (a review or
    another run may have closed one since), so a reviewer working on any other released disclosure is not
    held up until the job commits. Each expiry is an event on the case and a ledger entry with the reason.
    The retention clock runs from the expiry.
    """
    query = (
        select(Disclosure)
        .where(Disclosure.status == Status.RELEASED.value, Disclosure.route.in_(_EXPIRING_ROUTES))
        .order_by(Disclosure.id)
    )
    expiring = [row.id for row in session.scalars(query) if expiry_reason(session, row, on) is not None]
    if dry_run:
        return expiring
    expired: list[int] = []
    for disclosure_id in expiring:
        row = _load(session, disclosure_id, lock=True)
        reason = expiry_reason(session, row, on)
        if reason is None:
            continue
        expired.append(row.id)
        now = utcnow()
        row.status, row.closed_at, row.review_due = Status.EXPIRED.value, now, None
        session.add(DisclosureEvent(disclosure_id=row.id, at=now, actor=actor, action="expired", note=reason))
        _entry(session, row, actor, Op.ALTERATION, "expired", justification=reason, reference=row.reference)
    return expired


def _last_step(row: Disclosure) -> datetime:
    """When a request last moved: saved as a draft, submitted or authorised (whichever is latest)."""
    return max(at for at in (row.updated_at, row.submitted_at, row.authorised_at) if at is not None)


def _pending_days(session: Session) -> int:
    return next(
        view.keep_days for view in retention_rules(session) if view.record_type == "disclosure_pending"
    )


def _lapse_day(row: Disclosure, pending_days: int) -> date | None:
    """The day a submitted or authorised request lapses to draft if nothing is done; None for others."""
    if row.status not in RETURNABLE_STATUSES or row.erased_at is not None:
        return None
    return london_day(_last_step(row)) + timedelta(days=pending_days)


def stale_flags(
    session: Session, rows: Iterable[DisclosureSummary], on: date, stale_after_days: int
) -> dict[int, date]:
    """For each listed request that is stale on `on` (submitted or authorised, no step for `stale_after_days`,
    the `disclosure_stale_after_days` setting, or from its lapse day if that comes first), the day it lapses
    to draft: what the queues and the retention page flag."""
    pending_days = _pending_days(session)
    flags: dict[int, date] = {}
    for summary in rows:
        if summary.status not in RETURNABLE_STATUSES or summary.last_step is None:
            continue
        since = london_day(summary.last_step)
        lapses = since + timedelta(days=pending_days)
        if on >= min(since + timedelta(days=stale_after_days), lapses):
            flags[summary.id] = lapses
    return flags


def stale_requests(session: Session, on: date, stale_after_days: int) -> list[DisclosureSummary]:
    """Every stale submitted or authorised request (any area), oldest step first: for the DPU."""
    query = select(Disclosure).where(
        Disclosure.status.in_([status.value for status in RETURNABLE_STATUSES]),
        Disclosure.erased_at.is_(None),
    )
    rows = _summaries(session, list(session.scalars(query.order_by(Disclosure.id))))
    flags = stale_flags(session, rows, on, stale_after_days)
    return sorted((row for row in rows if row.id in flags), key=lambda row: (flags[row.id], row.id))


def lapse(session: Session, actor: str, on: date, *, dry_run: bool = False) -> list[int]:
    """Return to draft every request left submitted or authorised for the `disclosure_pending` retention
    period since its last step (neither released nor refused), except those on legal hold.

    Run by `custodes disclosure dispose` before the disposal itself. Without it such a request had no
    retention clock and was never disposed of. As a draft it is then kept for the draft period from the lapse
    and erased after, unless its officer takes it up again (and submits it for a fresh authorisation). The
    candidates are found without locks; each is then locked, read afresh and checked again (someone may have
    acted on it since). Each lapse is a case event and an `alteration` ledger entry (action `lapsed`, via the
    same `_to_draft` as a return to draft)."""
    pending_days = _pending_days(session)
    draft_days = next(v.keep_days for v in retention_rules(session) if v.record_type == "disclosure_draft")

    def due(row: Disclosure) -> bool:
        day = _lapse_day(row, pending_days)
        return day is not None and day <= on and not row.legal_hold

    query = select(Disclosure).where(
        Disclosure.status.in_([status.value for status in RETURNABLE_STATUSES]),
        Disclosure.erased_at.is_(None),
    )
    lapsing = [row.id for row in session.scalars(query.order_by(Disclosure.id)) if due(row)]
    if dry_run:
        return lapsing
    lapsed: list[int] = []
    for disclosure_id in lapsing:
        row = _load(session, disclosure_id, lock=True)
        if not due(row):
            continue
        was = STATUS_TITLES[Status(row.status)].lower()
        reason = (
            f"Lapsed: {was} on {london_day(_last_step(row))} and neither released nor refused within "
            f"{pending_days} days (retention rule for requests not acted on). It is kept as a draft and "
            f"erased {draft_days} days from now unless its officer takes it up and submits it again."
        )
        _to_draft(session, row, actor, actor, "lapsed", reason)
        lapsed.append(row.id)
    return lapsed


def _retention_clock(row: Disclosure) -> tuple[str, datetime] | None:
    """Which rule applies to a record and the moment its retention runs from."""
    if row.status in (Status.RELEASED, Status.WITHDRAWN, Status.EXPIRED) and row.released_at:
        return "disclosure_released", max(row.released_at, row.closed_at or row.released_at)
    if row.status == Status.REFUSED and row.closed_at:
        return "disclosure_refused", row.closed_at
    if row.status == Status.DRAFT:
        return "disclosure_draft", row.updated_at
    return None


def due_for_disposal(session: Session, on: date) -> tuple[list[Disclosure], list[Disclosure]]:
    """(to erase, held back by a legal hold) as on a day."""
    keep = {view.record_type: view.keep_days for view in retention_rules(session)}
    due: list[Disclosure] = []
    held: list[Disclosure] = []
    query = select(Disclosure).where(Disclosure.erased_at.is_(None)).order_by(Disclosure.id)
    for row in session.scalars(query):
        clock = _retention_clock(row)
        if clock is None:
            continue
        record_type, since = clock
        if london_day(since) + timedelta(days=keep[record_type]) <= on:
            (held if row.legal_hold else due).append(row)
    return due, held


def dispose(session: Session, actor: str, on: date, *, dry_run: bool = False) -> DisposalReport:
    """Erase the personal data of every disclosure past its retention, except those on legal hold.

    The record keeps its number, route, reference, dates and recipients' ids; the request (items, subject,
    rationale), notes and item sources go. Its ledger entries are redacted (their leaf hashes stay, so the
    ledger still verifies) and one `erasure` entry records what was done and under which rule.
    """
    due, held = due_for_disposal(session, on)
    redacted = 0
    if not dry_run:
        # Each record is locked and read again before it is erased: a legal hold placed, or another
        # disposal run finished, since the list was drawn up must win (PostgreSQL; SQLite's write lock
        # already holds everyone else off).
        for row in list(due):
            fresh = _load(session, row.id, lock=True)
            if fresh.erased_at is not None or fresh.legal_hold:
                due.remove(row)
                if fresh.legal_hold:
                    held.append(row)
                continue
            redacted += _erase(session, fresh, actor)
        session.add(
            Disposal(
                run_by=actor,
                run_at=utcnow(),
                erased=len(due),
                held=len(held),
                redacted_entries=redacted,
                dry_run=False,
            )
        )
    return DisposalReport([row.id for row in due], [row.id for row in held], redacted, dry_run)


def _erase(session: Session, row: Disclosure, actor: str) -> int:
    record_type, _since = _retention_clock(row) or ("disclosure", row.created_at)
    ledger.flush_pending(session)  # entries queued in this transaction are redacted too
    entries = ledger.search(
        session, EntryFilter(object_type="disclosure", object_id=str(row.id)), limit=100_000
    )
    for entry in entries:
        ledger.redact(session, entry.index, f"end of retention ({record_type})", actor)
    skeleton = {"route": row.route, "reference": row.reference, "erased": True}
    row.document = json.dumps(skeleton, sort_keys=True)
    row.subject_id, row.refusal_reason = None, None
    row.status, row.erased_at = Status.DESTROYED.value, utcnow()
    session.execute(delete(DisclosedSource).where(DisclosedSource.disclosure_id == row.id))
    session.execute(update(DisclosureEvent).where(DisclosureEvent.disclosure_id == row.id).values(note=None))
    session.execute(
        update(DisclosureReview).where(DisclosureReview.disclosure_id == row.id).values(reasons="(erased)")
    )
    session.execute(update(Notice).where(Notice.disclosure_id == row.id).values(acknowledged_note=None))
    erased_corrections, correction_entries = _erase_corrections(session, row, actor, record_type)
    session.add(
        DisclosureEvent(disclosure_id=row.id, at=utcnow(), actor=actor, action="destroyed", note=record_type)
    )
    ledger.record(
        session,
        EntryDraft(
            actor=actor,
            op=Op.ERASURE,
            object_type="disclosure",
            object_id=str(row.id),
            detail={
                "rule": record_type,
                "reference": row.reference,
                "redacted_entries": len(entries) + correction_entries,
                "corrections_erased": erased_corrections,
            },
        ),
    )
    return len(entries) + correction_entries


ERASED = "(erased)"


def _erase_corrections(
    session: Session, row: Disclosure, actor: str, record_type: str
) -> tuple[list[int], int]:
    """Erase the text of every correction that reached `row` (by its notices) and has now reached only
    destroyed disclosures: its description and correct text are about the people those disclosures were
    about, and go with the last of them. Its own ledger entries are redacted as the disclosures' are. What it
    was against (system, record id, the words' digest) stays, so a request drawing on that record is still
    held (FACT_CORRECTED). Returns the corrections erased and the ledger entries redacted."""
    session.flush()  # `row` is destroyed: it no longer holds a correction's text
    reached_here = select(Notice.correction_id).where(
        Notice.disclosure_id == row.id, Notice.correction_id.is_not(None)
    )
    still_held = (
        select(Notice.correction_id)
        .join(Disclosure, Disclosure.id == Notice.disclosure_id)
        .where(Disclosure.erased_at.is_(None), Notice.correction_id.is_not(None))
    )
    query = select(Correction).where(
        Correction.id.in_(reached_here), Correction.id.not_in(still_held), Correction.description != ERASED
    )
    erased: list[int] = []
    redacted = 0
    for correction in session.scalars(query.order_by(Correction.id)):
        correction.description, correction.correct_text = ERASED, None
        erased.append(correction.id)
        criteria = EntryFilter(object_type="disclosure_correction", object_id=str(correction.id))
        for entry in ledger.search(session, criteria, limit=100_000):
            ledger.redact(session, entry.index, f"end of retention ({record_type})", actor)
            redacted += 1
    return erased, redacted


REFERENCE_BATCH = 500  # disclosure ids one query asks the references of


def references(session: Session, disclosure_ids: Iterable[str]) -> dict[str, str]:
    """The reference of each of these disclosures that has one (issued at release), by its number as text:
    how the audit screens name a disclosure ("Disclosure NA/007/26", registered with
    `ledger.web.add_record_references`). Not logged: a reference names no one."""
    wanted = sorted({int(i) for i in disclosure_ids if i.isdigit()})
    found: dict[str, str] = {}
    for start in range(0, len(wanted), REFERENCE_BATCH):
        query = select(Disclosure.id, Disclosure.reference).where(
            Disclosure.id.in_(wanted[start : start + REFERENCE_BATCH]), Disclosure.reference.is_not(None)
        )
        found.update((str(number), reference or "") for number, reference in session.execute(query))
    return found
