"""The DPU's long menu grouped by area in drop-downs: opened from the keyboard, the current area marked, an
open drop-down never wider than a phone, and the menu left off a printed page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from custodes.identity import service as identity
from custodes.identity.permissions import Role
from custodes.kit.db import transaction
from custodes.ledger import service as ledger
from custodes.workforce import service as workforce
from custodes.workforce.demo import staff_rows
from tests.browser.conftest import LiveServer
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def _seed(server: LiveServer) -> None:
    with transaction(server.database.factory) as session:
        workforce.import_staff(session, staff_rows(seed=3, count=20), "system:test")
        session.flush()
        for staff_id, role in (("S10001", Role.DPU), ("S10002", Role.OFFICER)):
            identity.ensure_account(session, staff_id, f"Demo {role.value}", {role}, "system:test")
            identity.set_password(session, staff_id, PASSWORD, "system:test")
    with transaction(server.database.factory) as session:
        ledger.issue_checkpoint(session, server.settings)


def _log_in(page: Page, server: LiveServer, staff_id: str) -> None:
    page.goto(f"{server.url}/login")
    page.get_by_label("Staff number").fill(staff_id)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Good to see you")


def test_the_dpu_opens_an_area_from_the_keyboard(live_server: LiveServer, page: Page) -> None:
    _seed(live_server)
    _log_in(page, live_server, "S10001")
    menu = page.get_by_role("navigation", name="Main")
    retention = menu.get_by_role("link", name="Retention", exact=True)
    expect(retention).to_be_hidden()
    disclosure = menu.locator("summary", has_text="Disclosure")
    disclosure.focus()
    page.keyboard.press("Enter")
    expect(retention).to_be_visible()
    retention.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Retention")
    # The area holding the page is marked, and its drop-down starts closed on the new page.
    expect(menu.locator('summary[aria-current="true"]')).to_have_text("Disclosure")
    expect(menu.get_by_role("link", name="Retention", exact=True)).to_be_hidden()
    # One area open at a time: opening Workforce closes Disclosure.
    menu.locator("summary", has_text="Disclosure").click()
    menu.locator("summary", has_text="Workforce").click()
    expect(menu.get_by_role("link", name="Vetting", exact=True)).to_be_visible()
    expect(menu.get_by_role("link", name="Retention", exact=True)).to_be_hidden()
    # With JavaScript (static/menu.js) Escape closes it, focus back on its summary; so does a click outside.
    page.keyboard.press("Escape")
    expect(menu.get_by_role("link", name="Vetting", exact=True)).to_be_hidden()
    expect(menu.locator("summary", has_text="Workforce")).to_be_focused()
    page.keyboard.press("Enter")
    expect(menu.get_by_role("link", name="Vetting", exact=True)).to_be_visible()
    page.get_by_role("heading", level=1).click()
    expect(menu.get_by_role("link", name="Vetting", exact=True)).to_be_hidden()


def test_the_drop_downs_work_without_javascript(live_server: LiveServer, browser: Browser) -> None:
    _seed(live_server)
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="en-GB", java_script_enabled=False
    )
    page = context.new_page()
    _log_in(page, live_server, "S10001")
    menu = page.get_by_role("navigation", name="Main")
    menu.locator("summary", has_text="Audit").click()
    menu.get_by_role("link", name="Learning", exact=True).click()
    expect(menu.locator('summary[aria-current="true"]')).to_have_text("Audit")
    expect(menu.locator('a[aria-current="page"]')).to_have_text("Learning")
    context.close()


def test_an_open_area_fits_a_phone_and_the_menu_is_not_printed(
    live_server: LiveServer, browser: Browser
) -> None:
    _seed(live_server)
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB")
    page = context.new_page()
    _log_in(page, live_server, "S10001")
    menu = page.get_by_role("navigation", name="Main")
    for area in ("Disclosure", "Workforce", "Monitoring", "Audit"):
        menu.locator("summary", has_text=area).click()
        box = menu.locator("details[open] ul").bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, (area, box)
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") == 0, area
    page.emulate_media(media="print")
    expect(menu).to_be_hidden()
    context.close()


def test_the_officer_s_short_menu_is_a_row_of_links(live_server: LiveServer, page: Page) -> None:
    _seed(live_server)
    _log_in(page, live_server, "S10002")
    menu = page.get_by_role("navigation", name="Main")
    expect(menu.locator("details")).to_have_count(0)
    for name in ("Home", "My record", "Disclosures", "Declarations"):
        expect(menu.get_by_role("link", name=name, exact=True)).to_be_visible()
