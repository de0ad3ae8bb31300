"""`custodes demo` loads only into a new installation; `--replace` starts over in a home an earlier demo
made (scripts/demo passes it, so running the demo again starts over with new passwords)."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from custodes import demo as demo_module
from custodes.cli import app
from custodes.database import Database
from custodes.imports import load_records
from custodes.kit.db import transaction
from custodes.ledger import service as ledger
from custodes.monitoring import demo as monitoring_demo
from custodes.settings import Settings
from custodes.workforce.models import Staff
from tests.cli.conftest import init, runner

STAFF = {"staff_id": "S1", "surname": "A", "forenames": "B", "date_of_birth": "1980-01-01",
         "role": "admin", "team_id": "T1", "area_code": "N"}  # fmt: skip


def _quick_demo(interrupt: bool = False) -> Any:
    """load_demo's shape (stores through the import services, commits part way) without its minutes."""

    def load(session: Session, settings: Settings, **_options: Any) -> list[tuple[str, str, str, str]]:
        load_records(session, "staff", [STAFF], demo_module.DEMO_ACTOR)
        session.commit()
        if interrupt:
            raise KeyboardInterrupt
        return [("admin", "S1", "B A", "pw")]

    return load


def _replace_refused_on_postgresql(backend: str, home: Path) -> bool:
    """--replace removes files in the home only: a PostgreSQL database is the administrator's to drop."""
    if backend != "postgresql":
        return False
    refused = runner.invoke(app, ["demo", "--replace"])
    assert refused.exit_code == 1
    assert "the settings put the database elsewhere. Nothing was removed." in refused.output
    assert (home / demo_module.DEMO_MARKER).is_file()
    return True


def test_demo_runs_again_with_replace(home: Path, backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo_module, "load_demo", _quick_demo())
    first = runner.invoke(app, ["demo", "--replace"])
    assert first.exit_code == 0, first.output
    assert (home / demo_module.DEMO_MARKER).is_file()
    if _replace_refused_on_postgresql(backend, home):
        return
    again = runner.invoke(app, ["demo", "--replace"])
    assert again.exit_code == 0, again.output
    assert "Demo log-ins" in again.output


def test_demo_refuses_an_installation_that_holds_data(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo_module, "load_demo", _quick_demo())
    assert runner.invoke(app, ["demo"]).exit_code == 0
    again = runner.invoke(app, ["demo"])
    assert again.exit_code == 1
    assert again.exception is None or isinstance(again.exception, SystemExit), repr(again.exception)
    assert "already holds data" in again.output and "--replace" in again.output


def test_replace_never_removes_a_home_the_demo_did_not_make(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demo_module, "load_demo", _quick_demo())
    init()
    staff = tmp_path / "staff.csv"
    staff.write_text(
        f"{','.join(STAFF)},line_manager_id,home_postcode,home_lat,home_lon\nS1,A,B,1980-01-01,admin,T1,N,,,,\n"
    )
    imported = runner.invoke(app, ["import", "staff", str(staff)])
    assert imported.exit_code == 0, imported.output
    kept = {path.name for path in home.iterdir()}
    result = runner.invoke(app, ["demo", "--replace"])
    assert result.exit_code == 1
    assert "not one" in result.output and "Nothing was removed" in result.output
    assert {path.name for path in home.iterdir()} == kept


def test_an_interrupted_demo_can_be_run_again(
    home: Path, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demo_module, "load_demo", _quick_demo(interrupt=True))
    interrupted = runner.invoke(app, ["demo"])
    assert interrupted.exit_code == 130  # Ctrl-C after the part-way commit
    monkeypatch.setattr(demo_module, "load_demo", _quick_demo())
    if _replace_refused_on_postgresql(backend, home):
        return
    again = runner.invoke(app, ["demo", "--replace"])
    assert again.exit_code == 0, again.output


def _files(home: Path) -> dict[str, str]:
    """Every file under the home with a digest of its contents (the database aside: compared by its data)."""
    return {
        str(path.relative_to(home)): "" if path.name.startswith("custodes.db") else _digest(path)
        for path in sorted(home.rglob("*"))
        if path.is_file()
    }


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _stored(home: Path) -> tuple[int, int]:
    """(ledger entries, members of staff) in the installation's database."""
    database = Database.open(Settings())
    try:
        with transaction(database.factory) as session:
            return ledger.size(session), len(session.scalars(select(Staff.staff_id)).all())
    finally:
        database.close()


