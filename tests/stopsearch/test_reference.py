"""Reference checks against real, published figures (tests/data/stop-search.tar.xz, see its README).

(a) GOV.UK Ethnicity Facts and Figures (EFF), 2019/20: the published Black-to-White ratio for England and
    Wales (8.89) and for Kent and the Metropolitan Police, from EFF's search counts and the Census 2011
    populations, through our own statistics (kit.stats) and through `import population` + the report.
(b) The real data.police.uk files of the Metropolitan Police (2018) and the City of London (Dec 2017 - Nov
    2020, both outcome vocabularies) imported and reported, against an independent count made here with the
    csv module that applies stopsearch.md's Definitions literally.
"""

from __future__ import annotations

import csv
import functools
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from custodes.kit.stats import rate_ratio, ratio_ci, wilson
from custodes.settings import Settings
from custodes.stopsearch import service
from custodes.stopsearch.analysis import NOT_RECORDED
from custodes.stopsearch.schemas import GROUPS, POPULATION_GROUPS, ReportRequest
from tests.stopsearch.conftest import reference_folder

DATA = reference_folder()  # tests/data/stop-search.tar.xz
EFF = DATA / "ethnicity-facts-figures_stop-search_by-ethnicity_PFA_2006-07_to_2019-20.csv"
CENSUS = DATA / "population" / "census2011_police-categories_by_PFA.csv"
MET = DATA / "met-2018"
CITY = DATA / "city-of-london-2017-12_2020-11"
ACTOR = "system:test"


# --------------------------------------------------------------------------- (a) Ethnicity Facts and Figures


def number(text: str) -> int | None:
    """EFF counts: '1,037,735' before 2018/19, '557085' after, 'N/A' when there is none."""
    cleaned = text.strip().replace(",", "")
    return int(cleaned) if cleaned.isdigit() else None


@functools.cache
def eff_rows() -> tuple[dict[str, str], ...]:
    with EFF.open(newline="", encoding="utf-8-sig") as handle:
        return tuple(csv.DictReader(handle))


def eff(geography: str, year: str = "2019/20") -> dict[str, dict[str, Any]]:
    """The 5+1 figures of one EFF geography and year: searches, population and published rate by group."""
    found = {}
    for row in eff_rows():
        if (row["Geography"], row["Time"], row["Legislation_type"]) != (geography, year, "All"):
            continue
        if row["Ethnicity_type"] not in ("ONS 2011 5+1", "ONS 2001 5+1"):  # the 2001 names before 2018/19
            continue
        assert row["Ethnicity"] not in found, row
        rate = row["Rate per 1,000 population by ethnicity"]
        found[row["Ethnicity"]] = {
            "searches": number(row["Number of stop and searches"]),
            "population": number(row["Population by ethnicity"]),
            "rate": None if rate == "N/A" else float(rate),
        }
    assert found, (geography, year)
    return found


def census_2011() -> dict[str, dict[str, int]]:
    """Census 2011 by force area in the 5 groups (the file's Asian excludes Chinese; the 5+1 Asian includes
    it)."""
    with CENSUS.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        assert header == [
            "Police force",
            "White",
            "Black (or Black British)",
            "Asian (or Asian British)",
            "Chinese",
            "Mixed",
            "Other",
        ]
        areas = {}
        for force, white, black, asian, chinese, mixed, other in reader:
            areas[force] = {
                "White": int(white),
                "Black": int(black),
                "Asian": int(asian) + int(chinese),
                "Mixed": int(mixed),
                "Other": int(other),
            }
    return areas


def black_to_white(figures: Mapping[str, Mapping[str, Any]]) -> float | None:
    black, white = figures["Black"], figures["White"]
    return rate_ratio(black["searches"], black["population"], white["searches"], white["population"])


def test_the_published_england_and_wales_ratio_is_8_89_for_forces_excluding_btp() -> None:
    totals = [
        "All - excluding BTP",
        "All - including BTP",
        "All - excluding BTP and Greater Manchester",
        "All - including BTP and excluding Greater Manchester",
    ]
    ratios = {geography: black_to_white(eff(geography)) for geography in totals}
    assert [g for g, ratio in ratios.items() if ratio is not None and round(ratio, 2) == 8.89] == [
        "All - excluding BTP"
    ], ratios
    figures = eff("All - excluding BTP")
    assert (figures["Black"]["searches"], figures["White"]["searches"]) == (95_643, 278_179)
    ratio = black_to_white(figures)
    assert ratio is not None and round(ratio, 2) == 8.89
    # The published rates per 1,000 give the same ratio: 51.29 / 5.77.
    assert round(figures["Black"]["rate"] / figures["White"]["rate"], 2) == 8.89
    low, high = ratio_ci(95_643, 1_864_890, 278_179, 48_209_395) or (math.nan, math.nan)
    assert 8.80 < low < ratio < high < 9.0
    # EFF's denominators are Census 2011 summed over the 43 force areas, with Chinese counted as Asian.
    areas = census_2011()
    assert len(areas) == 43
    for group in POPULATION_GROUPS:
        assert sum(area[group] for area in areas.values()) == figures[group]["population"], group


