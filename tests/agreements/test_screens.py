"""The partner, agreement and scheme screens, driven as a browser would (forms with the CSRF token)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from custodes.agreements import service as agreements
from custodes.identity import service as identity
from custodes.identity.permissions import Role
from custodes.identity.schemas import Principal
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter
from tests.agreements.helpers import AGREEMENT, DOCUMENT, ORG, make_register
from tests.conftest import csrf_token, post_form


def post(client: TestClient, url: str, data: dict[str, Any]) -> Any:
    return post_form(client, url, data)


def follow(client: TestClient, response: Any) -> str:
    assert response.status_code == 303, response.text
    page = client.get(response.headers["location"])
    assert page.status_code == 200
    return str(page.text)


def test_dpu_adds_and_changes_a_partner(client: TestClient, logged_in: Callable[[Role], str]) -> None:
    logged_in(Role.DPU)
    assert "Add a partner" in client.get("/partners").text
    assert client.get("/partners/new").status_code == 200
    page = follow(client, post(client, "/partners", {**ORG, "competent_authority": "true"}))
    assert "Partner added." in page and "Kent County Council" in page
    assert "may receive for law-enforcement purposes" in page
    refused = post(client, "/partners", {**ORG, "org_id": "bad id!", "name": "", "kind": "pub"})
    assert refused.status_code == 400
    assert "Partner id: &#39;bad id!&#39; is not an identifier such as ORG1" in refused.text
    assert "Name: is required" in refused.text and 'value="bad id!"' in refused.text  # the form is kept
    edit = client.get("/partners/KCC/edit")
    assert edit.status_code == 200 and "Kent County Council" in edit.text
    page = follow(
        client, post(client, "/partners/KCC", {**ORG, "name": "Kent CC", "competent_authority": ""})
    )
    assert "Partner updated." in page and "Kent CC" in page
    listing = client.get("/partners").text
    assert "Kent CC" in listing and "/partners/KCC" in listing


def test_dpu_manages_an_agreement(client: TestClient, db: Session, logged_in: Callable[[Role], str]) -> None:
    logged_in(Role.DPU)
    agreements.create_organisation(db, ORG, "system:test")
    agreements.create_organisation(
        db, {**ORG, "org_id": "MPS", "name": "Met Police", "kind": "police"}, "system:test"
    )
    db.commit()
    form = {
        "agreement_id": "ISA-7",
        "title": "Night-time economy ISA",
        "kind": "ISA",
        "parties": ["KCC", "MPS"],
        "purposes": ["prevention_of_crime", "detection_of_crime"],
        "data_categories": ["photo", "name"],
        "lawful_bases": ["CDA1998_s115"],
        "other_lawful_bases": "common_law; UKGDPR_6_1_e",
        "start_date": "2024-01-01",
        "review_date": "2999-01-01",
        "end_date": "",
    }
    page = follow(client, post(client, "/agreements", form))
    assert "Agreement added." in page and "In force" in page and "Met Police" in page
    stored = agreements.get_agreement(db, "ISA-7")
    assert stored is not None and stored.lawful_bases == ("CDA1998_s115", "common_law", "UKGDPR_6_1_e")
    assert stored.parties == ("KCC", "MPS")

    refused = post(
        client, "/agreements", {**form, "agreement_id": "ISA-8", "purposes": [], "end_date": "2020-01-01"}
    )
    assert refused.status_code == 400
    assert "Purposes: is required" in refused.text and "End date: is before the start date" in refused.text

    # Upload, then download, the signed document.
    upload = client.post(
        "/agreements/ISA-7/document",
        data={"csrftoken": csrf_token(client)},
        files={"document": ("signed ISA.pdf", DOCUMENT, "application/pdf")},
    )
    assert "Document signed ISA.pdf stored." in follow(client, upload)
    download = client.get("/agreements/ISA-7/document")
    assert download.status_code == 200 and download.content == DOCUMENT
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"].startswith('attachment; filename="signed_ISA.pdf"')
    missing = post(client, "/agreements/ISA-7/document", {})  # shown at its field, not as a done banner
    assert missing.status_code == 400 and "Not done" not in missing.text
    assert re.search(
        r'role="alert">\s*<strong>Please put right:</strong>\s*<ul><li>The signed document: choose a file',
        missing.text,
    )
    assert '<div class="field wrong"><label for="document">' in missing.text

    # Record a review by moving the review date; then suspend with a reason.
    page = follow(client, post(client, "/agreements/ISA-7", {**form, "review_date": "2999-06-30"}))
    assert "Agreement updated." in page and "30 Jun 2999" in page
    no_reason = post(client, "/agreements/ISA-7/status", {"action": "suspend", "reason": ""})
    assert no_reason.status_code == 400 and "Reason: give the reason" in no_reason.text
    assert '<div class="field wrong"><label for="reason">' in no_reason.text
    assert 'value="suspend" required checked>' in no_reason.text  # the choice is kept
    no_action = post(client, "/agreements/ISA-7/status", {"action": "", "reason": "Breach on 2 March"})
    assert no_action.status_code == 400 and "Status: choose suspend, withdraw or reinstate" in no_action.text
    assert '<fieldset class="wrong"><legend>Suspend, withdraw or reinstate' in no_action.text
    assert ">Breach on 2 March</textarea>" in no_action.text  # what was typed is kept
    page = follow(
        client, post(client, "/agreements/ISA-7/status", {"action": "suspend", "reason": "Breach on 3 March"})
    )
    assert "Agreement suspended." in page and "Breach on 3 March" in page and "Reinstate" in page
    assert "Suspended" in client.get("/agreements").text


def test_agreements_screen_lists_reminders_and_overdue_reviews(
    client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    make_register(db)
    today = agreements.today()
    soon = {
        **AGREEMENT,
        "agreement_id": "SOON",
        "title": "Due soon",
        "review_date": (today + timedelta(5)).isoformat(),
    }
    late = {
        **AGREEMENT,
        "agreement_id": "LATE",
        "title": "Overdue one",
        "review_date": (today - timedelta(1)).isoformat(),
    }
    agreements.create_agreement(db, soon, "system:test")
    agreements.create_agreement(db, late, "system:test")
    db.commit()
    logged_in(Role.SUPERVISOR)  # may view, not manage
    page = client.get("/agreements").text
    assert "Reviews due in the next 30 days" in page and "in 5 days" in page
    assert "1 agreement past its review date" in page and "Overdue one" in page and "Review overdue" in page
    assert "Add an agreement" not in page
    detail = client.get("/agreements/LATE").text
    assert "cannot be relied on" in detail and "Change status" not in detail


def test_aic_runs_a_scheme_register(
    client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    aic = logged_in(Role.AIC)
    _in_area(db, aic, "E")
    scheme = {
        "scheme_id": "PW-1",
        "name": "Dover PubWatch",
        "area_code": "e",
        "recognised": "false",  # the form shows an AIC their area and recognition, fixed
        "manager_name": "Sam Landlord",
        "manager_vetted_until": "2001-01-01",
    }
    form = client.get("/schemes/new").text
    assert 'name="area_code" value="E"' in form and 'name="recognised" value="false"' in form
    refused = post(client, "/schemes", {**scheme, "recognised": "true", "area_code": "N"})
    assert refused.status_code == 400
    assert "Area: you may add schemes in your own area (E) only" in refused.text
    assert "Recognised: only the Data Protection Unit may mark a scheme recognised" in refused.text
    page = follow(client, post(client, "/schemes", scheme))
    assert "Scheme added." in page and "Security check expired 1 Jan 2001" in page
    assert agreements.get_scheme(db, "PW-1").area_code == "E"  # type: ignore[union-attr]
    page = follow(client, post(client, "/schemes/PW-1", {**scheme, "manager_vetted_until": "2999-01-01"}))
    assert "Security check valid until 1 Jan 2999" in page

    member = {
        "member_id": "M-9",
        "name": "Jo Bloggs",
        "org_id": "",
        "registered_on": "2025-01-01",
        "undertaking_signed_on": "",
        "status": "active",
    }
    assert client.get("/schemes/PW-1/members/new").status_code == 200
    page = follow(client, post(client, "/schemes/PW-1/members", member))
    assert (
        "Jo Bloggs (M-9) is now a member of Dover PubWatch." in page
        and "Jo Bloggs" in page
        and "Not signed" in page
    )
    refused = post(client, "/schemes/PW-1/members", {**member, "registered_on": ""})
    assert refused.status_code == 400 and "Member id: M-9 is already registered" not in refused.text
    assert "Registered on: is required" in refused.text
    undated = post(client, "/schemes/PW-1/members/M-9/undertaking", {"signed_on": ""})
    assert undated.status_code == 400 and 'role="alert"' in undated.text
    assert "Undertaking signed on: give the date M-9 signed the undertaking" in undated.text
    assert 'class="compact field wrong"' in undated.text and 'aria-invalid="true"' in undated.text
    future = post(client, "/schemes/PW-1/members/M-9/undertaking", {"signed_on": "2999-01-01"})
    assert future.status_code == 400 and "Undertaking signed on: is in the future" in future.text
    assert 'value="2999-01-01"' in future.text  # the date typed is kept at its box
    page = follow(client, post(client, "/schemes/PW-1/members/M-9/undertaking", {"signed_on": "2025-02-03"}))
    assert (
        "Recorded: Jo Bloggs (M-9) signed the undertaking on 3 Feb 2025." in page and "Not signed" not in page
    )
    assert client.get("/schemes/PW-1/members/M-9/edit").status_code == 200
    page = follow(
        client,
        post(
            client,
            "/schemes/PW-1/members/M-9",
            {**member, "status": "suspended", "undertaking_signed_on": "2025-02-03"},
        ),
    )
    assert "(M-9): membership of Dover PubWatch updated." in page and "Suspended" in page

    db.expire_all()
    consultations = ledger.search(db, EntryFilter(op="consultation", actor=f"staff:{aic}"), limit=50)
    register_views = [e for e in consultations if e.object_type == "scheme_register"]
    # Newest first: the register shown after the member was added names them; the first, empty one no one.
    assert register_views[0].subjects == ["M-9"] and register_views[-1].subjects == []
    assert all(e.justification == "scheme register" for e in consultations)


def _in_area(db: Session, staff_id: str, area_code: str) -> None:
    """A staff record for the logged-in account: the area whose schemes an AIC keeps."""
    from custodes.imports import load_records

    person = {
        "staff_id": staff_id,
        "surname": "Test",
        "forenames": "T",
        "role": "aic",
        "area_code": area_code,
    }
    load_records(db, "staff", [person], "system:test")
    db.commit()


def test_an_aic_of_another_area_may_not_change_a_scheme(
    client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    """SCH-01 is in area N; this AIC is in area E: they may read its register, not change it."""
    make_register(db)
    aic = logged_in(Role.AIC)
    _in_area(db, aic, "E")
    page = client.get("/schemes/SCH-01").text
    assert "/schemes/SCH-01/edit" not in page and "/members/M-0001/edit" not in page
    for url in ("/schemes/SCH-01/edit", "/schemes/SCH-01/members/new", "/schemes/SCH-01/members/M-0001/edit"):
        response = client.get(url)
        assert response.status_code == 303 and "Not%20allowed" in response.headers["location"], url
    moved = {"name": "Maidstone ShopWatch", "area_code": "E", "recognised": "true", "manager_name": ""}
    refused = post(client, "/schemes/SCH-01", moved)
    assert refused.status_code == 400
    assert "only the Area Intelligence Co-ordinator for area N or the Data Protection Unit" in refused.text
    member = {"name": "X", "registered_on": "2024-01-01", "status": "active"}
    assert post(client, "/schemes/SCH-01/members", {**member, "member_id": "M-7"}).status_code == 400
    assert post(client, "/schemes/SCH-01/members/M-0001", member).status_code == 400
    done = post(client, "/schemes/SCH-01/members/M-0001/undertaking", {"signed_on": "2025-02-03"})
    assert done.status_code == 400 and 'role="alert"' in done.text  # refused on the page, not as a banner
    db.expire_all()
    found = agreements.get_scheme(db, "SCH-01")
    assert found is not None and found.area_code == "N"
    assert [m.member_id for m in agreements.list_members(db, "SCH-01")] == ["M-0001"]
    # The member's record was not shown, so no consultation of it was recorded.
    shown = ledger.search(db, EntryFilter(op="consultation", actor=f"staff:{aic}"), limit=50)
    assert not [e for e in shown if e.object_type == "scheme_member"]


def test_an_agreement_without_a_review_date_is_shown_as_missing_one(
    client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    """Rows from before a review date was required: every place that shows review status says so."""
    from sqlalchemy import text

    make_register(db)
    db.execute(text("UPDATE agreement SET review_date = NULL WHERE agreement_id = 'KMISA-1'"))
    db.commit()
    logged_in(Role.DPU)
    listing = client.get("/agreements").text
    assert "1 agreement past its review date or without one" in listing and "review date missing" in listing
    assert "Review date missing" in listing
    page = client.get("/agreements/KMISA-1").text
    assert "It has no review date" in page and "cannot be relied on" in page
    assert "Review date missing" in client.get("/partners/KCC").text
    rows = list(csv.DictReader(io.StringIO(client.get("/agreements/export.csv").text)))
    assert [(r["agreement_id"], r["review_date"], r["status_today"]) for r in rows] == [
        ("KMISA-1", "", "review_date_missing")
    ]
    refused = post(client, "/agreements/KMISA-1", {**AGREEMENT, "parties": ["KCC"], "review_date": ""})
    assert refused.status_code == 400 and "Review date: is required" in refused.text


def test_exports(client: TestClient, db: Session, logged_in: Callable[[Role], str]) -> None:
    make_register(db)
    auditor = logged_in(Role.AUDITOR)
    partners = client.get("/partners/export.csv")
    assert partners.status_code == 200 and partners.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(partners.text)))
    assert [(r["org_id"], r["competent_authority"]) for r in rows] == [("KCC", "false"), ("PROB-SE", "true")]

    rows = list(csv.DictReader(io.StringIO(client.get("/agreements/export.csv").text)))
    assert len(rows) == 1 and rows[0]["parties"] == "KCC;PROB-SE" and rows[0]["status_today"] == "in_force"
    assert rows[0]["document_filename"] == "kmisa.pdf"

    schemes = client.get("/schemes/export.csv")
    rows = list(csv.DictReader(io.StringIO(schemes.text)))
    assert [(r["scheme_id"], r["member_id"], r["undertaking_signed_on"]) for r in rows] == [
        ("SCH-01", "M-0001", "2024-01-10")
    ]
    for url in (
        "/partners/export.pdf",
        "/agreements/export.pdf",
        "/schemes/export.pdf",
        "/schemes/SCH-01/export.pdf",
    ):
        response = client.get(url)
        assert response.status_code == 200 and response.content.startswith(b"%PDF"), url
        assert response.headers["content-disposition"].startswith("attachment")
    assert client.get("/schemes/SCH-01/export.csv").text.count("M-0001") == 1

    db.expire_all()
    exported = ledger.search(db, EntryFilter(op="consultation", actor=f"staff:{auditor}"), limit=50)
    assert len(exported) == 4  # two whole-register exports, two of one scheme
    assert all(e.subjects == ["M-0001"] and e.object_type == "scheme_register" for e in exported)
    assert client.get("/agreements/NOPE").status_code == 404
    assert client.get("/schemes/NOPE/export.pdf").status_code == 404


def test_an_upload_needs_the_csrf_token_before_the_file(
    client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    make_register(db)
    logged_in(Role.DPU)
    csrf_token(client)
    forged = client.post(
        "/agreements/KMISA-1/document", files={"document": ("x.pdf", b"evil", "application/pdf")}
    )
    assert forged.status_code == 403
    wrong = client.post(
        "/agreements/KMISA-1/document",
        data={"csrftoken": "not-the-token"},
        files={"document": ("x.pdf", b"evil", "application/pdf")},
    )
    assert wrong.status_code == 403
    stored = agreements.get_document(db, "KMISA-1")
    assert stored is not None and stored.content == DOCUMENT


def test_a_scheme_area_is_shown_by_name_with_its_code(
    client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    make_register(db)
    logged_in(Role.DPU)
    assert "<dt>Area</dt><dd>N</dd>" in client.get("/schemes/SCH-01").text  # not named: the code
    admin = Principal("ADM", "Admin", frozenset({Role.ADMIN}))
    identity.set_config(db, "area_names", "N = North Division", admin)
    db.commit()
    assert "<dt>Area</dt><dd>North Division (N)</dd>" in client.get("/schemes/SCH-01").text
    assert "<td>North Division (N)</td>" in client.get("/schemes").text
