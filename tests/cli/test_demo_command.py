"""`custodes demo` loads only into a new installation; `--replace` starts over in a home an earlier demo
made (scripts/demo passes it, so running the demo again starts over with new passwords)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from custodes import demo as demo_module
from custodes.cli import app
from custodes.imports import load_records
from custodes.settings import Settings
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
