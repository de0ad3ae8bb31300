"""The stored accesses against the ledger (`monitoring.verify_store`, `custodes monitor verify-store`, and
`monitor run`'s check of the batches its window reads).

Before: each ingest batch's `consultation` entry held only the batch's Merkle root and count; nothing but a
proof of one access ever recomputed a root, so `ledger verify` never read the Parquet files and `monitor run`
analysed them unchecked. Someone with access to the files who deleted or edited an incriminating access, or
dropped a whole file, went unnoticed. Each tampering below is now found and names the batch and the ledger
index of its entry."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from custodes.cli import app
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter
from custodes.monitoring import service as monitoring
from custodes.settings import Settings
from tests.ledger.helpers import TEST_SECRET
from tests.monitoring.world import DAY0, STAFF, event, ingest, write_events

FIRST = [event("e1", "N-NB"), event("e2", "N-CASE", hour=11), event("e3", None, hour=12)]
SECOND = [
    event("f1", "N-NB", day=2),
    event("f2", "N-RAND", day=2, hour=11),
    event("f3", "N-NB", day=2, hour=12),
]


def batch_files(settings: Settings) -> dict[str, list[Path]]:
    """The store's files by the batch ids they hold."""
    found: dict[str, list[Path]] = {}
    for path in sorted(monitoring.event_store(settings).events_dir.glob("*/*.parquet")):
        for batch_id in set(pq.read_table(path, columns=["batch_id"]).column(0).to_pylist()):
            found.setdefault(batch_id, []).append(path)
    return found


def entry_index(db: Session, batch_id: str) -> int:
    (entry,) = ledger.search(db, EntryFilter(object_type="access_batch", object_id=batch_id), limit=1)
    return entry.index


@pytest.fixture
def two_batches(db: Session, settings: Settings, tmp_path: Path) -> tuple[str, str]:
    """Two ingests, so two batches (one ledger entry each), on different days; their batch ids."""
    for name, rows in (("first", FIRST), ("second", SECOND)):
        folder = tmp_path / name
        folder.mkdir()
        ingest(db, settings, folder, rows)
    first, second = sorted(batch_files(settings))
    return first, second


def rewrite(path: Path, change: Callable[[pa.Table], pa.Table]) -> None:
    pq.write_table(change(pq.read_table(path)), path)


def only_problem(report: monitoring.StoreReport) -> monitoring.StoreProblem:
    assert not report.intact
    (problem,) = report.problems
    return problem


def test_an_untouched_store_matches_the_ledger(
    db: Session, settings: Settings, two_batches: tuple[str, str]
) -> None:
    report = monitoring.verify_store(db, settings)
    assert report.intact and report.problems == ()
    assert (report.batches, report.events) == (2, 6)


def test_an_empty_store_matches_an_empty_ledger(db: Session, settings: Settings) -> None:
    report = monitoring.verify_store(db, settings)
    assert report.intact and (report.batches, report.events) == (0, 0)


def test_a_deleted_row_is_found(db: Session, settings: Settings, two_batches: tuple[str, str]) -> None:
    _first, second = two_batches
    (path,) = batch_files(settings)[second]
    rewrite(path, lambda table: table.filter(pc.not_equal(table["event_id"], "f2")))
    problem = only_problem(monitoring.verify_store(db, settings))
    assert (problem.kind, problem.batch_id, problem.ledger_index) == (
        "rows_missing",
        second,
        entry_index(db, second),
    )
    assert (problem.stored, problem.recorded) == (2, 3)
    assert problem.message == (
        f"batch {second} (ledger entry {entry_index(db, second)}): 1 access missing from the store "
        "(2 stored, 3 recorded)"
    )


