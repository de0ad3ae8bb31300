"""An officer who does not know the subject's nominal id finds the person by name from the wizard, chooses
them, and the draft's subject is filled in."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from custodes.disclosure import service as disclosure
from custodes.identity import service as identity
from custodes.kit.db import transaction
from tests.browser.conftest import LiveServer, snapshot
from tests.conftest import PASSWORD
from tests.disclosure.world import make_world, principal, scheme_request

pytestmark = pytest.mark.browser


def test_the_subject_is_found_by_name_and_chosen(live_server: LiveServer, page: Page) -> None:
    with transaction(live_server.database.factory) as session:
        make_world(session)
        identity.set_password(session, "S1001", PASSWORD, "system:test")
        disclosure_id = disclosure.create_draft(session, scheme_request(subject="N2002"), principal("S1001"))
    url = live_server.url
    page.goto(f"{url}/login")
    page.get_by_label("Staff number").fill("S1001")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{url}/disclosures/{disclosure_id}/edit")
    page.get_by_role("button", name="Save and find the person by name").click()
    expect(page.get_by_role("heading", name="Find the subject")).to_be_visible()
    page.get_by_label("Surname").fill("smi")
    page.get_by_label("Reason for this search").fill("ShopWatch request from Maidstone town centre")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("Maidstone (ME14)")).to_be_visible()
    snapshot(page, "disclosure-subject-search")
    page.get_by_role("button", name="Choose Jack Smith, N2001").click()
    expect(page.get_by_label("Subject (nominal id)")).to_have_value("N2001")
    snapshot(page, "disclosure-subject-chosen")
