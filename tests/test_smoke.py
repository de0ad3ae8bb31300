from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from custodes.identity.permissions import Role
from custodes.ledger import service as ledger
from tests.conftest import log_in, make_account


def test_login_and_home(client: TestClient, db: Session) -> None:
    make_account(db, "S1", {Role.DPU})
    response = log_in(client, "S1")
    assert response.status_code == 303
    page = client.get("/")
    assert page.status_code == 200
    assert "Audit ledger" in page.text
    assert ledger.size(db) > 0
