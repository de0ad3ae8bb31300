"""Charts drawn on the server (matplotlib, no pyplot state): SVG for screens, the same figures in PDFs."""

from __future__ import annotations

import io
from collections.abc import Callable

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure

from custodes.workforce.schemas import TrainingDashboard

GREEN, AMBER, RED, INK = "#00703c", "#f0a30a", "#b10e1e", "#0b0c0c"


def compliance_svg(board: TrainingDashboard, area: Callable[[str | None], str] | None = None) -> bytes:
    """Stacked bars: the percentage of staff current, due soon and out of date, per area and force-wide.
    `area` names an area from its code ("North Division (NA)"), as the screens do."""
    rows = [*reversed(board.areas), board.force]
    area_name = area or (lambda code: code or "—")
    labels = [
        f"{area_name(row.label) if row is not board.force else 'Force'}: {row.staff:,} staff" for row in rows
    ]
    figure = Figure(figsize=(8, 0.55 * len(rows) + 1.3), dpi=96)
    axes = figure.add_subplot()
    left = [0.0] * len(rows)
    for name, colour, attribute in (
        ("Current", GREEN, "current"),
        (f"Due within {board.within_days} days", AMBER, "due_soon"),
        ("Out of date", RED, "out_of_date"),
    ):
        widths = [row.percent(getattr(row, attribute)) for row in rows]
        bars = axes.barh(labels, widths, left=left, color=colour, label=name, height=0.62)
        for bar, width in zip(bars, widths, strict=True):
            if width >= 6:
                axes.text(
                    bar.get_x() + width / 2,
                    bar.get_y() + bar.get_height() / 2,
                    f"{width:.0f}%",
                    ha="center",
                    va="center",
                    color="white" if colour != AMBER else INK,
                    fontsize=9,
                    fontweight="bold",
                )
        left = [a + b for a, b in zip(left, widths, strict=True)]
    axes.set_xlim(0, 100)
    axes.set_xlabel("% of staff (each counted once, by their worst mandatory course)")
    axes.spines[["top", "right"]].set_visible(False)
    axes.legend(
        loc="upper center", bbox_to_anchor=(0.5, -0.28 if len(rows) < 4 else -0.18), ncol=3, frameon=False
    )
    figure.tight_layout()
    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "custodes"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()
