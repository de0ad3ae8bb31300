"""The synthetic stop-search files (stopsearch/generator.py): deterministic, exactly data.police.uk's columns
and vocabulary (checked against the real files), the outcome vocabulary of the month, blank person fields for
vehicle-only searches, read back whole by the importer; and the demo built from it."""

from __future__ import annotations

import csv
import glob
import re
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from custodes.settings import Settings
from custodes.stopsearch import demo, records, service
from custodes.stopsearch.generator import (
    NOT_STATED_LABEL,
    SELF_DEFINED_LABELS,
    file_name,
    month_table,
    population_rows,
    write_force,
)
from custodes.stopsearch.schemas import (
    FORCE_COLUMNS,
    NEW_OUTCOMES,
    OLD_OUTCOMES,
    POPULATION_GROUPS,
    PUBLISHED_COLUMNS,
    SEARCH_TYPES,
    VEHICLE_ONLY,
    ReportRequest,
)
from tests.stopsearch.conftest import reference_folder

DATA = reference_folder()  # tests/data/stop-search.tar.xz
REAL_FILES = sorted(glob.glob(str(DATA / "met-2018" / "*.csv"))) + sorted(
    glob.glob(str(DATA / "city-of-london-2017-12_2020-11" / "*.csv"))
)
PERSON_FIELDS = ("Gender", "Age range", "Self-defined ethnicity", "Officer-defined ethnicity")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00$")
ACTOR = "system:test"


def read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def group_of(label: str) -> str:
    if label in ("", NOT_STATED_LABEL):
        return "Not stated"
    prefix = label.split(" - ")[0]
    return {
        "White": "White",
        "Black/African/Caribbean/Black British": "Black",
        "Asian/Asian British": "Asian",
        "Mixed/Multiple ethnic groups": "Mixed",
    }.get(prefix, "Other")


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """A year across the vocabulary change, with the force-system columns."""
    folder = tmp_path_factory.mktemp("generated")
    return write_force(folder, "kent", "2017-10", 12, 2500, seed=4, force_columns=True)


@pytest.fixture(scope="module")
def rows(year: list[Path]) -> list[dict[str, str]]:
    return [row for path in year for row in read(path)[1]]


@pytest.fixture(scope="module")
def real_vocabulary() -> dict[str, set[str]]:
    if not REAL_FILES:
        pytest.skip("the real data.police.uk files are not here")
    seen: dict[str, set[str]] = {column: set() for column in PUBLISHED_COLUMNS}
    for path in REAL_FILES:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            for row in csv.DictReader(handle):
                for column in ("Type", "Gender", "Age range", "Self-defined ethnicity"):
                    seen[column].add(row[column])
                seen["Officer-defined ethnicity"].add(row["Officer-defined ethnicity"])
                seen["Legislation"].add(row["Legislation"])
                seen["Object of search"].add(row["Object of search"])
                seen["Outcome"].add(row["Outcome"])
    return seen


# --------------------------------------------------------------------------- determinism and shape


def test_the_same_arguments_give_the_same_bytes(tmp_path: Path) -> None:
    first = write_force(tmp_path / "a", "kent", "2018-02", 3, 400, seed=9, force_columns=True)
    second = write_force(tmp_path / "b", "kent", "2018-02", 3, 400, seed=9, force_columns=True)
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    other_seed = write_force(tmp_path / "c", "kent", "2018-02", 3, 400, seed=10, force_columns=True)
    assert [p.read_bytes() for p in other_seed] != [p.read_bytes() for p in first]
    other_force = write_force(tmp_path / "d", "essex", "2018-02", 3, 400, seed=9, force_columns=True)
    assert other_force[0].read_bytes() != first[0].read_bytes()
    # Each month depends on its own month only: a month written alone is the same month.
    alone = write_force(tmp_path / "e", "kent", "2018-03", 1, 400, seed=9, force_columns=True)
    assert alone[0].read_bytes() == first[1].read_bytes()


def test_one_file_per_month_named_as_data_police_uk_names_them(tmp_path: Path) -> None:
    paths = write_force(tmp_path, "city-of-london", "2019-11", 4, 10, seed=1)
    assert [p.name for p in paths] == [
        "2019-11-city-of-london-stop-and-search.csv",
        "2019-12-city-of-london-stop-and-search.csv",
        "2020-01-city-of-london-stop-and-search.csv",
        "2020-02-city-of-london-stop-and-search.csv",
    ]
    assert file_name("kent", "2018-04") == "2018-04-kent-stop-and-search.csv"
    for path in paths:
        _header, found = read(path)
        assert len(found) == 10
        assert all(row["Date"].startswith(path.name[:7]) for row in found)


