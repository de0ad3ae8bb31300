"""Who may handle a disclosure once authorised: release, receipts and reviews (SQLite and PostgreSQL).

The people handling a disclosure are checked as the rules check its requester and authoriser (training,
vetting, conflicts with the subject, role and area), whatever step they take.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from custodes.disclosure import service as disclosure
from custodes.disclosure.models import Disclosure
from custodes.disclosure.schemas import ReviewOutcome
from custodes.identity import service as identity
from custodes.identity.schemas import Principal
from custodes.imports import load_records
from tests.conftest import PASSWORD, log_in, post_form
from tests.disclosure.world import ACTOR, make_world, principal, scheme_request

OFFICER, AIC, SUPERVISOR, DPU, OTHER_AIC, UNTRAINED = (
    principal(s) for s in ("S1001", "S1002", "S1003", "S1004", "S1005", "S1006")
)


@pytest.fixture
def world(db: Session) -> Session:
    make_world(db)
    return db


def _authorised(db: Session, request: dict[str, object] | None = None) -> int:
    request = request or scheme_request()
    disclosure_id = disclosure.create_draft(db, request, OFFICER)
    disclosure.update_draft(db, disclosure_id, request, OFFICER)
    disclosure.submit(db, disclosure_id, OFFICER)
    disclosure.authorise(db, disclosure_id, AIC, "grounds are current")
    return disclosure_id


def _released(db: Session, request: dict[str, object] | None = None) -> int:
    disclosure_id = _authorised(db, request)
    disclosure.release(db, disclosure_id, AIC)
    return disclosure_id


def _declare(db: Session, staff_id: str, relationship: str, subject_id: str) -> None:
    row = {
        "declaration_id": f"D-{staff_id}-{subject_id}", "staff_id": staff_id, "kind": "conflict_of_interest",
        "subject_id": subject_id, "surname": "", "forenames": "", "date_of_birth": "", "postcode": "",
        "relationship": relationship, "declared_at": "2026-01-01T00:00:00+00:00",
    }  # fmt: skip
    load_records(db, "declarations", [row], ACTOR)
    db.flush()


# --------------------------------------------------------------------------- release


def test_the_dpu_who_is_the_subject_may_not_release_it(world: Session) -> None:
    # N2009 is S1004, the DPU member, herself: the nominal is flagged as that member of staff.
    herself = {
        "subject_id": "N2009",
        "surname": "Protection",
        "forenames": "Dee",
        "date_of_birth": "1970-01-01",
        "postcode": "ME1 1AA",
        "flags": "staff:S1004",
        "address": "",
    }
    load_records(world, "nominals", [herself], ACTOR)
    world.flush()
    disclosure_id = _authorised(world, scheme_request(subject="N2009"))
    with pytest.raises(disclosure.DisclosureError) as refused:
        disclosure.release(world, disclosure_id, DPU)
    assert str(refused.value) == (
        "You may not release it: The releaser (S1004) has declared a conflict with the subject (self): "
        "someone else must handle this disclosure."
    )
    assert disclosure.view(world, disclosure_id, DPU, "t").summary.status == "authorised"
    assert disclosure.release(world, disclosure_id, AIC).startswith("CZ/")  # the authoriser still may


def test_the_dpu_with_a_declared_conflict_may_not_release_it(world: Session) -> None:
    _declare(world, "S1004", "neighbour", "N2001")
    disclosure_id = _authorised(world)
    with pytest.raises(disclosure.DisclosureError, match=r"The releaser \(S1004\) has declared a conflict"):
        disclosure.release(world, disclosure_id, DPU)


def test_the_dpu_whose_vetting_was_withdrawn_may_not_release_it(world: Session) -> None:
    disclosure_id = _authorised(world)
    load_records(world, "vetting", [{"staff_id": "S1004", "level": "MV", "status": "withdrawn",
        "decided_on": str(date.today() - timedelta(days=1)), "expires_on": ""}], ACTOR)  # fmt: skip
    world.flush()
    with pytest.raises(disclosure.DisclosureError) as refused:
        disclosure.release(world, disclosure_id, DPU)
    message = str(refused.value)
    assert "The releaser (S1004) has no current vetting." in message, message


def test_the_requester_or_authoriser_releasing_is_not_checked_twice(world: Session) -> None:
    # The authoriser releasing is checked once, as the authoriser: no "releaser" finding is added.
    disclosure_id = _authorised(world)
    assert disclosure.release(world, disclosure_id, AIC).startswith("CZ/")
    assert disclosure.release(world, _authorised(world), DPU).startswith("CZ/")  # an unconflicted DPU may


# --------------------------------------------------------------------------- receipts


@pytest.mark.parametrize("outsider", [UNTRAINED, OTHER_AIC, SUPERVISOR], ids=lambda p: p.staff_id)
def test_only_the_people_on_a_disclosure_or_the_dpu_record_a_receipt(
    world: Session, outsider: Principal
) -> None:
    disclosure_id = _released(world)
    with pytest.raises(disclosure.DisclosureError) as refused:
        disclosure.record_receipt(world, disclosure_id, "M-0001", outsider)
    assert str(refused.value) == (
        "Only the requesting officer, the authoriser, whoever released it or the DPU may record a "
        "receipt for this disclosure."
    )
    assert all(line.receipt_at is None for line in disclosure.view(world, disclosure_id, DPU, "t").recipients)


def test_the_requester_the_authoriser_and_the_dpu_record_receipts(world: Session) -> None:
    disclosure_id = _released(world)
    for who, recipient in ((OFFICER, "M-0001"), (AIC, "M-0002")):
        disclosure.record_receipt(world, disclosure_id, recipient, who)
    other = _authorised(world)
    disclosure.release(world, other, DPU)
    disclosure.record_receipt(world, other, "M-0001", DPU)
    received = [
        line.recipient_id
        for case in (disclosure_id, other)
        for line in disclosure.view(world, case, DPU, "t").recipients
        if line.receipt_at is not None
    ]
    assert received == ["M-0001", "M-0002", "M-0001"]


# --------------------------------------------------------------------------- reviews


def test_an_aic_of_another_area_may_not_review_a_scheme_disclosure(world: Session) -> None:
    disclosure_id = _released(world)
    for outcome in ReviewOutcome:
        with pytest.raises(disclosure.DisclosureError) as refused:
            disclosure.review(world, disclosure_id, OTHER_AIC, outcome, "not my area")
        assert str(refused.value) == (
            "You may not review this disclosure: S1005 is not the Area Intelligence Co-ordinator for area CZ."
        )
    detail = disclosure.view(world, disclosure_id, DPU, "t")
    assert detail.summary.status == "released" and detail.reviews == () and detail.notices == ()


def test_a_reviewer_is_checked_as_a_decider(world: Session) -> None:
    disclosure_id = _released(world)
    _declare(world, "S1002", "relative", "N2001")  # the AIC of the area declares a conflict after release
    with pytest.raises(disclosure.DisclosureError, match=r"The authoriser \(S1002\) has declared a conflict"):
        disclosure.review(world, disclosure_id, AIC, ReviewOutcome.WITHDRAW, "moved away")
    with pytest.raises(disclosure.DisclosureError, match="does not hold a role that may authorise"):
        disclosure.review(world, disclosure_id, SUPERVISOR, ReviewOutcome.RETAIN, "still active")


def test_the_area_aic_and_the_dpu_review(world: Session) -> None:
    kept, withdrawn = _released(world), _released(world)
    disclosure.review(world, kept, AIC, ReviewOutcome.RETAIN, "Still active in the area")
    disclosure.review(world, withdrawn, DPU, ReviewOutcome.WITHDRAW, "Moved out of the county")
    assert disclosure.view(world, withdrawn, DPU, "t").summary.status == "withdrawn"


def test_the_review_queue_shows_an_aic_their_own_area_and_the_dpu_every_area(world: Session) -> None:
    disclosure_id = _released(world)  # a CZ scheme disclosure, due for review in 60 days

    def queue(who: Principal) -> list[int]:
        return [row.id for row in disclosure.review_queue(world, who, within_days=90)]

    assert queue(AIC) == [disclosure_id]
    assert queue(DPU) == [disclosure_id]
    assert queue(OTHER_AIC) == []
    assert disclosure.work_for(world, OTHER_AIC)["reviews_due"] == 0


# --------------------------------------------------------------------------- on the screens


@pytest.fixture
def screens(world: Session) -> Session:
    for staff_id in ("S1001", "S1002", "S1003", "S1004", "S1005", "S1006"):
        identity.set_password(world, staff_id, PASSWORD, "system:test")
    world.commit()
    return world


def test_the_review_screens_keep_to_the_reviewers_area(client: TestClient, screens: Session) -> None:
    disclosure_id = _released(screens)
    screens.execute(update(Disclosure).values(review_due=date.today() - timedelta(days=1)))  # overdue
    screens.commit()
    log_in(client, "S1005")
    assert f"/disclosures/{disclosure_id}" not in client.get("/disclosures/queue/review").text
    response = post_form(
        client, f"/disclosures/{disclosure_id}/review", {"outcome": "withdraw", "reasons": "not mine"}
    )
    assert response.status_code == 400  # the case page again, with the reason as an error (was a banner)
    assert 'role="alert"' in response.text
    assert (
        "You may not review this disclosure: S1005 is not the Area Intelligence Co-ordinator" in response.text
    )
    assert disclosure.view(screens, disclosure_id, DPU, "t").summary.status == "released"
    client.cookies.clear()
    log_in(client, "S1002")
    assert f"/disclosures/{disclosure_id}" in client.get("/disclosures/queue/review").text


def test_the_receipt_button_and_route_are_for_the_people_on_the_disclosure(
    client: TestClient, screens: Session
) -> None:
    disclosure_id = _released(screens)
    screens.commit()
    log_in(client, "S1006")  # an officer with nothing to do with it
    response = post_form(client, f"/disclosures/{disclosure_id}/receipt", {"recipient": "M-0001"})
    assert response.status_code == 400  # not theirs to see: the reason on the error page (was a banner)
    assert "Only the requesting officer, the authoriser" in response.text
    assert all(
        line.receipt_at is None for line in disclosure.view(screens, disclosure_id, DPU, "t").recipients
    )
    client.cookies.clear()
    log_in(client, "S1003")  # a supervisor may open the case, but records no receipt
    page = client.get(f"/disclosures/{disclosure_id}")
    assert page.status_code == 200 and "Record receipt" not in page.text
    client.cookies.clear()
    log_in(client, "S1001")
    assert "Record receipt" in client.get(f"/disclosures/{disclosure_id}").text
    post_form(client, f"/disclosures/{disclosure_id}/receipt", {"recipient": "M-0001"})
    lines = disclosure.view(screens, disclosure_id, DPU, "t").recipients
    assert [line.recipient_id for line in lines if line.receipt_at] == ["M-0001"]
