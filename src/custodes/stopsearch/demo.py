"""The demo force's stop and search (`custodes demo`): two years of its records, imported as a force would.

Through the same services as the command line: the monthly files are written by the generator (with the
force-system columns: grounds, drug search type, officer, team, body-worn video), imported; the force area's
population is imported; a supervisor draws a sample of 103 searches (as the inspectorate did) and reviews
it; and the report for the last twelve months is published.

The records are the demo force's own: generated for the Kent force area (where the demo's divisions are,
`generator.DEMO_AREA`) and imported under the configured force's id (`demo_force`), so the stop and search
pages and the published report name the force as the masthead does ("Demo Constabulary"), and no real
force's name is put on made-up figures.
"""

from __future__ import annotations

import csv
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from custodes.settings import Settings
from custodes.stopsearch import generator, service
from custodes.stopsearch.analysis import shift_month
from custodes.stopsearch.forces import force_key, slug
from custodes.stopsearch.models import PublishedReport
from custodes.stopsearch.schemas import ReportRequest

DEMO_ACTOR = "system:demo"
DEMO_MONTHS = 24
DEMO_RECORDS_PER_MONTH = 3000
SAMPLE_SIZE = 103  # the inspectorate's sample (stopsearch.md)
_SPECIFIC = ("seen", "saw", "matched", "intelligence", "caller", "cctv")  # grounds a reviewer calls strong


def demo_period(today: date) -> tuple[str, str]:
    """The demo's months: the two years up to the last full month before `today`."""
    last = shift_month(f"{today:%Y-%m}", -1)
    return shift_month(last, -(DEMO_MONTHS - 1)), last


def demo_force(settings: Settings) -> str:
    """The force id the demo's records are imported under: the configured force name's (CUSTODES_FORCE_NAME;
    "Demo Constabulary" → `demo-constabulary`, named "Demo Constabulary"; a real force's name, its id)."""
    return force_key(settings.force_name) or slug(settings.force_name) or generator.DEMO_AREA


def load_demo(
    session: Session, settings: Settings, *, seed: int, progress: Any = None, today: date | None = None
) -> PublishedReport:
    """Import, sample, review and publish the demo force's stop and search; returns the publication."""
    say = progress.print if progress is not None else (lambda _message: None)
    force = demo_force(settings)
    area = generator.DEMO_AREA
    first, last = demo_period(today or date.today())
    with tempfile.TemporaryDirectory(prefix="custodes-demo-stopsearch-") as folder:
        say(f"Importing {DEMO_MONTHS * DEMO_RECORDS_PER_MONTH:,} stop and search records…")
        paths = generator.write_force(
            Path(folder),
            force,
            first,
            DEMO_MONTHS,
            DEMO_RECORDS_PER_MONTH,
            seed,
            force_columns=True,
            area=area,
        )
        service.import_stop_searches(session, settings, paths, actor=DEMO_ACTOR, force=force)
        population = Path(folder) / "population.csv"
        with population.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, ["force", "census", "group", "population"])
            writer.writeheader()
            for census in ("census2011", "census2021"):
                writer.writerows(generator.population_rows(force, census, area=area))
        service.import_population(session, [population], actor=DEMO_ACTOR)
    session.flush()
    year_from = shift_month(last, -11)
    say("Drawing and reviewing a supervisory sample of stop and search grounds…")
    sample = service.draw_sample(
        session,
        settings,
        force=force,
        period_from=year_from,
        period_to=last,
        size=SAMPLE_SIZE,
        seed=seed,
        stratify="ethnicity",
        actor=DEMO_ACTOR,
    )
    _review(session, sample.reference)
    say("Publishing the stop and search report…")
    return service.publish(session, settings, ReportRequest(force, year_from, last), actor=DEMO_ACTOR)


def _review(session: Session, reference: str) -> None:
    """A supervisor's findings: grounds recorded when the text says what was seen or known, strong when it
    is specific; the last few records are left for the demo's supervisor to review."""
    found = service.sample_detail(session, reference, actor=DEMO_ACTOR)
    if found is None:
        return
    _sample, items = found
    for item in items[: max(0, len(items) - 8)]:
        grounds = (service.record(item).get("grounds") or "").strip()
        recorded = bool(grounds) and grounds not in generator.WEAK_GROUNDS
        strong = recorded and any(word in grounds.lower() for word in _SPECIFIC)
        note = None if recorded else ("No grounds recorded" if not grounds else f"Too general: {grounds!r}")
        service.record_review(
            session, reference, item.position, recorded=recorded, strong=strong, note=note, actor=DEMO_ACTOR
        )
