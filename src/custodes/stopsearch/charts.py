"""Stop-search charts (matplotlib, no pyplot state): SVG for the screens, the same figures in the publication.

Every chart draws only the figures the tables show (small-number suppression, suppression.py): a group, a
month or an object of search whose figures are suppressed is left out, and the chart says so underneath.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import matplotlib

matplotlib.use("Agg")

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from custodes.stopsearch.schemas import GROUPS, REFERENCE_GROUP, Report
from custodes.stopsearch.suppression import Published, published

INK, MUTED, GRID = "#0b0c0c", "#505a5f", "#d8d8d8"
# Okabe–Ito: distinguishable with the common colour-vision deficiencies; the reference group in dark grey.
GROUP_COLOURS = {
    "White": "#3d3d3d",
    "Black": "#0072b2",
    "Asian": "#e69f00",
    "Mixed": "#009e73",
    "Other": "#cc79a7",
    "Not stated": "#999999",
}
FIND, ARREST = "#0072b2", "#d55e00"


def shown(base: int | None, threshold: int) -> bool:
    """Whether a figure based on `base` searches may be published: at least `threshold` of them."""
    return base is not None and base >= threshold


def ratio_places(ratio: float, ci: Sequence[float] | None = None) -> int:
    """Decimal places for a ratio to White and its interval, shown alike: one (two below 0.95), but two
    whenever the ratio or an end rounds to 1.0, and more while an interval that excludes 1 still has a
    figure that reads as exactly 1 (so "less often ... at 1.0 times their rate" cannot happen)."""
    places = 1 if ratio >= 0.95 else 2
    values = [ratio, *(ci or ())]
    excludes_one = bool(ci) and (ci[0] > 1 or ci[1] < 1)  # type: ignore[index]

    def reads_as_one(digits: int) -> bool:
        return any(f"{value:.{digits}f}" == f"{1:.{digits}f}" for value in values)

    if places == 1 and reads_as_one(1):
        places = 2
    while excludes_one and places < 4 and reads_as_one(places):
        places += 1
    return places


def data_uri(svg: bytes) -> str:
    """The SVG as a data: URI for an <img> (the screens' CSP and WeasyPrint both accept it)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


# --------------------------------------------------------------------------- the charts


def rates_svg(report: Report, threshold: int, marks: Published | None = None) -> bytes | None:
    """Searches per 1,000 residents by group, and each group's ratio to White with its 95% interval.

    None when no group has both a population figure and figures shown (nothing to draw)."""
    marks = marks or published(report, threshold)
    groups = report.get("groups", {})
    rows = [
        group
        for group in GROUPS
        if groups.get(group, {}).get("rate_per_1000") is not None and marks.shown(("S", "g", group))
    ]
    if not rows:
        return None
    rows.reverse()  # barh draws upwards: the first group at the top
    figure = Figure(figsize=(8.4, 0.5 * len(rows) + 1.7), dpi=96)
    left, right = figure.subplots(1, 2, sharey=True, gridspec_kw={"width_ratios": [1, 1.15]})
    rates = [groups[g]["rate_per_1000"] for g in rows]
    bars = left.barh(rows, rates, color=[GROUP_COLOURS[g] for g in rows], height=0.62)
    top = max(rates) or 1.0
    for bar, rate in zip(bars, rates, strict=True):
        left.text(bar.get_width() + top * 0.02, bar.get_y() + bar.get_height() / 2, _one(rate),
                  va="center", fontsize=9, color=INK)  # fmt: skip
    left.set_xlim(0, top * 1.22)
    left.set_xlabel("Searches per 1,000 residents")
    _tidy(left)

    ratios = [(g, groups[g].get("ratio_to_white"), groups[g].get("ratio_ci95")) for g in rows]
    plotted = [
        (g, r, ci)
        for g, r, ci in ratios
        if r is not None and marks.shown(("S", "g", g), ("S", "g", REFERENCE_GROUP))
    ]
    for group, ratio, ci in plotted:
        y = rows.index(group)
        if ci and group != REFERENCE_GROUP:
            spread = [[max(0.0, ratio - ci[0])], [max(0.0, ci[1] - ratio)]]
            right.errorbar([ratio], [y], xerr=spread, fmt="none", ecolor=INK, elinewidth=1.2, capsize=4)
        right.plot([ratio], [y], "o", color=GROUP_COLOURS[group], markersize=8, markeredgecolor=INK)
        label = "reference" if group == REFERENCE_GROUP else f"{ratio:.{ratio_places(ratio, ci)}f}×"
        right.annotate(label, (ratio, y), xytext=(0, 9), textcoords="offset points", ha="center",
                       fontsize=9, color=INK)  # fmt: skip
    right.axvline(1.0, color=MUTED, linewidth=1, linestyle="--")
    highs = [ci[1] if ci else r for _g, r, ci in plotted] or [1.0]
    lows = [ci[0] if ci else r for _g, r, ci in plotted] or [1.0]
    if max(highs) / max(min(lows), 1e-9) > 12:
        right.set_xscale("log")
        right.set_xlim(min(min(lows), 1.0) / 1.4, max(max(highs), 1.0) * 1.4)
    else:
        right.set_xlim(0, max(max(highs), 1.0) * 1.15)
    right.set_xlabel("Rate compared with White people (95% interval)")
    right.tick_params(axis="y", length=0)
    _tidy(right)
    right.set_ylim(-0.6, len(rows) - 0.4)
    return _svg(
        figure,
        _left_out(report, threshold, marks, [g for g in GROUPS if g not in rows and g != "Not stated"]),
    )


def outcomes_svg(report: Report, threshold: int, marks: Published | None = None) -> bytes | None:
    """Find rate and arrest rate by group, with Wilson 95% intervals."""
    marks = marks or published(report, threshold)
    groups = report.get("groups", {})
    return _paired_rates(
        [(g, groups[g], ("g", g)) for g in GROUPS if g in groups],
        threshold,
        marks,
        xlabel="% of searches (95% interval)",
    )


def objects_svg(report: Report, threshold: int, marks: Published | None = None) -> bytes | None:
    """Find rate and arrest rate by object of search, with Wilson 95% intervals."""
    marks = marks or published(report, threshold)
    objects = report.get("by_object", {})
    ordered = sorted(objects.items(), key=lambda item: -(item[1].get("searches") or 0))
    return _paired_rates(
        [(name, figures, ("o", name)) for name, figures in ordered],
        threshold,
        marks,
        xlabel="% of searches for that object (95% interval)",
    )


def trend_svg(report: Report, threshold: int, marks: Published | None = None) -> bytes | None:
    """Searches a month by group; below, the ratio to White over the 12 months to each month.

    A month's count of a group is drawn only when the table shows it. A 12-month ratio is drawn only when
    its whole window lies in the report's months and every month's count of the group and of White in it
    is shown: the ratio is then a function of published figures. (A window reaching before the period, or
    over a suppressed month, would give away by subtraction counts that are not published.)"""
    marks = marks or published(report, threshold)
    monthly: list[dict[str, Any]] = report.get("monthly") or []
    if not monthly:
        return None
    months = [m["month"] for m in monthly]
    rolling = [r for r in report.get("rolling_12_months") or [] if r.get("complete")]
    windows = _twelve_month_counts(monthly)
    ratio_lines: dict[str, list[tuple[int, float]]] = {}
    for entry in rolling:
        if entry["month"] not in months:
            continue
        window = _window(entry["month"])
        if any(m not in months for m in window):
            continue
        counts = windows[entry["month"]]
        for group, ratio in (entry.get("ratio_to_white") or {}).items():
            if group == REFERENCE_GROUP or ratio is None:
                continue
            published_counts = all(
                marks.shown(("S", "mg", m, group), ("S", "mg", m, REFERENCE_GROUP)) for m in window
            )
            if (
                published_counts
                and shown(counts.get(group), threshold)
                and shown(counts.get(REFERENCE_GROUP), threshold)
            ):
                ratio_lines.setdefault(group, []).append((months.index(entry["month"]), ratio))
    ratio_lines = {group: points for group, points in ratio_lines.items() if len(points) > 1}  # a trend
    panels = 2 if ratio_lines else 1
    figure = Figure(figsize=(8.4, 3.4 * panels + 0.6), dpi=96)
    axes_list = figure.subplots(panels, 1, sharex=True, squeeze=False)[:, 0]
    counts_axes = axes_list[0]
    x = list(range(len(months)))
    hidden = False
    for group in GROUPS:
        values = [m.get("by_group", {}).get(group, 0) for m in monthly]
        visible = [
            not v or marks.shown(("S", "mg", m["month"], group)) for v, m in zip(values, monthly, strict=True)
        ]
        if not any(v and ok for v, ok in zip(values, visible, strict=True)):
            hidden = hidden or any(values)
            continue
        points = [v if ok else math.nan for v, ok in zip(values, visible, strict=True)]
        hidden = hidden or not all(visible)
        counts_axes.plot(x, points, marker="o", markersize=3, linewidth=1.8, color=GROUP_COLOURS[group],
                         label=group)  # fmt: skip
    counts_axes.set_ylabel("Person searches a month")
    counts_axes.set_ylim(bottom=0)
    if counts_axes.get_legend_handles_labels()[0]:
        counts_axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=9)
    _tidy(counts_axes, grid="y")
    if ratio_lines:
        ratio_axes = axes_list[1]
        for group, line in ratio_lines.items():
            ratio_axes.plot([p[0] for p in line], [p[1] for p in line], marker="o", markersize=3,
                            linewidth=1.8, color=GROUP_COLOURS[group], label=group)  # fmt: skip
        ratio_axes.axhline(1.0, color=MUTED, linewidth=1, linestyle="--")
        ratio_axes.set_ylabel("Ratio to White,\n12 months to date")
        ratio_axes.set_ylim(bottom=0)
        ratio_axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=9)
        _tidy(ratio_axes, grid="y")
    step = max(1, math.ceil(len(months) / 12))
    bottom = axes_list[-1]
    bottom.set_xticks(x[::step], [month_label(m) for m in months[::step]], rotation=45, ha="right")
    note = (
        f"Suppressed months of a group (fewer than {threshold} searches, or withheld so those cannot be "
        "worked out) are not plotted."
        if hidden
        else None
    )
    return _svg(figure, note)


