"""API refusals for content: 422 with `[{"field", "problem"}]`, naming the field."""

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from custodes.identity import service as identity
from custodes.identity.permissions import Scope
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter

JSON = {"content-type": "application/json"}
EVENT = {
    "event_id": "r1",
    "occurred_at": "2026-01-01T10:00:00+00:00",
    "system": "PNC",
    "staff_id": "S1",
    "action": "view",
    "record_type": "person",
    "record_id": "R1",
    "subject_id": "N1",
}


def _token(db: Session, *scopes: Scope) -> tuple[dict[str, str], str]:
    token = identity.create_api_token(db, "refusals", list(scopes), "system:test")
    db.commit()
    token_id = max(t.id for t in identity.list_api_tokens(db))
    return {"Authorization": f"Bearer {token}"}, f"system:api-token-{token_id}"


def _denied(db: Session, actor: str) -> list[dict[str, object]]:
    db.expire_all()
    return [entry.detail for entry in ledger.search(db, EntryFilter(op="access_denied", actor=actor))]


def test_a_json_syntax_error_names_the_body(client: TestClient, db: Session) -> None:
    headers, _ = _token(db, Scope.DISCLOSURE_CHECK)
    answer = client.post(
        "/api/v1/disclosures/check", content=b'{"route": "one_off",}', headers={**headers, **JSON}
    )
    assert answer.status_code == 422
    assert answer.json()["detail"] == [
        {
            "field": "body",
            "problem": "is not valid JSON: Expecting property name enclosed in double quotes (character 20)",
        }
    ]


def test_ledger_proof_refusals_name_their_field(client: TestClient, db: Session) -> None:
    headers, _ = _token(db, Scope.LEDGER_READ)
    for url, field in [
        ("/api/v1/ledger/proofs/inclusion?index=99999", "index"),
        ("/api/v1/ledger/proofs/inclusion?index=0&size=99999", "size"),
        ("/api/v1/ledger/proofs/consistency?old_size=99999", "old_size"),
        ("/api/v1/ledger/proofs/consistency?old_size=0&new_size=99999", "new_size"),
        ("/api/v1/ledger/proofs/consistency?old_size=x", "old_size"),
    ]:
        answer = client.get(url, headers=headers)
        assert answer.status_code == 422, url
        (problem,) = answer.json()["detail"]
        assert problem["field"] == field and problem["problem"], (url, problem)


def test_ledger_entries_refuse_a_span_past_the_limit(client: TestClient, db: Session) -> None:
    headers, _ = _token(db, Scope.LEDGER_READ)
    answer = client.get("/api/v1/ledger/entries?from=5&to=100006", headers=headers)
    assert answer.status_code == 422
    assert answer.json()["detail"] == [
        {"field": "to", "problem": "is at most 100,000 past from (100005); ask for the rest in more requests"}
    ]
    assert client.get("/api/v1/ledger/entries?from=5&to=100005", headers=headers).status_code == 200
    assert client.get("/api/v1/ledger/entries?from=0", headers=headers).status_code == 200


def test_access_events_refuse_unknown_top_level_keys(client: TestClient, db: Session) -> None:
    headers, _ = _token(db, Scope.INGEST)
    answer = client.post("/api/v1/access-events", json={"events": [EVENT], "event": [EVENT]}, headers=headers)
    assert answer.status_code == 422
    assert answer.json()["detail"] == [
        {"field": "event", "problem": 'is not a field here: the body is {"events": [...]}'}
    ]
    assert client.post("/api/v1/access-events", json={"events": [EVENT]}, headers=headers).status_code == 200
