"""From a name to that person's disclosures (docs/disclosure.md, "From a name to their disclosures"): the
subject filter on All disclosures, and the subject search's links to the disclosures about each person found
and to their audit trail, each for those allowed to see it; on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from custodes.disclosure import service as disclosure
from custodes.identity import service as identity
from custodes.imports import load_records
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter
from tests.conftest import PASSWORD, log_in
from tests.disclosure.world import ACTOR, make_world, principal, scheme_request

OFFICER = principal("S1001")
SEARCH = "/disclosures/subjects?surname=Smith&reason=SAR+2026%2F41"


@pytest.fixture
def world(db: Session) -> Session:
    make_world(db)
    other = {
        "subject_id": "N3003",
        "surname": "Other",
        "forenames": "Olly",
        "date_of_birth": "1980-01-01",
        "postcode": "ME16 8ZZ",
        "flags": "",
        "address": "7 Pine Road, Maidstone",
    }
    load_records(db, "nominals", [other], ACTOR)
    for staff_id in ("S1001", "S1002", "S1004"):
        identity.set_password(db, staff_id, PASSWORD, "system:test")
    db.commit()
    return db


def _links(html: str) -> list[str]:
    return [href.replace("&amp;", "&") for href in re.findall(r'href="([^"]+)"', html)]


def _drafts(db: Session) -> tuple[int, int, int]:
    first = disclosure.create_draft(db, scheme_request(), OFFICER)
    second = disclosure.create_draft(db, scheme_request(), OFFICER)
    other = disclosure.create_draft(db, scheme_request(subject="N3003"), OFFICER)
    disclosure.submit(db, second, OFFICER)
    db.commit()
    return first, second, other


# --------------------------------------------------------------------------- the subject filter


def test_all_disclosures_filtered_to_one_subject_keeps_the_status_filter(
    client: TestClient, world: Session
) -> None:
    first, second, other = _drafts(world)
    log_in(client, "S1004")
    page = client.get("/disclosures/all?subject=N2001")
    assert page.status_code == 200
    assert 'id="subject" name="subject" value="N2001"' in page.text
    shown = {
        int(href.rsplit("/", 1)[1]) for href in _links(page.text) if re.fullmatch(r"/disclosures/\d+", href)
    }
    assert shown == {first, second}
    assert "Disclosures about" in page.text and "N2001" in page.text
    # The status links keep the subject; the counts are theirs.
    assert "/disclosures/all?status=submitted&subject=N2001" in _links(page.text)
    assert (
        "awaiting authorisation (1)" in page.text and "draft (1)" in page.text and "released (0)" in page.text
    )
    submitted = client.get("/disclosures/all?status=submitted&subject=N2001")
    assert (
        f'href="/disclosures/{second}"' in submitted.text
        and f'href="/disclosures/{first}"' not in submitted.text
    )
    assert '<input type="hidden" name="status" value="submitted">' in submitted.text
    everyone = client.get("/disclosures/all")
    assert f'href="/disclosures/{other}"' in everyone.text and 'value=""' in everyone.text


def test_the_filtered_list_is_a_consultation_naming_the_subject_even_when_it_is_empty(
    client: TestClient, world: Session
) -> None:
    log_in(client, "S1004")
    page = client.get("/disclosures/all?subject=N3003")
    assert page.status_code == 200 and "No disclosure requests about N3003." in page.text
    assert "Olly OTHER" in page.text
    ledger.flush_pending(world)
    entries = ledger.search(world, EntryFilter(op="consultation", actor="staff:S1004"), limit=20)
    (entry,) = [
        e for e in entries if e.justification == "disclosures oversight list: disclosures about N3003"
    ]
    assert entry.subjects == ["N3003"]


def test_an_officer_cannot_list_every_disclosure_about_someone(client: TestClient, world: Session) -> None:
    log_in(client, "S1001")
    assert client.get("/disclosures/all?subject=N2001").status_code == 403


# --------------------------------------------------------------------------- the subject search's links


def test_the_dpu_goes_from_a_name_to_the_disclosures_and_the_audit_trail(
    client: TestClient, world: Session
) -> None:
    first, _, _ = _drafts(world)
    log_in(client, "S1004")
    page = client.get(SEARCH)
    assert page.status_code == 200 and "Disclosures about them" in page.text and "Audit trail" in page.text
    links = _links(page.text)
    assert "/disclosures/all?subject=N2001" in links
    (audit,) = [href for href in links if href.startswith("/audit/entries?")]
    assert parse_qs(urlsplit(audit).query) == {"subject": ["N2001"], "reason": ["SAR 2026/41"]}
    assert f'href="/disclosures/{first}"' in client.get("/disclosures/all?subject=N2001").text
    assert client.get(audit).status_code == 200  # the reason the ledger asks for is carried


def test_an_aic_gets_the_disclosures_link_but_not_the_audit_trail(client: TestClient, world: Session) -> None:
    log_in(client, "S1002")
    page = client.get(SEARCH)
    assert page.status_code == 200
    assert "/disclosures/all?subject=N2001" in _links(page.text)
    assert "Audit trail" not in page.text and "/audit/entries" not in page.text


def test_an_officer_sees_neither_link(client: TestClient, world: Session) -> None:
    log_in(client, "S1001")
    page = client.get(SEARCH)
    assert page.status_code == 200 and "N2001" in page.text
    assert "Disclosures about them" not in page.text and "Audit trail" not in page.text
    assert "/disclosures/all" not in page.text and "/audit/entries" not in page.text


@pytest.mark.parametrize("choosing", ["&draft={draft}", "&route=partnership_scheme"])
def test_choosing_a_subject_for_a_request_shows_no_links(
    client: TestClient, world: Session, choosing: str
) -> None:
    draft = disclosure.create_draft(world, scheme_request(), principal("S1004"))
    world.commit()
    log_in(client, "S1004")
    page = client.get(SEARCH + choosing.format(draft=draft))
    assert page.status_code == 200 and "Choose" in page.text
    assert "Disclosures about them" not in page.text and "Audit trail" not in page.text


def test_the_ledger_says_whether_the_search_looked_a_person_up_or_chose_a_subject(
    client: TestClient, world: Session
) -> None:
    """The DPU's look-up is recorded as such, not as choosing the subject of a new request; an officer's
    search, or one made for a request, keeps its own purpose."""

    def purposes(actor: str) -> list[str]:
        entries = ledger.search(world, EntryFilter(actor=actor, object_type="nominal_search"))
        return [e.detail["purpose"] for e in entries]

    log_in(client, "S1004")
    assert client.get(SEARCH).status_code == 200
    assert client.get(SEARCH + "&route=partnership_scheme").status_code == 200
    world.expire_all()
    assert sorted(purposes("staff:S1004")) == [
        "choosing the subject of a new disclosure request",
        "finding a person's disclosures or audit trail",
    ]
    client.cookies.clear()
    log_in(client, "S1001")
    assert client.get(SEARCH).status_code == 200
    world.expire_all()
    assert purposes("staff:S1001") == ["choosing the subject of a new disclosure request"]


def test_the_page_says_what_a_look_up_is_for(client: TestClient, world: Session) -> None:
    log_in(client, "S1004")
    dpu = client.get(SEARCH).text
    assert "<h1>Find a person</h1>" in dpu and "to reach their disclosures or their audit trail" in dpu
    assert "<h1>Find the subject</h1>" in client.get(SEARCH + "&route=partnership_scheme").text
    client.cookies.clear()
    log_in(client, "S1001")
    officer = client.get(SEARCH).text
    assert "<h1>Find the subject</h1>" in officer and "Back to the new request" in officer
