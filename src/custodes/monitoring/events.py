"""The access-event store: access logs read from CSV, JSON Lines or Parquet, checked row by row, and kept as
Parquet partitioned by day, read by DuckDB (and by Spark at national scale). docs/monitoring.md.

Crash safety: an ingest writes its files under `staging/<ingest id>/`, the database commit records the
ingest and its ledger entries, and only then are the files moved into `events/`. `recover()` finishes or
discards what a crash left in `staging/`, so a stored event always has its ledger entry and vice versa.
"""

from __future__ import annotations

import csv
import fcntl
import io
import json
import multiprocessing
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq

from custodes.kit.files import sync_folder
from custodes.kit.tabular import RowProblem
from custodes.ledger import merkle
from custodes.monitoring.schemas import EVENT_COLUMNS, EVENT_REQUIRED, Action

LINE = "__line"  # the source line (CSV, JSON Lines) or row number (Parquet) of each event
LEAVES_PER_BATCH = 65_536  # events per ledger entry; an inclusion proof re-hashes at most this many
_MAX_LENGTH = {"event_id": 100, "system": 64, "staff_id": 32, "subject_id": 64, "case_ref": 64}
# ISO 8601 with a UTC offset ("Z" or ±hh:mm), seconds and fractions optional.
_ISO_WITH_OFFSET = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$"
STORED_COLUMNS = (*EVENT_COLUMNS, "at_us", "day_num", "batch_id", "leaf", "salt")


def connect(
    threads: int | None = None,
    memory_limit: str | None = None,
    spill_dir: Path | None = None,
    spill_limit: int | None = None,
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection working in UTC. With `memory_limit` (e.g. "4GB", "50%"), what does not fit is
    spilled to `spill_dir` (without one, DuckDB would spill into the working directory), at most
    `spill_limit` bytes: beyond that DuckDB stops with an OutOfMemoryException."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")  # the CLI draws its own
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    if memory_limit:
        con.execute("SET memory_limit = ?", [memory_limit])
    if spill_dir is not None:
        spill_dir.mkdir(parents=True, exist_ok=True)
        con.execute("SET temp_directory = ?", [str(spill_dir)])
    if spill_limit is not None:
        con.execute("SET max_temp_directory_size = ?", [f"{max(1, spill_limit // 1024)}KiB"])
    return con


@dataclass
class SourceFile:
    """One file read as text columns, with the line of each row and the problems found while reading."""

    name: str
    table: pa.Table | None  # None for Parquet, which DuckDB reads straight from `parquet`
    problems: list[RowProblem] = field(default_factory=list)  # rows that could not be read at all
    file_problems: list[RowProblem] = field(default_factory=list)  # e.g. a required column missing
    ignored_columns: tuple[str, ...] = ()
    timestamps_typed: bool = False  # occurred_at arrived as a Parquet timestamp with a time zone
    naive_times: bool = False  # occurred_at arrived as a timestamp without a time zone: refused
    whole_file: bool = False  # a required column is missing, or the header unreadable: all rows quarantined
    whole_file_problem: str = "(file): lacks a required column"
    parquet: Path | None = None
    parquet_columns: tuple[str, ...] = ()
    parquet_rows: int = 0
    # Rows quarantined while reading (`problems`), as read: by line, the JSON object kept for each
    # ({"line": its text} for a file, {"event": its JSON} for the push API).
    raw_rows: dict[int, str] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return self.parquet_rows if self.table is None else self.table.num_rows


# --------------------------------------------------------------------------- reading files


class UnknownFormat(ValueError):
    """A file whose name says no format we read."""


FORMATS = frozenset({".csv", ".jsonl", ".ndjson", ".json", ".parquet"})


def check_format(path: Path) -> None:
    if path.suffix.lower() not in FORMATS:
        raise UnknownFormat(f"{path.name}: unknown format (name it .csv, .jsonl or .parquet)")


def read_source(path: Path) -> SourceFile:
    """Read an access log. The format is taken from the suffix: .csv, .jsonl/.ndjson, .parquet."""
    check_format(path)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return _read_parquet(path)
    if suffix == ".csv":
        return _read_csv(path)
    return _read_jsonl(path)


