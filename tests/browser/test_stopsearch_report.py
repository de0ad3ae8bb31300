"""The analyst opens the stop and search report in Chromium: the summary in words, the four charts drawn (the
images load under the site's content policy), a filter changed, the report published; a supervisor then
reviews a record of a sample the analyst drew."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from custodes.identity import service as identity
from custodes.identity.permissions import Role
from custodes.kit.db import transaction
from custodes.stopsearch import generator, service
from tests.browser.conftest import LiveServer, snapshot
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser
ACTOR = "system:test"
ANALYST, SUPERVISOR = "S20001", "S20002"


def _seed(server: LiveServer, folder: Path) -> None:
    paths = generator.write_force(folder, "kent", "2019-01", 12, 500, seed=5, force_columns=True)
    population = folder / "population.csv"
    with population.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, ["force", "census", "group", "population"])
        writer.writeheader()
        writer.writerows(generator.population_rows("kent", "census2011"))
    with transaction(server.database.factory) as session:
        service.import_stop_searches(session, server.settings, paths, actor=ACTOR)
        service.import_population(session, [population], actor=ACTOR)
        for staff_id, role in ((ANALYST, Role.ANALYST), (SUPERVISOR, Role.SUPERVISOR)):
            identity.ensure_account(session, staff_id, f"Demo {role.value}", {role}, ACTOR)
            identity.set_password(session, staff_id, PASSWORD, ACTOR)


def _log_in(page: Page, server: LiveServer, staff_id: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{server.url}/login")
    page.get_by_label("Staff number").fill(staff_id)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Good to see you")


def _charts_drawn(page: Page) -> None:
    charts = page.locator("figure.chart img")
    expect(charts).to_have_count(4)
    for index in range(4):
        chart = charts.nth(index)
        chart.scroll_into_view_if_needed()
        width = chart.evaluate("img => img.complete ? img.naturalWidth : 0")
        assert width > 300, f"chart {index + 1} did not load"


def test_the_analyst_reads_and_publishes_the_report(
    live_server: LiveServer, page: Page, tmp_path: Path
) -> None:
    _seed(live_server, tmp_path)
    _log_in(page, live_server, ANALYST)
    # The masthead link: the home page has a card of its own linking to the same page.
    masthead = page.get_by_role("navigation", name="Main")
    masthead.get_by_role("link", name="Stop and search", exact=True).click()
    expect(page.get_by_role("heading", name="Kent Police")).to_be_visible()
    expect(page.locator("main")).to_contain_text("6,000 records")
    snapshot(page, "stopsearch-overview")

    page.get_by_role("link", name="Open the report for the last 12 months").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Stop and search in Kent Police")
    summary = page.locator("#summary")
    expect(summary).to_contain_text("Black people were searched at")
    expect(summary).to_contain_text("times the rate of White people (95% interval")
    expect(summary).to_contain_text("found what they were looking for")
    _charts_drawn(page)
    expect(page.locator("#methods")).to_contain_text("never counted as False")
    snapshot(page, "stopsearch-report")

    # A filter: officer-defined ethnicity for half the year.
    page.get_by_role("textbox", name="From YYYY-MM").fill("2019-07")
    page.get_by_label("Ethnic group from").select_option("officer")
    page.get_by_role("button", name="Show").click()
    expect(page.locator(".lead")).to_contain_text("July 2019 to December 2019 · by officer-defined ethnicity")
    _charts_drawn(page)

    page.get_by_role("button", name="Publish this report").click()
    # A confirmation first: what will be published (a publication cannot be withdrawn).
    expect(page.get_by_role("heading", level=1)).to_have_text("Publish the stop and search report")
    expect(page.locator("#to-publish")).to_contain_text("July 2019 to December 2019")
    expect(page.locator("#to-publish")).to_contain_text("Officer-defined ethnicity")
    expect(page.locator("#to-publish")).to_contain_text("Census 2011")
    snapshot(page, "stopsearch-publish-confirm")
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Published SSR/001/")
    expect(page.locator("table")).to_contain_text("July 2019 to December 2019")
    snapshot(page, "stopsearch-publications")

    # A sample for supervisors to review.
    page.get_by_role("link", name="Supervisory samples").click()
    page.get_by_label("Number of searches").fill("5")
    page.get_by_role("button", name="Draw the sample").click()
    expect(page.get_by_role("status")).to_contain_text("drawn: 5 of")
    snapshot(page, "stopsearch-sample-drawn")

    _log_in(page, live_server, SUPERVISOR)
    page.goto(f"{live_server.url}/stopsearch/samples")
    page.locator("table a").first.click()
    first = page.locator("#item-1")
    first.get_by_label("Yes").first.check()
    first.locator("fieldset").nth(1).get_by_label("No").check()
    first.get_by_label("Note").fill("Grounds generic: 'smell of cannabis' only.")
    first.get_by_role("button", name="Record the review").click()
    expect(page.get_by_role("status")).to_contain_text("Record 1 reviewed.")
    expect(page.locator("#item-1")).to_contain_text("grounds recorded")
    expect(page.locator(".cards")).to_contain_text("1 of 5")
    snapshot(page, "stopsearch-sample-reviewed")