def test_the_counts_before_2018_19_carry_thousands_separators() -> None:
    earlier = eff("All - excluding BTP", "2017/18")
    assert all(isinstance(figures["searches"], int) for figures in earlier.values())
    assert (earlier["Black"]["searches"], earlier["White"]["searches"]) == (53_991, 146_001)  # "53,991"
    assert earlier["White"]["population"] == 48_209_395


def test_wilson_80_percent_of_103_is_71_to_87_percent() -> None:
    # The inspectorate's sample: reasonable grounds recorded in 80% of 103 records.
    low, high = wilson(82.4, 103) or (math.nan, math.nan)  # type: ignore[arg-type]  # p = 0.80 exactly
    assert (round(low, 2), round(high, 2)) == (0.71, 0.87)
    # With whole records, 82 of 103 (79.6%, "80%") and 83 (80.6%) bracket it.
    low82, high82 = wilson(82, 103) or (math.nan, math.nan)
    low83, high83 = wilson(83, 103) or (math.nan, math.nan)
    assert low82 < low < low83 and high82 < high < high83
    assert (round(low82, 3), round(high82, 3)) == (0.708, 0.863)
    assert wilson(0, 0) is None


# The EFF 5+1 groups as self-defined labels (one label per group is enough: the report maps by prefix).
EFF_LABELS = {
    "White": "White - English/Welsh/Scottish/Northern Irish/British",
    "Black": "Black/African/Caribbean/Black British - Caribbean",
    "Asian": "Asian/Asian British - Chinese",
    "Mixed": "Mixed/Multiple ethnic groups - White and Asian",
    "Other": "Other ethnic group - Any other ethnic group",
    "Unreported": "Other ethnic group - Not stated",
}
FINANCIAL_YEAR_2019_20 = [f"2019-{m:02d}" for m in range(4, 13)] + [f"2020-{m:02d}" for m in range(1, 4)]


def eff_as_records(folder: Path, force: str, figures: Mapping[str, Mapping[str, Any]]) -> list[Path]:
    """A year of person searches with EFF's counts by group, as data.police.uk files (spread over months)."""
    header = "Type,Date,Part of a policing operation,Policing operation,Latitude,Longitude,Gender,Age range,"
    header += "Self-defined ethnicity,Officer-defined ethnicity,Legislation,Object of search,Outcome,"
    header += "Outcome linked to object of search,Removal of more than just outer clothing\n"
    paths = []
    for index, month in enumerate(FINANCIAL_YEAR_2019_20):
        lines = [header]
        for group, label in EFF_LABELS.items():
            total = figures[group]["searches"]
            count = total // 12 + (1 if index < total % 12 else 0)
            lines.append(f"Person search,{month}-15T12:00:00+00:00,,,,,Male,18-24,{label},,,,,,\n" * count)
        path = folder / f"{month}-{force}-stop-and-search.csv"
        path.write_text("".join(lines), encoding="utf-8")
        paths.append(path)
    return paths


@pytest.mark.parametrize(
    ("geography", "force", "area", "expected"),
    [("Kent", "kent", "Kent", 8.12), ("Metropolitan Police", "metropolitan", "Metropolitan", 4.04)],
)
def test_force_ratios_reproduce_the_published_figures(
    db: Session, settings: Settings, tmp_path: Path, geography: str, force: str, area: str, expected: float
) -> None:
    figures = eff(geography)
    ratio = black_to_white(figures)
    assert ratio is not None and round(ratio, 2) == expected
    # The Census table imported as it is (wide, Chinese folded into Asian) gives EFF's denominators.
    service.import_population(db, [CENSUS], actor=ACTOR, census="census2011")
    stored = service.populations(db, force, "census2011")
    assert stored == {group: figures[group]["population"] for group in POPULATION_GROUPS}
    assert census_2011()[area] == stored
    # EFF's counts as records, through the import and the report.
    service.import_stop_searches(db, settings, eff_as_records(tmp_path, force, figures), actor=ACTOR)
    report = service.report(db, settings, ReportRequest(force, "2019-04", "2020-03"))
    assert report["person_searches"] == sum(f["searches"] for f in figures.values())
    assert report["groups"]["Not stated"]["searches"] == figures["Unreported"]["searches"]
    for group in POPULATION_GROUPS:
        ours = report["groups"][group]
        assert ours["searches"] == figures[group]["searches"]
        assert ours["population"] == figures[group]["population"]
        assert round(ours["rate_per_1000"], 2) == figures[group]["rate"], group  # as published
    black = report["groups"]["Black"]
    assert round(black["ratio_to_white"], 2) == expected
    assert black["ratio_ci95"] == pytest.approx(
        list(ratio_ci(figures["Black"]["searches"], figures["Black"]["population"],
                      figures["White"]["searches"], figures["White"]["population"]) or ())
    )  # fmt: skip
    assert report["groups"]["White"]["ratio_to_white"] == pytest.approx(1.0)


