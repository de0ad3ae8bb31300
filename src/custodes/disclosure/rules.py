"""The disclosure rule engine: every finding code, its severity and policy, and the checks that raise it.

One engine for screens, API and CLI. `evaluate` is pure: the service gathers what the rules need to know
about the people, partners, agreements and schemes involved into `Facts`, and the same request with the same
facts always gives the same findings, in the order of `FINDINGS`.

Which checks apply to which route (docs/disclosure.md explains the choices):
- everywhere: recipients known, sourcing and verification of every item (and no correction to it since),
  fact/assessment and person category, special-category conditions, protected persons, the discloser's
  training, vetting and conflicts, separation of duties, rationale, lawful basis, the danger warning;
- `partnership_scheme`: the K10 rules (scheme, membership, manager vetting, undertakings, photo
  eligibility, current intelligence, no past-outcome-only grounds, risk assessment, JAPAN, and never an
  address, previous convictions or PNC warning signals);
- `agreement`: the agreement relied on named, in force, naming the recipient and covering the purpose and
  the data;
- `competent_authority`: every recipient is one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from custodes.disclosure import textchecks
from custodes.disclosure.schemas import (
    CheckResult,
    DisclosureRequest,
    Finding,
    Item,
    ItemKind,
    OffenceOutcome,
    Purpose,
    Route,
    Severity,
    SourceKind,
)
from custodes.kit.timefmt import london_day

BLOCK, ACTION = Severity.BLOCK, Severity.ACTION


@dataclass(frozen=True, slots=True)
class Rule:
    severity: Severity
    policy: str
    summary: str  # what the finding means, for the findings reference page


FINDINGS: dict[str, Rule] = {
    "RECIPIENT_UNKNOWN": Rule(
        BLOCK, "K10 7.2, ICO code", "a recipient is not in the partner or member register"
    ),
    "SCHEME_MEMBER_OFF_SCHEME": Rule(
        BLOCK, "K10 6.2, 7.2", "a scheme member is named on another route, where K10's limits would not apply"
    ),
    "RECIPIENT_NOT_COMPETENT_AUTHORITY": Rule(
        BLOCK,
        "DPA 2018 s.30, Sch 7; IOPC recommendation to Kent Police, June 2023",
        "competent-authority route, but the recipient is not one",
    ),
    "AGREEMENT_MISSING": Rule(
        BLOCK,
        "ICO data sharing code; IOPC recommendations to Kent Police (2023) and Durham Constabulary (2024)",
        "agreement route, but no agreement is named, or the one named does not name the recipient",
    ),
    "AGREEMENT_NOT_IN_FORCE": Rule(
        BLOCK, "ICO code", "the agreement has not started, has ended, or is past (or has no) review date"
    ),
    "PURPOSE_NOT_COVERED": Rule(
        BLOCK, "ICO code", "the agreement does not cover this purpose or an item's data category"
    ),
    "PURPOSE_NOT_PERMITTED": Rule(BLOCK, "K10 6.2.3", "scheme disclosures are only for the K10 purposes"),
    "LAWFUL_BASIS_MISSING": Rule(
        ACTION,
        "DPA 2018 s.35(2); IOPC recommendation to Durham Constabulary, July 2024",
        "no lawful basis or power named",
    ),
    "RATIONALE_MISSING": Rule(
        ACTION,
        "ICO data sharing code; IOPC recommendations to Kent Police (2023) and Durham Constabulary (2024)",
        "no rationale recorded",
    ),
    "SCHEME_NOT_RECOGNISED": Rule(BLOCK, "K10 6.2.1", "scheme unknown or not recognised"),
    "NOT_SCHEME_MEMBER": Rule(BLOCK, "K10 6.2.1", "a recipient is not a current registered member"),
    "SCHEME_MANAGER_NOT_VETTED": Rule(
        BLOCK, "K10 7.3", "the scheme's approved manager (if it has one) has no current security check"
    ),
    "UNDERTAKING_MISSING": Rule(ACTION, "K10 8.2.1", "a recipient has no signed undertaking on record"),
    "PHOTO_NOT_ELIGIBLE": Rule(
        BLOCK, "K10 5.1–5.4", "only custody images for a charge, conviction or caution, held on the system"
    ),
    "INTELLIGENCE_NOT_CURRENT": Rule(
        BLOCK, "K10 6.2.2", "no documented intelligence within the currency window"
    ),
    "PAST_OUTCOME_ONLY": Rule(
        BLOCK, "K10 6.2.2", "past outcomes alone are not grounds for a scheme disclosure"
    ),
    "RISK_ASSESSMENT_MISSING": Rule(ACTION, "K10 6.2.5–6.2.6", "no risk assessment or no plan to manage it"),
    "JAPAN_INCOMPLETE": Rule(ACTION, "K10 6.4.1", "a JAPAN consideration is not recorded"),
    "AUTHORISATION_MISSING": Rule(ACTION, "K10 7.7.1", "not yet authorised"),
    "SELF_AUTHORISATION": Rule(
        BLOCK, "separation of duties", "the requester authorised their own disclosure"
    ),
    "AUTHORISER_NOT_PERMITTED": Rule(
        BLOCK, "K10 7.7", "the authoriser lacks the role for this route and area"
    ),
    "CONTAINS_ADDRESS": Rule(BLOCK, "K10 8.3", "the subject's address appears"),
    "NAME_NOT_JUSTIFIED": Rule(ACTION, "K10 8.3", "the subject's name is disclosed with no justification"),
    "CONTAINS_PREVIOUS_CONVICTIONS": Rule(BLOCK, "K10 8.4", "previous convictions appear"),
    "CONTAINS_PNC_WARNING_SIGNALS": Rule(BLOCK, "K10 8.5", "PNC warning signals appear"),
    "DANGER_WARNING_REQUIRED": Rule(ACTION, "K10 8.5", "danger to recipients, but no warning to them"),
    "FACT_UNSOURCED": Rule(
        BLOCK, "DPA 2018 s.38(4); IOPC recommendation to Kent Police, June 2023", "an item has no source"
    ),
    "FACT_UNVERIFIED": Rule(
        ACTION,
        "DPA 2018 s.38(4); IOPC recommendation to Kent Police, June 2023",
        "an item is not verified against a record",
    ),
    "FACT_CORRECTED": Rule(
        BLOCK,
        "DPA 2018 s.38(4)–(5); K10 8.7b",
        "an item's source record, or its words about the subject, reported inaccurate since it was verified",
    ),
    "DISCLOSER_TRAINING_EXPIRED": Rule(
        BLOCK,
        "IOPC recommendation to Durham Constabulary, July 2024 (Managing Information training)",
        "no current information-management training",
    ),
    "DISCLOSER_CONFLICT": Rule(
        BLOCK,
        "IOPC recommendation to Hertfordshire Constabulary, March 2023 (conflicts of interest)",
        "a declared conflict of interest with the subject",
    ),
    "DISCLOSER_VETTING_EXPIRED": Rule(BLOCK, "HMICFRS PEEL 2018, Kent: vetting", "no current vetting"),
    "ITEM_NOT_CLASSIFIED": Rule(
        ACTION, "DPA 2018 s.38(2)–(3)", "fact or assessment, or person category, missing"
    ),
    "SENSITIVE_CONDITION_MISSING": Rule(
        BLOCK, "DPA 2018 s.35(5), Sch 8", "special-category data without its condition and necessity"
    ),
    "PROTECTED_PERSON": Rule(
        BLOCK, "ICO reprimands 2022–23", "an item reveals a protected person or address"
    ),
    "REVIEW_OVERDUE": Rule(ACTION, "K10 7.8", "a released disclosure is past its review date"),
}

SCHEME_PURPOSES = frozenset(
    {
        Purpose.PROTECTION_OF_PUBLIC,
        Purpose.PREVENTION_OF_CRIME,
        Purpose.DETECTION_OF_CRIME,
        Purpose.INVESTIGATION,
        Purpose.APPREHENSION,
    }
)
ELIGIBLE_PHOTO_OUTCOMES = frozenset(
    {OffenceOutcome.CHARGED, OffenceOutcome.CONVICTED, OffenceOutcome.CAUTIONED}
)
UNVERIFIABLE_SOURCES = frozenset({SourceKind.VERBAL, SourceKind.BRIEFING})
# Who may authorise, per route. Scheme disclosures also need the AIC to belong to the scheme's area.
AUTHORISER_ROLES: dict[Route, frozenset[str]] = {
    Route.PARTNERSHIP_SCHEME: frozenset({"aic"}),
    Route.ONE_OFF: frozenset({"supervisor", "dpu"}),
    Route.COMPETENT_AUTHORITY: frozenset({"supervisor", "aic", "dpu"}),
    Route.AGREEMENT: frozenset({"supervisor", "aic", "dpu"}),
    Route.EMERGENCY: frozenset({"supervisor", "aic", "dpu"}),
}


# --------------------------------------------------------------------------- what the rules know


@dataclass(frozen=True, slots=True)
class RecipientFacts:
    recipient_id: str
    name: str
    competent_authority: bool
    org_id: str | None  # the organisation (itself, or the member's employer)
    scheme_id: str | None  # set for scheme members
    member_active: bool
    undertaking_signed_on: date | None


@dataclass(frozen=True, slots=True)
class AgreementFacts:
    agreement_id: str
    title: str
    parties: frozenset[str]
    purposes: frozenset[str]
    data_categories: frozenset[str]
    # On the day checked: in_force, not_started, review_overdue, review_date_missing, ended, suspended or
    # withdrawn.
    status: str
    end_date: date | None = None  # not a rule's: the expiry job counts its grace period from it

    @property
    def in_force(self) -> bool:
        return self.status == "in_force"


@dataclass(frozen=True, slots=True)
class SchemeFacts:
    scheme_id: str
    name: str
    area_code: str
    recognised: bool
    manager_vetted: bool
    # K10 7.5: a scheme may have no approved manager (the AIC supplies each member directly); only a named
    # manager needs a current security check (7.3).
    manager_named: bool = True


@dataclass(frozen=True, slots=True)
class DiscloserFacts:
    staff_id: str
    roles: frozenset[str]
    area_code: str | None
    training_current: bool
    missing_training: tuple[str, ...]
    vetting_current: bool
    conflicts: tuple[str, ...]  # declared relationships with the subject, e.g. ("neighbour",)


@dataclass(frozen=True, slots=True)
class PersonFacts:
    """The subject, or a protected person: what an item must not reveal."""

    subject_id: str
    name: str | None
    address: str | None
    postcode: str | None


@dataclass(frozen=True, slots=True)
class CorrectionFacts:
    """A correction recorded against what an item of the request carries: its source record, or (about the
    same subject) its words. The service finds them; the rule judges them against the item's verification."""

    item: int  # the item's number in the request, from 0
    correction_id: int
    reported_at: datetime
    against: str  # what was corrected: "its source record Genesis INT-5" or "its wording about this subject"


