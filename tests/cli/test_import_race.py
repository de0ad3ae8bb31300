"""Two imports of the same new staff at once: the second is told to run it again, not shown a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy.orm import Session, sessionmaker

from custodes.imports import load_records
from tests.cli.conftest import init, run
from tests.cli.test_import_command import HEADER
from tests.support.concurrency import at_once

ROW = dict.fromkeys(HEADER.split(","), "") | {
    "staff_id": "S1", "surname": "A", "forenames": "B", "date_of_birth": "1980-01-01", "role": "officer",
    "team_id": "T1", "area_code": "N",
}  # fmt: skip


def test_an_import_racing_another_of_the_same_rows(
    committing_sessions: sessionmaker[Session],
    backend: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """PostgreSQL: the second import waits on the first's uncommitted insert of S1, then its own insert
    fails (before: a raw IntegrityError traceback). SQLite serialises the two: the second finds S1 stored."""
    url = committing_sessions.kw["bind"].url.render_as_string(hide_password=False)
    for name in ("CUSTODES_SECRET_KEY", "CUSTODES_DATA_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CUSTODES_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CUSTODES_DATABASE_URL", url)
    init()
    staff = tmp_path / "staff.csv"
    staff.write_text(HEADER + "\n" + ",".join(ROW[column] for column in HEADER.split(",")) + "\n")
    results: list[Result] = []
    outcome = at_once(
        committing_sessions,
        lambda session: (load_records(session, "staff", [ROW], "system:test"), session.flush()),
        lambda _session: results.append(run("import", "staff", str(staff))),
    )
    assert outcome == [None]
    (result,) = results
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    if backend == "postgresql":
        assert result.exit_code == 1
        assert "stored by someone else while this import ran: nothing was imported" in result.output
        assert "Run the import again" in result.output
    else:
        assert result.exit_code == 0, result.output
