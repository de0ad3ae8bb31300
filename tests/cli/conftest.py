"""A home for `custodes` commands run in-process, on each test backend."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from custodes.cli import app

runner = CliRunner()


@pytest.fixture
def home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str, new_database: Callable[[str], str]
) -> Path:
    """An installation folder; on PostgreSQL its database is a fresh one (`custodes init` still to run)."""
    for name in ("CUSTODES_DATABASE_URL", "CUSTODES_SECRET_KEY", "CUSTODES_DATA_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CUSTODES_HOME", str(tmp_path / "home"))
    if backend == "postgresql":
        monkeypatch.setenv("CUSTODES_DATABASE_URL", new_database(backend))
    return tmp_path / "home"


def run(*args: str) -> Result:
    return runner.invoke(app, list(args))


def init() -> None:
    result = runner.invoke(app, ["init"])
    assert result.exit_code == 0, result.output
