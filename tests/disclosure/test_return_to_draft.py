"""A submitted or authorised request taken back as a draft by its officer, to put right what stops it (a
correction, a lapsed check, a mistake) and submit it again for a fresh authorisation."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from custodes.disclosure import service as disclosure
from custodes.identity import service as identity
from custodes.kit.db import utcnow
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter
from tests.conftest import PASSWORD, log_in, post_form
from tests.disclosure.world import make_world, principal, scheme_request

OFFICER, AIC, DPU = (principal(s) for s in ("S1001", "S1002", "S1004"))


@pytest.fixture
def world(db: Session) -> Session:
    make_world(db)
    for staff_id in ("S1001", "S1002", "S1004"):
        identity.set_password(db, staff_id, PASSWORD, "system:test")
    db.commit()
    return db


# --------------------------------------------------------------------------- returning to draft


def _authorised(db: Session) -> int:
    disclosure_id = disclosure.create_draft(db, scheme_request(), OFFICER)
    disclosure.submit(db, disclosure_id, OFFICER)
    disclosure.authorise(db, disclosure_id, AIC, "grounds current")
    return disclosure_id


def _returns(db: Session, disclosure_id: int) -> list[object]:
    ledger.flush_pending(db)
    entries = ledger.search(db, EntryFilter(object_type="disclosure", object_id=str(disclosure_id)))
    return [e for e in entries if (e.detail or {}).get("action") == "returned to draft"]


def test_an_authorised_request_held_by_a_correction_goes_back_to_draft_and_is_released_after(
    world: Session,
) -> None:
    disclosure_id = _authorised(world)
    disclosure.report_correction(
        world, DPU, description="INT-5 was about someone else", system="Genesis", record_id="INT-5"
    )
    with pytest.raises(disclosure.DisclosureError, match="Cannot release"):
        disclosure.release(world, disclosure_id, AIC)

    disclosure.return_to_draft(world, disclosure_id, OFFICER, "INT-5 corrected: verify again")
    case = disclosure.view(world, disclosure_id, OFFICER, "t")
    assert case.summary.status == "draft" and case.authorised_by is None
    assert case.request is not None and case.request.authorisation is None  # to be authorised again
    assert case.history[-1].action == "returned to draft"
    (entry,) = _returns(world, disclosure_id)
    assert entry.op == "alteration" and entry.justification == "INT-5 corrected: verify again"
    assert entry.subjects == ["N2001"] and entry.detail["previous_status"] == "authorised"
    assert entry.detail["authorisation_withdrawn"] == "S1002" and entry.detail["status"] == "draft"

    request = scheme_request()
    request["items"][1]["verified"] = {"by": "S1001", "at": utcnow().isoformat(), "method": "checked again"}
    assert "FACT_CORRECTED" not in disclosure.update_draft(world, disclosure_id, request, OFFICER).codes()
    disclosure.submit(world, disclosure_id, OFFICER)
    with pytest.raises(disclosure.DisclosureError, match="Only an authorised request"):
        disclosure.release(world, disclosure_id, AIC)  # the old authorisation does not carry over
    disclosure.authorise(world, disclosure_id, AIC, "re-verified")
    assert disclosure.release(world, disclosure_id, AIC).startswith("CZ/")


def test_a_submitted_request_goes_back_to_draft(world: Session) -> None:
    disclosure_id = disclosure.create_draft(world, scheme_request(), OFFICER)
    disclosure.submit(world, disclosure_id, OFFICER)
    disclosure.return_to_draft(world, disclosure_id, OFFICER, "wrong purpose")
    assert disclosure.view(world, disclosure_id, OFFICER, "t").summary.status == "draft"
    assert [e.detail["previous_status"] for e in _returns(world, disclosure_id)] == ["submitted"]
    with pytest.raises(disclosure.DisclosureError, match="Only a request submitted or authorised"):
        disclosure.return_to_draft(world, disclosure_id, OFFICER, "again")  # a draft already


def test_only_the_requester_returns_it_with_a_reason_and_never_once_released(world: Session) -> None:
    disclosure_id = _authorised(world)
    with pytest.raises(disclosure.DisclosureError, match="Only the officer who drafted"):
        disclosure.return_to_draft(world, disclosure_id, AIC, "mine now")
    with pytest.raises(disclosure.DisclosureError, match="Reason for returning it to draft"):
        disclosure.return_to_draft(world, disclosure_id, OFFICER, "  ")
    disclosure.release(world, disclosure_id, AIC)
    with pytest.raises(disclosure.DisclosureError, match="this one is released"):
        disclosure.return_to_draft(world, disclosure_id, OFFICER, "too late")
    assert _returns(world, disclosure_id) == []


def test_the_case_page_offers_the_return_to_the_requester_only(client: TestClient, world: Session) -> None:
    disclosure_id = _authorised(world)
    world.commit()
    log_in(client, "S1002")
    assert "Return to draft" not in client.get(f"/disclosures/{disclosure_id}").text
    refused = post_form(client, f"/disclosures/{disclosure_id}/return", {"reason": "x"})
    assert refused.status_code == 400 and "Only the officer who drafted" in refused.text  # type: ignore[attr-defined]

    client.cookies.clear()
    log_in(client, "S1001")
    case = client.get(f"/disclosures/{disclosure_id}").text
    assert f'action="/disclosures/{disclosure_id}/return"' in case and "Return to draft" in case
    blank = post_form(client, f"/disclosures/{disclosure_id}/return", {"reason": ""})
    assert blank.status_code == 400  # type: ignore[attr-defined]
    assert 'aria-describedby="return_reason-error"' in blank.text  # type: ignore[attr-defined]
    done = post_form(client, f"/disclosures/{disclosure_id}/return", {"reason": "add the danger warning"})
    assert done.headers["location"].startswith(f"/disclosures/{disclosure_id}/edit?done=")  # type: ignore[attr-defined]
    assert client.get(f"/disclosures/{disclosure_id}/edit").status_code == 200


# --------------------------------------------------------------------------- sent back by the authoriser


def _submitted(db: Session) -> int:
    disclosure_id = disclosure.create_draft(db, scheme_request(), OFFICER)
    disclosure.submit(db, disclosure_id, OFFICER)
    return disclosure_id


def _sent_back(db: Session, disclosure_id: int) -> list[object]:
    ledger.flush_pending(db)
    entries = ledger.search(db, EntryFilter(object_type="disclosure", object_id=str(disclosure_id)))
    return [e for e in entries if (e.detail or {}).get("action") == "sent back"]


def test_an_authoriser_sends_a_submitted_request_back_with_the_reason(world: Session) -> None:
    disclosure_id = _submitted(world)
    disclosure.send_back(world, disclosure_id, AIC, "  Add the danger warning to item 2.  ")
    case = disclosure.view(world, disclosure_id, OFFICER, "t")
    assert case.summary.status == "draft" and case.summary.submitted_at is None
    assert case.history[-1].action == "sent back" and case.history[-1].actor == "S1002"
    assert case.extra["came_back"].note == "Add the danger warning to item 2."
    (entry,) = _sent_back(world, disclosure_id)
    assert entry.op == "alteration" and entry.actor == "staff:S1002"  # type: ignore[attr-defined]
    assert entry.justification == "Add the danger warning to item 2." and entry.subjects == ["N2001"]  # type: ignore[attr-defined]
    assert entry.detail["previous_status"] == "submitted" and entry.detail["status"] == "draft"  # type: ignore[attr-defined]

    # The officer puts it right and submits it again: the reason no longer shows, and it can be decided.
    disclosure.submit(world, disclosure_id, OFFICER)
    assert disclosure.view(world, disclosure_id, OFFICER, "t").extra["came_back"] is None
    disclosure.authorise(world, disclosure_id, AIC, "now complete")


def test_only_someone_who_may_decide_sends_back_a_submitted_request_with_a_reason(world: Session) -> None:
    disclosure_id = _submitted(world)
    with pytest.raises(disclosure.DisclosureError, match="Reason for sending it back"):
        disclosure.send_back(world, disclosure_id, AIC, " ")
    with pytest.raises(disclosure.DisclosureError, match="Nobody may decide their own disclosure"):
        disclosure.send_back(world, disclosure_id, OFFICER, "mine")
    other_area = principal("S1005")  # an AIC, but not of the scheme's area
    with pytest.raises(disclosure.DisclosureError, match="You may not decide this request"):
        disclosure.send_back(world, disclosure_id, other_area, "not mine to decide")
    disclosure.authorise(world, disclosure_id, AIC, "fine")
    with pytest.raises(
        disclosure.DisclosureError,
        match="Only a submitted request can be sent back to its officer; this one is authorised",
    ):
        disclosure.send_back(world, disclosure_id, AIC, "too late")
    assert _sent_back(world, disclosure_id) == []
    assert disclosure.view(world, disclosure_id, DPU, "t").summary.status == "authorised"


def test_the_case_page_offers_send_back_to_the_authoriser_and_shows_the_reason_to_the_officer(
    client: TestClient, world: Session
) -> None:
    disclosure_id = _submitted(world)
    world.commit()
    log_in(client, "S1001")
    assert (
        f'action="/disclosures/{disclosure_id}/send-back"'
        not in client.get(f"/disclosures/{disclosure_id}").text
    )
    assert post_form(client, f"/disclosures/{disclosure_id}/send-back", {"reason": "x"}).status_code == 403  # type: ignore[attr-defined]

    client.cookies.clear()
    log_in(client, "S1002")
    case = client.get(f"/disclosures/{disclosure_id}").text
    assert f'action="/disclosures/{disclosure_id}/send-back"' in case and "Send back to the officer" in case
    blank = post_form(client, f"/disclosures/{disclosure_id}/send-back", {"reason": ""})
    assert blank.status_code == 400 and "Reason for sending it back" in blank.text  # type: ignore[attr-defined]
    assert 'aria-describedby="send_back_reason-error"' in blank.text  # type: ignore[attr-defined]
    done = post_form(
        client, f"/disclosures/{disclosure_id}/send-back", {"reason": "Name the recipients' shop"}
    )
    assert done.headers["location"].startswith(f"/disclosures/{disclosure_id}?done=")  # type: ignore[attr-defined]

    client.cookies.clear()
    log_in(client, "S1001")
    case = client.get(f"/disclosures/{disclosure_id}").text
    # Named with the staff number, e.g. "Sent back for changes by Anne Authoriser (S1002)".
    assert re.search(r"Sent back for changes by [^<(]+ \(S1002\)", case)
    assert "Name the recipients&#39; shop" in case


def test_the_officer_sees_why_it_came_back_at_the_top_of_the_wizard_until_it_is_submitted_again(
    client: TestClient, world: Session
) -> None:
    disclosure_id = _submitted(world)
    disclosure.send_back(world, disclosure_id, AIC, "Add the danger warning to item 2.")
    world.commit()
    log_in(client, "S1001")
    wizard = client.get(f"/disclosures/{disclosure_id}/edit").text
    # Who, when and why, above the form the officer is about to change (before this it was on the case
    # page only, and the wizard the officer is sent to said nothing about it).
    assert re.search(r"Sent back for changes by [^<(]+ \(S1002\) on \d\d \w{3} \d{4}", wizard)
    assert "Add the danger warning to item 2." in wizard
    assert wizard.index('id="came-back"') < wizard.index('class="stack wizard"')

    # It stays while the officer works on the draft (a save is not a resubmission)...
    disclosure.update_draft(world, disclosure_id, scheme_request(), OFFICER)
    world.commit()
    assert "Add the danger warning to item 2." in client.get(f"/disclosures/{disclosure_id}/edit").text
    # ...and goes once it is submitted again: the wizard is closed, the case page shows the submission.
    disclosure.submit(world, disclosure_id, OFFICER)
    world.commit()
    assert client.get(f"/disclosures/{disclosure_id}/edit").status_code == 303
    assert 'id="came-back"' not in client.get(f"/disclosures/{disclosure_id}").text


def test_the_wizard_says_when_the_officer_returned_it_themselves(client: TestClient, world: Session) -> None:
    disclosure_id = _authorised(world)
    disclosure.return_to_draft(world, disclosure_id, OFFICER, "INT-5 corrected: verify again")
    world.commit()
    log_in(client, "S1001")
    wizard = client.get(f"/disclosures/{disclosure_id}/edit").text
    assert re.search(r"Returned to draft by [^<(]+ \(S1001\)", wizard)
    assert "INT-5 corrected: verify again" in wizard
    fresh = disclosure.create_draft(world, scheme_request(), OFFICER)  # never sent back: nothing shown
    world.commit()
    assert 'id="came-back"' not in client.get(f"/disclosures/{fresh}/edit").text
