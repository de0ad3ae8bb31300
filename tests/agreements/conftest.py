"""An installed home (`custodes init`) to run `custodes import` against, on each backend."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from custodes.cli import app as cli
from custodes.kit.db import make_engine


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

    def csv(self, name: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> Path:
        path = self.folder / name
        lines = [",".join(header)] + [
            ",".join(f'"{cell}"' if "," in cell else cell for cell in row) for row in rows
        ]
        path.write_bytes(b"\xef\xbb\xbf" + ("\r\n".join(lines) + "\r\n").encode())
        return path

    def imported(self, kind: str, path: Path) -> Result:
        return self.run("import", kind, str(path))


@pytest.fixture
def installation(backend: str, new_database: Callable[[str], str], tmp_path: Path) -> Iterator[Installation]:
    url = new_database(backend)
    env = {"CUSTODES_HOME": str(tmp_path / "home"), "CUSTODES_DATABASE_URL": url}
    runner = CliRunner()
    assert runner.invoke(cli, ["init"], env=env).exit_code == 0
    engine = make_engine(url)
    yield Installation(runner, env, engine, tmp_path)
    engine.dispose()
