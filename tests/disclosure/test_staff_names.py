"""Who requested, authorised, released, reviewed or changed something is shown by name with the staff
number ("Olive Officer (S1001)"), and an area by its configured name with the code, on the disclosure
screens and documents: a sergeant between jobs should not have to look a staff number up."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from custodes.disclosure import service as disclosure
from custodes.disclosure import web as disclosure_web
from custodes.disclosure.schemas import ReviewOutcome
from custodes.identity import service as identity
from tests.conftest import PASSWORD, log_in
from tests.disclosure.world import make_world, principal, scheme_request

OLIVE, ALAN, DEE = "Olive Officer (S1001)", "Alan Coordinator (S1002)", "Dee Protection (S1004)"


@pytest.fixture
def world(db: Session) -> Session:
    make_world(db)
    for staff_id in ("S1001", "S1002", "S1004"):
        identity.set_password(db, staff_id, PASSWORD, "system:test")
    identity.set_config(db, "area_names", "CZ = Central Zone", principal("S1004"))
    db.commit()
    return db


def _released(world: Session) -> int:
    officer, aic = principal("S1001"), principal("S1002")
    disclosure_id = disclosure.create_draft(world, scheme_request(), officer)
    disclosure.submit(world, disclosure_id, officer)
    disclosure.authorise(world, disclosure_id, aic)
    disclosure.release(world, disclosure_id, aic)
    disclosure.review(world, disclosure_id, principal("S1004"), ReviewOutcome.RETAIN, "still needed")
    world.commit()
    return disclosure_id


def test_the_case_page_names_who_requested_authorised_released_and_reviewed(
    client: TestClient, world: Session
) -> None:
    disclosure_id = _released(world)
    log_in(client, "S1004")
    page = client.get(f"/disclosures/{disclosure_id}").text
    assert f"<dt>Requested by</dt><dd>{OLIVE} on" in page
    assert f"<dt>Authorised</dt><dd>{ALAN} on" in page
    assert f"<dt>Released</dt><dd>{ALAN} on" in page
    assert f"<td>{DEE}</td>" in page  # the review, and the history
    assert "area Central Zone (CZ)" in page
    assert f"<td>{OLIVE}, " in page  # who checked each item against its source


def test_the_request_form_names_who_verified_an_item(client: TestClient, world: Session) -> None:
    disclosure_id = disclosure.create_draft(world, scheme_request(), principal("S1001"))
    world.commit()
    log_in(client, "S1001")
    assert f"Verified by {OLIVE} on" in client.get(f"/disclosures/{disclosure_id}/edit").text


def test_the_lists_name_the_requester_and_the_area(client: TestClient, world: Session) -> None:
    officer = principal("S1001")
    disclosure_id = disclosure.create_draft(world, scheme_request(), officer)
    disclosure.submit(world, disclosure_id, officer)
    world.commit()
    log_in(client, "S1002")
    for url in ("/disclosures/all", "/disclosures/queue/authorise"):
        page = client.get(url).text
        assert f"<td>{OLIVE}</td>" in page and "<td>Central Zone (CZ)</td>" in page, url


def test_the_documents_name_the_people(
    client: TestClient, world: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    printed: list[str] = []
    monkeypatch.setattr(disclosure_web, "html_to_pdf", lambda html: printed.append(html) or b"%PDF-fake")
    disclosure_id = _released(world)
    log_in(client, "S1004")
    client.get(f"/disclosures/{disclosure_id}/authority.pdf")
    assert f"<td>{OLIVE}," in printed[-1] and f"<td>{ALAN}," in printed[-1]
    assert f"<td>{OLIVE}, " in printed[-1].split("Verified")[1]  # the items' checks
    client.get(f"/disclosures/{disclosure_id}/record.pdf")
    assert f"<td>{OLIVE}, released" in printed[-1]
    client.get(f"/disclosures/{disclosure_id}/review.pdf")
    assert f"<td>{DEE}</td>" in printed[-1]


def test_corrections_and_retention_name_who_reported_and_changed(client: TestClient, world: Session) -> None:
    disclosure.report_correction(
        world, principal("S1004"), description="wrong date of birth", system="PNC", record_id="R1"
    )
    disclosure.set_retention_rule(world, "disclosure_released", 2200, "MoPI review", principal("S1004").actor)
    world.commit()
    log_in(client, "S1004")
    assert f"<td>{DEE}</td>" in client.get("/corrections").text
    assert f"by {DEE}</td>" in client.get("/retention").text
