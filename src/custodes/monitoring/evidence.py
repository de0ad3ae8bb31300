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
    investigation.json  the investigation as the database holds it: reference, status, outcome, each alert
                     with its accesses (event id and batch), and the notes' text, for checking against the
                     ledger: each note's SHA-256 against its `note added` entry, a closed status against a
                     `closed` entry, each alert's accesses against the counts in its entries

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
from custodes.kit.timefmt import LONDON, london, rfc3339
from custodes.ledger import merkle
from custodes.ledger import service as ledger
from custodes.ledger.note import Checkpoint, NoteError, Verifier, open_checkpoint
from custodes.ledger.schemas import CheckpointInfo, EntryFilter
from custodes.monitoring import casework
from custodes.monitoring import service as monitoring
from custodes.settings import Settings

FILES = (
    "report.pdf",
    "entries.jsonl",
    "proofs.json",
    "checkpoint.txt",
    "public-key.txt",
    "investigation.json",
)
RECORD = "investigation.json"  # packs made before it was added lack it; verify_pack says what it cannot check


@dataclass(frozen=True, slots=True)
class LedgerLine:
    """An entry of entries.jsonl, decoded for the report."""

    index: int
    at: str
    actor: str
    op: str
    object: str
    said: str  # justification and detail, in short

    @property
    def moment(self) -> datetime | None:
        """When the entry was recorded (its `at`, UTC in the ledger), for showing in London time."""
        try:
            return datetime.fromisoformat(self.at.replace("Z", "+00:00")) if self.at else None
        except ValueError:
            return None


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


def zoned(moment: datetime | None, with_seconds: bool = False) -> str:
    """A time as the report shows it: London time with its zone, "02 Nov 2026 10:22 GMT" ("… BST" in
    summer), so that no time in it needs its zone guessed."""
    if moment is None:
        return ""
    return f"{london(moment, with_seconds)} {moment.astimezone(LONDON).strftime('%Z')}"


@dataclass(frozen=True, slots=True)
class HistoryGroup:
    """A row of the report's ledger history: one entry, or a run of entries in the pack, one after the
    other, that say the same (the same person viewing the same page with the same purpose, seven times in a
    morning), shown once with how many and between when. entries.jsonl keeps every entry as it is: this is
    the report's reading of them only."""

    lines: tuple[LedgerLine, ...]

    @property
    def first(self) -> LedgerLine:
        return self.lines[0]

    @property
    def last(self) -> LedgerLine:
        return self.lines[-1]

    @property
    def count(self) -> int:
        return len(self.lines)

    @property
    def indexes(self) -> str:
        """The entries' numbers: each, or the first and last of a long run ("17, 19, 21"; "17, …, 40")."""
        numbers = [str(line.index) for line in self.lines]
        return ", ".join(numbers) if len(numbers) <= 4 else f"{numbers[0]}, …, {numbers[-1]}"


def history_groups(lines: list[LedgerLine]) -> list[HistoryGroup]:
    """Consultations one after the other in the pack by the same actor of the same object with the same
    words, grouped."""
    groups: list[HistoryGroup] = []
    for line in lines:
        previous = groups[-1].last if groups else None
        if (
            previous is not None
            and line.op == "consultation"
            and (line.actor, line.op, line.object, line.said)
            == (previous.actor, previous.op, previous.object, previous.said)
        ):
            groups[-1] = HistoryGroup((*groups[-1].lines, line))
        else:
            groups.append(HistoryGroup((line,)))
    return groups


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
        at=str(content.get("at", "")),
        actor=str(content.get("actor", "")),
        op=str(content.get("op", "")),
        object="/".join(str(part) for part in (target.get("type"), target.get("id")) if part),
        said=_said(content),
    )


def _entry_object(content: dict[str, Any]) -> tuple[Any, Any]:
    target = content.get("object")
    return (target.get("type"), target.get("id")) if isinstance(target, dict) else (None, None)


def _ledgered_notes(contents: list[dict[str, Any]], reference: str) -> dict[Any, Any]:
    """By note id, the SHA-256 its `note added` entry records."""
    notes = {}
    for content in contents:
        detail = content.get("detail")
        if not isinstance(detail, dict) or detail.get("action") != "note added":
            continue
        if _entry_object(content) == ("investigation", reference):
            notes[detail.get("note")] = detail.get("sha256")
    return notes


