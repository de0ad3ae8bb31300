"""The stop-search report: one DuckDB pass over a force's Parquet files, then the Definitions in Python.

The pass groups the records by month, ethnic group, object of search and drug search type (a few thousand
rows at most); every figure of the report is a sum over that small table, so the definitions read as
arithmetic, not SQL. A second pass counts blanks for the data-quality section.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from custodes.kit.stats import rate_ratio, ratio_ci, wilson
from custodes.stopsearch.forces import NO_RESIDENT_POPULATION
from custodes.stopsearch.schemas import (
    DRUG_SEARCH_TYPES,
    GROUPS,
    NEW_OUTCOMES,
    OLD_OUTCOMES,
    PUBLISHED_COLUMNS,
    REFERENCE_GROUP,
    STORED_NAMES,
    Report,
    ReportRequest,
)

NOT_RECORDED = "Not recorded"
# A rate above this (searches per 1,000 residents) means more searches than residents: the denominator is
# almost certainly not the population the searches were drawn from.
IMPLAUSIBLE_RATE_PER_1000 = 1000.0


@dataclass(frozen=True, slots=True)
class Cell:
    """Counts of one (month, group, object, drug search type) combination."""

    month: str
    group: str
    object: str
    drug_type: str | None
    records: int
    searches: int  # person searches
    arrests: int
    find_known: int
    finds: int


@dataclass(frozen=True, slots=True)
class Review:
    month: str
    group: str
    team: str | None
    recorded: bool
    strong: bool | None


def months_between(first: str, last: str) -> list[str]:
    year, month = int(first[:4]), int(first[5:7])
    months = []
    while f"{year:04d}-{month:02d}" <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def shift_month(month: str, by: int) -> str:
    index = int(month[:4]) * 12 + int(month[5:7]) - 1 + by
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _quoted(values: Iterable[str]) -> str:
    return ", ".join("'" + value.replace("'", "''") + "'" for value in values)


def count_cells(con: duckdb.DuckDBPyConnection, first: str, last: str, ethnicity: str) -> list[Cell]:
    group = "self_group" if ethnicity == "self" else "officer_group"
    rows = con.execute(
        f"""
        SELECT month, {group}, coalesce(object, '{NOT_RECORDED}'), drug_search_type,
            count(*), count(*) FILTER (WHERE person), count(*) FILTER (WHERE person AND arrest),
            count(*) FILTER (WHERE person AND outcome_linked IS NOT NULL),
            count(*) FILTER (WHERE person AND outcome_linked)
        FROM records WHERE month BETWEEN ? AND ? GROUP BY ALL
        """,
        [first, last],
    ).fetchall()
    return [Cell(*row) for row in rows]


def _event_rates(searches: int, arrests: int, find_known: int, finds: int) -> dict[str, Any]:
    return {
        "searches": searches,
        "arrests": arrests,
        "arrest_rate": arrests / searches if searches else None,
        "arrest_rate_ci95": _pair(wilson(arrests, searches)),
        "find_known": find_known,
        "finds": finds,
        "find_rate": finds / find_known if find_known else None,
        "find_rate_ci95": _pair(wilson(finds, find_known)),
    }


def _pair(interval: tuple[float, float] | None) -> list[float] | None:
    return list(interval) if interval else None


@dataclass(slots=True)
class _Tally:
    searches: int = 0
    arrests: int = 0
    find_known: int = 0
    finds: int = 0

    def add(self, cell: Cell) -> None:
        self.searches += cell.searches
        self.arrests += cell.arrests
        self.find_known += cell.find_known
        self.finds += cell.finds

    def rates(self) -> dict[str, Any]:
        return _event_rates(self.searches, self.arrests, self.find_known, self.finds)


def _tallies(cells: Iterable[Cell], key: Any) -> dict[Any, _Tally]:
    tallies: dict[Any, _Tally] = defaultdict(_Tally)
    for cell in cells:
        tallies[key(cell)].add(cell)
    return tallies


def group_figures(cells: Sequence[Cell], populations: Mapping[str, int]) -> dict[str, dict[str, Any]]:
    by_group = _tallies(cells, lambda cell: cell.group)
    white = by_group[REFERENCE_GROUP].searches
    white_population = populations.get(REFERENCE_GROUP)
    unknown = by_group["Not stated"].searches
    figures = {}
    for group in GROUPS:
        tally = by_group[group]
        population = populations.get(group) if group != "Not stated" else None
        figures[group] = {
            "searches": tally.searches,
            "population": population,
            "rate_per_1000": tally.searches / population * 1000 if population else None,
            **_ratios(tally.searches, population, white, white_population, unknown, group),
            **{key: value for key, value in tally.rates().items() if key != "searches"},
        }
    return figures


def _ratios(
    searches: int, population: int | None, white: int, white_population: int | None, unknown: int, group: str
) -> dict[str, Any]:
    """Ratio to White, its interval, and its bounds were every unknown-ethnicity search White / this group."""
    if not population or not white_population:
        return {"ratio_to_white": None, "ratio_ci95": None, "ratio_bounds_unknown": None}
    ratio = rate_ratio(searches, population, white, white_population)
    bounds = None
    if white:
        low = rate_ratio(searches, population, white + unknown, white_population)
        high = rate_ratio(searches + unknown, population, white, white_population)
        bounds = [low, high] if low is not None and high is not None else None
    if group == REFERENCE_GROUP:  # one by definition: no interval to estimate
        return {
            "ratio_to_white": 1.0 if white else None,
            "ratio_ci95": [1.0, 1.0] if white else None,
            "ratio_bounds_unknown": None,
        }
    return {
        "ratio_to_white": ratio,
        "ratio_ci95": _pair(ratio_ci(searches, population, white, white_population)),
        "ratio_bounds_unknown": bounds,
    }


def object_figures(cells: Sequence[Cell]) -> dict[str, dict[str, Any]]:
    objects = _tallies(cells, lambda cell: cell.object)
    pairs = _tallies(cells, lambda cell: (cell.object, cell.group))
    ordered = sorted(objects, key=lambda name: (-objects[name].searches, name))
    return {
        name: {
            **objects[name].rates(),
            "by_group": {group: pairs[(name, group)].rates() for group in GROUPS if (name, group) in pairs},
        }
        for name in ordered
        if objects[name].searches
    }


def drug_figures(cells: Sequence[Cell]) -> dict[str, dict[str, Any]]:
    """Possession and supply searches, where the force's own data says which (blank otherwise)."""
    typed = [cell for cell in cells if cell.drug_type in DRUG_SEARCH_TYPES]
    if not typed:
        return {kind: {} for kind in DRUG_SEARCH_TYPES}
    kinds = _tallies(typed, lambda cell: cell.drug_type)
    pairs = _tallies(typed, lambda cell: (cell.drug_type, cell.group))
    return {
        kind: {
            **kinds[kind].rates(),
            "by_group": {group: pairs[(kind, group)].rates() for group in GROUPS if (kind, group) in pairs},
        }
        for kind in DRUG_SEARCH_TYPES
    }


