"""`custodes import staff FILE...` (imports.md): CSV or JSON Lines, all or nothing, every problem named."""

from __future__ import annotations

import hashlib
import json
import math
import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import Result
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, undefer_group
from typer.testing import CliRunner

from custodes.cli import app as cli
from custodes.identity.models import Account
from custodes.kit.crypto import attach_key
from custodes.kit.db import make_engine
from custodes.kit.tabular import BatchRejected, RowReader, SourceRow, normalise_postcode, read_rows
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter
from custodes.registers import digest_key, value_digest
from custodes.settings import Settings
from custodes.workforce.models import HOME_LOCATION, Staff
from custodes.workforce.schemas import STAFF_COLUMNS
from custodes.workforce.service import parse_staff_rows

PROBLEM_LINE = re.compile(r"^(?P<file>.+):(?P<line>\d+): (?P<column>[a-z_-]+): (?P<problem>.+)$")

GOOD = [
    # staff_id, surname, forenames, date_of_birth, role, team, area, line_manager_id, postcode, lat, lon
    ("S1", "Okafor", "Ada", "1975-04-02", "supervisor;officer", "T1", "N", "", "me14 1xx", "51.27", "0.52"),
    ("S2", "Brown", "Sam", "1990-11-30", "officer", "T1", "N", "S1", "ME15 6AB", "", ""),
    ("S3", "Ng", "Lee", "", "dpu", "", "", "S2", "", "", ""),
]


@dataclass
class Installation:
    runner: CliRunner
    env: dict[str, str]
    engine: Engine
    folder: Path

    def run(self, *args: str) -> Result:
        return self.runner.invoke(cli, list(args), env=self.env)

    def session(self) -> Session:
        return Session(self.engine)


@pytest.fixture
def installation(backend: str, new_database: Callable[[str], str], tmp_path: Path) -> Iterator[Installation]:
    url = new_database(backend)
    env = {"CUSTODES_HOME": str(tmp_path / "home"), "CUSTODES_DATABASE_URL": url}
    runner = CliRunner()
    assert runner.invoke(cli, ["init"], env=env).exit_code == 0
    engine = make_engine(url)
    attach_key(engine, Settings(home=tmp_path / "home", database_url=url).data_key)  # the key init made
    yield Installation(runner, env, engine, tmp_path)
    engine.dispose()


def write_csv(path: Path, rows: Sequence[Sequence[str]], header: Sequence[str] = STAFF_COLUMNS) -> Path:
    lines = [",".join(header)] + [",".join(row) for row in rows]
    path.write_bytes(b"\xef\xbb\xbf" + ("\r\n".join(lines) + "\r\n").encode())  # with a BOM, as Excel saves
    return path


def write_jsonl(path: Path, rows: Sequence[Sequence[str]], header: Sequence[str] = STAFF_COLUMNS) -> Path:
    records = []
    for row in rows:
        record: dict[str, object] = dict(zip(header, row, strict=True))
        record["role"] = str(record["role"]).split(";")  # lists are allowed in JSON Lines
        for key in ("home_lat", "home_lon"):
            record[key] = float(str(record[key])) if record[key] else None
        records.append(json.dumps(record))
    path.write_text("\n".join(records) + "\n", encoding="utf-8")
    return path


def staff_entries(install: Installation, op: str) -> list[ledger.StoredEntry]:
    with install.session() as session:
        return ledger.search(session, EntryFilter(op=op, object_type="staff"), limit=1000)


def stored_staff(install: Installation) -> dict[str, Staff]:
    with install.session() as session:
        query = select(Staff).options(undefer_group(HOME_LOCATION))  # read after the session closes
        return {row.staff_id: row for row in session.scalars(query)}


def problems(result: Result) -> list[tuple[str, int, str, str]]:
    found = []
    for line in result.output.splitlines():
        match = PROBLEM_LINE.match(line)
        if match and not line.startswith("Error"):
            found.append((match["file"], int(match["line"]), match["column"], match["problem"]))
    return found


