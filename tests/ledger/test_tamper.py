"""Every fault of ledger.md "Faults it must survive" is found by `ledger.verify` and by
`custodes ledger verify`, which name the kind of fault and the first bad index.

The tampering is done with raw SQL on a database that really committed, after switching the append-only guards
off as an administrator could (helpers.tampering). The log: 200 entries in six commits, checkpoints at sizes
31, 100, 160 and 200 (the newest also kept in the witness file outside the database).
"""

from __future__ import annotations

import base64
import itertools
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import Connection, text
from typer.testing import CliRunner

from custodes.cli import app
from custodes.ledger import merkle
from custodes.ledger import service as ledger
from custodes.ledger.note import Signer, Verifier, format_checkpoint, generate_signer_key, open_checkpoint
from custodes.ledger.schemas import FaultKind
from tests.ledger.helpers import Log, cli_env, forged_body, leaf_of, open_log, row, tampering

BATCHES = (30, 1, 45, 24, 60, 40)
CHECKPOINTED = (31, 100, 160, 200)
SIZE = 200
runner = CliRunner()


def build(log: Log) -> Log:
    for batch in BATCHES:
        size = log.append(batch)
        if size in CHECKPOINTED:
            log.checkpoint()
    report = log.verify()
    assert report.intact and report.size == SIZE and report.checkpoints == len(CHECKPOINTED), report
    assert log.verify(parallel=True).as_dict() | {"seconds": 0} == report.as_dict() | {"seconds": 0}
    return log


@pytest.fixture
def log(fresh_log: Log) -> Log:
    return build(fresh_log)


