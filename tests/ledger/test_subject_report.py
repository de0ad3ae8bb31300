"""The subject access report's search (ledger.web): a person given by name is led to their subject id, and an
empty result is never presented as a report to be handed over."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from custodes.identity.permissions import Role
from custodes.ledger import service as ledger
from custodes.ledger import web as ledger_web
from custodes.ledger.schemas import EntryDraft, EntryFilter, Op
from tests.workforce.files import store

HANDED = "can be handed to the person who asked"


def _nominals(db: Session, tmp_path: Path, *people: tuple[str, str, str]) -> None:
    folder = tmp_path / "files"
    folder.mkdir(exist_ok=True)
    rows = [{"subject_id": i, "surname": s, "forenames": f, "flags": ""} for i, s, f in people]
    store(db, folder, "nominals", rows)


def _consult(db: Session, subject: str, justification: str = "case page") -> None:
    ledger.record(
        db, EntryDraft("system:test", Op.CONSULTATION, "nominal", subject, (subject,), justification)
    )
    db.commit()


@pytest.mark.parametrize(
    ("typed", "parts"),
    [
        ("Adam Smith", ("Smith", "Adam")),
        ("SMITH Adam", ("SMITH", "Adam")),
        ("Smith, Adam John", ("Smith", "Adam John")),
        ("Mary Ann  Jones", ("Jones", "Mary Ann")),
        ("Smith", ("Smith", "")),
    ],
)
def test_a_typed_name_is_split_into_surname_and_forenames(typed: str, parts: tuple[str, str]) -> None:
    assert ledger_web.name_parts(typed) == parts


def test_a_name_is_told_from_a_subject_id() -> None:
    assert ledger_web.looks_like_name("Adam Smith") and ledger_web.looks_like_name("O'Brien")
    assert not ledger_web.looks_like_name("N509774") and not ledger_web.looks_like_name("S1001")


def test_a_name_given_as_the_person_is_not_an_empty_report_but_leads_to_the_search_by_name(
    client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    """The field took "Adam Smith", answered "0 matching entries concerning Adam Smith" and said the list, the
    CSV and the PDF could be handed to the person who asked, while Adam Smith's id had 49 entries."""
    _consult(db, "N9001")
    logged_in(Role.DPU)
    before = ledger.size(db)
    page = client.get("/audit/entries", params={"subject": "Adam Smith", "reason": "SAR 2026/114"}).text
    assert HANDED not in page and "matching entries" not in page and "Download" not in page
    assert '<div class="field wrong"><label for="subject">' in page
    assert "Person: give a subject id such as N2001, not a name." in page
    assert 'href="/audit/people?surname=Smith&amp;forenames=Adam&amp;reason=SAR+2026%2F114"' in page
    # Nothing shown, nothing recorded: a ledger search's consultation would hold the name in words.
    assert ledger.size(db) == before

    # An id shape with no entries: said plainly, and never offered as a report to hand over.
    page = client.get("/audit/entries", params={"subject": "N9999", "reason": "SAR 2026/114"}).text
    assert "Nothing was found" in page and "Check that the id is right" in page
    assert HANDED not in page and "Download" not in page
    page = client.get("/audit/entries", params={"subject": "N9001", "reason": "SAR 2026/114"}).text
    assert HANDED in page and "1 matching entry concerning" in page


def test_the_search_by_name_finds_the_ids_through_the_register_and_records_a_consultation(
    client: TestClient, db: Session, logged_in: Callable[[Role], str], tmp_path: Path
) -> None:
    _nominals(db, tmp_path, ("N9001", "Smith", "Adam"), ("N9002", "Smith", "Eve"), ("N9003", "Jones", "Adam"))
    _consult(db, "N9001")
    logged_in(Role.DPU)
    page = client.get("/audit/people", params={"surname": "Smith", "forenames": "Adam", "reason": "SAR-9"})
    assert page.status_code == 200
    assert "SMITH, Adam" in page.text and "N9001" in page.text
    assert "N9002" not in page.text and "N9003" not in page.text
    assert 'href="/audit/entries?subject=N9001&amp;reason=SAR-9"' in page.text
    search = ledger.search(db, EntryFilter(object_type="nominal_search"), limit=1)[0]
    assert search.subjects == ["N9001"] and search.justification == "SAR-9"
    assert "audit ledger" in search.detail["purpose"]
    assert "Adam" not in str(search.content) and "Smith" not in str(search.content)  # keyed digests only

    followed = client.get("/audit/entries?subject=N9001&reason=SAR-9").text
    assert "matching entries concerning <strong>N9001</strong>" in followed and HANDED in followed

    refused = client.get("/audit/people", params={"surname": "Smith"})
    assert refused.status_code == 400 and "Reason for this search: give the reason" in refused.text
    assert "N9001" not in refused.text
    bad_date = client.get(
        "/audit/people", params={"surname": "Smith", "date_of_birth": "soon", "reason": "x"}
    )
    assert bad_date.status_code == 400 and "Date of birth: &#39;soon&#39; is not a date" in bad_date.text
    assert client.get("/audit/people").status_code == 200  # the empty form: nothing searched


def test_the_search_by_name_needs_ledger_view(client: TestClient, logged_in: Callable[[Role], str]) -> None:
    logged_in(Role.OFFICER)
    assert client.get("/audit/people", params={"surname": "Smith", "reason": "x"}).status_code == 403