def test_columns_are_exactly_the_published_ones_and_the_force_columns_add_to_them(tmp_path: Path) -> None:
    plain = write_force(tmp_path / "plain", "kent", "2018-06", 2, 300, seed=3)
    extra = write_force(tmp_path / "extra", "kent", "2018-06", 2, 300, seed=3, force_columns=True)
    for without, with_force in zip(plain, extra, strict=True):
        header, rows_plain = read(without)
        assert header == list(PUBLISHED_COLUMNS)
        assert without.read_text(encoding="utf-8").splitlines()[0] == ",".join(PUBLISHED_COLUMNS)
        header, rows_extra = read(with_force)
        assert header == [*PUBLISHED_COLUMNS, *FORCE_COLUMNS]
        # The published columns are the same records either way.
        assert [{c: r[c] for c in PUBLISHED_COLUMNS} for r in rows_extra] == rows_plain


# --------------------------------------------------------------------------- vocabulary and realism


def test_labels_come_from_the_real_files(
    rows: list[dict[str, str]], real_vocabulary: dict[str, set[str]]
) -> None:
    for column in (
        "Type",
        "Gender",
        "Age range",
        "Self-defined ethnicity",
        "Officer-defined ethnicity",
        "Legislation",
        "Object of search",
    ):
        used = {row[column] for row in rows}
        assert used <= real_vocabulary[column], (column, used - real_vocabulary[column])
    assert set(SELF_DEFINED_LABELS) <= real_vocabulary["Self-defined ethnicity"]
    # Every real self-defined label is used, and nothing else.
    assert {row["Self-defined ethnicity"] for row in rows} == real_vocabulary["Self-defined ethnicity"]
    assert {row["Type"] for row in rows} == set(SEARCH_TYPES)
    for column in ("Outcome linked to object of search", "Removal of more than just outer clothing"):
        assert {row[column] for row in rows} == {"True", "False", ""}
    assert {row["Part of a policing operation"] for row in rows} <= {"True", "False"}


def test_outcome_vocabulary_follows_the_month(rows: list[dict[str, str]]) -> None:
    by_month: dict[str, set[str]] = {}
    for row in rows:
        by_month.setdefault(row["Date"][:7], set()).add(row["Outcome"])
    assert sorted(by_month) == [f"2017-{m}" for m in ("10", "11", "12")] + [
        f"2018-{m:02d}" for m in range(1, 10)
    ]
    for month, outcomes in by_month.items():
        expected = OLD_OUTCOMES if month < "2018-04" else NEW_OUTCOMES
        assert outcomes - {""} <= expected, month
        assert {"Suspect arrested" if month < "2018-04" else "Arrest", ""} <= outcomes


def test_vehicle_only_searches_have_no_person(rows: list[dict[str, str]]) -> None:
    vehicle = [row for row in rows if row["Type"] == VEHICLE_ONLY]
    assert 0.01 <= len(vehicle) / len(rows) <= 0.02
    for row in vehicle:
        assert all(row[field] == "" for field in PERSON_FIELDS), row
        assert row["Removal of more than just outer clothing"] == ""
    people = [row for row in rows if row["Type"] != VEHICLE_ONLY]
    assert sum(row["Self-defined ethnicity"] != "" for row in people) / len(people) > 0.97
    assert Counter(row["Type"] for row in people).most_common(1)[0][0] == "Person search"


def test_dates_coordinates_and_blanks_look_like_the_published_files(rows: list[dict[str, str]]) -> None:
    assert all(DATE.match(row["Date"]) for row in rows)
    for month in {row["Date"][:7] for row in rows}:
        dates = [row["Date"] for row in rows if row["Date"][:7] == month]
        assert dates == sorted(dates)
    blank_place = [row for row in rows if row["Latitude"] == ""]
    assert 0.05 < len(blank_place) / len(rows) < 0.3
    assert all(row["Longitude"] == "" for row in blank_place)
    placed = [row for row in rows if row["Latitude"]]
    assert all(
        50.0 < float(row["Latitude"]) < 52.5 and -1.0 < float(row["Longitude"]) < 2.5 for row in placed
    )
    linked_blank = sum(row["Outcome linked to object of search"] == "" for row in rows) / len(rows)
    assert 0.15 < linked_blank < 0.5  # blank is common and must not be read as False


