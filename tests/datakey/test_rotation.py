"""Rotating the data encryption key (docs/security.md, "Encryption at rest"): a new key first in the key
file, every stored value re-encrypted under it in one transaction with its ledger entry, and the old keys
dropped only once no value is under one. On SQLite and PostgreSQL, on databases that commit for real."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select, text, update
from typer.testing import CliRunner

from custodes.cli import app as cli
from custodes.database import Database
from custodes.datakey import service as datakey
from custodes.kit.crypto import attach_key, key_id, stored_key_id
from custodes.kit.db import transaction, utcnow
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter
from custodes.settings import Settings
from custodes.workforce.models import Staff

COLUMNS = ("home_postcode", "home_lat", "home_lon")
Homes = dict[str, tuple[str | None, float | None, float | None]]


@pytest.fixture
def installation(backend: str, new_database: Callable[[str], str], tmp_path: Path) -> Settings:
    """A fresh installation whose database holds 25 staff, 20 of them with a home (some without lat/lon)."""
    current = Settings(home=tmp_path / "home", database_url=new_database(backend))
    current.home.mkdir()
    ledger.ensure_signing_key(current)
    current.ensure_data_key()
    with _open(current) as database, transaction(database.factory) as session:
        now = utcnow()
        for number in range(1, 26):
            home = _home(number)
            fields = dict(zip(COLUMNS, home, strict=True))
            session.add(
                Staff(
                    staff_id=f"S{number:02d}",
                    surname="S",
                    forenames="F",
                    created_at=now,
                    updated_at=now,
                    **fields,
                )
            )
    return current


def _home(number: int) -> tuple[str | None, float | None, float | None]:
    if number > 20:
        return (None, None, None)
    if number % 4 == 0:
        return (f"ME{number} 1AA", None, None)
    return (f"ME{number} 1AA", 51.0 + number / 100, 0.5 + number / 100)


class _open:
    """A Database opened from the settings as the application does (the key file read on first use)."""

    def __init__(self, settings: Settings) -> None:
        self.database = Database.open(settings)

    def __enter__(self) -> Database:
        return self.database

    def __exit__(self, *_: object) -> None:
        self.database.close()


def _homes(settings: Settings) -> Homes:
    with _open(settings) as database, database.factory() as session:
        rows = session.execute(select(Staff.staff_id, Staff.home_postcode, Staff.home_lat, Staff.home_lon))
        return {row[0]: (row[1], row[2], row[3]) for row in rows}


def _stored_key_ids(settings: Settings) -> set[bytes | None]:
    """The key id in every stored value's header, read as bytes (nothing decrypted)."""
    with _open(settings) as database, database.engine.connect() as connection:
        rows = connection.execute(text("SELECT home_postcode, home_lat, home_lon FROM staff")).all()
    return {stored_key_id(bytes(value)) for row in rows for value in row if value is not None}


def _rotate(settings: Settings, **options: object) -> datakey.Rotation:
    with _open(settings) as database, transaction(database.factory) as session:
        return datakey.rotate(session, settings, "system:test", **options)


def _retire(settings: Settings) -> list[bytes]:
    """As the command does: the retirement recorded and committed, then the keys dropped from the file."""
    with _open(settings) as database:
        with transaction(database.factory) as session:
            retired = datakey.retire(session, settings, "system:test")
        if retired:
            with transaction(database.factory) as session:
                assert datakey.drop_retired_keys(session, settings, retired) == retired
        return retired


def _status(settings: Settings) -> datakey.KeyStatus:
    with _open(settings) as database, database.factory() as session:
        return datakey.status(session, settings)


def test_rotate_reencrypts_every_value_under_a_new_first_key_and_they_read_back_the_same(
    installation: Settings,
) -> None:
    before, (old,) = _homes(installation), installation.data_keys()
    rotation = _rotate(installation, batch=7)
    new, kept = installation.data_keys()
    assert (
        kept == old and rotation.key_id == key_id(new) != key_id(old) and rotation.previous == [key_id(old)]
    )
    assert rotation.values == {"staff.home_lat": 15, "staff.home_lon": 15, "staff.home_postcode": 20}
    assert _stored_key_ids(installation) == {key_id(new)}
    assert _homes(installation) == before
    mode = installation.resolved_data_key_file.stat().st_mode & 0o777
    assert mode == 0o600


