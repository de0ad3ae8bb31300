"""What a member of the counter-corruption unit may see about themself and people close to them, and what
a pseudonymous alert gives away (monitoring.casework: `unseen`, masking, counts, opening investigations).

The alerts are those of test_casework.py (made directly in the database); each test adds what it needs.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from custodes.identity import service as identity
from custodes.identity.schemas import Principal
from custodes.imports import load_records
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter, StoredEntry
from custodes.monitoring import casework
from custodes.monitoring.casework import NotFound
from custodes.monitoring.models import Investigation
from custodes.settings import Settings
from custodes.workforce.models import Declaration, Staff
from custodes.workforce.schemas import DeclarationStatus
from tests.conftest import PASSWORD, log_in
from tests.monitoring.test_casework import (
    ACTOR,
    OTHER,
    SEARCHER,
    UNIT,
    UNIT_OTHER,
    make_alert,
    make_alerts,
    make_people,
    make_run,
    principal,
)


@pytest.fixture
def world(db: Session) -> None:
    make_people(db)
    make_alerts(db)
    for staff_id in (UNIT, UNIT_OTHER):
        identity.set_password(db, staff_id, PASSWORD, ACTOR)
    db.commit()


@pytest.fixture
def carol(db: Session, world: None) -> Principal:
    return principal(db, UNIT)


@pytest.fixture
def ben(db: Session, world: None) -> Principal:
    return principal(db, UNIT_OTHER)


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def entries_on(db: Session, object_type: str, object_id: str) -> list[StoredEntry]:
    db.commit()
    return list(ledger.iter_matching(db, EntryFilter(object_type=object_type, object_id=object_id)))


def as_staff(client: TestClient, staff_id: str) -> None:
    client.cookies.clear()
    assert log_in(client, staff_id).status_code == 303  # type: ignore[attr-defined]


def declare(db: Session, declaration_id: str, staff_id: str, relationship: str, **person: str) -> None:
    row = {
        "declaration_id": declaration_id, "staff_id": staff_id, "kind": "conflict_of_interest",
        "subject_id": "", "surname": "", "forenames": "", "date_of_birth": "", "postcode": "",
        "relationship": relationship, "declared_at": "2026-01-01T00:00:00+00:00",
    }  # fmt: skip
    row.update(person)
    load_records(db, "declarations", [row], ACTOR)


def visible_ids(db: Session, settings: Settings, viewer: Principal) -> set[str]:
    rows, _total = casework.alert_queue(db, settings, viewer, status="")
    return {row.alert_id for row in rows}


# ------------------------------------------------------------------ finding 3: people close to the viewer


def test_alerts_about_people_the_viewer_declared_are_kept_from_them(
    db: Session, settings: Settings, carol: Principal, ben: Principal
) -> None:
    assert {"AL-NEIGHBOUR", "AL-UNIT"} <= visible_ids(db, settings, carol)
    # Declared by name and postcode (an initial, another case): N9 is Jane Doe of ME14 1XX.
    declare(db, "D-C1", UNIT, "relative", surname="DOE", forenames="J", postcode="me14 1xx")
    db.commit()
    assert not {"AL-NEIGHBOUR", "AL-UNIT"} & visible_ids(db, settings, carol)
    for alert_id in ("AL-NEIGHBOUR", "AL-UNIT"):
        with pytest.raises(NotFound):
            casework.view_alert(db, settings, alert_id, carol)
        with pytest.raises(NotFound):
            casework.dismiss_alert(db, alert_id, carol, "nothing in it")
        assert casework.alert_hidden(db, alert_id, carol)
    assert casework.status_counts(db, carol)["new"] == 2
    assert "AL-NEIGHBOUR" in visible_ids(db, settings, ben)  # declared by Carol, not by Ben
    # By record id, as a partner.
    declare(db, "D-B1", UNIT_OTHER, "partner", subject_id="N11")
    db.commit()
    assert "AL-CELEBRITY" not in visible_ids(db, settings, ben)
    assert casework.unseen(db, ben).subject_ids >= {"N11", "N20"}


def test_a_rejected_declaration_hides_nothing(db: Session, settings: Settings, carol: Principal) -> None:
    declare(db, "D-C2", UNIT, "friend", subject_id="N9")
    declaration = db.get(Declaration, "D-C2")
    assert declaration is not None
    declaration.status = DeclarationStatus.REJECTED
    db.commit()
    assert "AL-NEIGHBOUR" in visible_ids(db, settings, carol)


def test_alerts_about_the_viewers_household_are_kept_from_them(
    db: Session, settings: Settings, carol: Principal
) -> None:
    """The detectors' household test: the viewer's surname and home postcode, or within 100 m of home
    (N-NEAR is 44 m away, N-FAR 556 m)."""
    unit = db.get(Staff, UNIT)
    assert unit is not None
    unit.home_postcode, unit.home_lat, unit.home_lon = "ME15 6AB", 51.2700, 0.5200
    people = [
        {"subject_id": "N-SAME-PC", "surname": "Black", "forenames": "Tom", "postcode": "ME15 6AB"},
        {"subject_id": "N-NEAR", "surname": "BLACK", "forenames": "Amy", "lat": "51.2704", "lon": "0.52"},
        {"subject_id": "N-FAR", "surname": "Black", "forenames": "Joe", "lat": "51.2750", "lon": "0.52"},
        {"subject_id": "N-OTHER", "surname": "White", "forenames": "Ann", "postcode": "ME15 6AB"},
    ]  # fmt: skip
    load_records(db, "nominals", people, ACTOR)
    run = make_run(db)
    for person in people:
        make_alert(
            db, run, f"AL-{person['subject_id']}", SEARCHER, person["subject_id"], ["UNEXPLAINED"], 60, "x"
        )
    db.commit()
    shown = visible_ids(db, settings, carol)
    assert "AL-N-SAME-PC" not in shown and "AL-N-NEAR" not in shown
    assert "AL-N-FAR" in shown and "AL-N-OTHER" in shown  # a surname alone, or a home alone, is not enough


def test_alerts_by_a_member_of_staff_close_to_the_viewer_are_kept_from_them(
    db: Session, settings: Settings, carol: Principal
) -> None:
    """The accessor declared by the viewer (name and date of birth), or of their household."""
    other = db.get(Staff, OTHER)
    assert other is not None
    other.date_of_birth = date(1990, 6, 1)
    make_alert(db, make_run(db), "AL-HALE", OTHER, "N11", ["UNEXPLAINED"], 60, f"{OTHER} viewed N11")
    investigation_id = casework.open_investigation(db, ["AL-HALE"], principal(db, UNIT_OTHER))
    reference = db.get(Investigation, investigation_id).reference  # type: ignore[union-attr]
    declare(db, "D-C3", UNIT, "ex_partner", surname="Hale", forenames="S", date_of_birth="1990-06-01")
    db.commit()
    assert not {"AL-HALE", "AL-COLLEAGUE"} & visible_ids(db, settings, carol)
    with pytest.raises(NotFound):
        casework.dismiss_alert(db, "AL-COLLEAGUE", carol, "fine")
    with pytest.raises(NotFound):
        casework.view_investigation(db, settings, investigation_id, carol)
    assert investigation_id not in {i.id for i in casework.investigations(db, carol, status="")}
    assert casework.investigation_hidden(db, reference, carol)
    # A member of staff of her household: her surname, her home postcode.
    unit = db.get(Staff, UNIT)
    assert unit is not None
    unit.home_postcode = "ME15 6AB"
    dan = {
        "staff_id": "PC300",
        "surname": "Black",
        "forenames": "Dan",
        "role": "officer",
        "home_postcode": "ME15 6AB",
    }
    load_records(db, "staff", [dan], ACTOR)
    make_alert(db, make_run(db), "AL-DAN", "PC300", "N11", ["UNEXPLAINED"], 60, "PC300 viewed N11")
    db.commit()
    assert "AL-DAN" not in visible_ids(db, settings, carol)
    assert "AL-DAN" in visible_ids(db, settings, principal(db, UNIT_OTHER))


def test_the_public_visibility_questions(
    db: Session, settings: Settings, carol: Principal, ben: Principal
) -> None:
    assert casework.alert_hidden(db, "AL-UNIT", ben) and not casework.alert_hidden(db, "AL-UNIT", carol)
    assert not casework.alert_hidden(db, "AL-NONE", carol)
    assert casework.identity_pseudonymised(db, "AL-NEIGHBOUR", SEARCHER, carol)
    assert not casework.identity_pseudonymised(db, "AL-NEIGHBOUR", "N9", carol)  # not the staff's id
    casework.reveal_identity(db, "AL-NEIGHBOUR", carol, "Need to know")
    assert not casework.identity_pseudonymised(db, "AL-NEIGHBOUR", SEARCHER, carol)
    assert casework.identity_pseudonymised(db, "AL-NEIGHBOUR", SEARCHER, ben)
    assert casework.identity_pseudonymised(db, "AL-CELEBRITY", SEARCHER, carol)  # revealed per alert
