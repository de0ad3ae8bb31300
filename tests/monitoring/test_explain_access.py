"""Explaining one access outside the command line (issue 5): `GET /api/v1/access-events/{id}/explanation`
(scope `access-explain`) and the unit's "Explain an access" screen. What the command line prints, as JSON or
in words; each showing a consultation in the ledger; on the screen, never an access the viewer's alert
screens would keep from them, nor one whose alert still shows its member of staff by a code."""

from __future__ import annotations

import html as html_lib
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from custodes.identity import service as identity
from custodes.identity.permissions import SCOPE_REACH, SCOPES_NEEDING_SECOND_ADMIN, Role, Scope
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter, StoredEntry
from custodes.monitoring import casework
from custodes.monitoring import service as monitoring
from custodes.monitoring.models import Alert
from custodes.settings import Settings
from tests.conftest import log_in, make_account, post_form
from tests.monitoring.world import ACTOR, event, ingest, load_world

UNIT = "CCU9"  # a member of the unit who is nobody in the accesses
SEARCHER = "S1"  # did e1, e2 and e4; given the unit's role to try explaining their own access
LOOKED_AT = "S2"  # N-COL is their record: e3 is about them

ACCESSES = [
    event("e1", "N-NB"),  # a neighbour, no case: NEIGHBOUR, UNEXPLAINED
    event("e2", "N-CASE", hour=11),  # explained by case C-1, assigned to S1
    event("e3", "N-COL", hour=12, staff="S3"),  # S3 looks up S2's own record
    event("e4", "N-SELF", hour=13),  # S1 looks up themself
    event("e5", "N-SELF", hour=14, staff="S3"),  # S3 looks up S1's record
]


@pytest.fixture
def accesses(db: Session, settings: Settings, tmp_path: Path) -> None:
    load_world(db)
    ingest(db, settings, tmp_path, ACCESSES)
    for staff_id in (UNIT, SEARCHER, LOOKED_AT):
        make_account(db, staff_id, {Role.CCU})


def _bearer(db: Session, *scopes: Scope) -> dict[str, str]:
    token = identity.create_api_token(db, "case management", list(scopes), ACTOR)
    db.commit()
    return {"Authorization": f"Bearer {token}"}


def _explained(db: Session, event_id: str) -> list[StoredEntry]:
    db.expire_all()
    return ledger.search(db, EntryFilter(op="consultation", object_type="access_event", object_id=event_id))


def text_of(html: str) -> str:
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", html)).split())


# --------------------------------------------------------------------------- the API


def test_the_api_gives_what_monitor_explain_prints_and_records_it(
    client: TestClient, db: Session, accesses: None
) -> None:
    headers = _bearer(db, Scope.ACCESS_EXPLAIN)
    answer = client.get("/api/v1/access-events/e2/explanation", headers=headers)
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert list(found) == ["event", "explanation", "words", "rules", "cases_involving_subject"]
    assert found["event"]["event_id"] == "e2" and found["event"]["staff_id"] == SEARCHER
    assert found["event"]["occurred_at"] == "2026-10-05T11:00:00.000000Z"
    assert found["explanation"] == "assigned_case"
    assert "explained by case C-1, assigned to S1" in found["words"]
    assert found["rules"] == []
    (case,) = found["cases_involving_subject"]
    assert (case["case_ref"], case["team_id"], case["assigned_staff"], case["closed_at"]) == (
        "C-1",
        "T1",
        ["S1"],
        None,
    )
    assert case["opened_at"] == "2026-09-01T00:00:00.000000Z"
    unexplained = client.get("/api/v1/access-events/e1/explanation", headers=headers).json()
    assert unexplained["explanation"] is None and unexplained["rules"] == ["NEIGHBOUR", "UNEXPLAINED"]
    assert "no case assigned to S1 or team T1 involves N-NB at that time" in unexplained["words"]
    (entry,) = _explained(db, "e2")
    token_id = max(t.id for t in identity.list_api_tokens(db))
    assert entry.actor == f"system:api-token-{token_id}"
    assert set(entry.subjects) == {SEARCHER, "N-CASE"}
    assert entry.justification == "explaining an access (monitoring), through the API"


