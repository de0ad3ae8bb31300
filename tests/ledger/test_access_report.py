"""The audit search and the subject access report list the accesses to a person's records in police systems
(the monitoring event store), which the ledger holds only as batch entries naming no one: "everything done
with N1's data" used to leave out every police-system look-up of N1, and a search by a member of staff every
look-up they made."""

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

from custodes.identity.permissions import Role
from custodes.ledger import service as ledger
from custodes.ledger import web as ledger_web
from custodes.ledger.schemas import EntryDraft, EntryFilter, Op
from custodes.monitoring import audit_accesses
from custodes.monitoring import service as monitoring
from custodes.settings import Settings
from tests.conftest import make_account
from tests.monitoring.world import ACTOR, event, write_events

SECTION = "Accesses to this person's records in police systems"
BY_STAFF = "Accesses to people's records in police systems by this member of staff"


def _ingest(db: Session, settings: Settings, tmp_path: Path, rows: list[dict[str, str]], name: str) -> int:
    """Store the accesses; the ledger index of their batch's entry."""
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    monitoring.ingest_files(db, settings, [write_events(folder, rows, name)], ACTOR)
    db.commit()
    return ledger.search(db, EntryFilter(object_type="access_batch"), limit=1)[0].index


@pytest.fixture
def accessed(db: Session, settings: Settings, tmp_path: Path) -> int:
    """S1 (an account, "Test S1") looked N1 up three times and N2 once; S2 looked N1 up once."""
    make_account(db, "S1", {Role.OFFICER})
    rows = [
        event("e1", "N1", hour=9),
        event("e2", "N1", hour=10, action="search"),
        event("e3", "N2", hour=11),
        event("e4", "N1", day=1, hour=9, staff="S2"),
        event("e5", "N1", day=2, hour=9),
    ]
    return _ingest(db, settings, tmp_path, rows, "a.csv")


def _link(page: str, path: str) -> str:
    found = re.search(rf'href="({re.escape(path)}\?[^"]*)"', page)
    assert found, page
    return html.unescape(found.group(1))


