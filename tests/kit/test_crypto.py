"""Columns encrypted at rest (kit/crypto.py): the cipher on its own, and the column types on a bare engine."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from custodes.kit import crypto
from custodes.kit.crypto import (
    DecryptionFailed,
    EncryptedFloat,
    EncryptedString,
    FieldCipher,
    KeyMissing,
    KeyRing,
    UnreadableValue,
    attach_key,
    cipher_for,
    count_by_key,
    encrypted_columns,
    key_file_text,
    key_id,
    new_key_text,
    parse_key,
    parse_keys,
    reencrypt_column,
    stored_key_id,
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


# --------------------------------------------------------------------------- key ring (rotation)


def test_a_ring_decrypts_values_under_any_of_its_keys_and_encrypts_under_the_first() -> None:
    old_value = FieldCipher(OTHER).encrypt(b"ME14 1AA", "t.c")
    ring = KeyRing([KEY, OTHER])
    assert ring.decrypt(old_value, "t.c") == b"ME14 1AA"
    new_value = ring.encrypt(b"CT1 1AA", "t.c")
    assert stored_key_id(new_value) == key_id(KEY) and stored_key_id(old_value) == key_id(OTHER)
    assert FieldCipher(KEY).decrypt(new_value, "t.c") == b"CT1 1AA"
    again = ring.reencrypt(old_value, "t.c")
    assert stored_key_id(again) == key_id(KEY) and ring.decrypt(again, "t.c") == b"ME14 1AA"


def test_a_ring_names_the_missing_key_id_and_the_keys_it_has() -> None:
    third = bytes(range(2, 34))
    sealed = FieldCipher(third).encrypt(b"x", "t.c")
    with pytest.raises(
        DecryptionFailed,
        match=rf"t\.c: stored under data key {key_id(third).hex()}, but the key given is {key_id(KEY).hex()}",
    ):
        KeyRing([KEY]).decrypt(sealed, "t.c")
    with pytest.raises(
        DecryptionFailed, match=rf"but the keys given are {key_id(KEY).hex()}, {key_id(OTHER).hex()}"
    ):
        KeyRing([KEY, OTHER]).decrypt(sealed, "t.c")
    with pytest.raises(DecryptionFailed, match="not an encrypted value"):
        KeyRing([KEY, OTHER]).decrypt(b"ME14 1AA", "t.c")
    with pytest.raises(KeyMissing, match="at least one"):
        KeyRing([])


def test_a_key_file_holds_one_key_a_line_the_first_encrypting() -> None:
    first, second = new_key_text(), new_key_text()
    assert parse_keys(first + "\n", "f") == [parse_key(first, "f")]  # one line: as before
    keys = parse_keys(f"{first}\n\n{second}\n", "f")
    assert keys == [parse_key(first, "f"), parse_key(second, "f")]
    assert parse_keys(key_file_text(keys), "f") == keys
    with pytest.raises(KeyMissing, match="line 3 of f does not hold a data encryption key"):
        parse_keys(f"{first}\n\nnot a key\n", "f")
    with pytest.raises(KeyMissing, match=r"^f does not hold a data encryption key"):
        parse_keys("\n\n", "f")


def test_settings_read_the_ring_and_write_it_as_a_private_file(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    settings.ensure_data_key()
    first = settings.data_key()
    settings.resolved_data_key_file.chmod(0o644)  # a replacement does not inherit loose permissions
    settings.write_data_keys([OTHER, first])
    assert settings.data_keys() == [OTHER, first] and settings.data_key() == OTHER
    assert settings.resolved_data_key_file.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in settings.resolved_data_key_file.parent.iterdir()] == ["data-encryption.key"]


def test_a_loader_with_a_stamp_is_read_again_when_the_key_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A running process takes up a rotated key file: at once for a value under a key it has not
    loaded, and within RECHECK_SECONDS for what it writes."""
    settings = Settings(home=tmp_path / "home")
    settings.ensure_data_key()
    old = settings.data_key()
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    table = _table()
    table.metadata.create_all(engine)
    attach_key(engine, settings.data_keys, stamp=settings.data_key_stamp)
    with engine.begin() as connection:
        connection.execute(insert(table).values(id=1, postcode="CT1 1AA"))  # the file read: one key
    settings.write_data_keys([KEY, old])  # rotated by another process, which writes under the new key
    rotating = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    attach_key(rotating, [KEY, old])
    with rotating.begin() as connection:
        connection.execute(insert(table).values(id=2, postcode="ME14 1AA"))
    rotating.dispose()
    with engine.begin() as connection:
        assert connection.execute(select(table.c.postcode).where(table.c.id == 2)).scalar_one() == "ME14 1AA"
    assert cipher_for(engine).key_ids == [key_id(KEY), key_id(old)]
    settings.write_data_keys([OTHER, KEY, old])
    monkeypatch.setattr(crypto, "RECHECK_SECONDS", 0.0)
    with engine.begin() as connection:
        connection.execute(insert(table).values(id=3, postcode="TN1 1AA"))
        raw = connection.execute(text("SELECT postcode FROM person WHERE id = 3")).scalar_one()
    assert stored_key_id(raw) == key_id(OTHER)
    engine.dispose()


