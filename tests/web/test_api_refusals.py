"""A valid token's request refused for its content is an `access_denied` entry under the token (as the
pre-access gate's are, and as docs/security.md says), and every refusal names its fields as
`[{"field", "problem"}]` with 422."""

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from custodes.identity import service as identity
from custodes.identity.permissions import Scope
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter
from tests.disclosure import world as disclosure_world

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


def test_content_refusals_are_recorded_under_the_token(client: TestClient, db: Session) -> None:
    headers, actor = _token(db, Scope.ACCESS_CHECK, Scope.DISCLOSURE_CHECK, Scope.INGEST, Scope.LEDGER_READ)
    assert client.post("/api/v1/access-check", json={"nonsense": 1}, headers=headers).status_code == 422
    assert len(_denied(db, actor)) == 1  # the gate records its own
    disclosure_world.make_world(db)
    db.commit()
    unknown_subject = {
        "route": "one_off",
        "requested_by": "S1001",
        "subject": "N-DOES-NOT-EXIST",
        "purpose": "safeguarding",
    }
    probes = [
        client.post("/api/v1/disclosures/check", json=unknown_subject, headers=headers),
        client.post("/api/v1/disclosures/check", json=[1], headers=headers),
        client.post("/api/v1/disclosures/check?at=0001-01-01", json=unknown_subject, headers=headers),
        client.post("/api/v1/access-events", json={"evnts": []}, headers=headers),
        client.get("/api/v1/ledger/proofs/inclusion?index=99999", headers=headers),
        client.get("/api/v1/ledger/proofs/consistency?old_size=-1", headers=headers),
        client.get("/api/v1/ledger/entries?from=0&to=100001", headers=headers),
    ]
    assert [p.status_code for p in probes] == [422] * len(probes), [p.text for p in probes]
    recorded = _denied(db, actor)
    assert len(recorded) == 1 + len(probes)
    assert {"method": "POST", "status": 422, "fields": ["body"]} in recorded
    assert {"method": "GET", "status": 422, "fields": ["old_size"]} in recorded
    assert {"method": "GET", "status": 422, "fields": ["to"]} in recorded


def test_refusals_without_a_valid_token_are_not_recorded(client: TestClient, db: Session) -> None:
    before = len(ledger.search(db, EntryFilter(op="access_denied")))
    answer = client.post("/api/v1/disclosures/check", json=[1], headers={"Authorization": "Bearer nope"})
    assert answer.status_code == 401
    db.expire_all()
    assert len(ledger.search(db, EntryFilter(op="access_denied"))) == before


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
