"""An officer declares a conflict of interest about a neighbour in writing; their sergeant finds it in the
queue and approves it with conditions and a review date; the officer sees the decision."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from custodes.identity import service as identity
from custodes.kit.db import transaction
from tests.browser.conftest import LiveServer, menu_link, snapshot
from tests.conftest import PASSWORD
from tests.workforce.test_training_compliance import make_force

pytestmark = pytest.mark.browser


def _log_in(page: Page, url: str, staff_id: str) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("Staff number").fill(staff_id)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_declare_a_conflict_and_the_sergeant_decides(live_server: LiveServer, page: Page) -> None:
    with transaction(live_server.database.factory) as session:
        make_force(session)
        for staff_id in ("P1", "M1"):
            identity.set_password(session, staff_id, PASSWORD, "system:test")
    url = live_server.url
    _log_in(page, url, "P1")
    menu_link(page, "Declarations").click()
    page.get_by_role("link", name="Make a declaration").click()
    snapshot(page, "declaration-choose")
    page.get_by_role("link", name="Conflict of interest").click()
    page.get_by_role("button", name="Send the declaration to my line manager").click()
    expect(page.get_by_role("alert")).to_contain_text("say how you know them")
    page.get_by_label("Their forenames").fill("Jack")
    page.get_by_label("Their surname").fill("Smith")
    page.get_by_label("Their postcode").fill("ME14 1AA")
    page.get_by_label("How you know them").select_option("neighbour")
    page.get_by_label("The nature and extent").fill("Lives next door; I have reported him for noise.")
    snapshot(page, "declaration-form")
    page.get_by_role("button", name="Send the declaration to my line manager").click()
    expect(page.get_by_role("status")).to_contain_text("Declaration made")
    expect(page.get_by_text("Waiting for your line manager's decision")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    _log_in(page, url, "M1")
    menu_link(page, "Decide declarations").click()
    expect(page.get_by_role("cell", name="Jack Smith")).to_be_visible()
    page.get_by_role("link", name="Decide", exact=True).first.click()
    page.get_by_role("radio", name="Approve with conditions").check()
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_role("alert")).to_contain_text("say what the conditions are")
    page.get_by_role("textbox", name="Conditions").fill(
        "Removed from any investigation involving Jack Smith."
    )
    page.get_by_label("Review date").fill("2999-01-01")
    snapshot(page, "declaration-decide")
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_role("status")).to_contain_text("approved with conditions")
    expect(page.get_by_text("Nothing is waiting for you.")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    _log_in(page, url, "P1")
    page.goto(f"{url}/declarations")
    expect(page.get_by_text("Approved with conditions")).to_be_visible()
    expect(page.get_by_text("Removed from any investigation involving Jack Smith.")).to_be_visible()
    snapshot(page, "declaration-mine")
