"""The publication (stopsearch.publication and charts): the plain-English summary, small-number
suppression, the standalone HTML with its charts, and the PDF. Built from a hand-made report dict in the
shape analysis.py produces (schemas.py, the spec's JSON), so the wording is checked against known figures.
"""

from __future__ import annotations

import copy
import re
from html import unescape
from typing import Any

from custodes.kit.stats import ratio_ci, wilson
from custodes.stopsearch import charts, publication
from custodes.stopsearch.schemas import GROUPS

THRESHOLD = 10

# searches, population, arrests, find_known, finds: a force shaped like the Met in 2018 (rounded).
FIGURES: dict[str, tuple[int, int | None, int, int, int]] = {
    "White": (40_000, 4_887_435, 6_000, 30_000, 7_500),
    "Black": (48_000, 1_088_640, 7_400, 36_000, 7_560),
    "Asian": (20_000, 1_511_546, 2_600, 15_000, 3_000),
    "Mixed": (4_000, 405_279, 600, 3_000, 700),
    "Other": (6, 281_041, 1, 4, 1),  # fewer than the threshold: suppressed everywhere
    "Not stated": (12_000, None, 1_500, 9_000, 1_800),
}


def _rate(events: int, trials: int) -> tuple[float | None, list[float] | None]:
    interval = wilson(events, trials)
    return (events / trials if trials else None, list(interval) if interval else None)


def _outcomes(searches: int, arrests: int, find_known: int, finds: int) -> dict[str, Any]:
    arrest_rate, arrest_ci = _rate(arrests, searches)
    find_rate, find_ci = _rate(finds, find_known)
    return {
        "searches": searches,
        "arrests": arrests,
        "arrest_rate": arrest_rate,
        "arrest_rate_ci95": arrest_ci,
        "find_known": find_known,
        "finds": finds,
        "find_rate": find_rate,
        "find_rate_ci95": find_ci,
    }


def make_report(figures: dict[str, tuple[int, int | None, int, int, int]] | None = None) -> dict[str, Any]:
    figures = figures or FIGURES
    white_searches, white_population = figures["White"][0], figures["White"][1]
    groups: dict[str, Any] = {}
    for group in GROUPS:
        searches, population, arrests, find_known, finds = figures[group]
        entry: dict[str, Any] = {"population": population, **_outcomes(searches, arrests, find_known, finds)}
        if population and white_population:
            entry["rate_per_1000"] = searches / population * 1000
            ratio = (searches / population) / (white_searches / white_population)
            interval = ratio_ci(searches, population, white_searches, white_population)
            entry["ratio_to_white"] = ratio
            entry["ratio_ci95"] = list(interval) if interval else None
            unknown = figures["Not stated"][0]
            entry["ratio_bounds_unknown"] = (
                None
                if group == "White"
                else [
                    (searches / population) / ((white_searches + unknown) / white_population),
                    ((searches + unknown) / population) / (white_searches / white_population),
                ]
            )
        else:
            entry.update(rate_per_1000=None, ratio_to_white=None, ratio_ci95=None, ratio_bounds_unknown=None)
        groups[group] = entry
    person_searches = sum(f[0] for f in figures.values())

    def by_group(share: float) -> dict[str, Any]:
        return {
            g: _outcomes(round(f[0] * share), round(f[2] * share), round(f[3] * share), round(f[4] * share))
            for g, f in figures.items()
        }

    by_object = {
        "Controlled drugs": {**_outcomes(60_000, 7_800, 45_000, 11_000), "by_group": by_group(0.55)},
        "Offensive weapons": {**_outcomes(20_000, 3_600, 15_000, 2_100), "by_group": by_group(0.2)},
        "Stolen goods": {**_outcomes(12_000, 2_400, 9_000, 2_000), "by_group": by_group(0.1)},
        "Article for use in theft": {**_outcomes(9, 2, 8, 1), "by_group": {}},
    }
    months = [f"2018-{m:02d}" for m in range(1, 13)]
    monthly = [
        {
            "month": month,
            "searches": person_searches // 12,
            "by_group": {
                g: f[0] // 12 + (index * 37 if g == "Black" else 0) + (f[0] % 12 if index == 1 else 0)
                for g, f in figures.items()
            },  # each group's searches all fall in some month (a small group's all in February)
            "arrests": 1_500,
            "find_known": 7_000,
            "finds": 1_700,
        }
        for index, month in enumerate(months)
    ]
    rolling = [
        {
            "month": month,
            "complete": month == "2018-12",
            "rate_per_1000": {g: None for g in GROUPS},
            "ratio_to_white": {
                g: (groups[g]["ratio_to_white"] if month == "2018-12" else None) for g in GROUPS
            },
        }
        for month in months
    ]
    return {
        "force": "metropolitan",
        "from": "2018-01",
        "to": "2018-12",
        "ethnicity": "self",
        "population": "census2011",
        "records": person_searches + 3_000,
        "person_searches": person_searches,
        "vehicle_only": 3_000,
        "groups": groups,
        "by_object": by_object,
        "drugs": {
            "possession": {**_outcomes(50_000, 5_000, 40_000, 10_400), "by_group": by_group(0.45)},
            "supply": {**_outcomes(4_000, 1_400, 3_000, 1_350), "by_group": by_group(0.04)},
        },
        "monthly": monthly,
        "rolling_12_months": rolling,
        "grounds_review": {
            "reviewed": 103,
            "recorded": 82,
            "proportion": 82 / 103,
            "ci95": list(wilson(82, 103) or ()),
            "strong": 60,
            "strong_proportion": 60 / 103,
            "strong_ci95": list(wilson(60, 103) or ()),
            "by_group": {
                "White": {
                    "reviewed": 40,
                    "recorded": 34,
                    "proportion": 0.85,
                    "ci95": list(wilson(34, 40) or ()),
                },
                "Black": {
                    "reviewed": 45,
                    "recorded": 34,
                    "proportion": 34 / 45,
                    "ci95": list(wilson(34, 45) or ()),
                },
                "Asian": {"reviewed": 5, "recorded": 4, "proportion": 0.8, "ci95": list(wilson(4, 5) or ())},
            },
            "by_team": {},
        },
        "data_quality": {
            "months_present": months,
            "months_missing": [],
            "blank_share": {"Outcome linked to object of search": 1.0, "Latitude": 0.21, "Legislation": 0.0},
            "not_stated_share": figures["Not stated"][0] / person_searches,
            "coordinates_missing_share": 0.21,
            "outcome_linked_blank_share": 0.25,
            "outcome_vocabulary": {"old": [], "new": months},
            "by_month": [
                {
                    "month": "2018-02",
                    "records": 1234,
                    "person_searches": 1200,
                    "not_stated_share": 0.155,
                    "coordinates_missing_share": 0.2,
                    "outcome_linked_blank_share": 1.0,
                    "outcome_vocabulary": "new",
                    "blank_share": {},
                }
            ],
        },
        "suppression_threshold": THRESHOLD,
        "version": {
            "custodes": "0.1.0",
            "generated_at": "2026-01-05T10:00:00Z",
            "data_sha256": "ab" * 32,
        },
    }


