"""Rotation and retirement against what else happens meanwhile (docs/security.md, "Rotating the key"):
writes in flight on PostgreSQL, an altered stored value, a commit that fails, a key file that cannot be
replaced. On SQLite and PostgreSQL, on databases that commit for real."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text, update

from custodes.datakey import service as datakey
from custodes.kit.crypto import attach_key, key_id
from custodes.kit.db import transaction
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter
from custodes.settings import Settings
from custodes.workforce.models import Staff
from tests.datakey.test_rotation import (
    _home,
    _homes,
    _open,
    _retire,
    _rotate,
    _run,
    _stored_key_ids,
)


class _InThread:
    """Run `work` in a thread, keeping what it returns or raises."""

    def __init__(self, work: Callable[[], object]) -> None:
        self.result: object = None
        self.error: BaseException | None = None

        def run() -> None:
            try:
                self.result = work()
            except BaseException as error:  # handed to the test
                self.error = error

        self.thread = threading.Thread(target=run)
        self.thread.start()

    def join(self) -> object:
        self.thread.join(60)
        assert not self.thread.is_alive(), "still waiting after 60 seconds"
        if self.error is not None:
            raise self.error
        return self.result


def _until_waiting(settings: Settings, backend: str, seconds: float = 10.0) -> None:
    """Until some transaction waits for a lock (PostgreSQL), or a moment (SQLite: a busy wait, not seen)."""
    if backend != "postgresql":
        time.sleep(1.0)
        return
    deadline = time.monotonic() + seconds
    with _open(settings) as database, database.engine.connect() as connection:
        while time.monotonic() < deadline:
            if connection.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted")).scalar_one():
                return
            connection.rollback()
            time.sleep(0.1)


def _data_key_actions(settings: Settings) -> list[str]:
    with _open(settings) as database, database.factory() as session:
        entries = ledger.search(session, EntryFilter(object_type="data_key"), limit=20)
    return [entry.detail["action"] for entry in reversed(entries)]


# --------------------------------------------------------------------------- writes in flight


def test_a_change_committed_while_rotation_runs_is_kept(installation: Settings, backend: str) -> None:
    """PostgreSQL, READ COMMITTED: rotation used to read S01's committed value, wait for the writer's row
    lock, then write the re-encryption of the old value over the acknowledged change. It now locks the
    table first, so it waits for the writer and then reads (and re-encrypts) the new value."""
    assert _homes(installation)["S01"] == _home(1)
    with _open(installation) as web, web.factory() as writer:
        writer.execute(update(Staff).where(Staff.staff_id == "S01").values(home_lat=52.5, home_lon=1.25))
        writer.flush()
        rotation = _InThread(lambda: _rotate(installation))
        _until_waiting(installation, backend)
        assert rotation.thread.is_alive()  # held off by the write in flight
        writer.commit()
    rotation.join()
    assert _homes(installation)["S01"] == ("ME1 1AA", 52.5, 1.25)
    assert _stored_key_ids(installation) == {key_id(installation.data_key())}


def test_a_value_written_while_rotation_waits_is_reencrypted_and_retire_then_keeps_it_readable(
    installation: Settings, backend: str
) -> None:
    """A home given to S21 (who had none) by a transaction still open: rotation used not to wait for it on
    PostgreSQL, so the value committed after under the old key, and retire, counting committed values
    only, dropped that key: S21's home no longer read."""
    (first,) = installation.data_keys()
    with _open(installation) as web, web.factory() as writer:
        writer.execute(update(Staff).where(Staff.staff_id == "S21").values(home_postcode="TN9 9ZZ"))
        writer.flush()
        rotation = _InThread(lambda: _rotate(installation))
        _until_waiting(installation, backend)
        writer.commit()
    rotation.join()
    assert _stored_key_ids(installation) == {key_id(installation.data_key())}
    assert _retire(installation) == [key_id(first)]
    assert _homes(installation)["S21"][0] == "TN9 9ZZ"


