"""Declarations put right after they are made (UX review 16): dates of birth checked, people declared by
name alone, corrections while awaiting a decision, withdrawal requests decided by the line manager, and
updates that replace a decided declaration — each ledgered, and none opening a gap in the pre-access gate."""

from __future__ import annotations

import html
import re
from dataclasses import asdict, replace
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from custodes.identity import service as identity
from custodes.identity.schemas import Principal
from custodes.workforce import service as workforce
from custodes.workforce.schemas import DeclarationForm
from tests.conftest import PASSWORD, log_in, post_form
from tests.workforce.test_training_compliance import ACTOR, make_force

NEIGHBOUR = DeclarationForm(
    kind="reportable_association",
    surname="Thompson",
    forenames="Adam",
    date_of_birth="1990-05-01",
    postcode="ME14 1AA",
    relationship="friend",
    description="A friend from school;\nhe was arrested last year.",
)


def _fields(form: DeclarationForm) -> dict[str, str]:
    return {k: v for k, v in asdict(form).items() if v}


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


# --------------------------------------------------------------------------- finding 4: words on the page


def _logged_in(client: TestClient, db: Session, *staff_ids: str) -> None:
    for sid in staff_ids:
        identity.set_password(db, sid, PASSWORD, ACTOR)
    db.commit()


def test_the_details_keep_their_line_breaks_in_normal_text(client: TestClient, db: Session) -> None:
    """UX review 16: the details showed in a monospace <pre> box, under "Details" — a label the form does
    not use."""
    make_force(db)
    declaration_id = workforce.make_declaration(db, "P1", NEIGHBOUR, actor="staff:P1")
    _logged_in(client, db, "P1")
    log_in(client, "P1")
    page = client.get(f"/declarations/{declaration_id}").text
    assert "<pre>" not in page
    assert "A friend from school;<br>he was arrested last year." in page
    assert "<dt>The nature and extent of the association</dt>" in page


def test_a_problem_with_the_details_is_named_as_the_form_labels_them(client: TestClient, db: Session) -> None:
    make_force(db)
    _logged_in(client, db, "P1")
    log_in(client, "P1")
    values = {**_fields(NEIGHBOUR), "description": ""}
    bad = post_form(client, "/declarations", values)
    text = html.unescape(bad.text)  # type: ignore[attr-defined]
    assert "The nature and extent of the association: describe the nature and extent" in text
    assert "Details:" not in text


def test_the_done_message_after_a_decision_says_what_was_decided_in_words(
    client: TestClient, db: Session
) -> None:
    """UX review 16: it led with the id ("D20261124-B2840C: approved with conditions.")."""
    make_force(db)
    declaration_id = workforce.make_declaration(db, "P1", NEIGHBOUR, actor="staff:P1")
    _logged_in(client, db, "M1")
    log_in(client, "M1")
    page = client.get(f"/declarations/{declaration_id}").text
    seen = re.search(r'name="seen" value="([^"]*)"', page)
    assert seen
    done = post_form(
        client,
        f"/declarations/{declaration_id}/decide",
        {
            "outcome": "approved_with_conditions",
            "conditions": "No searches about him; refer to me.",
            "review_on": "2099-05-01",
            "seen": seen.group(1),
        },
    )
    assert done.status_code == 303  # type: ignore[attr-defined]
    queue = html.unescape(client.get(done.headers["location"]).text)  # type: ignore[attr-defined]
    assert (
        "ForenameP1 SurnameP1's reportable association (Adam Thompson): approved with conditions; "
        "review 1 May 2099." in queue
    )
