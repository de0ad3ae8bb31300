"""The scheme rules read a member's registration and undertaking as of the day checked (K10 6.2.1, 8.2.1)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from custodes.disclosure import service as disclosure
from tests.disclosure.world import make_world, scheme_request

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
