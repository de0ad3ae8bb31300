"""The evidence pack of an investigation: one ZIP that a court, the IOPC or a misconduct panel can check
without access to the force's systems.

    report.pdf       the investigation, its alerts and their explanations, every access in them, the notes,
                     the outcome, the ledger history, and how to verify the rest
    entries.jsonl    the ledger entries concerned, byte for byte as `custodes ledger export` prints them: the
                     investigation's and its alerts' own entries and, for each access, the `consultation`
                     entry of the batch of access events it was ingested in
    proofs.json      {"checkpoint": {...}, "entries": [RFC 9162 inclusion proof of each line of entries.jsonl
                     in the checkpoint's tree], "accesses": [monitoring.service.access_proof of each access]}
    checkpoint.txt   a signed checkpoint covering every entry in the pack (signed-note text)
    public-key.txt   the ledger's verifier key

`verify_pack` checks a pack as an outsider would (tests use it; so can anyone with Python and Custodes).
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from custodes.identity.schemas import Principal
from custodes.kit.db import utcnow
from custodes.kit.pdf import html_to_pdf
from custodes.kit.timefmt import LONDON, rfc3339
from custodes.ledger import merkle
from custodes.ledger import service as ledger
from custodes.ledger.note import Checkpoint, NoteError, Verifier, open_checkpoint
from custodes.ledger.schemas import CheckpointInfo, EntryFilter
from custodes.monitoring import casework
from custodes.monitoring import service as monitoring
from custodes.settings import Settings

FILES = ("report.pdf", "entries.jsonl", "proofs.json", "checkpoint.txt", "public-key.txt")


@dataclass(frozen=True, slots=True)
class LedgerLine:
    """An entry of entries.jsonl, decoded for the report."""

    index: int
    at: str
    actor: str
    op: str
    object: str
    said: str  # justification and detail, in short


@dataclass(frozen=True, slots=True)
class AccessLine:
    """A row of the report's access table. What the access was (when, system, action, case) is read from
    its proof's leaf, the thing the ledger proves, when there is one; `differences` names every way the
    alert's own record of it (`alert_event`, and the alert's member of staff and person) differs from that
    leaf. Without a proof (`problem`), the alert's record is shown, marked unproven."""

    event_id: str
    batch_id: str
    occurred_at: datetime
    system: str
    action: str
    case_ref: str | None
    rules: tuple[str, ...]
    explanation: str
    problem: str | None
    differences: tuple[str, ...]


def _differ(field: str, recorded: Any, proven: Any) -> str | None:
    if (recorded or None) == (proven or None):
        return None
    return f"{field}: the alert records {recorded or 'none'}, the proven access {proven or 'none'}"


def access_lines(detail: casework.InvestigationDetail, accesses: list[dict[str, Any]]) -> list[AccessLine]:
    """The report's access table: each access of the investigation checked against its proof."""
    proofs = {(p["event"]["event_id"], p["batch_id"]): p for p in accesses if "problem" not in p}
    problems = {(p["event_id"], p.get("batch_id")): p["problem"] for p in accesses if "problem" in p}
    subjects = {a.alert_id: a.subject_id for a in detail.alerts}
    lines = []
    for e in detail.events:
        proof = proofs.get((e.event_id, e.batch_id))
        if proof is None:
            problem = problems.get((e.event_id, e.batch_id), "no proof was made")
            lines.append(
                AccessLine(e.event_id, e.batch_id, e.occurred_at, e.system, e.action, e.case_ref, e.rules,
                           e.explanation, problem, ())
            )  # fmt: skip
            continue
        shown = proof["event"]
        occurred = datetime.fromisoformat(shown["occurred_at"])
        found = [
            _differ("when", rfc3339(e.occurred_at), shown["occurred_at"]),
            _differ("system", e.system, shown["system"]),
            _differ("action", e.action, shown["action"]),
            _differ("case cited", e.case_ref, shown["case_ref"]),
            _differ("member of staff", detail.summary.staff_id, shown["staff_id"]),
            _differ("person looked at", subjects.get(e.alert_id), shown["subject_id"]),
        ]
        lines.append(
            AccessLine(e.event_id, e.batch_id, occurred, shown["system"], shown["action"], shown["case_ref"],
                       e.rules, e.explanation, None, tuple(d for d in found if d))
        )  # fmt: skip
    return lines


def _entry_indexes(
    session: Session, reference: str, alert_ids: list[str], proofs: list[dict[str, Any]]
) -> set[int]:
    wanted = {
        e.index
        for e in ledger.iter_matching(session, EntryFilter(object_type="investigation", object_id=reference))
    }
    for alert_id in alert_ids:
        wanted.update(
            e.index
            for e in ledger.iter_matching(session, EntryFilter(object_type="alert", object_id=alert_id))
        )
    wanted.update(int(p["entry_index"]) for p in proofs if isinstance(p.get("entry_index"), int))
    return wanted