def test_searches_show_the_disparity_and_the_unknowns_of_real_data(rows: list[dict[str, str]]) -> None:
    people = [row for row in rows if row["Type"] != VEHICLE_ONLY]
    groups = Counter(group_of(row["Self-defined ethnicity"]) for row in people)
    assert 0.1 < groups["Not stated"] / len(people) < 0.25
    population = {row["group"]: int(row["population"]) for row in population_rows("kent")}
    black = groups["Black"] / population["Black"]
    white = groups["White"] / population["White"]
    assert 3 < black / white < 12
    # Officers mostly record the group the person gives.
    for group in ("White", "Black", "Asian"):
        stated = [row for row in people if group_of(row["Self-defined ethnicity"]) == group]
        agree = sum(row["Officer-defined ethnicity"] == group for row in stated) / len(stated)
        assert agree > 0.8, group


def test_force_columns(rows: list[dict[str, str]]) -> None:
    for row in rows:
        drugs = row["Object of search"] == "Controlled drugs"
        assert (row["Drug search type"] in ("possession", "supply")) == drugs, row
        assert row["Body-worn video"] in ("yes", "no")
        assert re.fullmatch(r"P\d{5}", row["Officer id"])
        assert row["Team"]
    grounds = [row["Grounds"] for row in rows]
    assert any("," in text for text in grounds) and any('"' in text for text in grounds)
    assert 0.01 < grounds.count("") / len(grounds) < 0.1
    team_of: dict[str, set[str]] = {}
    for row in rows:
        team_of.setdefault(row["Officer id"], set()).add(row["Team"])
    assert all(len(teams) == 1 for teams in team_of.values())
    supply = [r for r in rows if r["Drug search type"] == "supply"]
    possession = [r for r in rows if r["Drug search type"] == "possession"]
    assert 0.1 < len(supply) / (len(supply) + len(possession)) < 0.3


def test_population_rows_are_the_import_layout() -> None:
    kent = population_rows("kent")
    assert [row["group"] for row in kent] == list(POPULATION_GROUPS)
    assert all(set(row) == {"force", "census", "group", "population"} for row in kent)
    assert {row["census"] for row in kent} == {"census2011"}
    assert sum(int(row["population"]) for row in kent) == 1_727_665  # Census 2011, Kent (EFF's total)
    assert population_rows("kent", "census2021") != kent
    assert population_rows("city-of-london") == []  # no population figure, as published
    assert len(population_rows("a-test-force")) == 5
    with pytest.raises(ValueError, match="census"):
        population_rows("kent", "census1991")


# --------------------------------------------------------------------------- read back by the importer


@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(0, 2**32 - 1),
    month=st.sampled_from(["2017-12", "2018-03", "2018-04", "2020-02", "2023-11"]),
    size=st.integers(0, 150),
    force=st.sampled_from(["kent", "metropolitan", "city-of-london", "a-test-force"]),
    force_columns=st.booleans(),
)
def test_the_importer_reads_every_generated_file_as_the_csv_module_does(
    tmp_path_factory: pytest.TempPathFactory,
    seed: int,
    month: str,
    size: int,
    force: str,
    force_columns: bool,
) -> None:
    folder = tmp_path_factory.mktemp("roundtrip")
    (path,) = write_force(folder, force, month, 1, size, seed, force_columns=force_columns)
    _header, expected = read(path)
    read_files, problems = records.read_sources([path], None)
    assert problems == []
    table = read_files[0].table if size else None
    if table is None:
        return
    assert table.num_rows == size
    stored = table.to_pylist()
    assert {row["force"] for row in stored} == {force}
    assert [row["date"] for row in stored] == [row["Date"] for row in expected]
    assert [row["self_group"] for row in stored] == [
        group_of(row["Self-defined ethnicity"]) for row in expected
    ]
    assert [row["person"] for row in stored] == [row["Type"] != VEHICLE_ONLY for row in expected]
    assert [row["outcome_linked"] for row in stored] == [
        {"True": True, "False": False, "": None}[row["Outcome linked to object of search"]]
        for row in expected
    ]
    if force_columns:
        assert [row["grounds"] or "" for row in stored] == [row["Grounds"] for row in expected]


