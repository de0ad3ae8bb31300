"""The nominal register's part in the audit screens' search by name (`ledger.web.add_person_finder`).

An auditor answering a subject access request often knows the person's name, not the subject id the ledger
search takes. The ledger never reads the register's tables: `web.app.create_app` registers `find` here, which
searches through the register's own service (`service.search_nominals`: a reason required, the people shown
and keyed digests of what was typed recorded as a consultation) and returns what the audit screen shows, and
`name` (`ledger.web.add_person_namer`), the name a subject access report is headed with
(`service.view_nominal`: a consultation with the report's reason).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from custodes.ledger.web import PeopleFound, PersonFound, PersonSearchRefused
from custodes.monitoring import service
from custodes.monitoring.schemas import NominalView

PURPOSE = "finding a person's subject id for a search of the audit ledger"


def _lives_in(person: NominalView) -> str:
    return "not shown (protected person)" if person.protected else person.lives_in


def find(
    session: Session, actor: str, surname: str, forenames: str, date_of_birth: date | None, reason: str
) -> PeopleFound:
    try:
        found = service.search_nominals(
            session, surname, forenames, date_of_birth, actor=actor, reason=reason, purpose=PURPOSE
        )
    except service.NominalSearchRefused as error:
        raise PersonSearchRefused(error.problems) from None
    people = tuple(
        PersonFound(p.subject_id, f"{p.surname.upper()}, {p.forenames}", p.date_of_birth, _lives_in(p))
        for p in found.people
    )
    return PeopleFound(people, found.more)


def name(session: Session, subject_id: str, actor: str, reason: str) -> str | None:
    """The person's name as the register holds it ("Adam Smith"), None if it holds no such person."""
    person = service.view_nominal(session, subject_id, actor=actor, justification=reason)
    return None if person is None else " ".join(f"{person.forenames} {person.surname}".split())
