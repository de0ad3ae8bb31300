"""Reading stop-search records as published: data.police.uk CSV files, API JSON, and their re-exports.

Accepted layouts (docs/stopsearch.md, "Import"):

- the monthly CSV files exactly as published (15 columns, `,`), with or without the force-system columns
  (`Grounds`, `Drug search type`, `Officer id`, `Team`, `Body-worn video`);
- the same re-exported with `;`, snake_case headers, booleans as `1`/`0`, an `id` and a `file_name` column;
- the data.police.uk API (`stops-force`, `stops-street`) as JSON, or flattened to CSV (`location__latitude`,
  `outcome_object__id`, ... with `null` for blanks).

Every file is read whole into Arrow (fast, multi-threaded), then checked and normalised in one DuckDB query:
each bad cell is a problem naming file, line and column. Nothing is stored if any file has a problem.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv

from custodes.kit.tabular import RowProblem
from custodes.stopsearch.forces import force_key
from custodes.stopsearch.schemas import (
    ARREST_OUTCOMES,
    FORCE_COLUMNS,
    NEW_OUTCOMES,
    OLD_OUTCOMES,
    PUBLISHED_COLUMNS,
    SEARCH_TYPES,
    STORED_NAMES,
    VEHICLE_ONLY,
)
from custodes.stopsearch.store import SCHEMA

MAX_PROBLEMS_PER_FILE = 1000
_FILE_NAME_SQL = "([0-9]{4}-[0-9]{2})-([a-z0-9-]+?)-stop-and-search"
_FILE_NAME = re.compile(r"(?P<month>[0-9]{4}-[0-9]{2})-(?P<force>[a-z0-9-]+?)-stop-and-search", re.IGNORECASE)
# A month anywhere else in a name (`stops-force_2020-02.json`), but not a day (`2020-02-26`) or a range.
_MONTH_IN_NAME = re.compile(r"(?<![0-9])([0-9]{4}-(?:0[1-9]|1[0-2]))(?![0-9]|-[0-9])")
_MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")


def _header_key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lstrip("\ufeff").strip().lower()).strip("_")


# Header (any spelling: published, snake_case, API) → published column name.
_HEADERS: dict[str, str] = {_header_key(name): name for name in (*PUBLISHED_COLUMNS, *FORCE_COLUMNS)}
_HEADERS.update(
    {
        "datetime": "Date",
        "operation": "Part of a policing operation",
        "operation_name": "Policing operation",
        "location_latitude": "Latitude",
        "location_longitude": "Longitude",
        "removal_of_more_than_outer_clothing": "Removal of more than just outer clothing",
        "bwv": "Body-worn video",
        "body_worn_video": "Body-worn video",
    }
)
# Columns of the API and of re-exports that carry nothing we keep (file_name is read for force and month).
_IGNORED = frozenset(
    {"id", "file_name", "involved_person", "location_street_id", "location_street_name", "outcome_object_id"}
    | {"outcome_object_name", "location"}
)

SELF_DEFINED_PREFIXES = (
    ("White - ", "White"),
    ("Black/African/Caribbean/Black British - ", "Black"),
    ("Black or Black British - ", "Black"),
    ("Asian/Asian British - ", "Asian"),
    ("Asian or Asian British - ", "Asian"),
    ("Mixed/Multiple ethnic groups - ", "Mixed"),
    ("Mixed - ", "Mixed"),
)
OFFICER_DEFINED = ("White", "Black", "Asian", "Mixed", "Other")
_NOT_STATED = "Other ethnic group - Not stated"


@dataclass(frozen=True, slots=True)
class SourceFile:
    path: Path
    force: str | None  # from the file name or --force; None: from each row's file_name column
    month: str | None  # YYYY-MM from the file name or --month; None: from each row's file_name column


@dataclass(slots=True)
class ReadFile:
    """A file read and checked. Its rows stay in DuckDB (table `name` on `con`) until they are written."""

    source: SourceFile
    problems: list[RowProblem]
    con: duckdb.DuckDBPyConnection | None = None
    name: str = ""

    def _select(self, where: str = "TRUE") -> str:
        return f"SELECT {_STORED_COLUMNS} FROM {self.name} WHERE {where}"  # in file order: inserted so

    @property
    def table(self) -> pa.Table:
        """The rows as stored (Arrow)."""
        if self.con is None:
            return SCHEMA.empty_table()
        return self.con.sql(self._select()).to_arrow_table().cast(SCHEMA)

    def months(self) -> list[MonthRows]:
        """The force-months in the file, with what the database keeps about each."""
        if self.con is None:
            return []
        rows = self.con.execute(
            f"""SELECT force_text, source_month, count(*), count(*) FILTER (WHERE person),
                coalesce(bool_or(outcome IN ({_quoted(OLD_OUTCOMES)})), false),
                coalesce(bool_or(outcome IN ({_quoted(NEW_OUTCOMES)})), false)
            FROM {self.name} GROUP BY ALL ORDER BY ALL"""
        ).fetchall()
        return [MonthRows(*row) for row in rows]

    def write_parquet(self, force: str, month: str, path: Path) -> None:
        assert self.con is not None
        where = "force_text = $force AND source_month = $month"
        self.con.execute(
            f"COPY ({self._select(where)}) TO '{_sql_text(str(path))}' "
            "(FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 1048576)",
            {"force": force, "month": month},
        )


@dataclass(frozen=True, slots=True)
class MonthRows:
    force: str
    month: str
    records: int
    person_searches: int
    old_outcomes: bool
    new_outcomes: bool

    @property
    def vocabulary(self) -> str:
        """Which outcome vocabulary the month uses: old (before April 2018), new, mixed or none."""
        return {(True, True): "mixed", (True, False): "old", (False, True): "new"}.get(
            (self.old_outcomes, self.new_outcomes), "none"
        )


def _quoted(values: Iterable[str]) -> str:
    return ", ".join(f"'{_sql_text(value)}'" for value in sorted(values))


def _sql_text(text: str) -> str:
    return text.replace("'", "''")


def name_month(name: str) -> str | None:
    """The month a file's name gives: `YYYY-MM-<force>-stop-and-search.csv`, else its one YYYY-MM."""
    match = _FILE_NAME.search(name)
    if match and _MONTH.match(match["month"]):
        return match["month"]
    months = set(_MONTH_IN_NAME.findall(name))
    return months.pop() if len(months) == 1 else None


