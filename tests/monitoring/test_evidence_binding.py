"""An evidence pack proves what it shows: each access's proof binds every field shown to the hashed leaf, the
report's access table is the proven access (differences from the alert's copy flagged), and an event id
stored twice (on two days) is proven as the copy the alert holds (monitoring.service, evidence)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from custodes.cli import app
from custodes.identity import service as identity
from custodes.identity.schemas import Principal
from custodes.imports import load_records
from custodes.kit.timefmt import rfc3339
from custodes.ledger import service as ledger
from custodes.monitoring import casework, evidence
from custodes.monitoring import service as monitoring
from custodes.monitoring.models import AlertEvent
from custodes.monitoring.schemas import EVENT_COLUMNS
from custodes.settings import Settings
from tests.monitoring.world import ACTOR, event, ingest, load_world

# A value each field of the first access (S1 viewing N-NB on PNC) does not hold.
OTHER_VALUES = {
    "event_id": "e9",
    "occurred_at": "2026-10-20T03:00:00.000000Z",
    "system": "Niche RMS",
    "staff_id": "S3",
    "action": "export",
    "record_type": "vehicle",
    "record_id": "N-PUB",
    "subject_id": "N-PUB",
    "query_text": "grant",
    "case_ref": "C-1",
    "device_id": "D9",
}


def _unit(db: Session) -> Principal:
    load_records(
        db, "staff", [{"staff_id": "CCU9", "surname": "Khan", "forenames": "Nadia", "role": "ccu"}], ACTOR
    )
    found = identity.principal_for(db, "CCU9")
    assert found is not None
    return found


def _investigated(db: Session, settings: Settings, folders: list[tuple[Path, list[dict[str, str]]]]) -> int:
    """The world, these ingests, a detector run, and an investigation of S1's alert about N-NB."""
    load_world(db)
    unit = _unit(db)
    for folder, rows in folders:
        folder.mkdir()
        ingest(db, settings, folder, rows)
    summary = monitoring.run(db, settings, ACTOR)
    db.commit()
    (alert,) = [a for a in summary.alerts if a.subject_id == "N-NB"]
    investigation_id = casework.open_investigation(db, [alert.alert_id], unit, reason="For a hearing")
    db.commit()
    return investigation_id


def _pack(db: Session, settings: Settings, investigation_id: int) -> tuple[bytes, dict[str, Any]]:
    contexts: list[dict[str, Any]] = []

    def report(context: dict[str, Any]) -> str:
        contexts.append(context)
        return "<p>r</p>"

    unit = identity.principal_for(db, "CCU9")
    assert unit is not None
    _name, content = evidence.build_pack(db, settings, investigation_id, unit, report)
    db.commit()
    return content, contexts[0]


def _files(content: bytes) -> dict[str, bytes]:
    archive = zipfile.ZipFile(io.BytesIO(content))
    return {name: archive.read(name) for name in archive.namelist()}


def _rezip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _with_proofs(content: bytes, proofs: dict[str, Any]) -> bytes:
    return _rezip({**_files(content), "proofs.json": json.dumps(proofs).encode()})


def test_every_field_of_an_access_shown_in_a_proof_is_bound_to_its_leaf(
    db: Session, settings: Settings, tmp_path: Path
) -> None:
    investigation_id = _investigated(
        db, settings, [(tmp_path / "in", [event("e1", "N-NB"), event("e2", "N-NB", day=2)])]
    )
    content, _context = _pack(db, settings, investigation_id)
    key = ledger.verifier_key(settings)
    assert evidence.verify_pack(content, key) == []
    proofs = json.loads(_files(content)["proofs.json"])
    assert set(OTHER_VALUES) == set(EVENT_COLUMNS)
    for field, value in OTHER_VALUES.items():
        altered = json.loads(json.dumps(proofs))
        original = altered["accesses"][0]["event"][field]
        altered["accesses"][0]["event"][field] = value
        problems = evidence.verify_pack(_with_proofs(content, altered), key)
        name = value if field == "event_id" else "e1"
        assert problems == [
            f"access {name} (proofs.json accesses, proof 1): event.{field}: shows {json.dumps(value)} "
            f"but the proven leaf holds {json.dumps(original)}"
        ], field
    # The access's batch is bound too, and a field left out or added is named.
    altered = json.loads(json.dumps(proofs))
    altered["accesses"][1]["batch_id"] = "I-other-00000"
    del altered["accesses"][1]["event"]["device_id"]
    altered["accesses"][1]["event"]["staff_name"] = "Someone Else"
    problems = evidence.verify_pack(_with_proofs(content, altered), key)
    where = "access e2 (proofs.json accesses, proof 2)"
    assert f'{where}: event.device_id: is missing but the proven leaf holds "D1"' in problems
    assert f"{where}: event.staff_name: is not part of the proven leaf" in problems
    assert any(
        p.startswith(f'{where}: batch_id: shows "I-other-00000" but the proven leaf holds') for p in problems
    )


