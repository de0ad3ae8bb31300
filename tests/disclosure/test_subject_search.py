"""Choosing a request's subject by name: a person search, with a reason, logged naming the people shown."""

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
from tests.conftest import PASSWORD, log_in, post_form
from tests.disclosure.world import ACTOR, make_world, principal, scheme_request

OFFICER, AIC, DPU = (principal(s) for s in ("S1001", "S1002", "S1004"))


@pytest.fixture
def world(db: Session) -> Session:
    make_world(db)
    for staff_id in ("S1001", "S1002", "S1004"):
        identity.set_password(db, staff_id, PASSWORD, "system:test")
    db.commit()
    return db


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _searches(db: Session, actor: str) -> list[object]:
    ledger.flush_pending(db)
    return list(ledger.search(db, EntryFilter(op="consultation", actor=actor, object_type="nominal_search")))


def _many_smiths(db: Session, count: int) -> None:
    rows = [
        {
            "subject_id": f"N9{n:03}",
            "surname": "Smithson",
            "forenames": f"Alex{n:02}",
            "date_of_birth": "1980-01-01",
            "postcode": "CT1 1AA",
            "flags": "",
            "address": f"{n} High Street, Canterbury",
        }
        for n in range(count)
    ]
    load_records(db, "nominals", rows, ACTOR)


# --------------------------------------------------------------------------- finding the subject


def test_a_subject_is_found_by_name_and_date_of_birth_and_the_search_is_a_logged_consultation(
    world: Session,
) -> None:
    found = disclosure.find_subject(
        world, OFFICER, surname=" smi ", forenames="ja", reason="ShopWatch request 12/26"
    )
    assert [p.subject_id for p in found.people] == ["N2001"] and not found.more
    (entry,) = _searches(world, OFFICER.actor)
    assert entry.subjects == ["N2001"] and entry.justification == "ShopWatch request 12/26"
    assert entry.detail["purpose"] == "choosing the subject of a new disclosure request"
    # What was typed is a name: the ledger keeps keyed digests of it, never the words.
    assert set(entry.detail["criteria_hmac"]) == {"surname", "forenames"}
    assert "smi" not in str(entry.detail) and "ja" not in str(entry.detail["criteria_hmac"]).split('"')

    from datetime import date

    other_day = disclosure.find_subject(
        world, OFFICER, surname="Smith", date_of_birth=date(1990, 5, 2), reason="ShopWatch request 12/26"
    )
    assert other_day.people == () and not other_day.more
    assert sorted(e.subjects for e in _searches(world, OFFICER.actor)) == [[], ["N2001"]]


def test_a_subject_search_needs_a_reason_and_two_letters_of_the_surname(world: Session) -> None:
    with pytest.raises(disclosure.SubjectSearchRefused) as refused:
        disclosure.find_subject(world, OFFICER, surname="S", reason=" ")
    assert set(refused.value.problems) == {"surname", "reason"}
    assert refused.value.problems["reason"].startswith("Reason for this search: give the reason")
    assert _searches(world, OFFICER.actor) == []  # nothing searched, nothing shown


def test_a_subject_search_shows_at_most_twenty_and_says_there_are_more(world: Session) -> None:
    _many_smiths(world, 25)
    found = disclosure.find_subject(world, OFFICER, surname="Smithson", reason="case 7")
    assert len(found.people) == disclosure.SUBJECT_SEARCH_LIMIT == 20 and found.more
    (entry,) = _searches(world, OFFICER.actor)
    assert len(entry.subjects) == 20 and entry.detail["more"] is True  # only the people shown are named


def test_more_people_than_shown_is_guidance_not_an_error(client: TestClient, world: Session) -> None:
    _many_smiths(world, 25)
    world.commit()
    log_in(client, "S1001")
    page = client.get("/disclosures/subjects?surname=Smithson&forenames=&date_of_birth=&reason=case+7")
    assert page.status_code == 200
    assert '<p class="guidance-strip" role="status">More than 20 people match' in page.text


