"""Stop and search: the rules. Import, population figures, the report, supervisory samples, publication.

Records are kept as Parquet (store.py), one file per force-month; the database says which file is current,
so a re-imported month replaces the old one when the transaction commits, never before. Each force-month
imported is a `collection` entry in the ledger (an `alteration` when it replaces one); each sample drawn,
review recorded and report published is an entry too. Data.police.uk records carry no names, but a force's
own records hold free-text grounds and officer ids: viewing a sample is logged as a consultation.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from custodes import __version__
from custodes.identity import service as identity
from custodes.kit.canonical import canonical_json
from custodes.kit.db import utcnow
from custodes.kit.tabular import BatchRejected, RowProblem
from custodes.kit.timefmt import london, month_title
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryDraft, Op
from custodes.registers import store_register
from custodes.settings import Settings
from custodes.stopsearch import analysis, records
from custodes.stopsearch.forces import NO_RESIDENT_POPULATION, force_key
from custodes.stopsearch.forces import force_name as _force_name
from custodes.stopsearch.models import (
    GroundsReview,
    GroundsSample,
    PopulationFigure,
    PublishedReport,
    StopSearchMonth,
)
from custodes.stopsearch.schemas import (
    CENSUSES,
    ETHNICITY_SOURCES,
    POPULATION_GROUPS,
    PopulationImportSummary,
    Report,
    ReportRequest,
    StopSearchImportSummary,
)
from custodes.stopsearch.store import RecordStore

_MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")


class ReportError(ValueError):
    """A request the service refuses, with the reason in words."""


def record_store(settings: Settings) -> RecordStore:
    return RecordStore(settings.home / "stopsearch")


def force_name(force: str) -> str:
    return _force_name(force)


# --- Import ------------------------------------------------------------------------------------------------


def import_stop_searches(
    session: Session,
    settings: Settings,
    paths: Sequence[Path],
    *,
    actor: str,
    force: str | None = None,
    month: str | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> StopSearchImportSummary:
    """Check every file, then store each force-month, replacing any imported before; all or nothing.

    Each file is one force-month: the month its name gives, or `month` (--month), which files whose name
    gives none (API JSON) need. Its rows dated in a neighbouring month (data.police.uk dates are UTC) stay in
    it: a file replaces its own month only, never one its rows spill into.
    """
    read, problems = records.read_sources(paths, force, month)
    months = _split_months(read, problems)
    if problems:
        raise BatchRejected(problems)
    store = record_store(settings)
    current = {(row.force, row.month): row for row in session.scalars(select(StopSearchMonth))}
    store.sweep((key[0], row.data_file) for key, row in current.items())
    written: list[tuple[str, str]] = []
    superseded: list[tuple[str, str]] = []
    _on_outcome(session, store, written, superseded)
    replaced = []
    for done, ((month_force, month), (result, rows)) in enumerate(sorted(months.items())):
        if progress:
            progress(f"Storing {month_force} {month}", done, len(months))
        data_file = store.write(month_force, month, partial(result.write_parquet, month_force, month))
        written.append((month_force, data_file))
        row = current.get((month_force, month))
        if row is not None:
            superseded.append((month_force, row.data_file))
            replaced.append(f"{month_force}/{month}")
        _store_month(session, row, rows, result.source.path, data_file, actor)
    return StopSearchImportSummary(
        files=len(paths),
        records=sum(rows.records for _, rows in months.values()),
        months=tuple(f"{f}/{m}" for f, m in sorted(months)),
        replaced=tuple(replaced),
    )


def _split_months(
    read: Sequence[records.ReadFile], problems: list[RowProblem]
) -> dict[tuple[str, str], tuple[records.ReadFile, records.MonthRows]]:
    """Each file's force-months; a force-month may come from one file only."""
    months: dict[tuple[str, str], tuple[records.ReadFile, records.MonthRows]] = {}
    for result in read:
        for rows in result.months():
            key = (rows.force, rows.month)
            if key in months:
                where, other = str(result.source.path), months[key][0].source.path
                also = f"{rows.force}/{rows.month} is also in {other}; import it from one file"
                problems.append(RowProblem(where, 0, "-", also))
                continue
            months[key] = (result, rows)
    return months


