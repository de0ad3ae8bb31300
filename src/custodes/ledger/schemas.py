"""Ledger value types: what callers hand to the ledger, and what verification and proofs return."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Op(StrEnum):
    # The six operations of DPA 2018 s.62.
    COLLECTION = "collection"
    ALTERATION = "alteration"
    CONSULTATION = "consultation"
    DISCLOSURE = "disclosure"
    COMBINATION = "combination"
    ERASURE = "erasure"
    # Governance operations.
    AUTHORISATION = "authorisation"
    REFUSAL = "refusal"
    REVIEW = "review"
    CORRECTION = "correction"
    DECLARATION = "declaration"
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    ACCESS_DENIED = "access_denied"
    CONFIGURATION = "configuration"
    CHECKPOINT = "checkpoint"


NEEDS_JUSTIFICATION = {Op.CONSULTATION, Op.DISCLOSURE}


class EntryRejected(ValueError):
    """An entry that s.62 does not allow (e.g. a consultation with no justification)."""


@dataclass(frozen=True, slots=True)
class EntryDraft:
    """An operation to record. The ledger adds index, time and salt when it appends."""

    actor: str
    op: Op
    object_type: str
    object_id: str | None
    subjects: tuple[str, ...] = ()
    justification: str | None = None
    recipients: tuple[str, ...] = ()
    detail: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not (self.actor.startswith("staff:") or self.actor.startswith("system:")):
            raise EntryRejected(f"actor must be staff:<id> or system:<component>, not {self.actor!r}")
        if self.op in NEEDS_JUSTIFICATION and not (self.justification or "").strip():
            raise EntryRejected(f"a {self.op} entry needs a justification (DPA 2018 s.62)")
        if self.op == Op.DISCLOSURE and not self.recipients:
            raise EntryRejected("a disclosure entry needs its recipients (DPA 2018 s.62)")


@dataclass(frozen=True, slots=True)
class StoredEntry:
    index: int
    at: datetime
    actor: str
    op: str
    object_type: str
    object_id: str | None
    leaf_hash: bytes
    content: dict[str, Any] | None  # None once redacted
    # Set when a screen (ledger.web.EntryScreen) changed what this viewer is shown of the entry: why, and
    # the texts put in place of people withheld from them (pseudonyms: not people, never logged as such).
    screened: str | None = None
    stand_ins: tuple[str, ...] = ()

    @property
    def shown_subjects(self) -> list[str]:
        """The people this viewer is shown the entry concerns (not the stand-ins for withheld ones)."""
        return [s for s in self.subjects if s not in self.stand_ins]

    @property
    def justification(self) -> str | None:
        return None if self.content is None else self.content.get("justification")

    @property
    def subjects(self) -> list[str]:
        return [] if self.content is None else list(self.content.get("subjects", []))

    @property
    def recipients(self) -> list[str]:
        return [] if self.content is None else list(self.content.get("recipients", []))

    @property
    def detail(self) -> dict[str, Any]:
        return {} if self.content is None else dict(self.content.get("detail", {}))


class FaultKind(StrEnum):
    LEAF_ALTERED = "leaf altered"
    LEAF_MISSING = "leaf missing"
    EXTRA_LEAF = "extra leaf"
    INDEX_ALTERED = "search index altered"  # columns or subject rows no longer match the entry's bytes
    TREE_NODE_ALTERED = "stored tree node altered"
    CHECKPOINT_SIGNATURE_INVALID = "checkpoint signature invalid"
    CHECKPOINT_INCONSISTENT = "checkpoint inconsistent"
    CHECKPOINT_ROLLED_BACK = "checkpoint rolled back"


@dataclass(frozen=True, slots=True)
class Fault:
    kind: FaultKind
    index: int
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"kind": str(self.kind), "index": self.index, "message": self.message}


@dataclass(slots=True)
class VerifyReport:
    size: int = 0
    checkpoints: int = 0
    redacted: int = 0
    root: bytes | None = None
    fault: Fault | None = None
    seconds: float = 0.0

    @property
    def intact(self) -> bool:
        return self.fault is None

    def as_dict(self) -> dict[str, Any]:
        return {
            "intact": self.intact,
            "size": self.size,
            "checkpoints_checked": self.checkpoints,
            "redacted_entries": self.redacted,
            "root_hash": self.root.hex() if self.root is not None else None,
            "fault": self.fault.as_dict() if self.fault else None,
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True, slots=True)
class CheckpointInfo:
    seq: int
    size: int
    root: bytes
    note: str
    issued_at: datetime


@dataclass(frozen=True, slots=True)
class LedgerStatus:
    size: int
    latest_checkpoint: CheckpointInfo | None
    verifier_key: str


@dataclass(frozen=True, slots=True)
class EntryFilter:
    subject: str | None = None
    actor: str | None = None
    op: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    # Only entries numbered below this: the ledger's size when a search was made, carried in its export links
    # so that the list, the CSV and the PDF hold the same entries (each records itself after it is read).
    before: int | None = None
    # Entries whose recorded bytes contain any of these texts are left out (ledger.web.EntryScreen.hidden).
    # Not a criterion the viewer chose, so never described.
    hidden: frozenset[str] = frozenset()

    def described(self) -> dict[str, str]:
        """The criteria that are set, as text (for the consultation entry and report headings)."""
        names = ("subject", "actor", "op", "object_type", "object_id", "since", "until")
        described = {name: str(getattr(self, name)) for name in names if getattr(self, name)}
        if self.before is not None:
            described["before_entry"] = str(self.before)
        return described