def _pdf(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    rendered: list[str] = []
    monkeypatch.setattr(ledger_web, "html_to_pdf", lambda html: rendered.append(html) or b"%PDF")
    return rendered


def _section(page: str) -> str:
    return page[page.index('<h2 id="accesses">') :]


def test_the_subject_search_lists_the_person_s_accesses_in_police_systems_and_records_it(
    client: TestClient, db: Session, logged_in: Callable[[Role], str], accessed: int
) -> None:
    dpu = logged_in(Role.DPU)
    page = client.get("/audit/entries", params={"subject": "N1", "reason": "SAR 2026/7"}).text
    assert SECTION in page and "Nothing was found" not in page
    section = _section(page)
    assert "4 accesses recorded" in section
    events = re.findall(r'<td class="mono">(e\d)</td>', section)
    assert events == ["e5", "e4", "e2", "e1"]  # newest first; e3 is N2's
    assert "<td>Test S1 (S1)</td>" in section and "<td>S2</td>" in section  # as the other audit screens
    assert "Viewed a person record in PNC" in section and "Searched a person record in PNC" in section
    assert f'<a href="/audit/entries/{accessed}">{accessed}</a>' in section
    assert "custodes monitor prove EVENT_ID --batch BATCH" in section
    assert "/audit/export.csv?" in page  # no ledger entry names N1, yet there is a report to give

    shown = ledger.search(db, EntryFilter(object_type="access_events"), limit=5)
    assert len(shown) == 1  # one entry: the subject, the reason
    assert shown[0].op == "consultation" and shown[0].actor == f"staff:{dpu}"
    assert list(shown[0].subjects) == ["N1"] and shown[0].justification == "SAR 2026/7"
    assert shown[0].detail == {"criteria": {"subject_id": "N1"}, "shown": 4, "total": 4}


def test_the_subject_access_report_s_csv_and_pdf_hold_the_accesses_with_staff_by_number(
    client: TestClient,
    db: Session,
    settings: Settings,
    tmp_path: Path,
    logged_in: Callable[[Role], str],
    monkeypatch: pytest.MonkeyPatch,
    accessed: int,
) -> None:
    draft = EntryDraft("staff:S1", Op.CONSULTATION, "nominal", "N1", ("N1",), "case page")
    ledger.record(db, draft)
    db.commit()
    logged_in(Role.DPU)
    page = client.get("/audit/entries", params={"subject": "N1", "reason": "SAR 2026/7"}).text
    # Accessed again after the search was made: not part of it, as for the ledger's own entries.
    later = _ingest(db, settings, tmp_path, [event("e9", "N1", day=3)], "b.csv")
    assert later > accessed

    exported = list(csv.DictReader(io.StringIO(client.get(_link(page, "/audit/export.csv")).text)))
    assert "actor_name" not in exported[0]  # a report on one person: staff by number only
    access_rows = [row for row in exported if row["kind"] == "police system access"]
    assert {row["kind"] for row in exported} == {"ledger entry", "police system access"}
    assert [row["object_id"] for row in access_rows] == ["e5", "e4", "e2", "e1"]
    assert all(row["batch_entry"] == str(accessed) and row["index"] == "" for row in access_rows)
    assert access_rows[0]["actor"] == "staff:S1" and access_rows[1]["actor"] == "staff:S2"
    assert access_rows[0]["subjects"] == "N1" and access_rows[0]["what"] == "Viewed a person record in PNC"
    assert access_rows[0]["at_utc"].startswith("2026-10-07T09:00:00")
    assert all(row["batch_entry"] == "" for row in exported if row["kind"] == "ledger entry")

    rendered = _pdf(monkeypatch)
    client.get(_link(page, "/audit/export.pdf"))
    report = rendered[0]
    assert "Accesses to this person's records in police systems" in report
    assert "<tr><td>Accesses in police systems</td><td>4</td></tr>" in report
    assert re.findall(r'<td class="mono">(e\d)</td>', report) == ["e5", "e4", "e2", "e1"]
    assert f"<td>{accessed} (batch " in report and ">e9<" not in report  # hashes in hex may hold "e9"
    assert "<td>S1</td>" in report and "Test S1" not in report  # by number only, as the entries


def test_a_search_by_a_member_of_staff_lists_their_accesses(
    client: TestClient, db: Session, logged_in: Callable[[Role], str], accessed: int
) -> None:
    logged_in(Role.AUDITOR)
    page = client.get("/audit/entries", params={"actor": "S1", "reason": "PSD 44"}).text
    section = _section(page)
    assert BY_STAFF in page and "4 accesses recorded" in section
    assert re.findall(r'<td class="mono">(e\d)</td>', section) == ["e5", "e3", "e2", "e1"]
    assert "<td>N2</td>" in section and ">e4<" not in section  # S2's is not theirs
    shown = ledger.search(db, EntryFilter(object_type="access_events"), limit=1)[0]
    assert sorted(shown.subjects) == ["N1", "N2", "S1"] and shown.justification == "PSD 44"

    # The person and the member of staff together: S2's access to N1 only.
    both = _section(client.get("/audit/entries", params={"subject": "N1", "actor": "S2", "reason": "x"}).text)
    assert re.findall(r'<td class="mono">(e\d)</td>', both) == ["e4"]
    named = ledger.search(db, EntryFilter(object_type="access_events"), limit=1)[0]
    assert sorted(named.subjects) == ["N1", "S2"]  # both searched for, not the person alone
    # A search narrowed to dates holds the accesses to them too.
    day = _section(
        client.get("/audit/entries", params={"subject": "N1", "since": "2026-10-06", "reason": "x"}).text
    )
    assert re.findall(r'<td class="mono">(e\d)</td>', day) == ["e5", "e4"]


def test_a_person_with_no_accesses_reads_none_recorded(
    client: TestClient, db: Session, logged_in: Callable[[Role], str], accessed: int
) -> None:
    logged_in(Role.DPU)
    page = client.get("/audit/entries", params={"subject": "N7", "reason": "SAR 2026/8"}).text
    assert SECTION in page
    assert "None recorded: the access logs ingested from the force's systems hold no access" in page
    assert ledger.search(db, EntryFilter(object_type="access_events"), limit=1) == []  # nothing shown


def test_the_counter_corruption_unit_is_shown_no_accesses_whoever_is_searched_for(
    client: TestClient, db: Session, logged_in: Callable[[Role], str], accessed: int
) -> None:
    """Casework shows them a member of staff in an alert by pseudonym, with the alert's accesses: a list of
    the same accesses by staff number would reveal who it is."""
    logged_in(Role.CCU)
    page = client.get("/audit/entries", params={"subject": "N1", "reason": "x"}).text
    assert SECTION in page and "Not listed here for the counter-corruption unit" in page
    assert ">e1<" not in _section(page)
    assert ledger.search(db, EntryFilter(object_type="access_events"), limit=1) == []


def test_the_lister_finds_nothing_without_a_store(db: Session, settings: Settings) -> None:
    query = ledger_web.AccessQuery("N1", None, None, None, None, 10, "x")
    assert audit_accesses.stored_accesses(db, settings, query) == ledger_web.AccessesFound((), 0)
