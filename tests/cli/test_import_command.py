"""`custodes import`: every problem of every file in one run, each naming its file, line, column and rule."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import init, run

HEADER = "staff_id,surname,forenames,date_of_birth,role,team_id,area_code,line_manager_id,home_postcode,home_lat,home_lon"


def _rejected(*args: str) -> str:
    result = run("import", *args)
    assert result.exit_code == 1, result.output  # type: ignore[attr-defined]
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)  # type: ignore[attr-defined]
    assert "nothing was imported" in result.output  # type: ignore[attr-defined]
    return str(result.output)  # type: ignore[attr-defined]


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
