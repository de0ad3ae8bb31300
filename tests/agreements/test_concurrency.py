"""Two people changing the same register entry at once, on a real database (both backends).

Each change locks the row and reads it afresh before its checks, so the second waits for the first
(PostgreSQL `FOR UPDATE`; SQLite's write lock) and then sees what the first committed.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from custodes.agreements import service as agreements
from custodes.agreements.models import Agreement, Scheme
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter
from tests.agreements.helpers import ACTOR, MEMBER, SCHEME, make_register
from tests.support.concurrency import at_once


def _status(factory: sessionmaker[Session]) -> str | None:
    with factory() as session:
        found = agreements.get_agreement(session, "KMISA-1")
        assert found is not None
        return found.manual_status


def _alterations(factory: sessionmaker[Session], object_type: str, object_id: str) -> int:
    with factory() as session:
        found = ledger.search(session, EntryFilter(op="alteration", object_type=object_type), limit=100)
        return sum(1 for entry in found if entry.object_id == object_id)


def test_a_reinstatement_read_before_a_withdrawal_does_not_undo_it(
    committing_sessions: sessionmaker[Session],
) -> None:
    """The reviewer's race: A opens the suspended agreement; B withdraws it and commits; A reinstates."""
    factory = committing_sessions
    with factory() as setup:
        make_register(setup)
        agreements.set_agreement_status(setup, "KMISA-1", "suspended", "investigating", ACTOR)
        setup.commit()
    with factory() as reinstating:
        seen = reinstating.get(Agreement, "KMISA-1")  # A's page: suspended
        assert seen is not None and seen.manual_status == "suspended"
        reinstating.commit()  # the page is shown; A's copy stays in its session
        with factory() as withdrawing:
            agreements.set_agreement_status(withdrawing, "KMISA-1", "withdrawn", "partner breach", ACTOR)
            withdrawing.commit()
        try:
            agreements.set_agreement_status(reinstating, "KMISA-1", None, "investigation over", ACTOR)
        except agreements.AgreementsError as refused:
            assert refused.problems == [
                ("status", "the agreement has been withdrawn; record a new agreement instead")
            ]
        else:
            raise AssertionError("a withdrawn agreement was reinstated")
        reinstating.rollback()
    assert _status(factory) == "withdrawn"


def test_two_withdrawals_at_once_withdraw_it_once(committing_sessions: sessionmaker[Session]) -> None:
    factory = committing_sessions
    with factory() as setup:
        make_register(setup)
    outcome = at_once(
        factory, lambda s: agreements.set_agreement_status(s, "KMISA-1", "withdrawn", "breach", ACTOR)
    )
    assert isinstance(outcome[0], agreements.AgreementsError) and "has been withdrawn" in str(outcome[0])
    assert _status(factory) == "withdrawn"
    assert _alterations(factory, "agreement", "KMISA-1") == 1


def test_two_identical_member_changes_at_once_are_one_alteration(
    committing_sessions: sessionmaker[Session],
) -> None:
    """The second waits, then finds nothing left to change, instead of recording the same change again."""
    factory = committing_sessions
    with factory() as setup:
        make_register(setup)
    changed: list[bool] = []

    def rename(session: Session) -> None:
        values = {**MEMBER, "name": "Corner Shop (Maidstone) Ltd"}
        changed.append(agreements.update_member(session, "SCH-01", "M-0001", values, ACTOR))

    assert at_once(factory, rename) == [None]
    assert changed == [True, False]
    assert _alterations(factory, "scheme_member", "M-0001") == 1


def test_an_update_read_before_another_compares_with_what_was_committed(
    committing_sessions: sessionmaker[Session],
) -> None:
    """A change made from a copy read before someone else's change is compared with the row as it now is:
    putting back the old name is a change, recorded as one."""
    factory = committing_sessions
    with factory() as setup:
        make_register(setup)
    with factory() as first:
        held = first.get(Scheme, "SCH-01")  # the copy a page read, still held by this session
        assert held is not None and held.name == "Maidstone ShopWatch"
        first.commit()
        with factory() as second:
            renamed = {**_scheme(), "name": "Maidstone Town ShopWatch"}
            assert agreements.update_scheme(second, "SCH-01", renamed, ACTOR)
            second.commit()
        assert agreements.update_scheme(first, "SCH-01", _scheme(), ACTOR)  # the old name, back
        first.commit()
    with factory() as session:
        found = agreements.get_scheme(session, "SCH-01")
        assert found is not None and found.name == "Maidstone ShopWatch"
    assert _alterations(factory, "scheme", "SCH-01") == 2


def _scheme() -> dict[str, str]:
    return dict(SCHEME)
