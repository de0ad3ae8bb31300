"""The disclosure screens, API and CLI: the same findings everywhere, and the lifecycle through the forms."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date, timedelta
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
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter
from custodes.settings import Settings
from tests.conftest import PASSWORD, TEST_SECRET, log_in, post_form
from tests.disclosure.world import make_world, principal, scheme_request

runner = CliRunner()


@pytest.fixture
def world(db: Session) -> Session:
    make_world(db)
    for staff_id in ("S1001", "S1002", "S1004"):
        identity.set_password(db, staff_id, PASSWORD, "system:test")
    db.commit()
    return db


def _wizard_form(request: dict[str, object]) -> dict[str, object]:
    """The wizard's fields for a request, as a browser would post them."""
    form: dict[str, object] = {
        key: request.get(key) or ""
        for key in ("route", "subject", "purpose", "scheme", "lawful_basis", "rationale")
    }
    form["recipients"] = request["recipients"]
    for n, item in enumerate(request["items"]):  # type: ignore[arg-type]
        key = f"item-{n}-"
        form |= {
            key + "kind": item["kind"],
            key + "content": item["content"],
            key + "nature": item.get("nature") or "",
            key + "person_category": item.get("person_category") or "",
            key + "source_kind": item["source"]["kind"],
            key + "source_system": item["source"].get("system") or "",
            key + "source_record_id": item["source"].get("record_id") or "",
            key + "verified": "1",
        }
        if item.get("photo"):
            form |= {
                key + "custody_image": "1",
                key + "offence_outcome": "convicted",
                key + "held_on": "Genesis",
            }
    for n, record in enumerate(request["intelligence"]):  # type: ignore[arg-type]
        form |= {f"intel-{n}-record_id": record["record_id"], f"intel-{n}-recorded_at": record["recorded_at"]}
    form |= {"risks": request["risk_assessment"]["risks"], "plan": request["risk_assessment"]["plan"]}  # type: ignore[index]
    form |= {f"japan-{k}": v for k, v in request["japan"].items()}  # type: ignore[attr-defined]
    return form


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_an_officer_drafts_fixes_and_submits_and_an_aic_authorises_and_releases(
    client: TestClient, world: Session
) -> None:
    log_in(client, "S1001")
    started = post_form(
        client,
        "/disclosures/new",
        {
            "route": "partnership_scheme",
            "subject": "N2001",
            "purpose": "prevention_of_crime",
            "scheme": "SCH-01",
        },
    )
    edit_url = started.headers["location"].split("?")[0]  # type: ignore[attr-defined]
    disclosure_id = int(edit_url.split("/")[2])
    page = client.get(edit_url)
    assert page.status_code == 200 and "Corner Shop Ltd" in page.text  # the scheme's members to choose from

    blocked = scheme_request()
    blocked["items"][1]["content"] = "Lives at 12 Acacia Avenue and has previous convictions for theft"
    saved = post_form(client, edit_url, _wizard_form(blocked))
    assert "Blocking" in saved.headers["location"]  # type: ignore[attr-defined]
    page = _text(client.get(edit_url).text)
    assert "CONTAINS_ADDRESS" in page and "CONTAINS_PREVIOUS_CONVICTIONS" in page and "Blocks" in page
    refused = post_form(client, f"/disclosures/{disclosure_id}/submit")
    # The wizard again with the reason as an error, not a "done" banner.
    assert refused.status_code == 400 and "Cannot submit" in refused.text  # type: ignore[attr-defined]

    submitted = post_form(client, edit_url, {**_wizard_form(scheme_request()), "then": "submit"})
    assert submitted.headers["location"].startswith(f"/disclosures/{disclosure_id}?done=Submitted")  # type: ignore[attr-defined]

    client.cookies.clear()
    log_in(client, "S1002")
    queue = client.get("/disclosures/queue/authorise").text
    assert f"/disclosures/{disclosure_id}" in queue
    post_form(client, f"/disclosures/{disclosure_id}/authorise", {"note": "grounds current"})
    released = post_form(client, f"/disclosures/{disclosure_id}/release")
    location = released.headers["location"]  # type: ignore[attr-defined]
    assert (
        re.search(r"Reference%20CZ/001/\d\d|Reference\+CZ%2F001", location)
        or "CZ/001/" in client.get(location).text
    )
    case = client.get(f"/disclosures/{disclosure_id}").text
    assert "CZ/001/" in case and "Released" in case
    pdf = client.get(f"/disclosures/{disclosure_id}/authority.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-disposition"].startswith('attachment; filename="authority-CZ-001-')