def monthly_figures(cells: Sequence[Cell], months: Sequence[str]) -> list[dict[str, Any]]:
    by_month = _tallies(cells, lambda cell: cell.month)
    pairs = _tallies(cells, lambda cell: (cell.month, cell.group))
    return [
        {
            "month": month,
            "searches": by_month[month].searches,
            "by_group": {group: pairs[(month, group)].searches for group in GROUPS},
            "arrests": by_month[month].arrests,
            "find_known": by_month[month].find_known,
            "finds": by_month[month].finds,
        }
        for month in months
    ]


def rolling_figures(
    cells: Sequence[Cell], months: Sequence[str], present: set[str], populations: Mapping[str, int]
) -> list[dict[str, Any]]:
    """Searches over the 12 months ending each month, as a rate per 1,000 a year and a ratio to White."""
    pairs = _tallies(cells, lambda cell: (cell.month, cell.group))
    points = []
    for month in months:
        window = [shift_month(month, -back) for back in range(12)]
        searches = {
            group: sum(pairs[(m, group)].searches for m in window if (m, group) in pairs) for group in GROUPS
        }
        white, white_population = searches[REFERENCE_GROUP], populations.get(REFERENCE_GROUP)
        rates, ratios = {}, {}
        for group in GROUPS[:-1]:
            population = populations.get(group)
            rates[group] = searches[group] / population * 1000 if population else None
            ratios[group] = (
                rate_ratio(searches[group], population, white, white_population)
                if population and white_population
                else None
            )
        points.append(
            {
                "month": month,
                "complete": all(m in present for m in window),
                "rate_per_1000": rates,
                "ratio_to_white": ratios,
            }
        )
    return points


