"""`custodes monitor …` on a fresh installation: import the reference data, ingest, run, explain, prove and
verify offline; exit statuses as imports.md says (0 done, 1 input rejected, 2 usage)."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from custodes.cli import app
from tests.ledger.helpers import TEST_SECRET
from tests.monitoring.world import CASES, DECLARATIONS, NOMINALS, STAFF, event, rosters, write_events

runner = CliRunner()


def _csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def cli(backend: str, new_database: Callable[[str], str], tmp_path: Path) -> Callable[..., Result]:
    env = {
        "CUSTODES_HOME": str(tmp_path / "home"),
        "CUSTODES_DATABASE_URL": new_database(backend),
        "CUSTODES_SECRET_KEY": TEST_SECRET,
    }

    def invoke(*args: str | Path, **more_env: str) -> Result:
        return runner.invoke(app, [str(a) for a in args], env={**env, **more_env})

    assert invoke("init").exit_code == 0
    for kind, rows in (("staff", STAFF), ("nominals", NOMINALS), ("cases", CASES),
                       ("declarations", DECLARATIONS), ("rosters", rosters())):  # fmt: skip
        result = invoke("import", kind, _csv(tmp_path / f"{kind}.csv", rows))
        assert result.exit_code == 0, result.output
    return invoke


def test_ingest_run_explain_prove_verify(cli: Callable[..., Result], tmp_path: Path) -> None:
    events = write_events(tmp_path, [event("e1", "N-NB"), event("e2", "N-CASE", hour=11), event("e3", None)])
    result = cli("monitor", "ingest", events)
    assert result.exit_code == 0, result.output
    assert "3 events read: 3 stored, 0 duplicates ignored, 0 quarantined (1 ledger entry)." in result.output
    out = tmp_path / "alerts.jsonl"
    result = cli("monitor", "run", "--from", "2026-10-01", "--to", "2026-10-31", "--alerts-out", out)
    assert result.exit_code == 0, result.output
    assert "50.0% explained" in result.output
    assert "Done" in result.output and "100%" in result.output  # the progress bar, on standard error
    (line,) = out.read_text().splitlines()
    alert = json.loads(line)
    assert list(alert) == ["alert_id", "staff_id", "subject_id", "rules", "score", "first_at", "last_at",
                           "event_ids", "explanation"]  # fmt: skip
    assert (alert["staff_id"], alert["subject_id"], alert["rules"]) == (
        "S1",
        "N-NB",
        ["NEIGHBOUR", "UNEXPLAINED"],
    )
    assert alert["event_ids"] == ["e1"] and alert["first_at"] == "2026-10-05T10:00:00.000000Z"
    assert "N-NB lives 133 m from S1's home" in alert["explanation"]
    explained = cli("monitor", "explain", "e2")
    assert explained.exit_code == 0
    assert "Explanation: explained by case C-1, assigned to S1" in explained.output
    assert "Rules met: none" in explained.output
    unexplained = cli("monitor", "explain", "e1").output
    assert "no case assigned to S1 or team T1 involves N-NB at that time" in unexplained
    assert "Rules met: NEIGHBOUR, UNEXPLAINED" in unexplained
    assert cli("monitor", "explain", "nope").exit_code == 1
    windowed = cli("monitor", "explain", "e1", "--from", "2026-10-05", "--to", "2026-10-05")
    assert "Rules met: NEIGHBOUR, UNEXPLAINED" in windowed.output
    outside = cli("monitor", "explain", "e1", "--from", "2026-10-06")
    assert outside.exit_code == 1 and "outside the window" in outside.output
    proof = tmp_path / "proof.json"
    assert cli("monitor", "prove", "e1", "--out", proof).exit_code == 0
    key = cli("ledger", "public-key").output.strip()
    verified = cli("monitor", "verify-proof", proof, "--public-key", key)
    assert verified.exit_code == 0, verified.output
    bad = json.loads(proof.read_text())
    bad["leaf"] = bad["leaf"].replace("N-NB", "N-XX")
    proof.write_text(json.dumps(bad))
    refused = cli("monitor", "verify-proof", proof, "--public-key", key)
    assert refused.exit_code == 1 and "not in its batch's tree" in refused.output
    for missing in (tmp_path / "no-such-proof.json", tmp_path):  # a usage error, not a traceback
        unread = cli("monitor", "verify-proof", missing, "--public-key", key)
        assert unread.exit_code == 2 and "Invalid value for 'proof_file'" in unread.output, unread.output


def test_explain_names_the_teams_the_register_names(cli: Callable[..., Result], tmp_path: Path) -> None:
    """`monitor explain` said "team T1" in its explanation and its list of cases: a team the register names
    is now "Northtown Response Team B (T1)"; one it does not name (T2) stays "team T2"."""
    teams = _csv(tmp_path / "teams.csv", [{"team_id": "T1", "name": "Northtown Response Team B"}])
    assert cli("import", "teams", teams).exit_code == 0
    rows = [event("e1", "N-NB"), event("e2", "N-TEAM", hour=11), event("e3", "N-RAND", hour=12)]
    assert cli("monitor", "ingest", write_events(tmp_path, rows)).exit_code == 0
    unexplained = cli("monitor", "explain", "e1").output
    assert (
        "no case assigned to S1 or Northtown Response Team B (T1) involves N-NB at that time" in unexplained
    )
    team_case = cli("monitor", "explain", "e2").output
    assert "Explanation: explained by case C-2 of S1's Northtown Response Team B (T1)" in team_case
    assert "case C-2 (Northtown Response Team B (T1); assigned S2)" in team_case
    unnamed = cli("monitor", "explain", "e3").output
    assert "case C-3 (team T2; assigned S3)" in unnamed


def test_ingest_with_bad_rows_exits_1_and_names_them(cli: Callable[..., Result], tmp_path: Path) -> None:
    rows = [event("e1", "N-NB"), {**event("e2", "N-NB"), "occurred_at": "yesterday"}]
    result = cli("monitor", "ingest", write_events(tmp_path, rows))
    assert result.exit_code == 1
    assert "events.csv:3: occurred_at: yesterday is not an ISO 8601 time" in result.output
    assert "1 stored, 0 duplicates ignored, 1 quarantined" in result.output


def test_usage_errors_exit_2(cli: Callable[..., Result], tmp_path: Path) -> None:
    assert cli("monitor", "run", "--alerts-out", tmp_path / "a.jsonl", "--from", "soon").exit_code == 2
    assert cli("monitor", "ingest", tmp_path / "missing.csv").exit_code == 2
    (tmp_path / "events.txt").write_text("event_id\n")
    unknown = cli("monitor", "ingest", tmp_path / "events.txt")
    assert (
        unknown.exit_code == 2
        and "events.txt: unknown format (name it .csv, .jsonl or .parquet)" in unknown.output
    )


def test_a_run_beyond_memory_and_spill_exits_1_saying_what_to_do(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    assert cli("monitor", "ingest", write_events(tmp_path, [event("e1", "N-NB")])).exit_code == 0
    starved = {"CUSTODES_MONITORING_MEMORY_LIMIT": "1KB", "CUSTODES_MONITORING_SPILL_LIMIT": "1KB"}
    result = cli("monitor", "run", "--alerts-out", tmp_path / "a.jsonl", **starved)
    assert result.exit_code == 1
    assert "custodes monitor run --from DATE --to DATE" in " ".join(result.output.split())
    assert not (tmp_path / "a.jsonl").exists()


def test_ingest_names_a_file_it_cannot_read_and_exits_1(cli: Callable[..., Result], tmp_path: Path) -> None:
    garbage = tmp_path / "x.parquet"
    garbage.write_bytes(b"not a parquet file at all")
    result = cli("monitor", "ingest", garbage, write_events(tmp_path, [event("e1", "N-NB")]))
    assert result.exit_code == 1, result.output
    assert "x.parquet:1: (file): is not a readable Parquet file" in result.output
    assert "1 events read: 1 stored" in result.output