@dataclass(frozen=True, slots=True)
class Facts:
    on: date
    recipients: dict[str, RecipientFacts | None]
    agreements: tuple[AgreementFacts, ...]  # the named one, or (agreement route) those naming a recipient
    scheme: SchemeFacts | None
    requester: DiscloserFacts | None
    authoriser: DiscloserFacts | None
    subject: PersonFacts | None
    protected: tuple[PersonFacts, ...] = ()
    intelligence_currency_days: int = 90
    # The intelligence systems (configuration `intelligence_systems`): a police photograph must be held on one
    # (K10 5.2: "stored on Genesis").
    intelligence_systems: tuple[str, ...] = ("Genesis",)
    review_due: date | None = None  # released disclosures only
    undertakings_on_file: frozenset[str] = field(default_factory=frozenset)
    corrections: tuple[CorrectionFacts, ...] = ()  # requests not yet released only
    # Set at release when the person releasing is neither the requester nor the authoriser (the DPU): they
    # are a third person handling the disclosure, checked as the other two are.
    releaser: DiscloserFacts | None = None


Check = Callable[[DisclosureRequest, Facts], Iterator[Finding]]
_CHECKS: list[tuple[frozenset[Route] | None, Check]] = []


def check(*routes: Route) -> Callable[[Check], Check]:
    """Register a check, for the given routes only, or for every route when none are named."""

    def register(function: Check) -> Check:
        _CHECKS.append((frozenset(routes) or None, function))
        return function

    return register


