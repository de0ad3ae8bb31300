"""Learning-register rules: recommendations, their actions with owners and due dates, and their controls.

Screens (and the demo) change the register only through the functions here, which validate every field the
way an import row is validated (kit.tabular.RowReader) and record each change in the ledger: a new
recommendation or action is a `collection`, a change an `alteration` carrying the SHA-256 of each changed
field's old and new value (never the text itself); control links, being product codes, are named.

The register is about the force, not about people, so reading it is not a consultation; an action's owner
is a member of staff, so entries about actions name the owner as their subject.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from custodes.identity import service as identity
from custodes.kit.db import utcnow
from custodes.kit.tabular import RowReader, SourceRow
from custodes.kit.timefmt import LONDON
from custodes.learning.controls import CONTROLS, unknown_controls
from custodes.learning.models import LearningAction, Recommendation, RecommendationControl
from custodes.learning.schemas import (
    ACCEPTANCE,
    CLOSING_STATUSES,
    SOURCE_KINDS,
    STATUSES,
    ActionView,
    RecommendationView,
)
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryDraft, Op
from custodes.registers import keyed_changes
from custodes.workforce import service as workforce

MAX_TEXT = 20000
MAX_NOTE = 4000
STAFF_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}"
STAFF_ID_FORM = (
    "a staff number such as S1001 (up to 32 letters, digits, _ or -, starting with a letter or digit)"
)
RECOMMENDATION_TYPE = "learning_recommendation"
ACTION_TYPE = "learning_action"


class LearningError(Exception):
    """A change refused. `problems` are (field, problem) pairs, for a form to show beside its fields."""

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(f"{field}: {problem}" for field, problem in self.problems))


def today() -> date:
    """The day in London, which is the day a due date means."""
    return datetime.now(LONDON).date()


def split_codes(text: str) -> tuple[str, ...]:
    """Control codes as typed: separated by `;`, `,` or spaces; upper-cased, de-duplicated, order kept."""
    return tuple(dict.fromkeys(code.upper() for code in re.split(r"[;,\s]+", text) if code))


def _reader(values: Mapping[str, Any]) -> RowReader:
    cells = {name: ("" if value is None else str(value)).strip() for name, value in values.items()}
    return RowReader(SourceRow("form", 1, cells))


def _refuse_if(cells: RowReader, extra: Iterable[tuple[str, str]] = ()) -> None:
    problems = [(problem.column, problem.problem) for problem in cells.problems] + list(extra)
    if problems:
        raise LearningError(problems)


# --------------------------------------------------------------------------- recommendations


def _parse_recommendation(values: Mapping[str, Any], on: date) -> tuple[dict[str, Any], tuple[str, ...]]:
    cells = _reader(values)
    record: dict[str, Any] = {
        "source_kind": cells.choice("source_kind", SOURCE_KINDS, required=True),
        "source_reference": cells.text("source_reference", required=True),
        "issued_on": cells.date("issued_on", required=True),
        "title": cells.text("title", required=True),
        "text": cells.text("text", required=True, max_length=MAX_TEXT),
        "accepted": cells.choice("accepted", ACCEPTANCE, required=True),
        "reason": cells.text("reason", max_length=MAX_NOTE),
        "status": cells.choice("status", STATUSES, required=True),
        "evidence": cells.text("evidence", max_length=MAX_NOTE),
    }
    bad = {problem.column for problem in cells.problems}
    if record["issued_on"] is not None and record["issued_on"] > on:
        cells.problem("issued_on", "is in the future")
    if record["accepted"] in ("no", "partly") and not record["reason"] and "reason" not in bad:
        cells.problem("reason", "give the reason the recommendation was not (wholly) accepted")
    if record["status"] in CLOSING_STATUSES and not record["evidence"] and "evidence" not in bad:
        cells.problem("evidence", f"give the evidence before marking it {STATUSES[record['status']].lower()}")
    codes = split_codes(str(values.get("controls") or ""))
    unknown = unknown_controls(codes)
    if unknown:
        cells.problem(
            "controls",
            f"{', '.join(unknown)} {'is not a control' if len(unknown) == 1 else 'are not controls'} of "
            "Custodes; choose codes from the catalogue (Learning → Controls)",
        )
    _refuse_if(cells)
    return record, codes


def _check_closing(status: str, open_actions: int) -> None:
    if status in CLOSING_STATUSES and open_actions:
        raise LearningError(
            [
                (
                    "status",
                    f"{open_actions} action{'s are' if open_actions > 1 else ' is'} still open: complete "
                    f"{'them' if open_actions > 1 else 'it'} before marking the recommendation "
                    f"{STATUSES[status].lower()}",
                )
            ]
        )


def create_recommendation(
    session: Session, values: Mapping[str, Any], actor: str, *, on: date | None = None
) -> int:
    """Add a recommendation from form cells (RECOMMENDATION_FIELDS); its id, or LearningError if refused."""
    record, codes = _parse_recommendation(values, on or today())
    now = utcnow()
    row = Recommendation(**record, created_at=now, updated_at=now)
    session.add(row)
    session.flush()
    session.add_all(RecommendationControl(recommendation_id=row.id, control_code=code) for code in codes)
    ledger.record(
        session,
        EntryDraft(
            actor=actor,
            op=Op.COLLECTION,
            object_type=RECOMMENDATION_TYPE,
            object_id=str(row.id),
            detail={"fields": sorted(n for n, v in record.items() if v is not None), "controls": list(codes)},
        ),
    )
    return row.id


def update_recommendation(
    session: Session, recommendation_id: int, values: Mapping[str, Any], actor: str, *, on: date | None = None
) -> bool:
    """Change a recommendation (its status, evidence, controls...). True if anything changed."""
    row = _recommendation_row(session, recommendation_id, lock=True)
    record, codes = _parse_recommendation(values, on or today())
    # Counted after the lock: an action being added (which takes the same lock) is either in, or waits and
    # then finds the recommendation closed.
    open_actions = session.scalar(
        select(func.count()).where(
            LearningAction.recommendation_id == recommendation_id, LearningAction.status == "open"
        )
    )
    assert open_actions is not None  # a count is always a number
    _check_closing(record["status"], open_actions)
    changes: dict[str, Any] = keyed_changes(
        session, row, record, kind=RECOMMENDATION_TYPE, object_id=str(recommendation_id)
    )
    links = {
        link.control_code: link
        for link in session.scalars(
            select(RecommendationControl).where(RecommendationControl.recommendation_id == recommendation_id)
        )
    }
    added = [code for code in codes if code not in links]
    removed = sorted(code for code in links if code not in codes)
    if not changes and not added and not removed:
        return False
    for name in changes:
        setattr(row, name, record[name])
    row.updated_at = utcnow()
    for code in removed:
        session.delete(links[code])
    session.add_all(RecommendationControl(recommendation_id=recommendation_id, control_code=c) for c in added)
    detail: dict[str, Any] = {"changes": changes}
    if added or removed:
        detail["controls"] = {"added": added, "removed": removed}
    if "status" in changes:
        detail["status"] = record["status"]
    ledger.record(
        session,
        EntryDraft(
            actor=actor,
            op=Op.ALTERATION,
            object_type=RECOMMENDATION_TYPE,
            object_id=str(recommendation_id),
            detail=detail,
        ),
    )
    return True


def _recommendation_row(session: Session, recommendation_id: int, *, lock: bool = False) -> Recommendation:
    """The recommendation; `lock` takes its row lock (PostgreSQL `FOR UPDATE`; SQLite's write lock is already
    held) and reads it afresh, so changes to it and to its actions run one after the other, each checking
    what the other committed rather than a copy read earlier in the session."""
    query = select(Recommendation).where(Recommendation.id == recommendation_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    row = session.scalars(query).one_or_none()
    if row is None:
        raise LearningError([("recommendation", f"there is no recommendation L-{recommendation_id}")])
    return row


# --------------------------------------------------------------------------- actions


OWNER_ID = re.compile(r".*\(\s*([A-Za-z0-9][A-Za-z0-9_-]{0,31})\s*\)")  # "Adam Harrison (S10292)"
MAX_OWNER_MATCHES = 5


def resolve_owner(session: Session, typed: str) -> tuple[str, str | None]:
    """The staff number an action's owner was typed as, and a problem if there is one. Accepted: a staff
    number, "Name (staff number)" as the screens show people, or a name (or part of one, without digits)
    that exactly one account holds; several matches are refused, naming them, so the right number can be
    typed. Anything else is passed on as typed, for `add_action` to check as a staff number."""
    typed = typed.strip()
    shown = OWNER_ID.fullmatch(typed)
    if shown:
        return shown.group(1), None
    if not typed or any(c.isdigit() for c in typed) or workforce.existing_staff_ids(session, [typed]):
        return typed, None
    accounts, _total = identity.list_accounts(session, typed, limit=MAX_OWNER_MATCHES + 1)
    exact = [a for a in accounts if a.display_name.casefold() == typed.casefold()]
    matches = exact or accounts
    if len(matches) == 1:
        return matches[0].staff_id, None
    if not matches and re.fullmatch(STAFF_ID_PATTERN, typed):
        return typed, None  # refused by add_action as a staff number not in the register
    if not matches:
        return typed, f"{typed} is not in the staff register: type a staff number, e.g. S10042, or a name"
    named = ", ".join(f"{a.display_name} ({a.staff_id})" for a in matches[:MAX_OWNER_MATCHES])
    more = " and others" if len(matches) > MAX_OWNER_MATCHES else ""
    return typed, f"“{typed}” matches more than one person ({named}{more}): type the staff number"


def add_action(session: Session, recommendation_id: int, values: Mapping[str, Any], actor: str) -> int:
    """An action with its owner (a member of staff in the staff register, typed as a staff number or a
    name: `resolve_owner`) and due date. Returns its id."""
    recommendation = _recommendation_row(session, recommendation_id, lock=True)
    owner_id, owner_problem = resolve_owner(session, str(values.get("owner_staff_id") or ""))
    values = {**values, "owner_staff_id": owner_id}
    cells = _reader(values)
    text = cells.text("text", required=True, max_length=MAX_NOTE)
    owner = cells.text(
        "owner_staff_id", required=True, max_length=32, pattern=STAFF_ID_PATTERN, form=STAFF_ID_FORM
    )
    due_on = cells.date("due_on", required=True)
    extra = []
    if owner_problem is not None:
        extra.append(("owner_staff_id", owner_problem))
        cells.problems[:] = [p for p in cells.problems if p.column != "owner_staff_id"]
    elif owner is not None and not workforce.existing_staff_ids(session, [owner]):
        extra.append(("owner_staff_id", f"{owner} is not in the staff register"))
    if recommendation.status in CLOSING_STATUSES:
        extra.append(
            ("recommendation", f"it is {STATUSES[recommendation.status].lower()}: reopen it to add actions")
        )
    _refuse_if(cells, extra)
    assert text is not None and owner is not None and due_on is not None
    now = utcnow()
    row = LearningAction(
        recommendation_id=recommendation_id,
        text=text,
        owner_staff_id=owner,
        due_on=due_on,
        status="open",
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    ledger.record(
        session,
        EntryDraft(
            actor=actor,
            op=Op.COLLECTION,
            object_type=ACTION_TYPE,
            object_id=str(row.id),
            subjects=(owner,),
            detail={
                "recommendation_id": recommendation_id,
                "fields": ["due_on", "owner_staff_id", "text"],
                "due_on": due_on.isoformat(),
            },
        ),
    )
    return row.id


def complete_action(
    session: Session,
    action_id: int,
    values: Mapping[str, Any],
    actor: str,
    *,
    recommendation_id: int | None = None,
    on: date | None = None,
) -> None:
    """Mark an open action done on `completed_on` (not in the future) with its evidence.

    The recommendation is locked, then the action locked and read afresh (the same order as the other
    changes), so two completions at once are one after the other: the second finds it done."""
    found = session.scalar(select(LearningAction.recommendation_id).where(LearningAction.id == action_id))
    if found is None or (recommendation_id is not None and found != recommendation_id):
        raise LearningError([("action", f"there is no action {action_id} on this recommendation")])
    _recommendation_row(session, found, lock=True)
    query = (
        select(LearningAction)
        .where(LearningAction.id == action_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    row = session.scalars(query).one()
    cells = _reader(values)
    completed_on = cells.date("completed_on", required=True)
    evidence = cells.text("evidence", required=True, max_length=MAX_NOTE)
    extra = []
    if completed_on is not None and completed_on > (on or today()):
        extra.append(("completed_on", "is in the future"))
    if row.status != "open":
        extra.append(("action", "is already done"))
    _refuse_if(cells, extra)
    changes = keyed_changes(
        session,
        row,
        {"status": "done", "completed_on": completed_on, "evidence": evidence},
        kind=ACTION_TYPE,
        object_id=str(action_id),
    )
    row.status, row.completed_on, row.evidence = "done", completed_on, evidence
    row.updated_at = utcnow()
    ledger.record(
        session,
        EntryDraft(
            actor=actor,
            op=Op.ALTERATION,
            object_type=ACTION_TYPE,
            object_id=str(action_id),
            subjects=(row.owner_staff_id,),
            detail={"recommendation_id": row.recommendation_id, "changes": changes, "status": "done"},
        ),
    )


# --------------------------------------------------------------------------- reading


def _action_rows(session: Session, ids: Sequence[int]) -> list[LearningAction]:
    if not ids:
        return []
    query = (
        select(LearningAction)
        .where(LearningAction.recommendation_id.in_(ids))
        .order_by(LearningAction.due_on, LearningAction.id)
    )
    return list(session.scalars(query))


def _names(session: Session, staff_ids: Iterable[str]) -> dict[str, str]:
    """Owners' display names from their accounts (a work allocation, shown like a colleague's name)."""
    names = {}
    for staff_id in sorted(set(staff_ids)):
        account = identity.get_account(session, staff_id)
        if account is not None:
            names[staff_id] = account.display_name
    return names


def _views(session: Session, rows: Sequence[Recommendation]) -> list[RecommendationView]:
    """Views with their actions and controls, in a few queries whatever the number of rows."""
    ids = [row.id for row in rows]
    if not ids:
        return []
    actions: dict[int, list[LearningAction]] = defaultdict(list)
    action_rows = _action_rows(session, ids)
    for action in action_rows:
        actions[action.recommendation_id].append(action)
    names = _names(session, (action.owner_staff_id for action in action_rows))
    controls: dict[int, list[str]] = defaultdict(list)
    order = {code: position for position, code in enumerate(CONTROLS)}
    for link in session.scalars(
        select(RecommendationControl).where(RecommendationControl.recommendation_id.in_(ids))
    ):
        controls[link.recommendation_id].append(link.control_code)
    return [
        RecommendationView(
            id=row.id,
            source_kind=row.source_kind,
            source_reference=row.source_reference,
            issued_on=row.issued_on,
            title=row.title,
            text=row.text,
            accepted=row.accepted,
            reason=row.reason,
            status=row.status,
            evidence=row.evidence,
            controls=tuple(sorted(controls[row.id], key=lambda code: order.get(code, len(order)))),
            actions=tuple(
                ActionView(
                    id=action.id,
                    recommendation_id=action.recommendation_id,
                    text=action.text,
                    owner_staff_id=action.owner_staff_id,
                    owner_name=names.get(action.owner_staff_id),
                    due_on=action.due_on,
                    status=action.status,
                    completed_on=action.completed_on,
                    evidence=action.evidence,
                )
                for action in actions[row.id]
            ),
        )
        for row in rows
    ]


def get_recommendation(session: Session, recommendation_id: int) -> RecommendationView | None:
    row = session.get(Recommendation, recommendation_id)
    return _views(session, [row])[0] if row is not None else None


def list_recommendations(
    session: Session,
    *,
    source_kind: str | None = None,
    status: str | None = None,
    overdue_on: date | None = None,
    control: str | None = None,
) -> list[RecommendationView]:
    """The register, newest first; filters combine. `overdue_on`: only those with an action overdue then."""
    query = select(Recommendation).order_by(Recommendation.issued_on.desc(), Recommendation.id.desc())
    if source_kind:
        query = query.where(Recommendation.source_kind == source_kind)
    if status:
        query = query.where(Recommendation.status == status)
    if control:
        linked = select(RecommendationControl.recommendation_id).where(
            RecommendationControl.control_code == control
        )
        query = query.where(Recommendation.id.in_(linked))
    views = _views(session, list(session.scalars(query)))
    if overdue_on is not None:
        views = [view for view in views if view.overdue_actions(overdue_on)]
    return views


def recommendations_by_control(session: Session) -> dict[str, list[int]]:
    """For the controls catalogue: which recommendations each control answers."""
    found: dict[str, list[int]] = defaultdict(list)
    query = select(RecommendationControl).order_by(RecommendationControl.recommendation_id)
    for link in session.scalars(query):
        found[link.control_code].append(link.recommendation_id)
    return dict(found)