def _as_text_columns(name: str, table: pa.Table, lines: pa.Array) -> SourceFile:
    """Every known column as text (missing optional ones as nulls); `occurred_at` kept when it is a
    timestamp with a time zone, since that is already a moment."""
    present = set(table.column_names)
    repeated = sorted(
        {c for c in table.column_names if c in EVENT_COLUMNS and table.column_names.count(c) > 1}
    )
    if repeated:  # which of the two is the event's? Neither is guessed.
        problem = "more than one column has this name: every row quarantined"
        whole = "(file): a column name is repeated in the header"
        return _whole_file(
            name, pa.table({LINE: lines}), RowProblem(name, 1, ", ".join(repeated), problem), whole
        )
    missing = [column for column in EVENT_REQUIRED if column not in present]
    if missing:
        whole = pa.table({LINE: lines})
        return SourceFile(name, whole, file_problems=[_missing(name, missing)], whole_file=True)
    columns: dict[str, pa.Array | pa.ChunkedArray] = {}
    typed = naive = False
    for column in EVENT_COLUMNS:
        if column not in present:
            columns[column] = pa.nulls(table.num_rows, pa.string())
            continue
        values = table.column(column)
        if column == "occurred_at" and pa.types.is_timestamp(values.type):
            typed, naive = bool(values.type.tz), not values.type.tz
            columns[column] = values.cast(pa.timestamp("us", tz="UTC")) if typed else values.cast(pa.string())
        else:
            columns[column] = values.cast(pa.string())
    columns[LINE] = lines
    ignored = tuple(sorted(present - set(EVENT_COLUMNS)))
    return SourceFile(
        name, pa.table(columns), ignored_columns=ignored, timestamps_typed=typed, naive_times=naive
    )


def _missing(name: str, columns: Sequence[str]) -> RowProblem:
    return RowProblem(name, 1, ", ".join(columns), "required column missing: every row quarantined")


def _whole_file(name: str, lines: pa.Table, problem: RowProblem, each_row: str) -> SourceFile:
    """A file whose every row (`lines`, maybe none) is quarantined: `problem` names the file's problem,
    `each_row` is what each quarantined row says."""
    return SourceFile(name, lines, file_problems=[problem], whole_file=True, whole_file_problem=each_row)


def _read_parquet(path: Path) -> SourceFile:
    """Only the schema is read here; DuckDB reads the rows, in parallel, when they are checked. A file
    whose schema cannot be read (not Parquet, or cut short) has no rows anyone can count: it is named as a
    problem of the file, and nothing in it is stored."""
    try:
        schema = pq.read_schema(path)
        rows = pq.read_metadata(path).num_rows
    except (pa.ArrowException, OSError) as error:
        problem = RowProblem(
            path.name, 1, "(file)", f"is not a readable Parquet file ({error}): nothing stored"
        )
        none = pa.table({LINE: pa.array([], pa.int64())})
        return _whole_file(path.name, none, problem, "(file): not a readable Parquet file")
    present = set(schema.names)
    missing = [column for column in EVENT_REQUIRED if column not in present]
    moment = schema.field("occurred_at").type if "occurred_at" in present else None
    timestamp = moment is not None and pa.types.is_timestamp(moment)
    return SourceFile(
        path.name,
        None,
        file_problems=[_missing(path.name, missing)] if missing else [],
        ignored_columns=tuple(sorted(present - set(EVENT_COLUMNS))),
        timestamps_typed=timestamp and bool(moment.tz),  # type: ignore[union-attr]
        naive_times=timestamp and not moment.tz,  # type: ignore[union-attr]
        whole_file=bool(missing),
        parquet=path,
        parquet_columns=tuple(schema.names),
        parquet_rows=rows,
    )