def _words(value: str) -> str:
    return str(value).replace("_", " ")


def _listed(values: frozenset[str]) -> str:
    """An agreement's purposes or data categories in words, in a fixed order: what an officer who may not
    open the agreement's page needs to see in a finding about it."""
    return ", ".join(_words(value) for value in sorted(values)) or "nothing"


def _agreement_state(status: str) -> str:
    return "has no review date" if status == "review_date_missing" else f"is {_words(status)}"


def finding(code: str, message: str, where: str | None = None, about: tuple[str, ...] = ()) -> Finding:
    rule = FINDINGS[code]
    return Finding(code, rule.severity, message, rule.policy, where, about)


def evaluate(request: DisclosureRequest, facts: Facts) -> CheckResult:
    found: list[Finding] = []
    for routes, run in _CHECKS:
        if routes is None or request.route in routes:
            found += run(request, facts)
    order = {code: position for position, code in enumerate(FINDINGS)}
    found.sort(key=lambda item: order[item.code])
    return CheckResult(tuple(found))


# --------------------------------------------------------------------------- recipients and routes


@check()
def _recipients_known(request: DisclosureRequest, facts: Facts) -> Iterator[Finding]:
    if not request.recipients:
        yield finding("RECIPIENT_UNKNOWN", "No recipient is named.", "recipients")
    for recipient in request.recipients:
        if facts.recipients.get(recipient) is None:
            yield finding(
                "RECIPIENT_UNKNOWN",
                f"{recipient} is not in the partner register or any scheme's member register.",
                "recipients",
            )