def source_file(
    path: Path, force_option: str | None, month_option: str | None = None
) -> tuple[SourceFile, list[RowProblem]]:
    """Force and month from the name `YYYY-MM-<force>-stop-and-search.csv`, or from --force and --month.

    A file is one force-month: its rows are stored in the file's month whatever their Date says
    (data.police.uk dates are in UTC, so a summer month's file starts with searches dated the evening
    before the 1st). It never replaces a month its rows only spill into.
    """
    match = _FILE_NAME.search(path.name)
    named = force_key(match["force"]) if match else None
    chosen = force_key(force_option) if force_option else None
    named_month = name_month(path.name)
    problems = []
    if force_option and chosen is None:
        problems.append(RowProblem(str(path), 0, "--force", f"{force_option!r} is not a police force"))
    elif chosen and named and chosen != named:
        problems.append(
            RowProblem(str(path), 0, "--force", f"the file name says {named!r} but --force says {chosen!r}")
        )
    if month_option is not None and not _MONTH.match(month_option):
        problems.append(
            RowProblem(str(path), 0, "--month", f"must be a month as YYYY-MM, not {month_option!r}")
        )
    elif month_option and named_month and month_option != named_month:
        problems.append(
            RowProblem(
                str(path), 0, "--month", f"the file name says {named_month} but --month says {month_option}"
            )
        )
    return SourceFile(path, chosen or named, month_option or named_month), problems


def read_file(source: SourceFile, con: duckdb.DuckDBPyConnection, table_name: str) -> ReadFile:
    name = str(source.path)
    try:
        raw, lines, row_problems = _read_raw(source.path)
    except FileNotFoundError:
        return ReadFile(source, [RowProblem(name, 0, "-", "file not found")])
    except UnicodeDecodeError as error:
        return ReadFile(source, [RowProblem(name, 0, "-", f"not UTF-8 text ({error.reason})")])
    except (pa.ArrowInvalid, ValueError) as error:
        return ReadFile(source, [RowProblem(name, 0, "-", f"not readable: {_first_line(error)}")])
    columns, problems = _map_header(name, raw.column_names)
    if "file_name" not in columns and source.force is None:
        problems.append(
            RowProblem(
                name,
                0,
                "--force",
                "no force: name the file YYYY-MM-<force>-stop-and-search.csv or give --force",
            )
        )
    if "file_name" not in columns and source.month is None:
        problems.append(
            RowProblem(
                name,
                0,
                "--month",
                "no month: a file is imported as one force-month, and this file's name gives none (API files "
                "never do); name it YYYY-MM-<force>-stop-and-search.csv or give --month YYYY-MM",
            )
        )
    if problems:
        return ReadFile(source, _in_order([*row_problems, *problems]))
    result = _checked(source, _renamed(raw, columns, lines), con, table_name)
    if row_problems:  # the rows pyarrow could not read, with the problems of those it could
        result.problems = _in_order([*row_problems, *result.problems])
    return result


