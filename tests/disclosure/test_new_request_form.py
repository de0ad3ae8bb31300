"""The first page of a new request: no route or purpose chosen for the officer, only the Scheme or Agreement
field that the route uses, and the name search keeps what was answered."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from custodes.disclosure import service as disclosure
from custodes.identity import service as identity
from tests.conftest import PASSWORD, log_in, post_form
from tests.disclosure.world import make_world, principal

OFFICER = principal("S1001")


@pytest.fixture
def world(db: Session) -> Session:
    make_world(db)
    identity.set_password(db, "S1001", PASSWORD, "system:test")
    db.commit()
    return db


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _select(page: str, name: str) -> str:
    (found,) = re.findall(rf'<select id="{name}" name="{name}">(.*?)</select>', page, re.S)
    return found


def test_no_route_or_purpose_is_chosen_for_the_officer(client: TestClient, world: Session) -> None:
    log_in(client, "S1001")
    page = client.get("/disclosures/new").text
    for name in ("route", "purpose"):
        options = _select(page, name)
        assert options.startswith('<option value="">Choose…</option>') and "selected" not in options
    # One widget for the route, as on the wizard: a dropdown, not radios.
    assert 'type="radio"' not in page
    # Each route's own field is marked for the stylesheet, which shows it only on that route.
    assert 'class="field for-partnership_scheme"' in page and 'class="field for-agreement"' in page


def test_leaving_the_route_or_purpose_unchosen_is_refused_naming_each(
    client: TestClient, world: Session
) -> None:
    log_in(client, "S1001")
    refused = post_form(client, "/disclosures/new", {"route": "", "subject": "N2001", "purpose": ""})
    text = _text(refused.text)  # type: ignore[attr-defined]
    assert refused.status_code == 400  # type: ignore[attr-defined]
    assert "Route: choose how it is being shared (the route)" in text
    assert "Purpose: choose the purpose of the disclosure" in text
    assert "Input should be" not in text
    # What was typed is kept.
    assert 'name="subject" value="N2001"' in refused.text  # type: ignore[attr-defined]


def test_a_scheme_or_agreement_left_in_a_hidden_field_is_not_taken(
    client: TestClient, world: Session
) -> None:
    log_in(client, "S1001")
    started = post_form(
        client,
        "/disclosures/new",
        {"route": "one_off", "subject": "N2001", "purpose": "safeguarding", "scheme": "SCH-01",
         "agreement": "KMISA"},
    )  # fmt: skip
    location = started.headers["location"]  # type: ignore[attr-defined]
    draft = int(location.split("/")[2])
    world.expire_all()
    request = disclosure.view(world, draft, OFFICER, "t").request
    assert request is not None and (request.scheme, request.agreement) == (None, None)
    # The wizard too: on the agreement route the scheme is not kept, the agreement is.
    wizard = {"route": "agreement", "subject": "N2001", "purpose": "safeguarding", "scheme": "SCH-01",
              "agreement": "KMISA", "recipients": "KCC"}  # fmt: skip
    post_form(client, f"/disclosures/{draft}/edit", wizard)
    world.expire_all()
    request = disclosure.view(world, draft, OFFICER, "t").request
    assert request is not None and (request.scheme, request.agreement) == (None, "KMISA")
    assert parse_qs(urlsplit(location).query)["done"]


def test_finding_the_person_by_name_keeps_the_route_purpose_and_agreement(
    client: TestClient, world: Session
) -> None:
    log_in(client, "S1001")
    page = client.get("/disclosures/new").text
    assert '<button type="submit" name="then" value="find_subject"' in page
    assert '<a href="/disclosures/subjects">' not in page  # a plain link lost the answers
    answers = {"route": "agreement", "subject": "", "purpose": "safeguarding", "agreement": "KMISA"}
    sent = post_form(client, "/disclosures/new", {**answers, "then": "find_subject"})
    assert sent.status_code == 303  # type: ignore[attr-defined]
    location = sent.headers["location"]  # type: ignore[attr-defined]
    assert urlsplit(location).path == "/disclosures/subjects"
    assert parse_qs(urlsplit(location).query) == {
        "route": ["agreement"],
        "purpose": ["safeguarding"],
        "agreement": ["KMISA"],
    }
    assert disclosure.list_disclosures(world, requested_by="S1001") == []  # nothing saved yet
    # The search keeps them, through "Choose" or "Back", to the first page again.
    search = client.get(location + "&surname=Smith&reason=case+7").text
    back = re.search(r'<a href="(/disclosures/new\?[^"]+)">Back to the new request</a>', search)
    assert back is not None
    (choose,) = re.findall(r'<form method="get" action="/disclosures/new">(.*?)</form>', search, re.S)
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', choose))
    assert fields == {
        "route": "agreement",
        "purpose": "safeguarding",
        "agreement": "KMISA",
        "subject": "N2001",
    }
    start = client.get("/disclosures/new", params=fields).text
    assert 'value="agreement" selected' in start and 'value="safeguarding" selected' in start
    assert 'value="KMISA" selected' in start and 'name="subject" value="N2001"' in start
    returned = client.get(back.group(1).replace("&amp;", "&")).text
    assert 'value="agreement" selected' in returned and 'value="KMISA" selected' in returned
