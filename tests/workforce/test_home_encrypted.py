"""Staff home postcode and location are encrypted at rest (workforce.md, security.md): what the database
holds is ciphertext, what the services read is the plain value, and a missing or wrong key is an error."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from custodes.database import Database
from custodes.kit.crypto import DecryptionFailed, KeyMissing
from custodes.kit.db import transaction, utcnow
from custodes.settings import Settings
from custodes.workforce import service as workforce
from custodes.workforce.models import Staff
from tests.workforce.files import store

HOME = {"home_postcode": "ME14 1AA", "home_lat": "51.27", "home_lon": "0.52"}
RAW = text("SELECT home_postcode, home_lat, home_lon FROM staff WHERE staff_id = :s")


def _row(staff_id: str, **home: str) -> dict[str, str]:
    return {"staff_id": staff_id, "surname": "Smith", "forenames": "John", "role": "officer", **home}


def test_the_database_holds_ciphertext_and_the_services_plain_values(db: Session, tmp_path: Path) -> None:
    store(db, tmp_path, "staff", [_row("S1", **HOME), _row("S2")])
    postcode, lat, lon = db.execute(RAW, {"s": "S1"}).one()
    assert all(isinstance(value, bytes) for value in (postcode, lat, lon))
    assert b"ME14" not in postcode and b"51.27" not in lat and len({postcode, lat, lon}) == 3
    assert tuple(db.execute(RAW, {"s": "S2"}).one()) == (None, None, None)

    db.expire_all()
    s1 = db.get(Staff, "S1")
    assert s1 is not None and "home_postcode" not in s1.__dict__  # deferred: not decrypted unless read
    assert s1 is not None and (s1.home_postcode, s1.home_lat, s1.home_lon) == ("ME14 1AA", 51.27, 0.52)
    person = workforce.as_person(db, "S1")
    assert person is not None and person.postcode == "ME14 1AA"
    homes = {row[0]: row[5:] for row in workforce.staff_for_monitoring(db)}  # the detectors' reference data
    assert homes == {"S1": ("ME14 1AA", 51.27, 0.52), "S2": (None, None, None)}


def test_reimporting_the_same_home_changes_nothing_and_a_move_is_an_alteration(
    db: Session, tmp_path: Path
) -> None:
    store(db, tmp_path, "staff", [_row("S1", **HOME)])
    stored = db.execute(RAW, {"s": "S1"}).one()
    again = store(db, tmp_path, "staff", [_row("S1", **HOME)])
    assert (again.updated, again.unchanged) == (0, 1)
    assert db.execute(RAW, {"s": "S1"}).one() == stored  # compared decrypted, not rewritten
    moved = store(db, tmp_path, "staff", [_row("S1", **{**HOME, "home_postcode": "CT1 1AA"})])
    assert moved.updated == 1
    db.expire_all()
    assert db.get(Staff, "S1").home_postcode == "CT1 1AA"  # type: ignore[union-attr]


@pytest.fixture
def fresh(backend: str, new_database: Callable[[str], str], tmp_path: Path) -> Callable[[str], Settings]:
    """Settings of installations sharing one new database, each with its own home (and key file)."""
    url = new_database(backend)
    return lambda name: Settings(home=tmp_path / name, database_url=url)


def _put(settings: Settings) -> None:
    database = Database.open(settings)
    try:
        with transaction(database.factory) as session:
            now = utcnow()
            home = {"home_postcode": "ME14 1AA", "home_lat": 51.27, "home_lon": 0.52}
            session.add(
                Staff(staff_id="S1", surname="S", forenames="F", created_at=now, updated_at=now, **home)
            )
    finally:
        database.close()


def _get(settings: Settings) -> tuple[str | None, float | None]:
    database = Database.open(settings)
    try:
        with database.factory() as session:
            row = session.execute(select(Staff.home_postcode, Staff.home_lat)).one()
            return row[0], row[1]
    finally:
        database.close()


def test_the_key_comes_from_the_settings_key_file(fresh: Callable[[str], Settings]) -> None:
    installed = fresh("home")
    assert installed.ensure_data_key()
    _put(installed)
    assert _get(installed) == ("ME14 1AA", 51.27)
    moved = fresh("elsewhere")  # the same key file, named by CUSTODES_DATA_KEY_FILE
    moved = Settings(
        home=moved.home, database_url=moved.database_url, data_key_file=installed.resolved_data_key_file
    )
    assert _get(moved) == ("ME14 1AA", 51.27)


def test_a_missing_key_file_is_a_clear_error_and_nothing_is_stored(fresh: Callable[[str], Settings]) -> None:
    keyless = fresh("keyless")
    with pytest.raises(StatementError, match=r"No data encryption key at .*custodes init") as caught:
        _put(keyless)
    assert isinstance(caught.value.orig, KeyMissing)
    installed = fresh("home")
    installed.ensure_data_key()
    _put(installed)
    with pytest.raises(KeyMissing, match=r"No data encryption key at .*CUSTODES_DATA_KEY_FILE"):
        _get(keyless)


def test_another_key_cannot_read_the_values(fresh: Callable[[str], Settings]) -> None:
    installed, other = fresh("home"), fresh("other")
    installed.ensure_data_key()
    other.ensure_data_key()
    _put(installed)
    with pytest.raises(DecryptionFailed, match=r"staff\.home_postcode: stored under data key"):
        _get(other)


@pytest.mark.parametrize("stored", ["home_postcode", "home_lat", "home_lon"])
def test_the_key_check_reads_each_column(db: Session, tmp_path: Path, stored: str) -> None:
    """A file may give coordinates without a postcode: a wrong key must still be noticed (found by review)."""
    from custodes.kit.crypto import FieldCipher, new_key_text, parse_key

    store(db, tmp_path, "staff", [_row("S1")])
    assert workforce.home_locations_readable(db)
    other = FieldCipher(parse_key(new_key_text(), "another key"))
    value = b"ME14 1AA".ljust(16, b"\0") if stored == "home_postcode" else bytes(8)
    db.execute(text(f"UPDATE staff SET {stored} = :v"), {"v": other.encrypt(value, f"staff.{stored}")})
    assert not workforce.home_locations_readable(db)


def test_a_command_that_cannot_write_for_want_of_a_key_exits_1_and_changes_nothing(
    fresh: Callable[[str], Settings], tmp_path: Path
) -> None:
    """The key error comes wrapped in SQLAlchemy's StatementError when a value is written (review)."""
    from typer.testing import CliRunner

    from custodes.cli import app as cli

    keyless = fresh("keyless")
    env = {"CUSTODES_HOME": str(keyless.home), "CUSTODES_DATABASE_URL": keyless.database_url or ""}
    staff = tmp_path / "staff.csv"
    staff.write_text(
        "staff_id,surname,forenames,date_of_birth,role,team_id,area_code,line_manager_id,home_postcode,"
        "home_lat,home_lon\nS1,Smith,John,,officer,,,,ME14 1AA,,\n"
    )
    result = CliRunner().invoke(cli, ["import", "staff", str(staff)], env=env)
    assert result.exit_code == 1
    assert "No data encryption key" in result.output and "Nothing was changed" in result.output
