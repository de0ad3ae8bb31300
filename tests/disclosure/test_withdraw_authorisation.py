"""An authorisation withdrawn before release, by an authoriser (or the DPU), with the reason: the request may
no longer be released and waits for a decision again; the officer sees why on the case page. Before this only
the requesting officer could take an authorised request back (`return_to_draft`): an authoriser who had
changed their mind could do nothing to stop its release."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from custodes.disclosure import service as disclosure
from custodes.identity import service as identity
from custodes.kit.db import utcnow
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter
from tests.conftest import PASSWORD, log_in, post_form
from tests.disclosure.world import make_world, principal, scheme_request

OFFICER, AIC, DPU, OTHER_AIC = (principal(s) for s in ("S1001", "S1002", "S1004", "S1005"))
REASON = "The grounds rest on INT-5, which is being re-graded: not to go out as it stands."


@pytest.fixture
def world(db: Session) -> Session:
    make_world(db)
    for staff_id in ("S1001", "S1002", "S1004"):
        identity.set_password(db, staff_id, PASSWORD, "system:test")
    db.commit()
    return db


def _authorised(db: Session) -> int:
    disclosure_id = disclosure.create_draft(db, scheme_request(), OFFICER)
    disclosure.submit(db, disclosure_id, OFFICER)
    disclosure.authorise(db, disclosure_id, AIC, "grounds current")
    return disclosure_id


def _withdrawals(db: Session, disclosure_id: int) -> list[object]:
    ledger.flush_pending(db)
    entries = ledger.search(db, EntryFilter(object_type="disclosure", object_id=str(disclosure_id)))
    return [e for e in entries if (e.detail or {}).get("action") == "authorisation withdrawn"]


def test_the_authoriser_withdraws_it_and_it_waits_for_a_decision_again(world: Session) -> None:
    disclosure_id = _authorised(world)
    disclosure.withdraw_authorisation(world, disclosure_id, AIC, f"  {REASON}  ")

    case = disclosure.view(world, disclosure_id, OFFICER, "t")
    assert case.summary.status == "submitted" and case.authorised_by is None
    assert case.request is not None and case.request.authorisation is None
    assert case.history[-1].action == "authorisation withdrawn" and case.history[-1].actor == "S1002"
    assert case.extra["came_back"].note == REASON  # shown to the officer on the case page
    (entry,) = _withdrawals(world, disclosure_id)
    assert entry.op == "alteration" and entry.actor == "staff:S1002"  # type: ignore[attr-defined]
    assert entry.justification == REASON and entry.subjects == ["N2001"]  # type: ignore[attr-defined]
    assert entry.detail["previous_status"] == "authorised" and entry.detail["status"] == "submitted"  # type: ignore[attr-defined]
    assert entry.detail["authorisation_withdrawn"] == "S1002"  # type: ignore[attr-defined]

    with pytest.raises(disclosure.DisclosureError, match="Only an authorised request"):
        disclosure.release(world, disclosure_id, OFFICER)  # not by the officer, nor anyone
    assert disclosure.release_queue(world, OFFICER) == []
    assert [row.id for row in disclosure.authorisation_queue(world, AIC)] == [disclosure_id]

    # Decided again: the notice goes, and a fresh authorisation lets it be released.
    disclosure.authorise(world, disclosure_id, AIC, "INT-5 re-graded B2")
    assert disclosure.view(world, disclosure_id, OFFICER, "t").extra["came_back"] is None
    assert disclosure.release(world, disclosure_id, OFFICER).startswith("CZ/")


def test_after_a_withdrawal_it_can_be_refused_or_sent_back(world: Session) -> None:
    refused, sent_back = _authorised(world), _authorised(world)
    for disclosure_id in (refused, sent_back):
        disclosure.withdraw_authorisation(world, disclosure_id, AIC, REASON)
    disclosure.refuse(world, refused, AIC, "INT-5 withdrawn: no current intelligence")
    assert disclosure.view(world, refused, OFFICER, "t").extra["came_back"] is None
    disclosure.send_back(world, sent_back, AIC, "Cite current intelligence")
    back = disclosure.view(world, sent_back, OFFICER, "t").extra["came_back"]
    assert back.action == "sent back" and back.note == "Cite current intelligence"


def test_who_may_withdraw_an_authorisation_and_when(world: Session) -> None:
    disclosure_id = _authorised(world)
    with pytest.raises(disclosure.DisclosureError, match="Reason for withdrawing the authorisation"):
        disclosure.withdraw_authorisation(world, disclosure_id, AIC, "  ")
    with pytest.raises(disclosure.DisclosureError, match="to take back your own request, return it to draft"):
        disclosure.withdraw_authorisation(world, disclosure_id, OFFICER, "mine")
    # An AIC of another area may not decide a scheme request of this area, so may not withdraw it either.
    with pytest.raises(
        disclosure.DisclosureError, match="You may not withdraw this authorisation: S1005 is not the Area"
    ):
        disclosure.withdraw_authorisation(world, disclosure_id, OTHER_AIC, "not mine")
    assert _withdrawals(world, disclosure_id) == []

    # The DPU, who may release any authorised request, may withdraw one in any area.
    disclosure.withdraw_authorisation(world, disclosure_id, DPU, REASON)
    (entry,) = _withdrawals(world, disclosure_id)
    assert entry.actor == "staff:S1004" and entry.detail["authorisation_withdrawn"] == "S1002"  # type: ignore[attr-defined]
    with pytest.raises(
        disclosure.DisclosureError,
        match="Only an authorised request not yet released can have its authorisation withdrawn; "
        "this one is awaiting authorisation",
    ):
        disclosure.withdraw_authorisation(world, disclosure_id, AIC, "again")

    released = _authorised(world)
    disclosure.release(world, released, AIC)
    with pytest.raises(disclosure.DisclosureError, match="this one is released"):
        disclosure.withdraw_authorisation(world, released, AIC, "too late: review it instead")
    assert disclosure.view(world, released, DPU, "t").summary.status == "released"


def test_a_withdrawal_is_a_step_the_pending_period_counts_from(world: Session) -> None:
    disclosure_id = _authorised(world)
    world.flush()
    long_ago = utcnow() - timedelta(days=95)
    world.connection().execute(
        text("UPDATE disclosure SET updated_at = :at, submitted_at = :at, authorised_at = :at WHERE id = :i"),
        {"at": long_ago, "i": disclosure_id},
    )
    world.expire_all()
    disclosure.withdraw_authorisation(world, disclosure_id, AIC, REASON)
    assert disclosure.lapse(world, "system:test", date.today()) == []  # not lapsed at once
    assert disclosure.view(world, disclosure_id, DPU, "t").summary.status == "submitted"


def test_the_case_page_offers_it_to_authorisers_and_tells_the_officer(
    client: TestClient, world: Session
) -> None:
    disclosure_id = _authorised(world)
    world.commit()
    form = f'action="/disclosures/{disclosure_id}/withdraw-authorisation"'
    log_in(client, "S1001")
    assert form not in client.get(f"/disclosures/{disclosure_id}").text
    refused = post_form(client, f"/disclosures/{disclosure_id}/withdraw-authorisation", {"reason": "x"})
    assert refused.status_code == 403  # type: ignore[attr-defined]  # officers hold no disclosure:authorise

    client.cookies.clear()
    log_in(client, "S1002")
    case = client.get(f"/disclosures/{disclosure_id}").text
    assert form in case and "Withdraw the authorisation" in case
    blank = post_form(client, f"/disclosures/{disclosure_id}/withdraw-authorisation", {"reason": ""})
    assert blank.status_code == 400 and "Reason for withdrawing the authorisation" in blank.text  # type: ignore[attr-defined]
    assert 'aria-describedby="withdraw_reason-error"' in blank.text  # type: ignore[attr-defined]
    done = post_form(client, f"/disclosures/{disclosure_id}/withdraw-authorisation", {"reason": REASON})
    assert done.headers["location"].startswith(f"/disclosures/{disclosure_id}?done=")  # type: ignore[attr-defined]
    after = client.get(f"/disclosures/{disclosure_id}").text
    assert form not in after and f'action="/disclosures/{disclosure_id}/authorise"' in after

    client.cookies.clear()
    log_in(client, "S1001")
    case = client.get(f"/disclosures/{disclosure_id}").text
    assert re.search(r"Authorisation withdrawn by [^<(]+ \(S1002\) on \d\d \w{3} \d{4}", case)
    assert "which is being re-graded" in case and "It may not be released" in case
    assert f'action="/disclosures/{disclosure_id}/release"' not in case