def test_a_proof_whose_leaf_is_not_the_canonical_json_of_the_access_is_refused(
    db: Session, settings: Settings, tmp_path: Path
) -> None:
    investigation_id = _investigated(db, settings, [(tmp_path / "in", [event("e1", "N-NB")])])
    content, _context = _pack(db, settings, investigation_id)
    (proof,) = json.loads(_files(content)["proofs.json"])["accesses"]
    key = ledger.verifier_key(settings)
    spaced = {**proof, "leaf": json.dumps(json.loads(proof["leaf"]), sort_keys=True)}  # same content, spaces
    assert "leaf: is not the canonical JSON (RFC 8785) of the access shown" in monitoring.verify_access_proof(
        spaced, key
    )


def test_verify_proof_names_a_field_altered_beside_the_leaf(
    db: Session, settings: Settings, tmp_path: Path
) -> None:
    """The reviewer's case: staff, person, time and action edited in a proof; `monitor verify-proof` used to
    accept it because only the event id was compared with the leaf."""
    investigation_id = _investigated(db, settings, [(tmp_path / "in", [event("e1", "N-NB")])])
    content, _context = _pack(db, settings, investigation_id)
    (proof,) = json.loads(_files(content)["proofs.json"])["accesses"]
    proof["event"].update(
        staff_id="S3", subject_id="N-PUB", occurred_at=OTHER_VALUES["occurred_at"], action="export"
    )
    path = tmp_path / "proof.json"
    path.write_text(json.dumps(proof))
    result = CliRunner().invoke(
        app, ["monitor", "verify-proof", str(path), "--public-key", ledger.verifier_key(settings)]
    )
    assert result.exit_code == 1
    for field in ("occurred_at", "staff_id", "action", "subject_id"):
        assert f"event.{field}: shows" in result.output


def test_the_report_shows_the_proven_access_and_flags_where_the_alert_differs(
    db: Session, settings: Settings, tmp_path: Path
) -> None:
    investigation_id = _investigated(
        db, settings, [(tmp_path / "in", [event("e1", "N-NB"), event("e2", "N-NB", day=2)])]
    )
    # The alert's copy of e2 altered after the fact (as a database administrator could).
    copy = db.scalars(select(AlertEvent).where(AlertEvent.event_id == "e2")).one()
    copy.action, copy.system = "print", "Athena"
    db.commit()
    content, context = _pack(db, settings, investigation_id)
    lines = {line.event_id: line for line in context["accesses"]}
    assert (lines["e1"].action, lines["e1"].differences, lines["e1"].problem) == ("view", (), None)
    assert (lines["e2"].action, lines["e2"].system) == ("view", "PNC")  # as proven, not as the alert says
    assert lines["e2"].differences == (
        "system: the alert records Athena, the proven access PNC",
        "action: the alert records print, the proven access view",
    )
    assert [line.event_id for line in context["differing"]] == ["e2"]
    assert lines["e2"].occurred_at == copy.occurred_at
    # The report is rendered from these lines (the web layer's template).
    from custodes.web.templating import environment

    html = environment.get_template("monitoring/evidence_pdf.html").render(
        force_name="Test", area=str, rule_titles={}, action_titles={}, outcomes={}, **context
    )
    assert "Differs from the proof: action: the alert records print, the proven access view" in html
    assert evidence.verify_pack(content, ledger.verifier_key(settings)) == []  # the proofs themselves hold


def test_an_event_id_stored_twice_is_proven_as_the_copy_the_alert_holds(
    db: Session, settings: Settings, tmp_path: Path
) -> None:
    """docs/monitoring.md accepts that an upstream system repeating an id on another day has it stored
    twice. The alert holds one of them (by batch); the pack must prove that one, not whichever is found."""
    later = [event("e1", "N-NB", day=3), event("e2", "N-NB", day=4)]
    earlier_day = [event("e1", "N-NB", day=0, hour=8)]  # the same id, an access three days before
    investigation_id = _investigated(db, settings, [(tmp_path / "a", later), (tmp_path / "b", earlier_day)])
    held = db.scalars(select(AlertEvent).where(AlertEvent.event_id == "e1")).one()
    content, context = _pack(db, settings, investigation_id)
    proof = next(
        p for p in json.loads(_files(content)["proofs.json"])["accesses"] if p["event"]["event_id"] == "e1"
    )
    assert proof["batch_id"] == held.batch_id
    assert proof["event"]["occurred_at"] == rfc3339(held.occurred_at)
    assert all(not line.differences for line in context["accesses"])
    assert evidence.verify_pack(content, ledger.verifier_key(settings)) == []
    # Each copy is proven as itself when asked by batch; by id alone, the ambiguity is named.
    copies = monitoring.stored_events(settings, "e1")
    assert len(copies) == 2 and copies[0]["batch_id"] != copies[1]["batch_id"]
    for copy in copies:
        proven = monitoring.access_proof(db, settings, "e1", ACTOR, copy["batch_id"])
        assert (proven["batch_id"], proven["event"]["occurred_at"]) == (
            copy["batch_id"],
            rfc3339(copy["occurred_at"]),
        )
    with pytest.raises(monitoring.ProofUnavailable, match="stored more than once"):
        monitoring.access_proof(db, settings, "e1", ACTOR)
