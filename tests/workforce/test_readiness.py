"""The workforce rules other modules call: discloser readiness, declared conflicts, a person's record."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter
from custodes.workforce import service as workforce
from custodes.workforce.schemas import DeclarationView, SubjectRef, TrainingStatus, VettingView
from tests.workforce.files import staff, store

COURSES = [
    # Gates system access only: never part of disclosure readiness.
    {"course_code": "DP1", "title": "Data protection", "mandatory_for": "", "gates": "system_access"},
    {
        "course_code": "MI",
        "title": "Managing Information",
        "mandatory_for": "officer;supervisor",
        "validity_months": "12",
        "gates": "disclosure;system_access",
    },
    {
        "course_code": "ETH",
        "title": "Ethics",
        "mandatory_for": "",
        "validity_months": "",
        "gates": "disclosure",
    },
    {
        "course_code": "DPA",
        "title": "DPU casework",
        "mandatory_for": "dpu",
        "validity_months": "24",
        "gates": "disclosure",
    },
]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "files").mkdir()
    return tmp_path / "files"


@pytest.fixture
def force(db: Session, folder: Path) -> None:
    staff(db, folder, ("S1", "officer"), ("S2", "staff;supervisor"), ("S3", "dpu"), ("S4", "analyst"))
    store(db, folder, "courses", COURSES)


def complete(db: Session, folder: Path, *rows: tuple[str, str, str]) -> None:
    store(db, folder, "training", [{"staff_id": s, "course_code": c, "completed_on": d} for s, c, d in rows])


def vet(db: Session, folder: Path, *rows: tuple[str, str, str, str, str]) -> None:
    keys = ("staff_id", "level", "status", "decided_on", "expires_on")
    store(db, folder, "vetting", [dict(zip(keys, row, strict=True)) for row in rows])


# --------------------------------------------------------------------------- training


@pytest.mark.usefixtures("force")
def test_training_readiness_follows_roles_expiry_and_never_expiring_courses(
    db: Session, folder: Path
) -> None:
    complete(db, folder, ("S1", "MI", "2023-01-10"), ("S1", "ETH", "2010-05-05"), ("S1", "DP1", "2023-01-01"))
    on_expiry_day = workforce.discloser_readiness(db, "S1", date(2024, 1, 10))
    assert on_expiry_day.known and on_expiry_day.roles == frozenset({"officer"})
    assert on_expiry_day.training_current and on_expiry_day.missing_training == ()
    expired = workforce.discloser_readiness(db, "S1", date(2024, 1, 11))
    assert not expired.training_current and expired.missing_training == ("Managing Information",)
    before = workforce.discloser_readiness(db, "S1", date(2023, 1, 9))  # completion not yet done
    assert before.missing_training == ("Managing Information",)
    # A refresher renews it; the older completion does not matter.
    complete(db, folder, ("S1", "MI", "2024-01-12"))
    assert workforce.discloser_readiness(db, "S1", date(2024, 6, 1)).training_current
    # The DPU course applies to the dpu role only; Managing Information not to the dpu.
    dpu = workforce.discloser_readiness(db, "S3", date(2024, 6, 1))
    assert dpu.missing_training == ("DPU casework", "Ethics")
    supervisor = workforce.discloser_readiness(db, "S2", date(2024, 6, 1))
    assert supervisor.roles == frozenset({"staff", "supervisor"})
    assert supervisor.missing_training == ("Ethics", "Managing Information")  # by course code
    analyst = workforce.discloser_readiness(db, "S4", date(2024, 6, 1))
    assert analyst.missing_training == ("Ethics",)


@pytest.mark.usefixtures("force")
def test_an_unknown_person_is_not_ready(db: Session) -> None:
    ghost = workforce.discloser_readiness(db, "GHOST", date(2024, 6, 1))
    assert not ghost.known and ghost.roles == frozenset() and ghost.area_code is None
    assert ghost.missing_training == ("Ethics",) and not ghost.vetting_current


def test_with_no_course_gating_disclosure_training_is_current(db: Session, folder: Path) -> None:
    staff(db, folder, ("S1", "officer"))
    store(db, folder, "courses", COURSES[:1])
    readiness = workforce.discloser_readiness(db, "S1", date(2024, 6, 1))
    assert readiness.training_current and readiness.missing_training == ()


def test_add_months_clamps_to_the_end_of_the_month() -> None:
    assert workforce.add_months(date(2023, 1, 31), 1) == date(2023, 2, 28)
    assert workforce.add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert workforce.add_months(date(2023, 11, 15), 14) == date(2025, 1, 15)


@pytest.mark.usefixtures("force")
def test_training_record_lists_mandatory_and_completed_courses(db: Session, folder: Path) -> None:
    complete(db, folder, ("S4", "MI", "2024-01-10"), ("S4", "MI", "2025-01-01"))
    record = workforce.training_record(db, "S4", date(2024, 6, 1))
    assert record == [
        TrainingStatus("DP1", "Data protection", frozenset({"system_access"}), True, None, None, False),
        TrainingStatus("ETH", "Ethics", frozenset({"disclosure"}), True, None, None, False),
        TrainingStatus(
            "MI",
            "Managing Information",
            frozenset({"disclosure", "system_access"}),
            False,  # not mandatory for an analyst, but done
            date(2024, 1, 10),
            date(2025, 1, 10),
            True,
        ),
    ]


# --------------------------------------------------------------------------- vetting


@pytest.mark.usefixtures("force")
def test_vetting_is_current_only_when_granted_and_unexpired(db: Session, folder: Path) -> None:
    vet(
        db,
        folder,
        ("S1", "NPPV2", "granted", "2019-06-01", "2024-06-01"),
        ("S2", "MV", "granted", "2015-01-01", ""),  # never expires
        ("S3", "SC", "refused", "2024-01-01", ""),
        ("S3", "NPPV3", "lapsed", "2018-01-01", "2030-01-01"),
        ("S3", "NPPV2", "withdrawn", "2024-02-01", ""),
        ("S4", "NPPV2", "applied", "", ""),
        ("S4", "NPPV1", "granted", "2025-01-01", ""),  # decided after the day asked about
    )
    on = date(2024, 6, 1)
    assert workforce.discloser_readiness(db, "S1", on).vetting_current  # expiry day included
    assert not workforce.discloser_readiness(db, "S1", date(2024, 6, 2)).vetting_current
    assert workforce.discloser_readiness(db, "S2", on).vetting_current
    assert not workforce.discloser_readiness(db, "S3", on).vetting_current
    assert not workforce.discloser_readiness(db, "S4", on).vetting_current
    assert workforce.discloser_readiness(db, "S4", date(2025, 1, 1)).vetting_current
    assert workforce.vetting_record(db, "S4") == [
        VettingView("NPPV2", "applied", None, None),
        VettingView("NPPV1", "granted", date(2025, 1, 1), None),
    ]
    assert [v.level for v in workforce.vetting_record(db, "S3")] == ["NPPV2", "SC", "NPPV3"]


@pytest.mark.usefixtures("force")
def test_readiness_carries_the_area_and_logs_nothing(db: Session) -> None:
    before = ledger.count(db, EntryFilter())
    readiness = workforce.discloser_readiness(db, "S1", date(2024, 6, 1))
    assert readiness.area_code is None and readiness.staff_id == "S1"
    db.commit()
    assert ledger.count(db, EntryFilter()) == before


# --------------------------------------------------------------------------- declared conflicts

DECLARATIONS = [
    {
        "declaration_id": "D1",
        "staff_id": "S1",
        "subject_id": "N9",
        "relationship": "neighbour",
        "declared_at": "2024-02-01",
    },
    {
        "declaration_id": "D2",
        "staff_id": "S1",
        "kind": "reportable_association",
        "surname": "Kray",
        "forenames": "Ronald",
        "date_of_birth": "1933-10-24",
        "postcode": "E2 7DX",
        "relationship": "friend",
        "declared_at": "2024-03-01T10:00:00+00:00",
    },
    {  # not a kind that names a conflict
        "declaration_id": "D3",
        "staff_id": "S1",
        "kind": "business_interest",
        "subject_id": "N9",
        "surname": "Kray",
        "forenames": "Ronald",
        "date_of_birth": "1933-10-24",
        "declared_at": "2024-03-02",
    },
    {
        "declaration_id": "D4",
        "staff_id": "S2",
        "surname": "Smith",
        "forenames": "Jo",
        "postcode": "ME14 1XX",
        "relationship": "ex_partner",
        "declared_at": "2024-03-03",
    },
]


@pytest.fixture
def declared(force: None, db: Session, folder: Path) -> None:
    store(db, folder, "declarations", DECLARATIONS)


def ids(found: list[DeclarationView]) -> list[str]:
    return [d.declaration_id for d in found]


@pytest.mark.usefixtures("declared")
def test_conflicts_match_by_subject_id(db: Session) -> None:
    (found,) = workforce.declared_conflicts(db, "S1", SubjectRef(subject_id="N9"))
    assert found == DeclarationView(
        "D1", "S1", "conflict_of_interest", "N9", None, "neighbour", datetime(2024, 2, 1, tzinfo=UTC)
    )
    assert workforce.declared_conflicts(db, "S2", SubjectRef(subject_id="N9")) == []  # another's declaration
    assert workforce.declared_conflicts(db, "S1", SubjectRef(subject_id="N10")) == []


@pytest.mark.usefixtures("declared")
def test_conflicts_match_by_name_with_date_of_birth_or_postcode(db: Session) -> None:
    by_birth = SubjectRef(surname="  kray ", forenames="RONALD", date_of_birth=date(1933, 10, 24))
    (found,) = workforce.declared_conflicts(db, "S1", by_birth)
    assert found.declaration_id == "D2" and found.name == "Ronald Kray" and found.relationship == "friend"
    by_postcode = SubjectRef(surname="Kray", forenames="Ronald", postcode="e27dx")
    assert ids(workforce.declared_conflicts(db, "S1", by_postcode)) == ["D2"]
    by_postcode_only = SubjectRef(
        surname="Smith", forenames="jo", postcode="ME14 1XX", date_of_birth=date(1990, 1, 1)
    )
    assert ids(workforce.declared_conflicts(db, "S2", by_postcode_only)) == ["D4"]
    # An unrelated id does not stop a name match (police systems hold duplicate records of one person).
    other_id = SubjectRef(
        subject_id="N77", surname="Kray", forenames="Ronald", date_of_birth=date(1933, 10, 24)
    )
    assert ids(workforce.declared_conflicts(db, "S1", other_id)) == ["D2"]
    # Matched as the pre-access gate matches: initials, hyphens and spelling variants are tolerated.
    variant = SubjectRef(surname="KRAY", forenames="R.", date_of_birth=date(1933, 10, 24))
    assert ids(workforce.declared_conflicts(db, "S1", variant)) == ["D2"]


@pytest.mark.parametrize(
    "subject",
    [
        SubjectRef(surname="Kray", forenames="Ronald"),  # a name alone is never enough
        SubjectRef(surname="Kray", forenames="Ronald", date_of_birth=date(1933, 10, 25)),
        SubjectRef(surname="Kray", forenames="Ronald", postcode="E2 7DY"),
        SubjectRef(surname="Kray", forenames="Reginald", date_of_birth=date(1933, 10, 24)),
        SubjectRef(surname="Cray", forenames="Ronald", postcode="E2 7DX"),
        SubjectRef(date_of_birth=date(1933, 10, 24), postcode="E2 7DX"),
        SubjectRef(),
    ],
    ids=[
        "name only",
        "other birth date",
        "other postcode",
        "other forenames",
        "other surname",
        "no name",
        "empty",
    ],
)
@pytest.mark.usefixtures("declared")
def test_near_misses_do_not_match(db: Session, subject: SubjectRef) -> None:
    assert workforce.declared_conflicts(db, "S1", subject) == []


@pytest.mark.usefixtures("declared")
def test_a_subject_given_by_id_is_matched_by_the_nominal_s_name(db: Session, folder: Path) -> None:
    store(
        db,
        folder,
        "nominals",
        [{"subject_id": "N5", "surname": "KRAY", "forenames": "Ronald", "date_of_birth": "1933-10-24"}],
    )
    assert ids(workforce.declared_conflicts(db, "S1", SubjectRef(subject_id="N5"))) == ["D2"]
    # The id decides whatever name comes with it (the register's details for N5 are matched too).
    assert ids(workforce.declared_conflicts(db, "S1", SubjectRef(subject_id="N5", surname="Other"))) == ["D2"]
    other = SubjectRef(subject_id="N5", surname="Other", forenames="Anne", date_of_birth=date(2001, 1, 1))
    assert ids(workforce.declared_conflicts(db, "S1", other)) == ["D2"]
    assert ids(workforce.declared_conflicts(db, "S1", SubjectRef(subject_id="N6", surname="Other"))) == []


@pytest.mark.usefixtures("declared")
def test_a_declaration_by_id_matches_a_search_by_the_register_s_name(db: Session, folder: Path) -> None:
    """D1 names N9 by id only: the register's name and date of birth for N9 match a subject by name."""
    row = {"subject_id": "N9", "surname": "Neighbour", "forenames": "Karl", "date_of_birth": "1975-05-05"}
    store(db, folder, "nominals", [row])
    by_name = SubjectRef(surname="NEIGHBOUR", forenames="K", date_of_birth=date(1975, 5, 5))
    assert ids(workforce.declared_conflicts(db, "S1", by_name)) == ["D1"]
    elsewhere = SubjectRef(surname="Neighbour", forenames="Karl", date_of_birth=date(1975, 5, 6))
    assert ids(workforce.declared_conflicts(db, "S1", elsewhere)) == []


def test_is_themself_matches_as_the_gate_s_self_rule(db: Session, folder: Path) -> None:
    """Disclosure's "self" conflict: name with date of birth or home postcode, given by name or by id."""
    me = {"staff_id": "S7", "surname": "Okafor", "forenames": "Ada", "role": "officer"}
    store(db, folder, "staff", [{**me, "date_of_birth": "1975-04-02", "home_postcode": "ME14 1XX"}])
    row = {"subject_id": "N7", "surname": "OKAFOR", "forenames": "A", "postcode": "me14 1xx"}
    store(db, folder, "nominals", [row])
    assert workforce.is_themself(db, "S7", SubjectRef(subject_id="N7"))
    assert workforce.is_themself(
        db, "S7", SubjectRef(surname="Okafor", forenames="Ada", date_of_birth=date(1975, 4, 2))
    )
    assert not workforce.is_themself(
        db, "S7", SubjectRef(surname="Okafor", forenames="Ben", postcode="ME14 1XX")
    )
    assert not workforce.is_themself(db, "S7", SubjectRef(surname="Okafor", forenames="Ada"))
    assert not workforce.is_themself(db, "S404", SubjectRef(subject_id="N7"))