def nothing_stored(install: Installation) -> bool:
    with install.session() as session:
        return (
            session.scalar(select(func.count()).select_from(Staff)) == 0
            and session.scalar(select(func.count()).select_from(Account)) == 0
            and ledger.count(session, EntryFilter(object_type="staff")) == 0
        )


def sha256(value: object) -> str:
    return hashlib.sha256(str(value).encode()).hexdigest()


# --------------------------------------------------------------------------- good files


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_good_file_is_imported(fmt: str, installation: Installation) -> None:
    write = write_csv if fmt == "csv" else write_jsonl
    path = write(installation.folder / f"staff.{fmt}", GOOD)
    result = installation.run("import", "staff", str(path))
    assert result.exit_code == 0, result.output
    assert "staff: 3 new, 0 updated, 0 unchanged" in result.output
    staff = stored_staff(installation)
    assert sorted(staff) == ["S1", "S2", "S3"]
    assert staff["S1"].home_postcode == "ME14 1XX"  # normalised
    assert staff["S1"].date_of_birth.isoformat() == "1975-04-02"  # type: ignore[union-attr]
    assert (staff["S1"].home_lat, staff["S1"].home_lon) == (51.27, 0.52)
    assert staff["S1"].area_code == "N" and staff["S2"].line_manager_id == "S1"
    assert staff["S3"].date_of_birth is None and staff["S3"].team_id is None
    with installation.session() as session:
        roles = {a.staff_id: sorted(r.role for r in a.roles) for a in session.scalars(select(Account))}
    assert roles == {"S1": ["officer", "supervisor"], "S2": ["officer"], "S3": ["dpu"]}
    collections = staff_entries(installation, "collection")
    assert sorted(e.object_id for e in collections) == ["S1", "S2", "S3"]  # type: ignore[type-var]
    assert all(e.actor == "system:cli" and e.subjects == [e.object_id] for e in collections)
    assert "Okafor" not in json.dumps([e.content for e in collections])  # the ledger holds no names


def test_csv_and_jsonl_files_together(installation: Installation) -> None:
    first = write_csv(installation.folder / "a.csv", GOOD[:1])
    second = write_jsonl(installation.folder / "b.jsonl", GOOD[1:])  # S2's manager is in the other file
    result = installation.run("import", "staff", str(first), str(second))
    assert result.exit_code == 0, result.output
    assert sorted(stored_staff(installation)) == ["S1", "S2", "S3"]


def test_reimport_records_alterations_with_hashes(installation: Installation) -> None:
    path = write_csv(installation.folder / "staff.csv", GOOD)
    assert installation.run("import", "staff", str(path)).exit_code == 0
    again = installation.run("import", "staff", str(path))
    assert "staff: 0 new, 0 updated, 3 unchanged" in again.output
    assert staff_entries(installation, "alteration") == []
    changed = list(GOOD)
    changed[1] = ("S2", "Brown-Smith", "Sam", "1990-11-30", "officer", "T2", "N", "S1", "ME15 6AB", "", "")
    result = installation.run("import", "staff", str(write_csv(installation.folder / "staff2.csv", changed)))
    assert result.exit_code == 0, result.output
    assert "staff: 0 new, 1 updated, 2 unchanged" in result.output
    alterations = staff_entries(installation, "alteration")
    assert [e.object_id for e in alterations] == ["S2"]
    # Keyed digests (HMAC under the installation's secret key), never a plain SHA-256 of the value.
    key = digest_key(Settings(home=installation.folder / "home"))
    assert alterations[0].detail["changes"] == {
        "surname": {
            "old_hmac": value_digest(key, "staff", "S2", "surname", "Brown"),
            "new_hmac": value_digest(key, "staff", "S2", "surname", "Brown-Smith"),
        },
        "team_id": {
            "old_hmac": value_digest(key, "staff", "S2", "team_id", "T1"),
            "new_hmac": value_digest(key, "staff", "S2", "team_id", "T2"),
        },
    }
    content = json.dumps(alterations[0].content)
    assert "Brown" not in content and sha256("Brown") not in content and sha256("T2") not in content
    assert stored_staff(installation)["S2"].surname == "Brown-Smith"
    with installation.session() as session:
        account = session.get(Account, "S2")
        assert account is not None and account.display_name == "Sam Brown-Smith"