def test_a_changed_cell_is_found(db: Session, settings: Settings, two_batches: tuple[str, str]) -> None:
    """The subject of one access changed: the count still matches, the root does not."""
    first, _second = two_batches
    (path,) = batch_files(settings)[first]

    def change(table: pa.Table) -> pa.Table:
        subjects = ["N-OTHER" if s == "N-NB" else s for s in table["subject_id"].to_pylist()]
        column = table.schema.get_field_index("subject_id")
        return table.set_column(column, "subject_id", pa.array(subjects, table["subject_id"].type))

    rewrite(path, change)
    problem = only_problem(monitoring.verify_store(db, settings))
    assert (problem.kind, problem.batch_id, problem.ledger_index) == (
        "row_changed",
        first,
        entry_index(db, first),
    )
    assert f"batch {first} (ledger entry {entry_index(db, first)})" in problem.message
    assert "do not hash to the root the entry records: at least one was changed" in problem.message


def test_a_deleted_file_is_found(db: Session, settings: Settings, two_batches: tuple[str, str]) -> None:
    first, _second = two_batches
    for path in batch_files(settings)[first]:
        path.unlink()
    problem = only_problem(monitoring.verify_store(db, settings))
    assert (problem.kind, problem.batch_id, problem.ledger_index) == (
        "files_gone",
        first,
        entry_index(db, first),
    )
    assert "none of its 3 accesses is in the store: the batch's files are gone (0 stored, 3 recorded)" in (
        problem.message
    )


def test_a_foreign_row_is_found(db: Session, settings: Settings, two_batches: tuple[str, str]) -> None:
    """A row added to a batch's file (a copy of one of its rows, under a new id)."""
    _first, second = two_batches
    (path,) = batch_files(settings)[second]

    def add(table: pa.Table) -> pa.Table:
        extra = table.slice(0, 1).to_pylist()[0] | {"event_id": "planted", "leaf": 3}
        return pa.concat_tables([table, pa.Table.from_pylist([extra], table.schema)])

    rewrite(path, add)
    problem = only_problem(monitoring.verify_store(db, settings))
    assert (problem.kind, problem.batch_id, problem.ledger_index) == (
        "rows_added",
        second,
        entry_index(db, second),
    )
    assert "1 access added to the store (4 stored, 3 recorded)" in problem.message


def test_a_file_no_ingest_wrote_is_found(
    db: Session, settings: Settings, two_batches: tuple[str, str]
) -> None:
    """A whole file put into the store, its rows under a batch id no ledger entry records."""
    first, _second = two_batches
    (path,) = batch_files(settings)[first]
    table = pq.read_table(path)
    table = table.set_column(
        table.schema.get_field_index("batch_id"),
        "batch_id",
        pa.array(["I2000-00000"] * len(table), pa.string()),
    )
    pq.write_table(table, path.parent / "planted.parquet")
    problem = only_problem(monitoring.verify_store(db, settings))
    assert (problem.kind, problem.batch_id, problem.ledger_index) == ("unrecorded", "I2000-00000", None)
    assert "no ledger entry records it, yet the store holds 3 accesses of it" in problem.message


def test_a_file_that_is_not_parquet_is_named(
    db: Session, settings: Settings, two_batches: tuple[str, str]
) -> None:
    first, _second = two_batches
    (path,) = batch_files(settings)[first]
    path.write_bytes(b"not parquet")
    report = monitoring.verify_store(db, settings)
    kinds = [(p.kind, p.batch_id) for p in report.problems]
    assert kinds == [("files_gone", first), ("unreadable", None)]  # the batch's entry first, then the file
    assert str(path) in report.problems[1].message


@pytest.mark.parametrize("change", ["extra column", "missing column"])
def test_a_planted_file_of_another_shape_is_reported_not_a_crash(
    db: Session, settings: Settings, two_batches: tuple[str, str], change: str
) -> None:
    """A file that reads as Parquet but not with the store's columns: the check still gives a verdict."""
    first, _second = two_batches
    (path,) = batch_files(settings)[first]
    table = pq.read_table(path)
    if change == "extra column":
        table = table.append_column("planted", pa.array(["x"] * table.num_rows))
    else:
        table = table.drop_columns(["subject_id"])
    pq.write_table(table, path.with_name("planted.parquet"))
    report = monitoring.verify_store(db, settings)
    assert not report.intact
    assert first in {p.batch_id for p in report.problems} or any(
        "planted.parquet" in p.message for p in report.problems
    ), report.problems