def test_a_date_of_birth_that_is_not_a_date_is_named_and_nothing_is_searched(
    client: TestClient, world: Session
) -> None:
    log_in(client, "S1001")
    typed = {"surname": "Smith", "date_of_birth": "soon", "reason": "7"}
    page = client.get("/disclosures/subjects", params=typed)
    assert page.status_code == 400
    assert "Date of birth: &#39;soon&#39; is not a date. Give it as YYYY-MM-DD" in page.text
    assert _searches(world, OFFICER.actor) == []


def test_only_the_requester_searches_for_a_draft_subject(world: Session) -> None:
    disclosure_id = disclosure.create_draft(world, scheme_request(), OFFICER)
    with pytest.raises(disclosure.DisclosureError, match="Only the officer who drafted"):
        disclosure.find_subject(world, AIC, surname="Smith", reason="x", disclosure_id=disclosure_id)


def test_the_subject_search_page_chooses_the_person_for_a_draft(client: TestClient, world: Session) -> None:
    request = scheme_request(subject="N2002")
    disclosure_id = disclosure.create_draft(world, request, OFFICER)
    world.commit()
    log_in(client, "S1001")
    # From the wizard: save, then the search for this draft.
    wizard = {"route": "partnership_scheme", "subject": "N2002", "purpose": "prevention_of_crime"}
    saved = post_form(client, f"/disclosures/{disclosure_id}/edit", {**wizard, "then": "find_subject"})
    assert saved.headers["location"] == f"/disclosures/subjects?draft={disclosure_id}"  # type: ignore[attr-defined]
    empty = client.get(saved.headers["location"])  # type: ignore[attr-defined]
    assert (
        empty.status_code == 200
        and "Reason for this search" in empty.text
        and "Nobody found" not in empty.text
    )

    refused = client.get(f"/disclosures/subjects?draft={disclosure_id}&surname=Smith")
    assert (
        refused.status_code == 400 and 'aria-invalid="true" aria-describedby="reason-error"' in refused.text
    )

    page = client.get(
        f"/disclosures/subjects?draft={disclosure_id}&surname=Smith&forenames=&date_of_birth=&reason=case+7"
    )
    text = _text(page.text)
    assert page.status_code == 200 and "SMITH , Jack" in text and "1 May 1990" in text
    assert "Maidstone (ME14)" in text and "Acacia" not in text  # the town, not the address
    assert f'action="/disclosures/{disclosure_id}/subject"' in page.text

    chosen = post_form(client, f"/disclosures/{disclosure_id}/subject", {"subject": "N2001"})
    assert chosen.headers["location"].startswith(f"/disclosures/{disclosure_id}/edit?done=")  # type: ignore[attr-defined]
    world.expire_all()
    assert disclosure.view(world, disclosure_id, OFFICER, "t").summary.subject_id == "N2001"


def test_a_protected_person_is_found_but_where_they_live_is_not_shown(
    client: TestClient, world: Session
) -> None:
    log_in(client, "S1001")
    page = _text(client.get("/disclosures/subjects?surname=Witness&reason=case+7").text)
    assert "WITNESS , Jane" in page and "not shown (protected person)" in page
    assert "Maidstone" not in page and "ME15" not in page


def test_a_new_request_gets_the_chosen_subject_and_keeps_its_answers(
    client: TestClient, world: Session
) -> None:
    log_in(client, "S1001")
    page = client.get("/disclosures/subjects?surname=Smith&reason=case+7&route=one_off&purpose=safeguarding")
    (choose,) = re.findall(r'<form method="get" action="/disclosures/new">(.*?)</form>', page.text, re.S)
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', choose))
    assert fields == {"route": "one_off", "purpose": "safeguarding", "subject": "N2001"}
    start = client.get("/disclosures/new", params=fields)
    assert 'name="subject" value="N2001"' in start.text
    assert 'value="one_off" selected' in start.text and 'value="safeguarding" selected' in start.text
    # Entering a known id by hand still works.
    started = post_form(client, "/disclosures/new", {"route": "one_off", "subject": "N2001",
                        "purpose": "safeguarding"})  # fmt: skip
    assert started.status_code == 303  # type: ignore[attr-defined]
    assert parse_qs(urlsplit(started.headers["location"]).query)["done"]  # type: ignore[attr-defined]