def chart_uris(report: Report, threshold: int, marks: Published | None = None) -> dict[str, str | None]:
    """The four charts as data: URIs (None where there is nothing to draw)."""
    marks = marks or published(report, threshold)
    made = {
        "rates": rates_svg(report, threshold, marks),
        "outcomes": outcomes_svg(report, threshold, marks),
        "objects": objects_svg(report, threshold, marks),
        "trend": trend_svg(report, threshold, marks),
    }
    return {name: data_uri(svg) if svg else None for name, svg in made.items()}


# --------------------------------------------------------------------------- helpers


def _paired_rates(
    rows: Sequence[tuple[str, Mapping[str, Any], tuple[Any, ...]]],
    threshold: int,
    marks: Published,
    *,
    xlabel: str,
) -> bytes | None:
    """Two bars a row (find rate, arrest rate) with interval whiskers; suppressed rows and bars are left
    out."""
    drawn: list[tuple[str, float | None, Any, float | None, Any]] = []
    left_out: list[str] = []
    for label, figures, dim in rows:
        finds_shown = figures.get("find_known") and marks.shown(("K", *dim), ("F", *dim))
        arrests_shown = figures.get("searches") and marks.shown(("S", *dim), ("A", *dim))
        find = figures.get("find_rate") if finds_shown else None
        arrest = figures.get("arrest_rate") if arrests_shown else None
        if find is None and arrest is None:
            if figures.get("searches"):
                left_out.append(label)
            continue
        drawn.append((label, find, figures.get("find_rate_ci95"), arrest, figures.get("arrest_rate_ci95")))
    if not drawn:
        return None
    drawn.reverse()
    height = 0.36
    figure = Figure(figsize=(8.4, 0.62 * len(drawn) + 1.6), dpi=96)
    axes = figure.add_subplot()
    for index, (_label, find, find_ci, arrest, arrest_ci) in enumerate(drawn):
        for offset, value, ci, colour in (
            (height / 2, find, find_ci, FIND),
            (-height / 2, arrest, arrest_ci, ARREST),
        ):
            if value is None:
                continue
            y = index + offset
            axes.barh([y], [100 * value], height=height * 0.92, color=colour)
            if ci:
                spread = [[max(0.0, 100 * (value - ci[0]))], [max(0.0, 100 * (ci[1] - value))]]
                axes.errorbar(
                    [100 * value], [y], xerr=spread, fmt="none", ecolor=INK, elinewidth=1, capsize=3
                )
                end = 100 * ci[1]
            else:
                end = 100 * value
            axes.text(end + 1.2, y, f"{100 * value:.0f}%", va="center", fontsize=8.5, color=INK)
    axes.set_yticks(range(len(drawn)), [_wrap(d[0]) for d in drawn])
    ends = [
        100 * (ci[1] if ci else value)
        for d in drawn
        for value, ci in ((d[1], d[2]), (d[3], d[4]))
        if value is not None
    ]
    axes.set_xlim(0, min(100, 10 * math.ceil((max(ends) + 6) / 10)))
    axes.set_xlabel(xlabel)
    handles = [
        Patch(color=colour, label=label)
        for colour, label, at in ((FIND, "Find linked to the search", 1), (ARREST, "Arrest", 3))
        if any(d[at] is not None for d in drawn)
    ]
    axes.legend(handles=handles, loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2, frameon=False)
    _tidy(axes, grid="x")
    return _svg(figure, _left_out_labels(left_out, threshold))


