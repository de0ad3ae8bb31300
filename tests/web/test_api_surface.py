"""What the application exposes beside its routes: the published schema, and CSRF on the screens."""

from fastapi import FastAPI
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


def test_only_a_number_too_large_for_the_database_is_not_found(app: FastAPI) -> None:
    """The OverflowError handler answers 404 for sqlite3's "too large to convert to SQLite INTEGER" (a
    record number), not for every overflow: date arithmetic overflowing is a defect (500), not a missing
    record."""

    def overflow(kind: str) -> None:
        if kind == "id":
            raise OverflowError("Python int too large to convert to SQLite INTEGER")
        raise OverflowError("date value out of range")

    app.router.add_api_route("/api/v1/test-overflow/{kind}", overflow)
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as client:
        assert client.get("/api/v1/test-overflow/id").status_code == 404
        assert client.get("/api/v1/test-overflow/date").status_code == 500
