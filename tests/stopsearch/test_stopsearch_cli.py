"""`custodes import stop-searches|population` and `custodes stopsearch report|sample` on a fresh home."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from custodes.cli import app
from tests.ledger.helpers import TEST_SECRET
from tests.stopsearch.rows import api_json, search, write

runner = CliRunner()


@pytest.fixture
def cli(backend: str, new_database: Callable[[str], str], tmp_path: Path) -> Callable[..., Result]:
    env = {
        "CUSTODES_HOME": str(tmp_path / "home"),
        "CUSTODES_DATABASE_URL": new_database(backend),
        "CUSTODES_SECRET_KEY": TEST_SECRET,
    }

    def invoke(*args: str | Path) -> Result:
        return runner.invoke(app, [str(a) for a in args], env=env)

    assert invoke("init").exit_code == 0
    return invoke


def test_import_report_and_sample(cli: Callable[..., Result], tmp_path: Path) -> None:
    files = [write(tmp_path, m, "kent", [search(m), search(m, "Black"), search(m, "Not stated")]) for m in
             ("2019-04", "2019-05")]  # fmt: skip
    result = cli("import", "stop-searches", *files)
    assert result.exit_code == 0, result.output
    assert "Imported stop-searches: 6 records in 2 force-month(s)." in result.output
    population = tmp_path / "population.csv"
    population.write_text(
        "force,census,group,population\nkent,census2011,White,1000\nkent,census2011,Black,100\n"
    )
    assert cli("import", "population", population).exit_code == 0
    out = tmp_path / "report.json"
    result = cli(
        "stopsearch", "report", "--force", "Kent", "--from", "2019-04", "--to", "2019-05", "--out", out
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    stable = ["force", "from", "to", "ethnicity", "population", "records", "person_searches", "vehicle_only"]
    assert list(report)[:8] == stable
    assert (report["force"], report["records"], report["groups"]["Black"]["ratio_to_white"]) == (
        "kent",
        6,
        10.0,
    )
    assert (
        report["groups"]["Asian"]["population"] is None and report["groups"]["Asian"]["rate_per_1000"] is None
    )
    period = ("--from", "2019-04", "--to", "2019-05")
    result = cli("stopsearch", "sample", "--force", "kent", *period, "--size", "3", "--seed", "9")
    assert result.exit_code == 0, result.output
    assert "3 of 6 person searches" in result.output


def test_rejections_and_usage_errors(cli: Callable[..., Result], tmp_path: Path) -> None:
    bad = write(tmp_path, "2019-05", "kent", [{**search(), "Type": "Boat search"}])
    result = cli("import", "stop-searches", bad)
    assert result.exit_code == 1
    assert f"{bad}:2: Type: must be one of" in result.output
    assert "nothing was imported" in result.output
    result = cli("stopsearch", "report", "--force", "kent", "--from", "2019-05", "--to", "2019-05", "--out",
                 tmp_path / "r.json")  # fmt: skip
    assert result.exit_code == 1
    assert "no stop and search records have been imported for 'kent'" in result.output
    assert cli("import", "staff", bad, "--force", "kent").exit_code == 2
    assert cli("stopsearch", "report", "--force", "kent").exit_code == 2


def test_an_api_file_needs_its_month(cli: Callable[..., Result], tmp_path: Path) -> None:
    rows = [{**search("2019-06"), "Date": "2019-05-31T23:30:00+00:00"}, search("2019-06")]
    api = tmp_path / "stops-force.json"
    api.write_text(json.dumps(api_json(rows)))
    result = cli("import", "stop-searches", api, "--force", "kent")
    assert result.exit_code == 1
    assert "--month: no month: a file is imported as one force-month" in " ".join(result.output.split())
    result = cli("import", "stop-searches", api, "--force", "kent", "--month", "2019-06")
    assert result.exit_code == 0, result.output
    assert "Imported stop-searches: 2 records in 1 force-month(s)." in result.output
    assert cli("import", "population", api, "--month", "2019-06").exit_code == 2
