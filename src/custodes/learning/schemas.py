"""Learning-register value types: a recommendation with its actions and controls, as screens read it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

__all__ = [
    "ACCEPTANCE",
    "ACTION_STATUSES",
    "CLOSING_STATUSES",
    "RECOMMENDATION_FIELDS",
    "SOURCE_KINDS",
    "STATUSES",
    "ActionView",
    "RecommendationView",
]

SOURCE_KINDS: dict[str, str] = {
    "IOPC": "IOPC learning recommendation",
    "HMICFRS": "HMICFRS inspection (area for improvement or recommendation)",
    "internal": "Internal review",
    "other": "Other",
}
ACCEPTANCE: dict[str, str] = {"yes": "Accepted", "partly": "Partly accepted", "no": "Not accepted"}
STATUSES: dict[str, str] = {
    "open": "Open",
    "in_progress": "In progress",
    "done": "Done",
    "closed": "Closed",
}
# A recommendation in one of these states is finished: it needs its evidence, and takes no new actions.
CLOSING_STATUSES = frozenset({"done", "closed"})
ACTION_STATUSES: dict[str, str] = {"open": "Open", "done": "Done"}
# The form and service fields of a recommendation (controls are a `;`-separated list of codes).
RECOMMENDATION_FIELDS = (
    "source_kind",
    "source_reference",
    "issued_on",
    "title",
    "text",
    "accepted",
    "reason",
    "status",
    "evidence",
    "controls",
)


@dataclass(frozen=True, slots=True)
class ActionView:
    id: int
    recommendation_id: int
    text: str
    owner_staff_id: str
    owner_name: str | None
    due_on: date
    status: str
    completed_on: date | None
    evidence: str | None

    def overdue_on(self, day: date) -> bool:
        """Still open after its due date (the due date itself is not overdue)."""
        return self.status == "open" and day > self.due_on

    @property
    def owner_label(self) -> str:
        return f"{self.owner_name} ({self.owner_staff_id})" if self.owner_name else self.owner_staff_id


@dataclass(frozen=True, slots=True)
class RecommendationView:
    id: int
    source_kind: str
    source_reference: str
    issued_on: date
    title: str
    text: str
    accepted: str
    reason: str | None
    status: str
    evidence: str | None
    controls: tuple[str, ...]
    actions: tuple[ActionView, ...]

    @property
    def label(self) -> str:
        return f"L-{self.id}"

    def overdue_actions(self, day: date) -> tuple[ActionView, ...]:
        return tuple(action for action in self.actions if action.overdue_on(day))

    @property
    def open_actions(self) -> tuple[ActionView, ...]:
        return tuple(action for action in self.actions if action.status == "open")

    def form_values(self) -> dict[str, str]:
        """The recommendation as form cells (the inverse of the service's parsing)."""
        return {
            "source_kind": self.source_kind,
            "source_reference": self.source_reference,
            "issued_on": self.issued_on.isoformat(),
            "title": self.title,
            "text": self.text,
            "accepted": self.accepted,
            "reason": self.reason or "",
            "status": self.status,
            "evidence": self.evidence or "",
            "controls": ";".join(self.controls),
        }