@check(*(route for route in Route if route != Route.PARTNERSHIP_SCHEME))
def _scheme_members_only_by_scheme(request: DisclosureRequest, facts: Facts) -> Iterator[Finding]:
    """What K10 forbids scheme members (an address, previous convictions, warning signals…) is checked on
    the scheme route only: a member named on another route would receive it unchecked."""
    for recipient in _known_recipients(facts):
        if recipient.scheme_id is not None:
            yield finding(
                "SCHEME_MEMBER_OFF_SCHEME",
                f"{recipient.name} ({recipient.recipient_id}) is a member of scheme {recipient.scheme_id}: "
                "disclose to scheme members on the partnership-scheme route only.",
                "recipients",
            )


def _known_recipients(facts: Facts) -> Iterator[RecipientFacts]:
    return (known for known in facts.recipients.values() if known is not None)


@check(Route.COMPETENT_AUTHORITY)
def _competent_authority(request: DisclosureRequest, facts: Facts) -> Iterator[Finding]:
    for recipient in _known_recipients(facts):
        if not recipient.competent_authority:
            yield finding(
                "RECIPIENT_NOT_COMPETENT_AUTHORITY",
                f"{recipient.name} ({recipient.recipient_id}) is not a competent authority: share under an "
                "agreement or as a one-off instead.",
                "recipients",
            )


@check(Route.AGREEMENT)
def _agreement(request: DisclosureRequest, facts: Facts) -> Iterator[Finding]:
    """On the agreement route the agreement relied on must be named: the basis of the sharing is explicit
    and recorded, never picked for the officer. Without one, the agreements naming a recipient (which the
    service gathers then) are offered in the finding, and whether any is in force is still said; whether
    one covers the purpose and the data is checked once it is named."""
    if not request.agreement:
        offered = ", ".join(
            f"{a.agreement_id} ({a.title}, {_agreement_state(a.status).removeprefix('is ')})"
            for a in facts.agreements
        )
        yield finding(
            "AGREEMENT_MISSING",
            "Agreement: name the agreement you rely on."
            + (f" Agreements naming a recipient: {offered}." if offered else ""),
            "agreement",
        )
    for recipient in _known_recipients(facts):
        covering = [a for a in facts.agreements if recipient.org_id in a.parties]
        if not covering:
            named = f"agreement {request.agreement}" if request.agreement else "any agreement on record"
            yield finding(
                "AGREEMENT_MISSING",
                f"{recipient.name} ({recipient.recipient_id}) is not a party to {named}.",
                "agreement",
            )
            continue
        in_force = [a for a in covering if a.in_force]
        if not in_force:
            states = ", ".join(f"{a.agreement_id} {_agreement_state(a.status)}" for a in covering)
            yield finding(
                "AGREEMENT_NOT_IN_FORCE",
                f"No agreement with {recipient.name} is in force: {states}.",
                "agreement",
            )
            continue
        if request.agreement:
            yield from _coverage(request, in_force, recipient)


