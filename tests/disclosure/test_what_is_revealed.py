"""Findings that give away someone else's data are consultations of that person too (SQLite and PostgreSQL).

`PROTECTED_PERSON` confirms that a name or address typed into a request is a protected witness's or a
refuge's; `DISCLOSER_CONFLICT` tells the reader that a named member of staff declared a relationship with the
subject. The wizard's live findings, the case page, the API check and the CLI check each record a
consultation naming those people, not only the request's subject.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from custodes.cli import app as cli
from custodes.database import Database
from custodes.disclosure import service as disclosure
from custodes.identity import service as identity
from custodes.identity.permissions import Scope
from custodes.imports import load_records
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter, StoredEntry
from custodes.settings import Settings
from tests.conftest import PASSWORD, TEST_SECRET, log_in, post_form
from tests.disclosure.world import ACTOR, make_world, principal, scheme_request

OFFICER, AIC = principal("S1001"), principal("S1002")
runner = CliRunner()


@pytest.fixture
def world(db: Session) -> Session:
    make_world(db)
    for staff_id in ("S1001", "S1002"):
        identity.set_password(db, staff_id, PASSWORD, "system:test")
    db.commit()
    return db


def _consultations(db: Session, **wanted: object) -> list[StoredEntry]:
    ledger.flush_pending(db)
    return [
        e
        for e in ledger.search(db, EntryFilter(op="consultation"), limit=1000)
        if all(getattr(e, key) == value for key, value in wanted.items())
    ]


def _probing(content: str) -> dict[str, object]:
    request = scheme_request()
    request["items"][1]["content"] = content  # type: ignore[index]
    return request


def _declare(db: Session, staff_id: str, relationship: str, subject_id: str) -> None:
    row = {
        "declaration_id": f"D-{staff_id}", "staff_id": staff_id, "kind": "conflict_of_interest",
        "subject_id": subject_id, "surname": "", "forenames": "", "date_of_birth": "", "postcode": "",
        "relationship": relationship, "declared_at": "2026-01-01T00:00:00+00:00",
    }  # fmt: skip
    load_records(db, "declarations", [row], ACTOR)
    db.flush()


def test_probing_a_protected_address_in_a_draft_consults_the_protected_person(world: Session) -> None:
    disclosure_id = disclosure.create_draft(world, scheme_request(), OFFICER)
    result = disclosure.preview(world, disclosure_id, _probing("Seen near 4 Refuge Close"), OFFICER)
    assert "PROTECTED_PERSON" in result.codes()
    shown = _consultations(world, object_type="disclosure", object_id=str(disclosure_id))
    assert [list(e.subjects) for e in shown] == [["N2001", "N2002"]]
    quiet = disclosure.preview(world, disclosure_id, scheme_request(), OFFICER)
    assert "PROTECTED_PERSON" not in quiet.codes()
    shown = _consultations(world, object_type="disclosure", object_id=str(disclosure_id))
    assert [list(e.subjects) for e in shown] == [["N2001"], ["N2001", "N2002"]]  # newest first


def test_the_wizards_live_findings_consult_the_protected_person(client: TestClient, world: Session) -> None:
    disclosure_id = disclosure.create_draft(world, scheme_request(), OFFICER)
    world.commit()
    log_in(client, "S1001")
    form = {
        "route": "partnership_scheme",
        "subject": "N2001",
        "purpose": "prevention_of_crime",
        "scheme": "SCH-01",
        "item-0-kind": "other",
        "item-0-content": "Often with Jane Witness",
    }
    live = post_form(client, f"/disclosures/{disclosure_id}/findings", form)
    assert "PROTECTED_PERSON" in {f["code"] for f in live.json()["findings"]}  # type: ignore[attr-defined]
    shown = _consultations(world, object_type="disclosure", object_id=str(disclosure_id), actor="staff:S1001")
    assert [list(e.subjects) for e in shown] == [["N2001", "N2002"]]


def test_a_case_page_showing_a_protected_person_consults_them(client: TestClient, world: Session) -> None:
    request = _probing("Often with Jane Witness")
    disclosure_id = disclosure.create_draft(world, request, OFFICER)
    disclosure.update_draft(world, disclosure_id, request, OFFICER)
    world.commit()
    log_in(client, "S1001")
    assert "protected person" in client.get(f"/disclosures/{disclosure_id}").text
    shown = _consultations(world, object_type="disclosure", object_id=str(disclosure_id))
    assert [list(e.subjects) for e in shown] == [["N2001", "N2002"]]


def test_an_api_check_consults_the_protected_person_and_the_conflicted_authoriser(
    client: TestClient, world: Session
) -> None:
    _declare(world, "S1002", "neighbour", "N2001")
    token = identity.create_api_token(world, "checker", [Scope.DISCLOSURE_CHECK], "system:test")
    world.commit()
    request = _probing("Often with Jane Witness")
    request["authorisation"] = {"by": "S1002", "at": "2026-10-03T10:00:00Z"}
    response = client.post(
        "/api/v1/disclosures/check", json=request, headers={"Authorization": f"Bearer {token}"}
    )
    codes = {f["code"] for f in response.json()["findings"]}
    assert {"PROTECTED_PERSON", "DISCLOSER_CONFLICT"} <= codes
    assert all("about" not in f for f in response.json()["findings"])
    shown = _consultations(world, object_type="disclosure_check")
    assert [list(e.subjects) for e in shown] == [["N2001", "N2002", "S1002"]]


def test_a_preview_does_not_name_the_officer_for_their_own_conflict(world: Session) -> None:
    _declare(world, "S1001", "relative", "N2001")
    disclosure_id = disclosure.create_draft(world, scheme_request(), OFFICER)
    assert "DISCLOSER_CONFLICT" in disclosure.preview(world, disclosure_id, scheme_request(), OFFICER).codes()
    shown = _consultations(world, object_type="disclosure", object_id=str(disclosure_id))
    assert [list(e.subjects) for e in shown] == [["N2001"]]


@pytest.fixture
def installation(backend: str, new_database: Callable[[str], str], tmp_path: Path) -> dict[str, str]:
    env = {
        "CUSTODES_HOME": str(tmp_path),
        "CUSTODES_DATABASE_URL": new_database(backend),
        "CUSTODES_SECRET_KEY": TEST_SECRET,
    }
    settings = Settings(home=tmp_path, database_url=env["CUSTODES_DATABASE_URL"], secret_key=TEST_SECRET)
    ledger.ensure_signing_key(settings)
    database = Database.open(settings)
    with database.factory.begin() as session:
        make_world(session)
    database.close()
    return env


def test_a_cli_check_consults_the_protected_person(installation: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "request.json"
    path.write_text(json.dumps(_probing("Seen near 4 Refuge Close")))
    result = runner.invoke(cli, ["disclosure", "check", str(path)], env=installation)
    assert result.exit_code == 0, result.output
    assert "PROTECTED_PERSON" in {f["code"] for f in json.loads(result.stdout)["findings"]}
    settings = Settings(
        home=tmp_path, database_url=installation["CUSTODES_DATABASE_URL"], secret_key=TEST_SECRET
    )
    database = Database.open(settings)
    try:
        with database.factory() as session:
            shown = _consultations(session, object_type="disclosure_check")
            assert [(e.actor, list(e.subjects)) for e in shown] == [("system:cli", ["N2001", "N2002"])]
    finally:
        database.close()