def _window(month: str) -> list[str]:
    """The 12 months ending with `month`."""
    index = int(month[:4]) * 12 + int(month[5:7]) - 1
    return [f"{(index - back) // 12:04d}-{(index - back) % 12 + 1:02d}" for back in range(12)]


def _twelve_month_counts(monthly: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    """Searches by group in the 12 months to each month, counting the months in `monthly` only: at most
    the window's true count, so a window shown on this count is never one that should be suppressed."""
    by_month = {m["month"]: m.get("by_group", {}) for m in monthly}
    windows: dict[str, dict[str, int]] = {}
    for month in by_month:
        year, number = int(month[:4]), int(month[5:7])
        window = []
        for back in range(12):
            total = year * 12 + number - 1 - back
            window.append(f"{total // 12:04d}-{total % 12 + 1:02d}")
        windows[month] = {g: sum(by_month[w].get(g, 0) for w in window if w in by_month) for g in GROUPS}
    return windows


def _left_out(report: Report, threshold: int, marks: Published, groups: Sequence[str]) -> str | None:
    figures = report.get("groups", {})
    small = [g for g in groups if figures.get(g, {}).get("searches") and not marks.shown(("S", "g", g))]
    no_population = [
        g for g in groups if figures.get(g, {}).get("searches") and figures[g].get("population") is None
    ]
    notes = []
    if small:
        notes.append(_left_out_labels(small, threshold))
    if no_population:
        notes.append(f"No population figure for: {', '.join(no_population)}.")
    return " ".join(n for n in notes if n) or None


def _left_out_labels(labels: Sequence[str], threshold: int) -> str | None:
    if not labels:
        return None
    return (
        f"Not shown (suppressed: fewer than {threshold} searches, or withheld so that those cannot be worked "
        f"out): {', '.join(labels)}."
    )


def _tidy(axes: Axes, grid: Literal["x", "y"] | None = None) -> None:
    axes.spines[["top", "right"]].set_visible(False)
    if grid:
        axes.grid(axis=grid, color=GRID, linewidth=0.8)
        axes.set_axisbelow(True)


def _wrap(label: str, width: int = 28) -> str:
    words, lines, line = label.split(), [], ""
    for word in words:
        if line and len(line) + len(word) + 1 > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return "\n".join(lines)


def _one(value: float) -> str:
    return f"{value:,.1f}"


def month_label(month: str) -> str:
    """The short form of a month: 2018-09 → Sep 2018."""
    if len(month) != 7 or not month[5:7].isdigit() or not 1 <= int(month[5:7]) <= 12:
        return month
    names = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    return f"{names[int(month[5:7]) - 1]} {month[:4]}"


def _svg(figure: Figure, note: str | None = None) -> bytes:
    if note:
        figure.text(0.01, 0.005, note, fontsize=8.5, color=MUTED, ha="left", va="bottom")
    figure.tight_layout(rect=(0, 0.05 if note else 0, 1, 1))
    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "custodes"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()
