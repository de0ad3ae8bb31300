"""The audit screens and the counter-corruption unit (monitoring.ledger_screen): a member of the unit sees no
ledger entry about an alert or investigation casework hides from them, and sees a member of staff on an
alert by the pseudonym casework shows until they reveal who it is; auditors see every entry as recorded.

The reviewer's case: CCU7 looked up a public figure (an alert about CCU7), CCU8 opened an investigation into
it; S1 looked up a neighbour (an alert CCU8 has not revealed)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from custodes.identity import service as identity
from custodes.identity.permissions import Role
from custodes.imports import load_records
from custodes.ledger import service as ledger
from custodes.ledger import web as ledger_web
from custodes.ledger.schemas import EntryFilter
from custodes.monitoring import casework
from custodes.monitoring import service as monitoring
from custodes.settings import Settings
from tests.conftest import PASSWORD, log_in
from tests.monitoring.world import event, ingest, load_world

ACTOR = "system:test"


@dataclass(frozen=True)
class Case:
    mine: str  # the alert about CCU7
    reference: str  # CCU8's investigation of it
    s1: str  # the alert about S1
    pseudonym: str  # S1's, as casework shows it


@pytest.fixture
def case(db: Session, settings: Settings, tmp_path: Path) -> Case:
    load_world(db)
    load_records(
        db,
        "staff",
        [
            {"staff_id": "CCU7", "surname": "Khan", "forenames": "Nadia", "role": "ccu"},
            {"staff_id": "CCU8", "surname": "Ward", "forenames": "Ben", "role": "ccu"},
        ],
        ACTOR,
    )
    folder = tmp_path / "in"
    folder.mkdir()
    ingest(
        db,
        settings,
        folder,
        [event("e1", "N-NB"), event("e2", "N-NB", day=2), event("e3", "N-PUB", staff="CCU7", hour=23)],
    )
    summary = monitoring.run(db, settings, ACTOR)
    for staff_id in ("CCU7", "CCU8"):
        identity.set_password(db, staff_id, PASSWORD, ACTOR)
    db.commit()
    mine = next(a.alert_id for a in summary.alerts if a.staff_id == "CCU7")
    s1 = next(a.alert_id for a in summary.alerts if a.staff_id == "S1" and a.subject_id == "N-NB")
    ccu8 = identity.principal_for(db, "CCU8")
    assert ccu8 is not None
    opened = casework.open_investigation(db, [mine], ccu8, "Op Mirror", "Looked up a public figure")
    db.commit()
    casework.view_investigation(db, settings, opened, ccu8)  # consults CCU7's staff record, naming it
    casework.investigations(db, ccu8)  # a list naming CCU7
    db.commit()
    reference = casework.investigation_reference(db, opened, ccu8)
    return Case(mine, reference, s1, casework.pseudonym(settings, "S1"))


def _as(client: TestClient, staff_id: str) -> None:
    client.cookies.clear()
    assert log_in(client, staff_id).status_code == 303  # type: ignore[attr-defined]


def _rows(html: str) -> list[str]:
    return [
        " ".join(re.sub(r"<[^>]+>", " ", r).split())
        for r in re.findall(r"<tr>\s*<td class=\"num\">.*?</tr>", html, re.S)
    ]


def _total(html: str) -> int:
    found = re.search(r"([\d,]+) matching entr", html)
    assert found, html
    return int(found.group(1).replace(",", ""))


def _indexes(db: Session, object_type: str, object_id: str) -> list[int]:
    return [
        e.index for e in ledger.iter_matching(db, EntryFilter(object_type=object_type, object_id=object_id))
    ]


def _mentioning(db: Session, text: str) -> list[int]:
    return [
        e.index
        for e in ledger.iter_matching(db, EntryFilter())
        if text in str(e.content) + (e.object_id or "")
    ]


def _pdf_html(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    rendered: list[str] = []

    def keep(html: str) -> bytes:
        rendered.append(html)
        return b"%PDF-"

    monkeypatch.setattr(ledger_web, "html_to_pdf", keep)
    return rendered


def test_a_member_of_the_unit_sees_no_entry_about_their_own_alert_or_investigation(
    case: Case, client: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    about_them = _mentioning(db, case.mine) + _mentioning(db, case.reference)
    # the alert's collection, triage, the investigation's opening, its consultation, CCU7's record consulted
    assert len(set(about_them)) >= 5
    _as(client, "CCU7")
    for query in ("", "?op=collection", "?op=consultation", "?op=review", "?subject=CCU7&reason=check"):
        page = client.get(f"/audit/entries{query}").text
        assert case.mine not in page and case.reference not in page and "Op Mirror" not in page, query
        assert _total(page) == len(_rows(page)), query  # the count is of what is listed
    for index in about_them:
        assert client.get(f"/audit/entries/{index}").status_code == 404
    csv = client.get("/audit/export.csv").text
    assert case.mine not in csv and case.reference not in csv and "Op Mirror" not in csv
    assert csv.count("\n") > 10  # the rest is there
    rendered = _pdf_html(monkeypatch)
    assert client.get("/audit/export.pdf?op=collection").content.startswith(b"%PDF")
    assert case.mine not in rendered[0] and case.reference not in rendered[0]
    # CCU8's list of investigations named CCU7: CCU7 sees the list was consulted, not that it named them
    (listed,) = [e.index for e in ledger.iter_matching(db, EntryFilter(object_type="investigation_list"))]
    shown = client.get(f"/audit/entries/{listed}")
    assert (
        shown.status_code == 200
        and '"CCU7"' not in html.unescape(shown.text)
        and "investigation_list" in shown.text
    )


def test_a_member_of_the_unit_sees_the_pseudonym_until_they_reveal_who_it_is(
    case: Case, client: TestClient, db: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    collected = _indexes(db, "alert", case.s1)[0]
    _as(client, "CCU8")
    (row,) = [r for r in _rows(client.get("/audit/entries?subject=N-NB&reason=triage").text) if case.s1 in r]
    # a report on one person names only them: the member of staff is counted, neither named nor pseudonymised
    assert "N-NB and 1 other person" in row and case.pseudonym not in row and not re.search(r"\bS1\b", row)
    consulted = ledger.search(db, EntryFilter(object_type="ledger_search"), limit=1)[0]
    assert consulted.subjects == [
        "N-NB"
    ]  # the people shown (the nominal, the alert), not S1 or the pseudonym
    (row,) = [r for r in _rows(client.get("/audit/entries?op=collection").text) if case.s1 in r]
    assert case.pseudonym in row and not re.search(r"\bS1\b", row)
    page = html.unescape(client.get(f"/audit/entries/{collected}").text)
    assert case.pseudonym in page and '"S1"' not in page and "Shown to you with changes" in page
    viewed = ledger.search(db, EntryFilter(object_type="ledger_entry"), limit=1)[0]
    assert viewed.subjects == ["N-NB"]
    (line,) = [x for x in client.get("/audit/export.csv?op=collection").text.splitlines() if case.s1 in x]
    assert case.pseudonym in line and not re.search(r"\bS1\b", line)
    rendered = _pdf_html(monkeypatch)
    client.get("/audit/export.pdf?op=collection")
    (pdf_row,) = [r for r in re.findall(r"<tr><td>.*?</tr>", rendered[0], re.S) if case.s1 in r]
    assert case.pseudonym in pdf_row and not re.search(r"\bS1\b", pdf_row)
    # CCU8's own investigation names CCU7, as its page does
    (opened,) = [r for r in _rows(client.get("/audit/entries?op=collection").text) if case.reference in r]
    assert "CCU7" in opened

    ccu8 = identity.principal_for(db, "CCU8")
    assert ccu8 is not None and casework.reveal_identity(db, case.s1, ccu8, "triage of a neighbour search")
    db.commit()
    (row,) = [r for r in _rows(client.get("/audit/entries?op=collection").text) if case.s1 in r]
    assert re.search(r"\bS1\b", row) and case.pseudonym not in row
    page = html.unescape(client.get(f"/audit/entries/{collected}").text)
    assert '"S1"' in page and "Shown to you with changes" not in page
    assert "S1" in ledger.search(db, EntryFilter(object_type="ledger_entry"), limit=1)[0].subjects


def test_a_search_by_a_staff_number_does_not_pair_it_with_the_pseudonym(
    case: Case, client: TestClient, db: Session
) -> None:
    """Found by S1's staff number, the alert's entries would show the pseudonym: a reveal with no reason."""
    _as(client, "CCU8")
    for search in ("subject=S1", "actor=staff:S1", "subject=N-NB"):
        page = client.get(f"/audit/entries?{search}&reason=triage").text
        rows = [r for r in _rows(page) if case.s1 in r]
        if search == "subject=N-NB":  # not a search for the member of staff: a report on N-NB names only them
            assert len(rows) == 1 and case.pseudonym not in rows[0] and "N-NB and 1 other person" in rows[0]
        else:
            assert rows == [] and case.pseudonym not in page and _total(page) == len(_rows(page))
    ccu8 = identity.principal_for(db, "CCU8")
    assert ccu8 is not None and casework.reveal_identity(db, case.s1, ccu8, "triage of a neighbour search")
    db.commit()
    rows = [r for r in _rows(client.get("/audit/entries?subject=S1&reason=triage").text) if case.s1 in r]
    assert rows and all(re.search(r"\bS1\b", r) and case.pseudonym not in r for r in rows)


def test_others_in_the_unit_are_not_affected_by_one_members_reveal_and_auditors_see_everything(
    case: Case, client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    ccu8 = identity.principal_for(db, "CCU8")
    assert ccu8 is not None and casework.reveal_identity(db, case.s1, ccu8, "triage of a neighbour search")
    db.commit()
    _as(client, "CCU7")  # CCU7 has not revealed S1
    (row,) = [r for r in _rows(client.get("/audit/entries?op=collection").text) if case.s1 in r]
    assert case.pseudonym in row and not re.search(r"\bS1\b", row)
    # CCU8's reveal names S1 (its subjects): CCU7 sees it by the pseudonym
    revealed = [r for r in _rows(client.get("/audit/entries?op=consultation").text) if case.s1 in r]
    assert revealed and all(not re.search(r"\bS1\b", r) for r in revealed)

    for role in (Role.AUDITOR, Role.DPU):
        logged_in(role)
        page = client.get("/audit/entries?op=collection").text
        assert case.mine in page and case.reference in page and _total(page) == len(_rows(page))
        (row,) = [r for r in _rows(client.get("/audit/entries?op=collection").text) if case.s1 in r]
        assert re.search(r"\bS1\b", row) and case.pseudonym not in row
        for index in _mentioning(db, case.mine):
            assert client.get(f"/audit/entries/{index}").status_code == 200
        csv = client.get("/audit/export.csv").text
        assert case.mine in csv and case.reference in csv


def test_the_screen_is_registered_on_the_app(client: TestClient) -> None:
    from custodes.monitoring import ledger_screen

    assert ledger_screen.screen in client.app.state.ledger_screens  # type: ignore[attr-defined]