def _read_csv(path: Path) -> SourceFile:
    """Rows that are not UTF-8 text, or have the wrong number of cells, are named by their line and
    quarantined; the rest are read by pyarrow."""
    data = path.read_bytes()
    data, bad, raw = _text_lines_only(path.name, data)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]  # a byte-order mark (Excel)
    header_line = _first_line(data)
    if any(problem.line == 1 for problem in bad):
        return _unreadable_header(path.name, data, "the header is not UTF-8 text")
    if header_line is None:
        return _unreadable_header(path.name, data, "the header line is missing")
    skipped: list[int] = []  # by pyarrow's count, which skips blank lines and counts the header as 1
    texts: dict[int, str] = {}  # each skipped row's text, by pyarrow's count

    def skip(row: Any) -> str:
        skipped.append(row.number or 0)
        texts[row.number or 0] = row.text
        cells = f"has {row.actual_columns} cells, the header has {row.expected_columns}"
        bad.append(RowProblem(path.name, row.number or 0, "(row)", cells))
        return "skip"

    header = [name.strip() for name in next(csv.reader([header_line]), [])]
    table = _read_csv_table(data, header, skip, threads=True)
    if 0 in skipped:  # read again on one thread: only then does pyarrow number the bad rows
        bad, skipped = [p for p in bad if p.column != "(row)"], []
        texts.clear()
        table = _read_csv_table(data, header, skip, threads=False)
    starts = _csv_record_lines(data, 1 + table.num_rows + len(skipped))
    for index, problem in enumerate(bad):
        if problem.column == "(row)":
            line = starts[problem.line - 1]
            raw[line] = _raw_line(texts[problem.line])
            bad[index] = RowProblem(problem.file, line, problem.column, problem.problem)
    skipped_set = set(skipped)
    kept = (
        starts[1:]
        if not skipped_set
        else [line for number, line in enumerate(starts[1:], start=2) if number not in skipped_set]
    )
    source = _as_text_columns(path.name, table, pa.array(kept, pa.int64()))
    source.problems[:0] = sorted(bad, key=lambda problem: problem.line)
    source.raw_rows.update(raw)
    return source


def _raw_line(text: str) -> str:
    """What is kept of a line quarantined while reading: {"line": its text, without the line break}."""
    return json.dumps({"line": text.rstrip("\r\n")}, ensure_ascii=False)


def _raw_bytes(line: bytes) -> str:
    """A line that is not UTF-8 text, kept without loss: each byte that is not UTF-8 as \\xNN, and each
    backslash of the line doubled, so that the bytes can be rebuilt exactly."""
    return _raw_line(line.replace(b"\\", b"\\\\").decode("utf-8", "backslashreplace"))


def _text_lines_only(name: str, data: bytes) -> tuple[bytes, list[RowProblem], dict[int, str]]:
    """The file with every line that is not UTF-8 text blanked out (so the others keep their numbers),
    a problem naming each, and each as kept (`_raw_bytes`), by line."""
    try:
        data.decode("utf-8")
        return data, [], {}
    except UnicodeDecodeError:
        pass
    lines = data.split(b"\n")
    problems, raw = [], {}
    for number, line in enumerate(lines, start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as error:
            problems.append(_not_text(name, number, line, error))
            raw[number] = _raw_bytes(line)
            lines[number - 1] = b""
    return b"\n".join(lines), problems, raw


def _not_text(name: str, number: int, line: bytes, error: UnicodeDecodeError) -> RowProblem:
    byte = line[error.start]
    return RowProblem(
        name, number, "(line)", f"is not UTF-8 text (byte 0x{byte:02X}): save the file as UTF-8"
    )


def _first_line(data: bytes) -> str | None:
    first = data.split(b"\n", 1)[0].rstrip(b"\r")
    return first.decode("utf-8") if first.strip() else None


def _unreadable_header(name: str, data: bytes, problem: str) -> SourceFile:
    """Without a header no cell can be named: every line after it is quarantined."""
    lines = [n for n, line in enumerate(data.split(b"\n"), start=1) if n > 1 and line.strip()]
    return SourceFile(
        name,
        pa.table({LINE: pa.array(lines, pa.int64())}),
        file_problems=[RowProblem(name, 1, "(header)", problem)],
        whole_file=True,
        whole_file_problem=f"(file): {problem}",
    )


def _read_csv_table(data: bytes, header: list[str], on_bad_row: Any, *, threads: bool) -> pa.Table:
    """The rows under the header line, in columns named by `header` (the names trimmed: "a, b" is a
    and b). pyarrow numbers the rows as it would with its own header (the header line is still row 1)."""
    return pacsv.read_csv(
        pa.BufferReader(data),
        read_options=pacsv.ReadOptions(use_threads=threads, column_names=header, skip_rows=1),
        convert_options=pacsv.ConvertOptions(
            column_types={column: pa.string() for column in header},
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
        parse_options=pacsv.ParseOptions(invalid_row_handler=on_bad_row, newlines_in_values=False),
    )


def _csv_record_lines(data: bytes, records: int) -> list[int]:
    """The line each of the first `records` CSV records (the header first) starts on. When every line is
    one record, line n is record n; else (blank lines, quoted new lines) the records are counted with the
    csv module, as pyarrow reads them."""
    newlines = data.count(b"\n")
    if newlines + (0 if data.endswith(b"\n") else 1) == records:  # so no blank line either
        return list(range(1, records + 1))
    starts: list[int] = []
    reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""))
    line = 0
    for record in reader:
        if record:
            starts.append(line + 1)
        line = reader.line_num
    return starts[:records]


