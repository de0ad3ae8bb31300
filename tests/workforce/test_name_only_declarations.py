"""A person declared by name alone (ticked "I don't know their date of birth or postcode"): the name must be a
full one, a declared initial stands for no name, and the declaration counts wherever a declaration counts —
the gate, and the staff close to the declarer (`staff_close_to`, which casework keeps alerts from)."""

from __future__ import annotations

import html
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from custodes.identity import service as identity
from custodes.imports import load_records
from custodes.kit.names import PersonKey
from custodes.workforce import service as workforce
from custodes.workforce.models import Declaration
from custodes.workforce.schemas import DeclarationForm, SubjectRef
from tests.conftest import PASSWORD, log_in, post_form
from tests.workforce.test_training_compliance import ACTOR, make_force

BY_NAME = DeclarationForm(
    kind="reportable_association",
    surname="Thompson",
    forenames="Adam",
    relationship="friend",
    description="An old school friend; I hear he deals drugs.",
    name_only="yes",
)
FORENAMES_RULE = workforce.NAME_ONLY_FULL_NAME["forenames"]
SURNAME_RULE = workforce.NAME_ONLY_FULL_NAME["surname"]


THOMPSONS = [
    {"staff_id": "T1", "surname": "Thompson", "forenames": "Adam", "role": "officer",
     "date_of_birth": "1985-03-04", "home_postcode": "TN1 1AA"},
    {"staff_id": "T2", "surname": "Thompson", "forenames": "Brian", "role": "officer"},
    {"staff_id": "T3", "surname": "Thompson", "forenames": "Jack", "role": "officer"},
]  # fmt: skip


def _key(surname: str, forenames: str, born: date | None = None, postcode: str | None = None) -> PersonKey:
    return PersonKey.of(None, surname, forenames, born, postcode)


@pytest.mark.parametrize(
    ("changes", "problems"),
    [
        ({"forenames": "J"}, [("forenames", FORENAMES_RULE)]),
        ({"forenames": "J."}, [("forenames", FORENAMES_RULE)]),
        ({"forenames": "J Adam"}, [("forenames", FORENAMES_RULE)]),  # the first forename is matched
        ({"surname": "T"}, [("surname", SURNAME_RULE)]),
        ({"forenames": "A", "surname": "T."}, [("forenames", FORENAMES_RULE), ("surname", SURNAME_RULE)]),
        ({"forenames": "Jo", "surname": "Ng"}, []),  # two letters each is a name
        ({"forenames": "Adam J"}, []),  # a middle initial is not matched
        ({"forenames": "J", "date_of_birth": "1985-03-04"}, []),  # not by name alone: an initial is usual
        ({"forenames": "J", "postcode": "TN1 1AA"}, []),
        ({"forenames": "J", "subject_id": "N9"}, []),
    ],
)
def test_a_person_declared_by_name_alone_needs_their_full_name(
    db: Session, changes: dict[str, str], problems: list[tuple[str, str]]
) -> None:
    """Review: with the box ticked the form took forenames "J", and the gate then referred every J… Thompson
    the declarer searched. By name alone the first forename and the surname must each have at least two
    letters (as the gate reads them: "J." is the initial J), said at the field."""
    make_force(db)
    form = replace(BY_NAME, **changes)
    if problems:
        with pytest.raises(workforce.DeclarationProblems) as caught:
            workforce.make_declaration(db, "P1", form, actor="staff:P1")
        assert caught.value.problems == problems
    else:
        assert workforce.make_declaration(db, "P1", form, actor="staff:P1")


def test_the_form_says_at_the_field_that_a_name_alone_must_be_in_full(
    client: TestClient, db: Session
) -> None:
    make_force(db)
    identity.set_password(db, "P1", PASSWORD, ACTOR)
    db.commit()
    log_in(client, "P1")
    fields = {
        "kind": "reportable_association", "surname": "Thompson", "forenames": "J", "name_only": "yes",
        "relationship": "friend", "description": "Old friend.",
    }  # fmt: skip
    refused = post_form(client, "/declarations", fields)
    text = html.unescape(refused.text)  # type: ignore[attr-defined]
    assert refused.status_code == 400  # type: ignore[attr-defined]
    assert "Their forenames: give their first forename in full (at least 2 letters, not an initial)" in text
    made = post_form(client, "/declarations", {**fields, "forenames": "Jack"})
    assert made.status_code == 303  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("declared", "subject", "matches"),
    [
        (("Thompson", "Adam"), ("THOMPSON", "adam", date(1985, 3, 4), None), True),
        (("Thompson", "Adam"), ("Thompson", "Adam James", None, "TN1 1AA"), True),
        (("Thompson", "Adam"), ("Thompson", "A", date(1985, 3, 4), None), True),  # a search by an initial
        (("Thompson", "Adam"), ("Thompson", "Brian", date(1985, 3, 4), None), False),
        (("Thompson", "Adam"), ("Thomas", "Adam", date(1985, 3, 4), None), False),
        # a declared initial, stored by name alone before the form asked for a full name
        (("Thompson", "A"), ("Thompson", "Adam", date(1985, 3, 4), None), False),
        (("Thompson", "K"), ("Thompson", "Karl", None, "TN1 1AA"), False),
        (("Thompson", "A."), ("Thompson", "A", date(1985, 3, 4), None), True),
    ],
)
def test_a_declared_initial_stands_for_no_name_when_declared_by_name_alone(
    declared: tuple[str, str], subject: tuple[str, str, date | None, str | None], matches: bool
) -> None:
    assert workforce.declared_matches(_key(*declared), _key(*subject)) is matches


def test_an_initial_declared_with_a_date_of_birth_still_stands_for_the_name() -> None:
    """Only a name-only declaration loses the initial's prefix rule: with the date of birth the gate's
    usual matching (kit.names.same_person) is unchanged."""
    born = date(1985, 3, 4)
    assert workforce.declared_matches(_key("Thompson", "A", born), _key("Thompson", "Adam", born))


def test_an_old_name_only_declaration_with_an_initial_refers_only_that_initial(db: Session) -> None:
    make_force(db)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    db.add(
        Declaration(
            declaration_id="D-OLD", staff_id="P1", kind="conflict_of_interest", surname="Thompson",
            forenames="J", relationship="friend", declared_at=at, created_at=at, updated_at=at,
        )
    )  # fmt: skip
    db.flush()
    john = SubjectRef(None, "Thompson", "John", date(1985, 3, 4), None)
    initial = SubjectRef(None, "Thompson", "J", date(1985, 3, 4), None)
    assert workforce.declared_conflicts(db, "P1", john) == []
    assert [d.declaration_id for d in workforce.declared_conflicts(db, "P1", initial)] == ["D-OLD"]


def test_staff_declared_by_name_alone_are_close_to_the_declarer(db: Session) -> None:
    """Review: staff_close_to matched the declared people only with a date of birth or postcode, so casework
    showed the counter-corruption member who declared a colleague by name alone that colleague's alerts.
    Now any member of staff of that full name is close to them; the initial of an old declaration is not
    anyone's name."""
    make_force(db)
    load_records(db, "staff", THOMPSONS, ACTOR)
    people = [_key("thompson", "ADAM"), _key("Thompson", "J")]
    assert workforce.staff_close_to(db, "P1", people, 100.0) == {"T1"}
    # the same people given with a date of birth are matched only with it (unchanged)
    assert workforce.staff_close_to(db, "P1", [_key("Thompson", "Adam", date(1990, 1, 1))], 100.0) == set()
