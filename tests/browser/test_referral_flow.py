"""The gate refers an officer's search about their declared neighbour; the line manager finds it in the
Referrals queue, records the search, interaction and advice and closes it; the officer sees the outcome."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from custodes.identity import service as identity
from custodes.kit.db import transaction
from custodes.workforce import gate
from tests.browser.conftest import LiveServer, menu_link, snapshot
from tests.conftest import PASSWORD
from tests.workforce.test_gate import ACTOR, make_gate_world

pytestmark = pytest.mark.browser


def _seed(server: LiveServer) -> int:
    with transaction(server.database.factory) as session:
        make_gate_world(session)
        for staff_id in ("M1", "S1"):
            identity.set_password(session, staff_id, PASSWORD, ACTOR)
        body = {"staff_id": "S1", "subject_id": "N5", "system": "PNC", "purpose": "intelligence report"}
        result = gate.check(session, gate.GateIndex(), body, ACTOR)
    assert isinstance(result, gate.GateDecision) and result.referral_id is not None
    return result.referral_id


def _log_in(page: Page, url: str, staff_id: str) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("Staff number").fill(staff_id)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_manager_handles_the_referral_and_the_officer_sees_the_advice(
    live_server: LiveServer, page: Page
) -> None:
    referral_id = _seed(live_server)
    _log_in(page, live_server.url, "M1")
    menu_link(page, "Referrals").click()
    expect(page.get_by_role("heading", name="Referrals")).to_be_visible()
    snapshot(page, "referral-queue")
    page.get_by_role("link", name=f"Referral {referral_id}").click()
    expect(page.get_by_text("Declared conflict or association")).to_be_visible()
    page.get_by_role("button", name="Record and close the referral").click()
    expect(page.get_by_role("alert")).to_contain_text("choose an outcome")
    page.get_by_label("Searched on the requester's behalf: nothing relevant found").check()
    page.get_by_label("Search done").fill("Searched PNC and local records for N5: nothing recent.")
    page.get_by_label("Interaction with the requester").fill("Spoke to PC Smith about the noise next door.")
    page.get_by_label("Advice and support given").fill("Tell me about any further concerns; do not search.")
    snapshot(page, "referral-record")
    page.get_by_role("button", name="Record and close the referral").click()
    expect(page.get_by_text(f"Referral {referral_id} closed")).to_be_visible()

    page.context.clear_cookies()
    _log_in(page, live_server.url, "S1")
    page.goto(f"{live_server.url}/me/referrals")
    section = page.locator(f"#referral-{referral_id}")
    expect(section).to_contain_text("Closed")
    expect(section).to_contain_text("Tell me about any further concerns; do not search.")
    expect(section).not_to_contain_text("nothing recent")
    snapshot(page, "my-referrals")
