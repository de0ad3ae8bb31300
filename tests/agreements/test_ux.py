"""What the usability review of the agreement, partner and scheme screens found, put right."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from custodes.agreements import service as agreements
from custodes.disclosure import service as disclosure
from custodes.identity import service as identity
from custodes.identity.permissions import Role
from custodes.identity.schemas import Principal
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter
from tests.agreements.helpers import ACTOR, AGREEMENT, DOCUMENT, make_register
from tests.conftest import csrf_token, post_form


def _docx(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<xml/>")
    return buffer.getvalue()


def follow(client: TestClient, response: Any) -> str:
    assert response.status_code == 303, response.text
    page = client.get(response.headers["location"])
    assert page.status_code == 200
    return str(page.text)


# --------------------------------------------------------------------------- 1: the signed document


@pytest.mark.parametrize(
    ("filename", "content", "media"),
    [
        ("signed.pdf", b"%PDF-1.7 signed", "application/pdf"),
        ("Signed.PDF", b"%PDF-1.4 signed", "application/pdf"),
        (
            "signed.docx",
            _docx("[Content_Types].xml", "word/document.xml"),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        ("signed.doc", bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 64, "application/msword"),
    ],
)
def test_a_signed_pdf_or_word_copy_is_stored_with_its_own_type(
    db: Session, filename: str, content: bytes, media: str
) -> None:
    make_register(db)
    info = agreements.attach_document(db, "KMISA-1", filename, "application/octet-stream", content, ACTOR)
    assert info.content_type == media
    stored = agreements.get_document(db, "KMISA-1")
    assert stored is not None and stored.content == content


@pytest.mark.parametrize(
    ("filename", "content", "problem"),
    [
        ("notes.txt", b"notes\n", "notes.txt is a text file — upload the signed PDF or Word copy."),
        ("scan.png", b"\x89PNG\r\n", "scan.png is a picture — upload the signed PDF or Word copy."),
        ("notes", b"%PDF-1.7", "notes has no .pdf, .docx or .doc ending — upload the signed PDF or Word"),
        ("notes.pdf", b"notes\n", "notes.pdf is named as a PDF but is not one"),
        ("sheet.docx", _docx("xl/workbook.xml"), "sheet.docx is named as a Word document but is not one"),
        ("broken.docx", b"PK\x03\x04 not a zip", "broken.docx is named as a Word document but is not one"),
        ("old.doc", b"{\\rtf1 text}", "old.doc is named as a Word document but is not one"),
        ("data.xyz", b"%PDF-1.7", "data.xyz is a .xyz file — upload the signed PDF or Word copy."),
    ],
)
def test_anything_but_a_pdf_or_word_copy_is_refused(
    db: Session, filename: str, content: bytes, problem: str
) -> None:
    make_register(db)
    with pytest.raises(agreements.AgreementsError) as refused:
        agreements.attach_document(db, "KMISA-1", filename, "application/pdf", content, ACTOR)
    ((field, said),) = refused.value.problems
    assert field == "document" and said.startswith(problem)
    stored = agreements.get_document(db, "KMISA-1")
    assert stored is not None and stored.content == DOCUMENT  # the signed copy held before stays


def test_the_screen_refuses_a_text_file_at_its_field(
    client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    make_register(db)
    logged_in(Role.DPU)
    refused = client.post(
        "/agreements/KMISA-1/document",
        data={"csrftoken": csrf_token(client)},
        files={"document": ("notes.txt", b"notes\n", "text/plain")},
    )
    assert refused.status_code == 400
    assert (
        "<li>The signed document: notes.txt is a text file — upload the signed PDF or Word copy.</li>"
        in refused.text
    )
    assert '<div class="field wrong"><label for="document">' in refused.text
    assert 'accept=".pdf,.docx,.doc' in refused.text
    stored = agreements.get_document(db, "KMISA-1")
    assert stored is not None and stored.content == DOCUMENT


# --------------------------------------------------------------------------- 2: lawful bases in words

ADMIN = Principal("A1", "Ada Admin", frozenset({Role.ADMIN}))
FORM = {
    "agreement_id": "ISA-9",
    "title": "Children's safeguarding ISA",
    "kind": "repeat_sharing_form",
    "parties": ["KCC"],
    "purposes": ["safeguarding"],
    "data_categories": ["name"],
    "lawful_bases": ["CDA1998_s115"],
    "other_lawful_bases": "Children Act 2004, s.10\r\nChildren Act 2004, s.11",
    "start_date": "2024-01-01",
    "review_date": "2999-01-01",
    "end_date": "",
}


def test_lawful_bases_are_offered_and_shown_in_words_and_others_are_written_in_words(
    client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    make_register(db)
    logged_in(Role.DPU)
    form = client.get("/agreements/new").text
    assert "Crime and Disorder Act 1998, s.115 <span" in form and ">CDA1998_s115</span>" in form
    assert "UK GDPR Art. 6(1)(c): legal obligation" in form  # the configured vocabulary is offered
    assert ">Repeat sharing form</option>" in form and "(repeat_sharing_form)" not in form
    assert 'textarea id="other_lawful_bases"' in form

    page = follow(client, post_form(client, "/agreements", FORM))
    stored = agreements.get_agreement(db, "ISA-9")
    assert stored is not None
    assert stored.lawful_bases == ("CDA1998_s115", "Children Act 2004, s.10", "Children Act 2004, s.11")
    assert "Crime and Disorder Act 1998, s.115 (CDA1998_s115)<br>Children Act 2004, s.10<br>" in page
    assert "Repeat sharing form" in page
    edit = client.get("/agreements/ISA-9/edit").text  # the bases written in words come back as written
    assert ">Children Act 2004, s.10\nChildren Act 2004, s.11</textarea>" in edit
    # A disclosure still names its basis from the configured codes: an agreement's words add nothing there.
    assert "Children Act 2004, s.10" not in disclosure.vocabulary(db)

    refused = post_form(
        client, "/agreements", {**FORM, "agreement_id": "ISA-10", "other_lawful_bases": "x" * 201}
    )
    assert refused.status_code == 400
    assert "Lawful bases: &#39;xxxx" in refused.text and "is longer than 200 characters" in refused.text
    assert "x" * 201 in refused.text  # what was typed is kept


def test_words_for_a_code_configured_locally(
    client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    make_register(db)
    identity.set_config(db, "lawful_bases", "CDA1998_s115;CA2004_s10", ADMIN)
    identity.set_config(db, "lawful_basis_names", "CA2004_s10 = Children Act 2004, s.10", ADMIN)
    db.commit()
    logged_in(Role.DPU)
    form = client.get("/agreements/new").text
    assert "Children Act 2004, s.10 <span" in form and ">CA2004_s10</span>" in form
    page = follow(
        client,
        post_form(client, "/agreements", {**FORM, "lawful_bases": ["CA2004_s10"], "other_lawful_bases": ""}),
    )
    assert "Children Act 2004, s.10 (CA2004_s10)" in page
    with pytest.raises(identity.IdentityError, match="CODE = name"):
        identity.set_config(db, "lawful_basis_names", "Children Act", ADMIN)


# --------------------------------------------------------------------------- 3: recording a review


def _review(**changes: str) -> dict[str, str]:
    today = agreements.today()
    return {
        "reviewed_on": today.isoformat(),
        "outcome": "continue",
        "note": "",
        "next_review_date": today.replace(year=today.year + 1, day=15).isoformat(),
        **changes,
    }


def test_a_review_is_recorded_with_who_what_and_when_and_kept_as_history(
    client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    make_register(db)
    staff_id = logged_in(Role.DPU)
    page = client.get("/agreements/KMISA-1").text
    today = agreements.today()
    assert 'action="/agreements/KMISA-1/review"' in page and "No review has been recorded here yet." in page
    assert f'id="reviewed_on" name="reviewed_on" value="{today.isoformat()}"' in page  # today by default
    wanted = _review(note="Still needed; contacts checked.")
    done = follow(client, post_form(client, "/agreements/KMISA-1/review", wanted))
    next_review = date.fromisoformat(wanted["next_review_date"])
    assert f"Review recorded; next review {next_review.day} {next_review:%b %Y}." in done
    assert "Still needed; contacts checked." in done and "Continue" in done and staff_id in done
    stored = agreements.get_agreement(db, "KMISA-1")
    assert stored is not None and stored.review_date == next_review
    (review,) = agreements.reviews_of(db, "KMISA-1")
    assert review.reviewed_by == f"staff:{staff_id}" and review.outcome == "continue"
    db.expire_all()
    (entry,) = ledger.search(db, EntryFilter(op="alteration", object_type="agreement", object_id="KMISA-1"))
    assert entry.detail["review"] == {
        "reviewed_on": today.isoformat(),
        "outcome": "continue",
        "next_review_date": wanted["next_review_date"],
        "note": True,
    }
    assert list(entry.detail["changes"]) == ["review_date"]  # type: ignore[call-overload]
    assert "contacts" not in str(entry.detail)


@pytest.mark.parametrize(
    ("changes", "problems"),
    [
        ({"reviewed_on": "2999-01-01"}, ["Date reviewed: is in the future"]),
        ({"reviewed_on": ""}, ["Date reviewed: is required"]),
        ({"outcome": ""}, ["Outcome: choose what the review decided"]),
        ({"next_review_date": ""}, ["Next review date: is required"]),
        (
            {"reviewed_on": "2026-01-10", "next_review_date": "2026-01-10"},
            ["Next review date: must be after"],
        ),
        (
            {"reviewed_on": "2026-01-10", "next_review_date": "2026-02-01"},
            ["Next review date: is in the past"],
        ),
        ({"outcome": "continue_with_changes"}, ["Note: say what is to change"]),
        ({"next_review_date": "soon"}, ["Next review date: &#39;soon&#39; is not a date"]),
    ],
)
def test_a_review_is_refused_beside_its_fields_keeping_what_was_typed(
    client: TestClient,
    db: Session,
    logged_in: Callable[[Role], str],
    changes: dict[str, str],
    problems: list[str],
) -> None:
    make_register(db)
    logged_in(Role.DPU)
    typed = _review(**changes)
    refused = post_form(client, "/agreements/KMISA-1/review", typed)
    assert refused.status_code == 400
    assert "<strong>Please put right:</strong>" in refused.text
    for problem in problems:
        assert f"<li>{problem}" in refused.text
    field = {"Date": "reviewed_on", "Outcome": "outcome", "Next": "next_review_date", "Note": "note"}
    wrong = field[problems[0].split()[0].rstrip(":")]
    assert (
        f'class="{"field wrong" if wrong != "outcome" else "wrong"}"' in refused.text
        or "wrong" in refused.text
    )
    if typed["next_review_date"]:
        assert f'value="{typed["next_review_date"]}"' in refused.text
    assert agreements.reviews_of(db, "KMISA-1") == []
    stored = agreements.get_agreement(db, "KMISA-1")
    assert stored is not None and stored.review_date == date(2999, 12, 31)


def test_a_review_that_ends_the_agreement_sets_its_end_date(
    client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    make_register(db)
    logged_in(Role.DPU)
    today = agreements.today()
    done = follow(
        client,
        post_form(
            client,
            "/agreements/KMISA-1/review",
            _review(outcome="end", note="Partner no longer runs the service.", next_review_date=""),
        ),
    )
    assert f"Review recorded; the agreement ends on {today.day} {today:%b %Y}." in done
    stored = agreements.get_agreement(db, "KMISA-1")
    assert stored is not None and stored.end_date == today and stored.review_date == date(2999, 12, 31)
    assert not stored.in_force_on(today + timedelta(days=1))
    assert "End the agreement" in done and "None: ended" in done


def test_a_withdrawn_agreement_is_not_reviewed(db: Session) -> None:
    make_register(db)
    agreements.set_agreement_status(db, "KMISA-1", "withdrawn", "breach", ACTOR)
    with pytest.raises(agreements.AgreementsError, match="withdrawn"):
        agreements.record_review(db, "KMISA-1", _review(), ACTOR)


def test_the_edit_form_refuses_a_past_review_date_but_keeps_one_that_stood(
    client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    make_register(db)
    logged_in(Role.DPU)
    form = {
        **{k: v for k, v in AGREEMENT.items() if k not in ("parties", "purposes", "data_categories")},
        "parties": ["KCC", "PROB-SE"],
        "purposes": ["prevention_of_crime", "safeguarding"],
        "data_categories": ["name", "photo", "description"],
        "lawful_bases": ["CDA1998_s115", "DPA2018_Part3"],
    }
    refused = post_form(client, "/agreements/KMISA-1", {**form, "review_date": "2025-03-01"})
    assert refused.status_code == 400
    assert "<li>Review date: 1 Mar 2025 is in the past (today is" in refused.text
    assert 'value="2025-03-01"' in refused.text
    stored = agreements.get_agreement(db, "KMISA-1")
    assert stored is not None and stored.review_date == date(2999, 12, 31)
    new = post_form(client, "/agreements", {**form, "agreement_id": "NEW-1", "review_date": "2025-03-01"})
    assert new.status_code == 400 and "1 Mar 2025 is in the past" in new.text
    both = post_form(
        client,
        "/agreements",
        {**form, "agreement_id": "NEW-1", "start_date": "2026-01-01", "review_date": "2025-03-01"},
    )  # named with the form's other problems
    assert (
        "<li>Review date: is before the start date</li>" in both.text
        and "1 Mar 2025 is in the past" in both.text
    )
    assert agreements.get_agreement(db, "NEW-1") is None
    # An overdue agreement (as an import left it) can still have its title put right on the form.
    agreements.update_agreement(db, "KMISA-1", {**AGREEMENT, "review_date": "2025-03-01"}, ACTOR)
    db.commit()
    page = follow(
        client,
        post_form(client, "/agreements/KMISA-1", {**form, "review_date": "2025-03-01", "title": "Renamed"}),
    )
    assert "Renamed" in page and "Review overdue" in page


# --------------------------------------------------------------------------- 4: a scheme's area


def test_a_schemes_area_is_chosen_from_the_forces_areas_by_name(
    client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    make_register(db)  # SCH-01 is in area N, which is not one of the force's areas below
    identity.set_config(db, "area_names", "NA = North Division; SW = Swale", ADMIN)
    db.commit()
    logged_in(Role.DPU)
    form = client.get("/schemes/new").text
    assert '<select id="area_code" name="area_code">' in form
    assert '<option value="NA">North Division (NA)</option>' in form
    new = {
        "scheme_id": "SWS",
        "name": "Swale ShopWatch",
        "area_code": "ZZ",
        "recognised": "true",
        "manager_name": "",
        "manager_vetted_until": "",
    }
    refused = post_form(client, "/schemes", new)
    assert refused.status_code == 400
    assert "<li>Area: ZZ is not one of the force&#39;s areas: choose the area from the list" in refused.text
    assert '<div class="field wrong"><label for="area_code">' in refused.text
    assert 'value="Swale ShopWatch"' in refused.text  # what was typed is kept
    assert agreements.get_scheme(db, "SWS") is None
    page = follow(client, post_form(client, "/schemes", {**new, "area_code": "SW"}))
    assert "Swale (SW)" in page
    # A scheme already in an area not on the list keeps it when its other details change.
    edit = client.get("/schemes/SCH-01/edit").text
    assert '<option value="N" selected>N (not one of the force\'s areas)</option>' in edit
    scheme = {
        "name": "Maidstone ShopWatch",
        "area_code": "N",
        "recognised": "true",
        "manager_name": "Pat Manager",
        "manager_vetted_until": "2999-01-01",
    }
    follow(client, post_form(client, "/schemes/SCH-01", {**scheme, "name": "Maidstone Shops"}))
    assert post_form(client, "/schemes/SCH-01", {**scheme, "area_code": "QQ"}).status_code == 400
    found = agreements.get_scheme(db, "SCH-01")
    assert found is not None and found.name == "Maidstone Shops" and found.area_code == "N"


# --------------------------------------------------------------------------- 5: a lapsed manager's check


def test_a_lapsed_managers_check_says_what_it_blocks_and_qualifies_the_members(
    client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    make_register(db)
    logged_in(Role.DPU)
    page = client.get("/schemes/SCH-01").text
    assert "No disclosures can be made" not in page and '<span class="status ok">Active</span>' in page
    lapsed = (agreements.today() - timedelta(days=1)).isoformat()
    scheme = {
        "scheme_id": "SCH-01",
        "name": "Maidstone ShopWatch",
        "area_code": "N",
        "recognised": "true",
        "manager_name": "Pat Manager",
        "manager_vetted_until": lapsed,
    }
    agreements.update_scheme(db, "SCH-01", scheme, ACTOR)
    db.commit()
    page = client.get("/schemes/SCH-01").text
    assert "<strong>No disclosures can be made under this scheme.</strong>" in page
    assert "The security check of its approved scheme manager, Pat Manager, expired on" in page
    assert 'enter the new expiry date with "Change scheme details"' in page
    assert "the Area Intelligence Co-ordinator for N or the Data Protection Unit may do this" in page
    assert '<span class="status warn">Active — no disclosures</span>' in page
    assert (
        "the manager&#39;s security check has expired" in page
        or "the manager's security check has expired" in page
    )
    assert '<span class="status ok">Active</span>' not in page
    agreements.update_scheme(db, "SCH-01", {**scheme, "manager_vetted_until": ""}, ACTOR)
    db.commit()
    page = client.get("/schemes/SCH-01").text
    assert "No security check is recorded for its approved scheme manager, Pat Manager" in page
    agreements.update_scheme(db, "SCH-01", {**scheme, "manager_name": "", "manager_vetted_until": ""}, ACTOR)
    db.commit()  # no manager (K10 7.5): nothing is blocked
    page = client.get("/schemes/SCH-01").text
    assert "No disclosures can be made" not in page and '<span class="status ok">Active</span>' in page


# --------------------------------------------------------------------------- 6: done messages in words


def test_done_messages_say_it_in_words(
    client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    make_register(db)
    logged_in(Role.DPU)
    member = {
        "member_id": "SWS-001",
        "name": "Jane Doe",
        "org_id": "",
        "registered_on": "2025-01-01",
        "undertaking_signed_on": "",
        "status": "active",
    }
    page = follow(client, post_form(client, "/schemes/SCH-01/members", member))
    assert "Jane Doe (SWS-001) is now a member of Maidstone ShopWatch." in page
    page = follow(
        client, post_form(client, "/schemes/SCH-01/members/SWS-001/undertaking", {"signed_on": "2025-02-03"})
    )
    assert "Recorded: Jane Doe (SWS-001) signed the undertaking on 3 Feb 2025." in page
    page = follow(client, post_form(client, "/schemes/SCH-01/members/SWS-001", {**member, "status": "left"}))
    assert "Jane Doe (SWS-001): membership of Maidstone ShopWatch updated." in page

    late = {**AGREEMENT, "review_date": "2025-01-01"}
    agreements.update_agreement(db, "KMISA-1", late, ACTOR)
    db.commit()
    assert "1 agreement past its review date" in client.get("/agreements").text
    agreements.create_agreement(db, {**late, "agreement_id": "K2"}, ACTOR)
    db.commit()
    assert "2 agreements past their review date" in client.get("/agreements").text

    logged_in(Role.AIC)  # no area: not this scheme's keeper
    page = follow(client, client.get("/schemes/SCH-01/edit", follow_redirects=False))
    assert "Not allowed: Maidstone ShopWatch (SCH-01, area N) and its members are kept by" in page
