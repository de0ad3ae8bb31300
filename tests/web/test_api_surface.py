"""What the application exposes beside its routes: the published schema, and CSRF on the screens."""

from fastapi.testclient import TestClient

from custodes.identity.permissions import Role


def test_openapi_documents_the_api_only(client: TestClient) -> None:
    schema = client.get("/api/v1/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert sorted(p for p in paths if not p.startswith("/api/")) == []
    for path in ("/api/v1/disclosures/check", "/api/v1/access-events", "/api/v1/access-check"):
        body = paths[path]["post"]["requestBody"]["content"]["application/json"]["schema"]
        assert body["type"] == "object", path


def test_a_bearer_header_does_not_skip_csrf_on_the_screens(client: TestClient, logged_in) -> None:  # type: ignore[no-untyped-def]
    logged_in(Role.OFFICER)
    assert client.post("/logout", data={}).status_code == 403
    logged_in(Role.OFFICER)
    assert client.post("/logout", data={}, headers={"Authorization": "Bearer junk"}).status_code == 403
