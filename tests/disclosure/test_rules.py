"""The disclosure rule engine without a database (disclosure.md, Findings).

A ready request for every route; for every finding code the smallest change to a ready request or its facts
that raises it (and nothing else); which routes each rule applies to; the boundaries of the currency window
and the review date; request parsing; and properties of `evaluate` over arbitrary valid requests and facts.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custodes.disclosure.rules import (
    FINDINGS,
    SCHEME_PURPOSES,
    AgreementFacts,
    CorrectionFacts,
    DiscloserFacts,
    Facts,
    PersonFacts,
    RecipientFacts,
    SchemeFacts,
    evaluate,
)
from custodes.disclosure.schemas import (
    Authorisation,
    CheckResult,
    Decision,
    DisclosureRequest,
    Intelligence,
    Item,
    ItemKind,
    Japan,
    Nature,
    OffenceOutcome,
    OutcomeKind,
    PersonCategory,
    Photo,
    PreviousOutcome,
    Purpose,
    RequestUnreadable,
    RiskAssessment,
    Route,
    Severity,
    Source,
    SourceKind,
    Undertaking,
    Verification,
    parse_request,
)

SCHEME_ROUTE, CA, AGREEMENT_ROUTE, ONE_OFF, EMERGENCY = (
    Route.PARTNERSHIP_SCHEME,
    Route.COMPETENT_AUTHORITY,
    Route.AGREEMENT,
    Route.ONE_OFF,
    Route.EMERGENCY,
)
ON = date(2026, 10, 5)
REQUESTER_ID, AIC_ID, SUPERVISOR_ID, SUBJECT_ID = "S1001", "S1002", "S1003", "N2001"
SHOP_THEFT = "It is suspected that this subject may engage in shop theft in your area"
DANGER_PHRASE = "Do not approach but call the police immediately"

REQUESTER = DiscloserFacts(REQUESTER_ID, frozenset({"officer"}), "CZ", True, (), True, ())
AIC = DiscloserFacts(AIC_ID, frozenset({"aic"}), "CZ", True, (), True, ())
SUPERVISOR = DiscloserFacts(SUPERVISOR_ID, frozenset({"supervisor"}), "CZ", True, (), True, ())
DPU = DiscloserFacts("S1004", frozenset({"dpu"}), "HQ", True, (), True, ())
SCHEME = SchemeFacts("SCH-01", "Maidstone ShopWatch", "CZ", recognised=True, manager_vetted=True)
# A named house: find_address does not see it, so only the subject's own address on record catches it.
SUBJECT = PersonFacts(SUBJECT_ID, "Darren Pike", "Rosemary Cottage, Boxley Road", "ME14 3DZ")
WITNESS = PersonFacts("N3001", "Mary Jones", "Flat 2, 9 Elm Road", "ME15 6AB")
AGREEMENT = AgreementFacts(
    "ISA-KMISA",
    "Kent and Medway Information Sharing Agreement",
    parties=frozenset({"ORG-KCC"}),
    purposes=frozenset({"safeguarding", "prevention_of_crime"}),
    data_categories=frozenset({"photo", "offending_indication", "description", "name", "warning_phrase"}),
    status="in_force",
)


def member(recipient_id: str, name: str, org_id: str) -> RecipientFacts:
    return RecipientFacts(recipient_id, name, False, org_id, SCHEME.scheme_id, True, date(2026, 9, 1))


def organisation(recipient_id: str, name: str, competent_authority: bool = False) -> RecipientFacts:
    return RecipientFacts(recipient_id, name, competent_authority, recipient_id, None, True, None)


def item(kind: str, content: str, record_id: str, **extra: Any) -> dict[str, Any]:
    """A classified item, sourced to a system record and verified against it."""
    return {
        "kind": kind,
        "content": content,
        "nature": "fact",
        "person_category": "suspect",
        "source": {
            "system": "Genesis",
            "record_id": record_id,
            "kind": "system_record",
            "obtained_at": "2026-10-02T09:00:00Z",
        },
        "verified": {
            "by": REQUESTER_ID,
            "at": "2026-10-02T09:05:00Z",
            "method": "checked against source record",
        },
        **extra,
    }


def scheme_document() -> dict[str, Any]:
    """The example request of disclosure.md, made complete."""
    photo = {"custody_image": True, "offence_outcome": "convicted", "held_on": "Genesis"}
    return {
        "route": "partnership_scheme",
        "requested_by": REQUESTER_ID,
        "subject": SUBJECT_ID,
        "recipients": ["M-0001", "M-0002"],
        "scheme": "SCH-01",
        "agreement": None,
        "purpose": "prevention_of_crime",
        "lawful_basis": "CDA1998_s115",
        "rationale": "Repeated shop theft in Fremlin Walk; members need to recognise the subject.",
        "items": [
            item("photo", "custody image ref CI-88", "CI-88", photo=photo),
            item("offending_indication", SHOP_THEFT, "INT-5", nature="assessment"),
        ],
        "intelligence": [
            {"record_id": "INT-5", "recorded_at": "2026-09-28", "grading": "B2", "summary": "thefts"}
        ],
        "previous_outcomes": [{"kind": "conviction", "record_id": "PNC-1", "date": "2024-02-01"}],
        "risk_assessment": {"risks": "Members may confront the subject.", "plan": "Briefing on what to do."},
        "japan": {
            "justified": "Ongoing thefts from members' shops.",
            "authorised": "CDA 1998 s.115, K10.",
            "proportionate": "Photo and indication only, to members in the area.",
            "auditable": "Recorded in Custodes.",
            "necessary": "Members cannot otherwise recognise the subject.",
        },
        "danger_to_recipients": False,
        "exclusion_notice": False,
        "name_justification": None,
        "authorisation": {"by": AIC_ID, "at": "2026-10-03T10:00:00Z"},
        "undertakings": [
            {"recipient": "M-0001", "signed_at": "2026-09-01"},
            {"recipient": "M-0002", "signed_at": "2026-09-01"},
        ],
    }


# Other routes: one organisation, no scheme, none of the K10 extras, a supervisor authorises.
OTHER_ROUTES: dict[Route, tuple[RecipientFacts, str, str]] = {
    CA: (
        organisation("ORG-PROB", "Probation Service, Kent", competent_authority=True),
        "offender_management",
        "DPA2018_Part3",
    ),
    AGREEMENT_ROUTE: (organisation("ORG-KCC", "Kent County Council"), "safeguarding", "UKGDPR_6_1_e"),
    ONE_OFF: (organisation("ORG-HOUSING", "Golding Homes"), "protection_of_public", "common_law"),
    EMERGENCY: (organisation("ORG-HOSP", "Maidstone Hospital"), "protection_of_public", "UKGDPR_6_1_d"),
}


@dataclass
class Case:
    doc: dict[str, Any]
    facts: Facts

    def request(self) -> DisclosureRequest:
        return parse_request(self.doc)

    def result(self) -> CheckResult:
        return evaluate(self.request(), self.facts)


def ready(route: Route) -> Case:
    doc = scheme_document()
    if route == SCHEME_ROUTE:
        members = {
            "M-0001": member("M-0001", "Boots, Fremlin Walk", "ORG-BOOTS"),
            "M-0002": member("M-0002", "Superdrug, Week Street", "ORG-SUPERDRUG"),
        }
        facts = Facts(
            on=ON,
            recipients=members,
            agreements=(),
            scheme=SCHEME,
            requester=REQUESTER,
            authoriser=AIC,
            subject=SUBJECT,
            undertakings_on_file=frozenset(members),
        )
        return Case(doc, facts)
    recipient, purpose, basis = OTHER_ROUTES[route]
    doc.update(
        route=route.value,
        recipients=[recipient.recipient_id],
        scheme=None,
        agreement=AGREEMENT.agreement_id if route == AGREEMENT_ROUTE else None,
        purpose=purpose,
        lawful_basis=basis,
        intelligence=[],
        previous_outcomes=[],
        risk_assessment=None,
        japan=None,
        authorisation={"by": SUPERVISOR_ID, "at": "2026-10-03T10:00:00Z"},
        undertakings=[],
    )
    facts = Facts(
        on=ON,
        recipients={recipient.recipient_id: recipient},
        agreements=(AGREEMENT,) if route == AGREEMENT_ROUTE else (),
        scheme=None,
        requester=REQUESTER,
        authoriser=SUPERVISOR,
        subject=SUBJECT,
    )
    return Case(doc, facts)


# --------------------------------------------------------------------------- mutations

Mutation = Callable[[Case], None]


def _locate(doc: dict[str, Any], path: str) -> tuple[Any, Any]:
    *parents, last = (int(part) if part.isdigit() else part for part in path.split("."))
    node: Any = doc
    for part in parents:
        node = node[part]
    return node, last


def set_doc(path: str, value: Any) -> Mutation:
    def mutate(case: Case) -> None:
        parent, key = _locate(case.doc, path)
        parent[key] = copy.deepcopy(value)

    return mutate


def drop(path: str) -> Mutation:
    def mutate(case: Case) -> None:
        parent, key = _locate(case.doc, path)
        del parent[key]

    return mutate


def append_text(path: str, text: str) -> Mutation:
    def mutate(case: Case) -> None:
        parent, key = _locate(case.doc, path)
        parent[key] = f"{parent[key]} {text}"

    return mutate


def add_item(kind: str, content: str, **extra: Any) -> Mutation:
    def mutate(case: Case) -> None:
        case.doc["items"].append(item(kind, content, "INT-5", **extra))

    return mutate


def set_facts(**changes: Any) -> Mutation:
    def mutate(case: Case) -> None:
        case.facts = replace(case.facts, **changes)

    return mutate


def set_recipients(**changes: Any) -> Mutation:
    def mutate(case: Case) -> None:
        recipients = {
            key: replace(value, **changes) if value else None for key, value in case.facts.recipients.items()
        }
        case.facts = replace(case.facts, recipients=recipients)

    return mutate


def add_recipient(recipient_id: str, known: RecipientFacts | None) -> Mutation:
    def mutate(case: Case) -> None:
        case.doc["recipients"].append(recipient_id)
        case.facts = replace(case.facts, recipients={**case.facts.recipients, recipient_id: known})

    return mutate


def set_person(part: str, **changes: Any) -> Mutation:
    """Change the requester's or the authoriser's facts."""

    def mutate(case: Case) -> None:
        case.facts = replace(case.facts, **{part: replace(getattr(case.facts, part), **changes)})

    return mutate


def both(*mutations: Mutation) -> Mutation:
    def mutate(case: Case) -> None:
        for mutation in mutations:
            mutation(case)

    return mutate


def old_intelligence(days: int) -> list[dict[str, Any]]:
    return [{"record_id": "INT-1", "recorded_at": (ON - timedelta(days=days)).isoformat()}]


ALL_ROUTES = frozenset(Route)
ONLY_SCHEME = frozenset({SCHEME_ROUTE})
NO_UNDERTAKINGS = both(
    set_recipients(undertaking_signed_on=None),
    set_facts(undertakings_on_file=frozenset()),
    set_doc("undertakings", []),
)
SELF_AUTHORISED = both(
    set_doc("authorisation.by", REQUESTER_ID), set_person("authoriser", staff_id=REQUESTER_ID)
)

# Item 2's source record reported inaccurate the day after the item was verified against it.
INT5_CORRECTED = CorrectionFacts(
    1, 7, datetime(2026, 10, 3, 9, 0, tzinfo=UTC), "its source record Genesis INT-5"
)

# code -> (the routes its rule applies to, a change that raises it, and only it, on every one of them)
SCOPED: dict[str, tuple[frozenset[Route], Mutation]] = {
    "RECIPIENT_UNKNOWN": (ALL_ROUTES, add_recipient("X-9999", None)),
    "SCHEME_MEMBER_OFF_SCHEME": (ALL_ROUTES - ONLY_SCHEME, set_recipients(scheme_id="SCH-01")),
    "RECIPIENT_NOT_COMPETENT_AUTHORITY": (frozenset({CA}), set_recipients(competent_authority=False)),
    "AGREEMENT_MISSING": (frozenset({AGREEMENT_ROUTE}), set_facts(agreements=())),
    "AGREEMENT_NOT_IN_FORCE": (
        frozenset({AGREEMENT_ROUTE}),
        set_facts(agreements=(replace(AGREEMENT, status="ended"),)),
    ),
    "PURPOSE_NOT_COVERED": (frozenset({AGREEMENT_ROUTE}), set_doc("purpose", "investigation")),
    "PURPOSE_NOT_PERMITTED": (ONLY_SCHEME, set_doc("purpose", "safeguarding")),
    "LAWFUL_BASIS_MISSING": (ALL_ROUTES, set_doc("lawful_basis", None)),
    "RATIONALE_MISSING": (ALL_ROUTES, set_doc("rationale", None)),
    "SCHEME_NOT_RECOGNISED": (ONLY_SCHEME, set_facts(scheme=replace(SCHEME, recognised=False))),
    "NOT_SCHEME_MEMBER": (ONLY_SCHEME, set_recipients(member_active=False)),
    "SCHEME_MANAGER_NOT_VETTED": (ONLY_SCHEME, set_facts(scheme=replace(SCHEME, manager_vetted=False))),
    "UNDERTAKING_MISSING": (ONLY_SCHEME, NO_UNDERTAKINGS),
    "PHOTO_NOT_ELIGIBLE": (ONLY_SCHEME, set_doc("items.0.photo.custody_image", False)),
    "INTELLIGENCE_NOT_CURRENT": (ONLY_SCHEME, set_doc("intelligence", old_intelligence(91))),
    "PAST_OUTCOME_ONLY": (
        ONLY_SCHEME,
        both(set_doc("intelligence", []), set_doc("previous_outcomes", [{"kind": "caution"}])),
    ),
    "RISK_ASSESSMENT_MISSING": (ONLY_SCHEME, set_doc("risk_assessment", None)),
    "JAPAN_INCOMPLETE": (ONLY_SCHEME, set_doc("japan", None)),
    "AUTHORISATION_MISSING": (ALL_ROUTES, set_doc("authorisation", None)),
    "SELF_AUTHORISATION": (ALL_ROUTES, SELF_AUTHORISED),
    "AUTHORISER_NOT_PERMITTED": (ALL_ROUTES, set_person("authoriser", roles=frozenset({"officer"}))),
    "CONTAINS_ADDRESS": (ONLY_SCHEME, append_text("items.1.content", "Often seen near ME14 1XX.")),
    "NAME_NOT_JUSTIFIED": (ONLY_SCHEME, add_item("name", "Darren Pike")),
    "CONTAINS_PREVIOUS_CONVICTIONS": (
        ONLY_SCHEME,
        append_text("items.1.content", "He has previous convictions for shop theft."),
    ),
    "CONTAINS_PNC_WARNING_SIGNALS": (
        ONLY_SCHEME,
        append_text("items.1.content", "PNC warning markers: VI, WE."),
    ),
    "DANGER_WARNING_REQUIRED": (ALL_ROUTES, set_doc("danger_to_recipients", True)),
    "FACT_UNSOURCED": (ALL_ROUTES, drop("items.1.source")),
    "FACT_UNVERIFIED": (ALL_ROUTES, drop("items.1.verified")),
    "FACT_CORRECTED": (ALL_ROUTES, set_facts(corrections=(INT5_CORRECTED,))),
    "DISCLOSER_TRAINING_EXPIRED": (
        ALL_ROUTES,
        set_person("requester", training_current=False, missing_training=("Information management 2026",)),
    ),
    "DISCLOSER_CONFLICT": (ALL_ROUTES, set_person("requester", conflicts=("neighbour",))),
    "DISCLOSER_VETTING_EXPIRED": (ALL_ROUTES, set_person("requester", vetting_current=False)),
    "ITEM_NOT_CLASSIFIED": (ALL_ROUTES, set_doc("items.1.nature", None)),
    "SENSITIVE_CONDITION_MISSING": (ALL_ROUTES, set_doc("items.1.special_category", True)),
    "PROTECTED_PERSON": (
        ALL_ROUTES,
        both(set_facts(protected=(WITNESS,)), append_text("items.1.content", "Seen with Mary Jones.")),
    ),
    "REVIEW_OVERDUE": (ALL_ROUTES, set_facts(review_due=ON - timedelta(days=1))),
}


def _home(routes: frozenset[Route]) -> Route:
    return SCHEME_ROUTE if SCHEME_ROUTE in routes else min(routes)


# (code, route, change, only that code?) beyond the SCOPED change on the code's home route
VARIANTS: list[Any] = [
    pytest.param(
        "RECIPIENT_UNKNOWN",
        SCHEME_ROUTE,
        both(set_doc("recipients", []), set_facts(recipients={})),
        True,
        id="RECIPIENT_UNKNOWN-none-named",
    ),
    pytest.param("RECIPIENT_UNKNOWN", CA, add_recipient("ORG-NOPE", None), True, id="RECIPIENT_UNKNOWN-ca"),
    pytest.param(
        "AGREEMENT_MISSING",
        AGREEMENT_ROUTE,
        set_facts(agreements=(replace(AGREEMENT, parties=frozenset({"ORG-OTHER"})),)),
        True,
        id="AGREEMENT_MISSING-not-a-party",
    ),
    pytest.param(
        "AGREEMENT_MISSING", AGREEMENT_ROUTE, set_recipients(org_id=None), True, id="AGREEMENT_MISSING-no-org"
    ),
    *(
        pytest.param(
            "AGREEMENT_NOT_IN_FORCE",
            AGREEMENT_ROUTE,
            set_facts(agreements=(replace(AGREEMENT, status=status),)),
            True,
            id=f"AGREEMENT_NOT_IN_FORCE-{status}",
        )
        for status in ("not_started", "review_overdue", "suspended", "withdrawn")
    ),
    pytest.param(
        "PURPOSE_NOT_COVERED",
        AGREEMENT_ROUTE,
        add_item("date_of_birth", "Born in the spring of 1990"),
        True,
        id="PURPOSE_NOT_COVERED-data-category",
    ),
    *(
        pytest.param(
            "PURPOSE_NOT_PERMITTED",
            SCHEME_ROUTE,
            set_doc("purpose", purpose.value),
            True,
            id=f"PURPOSE_NOT_PERMITTED-{purpose.value}",
        )
        for purpose in sorted(set(Purpose) - SCHEME_PURPOSES)
    ),
    pytest.param(
        "LAWFUL_BASIS_MISSING", ONE_OFF, drop("lawful_basis"), True, id="LAWFUL_BASIS_MISSING-absent"
    ),
    pytest.param(
        "LAWFUL_BASIS_MISSING",
        AGREEMENT_ROUTE,
        set_doc("lawful_basis", "   "),
        True,
        id="LAWFUL_BASIS_MISSING-blank",
    ),
    pytest.param(
        "RATIONALE_MISSING", EMERGENCY, set_doc("rationale", ""), True, id="RATIONALE_MISSING-empty"
    ),
    pytest.param(
        "SCHEME_NOT_RECOGNISED",
        SCHEME_ROUTE,
        set_facts(scheme=None),
        True,
        id="SCHEME_NOT_RECOGNISED-unknown",
    ),
    pytest.param(
        "SCHEME_NOT_RECOGNISED",
        SCHEME_ROUTE,
        both(set_doc("scheme", None), set_facts(scheme=None)),
        True,
        id="SCHEME_NOT_RECOGNISED-none-chosen",
    ),
    pytest.param(
        "NOT_SCHEME_MEMBER",
        SCHEME_ROUTE,
        set_recipients(scheme_id="SCH-02"),
        True,
        id="NOT_SCHEME_MEMBER-other-scheme",
    ),
    pytest.param(
        "NOT_SCHEME_MEMBER",
        SCHEME_ROUTE,
        add_recipient("ORG-KCC", organisation("ORG-KCC", "Kent County Council")),
        True,
        id="NOT_SCHEME_MEMBER-organisation",
    ),
    pytest.param(
        "PHOTO_NOT_ELIGIBLE",
        SCHEME_ROUTE,
        set_doc("items.0.photo.held_on", None),
        True,
        id="PHOTO_NOT_ELIGIBLE-not-held",
    ),
    pytest.param(
        "PHOTO_NOT_ELIGIBLE",
        SCHEME_ROUTE,
        set_doc("items.0.photo.held_on", "Facebook"),
        True,
        id="PHOTO_NOT_ELIGIBLE-not-an-intelligence-system",
    ),
    pytest.param(
        "PHOTO_NOT_ELIGIBLE",
        SCHEME_ROUTE,
        set_facts(intelligence_systems=("Athena",)),
        True,
        id="PHOTO_NOT_ELIGIBLE-held-on-a-system-no-longer-configured",
    ),
    pytest.param(
        "PHOTO_NOT_ELIGIBLE",
        SCHEME_ROUTE,
        drop("items.0.photo"),
        True,
        id="PHOTO_NOT_ELIGIBLE-no-photo-record",
    ),
    *(
        pytest.param(
            "PHOTO_NOT_ELIGIBLE",
            SCHEME_ROUTE,
            set_doc("items.0.photo.offence_outcome", outcome),
            True,
            id=f"PHOTO_NOT_ELIGIBLE-{outcome}",
        )
        for outcome in ("no_further_action", "not_known")
    ),
    pytest.param(
        "INTELLIGENCE_NOT_CURRENT",
        SCHEME_ROUTE,
        both(set_doc("intelligence", []), set_doc("previous_outcomes", [])),
        True,
        id="INTELLIGENCE_NOT_CURRENT-no-grounds",
    ),
    pytest.param(
        "INTELLIGENCE_NOT_CURRENT",
        SCHEME_ROUTE,
        set_doc("intelligence", old_intelligence(-1)),
        True,
        id="INTELLIGENCE_NOT_CURRENT-dated-after-today",
    ),
    pytest.param(
        "RISK_ASSESSMENT_MISSING",
        SCHEME_ROUTE,
        set_doc("risk_assessment.plan", None),
        True,
        id="RISK_ASSESSMENT_MISSING-no-plan",
    ),
    pytest.param(
        "RISK_ASSESSMENT_MISSING",
        SCHEME_ROUTE,
        set_doc("risk_assessment.risks", " "),
        True,
        id="RISK_ASSESSMENT_MISSING-blank-risks",
    ),
    *(
        pytest.param(
            "JAPAN_INCOMPLETE",
            SCHEME_ROUTE,
            set_doc(f"japan.{part}", None),
            True,
            id=f"JAPAN_INCOMPLETE-{part}",
        )
        for part in ("justified", "authorised", "proportionate", "auditable", "necessary")
    ),
    pytest.param(
        "AUTHORISATION_MISSING", ONE_OFF, drop("authorisation"), True, id="AUTHORISATION_MISSING-one-off"
    ),
    pytest.param(
        "AUTHORISATION_MISSING",
        EMERGENCY,
        set_doc("authorisation", None),
        True,
        id="AUTHORISATION_MISSING-emergency",
    ),
    pytest.param("SELF_AUTHORISATION", ONE_OFF, SELF_AUTHORISED, True, id="SELF_AUTHORISATION-one-off"),
    pytest.param(
        "AUTHORISER_NOT_PERMITTED",
        SCHEME_ROUTE,
        set_person("authoriser", roles=frozenset({"supervisor", "dpu"})),
        True,
        id="AUTHORISER_NOT_PERMITTED-scheme-needs-aic",
    ),
    pytest.param(
        "AUTHORISER_NOT_PERMITTED",
        SCHEME_ROUTE,
        set_person("authoriser", area_code="DZ"),
        True,
        id="AUTHORISER_NOT_PERMITTED-aic-of-another-area",
    ),
    pytest.param(
        "AUTHORISER_NOT_PERMITTED",
        SCHEME_ROUTE,
        set_facts(authoriser=None),
        True,
        id="AUTHORISER_NOT_PERMITTED-unknown-staff",
    ),
    pytest.param(
        "AUTHORISER_NOT_PERMITTED",
        ONE_OFF,
        set_person("authoriser", roles=frozenset({"aic"})),
        True,
        id="AUTHORISER_NOT_PERMITTED-one-off-needs-supervisor-or-dpu",
    ),
    pytest.param(
        "CONTAINS_ADDRESS",
        SCHEME_ROUTE,
        add_item("address", "Home address held on Genesis"),
        True,
        id="CONTAINS_ADDRESS-item",
    ),
    pytest.param(
        "CONTAINS_ADDRESS",
        SCHEME_ROUTE,
        append_text("items.1.content", "Seen outside 14 Mill Road."),
        True,
        id="CONTAINS_ADDRESS-house-and-street",
    ),
    pytest.param(
        "CONTAINS_ADDRESS",
        SCHEME_ROUTE,
        append_text("items.1.content", "Stays at Rosemary Cottage, Boxley Road."),
        True,
        id="CONTAINS_ADDRESS-subjects-own-address",
    ),
    pytest.param(
        "CONTAINS_ADDRESS",
        SCHEME_ROUTE,
        append_text("items.1.content", "Often in ME143DZ."),
        True,
        id="CONTAINS_ADDRESS-subjects-postcode-unspaced",
    ),
    pytest.param(
        "CONTAINS_ADDRESS",
        SCHEME_ROUTE,
        set_doc("items.1.verified.method", "checked at 3 Acacia Avenue"),
        True,
        id="CONTAINS_ADDRESS-in-verification-note",
    ),
    pytest.param(
        "NAME_NOT_JUSTIFIED",
        SCHEME_ROUTE,
        append_text("items.1.content", "He is Darren PIKE."),
        True,
        id="NAME_NOT_JUSTIFIED-in-text",
    ),
    pytest.param(
        "CONTAINS_PREVIOUS_CONVICTIONS",
        SCHEME_ROUTE,
        add_item("previous_convictions", "Two thefts from shops"),
        True,
        id="CONTAINS_PREVIOUS_CONVICTIONS-item",
    ),
    pytest.param(
        "CONTAINS_PREVIOUS_CONVICTIONS",
        SCHEME_ROUTE,
        set_doc("items.1.sensitive_condition", "Released from prison in May"),
        True,
        id="CONTAINS_PREVIOUS_CONVICTIONS-in-another-field",
    ),
    pytest.param(
        "CONTAINS_PNC_WARNING_SIGNALS",
        SCHEME_ROUTE,
        add_item("pnc_warning_signal", "VI"),
        True,
        id="CONTAINS_PNC_WARNING_SIGNALS-item",
    ),
    pytest.param(
        "DANGER_WARNING_REQUIRED",
        ONE_OFF,
        set_doc("danger_to_recipients", True),
        True,
        id="DANGER_WARNING_REQUIRED-one-off",
    ),
    pytest.param(
        "DANGER_WARNING_REQUIRED",
        SCHEME_ROUTE,
        both(set_doc("danger_to_recipients", True), add_item("warning_phrase", "Be careful around this man")),
        True,
        id="DANGER_WARNING_REQUIRED-weak-warning",
    ),
    pytest.param(
        "DANGER_WARNING_REQUIRED",
        SCHEME_ROUTE,
        both(set_doc("danger_to_recipients", True), add_item("other", DANGER_PHRASE)),
        True,
        id="DANGER_WARNING_REQUIRED-warning-not-a-warning-item",
    ),
    pytest.param(
        "FACT_UNSOURCED",
        SCHEME_ROUTE,
        set_doc("items.1.source.record_id", None),
        True,
        id="FACT_UNSOURCED-no-record-id",
    ),
    pytest.param("FACT_UNSOURCED", EMERGENCY, drop("items.0.source"), True, id="FACT_UNSOURCED-emergency"),
    *(
        pytest.param(
            "FACT_UNVERIFIED",
            SCHEME_ROUTE,
            set_doc("items.1.source.kind", kind),
            True,
            id=f"FACT_UNVERIFIED-{kind}-even-if-verified",
        )
        for kind in ("verbal", "briefing")
    ),
    pytest.param(
        "FACT_UNVERIFIED", AGREEMENT_ROUTE, drop("items.0.verified"), True, id="FACT_UNVERIFIED-agreement"
    ),
    pytest.param(
        "FACT_UNVERIFIED",
        SCHEME_ROUTE,
        both(set_doc("items.1.source.kind", "document"), drop("items.1.verified")),
        True,
        id="FACT_UNVERIFIED-document",
    ),
    pytest.param(
        "DISCLOSER_TRAINING_EXPIRED",
        SCHEME_ROUTE,
        set_person("authoriser", training_current=False),
        True,
        id="DISCLOSER_TRAINING_EXPIRED-authoriser",
    ),
    pytest.param(
        "DISCLOSER_CONFLICT",
        ONE_OFF,
        set_person("authoriser", conflicts=("relative",)),
        True,
        id="DISCLOSER_CONFLICT-authoriser",
    ),
    pytest.param(
        "DISCLOSER_VETTING_EXPIRED",
        SCHEME_ROUTE,
        set_person("authoriser", vetting_current=False),
        True,
        id="DISCLOSER_VETTING_EXPIRED-authoriser",
    ),
    # The DPU releasing someone else's disclosure is a third person handling it (service.release).
    pytest.param(
        "DISCLOSER_TRAINING_EXPIRED",
        SCHEME_ROUTE,
        set_facts(releaser=replace(DPU, training_current=False)),
        True,
        id="DISCLOSER_TRAINING_EXPIRED-releaser",
    ),
    pytest.param(
        "DISCLOSER_CONFLICT",
        ONE_OFF,
        set_facts(releaser=replace(DPU, conflicts=("self",))),
        True,
        id="DISCLOSER_CONFLICT-releaser",
    ),
    pytest.param(
        "DISCLOSER_VETTING_EXPIRED",
        CA,
        set_facts(releaser=replace(DPU, vetting_current=False)),
        True,
        id="DISCLOSER_VETTING_EXPIRED-releaser",
    ),
    pytest.param(
        "ITEM_NOT_CLASSIFIED",
        SCHEME_ROUTE,
        drop("items.0.person_category"),
        True,
        id="ITEM_NOT_CLASSIFIED-person-category",
    ),
    pytest.param(
        "ITEM_NOT_CLASSIFIED",
        CA,
        both(set_doc("items.0.nature", None), set_doc("items.0.person_category", None)),
        True,
        id="ITEM_NOT_CLASSIFIED-both",
    ),
    pytest.param(
        "SENSITIVE_CONDITION_MISSING",
        SCHEME_ROUTE,
        both(
            set_doc("items.1.special_category", True), set_doc("items.1.sensitive_condition", "Sch 8 para 1")
        ),
        True,
        id="SENSITIVE_CONDITION_MISSING-no-necessity",
    ),
    pytest.param(
        "SENSITIVE_CONDITION_MISSING",
        ONE_OFF,
        both(
            set_doc("items.1.special_category", True), set_doc("items.1.strictly_necessary", "No other way")
        ),
        True,
        id="SENSITIVE_CONDITION_MISSING-no-condition",
    ),
    pytest.param(
        "PROTECTED_PERSON",
        ONE_OFF,
        both(
            set_facts(protected=(WITNESS,)),
            append_text("items.1.content", "Visits Flat 2, 9 Elm Road daily."),
        ),
        True,
        id="PROTECTED_PERSON-safe-address",
    ),
    pytest.param(
        "PROTECTED_PERSON",
        EMERGENCY,
        both(
            set_facts(protected=(WITNESS,)),
            set_doc("items.1.verified.method", "confirmed with ME156AB resident"),
        ),
        True,
        id="PROTECTED_PERSON-postcode-in-verification-note",
    ),
    pytest.param(
        "REVIEW_OVERDUE",
        AGREEMENT_ROUTE,
        set_facts(review_due=ON - timedelta(days=30)),
        True,
        id="REVIEW_OVERDUE-agreement",
    ),
]

TABLE: list[Any] = [
    *(
        pytest.param(code, _home(routes), mutation, True, id=f"{code}-{_home(routes).value}")
        for code, (routes, mutation) in SCOPED.items()
    ),
    *VARIANTS,
]


# --------------------------------------------------------------------------- ready requests


@pytest.mark.parametrize("route", list(Route), ids=str)
def test_a_complete_request_is_ready(route: Route) -> None:
    result = ready(route).result()
    assert result.findings == ()
    assert result.decision == Decision.READY


def test_the_ready_scheme_request_is_the_example_made_complete() -> None:
    request = ready(SCHEME_ROUTE).request()
    assert request.recipients == ["M-0001", "M-0002"]
    assert [i.kind for i in request.items] == [ItemKind.PHOTO, ItemKind.OFFENDING_INDICATION]
    assert request.items[1].content == SHOP_THEFT  # the allowed wording (disclosure.md)
    assert request.authorisation is not None and request.authorisation.by != request.requested_by


# --------------------------------------------------------------------------- one change, one finding


def test_every_finding_code_has_a_test() -> None:
    assert set(SCOPED) == set(FINDINGS)
    assert {param.values[0] for param in TABLE} == set(FINDINGS)


@pytest.mark.parametrize(("code", "route", "mutation", "only"), TABLE)
def test_the_smallest_change_raises_the_finding(
    code: str, route: Route, mutation: Mutation, only: bool
) -> None:
    case = ready(route)
    mutation(case)
    result = case.result()
    raised = [finding for finding in result.findings if finding.code == code]
    assert raised, f"{code} not raised; got {result.codes()}"
    rule = FINDINGS[code]
    assert all(finding.severity == rule.severity and finding.policy == rule.policy for finding in raised)
    assert all(finding.message for finding in raised)
    if only:
        assert result.codes() == {code}
    if rule.severity == Severity.BLOCK:
        assert result.decision == Decision.BLOCKED
    elif only:
        assert result.decision == Decision.NEEDS_ACTION


@pytest.mark.parametrize("route", list(Route), ids=str)
@pytest.mark.parametrize("code", list(SCOPED))
def test_each_rule_applies_to_its_routes_only(code: str, route: Route) -> None:
    routes, mutation = SCOPED[code]
    case = ready(route)
    mutation(case)
    codes = case.result().codes()
    if route in routes:
        assert codes == {code}
    else:
        assert code not in codes


def test_a_finding_names_the_part_of_the_request() -> None:
    case = ready(SCHEME_ROUTE)
    both(drop("items.1.source"), append_text("items.0.content", "near ME14 1XX"), set_doc("rationale", None))(
        case
    )
    where = {(finding.code, finding.where) for finding in case.result().findings}
    assert where == {
        ("FACT_UNSOURCED", "items.1"),
        ("CONTAINS_ADDRESS", "items.0"),
        ("RATIONALE_MISSING", "rationale"),
    }
    message = next(f.message for f in case.result().findings if f.code == "CONTAINS_ADDRESS")
    assert "ME14 1XX" in message


def test_a_releaser_finding_names_the_releaser_and_the_release() -> None:
    case = ready(SCHEME_ROUTE)
    set_facts(releaser=replace(DPU, conflicts=("neighbour",), vetting_current=False))(case)
    found = [(f.code, f.where, f.message) for f in case.result().findings]
    assert found == [
        (
            "DISCLOSER_CONFLICT",
            "released_by",
            "The releaser (S1004) has declared a conflict with the subject (neighbour): someone else must "
            "handle this disclosure.",
        ),
        ("DISCLOSER_VETTING_EXPIRED", "released_by", "The releaser (S1004) has no current vetting."),
    ]
    assert ready(SCHEME_ROUTE).facts.releaser is None  # only the release sets one


def test_one_finding_per_unknown_recipient_and_per_item() -> None:
    case = ready(SCHEME_ROUTE)
    both(
        add_recipient("X-1", None),
        add_recipient("X-2", None),
        drop("items.0.verified"),
        drop("items.1.verified"),
    )(case)
    codes = [finding.code for finding in case.result().findings]
    assert codes == ["RECIPIENT_UNKNOWN", "RECIPIENT_UNKNOWN", "FACT_UNVERIFIED", "FACT_UNVERIFIED"]


def test_several_findings_come_in_table_order() -> None:
    case = ready(SCHEME_ROUTE)
    both(*(mutation for routes, mutation in reversed(SCOPED.values()) if SCHEME_ROUTE in routes))(case)
    codes = [finding.code for finding in case.result().findings]
    order = list(FINDINGS)
    assert codes == sorted(codes, key=order.index)
    assert case.result().decision == Decision.BLOCKED


# --------------------------------------------------------------------------- what must not fire


@pytest.mark.parametrize(
    "mutation",
    [
        pytest.param(
            both(add_item("name", "Darren Pike"), set_doc("name_justification", "Members know him by name")),
            id="name-justified",
        ),
        pytest.param(set_recipients(undertaking_signed_on=None), id="undertaking-on-file-only"),
        pytest.param(
            both(set_facts(undertakings_on_file=frozenset()), set_doc("undertakings", [])),
            id="undertaking-on-member-record",
        ),
        pytest.param(
            both(set_doc("danger_to_recipients", True), add_item("warning_phrase", DANGER_PHRASE)),
            id="danger-warned",
        ),
        pytest.param(
            both(
                set_doc("items.1.special_category", True),
                set_doc("items.1.sensitive_condition", "Sch 8 para 1, statutory purposes"),
                set_doc("items.1.strictly_necessary", "No less intrusive way to protect staff"),
            ),
            id="sensitive-complete",
        ),
        pytest.param(set_doc("intelligence", old_intelligence(0)), id="intelligence-today"),
        pytest.param(set_doc("previous_outcomes", []), id="intelligence-without-outcomes"),
        pytest.param(set_facts(protected=(WITNESS,)), id="protected-person-not-mentioned"),
        pytest.param(
            append_text("items.1.content", "Seen on Station Road CCTV near the High Street branch."),
            id="street-without-number",
        ),
        pytest.param(append_text("items.1.content", "Exercise caution."), id="exercise-caution"),
        pytest.param(
            set_person("requester", roles=frozenset({"aic"}), area_code="DZ"), id="requester-area-irrelevant"
        ),
        pytest.param(set_facts(review_due=ON + timedelta(days=1)), id="review-not-yet-due"),
        pytest.param(set_doc("exclusion_notice", True), id="exclusion-notice"),
    ],
)
def test_allowed_changes_keep_the_scheme_request_ready(mutation: Mutation) -> None:
    case = ready(SCHEME_ROUTE)
    mutation(case)
    assert case.result().findings == ()


@pytest.mark.parametrize("outcome", ["charged", "convicted", "cautioned"])
def test_custody_images_for_a_charge_conviction_or_caution_are_eligible(outcome: str) -> None:
    case = ready(SCHEME_ROUTE)
    set_doc("items.0.photo.offence_outcome", outcome)(case)
    assert case.result().decision == Decision.READY


@pytest.mark.parametrize("purpose", sorted(SCHEME_PURPOSES), ids=str)
def test_every_k10_purpose_is_permitted(purpose: Purpose) -> None:
    case = ready(SCHEME_ROUTE)
    set_doc("purpose", purpose.value)(case)
    assert case.result().decision == Decision.READY


@pytest.mark.parametrize("role", ["supervisor", "dpu"])
def test_a_one_off_may_be_authorised_by_a_supervisor_or_the_dpu(role: str) -> None:
    case = ready(ONE_OFF)
    set_person("authoriser", roles=frozenset({role}), area_code=None)(case)
    assert case.result().decision == Decision.READY


def test_one_agreement_in_force_is_enough() -> None:
    case = ready(AGREEMENT_ROUTE)
    set_facts(agreements=(replace(AGREEMENT, agreement_id="ISA-OLD", status="ended"), AGREEMENT))(case)
    assert case.result().decision == Decision.READY


def test_on_the_agreement_route_the_agreement_must_be_named_never_picked() -> None:
    """An agreement covering the recipient is not chosen for the officer: the basis must be explicit."""
    case = ready(AGREEMENT_ROUTE)
    set_doc("agreement", None)(case)
    (finding,) = case.result().findings
    assert (finding.code, finding.where) == ("AGREEMENT_MISSING", "agreement")
    assert finding.message == (
        "Agreement: name the agreement you rely on. Agreements naming a recipient: ISA-KMISA (Kent and "
        "Medway Information Sharing Agreement, in force)."
    )
    assert case.result().decision == Decision.BLOCKED
    set_doc("agreement", AGREEMENT.agreement_id)(case)
    assert case.result().decision == Decision.READY


def test_two_agreements_do_not_add_up_to_one_that_covers_the_disclosure() -> None:
    """disclosure.md: "an agreement in force that covers the purpose and the data categories"."""
    case = ready(AGREEMENT_ROUTE)
    photos = replace(AGREEMENT, agreement_id="DSA-1", data_categories=frozenset({"photo"}))
    rest = replace(
        AGREEMENT,
        agreement_id="DSA-2",
        purposes=frozenset(),
        data_categories=frozenset({"offending_indication"}),
    )
    set_facts(agreements=(photos, rest))(case)
    (finding,) = case.result().findings
    assert finding.code == "PURPOSE_NOT_COVERED" and finding.where == "items.1"
    assert "not a data category that agreement DSA-1" in finding.message
    whole = ready(AGREEMENT_ROUTE)
    set_facts(
        agreements=(
            photos,
            rest,
            replace(photos, agreement_id="DSA-3", data_categories=AGREEMENT.data_categories),
        )
    )(whole)
    assert whole.result().decision == Decision.READY


# --------------------------------------------------------------------------- boundaries


@pytest.mark.parametrize("window", [90, 30, 0])
def test_intelligence_exactly_the_window_old_is_current_one_day_more_is_not(window: int) -> None:
    at_edge, past_edge = ready(SCHEME_ROUTE), ready(SCHEME_ROUTE)
    for case, days in ((at_edge, window), (past_edge, window + 1)):
        both(set_doc("intelligence", old_intelligence(days)), set_facts(intelligence_currency_days=window))(
            case
        )
    assert at_edge.result().codes() == set()
    assert past_edge.result().codes() == {"INTELLIGENCE_NOT_CURRENT"}


def test_one_current_record_among_stale_ones_is_enough() -> None:
    case = ready(SCHEME_ROUTE)
    set_doc("intelligence", old_intelligence(400) + old_intelligence(90))(case)
    assert case.result().codes() == set()


def test_review_due_today_is_not_overdue_the_day_after_it_is() -> None:
    due_today, due_yesterday = ready(SCHEME_ROUTE), ready(SCHEME_ROUTE)
    set_facts(review_due=ON)(due_today)
    set_facts(review_due=ON - timedelta(days=1))(due_yesterday)
    assert due_today.result().codes() == set()
    result = due_yesterday.result()
    assert result.codes() == {"REVIEW_OVERDUE"}
    assert result.decision == Decision.NEEDS_ACTION
    assert "04 Oct 2026" in result.findings[0].message


def test_the_scheme_managers_vetting_comes_from_the_facts() -> None:
    vetted, not_vetted = ready(SCHEME_ROUTE), ready(SCHEME_ROUTE)
    set_facts(scheme=replace(SCHEME, manager_vetted=False))(not_vetted)
    assert vetted.result().codes() == set()
    assert not_vetted.result().codes() == {"SCHEME_MANAGER_NOT_VETTED"}
    assert not_vetted.result().decision == Decision.BLOCKED


# --------------------------------------------------------------------------- suspected bugs


def test_a_protected_address_without_its_town_is_still_protected() -> None:
    case = ready(ONE_OFF)
    refuge = replace(WITNESS, address="9 Elm Road, Maidstone", postcode=None)
    both(set_facts(protected=(refuge,)), append_text("items.1.content", "She is staying at 9 Elm Road."))(
        case
    )
    assert "PROTECTED_PERSON" in case.result().codes()


def test_a_finding_says_whose_data_besides_the_subjects_it_gives_away() -> None:
    """Showing a finding is a consultation of everyone it is about (service.shown_about)."""
    case = ready(ONE_OFF)
    refuge = PersonFacts("N3002", None, "4 Refuge Close, Maidstone", None)
    both(
        set_facts(protected=(WITNESS, refuge)),
        append_text("items.1.content", "Seen with Mary Jones near 4 Refuge Close."),
        set_person("authoriser", conflicts=("neighbour",)),
    )(case)
    about = {f.code: f.about for f in case.result().findings}
    assert about == {"PROTECTED_PERSON": ("N3001", "N3002"), "DISCLOSER_CONFLICT": (SUPERVISOR_ID,)}
    assert all(f.about == () for f in ready(ONE_OFF).result().findings)
    assert "about" not in case.result().as_dict()["findings"][0]  # not printed


# --------------------------------------------------------------------------- parse_request


def _problems(data: Any) -> list[str]:
    with pytest.raises(RequestUnreadable) as raised:
        parse_request(data)
    error = raised.value
    assert issubclass(type(error), ValueError)  # callers may catch ValueError
    assert str(error) == "; ".join(error.problems)
    return error.problems


def test_the_example_request_parses() -> None:
    request = parse_request(scheme_document())
    assert request.route == SCHEME_ROUTE
    assert request.items[0].photo == Photo(
        custody_image=True, offence_outcome=OffenceOutcome.CONVICTED, held_on="Genesis"
    )
    assert parse_request(request.as_document()) == request


@pytest.mark.parametrize(
    ("mutation", "expected"),
    [
        pytest.param(set_doc("colour", "blue"), "colour: unknown field", id="unknown-field"),
        pytest.param(
            set_doc("items.0.colour", "blue"), "items.0.colour: unknown field", id="unknown-item-field"
        ),
        pytest.param(set_doc("japan.timely", "yes"), "japan.timely: unknown field", id="unknown-japan-field"),
        pytest.param(
            set_doc("intelligence.0.recorded_at", "28/09/2026"), "intelligence.0.recorded_at:", id="date"
        ),
        pytest.param(
            set_doc("intelligence.0.recorded_at", "2026-02-30"),
            "intelligence.0.recorded_at:",
            id="no-such-day",
        ),
        pytest.param(
            set_doc("undertakings.1.signed_at", "yesterday"),
            "undertakings.1.signed_at:",
            id="undertaking-date",
        ),
        pytest.param(set_doc("authorisation.at", "2026-10-03 25:00"), "authorisation.at:", id="datetime"),
        pytest.param(
            set_doc("authorisation.at", "2026-10-03T10:00:00"), "authorisation.at:", id="naive-datetime"
        ),
        pytest.param(set_doc("items.0.kind", "fingerprint"), "items.0.kind:", id="item-kind"),
        pytest.param(set_doc("items.1.source.kind", "rumour"), "items.1.source.kind:", id="source-kind"),
        pytest.param(
            set_doc("items.0.photo.offence_outcome", "acquitted"),
            "items.0.photo.offence_outcome:",
            id="outcome",
        ),
        pytest.param(
            set_doc("previous_outcomes.0.kind", "warning"),
            "previous_outcomes.0.kind:",
            id="previous-outcome-kind",
        ),
        pytest.param(set_doc("route", "carrier_pigeon"), "route:", id="route"),
        pytest.param(set_doc("purpose", "curiosity"), "purpose:", id="purpose"),
        pytest.param(set_doc("items.0.nature", "opinion"), "items.0.nature:", id="nature"),
        pytest.param(drop("purpose"), "purpose: Field required", id="missing-purpose"),
        pytest.param(set_doc("requested_by", "  "), "requested_by:", id="blank-requester"),
        pytest.param(set_doc("recipients", "M-0001"), "recipients:", id="recipients-not-a-list"),
    ],
)
def test_parse_request_names_the_field(mutation: Mutation, expected: str) -> None:
    case = ready(SCHEME_ROUTE)
    mutation(case)
    problems = _problems(case.doc)
    assert any(problem.startswith(expected) for problem in problems), problems


def test_parse_request_lists_every_problem() -> None:
    case = ready(SCHEME_ROUTE)
    both(
        set_doc("colour", "blue"), set_doc("items.0.kind", "fingerprint"), set_doc("items.1.source.kind", "x")
    )(case)
    problems = _problems(case.doc)
    assert [problem.split(":")[0] for problem in problems] == [
        "items.0.kind",
        "items.1.source.kind",
        "colour",
    ]


@pytest.mark.parametrize("data", [[], "request", None, 42], ids=repr)
def test_parse_request_rejects_what_is_not_an_object(data: Any) -> None:
    assert _problems(data)[0].startswith("request:")


# --------------------------------------------------------------------------- properties

IDS = st.sampled_from(["S1001", "S1002", "S1003", "N2001", "M-0001", "M-0002", "ORG-KCC", "X-9"])
PHRASES = [
    SHOP_THEFT,
    DANGER_PHRASE,
    "Seen outside 14 Mill Road",
    "ME14 1XX",
    "He has previous convictions for theft",
    "PNC warning markers: VI, WE",
    "Darren Pike",
    "Mary Jones",
    "Rosemary Cottage, Boxley Road",
    "Flat 2, 9 Elm Road",
    "lives at home",
    "exercise caution",
]
TEXTS = st.one_of(st.sampled_from(PHRASES), st.text(max_size=40))
MAYBE_TEXTS = st.none() | TEXTS
DATES = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))
MOMENTS = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)

ITEMS = st.builds(
    Item,
    kind=st.sampled_from(ItemKind),
    content=TEXTS,
    nature=st.none() | st.sampled_from(Nature),
    person_category=st.none() | st.sampled_from(PersonCategory),
    special_category=st.booleans(),
    sensitive_condition=MAYBE_TEXTS,
    strictly_necessary=MAYBE_TEXTS,
    photo=st.none()
    | st.builds(
        Photo,
        custody_image=st.booleans(),
        offence_outcome=st.sampled_from(OffenceOutcome),
        held_on=MAYBE_TEXTS,
    ),
    source=st.none()
    | st.builds(
        Source,
        system=MAYBE_TEXTS,
        record_id=MAYBE_TEXTS,
        kind=st.sampled_from(SourceKind),
        obtained_at=st.none() | MOMENTS,
    ),
    verified=st.none() | st.builds(Verification, by=IDS, at=MOMENTS, method=MAYBE_TEXTS),
)
REQUESTS = st.builds(
    DisclosureRequest,
    route=st.sampled_from(Route),
    requested_by=IDS,
    subject=IDS,
    recipients=st.lists(IDS, max_size=3),
    scheme=st.none() | st.sampled_from(["SCH-01", "SCH-02"]),
    agreement=st.none() | st.just("ISA-KMISA"),
    purpose=st.sampled_from(Purpose),
    lawful_basis=MAYBE_TEXTS,
    rationale=MAYBE_TEXTS,
    items=st.lists(ITEMS, max_size=3),
    intelligence=st.lists(
        st.builds(Intelligence, record_id=IDS, recorded_at=DATES, grading=MAYBE_TEXTS, summary=MAYBE_TEXTS),
        max_size=2,
    ),
    previous_outcomes=st.lists(
        st.builds(
            PreviousOutcome, kind=st.sampled_from(OutcomeKind), record_id=MAYBE_TEXTS, date=st.none() | DATES
        ),
        max_size=2,
    ),
    risk_assessment=st.none() | st.builds(RiskAssessment, risks=MAYBE_TEXTS, plan=MAYBE_TEXTS),
    japan=st.none()
    | st.builds(
        Japan,
        justified=MAYBE_TEXTS,
        authorised=MAYBE_TEXTS,
        proportionate=MAYBE_TEXTS,
        auditable=MAYBE_TEXTS,
        necessary=MAYBE_TEXTS,
    ),
    danger_to_recipients=st.booleans(),
    exclusion_notice=st.booleans(),
    name_justification=MAYBE_TEXTS,
    authorisation=st.none() | st.builds(Authorisation, by=IDS, at=MOMENTS),
    undertakings=st.lists(st.builds(Undertaking, recipient=IDS, signed_at=DATES), max_size=2),
)
ORG_IDS = st.none() | st.sampled_from(["ORG-KCC", "ORG-PROB", "ORG-BOOTS"])
PEOPLE = st.builds(
    PersonFacts,
    subject_id=IDS,
    name=st.none() | st.sampled_from(["Darren Pike", "Mary Jones", "Al", "  "]) | TEXTS,
    address=st.none() | st.sampled_from(["Rosemary Cottage, Boxley Road", "Flat 2, 9 Elm Road"]) | TEXTS,
    postcode=st.none() | st.sampled_from(["ME14 3DZ", "ME15 6AB", "ME14 1XX"]),
)


def disclosers(staff_id: str) -> st.SearchStrategy[DiscloserFacts]:
    return st.builds(
        DiscloserFacts,
        staff_id=st.just(staff_id),
        roles=st.frozensets(st.sampled_from(["aic", "supervisor", "dpu", "officer"])),
        area_code=st.none() | st.sampled_from(["CZ", "DZ"]),
        training_current=st.booleans(),
        missing_training=st.lists(st.sampled_from(["IM 2026", "Data protection"]), max_size=2).map(tuple),
        vetting_current=st.booleans(),
        conflicts=st.lists(st.sampled_from(["neighbour", "relative", "self"]), max_size=2).map(tuple),
    )


@st.composite
def requests_and_facts(draw: st.DrawFn) -> tuple[DisclosureRequest, Facts]:
    request = draw(REQUESTS)
    recipients = {
        recipient: draw(
            st.none()
            | st.builds(
                RecipientFacts,
                recipient_id=st.just(recipient),
                name=st.sampled_from(["Boots", "Kent County Council"]),
                competent_authority=st.booleans(),
                org_id=ORG_IDS,
                scheme_id=st.none() | st.sampled_from(["SCH-01", "SCH-02"]),
                member_active=st.booleans(),
                undertaking_signed_on=st.none() | DATES,
            )
        )
        for recipient in request.recipients
    }
    agreements = st.builds(
        AgreementFacts,
        agreement_id=st.sampled_from(["ISA-KMISA", "DSA-1"]),
        title=st.just("An agreement"),
        parties=st.frozensets(st.sampled_from(["ORG-KCC", "ORG-PROB", "ORG-BOOTS"])),
        purposes=st.frozensets(st.sampled_from([purpose.value for purpose in Purpose])),
        data_categories=st.frozensets(st.sampled_from([kind.value for kind in ItemKind])),
        status=st.sampled_from(
            [
                "in_force",
                "not_started",
                "review_overdue",
                "review_date_missing",
                "ended",
                "suspended",
                "withdrawn",
            ]
        ),
    )
    authoriser_id = request.authorisation.by if request.authorisation else draw(IDS)
    facts = Facts(
        on=draw(DATES),
        recipients=recipients,
        agreements=tuple(draw(st.lists(agreements, max_size=2))),
        scheme=draw(
            st.none()
            | st.builds(
                SchemeFacts,
                scheme_id=st.sampled_from(["SCH-01", "SCH-02"]),
                name=st.just("ShopWatch"),
                area_code=st.sampled_from(["CZ", "DZ"]),
                recognised=st.booleans(),
                manager_vetted=st.booleans(),
            )
        ),
        requester=draw(st.none() | disclosers(request.requested_by)),
        authoriser=draw(st.none() | disclosers(authoriser_id)),
        releaser=draw(st.none() | disclosers("S1004")),
        subject=draw(st.none() | PEOPLE),
        protected=tuple(draw(st.lists(PEOPLE, max_size=2))),
        intelligence_currency_days=draw(st.integers(min_value=0, max_value=400)),
        review_due=draw(st.none() | DATES),
        undertakings_on_file=frozenset(draw(st.lists(IDS, max_size=3))),
    )
    return request, facts


@settings(max_examples=120, deadline=None)
@given(requests_and_facts())
def test_evaluate_is_total_consistent_ordered_and_deterministic(
    case: tuple[DisclosureRequest, Facts],
) -> None:
    request, facts = case
    result = evaluate(request, facts)
    order = list(FINDINGS)
    codes = [finding.code for finding in result.findings]
    assert codes == sorted(codes, key=order.index)
    for finding in result.findings:
        rule = FINDINGS[finding.code]
        assert (finding.severity, finding.policy) == (rule.severity, rule.policy)
        assert finding.message
        assert request.route in SCOPED[finding.code][0]
    severities = {finding.severity for finding in result.findings}
    expected = (
        Decision.BLOCKED
        if Severity.BLOCK in severities
        else Decision.NEEDS_ACTION
        if Severity.ACTION in severities
        else Decision.READY
    )
    assert result.decision == expected
    assert evaluate(request, facts) == result
    assert evaluate(parse_request(request.as_document()), facts) == result


@settings(max_examples=60, deadline=None)
@given(requests_and_facts(), st.sampled_from(["X-1", "NOBODY", "M-9999"]))
def test_an_unknown_recipient_always_raises_recipient_unknown(
    case: tuple[DisclosureRequest, Facts], new: str
) -> None:
    request, facts = case
    before = evaluate(request, facts)
    wider = request.model_copy(update={"recipients": [*request.recipients, new]})
    after = evaluate(wider, replace(facts, recipients={**facts.recipients, new: None}))
    assert "RECIPIENT_UNKNOWN" in after.codes()
    assert before.codes() <= after.codes()
    assert after.decision == Decision.BLOCKED


@settings(max_examples=60, deadline=None)
@given(requests_and_facts())
def test_without_authorisation_it_is_always_missing(case: tuple[DisclosureRequest, Facts]) -> None:
    request, facts = case
    result = evaluate(request.model_copy(update={"authorisation": None}), facts)
    assert "AUTHORISATION_MISSING" in result.codes()
    assert not {"SELF_AUTHORISATION", "AUTHORISER_NOT_PERMITTED"} & result.codes()
    assert result.decision != Decision.READY


# --------------------------------------------------------------------------- corrections against items


def test_a_correction_counts_only_if_reported_since_the_item_was_verified() -> None:
    before = replace(INT5_CORRECTED, reported_at=datetime(2026, 10, 2, 9, 0, tzinfo=UTC))
    case = ready(SCHEME_ROUTE)
    set_facts(corrections=(before,))(case)
    assert case.result().findings == ()  # verified at 09:05 against the record as corrected at 09:00

    case = ready(SCHEME_ROUTE)
    set_facts(corrections=(INT5_CORRECTED, replace(INT5_CORRECTED, item=0, correction_id=8)))(case)
    found = [(f.where, f.message) for f in case.result().findings]
    assert found == [
        (
            "items.0",
            "Item 1: its source record Genesis INT-5 was reported inaccurate (correction 8, 03 Oct 2026) "
            "after the item was verified. Check the item against the corrected record and verify it again, "
            "or change it.",
        ),
        (
            "items.1",
            "Item 2: its source record Genesis INT-5 was reported inaccurate (correction 7, 03 Oct 2026) "
            "after the item was verified. Check the item against the corrected record and verify it again, "
            "or change it.",
        ),
    ]

    case = ready(SCHEME_ROUTE)
    both(drop("items.1.verified"), set_facts(corrections=(before,)))(case)
    assert case.result().codes() == {"FACT_UNVERIFIED", "FACT_CORRECTED"}  # never verified since
    reverified = ready(SCHEME_ROUTE)
    both(set_doc("items.1.verified.at", "2026-10-04T08:00:00Z"), set_facts(corrections=(INT5_CORRECTED,)))(
        reverified
    )
    assert reverified.result().findings == ()


@settings(max_examples=60, deadline=None)
@given(requests_and_facts())
def test_an_agreement_disclosure_naming_no_agreement_is_always_blocked_at_the_agreement_field(
    case: tuple[DisclosureRequest, Facts],
) -> None:
    request, facts = case
    unnamed = request.model_copy(update={"route": Route.AGREEMENT, "agreement": None})
    result = evaluate(unnamed, facts)
    asked = [f for f in result.findings if f.message.startswith("Agreement: name the agreement you rely on.")]
    assert len(asked) == 1 and (asked[0].code, asked[0].where) == ("AGREEMENT_MISSING", "agreement")
    assert result.decision == Decision.BLOCKED
    # No agreement is guessed at: what one would or would not cover is said only once it is named.
    assert "PURPOSE_NOT_COVERED" not in result.codes()