def test_the_wizard_checks_unsaved_answers_without_saving_them(client: TestClient, world: Session) -> None:
    log_in(client, "S1001")
    disclosure_id = disclosure.create_draft(world, scheme_request(), principal("S1001"))
    world.commit()
    form = _wizard_form(scheme_request())
    form["item-1-content"] = "Lives at 12 Acacia Avenue"
    live = post_form(client, f"/disclosures/{disclosure_id}/findings", form)
    found = live.json()  # type: ignore[attr-defined]
    assert found["decision"] == "blocked"
    assert {"code": "CONTAINS_ADDRESS", "where": "items.1"}.items() <= next(
        f for f in found["findings"] if f["code"] == "CONTAINS_ADDRESS"
    ).items()
    stored = disclosure.view(world, disclosure_id, principal("S1001"), "t").request
    assert stored is not None and "Acacia" not in stored.items[1].content
    form["intel-0-recorded_at"] = "soon"
    bad = post_form(client, f"/disclosures/{disclosure_id}/findings", form).json()  # type: ignore[attr-defined]
    assert bad["decision"] is None and "Intelligence 1, recorded at:" in bad["problems"][0]


def test_a_bad_field_is_named_and_nothing_is_saved(client: TestClient, world: Session) -> None:
    log_in(client, "S1001")
    disclosure_id = disclosure.create_draft(world, scheme_request(), principal("S1001"))
    world.commit()
    form = _wizard_form(scheme_request())
    form["intel-0-recorded_at"] = "yesterday"
    response = post_form(client, f"/disclosures/{disclosure_id}/edit", form)
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert "Intelligence 1, recorded at:" in _text(response.text)  # type: ignore[attr-defined]


def test_every_document_prints(client: TestClient, world: Session) -> None:
    officer, aic = principal("S1001"), principal("S1002")
    disclosure_id = disclosure.create_draft(world, scheme_request(), officer)
    disclosure.submit(world, disclosure_id, officer)
    disclosure.authorise(world, disclosure_id, aic)
    disclosure.release(world, disclosure_id, aic)
    world.commit()
    log_in(client, "S1004")
    for document in ("authority", "review", "undertaking", "record"):
        response = client.get(f"/disclosures/{disclosure_id}/{document}.pdf")
        assert response.status_code == 200 and response.content.startswith(b"%PDF"), document
    ledger.flush_pending(world)
    printed = ledger.search(
        world, EntryFilter(op="consultation", object_type="disclosure", actor="staff:S1004")
    )
    assert printed and all(entry.subjects == ["N2001"] for entry in printed)


def test_an_officer_cannot_open_someone_elses_case(
    client: TestClient, world: Session, logged_in: Callable[..., str]
) -> None:
    disclosure_id = disclosure.create_draft(world, scheme_request(), principal("S1001"))
    world.commit()
    from custodes.identity.permissions import Role

    logged_in(Role.OFFICER)
    assert client.get(f"/disclosures/{disclosure_id}").status_code == 404
    assert client.get(f"/disclosures/{disclosure_id}/record.pdf").status_code == 404


@pytest.mark.parametrize("number", [2**31 + 1, 2**63, 10**30])
def test_a_record_number_too_large_for_the_database_is_not_found(
    client: TestClient, world: Session, logged_in: Callable[..., str], number: int
) -> None:
    from custodes.identity.permissions import Role

    logged_in(Role.DPU)
    response = client.get(f"/disclosures/{number}")
    assert response.status_code == 404 and "There is no such" in response.text