def test_retire_waits_for_a_write_in_flight_under_an_old_key_and_refuses(
    installation: Settings, backend: str
) -> None:
    """A process that has not taken up the rotated key file writes under the old key, not yet committed:
    retire used to count committed values only on PostgreSQL and drop the key the value then needed."""
    (first,) = installation.data_keys()
    _rotate(installation)
    second = installation.data_key()
    with _open(installation) as stale:
        attach_key(stale.engine, first)
        with stale.factory() as writer:
            writer.execute(update(Staff).where(Staff.staff_id == "S21").values(home_postcode="TN9 9ZZ"))
            writer.flush()
            retirement = _InThread(lambda: _retire(installation))
            _until_waiting(installation, backend)
            writer.commit()
    with pytest.raises(
        datakey.DataKeyRefused, match=rf"staff.home_postcode: 1 value under key {key_id(first).hex()}"
    ):
        retirement.join()
    assert installation.data_keys() == [second, first]
    assert _homes(installation)["S21"][0] == "TN9 9ZZ"
    assert _data_key_actions(installation) == ["rotated"]


# --------------------------------------------------------------------------- an altered stored value


def _alter(settings: Settings, staff_id: str, column: str) -> None:
    with _open(settings) as database, database.engine.begin() as connection:
        query = text(f"SELECT {column} FROM staff WHERE staff_id = :s")
        stored = bytes(connection.execute(query, {"s": staff_id}).scalar_one())
        altered = stored[:-1] + bytes([stored[-1] ^ 1])
        connection.execute(
            text(f"UPDATE staff SET {column} = :v WHERE staff_id = :s"), {"v": altered, "s": staff_id}
        )


def test_an_altered_value_refuses_rotation_naming_its_row_and_adds_no_key(installation: Settings) -> None:
    """The refusal used to name the column only, and each refused attempt left one more unused key at the
    top of the key file. Now it names the row, and the file is written only once every value is done."""
    original = installation.resolved_data_key_file.read_text()
    _alter(installation, "S07", "home_lat")
    for _ in range(3):
        code, output = _run(installation, "rotate")
        assert code == 1, output
    flat = " ".join(output.split())
    assert "Not rotated: 1 stored value does not decrypt" in flat
    assert "staff.home_lat of staff_id S07: the stored value does not decrypt (altered?)" in flat
    assert "--clear-unreadable" in flat and "Nothing was changed" in flat
    assert installation.resolved_data_key_file.read_text() == original
    assert _stored_key_ids(installation) == {key_id(installation.data_key())}
    assert _data_key_actions(installation) == []


def test_clear_unreadable_clears_just_those_values_with_an_erasure_each(installation: Settings) -> None:
    (first,) = installation.data_keys()
    before = _homes(installation)
    _alter(installation, "S07", "home_lat")
    code, output = _run(installation, "rotate", "--clear-unreadable")
    assert code == 0, output
    assert "Cleared (did not decrypt): staff.home_lat of staff_id S07" in " ".join(output.split())
    second, kept = installation.data_keys()
    assert kept == first
    homes = _homes(installation)
    assert homes["S07"] == (before["S07"][0], None, before["S07"][2])
    assert {k: v for k, v in homes.items() if k != "S07"} == {k: v for k, v in before.items() if k != "S07"}
    assert _stored_key_ids(installation) == {key_id(second)}
    with _open(installation) as database, database.factory() as session:
        (erasure,) = ledger.search(session, EntryFilter(object_type="staff", object_id="S07"), limit=10)
        (rotated,) = ledger.search(session, EntryFilter(object_type="data_key"), limit=10)
    assert (erasure.op, erasure.actor) == ("erasure", "system:cli")
    assert erasure.detail["column"] == "staff.home_lat"
    assert rotated.detail["cleared"] == {"staff.home_lat": 1}
    assert rotated.detail["values"] == {"staff.home_lat": 14, "staff.home_lon": 15, "staff.home_postcode": 20}