def _read_jsonl(path: Path) -> SourceFile:
    """Fast path: pyarrow reads the whole file. If any line is not a JSON object it fails, and the file is
    read line by line instead, so each bad line is named and the rest are kept."""
    data = path.read_bytes()  # read once: checked as text, parsed, and its lines numbered
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return _read_jsonl_by_line(path)  # names each line that is not UTF-8 text
    try:
        # Every known key as text: left to itself pyarrow reads "2026-10-05T10:00:00+01:00" as a time
        # and drops the offset.
        as_text = pa.schema([(column, pa.string()) for column in EVENT_COLUMNS])
        table = pajson.read_json(
            pa.BufferReader(data),
            parse_options=pajson.ParseOptions(
                explicit_schema=as_text, newlines_in_values=False, unexpected_field_behavior="infer"
            ),
        )
    except pa.ArrowInvalid:
        return _read_jsonl_by_line(path)
    numbers = _jsonl_row_lines(data, table.num_rows)
    if len(numbers) != table.num_rows:
        return _read_jsonl_by_line(path)
    return _as_text_columns(path.name, table, pa.array(numbers, pa.int64()))


def _jsonl_row_lines(data: bytes, rows: int) -> Sequence[int]:
    """The line each row came from. pyarrow skips blank lines, so row n is line n when every line is a row
    (counted cheaply, as for CSV); else each row is the next line that is not blank."""
    if data.count(b"\n") + (0 if data.endswith(b"\n") else 1) == rows:
        return range(1, rows + 1)
    return [number for number, line in enumerate(data.split(b"\n"), start=1) if line.strip()]


def _read_jsonl_by_line(path: Path) -> SourceFile:
    records: list[dict[str, Any]] = []
    lines: list[int] = []
    problems: list[RowProblem] = []
    kept: dict[int, str] = {}
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                problems.append(_not_text(path.name, number, raw, error))
                kept[number] = _raw_bytes(raw.rstrip(b"\r\n"))
                continue
            try:
                value = json.loads(text)
            except json.JSONDecodeError as error:
                problems.append(RowProblem(path.name, number, "(line)", f"is not JSON ({error.msg})"))
                kept[number] = _raw_line(text)
                continue
            if not isinstance(value, dict):
                problems.append(RowProblem(path.name, number, "(line)", "is not a JSON object"))
                kept[number] = _raw_line(text)
                continue
            wrong = _not_text_fields(path.name, number, value)
            if wrong is not None:
                problems.append(wrong)
                kept[number] = _raw_line(text)
                continue
            records.append({key: _json_cell(cell) for key, cell in value.items()})
            lines.append(number)
    names = sorted({key for record in records for key in record} | set(EVENT_REQUIRED))
    table = pa.table({name: pa.array([r.get(name) for r in records], pa.string()) for name in names})
    source = _as_text_columns(path.name, table, pa.array(lines, pa.int64()))
    source.problems[:0] = problems
    source.raw_rows.update(kept)
    return source


_JSON_KINDS = ((bool, "true or false"), (int, "a number"), (float, "a number"), (dict, "an object"),
               (list, "an array"))  # fmt: skip