def test_a_moved_home_is_named_in_the_ledger_without_any_digest_of_it(installation: Installation) -> None:
    """The home location is encrypted at rest: its alteration says it changed, and gives nothing to hash
    the ~1.8M UK postcodes (or every coordinate) against, keyed or not."""
    path = write_csv(installation.folder / "staff.csv", GOOD)
    assert installation.run("import", "staff", str(path)).exit_code == 0
    moved = list(GOOD)
    moved[0] = (*GOOD[0][:8], "CT1 2AB", "51.2802", "1.0789")
    result = installation.run("import", "staff", str(write_csv(installation.folder / "moved.csv", moved)))
    assert result.exit_code == 0, result.output
    (alteration,) = staff_entries(installation, "alteration")
    not_recorded = {"values": "not recorded: encrypted at rest"}
    assert alteration.detail["changes"] == {
        "home_postcode": not_recorded,
        "home_lat": not_recorded,
        "home_lon": not_recorded,
    }
    exported = installation.run("ledger", "export").output
    for value in ("ME14 1XX", "CT1 2AB", 51.27, 51.2802, 1.0789, 0.52):
        assert sha256(value) not in exported, value


def test_a_manager_already_in_the_register_is_known(installation: Installation) -> None:
    first = installation.run("import", "staff", str(write_csv(installation.folder / "a.csv", GOOD)))
    assert first.exit_code == 0
    newcomer = [("S4", "Khan", "Zara", "", "staff", "", "", "S3", "", "", "")]
    result = installation.run("import", "staff", str(write_csv(installation.folder / "b.csv", newcomer)))
    assert result.exit_code == 0, result.output
    assert stored_staff(installation)["S4"].line_manager_id == "S3"


SERVICE = ("collar_number", "rank", "start_date", "leave_date")


def test_rank_collar_number_and_service_dates_are_optional_columns(installation: Installation) -> None:
    header = [*STAFF_COLUMNS, *SERVICE]
    rows = [(*GOOD[0], "4711", "Inspector", "2001-09-03", ""), (*GOOD[1], "", "Constable", "2019-01-07", "")]
    path = write_csv(installation.folder / "staff.csv", [*rows, (*GOOD[2], "", "", "", "")], header)
    assert installation.run("import", "staff", str(path)).exit_code == 0
    stored = stored_staff(installation)
    assert (stored["S1"].collar_number, stored["S1"].rank) == ("4711", "Inspector")
    assert str(stored["S2"].start_date) == "2019-01-07" and stored["S2"].leave_date is None
    # A later file without the optional columns leaves them as they were.
    again = installation.run("import", "staff", str(write_csv(installation.folder / "plain.csv", GOOD)))
    assert "3 unchanged" in again.output, again.output
    assert stored_staff(installation)["S1"].rank == "Inspector"


def test_a_leave_date_before_the_start_date_is_refused(installation: Installation) -> None:
    header = [*STAFF_COLUMNS, *SERVICE]
    path = write_csv(
        installation.folder / "staff.csv", [(*GOOD[0], "", "", "2020-05-01", "2019-05-01")], header
    )
    result = installation.run("import", "staff", str(path))
    assert result.exit_code != 0
    assert problems(result) == [(str(path), 2, "leave_date", "the leave date is before the start date")]
    assert nothing_stored(installation)


