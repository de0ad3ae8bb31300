"""The publication: a report dict (analysis.py) in plain English, as a standalone HTML document and a PDF.

Pure functions of the report: nothing here reads the database. `report_view` formats every figure once
(with small-number suppression) for both the publication and the report screen, which share the template
`stopsearch/_report.html`.

Small-number suppression (suppression.py decides, once per report): every figure rests on a set of
searches (a group's, an object's, a month's, a month's of one group, those with a find recorded, those
reviewed). A set smaller than the threshold is withheld with what is drawn from it (arrests, finds, rates,
ratios), and so are complementary figures, so that no withheld figure can be worked out from the totals
published beside it. Every withheld figure is shown as "suppressed" (primary and complementary alike);
none is drawn in a chart or used in a sentence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from custodes.kit.pdf import html_to_pdf
from custodes.kit.timefmt import MONTH_NAMES, month_title
from custodes.stopsearch import charts
from custodes.stopsearch.analysis import IMPLAUSIBLE_RATE_PER_1000
from custodes.stopsearch.charts import ratio_places, shown
from custodes.stopsearch.schemas import GROUPS, POPULATION_GROUPS, REFERENCE_GROUP, Report
from custodes.stopsearch.suppression import Published, published

CENSUS_TITLES = {"census2011": "Census 2011", "census2021": "Census 2021"}
ETHNICITY_TITLES = {"self": "self-defined ethnicity", "officer": "officer-defined ethnicity"}
PEOPLE = {
    "White": "White people",
    "Black": "Black people",
    "Asian": "Asian people",
    "Mixed": "people of Mixed ethnicity",
    "Other": "people of Other ethnicity",
    "Not stated": "people whose ethnicity was not stated",
}
SUPPRESSED = "suppressed"

_environment = Environment(
    loader=FileSystemLoader(str(Path(__file__).parent / "templates")),
    autoescape=select_autoescape(["html", "xml"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


# --------------------------------------------------------------------------- formatting


def period_title(report: Report) -> str:
    return f"{month_title(report.get('from'))} to {month_title(report.get('to'))}"


def census_title(report: Report) -> str:
    census = report.get("population") or report.get("census") or "census2011"
    return CENSUS_TITLES.get(str(census), str(census))


def _people(group: str, *, start: bool = False) -> str:
    words = PEOPLE.get(group, f"the {group} group")
    return words[0].upper() + words[1:] if start else words


def _pct(value: float | None) -> str:
    if value is None:
        return "—"
    percent = 100 * value
    if 0 < percent < 1:
        return f"{percent:.1f}%"
    return f"{percent:.0f}%"


def _share(value: float | None) -> str:
    """A share of all records: one decimal place, so small shares are not shown as 0%."""
    return "—" if value is None else f"{100 * value:.1f}%"


def _ratio(value: float, places: int | None = None) -> str:
    return f"{value:.{ratio_places(value) if places is None else places}f}"


def _ratio_and_interval(ratio: float, ci: Sequence[float] | None) -> tuple[str, str]:
    """A ratio and its interval to the same places, never reading as 1 when the interval excludes 1."""
    places = ratio_places(ratio, ci)
    return _ratio(ratio, places), _interval(ci, lambda value: _ratio(value, places))


def _ratio_range(bounds: Sequence[float]) -> str:
    """A range of ratios ("1.08 to 1.32"), both ends to the same places."""
    places = max(ratio_places(bounds[0], bounds), ratio_places(bounds[1], bounds))
    return _interval(bounds, lambda value: _ratio(value, places))


def _interval(ci: Sequence[float] | None, format_one: Any = _pct) -> str:
    """An interval in words ("24% to 26%"), more precise when the ends would otherwise read the same."""
    if not ci:
        return "—"
    low, high = format_one(ci[0]), format_one(ci[1])
    for places in (1, 2, 3):
        if low != high or ci[0] == ci[1]:
            break
        if format_one is _pct:
            low, high = f"{100 * ci[0]:.{places}f}%", f"{100 * ci[1]:.{places}f}%"
        else:
            low, high = f"{ci[0]:.{places + 1}f}", f"{ci[1]:.{places + 1}f}"
    return f"{low} to {high}"


def count_cell(n: int | None, visible: bool) -> str:
    """A count for a table: "suppressed" when withheld (a 0 is withheld only with the set it is drawn from:
    no 0 is chosen as a complement, so a 0 is shown unless its set's size is suppressed)."""
    if n is None:
        return "—"
    return f"{n:,}" if visible else SUPPRESSED


def part_cell(n: int | None, base: int | None, visible: bool) -> str:
    """A count drawn from a set of searches (arrests among them, finds): "—" when the set is empty."""
    if n is None or not base:
        return "—"
    return f"{n:,}" if visible else SUPPRESSED


def rate_cell(rate: float | None, ci: Sequence[float] | None, base: int | None, visible: bool) -> str:
    """A rate with its interval, "suppressed" when withheld (the counts it is made of are)."""
    if not base:
        return "—"
    if not visible:
        return SUPPRESSED
    if rate is None:
        return "—"
    return f"{_pct(rate)} ({_interval(ci)})" if ci else _pct(rate)


def _event_shown(marks: Published, *dim: Any) -> tuple[bool, bool, bool, bool]:
    """Whether the searches, arrests (and rate), searches with a find recorded, and finds (and find rate)
    of one set are shown."""
    searches, arrests = marks.shown(("S", *dim)), marks.shown(("A", *dim))
    known, finds = marks.shown(("K", *dim)), marks.shown(("F", *dim))
    return searches, searches and arrests, known, known and finds


def _moment(text: str | None) -> str:
    """An ISO 8601 time as "22 November 2026 at 11:47 UTC" (as given when it is not one)."""
    try:
        moment = datetime.fromisoformat(text or "")
    except ValueError:
        return text or "—"
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return f"{moment.day} {MONTH_NAMES[moment.month - 1]} {moment.year} at {moment:%H:%M} UTC"


def _comma_list(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


# --------------------------------------------------------------------------- the summary


def summary(report: Report, threshold: int, marks: Published | None = None) -> list[str]:
    """Plain-English sentences: who is searched more often and by how much, what searches find and lead to,
    drug possession against supply, and what the searches with no ethnicity recorded could do to the ratios.
    Withheld figures (`marks`, small-number suppression) are left out."""
    marks = marks or published(report, threshold)
    sentences = [_overview(report, marks)]
    sentences += _rate_sentences(report, threshold, marks)
    sentences += _outcome_sentences(report, marks, "find")
    sentences += _outcome_sentences(report, marks, "arrest")
    sentences += _drug_sentences(report, threshold, marks)
    sentences += _unknown_sentences(report, threshold, marks)
    sentences += _review_sentences(report, threshold, marks)
    return [s for s in sentences if s]


def _overview(report: Report, marks: Published) -> str:
    person = report.get("person_searches") or 0
    vehicle = report.get("vehicle_only") or 0
    basis = ETHNICITY_TITLES.get(report.get("ethnicity", "self"), "ethnicity")
    vehicles = (
        f" (and {vehicle:,} searches of vehicles only, which are left out of the figures by group)"
        if vehicle and marks.shown(("V",))
        else ""
    )
    people = f"{person:,} searches" if marks.shown(("S",)) else "a small number of searches"
    return f"From {period_title(report)} there were {people} of people{vehicles}. Groups are by {basis}."


def _rate_sentences(report: Report, threshold: int, marks: Published) -> list[str]:
    groups = report.get("groups", {})
    white = groups.get(REFERENCE_GROUP, {})
    sentences: list[str] = []
    withheld = [g for g in GROUPS if (groups.get(g, {}).get("searches") or 0) and not _group_shown(marks, g)]
    if withheld:
        names = _comma_list([_people(g) for g in withheld])
        sentences.append(
            f"Figures for {names} are not given: small numbers (fewer than {threshold} searches) are "
            "suppressed, with other figures where needed so that they cannot be worked out from the totals."
        )
    if not any(groups.get(g, {}).get("population") for g in POPULATION_GROUPS):
        sentences.append(
            f"No population figures for this force area are held for the {census_title(report)}, so rates "
            "per 1,000 residents and ratios to White people cannot be given."
        )
        return sentences
    if not _group_shown(marks, REFERENCE_GROUP) or white.get("rate_per_1000") is None:
        sentences.append(
            "No ratios to White people are given: the figures for White people are suppressed, or there is "
            "no population figure for them, to compare with."
        )
        return sentences
    white_rate = white["rate_per_1000"]
    for group in POPULATION_GROUPS:
        if group == REFERENCE_GROUP:
            continue
        figures = groups.get(group, {})
        ratio, ci, rate = (
            figures.get("ratio_to_white"),
            figures.get("ratio_ci95"),
            figures.get("rate_per_1000"),
        )
        if not _ratio_shown(marks, group):
            continue
        if ratio is None or rate is None:
            if figures.get("searches"):
                sentences.append(f"There is no population figure for {_people(group)}, so no rate is given.")
            continue
        rates = f"{rate:,.1f} searches per 1,000 residents, against {white_rate:,.1f} for White people"
        ratio_text, interval_text = _ratio_and_interval(ratio, ci)
        interval = f"95% interval {interval_text}"
        if ci and ci[0] > 1:
            sentences.append(
                f"{_people(group, start=True)} were searched at {ratio_text} times the rate of White "
                f"people ({interval}): {rates}."
            )
        elif ci and ci[1] < 1:
            sentences.append(
                f"{_people(group, start=True)} were searched less often than White people: at "
                f"{ratio_text} times their rate ({interval}); {rates}."
            )
        else:
            sentences.append(
                f"{_people(group, start=True)} were searched at about the same rate as White people: {rates} "
                f"(ratio {ratio_text}, {interval}, which includes 1, so the difference could be chance)."
            )
    return sentences


def _outcome_sentences(report: Report, marks: Published, kind: str) -> list[str]:
    """One sentence giving the rate for every group shown, one naming the clear differences from White."""
    groups = report.get("groups", {})
    rate_key, ci_key = f"{kind}_rate", f"{kind}_rate_ci95"
    at = 3 if kind == "find" else 1
    rows = [
        (g, groups[g][rate_key], groups[g].get(ci_key))
        for g in GROUPS
        if g in groups and _event_shown(marks, "g", g)[at] and groups[g].get(rate_key) is not None
    ]
    if not rows:
        known = sum((figures.get("find_known") or 0) for figures in groups.values())
        if kind == "find" and not known and report.get("person_searches"):
            return [
                "The records never say whether what was found was linked to the reason for the search "
                "('Outcome linked to object of search' is blank), so no find rates can be given."
            ]
        return []
    # The intervals are in the tables; the sentence after this one says which differences are clear.
    parts = [f"{_pct(rate)} of searches of {_people(g)}" for g, rate, _ci in rows]
    if kind == "find":
        sentences = [
            "Officers found what they were looking for (a find linked to the reason for the search) in "
            + _comma_list(parts)
            + "."
        ]
        blank = report.get("data_quality", {}).get("outcome_linked_blank_share")
        if blank and marks.shown(("S",), ("K",)):
            sentences.append(
                f"Whether the find was linked to the search was left blank for {_share(blank)} of searches; "
                "those are left out of find rates, not counted as nothing found."
            )
    else:
        sentences = ["Searches led to an arrest in " + _comma_list(parts) + "."]
    reference = next((row for row in rows if row[0] == REFERENCE_GROUP), None)
    if reference is None or not reference[2]:
        return sentences
    lower, higher = [], []
    for group, rate, ci in rows:
        if group == REFERENCE_GROUP or not ci:
            continue
        if ci[1] < reference[2][0]:
            lower.append(f"{_people(group)} ({_pct(rate)})")
        elif ci[0] > reference[2][1]:
            higher.append(f"{_people(group)} ({_pct(rate)})")
    noun = "find rate" if kind == "find" else "arrest rate"
    against = f"White people ({_pct(reference[1])})"
    if lower:
        sentences.append(
            f"The {noun} was lower for {_comma_list(lower)} than for {against}; the intervals do not "
            "overlap, so this is unlikely to be chance."
        )
    if higher:
        sentences.append(
            f"The {noun} was higher for {_comma_list(higher)} than for {against}; the intervals do not "
            "overlap, so this is unlikely to be chance."
        )
    if not lower and not higher and len(rows) > 1:
        sentences.append(
            f"No group's {noun} differs clearly from that for {against}: the intervals overlap, so the "
            "differences could be chance."
        )
    return sentences


def _drug_sentences(report: Report, threshold: int, marks: Published) -> list[str]:
    drugs = report.get("drugs") or {}
    possession, supply = drugs.get("possession") or {}, drugs.get("supply") or {}
    if not possession and not supply:
        return []
    sentences = []
    p_n, s_n = possession.get("searches") or 0, supply.get("searches") or 0
    if p_n and s_n and marks.shown(("S", "d", "possession"), ("S", "d", "supply")):
        sentences.append(
            f"Of drug searches recorded as for possession or for supply, {_pct(p_n / (p_n + s_n))} were for "
            f"possession only ({p_n:,}) and {_pct(s_n / (p_n + s_n))} for supply ({s_n:,})."
        )
    parts = []
    for name, figures in (("possession", possession), ("supply", supply)):
        _searches, arrests_shown, _known, finds_shown = _event_shown(marks, "d", name)
        if figures and finds_shown and figures.get("find_known") and figures.get("find_rate") is not None:
            interval = figures.get("find_rate_ci95")
            parts.append(
                f"{name} searches found what they were looking for in {_pct(figures['find_rate'])}"
                + (f" (95% interval {_interval(interval)})" if interval else "")
                + (
                    f" and led to an arrest in {_pct(figures['arrest_rate'])}"
                    if arrests_shown and figures.get("arrest_rate") is not None
                    else ""
                )
            )
    if parts:
        text = "; ".join(parts)
        sentences.append(text[0].upper() + text[1:] + ".")
    by_group = possession.get("by_group") or {}
    shown_groups = [
        f"{_pct(by_group[g]['find_rate'])} of searches of {_people(g)}"
        for g in GROUPS
        if g in by_group
        and shown(by_group[g].get("find_known"), threshold)
        and by_group[g].get("find_rate") is not None
    ]
    if len(shown_groups) > 1:
        sentences.append(
            f"Possession-only searches found what they were looking for in {_comma_list(shown_groups)}."
        )
    return sentences


def _unknown_sentences(report: Report, threshold: int, marks: Published) -> list[str]:
    groups = report.get("groups", {})
    unknown = groups.get("Not stated", {}).get("searches") or 0
    share = report.get("data_quality", {}).get("not_stated_share")
    if not unknown:
        return ["Every search recorded the person's ethnicity."] if report.get("person_searches") else []
    if not _group_shown(marks, "Not stated"):
        return [
            "The number of person searches that did not record the person's ethnicity is suppressed "
            f"(small numbers: fewer than {threshold} searches, or a figure that would let one be worked out)."
        ]
    if share is None and report.get("person_searches"):
        share = unknown / report["person_searches"]
    if marks.shown(("S",)):
        opening = f"{_share(share)} of person searches ({unknown:,}) did not record the person's ethnicity."
    else:
        opening = f"{unknown:,} person searches did not record the person's ethnicity."
    ranges = []
    for group in POPULATION_GROUPS:
        if group == REFERENCE_GROUP or not _ratio_shown(marks, group):
            continue
        bounds = groups.get(group, {}).get("ratio_bounds_unknown")
        if bounds and groups[group].get("ratio_to_white") is not None:
            ranges.append(f"for {_people(group)} between {_ratio_range(bounds).replace(' to ', ' and ')}")
    if not ranges:
        return [opening + " They are left out of the rates."]
    return [
        opening
        + " They are left out of the rates. Depending on whose they were, the ratio to White people could be "
        + "anywhere "
        + _comma_list(ranges)
        + "."
    ]


def _review_sentences(report: Report, threshold: int, marks: Published) -> list[str]:
    review = report.get("grounds_review") or {}
    reviewed = review.get("reviewed") or 0
    if not reviewed:
        return []
    if not shown(reviewed, threshold):
        return [f"Fewer than {threshold} sampled searches have been reviewed so far: no proportion is given."]
    if not marks.shown(("rev",), ("rec",)):
        return ["The supervisors' review is suppressed (small numbers)."]
    recorded = review.get("recorded") or 0
    sentence = (
        f"Supervisors reviewed a sample of {reviewed:,} searches: reasonable grounds were recorded in "
        f"{recorded:,} of {reviewed:,} ({_pct(review.get('proportion'))}, 95% interval "
        f"{_interval(review.get('ci95'))})"
    )
    if review.get("strong_proportion") is not None and marks.shown(("strong",)):
        sentence += (
            f", and were strong in {review.get('strong') or 0:,} ({_pct(review['strong_proportion'])}, 95% "
            f"interval {_interval(review.get('strong_ci95'))})"
        )
    return [sentence + "."]


# --------------------------------------------------------------------------- the tables and the document


def report_view(report: Report, *, force_name: str, threshold: int) -> dict[str, Any]:
    """Everything the report template shows, formatted, with small numbers suppressed."""
    groups = report.get("groups", {})
    quality = report.get("data_quality") or {}
    version = report.get("version") or {}
    marks = published(report, threshold)

    def total(key: str, value: int | None) -> str:
        return count_cell(value or 0, marks.shown((key,)))

    return {
        "force_name": force_name,
        "title": f"Stop and search in {force_name}",
        "period": period_title(report),
        "basis": ETHNICITY_TITLES.get(report.get("ethnicity", "self"), "ethnicity"),
        "census": census_title(report),
        "population_basis": report.get("population_basis"),
        "reissue": _reissue_text(report.get("reissue")),
        "threshold": threshold,
        "facts": [
            ("Period", period_title(report)),
            ("Searches of people", total("S", report.get("person_searches"))),
            ("Vehicle-only searches (left out)", total("V", report.get("vehicle_only"))),
            ("All records", total("R", report.get("records"))),
            ("Ethnic group from", ETHNICITY_TITLES.get(report.get("ethnicity", "self"), "—")),
            ("Population figures", census_title(report)),
        ],
        "summary": summary(report, threshold, marks),
        "charts": charts.chart_uris(report, threshold, marks),
        "has_population": any(groups.get(g, {}).get("population") for g in POPULATION_GROUPS),
        "no_residents": report.get("no_resident_population"),
        "implausible_rates": [
            _people(g)
            for g in GROUPS
            if (groups.get(g, {}).get("rate_per_1000") or 0) > IMPLAUSIBLE_RATE_PER_1000
            and marks.shown(("S", "g", g))
        ],
        "rate_rows": _rate_rows(report, marks),
        "outcome_rows": [(g, *_outcome_cells(groups[g], marks, "g", g)) for g in GROUPS if g in groups],
        "object_rows": [
            (name, *_outcome_cells(figures, marks, "o", name))
            for name, figures in sorted(
                (report.get("by_object") or {}).items(), key=lambda item: -(item[1].get("searches") or 0)
            )
        ],
        "object_groups": _by_group_find_rates(report.get("by_object") or {}, threshold),
        "drug_rows": _drug_rows(report, marks),
        "drug_groups": _by_group_find_rates(
            {k.capitalize(): v for k, v in (report.get("drugs") or {}).items() if v}, threshold
        ),
        "has_drug_types": any((report.get("drugs") or {}).values()),
        "monthly_rows": _monthly_rows(report, marks),
        "review": _review_view(report, marks),
        "quality": _quality_view(quality, marks),
        "methods": methods(report, threshold),
        "version": {
            "custodes": version.get("custodes", "—"),
            "generated_at": _moment(version.get("generated_at")),
            "data_sha256": version.get("data_sha256", "—"),
        },
        "groups": GROUPS,
    }


def _reissue_text(reissue: Mapping[str, Any] | None) -> str | None:
    """A re-issued publication names the ones it re-issues and why (service.publish)."""
    if not reissue:
        return None
    earlier = _comma_list(list(reissue.get("of") or []))
    reason = reissue.get("reason")
    return f"This report re-issues {earlier}, published for the same period and settings. Why: {reason}"


def _group_shown(marks: Published, group: str) -> bool:
    return marks.shown(("S", "g", group))


def _ratio_shown(marks: Published, group: str) -> bool:
    """A ratio to White rests on both groups' searches (and gives either away, with the populations)."""
    return marks.shown(("S", "g", group), ("S", "g", REFERENCE_GROUP))


def _rate_rows(report: Report, marks: Published) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    groups = report.get("groups", {})
    for group in GROUPS:
        figures = groups.get(group)
        if figures is None:
            continue
        searches = figures.get("searches") or 0
        population = figures.get("population")
        rate = figures.get("rate_per_1000")
        ratio, ci = figures.get("ratio_to_white"), figures.get("ratio_ci95")
        bounds = figures.get("ratio_bounds_unknown")
        if population is None:
            rate_text = ratio_text = ci_text = bounds_text = "—"
        elif report.get("ethnicity") == "officer" and group == "Mixed" and rate is None:
            rate_text = ratio_text = "no officer category"
            ci_text = bounds_text = "—"
        elif not _group_shown(marks, group):
            rate_text = ratio_text = ci_text = bounds_text = SUPPRESSED if searches else "—"
        else:
            rate_text = f"{rate:,.1f}" if rate is not None else "—"
            if group == REFERENCE_GROUP:
                ratio_text, ci_text, bounds_text = "1 (reference)", "", ""
            elif not _ratio_shown(marks, group):
                ratio_text = ci_text = bounds_text = SUPPRESSED
            else:
                ratio_text, ci_text = _ratio_and_interval(ratio, ci) if ratio is not None else ("—", "—")
                # the bounds add the searches with no ethnicity stated: shown only when that count is
                bounds_text = (
                    (_ratio_range(bounds) if bounds else "—")
                    if _group_shown(marks, "Not stated")
                    else SUPPRESSED
                )
        rows.append(
            (
                group,
                count_cell(searches, _group_shown(marks, group)),
                f"{population:,}" if population is not None else "no figure",
                rate_text,
                ratio_text,
                ci_text,
                bounds_text,
            )
        )
    return rows


def _outcome_cells(figures: Mapping[str, Any], marks: Published, *dim: Any) -> tuple[str, ...]:
    searches, known = figures.get("searches"), figures.get("find_known")
    searches_shown, arrests_shown, known_shown, finds_shown = _event_shown(marks, *dim)
    return (
        count_cell(searches, searches_shown),
        part_cell(figures.get("arrests"), searches, arrests_shown),
        rate_cell(figures.get("arrest_rate"), figures.get("arrest_rate_ci95"), searches, arrests_shown),
        count_cell(known, known_shown),
        part_cell(figures.get("finds"), known, finds_shown),
        rate_cell(figures.get("find_rate"), figures.get("find_rate_ci95"), known, finds_shown),
    )


def _by_group_find_rates(entries: Mapping[str, Mapping[str, Any]], threshold: int) -> list[tuple[str, ...]]:
    """Rows of (label, find rate of each group): how find rates differ by group within each kind of search.
    Rates only (no counts, so nothing here adds up to a published total); a rate resting on fewer than
    `threshold` searches with a find recorded is suppressed."""
    rows = []
    for label, figures in sorted(entries.items(), key=lambda item: -(item[1].get("searches") or 0)):
        by_group = figures.get("by_group") or {}
        if not by_group:
            continue
        cells = []
        for group in GROUPS:
            g = by_group.get(group) or {}
            known = g.get("find_known")
            cells.append(
                _pct(g.get("find_rate")) if shown(known, threshold) else SUPPRESSED if known else "—"
            )
        rows.append((label, *cells))
    return rows


def _drug_rows(report: Report, marks: Published) -> list[tuple[str, ...]]:
    drugs = report.get("drugs") or {}
    return [
        (name.capitalize(), *_outcome_cells(drugs[name], marks, "d", name))
        for name in ("possession", "supply")
        if drugs.get(name)
    ]


def _monthly_rows(report: Report, marks: Published) -> list[tuple[str, ...]]:
    rows = []
    for month in report.get("monthly") or []:
        m = month.get("month") or ""
        by_group = month.get("by_group") or {}
        searches_shown, arrests_shown, _known_shown, finds_shown = _event_shown(marks, "m", m)
        rows.append(
            (
                charts.month_label(m),
                count_cell(month.get("searches"), searches_shown),
                *(count_cell(by_group.get(g, 0), marks.shown(("S", "mg", m, g))) for g in GROUPS),
                part_cell(month.get("arrests"), month.get("searches"), arrests_shown),
                rate_cell(
                    (month.get("finds") or 0) / month["find_known"] if month.get("find_known") else None,
                    None,
                    month.get("find_known"),
                    finds_shown,
                ),
            )
        )
    return rows


def _review_view(report: Report, marks: Published) -> dict[str, Any] | None:
    review = report.get("grounds_review") or {}
    if not review.get("reviewed"):
        return None

    def row(label: str, figures: Mapping[str, Any], *dim: str) -> tuple[str, ...]:
        reviewed = figures.get("reviewed") or 0
        reviewed_shown = marks.shown(("rev", *dim))
        recorded_shown = reviewed_shown and marks.shown(("rec", *dim))
        return (
            label,
            count_cell(reviewed, reviewed_shown),
            part_cell(figures.get("recorded"), reviewed, recorded_shown),
            rate_cell(figures.get("proportion"), figures.get("ci95"), reviewed, recorded_shown),
        )

    strong = (
        rate_cell(
            review.get("strong_proportion"),
            review.get("strong_ci95"),
            review.get("reviewed"),
            marks.shown(("rev",), ("strong",)),
        )
        if review.get("strong_proportion") is not None
        else "—"
    )
    # Teams whose figures are all suppressed are one line, not a row each (a force has dozens of teams, most
    # with a handful of searches sampled): their names say nothing a reader can use.
    teams = [row(team, figures, "t", team) for team, figures in sorted((review.get("by_team") or {}).items())]
    return {
        "overall": row("All reviewed", review),
        "strong": strong,
        "by_group": [
            row(g, review["by_group"][g], "g", g) for g in GROUPS if g in (review.get("by_group") or {})
        ],
        "by_team": [team for team in teams if not _all_suppressed(team)],
        "teams_hidden": sum(1 for team in teams if _all_suppressed(team)),
    }


def _all_suppressed(row: Sequence[str]) -> bool:
    """A row whose every figure is suppressed: it tells the reader nothing but its label."""
    return all(cell == SUPPRESSED for cell in row[1:])


ETHNICITY_COLUMNS = ("Self-defined ethnicity", "Officer-defined ethnicity")
LINKED_COLUMN = "Outcome linked to object of search"


def _quality_view(quality: Mapping[str, Any], marks: Published) -> dict[str, Any]:
    """The data-quality section. A share is shown only when the counts behind it are (a share of a shown
    total gives its count away): the 'not stated' shares with the Not stated searches, the blank-find
    shares with the searches with a find recorded, a month's shares with that month's figures."""
    present = list(quality.get("months_present") or [])
    vocabulary = quality.get("outcome_vocabulary") or {}
    not_stated_shown = marks.shown(("S",), ("S", "g", "Not stated"))
    linked_shown = marks.shown(("S",), ("K",))

    def column_shown(column: str) -> bool:
        if column in ETHNICITY_COLUMNS:
            return not_stated_shown
        return linked_shown if column == LINKED_COLUMN else True

    blanks = sorted(
        ((column, share) for column, share in (quality.get("blank_share") or {}).items() if share),
        key=lambda item: (-item[1], item[0]),
    )

    def share(value: float | None, visible: bool) -> str:
        return _share(value) if visible or value is None else SUPPRESSED

    def month_row(m: Mapping[str, Any]) -> tuple[str, ...]:
        month = m["month"]
        records_shown = marks.shown(("R", "m", month))
        return (
            month_title(month),
            count_cell(m["records"], records_shown),
            share(m["not_stated_share"], marks.shown(("S", "m", month), ("S", "mg", month, "Not stated"))),
            share(m["coordinates_missing_share"], records_shown),
            share(m["outcome_linked_blank_share"], marks.shown(("S", "m", month), ("K", "m", month))),
            VOCABULARY_TITLES.get(m["outcome_vocabulary"], m["outcome_vocabulary"]),
        )

    return {
        "facts": [
            (
                "Months imported",
                f"{len(present)} ({month_title(present[0])} to {month_title(present[-1])})"
                if present
                else "none",
            ),
            (
                "Months not imported",
                ", ".join(month_title(m) for m in quality.get("months_missing") or []) or "none",
            ),
            ("Ethnicity not stated", share(quality.get("not_stated_share"), not_stated_shown)),
            (
                "No location (latitude and longitude blank)",
                share(quality.get("coordinates_missing_share"), marks.shown(("R",))),
            ),
            (
                "'Outcome linked to object of search' blank",
                share(quality.get("outcome_linked_blank_share"), linked_shown),
            ),
            (
                "Outcome list before April 2018 (old)",
                ", ".join(month_title(m) for m in vocabulary.get("old") or []) or "none",
            ),
            (
                "Outcome list from April 2018 (new)",
                _month_span(vocabulary.get("new") or []),
            ),
        ],
        "blank_rows": [(column, share(value, column_shown(column))) for column, value in blanks],
        "month_rows": [month_row(m) for m in quality.get("by_month") or []],
    }


VOCABULARY_TITLES = {
    "old": "before April 2018",
    "new": "from April 2018",
    "mixed": "both lists in one month",
    "none": "no outcome recognised",
}


def _month_span(months: Sequence[str]) -> str:
    if not months:
        return "none"
    if len(months) == 1:
        return month_title(months[0])
    return f"{len(months)} months, {month_title(months[0])} to {month_title(months[-1])}"


def methods(report: Report, threshold: int) -> list[tuple[str, str]]:
    """(heading, paragraph) pairs: how each figure is made and what to bear in mind."""
    census = census_title(report)
    vehicle = report.get("vehicle_only") or 0
    officer = (
        [
            (
                "Officer-defined ethnicity and the census",
                "Officers record White, Black, Asian or Other: the officer-defined data has no Mixed "
                "category, so people of Mixed ethnicity are counted in whichever group the officer chose "
                "and no rate or ratio is given for Mixed (none, rather than 0). Officers also record "
                "Chinese people as Other, while the census figures used here count Chinese people as "
                "Asian. The denominators therefore do not match the officer categories: the rates for the "
                "groups officers put Mixed people in are overstated, the Asian rate is understated and the "
                "Other rate overstated. Self-defined ethnicity matches the census groups.",
            )
        ]
        if report.get("ethnicity") == "officer"
        else []
    )
    return [
        (
            "Source",
            "The force's stop and search records as published on data.police.uk (or supplied by the force "
            "in the same columns). Contains public sector information licensed under the Open Government "
            "Licence v3.0.",
        ),
        (
            "Person searches",
            "Every record whose type is not 'Vehicle search'. Vehicle-only searches search no person, so "
            f"they are excluded from per-group figures ({vehicle:,} in this period).",
        ),
        (
            "Ethnic groups",
            f"Groups are by {ETHNICITY_TITLES.get(report.get('ethnicity', 'self'), 'ethnicity')}, in the "
            "five census groups (White, Black, Asian including Chinese, Mixed, Other) and 'Not stated' for a "
            "blank or 'Not stated' answer.",
        ),
        (
            "Population denominators",
            "Rates per 1,000 are searches in the whole period chosen (a year's rate when it is 12 months) "
            "per 1,000 of the usual resident population of the police force area by ethnic group in "
            f"the {census}. Residents are not the same as the people present: areas with many commuters, "
            "visitors or a busy night-time economy have higher rates than their residents alone would give, "
            "and populations change between censuses.",
        ),
        *officer,
        (
            "Ratios and their intervals",
            "Ratio to White = the group's rate ÷ the rate for White people. The 95% interval is "
            "exp(ln r ± 1.96 √(1/a + 1/b)), where a and b are the two groups' numbers of searches. An "
            "interval wholly above 1 means the group is searched more often than chance would explain; one "
            "that includes 1 shows no clear difference.",
        ),
        (
            "Ethnicity not stated",
            "Searches with no ethnicity stated are left out of the rates, which understates every group's "
            "rate. The range given beside each ratio is what the ratio would be if those searches had all "
            "been of White people (the lower end) or all of that group (the upper end): the true ratio lies "
            "within it.",
        ),
        (
            "Arrests and finds",
            "An arrest is an outcome of 'Arrest' or 'Suspect arrested'. A find is 'Outcome linked to object "
            "of search' recorded as True; the find rate is finds ÷ searches where that column is True or "
            "False. A blank is excluded and counted under data quality; it is never counted as False "
            "(nothing found). Arrest and find rates carry Wilson 95% intervals.",
        ),
        (
            "The April 2018 change of outcomes",
            "data.police.uk changed its list of outcomes in April 2018: 'Suspect arrested' became 'Arrest', "
            "'Nothing found - no further action' became 'A no further action disposal', and 'Article found - "
            "Detailed outcome unavailable' has no successor. Arrests are counted under both lists; other "
            "outcomes are not comparable across the change.",
        ),
        (
            "Small numbers",
            f"Figures based on fewer than {threshold} searches are suppressed. Every figure rests on a set "
            "of searches (a group's, an object's, a month's, a month's of one group, or those where a find "
            f"was recorded); when the set has fewer than {threshold}, its size and what is drawn from it "
            "(arrests, finds, rates, ratios) are suppressed. So that a suppressed figure cannot be worked "
            "out by subtracting the others from a total published beside it (all searches, a month's "
            "searches, all arrests), further figures are suppressed with it: in any row or total with a "
            "suppressed figure, at least one more, the next smallest, and more until no suppressed figure "
            "is determined by the published totals. Both kinds are shown alike, as 'suppressed'; zeros are "
            "always shown. A ratio to White needs both groups' searches, and a share of records (such as "
            "ethnicity not stated) is shown only when the count behind it is. Suppressed figures are not "
            "drawn in the charts or used in the summary.",
        ),
    ]


def render_html(report: Report, *, force_name: str, threshold: int) -> str:
    """The publication: one standalone, printable HTML document (charts embedded, nothing fetched)."""
    view = report_view(report, force_name=force_name, threshold=threshold)
    return _environment.get_template("stopsearch/publication.html").render(view=view)


def render_pdf(report: Report, *, force_name: str, threshold: int) -> bytes:
    return html_to_pdf(render_html(report, force_name=force_name, threshold=threshold))