def note_problems(notes: list[casework.NoteRow], ledgered: dict[Any, Any]) -> dict[int, str]:
    """By note id, why a note's text is not the text the ledger recorded (its SHA-256 in `note added`)."""
    problems = {}
    for note in notes:
        if note.id not in ledgered:
            problems[note.id] = "no ledger entry records this note being written"
        elif hashlib.sha256(note.text.encode()).hexdigest() != ledgered[note.id]:
            problems[note.id] = (
                "this text is not the text the ledger recorded when the note was written (its SHA-256 "
                "differs): it was changed afterwards"
            )
    return problems


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
    files, now = _pack_files(session, settings, investigation_id, viewer, render_report, reference, purpose)
    return f"evidence-{reference.replace('/', '-')}.zip", _zip(files, now)


def build_report(
    session: Session,
    settings: Settings,
    investigation_id: int,
    viewer: Principal,
    render_report: Callable[[dict[str, Any]], str],
) -> tuple[str, bytes]:
    """(file name, PDF bytes) of the evidence pack's report alone, for reading on screen: made exactly as
    the pack makes it (a consultation recorded before the checkpoint is signed, its digests those of the
    pack's other files made at that moment), and recorded the same way, with its own purpose. The pack (the
    ZIP) stays the thing to hand over: only it carries the entries and proofs the report describes."""
    reference = casework.investigation_reference(session, investigation_id, viewer)
    purpose = f"evidence report (PDF) for counter-corruption investigation {reference}"
    files, _now = _pack_files(session, settings, investigation_id, viewer, render_report, reference, purpose)
    return f"evidence-report-{reference.replace('/', '-')}.pdf", files["report.pdf"]


def _pack_files(
    session: Session,
    settings: Settings,
    investigation_id: int,
    viewer: Principal,
    render_report: Callable[[dict[str, Any]], str],
    reference: str,
    purpose: str,
) -> tuple[dict[str, bytes], datetime]:
    """The pack's files by name, and when they were made."""
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
    summary = detail.summary
    record = {
        "reference": reference,
        "status": summary.status,
        "outcome": summary.outcome,
        "alerts": [
            {
                "alert_id": alert.alert_id,
                "accesses": [
                    {"event_id": e.event_id, "batch_id": e.batch_id}
                    for e in detail.events
                    if e.alert_id == alert.alert_id
                ],
            }
            for alert in detail.alerts
        ],
        "notes": [
            {"note": n.id, "author": n.author, "at": rfc3339(n.at), "text": n.text} for n in detail.notes
        ],
    }
    files: dict[str, bytes] = {
        RECORD: json.dumps(record, indent=1, ensure_ascii=False).encode() + b"\n",
        "entries.jsonl": b"".join(line + b"\n" for line in lines),
        "proofs.json": json.dumps(proofs, indent=1, sort_keys=True, default=str).encode() + b"\n",
        "checkpoint.txt": checkpoint.note.encode(),
        "public-key.txt": (ledger.verifier_key(settings) + "\n").encode(),
    }
    now = utcnow()
    rows = access_lines(detail, accesses)
    altered = note_problems(detail.notes, _ledgered_notes([json.loads(line) for line in lines], reference))
    context = {
        "d": detail,
        "when": zoned,
        "reference": reference,
        "generated": now,
        "principal": viewer,
        "checkpoint": checkpoint,
        "history": history_groups([_ledger_line(line) for line in lines]),
        "digests": {name: hashlib.sha256(content).hexdigest() for name, content in files.items()},
        "accesses": rows,
        "unproven": [p for p in accesses if "problem" in p],
        "differing": [row for row in rows if row.differences],
        "altered_notes": altered,  # by note id: its text does not match the ledger's SHA-256
        "public_key": ledger.verifier_key(settings),
        "people": {subject: f"{p.forenames} {p.surname}" for subject, p in detail.people.items()},
    }
    files["report.pdf"] = html_to_pdf(render_report(context))
    return files, now


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
    missing = [name for name in FILES if name not in files and name != RECORD]
    if missing:
        return [f"missing from the pack: {', '.join(missing)}"]
    unreadable = [
        name for name in FILES if name in files and name != "report.pdf" and _text(files, name) is None
    ]
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
    if RECORD not in files:
        return [
            *problems,
            f"missing from the pack: {RECORD}, so the notes, the status and each alert's accesses cannot be "
            "checked against the ledger (packs made before it was added have none)",
        ]
    return problems + _check_record(files[RECORD], lines, lists["accesses"])


def _parsed(lines: list[bytes]) -> list[dict[str, Any]]:
    contents = []
    for line in lines:
        try:
            content = json.loads(line)
        except ValueError:
            continue  # its entry proof fails, and says so
        if isinstance(content, dict):
            contents.append(content)
    return contents


