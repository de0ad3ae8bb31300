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