def test_the_api_gives_the_same_findings_as_the_service(client: TestClient, world: Session) -> None:
    token = identity.create_api_token(world, "checker", [Scope.DISCLOSURE_CHECK], "system:test")
    world.commit()
    headers = {"Authorization": f"Bearer {token}"}
    request = scheme_request(recipients=["M-0001", "NOBODY"])
    response = client.post("/api/v1/disclosures/check", json=request, headers=headers)
    assert response.status_code == 200
    assert response.json() == disclosure.check(world, request, actor="system:test").as_dict()
    assert response.json()["decision"] == "blocked"
    bad = client.post("/api/v1/disclosures/check", json={**request, "route": "pigeon"}, headers=headers)
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "route"


# --------------------------------------------------------------------------- the CLI


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


def test_cli_check_prints_exactly_the_specified_json(installation: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "request.json"
    path.write_text(json.dumps(scheme_request(authorisation={"by": "S1002", "at": "2026-10-03T10:00:00Z"})))
    result = runner.invoke(cli, ["disclosure", "check", str(path)], env=installation)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"decision": "ready", "findings": []}
    path.write_text(json.dumps(scheme_request(recipients=["NOBODY"])))
    result = runner.invoke(cli, ["disclosure", "check", str(path), "--at", "2026-11-01"], env=installation)
    printed = json.loads(result.stdout)
    assert result.exit_code == 0 and printed["decision"] == "blocked"
    assert all(set(f) == {"code", "severity", "message", "policy"} for f in printed["findings"])


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "cannot read the file"),
        ("{not json", "not a JSON request"),
        (json.dumps(scheme_request(route="pigeon")), "route:"),
        (json.dumps(scheme_request(subject="N9999")), "subject: N9999 is not a known nominal"),
    ],
    ids=["missing", "not-json", "unknown-route", "unknown-subject"],
)
def test_cli_check_exits_2_naming_what_is_wrong(
    installation: dict[str, str], tmp_path: Path, content: str | None, expected: str
) -> None:
    path = tmp_path / "request.json"
    if content is not None:
        path.write_text(content)
    result = runner.invoke(cli, ["disclosure", "check", str(path)], env=installation)
    assert result.exit_code == 2
    assert expected in result.output


