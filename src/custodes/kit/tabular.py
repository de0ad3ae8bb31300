"""Reading import files: CSV (UTF-8, optional BOM) or JSON Lines; every problem named by file, line, column.

A batch is all or nothing: parsers collect every problem first; callers store nothing if there is one.
"""

from __future__ import annotations

import codecs
import csv
import json
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

JSONL_SUFFIXES = {".jsonl", ".ndjson", ".json"}
_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})$")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ALLOWED_CONTROLS = frozenset("\t\n\r")


@dataclass(frozen=True, slots=True)
class RowProblem:
    file: str
    line: int
    column: str
    problem: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.column}: {self.problem}"


class BatchRejected(Exception):
    """Nothing was stored; every problem is listed."""

    def __init__(self, problems: Sequence[RowProblem]) -> None:
        super().__init__(f"{len(problems)} problem(s); nothing was stored")
        self.problems = list(problems)


@dataclass(frozen=True, slots=True)
class SourceRow:
    file: str
    line: int
    values: dict[str, str]
    # Problems found while reading the file (unknown column, wrong number of cells). RowReader reports them
    # with the row's own, so one run lists every problem of the file.
    problems: tuple[RowProblem, ...] = ()


def read_rows(path: Path, columns: Sequence[str], optional: Iterable[str] = ()) -> list[SourceRow]:
    """All rows of a CSV or JSON Lines file; raises BatchRejected for unreadable files or wrong columns."""
    rows, problems = read_file(path, columns, optional)
    if problems:
        raise BatchRejected(problems)
    return rows


def read_file(
    path: Path, columns: Sequence[str], optional: Iterable[str] = ()
) -> tuple[list[SourceRow], list[RowProblem]]:
    """The rows of a CSV or JSON Lines file that can be checked, and the file's own problems (unreadable,
    not UTF-8, a required column missing or one named twice, a line that is not JSON or not CSV). A file
    whose header is wrong gives no rows; a JSON Lines file gives its readable lines, so that one run lists
    every problem."""
    allowed = list(columns) + [c for c in optional if c not in columns]
    name = str(path)
    rows: list[SourceRow] = []
    problems: list[RowProblem] = []
    try:
        if path.suffix.lower() in JSONL_SUFFIXES:
            _read_jsonl(path, name, columns, allowed, rows, problems)
        else:
            _read_csv(path, name, columns, allowed, rows, problems)
    except FileNotFoundError:
        return [], [RowProblem(name, 0, "-", "file not found")]
    except IsADirectoryError:
        return [], [RowProblem(name, 0, "-", "is a folder, not a file: name the files in it")]
    except UnicodeDecodeError as error:
        line = _first_bad_line(path)
        message = (
            f"not UTF-8 text (byte 0x{error.object[error.start]:02x} on this line is not UTF-8, as in a "
            "file saved as Windows-1252 or ANSI): save the file as UTF-8 (in Excel: CSV UTF-8) and import "
            "it again"
        )
        return [], [RowProblem(name, line, "-", message)]
    except OSError as error:
        return [], [RowProblem(name, 0, "-", f"cannot be read ({error.strerror or error})")]
    return rows, problems