def test_clear_unreadable_never_clears_values_under_a_key_the_file_lacks(installation: Settings) -> None:
    original = installation.resolved_data_key_file.read_text()
    with _open(installation) as database:
        attach_key(database.engine, bytes(range(32)))
        with transaction(database.factory) as session:
            session.execute(update(Staff).where(Staff.staff_id == "S01").values(home_lat=1.0))
    code, output = _run(installation, "rotate", "--clear-unreadable")
    assert code == 1 and "Add the key" in output and "Nothing was changed" in output
    assert installation.resolved_data_key_file.read_text() == original


# --------------------------------------------------------------------------- commits that fail


def test_retire_changes_the_file_only_once_its_ledger_entry_is_committed(installation: Settings) -> None:
    """The file used to be rewritten inside the transaction: a failed commit left the old keys gone from
    it with no ledger entry of their retirement."""
    (first,) = installation.data_keys()
    _rotate(installation)
    with (
        pytest.raises(RuntimeError, match="connection lost"),
        _open(installation) as database,
        transaction(database.factory) as session,
    ):
        assert datakey.retire(session, installation, "system:test") == [key_id(first)]
        assert len(installation.data_keys()) == 2
        raise RuntimeError("connection lost")  # what a failed COMMIT does
    assert len(installation.data_keys()) == 2 and _data_key_actions(installation) == ["rotated"]
    assert _retire(installation) == [key_id(first)]  # running it again completes it
    assert len(installation.data_keys()) == 1 and _data_key_actions(installation) == ["rotated", "retired"]


def test_a_rotation_between_retire_and_dropping_the_keys_keeps_its_new_key(installation: Settings) -> None:
    (first,) = installation.data_keys()
    _rotate(installation)
    second = installation.data_key()
    with _open(installation) as database:
        with transaction(database.factory) as session:
            retired = datakey.retire(session, installation, "system:test")
        _rotate(installation)  # e.g. another operator, before the file is rewritten
        third = installation.data_key()
        with transaction(database.factory) as session:
            assert datakey.drop_retired_keys(session, installation, retired) == [key_id(first)]
    assert installation.data_keys() == [third, second]
    assert _homes(installation)["S01"] == _home(1)


# ------------------------------------------------------------------------- a key file not replaceable


def _refuse_writing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: Settings, keys: object) -> None:
        raise PermissionError(13, "Permission denied", str(self.resolved_data_key_file.parent / ".x.new"))

    monkeypatch.setattr(Settings, "write_data_keys", refuse)


def test_rotate_says_which_file_could_not_be_replaced_and_that_nothing_changed(
    installation: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    (first,) = installation.data_keys()
    _refuse_writing(monkeypatch)
    code, output = _run(installation, "rotate")
    flat = " ".join(output.split())
    assert code == 1, output
    assert f"the key file {installation.resolved_data_key_file} could not be replaced" in flat
    assert "Permission denied" in flat and "Nothing was changed" in flat
    assert installation.data_keys() == [first] and _stored_key_ids(installation) == {key_id(first)}
    assert _data_key_actions(installation) == []


def test_retire_says_the_file_could_not_be_replaced_and_still_reads(
    installation: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _rotate(installation)
    keys = installation.data_keys()
    _refuse_writing(monkeypatch)
    code, output = _run(installation, "retire")
    flat = " ".join(output.split())
    assert code == 1, output
    assert f"the key file {installation.resolved_data_key_file} could not be replaced" in flat
    assert "still holds the old keys" in flat and "`custodes data-key retire` again" in flat
    monkeypatch.undo()
    assert installation.data_keys() == keys
    assert _retire(installation) == [key_id(keys[1])]


def test_a_symlinked_key_file_stays_a_link_to_the_replaced_file(
    installation: Settings, tmp_path: Path
) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    real = secrets / "data.key"
    link = installation.resolved_data_key_file
    link.rename(real)
    link.symlink_to(real)
    (first,) = installation.data_keys()
    _rotate(installation)
    assert link.is_symlink() and link.resolve() == real.resolve()
    assert installation.data_keys()[1] == first and real.stat().st_mode & 0o777 == 0o600
    assert _retire(installation) == [key_id(first)]
    assert link.is_symlink() and len(installation.data_keys()) == 1
    assert _homes(installation)["S01"] == _home(1)