def _coverage(
    request: DisclosureRequest, agreements: list[AgreementFacts], recipient: RecipientFacts
) -> Iterator[Finding]:
    """One agreement must cover the purpose and every item's data category: two agreements made for
    different purposes do not add up to one that allows this disclosure."""
    for_purpose = [a for a in agreements if request.purpose.value in a.purposes]
    if not for_purpose:
        titles = ", ".join(a.agreement_id for a in agreements)
        covered = "; ".join(f"{a.agreement_id} covers {_listed(a.purposes)}" for a in agreements)
        yield finding(
            "PURPOSE_NOT_COVERED",
            f"{titles} does not cover the purpose {_words(request.purpose)} for {recipient.name}. "
            f"Purposes: {covered}.",
            "purpose",
        )
        for_purpose = agreements  # still say which items fall outside
    kinds = [item.kind.value for item in request.items]
    best = max(for_purpose, key=lambda a: sum(kind in a.data_categories for kind in kinds))
    for number, item in enumerate(request.items):
        if item.kind.value not in best.data_categories:
            yield finding(
                "PURPOSE_NOT_COVERED",
                f"Item {number + 1} ({_words(item.kind)}) is not a data category that agreement "
                f"{best.agreement_id} with {recipient.name} covers. It covers: "
                f"{_listed(best.data_categories)}.",
                f"items.{number}",
            )


@check()
def _lawful_basis_and_rationale(request: DisclosureRequest, facts: Facts) -> Iterator[Finding]:
    if not request.lawful_basis:
        yield finding(
            "LAWFUL_BASIS_MISSING", "Name the lawful basis or power you are relying on.", "lawful_basis"
        )
    if not request.rationale:
        yield finding(
            "RATIONALE_MISSING", "Record why this disclosure is needed (the rationale).", "rationale"
        )


# --------------------------------------------------------------------------- schemes (K10)


@check(Route.PARTNERSHIP_SCHEME)
def _scheme(request: DisclosureRequest, facts: Facts) -> Iterator[Finding]:
    if request.purpose not in SCHEME_PURPOSES:
        yield finding(
            "PURPOSE_NOT_PERMITTED",
            "Scheme disclosures are only for prevention or detection of crime, investigation, "
            f"apprehension or "
            f"protection of the public, not {request.purpose.value.replace('_', ' ')}.",
            "purpose",
        )
    scheme = facts.scheme
    if scheme is None or not scheme.recognised:
        why = "is not recognised" if scheme else "is not in the scheme register"
        name = scheme.name if scheme else (request.scheme or "No scheme")
        yield finding(
            "SCHEME_NOT_RECOGNISED", f"{name} {why}." if request.scheme else "Choose the scheme.", "scheme"
        )
        return
    if scheme.manager_named and not scheme.manager_vetted:
        yield finding(
            "SCHEME_MANAGER_NOT_VETTED",
            f"The approved manager of {scheme.name} has no current security check.",
            "scheme",
        )
    for recipient in _known_recipients(facts):
        if recipient.scheme_id != scheme.scheme_id or not recipient.member_active:
            yield finding(
                "NOT_SCHEME_MEMBER",
                f"{recipient.name} ({recipient.recipient_id}) is not a current registered member of "
                f"{scheme.name}.",
                "recipients",
            )
        elif (
            recipient.undertaking_signed_on is None
            and recipient.recipient_id not in facts.undertakings_on_file
        ):
            yield finding(
                "UNDERTAKING_MISSING",
                f"{recipient.name} ({recipient.recipient_id}) has no signed undertaking (Form 3797) "
                "on record.",
                "recipients",
            )