def test_too_little_memory_is_said_not_taken_for_missing_files(
    db: Session, settings: Settings, two_batches: tuple[str, str]
) -> None:
    """DuckDB running out of memory is not a file that cannot be read: it was first reported as every batch's
    files gone."""
    starved = settings.model_copy(update={"monitoring_memory_limit": "1KB", "monitoring_spill_limit": "1KB"})
    with pytest.raises(monitoring.CapacityError, match="Allow more memory, or more spill space"):
        monitoring.verify_store(db, starved)
    with pytest.raises(monitoring.CapacityError, match="custodes monitor run --from DATE --to DATE"):
        monitoring.run(db, starved, "system:test", verify=True)


def test_problems_come_earliest_ledger_index_first(
    db: Session, settings: Settings, two_batches: tuple[str, str]
) -> None:
    first, second = two_batches
    for path in batch_files(settings)[second]:
        path.unlink()
    (path,) = batch_files(settings)[first]
    rewrite(path, lambda table: table.slice(1))
    report = monitoring.verify_store(db, settings)
    assert [(p.batch_id, p.ledger_index) for p in report.problems] == [
        (first, entry_index(db, first)),
        (second, entry_index(db, second)),
    ]
    assert entry_index(db, first) < entry_index(db, second)


def test_a_window_checks_only_the_batches_it_reads(
    db: Session, settings: Settings, two_batches: tuple[str, str]
) -> None:
    """`run` checks the batches its window reads: the second batch (day 2) is outside the first day."""
    _first, second = two_batches
    (path,) = batch_files(settings)[second]
    rewrite(path, lambda table: table.slice(1))
    first_day = (DAY0, DAY0 + timedelta(days=1))
    checked = monitoring.verify_store(db, settings, first_day)
    assert checked.intact and (checked.batches, checked.events) == (1, 3)
    assert not monitoring.verify_store(db, settings, (DAY0 + timedelta(days=2), None)).intact


def test_a_row_moved_into_the_window_is_checked(
    db: Session, settings: Settings, two_batches: tuple[str, str]
) -> None:
    """An access of a batch outside the window, its time edited into the window: the detectors would read it,
    so its batch is checked too."""
    _first, second = two_batches
    (path,) = batch_files(settings)[second]

    def move(table: pa.Table) -> pa.Table:
        column = table.schema.get_field_index("at_us")
        moved = [at - 2 * 86_400_000_000 if i == 0 else at for i, at in enumerate(table["at_us"].to_pylist())]
        return table.set_column(column, "at_us", pa.array(moved, table["at_us"].type))

    rewrite(path, move)
    first_day = (DAY0, DAY0 + timedelta(days=1))
    problem = only_problem(monitoring.verify_store(db, settings, first_day))
    assert (problem.kind, problem.batch_id, problem.ledger_index) == (
        "time_changed",
        second,
        entry_index(db, second),
    )
    assert "1 access with a time or day the detectors read (at_us, day_num) that is not" in problem.message
    assert only_problem(monitoring.verify_store(db, settings)).kind == "time_changed"


def test_run_refuses_a_tampered_window_when_asked_to_verify(
    db: Session, settings: Settings, two_batches: tuple[str, str]
) -> None:
    first, _second = two_batches
    (path,) = batch_files(settings)[first]
    rewrite(path, lambda table: table.slice(1))
    with pytest.raises(monitoring.StoreTampered) as refused:
        monitoring.run(db, settings, "system:test", verify=True)
    assert f"batch {first} (ledger entry {entry_index(db, first)})" in str(refused.value)
    assert "the detectors were not run" in str(refused.value)
    assert (
        monitoring.run(db, settings, "system:test", (DAY0 + timedelta(days=2), None), verify=True).events == 3
    )


# --------------------------------------------------------------------------- the command line

