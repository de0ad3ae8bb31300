"""A small learning register, made through the service as the screens make it."""

from __future__ import annotations

from sqlalchemy.orm import Session

from custodes.imports import load_records
from custodes.learning import service as learning

ACTOR = "system:test"
OWNER = "LRN001"
OTHER_OWNER = "LRN002"
RECOMMENDATION = {
    "source_kind": "IOPC",
    "source_reference": "IOPC learning recommendation, Durham Constabulary, July 2024",
    "issued_on": "2024-07-01",
    "title": "Staff trained in the powers they use to share",
    "text": "The IOPC recommends a review of the way the force shares personal information.",
    "accepted": "yes",
    "reason": "",
    "status": "open",
    "evidence": "",
    "controls": "DISCLOSER_TRAINING_EXPIRED;LAWFUL_BASIS_MISSING",
}
ACTION = {"text": "Recirculate the data-sharing guidance", "owner_staff_id": OWNER, "due_on": "2024-09-01"}


def make_owners(db: Session) -> None:
    load_records(
        db,
        "staff",
        [
            {"staff_id": OWNER, "surname": "Owen", "forenames": "Olive", "role": "dpu"},
            {"staff_id": OTHER_OWNER, "surname": "Mills", "forenames": "Mo", "role": "analyst"},
        ],
        ACTOR,
    )


def make_learning(db: Session) -> dict[str, str]:
    """Staff to own actions, a recommendation with one open action; returns path parameter values."""
    make_owners(db)
    recommendation_id = learning.create_recommendation(db, RECOMMENDATION, ACTOR)
    action_id = learning.add_action(db, recommendation_id, ACTION, ACTOR)
    db.commit()
    return {"recommendation_id": str(recommendation_id), "action_id": str(action_id)}