@pytest.fixture(scope="module")
def shared(
    backend: str, new_database: Callable[[str], str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Log]:
    """One log per backend for the many-position edits, each of which is undone afterwards."""
    log = build(open_log(backend, new_database(backend), tmp_path_factory.mktemp("home")))
    yield log
    log.close()


def cli_verify(log: Log, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["ledger", "verify", *args], env=cli_env(log))
    return result.exit_code, result.stdout


def assert_fault(log: Log, kind: FaultKind, index: int, *, cli: bool = True) -> None:
    report = log.verify()
    assert report.fault is not None, f"not detected: expected {kind} at {index}"
    assert (report.fault.kind, report.fault.index) == (kind, index), report.fault
    parallel = log.verify(parallel=True).fault  # worker processes over aligned chunks find the same
    assert parallel is not None and (parallel.kind, parallel.index) == (kind, index), parallel
    if not cli:
        return
    code, output = cli_verify(log)
    assert code == 1, output
    assert f"FAULT at index {index}: {kind}" in output
    code, output = cli_verify(log, "--json")
    assert code == 1, output
    fault = json.loads(output)["fault"]
    assert json.loads(output)["intact"] is False
    assert (fault["kind"], fault["index"]) == (str(kind), index)


def assert_intact(log: Log) -> None:
    report = log.verify()
    assert report.intact, report.fault
    code, output = cli_verify(log)
    assert code == 0 and output.startswith("OK: "), output


def checkpoints(connection: Connection) -> list[dict[str, Any]]:
    found = connection.execute(text("SELECT * FROM ledger_checkpoint ORDER BY seq")).mappings()
    return [dict(item) for item in found]


def set_entry(connection: Connection, index: int, **values: object) -> None:
    assignments = ", ".join(f"{name} = :{name}" for name in values)
    connection.execute(
        text(f"UPDATE ledger_entry SET {assignments} WHERE idx = :idx"), {**values, "idx": index}
    )


def flip(data: bytes, offset: int, mask: int = 0x01) -> bytes:
    return data[:offset] + bytes([data[offset] ^ mask]) + data[offset + 1 :]


# --------------------------------------------------------------------------- edits of stored bytes


@hypothesis_settings(max_examples=25, deadline=None)
@given(index=st.integers(0, SIZE - 1), where=st.floats(0, 1, exclude_max=True), mask=st.integers(1, 255))
def test_edit_of_any_entry_byte(shared: Log, index: int, where: float, mask: int) -> None:
    with tampering(shared.url) as connection:
        original = bytes(row(connection, index)["body"])
        set_entry(connection, index, body=flip(original, int(where * len(original)), mask))
    try:
        assert_fault(shared, FaultKind.LEAF_ALTERED, index)
    finally:
        with tampering(shared.url) as connection:
            set_entry(connection, index, body=original)
    assert shared.verify().intact


@hypothesis_settings(max_examples=25, deadline=None)
@given(index=st.integers(0, SIZE - 1), offset=st.integers(0, 31), mask=st.integers(1, 255))
def test_edit_of_any_leaf_hash_byte(shared: Log, index: int, offset: int, mask: int) -> None:
    with tampering(shared.url) as connection:
        original = bytes(row(connection, index)["leaf_hash"])
        set_entry(connection, index, leaf_hash=flip(original, offset, mask))
    try:
        assert_fault(shared, FaultKind.LEAF_ALTERED, index)
    finally:
        with tampering(shared.url) as connection:
            set_entry(connection, index, leaf_hash=original)
    assert shared.verify().intact


def test_edit_of_any_stored_interior_node(shared: Log) -> None:
    with tampering(shared.url) as connection:
        nodes = [tuple(item) for item in connection.execute(text("SELECT level, idx, hash FROM ledger_node"))]
    assert sorted((level, idx) for level, idx, _ in nodes) == [(4, k) for k in range(SIZE // 16)]
    for level, idx, digest in nodes:
        for offset in (0, 13, 31):
            with tampering(shared.url) as connection:
                connection.execute(
                    text("UPDATE ledger_node SET hash = :h WHERE level = :l AND idx = :i"),
                    {"h": flip(bytes(digest), offset), "l": level, "i": idx},
                )
            try:
                assert_fault(shared, FaultKind.TREE_NODE_ALTERED, idx << level, cli=offset == 13 and idx == 5)
            finally:
                with tampering(shared.url) as connection:
                    connection.execute(
                        text("UPDATE ledger_node SET hash = :h WHERE level = :l AND idx = :i"),
                        {"h": bytes(digest), "l": level, "i": idx},
                    )
    assert_intact(shared)


@pytest.mark.parametrize("seq", [1, 2, 3, 4])
def test_edit_of_a_checkpoint_note_or_root(shared: Log, seq: int) -> None:
    with tampering(shared.url) as connection:
        original = checkpoints(connection)[seq - 1]
    size, note, root = int(original["size"]), str(original["note"]), bytes(original["root"])
    edits: list[tuple[dict[str, object], FaultKind]] = [
        ({"note": note.replace("\n", "\n ", 1)}, FaultKind.CHECKPOINT_SIGNATURE_INVALID),  # origin line
        ({"note": note.replace(f"\n{size}\n", f"\n{size}0\n", 1)}, FaultKind.CHECKPOINT_SIGNATURE_INVALID),
        (
            {"note": note[:-2] + ("A" if note[-2] != "A" else "B") + "\n"},
            FaultKind.CHECKPOINT_SIGNATURE_INVALID,
        ),
        ({"root": flip(root, 7)}, FaultKind.CHECKPOINT_INCONSISTENT),
    ]
    for values, kind in edits:
        with tampering(shared.url) as connection:
            connection.execute(
                text(
                    f"UPDATE ledger_checkpoint SET {', '.join(f'{k} = :{k}' for k in values)} WHERE seq = :s"
                ),
                {**values, "s": seq},
            )
        try:
            assert_fault(shared, kind, size, cli=seq == 2)
        finally:
            with tampering(shared.url) as connection:
                connection.execute(
                    text("UPDATE ledger_checkpoint SET note = :n, root = :r WHERE seq = :s"),
                    {"n": note, "r": root, "s": seq},
                )
    assert_intact(shared)


@pytest.mark.parametrize(("index", "kind", "first"), [
    (57, FaultKind.TREE_NODE_ALTERED, 48),  # in a stored 16-leaf subtree: named by the subtree's first leaf
    (195, FaultKind.CHECKPOINT_INCONSISTENT, 200),  # past the stored subtrees: the checkpoint differs
])  # fmt: skip
def test_an_entry_rewritten_with_its_leaf_hash(log: Log, index: int, kind: FaultKind, first: int) -> None:
    with tampering(log.url) as connection:
        original = row(connection, index)
        forged = bytes(original["body"]).replace(b'"actor":"', b'"actor":"staff:FORGED', 1)
        # A careful intruder rewrites the searchable actor column too, so only the tree can tell.
        actor = "staff:FORGED" + original["actor"]
        set_entry(connection, index, body=forged, leaf_hash=leaf_of(forged), actor=actor)
    assert_fault(log, kind, first)
    if kind == FaultKind.CHECKPOINT_INCONSISTENT:  # the entry cannot be known: its range is named
        fault = log.verify().fault
        assert fault is not None
        found = re.search(r"an entry from (\d+) to (\d+) differs from what it signed", fault.message)
        assert found, fault.message
        low, high = int(found[1]), int(found[2])
        assert 0 < low <= index <= high == first - 1, fault.message
        assert f"the entries before {low} match an earlier checkpoint" in fault.message


def test_a_full_rewrite_is_caught_by_the_signatures(log: Log) -> None:
    """Entry 150 rewritten, its leaf hash, stored subtree and the later checkpoints all redone and re-signed
    with the intruder's own key: the first checkpoint the intruder had to re-sign is named."""
    forger = Signer(generate_signer_key(log.settings.ledger_origin))
    with tampering(log.url) as connection:
        original = row(connection, 150)
        forged = bytes(original["body"]).replace(b'"actor":"', b'"actor":"staff:FORGED', 1)
        actor = "staff:FORGED" + original["actor"]
        set_entry(connection, 150, body=forged, leaf_hash=leaf_of(forged), actor=actor)
        leaves = [
            bytes(leaf)
            for leaf in connection.execute(text("SELECT leaf_hash FROM ledger_entry ORDER BY idx")).scalars()
        ]
        tree = merkle.MemoryTree(leaves)
        connection.execute(
            text("UPDATE ledger_node SET hash = :h WHERE level = 4 AND idx = 9"), {"h": tree.get(4, 9)}
        )
        for item in checkpoints(connection):
            size = int(item["size"])
            if size > 150:
                note = forger.sign(format_checkpoint(log.settings.ledger_origin, size, tree.root(size)))
                connection.execute(
                    text("UPDATE ledger_checkpoint SET note = :n, root = :r WHERE seq = :s"),
                    {"n": note, "r": tree.root(size), "s": item["seq"]},
                )
    assert_fault(log, FaultKind.CHECKPOINT_SIGNATURE_INVALID, 160)


# ------------------------------------------------------------------------- rows deleted, inserted, reordered


def _delete(connection: Connection, where: str, **params: object) -> None:
    connection.execute(text(f"DELETE FROM ledger_subject WHERE {where}"), params)
    connection.execute(text(f"DELETE FROM ledger_entry WHERE {where}"), params)


def _renumber(connection: Connection, at: int, step: int) -> None:
    """Move entries at and after `at` by `step` (through negative numbers, so no key collides midway)."""
    for table in ("ledger_subject", "ledger_entry"):
        connection.execute(text(f"UPDATE {table} SET idx = -idx - 1 WHERE idx >= :at"), {"at": at})
        connection.execute(text(f"UPDATE {table} SET idx = -idx - 1 + :step WHERE idx < 0"), {"step": step})


@pytest.mark.parametrize("index", [0, 57, 150, 199])
def test_deletion_of_a_row(log: Log, index: int) -> None:
    with tampering(log.url) as connection:
        _delete(connection, "idx = :i", i=index)
    assert_fault(log, FaultKind.LEAF_MISSING, index)


@pytest.mark.parametrize("index", [0, 57, 150])
def test_deletion_of_a_row_with_the_gap_closed(log: Log, index: int) -> None:
    with tampering(log.url) as connection:
        _delete(connection, "idx = :i", i=index)
        _renumber(connection, index + 1, -1)
    assert_fault(log, FaultKind.LEAF_MISSING, index)


@pytest.mark.parametrize("index", [0, 57, 64, 150, 199])
def test_insertion_of_a_row(log: Log, index: int) -> None:
    with tampering(log.url) as connection:
        _renumber(connection, index, +1)
        body = forged_body(index)
        connection.execute(
            text(
                "INSERT INTO ledger_entry (idx, at, actor, op, object_type, object_id, body, leaf_hash)"
                " VALUES (:i, :at, 'staff:FORGER', 'consultation', 'record', 'FORGED', :b, :h)"
            ),
            {"i": index, "at": row(connection, index + 1)["at"], "b": body, "h": leaf_of(body)},
        )
    assert_fault(log, FaultKind.EXTRA_LEAF, index)


def test_insertion_of_a_copy_of_a_row(log: Log) -> None:
    with tampering(log.url) as connection:
        copied = row(connection, 80)
        _renumber(connection, 81, +1)
        connection.execute(
            text(
                "INSERT INTO ledger_entry (idx, at, actor, op, object_type, object_id, body, leaf_hash)"
                " VALUES (81, :at, :actor, :op, :object_type, :object_id, :body, :leaf_hash)"
            ),
            {key: value for key, value in copied.items() if key not in ("idx", "redacted_at")},
        )
    assert_fault(log, FaultKind.EXTRA_LEAF, 80)  # entries 80 and 81 are the same entry


_CONTENT = ("at", "actor", "op", "object_type", "object_id", "body", "leaf_hash")


@pytest.mark.parametrize(("first", "second"), [(0, 1), (10, 11), (5, 170), (120, 121), (195, 198)])
def test_reordering_two_rows(log: Log, first: int, second: int) -> None:
    with tampering(log.url) as connection:
        one, other = row(connection, first), row(connection, second)
        set_entry(connection, first, **{key: other[key] for key in _CONTENT})
        set_entry(connection, second, **{key: one[key] for key in _CONTENT})
    assert_fault(log, FaultKind.LEAF_MISSING, first)
    assert "reordered" in str(log.verify().fault)


@pytest.mark.parametrize("keep", [199, 180, 100, 31, 1, 0])
@pytest.mark.parametrize("with_nodes", [False, True])
def test_truncation_of_the_tail(log: Log, keep: int, with_nodes: bool) -> None:
    with tampering(log.url) as connection:
        _delete(connection, "idx >= :k", k=keep)
        if with_nodes:  # the intruder also removes the stored subtrees over the removed entries
            connection.execute(text("DELETE FROM ledger_node WHERE (idx + 1) * 16 > :k"), {"k": keep})
    assert_fault(log, FaultKind.LEAF_MISSING, keep)


# --------------------------------------------------------------------------- checkpoints


def test_latest_checkpoint_swapped_for_an_older_one(log: Log) -> None:
    with tampering(log.url) as connection:
        older = checkpoints(connection)[1]
        assert older["size"] == 100
        connection.execute(
            text("UPDATE ledger_checkpoint SET note = :n, size = :z, root = :r WHERE seq = 4"),
            {"n": older["note"], "z": older["size"], "r": older["root"]},
        )
    assert_fault(log, FaultKind.CHECKPOINT_ROLLED_BACK, 100)
    log.settings.witness_file.unlink()  # the order of the stored checkpoints alone shows it
    assert_fault(log, FaultKind.CHECKPOINT_ROLLED_BACK, 100)


def test_each_checkpoint_names_the_one_before_it(log: Log) -> None:
    with tampering(log.url) as connection:
        stored = checkpoints(connection)
    verifier = Verifier(ledger.verifier_key(log.settings))
    assert open_checkpoint(stored[0]["note"], verifier).extensions == ()
    for before, after in itertools.pairwise(stored):
        root = base64.b64encode(bytes(before["root"])).decode()
        named = f"previous-checkpoint {before['size']} {root}"
        assert open_checkpoint(after["note"], verifier).extensions == (named,)


@pytest.mark.parametrize(("seq", "size"), [(1, 31), (2, 100), (3, 160)])
def test_a_checkpoint_deleted_from_the_middle(log: Log, seq: int, size: int) -> None:
    """The next checkpoint names it (a signed extension line), so its absence is seen (it was not)."""
    with tampering(log.url) as connection:
        connection.execute(text("DELETE FROM ledger_checkpoint WHERE seq = :s"), {"s": seq})
    assert_fault(log, FaultKind.CHECKPOINT_ROLLED_BACK, size)
    assert f"follows a checkpoint of size {size}" in str(log.verify().fault)


def test_checkpoints_that_name_no_previous_one_are_accepted(log: Log) -> None:
    """Checkpoints issued before the extension line existed have none: still valid."""
    signer = ledger.load_signer(log.settings)
    with tampering(log.url) as connection:
        for cp in checkpoints(connection)[:3]:
            plain = signer.sign(format_checkpoint(log.settings.ledger_origin, cp["size"], bytes(cp["root"])))
            connection.execute(
                text("UPDATE ledger_checkpoint SET note = :n WHERE seq = :s"), {"n": plain, "s": cp["seq"]}
            )
    assert_intact(log)
    with tampering(log.url) as connection:  # without the line, a deletion there goes unseen
        connection.execute(text("DELETE FROM ledger_checkpoint WHERE seq = 2"))
    assert_intact(log)


def test_a_malformed_previous_checkpoint_line(log: Log) -> None:
    signer = ledger.load_signer(log.settings)
    with tampering(log.url) as connection:
        cp = checkpoints(connection)[1]
        note = signer.sign(
            format_checkpoint(
                log.settings.ledger_origin, 100, bytes(cp["root"]), ["previous-checkpoint 31 xx"]
            )
        )
        connection.execute(text("UPDATE ledger_checkpoint SET note = :n WHERE seq = 2"), {"n": note})
    assert_fault(log, FaultKind.CHECKPOINT_INCONSISTENT, 100, cli=False)


def test_verify_offline_checks_the_checkpoint_named_before(log: Log) -> None:
    """The auditor holds one checkpoint: the one it names before it must match the export at that size."""
    lines = log.lines()
    key = ledger.verifier_key(log.settings)
    signer = ledger.load_signer(log.settings)
    with tampering(log.url) as connection:
        stored = checkpoints(connection)
    latest = ledger.verify_offline(lines, stored[-1]["note"], key)
    assert latest.intact, latest.fault
    root_200 = bytes(stored[-1]["root"])
    for named_size, named_root in ((160, bytes(stored[1]["root"])), (100, bytes(32)), (0, root_200)):
        extension = f"previous-checkpoint {named_size} {base64.b64encode(named_root).decode()}"
        note = signer.sign(format_checkpoint(log.settings.ledger_origin, SIZE, root_200, [extension]))
        report = ledger.verify_offline(lines, note, key)
        assert report.fault is not None
        assert (report.fault.kind, report.fault.index) == (FaultKind.CHECKPOINT_INCONSISTENT, named_size)
    for named_size, named_root in ((160, bytes(stored[2]["root"])), (0, merkle.EMPTY_ROOT), (SIZE, root_200)):
        extension = f"previous-checkpoint {named_size} {base64.b64encode(named_root).decode()}"
        note = signer.sign(format_checkpoint(log.settings.ledger_origin, SIZE, root_200, [extension]))
        assert ledger.verify_offline(lines, note, key).intact


def test_latest_checkpoint_removed_is_caught_by_the_witness_file(log: Log) -> None:
    with tampering(log.url) as connection:
        connection.execute(text("DELETE FROM ledger_checkpoint WHERE seq = 4"))
    assert_fault(log, FaultKind.CHECKPOINT_ROLLED_BACK, 160)


def test_database_rolled_back_to_an_earlier_state_is_caught_by_the_witness_file(log: Log) -> None:
    """Restoring an old backup leaves a database that is consistent in itself; only the newest checkpoint,
    kept outside the database, shows that 100 entries have gone."""
    with tampering(log.url) as connection:
        _delete(connection, "idx >= 100")
        connection.execute(text("DELETE FROM ledger_node WHERE (idx + 1) * 16 > 100"))
        connection.execute(text("DELETE FROM ledger_checkpoint WHERE size > 100"))
    assert_fault(log, FaultKind.CHECKPOINT_ROLLED_BACK, 100)
    # Without that outside record nothing in the database can show it: why the witness file exists.
    log.settings.witness_file.unlink()
    assert log.verify().intact


def _signature(note: str) -> tuple[str, bytes]:
    text_part, _, line = note.rpartition("\n— ")
    name, _, b64 = line.rstrip("\n").partition(" ")
    return f"{text_part}\n— {name} ", base64.b64decode(b64)


@pytest.mark.parametrize("seq", [1, 2, 4])
def test_forged_checkpoint_signature(log: Log, seq: int) -> None:
    with tampering(log.url) as connection:
        original = checkpoints(connection)[seq - 1]
    note, size = str(original["note"]), int(original["size"])
    head, raw = _signature(note)
    assert len(raw) == 4 + 64  # key id, Ed25519 signature
    for offset in range(0, len(raw), 5):
        forged = head + base64.b64encode(flip(raw, offset, 0x80)).decode() + "\n"
        with tampering(log.url) as connection:
            connection.execute(
                text("UPDATE ledger_checkpoint SET note = :n WHERE seq = :s"), {"n": forged, "s": seq}
            )
        assert_fault(log, FaultKind.CHECKPOINT_SIGNATURE_INVALID, size, cli=offset == 10)
    with tampering(log.url) as connection:
        connection.execute(
            text("UPDATE ledger_checkpoint SET note = :n WHERE seq = :s"), {"n": note, "s": seq}
        )
    assert_intact(log)


@pytest.mark.parametrize("name", ["same", "other.example/log"])
def test_checkpoint_signed_by_another_key(log: Log, name: str) -> None:
    origin = log.settings.ledger_origin
    forger = Signer(generate_signer_key(origin if name == "same" else name))
    with tampering(log.url) as connection:
        original = checkpoints(connection)[1]
        note = forger.sign(format_checkpoint(origin, 100, bytes(original["root"])))
        connection.execute(text("UPDATE ledger_checkpoint SET note = :n WHERE seq = 2"), {"n": note})
    assert_fault(log, FaultKind.CHECKPOINT_SIGNATURE_INVALID, 100)


def test_witness_file_with_a_forged_signature(log: Log) -> None:
    witness: Path = log.settings.witness_file
    head, raw = _signature(witness.read_text())
    witness.write_text(head + base64.b64encode(flip(raw, 20)).decode() + "\n")
    assert_fault(log, FaultKind.CHECKPOINT_SIGNATURE_INVALID, SIZE)


# --------------------------------------------------------------------------- the searchable copies


@pytest.mark.parametrize(
    ("column", "value"),
    [("actor", "staff:SOMEONE-ELSE"), ("object_id", "R-OTHER"), ("op", "erasure"), ("object_type", "other")],
)
def test_edit_of_an_indexed_column(log: Log, column: str, value: str) -> None:
    """Screens, searches and reports read these columns: they must say what the hashed bytes say."""
    with tampering(log.url) as connection:
        connection.execute(text(f"UPDATE ledger_entry SET {column} = :v WHERE idx = 57"), {"v": value})
    assert_fault(log, FaultKind.INDEX_ALTERED, 57)


def test_edit_of_an_entry_time(log: Log) -> None:
    with tampering(log.url) as connection:
        connection.execute(
            text("UPDATE ledger_entry SET at = (SELECT at FROM ledger_entry WHERE idx = 0) WHERE idx = 150")
        )
        changed = connection.execute(
            text(
                "SELECT count(*) FROM ledger_entry WHERE idx = 150 AND at <> "
                "(SELECT at FROM ledger_entry WHERE idx = 149)"
            )
        ).scalar_one()
    if changed:
        assert_fault(log, FaultKind.INDEX_ALTERED, 150)


@pytest.mark.parametrize("change", ["delete", "rename", "orphan"])
def test_edit_of_the_subject_index(log: Log, change: str) -> None:
    """A subject access search reads ledger_subject: removing or renaming a row would hide an entry."""
    with tampering(log.url) as connection:
        idx = connection.execute(text("SELECT min(idx) FROM ledger_subject WHERE idx > 40")).scalar_one()
        if change == "delete":
            connection.execute(text("DELETE FROM ledger_subject WHERE idx = :i"), {"i": idx})
        elif change == "rename":
            connection.execute(
                text("UPDATE ledger_subject SET subject_id = 'N-OTHER' WHERE idx = :i"), {"i": idx}
            )
        else:
            connection.execute(
                text("INSERT INTO ledger_subject (subject_id, idx) VALUES ('N-EXTRA', :i)"), {"i": idx}
            )
    assert_fault(log, FaultKind.INDEX_ALTERED, idx)