@check(Route.PARTNERSHIP_SCHEME)
def _grounds(request: DisclosureRequest, facts: Facts) -> Iterator[Finding]:
    window = facts.intelligence_currency_days
    earliest = facts.on - timedelta(days=window)
    if not request.intelligence and request.previous_outcomes:
        yield finding(
            "PAST_OUTCOME_ONLY",
            "The grounds are only previous outcomes: a conviction, caution, final warning or reprimand "
            "alone is "
            "not enough. Record current intelligence.",
            "intelligence",
        )
    elif not any(earliest <= record.recorded_at <= facts.on for record in request.intelligence):
        yield finding(
            "INTELLIGENCE_NOT_CURRENT",
            f"No documented intelligence recorded in the last {window} days (since {earliest:%d %b %Y}).",
            "intelligence",
        )
    risk = request.risk_assessment
    if risk is None or not risk.risks or not risk.plan:
        yield finding(
            "RISK_ASSESSMENT_MISSING",
            "Record the risks and the written plan to manage them.",
            "risk_assessment",
        )
    japan = request.japan
    missing = [
        name
        for name in ("justified", "authorised", "proportionate", "auditable", "necessary")
        if japan is None or not getattr(japan, name)
    ]
    if missing:
        yield finding(
            "JAPAN_INCOMPLETE", f"JAPAN record incomplete: {', '.join(missing)} not recorded.", "japan"
        )


@check(Route.PARTNERSHIP_SCHEME)
def _photos(request: DisclosureRequest, facts: Facts) -> Iterator[Finding]:
    systems = " or ".join(facts.intelligence_systems) or "an intelligence system (none is configured)"
    for number, item in enumerate(request.items):
        if item.kind != ItemKind.PHOTO:
            continue
        photo = item.photo
        rule = "only custody images for a charge, conviction or caution"
        if photo is None or not photo.custody_image:
            why = "it is not a custody image"
        elif photo.offence_outcome not in ELIGIBLE_PHOTO_OUTCOMES:
            why = f"the offence outcome is {photo.offence_outcome.value.replace('_', ' ')}"
        elif not photo.held_on:
            why = "it is not recorded as held on the intelligence system"
        elif _system_name(photo.held_on) not in {_system_name(name) for name in facts.intelligence_systems}:
            why = f"it is held on {photo.held_on.strip()}, which is not an intelligence system"
            rule = f"only custody images held on {systems}"
        else:
            continue
        yield finding(
            "PHOTO_NOT_ELIGIBLE", f"Item {number + 1}: photo not eligible: {why} ({rule}).", f"items.{number}"
        )


def _system_name(name: str) -> str:
    """A system's name as corrections compare it: whatever its case, spacing around it ignored."""
    return name.strip().lower()


@check(Route.PARTNERSHIP_SCHEME)
def _never_disclosed(request: DisclosureRequest, facts: Facts) -> Iterator[Finding]:
    """K10 8.3–8.5: no address, no previous convictions, no PNC warning signals; a name only if justified."""
    subject = facts.subject
    for number, item in enumerate(request.items):
        where, label = f"items.{number}", f"Item {number + 1}"
        texts = _item_texts(item)
        if item.kind == ItemKind.ADDRESS:
            yield finding(
                "CONTAINS_ADDRESS", f"{label} is an address: never give an address to a scheme.", where
            )
        else:
            hits = [hit for text in texts for hit in textchecks.find_address(text)]
            own = _mentions_any(texts, *_address_needles(subject)) if subject else None
            if hits or own:
                excerpt = hits[0].excerpt if hits else own
                yield finding("CONTAINS_ADDRESS", f"{label} contains an address: “{excerpt}”.", where)
        if item.kind == ItemKind.PREVIOUS_CONVICTIONS:
            yield finding(
                "CONTAINS_PREVIOUS_CONVICTIONS",
                f"{label} lists previous convictions: give an indication of likely offending instead.",
                where,
            )
        elif hit := _first(textchecks.find_previous_convictions, texts):
            yield finding(
                "CONTAINS_PREVIOUS_CONVICTIONS", f"{label} mentions previous convictions: “{hit}”.", where
            )
        if item.kind == ItemKind.PNC_WARNING_SIGNAL:
            yield finding("CONTAINS_PNC_WARNING_SIGNALS", f"{label} is a PNC warning signal.", where)
        elif hit := _first(textchecks.find_pnc_warning_signals, texts):
            yield finding(
                "CONTAINS_PNC_WARNING_SIGNALS", f"{label} mentions a PNC warning signal: “{hit}”.", where
            )
        named = item.kind == ItemKind.NAME or bool(
            subject and subject.name and _mentions_any(texts, subject.name)
        )
        if named and not request.name_justification:
            yield finding(
                "NAME_NOT_JUSTIFIED",
                f"{label} gives the subject's name: record why naming them is justified.",
                where,
            )


