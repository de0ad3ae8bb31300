"""The counter-corruption screens: alert queue, triage forms, investigations, evidence pack download.

Who may open them at all is the permission matrix's job (tests/web); here, what the unit's members see and
do, and that a member never reaches an alert or investigation about themself.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from custodes.identity import service as identity
from custodes.identity.permissions import Role
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter
from custodes.monitoring import casework
from custodes.monitoring import service as monitoring
from custodes.monitoring.models import AccessIngest, Alert, Investigation, MonitorRun
from custodes.settings import Settings
from tests.conftest import PASSWORD, csrf_token, log_in, make_account, post_form
from tests.monitoring.test_casework import ACTOR, SEARCHER, UNIT, UNIT_OTHER, make_alerts, make_people
from tests.monitoring.world import event, ingest


@pytest.fixture
def world(db: Session) -> None:
    make_people(db)
    make_alerts(db)
    for staff_id in (UNIT, UNIT_OTHER, SEARCHER):
        identity.set_password(db, staff_id, PASSWORD, ACTOR)
    db.commit()


def as_staff(client: TestClient, staff_id: str) -> None:
    client.cookies.clear()
    assert log_in(client, staff_id).status_code == 303  # type: ignore[attr-defined]


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_queue_shows_alerts_by_score_with_staff_pseudonymised(
    client: TestClient, world: None, settings: Settings
) -> None:
    as_staff(client, UNIT)
    page = client.get("/alerts")
    assert page.status_code == 200
    body = page.text
    label = casework.pseudonym(settings, SEARCHER)
    assert label in body and SEARCHER not in body and "Parry" not in body
    assert 'href="/alerts"' in body and 'href="/investigations"' in body  # the menu
    order = [
        body.index(f'id="alert-{a}"') for a in ("AL-NEIGHBOUR", "AL-UNIT", "AL-COLLEAGUE", "AL-CELEBRITY")
    ]
    assert order == sorted(order)
    words = text_of(body)
    assert "87 High" in words and "Lives near them" in words and "No work explains it" in words
    assert "New (4)" in words
    filtered = text_of(client.get("/alerts?rule=PUBLIC_FIGURE").text)
    assert "Public figure" in filtered and "45 Medium" in filtered and "87 High" not in filtered
    assert "No dismissed alerts." in text_of(client.get("/alerts?status=dismissed").text)


def test_a_member_of_the_unit_does_not_see_alerts_about_themself(client: TestClient, world: None) -> None:
    as_staff(client, UNIT_OTHER)
    body = client.get("/alerts?status=all").text
    assert "AL-UNIT" not in body and "AL-COLLEAGUE" not in body and "AL-NEIGHBOUR" in body
    for alert_id in ("AL-UNIT", "AL-COLLEAGUE"):
        assert client.get(f"/alerts/{alert_id}").status_code == 404
        dismissed = post_form(client, f"/alerts/{alert_id}/dismiss", {"reason": "fine"})
        assert dismissed.status_code == 404  # type: ignore[attr-defined]
        opened = post_form(client, "/investigations", {"alert_id": alert_id, "reason": "curious"})
        assert opened.status_code == 404  # type: ignore[attr-defined]


def test_reveal_and_dismiss_need_reasons(
    client: TestClient, db: Session, world: None, settings: Settings
) -> None:
    as_staff(client, UNIT)
    page = client.get("/alerts/AL-NEIGHBOUR")
    assert page.status_code == 200
    words = text_of(page.text)
    assert "(identity hidden)" in words and "Jane Doe (N9)" in words and "Parry" not in words
    assert "Staff" in words and "Reveal identity" in words

    refused = post_form(client, "/alerts/AL-NEIGHBOUR/reveal", {"reason": "  "})
    assert refused.status_code == 400  # type: ignore[attr-defined]
    assert "Please give a reason for revealing who this is." in refused.text  # type: ignore[attr-defined]
    revealed = post_form(client, "/alerts/AL-NEIGHBOUR/reveal", {"reason": "High score, need his postings"})
    assert revealed.status_code == 303  # type: ignore[attr-defined]
    words = text_of(client.get("/alerts/AL-NEIGHBOUR").text)
    assert f"Peter Parry ({SEARCHER}), team T4" in words and "High score, need his postings" in words
    assert "Reveal identity" not in words

    refused = post_form(client, "/alerts/AL-CELEBRITY/dismiss", {"reason": ""})
    assert refused.status_code == 400  # type: ignore[attr-defined]
    assert "Please give a reason for dismissing the alert." in refused.text  # type: ignore[attr-defined]
    done = post_form(client, "/alerts/AL-CELEBRITY/dismiss", {"reason": "Press office tasking, Op Glass"})
    assert done.status_code == 303 and done.headers["location"].startswith(
        "/alerts?dismissed=AL-CELEBRITY&done="
    )  # type: ignore[attr-defined]
    db.expire_all()
    assert db.get(Alert, "AL-CELEBRITY").status == "dismissed"  # type: ignore[union-attr]
    words = text_of(client.get("/alerts/AL-CELEBRITY").text)
    assert (
        "Dismissed" in words
        and "Press office tasking, Op Glass" in words
        and "Dismiss the alert" not in words
    )
    assert f"by Carol Black ({UNIT}): Press office tasking" in words  # who dismissed it, with the number


def test_investigation_from_the_queue_then_notes_outcome_and_evidence_pack(
    client: TestClient, db: Session, world: None
) -> None:
    as_staff(client, UNIT)
    mixed = post_form(
        client, "/investigations", {"alert_id": ["AL-NEIGHBOUR", "AL-COLLEAGUE"], "reason": "r"}
    )
    assert mixed.status_code == 400 and "one member of staff" in mixed.text  # type: ignore[attr-defined]
    nothing = post_form(client, "/investigations", {"title": "x", "reason": "r"})
    assert nothing.status_code == 400 and "Please choose at least one alert." in nothing.text  # type: ignore[attr-defined]

    opened = post_form(
        client,
        "/investigations",
        {
            "alert_id": ["AL-NEIGHBOUR", "AL-CELEBRITY"],
            "title": "Op Hedge",
            "reason": "Two look-ups to explain",
        },
    )
    assert opened.status_code == 303  # type: ignore[attr-defined]
    location = opened.headers["location"]  # type: ignore[attr-defined]
    investigation_id = int(location.split("/")[2].split("?")[0])
    reference = db.get(Investigation, investigation_id).reference  # type: ignore[union-attr]
    page = client.get(f"/investigations/{investigation_id}")
    words = text_of(page.text)
    assert f"{reference}: Op Hedge" in words and f"Peter Parry ({SEARCHER}), team T4" in words
    assert "Alerts (2)" in words and "Accesses (5)" in words
    assert "Jane Doe N9" in words and "Hugh Grant N11" in words  # the people looked at, by name
    assert reference in text_of(client.get("/investigations").text)

    assert post_form(client, f"/investigations/{investigation_id}/notes", {"note": ""}).status_code == 400  # type: ignore[attr-defined]
    added = post_form(
        client, f"/investigations/{investigation_id}/notes", {"note": "Interviewed: admits it."}
    )
    assert added.status_code == 303  # type: ignore[attr-defined]
    refused = post_form(client, f"/investigations/{investigation_id}/close", {"outcome": "misconduct"})
    assert refused.status_code == 400 and "Please give the reason for the outcome." in refused.text  # type: ignore[attr-defined]
    closed = post_form(
        client,
        f"/investigations/{investigation_id}/close",
        {"outcome": "misconduct", "reason": "Accessed a neighbour's record for a boundary dispute."},
    )
    assert closed.status_code == 303  # type: ignore[attr-defined]
    words = text_of(client.get(f"/investigations/{investigation_id}").text)
    assert "Closed: Misconduct" in words and "Interviewed: admits it." in words
    assert f"by Carol Black ({UNIT}) Outcome" in words and f"by Carol Black ({UNIT}) Evidence pack" in words
    assert "Close the investigation" not in words

    pack = client.get(f"/investigations/{investigation_id}/evidence.zip")
    assert pack.status_code == 200 and pack.headers["content-type"] == "application/zip"
    assert reference.replace("/", "-") in pack.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(pack.content))
    assert sorted(archive.namelist()) == sorted(
        [
            "report.pdf",
            "entries.jsonl",
            "proofs.json",
            "checkpoint.txt",
            "public-key.txt",
            "investigation.json",
        ]
    )
    assert archive.read("report.pdf").startswith(b"%PDF")
    assert archive.read("checkpoint.txt").decode().count("\n") >= 4
    db.expire_all()
    made = ledger.search(db, EntryFilter(op="consultation", object_type="investigation", object_id=reference))
    assert any("evidence pack" in (e.justification or "") for e in made)


def test_adding_an_alert_to_an_open_investigation_from_its_page(
    client: TestClient, db: Session, world: None
) -> None:
    as_staff(client, UNIT)
    opened = post_form(
        client, "/investigations", {"from_alert": "AL-NEIGHBOUR", "title": "", "reason": "Neighbour look-ups"}
    )
    investigation_id = int(opened.headers["location"].split("/")[2].split("?")[0])  # type: ignore[attr-defined]
    # Still pseudonymous to the viewer: no reference to the member of staff's investigation is offered.
    assert "Or add it to an open investigation" not in client.get("/alerts/AL-CELEBRITY").text
    post_form(client, "/alerts/AL-CELEBRITY/reveal", {"reason": "Same officer as INV in progress"})
    page = client.get("/alerts/AL-CELEBRITY").text
    assert "Or add it to an open investigation" in page
    added = post_form(client, "/alerts/AL-CELEBRITY/add", {"investigation_id": str(investigation_id)})
    assert added.status_code == 303  # type: ignore[attr-defined]
    db.expire_all()
    assert db.get(Alert, "AL-CELEBRITY").investigation_id == investigation_id  # type: ignore[union-attr]
    bad = post_form(client, "/alerts/AL-COLLEAGUE/add", {"investigation_id": str(investigation_id)})
    assert bad.status_code == 400 and "someone other than" in bad.text  # type: ignore[attr-defined]


def test_forms_need_the_csrf_token(client: TestClient, db: Session, world: None) -> None:
    as_staff(client, UNIT)
    csrf_token(client)
    response = client.post("/alerts/AL-CELEBRITY/dismiss", data={"reason": "no token"})
    assert response.status_code == 403
    db.expire_all()
    assert db.get(Alert, "AL-CELEBRITY").status == "new"  # type: ignore[union-attr]


@pytest.mark.parametrize("role", [Role.DPU, Role.AUDITOR, Role.OFFICER])
def test_other_roles_see_no_alerts_menu(client: TestClient, db: Session, role: Role) -> None:
    staff_id = make_account(db, f"W{role.value.upper()}", {role})
    as_staff(client, staff_id)
    home = client.get("/").text
    assert 'href="/alerts"' not in home and 'href="/investigations"' not in home
    assert client.get("/alerts").status_code == 403


def test_a_run_beyond_memory_and_spill_is_explained_on_the_page(
    client: TestClient, db: Session, world: None
) -> None:
    settings = client.app.state.settings  # type: ignore[attr-defined]
    client.app.state.settings = settings.model_copy(  # type: ignore[attr-defined]
        update={"monitoring_memory_limit": "1KB", "monitoring_spill_limit": "1KB"}
    )
    try:
        as_staff(client, UNIT)
        response = post_form(client, "/monitoring/run", {})
    finally:
        client.app.state.settings = settings  # type: ignore[attr-defined]
    assert response.status_code == 503
    page = text_of(response.text)
    assert "more than the 1KB of memory (CUSTODES_MONITORING_MEMORY_LIMIT)" in page
    assert "Run the detectors over a shorter period" in page and "Nothing was recorded." in page


def test_the_run_button_refuses_a_store_that_no_longer_matches_the_ledger(
    client: TestClient, db: Session, world: None, settings: Settings, tmp_path: Path
) -> None:
    """The web's run checks the batches it reads against the ledger, as `custodes monitor run` does: an
    access's file deleted from the store is named, and nothing is run or recorded."""
    recent = datetime.now(UTC) - timedelta(days=2)
    ingest(db, settings, tmp_path, [{**event("w1", "N-NB"), "occurred_at": recent.isoformat()}])
    for path in monitoring.event_store(settings).events_dir.glob("*/*.parquet"):
        path.unlink()
    runs = db.query(MonitorRun).count()
    as_staff(client, UNIT)
    response = post_form(client, "/monitoring/run", {})
    assert response.status_code == 409
    page = text_of(response.text)
    assert "The stored accesses do not match the ledger, so the detectors were not run" in page
    assert "files are gone" in page
    db.expire_all()
    assert db.query(MonitorRun).count() == runs