def _two_tables() -> MetaData:
    metadata = MetaData()
    Table(
        "person",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("postcode", EncryptedString("person.postcode")),
        Column("lat", EncryptedFloat("person.lat")),
        Column("note", String),
    )
    Table(
        "visit",
        metadata,
        Column("person_id", Integer, primary_key=True),
        Column("day", String, primary_key=True),
        Column("place", EncryptedString("visit.place")),
    )
    return metadata


def test_encrypted_columns_are_found_from_the_metadata(tmp_path: Path) -> None:
    metadata = _two_tables()
    assert [f"{c.table.name}.{c.name}" for c in encrypted_columns(metadata)] == [
        "person.lat",
        "person.postcode",
        "visit.place",
    ]


def test_a_column_is_counted_by_key_and_reencrypted_in_batches(tmp_path: Path) -> None:
    """Composite primary keys too, paged by key: every value once, NULLs left alone."""
    metadata = _two_tables()
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    metadata.create_all(engine)
    attach_key(engine, OTHER)
    visit = metadata.tables["visit"]
    places = {
        (p, d): None if p == 3 else f"place {p} {d}" for p in range(1, 6) for d in ("mon", "tue", "wed")
    }
    with engine.begin() as connection:
        connection.execute(
            insert(visit), [{"person_id": p, "day": d, "place": v} for (p, d), v in places.items()]
        )
    ring = KeyRing([KEY, OTHER])
    with Session(engine) as session:
        assert count_by_key(session, visit.c.place) == {key_id(OTHER): 12}
        batches: list[int] = []
        assert reencrypt_column(session, visit.c.place, ring, batch=5, done=batches.append) == 12
        assert batches == [5, 5, 2]
        assert count_by_key(session, visit.c.place) == {key_id(KEY): 12}
        session.execute(text("INSERT INTO visit VALUES (9, 'x', :v)"), {"v": b"clear text"})
        assert count_by_key(session, visit.c.place) == {key_id(KEY): 12, None: 1}
        session.rollback()
    attach_key(engine, [KEY, OTHER])
    with engine.begin() as connection:
        back = {(r.person_id, r.day): r.place for r in connection.execute(select(visit))}
    assert back == places
    engine.dispose()


def test_a_value_that_does_not_decrypt_is_named_by_its_row_or_cleared_and_listed(tmp_path: Path) -> None:
    """Re-encryption refuses an altered value naming its column and its row's primary key (every column
    of it); given a list, it writes NULL there instead, lists it, and re-encrypts the others."""
    metadata = _two_tables()
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    metadata.create_all(engine)
    attach_key(engine, KEY)
    visit = metadata.tables["visit"]
    with engine.begin() as connection:
        connection.execute(
            insert(visit), [{"person_id": p, "day": "mon", "place": f"place {p}"} for p in range(1, 5)]
        )
        stored = connection.execute(text("SELECT place FROM visit WHERE person_id = 3")).scalar_one()
        altered = stored[:-1] + bytes([stored[-1] ^ 1])
        connection.execute(text("UPDATE visit SET place = :v WHERE person_id = 3"), {"v": altered})
    ring = KeyRing([OTHER, KEY])
    with Session(engine) as session:
        with pytest.raises(
            DecryptionFailed,
            match=r"^visit\.place of person_id 3, day mon: the stored value does not decrypt \(altered\?\)$",
        ):
            reencrypt_column(session, visit.c.place, ring, batch=2)
        session.rollback()
        found: list[UnreadableValue] = []
        assert reencrypt_column(session, visit.c.place, ring, batch=2, unreadable=found) == 3
        assert [(v.column, v.row, v.row_id) for v in found] == [
            ("visit.place", (("person_id", 3), ("day", "mon")), "3, mon")
        ]
        assert count_by_key(session, visit.c.place) == {key_id(OTHER): 3}
        session.commit()
    attach_key(engine, [OTHER, KEY])
    with engine.begin() as connection:
        back = {r.person_id: r.place for r in connection.execute(select(visit))}
    assert back == {1: "place 1", 2: "place 2", 3: None, 4: "place 4"}
    engine.dispose()