def _in_order(problems: Sequence[RowProblem]) -> list[RowProblem]:
    """By line; problems of the whole file (line 0, such as "and more problems") last."""
    return sorted(problems, key=lambda problem: (problem.line == 0, problem.line))


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _read_raw(path: Path) -> tuple[pa.Table, pa.Array, list[RowProblem]]:
    """The file as an all-text Arrow table, each row's line number (its index in a JSON array), and the
    rows that could not be read (the wrong number of cells), each named by its line."""
    suffix = path.suffix.lower()
    if suffix == ".json":
        records = _flatten_all(json.loads(path.read_text(encoding="utf-8-sig")))
        return (*_from_records(records, range(1, len(records) + 1)), [])
    if suffix in {".jsonl", ".ndjson"}:
        numbered = list(_json_lines(path))
        return (*_from_records([record for _, record in numbered], [line for line, _ in numbered]), [])
    with path.open(encoding="utf-8-sig", newline="") as handle:
        first = handle.readline()
        header_first = first.strip("\r\n") != ""
        while first and not first.strip("\r\n"):  # pyarrow skips blank lines, before the header too
            first = handle.readline()
    delimiter = ";" if first.count(";") > first.count(",") else ","
    header = next(csv.reader([first], delimiter=delimiter), [])
    try:  # quick parse first; quoted line breaks (free-text grounds) need the slower, careful one
        table = _parse_csv(path, delimiter, header, newlines_in_values=False)
    except pa.ArrowInvalid:
        return _careful_csv(path, delimiter, header)
    if header_first and _line_breaks(path) <= table.num_rows + 1:  # one row per line: row i on line i + 2
        return table, pa.array(range(2, table.num_rows + 2), pa.int32()), []
    return table, pa.array(_record_lines(path, delimiter)[1:], pa.int32()), []


def _careful_csv(
    path: Path, delimiter: str, header: Sequence[str]
) -> tuple[pa.Table, pa.Array, list[RowProblem]]:
    """Line breaks inside quoted cells allowed; a row with the wrong number of cells is left out and named.

    pyarrow numbers the rows it cannot read (the header is 1, blank lines are not counted) only when it
    reads on one thread, so a file with such rows is read again that way.
    """
    bad: list[tuple[int | None, int, int]] = []

    def skip(row: Any) -> str:
        bad.append((row.number, row.actual_columns, row.expected_columns))
        return "skip"

    table = _parse_csv(path, delimiter, header, newlines_in_values=True, on_bad_row=skip)
    if any(number is None for number, _, _ in bad):
        bad.clear()
        table = _parse_csv(path, delimiter, header, newlines_in_values=True, on_bad_row=skip, threads=False)
    starts = _record_lines(path, delimiter)  # the header's first
    skipped = {number for number, _, _ in bad}
    kept = [line for number, line in enumerate(starts, start=1) if number > 1 and number not in skipped]
    if len(kept) != table.num_rows or any(not number or number > len(starts) for number in skipped):
        raise ValueError("the rows could not be numbered (is a quote left open?)")
    problems = [
        RowProblem(str(path), starts[number - 1], "-", f"has {actual} cells; the header has {expected}")
        for number, actual, expected in sorted(bad, key=lambda row: row[0] or 0)[:MAX_PROBLEMS_PER_FILE]
        if number
    ]
    if len(bad) > MAX_PROBLEMS_PER_FILE:
        more = len(bad) - MAX_PROBLEMS_PER_FILE
        problems.append(
            RowProblem(str(path), 0, "-", f"and {more:,} more rows with the wrong number of cells")
        )
    return table, pa.array(kept, pa.int32()), problems


def _line_breaks(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 24), b""))