def test_a_leaver_cannot_log_in(installation: Installation) -> None:
    assert (
        installation.run("import", "staff", str(write_csv(installation.folder / "a.csv", GOOD))).exit_code
        == 0
    )
    header = [*STAFF_COLUMNS, *SERVICE]
    # S2's last day was yesterday or earlier; S3 leaves in the future and keeps their account.
    leaving = [
        (*GOOD[0], "", "", "", ""),
        (*GOOD[1], "", "", "", "2026-01-31"),
        (*GOOD[2], "", "", "", "2999-12-31"),
    ]
    result = installation.run(
        "import", "staff", str(write_csv(installation.folder / "b.csv", leaving, header))
    )
    assert result.exit_code == 0, result.output
    with installation.session() as session:
        assert [a.staff_id for a in session.scalars(select(Account).where(~Account.active))] == ["S2"]
        entries = ledger.search(session, EntryFilter(object_type="account", object_id="S2"), limit=10)
        assert entries[0].detail["fields"] == ["active_until", "active"]
        leaving_later = session.get(Account, "S3")
        assert leaving_later is not None and str(leaving_later.active_until) == "2999-12-31"


# --------------------------------------------------------------------------- bad files


BAD = [
    GOOD[0],
    ("S5", "Adams", "Jo", "1980-13-01", "officer", "", "", "", "", "", ""),  # 3: bad date
    ("S6", "Baker", "Jo", "", "officer;wizard", "", "", "", "", "", ""),  # 4: unknown role
    ("S7", "Clark", "Jo", "", "officer", "", "", "", "NOT A POSTCODE", "", ""),  # 5: bad postcode
    ("S8", "", "Jo", "", "officer", "", "", "", "", "", ""),  # 6: missing surname
    ("S1", "Okafor", "Ada", "", "officer", "", "", "", "", "", ""),  # 7: duplicate staff_id
    ("S9", "Evans", "Jo", "", "officer", "", "", "GHOST", "", "", ""),  # 8: unknown line manager
    ("S10", "Fox", "Jo", "", "officer", "", "", "", "", "51.5", ""),  # 9: lat without lon
]
BAD_CELLS = {
    (3, "date_of_birth"),
    (4, "role"),
    (5, "home_postcode"),
    (6, "surname"),
    (7, "staff_id"),
    (8, "line_manager_id"),
    (9, "home_lon"),
}


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_file_with_bad_rows_stores_nothing_and_names_every_problem(
    fmt: str, installation: Installation
) -> None:
    header = [*STAFF_COLUMNS, "shoe_size"]
    rows = [(*row, "9") for row in BAD]
    path = installation.folder / f"bad.{fmt}"
    if fmt == "csv":
        write_csv(path, rows, header)
        unknown = {(1, "shoe_size")}  # the header line
    else:
        write_jsonl(path, rows, header)
        unknown = {(line, "shoe_size") for line in range(1, len(BAD) + 1)}
        # JSON Lines has no header: each line is a record, one line earlier than in the CSV.
        expected = {(line - 1, column) for line, column in BAD_CELLS}
    result = installation.run("import", "staff", str(path))
    assert result.exit_code == 1, result.output
    found = problems(result)
    assert {f for f, *_ in found} == {str(path)}
    cells = {(line, column) for _, line, column, _ in found}
    assert cells == (BAD_CELLS if fmt == "csv" else expected) | unknown, result.output
    text = {(line, column): problem for _, line, column, problem in found}
    first = 0 if fmt == "csv" else -1
    assert "'1980-13-01' is not a date" in text[(3 + first, "date_of_birth")]
    assert "'wizard'" in text[(4 + first, "role")]
    assert "'NOT A POSTCODE' is not a UK postcode" in text[(5 + first, "home_postcode")]
    assert "required" in text[(6 + first, "surname")]
    assert "S1 already appears on line" in text[(7 + first, "staff_id")]
    assert "GHOST" in text[(8 + first, "line_manager_id")]
    assert "home_lat and home_lon" in text[(9 + first, "home_lon")]
    counted = f"{len(found)} problem{'' if len(found) == 1 else 's'}"
    assert f"{counted} found; nothing was imported" in result.output
    assert nothing_stored(installation)


