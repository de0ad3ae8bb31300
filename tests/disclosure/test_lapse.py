"""Requests left submitted or authorised and never acted on: flagged stale, then lapsed back to draft by the
disposal run (a case event and a ledger entry), then erased as a draft. Before this they had no retention
clock at all and were kept for ever."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from custodes.cli import app as cli
from custodes.database import Database
from custodes.disclosure import service as disclosure
from custodes.disclosure.schemas import Status
from custodes.identity import service as identity
from custodes.kit.db import utcnow
from custodes.kit.timefmt import london_day
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter
from custodes.settings import Settings
from tests.conftest import PASSWORD, TEST_SECRET, log_in, post_form
from tests.disclosure.world import make_world, principal, scheme_request

OFFICER, AIC, DPU = (principal(s) for s in ("S1001", "S1002", "S1004"))
TODAY = date.today()
runner = CliRunner()


@pytest.fixture
def world(db: Session) -> Session:
    make_world(db)
    for staff_id in ("S1001", "S1002", "S1004"):
        identity.set_password(db, staff_id, PASSWORD, "system:test")
    db.commit()
    return db


def _submitted(db: Session) -> int:
    disclosure_id = disclosure.create_draft(db, scheme_request(), OFFICER)
    disclosure.submit(db, disclosure_id, OFFICER)
    return disclosure_id


def _authorised(db: Session) -> int:
    disclosure_id = _submitted(db)
    disclosure.authorise(db, disclosure_id, AIC, "grounds current")
    return disclosure_id


def _age(db: Session, disclosure_id: int, days: int) -> datetime:
    """Move every step of the request `days` into the past (as if nothing had happened since); the moment
    it now last moved."""
    db.flush()
    at = utcnow() - timedelta(days=days)
    db.connection().execute(
        text(
            "UPDATE disclosure SET updated_at = :at, submitted_at = :at,"
            " authorised_at = CASE WHEN authorised_at IS NULL THEN NULL ELSE :at END WHERE id = :i"
        ),
        {"at": at, "i": disclosure_id},
    )
    db.expire_all()
    return at


def _actions(db: Session, disclosure_id: int, action: str) -> list[object]:
    ledger.flush_pending(db)
    entries = ledger.search(db, EntryFilter(object_type="disclosure", object_id=str(disclosure_id)))
    return [e for e in entries if (e.detail or {}).get("action") == action]


def test_a_request_never_acted_on_lapses_to_draft_and_is_then_erased(world: Session) -> None:
    submitted, authorised, recent = _submitted(world), _authorised(world), _authorised(world)
    _age(world, submitted, 91)
    _age(world, authorised, 91)
    _age(world, recent, 10)

    # Before: nothing ever disposed of them, however long they waited.
    far = TODAY + timedelta(days=20 * 365)
    assert disclosure.due_for_disposal(world, far) == ([], [])

    assert disclosure.lapse(world, "system:test", TODAY, dry_run=True) == [submitted, authorised]
    assert disclosure.lapse(world, "system:test", TODAY) == [submitted, authorised]
    for disclosure_id, was in ((submitted, "submitted"), (authorised, "authorised")):
        case = disclosure.view(world, disclosure_id, OFFICER, "t")
        assert case.summary.status == Status.DRAFT and case.authorised_by is None
        assert case.request is not None and case.request.authorisation is None
        assert case.history[-1].action == "lapsed" and "neither released nor refused within 90 days" in (
            case.history[-1].note or ""
        )
        (entry,) = _actions(world, disclosure_id, "lapsed")
        assert entry.op == "alteration" and entry.subjects == ["N2001"]  # type: ignore[attr-defined]
        assert entry.detail["previous_status"] == was  # type: ignore[attr-defined]
        assert entry.detail["authorisation_withdrawn"] == ("S1002" if was == "authorised" else None)  # type: ignore[attr-defined]
    assert disclosure.view(world, recent, OFFICER, "t").summary.status == Status.AUTHORISED
    assert disclosure.lapse(world, "system:test", TODAY) == []  # done once

    # Then kept as a draft: erased 90 days after the lapse, like any draft left alone.
    assert disclosure.due_for_disposal(world, TODAY + timedelta(days=89))[0] == []
    later = TODAY + timedelta(days=90)
    assert [row.id for row in disclosure.due_for_disposal(world, later)[0]] == [submitted, authorised]
    report = disclosure.dispose(world, "system:test", later)
    assert report.erased == [submitted, authorised]
    assert disclosure.view(world, submitted, DPU, "t").summary.status == Status.DESTROYED


def test_the_pending_period_is_a_retention_rule_and_a_legal_hold_keeps_the_request(world: Session) -> None:
    held, other = _submitted(world), _submitted(world)
    _age(world, held, 40)
    _age(world, other, 40)
    disclosure.set_legal_hold(world, held, "Claim 2026-9", "staff:S1004")
    assert disclosure.lapse(world, "system:test", TODAY) == []
    disclosure.set_retention_rule(world, "disclosure_pending", 35, "", "staff:S1004")
    assert disclosure.lapse(world, "system:test", TODAY) == [other]
    assert disclosure.view(world, held, DPU, "t").summary.status == Status.SUBMITTED


def test_someone_acting_after_the_list_was_drawn_up_wins(
    world: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    disclosure_id = _authorised(world)
    _age(world, disclosure_id, 100)
    load = disclosure._load
    released: list[str] = []

    def release_first(session: Session, number: int, *, lock: bool = False) -> object:
        if lock and not released:  # the officer releases it between the list and the lapse
            released.append("yes")
            disclosure.release(session, number, AIC)
        return load(session, number, lock=lock)

    monkeypatch.setattr(disclosure, "_load", release_first)
    assert disclosure.lapse(world, "system:test", TODAY) == []
    assert released and disclosure.view(world, disclosure_id, DPU, "t").summary.status == Status.RELEASED
    assert _actions(world, disclosure_id, "lapsed") == []


def test_stale_requests_are_flagged_on_the_queue_and_the_retention_page(
    client: TestClient, world: Session
) -> None:
    stale, fresh = _submitted(world), _submitted(world)
    last_step = _age(world, stale, 31)
    world.commit()
    # From the London day of the last step: 31 days ago may have been summer time, a day ahead after 23:00.
    lapses = (london_day(last_step) + timedelta(days=90)).strftime("%d %b %Y")
    for staff_id, page in (("S1002", "/disclosures/queue/authorise"), ("S1004", "/retention")):
        client.cookies.clear()
        log_in(client, staff_id)
        shown = client.get(page).text
        assert shown.count("Stale — no step since") == 1, page
        assert f"lapses to draft on {lapses}" in shown
        assert f'href="/disclosures/{stale}"' in shown
    assert f'href="/disclosures/{fresh}"' not in shown  # the retention page lists only the stale one


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


def test_the_disposal_job_lapses_requests_not_acted_on(installation: dict[str, str], tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path, database_url=installation["CUSTODES_DATABASE_URL"], secret_key=TEST_SECRET
    )
    database = Database.open(settings)
    try:
        with database.factory.begin() as session:
            disclosure_id = _authorised(session)
            _age(session, disclosure_id, 95)
        dry = runner.invoke(cli, ["disclosure", "dispose", "--dry-run"], env=installation)
        assert dry.exit_code == 0 and "Would return 1 request(s) not acted on to draft" in dry.output, (
            dry.output
        )
        done = runner.invoke(cli, ["disclosure", "dispose"], env=installation)
        assert done.exit_code == 0 and f"Lapsed: {disclosure_id}" in done.output, done.output
        with database.factory() as session:
            case = disclosure.view(session, disclosure_id, DPU, "t")
            assert case.summary.status == Status.DRAFT and case.history[-1].actor == "system:cli"
    finally:
        database.close()


# --------------------------------------------------------------------------- the stale flag's setting


def test_the_stale_setting_is_at_least_a_day_and_says_so_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().disclosure_stale_after_days == 30
    monkeypatch.setenv("CUSTODES_DISCLOSURE_STALE_AFTER_DAYS", "12")
    assert Settings().disclosure_stale_after_days == 12
    for wrong in ("0", "-3"):
        monkeypatch.setenv("CUSTODES_DISCLOSURE_STALE_AFTER_DAYS", wrong)
        with pytest.raises(ValidationError) as refused:
            Settings()
        message = str(refused.value)
        assert "CUSTODES_DISCLOSURE_STALE_AFTER_DAYS" in message and "must be at least 1 day" in message
    monkeypatch.setenv("CUSTODES_DISCLOSURE_STALE_AFTER_DAYS", "3000000")  # past the calendar: pages crashed
    with pytest.raises(ValidationError, match=r"must be at most 36,499 days"):
        Settings()
    monkeypatch.setenv("CUSTODES_DISCLOSURE_STALE_AFTER_DAYS", "36499")
    assert Settings().disclosure_stale_after_days == 36_499
    monkeypatch.setenv("CUSTODES_DISCLOSURE_STALE_AFTER_DAYS", "soon")
    with pytest.raises(ValidationError, match="disclosure_stale_after_days"):
        Settings()


def test_the_pending_period_must_stay_longer_than_the_stale_setting(world: Session) -> None:
    for days in (30, 20):
        with pytest.raises(
            disclosure.DisclosureError, match=r"the setting disclosure_stale_after_days .*31 days"
        ):
            disclosure.set_retention_rule(
                world, "disclosure_pending", days, "", "staff:S1004", stale_after_days=30
            )
    disclosure.set_retention_rule(world, "disclosure_pending", 31, "", "staff:S1004", stale_after_days=30)
    disclosure.set_retention_rule(world, "disclosure_pending", 20, "", "staff:S1004", stale_after_days=10)
    assert {r.record_type: r.keep_days for r in disclosure.retention_rules(world)}["disclosure_pending"] == 20
    # Other record types are not held to it.
    disclosure.set_retention_rule(world, "disclosure_draft", 7, "", "staff:S1004", stale_after_days=30)


def test_a_changed_stale_setting_changes_the_flag(world: Session) -> None:
    waiting = _submitted(world)
    _age(world, waiting, 12)
    rows = disclosure.stale_requests(world, TODAY, 30)
    assert rows == [] and disclosure.stale_flags(world, disclosure.list_disclosures(world), TODAY, 30) == {}
    lapses = TODAY - timedelta(days=12) + timedelta(days=90)
    assert [row.id for row in disclosure.stale_requests(world, TODAY, 10)] == [waiting]
    assert disclosure.stale_flags(world, disclosure.list_disclosures(world), TODAY, 10) == {waiting: lapses}
    assert disclosure.stale_setting_problem(world, 10) is None


def test_the_screens_use_the_setting_and_the_retention_page_names_it_when_it_is_too_long(
    client: TestClient, world: Session, app: FastAPI
) -> None:
    waiting = _submitted(world)
    _age(world, waiting, 12)
    world.commit()
    log_in(client, "S1004")
    assert "Stale — no step since" not in client.get("/retention").text  # 12 days: not yet, at 30
    app.state.settings = app.state.settings.model_copy(update={"disclosure_stale_after_days": 10})
    page = client.get("/retention").text
    assert page.count("Stale — no step since") == 1 and "with no step for 10 days" in page
    assert 'id="stale-setting"' not in page
    client.cookies.clear()
    log_in(client, "S1002")
    assert client.get("/disclosures/queue/authorise").text.count("Stale — no step since") == 1

    # The DPU cannot make the pending period 10 days or fewer while the setting is 10: refused by name.
    client.cookies.clear()
    log_in(client, "S1004")
    refused = post_form(client, "/retention/disclosure_pending", {"keep_days": "10", "basis": ""})
    assert refused.status_code == 400  # type: ignore[attr-defined]
    assert "disclosure_stale_after_days (CUSTODES_DISCLOSURE_STALE_AFTER_DAYS)" in refused.text  # type: ignore[attr-defined]
    assert 'aria-describedby="keep_days-disclosure_pending-error"' in refused.text  # type: ignore[attr-defined]

    # A setting raised to the pending period or beyond is named on the retention page; the flag then comes
    # from the lapse day.
    app.state.settings = app.state.settings.model_copy(update={"disclosure_stale_after_days": 90})
    page = client.get("/retention").text
    assert (
        'id="stale-setting"' in page and "must be less than the disclosure pending period (90 days)" in page
    )
    assert "Stale — no step since" not in page
