"""The service the disclosure rule engine and the screens use."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from custodes.agreements import service as agreements
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter
from tests.agreements.helpers import ACTOR, AGREEMENT, DOCUMENT, MEMBER, ORG, make_register


def logged(db: Session, **criteria: str) -> list[ledger.StoredEntry]:
    db.flush()
    db.commit()
    return ledger.search(db, EntryFilter(**criteria), limit=100)  # type: ignore[arg-type]


def test_engine_views(db: Session) -> None:
    make_register(db)
    org = agreements.get_organisation(db, "KCC")
    assert org is not None and org.name == "Kent County Council" and not org.competent_authority
    assert org.secure_channel == "cst@kent.gov.uk.cjsm.net"
    assert agreements.get_organisation(db, "NOPE") is None

    agreement = agreements.get_agreement(db, "KMISA-1")
    assert agreement is not None
    assert agreement.parties == ("KCC", "PROB-SE")
    assert agreement.purposes == ("prevention_of_crime", "safeguarding")
    assert agreement.data_categories == ("name", "photo", "description")
    assert agreement.lawful_bases == ("CDA1998_s115", "DPA2018_Part3")
    assert agreement.in_force_on(date(2026, 1, 1)) and not agreement.in_force_on(date(2019, 12, 31))
    assert (
        agreement.document is not None and agreement.document.sha256 == hashlib.sha256(DOCUMENT).hexdigest()
    )
    assert [a.agreement_id for a in agreements.agreements_for(db, "PROB-SE")] == ["KMISA-1"]
    assert agreements.agreements_for(db, "NOPE") == []

    scheme = agreements.get_scheme(db, "SCH-01")
    assert scheme is not None and scheme.recognised and scheme.manager_vetted_on(date(2026, 1, 1))
    member = agreements.scheme_member(db, "SCH-01", "M-0001")
    assert member is not None and member.current and member.undertaking_signed_on == date(2024, 1, 10)
    assert agreements.scheme_member(db, "SCH-02", "M-0001") is None  # a member of another scheme
    assert [m.member_id for m in agreements.list_members(db, "SCH-01")] == ["M-0001"]
    assert agreements.member_counts(db) == {"SCH-01": (1, 1)}


def test_find_recipient(db: Session) -> None:
    make_register(db)
    org = agreements.find_recipient(db, "PROB-SE")
    assert (
        org is not None and org.kind == "organisation" and org.competent_authority and org.org_id == "PROB-SE"
    )
    member = agreements.find_recipient(db, "M-0001")
    assert member is not None and member.kind == "scheme_member"
    assert (member.scheme_id, member.member_status, member.org_id) == ("SCH-01", "active", None)
    assert member.undertaking_signed_on == date(2024, 1, 10) and not member.competent_authority
    assert agreements.find_recipient(db, "GHOST") is None
    # A member that is a partner organisation takes its organisation's competent-authority status.
    values = {**MEMBER, "member_id": "M-0002", "name": "Probation office", "org_id": "PROB-SE"}
    agreements.create_member(db, "SCH-01", values, ACTOR)
    via_org = agreements.find_recipient(db, "M-0002")
    assert via_org is not None and via_org.competent_authority and via_org.org_id == "PROB-SE"


def test_review_reminders(db: Session) -> None:
    make_register(db)
    today = date(2026, 5, 1)
    for number, days in enumerate((-1, 0, 30, 31)):
        values = {
            **AGREEMENT,
            "agreement_id": f"R{number}",
            "review_date": (today + timedelta(days)).isoformat(),
        }
        agreements.create_agreement(db, values, ACTOR)
    agreements.create_agreement(
        db,
        {**AGREEMENT, "agreement_id": "ENDED", "end_date": "2026-04-30", "review_date": "2026-05-10"},
        ACTOR,
    )
    assert [a.agreement_id for a in agreements.review_reminders(db, today)] == ["R1", "R2"]
    assert [a.agreement_id for a in agreements.review_reminders(db, today, within_days=31)] == [
        "R1",
        "R2",
        "R3",
    ]
    agreements.set_agreement_status(db, "R1", "suspended", "breach reported", ACTOR)
    assert [a.agreement_id for a in agreements.review_reminders(db, today)] == ["R2"]
    overdue = agreements.get_agreement(db, "R0")
    assert overdue is not None and overdue.status_on(today) == "review_overdue"


def test_create_and_update_record_collection_and_alteration(db: Session) -> None:
    make_register(db)
    assert {e.object_id for e in logged(db, op="collection", object_type="organisation")} == {
        "KCC",
        "PROB-SE",
    }
    assert agreements.update_organisation(db, "KCC", {**ORG, "name": "Kent CC"}, "staff:DPU1")
    assert not agreements.update_organisation(db, "KCC", {**ORG, "name": "Kent CC"}, "staff:DPU1")
    (entry,) = logged(db, op="alteration", object_type="organisation")
    assert entry.actor == "staff:DPU1" and list(entry.detail["changes"]) == ["name"]
    # This session carries no installation settings, so no secret key: the values are not recorded at all
    # (never a plain SHA-256 of them, which a list of candidates would give back).
    assert entry.detail["changes"]["name"] == {"values": "not recorded: no installation secret key"}
    # The path's id wins over a form's.
    agreements.update_organisation(db, "KCC", {**ORG, "org_id": "OTHER", "name": "Kent CC"}, ACTOR)
    assert agreements.get_organisation(db, "OTHER") is None


def test_refusals_name_the_field(db: Session) -> None:
    make_register(db)
    with pytest.raises(agreements.AgreementsError) as duplicate:
        agreements.create_organisation(db, ORG, ACTOR)
    assert duplicate.value.problems == [("org_id", "KCC is already registered")]
    with pytest.raises(agreements.AgreementsError) as missing:
        agreements.update_scheme(db, "NOPE", {"name": "X", "recognised": "true"}, ACTOR)
    assert missing.value.problems == [("scheme_id", "there is no scheme NOPE")]
    with pytest.raises(agreements.AgreementsError) as bad:
        agreements.create_agreement(
            db, {**AGREEMENT, "agreement_id": "A2", "parties": "", "start_date": "x"}, ACTOR
        )
    assert {field for field, _ in bad.value.problems} == {"parties", "start_date"}
    with pytest.raises(agreements.AgreementsError) as elsewhere:
        agreements.update_member(db, "SCH-02", "M-0001", MEMBER, ACTOR)
    assert elsewhere.value.problems[0][0] == "member_id"


def test_manual_status(db: Session) -> None:
    make_register(db)
    with pytest.raises(agreements.AgreementsError, match="reason: give the reason"):
        agreements.set_agreement_status(db, "KMISA-1", "suspended", "  ", ACTOR)
    agreements.set_agreement_status(db, "KMISA-1", "suspended", "partner breach", "staff:DPU1")
    found = agreements.get_agreement(db, "KMISA-1")
    assert found is not None and found.status_on(date(2026, 1, 1)) == "suspended"
    assert found.status_reason == "partner breach"
    with pytest.raises(agreements.AgreementsError, match="already"):
        agreements.set_agreement_status(db, "KMISA-1", "suspended", "again", ACTOR)
    agreements.set_agreement_status(db, "KMISA-1", None, "breach resolved", ACTOR)
    assert agreements.get_agreement(db, "KMISA-1").in_force_on(date(2026, 1, 1))  # type: ignore[union-attr]
    agreements.set_agreement_status(db, "KMISA-1", "withdrawn", "replaced", ACTOR)
    with pytest.raises(agreements.AgreementsError, match="withdrawn"):
        agreements.set_agreement_status(db, "KMISA-1", None, "undo", ACTOR)
    changes = logged(db, op="alteration", object_type="agreement")
    assert [e.detail["status"] for e in reversed(changes)] == ["suspended", "reinstated", "withdrawn"]
    assert "breach" not in str([e.content for e in changes])


def test_documents(db: Session) -> None:
    make_register(db)
    stored = agreements.get_document(db, "KMISA-1")
    assert stored is not None and stored.content == DOCUMENT and stored.info.filename == "kmisa.pdf"
    with pytest.raises(agreements.AgreementsError, match=r"v2<x>\.html is a web page"):  # not a signed copy
        agreements.attach_document(db, "KMISA-1", "C:\\scans\\v2<x>.html", "text/html", b"<p>v2</p>", ACTOR)
    info = agreements.attach_document(
        db, "KMISA-1", "C:\\scans\\v2<x>.pdf", "text/html", b"%PDF-1.7 v2", ACTOR
    )
    assert info.filename == "v2<x>.pdf" and info.content_type == "application/pdf"
    assert agreements.get_document(db, "KMISA-1").content == b"%PDF-1.7 v2"  # type: ignore[union-attr]
    (replaced,) = logged(db, op="alteration", object_type="agreement_document")
    assert replaced.detail["replaced_sha256"] == hashlib.sha256(DOCUMENT).hexdigest()
    with pytest.raises(agreements.AgreementsError, match="choose a file"):
        agreements.attach_document(db, "KMISA-1", "empty.pdf", "application/pdf", b"", ACTOR)
    with pytest.raises(agreements.AgreementsError, match="larger"):
        big = b"x" * (agreements.MAX_DOCUMENT_BYTES + 1)
        agreements.attach_document(db, "KMISA-1", "big.pdf", "application/pdf", big, ACTOR)
    assert agreements.get_document(db, "NOPE") is None


def test_undertakings_and_register_consultations(db: Session) -> None:
    make_register(db)
    values = {**MEMBER, "member_id": "M-0002", "name": "Jo Bloggs", "undertaking_signed_on": ""}
    agreements.create_member(db, "SCH-01", values, ACTOR)
    with pytest.raises(agreements.AgreementsError, match="future"):
        agreements.record_undertaking(db, "SCH-01", "M-0002", date(2026, 2, 1), ACTOR, on=date(2026, 1, 31))
    agreements.record_undertaking(
        db, "SCH-01", "M-0002", date(2026, 1, 31), "staff:AIC1", on=date(2026, 1, 31)
    )
    member = agreements.scheme_member(db, "SCH-01", "M-0002")
    assert member is not None and member.undertaking_signed_on == date(2026, 1, 31)
    (entry,) = logged(db, op="alteration", object_type="scheme_member")
    assert entry.subjects == ["M-0002"] and list(entry.detail["changes"]) == ["undertaking_signed_on"]

    register = agreements.view_members_register(db, "SCH-01", actor="staff:AIC1")
    assert [m.member_id for m in register["SCH-01"]] == ["M-0001", "M-0002"]  # ordered by name
    (consultation,) = logged(db, op="consultation", object_type="scheme_register")
    assert consultation.justification == "scheme register"
    assert sorted(consultation.subjects) == ["M-0001", "M-0002"]
    assert agreements.view_member(db, "SCH-01", "M-0002", actor="staff:AIC1") is not None
    (one,) = logged(db, op="consultation", object_type="scheme_member")
    assert one.subjects == ["M-0002"]


@pytest.mark.parametrize("column", ["registered_on", "undertaking_signed_on"])
def test_a_member_cannot_be_registered_or_sign_in_the_future(db: Session, column: str) -> None:
    """K10 6.2.1, 8.2.1: a date still to come would count as done today."""
    make_register(db)
    later = (agreements.today() + timedelta(days=1)).isoformat()
    values = {**MEMBER, "member_id": "M-0009", column: later}
    with pytest.raises(agreements.AgreementsError) as refused:
        agreements.create_member(db, "SCH-01", values, ACTOR)
    message = f"is in the future (today is {agreements.today().isoformat()})"
    assert refused.value.problems == [(column, message)]
    with pytest.raises(agreements.AgreementsError):
        agreements.update_member(db, "SCH-01", "M-0001", {**MEMBER, column: later}, ACTOR)
    today = {**MEMBER, "member_id": "M-0009", column: agreements.today().isoformat()}
    agreements.create_member(db, "SCH-01", today, ACTOR)  # today itself is not the future


def test_a_form_names_a_bad_reference_with_its_other_problems(db: Session) -> None:
    """The reviewer's case, on a form: a bad status and an unknown organisation are both named."""
    make_register(db)
    values = {**MEMBER, "member_id": "M-0009", "status": "activ", "org_id": "NOPE"}
    with pytest.raises(agreements.AgreementsError) as refused:
        agreements.create_member(db, "SCH-01", values, ACTOR)
    assert {field for field, _ in refused.value.problems} == {"status", "org_id"}


def test_an_agreement_needs_a_review_date(db: Session) -> None:
    make_register(db)
    with pytest.raises(agreements.AgreementsError) as refused:
        agreements.create_agreement(db, {**AGREEMENT, "agreement_id": "A9", "review_date": ""}, ACTOR)
    assert refused.value.problems == [
        ("review_date", "is required: give the date the agreement is next to be reviewed")
    ]
    with pytest.raises(agreements.AgreementsError, match="review_date: is required"):
        agreements.update_agreement(db, "KMISA-1", {**AGREEMENT, "review_date": ""}, ACTOR)
