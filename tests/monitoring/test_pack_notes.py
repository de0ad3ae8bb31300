"""Evidence pack against the ledger: a note's text altered in the database after it was ledgered (its
SHA-256 is in its `note added` entry) used to go into the report unflagged with the pack verifying clean;
an entry removed from entries.jsonl (with its proof), or accesses removed from proofs.json, went
unnoticed by verify_pack. The report now flags the note, and investigation.json lets verify_pack check
notes, the closed status and each alert's accesses against the ledger's entries."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from custodes.identity.schemas import Principal
from custodes.ledger import service as ledger
from custodes.monitoring import casework, evidence
from custodes.monitoring.models import InvestigationNote
from custodes.settings import Settings
from tests.monitoring.test_casework import OPENING, carol, world  # noqa: F401

TAMPERED = "He was tasked verbally; nothing personal."


def _files(content: bytes) -> dict[str, bytes]:
    archive = zipfile.ZipFile(io.BytesIO(content))
    return {name: archive.read(name) for name in evidence.FILES}


def _zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        for name in evidence.FILES:
            out.writestr(name, files[name])
    return buffer.getvalue()


def _altered(content: bytes, change: Callable[[dict[str, Any]], None]) -> bytes:
    files = _files(content)
    record = json.loads(files["investigation.json"])
    change(record)
    files["investigation.json"] = json.dumps(record).encode()
    return _zipped(files)


def _made_up(problems: list[str]) -> list[str]:
    """Leave out what the test world's made-up alerts bring to every pack: accesses never ingested (no
    proof) and no ledger entry recording them found (make_alert writes the tables only)."""
    return [p for p in problems if "no proof in the pack" not in p and "access(es) found" not in p]


def test_tampered_note_text_is_flagged(
    db: Session,
    settings: Settings,
    carol: Principal,  # noqa: F811
) -> None:
    inv = casework.open_investigation(db, ["AL-NEIGHBOUR"], carol, "Op Hedge", reason=OPENING)
    casework.add_note(db, inv, carol, "He admitted searching N9 for personal reasons.")
    casework.add_note(db, inv, carol, "Interview arranged.")
    db.commit()
    # A database administrator rewrites the first note afterwards.
    (first, _second) = sorted(db.scalars(db.query(InvestigationNote.id).statement))
    db.execute(update(InvestigationNote).where(InvestigationNote.id == first).values(text=TAMPERED))
    db.commit()
    contexts: list[dict] = []

    def report(context: dict) -> str:
        contexts.append(context)
        return "<p>r</p>"

    _name, content = evidence.build_pack(db, settings, inv, carol, report)
    db.commit()
    files = _files(content)
    ledgered = [
        json.loads(line)["detail"]["sha256"]
        for line in files["entries.jsonl"].splitlines()
        if json.loads(line).get("detail", {}).get("action") == "note added"
    ]
    assert ledgered[0] != hashlib.sha256(TAMPERED.encode()).hexdigest()
    # The report shows the database's text and says it is not what the ledger recorded; the other is fine.
    assert list(contexts[0]["altered_notes"]) == [first]
    assert "changed afterwards" in contexts[0]["altered_notes"][first]
    key = ledger.verifier_key(settings)
    assert _made_up(evidence.verify_pack(content, key)) == [
        f"investigation.json: note {first}'s text does not match the SHA-256 its 'note added' entry records "
        "(changed after it was written)"
    ]
    # A note left out of the pack is named too.
    dropped = _altered(content, lambda r: r.update(notes=r["notes"][1:]))
    assert any(
        f"records note {first} being written, but investigation.json does not hold it" in p
        for p in evidence.verify_pack(dropped, key)
    )


def test_an_untampered_pack_of_notes_verifies(
    db: Session,
    settings: Settings,
    carol: Principal,  # noqa: F811
) -> None:
    inv = casework.open_investigation(db, ["AL-NEIGHBOUR"], carol, "Op Hedge", reason=OPENING)
    casework.add_note(db, inv, carol, "Interview arranged.")
    casework.close_investigation(db, inv, carol, "misconduct", "Admitted it.")
    db.commit()
    contexts: list[dict] = []
    _name, content = evidence.build_pack(db, settings, inv, carol, lambda c: contexts.append(c) or "<p>r</p>")
    db.commit()
    assert contexts[0]["altered_notes"] == {}
    assert _made_up(evidence.verify_pack(content, ledger.verifier_key(settings))) == []
    record = json.loads(_files(content)["investigation.json"])
    assert record["status"] == "closed" and [n["text"] for n in record["notes"]] == ["Interview arranged."]
    assert [len(a["accesses"]) for a in record["alerts"]] == [3]


def test_removing_closing_entry_and_accesses_is_noticed(
    db: Session,
    settings: Settings,
    carol: Principal,  # noqa: F811
) -> None:
    inv = casework.open_investigation(db, ["AL-NEIGHBOUR"], carol, "Op Hedge", reason=OPENING)
    casework.close_investigation(db, inv, carol, "misconduct", "Admitted it.")
    db.commit()
    _name, content = evidence.build_pack(db, settings, inv, carol, lambda _c: "<p>r</p>")
    db.commit()
    key = ledger.verifier_key(settings)
    files = _files(content)
    lines = files["entries.jsonl"].split(b"\n")[:-1]
    proofs = json.loads(files["proofs.json"])
    keep = [i for i, line in enumerate(lines) if json.loads(line).get("detail", {}).get("action") != "closed"]
    assert len(keep) == len(lines) - 1
    files["entries.jsonl"] = b"".join(lines[i] + b"\n" for i in keep)
    proofs["entries"] = [proofs["entries"][i] for i in keep]
    proofs["accesses"] = proofs["accesses"][:1]  # and two of the three accesses dropped
    files["proofs.json"] = json.dumps(proofs).encode()
    after = _made_up(evidence.verify_pack(_zipped(files), key))
    reference = json.loads(files["investigation.json"])["reference"]
    assert after == [
        f"investigation.json says {reference} is closed, but entries.jsonl holds no 'closed' entry for it",
        "alert AL-NEIGHBOUR: access AL-NEIGHBOUR-e2 (batch batch-test-1) is not in proofs.json",
        "alert AL-NEIGHBOUR: access AL-NEIGHBOUR-e3 (batch batch-test-1) is not in proofs.json",
    ], after
    # Taking the accesses out of investigation.json as well leaves them short of the ledger's count.
    fewer = _altered(_zipped(files), lambda r: r["alerts"][0].update(accesses=r["alerts"][0]["accesses"][:1]))
    assert any("lists 1" in p for p in evidence.verify_pack(fewer, key))
    # And a status changed to open contradicts a closed entry still in the pack.
    reopened = _altered(content, lambda r: r.update(status="open"))
    assert f"entries.jsonl records {reference} closed, but investigation.json says it is open" in (
        evidence.verify_pack(reopened, key)
    )


def test_a_pack_without_investigation_json_says_what_it_cannot_check(
    db: Session,
    settings: Settings,
    carol: Principal,  # noqa: F811
) -> None:
    inv = casework.open_investigation(db, ["AL-NEIGHBOUR"], carol, "Op Hedge", reason=OPENING)
    db.commit()
    _name, content = evidence.build_pack(db, settings, inv, carol, lambda _c: "<p>r</p>")
    db.commit()
    files = _files(content)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        for name in evidence.FILES[:-1]:
            out.writestr(name, files[name])
    problems = evidence.verify_pack(buffer.getvalue(), ledger.verifier_key(settings))
    assert problems[-1].startswith("missing from the pack: investigation.json, so the notes")