def _ticked(html: str) -> set[str]:
    """The alert ids ticked in the page's form."""
    boxes = re.findall(r'<input type="checkbox" name="alert_id" value="([^"]+)"([^>]*)>', html)
    return {value for value, rest in boxes if " checked" in rest}


def _keep(client: TestClient, ticked: list[str], page: int, rule: str = "") -> object:
    """The queue's page or filter button: ticks sent to /alerts/selection."""
    data = {"alert_id": ticked, "status": "new", "rule": rule, "page": str(page)}
    return post_form(client, "/alerts/selection", data)


def test_ticks_are_kept_across_pages_and_filters_and_open_one_investigation(
    client: TestClient, db: Session, world: None, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ticks were per page: ticking AL-NEIGHBOUR on page 1 and AL-CELEBRITY on page 2 (both PC101's)
    lost page 1's tick, so the pattern could not be opened in one go. Now the page and filter buttons keep
    the ticks as the selection in the address, and the investigation takes the whole selection."""
    as_staff(client, UNIT)
    monkeypatch.setattr(casework, "PAGE_SIZE", 2)  # page 1: AL-NEIGHBOUR, AL-UNIT; page 2: the others
    first = client.get("/alerts").text
    assert 'formaction="/alerts/selection" name="page" value="2">Next page' in first
    assert "alert selected" not in text_of(first) and "alerts selected" not in text_of(first)

    moved = _keep(client, ["AL-NEIGHBOUR"], page=2)
    assert moved.status_code == 303  # type: ignore[attr-defined]
    location = moved.headers["location"]  # type: ignore[attr-defined]
    assert location == "/alerts?status=new&rule=&page=2&selected=AL-NEIGHBOUR"
    second = client.get(location)
    assert second.status_code == 200
    words = text_of(second.text)
    assert "1 alert selected" in words and "page 2 of 2" in words
    assert "Also selected, on other pages or filters (1)" in words
    assert _ticked(second.text) == {"AL-NEIGHBOUR"}  # kept, in the list under the table
    assert 'id="alert-AL-CELEBRITY"' in second.text and 'id="alert-AL-NEIGHBOUR"' not in second.text
    label = casework.pseudonym(settings, SEARCHER)
    assert label in second.text and SEARCHER not in second.text and "Parry" not in second.text
    # The tabs carry the selection on.
    assert 'href="/alerts?status=all&amp;rule=&amp;page=1&amp;selected=AL-NEIGHBOUR"' in second.text

    # Back to page 1 with AL-CELEBRITY ticked too: both kept, AL-NEIGHBOUR ticked in the table.
    back = _keep(client, ["AL-NEIGHBOUR", "AL-CELEBRITY"], page=1)
    page_one = client.get(back.headers["location"]).text  # type: ignore[attr-defined]
    assert "2 alerts selected" in text_of(page_one)
    assert _ticked(page_one) == {"AL-NEIGHBOUR", "AL-CELEBRITY"}
    assert re.search(r'value="AL-NEIGHBOUR" checked aria-label="Tick alert 1', page_one)

    # A filter keeps them too: only public figures shown, AL-NEIGHBOUR still selected.
    filtered = _keep(client, ["AL-NEIGHBOUR", "AL-CELEBRITY"], page=1, rule="PUBLIC_FIGURE")
    shown = client.get(filtered.headers["location"]).text  # type: ignore[attr-defined]
    assert "87 High" not in text_of(shown) and "2 alerts selected" in text_of(shown)
    assert _ticked(shown) == {"AL-NEIGHBOUR", "AL-CELEBRITY"}

    # Unticking one leaves it out; "Clear the selection" empties it.
    untick = _keep(client, ["AL-CELEBRITY"], page=1)
    assert untick.headers["location"].endswith("selected=AL-CELEBRITY")  # type: ignore[attr-defined]
    cleared = post_form(client, "/alerts/selection", {"alert_id": ["AL-CELEBRITY"], "clear": "1"})
    assert cleared.headers["location"] == "/alerts?status=new&rule=&page=1"  # type: ignore[attr-defined]

    # The whole selection (a tick from each page) opens one investigation.
    opened = post_form(
        client,
        "/investigations",
        {"alert_id": ["AL-CELEBRITY", "AL-NEIGHBOUR"], "reason": "A pattern over two pages", "at_page": "2"},
    )
    assert opened.status_code == 303  # type: ignore[attr-defined]
    investigation_id = int(opened.headers["location"].split("/")[2].split("?")[0])  # type: ignore[attr-defined]
    db.expire_all()
    for alert_id in ("AL-NEIGHBOUR", "AL-CELEBRITY"):
        assert db.get(Alert, alert_id).investigation_id == investigation_id  # type: ignore[union-attr]


def test_a_refused_opening_shows_the_queue_again_with_the_selection(client: TestClient, world: None) -> None:
    as_staff(client, UNIT)
    refused = post_form(
        client,
        "/investigations",
        {"alert_id": ["AL-NEIGHBOUR", "AL-COLLEAGUE"], "title": "Op Two", "reason": "Mixed", "at_page": "1"},
    )
    assert refused.status_code == 400  # type: ignore[attr-defined]
    html = refused.text  # type: ignore[attr-defined]
    assert "choose alerts about the same person" in html and "2 alerts selected" in text_of(html)
    assert _ticked(html) == {"AL-NEIGHBOUR", "AL-COLLEAGUE"}
    assert 'value="Op Two"' in html and ">Mixed</textarea>" in html


def test_a_selection_names_unknown_alerts_and_never_tells_hidden_ones_apart(
    client: TestClient, db: Session, world: None
) -> None:
    """Ben (UNIT_OTHER) may not see AL-UNIT (his own look-up) or AL-COLLEAGUE (about him): selecting them
    is refused in the same words as an id that names no alert at all, and nothing of them is shown."""
    as_staff(client, UNIT_OTHER)
    refused = _keep(client, ["AL-NEIGHBOUR", "AL-UNIT", "AL-NOPE"], page=1)
    assert refused.status_code == 400  # type: ignore[attr-defined]
    words = text_of(refused.text)  # type: ignore[attr-defined]
    assert (
        "Selected alerts: there are no alerts AL-UNIT, AL-NOPE, or they are not for you to see; "
        "they were left out of your selection." in words
    )
    assert "1 alert selected" in words and _ticked(refused.text) == {"AL-NEIGHBOUR"}  # type: ignore[attr-defined]
    assert "viewed N9 with no case assigned to" not in words  # AL-UNIT's explanation

    hidden = client.get("/alerts?selected=AL-COLLEAGUE")
    absent = client.get("/alerts?selected=AL-NOWHERE")
    assert hidden.status_code == absent.status_code == 400
    assert "there is no alert AL-COLLEAGUE, or it is not for you to see" in text_of(hidden.text)
    assert hidden.text.replace("AL-COLLEAGUE", "X") == absent.text.replace("AL-NOWHERE", "X")

    opened = post_form(client, "/investigations", {"alert_id": ["AL-NEIGHBOUR", "AL-UNIT"], "reason": "r"})
    assert opened.status_code == 404  # type: ignore[attr-defined]
    assert "There is no alert AL-UNIT, or it is not for you to see." in opened.text  # type: ignore[attr-defined]
    db.expire_all()
    assert db.get(Alert, "AL-NEIGHBOUR").status == "new"  # type: ignore[union-attr]


def test_a_selection_is_capped_and_needs_the_csrf_token(
    client: TestClient, world: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    as_staff(client, UNIT)
    csrf_token(client)
    assert client.post("/alerts/selection", data={"alert_id": ["AL-NEIGHBOUR"]}).status_code == 403
    monkeypatch.setattr(casework, "MAX_SELECTED", 1)
    over = _keep(client, ["AL-NEIGHBOUR", "AL-CELEBRITY"], page=1)
    assert over.status_code == 400  # type: ignore[attr-defined]
    assert "at most 1 can be selected at once; the last 1 ticked were left out" in text_of(over.text)  # type: ignore[attr-defined]
    assert _ticked(over.text) == {"AL-NEIGHBOUR"}  # type: ignore[attr-defined]


def test_other_tabs_carry_the_selection_and_say_where_to_act(client: TestClient, world: None) -> None:
    as_staff(client, UNIT)
    page = client.get("/alerts?status=all&selected=AL-NEIGHBOUR")
    assert page.status_code == 200
    words = text_of(page.text)
    assert "1 alert selected" in words and "go back to the New tab" in words
    assert 'name="selected" value="AL-NEIGHBOUR"' in page.text  # the filter form keeps it
    assert 'href="/alerts?status=new&amp;rule=&amp;page=1&amp;selected=AL-NEIGHBOUR"' in page.text


def test_the_evidence_report_flags_a_note_changed_after_it_was_written(
    client: TestClient, db: Session, world: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The report shows the database's text of a note whose SHA-256 no longer matches its ledger entry, and
    says so beside it (the PDF is replaced by its HTML here, to read it)."""
    from sqlalchemy import update

    from custodes.identity.schemas import Principal
    from custodes.monitoring import evidence
    from custodes.monitoring.models import InvestigationNote
    from custodes.workforce.models import Staff

    as_staff(client, UNIT)
    opened = post_form(
        client, "/investigations", {"from_alert": "AL-NEIGHBOUR", "reason": "Neighbour look-ups"}
    )
    investigation_id = int(opened.headers["location"].split("/")[2].split("?")[0])  # type: ignore[attr-defined]
    post_form(client, f"/investigations/{investigation_id}/notes", {"note": "Admits it was personal."})
    db.execute(update(InvestigationNote).values(text="Tasked verbally."))
    db.execute(update(Staff).where(Staff.staff_id == "PC101").values(area_code="NA"))
    identity.set_config(db, "area_names", "NA = North Division", Principal(UNIT, "Carol Black", frozenset()))
    db.commit()
    monkeypatch.setattr(evidence, "html_to_pdf", lambda html: html.encode())
    pack = client.get(f"/investigations/{investigation_id}/evidence.zip")
    report = text_of(zipfile.ZipFile(io.BytesIO(pack.content)).read("report.pdf").decode())
    assert "Tasked verbally." in report and "1 note below does not match what the ledger recorded" in report
    assert "Does not match the ledger: this text is not the text the ledger recorded" in report
    assert "team T4, area North Division (NA)" in report  # the area by its name, as on the screens


def test_a_revealed_member_of_staff_is_shown_with_their_team_by_name(
    client: TestClient, db: Session, world: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once the team register names T4, the alert, the investigation and the evidence pack's report show
    "Northtown Response Team B (T4)" where they showed "team T4"; still nothing about the team before the
    reveal."""
    from custodes.imports import load_records
    from custodes.monitoring import evidence

    load_records(db, "teams", [{"team_id": "T4", "name": "Northtown Response Team B"}], ACTOR)
    db.commit()
    as_staff(client, UNIT)
    hidden = text_of(client.get("/alerts/AL-NEIGHBOUR").text)
    assert "Northtown" not in hidden and "T4" not in hidden
    post_form(client, "/alerts/AL-NEIGHBOUR/reveal", {"reason": "High score, need his postings"})
    named = f"Peter Parry ({SEARCHER}), Northtown Response Team B (T4)"
    assert named in text_of(client.get("/alerts/AL-NEIGHBOUR").text)
    opened = post_form(client, "/investigations", {"from_alert": "AL-NEIGHBOUR", "reason": "Look-ups"})
    investigation_id = int(opened.headers["location"].split("/")[2].split("?")[0])  # type: ignore[attr-defined]
    assert named in text_of(client.get(f"/investigations/{investigation_id}").text)
    monkeypatch.setattr(evidence, "html_to_pdf", lambda html: html.encode())
    pack = client.get(f"/investigations/{investigation_id}/evidence.zip")
    report = text_of(zipfile.ZipFile(io.BytesIO(pack.content)).read("report.pdf").decode())
    assert named in report


def test_explanations_name_the_team_once_revealed_and_never_before(
    client: TestClient, db: Session, world: None, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stored explanations said "team T4" even where the page named the team: once revealed, the
    alert's and its accesses' explanations, the investigation and the evidence pack say "Northtown Response
    Team B (T4)", labelled when shown (a renamed team shows its new name; the stored text keeps the id).
    Before the reveal neither the team's name nor its id is on the alert or in the queue: a code instead."""
    from sqlalchemy import update

    from custodes.imports import load_records
    from custodes.monitoring import evidence
    from custodes.monitoring.models import AlertEvent

    first = "AL-NEIGHBOUR-e1"
    db.execute(
        update(AlertEvent)
        .where(AlertEvent.event_id == first)
        .values(explanation=f"explained by case C-2 of {SEARCHER}'s team T4")
    )
    load_records(db, "teams", [{"team_id": "T4", "name": "Northtown Response Team B"}], ACTOR)
    db.commit()
    as_staff(client, UNIT)
    for hidden in (client.get("/alerts/AL-NEIGHBOUR").text, client.get("/alerts").text):
        assert "Northtown" not in hidden and "T4" not in hidden
    assert "team #" in text_of(client.get("/alerts/AL-NEIGHBOUR").text)  # the code, as before

    post_form(client, "/alerts/AL-NEIGHBOUR/reveal", {"reason": "High score, need his postings"})
    words = text_of(client.get("/alerts/AL-NEIGHBOUR").text)
    assert (
        f"with no case assigned to Peter Parry ({SEARCHER}) or Northtown Response Team B (T4) that involves"
        in words
    )
    assert f"explained by case C-2 of Peter Parry ({SEARCHER})&#39;s Northtown Response Team B (T4)" in words
    assert "team T4" not in words
    queue = client.get("/alerts").text  # the queue stays pseudonymous, revealed or not
    assert "Northtown" not in queue and "T4" not in queue
    stored = db.get(Alert, "AL-NEIGHBOUR")
    assert stored is not None and "or team T4 that" in stored.explanation  # stored as the run wrote it

    opened = post_form(client, "/investigations", {"from_alert": "AL-NEIGHBOUR", "reason": "Look-ups"})
    investigation_id = int(opened.headers["location"].split("/")[2].split("?")[0])  # type: ignore[attr-defined]
    words = text_of(client.get(f"/investigations/{investigation_id}").text)
    assert f"Peter Parry ({SEARCHER}) or Northtown Response Team B (T4) that involves" in words
    assert f"case C-2 of Peter Parry ({SEARCHER})&#39;s Northtown Response Team B (T4)" in words
    monkeypatch.setattr(evidence, "html_to_pdf", lambda html: html.encode())
    pack = client.get(f"/investigations/{investigation_id}/evidence.zip")
    report = text_of(zipfile.ZipFile(io.BytesIO(pack.content)).read("report.pdf").decode())
    assert f"Peter Parry ({SEARCHER}) or Northtown Response Team B (T4) that involves" in report
    assert f"case C-2 of Peter Parry ({SEARCHER})&#39;s Northtown Response Team B (T4)" in report

    load_records(db, "teams", [{"team_id": "T4", "name": "Northtown Neighbourhood Team"}], ACTOR)
    db.commit()
    words = text_of(client.get("/alerts/AL-NEIGHBOUR").text)
    assert (
        f"Peter Parry ({SEARCHER}) or Northtown Neighbourhood Team (T4) that involves" in words
    )  # today's name


def test_explanations_show_an_unnamed_team_by_its_id(client: TestClient, world: None) -> None:
    """A team the register does not name stays "team T4" in a revealed alert's explanation."""
    as_staff(client, UNIT)
    post_form(client, "/alerts/AL-NEIGHBOUR/reveal", {"reason": "High score, need his postings"})
    words = text_of(client.get("/alerts/AL-NEIGHBOUR").text)
    assert f"with no case assigned to Peter Parry ({SEARCHER}) or team T4 that involves" in words


def test_the_overview_and_an_ingest_name_who_ran_and_sent_them(
    client: TestClient, db: Session, world: None
) -> None:
    """Runs and ingests showed 'staff:CCU202': the member of the unit by name with the number (they are
    who did the work, not whom an alert is about, so nothing pseudonymous is undone)."""
    now = datetime.now(UTC)
    db.add(MonitorRun(actor=f"staff:{UNIT_OTHER}", events=5, about_people=5, explained=5, alerts=0, at=now))
    db.add(
        AccessIngest(
            ingest_id="ING-NAMES",
            actor=f"staff:{UNIT}",
            files='["pnc.csv"]',
            received=1,
            stored=1,
            duplicates=0,
            quarantined=0,
            at=now,
        )
    )
    db.commit()
    as_staff(client, UNIT)
    page = client.get("/monitoring").text
    assert "<td>Ben Ward (CCU202)</td>" in page and "<td>Carol Black (CCU201)</td>" in page
    assert "<dd>Carol Black (CCU201)</dd>" in client.get("/monitoring/ingests/ING-NAMES").text


def _hidden_back(html: str) -> dict[str, set[str]]:
    """The way back to the queue sent by each form of an alert's page: field → the values sent."""
    found: dict[str, set[str]] = {}
    for name in ("status", "rule", "at_page", "selected"):
        found[name] = set(re.findall(rf'<input type="hidden" name="{name}" value="([^"]*)">', html))
    return found


def test_opening_an_alert_from_the_queue_and_coming_back_keeps_the_selection(
    client: TestClient, db: Session, world: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review: the queue's selection was lost through an alert's page: its "Back to alerts" link and its
    forms went to the bare queue. The New tab now opens an alert by a button of its form (this page's ticks
    kept as the selection), the alert's address carries the queue's tab, filter, page and selection, and
    its link back and its forms send them on."""
    as_staff(client, UNIT)
    monkeypatch.setattr(casework, "PAGE_SIZE", 2)  # page 1: AL-NEIGHBOUR, AL-UNIT; page 2: the others
    first = client.get("/alerts").text
    assert 'formaction="/alerts/selection" name="open" value="AL-NEIGHBOUR">' in first

    # Tick AL-NEIGHBOUR on page 1, then open AL-UNIT from the same page: the tick goes with it.
    opened = post_form(
        client,
        "/alerts/selection",
        {"alert_id": ["AL-NEIGHBOUR"], "status": "new", "rule": "", "at_page": "1", "open": "AL-UNIT"},
    )
    assert opened.status_code == 303  # type: ignore[attr-defined]
    location = opened.headers["location"]  # type: ignore[attr-defined]
    assert location == "/alerts/AL-UNIT?status=new&rule=&page=1&selected=AL-NEIGHBOUR"
    page = client.get(location)
    assert page.status_code == 200
    back = 'href="/alerts?status=new&amp;rule=&amp;page=1&amp;selected=AL-NEIGHBOUR">Back to alerts</a>'
    assert back in page.text and "1 alert selected, kept" in text_of(page.text)
    sent = _hidden_back(page.text)  # reveal, dismiss, investigate (the add form needs an investigation)
    assert sent == {"status": {"new"}, "rule": {""}, "at_page": {"1"}, "selected": {"AL-NEIGHBOUR"}}
    assert page.text.count('<input type="hidden" name="selected" value="AL-NEIGHBOUR">') >= 3

    # The round trip: back on the queue, the tick is still there.
    queue = client.get("/alerts?status=new&rule=&page=1&selected=AL-NEIGHBOUR").text
    assert "1 alert selected" in text_of(queue) and _ticked(queue) == {"AL-NEIGHBOUR"}

    # A form refused on the alert's page keeps the way back; one done goes back to it.
    context = {"status": "new", "rule": "", "at_page": "1", "selected": "AL-NEIGHBOUR"}
    refused = post_form(client, "/alerts/AL-UNIT/reveal", {"reason": " ", **context})
    assert refused.status_code == 400 and back in refused.text  # type: ignore[attr-defined]
    assert _hidden_back(refused.text)["selected"] == {"AL-NEIGHBOUR"}  # type: ignore[attr-defined]
    revealed = post_form(client, "/alerts/AL-UNIT/reveal", {"reason": "Need the postings", **context})
    assert revealed.headers["location"].startswith(  # type: ignore[attr-defined]
        "/alerts/AL-UNIT?status=new&rule=&page=1&selected=AL-NEIGHBOUR&done="
    )
    assert back in client.get(revealed.headers["location"]).text  # type: ignore[attr-defined]

    # Dismissing an alert that is itself selected takes it out of the selection, and keeps the rest.
    both = {**context, "selected": "AL-NEIGHBOUR,AL-UNIT"}
    dismissed = post_form(client, "/alerts/AL-UNIT/dismiss", {"reason": "Tasked, Op Glass", **both})
    assert dismissed.status_code == 303  # type: ignore[attr-defined]
    where = dismissed.headers["location"]  # type: ignore[attr-defined]
    assert where.startswith("/alerts?status=new&rule=&page=1&selected=AL-NEIGHBOUR&dismissed=AL-UNIT&done=")
    after = client.get(where).text
    words = text_of(after)
    assert "Alert dismissed: Staff " in words and "It was taken out of your selection." in words
    assert "1 alert selected" in words and _ticked(after) == {"AL-NEIGHBOUR"}
    db.expire_all()
    assert db.get(Alert, "AL-UNIT").status == "dismissed"  # type: ignore[union-attr]

    # The other tabs' links to an alert carry the selection too, and its page leads back to that tab.
    tab = client.get("/alerts?status=all&selected=AL-NEIGHBOUR").text
    link = "/alerts/AL-NEIGHBOUR?status=all&rule=&page=1&selected=AL-NEIGHBOUR"
    assert f'href="{link.replace("&", "&amp;")}"' in tab
    assert (
        'href="/alerts?status=all&amp;rule=&amp;page=1&amp;selected=AL-NEIGHBOUR">Back'
        in client.get(link).text
    )

    # Opened with nothing carried, the page leads to the queue as it opens, as before.
    plain = client.get("/alerts/AL-CELEBRITY").text
    assert '<a href="/alerts">Back to alerts</a>' in plain and _hidden_back(plain)["selected"] == set()


def test_an_alert_page_refuses_unknown_and_hidden_selected_ids_alike(client: TestClient, world: None) -> None:
    """The selection carried by an alert's address is checked as the queue checks it: an id naming no alert
    and one kept from the viewer (AL-COLLEAGUE is about Ben) are refused in the same words, and left out of
    the way back; nothing of the hidden alert is shown."""
    as_staff(client, UNIT_OTHER)
    hidden = client.get("/alerts/AL-NEIGHBOUR?status=new&page=1&selected=AL-NEIGHBOUR,AL-COLLEAGUE")
    absent = client.get("/alerts/AL-NEIGHBOUR?status=new&page=1&selected=AL-NEIGHBOUR,AL-NOWHERE")
    assert hidden.status_code == absent.status_code == 400
    words = text_of(hidden.text)
    assert "there is no alert AL-COLLEAGUE, or it is not for you to see; it was left out" in words
    assert hidden.text.replace("AL-COLLEAGUE", "X") == absent.text.replace("AL-NOWHERE", "X")
    assert 'href="/alerts?status=new&amp;rule=&amp;page=1&amp;selected=AL-NEIGHBOUR">Back' in hidden.text
    assert _hidden_back(hidden.text)["selected"] == {"AL-NEIGHBOUR"}
    # From the queue's button, an unknown tick refuses the selection there, before any alert is opened.
    refused = post_form(
        client, "/alerts/selection", {"alert_id": ["AL-COLLEAGUE"], "at_page": "1", "open": "AL-NEIGHBOUR"}
    )
    assert refused.status_code == 400  # type: ignore[attr-defined]
    assert "there is no alert AL-COLLEAGUE" in text_of(refused.text)  # type: ignore[attr-defined]


def test_an_investigation_opened_from_an_alert_leads_back_to_the_queue_selection(
    client: TestClient, db: Session, world: None
) -> None:
    """Review: an investigation opened from an alert's page (or added to from one) that was reached from the
    queue with a tab, filter, page and ticks offered no way back to that queue: its page linked to the list
    of investigations only. The alert page's way back now goes with it, in its address and on its forms, less
    the alerts now in the investigation (they could not go into another one)."""
    as_staff(client, UNIT)
    context = {"status": "new", "rule": "", "at_page": "1", "selected": "AL-UNIT,AL-NEIGHBOUR"}
    alert = client.get("/alerts/AL-NEIGHBOUR?status=new&rule=&page=1&selected=AL-UNIT,AL-NEIGHBOUR")
    assert alert.status_code == 200 and _hidden_back(alert.text)["selected"] == {"AL-UNIT,AL-NEIGHBOUR"}
    opened = post_form(
        client, "/investigations", {"from_alert": "AL-NEIGHBOUR", "reason": "Neighbour look-ups", **context}
    )
    assert opened.status_code == 303  # type: ignore[attr-defined]
    location = opened.headers["location"]  # type: ignore[attr-defined]
    investigation_id = int(location.split("/")[2].split("?")[0])
    carried = f"/investigations/{investigation_id}?status=new&rule=&page=1&selected=AL-UNIT"
    assert location.startswith(f"{carried}&done=")
    page = client.get(location)
    assert page.status_code == 200
    back = 'href="/alerts?status=new&amp;rule=&amp;page=1&amp;selected=AL-UNIT">Back to alerts</a>'
    words = text_of(page.text)
    assert back in page.text and "Back to investigations · Back to alerts (1 alert selected, kept)" in words
    assert "Investigation INV/" in words and "opened." in words  # the banner
    # Its forms (note, more alerts, close) send the way back on; its alerts' links carry it.
    assert _hidden_back(page.text) == {
        "status": {"new"},
        "rule": {""},
        "at_page": {"1"},
        "selected": {"AL-UNIT"},
    }
    assert page.text.count('<input type="hidden" name="selected" value="AL-UNIT">') == 3
    assert (
        'href="/alerts/AL-NEIGHBOUR?status=new&amp;rule=&amp;page=1&amp;selected=AL-UNIT">Open alert'
        in page.text
    )
    sent = {**context, "selected": "AL-UNIT"}
    refused = post_form(client, f"/investigations/{investigation_id}/notes", {"note": " ", **sent})
    assert refused.status_code == 400 and back in refused.text  # type: ignore[attr-defined]
    noted = post_form(client, f"/investigations/{investigation_id}/notes", {"note": "Spoke to DS.", **sent})
    assert noted.headers["location"].startswith(f"{carried}&done=")  # type: ignore[attr-defined]

    # Added to from another alert's page: the same, less the alert added.
    post_form(client, "/alerts/AL-CELEBRITY/reveal", {"reason": "Same officer as the neighbour alert"})
    both = {**context, "selected": "AL-UNIT,AL-CELEBRITY"}
    added = post_form(client, "/alerts/AL-CELEBRITY/add", {"investigation_id": str(investigation_id), **both})
    assert added.headers["location"].startswith(f"{carried}&done=")  # type: ignore[attr-defined]
    assert back in client.get(added.headers["location"]).text  # type: ignore[attr-defined]

    # The link leads to the queue with the selection ticked.
    queue = client.get("/alerts?status=new&rule=&page=1&selected=AL-UNIT").text
    assert _ticked(queue) == {"AL-UNIT"}
    # A selection the viewer may not see is refused there as on an alert's page, and left out of the way back.
    odd = client.get(f"/investigations/{investigation_id}?status=new&page=1&selected=AL-UNIT,AL-NOWHERE")
    assert odd.status_code == 400 and "there is no alert AL-NOWHERE" in text_of(odd.text)
    assert back in odd.text
    # Opened with nothing carried, the page offers the list of investigations only, as before.
    plain = client.get(f"/investigations/{investigation_id}").text
    assert "Back to alerts" not in plain and _hidden_back(plain)["selected"] == set()


def test_after_a_reveal_explanations_name_the_member_of_staff_and_the_person_looked_at(
    client: TestClient, db: Session, world: None, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The review found "PC101 viewed N9 … PC101's home" on a revealed alert, beside a panel naming both.
    Once revealed, the alert's explanation and its accesses' say "Peter Parry (PC101) viewed Jane Doe (N9)",
    and so do the investigation and its evidence pack; a declaration is called one. Labelled when shown:
    the stored text keeps the ids. Before the reveal, and in the queue, nothing changes (pseudonym only)."""
    from custodes.monitoring import evidence

    alert = db.get(Alert, "AL-NEIGHBOUR")
    assert alert is not None
    alert.explanation += f" {SEARCHER} declared a conflict of interest with N9 (friend, D77)."
    db.commit()
    as_staff(client, UNIT)
    before = text_of(client.get("/alerts/AL-NEIGHBOUR").text)
    assert "Peter Parry" not in before and SEARCHER not in before and "D77" not in before
    assert "Jane Doe (N9) lives" not in before  # the person is on the page, but not put into the text

    post_form(client, "/alerts/AL-NEIGHBOUR/reveal", {"reason": "High score, need his postings"})
    words = text_of(client.get("/alerts/AL-NEIGHBOUR").text)
    assert f"Peter Parry ({SEARCHER}) viewed Jane Doe (N9) 3 times" in words
    assert f"Jane Doe (N9) lives 140 m from Peter Parry ({SEARCHER})&#39;s home" in words
    assert (
        f"Peter Parry ({SEARCHER}) declared a conflict of interest with Jane Doe (N9) "
        "(friend, declaration D77)" in words
    )
    assert (
        f"Peter Parry ({SEARCHER}) looked at Jane Doe (N9): no case of Peter Parry ({SEARCHER}) on it."
        in words
    )
    queue = client.get("/alerts").text
    assert "Peter Parry" not in queue and "Jane Doe" not in queue
    db.expire_all()
    stored = db.get(Alert, "AL-NEIGHBOUR")
    assert stored is not None and stored.explanation.startswith(f"{SEARCHER} viewed N9 3 times")

    opened = post_form(client, "/investigations", {"from_alert": "AL-NEIGHBOUR", "reason": "Look-ups"})
    investigation_id = int(opened.headers["location"].split("/")[2].split("?")[0])  # type: ignore[attr-defined]
    words = text_of(client.get(f"/investigations/{investigation_id}").text)
    assert f"Peter Parry ({SEARCHER}) viewed Jane Doe (N9) 3 times" in words
    assert f"Peter Parry ({SEARCHER}) looked at Jane Doe (N9)" in words
    monkeypatch.setattr(evidence, "html_to_pdf", lambda html: html.encode())
    pack = client.get(f"/investigations/{investigation_id}/evidence.zip")
    report = text_of(zipfile.ZipFile(io.BytesIO(pack.content)).read("report.pdf").decode())
    assert f"Peter Parry ({SEARCHER}) viewed Jane Doe (N9) 3 times" in report


def test_name_people_leaves_bracketed_ids_and_other_words_alone() -> None:
    from custodes.monitoring.alerts import name_people

    names = {"S1": "Ann Bee", "N1": "Cy Dee"}
    assert name_people("S1 viewed N1; N1 is a colleague (S1); S12 and XN1 too", names) == (
        "Ann Bee (S1) viewed Cy Dee (N1); Cy Dee (N1) is a colleague (S1); S12 and XN1 too"
    )
    assert name_people("S1 viewed N1", {}) == "S1 viewed N1"


def _code(settings: Settings, staff_id: str) -> str:
    return casework.pseudonym(settings, staff_id).removeprefix("Staff ")


def test_the_queue_filters_by_staff_code_among_the_alerts_the_viewer_may_see(
    client: TestClient, world: None, settings: Settings
) -> None:
    """The queue said "tick alerts about the same member of staff" with no way to find them: a "Staff
    code" filter now shows one member of staff's alerts, by the code the queue shows (any case, with or
    without "Staff "). A staff number matches nothing, and the filter finds no alert the unfiltered queue
    would not show."""
    from tests.monitoring.test_casework import OTHER

    as_staff(client, UNIT)
    code = _code(settings, SEARCHER)
    for asked in (code, code.lower(), f"Staff {code}"):
        page = client.get("/alerts", params={"staff": asked})
        assert page.status_code == 200
        body = page.text
        assert 'id="alert-AL-NEIGHBOUR"' in body and 'id="alert-AL-CELEBRITY"' in body
        assert 'id="alert-AL-COLLEAGUE"' not in body
        assert f"Alerts about Staff {code} only." in text_of(body)
        assert f'name="staff" value="{code}"' in body
    by_number = text_of(client.get("/alerts", params={"staff": SEARCHER}).text)
    assert "No new alerts about Staff PC101." in by_number
    everyone = client.get("/alerts?status=all").text  # the tabs carry the filter on
    filtered = client.get("/alerts", params={"status": "all", "staff": code}).text
    assert f"staff={code}" in filtered and "AL-COLLEAGUE" in everyone and "AL-COLLEAGUE" not in filtered

    as_staff(client, UNIT_OTHER)  # AL-COLLEAGUE (by PC102, about this member of the unit) is kept from them
    hidden = text_of(client.get("/alerts", params={"status": "all", "staff": _code(settings, OTHER)}).text)
    assert "AL-COLLEAGUE" not in hidden and f"No alerts about Staff {_code(settings, OTHER)}." in hidden
    own = text_of(client.get("/alerts", params={"status": "all", "staff": _code(settings, UNIT_OTHER)}).text)
    assert "AL-UNIT" not in own and "No alerts about" in own


def test_the_staff_filter_travels_with_the_ticks_and_the_way_back(
    client: TestClient, world: None, settings: Settings
) -> None:
    as_staff(client, UNIT)
    code = _code(settings, SEARCHER)
    kept = post_form(
        client,
        "/alerts/selection",
        {"alert_id": ["AL-NEIGHBOUR"], "staff": code, "page": "1", "status": "new"},
    )
    assert kept.status_code == 303  # type: ignore[attr-defined]
    location = kept.headers["location"]  # type: ignore[attr-defined]
    assert f"staff={code}" in location and "selected=AL-NEIGHBOUR" in location
    opened = post_form(
        client, "/alerts/selection", {"alert_id": ["AL-NEIGHBOUR"], "staff": code, "open": "AL-CELEBRITY"}
    )
    alert_page = client.get(opened.headers["location"]).text  # type: ignore[attr-defined]
    back = re.search(r'<a href="([^"]+)">Back to alerts</a>', alert_page)
    assert back and f"staff={code}" in back.group(1)
    assert f'name="staff" value="{code}"' in alert_page  # its forms send it on


def test_an_alert_links_to_the_other_alerts_about_its_member_of_staff(
    client: TestClient, world: None, settings: Settings
) -> None:
    as_staff(client, UNIT)
    body = client.get("/alerts/AL-NEIGHBOUR").text
    link = re.search(r'<a href="([^"]+)" id="other-alerts">Other alerts about this member of staff</a>', body)
    assert link is not None
    address = link.group(1).replace("&amp;", "&")
    assert f"staff={_code(settings, SEARCHER)}" in address and SEARCHER not in address
    listed = client.get(address).text
    assert 'id="alert-AL-CELEBRITY"' in listed and 'id="alert-AL-COLLEAGUE"' not in listed


def test_the_selection_bar_names_the_staff_codes_and_a_mixed_selection_is_refused_naming_them(
    client: TestClient, world: None, settings: Settings
) -> None:
    """The queue's selection bar (sticky at the bottom of the window) says how many alerts are selected and
    about which staff codes; opening an investigation from alerts about two members of staff is refused
    naming their codes, where it said only "an investigation is about one member of staff"."""
    from tests.monitoring.test_casework import OTHER

    as_staff(client, UNIT)
    searcher, other = _code(settings, SEARCHER), _code(settings, OTHER)
    page = client.get("/alerts?selected=AL-NEIGHBOUR,AL-CELEBRITY,AL-COLLEAGUE").text
    bar = re.search(r'<div class="selection-bar".*?</div>', page, re.S)
    assert bar is not None
    words = text_of(bar.group(0))
    assert f"3 selected (staff {searcher}, {other})" in words and "Open an investigation" in words
    assert 'href="#open-investigation"' in bar.group(0) and 'id="open-investigation"' in page
    mixed = post_form(
        client,
        "/investigations",
        {"alert_id": ["AL-NEIGHBOUR", "AL-CELEBRITY", "AL-COLLEAGUE"], "reason": "r"},
    )
    assert mixed.status_code == 400  # type: ignore[attr-defined]
    assert (
        "An investigation is about one member of staff: choose alerts about the same person. The alerts "
        f"ticked are about 2 members of staff: Staff {searcher} (2 alerts), Staff {other} (1 alert)."
    ) in text_of(mixed.text)  # type: ignore[attr-defined]
    assert SEARCHER not in text_of(mixed.text) and OTHER not in text_of(mixed.text)  # type: ignore[attr-defined]


def test_the_evidence_report_opens_alone_and_reads_plainly(
    client: TestClient, db: Session, world: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The investigation's page offered only the ZIP: "Report (PDF)" now gives the report alone, recorded
    in the ledger as the pack is. The report shows every time in London time with its zone (it said
    "(London)" on page 1 and "(UTC)" in the history), names staff beside their numbers in the ledger
    history, shows repeated identical page views once ("7 times between … and …"), and keeps event ids
    whole. The ZIP's entries.jsonl still holds every entry, byte for byte."""
    from custodes.monitoring import evidence

    as_staff(client, UNIT)
    opened = post_form(client, "/investigations", {"from_alert": "AL-NEIGHBOUR", "reason": "Look-ups"})
    investigation_id = int(opened.headers["location"].split("/")[2].split("?")[0])  # type: ignore[attr-defined]
    for _ in range(3):
        assert client.get(f"/investigations/{investigation_id}").status_code == 200
    page = client.get(f"/investigations/{investigation_id}").text
    assert f'href="/investigations/{investigation_id}/report.pdf"' in page and "Report (PDF)" in page

    real = client.get(f"/investigations/{investigation_id}/report.pdf")
    assert real.status_code == 200 and real.headers["content-type"] == "application/pdf"
    assert (
        real.content.startswith(b"%PDF") and "evidence-report-INV-001-" in real.headers["content-disposition"]
    )
    reference = db.get(Investigation, investigation_id).reference  # type: ignore[union-attr]
    db.expire_all()
    made = ledger.search(db, EntryFilter(op="consultation", object_type="investigation", object_id=reference))
    assert any("evidence report (PDF)" in (e.justification or "") for e in made)

    monkeypatch.setattr(evidence, "html_to_pdf", lambda html: html.encode())
    html = client.get(f"/investigations/{investigation_id}/report.pdf").text
    words = text_of(html)
    assert "Time (UTC)" not in words and "When (London)" not in words and "(London) by" not in words
    assert "All times in this report are UK time (London), marked GMT" in words
    assert re.search(r"\d{2} \w{3} \d{4} \d{2}:\d{2} (GMT|BST) by Carol Black", words)  # opened, zoned
    assert f"Carol Black ({UNIT})" in words  # the history's actor by name beside the number
    assert re.search(r"4 times between \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} (GMT|BST) and", words)
    assert '<span class="id">AL-NEIGHBOUR-e1</span>' in html
    pack = client.get(f"/investigations/{investigation_id}/evidence.zip")
    archive = zipfile.ZipFile(io.BytesIO(pack.content))
    entries = archive.read("entries.jsonl").decode().splitlines()
    views = [
        e for e in entries if f"counter-corruption investigation {reference}" in e and "consultation" in e
    ]
    assert len(views) >= 4  # every view, as recorded
    assert "4 times between" in text_of(archive.read("report.pdf").decode())


def test_the_report_history_groups_only_consecutive_identical_consultations() -> None:
    from custodes.monitoring.evidence import LedgerLine, history_groups

    def line(index: int, op: str = "consultation", said: str = "page", actor: str = "staff:S1") -> LedgerLine:
        return LedgerLine(
            index, f"2026-11-02T10:{index:02d}:00+00:00", actor, op, "investigation/INV/001/26", said
        )

    groups = history_groups(
        [
            line(1, "collection"),
            line(3),
            line(5),
            line(8),
            line(9, said="other"),
            line(10),
            line(11, actor="staff:S2"),
        ]
    )
    assert [(g.indexes, g.count) for g in groups] == [
        ("1", 1),
        ("3, 5, 8", 3),
        ("9", 1),
        ("10", 1),
        ("11", 1),
    ]
    many = history_groups([line(i) for i in range(1, 8)])
    assert [(g.indexes, g.count) for g in many] == [("1, …, 7", 7)]


def test_a_dismissal_says_which_alert_and_links_to_it(
    client: TestClient, world: None, settings: Settings
) -> None:
    """ "Alert dismissed." said not which: the banner names it by its staff code and day, and the queue
    links to it (only for an alert the viewer may see)."""
    as_staff(client, UNIT)
    done = post_form(client, "/alerts/AL-CELEBRITY/dismiss", {"reason": "Press office tasking, Op Glass"})
    location = done.headers["location"]  # type: ignore[attr-defined]
    assert "dismissed=AL-CELEBRITY" in location
    page = client.get(location).text
    label = casework.pseudonym(settings, SEARCHER)
    words = text_of(page)
    assert re.search(
        rf"Alert dismissed: {label}, \d{{1,2}} \w{{3}} \d{{4}}\. Your reason is recorded\.", words
    )
    link = re.search(r'<p id="just-dismissed">You dismissed <a href="([^"]+)">([^<]+)</a>', page)
    assert link is not None and link.group(1).startswith("/alerts/AL-CELEBRITY")
    assert label in link.group(2) and SEARCHER not in page
    as_staff(client, UNIT_OTHER)  # AL-UNIT is by them: kept from them, so nothing is said of it
    assert 'id="just-dismissed"' not in client.get("/alerts?dismissed=AL-UNIT").text


def test_closing_with_nothing_filled_says_so_at_each_field(client: TestClient, world: None) -> None:
    """A blank close said only "Please choose an outcome." at the top of a long page: every missing field
    is now named, at the field (marked invalid) and in a list at the top linking to it."""
    as_staff(client, UNIT)
    opened = post_form(client, "/investigations", {"from_alert": "AL-NEIGHBOUR", "reason": "Look-ups"})
    investigation_id = int(opened.headers["location"].split("/")[2].split("?")[0])  # type: ignore[attr-defined]
    refused = post_form(client, f"/investigations/{investigation_id}/close", {})
    assert refused.status_code == 400  # type: ignore[attr-defined]
    page = refused.text  # type: ignore[attr-defined]
    assert '<p class="bad field-error" id="outcome-error">Please choose an outcome.</p>' in page
    assert '<p class="bad field-error" id="reason-error">Please give the reason for the outcome.</p>' in page
    assert 'href="#close-outcome">Please choose an outcome.</a>' in page
    assert 'href="#close-reason">Please give the reason for the outcome.</a>' in page
    assert page.count('aria-invalid="true"') == 2
    only_reason = post_form(client, f"/investigations/{investigation_id}/close", {"outcome": "misconduct"})
    page = only_reason.text  # type: ignore[attr-defined]
    assert 'id="reason-error"' in page and 'id="outcome-error"' not in page
    assert 'value="misconduct" checked' in page
