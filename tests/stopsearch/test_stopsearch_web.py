"""Stop and search screens: what each role sees, the report and its filters, bad filters explained (never a
500), publishing, drawing a sample and reviewing it. Records are the generator's (a year of Kent, 2019)."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from html import unescape
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from custodes.identity.permissions import Role
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter
from custodes.settings import Settings
from custodes.stopsearch import generator, service
from tests.conftest import post_form

ACTOR = "system:test"
VIEWERS = (Role.ANALYST, Role.SUPERVISOR, Role.DPU, Role.AUDITOR)


@pytest.fixture
def kent(db: Session, settings: Settings, tmp_path: Path) -> str:
    """A year of Kent's searches (2019, with the force's own columns) and its population, both censuses."""
    paths = generator.write_force(tmp_path / "files", "kent", "2019-01", 12, 400, seed=11, force_columns=True)
    service.import_stop_searches(db, settings, paths, actor=ACTOR)
    population = tmp_path / "population.csv"
    with population.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, ["force", "census", "group", "population"])
        writer.writeheader()
        for census in ("census2011", "census2021"):
            writer.writerows(generator.population_rows("kent", census))
    service.import_population(db, [population], actor=ACTOR)
    db.commit()
    return "kent"


def _text(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


# --------------------------------------------------------------------------- who sees what


def test_nothing_imported_is_said_plainly(client: TestClient, logged_in: Callable[[Role], str]) -> None:
    logged_in(Role.ANALYST)
    for path in ("/stopsearch", "/stopsearch/report", "/stopsearch/samples", "/stopsearch/publications"):
        response = client.get(path)
        assert response.status_code == 200, path
    assert "No stop and search records have been imported yet" in _text(client.get("/stopsearch").text)
    assert "nothing to report" in _text(client.get("/stopsearch/report").text)


@pytest.mark.parametrize("role", VIEWERS, ids=str)
def test_every_viewing_role_sees_the_imported_months_and_the_report(
    role: Role, kent: str, client: TestClient, logged_in: Callable[[Role], str]
) -> None:
    logged_in(role)
    overview = _text(client.get("/stopsearch").text)
    assert "Kent Police" in overview and "12 months, January 2019 to December 2019" in overview
    report = client.get("/stopsearch/report")
    assert report.status_code == 200
    text = _text(report.text)
    assert "Stop and search in Kent Police" in text
    assert "February 2019 to December 2019" not in text and "January 2019 to December 2019" in text
    assert "times the rate of White people" in text
    assert report.text.count('src="data:image/svg+xml;base64,') == 4
    for heading in ("Summary", "Finds and arrests by group", "Data quality", "Methods and caveats"):
        assert heading in text
    publishes = 'action="/stopsearch/publish"' in report.text
    assert publishes == (role == Role.ANALYST)


@pytest.mark.parametrize("role", [Role.OFFICER, Role.STAFF, Role.CCU, Role.ADMIN], ids=str)
def test_other_roles_are_refused(
    role: Role, kent: str, client: TestClient, logged_in: Callable[[Role], str]
) -> None:
    logged_in(role)
    assert client.get("/stopsearch/report").status_code == 403
    assert "Stop and search" not in client.get("/").text


# --------------------------------------------------------------------------- the report and its filters


def test_filters_choose_the_period_ethnicity_and_census(
    kent: str, client: TestClient, logged_in: Callable[[Role], str]
) -> None:
    logged_in(Role.ANALYST)
    query = "force=kent&from=2019-04&to=2019-09&ethnicity=officer&population=census2021"
    text = _text(client.get(f"/stopsearch/report?{query}").text)
    assert "April 2019 to September 2019" in text
    assert "by officer-defined ethnicity" in text and "population from the Census 2021" in text
    figures = client.get(f"/stopsearch/report.json?{query}").json()
    assert (figures["from"], figures["to"], figures["ethnicity"], figures["population"]) == (
        "2019-04", "2019-09", "officer", "census2021",
    )  # fmt: skip
    assert figures["person_searches"] == sum(m["searches"] for m in figures["monthly"])
    assert figures["groups"]["Black"]["ratio_to_white"] > 1
    pdf = client.get(f"/stopsearch/report.pdf?{query}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"
    # the force may be given by name as well as by id
    assert client.get("/stopsearch/report.json?force=Kent+Police&from=2019-01&to=2019-03").status_code == 200


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("force=kent&from=2019-13&to=2019-12", "From: give a month such as "),
        ("force=kent&from=January&to=2019-12", "From: give a month such as "),
        ("force=kent&from=January&to=2019-12", ", not 'January'"),
        (
            "force=kent&from=2019-06&to=2019-01",
            "From: the first month (2019-06) must not be after the last (To: 2019-01)",
        ),
        (
            "force=kent&from=2019-01&to=2019-12&ethnicity=guess",
            "Ethnic group from: choose self-defined or officer-",
        ),
        (
            "force=kent&from=2019-01&to=2019-12&population=census1901",
            "Population: choose Census 2011, Census 2021",
        ),
        (
            "force=atlantis&from=2019-01&to=2019-12",
            "Force: no stop and search records have been imported for 'atlantis'",
        ),
        ("force=kent&to=2019-xx", "To: give a month such as "),
        ("force=kent&from=2019-01&to=2019-12&ethnicity=" + "x" * 5000, "Ethnic group from: choose"),
    ],
)
def test_bad_filters_are_explained_not_a_crash(
    query: str, message: str, kent: str, client: TestClient, logged_in: Callable[[Role], str]
) -> None:
    logged_in(Role.ANALYST)
    screen = client.get(f"/stopsearch/report?{query}")
    assert screen.status_code == 400
    assert message.lower() in _text(screen.text).lower()
    assert 'name="from"' in screen.text, "the filters stay on the page to correct"
    figures = client.get(f"/stopsearch/report.json?{query}")
    assert figures.status_code == 400 and message in figures.json()["detail"]
    pdf = client.get(f"/stopsearch/report.pdf?{query}")
    assert pdf.status_code == 400 and message.lower() in _text(pdf.text).lower()


def test_filter_problems_name_the_field_as_labelled_not_the_parameter(
    kent: str, client: TestClient, logged_in: Callable[[Role], str]
) -> None:
    """Review: "'from' must be a month as YYYY-MM" quoted the query parameter, not the form's label."""
    logged_in(Role.ANALYST)
    for query in (
        "from=2019-13&to=2019-12",
        "from=2019-01&to=2019-xx",
        "from=2019-06&to=2019-01",
        "ethnicity=x",
    ):
        text = _text(client.get(f"/stopsearch/report?force=kent&{query}").text)
        problem = text.split("There is a problem with this report:", 1)[1]
        assert "'from'" not in problem and "'to'" not in problem and "YYYY-MM" not in problem, problem


