"""A small partner, agreement and scheme register, made through the service as the screens make it."""

from __future__ import annotations

from sqlalchemy.orm import Session

from custodes.agreements import service as agreements

ACTOR = "system:test"
ORG = {
    "org_id": "KCC",
    "name": "Kent County Council",
    "kind": "local_authority",
    "competent_authority": "false",
    "contact": "Community safety team, 03000 000000",
    "secure_channel": "cst@kent.gov.uk.cjsm.net",
}
PROBATION = {
    "org_id": "PROB-SE",
    "name": "Probation Service South East",
    "kind": "probation",
    "competent_authority": "true",
    "contact": "",
    "secure_channel": "",
}
AGREEMENT = {
    "agreement_id": "KMISA-1",
    "title": "Kent and Medway information sharing agreement",
    "kind": "ISA",
    "parties": "KCC;PROB-SE",
    "purposes": "prevention_of_crime;safeguarding",
    "data_categories": "name;photo;description",
    "lawful_bases": "CDA1998_s115;DPA2018_Part3",
    "start_date": "2020-01-01",
    "review_date": "2999-12-31",
    "end_date": "",
}
SCHEME = {
    "scheme_id": "SCH-01",
    "name": "Maidstone ShopWatch",
    "area_code": "N",
    "recognised": "true",
    "manager_name": "Pat Manager",
    "manager_vetted_until": "2999-01-01",
}
MEMBER = {
    "member_id": "M-0001",
    "name": "Corner Shop Ltd",
    "org_id": "",
    "registered_on": "2024-01-10",
    "undertaking_signed_on": "2024-01-10",
    "status": "active",
}
DOCUMENT = b"%PDF-1.4 signed agreement"


def make_register(db: Session) -> dict[str, str]:
    """Partners, an agreement with its document, a scheme with a member; returns path parameter values."""
    agreements.create_organisation(db, ORG, ACTOR)
    agreements.create_organisation(db, PROBATION, ACTOR)
    agreements.create_agreement(db, AGREEMENT, ACTOR)
    agreements.attach_document(db, "KMISA-1", "kmisa.pdf", "application/pdf", DOCUMENT, ACTOR)
    agreements.create_scheme(db, SCHEME, ACTOR)
    agreements.create_member(db, "SCH-01", MEMBER, ACTOR)
    db.commit()
    return {"org_id": "KCC", "agreement_id": "KMISA-1", "scheme_id": "SCH-01", "member_id": "M-0001"}