def test_a_generated_force_imports_and_reports(db: Session, settings: Settings, tmp_path: Path) -> None:
    paths = write_force(tmp_path, "kent", "2018-01", 6, 500, seed=2, force_columns=True)
    population = tmp_path / "population.csv"
    population.write_text(
        records.csv_text(population_rows("kent"), ("force", "census", "group", "population")),
        encoding="utf-8",
    )
    summary = service.import_stop_searches(db, settings, paths, actor=ACTOR)
    assert summary.records == 3000 and len(summary.months) == 6
    service.import_population(db, [population], actor=ACTOR)
    report = service.report(db, settings, ReportRequest("kent", "2018-01", "2018-06"))
    rows = [row for path in paths for row in read(path)[1]]
    assert report["records"] == len(rows)
    assert report["vehicle_only"] == sum(row["Type"] == VEHICLE_ONLY for row in rows)
    assert report["groups"]["Black"]["ratio_to_white"] > 3
    assert report["drugs"]["possession"]["searches"] > report["drugs"]["supply"]["searches"] > 0


def test_the_demo_imports_two_years_reviews_a_sample_and_publishes(db: Session, settings: Settings) -> None:
    published = demo.load_demo(db, settings, seed=5, today=date(2024, 3, 10))
    assert demo.demo_period(date(2024, 3, 10)) == ("2022-03", "2024-02")
    # The demo's records are the demo force's own, named as the masthead names it (settings.force_name),
    # not Kent Police's (review: "Stop and search in Kent Police" under "Demo Constabulary").
    assert settings.force_name == "Demo Constabulary"
    assert (published.force, published.period_from, published.period_to) == (
        "demo-constabulary",
        "2023-03",
        "2024-02",
    )
    assert published.pdf.startswith(b"%PDF") and "Stop and search in Demo Constabulary" in published.html
    assert "Kent Police" not in published.html
    (summary,) = service.force_summaries(db)
    assert summary.name == settings.force_name
    assert len(summary.months) == demo.DEMO_MONTHS
    assert summary.records == demo.DEMO_MONTHS * demo.DEMO_RECORDS_PER_MONTH
    (sample,) = service.samples(db)
    assert sample.size == demo.SAMPLE_SIZE and 0 < sample.reviewed < sample.size  # some left to review
    report = service.report(db, settings, ReportRequest("demo-constabulary", "2023-03", "2024-02"))
    review = report["grounds_review"]
    assert review["reviewed"] == sample.reviewed
    assert 0.6 < review["proportion"] < 0.95
    assert report["groups"]["Black"]["ratio_to_white"] > 3
    assert report["drugs"]["supply"]["searches"] > 0
    assert service.populations(db, "demo-constabulary", "census2021")


def test_the_demo_force_is_the_configured_force() -> None:
    """The demo's stop and search is imported under the configured force name's id, named as the masthead
    names the force; a configured name that is a real force's uses its data.police.uk id."""
    assert demo.demo_force(Settings(force_name="Demo Constabulary")) == "demo-constabulary"
    assert service.force_name("demo-constabulary") == "Demo Constabulary"
    assert demo.demo_force(Settings(force_name="Wessex Police")) == "wessex-police"
    assert service.force_name("wessex-police") == "Wessex Police"
    assert demo.demo_force(Settings(force_name="Kent Police")) == "kent"
    assert demo.demo_force(Settings(force_name="***")) == "kent"


def test_records_generated_for_an_area_are_that_areas_under_another_name(tmp_path: Path) -> None:
    """The demo's records are Kent's as generated for Kent (same people, places, seed), filed for the demo
    force; its population rows are Kent's figures under the demo force's name."""
    assert month_table("demo-constabulary", "2019-03", 200, 5, force_columns=True, area="kent").equals(
        month_table("kent", "2019-03", 200, 5, force_columns=True)
    )
    (path,) = write_force(tmp_path, "demo-constabulary", "2019-03", 1, 10, 5, area="kent")
    assert path.name == "2019-03-demo-constabulary-stop-and-search.csv"
    rows = population_rows("demo-constabulary", area="kent")
    assert {row["force"] for row in rows} == {"demo-constabulary"}
    assert [row["population"] for row in rows] == [row["population"] for row in population_rows("kent")]