def _said(content: dict[str, Any]) -> str:
    parts = []
    if content.get("justification"):
        parts.append(str(content["justification"]))
    detail = content.get("detail") or {}
    if detail:
        parts.append(
            "; ".join(
                f"{k}: {v if not isinstance(v, list) else ', '.join(map(str, v))}" for k, v in detail.items()
            )
        )
    return " — ".join(parts)


def _ledger_line(line: bytes) -> LedgerLine:
    content = json.loads(line)
    if "redacted" in content:
        return LedgerLine(-1, "", "", "redacted", "", "entry redacted at the end of its retention")
    target = content.get("object") or {}
    return LedgerLine(
        index=int(content.get("index", -1)),
        at=str(content.get("at", ""))[:19].replace("T", " "),
        actor=str(content.get("actor", "")),
        op=str(content.get("op", "")),
        object="/".join(str(part) for part in (target.get("type"), target.get("id")) if part),
        said=_said(content),
    )


def _zip(files: dict[str, bytes], at: datetime) -> bytes:
    buffer = io.BytesIO()
    stamp = at.astimezone(LONDON).timetuple()[:6]
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in FILES:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name])
    return buffer.getvalue()


def _checkpoint(session: Session, settings: Settings) -> CheckpointInfo:
    """A signed checkpoint covering everything recorded so far, this pack's own consultation included."""
    found = ledger.issue_checkpoint(session, settings, only_if_grown=True) or ledger.latest_checkpoint(
        session
    )
    if found is None:  # issue_checkpoint declines only when the latest one is already current
        raise ledger.LedgerError("no signed checkpoint")
    return found


def build_pack(
    session: Session,
    settings: Settings,
    investigation_id: int,
    viewer: Principal,
    render_report: Callable[[dict[str, Any]], str],
) -> tuple[str, bytes]:
    """(file name, ZIP bytes) of the investigation's evidence pack. Producing it is a consultation of the
    data in it, recorded before the checkpoint is signed, so the pack carries its own making.
    `render_report(context)` turns the report's context into HTML (the web layer's templates)."""
    reference = casework.investigation_reference(session, investigation_id, viewer)
    purpose = f"evidence pack for counter-corruption investigation {reference}"
    detail = casework.investigation_detail(session, settings, investigation_id, viewer, purpose=purpose)
    checkpoint = _checkpoint(session, settings)  # appends what is queued, this pack's consultation too

    # By event id and batch: an id stored twice (on different days) is two accesses, and the alert holds one.
    wanted = list(dict.fromkeys((e.event_id, e.batch_id) for e in detail.events))
    accesses = monitoring.access_proofs(session, settings, wanted)  # the pack's consultation covers them
    indexes = sorted(
        i
        for i in _entry_indexes(session, reference, [a.alert_id for a in detail.alerts], accesses)
        if i < checkpoint.size
    )
    lines = [next(iter(ledger.export_lines(session, index, index + 1))) for index in indexes]
    entry_proofs = [ledger.prove_inclusion(session, index, checkpoint.size) for index in indexes]
    proofs = {
        "checkpoint": {"tree_size": checkpoint.size, "root_hash": checkpoint.root.hex()},
        "entries": entry_proofs,
        "accesses": accesses,
    }
    files: dict[str, bytes] = {
        "entries.jsonl": b"".join(line + b"\n" for line in lines),
        "proofs.json": json.dumps(proofs, indent=1, sort_keys=True, default=str).encode() + b"\n",
        "checkpoint.txt": checkpoint.note.encode(),
        "public-key.txt": (ledger.verifier_key(settings) + "\n").encode(),
    }
    now = utcnow()
    rows = access_lines(detail, accesses)
    context = {
        "d": detail,
        "reference": reference,
        "generated": now,
        "principal": viewer,
        "checkpoint": checkpoint,
        "history": [_ledger_line(line) for line in lines],
        "digests": {name: hashlib.sha256(content).hexdigest() for name, content in files.items()},
        "accesses": rows,
        "unproven": [p for p in accesses if "problem" in p],
        "differing": [row for row in rows if row.differences],
        "public_key": ledger.verifier_key(settings),
        "people": {subject: f"{p.forenames} {p.surname}" for subject, p in detail.people.items()},
    }
    files["report.pdf"] = html_to_pdf(render_report(context))
    return f"evidence-{reference.replace('/', '-')}.zip", _zip(files, now)


# --------------------------------------------------------------------------- checking a pack


def _hash_list(value: Any) -> list[bytes] | None:
    """A list of SHA-256 hashes in hexadecimal, decoded; None if it is anything else."""
    if not isinstance(value, list):
        return None
    try:
        hashes = [bytes.fromhex(item) for item in value if isinstance(item, str)]
    except ValueError:
        return None
    return hashes if len(hashes) == len(value) and all(len(h) == 32 for h in hashes) else None


