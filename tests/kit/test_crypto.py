"""Columns encrypted at rest (kit/crypto.py): the cipher on its own, and the column types on a bare engine."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, MetaData, Table, insert, select, text
from sqlalchemy.exc import StatementError

from custodes.kit.crypto import (
    DecryptionFailed,
    EncryptedFloat,
    EncryptedString,
    FieldCipher,
    KeyMissing,
    attach_key,
    new_key_text,
    parse_key,
)
from custodes.kit.db import make_engine
from custodes.settings import Settings

KEY = bytes(range(32))
OTHER = bytes(range(1, 33))


@given(st.binary(max_size=200))
def test_a_value_round_trips(plaintext: bytes) -> None:
    cipher = FieldCipher(KEY)
    assert cipher.decrypt(cipher.encrypt(plaintext, "t.c"), "t.c") == plaintext


def test_each_value_gets_its_own_nonce() -> None:
    cipher = FieldCipher(KEY)
    first, second = cipher.encrypt(b"ME14 1AA", "t.c"), cipher.encrypt(b"ME14 1AA", "t.c")
    assert first != second and b"ME14" not in first


def test_another_key_is_named_in_the_error() -> None:
    sealed = FieldCipher(KEY).encrypt(b"x", "t.c")
    with pytest.raises(DecryptionFailed, match=r"stored under data key .* but the key given is"):
        FieldCipher(OTHER).decrypt(sealed, "t.c")


def test_a_value_moved_to_another_column_or_altered_does_not_decrypt() -> None:
    cipher = FieldCipher(KEY)
    sealed = cipher.encrypt(b"51.27", "staff.home_lat")
    with pytest.raises(DecryptionFailed, match="does not decrypt"):
        cipher.decrypt(sealed, "staff.home_lon")
    altered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(DecryptionFailed, match="does not decrypt"):
        cipher.decrypt(altered, "staff.home_lat")
    with pytest.raises(DecryptionFailed, match="not an encrypted value"):
        cipher.decrypt(b"ME14 1AA", "staff.home_lat")  # a value left in clear


def test_key_files() -> None:
    text_ = new_key_text()
    assert len(parse_key(text_ + "\n", "f")) == 32 and new_key_text() != text_
    for bad in ("", "short", base64.urlsafe_b64encode(b"x" * 16).decode(), "not base64 at all!"):
        with pytest.raises(KeyMissing, match="does not hold a data encryption key"):
            parse_key(bad, "f")


def test_settings_have_no_default_key(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", data_key_file=None)
    with pytest.raises(KeyMissing, match=r"No data encryption key at .*data-encryption.key.*custodes init"):
        settings.data_key()
    assert settings.ensure_data_key() is True
    key = settings.data_key()
    assert settings.ensure_data_key() is False and settings.data_key() == key  # kept
    assert settings.resolved_data_key_file.stat().st_mode & 0o077 == 0
    elsewhere = Settings(home=tmp_path / "home", data_key_file=tmp_path / "vault" / "k")
    assert elsewhere.resolved_data_key_file == tmp_path / "vault" / "k"


def _table() -> Table:
    return Table(
        "person",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("postcode", EncryptedString("person.postcode")),
        Column("lat", EncryptedFloat("person.lat")),
    )


def test_the_column_types_store_ciphertext_and_give_back_plain_values(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    table = _table()
    table.metadata.create_all(engine)
    attach_key(engine, KEY)
    with engine.begin() as connection:
        connection.execute(
            insert(table),
            [{"id": 1, "postcode": "CT1 1AA", "lat": 51.28}, {"id": 2, "postcode": None, "lat": None}],
        )
        raw = connection.execute(text("SELECT postcode, lat FROM person ORDER BY id")).all()
        back = connection.execute(select(table.c.postcode, table.c.lat).order_by(table.c.id)).all()
    assert back == [("CT1 1AA", 51.28), (None, None)]
    assert raw[1] == (None, None)
    postcode, lat = raw[0]
    assert isinstance(postcode, bytes) and b"CT1" not in postcode and len(postcode) == 5 + 12 + 16 + 16
    assert isinstance(lat, bytes) and len(lat) == 5 + 12 + 8 + 16
    engine.dispose()


def test_an_engine_without_a_key_refuses_rather_than_storing_plaintext(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    table = _table()
    table.metadata.create_all(engine)
    with (
        engine.begin() as connection,
        pytest.raises(StatementError, match="no data encryption key") as caught,
    ):
        connection.execute(insert(table).values(id=1, postcode="CT1 1AA"))
    assert isinstance(caught.value.orig, KeyMissing)
    with engine.begin() as connection:
        connection.execute(insert(table).values(id=2))  # NULL needs no key
        assert connection.execute(text("SELECT count(*) FROM person")).scalar_one() == 1
    engine.dispose()


def test_a_key_loader_is_called_on_first_use_only(tmp_path: Path) -> None:
    calls: list[int] = []

    def load() -> bytes:
        calls.append(1)
        return KEY

    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    table = _table()
    table.metadata.create_all(engine)
    attach_key(engine, load)
    assert calls == []
    with engine.begin() as connection:
        connection.execute(insert(table), [{"id": 1, "postcode": "A"}, {"id": 2, "postcode": "B"}])
        assert [r[0] for r in connection.execute(select(table.c.postcode).order_by(table.c.id))] == ["A", "B"]
    assert calls == [1]
    engine.dispose()