def _not_text_fields(name: str, line: int, record: dict[str, Any]) -> RowProblem | None:
    """The event's known fields sent as something other than text (or null), as one problem of the row
    (each field named: "staff_id: must be text, not an object; subject_id: …"), or None. Nothing is
    turned into text: an id sent as a number, an object or an array is refused, not guessed at."""
    wrong = [
        f"{column}: must be text, not {next(kind for t, kind in _JSON_KINDS if isinstance(value, t))}"
        for column in EVENT_COLUMNS
        if (value := record.get(column)) is not None and not isinstance(value, str)
    ]
    if not wrong:
        return None
    column, _, problem = "; ".join(wrong).partition(": ")
    return RowProblem(name, line, column, problem)


def _json_cell(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value)


# --------------------------------------------------------------------------- checking rows


_OPTIONAL = tuple(c for c in EVENT_COLUMNS if c not in EVENT_REQUIRED)


def _problem_sql(source: SourceFile) -> tuple[str, str]:
    """SQL for (the moment, the problems of the row joined by '; ', NULL when none). Values are kept as
    sent (no trimming); an empty optional cell is NULL."""
    if source.whole_file:
        return "NULL::TIMESTAMPTZ", "'" + source.whole_file_problem.replace("'", "''") + "'"
    checks = [
        f"CASE WHEN {c} IS NULL OR {c} = '' THEN '{c}: is required' END"
        for c in EVENT_REQUIRED
        if not (c == "occurred_at" and (source.timestamps_typed or source.naive_times))
    ]
    checks += [
        f"CASE WHEN length({c}) > {limit} THEN '{c}: longer than {limit} characters' END"
        for c, limit in _MAX_LENGTH.items()
    ]
    actions = ", ".join(f"'{action.value}'" for action in Action)
    checks.append(
        f"CASE WHEN action <> '' AND action NOT IN ({actions}) "
        f"THEN 'action: ' || action || ' is not one of: {actions.replace(chr(39), '')}' END"
    )
    if source.timestamps_typed:
        moment = "occurred_at"
    elif source.naive_times:
        moment = "NULL::TIMESTAMPTZ"
        checks.append("'occurred_at: a time without a UTC offset'")
    else:
        moment = (
            f"CASE WHEN regexp_full_match(occurred_at, '{_ISO_WITH_OFFSET}') "
            "THEN try_cast(occurred_at AS TIMESTAMPTZ) END"
        )
        checks.append(
            f"CASE WHEN occurred_at <> '' AND ({moment}) IS NULL "
            "THEN 'occurred_at: ' || occurred_at || ' is not an ISO 8601 time with a UTC offset' END"
        )
    return moment, f"NULLIF(concat_ws('; ', {', '.join(checks)}), '')"


def _register(con: duckdb.DuckDBPyConnection, source: SourceFile, view: str) -> None:
    """`view`: the source's rows with the known columns (text, or occurred_at as a moment) and `__line`."""
    if source.table is not None:
        con.register(view, source.table)
        return
    present = set(source.parquet_columns)
    if source.whole_file:
        columns = ""
    else:
        columns = (
            ", ".join(
                ("occurred_at" if source.timestamps_typed else "CAST(occurred_at AS VARCHAR) AS occurred_at")
                if c == "occurred_at"
                else f"CAST({c} AS VARCHAR) AS {c}"
                if c in present
                else f"NULL::VARCHAR AS {c}"
                for c in EVENT_COLUMNS
            )
            + ", "
        )
    path = str(source.parquet).replace("'", "''")
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT {columns}file_row_number + 1 AS {LINE} "
        f"FROM read_parquet('{path}', file_row_number = true)"
    )


def checked_rows(con: duckdb.DuckDBPyConnection, source: SourceFile, file_no: int) -> duckdb.DuckDBPyRelation:
    """The file's rows with `moment` (UTC) and `problem` (NULL for a good row)."""
    moment, problems = _problem_sql(source)
    view = f"source_{file_no}"
    _register(con, source, view)
    if source.whole_file:
        columns = ", ".join(f"NULL::VARCHAR AS {c}" for c in EVENT_COLUMNS if c != "occurred_at")
        select = f"NULL::VARCHAR AS occurred_text, {columns}"
    else:
        select = "CAST(occurred_at AS VARCHAR) AS occurred_text, " + ", ".join(
            f"NULLIF({c}, '') AS {c}" if c in _OPTIONAL else c for c in EVENT_COLUMNS if c != "occurred_at"
        )
    return con.sql(
        f"SELECT {file_no} AS file_no, {LINE} AS line, {moment} AS moment, {problems} AS problem, {select} "
        f"FROM {view}"
    )