def _whole_number(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_entry(number: int, line: bytes, proof: Any, signed: Checkpoint) -> list[str]:
    """Problems with the `number`th (from 1) entry proof of proofs.json, the proof of that line of
    entries.jsonl: a malformed proof names its fields."""
    where = f"proofs.json entries, proof {number}"
    if not isinstance(proof, dict):
        return [f"{where}: not a JSON object"]
    path = _hash_list(proof.get("inclusion_path"))
    malformed = [
        f"{where}: {name}: {'missing' if name not in proof else 'should be ' + kind}"
        for name, kind, good in (
            ("leaf_index", "a whole number", _whole_number(proof.get("leaf_index"))),
            ("tree_size", "a whole number", _whole_number(proof.get("tree_size"))),
            ("inclusion_path", "a list of SHA-256 hashes in hex", path is not None),
        )
        if not good
    ]
    if malformed or path is None:
        return malformed
    index = proof["leaf_index"]
    if proof["tree_size"] != signed.size or not merkle.verify_inclusion(
        merkle.leaf_hash(line), index, signed.size, path, signed.root
    ):
        return [f"entries.jsonl: entry {index} is not in the signed ledger (or was altered)"]
    return []


def _check_access(number: int, proof: Any, public_key: str, lines: set[bytes]) -> list[str]:
    """Problems with the `number`th (from 1) access proof of proofs.json, each naming the access (as the
    proof shows it) and the proof's place; a proof's fields are checked against its leaf, a malformed
    proof's fields are named."""
    if not isinstance(proof, dict):
        return [f"proofs.json accesses, proof {number}: not a JSON object"]
    event = proof.get("event")
    name = (event.get("event_id") if isinstance(event, dict) else None) or proof.get("event_id") or "?"
    if "problem" in proof:
        return [f"access {name}: no proof in the pack ({proof['problem']})"]
    where = f"access {name} (proofs.json accesses, proof {number})"
    try:
        problems = [f"{where}: {p}" for p in monitoring.verify_access_proof(proof, public_key)]
    except (KeyError, TypeError, ValueError, AttributeError) as error:  # malformed_proof names the usual
        return [f"{where}: malformed proof ({error})"]
    if isinstance(proof.get("entry"), str) and proof["entry"].encode() not in lines:
        problems.append(f"{where}: its batch's ledger entry is not in entries.jsonl")
    return problems


def _text(files: dict[str, bytes], name: str) -> str | None:
    try:
        return files[name].decode()
    except UnicodeDecodeError:
        return None


def verify_pack(data: bytes, public_key: str | None = None) -> list[str]:
    """Problems found in an evidence pack (none: it verifies), each naming the file, and the proof and
    field where there is one. Never raises on a malformed pack. Give the verifier key published by the
    force (`custodes ledger public-key`); without it the pack's own public-key.txt is trusted."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        files = {name: archive.read(name) for name in archive.namelist()}
    except (
        zipfile.BadZipFile,
        KeyError,
        OSError,
        EOFError,
        RuntimeError,
        NotImplementedError,  # zipfile: a compression method it does not support (not a stub)
        zlib.error,
    ) as error:
        return [f"not a readable ZIP: {error}"]
    missing = [name for name in FILES if name not in files]
    if missing:
        return [f"missing from the pack: {', '.join(missing)}"]
    unreadable = [name for name in FILES if name != "report.pdf" and _text(files, name) is None]
    if unreadable:
        return [f"{name}: not UTF-8 text" for name in unreadable]
    key = (public_key or files["public-key.txt"].decode()).strip()
    try:
        signed = open_checkpoint(files["checkpoint.txt"].decode(), Verifier(key))
    except NoteError as error:
        return [f"checkpoint.txt: {error}"]
    try:
        proofs = json.loads(files["proofs.json"])
    except ValueError as error:
        return [f"proofs.json: not JSON ({error})"]
    if not isinstance(proofs, dict):
        return ["proofs.json: should be a JSON object holding entries and accesses"]
    problems = []
    lists = {}
    for part in ("entries", "accesses"):
        value = proofs.get(part)
        if not isinstance(value, list):
            problems.append(f"proofs.json: {part}: {'missing' if part not in proofs else 'should be a list'}")
        lists[part] = value if isinstance(value, list) else []
    lines = files["entries.jsonl"].split(b"\n")[:-1] if files["entries.jsonl"] else []
    entry_proofs = lists["entries"]
    if "entries" in proofs and len(entry_proofs) != len(lines):
        problems.append(f"entries.jsonl has {len(lines)} entries but proofs.json proves {len(entry_proofs)}")
    for number, (line, proof) in enumerate(zip(lines, entry_proofs, strict=False), start=1):
        problems += _check_entry(number, line, proof, signed)
    for number, proof in enumerate(lists["accesses"], start=1):
        problems += _check_access(number, proof, key, set(lines))
    return problems
