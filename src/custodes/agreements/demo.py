"""Partners, agreements and crime-reduction schemes for `custodes demo` (dates relative to today)."""

from __future__ import annotations

from datetime import date, timedelta


def _day(today: date, days: int) -> str:
    return str(today + timedelta(days=days))


def organisation_rows() -> list[dict[str, str]]:
    partners = (
        (
            "PROB-KSS",
            "Probation Service — Kent, Surrey and Sussex",
            "probation",
            "true",
            "kss.probation@justice.gov.uk.cjsm.net",
        ),
        ("POL-MET", "Metropolitan Police Service", "police", "true", "intel.liaison@met.police.uk"),
        ("KCC", "Kent County Council", "local_authority", "false", "community.safety@kent.gov.uk.cjsm.net"),
        ("MBC", "Maidstone Borough Council", "local_authority", "false", "csu@maidstone.gov.uk"),
        ("MEDWAY", "Medway Council", "local_authority", "false", "csp@medway.gov.uk"),
        (
            "UNI-CANT",
            "University of Canterbury (demo)",
            "education",
            "false",
            "safeguarding@canterbury.ac.uk",
        ),
        ("SCH-OAK", "Oakwood Park Academy", "education", "false", "dsl@oakwood.sch.uk"),
        ("SCH-HIL", "Hillview School for Girls", "education", "false", "dsl@hillview.sch.uk"),
        ("NHS-KM", "Kent and Medway NHS Trust", "health", "false", "safeguarding@kmpt.nhs.uk"),
        ("REFUGE-K", "Kent Women's Refuge (charity)", "charity", "false", "referrals@kwr.org.uk"),
    )
    return [
        {
            "org_id": org_id,
            "name": name,
            "kind": kind,
            "competent_authority": competent,
            "secure_channel": channel,
        }
        for org_id, name, kind, competent, channel in partners
    ]


def agreement_rows(today: date) -> list[dict[str, str]]:
    return [
        {
            "agreement_id": "KMISA",
            "title": "Kent and Medway Information Sharing Agreement",
            "kind": "ISA",
            "parties": "KCC;MBC;MEDWAY;NHS-KM;SCH-OAK;SCH-HIL",
            "purposes": "prevention_of_crime;detection_of_crime;safeguarding;protection_of_public",
            "data_categories": (
                "name;description;date_of_birth;offending_indication;intelligence_summary;other"
            ),
            "lawful_bases": "CDA1998_s115;UKGDPR_6_1_e",
            "start_date": "2021-04-01",
            "review_date": _day(today, 240),
            "end_date": "",
        },
        {
            "agreement_id": "UNI-MOU-2019",
            "title": "University of Canterbury student safeguarding MOU",
            "kind": "MOU",
            "parties": "UNI-CANT",
            "purposes": "safeguarding",
            "data_categories": "name;other",
            "lawful_bases": "UKGDPR_6_1_e",
            "start_date": "2019-09-01",
            "review_date": "2021-09-01",
            "end_date": "2022-08-31",
        },
        {
            "agreement_id": "RSF-KCC-07",
            "title": "Repeat sharing form: KCC troubled families panel",
            "kind": "repeat_sharing_form",
            "parties": "KCC",
            "purposes": "safeguarding",
            "data_categories": "name;date_of_birth;other",
            "lawful_bases": "UKGDPR_6_1_e",
            "start_date": _day(today, -300),
            "review_date": _day(today, 21),
            "end_date": "",
        },
    ]


def scheme_rows(today: date) -> list[dict[str, str]]:
    return [
        {
            "scheme_id": "SW-MED",
            "name": "Medway ShopWatch",
            "area_code": "NA",
            "recognised": "true",
            "manager_name": "Pat Okonjo",
            "manager_vetted_until": _day(today, 400),
        },
        {
            "scheme_id": "PW-CANT",
            "name": "Canterbury PubWatch",
            "area_code": "EA",
            "recognised": "true",
            "manager_name": "Sam Whitlock",
            "manager_vetted_until": _day(today, 90),
        },
        {
            "scheme_id": "SW-TUN",
            "name": "Tunbridge Wells ShopWatch",
            "area_code": "WE",
            "recognised": "true",
            "manager_name": "Chris Dunmore",
            "manager_vetted_until": _day(today, -20),  # security check lapsed: disclosures are blocked
        },
    ]


def member_rows(today: date) -> list[dict[str, str]]:
    members = (
        ("SW-MED", "SWM-001", "Chatham Co-operative Food", "active", -700),
        ("SW-MED", "SWM-002", "Pentagon Centre Security", "active", -500),
        ("SW-MED", "SWM-003", "Rochester High Street Pharmacy", "active", -420),
        ("SW-MED", "SWM-004", "Gillingham Retail Park Management", "active", None),
        ("SW-MED", "SWM-005", "Strood Discount Store", "suspended", -900),
        ("SW-MED", "SWM-006", "Chatham Sports Direct", "left", -1000),
        ("PW-CANT", "PWC-001", "The Bishop's Finger", "active", -300),
        ("PW-CANT", "PWC-002", "Westgate Tavern", "active", -250),
        ("PW-CANT", "PWC-003", "Club Vinyl", "active", -200),
        ("SW-TUN", "SWT-001", "Royal Victoria Place Security", "active", -365),
        ("SW-TUN", "SWT-002", "Calverley Road Boots", "active", -330),
    )
    return [
        {
            "member_id": member_id,
            "scheme_id": scheme_id,
            "name": name,
            "registered_on": _day(today, (signed or -60) - 10),
            "undertaking_signed_on": _day(today, signed) if signed is not None else "",
            "status": status,
        }
        for scheme_id, member_id, name, status, signed in members
    ]