# --------------------------------------------------------------------------- publishing


def test_the_analyst_publishes_and_everyone_who_views_can_download(
    kent: str, client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    logged_in(Role.SUPERVISOR)
    fields = {
        "force": "kent",
        "from": "2019-01",
        "to": "2019-12",
        "ethnicity": "self",
        "population": "census2011",
    }
    assert post_form(client, "/stopsearch/publish", fields).status_code == 403  # type: ignore[attr-defined]

    analyst = logged_in(Role.ANALYST)
    refused = post_form(client, "/stopsearch/publish", {**fields, "to": "2019-00"})
    assert refused.status_code == 400  # type: ignore[attr-defined]
    assert "Not published" in _text(refused.text)  # type: ignore[attr-defined]
    response = post_form(client, "/stopsearch/publish", fields)
    assert response.status_code == 303  # type: ignore[attr-defined]
    assert response.headers["location"].startswith("/stopsearch/publications?done=")  # type: ignore[attr-defined]
    [published] = service.publications(db)
    assert published.reference.startswith("SSR/")
    segment = published.reference.replace("/", "-")

    logged_in(Role.AUDITOR)
    listing = client.get("/stopsearch/publications")
    assert published.reference in listing.text and f"/stopsearch/publications/{segment}.pdf" in listing.text
    assert f"Test {analyst} ({analyst})" in listing.text  # who published it, by name with the number
    pdf = client.get(f"/stopsearch/publications/{segment}.pdf")
    assert pdf.status_code == 200 and pdf.content == published.pdf
    html = client.get(f"/stopsearch/publications/{segment}.html")
    assert html.status_code == 200 and html.text == published.html
    assert "attachment" in html.headers["content-disposition"]
    assert "Methods and caveats" in html.text
    assert client.get("/stopsearch/publications/SSR-999-99.pdf").status_code == 404


def test_publishing_asks_for_confirmation_showing_what_will_be_published(
    kent: str, client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    """Review: 'Publish this report' published at once; a publication cannot be withdrawn."""
    logged_in(Role.SUPERVISOR)
    query = "force=kent&from=2019-01&to=2019-12&ethnicity=self&population="
    assert client.get(f"/stopsearch/publish?{query}").status_code == 403
    logged_in(Role.ANALYST)
    report = client.get(f"/stopsearch/report?{query}").text
    assert 'method="get" action="/stopsearch/publish"' in report, "the button asks first"
    confirm = client.get(f"/stopsearch/publish?{query}")
    assert confirm.status_code == 200
    text = _text(confirm.text)
    for shown in (
        "What will be published",
        "Force Kent Police",
        "Period January 2019 to December 2019",
        "Ethnic group from Self-defined ethnicity",
        "Population Census 2021",
        "fewer than 10 searches are suppressed",
    ):
        assert shown in text, shown
    assert "Already published" not in text and 'name="reason"' not in confirm.text
    assert service.publications(db) == [], "looking at the confirmation publishes nothing"
    assert 'method="post" action="/stopsearch/publish"' in confirm.text


def test_publishing_the_same_report_again_needs_a_reason(
    kent: str, client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    """Review: a second click made SSR/002/26, identical to SSR/001/26, with nothing to say why."""
    logged_in(Role.ANALYST)
    fields = {"force": "kent", "from": "2019-01", "to": "2019-12", "ethnicity": "self", "population": ""}
    assert post_form(client, "/stopsearch/publish", fields).status_code == 303  # type: ignore[attr-defined]
    db.expire_all()
    [first] = service.publications(db)
    confirm = _text(client.get("/stopsearch/publish?" + "&".join(f"{k}={v}" for k, v in fields.items())).text)
    assert (
        f"Already published. This force, period and settings are already published as {first.reference} on"
        in (confirm)
    )
    again = post_form(client, "/stopsearch/publish", fields)
    assert again.status_code == 400  # type: ignore[attr-defined]
    assert (
        f"Not published: Reason for publishing again: this force, period and settings are already published "
        f"as {first.reference}" in _text(again.text)  # type: ignore[attr-defined]
    )
    db.expire_all()
    assert len(service.publications(db)) == 1
    # another census is another report: no reason needed
    other = {**fields, "population": "census2011"}
    assert post_form(client, "/stopsearch/publish", other).status_code == 303  # type: ignore[attr-defined]
    reason = "Correction: March's records were re-imported after the force's audit."
    response = post_form(client, "/stopsearch/publish", {**fields, "reason": reason})
    assert response.status_code == 303  # type: ignore[attr-defined]
    db.expire_all()
    latest = service.publications(db)[0]
    assert service.reissue(latest) == {"of": [first.reference], "reason": reason}
    document = _text(latest.html)
    assert (
        f"Re-issue. This report re-issues {first.reference}, published for the same period and settings. "
        f"Why: {reason}" in document
    )
    [entry] = ledger.search(
        db, EntryFilter(object_type="stop_search_publication", object_id=latest.reference)
    )
    assert entry.detail["reissue_of"] == [first.reference] and entry.detail["reason"] == reason
    listing = _text(client.get("/stopsearch/publications").text)
    assert f"re-issues {first.reference}" in listing and f"Why again: {reason}" in listing


# --------------------------------------------------------------------------- samples


def test_draw_a_sample_and_review_it(
    kent: str, client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    analyst = logged_in(Role.ANALYST)
    form = client.get("/stopsearch/samples")
    assert 'action="/stopsearch/samples"' in form.text
    bad = post_form(client, "/stopsearch/samples", {"force": "kent", "from": "2019-01", "to": "2019-12",
                                                     "size": "lots", "seed": "1"})  # fmt: skip
    assert bad.status_code == 400 and "Number of searches: give a whole number of at least 1." in _text(
        bad.text
    )  # type: ignore[attr-defined]
    empty = post_form(client, "/stopsearch/samples", {"force": "kent", "from": "2030-01", "to": "2030-12",
                                                       "size": "10", "seed": "1"})  # fmt: skip
    assert empty.status_code == 400 and "No sample drawn" in _text(empty.text)  # type: ignore[attr-defined]
    fields = {"force": "kent", "from": "2019-01", "to": "2019-12", "size": "12", "seed": "42"}
    drawn = post_form(client, "/stopsearch/samples", {**fields, "stratify": "ethnicity"})
    assert drawn.status_code == 303  # type: ignore[attr-defined]
    location = drawn.headers["location"]  # type: ignore[attr-defined]
    assert location.startswith("/stopsearch/samples/SSS-")
    page = client.get(location)
    assert page.status_code == 200
    assert "0 of 12" in _text(page.text)
    assert page.text.count('class="panel sample-item"') == 12
    assert "/items/1" not in page.text, "the analyst draws samples but does not review them"
    path = location.split("?")[0]

    supervisor = logged_in(Role.SUPERVISOR)
    page = client.get(path)
    assert f'action="{path}/items/1"' in page.text
    assert "Grounds as recorded" in page.text
    missing = post_form(client, f"{path}/items/1", {"note": "forgot"})
    assert missing.status_code == 400  # type: ignore[attr-defined]
    assert "say whether reasonable grounds were recorded" in _text(missing.text)  # type: ignore[attr-defined]
    reviewed = post_form(client, f"{path}/items/1", {"recorded": "yes", "strong": "no", "note": "Vague"})
    assert reviewed.status_code == 303  # type: ignore[attr-defined]
    assert reviewed.headers["location"].endswith("#item-2")  # type: ignore[attr-defined]
    post_form(client, f"{path}/items/2", {"recorded": "no"})
    assert post_form(client, f"{path}/items/99", {"recorded": "no"}).status_code == 400  # type: ignore[attr-defined]
    text = _text(client.get(path).text)
    assert (
        "2 of 12" in text and "grounds recorded" in text and "no grounds recorded" in text and "Vague" in text
    )
    # who drew it and who reviewed each record, by name with the number
    assert f"by Test {analyst} ({analyst})" in text
    assert f"Reviewed by Test {supervisor} ({supervisor})," in text
    todo = client.get(f"{path}?show=todo")
    assert todo.text.count('class="panel sample-item"') == 10
    # each opening of the sample is recorded: its records hold grounds and officer ids
    reference = path.rsplit("/", 1)[1].replace("-", "/")
    looks = ledger.search(
        db, EntryFilter(op="consultation", actor=f"staff:{supervisor}", object_id=reference)
    )
    assert len(looks) >= 3

    logged_in(Role.ANALYST)
    assert post_form(client, f"{path}/items/3", {"recorded": "yes", "strong": "yes"}).status_code == 403  # type: ignore[attr-defined]
    listing = _text(client.get("/stopsearch/samples").text)
    assert reference in listing and f"Test {analyst} ({analyst})" in listing
    assert client.get("/stopsearch/samples/SSS-999-99").status_code == 404


# --------------------------------------------------------------------------- which census


def test_the_report_uses_the_census_nearest_the_period_and_says_why(
    kent: str, client: TestClient, logged_in: Callable[[Role], str]
) -> None:
    """Review: the report defaulted to Census 2011 although 2021 was held, and its ratios depend on it."""
    logged_in(Role.ANALYST)
    screen = _text(client.get("/stopsearch/report").text)
    assert "population from the Census 2021" in screen
    assert (
        "Population used: Census 2021: the census nearest the period of those held for this force "
        "(Census 2011, Census 2021)" in screen
    )
    assert client.get("/stopsearch/report.json?force=kent&from=2019-01&to=2019-12").json()["population"] == (
        "census2021"
    )
    chosen = _text(
        client.get("/stopsearch/report?force=kent&from=2019-01&to=2019-12&population=census2011").text
    )
    assert "population from the Census 2011" in chosen
    assert "Population used: Census 2011, as chosen; Census 2021 is nearer the period." in chosen
    figures = client.get("/stopsearch/report.json?force=kent&from=2019-01&to=2019-12&population=census2011")
    assert figures.json()["population"] == "census2011"


def test_nearest_census_by_period() -> None:
    both = ("census2011", "census2021")
    assert service.nearest_census(both, "2012-01", "2013-12") == "census2011"
    assert service.nearest_census(both, "2015-04", "2016-03") == "census2011"  # middle: Oct 2015
    assert service.nearest_census(both, "2016-01", "2016-12") == "census2021"  # middle: Jun/Jul 2016
    assert service.nearest_census(both, "2025-11", "2026-10") == "census2021"
    assert service.nearest_census(both, "2010-01", "2022-12") == "census2021"  # a tie: the later
    assert service.nearest_census(("census2011",), "2025-01", "2025-12") == "census2011"


def test_only_the_census_held_is_used(db: Session, settings: Settings, tmp_path: Path) -> None:
    paths = generator.write_force(tmp_path / "files", "kent", "2024-01", 2, 100, seed=3)
    service.import_stop_searches(db, settings, paths, actor=ACTOR)
    population = tmp_path / "population.csv"
    population.write_text(
        "force,census,group,population\n"
        + "".join(f"kent,census2011,{row['group']},{row['population']}\n"
                  for row in generator.population_rows("kent", "census2011")),
        encoding="utf-8",
    )  # fmt: skip
    service.import_population(db, [population], actor=ACTOR)
    report = service.report(db, settings, service.ReportRequest("kent", "2024-01", "2024-02"))
    assert report["population"] == "census2011" and report["groups"]["White"]["population"]
    assert report["population_basis"] == (
        "Census 2011: the only census whose population figures are held for this force."
    )
    chosen = service.report(
        db, settings, service.ReportRequest("kent", "2024-01", "2024-02", "self", "census2021")
    )
    assert chosen["population"] == "census2021" and chosen["groups"]["White"]["population"] is None
    assert chosen["population_basis"].startswith("Census 2021, as chosen: no population figures are held")
