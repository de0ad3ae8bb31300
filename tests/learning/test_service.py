"""The learning register's rules: recommendations, actions, control links, and what the ledger records."""

from __future__ import annotations

import hashlib
import json
from datetime import date

import pytest
from sqlalchemy.orm import Session

from custodes import registers
from custodes.database import SETTINGS_KEY
from custodes.disclosure.rules import FINDINGS
from custodes.learning import service as learning
from custodes.learning.controls import CONTROLS, FAMILIES
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter
from custodes.settings import Settings
from tests.learning.helpers import (
    ACTION,
    ACTOR,
    OTHER_OWNER,
    OWNER,
    RECOMMENDATION,
    make_learning,
    make_owners,
)

DAY = date(2025, 1, 15)


def logged(db: Session, **criteria: str) -> list[ledger.StoredEntry]:
    db.flush()
    db.commit()
    return ledger.search(db, EntryFilter(**criteria), limit=100)  # type: ignore[arg-type]


def problems(error: pytest.ExceptionInfo[learning.LearningError]) -> dict[str, str]:
    return dict(error.value.problems)


def test_the_catalogue_reads_the_disclosure_codes_and_has_the_gate_detectors_and_features() -> None:
    assert set(FINDINGS) <= set(CONTROLS)
    assert CONTROLS["FACT_UNVERIFIED"].where == "/disclosures/findings"
    assert CONTROLS["FACT_UNVERIFIED"].title == "An item is not verified against a record"
    for code in ("NOT_TRAINED", "NOT_VETTED", "DECLARED_CONFLICT", "SELF", "NO_PURPOSE"):
        assert CONTROLS[code].family in ("gate", "gate_detector")
    for code in ("NEIGHBOUR", "UNEXPLAINED", "REPEATED_INTEREST", "VOLUME_ANOMALY", "OFF_DUTY"):
        assert CONTROLS[code].family == "detector"
    for code in ("LEDGER", "STOPSEARCH_REPORT", "VETTING_DISPARITY", "DECLARATION_REGISTERS"):
        assert CONTROLS[code].family == "feature" and CONTROLS[code].where.startswith("/")
    assert all(control.family in FAMILIES for control in CONTROLS.values())
    assert all(code.isupper() for code in CONTROLS)


def test_create_read_and_the_ledger(db: Session) -> None:
    ids = make_learning(db)
    found = learning.get_recommendation(db, int(ids["recommendation_id"]))
    assert found is not None and found.label == f"L-{ids['recommendation_id']}"
    assert found.controls == ("LAWFUL_BASIS_MISSING", "DISCLOSER_TRAINING_EXPIRED")  # catalogue order
    assert found.accepted == "yes" and found.status == "open" and found.reason is None
    (action,) = found.actions
    assert action.owner_staff_id == OWNER and action.owner_name == "Olive Owen"
    assert action.status == "open" and action.due_on == date(2024, 9, 1)
    assert action.overdue_on(date(2024, 9, 2)) and not action.overdue_on(date(2024, 9, 1))

    (created,) = logged(db, object_type="learning_recommendation")
    assert created.op == "collection" and created.object_id == ids["recommendation_id"]
    assert created.detail["controls"] == ["DISCLOSER_TRAINING_EXPIRED", "LAWFUL_BASIS_MISSING"]
    assert "text" in created.detail["fields"] and RECOMMENDATION["text"] not in str(created.detail)
    (added,) = logged(db, object_type="learning_action")
    assert added.op == "collection" and list(added.subjects) == [OWNER]
    assert added.detail["recommendation_id"] == int(ids["recommendation_id"])


