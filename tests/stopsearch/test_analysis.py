"""The report's figures against the spec's Definitions, computed independently, on both databases."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from custodes.kit.stats import rate_ratio, ratio_ci, wilson
from custodes.settings import Settings
from custodes.stopsearch import service
from custodes.stopsearch.analysis import months_between, shift_month
from custodes.stopsearch.models import PopulationFigure
from custodes.stopsearch.schemas import GROUPS, ReportRequest
from tests.stopsearch.rows import LABELS, search, write

ACTOR = "system:test"
POPULATION = {"White": 1_500_000, "Black": 30_000, "Asian": 60_000, "Mixed": 25_000, "Other": 8_000}


def _population(db: Session, tmp_path: Path, force: str = "kent") -> None:
    path = tmp_path / "population.csv"
    lines = ["force,census,group,population"] + [f"{force},census2011,{g},{n}" for g, n in POPULATION.items()]
    path.write_text("\n".join(lines) + "\n")
    service.import_population(db, [path], actor=ACTOR)


@given(st.integers(0, 500), st.integers(1, 500))
def test_wilson_interval_holds_the_proportion(events: int, extra: int) -> None:
    trials = events + extra - 1 if events + extra > 1 else 1
    events = min(events, trials)
    low, high = wilson(events, trials) or (math.nan, math.nan)
    assert 0 <= low <= events / trials <= high <= 1


def test_wilson_matches_the_inspectorate_sample() -> None:
    low, high = wilson(0.8 * 103, 103) or (0, 0)  # type: ignore[arg-type]
    assert (round(low * 100), round(high * 100)) == (71, 87), "80% of 103 is 71% to 87%"
    assert wilson(0, 0) is None


@given(st.integers(1, 10_000), st.integers(1, 10_000), st.integers(1, 10**7), st.integers(1, 10**7))
def test_ratio_interval_holds_the_ratio(a: int, b: int, pop_a: int, pop_b: int) -> None:
    ratio = rate_ratio(a, pop_a, b, pop_b)
    low, high = ratio_ci(a, pop_a, b, pop_b) or (math.nan, math.nan)
    assert ratio is not None and low <= ratio <= high
    assert math.isclose(math.log(high) - math.log(ratio), 1.96 * math.sqrt(1 / a + 1 / b), rel_tol=1e-9)


def test_month_arithmetic() -> None:
    assert months_between("2018-11", "2019-02") == ["2018-11", "2018-12", "2019-01", "2019-02"]
    assert shift_month("2019-01", -11) == "2018-02"
    assert shift_month("2018-12", 1) == "2019-01"


_ROW = st.fixed_dictionaries(
    {
        "group": st.sampled_from(sorted(LABELS)),
        "officer": st.sampled_from(["White", "Black", "Asian", "Mixed", "Other", ""]),
        "kind": st.sampled_from(["Person search", "Person and Vehicle search", "Vehicle search"]),
        "outcome": st.sampled_from(["Arrest", "Suspect arrested", "Community resolution", ""]),
        "linked": st.sampled_from(["True", "False", ""]),
        "obj": st.sampled_from(["Controlled drugs", "Offensive weapons", "Stolen goods", ""]),
        "month": st.sampled_from(["2019-04", "2019-05"]),
    }
)


@hypothesis_settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(_ROW, min_size=1, max_size=40), officer=st.booleans())
def test_report_counts_match_the_definitions(
    db: Session, settings: Settings, tmp_path: Path, rows: list[dict[str, str]], officer: bool
) -> None:
    if not service.populations(db, "kent", "census2011"):
        _population(db, tmp_path)
    by_month: dict[str, list[dict[str, str]]] = {"2019-04": [], "2019-05": []}
    for row in rows:
        by_month[row["month"]].append(
            search(
                row["month"],
                row["group"],
                kind=row["kind"],
                outcome=row["outcome"],
                linked=row["linked"],
                obj=row["obj"],
                officer=row["officer"],
            )
        )
    paths = [write(tmp_path / "h", month, "kent", items) for month, items in by_month.items() if items]
    service.import_stop_searches(db, settings, paths, actor=ACTOR)
    first = min(row["month"] for row in rows)
    report = service.report(
        db, settings, ReportRequest("kent", first, "2019-05", "officer" if officer else "self", "census2011")
    )

    # The Definitions, literally, on the rows as written.
    def group(row: dict[str, str]) -> str:
        if officer:
            return row["officer"] or "Not stated"
        return "Not stated" if row["group"] == "blank" else row["group"]

    persons = [r for r in rows if r["kind"] != "Vehicle search"]
    assert report["records"] == len(rows)
    assert report["person_searches"] == len(persons)
    assert report["vehicle_only"] == len(rows) - len(persons)
    searches = Counter(group(r) for r in persons)
    arrests = Counter(group(r) for r in persons if r["outcome"] in ("Arrest", "Suspect arrested"))
    known = Counter(group(r) for r in persons if r["linked"] in ("True", "False"))
    finds = Counter(group(r) for r in persons if r["linked"] == "True")
    for name in GROUPS:
        figures = report["groups"][name]
        assert (figures["searches"], figures["arrests"], figures["find_known"], figures["finds"]) == (
            searches[name], arrests[name], known[name], finds[name],
        ), name  # fmt: skip
        if officer and name == "Mixed" and not any(r["officer"] == "Mixed" for r in persons):
            # no officer-defined Mixed at all: no rate (null), not a rate of 0
            assert figures["population"] == POPULATION[name]
            assert figures["rate_per_1000"] is None and figures["ratio_to_white"] is None
        elif name != "Not stated":
            assert figures["population"] == POPULATION[name]
            assert math.isclose(figures["rate_per_1000"], searches[name] / POPULATION[name] * 1000)
            if searches["White"] and name != "White":
                expected = (searches[name] / POPULATION[name]) / (searches["White"] / POPULATION["White"])
                assert math.isclose(figures["ratio_to_white"], expected)
    objects = Counter((r["obj"] or "Not recorded") for r in persons)
    assert {name: value["searches"] for name, value in report["by_object"].items()} == dict(objects)
    db.rollback()


def test_drugs_possession_and_supply_and_unknown_bounds(
    db: Session, settings: Settings, tmp_path: Path
) -> None:
    _population(db, tmp_path)
    rows = (
        [search(drug_search_type="possession", linked="True")] * 3
        + [search(group="Black", drug_search_type="possession", linked="False")] * 2
        + [search(group="Black", drug_search_type="supply", linked="True")]
        + [search(group="Not stated")] * 4
        + [search(group="Black")] * 2
    )
    service.import_stop_searches(db, settings, [write(tmp_path, "2019-05", "kent", rows)], actor=ACTOR)
    report = service.report(db, settings, ReportRequest("kent", "2019-05", "2019-05"))
    possession, supply = report["drugs"]["possession"], report["drugs"]["supply"]
    assert (possession["searches"], possession["finds"], possession["find_known"]) == (5, 3, 5)
    assert possession["by_group"]["Black"]["finds"] == 0
    assert (supply["searches"], supply["finds"]) == (1, 1)
    black = report["groups"]["Black"]
    low, high = black["ratio_bounds_unknown"]
    assert math.isclose(low, (5 / 30_000) / ((3 + 4) / 1_500_000)), "every unknown search White"
    assert math.isclose(high, ((5 + 4) / 30_000) / (3 / 1_500_000)), "every unknown search Black"
    assert low < black["ratio_to_white"] < high
    assert report["data_quality"]["not_stated_share"] == pytest.approx(4 / 12)
    assert report["groups"]["White"]["ratio_ci95"] == [1.0, 1.0]


def test_officer_defined_data_without_mixed_gives_mixed_no_rate(
    db: Session, settings: Settings, tmp_path: Path
) -> None:
    """data.police.uk's officer-defined ethnicity has no Mixed category: Mixed's rate and ratio are null,
    not 0 (which read as "never searched"); self-defined, and officer data that has Mixed, are unchanged."""
    _population(db, tmp_path)
    rows = [search(officer="White")] * 3 + [search(group="Mixed", officer="Asian")] * 2
    service.import_stop_searches(db, settings, [write(tmp_path, "2019-05", "kent", rows)], actor=ACTOR)
    officer = service.report(db, settings, ReportRequest("kent", "2019-05", "2019-05", "officer"))
    mixed = officer["groups"]["Mixed"]
    assert mixed["searches"] == 0 and mixed["population"] == POPULATION["Mixed"]
    assert mixed["rate_per_1000"] is None and mixed["ratio_to_white"] is None
    assert mixed["ratio_ci95"] is None and mixed["ratio_bounds_unknown"] is None
    assert all(point["ratio_to_white"]["Mixed"] is None for point in officer["rolling_12_months"])
    assert officer["groups"]["Asian"]["rate_per_1000"] == pytest.approx(2 / 60_000 * 1000)
    own = service.report(db, settings, ReportRequest("kent", "2019-05", "2019-05", "self"))
    assert own["groups"]["Mixed"]["rate_per_1000"] == pytest.approx(2 / 25_000 * 1000)
    rows.append(search(group="Mixed", officer="Mixed", day=4))
    service.import_stop_searches(db, settings, [write(tmp_path, "2019-05", "kent", rows)], actor=ACTOR)
    officer = service.report(db, settings, ReportRequest("kent", "2019-05", "2019-05", "officer"))
    assert officer["groups"]["Mixed"]["rate_per_1000"] == pytest.approx(1 / 25_000 * 1000)


def test_months_missing_and_rolling_twelve_months(db: Session, settings: Settings, tmp_path: Path) -> None:
    _population(db, tmp_path)
    paths = [
        write(tmp_path, month, "kent", [search(month)] * 2) for month in months_between("2018-05", "2019-04")
    ]
    paths.remove(tmp_path / "2018-09-kent-stop-and-search.csv")
    service.import_stop_searches(db, settings, paths, actor=ACTOR)
    report = service.report(db, settings, ReportRequest("kent", "2019-01", "2019-06"))
    assert report["data_quality"]["months_missing"] == ["2019-05", "2019-06"]
    rolling = {point["month"]: point for point in report["rolling_12_months"]}
    assert rolling["2019-04"]["complete"] is False, "2018-09 is missing from its window"
    assert rolling["2019-04"]["rate_per_1000"]["White"] == pytest.approx(22 / 1_500_000 * 1000)
    assert [m["searches"] for m in report["monthly"]] == [2, 2, 2, 2, 0, 0]
    by_month = report["data_quality"]["by_month"]
    assert [(m["month"], m["records"], m["outcome_vocabulary"]) for m in by_month] == [
        (month, 2, "new") for month in ("2019-01", "2019-02", "2019-03", "2019-04")
    ]
    blanks = by_month[0]["blank_share"]
    assert (blanks["Outcome"], blanks["Policing operation"]) == (0.0, 1.0)


def test_bad_requests_say_why(db: Session, settings: Settings) -> None:
    cases = [
        (ReportRequest("kent", "2019-13", "2019-12"), "From: give a month such as 20"),
        (ReportRequest("kent", "2019-05", "2019-01"), "From: the first month (2019-05) must not be after"),
        (ReportRequest("kent", "2019-01", "2019-05", "both"), "Ethnic group from: choose self-defined or"),
        (ReportRequest("kent", "2019-01", "2019-05", "self", "census1901"), "Population: choose Census 2011"),
        (
            ReportRequest("kent", "2019-01", "2019-05"),
            "Force: no stop and search records have been imported for 'kent'",
        ),
    ]
    for request, message in cases:
        with pytest.raises(service.ReportError, match=message.replace("(", r"\(").replace(")", r"\)")):
            service.report(db, settings, request)


def test_a_month_never_imported_is_missing_though_the_next_month_spills_into_it(
    db: Session, settings: Settings, tmp_path: Path
) -> None:
    """data.police.uk dates are UTC: a summer month's file starts with searches dated the evening before
    the 1st. Those do not make a month never imported present."""
    _population(db, tmp_path)
    rows = {
        month: [search(month)] * 2 for month in months_between("2018-06", "2019-05") if month != "2018-09"
    }
    rows["2018-10"] = [{**search("2018-10"), "Date": "2018-09-30T23:40:00+00:00"}, search("2018-10")]
    paths = [write(tmp_path, month, "kent", items) for month, items in rows.items()]
    service.import_stop_searches(db, settings, paths, actor=ACTOR)
    report = service.report(db, settings, ReportRequest("kent", "2018-08", "2018-10"))
    quality = report["data_quality"]
    assert quality["months_present"] == ["2018-08", "2018-10"]
    assert quality["months_missing"] == ["2018-09"]
    assert [m["searches"] for m in report["monthly"]] == [2, 1, 1], "the period is still by the month in Date"
    rolling = {point["month"]: point for point in service.report(
        db, settings, ReportRequest("kent", "2019-05", "2019-05"))["rolling_12_months"]}  # fmt: skip
    assert rolling["2019-05"]["complete"] is False, "2018-09 was never imported"


def test_no_rates_or_ratios_for_a_force_with_no_resident_population(
    db: Session, settings: Settings, tmp_path: Path
) -> None:
    """stopsearch.md: the City of London's population, rates and ratios are null (about 7,400 residents,
    hundreds of thousands of workers and visitors a day); so are British Transport Police's."""
    rows = [search("2019-05")] * 30 + [search("2019-05", "Black")] * 20
    paths = [write(tmp_path, "2019-05", force, rows) for force in ("city-of-london", "btp")]
    service.import_stop_searches(db, settings, paths, actor=ACTOR)
    for force in ("city-of-london", "btp"):  # figures stored before the import refused them
        for group, population in {"White": 5_799, "Black": 193}.items():
            db.add(PopulationFigure(key=f"{force}/census2011/{group}", force=force, census="census2011",
                                    group=group, population=population))  # fmt: skip
    db.flush()
    for force, reason in (("city-of-london", "the City of London has a few thousand residents"),
                          ("btp", "British Transport Police polices the railways")):  # fmt: skip
        report = service.report(db, settings, ReportRequest(force, "2019-05", "2019-05"))
        assert report["no_resident_population"].startswith(reason)
        for group in ("White", "Black"):
            figures = report["groups"][group]
            assert figures["searches"] == (30 if group == "White" else 20)
            assert (figures["population"], figures["rate_per_1000"], figures["ratio_to_white"]) == (None,) * 3
            assert figures["ratio_ci95"] is None
        assert all(
            rate is None for point in report["rolling_12_months"] for rate in point["rate_per_1000"].values()
        )
        assert report["data_quality"]["warnings"] == []


def test_a_rate_above_1000_per_1000_is_a_data_quality_warning(
    db: Session, settings: Settings, tmp_path: Path
) -> None:
    _population(db, tmp_path)
    path = tmp_path / "population-wrong.csv"
    path.write_text("force,census,group,population\nkent,census2011,Mixed,12\n")
    service.import_population(db, [path], actor=ACTOR)
    rows = [search("2019-05", "Mixed")] * 15 + [search("2019-05")] * 3
    service.import_stop_searches(db, settings, [write(tmp_path, "2019-05", "kent", rows)], actor=ACTOR)
    report = service.report(db, settings, ReportRequest("kent", "2019-05", "2019-05"))
    assert report["no_resident_population"] is None
    assert report["groups"]["Mixed"]["rate_per_1000"] == pytest.approx(1250.0)
    assert report["data_quality"]["warnings"] == [
        "Mixed: 1,250 searches per 1,000 residents is more searches than residents (15 searches, Census 2011 "
        "population 12): the population figure is unlikely to be the right denominator for these searches"
    ]
