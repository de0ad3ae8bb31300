"""`custodes stopsearch report|sample` and the stop-search import kinds (stopsearch.md, docs/cli.md)."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from custodes.context import CLI_ACTOR, console, errors, fail, progress_bar, settings, unit_of_work
from custodes.kit.tabular import BatchRejected
from custodes.stopsearch import service
from custodes.stopsearch.schemas import ReportRequest

app = typer.Typer(
    help="Stop and search: analysis, publication and supervisory samples.", no_args_is_help=True
)


class Format(StrEnum):
    JSON = "json"
    HTML = "html"
    PDF = "pdf"


class Ethnicity(StrEnum):
    SELF = "self"
    OFFICER = "officer"


class Census(StrEnum):
    CENSUS2011 = "census2011"
    CENSUS2021 = "census2021"


def import_stop_searches(files: list[Path], force: str | None, month: str | None = None) -> None:
    """`custodes import stop-searches FILE... [--force NAME] [--month YYYY-MM]`: all files, or nothing if any
    row is bad. Each file is one force-month (from its name, or --month)."""
    with progress_bar(transient=False) as bar:
        task = bar.add_task("Reading and checking", total=None)

        def step(what: str, done: int, total: int) -> None:
            bar.update(task, description=what, completed=done, total=total)

        try:
            with unit_of_work() as session:
                summary = service.import_stop_searches(
                    session, settings(), files, actor=CLI_ACTOR, force=force, month=month, progress=step
                )
        except BatchRejected as rejected:
            bar.stop()
            _rejected(rejected)
        bar.update(task, description="Done", completed=1, total=1)
    console.print(f"Imported {summary}.")


def import_population(files: list[Path], census: str | None) -> None:
    try:
        with unit_of_work() as session:
            summary = service.import_population(session, files, actor=CLI_ACTOR, census=census)
    except BatchRejected as rejected:
        _rejected(rejected)
    console.print(f"Imported {summary}.")


def _rejected(rejected: BatchRejected) -> None:
    for problem in rejected.problems:
        errors.print(str(problem), markup=False)
    fail(f"{len(rejected.problems)} problem(s) found; nothing was imported.")


@app.command()
def report(
    force: Annotated[str, typer.Option(help="Force id or name, e.g. kent or 'Metropolitan Police'.")],
    period_from: Annotated[str, typer.Option("--from", help="First month, YYYY-MM.")],
    period_to: Annotated[str, typer.Option("--to", help="Last month, YYYY-MM (inclusive).")],
    out: Annotated[Path, typer.Option(help="File to write.")],
    output_format: Annotated[Format, typer.Option("--format", help="json, html or pdf.")] = Format.JSON,
    ethnicity: Annotated[Ethnicity, typer.Option(help="Self-defined or officer-defined.")] = Ethnicity.SELF,
    population: Annotated[
        Census | None,
        typer.Option(
            help="Population denominators; by default the census nearest the period held for the force."
        ),
    ] = None,
) -> None:
    """Disparity and outcome analysis for a force and period: JSON data, or the HTML/PDF publication."""
    request = ReportRequest(
        force, period_from, period_to, ethnicity.value, population.value if population else ""
    )
    with unit_of_work(checkpoint=False) as session:
        try:
            result = service.report(session, settings(), request)
        except service.ReportError as error:
            fail(str(error))
        threshold = result["suppression_threshold"]
    if output_format is Format.JSON:
        out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    else:
        from custodes.stopsearch import publication

        name = service.force_name(result["force"])
        if output_format is Format.HTML:
            out.write_text(
                publication.render_html(result, force_name=name, threshold=threshold), encoding="utf-8"
            )
        else:
            out.write_bytes(publication.render_pdf(result, force_name=name, threshold=threshold))
    console.print(
        f"{service.force_name(result['force'])} {result['from']} to {result['to']}: "
        f"{result['records']:,} records, {result['person_searches']:,} person searches. Written to {out}."
    )


@app.command()
def sample(
    force: Annotated[str, typer.Option(help="Force id or name.")],
    period_from: Annotated[str, typer.Option("--from", help="First month, YYYY-MM.")],
    period_to: Annotated[str, typer.Option("--to", help="Last month, YYYY-MM (inclusive).")],
    size: Annotated[int, typer.Option(help="How many searches to sample.", min=1)],
    seed: Annotated[int, typer.Option(help="Random seed: the same seed and data give the same sample.")],
    stratify: Annotated[str | None, typer.Option(help="'ethnicity': in proportion to each group.")] = None,
) -> None:
    """Draw a reproducible random sample of person searches for supervisors to review."""
    with unit_of_work() as session:
        try:
            drawn = service.draw_sample(
                session,
                settings(),
                force=force,
                period_from=period_from,
                period_to=period_to,
                size=size,
                seed=seed,
                stratify=stratify,
                actor=CLI_ACTOR,
            )
        except service.ReportError as error:
            fail(str(error))
        detail = service.sample_detail(session, drawn.reference, actor=CLI_ACTOR)
        assert detail is not None
        table = Table("#", "Record", "Date", "Group", "Object of search", "Outcome", title=drawn.reference)
        for item in detail[1]:
            row = service.record(item)
            table.add_row(
                str(item.position),
                item.record_key,
                row.get("date", ""),
                item.ethnic_group,
                row.get("object", ""),
                row.get("outcome", ""),
            )
    console.print(table)
    console.print(
        f"Sample {drawn.reference}: {drawn.size} of {drawn.population_size:,} person searches. "
        "Supervisors record their review on the Stop and search screen."
    )