def test_the_api_refuses_a_token_without_the_scope_naming_it(
    client: TestClient, db: Session, accesses: None
) -> None:
    headers = _bearer(db, Scope.INGEST, Scope.LEDGER_READ)
    answer = client.get("/api/v1/access-events/e2/explanation", headers=headers)
    assert answer.status_code == 403
    assert answer.json() == {"detail": "this needs access-explain"}
    assert _explained(db, "e2") == []
    assert client.get("/api/v1/access-events/e2/explanation").status_code == 401


def test_the_api_answers_404_for_an_unknown_access_and_records_nothing(
    client: TestClient, db: Session, accesses: None
) -> None:
    headers = _bearer(db, Scope.ACCESS_EXPLAIN)
    answer = client.get("/api/v1/access-events/nope/explanation", headers=headers)
    assert answer.status_code == 404
    assert answer.json() == {"detail": "no stored access has event_id 'nope'"}
    assert _explained(db, "nope") == []


def test_the_api_window_names_the_bound_that_leaves_the_access_out(
    client: TestClient, db: Session, accesses: None
) -> None:
    headers = _bearer(db, Scope.ACCESS_EXPLAIN)
    url = "/api/v1/access-events/e1/explanation"
    inside = client.get(url, params={"from": "2026-10-05", "to": "2026-10-05"}, headers=headers)
    assert inside.status_code == 200 and inside.json()["rules"] == ["NEIGHBOUR", "UNEXPLAINED"]
    for bounds, field in (({"from": "2026-10-06"}, "from"), ({"to": "2026-10-04"}, "to")):
        refused = client.get(url, params=bounds, headers=headers)
        assert refused.status_code == 422, bounds
        (problem,) = refused.json()["detail"]
        assert problem["field"] == field and "outside the window" in problem["problem"]
    assert len(_explained(db, "e1")) == 1  # only the one shown


def test_the_scope_waits_for_a_second_administrator_when_made_on_the_screens() -> None:
    assert Scope.ACCESS_EXPLAIN == "access-explain"
    assert SCOPE_REACH[Scope.ACCESS_EXPLAIN] and Scope.ACCESS_EXPLAIN in SCOPES_NEEDING_SECOND_ADMIN


# --------------------------------------------------------------------------- the screen


def _as(client: TestClient, staff_id: str) -> None:
    client.cookies.clear()
    assert log_in(client, staff_id).status_code == 303  # type: ignore[attr-defined]


def _explain(client: TestClient, event_id: str, reason: str = "Complaint 2026/14 from the person") -> object:
    return post_form(client, "/monitoring/explain", {"event_id": event_id, "reason": reason})


def test_the_unit_explains_an_access_on_the_screen_with_a_reason(
    client: TestClient, db: Session, accesses: None
) -> None:
    _as(client, UNIT)
    form = client.get("/monitoring/explain")
    assert form.status_code == 200 and 'action="/monitoring/explain"' in form.text
    assert 'href="/monitoring/explain"' in client.get("/monitoring").text
    assert 'href="/monitoring/explain"' in client.get("/alerts").text
    shown = _explain(client, "e2")
    assert shown.status_code == 200, shown.text  # type: ignore[attr-defined]
    words = text_of(shown.text)  # type: ignore[attr-defined]
    assert "Case assigned to the searcher." in words
    assert "explained by case C-1, assigned to S1" in words
    assert "Rules it meets None" in words and "C-1 team T1 S1" in words
    (entry,) = _explained(db, "e2")
    assert entry.actor == f"staff:{UNIT}" and set(entry.subjects) == {SEARCHER, "N-CASE"}
    assert entry.justification == "explaining an access (monitoring): Complaint 2026/14 from the person"
    unexplained = text_of(_explain(client, "e1").text)  # type: ignore[attr-defined]
    assert "No work explains it." in unexplained and "Lives near them" in unexplained