def _address_needles(person: PersonFacts) -> list[str | None]:
    """An address as an item might give it: whole, its first line ("9 Elm Road"), or just the postcode."""
    first_line = person.address.split(",")[0] if person.address else None
    return [person.address, first_line, person.postcode]


def _item_texts(item: Item) -> list[str]:
    """Every free-text field of an item: the rules read them all, not only the content."""
    texts: list[str | None] = [item.content, item.sensitive_condition, item.strictly_necessary]
    if item.photo is not None:
        texts.append(item.photo.held_on)
    if item.source is not None:
        texts += [item.source.system, item.source.record_id]
    if item.verified is not None:
        texts.append(item.verified.method)
    return [text for text in texts if text]


def _first(search: Callable[[str], list[textchecks.TextHit]], texts: list[str]) -> str | None:
    for text in texts:
        hits = search(text)
        if hits:
            return hits[0].excerpt
    return None


def _mentions_any(texts: list[str], *needles: str | None) -> str | None:
    for needle in needles:
        if needle and len(needle.strip()) >= 3:
            for text in texts:
                if found := textchecks.mentions(text, needle):
                    return found
    return None


# --------------------------------------------------------------------------- the items themselves


@check()
def _items(request: DisclosureRequest, facts: Facts) -> Iterator[Finding]:
    for number, item in enumerate(request.items):
        where, label = f"items.{number}", f"Item {number + 1}"
        source = item.source
        if source is None or (source.kind == SourceKind.SYSTEM_RECORD and not source.record_id):
            yield finding("FACT_UNSOURCED", f"{label} has no source: say where it came from.", where)
        elif source.kind in UNVERIFIABLE_SOURCES:
            yield finding(
                "FACT_UNVERIFIED",
                f"{label} comes from a {source.kind.value} source: check it against a record before it is "
                "disclosed, and source it to that record.",
                where,
            )
        if source is not None and source.kind not in UNVERIFIABLE_SOURCES and item.verified is None:
            yield finding("FACT_UNVERIFIED", f"{label} has not been verified against its source.", where)
        if item.nature is None or item.person_category is None:
            missing = " and ".join(
                part
                for part, value in (
                    ("fact or assessment", item.nature),
                    ("person category", item.person_category),
                )
                if value is None
            )
            yield finding("ITEM_NOT_CLASSIFIED", f"{label}: mark {missing}.", where)
        if item.special_category and not (item.sensitive_condition and item.strictly_necessary):
            yield finding(
                "SENSITIVE_CONDITION_MISSING",
                f"{label} is special-category data: name the Schedule 8 condition and say why it is strictly "
                "necessary.",
                where,
            )


@check()
def _corrected(request: DisclosureRequest, facts: Facts) -> Iterator[Finding]:
    """An item whose source record or words were reported inaccurate after it was verified (or that was never
    verified) must be checked again against the corrected record, or changed, before it goes anywhere."""
    for number, item in enumerate(request.items):
        verified_at = item.verified.at if item.verified else None
        later = [
            c
            for c in facts.corrections
            if c.item == number and (verified_at is None or c.reported_at > verified_at)
        ]
        for correction in sorted(later, key=lambda c: c.correction_id):
            when = f"{london_day(correction.reported_at):%d %b %Y}"
            after, again = (" after the item was verified", " again") if verified_at else ("", "")
            yield finding(
                "FACT_CORRECTED",
                f"Item {number + 1}: {correction.against} was reported inaccurate (correction "
                f"{correction.correction_id}, {when}){after}. Check the item against the corrected record "
                f"and verify it{again}, or change it.",
                f"items.{number}",
            )


