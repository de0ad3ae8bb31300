"""A member of the counter-corruption unit works the alert queue: opens an alert, reveals who it is with a
reason, dismisses another alert with a reason, opens an investigation from the first, adds a note, closes
it with an outcome and downloads the evidence pack."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from custodes.identity import service as identity
from custodes.kit.db import transaction
from tests.browser.conftest import SCREENSHOTS, LiveServer, menu_link, snapshot
from tests.conftest import PASSWORD
from tests.monitoring.test_casework import ACTOR, SEARCHER, UNIT, make_alerts, make_people

pytestmark = pytest.mark.browser


def _seed(server: LiveServer) -> None:
    with transaction(server.database.factory) as session:
        make_people(session)
        make_alerts(session)
        identity.set_password(session, UNIT, PASSWORD, ACTOR)


def _log_in(page: Page, url: str, staff_id: str) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("Staff number").fill(staff_id)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_the_unit_triages_alerts_and_builds_an_investigation(
    live_server: LiveServer, page: Page, tmp_path: Path
) -> None:
    _seed(live_server)
    _log_in(page, live_server.url, UNIT)
    menu_link(page, "Alerts").click()
    expect(page.get_by_role("heading", name="Misuse alerts")).to_be_visible()
    queue = page.locator("table.alerts tbody tr")
    expect(queue).to_have_count(4)
    expect(queue.first).to_contain_text("87 High")
    expect(page.locator("main")).not_to_contain_text("Parry")  # pseudonymised
    snapshot(page, "alert-queue")

    # The top alert: look, then reveal who it is.
    page.locator("#alert-AL-NEIGHBOUR :is(a, button[name=open])").first.click()
    expect(page.get_by_role("heading", name="Why this was flagged")).to_be_visible()
    expect(page.get_by_text("(identity hidden)")).to_be_visible()
    expect(page.locator("table.accesses tbody tr")).to_have_count(3)
    snapshot(page, "alert-hidden")
    page.get_by_role("button", name="Reveal identity").click()
    expect(page.get_by_role("alert")).to_contain_text("Please give a reason for revealing who this is.")
    page.get_by_label("Reason for revealing").fill("Score 87 and a neighbour: I need to know his postings.")
    page.get_by_role("button", name="Reveal identity").click()
    expect(page.get_by_role("status")).to_contain_text("Identity revealed to you")
    expect(page.locator(".why")).to_contain_text(f"Peter Parry ({SEARCHER}), team T4")
    snapshot(page, "alert-revealed")

    # Another alert about him: dismissed, with a reason.
    page.get_by_role("link", name="Back to alerts").click()
    page.locator("#alert-AL-CELEBRITY :is(a, button[name=open])").first.click()
    page.get_by_role("button", name="Dismiss the alert").click()
    expect(page.get_by_role("alert")).to_contain_text("Please give a reason for dismissing the alert.")
    page.get_by_label("Reason for dismissing").fill("Tasked by the press office for Operation Glass.")
    page.get_by_role("button", name="Dismiss the alert").click()
    expect(page.get_by_role("status")).to_contain_text("Alert dismissed")
    expect(queue).to_have_count(3)

    # The neighbour alert becomes an investigation.
    page.locator("#alert-AL-NEIGHBOUR :is(a, button[name=open])").first.click()
    page.get_by_label("Title").fill("Op Hedge: neighbour look-ups")
    page.get_by_label("Reason for opening it").fill("Repeated look-ups of a neighbour: needs his account.")
    page.get_by_role("button", name="Open an investigation").click()
    expect(page.get_by_role("status")).to_contain_text("Investigation INV/001/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Op Hedge: neighbour look-ups")
    page.get_by_label("Add a note").fill("Spoke to his inspector: no tasking involving N9.")
    page.get_by_role("button", name="Add the note").click()
    expect(page.locator("article.note")).to_contain_text("no tasking involving N9")
    snapshot(page, "investigation-open")
    page.locator("input[name=outcome][value=management_advice]").check()
    page.get_by_label("Reason for the outcome").fill(
        "Admitted curiosity about a neighbour; advised in writing."
    )
    page.get_by_role("button", name="Close the investigation").click()
    expect(page.get_by_role("status")).to_contain_text("closed: management advice")
    expect(page.locator(".badges")).to_contain_text("Closed: Management advice")
    snapshot(page, "investigation")

    with page.expect_download() as downloading:
        page.get_by_role("link", name="Download the evidence pack (ZIP)").click()
    download = downloading.value
    assert download.suggested_filename.startswith("evidence-INV-001-")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    with zipfile.ZipFile(saved) as pack:
        assert set(pack.namelist()) == {
            "report.pdf",
            "investigation.json",
            "entries.jsonl",
            "proofs.json",
            "checkpoint.txt",
            "public-key.txt",
        }
        assert pack.read("report.pdf").startswith(b"%PDF")
        if SCREENSHOTS is not None:
            (SCREENSHOTS / "evidence-report.pdf").write_bytes(pack.read("report.pdf"))

    menu_link(page, "Investigations").click()
    page.get_by_role("link", name="Closed", exact=True).click()
    expect(page.locator("main table")).to_contain_text("Management advice")
    snapshot(page, "investigations")


def test_ticks_on_two_pages_open_one_investigation(
    live_server: LiveServer, page: Page, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two pages of two alerts: a tick on page 1 survives "Next page" (no JavaScript needed) and the
    investigation takes it with page 2's tick."""
    from custodes.monitoring import casework

    monkeypatch.setattr(casework, "PAGE_SIZE", 2)  # page 1: AL-NEIGHBOUR, AL-UNIT; page 2: the others
    _seed(live_server)
    _log_in(page, live_server.url, UNIT)
    menu_link(page, "Alerts").click()
    page.locator("#alert-AL-NEIGHBOUR input[type=checkbox]").check()
    page.get_by_role("button", name="Next page").click()
    expect(page.locator("#selection-summary")).to_contain_text("1 alert selected")
    expect(page.locator("#selected-elsewhere input[value=AL-NEIGHBOUR]")).to_be_checked()
    page.locator("#alert-AL-CELEBRITY input[type=checkbox]").check()
    page.get_by_role("button", name="Previous page").click()
    expect(page.locator("#selection-summary")).to_contain_text("2 alerts selected")
    expect(page.locator("#alert-AL-NEIGHBOUR input[type=checkbox]")).to_be_checked()
    snapshot(page, "alert-queue-selection")
    page.get_by_label("Reason for opening it").fill("The same officer's look-ups, over two pages.")
    page.get_by_role("button", name="Open an investigation", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Investigation INV/001/")
    expect(page.locator("main")).to_contain_text("Alerts (2)")


def test_the_selection_bar_stays_at_the_bottom_of_the_window(live_server: LiveServer, page: Page) -> None:
    """The queue is long and "Open an investigation" is at its very end: the selection bar (CSS position:
    sticky, no JavaScript) stays on screen at the bottom of the window while the queue is, names the staff
    codes selected, and its link leads to the form."""
    _seed(live_server)
    _log_in(page, live_server.url, UNIT)
    page.set_viewport_size({"width": 1280, "height": 500})  # shorter than the queue: the bar must stick
    menu_link(page, "Alerts").click()
    page.locator("#alert-AL-NEIGHBOUR input[type=checkbox]").check()
    bar = page.locator("#selection-bar")
    bar.get_by_role("button", name="Update").click()
    expect(bar).to_contain_text("1 selected (staff ")
    page.evaluate("window.scrollTo(0, 0)")
    if SCREENSHOTS is not None:
        page.screenshot(path=str(SCREENSHOTS / "alert-queue-selection-bar.png"))  # the window, not the page
    for _ in range(2):  # at the top, and scrolled part way: the bar sits on the window's bottom edge
        box = bar.bounding_box()
        assert box is not None and abs(box["y"] + box["height"] - 500) <= 2, box
        page.mouse.wheel(0, 150)
        page.wait_for_timeout(100)
    bar.get_by_role("link", name="Open an investigation").click()
    expect(page.get_by_label("Reason for opening it")).to_be_in_viewport()