def _proportion(recorded: int, reviewed: int) -> dict[str, Any]:
    return {
        "reviewed": reviewed,
        "recorded": recorded,
        "proportion": recorded / reviewed if reviewed else None,
        "ci95": _pair(wilson(recorded, reviewed)),
    }


def grounds_figures(reviews: Sequence[Review]) -> dict[str, Any]:
    """Supervisory review: the share of sampled searches with reasonable (and strong) grounds recorded."""
    recorded = sum(review.recorded for review in reviews)
    strong = sum(bool(review.strong) for review in reviews)
    by_group: dict[str, list[Review]] = defaultdict(list)
    by_team: dict[str, list[Review]] = defaultdict(list)
    for review in reviews:
        by_group[review.group].append(review)
        if review.team:
            by_team[review.team].append(review)
    return {
        **_proportion(recorded, len(reviews)),
        "strong": strong,
        "strong_proportion": strong / len(reviews) if reviews else None,
        "strong_ci95": _pair(wilson(strong, len(reviews))),
        "by_group": {
            group: _proportion(sum(r.recorded for r in by_group[group]), len(by_group[group]))
            for group in GROUPS
            if group in by_group
        },
        "by_team": {
            team: _proportion(sum(r.recorded for r in items), len(items))
            for team, items in sorted(by_team.items())
        },
    }


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def data_quality(
    con: duckdb.DuckDBPyConnection, first: str, last: str, ethnicity: str, imported: Collection[str]
) -> dict[str, Any]:
    """Missing months, blank shares, the "Not stated" share, coordinates and outcome vocabulary: for the
    period and for each month in it (by the month in Date).

    A month is present when its file was imported (`imported`: the force's source months), not when some
    record is dated in it: a month never imported still holds the searches its next month's file dates the
    evening before the 1st (data.police.uk dates are UTC)."""
    group = "self_group" if ethnicity == "self" else "officer_group"
    blanks = ", ".join(f"count(*) FILTER (WHERE {STORED_NAMES[c]} IS NULL)" for c in PUBLISHED_COLUMNS)
    rows = con.execute(
        f"""SELECT month, count(*), count(*) FILTER (WHERE person),
            count(*) FILTER (WHERE person AND {group} = 'Not stated'),
            count(*) FILTER (WHERE latitude IS NULL OR longitude IS NULL),
            count(*) FILTER (WHERE person AND outcome_linked IS NULL),
            bool_or(outcome IN ({_quoted(OLD_OUTCOMES)})), bool_or(outcome IN ({_quoted(NEW_OUTCOMES)})),
            {blanks}
        FROM records WHERE month BETWEEN ? AND ? GROUP BY month ORDER BY month""",
        [first, last],
    ).fetchall()
    by_month = [_month_quality(*row) for row in rows]
    totals = [sum(row[i] or 0 for row in rows) for i in range(1, len(rows[0]))] if rows else [0] * 25
    records, persons, not_stated, no_coordinates, linked_blank, _, _, *blank_counts = totals
    return {
        "months_present": [month for month in months_between(first, last) if month in imported],
        "months_missing": [month for month in months_between(first, last) if month not in imported],
        "blank_share": {
            column: _share(count, records)
            for column, count in zip(PUBLISHED_COLUMNS, blank_counts, strict=True)
        },
        "not_stated_share": _share(not_stated, persons),
        "coordinates_missing_share": _share(no_coordinates, records),
        "outcome_linked_blank_share": _share(linked_blank, persons),
        "outcome_vocabulary": {
            "old": [entry["month"] for entry in by_month if entry["outcome_vocabulary"] in ("old", "mixed")],
            "new": [entry["month"] for entry in by_month if entry["outcome_vocabulary"] in ("new", "mixed")],
        },
        "by_month": by_month,
    }