def _first_bad_line(path: Path) -> int:
    """The line holding the first byte that is not UTF-8."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                decoder.decode(line)
            except UnicodeDecodeError:
                return number
    return 0


def _check_header(
    name: str, line: int, header: Sequence[str], required: Sequence[str], allowed: Sequence[str]
) -> tuple[list[RowProblem], list[RowProblem]]:
    """The header's problems that make the file unreadable (a required column missing, a column named more
    than once: which cell would count?), and its unknown columns (reported with the rows)."""
    missing = [
        RowProblem(name, line, column, "required column is missing")
        for column in required
        if column not in header
    ]
    twice = [
        RowProblem(name, line, column, "appears more than once")
        for column, times in Counter(header).items()
        if times > 1
    ]
    unknown = [
        RowProblem(name, line, column, f"unknown column (expected: {', '.join(allowed)})")
        for column in dict.fromkeys(header)
        if column not in allowed
    ]
    return missing + twice, unknown


def _read_csv(
    path: Path,
    name: str,
    required: Sequence[str],
    allowed: Sequence[str],
    rows: list[SourceRow],
    problems: list[RowProblem],
) -> None:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        try:
            header = [column.strip() for column in next(reader, [])]
            broken, pending = _check_header(name, 1, header, required, allowed)
            if broken:
                problems += broken + pending
                return
            for cells in reader:
                if not any(cell.strip() for cell in cells):
                    continue
                if len(cells) != len(header):
                    pending.append(
                        RowProblem(
                            name,
                            reader.line_num,
                            "-",
                            f"has {len(cells)} cells but the header has {len(header)}",
                        )
                    )
                values = dict(zip(header, (c.strip() for c in cells), strict=False))
                rows.append(SourceRow(name, reader.line_num, values, tuple(pending)))
                pending = []
        except csv.Error as error:
            problems.append(RowProblem(name, reader.line_num, "-", f"not valid CSV ({error})"))
            return
    problems += pending  # an unknown column in a file with no rows


def _read_jsonl(
    path: Path,
    name: str,
    required: Sequence[str],
    allowed: Sequence[str],
    rows: list[SourceRow],
    problems: list[RowProblem],
) -> None:
    with path.open(encoding="utf-8-sig") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                record = json.loads(text, object_pairs_hook=_pairs)
            except json.JSONDecodeError as error:
                problems.append(RowProblem(name, number, "-", f"not valid JSON ({error.msg})"))
                continue
            if not isinstance(record, _Pairs):
                problems.append(RowProblem(name, number, "-", "each line must be a JSON object"))
                continue
            problems += [RowProblem(name, number, key, "appears more than once") for key in record.twice]
            problems += [
                RowProblem(name, number, c, "required key is missing") for c in required if c not in record
            ]
            unknown = tuple(RowProblem(name, number, c, "unknown key") for c in record if c not in allowed)
            rows.append(SourceRow(name, number, {k: _cell(v) for k, v in record.items()}, unknown))


class _Pairs(dict[str, Any]):
    """A JSON object, with the keys it named more than once (json.loads alone keeps the last silently)."""

    twice: list[str]


def _pairs(pairs: list[tuple[str, Any]]) -> _Pairs:
    found = _Pairs(pairs)
    keys = [key for key, _value in pairs]
    found.twice = [key for index, key in enumerate(keys) if key in keys[:index]]
    return found


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(_cell(item) for item in value)
    return str(value).strip()


@dataclass(slots=True)
class RowReader:
    """Typed access to one row's cells; each bad cell adds a problem instead of raising."""

    row: SourceRow
    problems: list[RowProblem] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.problems[:0] = self.row.problems

    def problem(self, column: str, message: str) -> None:
        self.problems.append(RowProblem(self.row.file, self.row.line, column, message))

    def text(
        self,
        column: str,
        *,
        required: bool = False,
        max_length: int = 200,
        pattern: str | None = None,
        form: str | None = None,
    ) -> str | None:
        """The cell's text; with `pattern`, `form` says in words what the pattern asks for (the message
        names the rule: "'abc' is not a whole number of months")."""
        if pattern is not None and not form:
            raise ValueError(f"{column}: a pattern needs its form in words")
        value = self.row.values.get(column, "")
        if not value:
            if required:
                self.problem(column, "is required")
            return None
        if len(value) > max_length:
            self.problem(column, f"is longer than {max_length} characters")
            return None
        if any(_unprintable(char) for char in value):
            # NUL cannot be stored in PostgreSQL, a lone surrogate cannot be encoded at all.
            self.problem(column, "contains a control character or invalid text")
            return None
        if pattern is not None and not re.fullmatch(pattern, value):
            self.problem(column, f"{value!r} is not {form}")
            return None
        return value

    def date(self, column: str, *, required: bool = False) -> date | None:
        value = self.text(column, required=required)
        if value is None:
            return None
        try:
            # fromisoformat alone also takes week dates (2020-W01-1) and compact forms (20200101).
            return date.fromisoformat(value) if _DATE.fullmatch(value) else _bad_date()
        except ValueError:
            self.problem(column, f"{value!r} is not a date (YYYY-MM-DD)")
            return None

    def moment(self, column: str, *, required: bool = False) -> datetime | None:
        value = self.text(column, required=required)
        if value is None:
            return None
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            self.problem(column, f"{value!r} is not an ISO 8601 time")
            return None
        if moment.tzinfo is None:
            self.problem(column, f"{value!r} has no UTC offset")
            return None
        return moment

    def number(self, column: str, *, low: float, high: float, required: bool = False) -> float | None:
        value = self.text(column, required=required)
        if value is None:
            return None
        try:
            number = float(value)
        except ValueError:
            self.problem(column, f"{value!r} is not a number")
            return None
        if not math.isfinite(number) or not low <= number <= high:
            self.problem(column, f"{value} is outside {low}–{high}")
            return None
        return number

    def boolean(self, column: str, *, required: bool = False) -> bool | None:
        value = self.text(column, required=required)
        if value is None:
            return None
        if value.lower() in ("true", "false"):
            return value.lower() == "true"
        self.problem(column, f"{value!r} is not true or false")
        return None

    def items(
        self, column: str, *, required: bool = False, allowed: Iterable[str] | None = None
    ) -> list[str]:
        value = self.text(column, required=required, max_length=4000)
        if value is None:
            return []
        found = [item.strip() for item in value.split(";") if item.strip()]
        if allowed is not None:
            known = list(allowed)
            for item in found:
                if item not in known:
                    self.problem(column, f"{item!r} is not one of: {', '.join(known)}")
        return found

    def choice(self, column: str, allowed: Iterable[str], *, required: bool = False) -> str | None:
        value = self.text(column, required=required)
        known = list(allowed)
        if value is not None and value not in known:
            self.problem(column, f"{value!r} is not one of: {', '.join(known)}")
            return None
        return value

    def postcode(self, column: str) -> str | None:
        value = self.text(column)
        if value is None:
            return None
        normalised = normalise_postcode(value)
        if normalised is None:
            self.problem(column, f"{value!r} is not a UK postcode")
        return normalised


def where_first(first: SourceRow, row: SourceRow) -> str:
    """Where a repeated key first appeared: "line 2" in the same file, "a.csv line 2" in another one."""
    return f"line {first.line}" if first.file == row.file else f"{first.file} line {first.line}"


def _bad_date() -> date:
    raise ValueError("not YYYY-MM-DD")


def _unprintable(char: str) -> bool:
    return char not in _ALLOWED_CONTROLS and unicodedata.category(char) in ("Cc", "Cs")


def normalise_postcode(value: str) -> str | None:
    """`me14 1xx` → `ME14 1XX`; None if it is not a UK postcode."""
    compact = re.sub(r"\s+", "", value.upper())
    match = _POSTCODE.match(f"{compact[:-3]} {compact[-3:]}")
    return f"{match.group(1)} {match.group(2)}" if match else None
