"""An officer drafts a scheme disclosure, sees a blocking finding, fixes it and submits; an AIC authorises and
releases it; the reference shows and the authority to release downloads as a PDF."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from custodes.identity import service as identity
from custodes.kit.db import transaction
from tests.browser.conftest import LiveServer, menu_link, snapshot
from tests.conftest import PASSWORD
from tests.disclosure.world import make_world

pytestmark = pytest.mark.browser


def _seed(server: LiveServer) -> None:
    with transaction(server.database.factory) as session:
        make_world(session)
        for staff_id in ("S1001", "S1002"):
            identity.set_password(session, staff_id, PASSWORD, "system:test")


def _log_in(page: Page, url: str, staff_id: str) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("Staff number").fill(staff_id)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_draft_fix_submit_authorise_release_and_print(live_server: LiveServer, page: Page) -> None:
    _seed(live_server)
    _log_in(page, live_server.url, "S1001")
    menu_link(page, "Disclosures").click()
    page.get_by_role("link", name="Start a new disclosure request").click()
    page.get_by_label("How is it being shared?").select_option("partnership_scheme")
    page.get_by_label("Subject (nominal id)").fill("N2001")
    page.get_by_label("Purpose").select_option("prevention_of_crime")
    page.get_by_label("Scheme", exact=False).locator("xpath=self::select").select_option("SCH-01")
    page.get_by_role("button", name="Start the request").click()
    expect(page.get_by_role("heading", name="Disclosure request")).to_be_visible()

    page.get_by_label("Corner Shop Ltd").check()
    page.get_by_label("Lawful basis or power").select_option("CDA1998_s115")
    page.get_by_label("Rationale").fill("Repeated shop thefts; members need to recognise him.")
    page.get_by_role("button", name="Add an item").click()
    item = page.locator("#item-0")
    item.get_by_label("Kind").select_option("offending_indication")
    item.get_by_label("Fact or assessment").select_option("assessment")
    item.get_by_label("Person category").select_option("suspect")
    item.get_by_label("What will be said").fill("Lives at 12 Acacia Avenue, ME14 1AA, and steals from shops")
    item.get_by_label("Source", exact=True).select_option("system_record")
    item.get_by_label("System").fill("Genesis")
    item.get_by_label("Record id").fill("INT-5")
    item.get_by_label("I have checked this against the source record").check()
    page.get_by_role("button", name="Add an intelligence record").click()
    page.get_by_label("Intelligence record").fill("INT-5")
    page.get_by_label("Recorded on").fill(_days_ago(10))
    page.get_by_label("Risks", exact=True).fill("Confrontation in store")
    page.get_by_label("Plan to manage the risks").fill("Members told not to approach")
    for question, answer in (
        ("Justified", "Ongoing thefts"),
        ("Authorised", "CDA 1998 s.115"),
        ("Proportionate", "Members only"),
        ("Auditable", "Recorded in Custodes"),
        ("Necessary", "No less intrusive means"),
    ):
        page.locator(f"#japan-{question.lower()}").fill(answer)
    blocking = page.locator("#item-0 li.finding.block")
    expect(blocking).to_contain_text("contains an address")  # live, before saving
    page.get_by_role("button", name="Save and check").click()
    expect(blocking).to_contain_text("contains an address")
    snapshot(page, "disclosure-blocked")
    page.locator("#item-0").get_by_label("What will be said").fill(
        "It is suspected that this subject may engage in shop theft in your area"
    )
    page.get_by_role("button", name="Save and check").click()
    expect(page.locator("li.finding.block")).to_have_count(0)
    page.get_by_role("button", name="Save and submit for authorisation").click()
    expect(page.get_by_role("status")).to_contain_text("Submitted for authorisation")

    page.get_by_role("button", name="Log out").click()
    _log_in(page, live_server.url, "S1002")
    menu_link(page, "Authorise").click()
    page.get_by_role("link", name="Request 1").click()
    page.get_by_role("button", name="Authorise").click()
    expect(page.get_by_role("status")).to_contain_text("Authorised")
    page.get_by_role("button", name="Release and issue the reference").click()
    expect(page.get_by_role("status")).to_contain_text("Reference CZ/001/")
    expect(page.get_by_role("heading", name="CZ/001/")).to_be_visible()
    snapshot(page, "disclosure-released")

    with page.expect_download() as download:
        page.get_by_role("link", name="Authority to release (PDF)").click()
    assert download.value.suggested_filename.startswith("authority-CZ-001-")
    assert download.value.suggested_filename.endswith(".pdf")


def _days_ago(days: int) -> str:
    from datetime import date, timedelta

    return str(date.today() - timedelta(days=days))
