"""Complementary small-number suppression (stopsearch.suppression) and the publication that uses it: no
withheld figure can be worked out from the totals published beside it."""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any
from unittest.mock import patch

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custodes.kit.stats import wilson
from custodes.stopsearch import charts, publication, suppression
from custodes.stopsearch.schemas import GROUPS

THRESHOLD = 10


# --------------------------------------------------------------------------- an independent audit


def determined(relations: list[dict[Any, int]], unknown: list[Any]) -> set[Any]:
    """The unknowns that linear relations (coefficients over the unknowns, the rest known) pin exactly:
    exact Gauss–Jordan elimination over the rationals, independent of the module's SVD."""
    rows = [[Fraction(r.get(k, 0)) for k in unknown] for r in relations if any(k in r for k in unknown)]
    pivots: list[int] = []
    rank = 0
    for column in range(len(unknown)):
        pivot = next((i for i in range(rank, len(rows)) if rows[i][column] != 0), None)
        if pivot is None:
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        lead = rows[rank][column]
        rows[rank] = [value / lead for value in rows[rank]]
        for i in range(len(rows)):
            if i != rank and rows[i][column] != 0:
                factor = rows[i][column]
                rows[i] = [a - factor * b for a, b in zip(rows[i], rows[rank], strict=True)]
        pivots.append(column)
        rank += 1
    # in reduced row echelon form, an unknown is pinned when a row has it as its only non-zero entry
    return {
        unknown[column]
        for row, column in zip(rows[:rank], pivots, strict=True)
        if all(value == 0 for j, value in enumerate(row) if j != column)
    }


def grid_table(cells: list[list[int]], threshold: int) -> tuple[suppression.Table, list[list[Any]]]:
    """A table with row totals, column totals and a grand total, every one of them published."""
    table = suppression.Table()
    lines: list[list[Any]] = []
    for i, row in enumerate(cells):
        for j, value in enumerate(row):
            table.cell(("c", i, j), value, threshold=threshold)
        table.cell(("r", i), sum(row), threshold=threshold)
        table.relation([("c", i, j) for j in range(len(row))], ("r", i))
        lines.append([("c", i, j) for j in range(len(row))] + [("r", i)])
    columns = len(cells[0])
    for j in range(columns):
        table.cell(("k", j), sum(row[j] for row in cells), threshold=threshold)
        table.relation([("c", i, j) for i in range(len(cells))], ("k", j))
        lines.append([("c", i, j) for i in range(len(cells))] + [("k", j)])
    table.cell(("t",), sum(map(sum, cells)), threshold=threshold)
    table.relation([("r", i) for i in range(len(cells))], ("t",))
    table.relation([("k", j) for j in range(columns)], ("t",))
    lines.append([("r", i) for i in range(len(cells))] + [("t",)])
    lines.append([("k", j) for j in range(columns)] + [("t",)])
    return table, lines


counts = st.one_of(st.integers(0, 0), st.integers(1, 12), st.integers(10, 400))
grids = st.integers(1, 6).flatmap(
    lambda width: st.lists(st.lists(counts, min_size=width, max_size=width), min_size=1, max_size=7)
)


@given(grids)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_no_suppressed_cell_of_a_random_table_can_be_worked_out(cells: list[list[int]]) -> None:
    table, lines = grid_table(cells, THRESHOLD)
    hidden = table.solve()
    values = table.values
    # every small non-zero count is withheld; zeros never are
    assert all(key in hidden for key, value in values.items() if 0 < value < THRESHOLD)
    assert not any(values[key] == 0 for key in hidden)
    for line in lines:
        withheld = [key for key in line if key in hidden]
        # a line (its cells and its total) never holds a single withheld figure: subtraction gives it away
        assert len(withheld) != 1, (line, withheld)
        # nor withheld cells on one side that are all 1 (each is known to be at least 1)
        parts = [key for key in withheld if key != line[-1]]
        if parts and line[-1] not in hidden:
            assert sum(values[key] for key in parts) > len(parts), (line, parts)
    # and no combination of the published totals pins one
    assert not determined(table.relations, sorted(hidden, key=repr)) & hidden


def test_a_lone_small_cell_gets_the_next_smallest_as_its_complement() -> None:
    table, _lines = grid_table([[44, 15, 16, 6, 0, 33]], THRESHOLD)
    hidden = table.solve()
    assert ("c", 0, 3) in hidden  # 6: small
    assert ("c", 0, 1) in hidden  # 15: the next smallest in its row, so 6 is not 114 - the rest
    assert ("c", 0, 2) not in hidden and ("r", 0) not in hidden


