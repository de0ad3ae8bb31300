"""Disclosures at every stage for `custodes demo`, made through the service as officers would make them.

The stories follow the seeds: ShopWatch disclosures (K10) released, due for review, overdue, withdrawn,
waiting and refused; a relay to Probation later found wrong (seed 000), with its correction outstanding; a
one-off share with a university (seed 001); an emergency share awaiting completion. Times are moved back
after the fact so that reviews fall due; the ledger keeps the real time at which the demo was loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from custodes.disclosure import service as disclosure
from custodes.disclosure.models import Disclosure, DisclosureEvent, Notice
from custodes.disclosure.schemas import ReviewOutcome
from custodes.identity.schemas import Principal
from custodes.kit.db import utcnow
from custodes.kit.timefmt import rfc3339


@dataclass(frozen=True, slots=True)
class Cast:
    officer: Principal
    aic: Principal
    sergeant: Principal
    dpu: Principal


def _verified(by: str, days_ago: int) -> dict[str, str]:
    return {
        "by": by,
        "at": rfc3339(utcnow() - timedelta(days=days_ago, hours=2)),
        "method": "checked on Genesis",
    }


def _scheme_request(
    cast: Cast, subject: str, recipients: list[str], days_ago: int, **changes: Any
) -> dict[str, Any]:
    officer = cast.officer.staff_id
    request: dict[str, Any] = {
        "route": "partnership_scheme",
        "requested_by": officer,
        "subject": subject,
        "recipients": recipients,
        "scheme": "SW-MED",
        "purpose": "prevention_of_crime",
        "lawful_basis": "CDA1998_s115",
        "rationale": "Repeated thefts from Chatham shops this month; staff need to recognise him.",
        "items": [
            {
                "kind": "photo",
                "content": f"Custody image CI-{subject[1:]}",
                "nature": "fact",
                "person_category": "convicted",
                "photo": {"custody_image": True, "offence_outcome": "convicted", "held_on": "Genesis"},
                "source": {"system": "Genesis", "record_id": f"CI-{subject[1:]}", "kind": "system_record"},
                "verified": _verified(officer, days_ago),
            },
            {
                "kind": "offending_indication",
                "content": "It is suspected that this subject may engage in shop theft in your area",
                "nature": "assessment",
                "person_category": "suspect",
                "source": {"system": "Genesis", "record_id": f"INT-{subject[1:]}", "kind": "system_record"},
                "verified": _verified(officer, days_ago),
            },
        ],
        "intelligence": [
            {
                "record_id": f"INT-{subject[1:]}",
                "recorded_at": str(date.today() - timedelta(days=min(days_ago + 8, 88))),
                "grading": "B2",
                "summary": "Seen concealing goods in two stores",
            }
        ],
        "risk_assessment": {
            "risks": "Confrontation between staff and the subject",
            "plan": "Members told not to approach; call police on 999 if seen",
        },
        "japan": {
            "justified": "Current intelligence of shop theft in the scheme area",
            "authorised": "Crime and Disorder Act 1998 s.115; AIC authority",
            "proportionate": "Photograph and indication only, to registered members",
            "auditable": "Recorded in Custodes with every step",
            "necessary": "Warnings alone have not stopped the offending",
        },
    }
    request.update(changes)
    return request


def _probation_relay(cast: Cast, subject: str) -> dict[str, Any]:
    officer = cast.officer.staff_id
    return {
        "route": "competent_authority",
        "requested_by": officer,
        "subject": subject,
        "recipients": ["PROB-KSS"],
        "purpose": "offender_management",
        "lawful_basis": "DPA2018_Part3",
        "rationale": "The offender manager asked whether he has kept to his licence conditions.",
        "items": [
            {
                "kind": "other",
                "content": "Seen on 2 October with a named co-defendant, against a non-association condition",
                "nature": "fact",
                "person_category": "convicted",
                "source": {"system": "Athena", "record_id": "OCC-4471", "kind": "system_record"},
                "verified": _verified(officer, 20),
            },
            {
                "kind": "intelligence_summary",
                "content": "Officers assess that he is likely to be associating with known burglars again",
                "nature": "assessment",
                "person_category": "convicted",
                "source": {"system": "Genesis", "record_id": "INT-8812", "kind": "system_record"},
                "verified": _verified(officer, 20),
            },
        ],
    }


def _through(session: Session, cast: Cast, request: dict[str, Any], stop: str, authoriser: Principal) -> int:
    """Take a request as far as `stop`: draft, submitted, authorised or released."""
    disclosure_id = disclosure.create_draft(session, request, cast.officer)
    if stop == "draft":
        return disclosure_id
    disclosure.submit(session, disclosure_id, cast.officer)
    if stop == "submitted":
        return disclosure_id
    disclosure.authorise(session, disclosure_id, authoriser, "Grounds and proportionality confirmed")
    if stop == "released":
        disclosure.release(session, disclosure_id, authoriser)
    return disclosure_id


def _backdate(session: Session, disclosure_id: int, days: int) -> None:
    """Move a demo case `days` into the past (its review date with it)."""
    shift = timedelta(days=days)
    row = session.get(Disclosure, disclosure_id)
    assert row is not None
    for name in ("created_at", "updated_at", "submitted_at", "authorised_at", "released_at", "closed_at"):
        value: datetime | None = getattr(row, name)
        if value is not None:
            setattr(row, name, value - shift)
    if row.review_due is not None:
        row.review_due -= shift
    for event in session.scalars(
        select(DisclosureEvent).where(DisclosureEvent.disclosure_id == disclosure_id)
    ):
        event.at -= shift


def _age_notices(session: Session, disclosure_id: int, days: int) -> None:
    """Notices issued `days` ago, so the outstanding ages on the corrections screen mean something."""
    for notice in session.scalars(select(Notice).where(Notice.disclosure_id == disclosure_id)):
        notice.issued_at -= timedelta(days=days)


# Shares other than scheme and Probation ones: (subject, route, recipient, purpose, basis, rationale, stage).
OTHER_SHARES = (
    (
        8,
        "agreement",
        "KCC",
        "safeguarding",
        "CDA1998_s115",
        "Troubled families panel: the family's risk assessment needs the police view.",
        "released",
    ),
    (
        9,
        "one_off",
        "UNI-CANT",
        "safeguarding",
        "UKGDPR_6_1_e",
        "A student at risk of exploitation; the university's safeguarding lead must act today.",
        "submitted",
    ),
    (
        10,
        "emergency",
        "NHS-KM",
        "protection_of_public",
        "UKGDPR_6_1_d",
        "Threat to life: told A&E staff he would return with a knife.",
        "released",
    ),
)


def load(session: Session, cast: Cast, subjects: list[str]) -> int:
    """Load the stories; returns how many disclosures were made."""
    made = []
    officer, aic, sergeant = cast.officer, cast.aic, cast.sergeant

    def scheme(index: int, members: list[str], days_ago: int, stop: str, **changes: Any) -> int:
        request = _scheme_request(cast, subjects[index], members, days_ago, **changes)
        disclosure_id = _through(session, cast, request, stop, aic)
        made.append(disclosure_id)
        return disclosure_id

    # In order of release, so that the references run in date order once backdated.
    overdue = scheme(1, ["SWM-001", "SWM-002"], 75, "released")
    withdrawn = scheme(2, ["SWM-002", "SWM-003"], 58, "released")
    due_soon = scheme(0, ["SWM-001", "SWM-002", "SWM-003"], 50, "released")
    disclosure.review(session, withdrawn, aic, ReviewOutcome.WITHDRAW, "Subject has moved out of Medway")
    scheme(3, ["SWM-001"], 2, "authorised")
    scheme(4, ["SWM-002", "SWM-003"], 1, "submitted")
    blocked = _scheme_request(cast, subjects[5], ["SWM-001", "SWM-005"], 0)
    blocked["items"][1]["content"] = "Lives at 14 Mill Road, Chatham and has previous convictions for theft"
    made.append(_through(session, cast, blocked, "draft", aic))
    refused = scheme(6, ["SWM-003"], 12, "submitted")
    disclosure.refuse(
        session, refused, aic, "The only intelligence is a single uncorroborated report: corroborate it."
    )

    relay = _through(session, cast, _probation_relay(cast, subjects[7]), "released", sergeant)
    made.append(relay)
    disclosure.report_correction(
        session,
        cast.dpu,
        description="OCC-4471 was corrected: the man seen was not the co-defendant (Probation complaint).",
        system="Athena",
        record_id="OCC-4471",
        correct_text="The person seen on 2 October has not been identified.",
    )
    for index, route, recipient, purpose, basis, rationale, stop in OTHER_SHARES:
        share = {
            **_probation_relay(cast, subjects[index]),
            "route": route,
            "recipients": [recipient],
            "agreement": "KMISA" if route == "agreement" else None,
            "purpose": purpose,
            "lawful_basis": basis,
            "rationale": rationale,
        }
        # Each drew on an occurrence of its own: OCC-4471 is corrected above, and a request carrying a
        # record corrected since it was verified cannot be released (FACT_CORRECTED).
        share["items"][0]["source"] = {**share["items"][0]["source"], "record_id": f"OCC-{4500 + index}"}
        if route == "emergency":  # released by the officer at once; completed and authorised afterwards
            disclosure_id = disclosure.create_draft(session, share, officer)
            disclosure.release(session, disclosure_id, officer)
        else:
            disclosure_id = _through(session, cast, share, stop, sergeant)
        made.append(disclosure_id)

    session.flush()
    for disclosure_id, days in ((due_soon, 50), (overdue, 75), (withdrawn, 58), (relay, 20)):
        _backdate(session, disclosure_id, days)
    _age_notices(session, relay, 3)
    _age_notices(session, withdrawn, 2)
    first_notice = session.scalars(
        select(Notice).where(Notice.disclosure_id == withdrawn).order_by(Notice.id)
    ).first()
    if first_notice is not None:
        disclosure.acknowledge_notice(
            session, first_notice.id, aic, "Manager confirmed the photograph was destroyed"
        )
    return len(made)