def _month_quality(
    month: str,
    records: int,
    persons: int,
    not_stated: int,
    no_coordinates: int,
    linked_blank: int,
    old: bool,
    new: bool,
    *blank_counts: int,
) -> dict[str, Any]:
    vocabulary = {(True, True): "mixed", (True, False): "old", (False, True): "new"}.get(
        (bool(old), bool(new)), "none"
    )
    return {
        "month": month,
        "records": records,
        "person_searches": persons,
        "not_stated_share": _share(not_stated, persons),
        "coordinates_missing_share": _share(no_coordinates, records),
        "outcome_linked_blank_share": _share(linked_blank, persons),
        "outcome_vocabulary": vocabulary,
        "blank_share": {
            column: _share(count, records)
            for column, count in zip(PUBLISHED_COLUMNS, blank_counts, strict=True)
        },
    }


def analyse(
    con: duckdb.DuckDBPyConnection,
    request: ReportRequest,
    populations: Mapping[str, int],
    reviews: Sequence[Review],
    imported: Collection[str],
) -> Report:
    """The report for `request` over the view `records` (every record of the force) on `con`; `imported`
    holds the force's imported source months (which months are present, and which rolling windows whole)."""
    first, last = request.period_from, request.period_to
    no_residents = NO_RESIDENT_POPULATION.get(request.force)
    if no_residents:  # figures stored before they were refused are not used either
        populations = {}
    all_cells = count_cells(con, shift_month(first, -11), last, request.ethnicity)
    cells = [cell for cell in all_cells if first <= cell.month <= last]
    groups = group_figures(cells, populations)
    quality = data_quality(con, first, last, request.ethnicity, set(imported))
    quality["warnings"] = rate_warnings(groups, request.census)
    present = set(imported)
    months = months_between(first, last)
    records = sum(cell.records for cell in cells)
    person_searches = sum(cell.searches for cell in cells)
    report: Report = {
        "force": request.force,
        "from": first,
        "to": last,
        "ethnicity": request.ethnicity,
        "population": request.census,
        "records": records,
        "person_searches": person_searches,
        "vehicle_only": records - person_searches,
        "groups": groups,
        "by_object": object_figures(cells),
        "drugs": drug_figures(cells),
        "monthly": monthly_figures(cells, months),
        "rolling_12_months": rolling_figures(all_cells, months, present, populations),
        "grounds_review": grounds_figures([review for review in reviews if first <= review.month <= last]),
        "data_quality": quality,
        "no_resident_population": no_residents,
    }
    if request.ethnicity == "officer" and not any(
        cell.searches for cell in all_cells if cell.group == "Mixed"
    ):
        _no_category(report, "Mixed")
    return report


def _no_category(report: Report, group: str) -> None:
    """A group the records have no category for (officer-defined ethnicity has no Mixed): its rates and
    ratios are unknown (null), not 0; its people are counted in whichever group the officer chose."""
    report["groups"][group].update(
        rate_per_1000=None, ratio_to_white=None, ratio_ci95=None, ratio_bounds_unknown=None
    )
    for point in report["rolling_12_months"]:
        point["rate_per_1000"][group] = None
        point["ratio_to_white"][group] = None


def rate_warnings(groups: Mapping[str, Mapping[str, Any]], census: str) -> list[str]:
    """Plain-English warnings about the figures: a group searched more often than it has residents."""
    warnings = []
    for group, figures in groups.items():
        rate = figures.get("rate_per_1000")
        if rate is not None and rate > IMPLAUSIBLE_RATE_PER_1000:
            census_title = f"Census {census.removeprefix('census')}"
            warnings.append(
                f"{group}: {rate:,.0f} searches per 1,000 residents is more searches than residents "
                f"({figures['searches']:,} searches, {census_title} population {figures['population']:,}): "
                "the population figure is unlikely to be the right denominator for these searches"
            )
    return warnings
