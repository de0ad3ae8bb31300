"""`custodes import`: every problem of every file in one run, each naming its file, line, column and rule."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from custodes.imports import run_import
from tests.cli.conftest import init, run

HEADER = (
    "staff_id,surname,forenames,date_of_birth,role,team_id,area_code,line_manager_id,home_postcode,home_lat,"
    "home_lon"
)


def _rejected(*args: str) -> str:
    result = run("import", *args)
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "nothing was imported" in result.output
    return result.output


def test_a_column_named_twice_is_rejected(home: Path, tmp_path: Path) -> None:
    """Before, the last `role` cell silently won: the visible `officer` became an admin account."""
    init()
    staff = tmp_path / "staff.csv"
    staff.write_text(f"{HEADER},role\nS1,Dup,Col,1980-01-02,officer,T1,NORTH,,,,,admin\n")
    assert f"{staff}:1: role: appears more than once" in _rejected("staff", str(staff))
    lines = tmp_path / "staff.jsonl"
    lines.write_text('{"staff_id": "S1", "role": "officer", "role": "admin"}\n')
    assert f"{lines}:1: role: appears more than once" in _rejected("staff", str(lines))


def test_one_broken_file_hides_no_other_problem(home: Path, tmp_path: Path) -> None:
    init()
    bad_row = tmp_path / "a.csv"
    bad_row.write_text(f"{HEADER}\nS1,Bad,Row,1980-13-02,officer,T1,NORTH,,,,\n")
    broken = tmp_path / "b.jsonl"
    good = '"surname": "A", "forenames": "B", "role": "officer", "team_id": "T1", "area_code": "N"'
    broken.write_text(
        '{"staff_id": "S2"\n' + f'{{"staff_id": "S3", "date_of_birth": "1980-02-31", {good}}}\n'
    )
    no_header = tmp_path / "c.csv"
    no_header.write_text("S4,Ok,Row,1980-01-02,officer,T1,NORTH,,,,\n")
    output = _rejected("staff", str(bad_row), str(broken), str(no_header))
    assert f"{bad_row}:2: date_of_birth:" in output
    assert f"{broken}:1: -: not valid JSON" in output
    assert f"{broken}:2: date_of_birth:" in output  # the other lines of the broken file are checked too
    assert f"{no_header}:1: staff_id: required column is missing" in output


def test_a_pattern_problem_names_the_rule(home: Path, tmp_path: Path) -> None:
    init()
    courses = tmp_path / "courses.csv"
    courses.write_text("course_code,title,mandatory_for,validity_months,gates\nMI,Managing,officer,abc,\n")
    output = _rejected("courses", str(courses))
    assert "validity_months: 'abc' is not a whole number of months" in output
    staff = tmp_path / "staff.csv"
    staff.write_text(f"{HEADER}\nS 1,Ok,Row,1980-01-02,officer,T1,north,,,,\n")
    output = _rejected("staff", str(staff))
    assert "staff_id: 'S 1' is not a staff number such as S1001" in output
    assert "area_code: 'north' is not an area code such as NORTH" in output
    assert "expected form" not in output


def test_a_repeated_id_names_the_other_file(home: Path, tmp_path: Path) -> None:
    init()
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text(f"{HEADER}\nS1,Ok,Row,1980-01-02,officer,T1,NORTH,,,,\n")
    second.write_text(
        f"{HEADER}\nS2,Ok,Row,1980-01-02,officer,T1,NORTH,,,,\nS1,Ok,Row,1980-01-02,officer,T1,NORTH,,,,\n"
    )
    output = _rejected("staff", str(first), str(second))
    assert f"{second}:3: staff_id: S1 already appears on {first} line 2" in output


def test_a_windows_1252_file_names_the_line_and_says_how_to_fix_it(home: Path, tmp_path: Path) -> None:
    init()
    staff = tmp_path / "staff.csv"
    rows = "".join(f"S{i},Ok,Row,1980-01-02,officer,T1,NORTH,,,,\n" for i in range(1, 50))
    staff.write_bytes(f"{HEADER}\n{rows}S99,Caf\xe9,Zo,1980-01-02,officer,T1,NORTH,,,,\n".encode("cp1252"))
    output = _rejected("staff", str(staff))
    assert f"{staff}:51: -: not UTF-8 text (byte 0xe9" in output and "save the file as UTF-8" in output


def test_import_before_init_says_run_init_and_makes_no_database(
    home: Path, tmp_path: Path, backend: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before, a SQL traceback (no such table: staff), and an empty custodes.db left in a new home."""
    if backend == "postgresql":  # a database its administrator made, with no tables yet
        server = request.getfixturevalue("postgres_server")
        name = f"custodes_uninitialised_{os.getpid()}"
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        monkeypatch.setenv("CUSTODES_DATABASE_URL", re.sub(r"/[^/]*$", f"/{name}", server))
    staff = tmp_path / "staff.csv"
    staff.write_text(f"{HEADER}\nS1,Ok,Row,1980-01-02,officer,T1,NORTH,,,,\n")
    result = run("import", "staff", str(staff))
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "run `custodes init` first" in result.output
    assert not (home / "custodes.db").exists()


def test_import_of_a_folder_is_a_message(home: Path, tmp_path: Path) -> None:
    init()
    output = _rejected("staff", str(tmp_path))
    assert f"{tmp_path}:0: -: is a folder, not a file" in output


def test_huge_token_lifetime_is_a_message(home: Path) -> None:
    """Before, --days 100000000 was an OverflowError traceback (a date past the year 9999)."""
    init()
    result = run("api-token", "create", "--name", "x", "--scope", "access-check", "--days", "100000000")
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "--days" in result.output and "from 1 to 3,650" in result.output
    assert (
        run("api-token", "create", "--name", "y", "--scope", "access-check", "--days", "3650").exit_code == 0
    )


def test_the_import_reports_each_phase(db: Session, tmp_path: Path) -> None:
    """The command draws a progress bar from these steps (before: a spinner saying nothing of the phases)."""
    first, second = tmp_path / "a.csv", tmp_path / "b.jsonl"
    first.write_text("course_code,title,mandatory_for,validity_months,gates\nMI,Managing,officer,36,\n")
    second.write_text(
        '{"course_code": "DP", "title": "Data", "mandatory_for": "", "validity_months": "12", "gates": ""}\n'
    )
    steps: list[tuple[str, int, int]] = []
    run_import(db, "courses", [first, second], "system:test", lambda *step: steps.append(step))
    assert steps == [
        ("Reading a.csv", 0, 3),
        ("Reading b.jsonl", 1, 3),
        ("Checking and storing 2 rows", 2, 3),
    ]


def test_the_cli_imports_teams_and_refuses_a_bad_file_whole(home: Path, tmp_path: Path) -> None:
    init()
    good = tmp_path / "teams.csv"
    good.write_text("team_id,name,area_code\nA-RESP,North Division Response Team A,NA\n")
    result = run("import", "teams", str(good))
    assert result.exit_code == 0, result.output
    assert "team: 1 new, 0 updated, 0 unchanged" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("team_id,name\nB-INT,East Division Intelligence Unit\nC-CID,\n")
    result = run("import", "teams", str(bad))
    assert result.exit_code == 1, result.output
    assert f"{bad}:3: name: is required" in result.output and "nothing was imported" in result.output
    missing = tmp_path / "missing.csv"
    missing.write_text("team_id,area_code\nB-INT,EA\n")
    result = run("import", "teams", str(missing))
    assert result.exit_code == 1 and f"{missing}:1: name: required column is missing" in result.output
