"""What the ledger's audit screens show a member of the counter-corruption unit of the unit's own casework.

The ledger lists every entry to whoever holds LEDGER_VIEW, and the unit holds it. But the detectors record
each alert (subjects: the member of staff and the person looked at), and triage, reveals and investigations
are recorded too, so an unscreened search would show a member of the unit the alerts and investigations
about them that casework hides, and turn every pseudonym back into a staff id without a reveal. This screen,
registered on the app at start-up (`ledger.web.add_screen`, from `web.app.create_app`), applies casework's
rules to the audit screens for a viewer holding ALERTS_INVESTIGATE (auditors and the DPU do not: they see
every entry as recorded):

- an entry that mentions an alert or investigation casework hides from the viewer (as its object, in its
  justification or in its detail: the alert's collection, its triage, a reveal, an investigation's notes,
  the staff record consulted while working on it) is left out of lists, counts, exports and entry pages;
- on the rest, a member of staff casework shows to the viewer as a pseudonym (an alert not revealed to
  them) is shown as that pseudonym, in the people, the record, the actor and the content alike;
- a list of investigations names only those the viewer may see in an investigation;
- a search that names a member of staff (as the person or the actor) leaves out the alerts about them that
  the viewer has not revealed, whose entries would otherwise pair the staff number with the pseudonym.

Casework's rules stay in casework (`casework.ledger_view`); the ledger never reads monitoring's tables.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy.orm import Session

from custodes.identity.permissions import Permission
from custodes.identity.schemas import Principal
from custodes.ledger.schemas import StoredEntry
from custodes.ledger.web import EntryScreen
from custodes.monitoring import casework
from custodes.settings import Settings

# Alert ids (alerts._alert_id: "A" and 15 upper-case hex digits) and references (casework.next_reference).
MENTION = re.compile(r"(?<![0-9A-Za-z])(?:A[0-9A-F]{15}|INV/[0-9]{3,}/[0-9]{2})(?![0-9A-Za-z])")
PSEUDONYMISED = "a member of staff whose identity you have not revealed is shown by their pseudonym."
LIST_NARROWED = "only the members of staff in investigations you may see are named."


def screen(
    session: Session, settings: Settings, viewer: Principal, searched: frozenset[str] = frozenset()
) -> EntryScreen | None:
    """The viewer's screen; None for a viewer who does no casework (they see every entry as recorded). A
    search naming a member of staff leaves out the alerts about them not revealed to the viewer: listing
    their pseudonym among results found by their staff number would reveal it without a reason."""
    if not viewer.can(Permission.ALERTS_INVESTIGATE):
        return None
    hidden = casework.ledger_view(session, settings, viewer, searched=searched).hidden

    def rewrite(entries: list[StoredEntry]) -> list[StoredEntry]:
        return _rewrite(session, settings, viewer, entries)

    return EntryScreen(hidden=hidden, rewrite=rewrite)


def _mentions(entry: StoredEntry) -> set[str]:
    text = json.dumps(entry.content, ensure_ascii=False) if entry.content is not None else ""
    return set(MENTION.findall(f"{entry.object_id or ''} {text}"))


def _rewrite(
    session: Session, settings: Settings, viewer: Principal, entries: list[StoredEntry]
) -> list[StoredEntry]:
    mentions = [_mentions(entry) for entry in entries]
    listed = {s for e in entries if e.object_type == "investigation_list" for s in e.subjects}
    view = casework.ledger_view(session, settings, viewer, set().union(*mentions), listed)
    shown = []
    for entry, mentioned in zip(entries, mentions, strict=True):
        if entry.content is None:
            shown.append(entry)
            continue
        known = {view.staff[m] for m in mentioned if m in view.staff}
        named = {staff_id for staff_id, label in known if label == staff_id}
        masks = {staff_id: label for staff_id, label in known if staff_id not in named}
        if masks:
            entry = _masked(entry, masks)
        if entry.object_type == "investigation_list":
            entry = _narrowed(entry, view.investigated)
        shown.append(entry)
    return shown


def _masked(entry: StoredEntry, masks: dict[str, str]) -> StoredEntry:
    patterns = [
        (re.compile(rf"(?<![\w-]){re.escape(staff_id)}(?![\w-])"), label) for staff_id, label in masks.items()
    ]

    def mask(value: Any) -> Any:
        if isinstance(value, str):
            for pattern, label in patterns:
                value = pattern.sub(label, value)
            return value
        if isinstance(value, list):
            return [mask(item) for item in value]
        if isinstance(value, dict):
            return {key: mask(item) for key, item in value.items()}
        return value

    return StoredEntry(
        entry.index,
        entry.at,
        mask(entry.actor),
        entry.op,
        entry.object_type,
        mask(entry.object_id),
        entry.leaf_hash,
        mask(entry.content),
        screened=_note(entry.screened, PSEUDONYMISED),
        stand_ins=(*entry.stand_ins, *masks.values()),
    )


def _narrowed(entry: StoredEntry, investigated: frozenset[str]) -> StoredEntry:
    content = dict(entry.content or {})
    kept = [s for s in entry.subjects if s in investigated]
    if len(kept) == len(entry.subjects):
        return entry
    content["subjects"] = kept
    content["detail"] = {k: v for k, v in dict(content.get("detail") or {}).items() if k != "shown"}
    return StoredEntry(
        entry.index,
        entry.at,
        entry.actor,
        entry.op,
        entry.object_type,
        entry.object_id,
        entry.leaf_hash,
        content,
        screened=_note(entry.screened, LIST_NARROWED),
        stand_ins=entry.stand_ins,
    )


def _note(before: str | None, note: str) -> str:
    sentence = note[0].upper() + note[1:]
    return f"{before} {sentence}" if before else sentence