# --------------------------------------------------------------------------- the store


@dataclass(frozen=True)
class EventStore:
    """Where events live: `<root>/events/day=YYYY-MM-DD/*.parquet`; ingests in progress in `staging/`."""

    root: Path

    @property
    def events_dir(self) -> Path:
        return self.root / "events"

    @property
    def staging_dir(self) -> Path:
        return self.root / "staging"

    @property
    def spill_dir(self) -> Path:
        """Where DuckDB puts what does not fit in its memory limit (emptied when the connection closes)."""
        return self.root / "spill"

    def staged(self, ingest_id: str) -> Path:
        return self.staging_dir / ingest_id

    def glob(self) -> str:
        return str(self.events_dir / "*" / "*.parquet")

    def has_events(self) -> bool:
        return self.events_dir.is_dir() and any(self.events_dir.glob("*/*.parquet"))

    def day_globs(self, days: Sequence[str]) -> list[str]:
        return [
            str(self.events_dir / f"day={day}" / "*.parquet")
            for day in days
            if (self.events_dir / f"day={day}").is_dir()
        ]

    def staged_day_globs(self, ingest_id: str, days: Sequence[str]) -> list[str]:
        """What this ingest has already staged for these days (its earlier files)."""
        staged = self.staged(ingest_id)
        return [str(staged / f"day={day}" / "*.parquet") for day in days if (staged / f"day={day}").is_dir()]

    def staged_ingests(self) -> list[str]:
        """Ingests with files or a lock under staging/ (a lock alone: it crashed before writing)."""
        if not self.staging_dir.is_dir():
            return []
        names = {path.name.removesuffix(".lock") for path in self.staging_dir.iterdir()}
        return sorted(names)

    def lock_for_ingest(self, wait_seconds: float) -> Any | None:
        """The store-wide ingest lock (an open file; closing it releases the lock): one ingest at a time
        looks for events already stored and stages its own, until they are published or discarded — else
        two ingests of the same events (a retried push) would each find the other's not yet stored. Waits
        up to `wait_seconds`; None if another ingest still holds it."""
        self.root.mkdir(parents=True, exist_ok=True)
        handle = (self.root / "ingest.lock").open("a+")
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                return handle
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.close()
                    return None
                time.sleep(0.05)

    def claim(self, ingest_id: str) -> InFlight | None:
        """An exclusive lock on this ingest's staging, held from the ingest's start until its files are
        published or discarded. `recover` skips an ingest whose lock another transaction holds (in this
        process or another); a crashed process's lock is released by the system. None if held.

        The lock is on the file `<ingest id>.lock`, which `release` deletes. Another process's claim may
        release it between this open() and flock(), so a lock got on a file no longer at that path (or
        replaced by a new one) would lock nothing anyone else sees: it is dropped and taken again."""
        self.staging_dir.mkdir(parents=True, exist_ok=True)
        path = self.staging_dir / f"{ingest_id}.lock"
        while True:
            handle = path.open("a+")
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                return None
            try:
                current = os.stat(path).st_ino
            except FileNotFoundError:
                current = None
            if current == os.fstat(handle.fileno()).st_ino:
                return InFlight(self, ingest_id, handle)
            handle.close()

    def publish(self, ingest_id: str) -> None:
        """Move a committed ingest's files into place (each rename is atomic), then drop its staging."""
        staged = self.staged(ingest_id)
        if not staged.is_dir():
            return
        for day_dir in sorted(staged.iterdir()):
            target = self.events_dir / day_dir.name
            target.mkdir(parents=True, exist_ok=True)
            for file in sorted(day_dir.iterdir()):
                os.replace(file, target / file.name)
            sync_folder(target)
        shutil.rmtree(staged)

    def discard(self, ingest_id: str) -> None:
        shutil.rmtree(self.staged(ingest_id), ignore_errors=True)


