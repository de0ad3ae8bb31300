"""A small force for disclosure tests, loaded through the import services exactly as files would be.

Area CZ has an officer (S1001), an AIC (S1002), a supervisor (S1003); S1004 is in the DPU; S1005 is the AIC
of area NA. N2001 is the subject (with an address); N2002 is a protected witness. SCH-01 is a recognised
CZ ShopWatch with two active members and a suspended one.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from custodes.identity.permissions import Role
from custodes.identity.schemas import Principal
from custodes.imports import load_records

ACTOR = "system:test"
TODAY = date.today()
LONG_AGO, FAR_AHEAD = "2020-01-01", "2999-12-31"

STAFF = {
    "S1001": ("Officer", "Olive", "officer", "CZ"),
    "S1002": ("Coordinator", "Alan", "aic", "CZ"),
    "S1003": ("Sergeant", "Sam", "supervisor", "CZ"),
    "S1004": ("Protection", "Dee", "dpu", "HQ"),
    "S1005": ("Northern", "Nia", "aic", "NA"),
    "S1006": ("Untrained", "Uma", "officer", "CZ"),
}


def principal(staff_id: str) -> Principal:
    surname, forenames, role, _area = STAFF[staff_id]
    return Principal(staff_id, f"{forenames} {surname}", frozenset({Role(role)}))


def make_world(db: Session) -> None:
    load_records(
        db,
        "staff",
        [
            {
                "staff_id": sid,
                "surname": s,
                "forenames": f,
                "role": role,
                "team_id": f"T-{area}",
                "area_code": area,
            }
            for sid, (s, f, role, area) in STAFF.items()
        ],
        ACTOR,
    )
    load_records(
        db,
        "courses",
        [
            {
                "course_code": "MI",
                "title": "Managing Information",
                "mandatory_for": "",
                "validity_months": "36",
                "gates": "disclosure",
            }
        ],
        ACTOR,
    )
    trained = [sid for sid in STAFF if sid != "S1006"]
    load_records(
        db,
        "training",
        [
            {"staff_id": sid, "course_code": "MI", "completed_on": str(TODAY - timedelta(days=30))}
            for sid in trained
        ],
        ACTOR,
    )
    load_records(
        db,
        "vetting",
        [
            {
                "staff_id": sid,
                "level": "MV",
                "status": "granted",
                "decided_on": LONG_AGO,
                "expires_on": FAR_AHEAD,
            }
            for sid in STAFF
        ],
        ACTOR,
    )
    load_records(
        db,
        "nominals",
        [
            {
                "subject_id": "N2001",
                "surname": "Smith",
                "forenames": "Jack",
                "date_of_birth": "1990-05-01",
                "postcode": "ME14 1AA",
                "flags": "",
                "address": "12 Acacia Avenue, Maidstone",
            },
            {
                "subject_id": "N2002",
                "surname": "Witness",
                "forenames": "Jane",
                "date_of_birth": "1985-03-03",
                "postcode": "ME15 6BB",
                "flags": "protected",
                "address": "4 Refuge Close, Maidstone",
            },
        ],
        ACTOR,
    )
    load_records(
        db,
        "organisations",
        [
            {
                "org_id": "PROB-SE",
                "name": "Probation Service South East",
                "kind": "probation",
                "competent_authority": "true",
            },
            {
                "org_id": "UNI",
                "name": "University of Kent",
                "kind": "education",
                "competent_authority": "false",
            },
            {
                "org_id": "KCC",
                "name": "Kent County Council",
                "kind": "local_authority",
                "competent_authority": "false",
            },
        ],
        ACTOR,
    )
    load_records(
        db,
        "agreements",
        [
            {
                "agreement_id": "KMISA",
                "title": "Kent and Medway Information Sharing Agreement",
                "kind": "ISA",
                "parties": "KCC",
                "purposes": "prevention_of_crime;safeguarding",
                "data_categories": "name;description;offending_indication;other",
                "lawful_bases": "CDA1998_s115",
                "start_date": LONG_AGO,
                "review_date": FAR_AHEAD,
                "end_date": "",
            },
            {
                "agreement_id": "OLD-MOU",
                "title": "University safeguarding MOU (expired)",
                "kind": "MOU",
                "parties": "UNI",
                "purposes": "safeguarding",
                "data_categories": "name;other",
                "lawful_bases": "UKGDPR_6_1_e",
                "start_date": "2018-01-01",
                "review_date": "2019-01-01",
                "end_date": "2021-01-01",
            },
        ],
        ACTOR,
    )
    load_records(
        db,
        "schemes",
        [
            {
                "scheme_id": "SCH-01",
                "name": "Maidstone ShopWatch",
                "area_code": "CZ",
                "recognised": "true",
                "manager_name": "Pat Manager",
                "manager_vetted_until": FAR_AHEAD,
            }
        ],
        ACTOR,
    )
    load_records(
        db,
        "scheme-members",
        [
            _member("M-0001", "Corner Shop Ltd", "active"),
            _member("M-0002", "High Street Pharmacy", "active"),
            _member("M-0003", "Closed Store", "suspended"),
        ],
        ACTOR,
    )
    db.flush()


def _member(member_id: str, name: str, status: str) -> dict[str, str]:
    return {
        "member_id": member_id,
        "scheme_id": "SCH-01",
        "name": name,
        "registered_on": "2024-01-10",
        "undertaking_signed_on": "2024-01-10",
        "status": status,
    }


def _moment(days_ago: int = 1) -> str:
    return (datetime.now().astimezone() - timedelta(days=days_ago)).isoformat(timespec="seconds")


def scheme_request(**changes: Any) -> dict[str, Any]:
    """A partnership-scheme request that passes every rule once an AIC of CZ authorises it."""
    request: dict[str, Any] = {
        "route": "partnership_scheme",
        "requested_by": "S1001",
        "subject": "N2001",
        "recipients": ["M-0001", "M-0002"],
        "scheme": "SCH-01",
        "purpose": "prevention_of_crime",
        "lawful_basis": "CDA1998_s115",
        "rationale": "Repeated shop thefts in the town centre; members need to recognise him.",
        "items": [
            {
                "kind": "photo",
                "content": "custody image ref CI-88",
                "nature": "fact",
                "person_category": "convicted",
                "photo": {"custody_image": True, "offence_outcome": "convicted", "held_on": "Genesis"},
                "source": {"system": "Genesis", "record_id": "CI-88", "kind": "system_record"},
                "verified": {"by": "S1001", "at": _moment(), "method": "checked against source record"},
            },
            {
                "kind": "offending_indication",
                "content": "It is suspected that this subject may engage in shop theft in your area",
                "nature": "assessment",
                "person_category": "suspect",
                "source": {"system": "Genesis", "record_id": "INT-5", "kind": "system_record"},
                "verified": {"by": "S1001", "at": _moment()},
            },
        ],
        "intelligence": [
            {"record_id": "INT-5", "recorded_at": str(TODAY - timedelta(days=10)), "grading": "B2"}
        ],
        "risk_assessment": {"risks": "Confrontation in store", "plan": "Members told not to approach"},
        "japan": {
            "justified": "Ongoing thefts",
            "authorised": "CDA 1998 s.115",
            "proportionate": "Photo only, members only",
            "auditable": "Recorded in Custodes",
            "necessary": "No less intrusive means",
        },
    }
    request.update(changes)
    return request


def probation_request(**changes: Any) -> dict[str, Any]:
    """A competent-authority relay to Probation, as in seed 000."""
    request: dict[str, Any] = {
        "route": "competent_authority",
        "requested_by": "S1001",
        "subject": "N2001",
        "recipients": ["PROB-SE"],
        "purpose": "offender_management",
        "lawful_basis": "DPA2018_Part3",
        "rationale": "Probation asked whether he has breached his licence conditions.",
        "items": [
            {
                "kind": "other",
                "content": "Seen with a co-defendant on 3 October in breach of a non-association condition",
                "nature": "fact",
                "person_category": "convicted",
                "source": {"system": "Athena", "record_id": "OCC-77", "kind": "system_record"},
                "verified": {"by": "S1001", "at": _moment()},
            }
        ],
    }
    request.update(changes)
    return request
