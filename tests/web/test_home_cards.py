"""Each role's home page says what needs doing (a count and a link), and the overview pages say how their
data arrives: the home pages left out the DPU's overdue agreement reviews and learning actions, the vetting
unit's expired vetting and the analyst's stop and search work."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from html import unescape
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from custodes.agreements import service as agreements
from custodes.identity.permissions import Role
from custodes.imports import load_records
from custodes.settings import Settings
from custodes.stopsearch import generator
from custodes.stopsearch import service as stopsearch
from tests.agreements.helpers import AGREEMENT, ORG, PROBATION
from tests.learning.helpers import make_learning

ACTOR = "system:test"


def _words(html: str) -> str:
    words = " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())
    return words.replace(" .", ".").replace(" ,", ",").replace(" :", ":")


def test_the_dpu_home_counts_overdue_agreement_reviews_and_learning_actions(
    client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    logged_in(Role.DPU)
    home = _words(client.get("/").text)
    assert "No agreement is past its review date." in home and "No action is past its due date." in home
    agreements.create_organisation(db, ORG, ACTOR)
    agreements.create_organisation(db, PROBATION, ACTOR)
    agreements.create_agreement(db, {**AGREEMENT, "review_date": "2020-06-01"}, ACTOR)
    make_learning(db)  # one action, due in 2024 and still open
    db.commit()
    page = client.get("/").text
    home = _words(page)
    assert (
        "1 agreement past its review date or without one: not in force, so disclosures under it are "
        "blocked until reviewed." in home
    )
    assert "1 action past its due date, on 1 recommendation." in home
    assert 'href="/learning?overdue=1"' in page and 'href="/agreements"' in page
    # Others do not get the cards.
    logged_in(Role.OFFICER)
    page = client.get("/").text
    assert "Sharing agreements" not in page and "Learning register" not in page and "Vetting" not in page


def _kent(db: Session, settings: Settings, folder: Path) -> None:
    paths = generator.write_force(folder / "files", "kent", "2019-01", 3, 100, seed=11, force_columns=True)
    stopsearch.import_stop_searches(db, settings, paths, actor=ACTOR)
    population = folder / "population.csv"
    with population.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, ["force", "census", "group", "population"])
        writer.writeheader()
        writer.writerows(generator.population_rows("kent", "census2011"))
    stopsearch.import_population(db, [population], actor=ACTOR)
    db.commit()


def test_the_analyst_home_shows_stop_and_search_and_the_overview_says_how_data_arrives(
    client: TestClient, db: Session, settings: Settings, tmp_path: Path, logged_in: Callable[[Role], str]
) -> None:
    logged_in(Role.ANALYST)
    home = _words(client.get("/").text)
    assert "Stop and search" in home and "No records imported yet." in home
    overview = _words(client.get("/stopsearch").text)
    assert "How data arrives" in overview and "custodes import stop-searches FILE..." in overview
    assert "YYYY-MM-force-stop-and-search.csv" in overview and "Nothing has been imported yet." in overview
    _kent(db, settings, tmp_path)
    home = _words(client.get("/").text)
    assert "Records for 1 force, up to March 2019; last imported" in home
    assert "Supervisory samples: none waiting for review." in home
    assert "Publish a report" in home
    assert "Last import:" in _words(client.get("/stopsearch").text)


def test_the_monitoring_overview_says_how_access_logs_arrive(
    client: TestClient, logged_in: Callable[[Role], str]
) -> None:
    logged_in(Role.DPU)
    page = _words(client.get("/monitoring").text)
    assert "How data arrives" in page and "POST /api/v1/access-events" in page
    assert "custodes monitor ingest FILE..." in page and "Nothing has been ingested yet." in page
    assert page.index("How data arrives") < page.index("Accesses stored")


def test_a_sampled_record_reads_in_words(
    client: TestClient, db: Session, settings: Settings, tmp_path: Path, logged_in: Callable[[Role], str]
) -> None:
    """The sample page showed the team as a raw code, "Body-worn video: True", the actor "system:test" and
    dates as "01 Nov 2025" beside other screens' "6 Dec 2026"."""
    _kent(db, settings, tmp_path)
    teams = generator._teams()
    load_records(db, "teams", [{"team_id": t, "name": f"Team {t.lower()}"} for t in teams], ACTOR)
    sample = stopsearch.draw_sample(
        db, settings, force="kent", period_from="2019-01", period_to="2019-03", size=30, seed=5,
        stratify=None, actor=ACTOR,
    )  # fmt: skip
    db.commit()
    logged_in(Role.SUPERVISOR)
    page = client.get(f"/stopsearch/samples/{sample.reference.replace('/', '-')}").text
    words = _words(page)
    assert "Body-worn video Yes" in words or "Body-worn video No" in words
    assert "Body-worn video True" not in words and "Body-worn video False" not in words
    assert re.search(r"Team Team [a-z]+-[a-z]+\d \([A-Z]+-[A-Z]+\d\)", words)
    assert "by system: test" in words and "system:test" not in words
    assert not re.search(r"\b0\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4}", words)
    logged_in(Role.ANALYST)
    overview = client.get("/stopsearch").text
    assert '<td class="mono filename">' in overview
