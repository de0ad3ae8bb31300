"""`at` on POST /api/v1/disclosures/check: a day the rules can add years to, else 422 naming `at` (at the
ends of the calendar the date arithmetic overflowed, and the app answered 404 "There is no such record")."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from custodes.identity import service as identity
from custodes.identity.permissions import Scope
from tests.disclosure import world as disclosure_world


@pytest.mark.parametrize(
    ("at", "status"),
    [("0001-01-01", 422), ("1899-12-31", 422), ("1900-01-01", 200), ("2200-12-31", 200), ("9999-12-31", 422)],
)
def test_check_at_the_ends_of_the_calendar(client: TestClient, db: Session, at: str, status: int) -> None:
    disclosure_world.make_world(db)
    token = identity.create_api_token(db, "at", [Scope.DISCLOSURE_CHECK], "system:test")
    db.commit()
    headers = {"Authorization": f"Bearer {token}"}
    answer = client.post(
        f"/api/v1/disclosures/check?at={at}", json=disclosure_world.scheme_request(), headers=headers
    )
    assert answer.status_code == status, answer.text
    if status == 422:
        assert answer.json()["detail"] == [
            {"field": "at", "problem": f"must be a day from 1900-01-01 to 2200-12-31, not {at}"}
        ]