# --------------------------------------------------------------------------- (b) data.police.uk files


def self_group(label: str) -> str:
    """stopsearch.md: self-defined labels map by their prefix; 'Not stated' and blank are Not stated."""
    if label == "" or label == "Other ethnic group - Not stated":
        return "Not stated"
    for prefix, group in (
        ("White - ", "White"),
        ("Black/African/Caribbean/Black British - ", "Black"),
        ("Asian/Asian British - ", "Asian"),
        ("Mixed/Multiple ethnic groups - ", "Mixed"),
        ("Other ethnic group - ", "Other"),
    ):
        if label.startswith(prefix):
            return group
    raise AssertionError(f"unexpected self-defined label {label!r}")


def officer_group(label: str) -> str:
    """Officer-defined labels map directly; blank is Not stated."""
    if label == "":
        return "Not stated"
    assert label in GROUPS, label
    return label


def read_rows(folder: Path) -> list[dict[str, str]]:
    rows = []
    for path in sorted(folder.glob("*.csv")):
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows.extend(csv.DictReader(handle))
    return rows


def independent_count(
    rows: Iterable[dict[str, str]], first: str, last: str, ethnicity: str
) -> dict[str, Any]:
    """The Definitions, literally: month = Date[:7]; person = Type is not 'Vehicle search'; arrest = Outcome
    'Arrest' or 'Suspect arrested'; find known = linked column True or False; find = True."""
    chosen = [row for row in rows if first <= row["Date"][:7] <= last]
    people = [row for row in chosen if row["Type"] != "Vehicle search"]
    group_of = self_group if ethnicity == "self" else officer_group
    groups: dict[str, Counter[str]] = {group: Counter() for group in GROUPS}
    objects: dict[str, Counter[str]] = {}
    for row in people:
        linked = row["Outcome linked to object of search"]
        tally = Counter(
            searches=1,
            arrests=row["Outcome"] in ("Arrest", "Suspect arrested"),
            find_known=linked in ("True", "False"),
            finds=linked == "True",
        )
        groups[group_of(row[f"{'Self' if ethnicity == 'self' else 'Officer'}-defined ethnicity"])].update(
            tally
        )
        objects.setdefault(row["Object of search"] or NOT_RECORDED, Counter()).update(tally)
    return {
        "records": len(chosen),
        "person_searches": len(people),
        "vehicle_only": len(chosen) - len(people),
        "groups": groups,
        "by_object": objects,
        "months": sorted({row["Date"][:7] for row in chosen}),
    }


def assert_report_matches(report: Mapping[str, Any], expected: Mapping[str, Any]) -> None:
    for key in ("records", "person_searches", "vehicle_only"):
        assert report[key] == expected[key], key
    for group in GROUPS:
        ours, theirs = report["groups"][group], expected["groups"][group]
        for key in ("searches", "arrests", "find_known", "finds"):
            assert ours[key] == theirs[key], (group, key)
        if theirs["searches"]:
            assert ours["arrest_rate"] == pytest.approx(theirs["arrests"] / theirs["searches"])
            assert ours["arrest_rate_ci95"] == pytest.approx(
                list(wilson(theirs["arrests"], theirs["searches"]) or ())
            )
        if theirs["find_known"]:
            assert ours["find_rate"] == pytest.approx(theirs["finds"] / theirs["find_known"])
        else:
            assert ours["find_rate"] is None  # blank linked column is never read as False
    searched = {name: tally for name, tally in expected["by_object"].items() if tally["searches"]}
    assert {name: figures["searches"] for name, figures in report["by_object"].items()} == {
        name: tally["searches"] for name, tally in searched.items()
    }
    assert {name: figures["finds"] for name, figures in report["by_object"].items()} == {
        name: tally["finds"] for name, tally in searched.items()
    }
    assert report["data_quality"]["months_present"] == expected["months"]


@pytest.fixture(scope="module")
def met_rows() -> list[dict[str, str]]:
    return read_rows(MET)


@pytest.fixture(scope="module")
def city_rows() -> list[dict[str, str]]:
    return read_rows(CITY)