def test_two_small_cells_of_one_that_add_up_to_two_are_not_left_alone() -> None:
    """Each withheld figure is at least 1: two 1s summing to the known 2 would each be 1."""
    table, _lines = grid_table([[1, 1, 40, 50]], THRESHOLD)
    hidden = table.solve()
    assert ("c", 0, 2) in hidden


# --------------------------------------------------------------------------- the publication


def _event(searches: int, arrests: int, known: int, finds: int) -> dict[str, Any]:
    arrest_ci, find_ci = wilson(arrests, searches), wilson(finds, known)
    return {
        "searches": searches,
        "arrests": arrests,
        "arrest_rate": arrests / searches if searches else None,
        "arrest_rate_ci95": list(arrest_ci) if arrest_ci else None,
        "find_known": known,
        "finds": finds,
        "find_rate": finds / known if known else None,
        "find_rate_ci95": list(find_ci) if find_ci else None,
    }


def build_report(months: dict[str, dict[str, tuple[int, int, int, int]]]) -> dict[str, Any]:
    """A consistent report (no populations, as for the City of London) from (searches, arrests, find
    recorded, finds) for each month and group."""
    totals = {g: [sum(m[g][i] for m in months.values()) for i in range(4)] for g in GROUPS}
    person = sum(t[0] for t in totals.values())
    monthly = []
    by_month = []
    for month, groups in months.items():
        searches = sum(f[0] for f in groups.values())
        known = sum(f[2] for f in groups.values())
        monthly.append(
            {
                "month": month,
                "searches": searches,
                "by_group": {g: groups[g][0] for g in GROUPS},
                "arrests": sum(f[1] for f in groups.values()),
                "find_known": known,
                "finds": sum(f[3] for f in groups.values()),
            }
        )
        by_month.append(
            {
                "month": month,
                "records": searches,
                "person_searches": searches,
                "not_stated_share": groups["Not stated"][0] / searches if searches else None,
                "coordinates_missing_share": 0.0,
                "outcome_linked_blank_share": (searches - known) / searches if searches else None,
                "outcome_vocabulary": "new",
                "blank_share": {},
            }
        )
    groups = {
        g: {
            "population": None,
            "rate_per_1000": None,
            "ratio_to_white": None,
            "ratio_ci95": None,
            "ratio_bounds_unknown": None,
            **_event(*totals[g]),
        }
        for g in GROUPS
    }
    known = sum(t[2] for t in totals.values())
    return {
        "force": "city-of-london",
        "from": min(months),
        "to": max(months),
        "ethnicity": "self",
        "population": "census2011",
        "records": person,
        "person_searches": person,
        "vehicle_only": 0,
        "groups": groups,
        "by_object": {
            "Controlled drugs": {**_event(*[sum(t[i] for t in totals.values()) for i in range(4)])}
        },
        "drugs": {"possession": {}, "supply": {}},
        "monthly": monthly,
        "rolling_12_months": [],
        "grounds_review": {"reviewed": 0},
        "data_quality": {
            "months_present": list(months),
            "months_missing": [],
            "blank_share": {
                "Self-defined ethnicity": groups["Not stated"]["searches"] / person if person else 0
            },
            "not_stated_share": groups["Not stated"]["searches"] / person if person else None,
            "coordinates_missing_share": 0.0,
            "outcome_linked_blank_share": (person - known) / person if person else None,
            "outcome_vocabulary": {"old": [], "new": list(months)},
            "by_month": by_month,
        },
        "version": {},
    }


# City of London, July 2018 (self-defined): the reviewer's case. 114 searches; Mixed 6; 25 arrests.
JULY_2018 = {
    "2018-07": {
        "White": (44, 10, 40, 12),
        "Black": (15, 5, 14, 4),
        "Asian": (16, 3, 15, 5),
        "Mixed": (6, 3, 6, 2),
        "Other": (0, 0, 0, 0),
        "Not stated": (33, 4, 30, 6),
    }
}


def _number(cell: str) -> int | None:
    return int(cell.replace(",", "")) if re.fullmatch(r"[\d,]+", cell) else None