def test_the_screen_needs_an_event_id_and_a_reason(client: TestClient, db: Session, accesses: None) -> None:
    _as(client, UNIT)
    refused = _explain(client, "", reason=" ")
    assert refused.status_code == 400  # type: ignore[attr-defined]
    words = text_of(refused.text)  # type: ignore[attr-defined]
    assert "Please give the access's event id." in words
    assert "Please give a reason for looking at this access." in words
    no_reason = _explain(client, "e2", reason="")
    assert no_reason.status_code == 400  # type: ignore[attr-defined]
    assert _explained(db, "e2") == []
    bad_day = post_form(client, "/monitoring/explain", {"event_id": "e2", "reason": "r", "from": "soon"})
    assert bad_day.status_code == 400  # type: ignore[attr-defined]
    assert "From: 'soon' is not a date (YYYY-MM-DD)." in text_of(bad_day.text)  # type: ignore[attr-defined]
    assert _explained(db, "e2") == []


def test_nobody_is_explained_their_own_access_or_one_about_them(
    client: TestClient, db: Session, accesses: None
) -> None:
    """An access by the viewer (e1, by S1), or about them (e3, S2's own record), is kept from them as its
    alert would be: refused in the same words as an access that does not exist, and nothing recorded."""
    for viewer, event_id in ((SEARCHER, "e1"), (LOOKED_AT, "e3"), (UNIT, "nope")):
        _as(client, viewer)
        refused = _explain(client, event_id)
        assert refused.status_code == 404, (viewer, event_id)  # type: ignore[attr-defined]
        assert casework.NO_SUCH_ACCESS in text_of(refused.text)  # type: ignore[attr-defined]
        assert _explained(db, event_id) == []
    _as(client, LOOKED_AT)
    assert _explain(client, "e2").status_code == 200  # type: ignore[attr-defined]  # someone else's access


def test_an_access_on_an_alert_waits_for_its_member_of_staff_to_be_revealed(
    client: TestClient, db: Session, settings: Settings, accesses: None
) -> None:
    """The alert pages show an alert's member of staff by a code until the viewer reveals who it is, with
    a reason; the explanation names them, so an access on such an alert is explained only after that."""
    monitoring.run(db, settings, ACTOR)
    db.commit()
    alert_id = db.scalars(select(Alert.alert_id).where(Alert.subject_id == "N-NB")).one()
    _as(client, UNIT)
    refused = _explain(client, "e1")
    assert refused.status_code == 400  # type: ignore[attr-defined]
    assert f"This access is on alert {alert_id}" in text_of(refused.text)  # type: ignore[attr-defined]
    assert _explained(db, "e1") == []
    casework.reveal_identity(db, alert_id, casework_viewer(db, UNIT), "Complaint from the neighbour")
    db.commit()
    assert _explain(client, "e1").status_code == 200  # type: ignore[attr-defined]
    assert len(_explained(db, "e1")) == 1


def test_a_person_withheld_to_keep_a_searcher_hidden_is_not_named_by_an_explanation(
    client: TestClient, db: Session, settings: Settings, accesses: None
) -> None:
    """S1 looked themself up (e4, a SELF alert): while that alert's member of staff is a code to the
    viewer, the record looked at is withheld on every alert, so S3's look-up of it (e5) is not explained
    even once S3's own alert is revealed."""
    monitoring.run(db, settings, ACTOR)
    db.commit()
    unit = casework_viewer(db, UNIT)
    by_s3 = db.scalars(
        select(Alert.alert_id).where(Alert.staff_id == "S3", Alert.subject_id == "N-SELF")
    ).one()
    own = db.scalars(
        select(Alert.alert_id).where(Alert.staff_id == SEARCHER, Alert.subject_id == "N-SELF")
    ).one()
    casework.reveal_identity(db, by_s3, unit, "Complaint")
    db.commit()
    _as(client, UNIT)
    refused = _explain(client, "e5")
    assert refused.status_code == 400  # type: ignore[attr-defined]
    assert f"withheld while alert {own}'s member of staff" in text_of(refused.text)  # type: ignore[attr-defined]
    assert _explained(db, "e5") == []
    casework.reveal_identity(db, own, unit, "Needed to decide")
    db.commit()
    assert _explain(client, "e5").status_code == 200  # type: ignore[attr-defined]


def casework_viewer(db: Session, staff_id: str):  # type: ignore[no-untyped-def]
    principal = identity.principal_for(db, staff_id)
    assert principal is not None
    return principal