@dataclass
class InFlight:
    """A claimed ingest (EventStore.claim). `publish` or `discard` finishes it and releases the claim."""

    store: EventStore
    ingest_id: str
    handle: Any

    def publish(self) -> None:
        self.store.publish(self.ingest_id)
        self.release()

    def discard(self) -> None:
        self.store.discard(self.ingest_id)
        self.release()

    def release(self) -> None:
        if not self.handle.closed:
            (self.store.staging_dir / f"{self.ingest_id}.lock").unlink(missing_ok=True)
            self.handle.close()  # closing drops the lock


def fsync_tree(path: Path) -> None:
    """Make written files durable before the ingest is committed."""
    for file in path.rglob("*"):
        if file.is_file():
            with file.open("rb") as handle:
                os.fsync(handle.fileno())
    for directory in [path, *(p for p in path.rglob("*") if p.is_dir())]:
        sync_folder(directory)


# --------------------------------------------------------------------------- leaves and batch roots

# The ledger leaf of one stored access: its canonical JSON (RFC 8785: keys sorted, no spaces), built in SQL
# so that ten million leaves cost seconds. `leaf_bytes` in Python gives the same bytes (tested).
LEAF_KEYS = (*sorted((*EVENT_COLUMNS, "batch_id", "salt")),)


def leaf_json_sql(alias: str = "") -> str:
    prefix = f"{alias}." if alias else ""
    salt = f"CAST({prefix}salt AS VARCHAR)"
    fields = ", ".join(
        f"{key} := "
        + (
            f"strftime({prefix}occurred_at, '%Y-%m-%dT%H:%M:%S.%fZ')"
            if key == "occurred_at"
            else salt
            if key == "salt"
            else f"{prefix}{key}"
        )
        for key in LEAF_KEYS
    )
    return f"to_json(struct_pack({fields}))::VARCHAR"


def leaf_hashes_sql(source: str, where: str = "") -> str:
    """SELECT batch_id, leaf, hash: each access's RFC 9162 leaf hash, SHA-256(0x00 ‖ its leaf JSON)."""
    # DuckDB writes the few control characters without a short escape as \u00XX with capital hex digits;
    # RFC 8785 wants small ones. Only the nine with a letter differ, and only rows holding one pay for this.
    fixed = "document"
    for code in (0x0B, 0x0E, 0x0F, 0x1A, 0x1B, 0x1C, 0x1D, 0x1E, 0x1F):
        fixed = f"replace({fixed}, '\\u{code:04X}', '\\u{code:04x}')"
    canonical = f"CASE WHEN contains(document, '\\u00') THEN {fixed} ELSE document END"
    return (
        f"SELECT batch_id, leaf, unhex(sha256('\\x00'::BLOB || encode({canonical}))) AS hash "
        f"FROM (SELECT batch_id, leaf, {leaf_json_sql()} AS document FROM {source} {where})"
    )


def leaf_bytes(event: dict[str, Any]) -> bytes:
    """The same bytes as `leaf_json_sql`, from a stored event read back (occurred_at a datetime)."""
    from custodes.kit.canonical import canonical_json
    from custodes.kit.timefmt import rfc3339

    document = {key: event.get(key) for key in LEAF_KEYS}
    document["occurred_at"] = rfc3339(event["occurred_at"])
    document["salt"] = str(event["salt"])
    return canonical_json(document)