@check()
def _protected_people(request: DisclosureRequest, facts: Facts) -> Iterator[Finding]:
    """One finding per item, quoting the first protected person or address it reveals; the finding is about
    every protected person the item reveals (showing it confirms that they are protected)."""
    for number, item in enumerate(request.items):
        texts = _item_texts(item)
        revealed = [
            (person.subject_id, excerpt)
            for person in facts.protected
            if (excerpt := _mentions_any(texts, person.name, *_address_needles(person)))
        ]
        if revealed:
            yield finding(
                "PROTECTED_PERSON",
                f"Item {number + 1} reveals a protected person or address (“{revealed[0][1]}”).",
                f"items.{number}",
                about=tuple(dict.fromkeys(subject_id for subject_id, _excerpt in revealed)),
            )


@check()
def _danger_warning(request: DisclosureRequest, facts: Facts) -> Iterator[Finding]:
    if request.danger_to_recipients and not any(
        item.kind == ItemKind.WARNING_PHRASE and textchecks.find_danger_warning(item.content)
        for item in request.items
    ):
        yield finding(
            "DANGER_WARNING_REQUIRED",
            "There is a danger to recipients: add a warning item such as “Do not approach but call "
            "the police "
            "immediately”.",
            "items",
        )


# --------------------------------------------------------------------------- the people disclosing


@check()
def _disclosers(request: DisclosureRequest, facts: Facts) -> Iterator[Finding]:
    people = [("requester", "requested_by", facts.requester)]
    if request.authorisation is not None:
        people.append(("authoriser", "authorisation", facts.authoriser))
    if facts.releaser is not None:
        people.append(("releaser", "released_by", facts.releaser))
    for part, where, person in people:
        if person is None:
            continue
        who = f"The {part} ({person.staff_id})"
        if not person.training_current:
            courses = ", ".join(person.missing_training) or "mandatory information-management training"
            yield finding("DISCLOSER_TRAINING_EXPIRED", f"{who} lacks current training: {courses}.", where)
        if person.conflicts:
            yield finding(
                "DISCLOSER_CONFLICT",
                f"{who} has declared a conflict with the subject ({', '.join(person.conflicts)}): "
                "someone else "
                "must handle this disclosure.",
                where,
                about=(person.staff_id,),
            )
        if not person.vetting_current:
            yield finding("DISCLOSER_VETTING_EXPIRED", f"{who} has no current vetting.", where)


@check()
def _authorisation(request: DisclosureRequest, facts: Facts) -> Iterator[Finding]:
    authorisation = request.authorisation
    roles = AUTHORISER_ROLES[request.route]
    if authorisation is None:
        titles = {"aic": "an Area Intelligence Co-ordinator", "supervisor": "a supervisor", "dpu": "the DPU"}
        needed = " or ".join(titles[role] for role in sorted(roles))
        yield finding("AUTHORISATION_MISSING", f"Not yet authorised: needs {needed}.", "authorisation")
        return
    if authorisation.by == request.requested_by:
        yield finding("SELF_AUTHORISATION", "Nobody may authorise their own disclosure.", "authorisation")
    authoriser = facts.authoriser
    if authoriser is None or not roles & authoriser.roles:
        yield finding(
            "AUTHORISER_NOT_PERMITTED",
            f"{authorisation.by} does not hold a role that may authorise {_words(request.route)} "
            "disclosures.",
            "authorisation",
        )
    elif (
        request.route == Route.PARTNERSHIP_SCHEME
        and facts.scheme
        and authoriser.area_code != facts.scheme.area_code
    ):
        yield finding(
            "AUTHORISER_NOT_PERMITTED",
            f"{authorisation.by} is not the Area Intelligence Co-ordinator for area "
            f"{facts.scheme.area_code}.",
            "authorisation",
        )


@check()
def _review(request: DisclosureRequest, facts: Facts) -> Iterator[Finding]:
    if facts.review_due is not None and facts.on > facts.review_due:
        days = (facts.on - facts.review_due).days
        ago = "1 day" if days == 1 else f"{days} days"
        yield finding("REVIEW_OVERDUE", f"Review was due on {facts.review_due:%d %b %Y} ({ago} ago).", None)
