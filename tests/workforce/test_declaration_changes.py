"""Declarations put right after they are made (UX review 16): dates of birth checked, people declared by
name alone, corrections while awaiting a decision, withdrawal requests decided by the line manager, and
updates that replace a decided declaration — each ledgered, and none opening a gap in the pre-access gate."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from custodes.identity import service as identity
from custodes.identity.schemas import Principal
from custodes.workforce import service as workforce
from custodes.workforce.schemas import DeclarationForm
from tests.workforce.test_training_compliance import make_force

NEIGHBOUR = DeclarationForm(
    kind="reportable_association",
    surname="Thompson",
    forenames="Adam",
    date_of_birth="1990-05-01",
    postcode="ME14 1AA",
    relationship="friend",
    description="A friend from school;\nhe was arrested last year.",
)


def _principal(db: Session, staff_id: str) -> Principal:
    return identity.principal_for(db, staff_id)


# --------------------------------------------------------------------------- finding 2: dates of birth


@pytest.mark.parametrize(
    ("born", "problem"),
    [
        ("2030-01-01", "must be in the past"),
        (str(date.today() + timedelta(days=2)), "must be in the past"),
        ("1880-01-01", "is more than 120 years ago: check the year"),
    ],
)
def test_a_declared_date_of_birth_must_be_in_the_past_and_plausible(
    db: Session, born: str, problem: str
) -> None:
    """Review: a date of birth of 1 January 2030 was accepted."""
    make_force(db)
    with pytest.raises(workforce.DeclarationProblems) as caught:
        workforce.make_declaration(db, "P1", replace(NEIGHBOUR, date_of_birth=born), actor="staff:P1")
    assert caught.value.problems == [("date_of_birth", problem)]


def test_a_plausible_date_of_birth_is_accepted(db: Session) -> None:
    make_force(db)
    assert workforce.make_declaration(
        db, "P1", replace(NEIGHBOUR, date_of_birth="1930-02-01"), actor="staff:P1"
    )