def test_rotate_records_a_configuration_entry_with_key_ids_only(installation: Settings) -> None:
    rotation = _rotate(installation)
    key_text = installation.resolved_data_key_file.read_text()
    with _open(installation) as database, database.factory() as session:
        (entry,) = ledger.search(session, EntryFilter(object_type="data_key"), limit=10)
    assert (entry.op, entry.actor, entry.object_id) == ("configuration", "system:test", rotation.key_id.hex())
    assert entry.detail == {
        "action": "rotated",
        "previous_keys": [rotation.previous[0].hex()],
        "values": {"staff.home_lat": 15, "staff.home_lon": 15, "staff.home_postcode": 20},
    }
    assert not any(line.strip() in str(entry.content) for line in key_text.splitlines())


def test_a_rotation_that_fails_part_way_leaves_every_value_readable(installation: Settings) -> None:
    """The key file is written last, once every value is re-encrypted: the failure rolls back the values
    already re-encrypted, so they are all still under the old key, and the file is as it was."""
    before, (old,) = _homes(installation), installation.data_keys()
    original = installation.resolved_data_key_file.read_text()

    def power_cut(_what: str, done: int, _total: int) -> None:
        if done >= 10:  # after two batches of five
            raise RuntimeError("power cut")

    with pytest.raises(RuntimeError, match="power cut"):
        _rotate(installation, batch=5, progress=power_cut)
    assert installation.resolved_data_key_file.read_text() == original  # no unused key left in it
    assert installation.data_keys() == [old] and _stored_key_ids(installation) == {key_id(old)}
    assert _homes(installation) == before
    with _open(installation) as database, database.factory() as session:
        assert ledger.search(session, EntryFilter(object_type="data_key"), limit=10) == []
    assert _retire(installation) == []  # the file holds the one key the values are under
    _rotate(installation)  # a second attempt completes
    assert _stored_key_ids(installation) == {key_id(installation.data_key())}
    assert _homes(installation) == before


def test_retire_refuses_while_a_value_is_under_an_old_key_and_drops_the_old_keys_after_rotate(
    installation: Settings,
) -> None:
    (first,) = installation.data_keys()
    assert _retire(installation) == []  # one key: nothing to retire
    _rotate(installation)
    second = installation.data_key()
    # A process that had not taken up the new key file writes one home under the old key.
    with _open(installation) as database:
        attach_key(database.engine, first)
        with transaction(database.factory) as session:
            session.execute(update(Staff).where(Staff.staff_id == "S02").values(home_postcode="TN1 1AA"))
    with pytest.raises(datakey.DataKeyRefused) as refused:
        _retire(installation)
    assert str(refused.value).startswith(
        f"Not retired: some stored values are not under the current key {key_id(second).hex()} — "
        f"staff.home_postcode: 1 value under key {key_id(first).hex()}. Run `custodes data-key rotate`"
    )
    assert installation.data_keys() == [second, first]  # unchanged
    _rotate(installation)
    third = installation.data_key()
    assert _retire(installation) == [key_id(second), key_id(first)]
    assert installation.data_keys() == [third]
    assert installation.resolved_data_key_file.stat().st_mode & 0o777 == 0o600
    homes = _homes(installation)
    assert homes["S02"][0] == "TN1 1AA" and homes["S01"] == _home(1)
    with _open(installation) as database, database.factory() as session:
        retired = ledger.search(
            session, EntryFilter(object_type="data_key", object_id=key_id(third).hex()), limit=10
        )
    assert [entry.detail["action"] for entry in retired] == ["retired", "rotated"]
    assert retired[0].detail == {
        "action": "retired",
        "retired_keys": [key_id(second).hex(), key_id(first).hex()],
    }


