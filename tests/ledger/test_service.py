"""The ledger service on real databases: appends, entry format, atomicity, proofs, checkpoints, redaction,
and the append-only triggers. Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from custodes.kit.db import transaction, utcnow
from custodes.ledger import merkle
from custodes.ledger import service as ledger
from custodes.ledger.models import (
    APPEND_ONLY_TABLES,
    NO_REPLACE_KEYS,
    LedgerCheckpoint,
    LedgerEntry,
    LedgerNode,
    LedgerRedaction,
    LedgerSubject,
)
from custodes.ledger.note import NoteError, Signer, Verifier, generate_signer_key, open_checkpoint
from custodes.ledger.schemas import EntryDraft, EntryRejected, FaultKind, Op
from custodes.workforce.models import Staff
from tests.ledger.helpers import Log, draft, open_log, settings_for

FIELDS = {
    "v", "index", "at", "actor", "op", "object", "subjects", "justification", "recipients", "detail", "salt",
}  # fmt: skip
AT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
SALT = re.compile(r"[0-9a-f]{32}")
VERIFIER_KEY = re.compile(r"[^+\s]+\+[0-9a-f]{8}\+[A-Za-z0-9+/]+=*")


def as_json(body: bytes) -> Any:
    """Parse JSON as JCS does: every number is an IEEE double (big integers come from floats such as 1e16)."""
    return json.loads(body, parse_int=lambda digits: int(digits) if len(digits) < 16 else float(digits))


def commit(session: Session, *drafts: EntryDraft) -> None:
    ledger.record_many(session, drafts)
    session.commit()


def entries(session: Session) -> list[LedgerEntry]:
    return list(session.scalars(select(LedgerEntry).order_by(LedgerEntry.idx)))


# --------------------------------------------------------------------------- appending and the entry format


def test_appends_are_gap_free_from_zero(fresh_log: Log) -> None:
    with fresh_log.factory() as session:
        assert ledger.size(session) == 0
        for batch in (1, 3, 1, 16, 7, 40):
            commit(session, *(draft(i) for i in range(batch)))
        ledger.record(session, draft(99))
        ledger.record(session, draft(100))
        session.commit()
        session.commit()  # nothing pending: appends nothing
        stored = entries(session)
    assert [row.idx for row in stored] == list(range(70))
    assert [json.loads(row.body)["index"] for row in stored] == list(range(70))
    assert fresh_log.verify().intact


def test_entry_bytes_are_rfc8785_with_the_v1_fields(fresh_log: Log) -> None:
    drafts = [
        EntryDraft(
            "staff:S1", Op.COLLECTION, "staff", "S9", subjects=("S9",), detail={"fields": ["surname"]}
        ),
        EntryDraft(
            "staff:S2", Op.CONSULTATION, "nominal", "N1", subjects=("N1", "N2"), justification="case 24/1234"
        ),
        EntryDraft(
            "staff:S3",
            Op.DISCLOSURE,
            "disclosure",
            "D7",
            subjects=("N1",),
            justification="DPA s.35 request 17",
            recipients=("org:CPS", "org:HMRC"),
            detail={"items": 3, "sha256": "ab" * 32, "nested": {"ok": True, "none": None}},
        ),
        EntryDraft("system:importer", Op.ERASURE, "nominal", None, detail={"reason": "retention — ended"}),
    ]
    before = utcnow()
    with fresh_log.factory() as session:
        commit(session, *drafts)
        stored = entries(session)
    after = utcnow()
    salts = set()
    for index, (row, made) in enumerate(zip(stored, drafts, strict=True)):
        body = row.body
        assert body is not None
        assert rfc8785.dumps(json.loads(body)) == body  # exactly the canonical bytes
        assert b"\n" not in body
        content = json.loads(body)
        assert set(content) == FIELDS
        assert content["v"] == 1
        assert content["index"] == index == row.idx
        assert AT.fullmatch(content["at"])
        moment = datetime.strptime(content["at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        assert before <= moment <= after
        assert row.at == moment
        assert content["actor"] == made.actor == row.actor
        assert content["op"] == str(made.op) == row.op
        assert content["object"] == {"type": made.object_type, "id": made.object_id}
        assert content["subjects"] == list(made.subjects)
        assert content["justification"] == made.justification
        assert content["recipients"] == list(made.recipients)
        assert content["detail"] == made.detail
        assert SALT.fullmatch(content["salt"])
        salts.add(content["salt"])
        assert row.leaf_hash == hashlib.sha256(b"\x00" + body).digest() == merkle.leaf_hash(body)
    assert len(salts) == len(drafts)


def test_entry_bytes_from_the_template_are_rfc8785() -> None:
    """The append builds entry bytes from a fixed template; they must be what the generic encoder makes."""
    from custodes.ledger.service import _entry_bytes

    awkward = ['a"b', "back\\slash", "ctl\x01\x1f\x7f", "nl\n\t\r\b\f", "ünï✓", "😀", "\u2028", "", "</x>"]
    rng = random.Random(7)
    for n in range(1500):

        def word() -> str:
            return rng.choice(awkward) + str(rng.randrange(100))

        op = rng.choice(list(Op))
        made = EntryDraft(
            actor="staff:" + word(),
            op=op,
            object_type=word(),
            object_id=rng.choice([None, word()]),
            subjects=tuple(word() for _ in range(rng.randrange(4))),
            justification=word() if op in (Op.CONSULTATION, Op.DISCLOSURE) or n % 2 else None,
            recipients=tuple(word() for _ in range(rng.randrange(1, 3) if op == Op.DISCLOSURE else 2)),
            detail=rng.choice([{}, {"x": 1.5, "é": [word(), None, True, 2**50]}, {"a": word()}]),
        )
        at, salt = "2026-01-01T00:00:00.000001Z", f"{n:032x}"
        body, subjects = _entry_bytes(made, n * 977, at, salt)
        assert subjects == sorted(set(made.subjects))
        assert body == rfc8785.dumps(
            {
                "v": 1,
                "index": n * 977,
                "at": at,
                "actor": made.actor,
                "op": str(made.op),
                "object": {"type": made.object_type, "id": made.object_id},
                "subjects": subjects,
                "justification": made.justification,
                "recipients": list(made.recipients),
                "detail": made.detail,
                "salt": salt,
            }
        )


def test_subjects_are_indexed_for_lookup(fresh_log: Log) -> None:
    with fresh_log.factory() as session:
        commit(session, draft(0, subjects=("A", "B", "A")), draft(1, subjects=()), draft(2, subjects=("B",)))
        pairs = set(session.execute(select(LedgerSubject.subject_id, LedgerSubject.idx)))
    assert pairs == {("A", 0), ("B", 0), ("B", 2)}


_utf8 = st.characters(codec="utf-8")  # JSON text is UTF-8: no lone surrogates (refused, see below)
_safe_text = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=30)
_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(_utf8, max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(_utf8, max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    detail=st.dictionaries(st.text(_utf8, max_size=12), _json, max_size=5),
    subjects=st.lists(_safe_text.filter(bool), max_size=4),
    justification=_safe_text.filter(lambda value: bool(value.strip())),
    consultation=st.booleans(),
)
def test_any_entry_is_stored_as_its_canonical_bytes(
    db: Session, detail: dict[str, Any], subjects: list[str], justification: str, consultation: bool
) -> None:
    made = EntryDraft(
        "staff:H1",
        Op.CONSULTATION if consultation else Op.COMBINATION,
        "record",
        "R1",
        subjects=tuple(subjects),
        justification=justification,
        detail=detail,
    )
    index = ledger.size(db)
    commit(db, made)
    row = db.get(LedgerEntry, index)
    assert row is not None and row.body is not None
    assert rfc8785.dumps(as_json(row.body)) == row.body
    content = json.loads(row.body)
    assert content["index"] == index
    assert content["detail"] == json.loads(rfc8785.dumps(detail))
    assert content["subjects"] == sorted(set(subjects))  # a set, as the subject index holds it
    assert content["justification"] == justification
    assert row.leaf_hash == merkle.leaf_hash(row.body)


@pytest.mark.parametrize("op", [Op.CONSULTATION, Op.DISCLOSURE])
@pytest.mark.parametrize("justification", [None, "", "   \t"])
def test_consultation_and_disclosure_need_a_justification(op: Op, justification: str | None) -> None:
    with pytest.raises(EntryRejected, match="justification"):
        EntryDraft("staff:S1", op, "nominal", "N1", justification=justification, recipients=("org:CPS",))


def test_disclosure_needs_recipients_and_actors_are_qualified() -> None:
    with pytest.raises(EntryRejected, match="recipients"):
        EntryDraft("staff:S1", Op.DISCLOSURE, "nominal", "N1", justification="case 1")
    with pytest.raises(EntryRejected, match="actor"):
        EntryDraft("S1", Op.COLLECTION, "nominal", "N1")
    for op in set(Op) - {Op.CONSULTATION, Op.DISCLOSURE}:
        EntryDraft("system:test", op, "nominal", None)  # no justification needed


def test_searching_for_a_person_without_a_reason_is_refused(db: Session) -> None:
    before = ledger.size(db)
    with pytest.raises(ledger.LedgerError, match="reason"):
        ledger.record_search(db, "staff:S1", ledger.EntryFilter(subject="N1"), "  ")
    ledger.record_search(db, "staff:S1", ledger.EntryFilter(subject="N1"), "case 12")
    db.commit()
    found = ledger.search(db, ledger.EntryFilter(op="consultation", object_type="ledger_search"), limit=1)
    assert found[0].index == before and found[0].justification == "case 12"
    assert found[0].subjects == ["N1"]


# --------------------------------------------------------------------------- atomicity


def _staff(staff_id: str) -> Staff:
    now = utcnow()
    return Staff(staff_id=staff_id, surname="Vimes", forenames="Samuel", created_at=now, updated_at=now)


def _collected(staff_id: str) -> EntryDraft:
    return EntryDraft("system:test", Op.COLLECTION, "staff", staff_id, subjects=(staff_id,))


def test_a_change_and_its_entry_commit_together(fresh_log: Log) -> None:
    with fresh_log.factory() as session:
        session.add(_staff("S100"))
        ledger.record(session, _collected("S100"))
        session.commit()
    with fresh_log.factory() as session:
        assert session.get(Staff, "S100") is not None
        assert [(row.object_type, row.object_id) for row in entries(session)] == [("staff", "S100")]


def test_a_rolled_back_change_leaves_no_entry(fresh_log: Log) -> None:
    fresh_log.append(5)
    with fresh_log.factory() as session:
        session.add(_staff("S200"))
        ledger.record(session, _collected("S200"))
        session.flush()
        assert ledger.flush_pending(session) == 6  # both written, not committed
        assert session.get(Staff, "S200") is not None
        session.rollback()
    with pytest.raises(RuntimeError), transaction(fresh_log.factory) as session:
        session.add(_staff("S201"))
        ledger.record(session, _collected("S201"))
        raise RuntimeError("the business change failed")
    with fresh_log.factory() as session:
        assert session.scalar(select(func.count()).select_from(Staff)) == 0
        assert ledger.size(session) == 5
        assert all(row.object_type == "record" for row in entries(session))
    # The log carries on at the right index, and the rolled-back tree left nothing behind.
    assert fresh_log.append(3) == 8
    assert fresh_log.verify().intact


def test_a_failed_commit_leaves_no_entry(fresh_log: Log) -> None:
    with fresh_log.factory() as session:
        session.add(_staff("S300"))
        ledger.record(session, _collected("S300"))
        session.commit()
    with fresh_log.factory() as session:
        session.add(_staff("S300"))  # duplicate key: the flush at commit fails (before the append)
        ledger.record(session, _collected("S300"))
        with pytest.raises(DBAPIError):
            session.commit()
        session.rollback()
    with fresh_log.factory() as session:
        assert ledger.size(session) == 1
    assert fresh_log.append(20) == 21
    assert fresh_log.verify().intact


def test_several_flushes_in_one_transaction(fresh_log: Log) -> None:
    fresh_log.append(14)
    with fresh_log.factory() as session:
        for batch in (1, 1, 5, 30):
            ledger.record_many(session, [draft(i) for i in range(batch)])
            ledger.flush_pending(session)
        ledger.record(session, draft(0))
        session.commit()
    ledger._frontier_cache.clear()
    assert fresh_log.append(1) == 53
    report = fresh_log.verify()
    assert report.intact and report.size == 53


# --------------------------------------------------------------------------- the stored tree and proofs

BATCHES = (1, 1, 2, 5, 8, 16, 17, 31, 64, 3, 100, 52)  # 300 entries


@pytest.fixture(scope="module")
def built(
    backend: str, new_database: Callable[[str], str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Log, merkle.MemoryTree, list[bytes]]]:
    """300 entries in commits of varying size, some after dropping the frontier cache; checkpoints."""
    log = open_log(backend, new_database(backend), tmp_path_factory.mktemp("home"))
    for number, batch in enumerate(BATCHES):
        if number % 3 == 1:
            ledger._frontier_cache.clear()  # the next append rebuilds the right edge from stored nodes
        log.append(batch)
        if number % 4 == 3:
            log.checkpoint()
    log.checkpoint()
    lines = log.lines()
    assert len(lines) == sum(BATCHES) == 300
    yield log, merkle.MemoryTree(merkle.leaf_hash(line) for line in lines), lines
    log.close()


def test_built_log_verifies(built: tuple[Log, merkle.MemoryTree, list[bytes]]) -> None:
    log, tree, _ = built
    report = log.verify()
    assert report.intact, report.fault
    assert report.size == 300 and report.root == tree.root()
    assert report.checkpoints == 4


def test_stored_interior_nodes_match_the_tree(built: tuple[Log, merkle.MemoryTree, list[bytes]]) -> None:
    log, tree, _ = built
    with log.factory() as session:
        nodes = list(session.execute(select(LedgerNode.level, LedgerNode.idx, LedgerNode.hash)))
    assert {(level, idx) for level, idx, _ in nodes} == {
        (level, idx) for level in (4, 8) for idx in range(300 >> level)
    }
    for level, idx, digest in nodes:
        assert digest == tree.get(level, idx)


def test_root_at_every_size(built: tuple[Log, merkle.MemoryTree, list[bytes]]) -> None:
    log, tree, _ = built
    with log.factory() as session:
        for size in range(301):
            assert ledger.root_at(session, size) == tree.root(size), size
        with pytest.raises(ledger.LedgerError):
            ledger.root_at(session, 301)
    assert tree.root(0) == merkle.EMPTY_ROOT


def test_every_inclusion_proof_verifies(built: tuple[Log, merkle.MemoryTree, list[bytes]]) -> None:
    log, tree, _ = built
    with log.factory() as session:
        root = ledger.root_at(session, 300)
        for index in range(300):
            proof = ledger.prove_inclusion(session, index)
            path = [bytes.fromhex(node) for node in proof["inclusion_path"]]
            assert proof["leaf_index"] == index and proof["tree_size"] == 300
            assert bytes.fromhex(proof["leaf_hash"]) == tree.leaf(index)
            assert bytes.fromhex(proof["root_hash"]) == root
            assert path == tree.inclusion_proof(index)
            assert merkle.verify_inclusion(tree.leaf(index), index, 300, path, root)


@hypothesis_settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_inclusion_proofs_at_any_size(
    built: tuple[Log, merkle.MemoryTree, list[bytes]], data: st.DataObject
) -> None:
    log, tree, _ = built
    size = data.draw(st.integers(1, 300), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    with log.factory() as session:
        proof = ledger.prove_inclusion(session, index, size)
        root = ledger.root_at(session, size)
    path = [bytes.fromhex(node) for node in proof["inclusion_path"]]
    assert path == tree.inclusion_proof(index, size)
    assert bytes.fromhex(proof["root_hash"]) == root == tree.root(size)
    assert merkle.verify_inclusion(tree.leaf(index), index, size, path, root)
    if size > 1:  # the proof does not verify for another leaf
        other = (index + 1) % size
        assert not merkle.verify_inclusion(tree.leaf(other), index, size, path, root)


@hypothesis_settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_consistency_proofs_between_any_sizes(
    built: tuple[Log, merkle.MemoryTree, list[bytes]], data: st.DataObject
) -> None:
    log, tree, _ = built
    new = data.draw(st.integers(0, 300), label="new")
    old = data.draw(st.integers(0, new), label="old")
    with log.factory() as session:
        proof = ledger.prove_consistency(session, old, new)
    assert (proof["old_size"], proof["new_size"]) == (old, new)
    assert bytes.fromhex(proof["old_root"]) == tree.root(old)
    assert bytes.fromhex(proof["new_root"]) == tree.root(new)
    path = [bytes.fromhex(node) for node in proof["consistency_path"]]
    if 0 < old < new:
        assert path == tree.consistency_proof(old, new)
    else:
        assert path == []
    assert merkle.verify_consistency(old, new, path, tree.root(old), tree.root(new))


def test_proof_requests_outside_the_log_are_refused(
    built: tuple[Log, merkle.MemoryTree, list[bytes]],
) -> None:
    log, _, _ = built
    with log.factory() as session:
        for index, size in ((300, None), (-1, None), (5, 5), (0, 301), (0, 0)):
            with pytest.raises(ledger.LedgerError):
                ledger.prove_inclusion(session, index, size)
        for old, new in ((301, None), (10, 9), (-1, 5), (0, 301)):
            with pytest.raises(ledger.LedgerError):
                ledger.prove_consistency(session, old, new)
        assert ledger.prove_consistency(session, 300)["consistency_path"] == []


@hypothesis_settings(max_examples=60, deadline=None)
@given(start=st.integers(0, 320), end=st.none() | st.integers(0, 320))
def test_export_ranges(
    built: tuple[Log, merkle.MemoryTree, list[bytes]], start: int, end: int | None
) -> None:
    log, _, lines = built
    assert log.lines(start, end) == lines[start:end]


def test_export_is_one_canonical_entry_per_index(built: tuple[Log, merkle.MemoryTree, list[bytes]]) -> None:
    _, _, lines = built
    assert [json.loads(line)["index"] for line in lines] == list(range(300))
    assert all(b"\n" not in line and rfc8785.dumps(json.loads(line)) == line for line in lines)


def test_stored_checkpoints_are_signed_tree_heads(built: tuple[Log, merkle.MemoryTree, list[bytes]]) -> None:
    log, tree, _ = built
    verifier = Verifier(ledger.verifier_key(log.settings))
    with log.factory() as session:
        rows = list(session.scalars(select(LedgerCheckpoint).order_by(LedgerCheckpoint.seq)))
    sizes = [sum(BATCHES[: number + 1]) for number in range(len(BATCHES)) if number % 4 == 3]
    assert [row.size for row in rows] == [*sizes, 300] == [9, 81, 300, 300]
    for row in rows:
        opened = open_checkpoint(row.note, verifier, origin=log.settings.ledger_origin)
        assert (opened.size, opened.root) == (row.size, row.root) == (row.size, tree.root(row.size))
    assert log.settings.witness_file.read_text() == rows[-1].note


def test_verify_offline_accepts_the_export(built: tuple[Log, merkle.MemoryTree, list[bytes]]) -> None:
    log, tree, lines = built
    with log.factory() as session:
        latest = ledger.latest_checkpoint(session)
    assert latest is not None
    report = ledger.verify_offline(
        [line + b"\n" for line in lines], latest.note, ledger.verifier_key(log.settings)
    )
    assert report.intact and report.size == 300 and report.root == tree.root()


def test_verify_offline_names_lines_past_the_checkpoint(
    built: tuple[Log, merkle.MemoryTree, list[bytes]],
) -> None:
    """Lines beyond the checkpoint's size are proven by nothing: a fault naming the first (they were
    dropped unread, and the export reported intact)."""
    log, tree, lines = built
    with log.factory() as session:
        latest = ledger.latest_checkpoint(session)
    assert latest is not None and latest.size == 300
    extra = [b'{"forged":"anything at all, not in any tree"}', b"garbage", b""]
    report = ledger.verify_offline(
        [line + b"\n" for line in [*lines, *extra]], latest.note, ledger.verifier_key(log.settings)
    )
    assert not report.intact and report.fault is not None
    assert (report.fault.kind, report.fault.index) == (FaultKind.EXTRA_LEAF, 300)
    assert report.fault.message.startswith(
        "2 line(s) beyond the checkpoint's size 300 are not covered by it, from line 301 (entry 300) on"
    )
    assert report.size == 300 and report.root == tree.root()


@pytest.mark.parametrize(
    "redaction",
    [
        b'{"redacted":"abcd"}',
        b'{"redacted":"' + b"ab" * 33 + b'"}',
        b'{"redacted":"zz"}',
        b'{"redacted":7}',
        b'{"redacted":"' + b"ab" * 32 + b'","x":1}',
    ],
    ids=["short", "long", "not-hex", "not-text", "extra-key"],
)
def test_verify_offline_names_a_malformed_redaction_line(
    built: tuple[Log, merkle.MemoryTree, list[bytes]], redaction: bytes
) -> None:
    """A redaction line whose leaf hash is not 32 bytes was silently taken as 32 zero bytes, so the fault
    named the checkpoint, not the line."""
    log, _tree, lines = built
    with log.factory() as session:
        latest = ledger.latest_checkpoint(session)
    assert latest is not None
    altered = [*lines[:3], redaction, *lines[4:]]
    report = ledger.verify_offline(altered, latest.note, ledger.verifier_key(log.settings))
    assert report.fault is not None
    assert (report.fault.kind, report.fault.index) == (FaultKind.LEAF_ALTERED, 3)
    assert report.fault.message.startswith("line 4 is not a valid redaction")


# --------------------------------------------------------------------------- checkpoints


def test_issue_checkpoint_signs_the_current_head(fresh_log: Log) -> None:
    settings = fresh_log.settings
    key = ledger.verifier_key(settings)
    assert VERIFIER_KEY.fullmatch(key)
    name, key_hex, _ = key.split("+", 2)  # base64 may itself hold "+"
    assert name == settings.ledger_origin
    fresh_log.append(5)
    with fresh_log.factory() as session:
        assert ledger.latest_checkpoint(session) is None
        ledger.record(session, draft(5))  # pending entries are appended before signing
        issued = ledger.issue_checkpoint(session, settings)
        assert issued is not None and issued.size == 6
        assert not settings.witness_file.exists()  # written only once the checkpoint commits
        session.commit()
        text_lines = issued.note.split("\n")
        assert text_lines[:3] == [settings.ledger_origin, "6", merkle_b64(ledger.root_at(session, 6))]
        assert text_lines[3] == ""
        assert text_lines[4].startswith(f"— {settings.ledger_origin} ")
        opened = open_checkpoint(issued.note, Verifier(key), origin=settings.ledger_origin)
        assert (opened.size, opened.root) == (6, ledger.root_at(session, 6)) == (6, issued.root)
        assert ledger.issue_checkpoint(session, settings) is None  # not grown
        again = ledger.issue_checkpoint(session, settings, only_if_grown=False)
        assert again is not None and again.seq == issued.seq + 1 and again.size == 6
        session.commit()
        latest = ledger.latest_checkpoint(session)
        assert latest is not None and latest.seq == again.seq
    assert settings.witness_file.read_text() == again.note
    other = Verifier(Signer(generate_signer_key(settings.ledger_origin)).verifier_key())
    with pytest.raises(NoteError):
        open_checkpoint(issued.note, other)
    assert int(key_hex, 16) == Verifier(key).key_id


def merkle_b64(root: bytes) -> str:
    import base64

    return base64.b64encode(root).decode()


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620, 0o602, 0o660, 0o644])
def test_a_signing_key_open_to_other_users_is_refused(tmp_path: Path, mode: int) -> None:
    """Whoever can read the key can sign checkpoints for a rewritten log: a key file other users may read
    or change is refused, saying how to put it right."""
    settings = settings_for(tmp_path / "home", "sqlite://")
    path = settings.resolved_signing_key_file
    assert path.stat().st_mode & 0o777 == 0o600  # as ensure_signing_key writes it
    assert ledger.load_signer(settings).verifier_key()
    path.chmod(mode)
    with pytest.raises(ledger.LedgerError) as refused:
        ledger.load_signer(settings)
    assert str(refused.value) == (
        f"the ledger signing key {path} is open to other users (permissions {mode:o}): only its owner may "
        f"read it; run `chmod 600 {path}`"
    )
    path.chmod(0o400)
    assert ledger.load_signer(settings).verifier_key()


def test_a_new_signing_key_is_fsynced_with_its_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(handle: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{handle}"))
        real_fsync(handle)

    monkeypatch.setattr(os, "fsync", fsync)
    settings = settings_for(tmp_path / "home", "sqlite://")
    key = settings.resolved_signing_key_file
    assert synced == [str(key), str(key.parent)]


def test_a_rolled_back_checkpoint_is_not_kept(fresh_log: Log) -> None:
    fresh_log.append(3)
    with fresh_log.factory() as session:
        assert ledger.issue_checkpoint(session, fresh_log.settings) is not None
        session.rollback()
        assert ledger.latest_checkpoint(session) is None
    assert not fresh_log.settings.witness_file.exists()


def test_checkpoint_of_the_empty_log(fresh_log: Log) -> None:
    assert fresh_log.checkpoint() == 0
    report = fresh_log.verify()
    assert report.intact and report.size == 0 and report.root == merkle.EMPTY_ROOT


# --------------------------------------------------------------------------- redaction


def test_redaction_keeps_the_tree_and_records_an_erasure(fresh_log: Log) -> None:
    fresh_log.append(40)
    fresh_log.checkpoint()
    before = fresh_log.lines()
    with fresh_log.factory() as session:
        leaf = session.get(LedgerEntry, 7).leaf_hash  # type: ignore[union-attr]
        assert session.scalar(select(func.count()).select_from(LedgerSubject).where(LedgerSubject.idx == 7))
        ledger.redact(session, 7, "end of retention", "system:retention")
        session.commit()
        ledger.redact(session, 7, "again", "system:retention")  # already redacted: nothing happens
        session.commit()
        row = session.get(LedgerEntry, 7)
        assert row is not None and row.body is None and row.object_id is None and row.redacted_at is not None
        assert row.leaf_hash == leaf
        assert (
            session.scalar(select(func.count()).select_from(LedgerSubject).where(LedgerSubject.idx == 7)) == 0
        )
        assert session.get(LedgerRedaction, 7) is not None
        assert ledger.size(session) == 41
        with pytest.raises(ledger.LedgerError):
            ledger.redact(session, 999, "no such entry", "system:retention")
        proof = ledger.prove_inclusion(session, 7)
    after = fresh_log.lines()
    assert after[7] == b'{"redacted":"' + leaf.hex().encode() + b'"}'
    assert json.loads(after[7]) == {"redacted": leaf.hex()}
    assert after[:7] == before[:7] and after[8:40] == before[8:40]
    erasure = json.loads(after[40])
    assert erasure["op"] == "erasure" and erasure["actor"] == "system:retention"
    assert erasure["object"] == {"type": "ledger_entry", "id": "7"}
    assert erasure["detail"] == {"reason": "end of retention"}
    assert proof["leaf_hash"] == leaf.hex()
    report = fresh_log.verify()
    assert report.intact, report.fault
    assert report.redacted == 1 and report.size == 41
    fresh_log.checkpoint()
    with fresh_log.factory() as session:
        latest = ledger.latest_checkpoint(session)
    assert latest is not None
    offline = ledger.verify_offline(after, latest.note, ledger.verifier_key(fresh_log.settings))
    assert offline.intact and offline.redacted == 1 and offline.size == 41


# --------------------------------------------------------------------------- the append-only triggers

_COLUMN = {
    "ledger_entry": "actor",
    "ledger_subject": "subject_id",
    "ledger_node": "hash",
    "ledger_checkpoint": "note",
    "ledger_redaction": "reason",
}


def _refused(log: Log, statement: str, params: dict[str, object] | None = None) -> None:
    with pytest.raises(DBAPIError, match="append-only"), log.engine.begin() as connection:
        connection.execute(text(statement), params or {})


def _counts(log: Log) -> dict[str, int]:
    with log.engine.connect() as connection:
        return {
            table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in APPEND_ONLY_TABLES
        }


@pytest.fixture
def guarded(fresh_log: Log) -> Log:
    """A log with a row in every ledger table: entries, subjects, nodes, a checkpoint and a redaction."""
    fresh_log.append(40)
    with fresh_log.factory() as session:
        ledger.redact(session, 3, "end of retention", "system:retention")
        session.commit()
    fresh_log.checkpoint()
    counts = _counts(fresh_log)
    assert all(counts.values()), counts
    return fresh_log


def test_triggers_refuse_update_and_delete_on_every_ledger_table(guarded: Log) -> None:
    before = _counts(guarded)
    for table in APPEND_ONLY_TABLES:
        column = _COLUMN[table]
        _refused(guarded, f"UPDATE {table} SET {column} = {column}")
        _refused(guarded, f"DELETE FROM {table}")
    assert _counts(guarded) == before
    assert guarded.verify().intact


_KEYS = {
    "ledger_entry": "idx",
    "ledger_subject": "idx, subject_id",
    "ledger_node": "level, idx",
    "ledger_checkpoint": "seq",
    "ledger_redaction": "idx",
}


def test_insert_or_replace_cannot_replace_a_ledger_row(guarded: Log) -> None:
    """SQLite's INSERT OR REPLACE removed the clashing row without firing its DELETE trigger, so a row of
    any ledger table could be swapped for another (the actor of an entry, a checkpoint's note)."""
    if guarded.backend != "sqlite":
        pytest.skip("SQLite's REPLACE (PostgreSQL's ON CONFLICT DO UPDATE fires the UPDATE trigger)")
    before = _counts(guarded)
    for table in APPEND_ONLY_TABLES:
        column = _COLUMN[table]
        with guarded.engine.connect() as connection:
            names = [row[1] for row in connection.exec_driver_sql(f"PRAGMA table_info({table})")]
        keys = _KEYS[table].split(", ")
        # the same key with another value (ledger_subject has only its key: the same row again)
        values = ", ".join(f"'x{column}'" if name == column not in keys else name for name in names)
        replace = f"INSERT OR REPLACE INTO {table} ({', '.join(names)}) SELECT {values} FROM {table}"
        _refused(guarded, replace + f" WHERE ({_KEYS[table]}) = (SELECT {_KEYS[table]} FROM {table} LIMIT 1)")
        _refused(guarded, f"REPLACE INTO {table} ({', '.join(names)}) SELECT {values} FROM {table} LIMIT 1")
    # The checkpoints and redactions refuse it on any connection, not only the application's own.
    raw = sqlite3.connect(guarded.url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        assert raw.execute("PRAGMA recursive_triggers").fetchone() == (0,)
        for table in NO_REPLACE_KEYS:
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                raw.execute(f"INSERT OR REPLACE INTO {table} SELECT * FROM {table} LIMIT 1")
    finally:
        raw.close()
    assert _counts(guarded) == before
    assert guarded.verify().intact


def test_triggers_refuse_every_other_change_to_an_entry(guarded: Log) -> None:
    forged = b'{"forged":true}'
    _refused(guarded, "UPDATE ledger_entry SET body = :b WHERE idx = 5", {"b": forged})
    _refused(guarded, "UPDATE ledger_entry SET leaf_hash = :h WHERE idx = 5", {"h": b"\x00" * 32})
    _refused(guarded, "UPDATE ledger_entry SET idx = 1000 WHERE idx = 39")
    _refused(guarded, "UPDATE ledger_entry SET at = :t WHERE idx = 5", {"t": "2001-01-01 00:00:00.000000"})
    # Clearing the bytes needs a redaction record for that entry.
    _refused(guarded, "UPDATE ledger_entry SET body = NULL, redacted_at = :t WHERE idx = 5", {"t": utcnow()})
    # A redacted entry cannot get bytes back, nor be changed any other way.
    _refused(guarded, "UPDATE ledger_entry SET body = :b WHERE idx = 3", {"b": forged})
    _refused(guarded, "UPDATE ledger_entry SET actor = 'staff:X' WHERE idx = 3")
    # A redaction cannot also change the leaf hash or the actor.
    with guarded.engine.begin() as connection:
        connection.execute(
            text("INSERT INTO ledger_redaction (idx, redacted_at, reason) VALUES (9, :t, 'test')"),
            {"t": utcnow()},
        )
    _refused(
        guarded,
        "UPDATE ledger_entry SET body = NULL, redacted_at = :t, leaf_hash = :h WHERE idx = 9",
        {"t": utcnow(), "h": b"\x00" * 32},
    )
    _refused(
        guarded,
        "UPDATE ledger_entry SET body = NULL, redacted_at = :t, actor = 'staff:X' WHERE idx = 9",
        {"t": utcnow()},
    )
    # Nor point the entry at another object: the object id can only be cleared with the bytes.
    _refused(
        guarded,
        "UPDATE ledger_entry SET body = NULL, redacted_at = :t, object_id = 'N-OTHER' WHERE idx = 9",
        {"t": utcnow()},
    )
    # Subjects of an entry that is not redacted stay.
    _refused(guarded, "DELETE FROM ledger_subject WHERE idx = 5")
    assert guarded.verify().intact  # nothing got through


def test_the_one_allowed_update_is_a_redaction(guarded: Log) -> None:
    with guarded.engine.begin() as connection:
        connection.execute(
            text("INSERT INTO ledger_redaction (idx, redacted_at, reason) VALUES (11, :t, 'retention')"),
            {"t": utcnow()},
        )
        connection.execute(
            text("UPDATE ledger_entry SET body = NULL, object_id = NULL, redacted_at = :t WHERE idx = 11"),
            {"t": utcnow()},
        )
        connection.execute(text("DELETE FROM ledger_subject WHERE idx = 11"))
    # The database allowed it, but the ledger does not record it: verify names the entry.
    unrecorded = guarded.verify()
    assert unrecorded.fault is not None and unrecorded.fault.kind == FaultKind.LEAF_ALTERED
    assert unrecorded.fault.index == 11 and "no erasure entry" in unrecorded.fault.message
    with guarded.factory() as session:
        ledger.record(
            session,
            EntryDraft("system:retention", Op.ERASURE, "ledger_entry", "11", detail={"reason": "retention"}),
        )
        session.commit()
    report = guarded.verify()
    assert report.intact, report.fault
    assert report.redacted == 2


@pytest.mark.parametrize("table", ["ledger_entry", "ledger_subject", "ledger_redaction"])
def test_a_row_at_a_negative_index_is_found(guarded: Log, table: str) -> None:
    """Outside the tree, so no hash covers it; searches would still show it."""
    rows = {
        "ledger_entry": "INSERT INTO ledger_entry (idx, at, actor, op, object_type, object_id, body, "
        "leaf_hash) VALUES (-1, :t, 'staff:FORGER', 'consultation', 'nominal', 'N1', :b, :h)",
        "ledger_subject": "INSERT INTO ledger_subject (idx, subject_id) VALUES (-1, 'N1')",
        "ledger_redaction": "INSERT INTO ledger_redaction (idx, redacted_at, reason) "
        "VALUES (-1, :t, 'forged')",
    }
    params = {"t": utcnow(), "b": b"{}", "h": b"\x00" * 32}
    if guarded.backend == "sqlite":  # a connection of its own: SQLite checks foreign keys only when asked
        raw = sqlite3.connect(guarded.url.removeprefix("sqlite:///"))
        raw.execute(rows[table].replace(":t", "?").replace(":b", "?").replace(":h", "?"),
                    [params[k] for k in ("t", "b", "h") if f":{k}" in rows[table]])  # fmt: skip
        raw.commit()
        raw.close()
    else:
        with guarded.engine.begin() as connection:
            connection.execute(text("SET LOCAL session_replication_role = replica"))  # no foreign keys
            connection.execute(text(rows[table]), params)
    report = guarded.verify()
    assert report.fault is not None and report.fault.kind == FaultKind.EXTRA_LEAF and report.fault.index == -1


def test_postgresql_refuses_truncate(guarded: Log) -> None:
    if guarded.backend != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's")
    before = _counts(guarded)
    for table in APPEND_ONLY_TABLES:
        _refused(guarded, f"TRUNCATE {table} CASCADE")
    assert _counts(guarded) == before


def test_a_fresh_database_has_the_guards(fresh_log: Log) -> None:
    with fresh_log.engine.connect() as connection:
        if fresh_log.backend == "sqlite":
            names = set(
                connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars()
            )
            expected = {f"{t}_no_{op}" for t in APPEND_ONLY_TABLES for op in ("update", "delete")}
            expected |= {f"{t}_no_replace" for t in NO_REPLACE_KEYS}
        else:
            names = set(
                connection.execute(
                    text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled = 'O'")
                ).scalars()
            )
            expected = {f"{t}_{kind}" for t in APPEND_ONLY_TABLES for kind in ("append_only", "no_truncate")}
    assert expected <= names


def test_text_that_is_not_utf8_is_refused_and_nothing_is_stored(db: Session) -> None:
    index = ledger.size(db)
    ledger.record(db, EntryDraft("staff:H1", Op.COMBINATION, "record", "R1", detail={"note": "\ud800"}))
    with pytest.raises(EntryRejected, match="not valid text"):
        db.commit()
    db.rollback()
    assert ledger.size(db) == index


def test_an_installation_signs_checkpoints_as_it_appends(
    backend: str, new_database: Callable[[str], str], tmp_path: Path
) -> None:
    """Sessions of an installation (custodes.database.Database) checkpoint in the append's own transaction
    once `checkpoint_every_entries` entries or `checkpoint_every_seconds` have passed."""
    from custodes.database import SETTINGS_KEY
    from custodes.kit.db import make_engine, make_session_factory, transaction
    from custodes.ledger.models import LedgerCheckpoint
    from tests.ledger.helpers import draft, settings_for

    url = new_database(backend)
    settings = settings_for(tmp_path / "home", url).model_copy(
        update={"checkpoint_every_entries": 10, "checkpoint_every_seconds": 3600.0}
    )
    engine = make_engine(url)
    factory = make_session_factory(engine, {SETTINGS_KEY: settings})
    sizes = []
    # 4: the first append signs (no checkpoint yet); 8 and 12: fewer than 10 since it; 37: 33 since it.
    for count in (4, 4, 4, 25):
        with transaction(factory) as session:
            ledger.record_many(session, [draft(i) for i in range(count)])
        with transaction(factory) as session:
            sizes = list(session.scalars(select(LedgerCheckpoint.size).order_by(LedgerCheckpoint.seq)))
    assert sizes == [4, 37]
    assert settings.witness_file.read_text().split("\n")[1] == "37"
    with transaction(factory) as session:
        assert ledger.verify(session, settings).intact
    engine.dispose()


def test_entries_since_and_their_subjects(fresh_log: Log) -> None:
    """What a cache kept in step with the ledger reads (the pre-access gate's index)."""
    with fresh_log.factory() as session:
        assert ledger.entries_since(session, 0) == (0, [])
        commit(session, draft(0), draft(1, subjects=("P1", "P2")), draft(2, subjects=("P3",)))
        later = EntryDraft(actor="system:test", op=Op.ALTERATION, object_type="staff", object_id="S1")
        commit(session, later)
        assert ledger.entries_since(session, 1) == (
            4,
            [(1, "record", "R1"), (2, "record", "R2"), (3, "staff", "S1")],
        )
        assert ledger.entries_since(session, 1, {"staff"}) == (4, [(3, "staff", "S1")])
        assert ledger.entries_since(session, 4) == (4, [])
        assert sorted(ledger.entry_subjects(session, [1, 2])) == ["P1", "P2", "P3"]
        assert ledger.entry_subjects(session, []) == []