class TreeHasher:
    """Hashes batch trees (RFC 9162, `merkle.root_of_joined`) with hashlib, whose SHA-256 uses the CPU's SHA
    instructions: half the CPU time of pairing a level at a time in DuckDB (measured for 2 million leaves:
    1.35 s on one core against 1.4 s on two). With `workers` > 1 the trees are hashed by that many
    processes, forked at once so that they hold nothing of DuckDB's threads (make it before the DuckDB
    connection), while the caller goes on with the next file."""

    def __init__(self, workers: int = 1) -> None:
        self._pool = multiprocessing.get_context("fork").Pool(workers) if workers > 1 else None
        self._pending: list[tuple[list[str], Any]] = []  # (names, their roots or the workers' result)

    def submit(self, names: Sequence[str], trees: Sequence[bytes]) -> None:
        """Start on these trees, each given as its leaf hashes end to end."""
        if self._pool is None or len(trees) < 2:
            self._pending.append((list(names), [merkle.root_of_joined(tree) for tree in trees]))
        else:
            self._pending.append((list(names), self._pool.map_async(merkle.root_of_joined, trees, 1)))

    def roots(self) -> dict[str, bytes]:
        """The root of every tree submitted so far, by name (waiting for the workers)."""
        found: dict[str, bytes] = {}
        for names, result in self._pending:
            found.update(zip(names, result if isinstance(result, list) else result.get(), strict=True))
        self._pending.clear()
        return found

    def close(self) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()

    def __enter__(self) -> TreeHasher:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def submit_batch_trees(
    con: duckdb.DuckDBPyConnection,
    leaves: str,
    hasher: TreeHasher,
    sizes: Sequence[tuple[str, int]] | None = None,
) -> None:
    """Hand `hasher` the tree of each batch in a relation `leaves(batch_id, leaf, hash BLOB)` with positions
    0..n-1: DuckDB reads each batch's hashes out end to end (one Arrow buffer). `sizes`, when the caller
    has them, are (batch_id, leaves) in batch order."""
    if sizes is None:
        sizes = con.execute(
            f"SELECT batch_id, count(*) FROM {leaves} GROUP BY batch_id ORDER BY batch_id"
        ).fetchall()
    if not sizes:
        return
    hashes = con.sql(f"SELECT hash FROM {leaves} ORDER BY batch_id, leaf").to_arrow_table().column(0)
    joined = pc.cast(hashes, pa.binary(merkle.HASH_SIZE)).combine_chunks()
    data = joined.buffers()[1].to_pybytes()
    trees, start = [], 0
    for _batch, count in sizes:
        trees.append(data[start : start + count * merkle.HASH_SIZE])
        start += count * merkle.HASH_SIZE
    hasher.submit([batch_id for batch_id, _count in sizes], trees)


def batch_roots(
    con: duckdb.DuckDBPyConnection, leaves: str, hasher: TreeHasher | None = None
) -> dict[str, bytes]:
    """RFC 9162 Merkle tree heads of each batch in `leaves` (see `submit_batch_trees`)."""
    hasher = hasher or TreeHasher()
    submit_batch_trees(con, leaves, hasher)
    return hasher.roots()


def source_from_records(name: str, records: Sequence[Any]) -> SourceFile:
    """Events given as JSON objects (the push API); a row's "line" is its index in the list."""
    rows: list[dict[str, str | None]] = []
    numbers: list[int] = []
    problems: list[RowProblem] = []
    raw: dict[int, str] = {}
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            problems.append(RowProblem(name, index, "(event)", "is not a JSON object"))
            raw[index] = json.dumps({"event": json.dumps(record, ensure_ascii=False)}, ensure_ascii=False)
            continue
        wrong = _not_text_fields(name, index, record)
        if wrong is not None:
            problems.append(wrong)
            raw[index] = json.dumps({"event": json.dumps(record, ensure_ascii=False)}, ensure_ascii=False)
            continue
        rows.append({key: _json_cell(value) for key, value in record.items()})
        numbers.append(index)
    names = sorted({key for row in rows for key in row} | set(EVENT_REQUIRED))
    table = pa.table({key: pa.array([row.get(key) for row in rows], pa.string()) for key in names})
    source = _as_text_columns(name, table, pa.array(numbers, pa.int64()))
    source.problems[:0] = problems
    source.raw_rows.update(raw)
    return source


def hash_batches(
    con: duckdb.DuckDBPyConnection,
    table: str,
    hasher: TreeHasher,
    sizes: Sequence[tuple[str, int]] | None = None,
) -> None:
    """Start on the RFC 9162 tree head of every batch of the accesses in `table` (batch_id, leaf and the
    leaf keys; `sizes` as for `submit_batch_trees`); `hasher.roots()` has them."""
    con.execute("CREATE OR REPLACE TEMP TABLE leaves AS " + leaf_hashes_sql(table))
    try:
        submit_batch_trees(con, "leaves", hasher, sizes)
    finally:
        con.execute("DROP TABLE leaves")
