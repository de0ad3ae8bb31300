"""The officer is told when a request comes back to them: a home-page card with the reason, and a badge in
their list."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from custodes.disclosure import service as disclosure
from custodes.identity import service as identity
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter
from tests.conftest import PASSWORD, log_in
from tests.disclosure.world import make_world, principal, scheme_request

OFFICER, AIC = principal("S1001"), principal("S1002")


@pytest.fixture
def world(db: Session) -> Session:
    make_world(db)
    identity.set_password(db, "S1001", PASSWORD, "system:test")
    db.commit()
    return db


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _submitted(db: Session) -> int:
    disclosure_id = disclosure.create_draft(db, scheme_request(), OFFICER)
    disclosure.submit(db, disclosure_id, OFFICER)
    return disclosure_id


def test_a_sent_back_request_and_a_withdrawn_authorisation_are_on_the_home_page_and_in_the_list(
    client: TestClient, world: Session
) -> None:
    sent = _submitted(world)
    disclosure.send_back(world, sent, AIC, "Add the risk assessment and JAPAN record.")
    withdrawn = _submitted(world)
    disclosure.authorise(world, withdrawn, AIC, "grounds are current")
    disclosure.withdraw_authorisation(world, withdrawn, AIC, "The intelligence has been corrected.")
    waiting = _submitted(world)
    taken = _submitted(world)
    disclosure.return_to_draft(world, taken, OFFICER, "I spotted a typo.")  # their own doing: no notice
    world.commit()

    log_in(client, "S1001")
    home = _text(client.get("/").text)
    assert "2 came back to you:" in home
    assert f"Request {sent} sent back to you — reason: Add the risk assessment and JAPAN record." in home, (
        home
    )
    assert (
        f"Request {withdrawn} — authorisation withdrawn — reason: The intelligence has been corrected."
        in home
    )
    assert f"Request {taken} " not in home and f"Request {waiting} " not in home
    assert f'href="/disclosures/{sent}"' in client.get("/").text

    page = client.get("/disclosures").text
    for number, badge in ((sent, "Sent back"), (withdrawn, "Authorisation withdrawn")):
        (row,) = re.findall(rf'<tr>\s*<td><a href="/disclosures/{number}">.*?</tr>', page, re.S)
        assert badge in _text(row)
    for number in (waiting, taken):
        (row,) = re.findall(rf'<tr>\s*<td><a href="/disclosures/{number}">.*?</tr>', page, re.S)
        assert "came-back" not in row


def test_the_reasons_on_the_home_page_are_one_consultation_naming_the_subjects(
    client: TestClient, world: Session
) -> None:
    log_in(client, "S1001")
    client.get("/")
    ledger.flush_pending(world)
    world.expire_all()
    quiet = ledger.search(world, EntryFilter(op="consultation", actor=OFFICER.actor), limit=50)
    assert not [e for e in quiet if e.justification == "home page: requests that came back"]

    sent = _submitted(world)
    disclosure.send_back(world, sent, AIC, "Add the risk assessment.")
    world.commit()
    client.get("/")
    ledger.flush_pending(world)
    world.expire_all()
    entries = ledger.search(world, EntryFilter(op="consultation", actor=OFFICER.actor), limit=50)
    (entry,) = [e for e in entries if e.justification == "home page: requests that came back"]
    assert entry.subjects == ["N2001"]
