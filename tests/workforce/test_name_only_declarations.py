"""A person declared by name alone (ticked "I don't know their date of birth or postcode") counts wherever a
declaration counts — the gate, and the staff close to the declarer (`staff_close_to`, which casework keeps
alerts from)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from custodes.imports import load_records
from custodes.kit.names import PersonKey
from custodes.workforce import service as workforce
from tests.workforce.test_training_compliance import ACTOR, make_force

THOMPSONS = [
    {"staff_id": "T1", "surname": "Thompson", "forenames": "Adam", "role": "officer",
     "date_of_birth": "1985-03-04", "home_postcode": "TN1 1AA"},
    {"staff_id": "T2", "surname": "Thompson", "forenames": "Brian", "role": "officer"},
    {"staff_id": "T3", "surname": "Thompson", "forenames": "Jack", "role": "officer"},
]  # fmt: skip


def _key(surname: str, forenames: str, born: date | None = None, postcode: str | None = None) -> PersonKey:
    return PersonKey.of(None, surname, forenames, born, postcode)


def test_staff_declared_by_name_alone_are_close_to_the_declarer(db: Session) -> None:
    """Review: staff_close_to matched the declared people only with a date of birth or postcode, so casework
    showed the counter-corruption member who declared a colleague by name alone that colleague's alerts.
    Now any member of staff of that full name is close to them."""
    make_force(db)
    load_records(db, "staff", THOMPSONS, ACTOR)
    assert workforce.staff_close_to(db, "P1", [_key("thompson", "ADAM")], 100.0) == {"T1"}
    # the same people given with a date of birth are matched only with it (unchanged)
    assert workforce.staff_close_to(db, "P1", [_key("Thompson", "Adam", date(1990, 1, 1))], 100.0) == set()
