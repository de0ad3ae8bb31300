"""Who may handle a disclosure once authorised: release, receipts and reviews (SQLite and PostgreSQL).

The people handling a disclosure are checked as the rules check its requester and authoriser (training,
vetting, conflicts with the subject, role and area), whatever step they take.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from custodes.disclosure import service as disclosure
from custodes.imports import load_records
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