def _on_outcome(
    session: Session, store: RecordStore, written: list[tuple[str, str]], superseded: list[tuple[str, str]]
) -> None:
    """After commit the replaced files go; after a rollback the new ones do: whichever comes first, once."""
    settled: list[bool] = []

    def settle(files: list[tuple[str, str]]) -> None:
        if not settled:
            settled.append(True)
            for force, data_file in files:
                store.remove(force, data_file)

    event.listen(session, "after_commit", lambda _session: settle(superseded), once=True)
    event.listen(session, "after_rollback", lambda _session: settle(written), once=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _store_month(
    session: Session,
    row: StopSearchMonth | None,
    rows: records.MonthRows,
    source: Path,
    data_file: str,
    actor: str,
) -> None:
    force, month = rows.force, rows.month
    values = {
        "records": rows.records,
        "person_searches": rows.person_searches,
        "source_name": source.name,
        "source_sha256": _sha256(source),
        "data_file": data_file,
        "vocabulary": rows.vocabulary,
        "imported_at": utcnow(),
        "imported_by": actor,
    }
    detail: dict[str, Any] = {
        k: values[k] for k in ("records", "person_searches", "source_name", "source_sha256")
    }
    if row is None:
        session.add(StopSearchMonth(force=force, month=month, **values))
        op = Op.COLLECTION
    else:
        detail["replaced_sha256"] = row.source_sha256
        detail["replaced_records"] = row.records
        for name, value in values.items():
            setattr(row, name, value)
        op = Op.ALTERATION
    ledger.record(
        session,
        EntryDraft(
            actor=actor, op=op, object_type="stop_search_month", object_id=f"{force}/{month}", detail=detail
        ),
    )


# --- Population --------------------------------------------------------------------------------------------

_WIDE_FORCE_HEADERS = {"police force", "police force area", "pfa16nm", "pfa", "force", "geography"}
_WIDE_GROUPS = (
    ("white", "White"),
    ("black", "Black"),
    ("asian", "Asian"),
    ("chinese", "Asian"),
    ("mixed", "Mixed"),
    ("other", "Other"),
)


def import_population(
    session: Session, paths: Sequence[Path], *, actor: str, census: str | None = None
) -> PopulationImportSummary:
    """Population by force area and group: `force, census, group, population`, or a wide table by force.

    Each force, census and group is given once in a batch: a second row for it (in the same file or another)
    is a problem naming both rows, and nothing is stored. Only the columns of one row are added together
    (a table by force's Chinese column to Asian). Figures for a force with no resident population
    (forces.NO_RESIDENT_POPULATION: City of London, British Transport Police) are not stored; the summary
    names those forces.
    """
    if census is not None and census not in CENSUSES:
        raise BatchRejected([RowProblem("--census", 0, "census", f"must be one of {', '.join(CENSUSES)}")])
    figures: dict[str, dict[str, Any]] = {}
    given_at: dict[str, str] = {}
    problems: list[RowProblem] = []
    for path in paths:
        try:
            with path.open(encoding="utf-8-sig", newline="") as handle:
                rows = list(csv.reader(handle))
        except FileNotFoundError:
            problems.append(RowProblem(str(path), 0, "-", "file not found"))
            continue
        except UnicodeDecodeError as error:
            problems.append(RowProblem(str(path), 0, "-", f"not UTF-8 text ({error.reason})"))
            continue
        parse = (
            _long_population
            if rows and [c.strip().lower() for c in rows[0]][:1] == ["force"]
            else _wide_population
        )
        for line, figure in parse(str(path), rows, census, problems):
            key = f"{figure['force']}/{figure['census']}/{figure['group']}"
            if key in given_at:
                problems.append(
                    RowProblem(
                        str(path),
                        line,
                        "force",
                        f"{figure['group']} in {figure['force']} ({figure['census']}) is also given at "
                        f"{given_at[key]}: give each force, census and group once",
                    )
                )
                continue
            given_at[key] = f"{path}:{line}"
            figures[key] = {"key": key, **figure}
    if problems:
        raise BatchRejected(problems)
    skipped = sorted({f["force"] for f in figures.values() if f["force"] in NO_RESIDENT_POPULATION})
    stored = store_register(
        session,
        PopulationFigure,
        [figure for figure in figures.values() if figure["force"] not in NO_RESIDENT_POPULATION],
        kind="population",
        key="key",
        actor=actor,
    )
    return PopulationImportSummary(
        stored.created, stored.updated, stored.unchanged, tuple(force_name(force) for force in skipped)
    )


def _count(text: str) -> int | None:
    cleaned = text.strip().replace(",", "")
    return int(cleaned) if cleaned.isdigit() else None


def _long_population(
    name: str, rows: list[list[str]], census: str | None, problems: list[RowProblem]
) -> Iterable[tuple[int, dict[str, Any]]]:
    header = [cell.strip().lower() for cell in rows[0]]
    missing = [c for c in ("force", "census", "group", "population") if c not in header]
    if missing:
        problems += [RowProblem(name, 1, column, "required column is missing") for column in missing]
        return
    for line, row in enumerate(rows[1:], start=2):
        cells = dict(zip(header, (cell.strip() for cell in row), strict=False))
        force, group = force_key(cells.get("force", "")), cells.get("group", "")
        row_census, population = (
            cells.get("census", "") or (census or ""),
            _count(cells.get("population", "")),
        )
        bad = [
            ("force", force is None, "is not a police force"),
            ("census", row_census not in CENSUSES, f"must be one of {', '.join(CENSUSES)}"),
            ("group", group not in POPULATION_GROUPS, f"must be one of {', '.join(POPULATION_GROUPS)}"),
            ("population", population is None, "must be a whole number"),
        ]
        problems += [RowProblem(name, line, column, rule) for column, failed, rule in bad if failed]
        if not any(failed for _, failed, _ in bad):
            yield line, {"force": force, "census": row_census, "group": group, "population": population}


def _wide_population(
    name: str, rows: list[list[str]], census: str | None, problems: list[RowProblem]
) -> Iterable[tuple[int, dict[str, Any]]]:
    """One row per force: `Police force, White, Black (or Black British), ..., Chinese, Mixed, Other`; the
    row's Chinese column is added to its Asian."""
    if not rows or rows[0][0].strip().lower() not in _WIDE_FORCE_HEADERS:
        problems.append(RowProblem(name, 1, "-", "expected the columns force, census, group, population"))
        return
    if census is None:
        problems.append(
            RowProblem(name, 1, "--census", "a table by force needs --census census2011|census2021")
        )
        return
    columns = {index: _wide_group(cell) for index, cell in enumerate(rows[0]) if index}
    for index, group in columns.items():
        if group is None:
            problems.append(RowProblem(name, 1, rows[0][index], "not an ethnic group column"))
    for line, row in enumerate(rows[1:], start=2):
        force = force_key(row[0]) if row else None
        if force is None:
            problems.append(
                RowProblem(name, line, rows[0][0], f"{row[0] if row else ''!r} is not a police force")
            )
            continue
        by_group: dict[str, int] = {}
        for index, group in columns.items():
            population = _count(row[index]) if index < len(row) else None
            if population is None:
                problems.append(RowProblem(name, line, rows[0][index], "must be a whole number"))
            elif group:
                by_group[group] = by_group.get(group, 0) + population  # Chinese is counted with Asian
        for group, population in by_group.items():
            yield line, {"force": force, "census": census, "group": group, "population": population}


def _wide_group(header: str) -> str | None:
    text = header.strip().lower()
    return next((group for prefix, group in _WIDE_GROUPS if text.startswith(prefix)), None)


def populations(session: Session, force: str, census: str) -> dict[str, int]:
    rows = session.execute(
        select(PopulationFigure.group, PopulationFigure.population).where(
            PopulationFigure.force == force, PopulationFigure.census == census
        )
    )
    return {group: population for group, population in rows}


# --- The report --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MonthSummary:
    month: str
    records: int
    person_searches: int
    vocabulary: str
    imported_at: datetime
    source_name: str


@dataclass(frozen=True, slots=True)
class ForceSummary:
    force: str
    name: str
    months: list[MonthSummary]

    @property
    def records(self) -> int:
        return sum(month.records for month in self.months)


def force_summaries(session: Session) -> list[ForceSummary]:
    by_force: dict[str, list[MonthSummary]] = {}
    for row in session.scalars(
        select(StopSearchMonth).order_by(StopSearchMonth.force, StopSearchMonth.month)
    ):
        by_force.setdefault(row.force, []).append(
            MonthSummary(
                row.month, row.records, row.person_searches, row.vocabulary, row.imported_at, row.source_name
            )
        )
    return [ForceSummary(force, force_name(force), months) for force, months in by_force.items()]


def data_flags(force: ForceSummary) -> list[str]:
    """What a reader of a force's figures should know about its imported months, in words."""
    months = [m.month for m in force.months]
    flags = []
    missing = (
        [m for m in analysis.months_between(months[0], months[-1]) if m not in set(months)] if months else []
    )
    if missing:
        flags.append(f"No records for {', '.join(month_title(m) for m in missing)}.")
    empty = [m.month for m in force.months if m.person_searches == 0]
    if empty:
        flags.append(f"No person searches in {', '.join(month_title(m) for m in empty)}.")
    for kind, words in (("mixed", "both outcome lists"), ("none", "no outcome data.police.uk lists")):
        odd = [m.month for m in force.months if m.vocabulary == kind]
        if odd:
            flags.append(f"Records with {words} in {', '.join(month_title(m) for m in odd)}.")
    if any(m.vocabulary == "old" for m in force.months) and any(m.vocabulary == "new" for m in force.months):
        flags.append("Outcomes change list in April 2018: only arrests compare across the change.")
    return flags


def suppression_threshold(session: Session) -> int:
    return int(identity.config_value(session, "small_number_suppression"))


def check_request(session: Session, request: ReportRequest) -> list[StopSearchMonth]:
    """The force's imported months, or ReportError saying what is wrong with the request."""
    example = f"{utcnow():%Y-%m}"
    for label, month in (("From", request.period_from), ("To", request.period_to)):
        if not _MONTH.match(month or ""):
            given = f", not {month!r}" if month else ""
            raise ReportError(f"{label}: give a month such as {example}{given}")
    if request.period_from > request.period_to:
        raise ReportError(
            f"From: the first month ({request.period_from}) must not be after the last "
            f"(To: {request.period_to})"
        )
    if request.ethnicity not in ETHNICITY_SOURCES:
        raise ReportError("Ethnic group from: choose self-defined or officer-defined ethnicity")
    if request.census and request.census not in CENSUSES:
        raise ReportError("Population: choose Census 2011, Census 2021 or the census nearest the period")
    months = list(session.scalars(select(StopSearchMonth).where(StopSearchMonth.force == request.force)))
    if not months:
        raise ReportError(f"Force: no stop and search records have been imported for {request.force!r}")
    return months


def _connection(settings: Settings, months: Sequence[StopSearchMonth]) -> duckdb.DuckDBPyConnection:
    store = record_store(settings)
    files = [str(store.path(row.force, row.data_file)) for row in months]
    con = duckdb.connect()
    con.read_parquet(files).create_view("records")
    return con


def _reviews(session: Session, force: str) -> list[analysis.Review]:
    rows = session.execute(
        select(
            GroundsReview.month,
            GroundsReview.ethnic_group,
            GroundsReview.team,
            GroundsReview.grounds_recorded,
            GroundsReview.grounds_strong,
        )
        .join(GroundsSample, GroundsSample.id == GroundsReview.sample_id)
        .where(GroundsSample.force == force, GroundsReview.grounds_recorded.is_not(None))
    )
    return [
        analysis.Review(month, group, team, bool(recorded), strong)
        for month, group, team, recorded, strong in rows
    ]


def report(session: Session, settings: Settings, request: ReportRequest) -> Report:
    """The analysis of the spec for one force and period (docs/stopsearch.md)."""
    request = ReportRequest(force_key(request.force) or request.force, *_rest(request))
    months = check_request(session, request)
    census, basis = choose_census(session, request)
    request = ReportRequest(request.force, request.period_from, request.period_to, request.ethnicity, census)
    con = _connection(settings, months)
    try:
        result = analysis.analyse(
            con,
            request,
            populations(session, request.force, request.census),
            _reviews(session, request.force),
            {row.month for row in months},
        )
    finally:
        con.close()
    result["population_basis"] = basis
    result["suppression_threshold"] = suppression_threshold(session)
    data = hashlib.sha256("".join(sorted(row.source_sha256 for row in months)).encode()).hexdigest()
    result["version"] = {"custodes": __version__, "generated_at": utcnow().isoformat(), "data_sha256": data}
    return result


CENSUS_DAYS = {"census2011": (2011, 3), "census2021": (2021, 3)}  # the year and month of census day


def censuses_held(session: Session, force: str) -> list[str]:
    """The censuses whose population figures are held for the force, oldest first."""
    held = set(session.scalars(select(PopulationFigure.census).where(PopulationFigure.force == force)))
    return [census for census in CENSUSES if census in held]


def nearest_census(censuses: Sequence[str], period_from: str, period_to: str) -> str:
    """The census whose day is nearest the middle of the period; on a tie, the later."""

    def months(year: int, month: int) -> int:
        return year * 12 + month - 1

    middle = months(int(period_from[:4]), int(period_from[5:7])) + months(
        int(period_to[:4]), int(period_to[5:7])
    )
    return min(
        censuses, key=lambda census: (abs(2 * months(*CENSUS_DAYS[census]) - middle), -CENSUSES.index(census))
    )


def choose_census(session: Session, request: ReportRequest) -> tuple[str, str]:
    """The census whose population the report uses, and why, in words (the report's `population_basis`).

    Unless one is chosen, the census nearest the period among those whose figures are held for the force (the
    latest for any period after 2016): a rate per 1,000 compares searches with the people living in the area,
    and the census nearest the period counts them best. A census chosen is used, saying so when another held
    is nearer the period.
    """
    held = censuses_held(session, request.force)
    titles = {census: f"Census {census.removeprefix('census')}" for census in CENSUSES}
    if request.force in NO_RESIDENT_POPULATION:
        census = request.census or CENSUSES[-1]
        return census, f"No population is used: {NO_RESIDENT_POPULATION[request.force]}."
    if not held:
        census = request.census or CENSUSES[-1]
        return census, (
            f"No population figures are held for {force_name(request.force)} (for any census), so there are "
            "no rates per 1,000 residents or ratios. Import them with `custodes import population`."
        )
    nearest = nearest_census(held, request.period_from, request.period_to)
    if not request.census:
        if len(held) == 1:
            return (
                nearest,
                f"{titles[nearest]}: the only census whose population figures are held for this force.",
            )
        return nearest, (
            f"{titles[nearest]}: the census nearest the period of those held for this force "
            f"({', '.join(titles[c] for c in held)}). Choose another under Population."
        )
    if request.census not in held:
        return request.census, (
            f"{titles[request.census]}, as chosen: no population figures are held for it, so there are no "
            f"rates per 1,000 residents or ratios ({titles[nearest]} is held)."
        )
    if request.census != nearest:
        return request.census, f"{titles[request.census]}, as chosen; {titles[nearest]} is nearer the period."
    return request.census, f"{titles[request.census]}, as chosen (the census nearest the period)."


def _rest(request: ReportRequest) -> tuple[str, str, str, str]:
    return request.period_from, request.period_to, request.ethnicity, request.census


# --- Supervisory samples ---------------------------------------------------------------------------------

_SAMPLE_COLUMNS = (
    *("source_month", "line", "month", "date", "type", "self_defined", "officer_defined", "self_group"),
    *("gender", "age_range", "legislation", "object", "outcome", "grounds", "officer_id", "team"),
    *("drug_search_type", "body_worn_video"),
)


def draw_sample(
    session: Session,
    settings: Settings,
    *,
    force: str,
    period_from: str,
    period_to: str,
    size: int,
    seed: int,
    stratify: str | None,
    actor: str,
) -> GroundsSample:
    """A reproducible random sample of person searches: the same records for the same data and seed."""
    request = ReportRequest(force_key(force) or force, period_from, period_to)
    months = check_request(session, request)
    if size < 1:
        raise ReportError("Number of searches: give a whole number of at least 1")
    if stratify not in (None, "", "ethnicity"):
        raise ReportError(
            "Take each ethnic group in proportion: a sample can be stratified by 'ethnicity' only"
        )
    con = _connection(settings, months)
    try:
        table = con.sql(
            f"SELECT {', '.join(_SAMPLE_COLUMNS)} FROM records "
            "WHERE person AND month BETWEEN $first AND $last "
            "ORDER BY source_month, line",
            params={"first": period_from, "last": period_to},
        ).to_arrow_table()
    finally:
        con.close()
    if table.num_rows == 0:
        raise ReportError("there are no person searches in that period to sample")
    chosen = _choose(table.column("self_group").to_pylist(), min(size, table.num_rows), seed, bool(stratify))
    sample = GroundsSample(
        reference=_next_reference(session, GroundsSample, "SSS"),
        force=request.force,
        period_from=period_from,
        period_to=period_to,
        size=len(chosen),
        seed=seed,
        stratify=stratify or None,
        population_size=table.num_rows,
        drawn_at=utcnow(),
        drawn_by=actor,
    )
    session.add(sample)
    session.flush()
    picked = table.take(pa.array(chosen)).to_pylist()
    for position, row in enumerate(picked, start=1):
        session.add(
            GroundsReview(
                sample_id=sample.id,
                position=position,
                record_key=f"{request.force}/{row['source_month']}/{row['line']}",
                month=row["month"],
                ethnic_group=row["self_group"],
                team=row["team"],
                record=canonical_json({k: v for k, v in row.items() if v is not None}).decode(),
            )
        )
    ledger.record(
        session,
        EntryDraft(
            actor=actor,
            op=Op.COLLECTION,
            object_type="stop_search_sample",
            object_id=sample.reference,
            detail={
                "force": request.force,
                "from": period_from,
                "to": period_to,
                "size": len(chosen),
                "seed": seed,
                "stratify": stratify or None,
                "drawn_from": table.num_rows,
            },
        ),
    )
    return sample


def _choose(groups: Sequence[str], size: int, seed: int, stratify: bool) -> list[int]:
    """Row indexes: a simple random sample, or one allocated to groups in proportion (largest remainder)."""
    rng = np.random.default_rng(seed)
    if not stratify:
        return sorted(rng.choice(len(groups), size=size, replace=False).tolist())
    members: dict[str, list[int]] = {}
    for index, group in enumerate(groups):
        members.setdefault(group, []).append(index)
    names = sorted(members)
    exact = [size * len(members[name]) / len(groups) for name in names]
    counts = [int(share) for share in exact]
    for i in sorted(range(len(names)), key=lambda i: exact[i] - counts[i], reverse=True)[
        : size - sum(counts)
    ]:
        counts[i] += 1
    chosen = []
    for name, count in zip(names, counts, strict=True):
        chosen += rng.choice(members[name], size=count, replace=False).tolist()
    return sorted(chosen)


def _next_reference(session: Session, model: type[GroundsSample | PublishedReport], prefix: str) -> str:
    """PREFIX/NNN/YY: samples SSS, publications SSR (rows are never deleted, so the count is the number)."""
    count = session.scalar(select(func.count()).select_from(model)) or 0
    return f"{prefix}/{count + 1:03d}/{utcnow():%y}"


@dataclass(frozen=True, slots=True)
class SampleSummary:
    reference: str
    force: str
    period_from: str
    period_to: str
    size: int
    reviewed: int
    drawn_at: datetime
    drawn_by: str


def samples(session: Session) -> list[SampleSummary]:
    reviewed = func.count(GroundsReview.reviewed_at)
    rows = session.execute(
        select(GroundsSample, reviewed)
        .join(GroundsReview, GroundsReview.sample_id == GroundsSample.id, isouter=True)
        .group_by(GroundsSample.id)
        .order_by(GroundsSample.id.desc())
    )
    return [
        SampleSummary(s.reference, s.force, s.period_from, s.period_to, s.size, done, s.drawn_at, s.drawn_by)
        for s, done in rows
    ]


def _sample(session: Session, reference: str) -> GroundsSample | None:
    return session.scalar(select(GroundsSample).where(GroundsSample.reference == reference))


def sample_detail(
    session: Session, reference: str, *, actor: str
) -> tuple[GroundsSample, list[GroundsReview]] | None:
    """A sample and its records (logged: a force's records hold grounds text and officer ids)."""
    sample = _sample(session, reference)
    if sample is None:
        return None
    items = list(
        session.scalars(
            select(GroundsReview).where(GroundsReview.sample_id == sample.id).order_by(GroundsReview.position)
        )
    )
    ledger.record_consultation(
        session,
        actor=actor,
        object_type="stop_search_sample",
        object_id=sample.reference,
        justification="supervisory review of reasonable grounds (stop and search sample)",
        detail={"records": len(items)},
    )
    return sample, items


def record(item: GroundsReview) -> dict[str, Any]:
    """The sampled record as imported."""
    loaded: dict[str, Any] = json.loads(item.record)
    return loaded


def record_review(
    session: Session,
    reference: str,
    position: int,
    *,
    recorded: bool,
    strong: bool | None,
    note: str | None,
    actor: str,
) -> GroundsReview:
    sample = _sample(session, reference)
    if sample is None:
        raise ReportError(f"there is no sample {reference}")
    item = session.scalar(
        select(GroundsReview).where(GroundsReview.sample_id == sample.id, GroundsReview.position == position)
    )
    if item is None:
        raise ReportError(f"sample {reference} has no record {position}")
    if strong and not recorded:
        raise ReportError("grounds cannot be strong when no reasonable grounds were recorded")
    item.grounds_recorded = recorded
    item.grounds_strong = bool(strong) if recorded else False
    item.note = (note or "").strip() or None
    item.reviewed_by = actor
    item.reviewed_at = utcnow()
    ledger.record(
        session,
        EntryDraft(
            actor=actor,
            op=Op.REVIEW,
            object_type="stop_search_record",
            object_id=item.record_key,
            detail={
                "sample": reference,
                "position": position,
                "grounds_recorded": recorded,
                "grounds_strong": item.grounds_strong,
            },
        ),
    )
    return item


# --- Publication -------------------------------------------------------------------------------------------


REISSUE_REASON_LIMIT = 2000


@dataclass(frozen=True, slots=True)
class EarlierPublication:
    """A publication of the same force, period and settings as a report about to be published."""

    reference: str
    published_at: datetime
    published_by: str
    records_changed: bool  # the records used have been re-imported since (another data fingerprint)


def _published_figures(published: PublishedReport) -> dict[str, Any]:
    try:
        figures = json.loads(published.report_json or "{}")
    except ValueError:
        return {}
    return figures if isinstance(figures, dict) else {}


def same_publications(session: Session, result: Report) -> list[EarlierPublication]:
    """Publications of this report's force, period, ethnicity, census and suppression threshold, oldest first:
    publishing it again would publish the same report (unless the records have changed since)."""
    rows = session.scalars(
        select(PublishedReport)
        .where(
            PublishedReport.force == result["force"],
            PublishedReport.period_from == result["from"],
            PublishedReport.period_to == result["to"],
            PublishedReport.ethnicity == result["ethnicity"],
            PublishedReport.census == result["population"],
        )
        .order_by(PublishedReport.id)
    )
    earlier = []
    for row in rows:
        figures = _published_figures(row)
        if (
            figures.get("suppression_threshold", result["suppression_threshold"])
            != result["suppression_threshold"]
        ):
            continue
        data = (figures.get("version") or {}).get("data_sha256")
        changed = data is not None and data != result["version"]["data_sha256"]
        earlier.append(EarlierPublication(row.reference, row.published_at, row.published_by, changed))
    return earlier


def reissue(published: PublishedReport) -> dict[str, Any] | None:
    """What a publication re-issues and why (`{"of": [references], "reason": text}`), or None."""
    found = _published_figures(published).get("reissue")
    return found if isinstance(found, dict) else None


def publish(
    session: Session, settings: Settings, request: ReportRequest, *, actor: str, reason: str | None = None
) -> PublishedReport:
    """Fix the report as published: its JSON, HTML and PDF, with a reference and the PDF's SHA-256.

    A publication cannot be withdrawn, so the same force, period and settings (ethnicity, census, suppression
    threshold) are published again only with a reason (a correction, records re-imported since, ...): the
    new publication names the ones it re-issues and the reason, in its document and in the ledger.
    """
    from custodes.stopsearch import publication

    result = report(session, settings, request)
    earlier = same_publications(session, result)
    reason = (reason or "").strip()
    if len(reason) > REISSUE_REASON_LIMIT:
        raise ReportError(
            f"Reason for publishing again: at most {REISSUE_REASON_LIMIT:,} characters (this one has "
            f"{len(reason):,})"
        )
    if earlier and not reason:
        last = earlier[-1]
        raise ReportError(
            f"Reason for publishing again: this force, period and settings are already published as "
            f"{', '.join(e.reference for e in earlier)} (last on {london(last.published_at)}), and a "
            "publication cannot be withdrawn; say why it is published again (for example a correction, or "
            "records re-imported since)"
        )
    if earlier:
        result["reissue"] = {"of": [e.reference for e in earlier], "reason": reason}
    threshold = result["suppression_threshold"]
    name = force_name(result["force"])
    html = publication.render_html(result, force_name=name, threshold=threshold)
    pdf = publication.render_pdf(result, force_name=name, threshold=threshold)
    published = PublishedReport(
        reference=_next_reference(session, PublishedReport, "SSR"),
        force=result["force"],
        period_from=result["from"],
        period_to=result["to"],
        ethnicity=result["ethnicity"],
        census=result["population"],
        report_json=json.dumps(result, indent=2),
        html=html,
        pdf=pdf,
        sha256=hashlib.sha256(pdf).hexdigest(),
        published_at=utcnow(),
        published_by=actor,
    )
    session.add(published)
    detail: dict[str, Any] = {
        "force": published.force,
        "from": published.period_from,
        "to": published.period_to,
        "ethnicity": published.ethnicity,
        "census": published.census,
        "suppression_threshold": threshold,
        "pdf_sha256": published.sha256,
        "data_sha256": result["version"]["data_sha256"],
    }
    if earlier:
        detail["reissue_of"] = [e.reference for e in earlier]
        detail["reason"] = reason
    ledger.record(
        session,
        EntryDraft(
            actor=actor,
            op=Op.COLLECTION,
            object_type="stop_search_publication",
            object_id=published.reference,
            detail=detail,
        ),
    )
    return published


def publications(session: Session) -> list[PublishedReport]:
    return list(session.scalars(select(PublishedReport).order_by(PublishedReport.id.desc())))


def publication(session: Session, reference: str) -> PublishedReport | None:
    return session.scalar(select(PublishedReport).where(PublishedReport.reference == reference))
