"""Who a request is about is shown as a person, not only an id: beside the subject field, in the case header,
in the release summary and in the lists; each showing is a consultation in the ledger, one per page."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from custodes.disclosure import service as disclosure
from custodes.identity import service as identity
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter
from tests.conftest import PASSWORD, log_in
from tests.disclosure.world import make_world, principal, scheme_request

OFFICER, AIC = principal("S1001"), principal("S1002")
JACK = "Jack SMITH, born 1 May 1990, Maidstone (ME14) — N2001"


@pytest.fixture
def world(db: Session) -> Session:
    make_world(db)
    for staff_id in ("S1001", "S1002", "S1004"):
        identity.set_password(db, staff_id, PASSWORD, "system:test")
    db.commit()
    return db


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace(" ,", ",")


def _consultations(db: Session, actor: str) -> list[object]:
    ledger.flush_pending(db)
    return list(ledger.search(db, EntryFilter(op="consultation", actor=actor), limit=100))


def test_the_new_request_form_shows_who_the_chosen_subject_is_and_logs_it(
    client: TestClient, world: Session
) -> None:
    log_in(client, "S1001")
    before = len(_consultations(world, OFFICER.actor))
    page = client.get("/disclosures/new?subject=N2001&route=one_off")
    assert page.status_code == 200 and JACK in _text(page.text)
    world.expire_all()
    entries = _consultations(world, OFFICER.actor)
    assert len(entries) == before + 1
    assert entries[0].subjects == ["N2001"] and entries[0].justification  # type: ignore[attr-defined]


def test_an_id_not_in_the_register_is_said_to_be_so_and_nothing_is_logged(
    client: TestClient, world: Session
) -> None:
    log_in(client, "S1001")
    before = len(_consultations(world, OFFICER.actor))
    page = client.get("/disclosures/new?subject=N123")
    assert "N123 — not in the nominal register" in _text(page.text)
    world.expire_all()
    assert len(_consultations(world, OFFICER.actor)) == before


def test_a_protected_subject_is_named_but_where_they_live_is_not_shown(
    client: TestClient, world: Session
) -> None:
    log_in(client, "S1001")
    page = client.get("/disclosures/new?subject=N2002").text
    (shown,) = re.findall(r'<p class="hint" id="subject-shown">(.*?)</p>', page, re.S)
    assert _text(shown).strip() == "Jane WITNESS, born 3 Mar 1985 — N2002"


def test_the_wizard_case_page_and_release_summary_name_the_subject_within_the_case_consultation(
    client: TestClient, world: Session
) -> None:
    draft = disclosure.create_draft(world, scheme_request(), OFFICER)
    world.commit()
    log_in(client, "S1001")
    edit = client.get(f"/disclosures/{draft}/edit")
    assert JACK in _text(edit.text)
    case = client.get(f"/disclosures/{draft}")
    assert f"about {JACK}" in _text(case.text)
    world.expire_all()
    # One consultation a page, as before: the case's own, naming the subject.
    after = [e for e in _consultations(world, OFFICER.actor) if e.object_type == "disclosure"]  # type: ignore[attr-defined]
    assert [e.justification for e in after] == ["disclosure case page", "editing own disclosure draft"]  # type: ignore[attr-defined]
    assert all("N2001" in e.subjects for e in after)  # type: ignore[attr-defined]

    disclosure.submit(world, draft, OFFICER)
    disclosure.authorise(world, draft, AIC, "grounds are current")
    world.commit()
    release = _text(client.get(f"/disclosures/{draft}").text)
    summary = release[release.index("You are about to release") :]
    assert f"About {JACK}" in summary


def test_the_lists_name_each_subject_in_one_consultation_a_page(client: TestClient, world: Session) -> None:
    first = disclosure.create_draft(world, scheme_request(), OFFICER)
    second = disclosure.create_draft(world, scheme_request(), OFFICER)
    disclosure.submit(world, second, OFFICER)
    world.commit()
    log_in(client, "S1001")
    before = len(_consultations(world, OFFICER.actor))
    mine = _text(client.get("/disclosures").text)
    assert mine.count("Jack SMITH N2001") == 2, mine
    world.expire_all()
    after = _consultations(world, OFFICER.actor)
    assert len(after) == before + 1 and after[0].subjects == ["N2001"]  # type: ignore[attr-defined]
    assert first != second

    client.cookies.clear()
    log_in(client, "S1002")
    before = len(_consultations(world, AIC.actor))
    queue = _text(client.get("/disclosures/queue/authorise").text)
    assert "Jack SMITH N2001" in queue
    world.expire_all()
    entries = _consultations(world, AIC.actor)
    assert len(entries) == before + 1 and entries[0].subjects == ["N2001"]  # type: ignore[attr-defined]