def _proven_accesses(accesses: list[Any]) -> set[tuple[Any, Any]]:
    """(event id, batch) of every access proofs.json holds: as its hashed leaf has them (a proof whose shown
    fields differ from its leaf is reported by `_check_access`), or as a notice that there is no proof names
    them."""
    held = set()
    for proof in accesses:
        if not isinstance(proof, dict):
            continue
        shown: Any = proof
        if isinstance(proof.get("leaf"), str):
            try:
                shown = json.loads(proof["leaf"])
            except ValueError:
                shown = proof.get("event")
        if isinstance(shown, dict):
            held.add((shown.get("event_id"), shown.get("batch_id")))
    return held


def _check_record(data: bytes, lines: list[bytes], accesses: list[Any]) -> list[str]:
    """investigation.json against entries.jsonl and proofs.json: each note's text against the SHA-256 of its
    `note added` entry (and every such entry's note present), a closed status against a `closed` entry, the
    alerts the investigation's entries name all present, and each alert's accesses against the counts its
    `collection` and `alteration` entries record and against proofs.json. Finds entries, accesses or notes
    removed from the pack, and notes changed in the database after they were written."""
    try:
        record = json.loads(data)
    except ValueError as error:
        return [f"{RECORD}: not JSON ({error})"]
    if not isinstance(record, dict):
        return [f"{RECORD}: should be a JSON object"]
    malformed = [
        f"{RECORD}: {name}: {'missing' if name not in record else 'should be ' + kind}"
        for name, kind, good in (
            ("reference", "text", isinstance(record.get("reference"), str)),
            ("status", "text", isinstance(record.get("status"), str)),
            ("alerts", "a list of objects", _objects(record.get("alerts"))),
            ("notes", "a list of objects", _objects(record.get("notes"))),
        )
        if not good
    ]
    if malformed:
        return malformed
    reference = record["reference"]
    contents = _parsed(lines)
    redacted = any("redacted" in content for content in contents)  # nothing to count those entries by
    own = [c for c in contents if _entry_object(c) == ("investigation", reference)]
    actions = [c["detail"].get("action") for c in own if isinstance(c.get("detail"), dict)]
    problems = []
    if "opened" not in actions and not redacted:
        problems.append(f"entries.jsonl: no 'opened' entry for investigation {reference}")
    closed = "closed" in actions
    if record["status"] == "closed" and not closed and not redacted:
        problems.append(
            f"{RECORD} says {reference} is closed, but entries.jsonl holds no 'closed' entry for it"
        )
    if record["status"] != "closed" and closed:
        problems.append(
            f"entries.jsonl records {reference} closed, but {RECORD} says it is {record['status']}"
        )
    ledgered = _ledgered_notes(contents, reference)
    shown = set()
    for number, note in enumerate(record["notes"], start=1):
        note_id, text = note.get("note"), note.get("text")
        shown.add(note_id)
        if not isinstance(text, str):
            problems.append(f"{RECORD} notes, note {number}: text: should be text")
        elif note_id not in ledgered:
            if not redacted:
                problems.append(f"{RECORD}: note {note_id} has no 'note added' entry in entries.jsonl")
        elif hashlib.sha256(text.encode()).hexdigest() != ledgered[note_id]:
            problems.append(
                f"{RECORD}: note {note_id}'s text does not match the SHA-256 its 'note added' entry records "
                "(changed after it was written)"
            )
    problems += [
        f"entries.jsonl records note {note_id} being written, but {RECORD} does not hold it"
        for note_id in ledgered
        if note_id not in shown
    ]
    listed = {alert.get("alert_id") for alert in record["alerts"]}
    named = {
        alert_id
        for c in own
        if isinstance(c.get("detail"), dict) and isinstance(c["detail"].get("alerts"), list)
        for alert_id in c["detail"]["alerts"]
    }
    problems += [
        f"entries.jsonl names alert {alert_id} in {reference}, but {RECORD} does not hold it"
        for alert_id in sorted(named - listed, key=str)
    ]
    proven = _proven_accesses(accesses)
    for alert in record["alerts"]:
        alert_id, held = alert.get("alert_id"), alert.get("accesses")
        if not _objects(held):
            problems.append(f"{RECORD}: alert {alert_id}: accesses: should be a list of objects")
            continue
        found = sum(
            c["detail"]["events"]
            for c in contents
            if _entry_object(c) == ("alert", alert_id)
            and c.get("op") in ("collection", "alteration")
            and isinstance(c.get("detail"), dict)
            and _whole_number(c["detail"].get("events"))
        )
        if found != len(held) and not redacted:
            problems.append(
                f"alert {alert_id}: its entries in entries.jsonl record {found} access(es) found, "
                f"but {RECORD} lists {len(held)}"
            )
        problems += [
            f"alert {alert_id}: access {access.get('event_id')} (batch {access.get('batch_id')}) is not in "
            "proofs.json"
            for access in held
            if (access.get("event_id"), access.get("batch_id")) not in proven
        ]
    return problems


def _objects(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, dict) for item in value)