def test_refusals_name_the_field(db: Session) -> None:
    make_owners(db)
    with pytest.raises(learning.LearningError) as error:
        learning.create_recommendation(
            db,
            {
                **RECOMMENDATION,
                "source_kind": "press",
                "issued_on": "2999-01-01",
                "title": "",
                "accepted": "no",
                "status": "done",
                "controls": "FACT_UNVERIFIED;NOT_A_CONTROL",
            },
            ACTOR,
            on=DAY,
        )
    found = problems(error)
    assert set(found) == {"source_kind", "issued_on", "title", "reason", "evidence", "controls"}
    assert found["issued_on"] == "is in the future"
    assert "not (wholly) accepted" in found["reason"]
    assert found["controls"].startswith("NOT_A_CONTROL is not a control of Custodes; choose codes from")
    with pytest.raises(learning.LearningError) as error:
        learning.create_recommendation(db, {**RECOMMENDATION, "controls": "nope, ALSO_NOT"}, ACTOR, on=DAY)
    assert problems(error)["controls"].startswith("NOPE, ALSO_NOT are not controls of Custodes")
    assert logged(db, object_type="learning_recommendation") == []


def test_codes_are_read_leniently() -> None:
    assert learning.split_codes(" ledger, FACT_UNVERIFIED;ledger  self ") == (
        "LEDGER",
        "FACT_UNVERIFIED",
        "SELF",
    )


def _sha256(value: object) -> str:
    return hashlib.sha256(str(value).encode()).hexdigest()


def test_update_records_changes_as_keyed_digests_and_names_control_links(
    db: Session, settings: Settings
) -> None:
    db.info[SETTINGS_KEY] = settings
    ids = make_learning(db)
    rid = int(ids["recommendation_id"])
    changed = {
        **RECOMMENDATION,
        "status": "in_progress",
        "controls": "LAWFUL_BASIS_MISSING;TRAINING_COMPLIANCE",
    }
    assert learning.update_recommendation(db, rid, changed, "staff:D1", on=DAY)
    assert not learning.update_recommendation(db, rid, changed, "staff:D1", on=DAY)
    found = learning.get_recommendation(db, rid)
    assert found is not None and found.status == "in_progress"
    assert found.controls == ("LAWFUL_BASIS_MISSING", "TRAINING_COMPLIANCE")
    (entry,) = logged(db, object_type="learning_recommendation", op="alteration")
    assert entry.actor == "staff:D1" and entry.detail["status"] == "in_progress"
    assert set(entry.detail["changes"]) == {"status"}
    key, object_id = registers.digest_key(settings), str(rid)
    assert entry.detail["changes"]["status"] == {
        "old_hmac": registers.value_digest(key, "learning_recommendation", object_id, "status", "open"),
        "new_hmac": registers.value_digest(
            key, "learning_recommendation", object_id, "status", "in_progress"
        ),
    }
    assert _sha256("in_progress") not in json.dumps(entry.content)  # never a plain digest to guess against
    assert entry.detail["controls"] == {
        "added": ["TRAINING_COMPLIANCE"],
        "removed": ["DISCLOSER_TRAINING_EXPIRED"],
    }


def test_actions_complete_and_closing_needs_them_done(db: Session) -> None:
    ids = make_learning(db)
    rid, aid = int(ids["recommendation_id"]), int(ids["action_id"])
    done = {**RECOMMENDATION, "status": "done", "evidence": "Guidance recirculated; compliance report."}
    with pytest.raises(learning.LearningError) as error:
        learning.update_recommendation(db, rid, done, ACTOR, on=DAY)
    assert problems(error)["status"].startswith("1 action is still open")

    with pytest.raises(learning.LearningError) as error:
        learning.complete_action(db, aid, {"completed_on": "2999-01-01", "evidence": ""}, ACTOR, on=DAY)
    assert problems(error) == {"completed_on": "is in the future", "evidence": "is required"}
    with pytest.raises(learning.LearningError) as error:
        learning.complete_action(
            db, aid, {"completed_on": "2024-08-20", "evidence": "x"}, ACTOR, recommendation_id=999
        )
    assert "there is no action" in problems(error)["action"]
    learning.complete_action(db, aid, {"completed_on": "2024-08-20", "evidence": "Email sent"}, ACTOR, on=DAY)
    with pytest.raises(learning.LearningError) as error:
        learning.complete_action(db, aid, {"completed_on": "2024-08-20", "evidence": "again"}, ACTOR, on=DAY)
    assert problems(error) == {"action": "is already done"}
    (entry,) = logged(db, object_type="learning_action", op="alteration")
    assert list(entry.subjects) == [OWNER] and entry.detail["status"] == "done"

    assert learning.update_recommendation(db, rid, done, ACTOR, on=DAY)
    with pytest.raises(learning.LearningError) as error:
        learning.add_action(db, rid, {**ACTION, "owner_staff_id": OTHER_OWNER}, ACTOR)
    assert problems(error) == {"recommendation": "it is done: reopen it to add actions"}