def test_problems_in_several_files_are_all_reported(installation: Installation) -> None:
    first = write_csv(installation.folder / "one.csv", [BAD[1]])
    second = write_jsonl(installation.folder / "two.jsonl", [BAD[2]])
    result = installation.run("import", "staff", str(first), str(second))
    assert result.exit_code == 1
    assert {(f, line, column) for f, line, column, _ in problems(result)} == {
        (str(first), 2, "date_of_birth"),
        (str(second), 1, "role"),
    }
    assert nothing_stored(installation)


def test_a_bad_row_in_a_reimport_changes_nothing(installation: Installation) -> None:
    first = installation.run("import", "staff", str(write_csv(installation.folder / "a.csv", GOOD)))
    assert first.exit_code == 0
    changed = [("S1", "Renamed", "Ada", "", "officer", "", "", "", "", "", ""), BAD[1]]
    result = installation.run("import", "staff", str(write_csv(installation.folder / "b.csv", changed)))
    assert result.exit_code == 1
    assert stored_staff(installation)["S1"].surname == "Okafor"
    assert staff_entries(installation, "alteration") == []


@pytest.mark.parametrize(
    ("content", "column", "problem"),
    [
        (",".join(STAFF_COLUMNS[:-1]) + "\r\nS1,A,B,,officer,,,,,1\r\n", "home_lon", "missing"),
        (",".join(STAFF_COLUMNS) + "\r\nS1,A,B,,officer\r\n", "-", "cells"),
        (",".join(STAFF_COLUMNS) + '\r\nS1,"' + "x" * 200_000 + '",B,,officer,,,,,,\r\n', "-", "CSV"),
        (",".join(STAFF_COLUMNS) + "\r\nS1,Nul\x00l,B,,officer,,,,,,\r\n", "surname", "control"),
        (",".join(STAFF_COLUMNS) + "\r\nS1,A,B,,officer,,,,,nan,inf\r\n", "home_lat", "outside"),
        (",".join(STAFF_COLUMNS) + "\r\nS1,A,B,2020-W01-1,officer,,,,,,\r\n", "date_of_birth", "date"),
        (",".join(STAFF_COLUMNS) + "\r\nS1,A,B,20200101T0,officer,,,,,,\r\n", "date_of_birth", "date"),
        (",".join(STAFF_COLUMNS) + "\r\nS 1,A,B,,officer,,,,,,\r\n", "staff_id", "is not a staff number"),
        (",".join(STAFF_COLUMNS) + "\r\nS1,A,B,,officer,,north,,,,\r\n", "area_code", "is not an area code"),
    ],
    ids=["no column", "short row", "huge cell", "NUL", "nan", "week date", "compact date", "space", "area"],
)
def test_malformed_csv_is_refused_cleanly(
    content: str, column: str, problem: str, installation: Installation
) -> None:
    path = installation.folder / "odd.csv"
    path.write_text(content, encoding="utf-8", newline="")
    result = installation.run("import", "staff", str(path))
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    found = problems(result)
    assert any(c == column and problem in p for _, _, c, p in found), result.output
    assert nothing_stored(installation)


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('{"staff_id": "S1"}', "required key is missing"),
    ],
)
def test_malformed_json_lines_are_refused_cleanly(
    line: str, problem: str, installation: Installation
) -> None:
    good = write_jsonl(installation.folder / "x.jsonl", GOOD[:1]).read_text()
    path = installation.folder / "odd.jsonl"
    path.write_text(good + line + "\n", encoding="utf-8")
    result = installation.run("import", "staff", str(path))
    assert result.exit_code == 1
    assert any(n == 2 and problem in p for _, n, _, p in problems(result)), result.output
    assert nothing_stored(installation)


def test_long_names_fit(installation: Installation) -> None:
    """Surname and forenames may each be 100 characters; the account's display name must still fit."""
    row = ("S1", "S" * 100, "F" * 100, "", "officer", "", "", "", "", "", "")
    result = installation.run("import", "staff", str(write_csv(installation.folder / "long.csv", [row])))
    assert result.exit_code == 0, result.output
    assert stored_staff(installation)["S1"].surname == "S" * 100