def test_status_counts_the_values_under_each_key(installation: Settings) -> None:
    (first,) = installation.data_keys()
    found = _status(installation)
    assert found.key_ids == [key_id(first)] and found.values_under(key_id(first)) == 50
    assert {c.name: c.counts for c in found.columns} == {
        "staff.home_lat": {key_id(first): 15},
        "staff.home_lon": {key_id(first): 15},
        "staff.home_postcode": {key_id(first): 20},
    }
    _rotate(installation)
    found = _status(installation)
    assert [found.values_under(k) for k in found.key_ids] == [50, 0] and found.unreadable == []


def test_rotate_refuses_values_under_a_key_the_file_lacks_and_changes_nothing(installation: Settings) -> None:
    original = installation.resolved_data_key_file.read_text()
    stranger = bytes(range(32))
    with _open(installation) as database:
        attach_key(database.engine, stranger)
        with transaction(database.factory) as session:
            session.execute(update(Staff).where(Staff.staff_id == "S01").values(home_lat=1.0))
    with pytest.raises(
        datakey.DataKeyRefused,
        match=rf"Not rotated: .* staff.home_lat: 1 value under key {key_id(stranger).hex()}\. Add the key",
    ):
        _rotate(installation)
    assert installation.resolved_data_key_file.read_text() == original


def test_a_running_process_reads_values_rotated_under_it(installation: Settings) -> None:
    """No downtime: a process that loaded the key file before the rotation reads the re-encrypted values
    (it loads the file again on meeting a key id it lacks) and then writes under the new key."""
    before = _homes(installation)
    with _open(installation) as running:
        with running.factory() as session:
            assert session.get(Staff, "S01").home_postcode == before["S01"][0]
        _rotate(installation)
        with transaction(running.factory) as session:
            assert session.get(Staff, "S02").home_postcode == before["S02"][0]
            session.execute(update(Staff).where(Staff.staff_id == "S21").values(home_postcode="TN1 1AA"))
    assert _stored_key_ids(installation) == {key_id(installation.data_key())}


# --------------------------------------------------------------------------- the commands


def _run(settings: Settings, *arguments: str) -> tuple[int, str]:
    env = {"CUSTODES_HOME": str(settings.home), "CUSTODES_DATABASE_URL": settings.database_url or ""}
    result = CliRunner().invoke(cli, ["data-key", *arguments], env=env)
    return result.exit_code, result.output


def test_the_commands_rotate_report_and_retire(installation: Settings) -> None:
    (first,) = installation.data_keys()
    code, output = _run(installation, "status")
    assert code == 0 and f"{key_id(first).hex()}  encrypts and decrypts  50 values" in output
    assert "staff.home_postcode: 20 under" in output and "ME1 1AA" not in output
    code, output = _run(installation, "rotate")
    second = installation.data_key()
    assert code == 0, output
    assert f"New data key {key_id(second).hex()} is first in {installation.resolved_data_key_file}" in output
    assert "50 stored values re-encrypted" in output and "Back up the key file now" in output
    code, output = _run(installation, "status")
    assert code == 0 and f"{key_id(first).hex()}  decrypts only (old)    0 values" in output
    code, output = _run(installation, "retire")
    assert code == 0 and f"Retired key {key_id(first).hex()}" in output
    code, output = _run(installation, "retire")
    assert code == 0 and "nothing to retire" in output
    assert _homes(installation)["S01"] == _home(1)


def test_the_commands_refuse_with_exit_1_and_say_why(installation: Settings) -> None:
    (first,) = installation.data_keys()
    stranger = bytes(range(32))
    with _open(installation) as database:
        attach_key(database.engine, stranger)
        with transaction(database.factory) as session:
            session.execute(update(Staff).where(Staff.staff_id == "S01").values(home_lon=1.0))
    code, output = _run(installation, "status")
    assert code == 1 and f"staff.home_lon: 1 value under key {key_id(stranger).hex()}" in output
    code, output = _run(installation, "rotate")
    assert code == 1 and "Not rotated" in output and installation.data_keys() == [first]
    installation.write_data_keys([stranger, first])
    code, output = _run(installation, "retire")
    assert code == 1 and f"staff.home_lon: 14 values under key {key_id(first).hex()}" in output
    installation.resolved_data_key_file.unlink()
    code, output = _run(installation, "rotate")
    assert code == 1 and "No data encryption key at" in output and "Nothing was changed" in output