def _parse_csv(
    path: Path,
    delimiter: str,
    header: Sequence[str],
    *,
    newlines_in_values: bool,
    on_bad_row: Any = None,
    threads: bool = True,
) -> pa.Table:
    return pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(use_threads=threads, block_size=1 << 24),
        parse_options=pacsv.ParseOptions(
            delimiter=delimiter, newlines_in_values=newlines_in_values, invalid_row_handler=on_bad_row
        ),
        convert_options=pacsv.ConvertOptions(
            column_types={column: pa.string() for column in header},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )


def _record_lines(path: Path, delimiter: str) -> list[int]:
    """The line each record (the header first) starts on, counting line breaks inside quoted cells and
    skipping blank lines (as pyarrow does: a blank line is no record)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        starts, previous = [], 0
        for record in reader:
            if record:
                starts.append(previous + 1)
            previous = reader.line_num
    return starts


def _json_lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open(encoding="utf-8-sig") as handle:
        for line_number, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as error:
                    raise ValueError(f"line {line_number}: not JSON ({error.msg})") from None
                if not isinstance(record, dict):
                    raise ValueError(f"line {line_number}: not a JSON object")
                yield line_number, _flatten(record)


def _flatten_all(document: Any) -> list[dict[str, Any]]:
    if not isinstance(document, list) or not all(isinstance(item, dict) for item in document):
        raise ValueError("expected a JSON array of search objects (the data.police.uk API response)")
    return [_flatten(item) for item in document]


def _flatten(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}__"))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


def _from_records(records: Sequence[Mapping[str, Any]], lines: Sequence[int]) -> tuple[pa.Table, pa.Array]:
    keys: dict[str, None] = {}
    for record in records:
        keys.update(dict.fromkeys(record))
    table = pa.table({key: pa.array([_text(r.get(key)) for r in records], pa.string()) for key in keys})
    return table, pa.array(lines, pa.int32())


def _map_header(name: str, header: Sequence[str]) -> tuple[dict[str, str], list[RowProblem]]:
    """Source column → stored name (file_name kept as is); problems for unknown and missing columns."""
    columns: dict[str, str] = {}
    problems = []
    for column in header:
        key = _header_key(column)
        if key == "file_name":
            columns[column] = "file_name"
        elif key in _HEADERS:
            columns[column] = STORED_NAMES[_HEADERS[key]]
        elif key not in _IGNORED:
            problems.append(
                RowProblem(name, 1, column, "unknown column (expected the data.police.uk columns, see docs)")
            )
    present = set(columns.values())
    problems += [
        RowProblem(name, 1, published, "required column is missing")
        for published in PUBLISHED_COLUMNS
        if STORED_NAMES[published] not in present
    ]
    return columns, problems


def _renamed(raw: pa.Table, columns: Mapping[str, str], lines: pa.Array) -> pa.Table:
    arrays: dict[str, pa.Array] = {"line": lines}
    for source, stored in columns.items():
        arrays[stored] = raw.column(source)
    for stored in STORED_NAMES.values():
        arrays.setdefault(stored, pa.nulls(raw.num_rows, pa.string()))
    arrays.setdefault("file_name", pa.nulls(raw.num_rows, pa.string()))
    return pa.table(arrays)


def _blank(column: str) -> str:
    """SQL: the cell as text, NULL when blank (or `null`, as the API's flattened form writes it)."""
    return f"nullif(nullif(\"{column}\", ''), 'null')"


def _boolean(column: str, true: str, false: str) -> str:
    return f"CASE WHEN lower({column}) IN {true} THEN true WHEN lower({column}) IN {false} THEN false END"


_TRUE, _FALSE = "('true', '1', 'yes', 'y')", "('false', '0', 'no', 'n')"
_TEXT_COLUMNS = (*STORED_NAMES.values(), "file_name")


def _self_group(column: str) -> str:
    cases = " ".join(
        f"WHEN starts_with({column}, '{prefix}') THEN '{group}'" for prefix, group in SELF_DEFINED_PREFIXES
    )
    return (
        f"CASE WHEN {column} IS NULL OR {column} = '{_NOT_STATED}' THEN 'Not stated' {cases} "
        f"WHEN starts_with({column}, 'Other ethnic group - ') THEN 'Other' "
        f"WHEN {column} IN ('White', 'Black', 'Asian', 'Mixed', 'Other') THEN {column} END"
    )


def _normalised_sql(source: SourceFile) -> str:
    """Blank cells as NULL, then the typed and derived columns, keeping the raw cells the checks need."""
    force = f"'{source.force}'" if source.force else "NULL"
    month_from_name = f"'{source.month}'" if source.month else "NULL"
    officer_values = ", ".join(f"'{value}'" for value in OFFICER_DEFINED)
    arrests = ", ".join(f"'{value}'" for value in ARREST_OUTCOMES)
    pattern = _FILE_NAME_SQL
    return f"""
    WITH cleaned AS (SELECT line, {", ".join(f"{_blank(c)} AS {c}" for c in _TEXT_COLUMNS)} FROM raw)
    SELECT line,
        coalesce({force}, lower(regexp_extract(file_name, '{pattern}', 2, 'i'))) AS force_text,
        coalesce({month_from_name}, nullif(regexp_extract(file_name, '{pattern}', 1, 'i'), ''))
            AS source_month,
        substr(date, 1, 7) AS month,
        type, date, operation, gender, age_range, self_defined, officer_defined, legislation, object,
        outcome, grounds, officer_id, team,
        {_boolean("part_of_operation", _TRUE, _FALSE)} AS part_of_operation,
        {_boolean("outcome_linked", _TRUE, _FALSE)} AS outcome_linked,
        {_boolean("removal", _TRUE, _FALSE)} AS removal,
        {_boolean("body_worn_video", _TRUE, _FALSE)} AS body_worn_video,
        TRY_CAST(latitude AS DOUBLE) AS latitude_number,
        TRY_CAST(longitude AS DOUBLE) AS longitude_number,
        lower(drug_search_type) AS drug_search_type,
        {_self_group("self_defined")} AS self_group,
        CASE WHEN officer_defined IS NULL THEN 'Not stated'
             WHEN officer_defined IN ({officer_values}) THEN officer_defined END AS officer_group,
        type IS DISTINCT FROM '{VEHICLE_ONLY}' AS person,
        coalesce(outcome IN ({arrests}), false) AS arrest,
        part_of_operation AS raw_part_of_operation, outcome_linked AS raw_outcome_linked,
        removal AS raw_removal, body_worn_video AS raw_body_worn_video,
        latitude AS raw_latitude, longitude AS raw_longitude
    FROM cleaned
    """


_DAY_SECONDS = 86400
_MONTH_START = "TRY_CAST(source_month || '-01' AS DATE)"
_DATE_SECONDS = "epoch(TRY_CAST(date AS TIMESTAMPTZ))"


def _checks(source: SourceFile) -> list[tuple[str, str, str]]:
    """(column as published, failing condition over `normalised`, rule in words)."""
    whose = f"the file's month, {source.month}" if source.month else "the month its file_name names"
    types = ", ".join(f"'{value}'" for value in SEARCH_TYPES)
    boolean = "must be True, False or blank"
    checks = [
        ("Type", f"type IS NULL OR type NOT IN ({types})", f"must be one of: {', '.join(SEARCH_TYPES)}"),
        ("Date", "date IS NULL", "is required"),
        (
            "Date",
            "date IS NOT NULL AND TRY_CAST(date AS TIMESTAMPTZ) IS NULL",
            "must be a date and time like 2018-04-01T13:05:00+00:00",
        ),
        (
            "Part of a policing operation",
            "raw_part_of_operation IS NOT NULL AND part_of_operation IS NULL",
            boolean,
        ),
        (
            "Outcome linked to object of search",
            "raw_outcome_linked IS NOT NULL AND outcome_linked IS NULL",
            boolean,
        ),
        ("Removal of more than just outer clothing", "raw_removal IS NOT NULL AND removal IS NULL", boolean),
        (
            "Body-worn video",
            "raw_body_worn_video IS NOT NULL AND body_worn_video IS NULL",
            "must be yes, no or blank",
        ),
        (
            "Latitude",
            "raw_latitude IS NOT NULL AND NOT coalesce(latitude_number BETWEEN -90 AND 90, false)",
            "must be a number from -90 to 90, or blank",
        ),
        (
            "Longitude",
            "raw_longitude IS NOT NULL AND NOT coalesce(longitude_number BETWEEN -180 AND 180, false)",
            "must be a number from -180 to 180, or blank",
        ),
        (
            "Self-defined ethnicity",
            "self_group IS NULL",
            "is not a recognised self-defined ethnicity (e.g. 'White - Irish')",
        ),
        (
            "Officer-defined ethnicity",
            "officer_group IS NULL",
            f"must be one of {', '.join(OFFICER_DEFINED)}, or blank",
        ),
        (
            "Drug search type",
            "drug_search_type IS NOT NULL AND drug_search_type NOT IN ('possession', 'supply')",
            "must be possession, supply or blank",
        ),
        (
            "file_name",
            "force_text IS NULL OR force_text = ''",
            "must name the force: YYYY-MM-<force>-stop-and-search.csv",
        ),
        (
            "file_name",
            f"force_text IS NOT NULL AND force_text <> '' AND {_MONTH_START} IS NULL",
            "must name the month: YYYY-MM-<force>-stop-and-search.csv (or give --month)",
        ),
        (
            "Date",
            f"{_DATE_SECONDS} IS NOT NULL AND {_MONTH_START} IS NOT NULL AND NOT ("
            f"{_DATE_SECONDS} >= epoch({_MONTH_START}) - {_DAY_SECONDS} AND "
            f"{_DATE_SECONDS} < epoch({_MONTH_START} + INTERVAL 1 MONTH) + {_DAY_SECONDS})",
            f"is not in {whose} (a day either side is allowed, for times in UTC): check the file name "
            "or --month",
        ),
    ]
    return checks


def _checked(source: SourceFile, raw: pa.Table, con: duckdb.DuckDBPyConnection, table_name: str) -> ReadFile:
    """One pass: the stored columns and a bit mask of the rules each row breaks, kept in DuckDB."""
    checks = _checks(source)
    mask = " | ".join(
        f"(CASE WHEN {condition} THEN {1 << i} ELSE 0 END)" for i, (_, condition, _) in enumerate(checks)
    )
    con.register("raw", raw)
    try:
        con.execute(
            f"CREATE TEMP TABLE {table_name} AS SELECT {_KEPT_COLUMNS}, ({mask}) AS broken "
            f"FROM ({_normalised_sql(source)})"
        )
    finally:
        con.unregister("raw")
    bad = con.execute(
        f"SELECT line, broken FROM {table_name} WHERE broken <> 0 ORDER BY line LIMIT ?",
        [MAX_PROBLEMS_PER_FILE + 1],
    ).fetchall()
    if not bad:
        return ReadFile(source, [], con, table_name)
    name = str(source.path)
    problems = [
        RowProblem(name, line, column, rule)
        for line, bits in bad
        for i, (column, _, rule) in enumerate(checks)
        if bits & (1 << i)
    ]
    total = con.execute(f"SELECT count(*) FROM {table_name} WHERE broken <> 0").fetchone()
    con.execute(f"DROP TABLE {table_name}")
    if len(problems) > MAX_PROBLEMS_PER_FILE or (total and total[0] > len(bad)):
        rows_left = (total[0] if total else 0) - MAX_PROBLEMS_PER_FILE
        problems = [
            *problems[:MAX_PROBLEMS_PER_FILE],
            RowProblem(name, 0, "-", f"and more problems not listed (at least {max(rows_left, 1):,} rows)"),
        ]
    return ReadFile(source, problems)


_DUCK_TYPES = {pa.string(): "VARCHAR", pa.bool_(): "BOOLEAN", pa.float64(): "DOUBLE", pa.int32(): "INTEGER"}
_RENAMED = {"force": "force_text", "latitude": "latitude_number", "longitude": "longitude_number"}
# What the temp table keeps: the stored columns (some under their working names) and what splitting needs.
_KEPT_COLUMNS = ", ".join(
    dict.fromkeys([*(_RENAMED.get(field.name, field.name) for field in SCHEMA), "force_text", "outcome"])
)
_STORED_COLUMNS = ", ".join(
    f"CAST({_RENAMED.get(field.name, field.name)} AS {_DUCK_TYPES[field.type]}) AS {field.name}"
    for field in SCHEMA
)


def read_sources(
    paths: Sequence[Path], force_option: str | None, month_option: str | None = None
) -> tuple[list[ReadFile], list[RowProblem]]:
    """Every file read and checked; the problems of all of them (none: all may be stored).

    The files' rows share one in-memory DuckDB connection, closed when the last ReadFile is dropped.
    """
    con = duckdb.connect()
    read: list[ReadFile] = []
    problems: list[RowProblem] = []
    for index, path in enumerate(paths):
        source, naming = source_file(path, force_option, month_option)
        if naming:
            problems += naming
            continue
        result = read_file(source, con, f"file_{index}")
        problems += result.problems
        read.append(result)
    return read, problems


def csv_text(rows: Sequence[Mapping[str, str]], columns: Sequence[str] = PUBLISHED_COLUMNS) -> str:
    """Rows as a data.police.uk CSV file (tests and the generator write files this way)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
