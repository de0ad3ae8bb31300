"""The audit screens (ledger.web): entries left out for a viewer (EntryFilter.hidden, a registered screen),
counts that match what is listed, and the consultation of a page naming the people it shows."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from custodes.identity import service as identity
from custodes.identity.permissions import Role
from custodes.identity.schemas import Principal
from custodes.kit.db import utcnow
from custodes.ledger import service as ledger
from custodes.ledger import web as ledger_web
from custodes.ledger.schemas import EntryDraft, EntryFilter, Op, StoredEntry
from custodes.settings import Settings
from tests.conftest import post_form
from tests.workforce.files import store

ACTOR = "system:test"


def _record(db: Session, *drafts: EntryDraft) -> list[int]:
    start = ledger.size(db)
    ledger.record_many(db, drafts)
    db.commit()
    return list(range(start, start + len(drafts)))


def _draft(object_id: str, *subjects: str, justification: str | None = None, **detail: str) -> EntryDraft:
    op = Op.CONSULTATION if justification else Op.COLLECTION
    return EntryDraft(ACTOR, op, "thing", object_id, subjects, justification, detail=dict(detail))


def test_hidden_texts_leave_out_every_entry_that_mentions_them(db: Session) -> None:
    made = _record(
        db,
        _draft("SECRET-1", "P1"),  # as its object
        _draft("T2", "P2", justification="work on SECRET-1"),  # in its justification
        _draft("T3", "P3", note="see SECRET-2 too"),  # in its detail
        _draft("T4", "P4", note="secret-1 in other letters"),  # bytes differ: kept
        _draft("T5", "P5"),
    )
    ledger.redact(db, made[0] + 4, "retention", ACTOR)  # a redacted entry mentions nothing: kept
    db.commit()
    hidden = frozenset({"SECRET-1", "SECRET-2"})
    criteria = EntryFilter(object_type="thing", hidden=hidden)
    kept = [made[3], made[4]]
    assert sorted(e.index for e in ledger.search(db, criteria, limit=100)) == kept
    assert ledger.count(db, criteria) == 2
    assert [e.index for e in ledger.iter_matching(db, criteria)] == kept
    unfiltered = EntryFilter(hidden=hidden)  # no search index applies: the plain query
    assert {e.index for e in ledger.iter_matching(db, unfiltered)} >= set(kept)
    assert not {e.index for e in ledger.iter_matching(db, unfiltered)} & set(made[:3])
    assert ledger.count(db, unfiltered) == ledger.size(db) - 3
    assert ledger.get_entry(db, made[0], hidden) is None
    assert ledger.get_entry(db, made[3], hidden) is not None
    assert ledger.get_entry(db, made[0]) is not None
    assert criteria.described() == {"object_type": "thing"}  # never shown as a criterion


def _rows(html: str) -> list[str]:
    return re.findall(r"<tr>\s*<td class=\"num\">.*?</tr>", html, re.S)


def _total(html: str) -> int:
    found = re.search(r"([\d,]+) matching entr", html)
    assert found, html
    return int(found.group(1).replace(",", ""))


def _last_search(db: Session) -> StoredEntry:
    return ledger.search(db, EntryFilter(op="consultation", object_type="ledger_search"), limit=1)[0]


def test_a_screen_hides_and_rewrites_for_its_viewer_and_the_page_logs_the_people_shown(
    app: FastAPI, client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    made = _record(db, _draft("SECRET-1", "P1"), _draft("T2", "P2"), _draft("T3", "P3", "P33"))

    searches: list[frozenset[str]] = []

    def screen(
        _db: Session, _settings: Settings, viewer: Principal, searched: frozenset[str]
    ) -> ledger_web.EntryScreen | None:
        searches.append(searched)
        if Role.DPU not in viewer.roles:
            return None

        def rewrite(entries: list[StoredEntry]) -> list[StoredEntry]:
            return [
                replace(
                    e, content={**e.content, "subjects": ["Someone"]}, stand_ins=("Someone",), screened="x"
                )
                if e.object_id == "T3" and e.content
                else e
                for e in entries
            ]

        return ledger_web.EntryScreen(hidden=frozenset({"SECRET-1"}), rewrite=rewrite)

    ledger_web.add_screen(app, screen)
    logged_in(Role.DPU)
    page = client.get("/audit/entries?op=collection").text
    assert "SECRET-1" not in page and "P33" not in page and "Someone" in page
    assert _total(page) == len(_rows(page))  # the count leaves out what is not listed
    consulted = _last_search(db)
    assert "P2" in consulted.subjects and "P1" not in consulted.subjects
    assert "Someone" not in consulted.subjects and "P33" not in consulted.subjects  # stand-ins are not people
    client.get("/audit/entries?actor=staff:S1&subject=P2&reason=checking")
    assert searches[-1] == {"staff:S1", "S1", "P2"}  # the people a search names reach the screen
    assert client.get(f"/audit/entries/{made[0]}").status_code == 404
    shown = client.get(f"/audit/entries/{made[2]}")
    assert shown.status_code == 200 and "P33" not in shown.text and "Shown to you with changes" in shown.text
    csv = client.get("/audit/export.csv?op=collection").text
    assert "SECRET-1" not in csv and "P33" not in csv and "Someone" in csv

    client.cookies.clear()
    logged_in(Role.AUDITOR)  # no screen for them: everything, as recorded
    page = client.get("/audit/entries?op=collection").text
    assert "SECRET-1" in page and "P33" in page and _total(page) == len(_rows(page))
    assert {"P1", "P2", "P3", "P33"} <= set(_last_search(db).subjects)


def test_a_page_logs_the_people_of_that_page_only(
    client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    _record(db, *(_draft(f"T{n}", f"P{n}") for n in range(ledger_web.PAGE + 5)))
    logged_in(Role.AUDITOR)
    page = client.get("/audit/entries?op=collection").text
    assert len(_rows(page)) == ledger_web.PAGE
    people = _last_search(db).subjects
    assert len(people) <= ledger_web.PAGE
    assert f"P{ledger_web.PAGE + 4}" in people and "P0" not in people  # newest first: the first page's


def test_a_report_on_one_person_names_only_them_on_screen_in_the_csv_and_the_pdf(
    client: TestClient,
    db: Session,
    logged_in: Callable[[Role], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A subject access report is handed to the person who asked: an entry that also concerns other people
    (a search that listed several) counts them without naming them, and texts that name them are withheld."""
    _record(
        db,
        _draft("T1", "N9001", "N9002", "N9003", justification="looked at N9002 and the others", who="N9003"),
        _draft("T2", "N9001", justification="case page"),
        _draft("T3", "N9002"),
    )
    logged_in(Role.DPU)
    page = client.get("/audit/entries?subject=N9001&reason=SAR-1").text
    assert len(_rows(page)) == 2
    assert "N9001 and 2 other people" in page and "N9002" not in page and "N9003" not in page
    assert "case page" in page and ledger.WITHHELD_FOR_OTHERS in page
    assert _last_search(db).subjects == ["N9001"]  # the people the page showed: only the subject

    csv = client.get("/audit/export.csv?subject=N9001&reason=SAR-1").text
    assert "N9001 and 2 other people" in csv and "N9002" not in csv and "N9003" not in csv

    rendered: list[str] = []
    monkeypatch.setattr(ledger_web, "html_to_pdf", lambda html: rendered.append(html) or b"%PDF")
    assert client.get("/audit/export.pdf?subject=N9001&reason=SAR-1").content == b"%PDF"
    assert "Everything done with the data of N9001" in rendered[0]
    assert "N9001 and 2 other people" in rendered[0]
    assert "N9002" not in rendered[0] and "N9003" not in rendered[0]

    everything = client.get("/audit/entries?op=consultation&object_type=thing").text  # not about one person
    assert "N9001, N9002, N9003" in everything


