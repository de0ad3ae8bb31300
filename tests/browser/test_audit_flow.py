"""A DPU officer logs in, opens the audit area, verifies the ledger and runs a subject search."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from custodes.identity import service as identity
from custodes.identity.permissions import Role
from custodes.kit.db import transaction
from custodes.workforce import service as workforce
from custodes.workforce.demo import staff_rows
from tests.browser.conftest import LiveServer, snapshot
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def _seed(server: LiveServer) -> str:
    with transaction(server.database.factory) as session:
        rows = staff_rows(seed=7, count=60)
        workforce.import_staff(session, rows, "system:test")
        session.flush()
        identity.ensure_account(session, "S10001", "Rachel Ward", {Role.DPU, Role.SUPERVISOR}, "system:test")
        identity.set_password(session, "S10001", PASSWORD, "system:test")
    return "S10001"


def test_log_in_and_audit_the_ledger(live_server: LiveServer, page: Page) -> None:
    staff_id = _seed(live_server)
    page.goto(f"{live_server.url}/audit")
    expect(page).to_have_url(f"{live_server.url}/login?next=/audit")
    snapshot(page, "login")

    page.get_by_label("Staff number").fill(staff_id)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("do not match")

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Audit ledger")).to_be_visible()
    expect(page.get_by_text("NOT YET VERIFIED")).to_be_visible()

    page.get_by_role("button", name="Verify the whole ledger now").click()
    expect(page.get_by_role("status")).to_contain_text("intact")
    expect(page.get_by_text("INTACT", exact=True)).to_be_visible()
    snapshot(page, "audit")

    page.get_by_role("link", name="Search entries").click()
    page.get_by_label("Person (subject id)").fill("S10005")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("alert")).to_contain_text("reason")
    page.get_by_label("Reason for this search").fill("SAR-2026-114 subject access request")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("concerning S10005")).to_be_visible()
    expect(page.locator("tbody tr").first).to_contain_text("S10005")
    snapshot(page, "entries")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF report").click()
    assert download.value.suggested_filename.endswith(".pdf")

    page.get_by_role("button", name="Log out").click()
    # The banner's message is signed (custodes.web.notices): the address carries it, then the signature.
    expect(page).to_have_url(
        re.compile(re.escape(f"{live_server.url}/login?done=You%20have%20logged%20out.") + r"\S+")
    )
    expect(page.get_by_role("status")).to_have_text("You have logged out.")
