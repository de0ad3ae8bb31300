"""Pages fit a phone's screen: a wide table scrolls sideways in its own box, never the whole page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from custodes.demo import load_demo
from custodes.kit.db import transaction
from tests.browser.conftest import LiveServer, snapshot

pytestmark = pytest.mark.browser

# Pages with the widest tables and controls the review found, by demo log-in.
SAMPLE = {
    "officer": ["/", "/me", "/disclosures", "/disclosures/new", "/declarations", "/declarations/new"],
    "supervisor": ["/disclosures/queue/authorise", "/declarations/queue", "/referrals", "/training"],
    "dpu": ["/disclosures/all", "/declarations/register", "/corrections", "/learning", "/retention"],
    "ccu": ["/alerts", "/investigations", "/monitoring"],
}


def _log_in(page: Page, url: str, staff_id: str, password: str) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("Staff number").fill(staff_id)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Good to see you")


def _overflow(page: Page) -> int:
    """How many pixels the page is wider than the window (0 if it fits)."""
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def test_no_page_is_wider_than_a_phone(live_server: LiveServer, browser: Browser) -> None:
    with transaction(live_server.database.factory) as session:
        logins = load_demo(session, live_server.settings, seed=11, staff_count=200, events=5_000)
    by_role = {role: (staff_id, password) for role, staff_id, _name, password in logins}
    for width, height in ((390, 844), (1280, 900)):
        context = browser.new_context(viewport={"width": width, "height": height}, locale="en-GB")
        page = context.new_page()
        too_wide = {}
        for role, paths in SAMPLE.items():
            page.context.clear_cookies()
            _log_in(page, live_server.url, *by_role[role])
            for path in paths:
                response = page.goto(f"{live_server.url}{path}")
                assert response is not None and response.status == 200, (role, path)
                if excess := _overflow(page):
                    too_wide[path] = excess
                snapshot(page, f"layout-{width}-{role}{path.replace('/', '-')}")
        context.close()
        assert too_wide == {}, f"wider than {width} px by this many pixels: {too_wide}"
    # The review's worst pages do have tables (now in scrolling boxes), so the check above is not vacuous.
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB")
    page = context.new_page()
    _log_in(page, live_server.url, *by_role["ccu"])
    page.goto(f"{live_server.url}/alerts")
    box = page.locator(".table-scroll").first
    assert box.evaluate("box => box.scrollWidth > box.clientWidth")
    context.close()


# Every input with a placeholder, on the pages that have one: does the placeholder fit its box?
CLIPPED_PLACEHOLDERS = """() => [...document.querySelectorAll('input[placeholder]')].filter(input => {
  const style = getComputedStyle(input);
  const context = document.createElement('canvas').getContext('2d');
  context.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
  const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  return context.measureText(input.placeholder).width > room;
}).map(input => input.placeholder)"""


def test_search_hints_read_whole_at_desktop_width(live_server: LiveServer, page: Page) -> None:
    """The declarations register's search box cut its placeholder off ('name, staff number, tea') at
    1280px: the hint is now above the box, and no placeholder left on the page is clipped."""
    from custodes.identity import service as identity
    from custodes.identity.permissions import Role
    from tests.conftest import PASSWORD

    with transaction(live_server.database.factory) as session:
        identity.ensure_account(session, "D900", "Dana Protection", {Role.DPU}, "system:test")
        identity.set_password(session, "D900", PASSWORD, "system:test")
    _log_in(page, live_server.url, "D900", PASSWORD)
    page.goto(f"{live_server.url}/declarations/register")
    expect(page.get_by_label("Search")).to_be_visible()
    assert page.evaluate(CLIPPED_PLACEHOLDERS) == []
    assert "Name, staff number, team or organisation" in page.locator("label[for=q]").inner_text()
    snapshot(page, "register-search-1280")