def test_a_demo_that_fails_part_way_leaves_the_installation_as_it_was(
    home: Path, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo commits once part way (after ingesting the access logs, whose Parquet files are then
    published into the store) and its detectors run after that: a failure there left the staff, registers,
    disclosures, ledger entries and event files behind, so that only `--replace` could start over. It is
    now built aside and moved in only once whole: a failure at the detectors (injected) leaves the
    database, the stores and the checkpoint file as `custodes init` made them. On PostgreSQL it loads in
    place, and says what it kept."""
    small = functools.partial(demo_module.load_demo, events=2_000)  # the real load, fewer accesses
    monkeypatch.setattr(demo_module, "load_demo", small)

    def detectors_fail(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("injected fault in the detectors")

    monkeypatch.setattr(monitoring_demo, "detect_and_triage", detectors_fail)
    init()
    before = _files(home)
    result = runner.invoke(app, ["demo", "--staff", "50"])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    flat = " ".join(result.output.split())
    assert "RuntimeError: injected fault in the detectors" in flat
    if backend == "postgresql":
        assert "loading in place" in flat and "Drop and create the database again" in flat
        return
    assert "Nothing of it was kept" in flat and "as they were (an empty installation)" in flat
    assert _files(home) == {**before, demo_module.DEMO_MARKER: _digest(home / demo_module.DEMO_MARKER)}
    assert not list(home.glob(f"{demo_module.BUILDING}*"))
    assert _stored(home) == (0, 0)
    monkeypatch.setattr(demo_module, "load_demo", _quick_demo())  # still new: no --replace needed
    again = runner.invoke(app, ["demo"])
    assert again.exit_code == 0, again.output
    assert _stored(home)[1] == 1
    assert not list(home.glob(f"{demo_module.BUILDING}*"))


def test_ctrl_c_while_building_says_so_and_keeps_nothing(
    home: Path, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C is not an `Exception`: it escaped the demo's handling, so the command ended (exit 130) with
    no word of what was kept. It now gets the same message as a failure, with the shell's exit code."""
    monkeypatch.setattr(demo_module, "load_demo", _quick_demo(interrupt=True))
    init()
    before = _files(home)
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 130, result.output
    flat = " ".join(result.output.split())
    assert "The demo stopped part way (interrupted)" in flat
    if backend == "postgresql":
        assert "loading in place" in flat
        return
    assert "Nothing of it was kept" in flat
    assert _files(home) == {**before, demo_module.DEMO_MARKER: _digest(home / demo_module.DEMO_MARKER)}
    assert _stored(home) == (0, 0)


def test_a_move_in_stopped_before_the_database_puts_the_stores_back(
    home: Path, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Built whole, then interrupted while being moved in, just before the database's rename: the stores
    already moved are put back, and the home is as `init` made it (the checkpoint file included: it is
    moved only after the database, so it can never describe a ledger the database does not hold)."""
    if backend == "postgresql":
        pytest.skip("a PostgreSQL demo loads in place: there is nothing to move in")
    monkeypatch.setattr(demo_module, "load_demo", functools.partial(demo_module.load_demo, events=2_000))
    rename = demo_module.os.replace
    moved_in: list[str] = []

    def interrupted_at_the_database(source: Any, target: Any) -> None:
        if demo_module.BUILDING in str(source) and Path(target).parent == home:
            if Path(target).name == "custodes.db":
                raise KeyboardInterrupt
            moved_in.append(Path(target).name)
        rename(source, target)

    monkeypatch.setattr(demo_module.os, "replace", interrupted_at_the_database)
    init()
    before = _files(home)
    result = runner.invoke(app, ["demo", "--staff", "50"])
    assert result.exit_code == 130, result.output
    assert "Nothing of it was kept" in " ".join(result.output.split())
    assert {"monitoring", "stopsearch"} <= set(moved_in)  # the stores had been moved in, then put back
    assert "ledger-latest-checkpoint.txt" not in moved_in
    assert _files(home) == {**before, demo_module.DEMO_MARKER: _digest(home / demo_module.DEMO_MARKER)}
    assert not list(home.glob(f"{demo_module.BUILDING}*"))
    assert _stored(home) == (0, 0)