def test_cli_check_refuses_a_malformed_date(installation: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "request.json"
    path.write_text(json.dumps(scheme_request()))
    result = runner.invoke(cli, ["disclosure", "check", str(path), "--at", "01/11/2026"], env=installation)
    assert result.exit_code == 2 and "--at" in result.output


# ------------------------------------------------------------------------- views of personal data are logged


def _consultations(db: Session, **wanted: object) -> list[object]:
    ledger.flush_pending(db)
    return [
        e
        for e in ledger.search(db, EntryFilter(op="consultation"), limit=1000)
        if all(getattr(e, key) == value for key, value in wanted.items())
    ]


def test_the_wizards_list_of_scheme_members_is_a_consultation(client: TestClient, world: Session) -> None:
    log_in(client, "S1001")
    disclosure_id = disclosure.create_draft(world, scheme_request(), principal("S1001"))
    world.commit()
    page = client.get(f"/disclosures/{disclosure_id}/edit")
    assert page.status_code == 200 and "Corner Shop Ltd" in page.text
    shown = _consultations(world, object_type="scheme_register", object_id="SCH-01", actor="staff:S1001")
    assert len(shown) == 1
    assert set(shown[0].subjects) == {"M-0001", "M-0002", "M-0003"}  # type: ignore[attr-defined]
    assert shown[0].justification == f"choosing recipients for disclosure request {disclosure_id}"  # type: ignore[attr-defined]


def test_the_wizards_live_findings_consult_the_subject_on_the_form(
    client: TestClient, world: Session
) -> None:
    """The officer may have typed another subject: the findings shown are about that person."""
    log_in(client, "S1001")
    disclosure_id = disclosure.create_draft(world, scheme_request(), principal("S1001"))
    world.commit()
    form = _wizard_form(scheme_request())
    form["subject"] = "N2002"
    live = post_form(client, f"/disclosures/{disclosure_id}/findings", form)
    assert live.status_code == 200  # type: ignore[attr-defined]
    shown = _consultations(world, object_type="disclosure", object_id=str(disclosure_id), actor="staff:S1001")
    assert [list(e.subjects) for e in shown] == [["N2002"]]  # type: ignore[attr-defined]


def test_an_api_check_is_a_consultation_of_the_subject(client: TestClient, world: Session) -> None:
    token = identity.create_api_token(world, "checker", [Scope.DISCLOSURE_CHECK], "system:test")
    world.commit()
    response = client.post(
        "/api/v1/disclosures/check", json=scheme_request(), headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    shown = _consultations(world, object_type="disclosure_check")
    assert len(shown) == 1 and list(shown[0].subjects) == ["N2001"]  # type: ignore[attr-defined]
    assert shown[0].actor.startswith("system:api-token-")  # type: ignore[attr-defined]


def test_a_cli_check_is_a_consultation_of_the_subject(installation: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "request.json"
    path.write_text(json.dumps(scheme_request()))
    result = runner.invoke(cli, ["disclosure", "check", str(path)], env=installation)
    assert result.exit_code == 0, result.output
    settings = Settings(
        home=tmp_path, database_url=installation["CUSTODES_DATABASE_URL"], secret_key=TEST_SECRET
    )
    database = Database.open(settings)
    try:
        with database.factory() as session:
            shown = _consultations(session, object_type="disclosure_check")
            assert [(e.actor, list(e.subjects)) for e in shown] == [("system:cli", ["N2001"])]  # type: ignore[attr-defined]
    finally:
        database.close()


def test_disposal_looks_ahead_only_as_a_preview(installation: dict[str, str]) -> None:
    """Disposing as of a later day would erase records before their time (found by review)."""
    later = str(date.today() + timedelta(days=400))
    refused = runner.invoke(cli, ["disclosure", "dispose", "--at", later], env=installation)
    assert refused.exit_code == 2 and "only --dry-run may look ahead" in refused.output
    preview = runner.invoke(cli, ["disclosure", "dispose", "--at", later, "--dry-run"], env=installation)
    assert preview.exit_code == 0, preview.output


def test_the_disposal_job_marks_disclosures_expired_first(
    installation: dict[str, str], tmp_path: Path
) -> None:
    from custodes.agreements import service as agreements
    from custodes.disclosure.schemas import Status
    from tests.disclosure.world import probation_request

    settings = Settings(
        home=tmp_path, database_url=installation["CUSTODES_DATABASE_URL"], secret_key=TEST_SECRET
    )
    database = Database.open(settings)
    try:
        request = probation_request(
            route="agreement", recipients=["KCC"], agreement="KMISA", purpose="prevention_of_crime",
            lawful_basis="CDA1998_s115",
        )  # fmt: skip
        with database.factory.begin() as session:
            disclosure_id = disclosure.create_draft(session, request, principal("S1001"))
            disclosure.submit(session, disclosure_id, principal("S1001"))
            disclosure.authorise(session, disclosure_id, principal("S1003"), "ok")
            disclosure.release(session, disclosure_id, principal("S1003"))
            agreements.set_agreement_status(session, "KMISA", "withdrawn", "council left", "staff:S1004")
        dry = runner.invoke(cli, ["disclosure", "dispose", "--dry-run"], env=installation)
        assert dry.exit_code == 0 and "Would mark 1 disclosure expired" in dry.output, dry.output
        done = runner.invoke(cli, ["disclosure", "dispose"], env=installation)
        assert done.exit_code == 0 and f"Expired: {disclosure_id}" in done.output, done.output
        with database.factory() as session:
            detail = disclosure.view(session, disclosure_id, principal("S1004"), "t")
            assert detail.summary.status == Status.EXPIRED
    finally:
        database.close()


def test_an_officer_completes_an_emergency_record_on_screen(client: TestClient, world: Session) -> None:
    from tests.disclosure.test_lifecycle import _emergency_at_the_time

    officer = principal("S1001")
    disclosure_id = disclosure.create_draft(world, _emergency_at_the_time(), officer)
    disclosure.update_draft(world, disclosure_id, _emergency_at_the_time(), officer)
    disclosure.release(world, disclosure_id, officer)
    world.commit()
    log_in(client, "S1001")
    assert f"/disclosures/{disclosure_id}/complete" in client.get(f"/disclosures/{disclosure_id}").text
    page = _text(client.get(f"/disclosures/{disclosure_id}/complete").text)
    assert "LAWFUL_BASIS_MISSING" in page and "ITEM_NOT_CLASSIFIED" in page
    assert "Seen with a co-defendant" in page
    why = "Threat to life: he said he would go to her house."
    html = client.get(f"/disclosures/{disclosure_id}/complete").text
    # What was recorded is shown, not offered for editing: there is a box to add to it.
    assert '<pre id="rationale" class="prose">' + why + "</pre>" in html and 'name="rationale"' not in html
    assert 'name="rationale_addition"' in html and 'name="lawful_basis"' in html  # none recorded yet
    form = {
        "lawful_basis": "DPA2018_Part3",
        "rationale_addition": "The control room log confirms the call.",
        "item-0-nature": "fact",
        "item-0-person_category": "convicted",
        "item-0-source_kind": "system_record",
        "item-0-source_system": "Athena",
        "item-0-source_record_id": "OCC-77",
        "item-0-verified": "1",
    }
    saved = post_form(client, f"/disclosures/{disclosure_id}/complete", form)
    assert "ready" in saved.headers["location"]  # type: ignore[attr-defined]
    page = _text(client.get(f"/disclosures/{disclosure_id}/complete").text)
    assert "ITEM_NOT_CLASSIFIED" not in page and "AUTHORISATION_MISSING" in page
    completed = disclosure.view(world, disclosure_id, officer, "t").request
    assert completed is not None and completed.lawful_basis == "DPA2018_Part3"
    assert completed.rationale == f"{why}\n\nThe control room log confirms the call."
    html = client.get(f"/disclosures/{disclosure_id}/complete").text
    assert (
        'name="lawful_basis"' not in html and "Data Protection Act 2018, Part 3" in html
    )  # recorded: shown in words
    # A rationale or lawful basis posted anyway (an old form, a crafted post) changes nothing recorded.
    post_form(
        client,
        f"/disclosures/{disclosure_id}/complete",
        {**form, "lawful_basis": "common_law", "rationale": "Something else.", "rationale_addition": ""},
    )
    after = disclosure.view(world, disclosure_id, officer, "t").request
    assert after is not None and (after.lawful_basis, after.rationale) == (
        completed.lawful_basis,
        completed.rationale,
    )
    client.cookies.clear()
    log_in(client, "S1002")
    post_form(client, f"/disclosures/{disclosure_id}/authorise", {"note": "threat to life"})
    assert disclosure.view(world, disclosure_id, principal("S1004"), "t").authorised_by == "S1002"


def test_the_completion_form_is_only_for_the_requester_and_only_before_authorisation(
    client: TestClient, world: Session
) -> None:
    from tests.disclosure.test_lifecycle import _emergency_at_the_time

    officer = principal("S1001")
    disclosure_id = disclosure.create_draft(world, _emergency_at_the_time(), officer)
    disclosure.release(world, disclosure_id, officer)
    world.commit()
    case, form = f"/disclosures/{disclosure_id}", f"/disclosures/{disclosure_id}/complete"
    log_in(client, "S1004")  # the DPU sees the case, but did not release it
    assert form not in client.get(case).text
    assert client.get(form).headers["location"] == case
    refused = post_form(client, form, {})
    assert "Only%20the%20officer%20who%20released%20it" in refused.headers["location"]  # type: ignore[attr-defined]
    client.cookies.clear()
    log_in(client, "S1001")
    assert form in client.get(case).text and client.get(form).status_code == 200
    item = {
        "nature": "fact",
        "person_category": "convicted",
        "source": {"kind": "system_record", "system": "Athena", "record_id": "OCC-77"},
        "verified": {"by": "S1001", "at": "2026-01-01T10:00:00+00:00", "method": "checked on Athena"},
    }
    completion = {"lawful_basis": "DPA2018_Part3", "items": [item]}
    disclosure.complete_emergency(world, disclosure_id, completion, officer)
    disclosure.authorise(world, disclosure_id, principal("S1003"), "threat to life")
    world.commit()
    assert form not in client.get(case).text
    assert client.get(form).headers["location"] == case