runner = CliRunner()


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
    staff = tmp_path / "staff.csv"
    with staff.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(STAFF[0]))
        writer.writeheader()
        writer.writerows(STAFF)
    assert invoke("import", "staff", staff).exit_code == 0
    for name, rows in (("first", FIRST), ("second", SECOND)):
        (tmp_path / name).mkdir()
        result = invoke("monitor", "ingest", write_events(tmp_path / name, rows))
        assert result.exit_code == 0, result.output
    return invoke


def cli_batches(tmp_path: Path) -> dict[str, list[Path]]:
    return batch_files(Settings(home=tmp_path / "home", secret_key=TEST_SECRET))


def test_verify_store_exits_0_then_1_naming_batch_and_entry(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    result = cli("monitor", "verify-store")
    assert result.exit_code == 0, result.output
    assert "OK: every batch matches its ledger entry (2 batches, 6 accesses checked" in result.output
    as_json = json.loads(cli("monitor", "verify-store", "--json").stdout)
    assert as_json["intact"] is True and as_json["problems"] == []
    assert (as_json["batches_checked"], as_json["events_checked"]) == (2, 6)

    first, _second = sorted(cli_batches(tmp_path))
    (path,) = cli_batches(tmp_path)[first]
    rewrite(path, lambda table: table.slice(1))
    result = cli("monitor", "verify-store")
    assert result.exit_code == 1
    assert (
        f"batch {first} (ledger entry " in result.output
        and "1 access missing from the store" in result.output
    )
    assert "FAULT: 1 problem found" in result.output
    report = json.loads(cli("monitor", "verify-store", "--json").stdout)
    assert report["intact"] is False
    (problem,) = report["problems"]
    assert problem["batch_id"] == first and problem["kind"] == "rows_missing"
    assert isinstance(problem["ledger_index"], int)
    assert f"ledger entry {problem['ledger_index']})" in result.output

    # each run is in the ledger, with its verdict
    export = cli("ledger", "export").stdout.splitlines()
    runs = [json.loads(line) for line in export if '"access_store"' in line]
    assert [(r["op"], r["detail"]["intact"]) for r in runs] == [("review", True)] * 2 + [
        ("review", False)
    ] * 2
    assert runs[-1]["detail"]["first_problems"][0]["batch_id"] == first


def test_verify_store_usage_error_exits_2(cli: Callable[..., Result]) -> None:
    assert cli("monitor", "verify-store", "--nope").exit_code == 2


def test_a_failed_record_does_not_hide_the_verdict(
    cli: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, _second = sorted(cli_batches(tmp_path))
    (path,) = cli_batches(tmp_path)[first]
    rewrite(path, lambda table: table.slice(1))

    def broken(*_args: object) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(monitoring, "record_store_verification", broken)
    result = cli("monitor", "verify-store")
    assert result.exit_code == 1
    assert "could not be recorded in the ledger (the database went away)" in result.output
    assert f"batch {first} (ledger entry " in result.output


def test_monitor_run_refuses_a_tampered_store_unless_told_not_to_verify(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    out = tmp_path / "alerts.jsonl"
    assert cli("monitor", "run", "--alerts-out", out).exit_code == 0
    _first, second = sorted(cli_batches(tmp_path))
    (path,) = cli_batches(tmp_path)[second]
    rewrite(path, lambda table: table.filter(pc.not_equal(table["event_id"], "f1")))
    refused = cli("monitor", "run", "--alerts-out", out)
    assert refused.exit_code == 1
    assert f"batch {second} (ledger entry " in refused.output and "1 access missing" in refused.output
    assert "the detectors were not run and nothing was recorded" in refused.output
    runs = [line for line in cli("ledger", "export").stdout.splitlines() if '"monitor_run"' in line]
    assert len(runs) == 1  # the refused run recorded nothing
    # a window that does not read the batch is analysed; --no-verify analyses the store as it is
    assert cli("monitor", "run", "--alerts-out", out, "--to", "2026-10-05").exit_code == 0
    assert cli("monitor", "run", "--alerts-out", out, "--no-verify").exit_code == 0