def test_a_missing_file_and_a_file_that_is_not_text(installation: Installation) -> None:
    missing = installation.run("import", "staff", str(installation.folder / "nowhere.csv"))
    assert missing.exit_code == 1 and "file not found" in missing.output
    binary = installation.folder / "staff.csv"
    binary.write_bytes(b"\xff\xfe\x00\x01staff_id")
    refused = installation.run("import", "staff", str(binary))
    assert refused.exit_code == 1 and "not UTF-8" in refused.output
    assert nothing_stored(installation)


def test_unknown_kind_is_a_usage_error(installation: Installation) -> None:
    path = write_csv(installation.folder / "staff.csv", GOOD)
    result = installation.run("import", "employees", str(path))
    assert result.exit_code == 2
    assert "unknown kind 'employees'" in result.output and "staff" in result.output
    assert nothing_stored(installation)


def test_text_that_cannot_be_stored_is_refused(installation: Installation) -> None:
    record = dict(zip(STAFF_COLUMNS, GOOD[0], strict=True))
    record.update(surname="Nul\u0000l", forenames="Half\ud800", team_id="T\x1b[31m")
    path = installation.folder / "odd.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")  # json.dumps escapes them: valid UTF-8
    result = installation.run("import", "staff", str(path))
    assert result.exit_code == 1, result.output
    assert {column for _, _, column, _ in problems(result)} == {"surname", "forenames", "team_id"}
    assert nothing_stored(installation)


# --------------------------------------------------------------------------- properties of the parsers

_CANONICAL_POSTCODE = re.compile(r"[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}")
_tricky = st.sampled_from(
    [
        "",
        " ",
        "true",
        "FALSE",
        "nan",
        "-inf",
        "1e400",
        "-0",
        "1_000",
        "90.0000001",
        "2020-02-30",
        "2020-W01-1",
        "20200101",
        "2024-02-29",
        "2024-02-29T10:00:00Z",
        "2024-02-29T10:00:00",
        "officer;;wizard; ",
        "me14 1xx",
        "ME141XX",
        "EC1A1BB",
        "\u0000",
        "\ud800",
        "٣",
        "²",
        "x" * 300,
    ]
)
cell_text = st.one_of(
    st.text(),
    _tricky,
    st.from_regex(r"-?[0-9]{1,4}(\.[0-9]{1,8})?", fullmatch=True),
    st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", fullmatch=True),
    st.from_regex(r"[A-Za-z]{1,2}[0-9][A-Za-z0-9]? ?[0-9][A-Za-z]{2}", fullmatch=True),
)


@hypothesis_settings(max_examples=300, deadline=None)
@given(value=st.one_of(st.text(), cell_text))
def test_normalise_postcode_never_raises(value: str) -> None:
    result = normalise_postcode(value)
    if result is not None:
        assert _CANONICAL_POSTCODE.fullmatch(result)
        assert normalise_postcode(result) == result
        assert result.replace(" ", "") == re.sub(r"\s+", "", value.upper())


@hypothesis_settings(max_examples=200, deadline=None)
@given(
    outward=st.from_regex(r"[A-Z]{1,2}[0-9][A-Z0-9]?", fullmatch=True),
    inward=st.from_regex(r"[0-9][A-Z]{2}", fullmatch=True),
    spaces=st.sampled_from(["", " ", "  ", "\t"]),
    lower=st.booleans(),
)
def test_every_well_formed_postcode_is_normalised(
    outward: str, inward: str, spaces: str, lower: bool
) -> None:
    text = f" {outward}{spaces}{inward} "
    assert normalise_postcode(text.lower() if lower else text) == f"{outward} {inward}"


def _check_reader(column: str, value: str, read: Callable[[RowReader], object]) -> object:
    cells = RowReader(SourceRow("f.csv", 7, {column: value}))
    result = read(cells)  # never raises
    assert all(str(p).startswith(f"f.csv:7: {column}: ") for p in cells.problems)
    if isinstance(result, list):  # items(): the list as written, and a problem for each unknown item
        return result if not cells.problems else []
    if cells.problems:
        assert result is None
    elif result is None:
        assert value == "", "an empty result without a problem is only for an empty cell"
    return result


