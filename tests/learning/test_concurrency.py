"""Two people changing one recommendation at once, on a real database (both backends).

update_recommendation, add_action and complete_action lock the recommendation's row (and complete_action
then the action's), reading it afresh: the second waits for the first and sees what it committed.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from custodes.learning import service as learning
from custodes.learning.models import LearningAction, Recommendation
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter
from tests.learning.helpers import ACTION, ACTOR, RECOMMENDATION, make_owners
from tests.support.concurrency import at_once

CLOSED = {**RECOMMENDATION, "status": "closed", "evidence": "Guidance recirculated; training checked."}


def _recommendation(factory: sessionmaker[Session]) -> int:
    with factory() as setup:
        make_owners(setup)
        recommendation_id = learning.create_recommendation(setup, RECOMMENDATION, ACTOR)
        setup.commit()
    return recommendation_id


def _one_while_the_other_is_open(
    factory: sessionmaker[Session], first: Callable[[Session], object], second: Callable[[Session], object]
) -> BaseException | None:
    """`second` starts while `first` holds its uncommitted change; returns the second's error, if any."""
    return at_once(factory, first, second)[0]


def test_closing_while_an_action_is_being_added_waits_and_is_refused(
    committing_sessions: sessionmaker[Session],
) -> None:
    """The reviewer's race: B adds an action (not yet committed); A closes the recommendation meanwhile."""
    factory = committing_sessions
    recommendation_id = _recommendation(factory)
    refused = _one_while_the_other_is_open(
        factory,
        lambda s: learning.add_action(s, recommendation_id, ACTION, ACTOR),
        lambda s: learning.update_recommendation(s, recommendation_id, CLOSED, ACTOR),
    )
    assert isinstance(refused, learning.LearningError) and "1 action is still open" in str(refused)
    with factory() as session:
        found = learning.get_recommendation(session, recommendation_id)
        assert found is not None and found.status == "open" and [a.status for a in found.actions] == ["open"]


def test_adding_an_action_while_it_is_being_closed_waits_and_is_refused(
    committing_sessions: sessionmaker[Session],
) -> None:
    factory = committing_sessions
    recommendation_id = _recommendation(factory)
    refused = _one_while_the_other_is_open(
        factory,
        lambda s: learning.update_recommendation(s, recommendation_id, CLOSED, ACTOR),
        lambda s: learning.add_action(s, recommendation_id, ACTION, ACTOR),
    )
    assert isinstance(refused, learning.LearningError) and "reopen it to add actions" in str(refused)
    with factory() as session:
        found = learning.get_recommendation(session, recommendation_id)
        assert found is not None and found.status == "closed" and found.actions == ()


def test_a_recommendation_read_before_an_action_was_added_is_not_closed_over_it(
    committing_sessions: sessionmaker[Session],
) -> None:
    factory = committing_sessions
    recommendation_id = _recommendation(factory)
    with factory() as closing:
        held = closing.get(Recommendation, recommendation_id)  # A's page
        assert held is not None and held.status == "open"
        closing.commit()
        with factory() as adding:
            learning.add_action(adding, recommendation_id, ACTION, ACTOR)
            adding.commit()
        try:
            learning.update_recommendation(closing, recommendation_id, CLOSED, ACTOR)
        except learning.LearningError as refused:
            assert "1 action is still open" in str(refused)
        else:
            raise AssertionError("closed with an open action")
        closing.rollback()


def test_two_completions_of_one_action_at_once_complete_it_once(
    committing_sessions: sessionmaker[Session],
) -> None:
    factory = committing_sessions
    recommendation_id = _recommendation(factory)
    with factory() as setup:
        action_id = learning.add_action(setup, recommendation_id, ACTION, ACTOR)
        setup.commit()
    evidence = iter(["first", "second"])

    def complete(session: Session) -> None:
        learning.complete_action(
            session, action_id, {"completed_on": "2024-08-01", "evidence": next(evidence)}, ACTOR
        )

    outcome = at_once(factory, complete)
    assert isinstance(outcome[0], learning.LearningError) and "is already done" in str(outcome[0])
    with factory() as session:
        action = session.get(LearningAction, action_id)
        assert action is not None and (action.status, action.evidence) == ("done", "first")
        entries = ledger.search(session, EntryFilter(object_type="learning_action"), limit=100)
        assert sum(1 for e in entries if e.object_id == str(action_id)) == 2  # added, completed once


def test_a_completion_from_a_copy_read_earlier_finds_it_done(
    committing_sessions: sessionmaker[Session],
) -> None:
    factory = committing_sessions
    recommendation_id = _recommendation(factory)
    with factory() as setup:
        action_id = learning.add_action(setup, recommendation_id, ACTION, ACTOR)
        setup.commit()
    with factory() as late:
        held = late.get(LearningAction, action_id)  # the page, read while it was open
        assert held is not None and held.status == "open"
        late.commit()
        with factory() as early:
            learning.complete_action(early, action_id, {"completed_on": "2024-08-01", "evidence": "a"}, ACTOR)
            early.commit()
        try:
            learning.complete_action(late, action_id, {"completed_on": "2024-08-02", "evidence": "b"}, ACTOR)
        except learning.LearningError as refused:
            assert refused.problems == [("action", "is already done")]
        else:
            raise AssertionError("completed twice")
        late.rollback()
