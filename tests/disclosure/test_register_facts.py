"""The rules read the registers as of the day checked (K10 6.2.1, 8.2.1), a scheme manager's security check
only when the scheme has one (K10 7.3, 7.5), an agreement without a review date as not in force, and the
configured intelligence systems a photograph must be held on (K10 5.2)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from custodes.disclosure import service as disclosure
from custodes.identity import service as identity
from tests.disclosure.world import make_world, principal, probation_request, scheme_request

TODAY = date.today()


@pytest.fixture
def world(db: Session) -> Session:
    make_world(db)
    return db


def _dated(db: Session, member_id: str, registered_on: date, signed_on: date | None) -> None:
    """Dates a register may still hold from before imports and forms refused future ones."""
    db.execute(
        text("UPDATE scheme_member SET registered_on = :r, undertaking_signed_on = :u WHERE member_id = :m"),
        {"r": registered_on, "u": signed_on, "m": member_id},
    )


def _member_findings(db: Session, on: date) -> set[tuple[str, str]]:
    result = disclosure.check(db, scheme_request(), on, actor="system:test")
    return {
        (f.code, member)
        for f in result.findings
        for member in ("M-0001", "M-0002")
        if f.code in ("NOT_SCHEME_MEMBER", "UNDERTAKING_MISSING") and member in f.message
    }


def test_a_registration_and_undertaking_dated_later_do_not_count_yet(world: Session) -> None:
    """The reviewer's case: registered and signed in the future, checked today."""
    _dated(world, "M-0001", TODAY + timedelta(days=30), TODAY + timedelta(days=60))
    _dated(world, "M-0002", date(2024, 1, 10), TODAY + timedelta(days=10))
    assert _member_findings(world, TODAY) == {
        ("NOT_SCHEME_MEMBER", "M-0001"),
        ("UNDERTAKING_MISSING", "M-0002"),
    }
    # Registered, not yet signed; then both signed; the dates themselves count.
    assert _member_findings(world, TODAY + timedelta(days=30)) == {("UNDERTAKING_MISSING", "M-0001")}
    assert _member_findings(world, TODAY + timedelta(days=60)) == set()


def _manager(db: Session, name: str | None, vetted_until: str | None) -> None:
    db.execute(
        text("UPDATE scheme SET manager_name = :n, manager_vetted_until = :v WHERE scheme_id = 'SCH-01'"),
        {"n": name, "v": vetted_until},
    )


def _manager_findings(db: Session) -> set[str]:
    result = disclosure.check(db, scheme_request(), actor="system:test")
    return {f.code for f in result.findings} & {"SCHEME_MANAGER_NOT_VETTED"}


def test_a_scheme_without_a_manager_is_not_blocked_for_its_managers_vetting(world: Session) -> None:
    """K10 7.5: with no approved manager the AIC supplies each member; 7.3's check is the manager's."""
    _manager(world, None, None)
    assert _manager_findings(world) == set()
    _manager(world, "Pat Manager", None)  # named, no security check recorded
    assert _manager_findings(world) == {"SCHEME_MANAGER_NOT_VETTED"}
    _manager(world, "Pat Manager", str(TODAY - timedelta(days=1)))  # expired
    assert _manager_findings(world) == {"SCHEME_MANAGER_NOT_VETTED"}
    _manager(world, "Pat Manager", str(TODAY))
    assert _manager_findings(world) == set()


def test_an_agreement_without_a_review_date_is_not_relied_on(world: Session) -> None:
    """One recorded before a review date was required (forms and imports now refuse it): it never fell due
    for review, so it is not in force until the DPU gives it one."""
    request = probation_request(
        route="agreement",
        recipients=["KCC"],
        agreement="KMISA",
        purpose="prevention_of_crime",
        lawful_basis="CDA1998_s115",
    )
    assert "AGREEMENT_NOT_IN_FORCE" not in disclosure.check(world, request, actor="system:test").codes()
    world.execute(text("UPDATE agreement SET review_date = NULL WHERE agreement_id = 'KMISA'"))
    result = disclosure.check(world, request, actor="system:test")
    (finding,) = [f for f in result.findings if f.code == "AGREEMENT_NOT_IN_FORCE"]
    assert finding.message == "No agreement with Kent County Council is in force: KMISA has no review date."


def _photo_held_on(held_on: str) -> dict[str, object]:
    request = scheme_request()
    request["items"][0]["photo"]["held_on"] = held_on  # type: ignore[index]
    return request


def _photo_findings(db: Session, held_on: str) -> list[str]:
    result = disclosure.check(db, _photo_held_on(held_on), actor="system:test")
    return [f.message for f in result.findings if f.code == "PHOTO_NOT_ELIGIBLE"]


def test_a_photo_must_be_held_on_a_configured_intelligence_system(world: Session) -> None:
    """K10 5.2: only police photographs stored on Genesis (configuration `intelligence_systems`)."""
    assert _photo_findings(world, "Facebook") == [
        "Item 1: photo not eligible: it is held on Facebook, which is not an intelligence system "
        "(only custody images held on Genesis)."
    ]
    assert _photo_findings(world, "  genesis ") == []  # as corrections compare system names
    identity.set_config(world, "intelligence_systems", "Athena; Genesis", principal("S1004"))
    assert _photo_findings(world, "ATHENA") == []
    assert _photo_findings(world, "Niche") == [
        "Item 1: photo not eligible: it is held on Niche, which is not an intelligence system "
        "(only custody images held on Athena or Genesis)."
    ]


def test_an_undertaking_given_in_the_request_counts_from_the_day_it_was_signed(world: Session) -> None:
    """As the register's own date does (K10 8.2.1): one signed on a later day does not count yet."""
    _dated(world, "M-0002", date(2024, 1, 10), None)  # nothing on the register for M-0002

    def missing(signed_at: date, on: date = TODAY) -> bool:
        request = scheme_request(undertakings=[{"recipient": "M-0002", "signed_at": str(signed_at)}])
        result = disclosure.check(world, request, on, actor="system:test")
        return "UNDERTAKING_MISSING" in result.codes()

    assert missing(TODAY + timedelta(days=300))
    assert missing(TODAY + timedelta(days=1))
    assert not missing(TODAY)
    assert not missing(TODAY - timedelta(days=30))
    assert not missing(TODAY + timedelta(days=1), on=TODAY + timedelta(days=1))  # checked as on that day