@hypothesis_settings(max_examples=300, deadline=None)
@given(value=cell_text)
def test_row_reader_never_raises_and_returns_valid_values_or_a_problem(value: str) -> None:
    value = value.strip()  # the file readers strip every cell
    text = _check_reader(
        "c",
        value,
        lambda r: r.text("c", max_length=50, pattern=r"[A-Za-z0-9 ]+", form="letters, digits or spaces"),
    )
    if text is not None:
        assert text == value and len(value) <= 50
    day = _check_reader("c", value, lambda r: r.date("c"))
    if day is not None:
        assert day.isoformat() == value  # type: ignore[attr-defined]
    number = _check_reader("c", value, lambda r: r.number("c", low=-90, high=90))
    if number is not None:
        assert math.isfinite(number) and -90 <= number <= 90  # type: ignore[operator]
    moment = _check_reader("c", value, lambda r: r.moment("c"))
    if moment is not None:
        assert moment.tzinfo is not None  # type: ignore[attr-defined]
    flag = _check_reader("c", value, lambda r: r.boolean("c"))
    if flag is not None:
        assert value.lower() == str(flag).lower()
    roles = ["officer", "staff", "dpu"]
    items = _check_reader("c", value, lambda r: r.items("c", allowed=roles))
    assert all(item in roles for item in items)  # type: ignore[attr-defined]
    choice = _check_reader("c", value, lambda r: r.choice("c", roles))
    assert choice is None or choice in roles
    postcode = _check_reader("c", value, lambda r: r.postcode("c"))
    assert postcode is None or _CANONICAL_POSTCODE.fullmatch(postcode)  # type: ignore[arg-type]
    required = RowReader(SourceRow("f.csv", 7, {"c": value}))
    if required.text("c", required=True) is None:
        assert required.problems


@hypothesis_settings(max_examples=150, deadline=None)
@given(rows=st.lists(st.fixed_dictionaries({c: cell_text for c in STAFF_COLUMNS}), min_size=1, max_size=4))
def test_staff_rows_either_parse_or_are_rejected_with_problems(rows: list[dict[str, str]]) -> None:
    source = [SourceRow("f.csv", n + 2, {k: v.strip() for k, v in row.items()}) for n, row in enumerate(rows)]
    try:
        records = parse_staff_rows(source, {"KNOWN1"})
    except BatchRejected as rejected:
        assert rejected.problems
        assert all(p.file == "f.csv" and 2 <= p.line < len(rows) + 2 for p in rejected.problems)
        assert {p.column for p in rejected.problems} <= set(STAFF_COLUMNS)
    else:
        assert [r.staff_id for r in records] == [row["staff_id"].strip() for row in rows]
        assert all(r.surname and r.forenames and r.roles for r in records)


@hypothesis_settings(max_examples=150, deadline=None)
@given(
    content=st.one_of(
        st.binary(max_size=400),
        st.text(max_size=400),
        st.text(max_size=400).map(lambda body: ",".join(STAFF_COLUMNS) + "\n" + body),
        st.lists(st.dictionaries(st.sampled_from([*STAFF_COLUMNS, "x"]), cell_text), max_size=3).map(
            lambda records: "\n".join(json.dumps(r) for r in records)
        ),
    ),
    suffix=st.sampled_from([".csv", ".jsonl"]),
)
def test_reading_any_file_gives_rows_or_problems(content: bytes | str, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"any{suffix}"
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8", errors="surrogatepass")
        else:
            path.write_bytes(content)
        try:
            rows = read_rows(path, STAFF_COLUMNS)
        except BatchRejected as rejected:
            assert rejected.problems and all(p.file == str(path) for p in rejected.problems)
        else:
            assert all(isinstance(row.values, dict) for row in rows)