def _text(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


# --------------------------------------------------------------------------- the summary


def test_summary_says_how_much_more_often_each_group_is_searched() -> None:
    report = make_report()
    sentences = publication.summary(report, THRESHOLD)
    black = report["groups"]["Black"]
    low, high = black["ratio_ci95"]
    expected = (
        f"Black people were searched at {black['ratio_to_white']:.1f} times the rate of White people "
        f"(95% interval {low:.1f} to {high:.1f})"
    )
    assert any(s.startswith(expected) for s in sentences), sentences
    assert any(
        s.startswith("Asian people were searched at 1.6 times the rate of White people") for s in sentences
    )


def test_summary_gives_finds_arrests_drugs_and_the_unknown_ethnicity_bounds() -> None:
    sentences = publication.summary(make_report(), THRESHOLD)
    text = " ".join(sentences)
    assert "found what they were looking for" in text
    assert "25% of searches of White people" in text and "21% of searches of Black people" in text
    assert "led to an arrest in 15% of searches of White people" in text
    # possession vs supply
    assert "possession" in text and "supply" in text and "26%" in text and "45%" in text
    # ethnicity not stated: the share, and the range the ratio could lie in
    assert "9.7% of person searches (12,000) did not record the person's ethnicity" in text
    bounds = make_report()["groups"]["Black"]["ratio_bounds_unknown"]
    assert f"between {bounds[0]:.1f} and {bounds[1]:.1f}" in text
    # the reasonable-grounds review
    assert "82 of 103" in text


def test_small_groups_are_left_out_of_the_sentences() -> None:
    sentences = publication.summary(make_report(), THRESHOLD)
    assert not any(s.startswith("People of Other ethnicity were searched") for s in sentences)
    assert not any("Other ethnicity" in s and "%" in s for s in sentences)
    assert any(f"fewer than {THRESHOLD} searches" in s and "Other" in s for s in sentences)


def test_a_ratio_whose_interval_includes_one_is_not_called_a_difference() -> None:
    figures = dict(FIGURES)
    # Other large enough to be shown: with it suppressed, Mixed (the next smallest) would be withheld too
    figures["Other"] = (3_000, 281_041, 400, 2_000, 450)
    figures["Mixed"] = (200, 405_279, 30, 150, 35)  # 0.49 per 1,000 vs White 8.2: fewer, clearly
    figures["Asian"] = (12_400, 1_511_546, 1_600, 9_000, 1_900)  # 8.2 per 1,000: the same as White
    sentences = publication.summary(make_report(figures), THRESHOLD)
    asian = next(s for s in sentences if s.startswith("Asian people"))
    assert "about the same rate as White people" in asian
    mixed = next(s for s in sentences if s.startswith("People of Mixed ethnicity"))
    assert "less often than White people" in mixed


def test_no_population_figures_means_no_rates_but_outcomes_still_given() -> None:
    report = make_report()
    for entry in report["groups"].values():
        entry.update(population=None, rate_per_1000=None, ratio_to_white=None, ratio_ci95=None,
                     ratio_bounds_unknown=None)  # fmt: skip
    sentences = publication.summary(report, THRESHOLD)
    text = " ".join(sentences)
    assert "times the rate" not in text
    assert "No population figures" in text
    assert "found what they were looking for" in text


def test_a_force_with_no_resident_population_says_why_there_are_no_rates() -> None:
    report = make_report()
    for entry in report["groups"].values():
        entry.update(population=None, rate_per_1000=None, ratio_to_white=None, ratio_ci95=None,
                     ratio_bounds_unknown=None)  # fmt: skip
    report["no_resident_population"] = "British Transport Police polices railways, which have no residents"
    html = publication.render_html(report, force_name="British Transport Police", threshold=THRESHOLD)
    assert (
        "No rates per 1,000 residents or ratios are given: British Transport Police polices railways, "
        "which have no residents. The table gives the number of searches."
    ) in html
    assert "No population figures are held" not in html


def test_a_rate_above_one_per_resident_is_flagged_without_giving_counts_away() -> None:
    report = make_report()
    report["groups"]["Black"]["rate_per_1000"] = 4_310.9
    html = publication.render_html(report, force_name="City", threshold=THRESHOLD)
    assert "Caution: the rate for Black people is above 1,000 searches per 1,000 residents" in html
    report["groups"]["Black"]["rate_per_1000"] = 40.0
    assert "Caution:" not in publication.render_html(report, force_name="City", threshold=THRESHOLD)


def test_a_force_without_drug_search_types_gets_no_drugs_sentence() -> None:
    report = make_report()
    report["drugs"] = {"possession": {}, "supply": {}}
    assert not any("supply" in s for s in publication.summary(report, THRESHOLD))


def test_a_higher_threshold_suppresses_more() -> None:
    sentences = publication.summary(make_report(), 5_000)
    text = " ".join(sentences)
    assert "Mixed ethnicity were searched" not in text
    assert "Black people were searched" in text
    assert "82 of 103" not in text  # the review rests on 103 searches


# --------------------------------------------------------------------------- the tables


def test_tables_show_suppressed_figures_as_suppressed() -> None:
    """Primary and complementary figures are shown alike: "fewer than 10" beside a "suppressed" complement
    would bound the complement (and pin both when they add up to 11)."""
    html = publication.render_html(
        make_report(), force_name="Metropolitan Police Service", threshold=THRESHOLD
    )
    text = _text(html)
    other_row = re.search(r"<tr[^>]*>\s*<th[^>]*>Other</th>(.*?)</tr>", html, re.S)
    assert other_row is not None
    assert "suppressed" in other_row.group(1) and "fewer than" not in other_row.group(1)
    assert "281,041" in other_row.group(1)  # the population is not a count of searches
    # the raw small numbers appear nowhere in that row
    assert not re.search(r">\s*6\s*<", other_row.group(1))
    assert "Article for use in theft" in text and "fewer than 10" in text


def test_teams_whose_figures_are_all_suppressed_are_one_line_not_a_row_each() -> None:
    """Review: a PDF page of ~30 teams each marked "suppressed". Those rows are one sentence, in the
    publication and on the screen alike (the same template)."""
    report = make_report()
    teams = {"NA-RESP1": (60, 48), "WE-NHP2": (30, 24)}
    teams |= {f"CZ-RESP{n}": (reviewed, 2) for n, reviewed in enumerate((3, 3, 3, 2, 2), start=1)}
    report["grounds_review"]["by_team"] = {
        team: {"reviewed": reviewed, "recorded": recorded, "proportion": recorded / reviewed,
               "ci95": list(wilson(recorded, reviewed) or ())}
        for team, (reviewed, recorded) in teams.items()
    }  # fmt: skip
    view = publication.report_view(report, force_name="Metropolitan Police Service", threshold=THRESHOLD)
    assert [row[0] for row in view["review"]["by_team"]] == ["NA-RESP1", "WE-NHP2"]
    assert view["review"]["teams_hidden"] == 5
    text = _text(
        publication.render_html(report, force_name="Metropolitan Police Service", threshold=THRESHOLD)
    )
    assert (
        "5 teams with fewer than 10 searches reviewed (or whose figures are withheld so that those cannot be "
        "worked out) are not shown, to protect the people searched." in text
    )
    assert "CZ-RESP" not in text and "NA-RESP1" in text
    # every team suppressed: the sentence alone, no empty table
    report["grounds_review"]["by_team"] = {
        team: figures
        for team, figures in report["grounds_review"]["by_team"].items()
        if team.startswith("CZ")
    }
    text = _text(
        publication.render_html(report, force_name="Metropolitan Police Service", threshold=THRESHOLD)
    )
    assert "By team 5 teams with fewer than 10" in text


def test_html_is_a_complete_document_with_charts_methods_and_version() -> None:
    report = make_report()
    html = publication.render_html(report, force_name="Metropolitan Police Service", threshold=THRESHOLD)
    assert html.lstrip().lower().startswith("<!doctype html>")
    assert "</html>" in html
    assert html.count('src="data:image/svg+xml;base64,') == 4
    assert "<link" not in html and "<script" not in html  # standalone: nothing fetched
    text = _text(html)
    assert "Metropolitan Police Service" in text
    assert "January 2018 to December 2018" in text
    for heading in ("Summary", "Methods and caveats", "Data quality"):
        assert heading in text
    for caveat in (
        "Census 2011",
        "fewer than 10 searches",
        "never counted as",
        "April 2018",
        "Vehicle-only searches",
        "not stated",
    ):
        assert caveat in text, caveat
    assert "Custodes 0.1.0" in text and "ab" * 32 in text
    assert "February 2018 1,234 15.5% 20.0% 100.0% from April 2018" in " ".join(text.split())
    # Presence is by the months imported, not by the month in Date (a file spills into its neighbours).
    assert "Months imported" in text and "Months not imported" in text and "Months with records" not in text
    for sentence in publication.summary(report, THRESHOLD):
        assert _text(sentence).strip() in text


def test_charts_leave_out_suppressed_groups() -> None:
    report = make_report()
    rates = (charts.rates_svg(report, THRESHOLD) or b"").decode()
    # Other (6) is suppressed; Mixed, the next smallest group, is withheld with it, or the published total
    # less the other groups would give Other away
    assert "Black" in rates and ">Mixed<" not in rates
    assert ">Other<" not in rates
    assert "fewer than 10 searches, or withheld so that those cannot be worked out): Mixed, Other" in rates
    outcomes = (charts.outcomes_svg(report, THRESHOLD) or b"").decode()
    assert "Not stated" in outcomes and "cannot be worked out): Mixed, Other" in outcomes
    objects = (charts.objects_svg(report, THRESHOLD) or b"").decode()
    assert (
        "Controlled drugs" in objects
        and "cannot be worked out): Stolen goods, Article for use in theft" in objects
    )
    assert charts.trend_svg(report, THRESHOLD) is not None
    # with nothing to draw there is no chart at all
    assert charts.rates_svg(report, 10_000_000) is None


def test_pdf_renders_with_its_charts() -> None:
    pdf = publication.render_pdf(make_report(), force_name="Metropolitan Police Service", threshold=THRESHOLD)
    assert pdf.startswith(b"%PDF")
    assert pdf.count(b"/XObject") >= 4 or pdf.count(b"/Subtype /Form") >= 4


def test_rendering_does_not_change_the_report() -> None:
    report = make_report()
    before = copy.deepcopy(report)
    publication.render_html(report, force_name="x", threshold=THRESHOLD)
    assert report == before


def test_charts_draw_intervals_that_round_past_their_rate() -> None:
    """Floating point can put an interval's end a hair inside its rate: the chart still draws."""
    report = make_report()
    white = report["groups"]["White"]
    white["find_rate_ci95"] = [white["find_rate"] + 1e-12, white["find_rate_ci95"][1]]
    white["arrest_rate_ci95"] = [white["arrest_rate_ci95"][0], white["arrest_rate"] - 1e-12]
    assert charts.outcomes_svg(report, THRESHOLD) is not None


def test_overlapping_intervals_are_called_possibly_chance() -> None:
    figures = dict(FIGURES)
    figures["Black"] = (480, 1_088_640, 72, 360, 90)  # 25% found, as for White, on fewer searches
    figures["Asian"] = (200, 1_511_546, 30, 150, 38)
    figures["Mixed"] = (40, 405_279, 6, 30, 8)
    figures["Not stated"] = (120, None, 18, 90, 22)
    text = " ".join(publication.summary(make_report(figures), THRESHOLD))
    assert "No group's find rate differs clearly from that for White people (25%)" in text


def test_records_that_never_link_finds_say_so() -> None:
    """The Met's 2018 files leave 'Outcome linked to object of search' blank in every row."""
    report = make_report()
    for figures in report["groups"].values():
        figures.update(find_known=0, finds=0, find_rate=None, find_rate_ci95=None)
    text = " ".join(publication.summary(report, THRESHOLD))
    assert "no find rates can be given" in text
    assert "found what they were looking for (a find" not in text
    svg = (charts.outcomes_svg(report, THRESHOLD) or b"").decode()
    assert "Arrest" in svg and "Find linked to the search" not in svg


def _with_ratio(group: str, ratio: float, ci: list[float]) -> dict[str, Any]:
    report = make_report()
    report["groups"][group].update(ratio_to_white=ratio, ratio_ci95=ci)
    return report


def test_a_ratio_below_one_never_reads_as_1_0_times() -> None:
    """0.96 (0.933 to 0.987) read "less often ... at 1.0 times their rate (95% interval 0.93 to 1.0)"."""
    report = _with_ratio("Asian", 0.96, [0.933, 0.987])
    sentence = next(s for s in publication.summary(report, THRESHOLD) if s.startswith("Asian people"))
    assert "less often than White people: at 0.96 times their rate (95% interval 0.93 to 0.99)" in sentence
    view = publication.report_view(report, force_name="x", threshold=THRESHOLD)
    asian = next(row for row in view["rate_rows"] if row[0] == "Asian")
    assert asian[4:6] == ("0.96", "0.93 to 0.99")


def test_a_ratio_above_one_never_reads_as_1_0_times() -> None:
    """1.045 (1.017 to 1.074) read "at 1.0 times the rate ... (1.0 to 1.1)"."""
    report = _with_ratio("Asian", 1.046, [1.017, 1.074])
    sentence = next(s for s in publication.summary(report, THRESHOLD) if s.startswith("Asian people"))
    assert "searched at 1.05 times the rate of White people (95% interval 1.02 to 1.07)" in sentence
    # still reading as 1 at two places while excluding 1: a third
    report = _with_ratio("Asian", 1.004, [1.001, 1.007])
    sentence = next(s for s in publication.summary(report, THRESHOLD) if s.startswith("Asian people"))
    assert "at 1.004 times the rate of White people (95% interval 1.001 to 1.007)" in sentence


def test_a_ratio_near_one_whose_interval_includes_one_gets_two_places() -> None:
    report = _with_ratio("Asian", 1.02, [0.98, 1.06])
    sentence = next(s for s in publication.summary(report, THRESHOLD) if s.startswith("Asian people"))
    assert "(ratio 1.02, 95% interval 0.98 to 1.06, which includes 1" in sentence
    # away from 1, one place as before
    assert charts.ratio_places(4.4, [4.3, 4.5]) == 1 and charts.ratio_places(0.5, [0.4, 0.6]) == 2


def test_officer_defined_reports_say_their_categories_do_not_match_the_census() -> None:
    report = make_report()
    report["ethnicity"] = "officer"
    report["groups"]["Mixed"].update(
        searches=0, rate_per_1000=None, ratio_to_white=None, ratio_ci95=None, ratio_bounds_unknown=None
    )
    view = publication.report_view(report, force_name="x", threshold=THRESHOLD)
    methods = dict(view["methods"])
    caveat = methods["Officer-defined ethnicity and the census"]
    assert "no Mixed category" in caveat and "Chinese people as Other" in caveat
    mixed = next(row for row in view["rate_rows"] if row[0] == "Mixed")
    assert mixed[3:5] == ("no officer category", "no officer category")
    assert not any("Mixed ethnicity were searched" in s for s in view["summary"])
    own = publication.report_view(make_report(), force_name="x", threshold=THRESHOLD)
    assert "Officer-defined ethnicity and the census" not in dict(own["methods"])