def test_completing_an_action_records_keyed_digests_never_plain_sha256(
    db: Session, settings: Settings
) -> None:
    """The evidence is free text that may name people, and a completion date is one of a few hundred: a
    plain SHA-256 of either gives it back to whoever hashes the candidates; the ledger holds keyed digests."""
    db.info[SETTINGS_KEY] = settings
    ids = make_learning(db)
    aid = int(ids["action_id"])
    learning.complete_action(db, aid, {"completed_on": "2024-08-20", "evidence": "Email sent"}, ACTOR, on=DAY)
    (entry,) = logged(db, object_type="learning_action", op="alteration")
    key, object_id = registers.digest_key(settings), str(aid)

    def keyed(field: str, old: object, new: object) -> dict[str, str]:
        return {
            "old_hmac": registers.value_digest(key, "learning_action", object_id, field, old),
            "new_hmac": registers.value_digest(key, "learning_action", object_id, field, new),
        }

    assert entry.detail["changes"] == {
        "status": keyed("status", "open", "done"),
        "completed_on": keyed("completed_on", None, date(2024, 8, 20)),
        "evidence": keyed("evidence", None, "Email sent"),
    }
    content = json.dumps(entry.content)
    for value in ("Email sent", "2024-08-20", "done", None):
        assert _sha256(value) not in content, value


def test_without_a_secret_key_learning_alterations_name_the_fields_only(db: Session) -> None:
    ids = make_learning(db)
    aid = int(ids["action_id"])
    learning.complete_action(db, aid, {"completed_on": "2024-08-20", "evidence": "Email sent"}, ACTOR, on=DAY)
    (entry,) = logged(db, object_type="learning_action", op="alteration")
    not_recorded = {"values": "not recorded: no installation secret key"}
    assert entry.detail["changes"] == dict.fromkeys(("status", "completed_on", "evidence"), not_recorded)


def test_an_action_needs_a_known_owner_and_a_due_date(db: Session) -> None:
    ids = make_learning(db)
    rid = int(ids["recommendation_id"])
    with pytest.raises(learning.LearningError) as error:
        learning.add_action(db, rid, {"text": "", "owner_staff_id": "NOBODY", "due_on": "soon"}, ACTOR)
    assert problems(error) == {
        "text": "is required",
        "due_on": "'soon' is not a date (YYYY-MM-DD)",
        "owner_staff_id": "NOBODY is not in the staff register",
    }
    with pytest.raises(learning.LearningError) as error:
        learning.add_action(db, 999999, ACTION, ACTOR)
    assert problems(error) == {"recommendation": "there is no recommendation L-999999"}


def test_filters(db: Session) -> None:
    ids = make_learning(db)
    other = learning.create_recommendation(
        db,
        {
            **RECOMMENDATION,
            "source_kind": "HMICFRS",
            "issued_on": "2019-01-01",
            "controls": "STOPSEARCH_REPORT",
        },
        ACTOR,
        on=DAY,
    )
    learning.add_action(db, other, {**ACTION, "due_on": "2030-01-01"}, ACTOR)
    first = int(ids["recommendation_id"])
    assert [r.id for r in learning.list_recommendations(db)] == [first, other]  # newest first
    assert [r.id for r in learning.list_recommendations(db, source_kind="HMICFRS")] == [other]
    assert [r.id for r in learning.list_recommendations(db, status="open")] == [first, other]
    assert learning.list_recommendations(db, status="done") == []
    assert [r.id for r in learning.list_recommendations(db, overdue_on=DAY)] == [first]
    assert [r.id for r in learning.list_recommendations(db, control="STOPSEARCH_REPORT")] == [other]
    assert learning.recommendations_by_control(db)["LAWFUL_BASIS_MISSING"] == [first]