def test_a_missing_reason_or_a_bad_date_is_shown_at_its_field(
    client: TestClient, logged_in: Callable[[Role], str]
) -> None:
    logged_in(Role.DPU)
    page = client.get("/audit/entries?subject=N9001&since=soon").text
    alert, form = page.index('role="alert"'), page.index('<form class="stack panel"')
    assert alert < form  # the summary is above the form, not below it
    assert '<div class="field wrong"><label for="reason">' in page
    assert '<div class="field wrong"><label for="since">' in page
    assert '<div class="field"><label for="subject">' in page  # only the fields at fault
    assert '<strong id="reason-problem">Reason for this search: give the reason' in page
    assert 'aria-describedby="reason-problem"' in page
    assert "From: &#39;soon&#39; is not a date" in page


def test_who_and_the_operation_read_as_words(
    client: TestClient,
    db: Session,
    logged_in: Callable[[Role], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """'staff:S12778' and 'login_failed' were shown as recorded: the name with the staff number, as every
    other screen names staff ('Tunde Mills (S12778)': the audit screens alone used to put the number first,
    and the PDF showed the actor as recorded), and words."""
    viewer = logged_in(Role.AUDITOR)
    made = _record(db, EntryDraft(f"staff:{viewer}", Op.LOGIN_FAILED, "account", viewer))
    page = client.get("/audit/entries?op=login_failed").text
    name = identity.display_names(db, [viewer])[viewer]
    assert f"<td>{name} ({viewer})</td>" in page and "<td>failed log-in</td>" in page
    assert f"{viewer} ({name})" not in page
    assert '<option value="login_failed" selected>failed log-in</option>' in page
    assert f"{name} ({viewer})" in client.get(f"/audit/entries/{made[0]}").text

    rendered: list[str] = []
    monkeypatch.setattr(ledger_web, "html_to_pdf", lambda html: rendered.append(html) or b"%PDF")
    client.get("/audit/export.pdf?op=login_failed")
    assert f"<td>{name} ({viewer})</td>" in rendered[0] and f"staff:{viewer}" not in rendered[0]

    exported = list(csv.DictReader(io.StringIO(client.get("/audit/export.csv?op=login_failed").text)))
    mine = [row for row in exported if row["index"] == str(made[0])]
    assert mine[0]["actor"] == f"staff:{viewer}" and mine[0]["op"] == "login_failed"  # the codes, as recorded
    assert mine[0]["actor_name"] == name  # the name in a column of its own

    post_form(client, "/audit/verify")
    assert f"by {name} ({viewer})," in client.get("/audit").text


def test_a_component_reads_as_recorded_and_staff_without_an_account_by_number(
    client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    logged_in(Role.AUDITOR)
    _record(
        db,
        EntryDraft("staff:S99999", Op.LOGIN_FAILED, "account", "S99999"),
        EntryDraft("system:demo", Op.LOGIN_FAILED, "account", "S99998"),
    )
    page = client.get("/audit/entries?op=login_failed").text
    assert "<td>S99999</td>" in page and "<td>system: demo</td>" in page
    exported = list(csv.DictReader(io.StringIO(client.get("/audit/export.csv?op=login_failed").text)))
    names = {row["actor"]: row["actor_name"] for row in exported}
    assert names["staff:S99999"] == "" and names["system:demo"] == ""


def _stored(*subjects: str, justification: str | None = None, **detail: str) -> StoredEntry:
    content = {"subjects": list(subjects), "justification": justification, "detail": dict(detail)}
    return StoredEntry(0, utcnow(), ACTOR, "consultation", "thing", "T1", b"\0" * 32, content)


@pytest.mark.parametrize(
    ("text", "withheld"),
    [
        ("checked SMITH Jack's address", True),  # surname alone, any case, before a possessive
        ("Jack Smith called", True),
        ("smith, jack", True),
        ("visited Mr  smith", True),  # any spaces
        ("asked Smithson", False),  # whole words only
        ("asked Blacksmith", False),
        ("Jack called", False),  # a forename alone is not caught
        ("the Li family", False),  # a surname of fewer than 3 letters alone is not
        ("spoke to Wei Li", True),  # but with a forename it is
        ("LI Wei at the door", True),
        ("Li, Jun", True),  # any one of the forenames
        ("saw N9001 about her car", False),  # the subject's own id
    ],
)
def test_a_report_on_one_person_withholds_a_text_naming_another_of_the_entry_s_people(
    text: str, withheld: bool
) -> None:
    """Withholding caught another person's id only: a reason typed by an officer names people by name."""
    names = ledger.KnownNames({"N9002": [("Smith", "Jack")], "N9003": [("Li", "Wei Jun")], "N9004": []})
    entry = _stored("N9001", "N9002", "N9003", "N9004", justification=text, note=text)
    shown = ledger.subject_view(entry, "N9001", names)
    assert (shown.justification == ledger.WITHHELD_FOR_OTHERS) is withheld
    assert (shown.detail is None) is withheld
    assert shown.people == "N9001 and 3 other people"
    alone = ledger.subject_view(_stored("N9001", justification=text), "N9001", names)
    assert alone.justification == text  # a name of someone the entry does not concern is not looked for


def test_a_name_split_by_a_line_break_in_a_detail_is_found() -> None:
    names = ledger.KnownNames({"N9003": [("Li", "Wei")]})
    assert ledger.subject_view(_stored("N9001", "N9003", note="Wei\nLi"), "N9001", names).detail is None


def test_a_report_on_one_person_withholds_texts_naming_others_of_the_nominal_register_by_name(
    client: TestClient,
    db: Session,
    logged_in: Callable[[Role], str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """The report on N9001 showed "checked SMITH Jack's address" when Jack Smith (N9002) was another person
    the entry concerned: the withholding looked for ids only. The names come from the nominal register,
    through its service (web.app registers monitoring.service.nominal_names)."""
    folder = tmp_path / "files"
    folder.mkdir()
    people = [("N9001", "Jones", "Alan"), ("N9002", "Smith", "Jack"), ("N9003", "Li", "Wei")]
    store(
        db,
        folder,
        "nominals",
        [{"subject_id": i, "surname": s, "forenames": f, "flags": ""} for i, s, f in people],
    )
    _record(
        db,
        _draft("T1", "N9001", "N9002", justification="checked SMITH Jack's address"),
        _draft("T2", "N9001", "N9003", justification="door knock", note="spoke to Wei  LI"),
        _draft("T3", "N9001", "N9003", justification="the Li family's car"),  # "Li" alone: too short
        _draft("T4", "N9001", justification="also asked about Jack Smith"),  # not a person of this entry
        _draft("T5", "N9001", "N9002", justification="asked Smithson"),
    )
    logged_in(Role.DPU)
    page = client.get("/audit/entries?subject=N9001&op=consultation&reason=SAR-2").text
    assert len(_rows(page)) == 5
    assert "SMITH Jack" not in page and page.count(ledger.WITHHELD_FOR_OTHERS) == 1
    assert "door knock" in page and "the Li family" in page and "asked Smithson" in page
    assert "also asked about Jack Smith" in page  # the limit: docs/ledger.md

    csv = client.get("/audit/export.csv?subject=N9001&op=consultation&reason=SAR-2").text
    assert "SMITH Jack" not in csv and "Wei  LI" not in csv and csv.count(ledger.WITHHELD_FOR_OTHERS) == 2
    assert "door knock" in csv and "the Li family" in csv

    rendered: list[str] = []
    monkeypatch.setattr(ledger_web, "html_to_pdf", lambda html: rendered.append(html) or b"%PDF")
    assert client.get("/audit/export.pdf?subject=N9001&op=consultation&reason=SAR-2").content == b"%PDF"
    assert "SMITH Jack" not in rendered[0] and ledger.WITHHELD_FOR_OTHERS in rendered[0]
    assert "door knock" in rendered[0]


def test_a_report_on_one_person_gives_the_staff_by_number_only(
    client: TestClient,
    db: Session,
    logged_in: Callable[[Role], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The staff who handled a person's data are third parties in that person's report: its CSV and PDF
    give their staff numbers, and the DPU decides whether to name them. The auditor's list names them."""
    officer = logged_in(Role.OFFICER)
    name = identity.display_names(db, [officer])[officer]
    logged_in(Role.DPU)
    draft = EntryDraft(f"staff:{officer}", Op.CONSULTATION, "nominal", "N9001", ("N9001",), "case page")
    _record(db, draft)
    assert f"{name} ({officer})" in client.get("/audit/entries?subject=N9001&reason=SAR-3").text
    exported = list(
        csv.DictReader(io.StringIO(client.get("/audit/export.csv?subject=N9001&reason=SAR-3").text))
    )
    mine = [row for row in exported if row["actor"] == f"staff:{officer}"]
    # By number only, and without the empty actor_name column it used to carry (docs/ledger.md).
    assert mine and all("actor_name" not in row for row in mine)
    rendered: list[str] = []
    monkeypatch.setattr(ledger_web, "html_to_pdf", lambda html: rendered.append(html) or b"%PDF")
    client.get("/audit/export.pdf?subject=N9001&reason=SAR-3")
    assert f"<td>{officer}</td>" in rendered[0] and name not in rendered[0]
