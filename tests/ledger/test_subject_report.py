"""The subject access report's search (ledger.web): a person given by name is led to their subject id, and an
empty result is never presented as a report to be handed over."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from custodes.disclosure import service as disclosure
from custodes.identity.permissions import Role
from custodes.ledger import service as ledger
from custodes.ledger import web as ledger_web
from custodes.ledger.schemas import EntryDraft, EntryFilter, Op
from tests.disclosure.world import make_world, principal, scheme_request
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
    assert "for the subject id <strong>N9999</strong>. Check" in page  # no other criteria to blame
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


def _pdf(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    rendered: list[str] = []
    monkeypatch.setattr(ledger_web, "html_to_pdf", lambda html: rendered.append(html) or b"%PDF")
    return rendered


def _link(page: str, path: str) -> str:
    found = re.search(rf'href="({re.escape(path)}\?[^"]*)"', page)
    assert found, page
    return html.unescape(found.group(1))


def test_the_list_the_csv_and_the_pdf_hold_the_same_entries(
    client: TestClient, db: Session, logged_in: Callable[[Role], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """49 on screen, 50 in the CSV and 51 in the PDF: each search and export records itself (naming the
    person), so each found one more. The search now holds to the ledger's size when it was made, carried in
    its links."""
    for n in range(3):
        _consult(db, "N9001", f"case page {n}")
    logged_in(Role.DPU)
    page = client.get("/audit/entries?subject=N9001&reason=SAR-5").text
    total = int(re.search(r"(\d+) matching entries concerning", page).group(1))  # type: ignore[union-attr]
    assert total == 3 and "Entries up to no." in page
    csv_link, pdf_link = _link(page, "/audit/export.csv"), _link(page, "/audit/export.pdf")
    _consult(db, "N9001", "looked at again meanwhile")  # and the search itself was recorded, naming N9001

    exported = list(csv.DictReader(io.StringIO(client.get(csv_link).text)))
    rendered = _pdf(monkeypatch)
    assert client.get(pdf_link).content == b"%PDF"
    assert len(exported) == total
    assert f"<tr><td>Entries</td><td>{total}</td></tr>" in rendered[0]
    assert "looked at again meanwhile" not in rendered[0] and "Up to</td>" in rendered[0]
    again = client.get(_link(page, "/audit/export.csv")).text  # the same link, later: the same entries
    assert len(list(csv.DictReader(io.StringIO(again)))) == total
    # A new search (the form carries no limit) sees everything since, its own earlier records among them.
    newer = client.get("/audit/entries?subject=N9001&reason=SAR-5").text
    assert int(re.search(r"(\d+) matching entries concerning", newer).group(1)) > total  # type: ignore[union-attr]
    bad = client.get("/audit/entries?subject=N9001&reason=SAR-5&upto=soon")
    assert "Entries up to: &#39;soon&#39; is not an entry number" in bad.text


def test_a_subject_access_report_reads_in_words_and_is_headed_with_the_person_s_name(
    client: TestClient, db: Session, logged_in: Callable[[Role], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Record column showed "disclosure 12" and "nominal_search", the PDF was headed with the id alone,
    the CSV's detail was raw JSON with HMACs and its actor_name empty on every row."""
    make_world(db)
    request = scheme_request()
    disclosure_id = disclosure.create_draft(db, request, principal("S1001"))
    disclosure.update_draft(db, disclosure_id, request, principal("S1001"))
    disclosure.submit(db, disclosure_id, principal("S1001"))
    disclosure.authorise(db, disclosure_id, principal("S1002"), "grounds are current")
    reference = disclosure.release(db, disclosure_id, principal("S1002"))
    draft = disclosure.create_draft(db, scheme_request(), principal("S1001"))  # not released: no reference
    db.commit()
    logged_in(Role.DPU)
    page = client.get("/audit/entries?subject=N2001&reason=SAR-6").text
    assert f"<td>Disclosure {reference}</td>" in page and f"<td>Disclosure request {draft}</td>" in page
    assert f"<td>disclosure {disclosure_id}</td>" not in page
    assert "by staff number only" in page

    exported = list(csv.DictReader(io.StringIO(client.get(_link(page, "/audit/export.csv")).text)))
    assert exported and "actor_name" not in exported[0]  # staff by number only: no empty column
    released = [row for row in exported if row["object_id"] == str(disclosure_id)]
    assert {row["what"] for row in released} >= {f"Shared: Disclosure {reference} (released)"}
    assert all(row["object_type"] == "disclosure" for row in released)  # the codes, as recorded

    rendered = _pdf(monkeypatch)
    client.get(_link(page, "/audit/export.pdf"))
    assert "Everything done with the data of Jack Smith (N2001)" in rendered[0]
    assert f"<td>Disclosure {reference}</td>" in rendered[0] and "by staff number only" in rendered[0]
    shown = ledger.search(db, EntryFilter(object_type="nominal", subject="N2001"), limit=1)[0]
    assert shown.op == "consultation" and shown.justification == "SAR-6"  # the name's showing, recorded

    entry_page = client.get(f"/audit/entries/{released[0]['index']}").text
    assert f"Disclosure {reference}" in entry_page


def test_records_read_in_words() -> None:
    assert ledger_web.record_words("nominal_search", None) == "Search for a person by name"
    assert ledger_web.record_words("disclosure_correction", "2") == "Correction 2"
    assert ledger_web.record_words("disclosure", "12") == "Disclosure request 12"
    assert ledger_web.record_words("disclosure", "12", "NA/007/26") == "Disclosure NA/007/26"
    assert ledger_web.record_words("something_new", "7") == "Something new 7"
