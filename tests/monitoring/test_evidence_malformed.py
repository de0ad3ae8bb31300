"""`custodes monitor verify-pack` on a pack whose files are malformed: every problem named (file, proof,
field), exit 1, no traceback (monitoring.evidence.verify_pack)."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session
from typer.testing import CliRunner

from custodes.cli import app
from custodes.identity import service as identity
from custodes.imports import load_records
from custodes.ledger import service as ledger
from custodes.monitoring import casework, evidence
from custodes.monitoring import service as monitoring
from custodes.settings import Settings
from tests.monitoring.world import ACTOR, event, ingest, load_world

Change = Callable[[dict[str, Any]], object]


def _set(path: tuple[Any, ...], value: Any) -> Change:
    def change(proofs: dict[str, Any]) -> None:
        target: Any = proofs
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return change


def _drop(path: tuple[Any, ...]) -> Change:
    def change(proofs: dict[str, Any]) -> None:
        target: Any = proofs
        for step in path[:-1]:
            target = target[step]
        del target[path[-1]]

    return change


# (what is done to proofs.json, or to the raw files; the problem named)
PROOF_CHANGES: list[tuple[Change, str]] = [
    (_drop(("entries", 0, "inclusion_path")), "proofs.json entries, proof 1: inclusion_path: missing"),
    (
        _set(("entries", 1, "leaf_index"), "x"),
        "proofs.json entries, proof 2: leaf_index: should be a whole number",
    ),
    (
        _set(("entries", 0, "inclusion_path"), ["zz"]),
        "proofs.json entries, proof 1: inclusion_path: should be a list of SHA-256 hashes in hex",
    ),
    (_set(("entries", 0), "text"), "proofs.json entries, proof 1: not a JSON object"),
    (_drop(("accesses", 0, "leaf")), "access e1 (proofs.json accesses, proof 1): leaf: missing"),
    (
        _set(("accesses", 0, "leaf"), "{not json"),
        "access e1 (proofs.json accesses, proof 1): leaf: not a JSON object",
    ),
    (
        _set(("accesses", 1, "batch_proof"), ["not hex"]),
        "access e2 (proofs.json accesses, proof 2): batch_proof: should be a list of SHA-256 hashes in hex",
    ),
    (
        _set(("accesses", 1, "leaf_index"), "0"),
        "access e2 (proofs.json accesses, proof 2): leaf_index: should be a whole number",
    ),
    (
        _set(("accesses", 0, "event"), "e1"),
        "access ? (proofs.json accesses, proof 1): event: should be a JSON object",
    ),
    (_set(("accesses", 1), 7), "proofs.json accesses, proof 2: not a JSON object"),
    (_set(("accesses",), {"e1": 1}), "proofs.json: accesses: should be a list"),
    (_drop(("entries",)), "proofs.json: entries: missing"),
]
RAW_CHANGES: list[tuple[dict[str, bytes], str]] = [
    (
        {"proofs.json": b'{"entries": ['},
        "proofs.json: not JSON (Expecting value: line 1 column 14 (char 13))",
    ),
    ({"proofs.json": b"[1, 2]"}, "proofs.json: should be a JSON object holding entries and accesses"),
    ({"checkpoint.txt": b"\xff\xfe"}, "checkpoint.txt: not UTF-8 text"),
]


def _pack(db: Session, settings: Settings, tmp_path: Path) -> bytes:
    load_world(db)
    load_records(
        db, "staff", [{"staff_id": "CCU9", "surname": "Khan", "forenames": "Nadia", "role": "ccu"}], ACTOR
    )
    folder = tmp_path / "in"
    folder.mkdir()
    ingest(db, settings, folder, [event("e1", "N-NB"), event("e2", "N-NB", day=2)])
    summary = monitoring.run(db, settings, ACTOR)
    db.commit()
    (alert,) = [a for a in summary.alerts if a.subject_id == "N-NB"]
    unit = identity.principal_for(db, "CCU9")
    assert unit is not None
    investigation_id = casework.open_investigation(db, [alert.alert_id], unit, reason="For a hearing")
    db.commit()
    _name, content = evidence.build_pack(db, settings, investigation_id, unit, lambda _context: "<p>r</p>")
    db.commit()
    return content


def _rezip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_malformed_pack_is_refused_naming_each_problem_without_a_traceback(
    db: Session, settings: Settings, tmp_path: Path
) -> None:
    content = _pack(db, settings, tmp_path)
    key = ledger.verifier_key(settings)
    archive = zipfile.ZipFile(io.BytesIO(content))
    files = {name: archive.read(name) for name in archive.namelist()}
    proofs = json.loads(files["proofs.json"])
    assert len(proofs["entries"]) >= 2 and len(proofs["accesses"]) == 2
    cases = [(_with(files, proofs, change), problem) for change, problem in PROOF_CHANGES]
    cases += [(_rezip({**files, **raw}), problem) for raw, problem in RAW_CHANGES]
    path = tmp_path / "pack.zip"
    for number, (pack, problem) in enumerate(cases):
        path.write_bytes(pack)
        result = CliRunner().invoke(app, ["monitor", "verify-pack", str(path), "--public-key", key])
        assert result.exit_code == 1, (number, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            number,
            result.exception,
        )
        assert "Traceback" not in result.output
        assert problem in result.output.splitlines(), (number, result.output)


def _with(files: dict[str, bytes], proofs: dict[str, Any], change: Change) -> bytes:
    altered = json.loads(json.dumps(proofs))
    change(altered)
    return _rezip({**files, "proofs.json": json.dumps(altered).encode()})


def test_several_malformed_proofs_are_each_named(db: Session, settings: Settings, tmp_path: Path) -> None:
    content = _pack(db, settings, tmp_path)
    archive = zipfile.ZipFile(io.BytesIO(content))
    files = {name: archive.read(name) for name in archive.namelist()}
    proofs = json.loads(files["proofs.json"])
    del proofs["entries"][0]["tree_size"]
    del proofs["accesses"][0]["checkpoint"]
    proofs["accesses"][1]["entry_index"] = None
    problems = evidence.verify_pack(
        _rezip({**files, "proofs.json": json.dumps(proofs).encode()}), ledger.verifier_key(settings)
    )
    assert problems == [
        "proofs.json entries, proof 1: tree_size: missing",
        "access e1 (proofs.json accesses, proof 1): checkpoint: missing",
        "access e2 (proofs.json accesses, proof 2): entry_index: should be a whole number",
    ]