def test_the_reviewers_case_no_longer_gives_mixed_away() -> None:
    report = build_report(JULY_2018)
    view = publication.report_view(report, force_name="City of London Police", threshold=THRESHOLD)
    outcome = {row[0]: row for row in view["outcome_rows"]}
    assert outcome["Mixed"][1] == "suppressed"
    assert outcome["Black"][1] == "suppressed"  # 15, the next smallest: 114 - the rest is 21, not 6
    assert outcome["Asian"][1] == "16" and outcome["Other"][1] == "0"
    # arrests: the month's 25 less the groups shown no longer gives Mixed's 3
    assert outcome["Mixed"][2] == outcome["Black"][2] == "suppressed"
    assert outcome["Mixed"][3] == outcome["Black"][3] == "suppressed"  # the rates too
    month = view["monthly_rows"][0]
    assert month[1] == "114" and month[2 + GROUPS.index("Mixed")] == "suppressed"
    assert month[2 + GROUPS.index("Black")] == "suppressed"
    html = publication.render_html(report, force_name="City of London Police", threshold=THRESHOLD)
    text = re.sub(r"<[^>]+>", " ", html)
    assert "people of Mixed ethnicity" in text and "Black people" in text  # named as not given
    assert not re.search(r"\b6 searches\b", text)


def test_a_share_is_shown_only_when_the_count_behind_it_is() -> None:
    months = {
        "2018-07": {**JULY_2018["2018-07"], "Mixed": (20, 3, 20, 5), "Not stated": (4, 0, 4, 1)},
        "2018-08": {**JULY_2018["2018-07"], "Mixed": (20, 3, 20, 5), "Not stated": (40, 4, 30, 6)},
        "2018-09": {**JULY_2018["2018-07"], "Mixed": (20, 3, 20, 5), "Not stated": (50, 4, 30, 6)},
    }
    report = build_report(months)
    view = publication.report_view(report, force_name="City", threshold=THRESHOLD)
    july, august, september = view["quality"]["month_rows"]
    # July's 4 of 99 not stated is suppressed, and August's 40 with it (the column's next smallest): their
    # shares too, as a share times the month's published count gives the count
    assert july[2] == august[2] == "suppressed"
    assert september[2] == f"{50 / 145 * 100:.1f}%"  # 50 of 145
    # a month keeps the shares whose counts are shown (no location: a share of the month's records)
    assert july[3] == "0.0%"


def test_charts_leave_out_complementary_figures_too() -> None:
    report = build_report(JULY_2018)
    svg = (charts.outcomes_svg(report, THRESHOLD) or b"").decode()
    assert "cannot be worked out): Black, Mixed" in svg


month_cells = st.tuples(
    st.integers(0, 60), st.integers(0, 1_000), st.integers(0, 1_000), st.integers(0, 1_000)
)
small_cells = st.tuples(
    st.integers(1, 11), st.integers(0, 1_000), st.integers(0, 1_000), st.integers(0, 1_000)
)


@st.composite
def reports(draw: st.DrawFn) -> dict[str, Any]:
    months = {}
    for index in range(draw(st.integers(1, 4))):
        groups = {}
        for group in GROUPS:
            searches, a, k, f = draw(st.one_of(st.just((0, 0, 0, 0)), small_cells, month_cells))
            known = k % (searches + 1)
            groups[group] = (searches, a % (searches + 1), known, f % (known + 1))
        months[f"2019-{index + 1:02d}"] = groups
    return build_report(months)


@given(reports())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_no_published_total_less_the_figures_shown_gives_a_suppressed_one(report: dict[str, Any]) -> None:
    """From the rendered view, as a reader sees it: in every row and column that adds up to a published
    total, a suppressed figure never stands alone."""
    with patch.object(charts, "chart_uris", lambda *args: {}):  # the charts are tested above; slow here
        view = publication.report_view(report, force_name="City", threshold=THRESHOLD)
    facts = dict(view["facts"])
    outcome = {row[0]: row for row in view["outcome_rows"]}
    monthly = view["monthly_rows"]
    lines: list[list[str]] = [
        [facts["Searches of people"]] + [outcome[g][1] for g in GROUPS],  # groups add up to all searches
        [facts["Searches of people"]] + [row[1] for row in monthly],  # so do the months
        # all arrests: the groups' and the months' arrests each add up to them
        [outcome[g][2] for g in GROUPS] + [row[2 + len(GROUPS)] for row in monthly],
        [outcome[g][4] for g in GROUPS] + [view["object_rows"][0][4]],  # searches with a find recorded
    ]
    for row in monthly:
        lines.append([row[1], *row[2 : 2 + len(GROUPS)]])  # a month's groups add up to the month
    for index, group in enumerate(GROUPS):
        lines.append([outcome[group][1]] + [row[2 + index] for row in monthly])  # the months to the group
    for line in lines:
        cells = [cell for cell in line if cell != "—"]
        assert [cell == "suppressed" for cell in cells].count(True) != 1, line