def test_metropolitan_2018_matches_an_independent_count(
    db: Session, settings: Settings, met_rows: list[dict[str, str]]
) -> None:
    summary = service.import_stop_searches(db, settings, sorted(MET.glob("*.csv")), actor=ACTOR)
    assert summary.records == len(met_rows) == 149_284
    assert len(summary.months) == 12
    for ethnicity in ("self", "officer"):
        report = service.report(db, settings, ReportRequest("metropolitan", "2018-01", "2018-12", ethnicity))
        expected = independent_count(met_rows, "2018-01", "2018-12", ethnicity)
        assert_report_matches(report, expected)
        assert report["ethnicity"] == ethnicity
    # Every Met 2018 row leaves the linked column blank: no find rate, and no find read as False.
    report = service.report(db, settings, ReportRequest("metropolitan", "2018-01", "2018-12"))
    assert all(report["groups"][group]["find_known"] == 0 for group in GROUPS)
    assert report["groups"]["Black"]["arrests"] > 0
    # A month is the month in Date, not the file's: April 2018 gains rows from the May file (dated
    # 2018-04-30T23:xx UTC) and loses the April file's rows dated 31 March.
    april = service.report(db, settings, ReportRequest("metropolitan", "2018-04", "2018-04"))
    in_april_file = sum(1 for row in met_rows if row["Date"][:7] == "2018-04")
    assert april["records"] == in_april_file
    assert_report_matches(april, independent_count(met_rows, "2018-04", "2018-04", "self"))
    # No population imported: rates and ratios are null, counts are not.
    assert report["groups"]["White"]["population"] is None
    assert report["groups"]["Black"]["rate_per_1000"] is None
    assert report["groups"]["Black"]["ratio_to_white"] is None


def test_metropolitan_2018_rates_with_census_2011_populations(
    db: Session, settings: Settings, met_rows: list[dict[str, str]]
) -> None:
    service.import_stop_searches(db, settings, sorted(MET.glob("*.csv")), actor=ACTOR)
    service.import_population(db, [CENSUS], actor=ACTOR, census="census2011")
    report = service.report(db, settings, ReportRequest("metropolitan", "2018-01", "2018-12"))
    expected = independent_count(met_rows, "2018-01", "2018-12", "self")
    population = census_2011()["Metropolitan"]
    for group in POPULATION_GROUPS:
        searches = expected["groups"][group]["searches"]
        ours = report["groups"][group]
        assert ours["rate_per_1000"] == pytest.approx(searches / population[group] * 1000)
        assert ours["ratio_to_white"] == pytest.approx(
            rate_ratio(
                searches, population[group], expected["groups"]["White"]["searches"], population["White"]
            )
        )
    assert 3 < report["groups"]["Black"]["ratio_to_white"] < 6


def test_city_of_london_across_both_outcome_vocabularies(
    db: Session, settings: Settings, city_rows: list[dict[str, str]]
) -> None:
    summary = service.import_stop_searches(db, settings, sorted(CITY.glob("*.csv")), actor=ACTOR)
    assert summary.records == len(city_rows) == 6_855
    assert len(summary.months) == 36
    for ethnicity in ("self", "officer"):
        report = service.report(
            db, settings, ReportRequest("city-of-london", "2017-12", "2020-11", ethnicity)
        )
        assert_report_matches(report, independent_count(city_rows, "2017-12", "2020-11", ethnicity))
    report = service.report(db, settings, ReportRequest("city-of-london", "2017-12", "2020-11"))
    # Arrests under both vocabularies: "Suspect arrested" before April 2018, "Arrest" after.
    old = independent_count(city_rows, "2017-12", "2018-03", "self")
    assert sum(g["arrests"] for g in old["groups"].values()) > 0
    assert not any(row["Outcome"] == "Arrest" for row in city_rows if row["Date"][:7] < "2018-04")
    old_report = service.report(db, settings, ReportRequest("city-of-london", "2017-12", "2018-03"))
    assert_report_matches(old_report, old)
    # The linked column is filled here: find rates exist and blanks are excluded, not read as False.
    assert report["groups"]["White"]["find_known"] > 0
    blank = sum(
        1
        for row in city_rows
        if row["Type"] != "Vehicle search" and not row["Outcome linked to object of search"]
    )
    assert sum(g["find_known"] for g in report["groups"].values()) == report["person_searches"] - blank
    # No population figure for the City: population, rates and ratios are null.
    for group in POPULATION_GROUPS:
        figures = report["groups"][group]
        assert figures["population"] is None
        assert figures["rate_per_1000"] is None
        assert figures["ratio_to_white"] is None
        assert figures["ratio_ci95"] is None
    assert report["data_quality"]["months_missing"] == []
