"""What the application exposes beside its routes: the published schema."""

from fastapi.testclient import TestClient


def test_openapi_documents_the_api_only(client: TestClient) -> None:
    schema = client.get("/api/v1/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert sorted(p for p in paths if not p.startswith("/api/")) == []
    for path in ("/api/v1/disclosures/check", "/api/v1/access-events", "/api/v1/access-check"):
        body = paths[path]["post"]["requestBody"]["content"]["application/json"]["schema"]
        assert body["type"] == "object", path
