"""Importing nominals, cases and rosters (imports.md, monitoring.md) and the nominal look-ups."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter
from custodes.monitoring import service as monitoring
from custodes.monitoring.models import Case, CaseStaff, CaseSubject, Nominal, RosterPeriod
from custodes.monitoring.schemas import NominalIdentity, NominalView
from tests.workforce.files import count, entries, read, rejected, staff, store

NOMINALS = [
    {
        "subject_id": "N1",
        "surname": "Smith",
        "forenames": "Jo",
        "date_of_birth": "1980-01-02",
        "postcode": "me14 1xx",
        "lat": "51.27",
        "lon": "0.52",
        "flags": "protected",
        "address": "1 High Street, Maidstone",
    },
    {
        "subject_id": "N2",
        "surname": "Smith",
        "forenames": "Jo",
        "date_of_birth": "1991-07-07",
        "postcode": "CT1 1AA",
    },
    {"subject_id": "N3", "surname": "Okafor", "forenames": "Ada", "flags": "staff:S1;public_figure"},
]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "files").mkdir()
    return tmp_path / "files"


@pytest.fixture
def people(db: Session, folder: Path) -> None:
    staff(db, folder, ("S1", "officer"), ("S2", "officer"))
    store(db, folder, "nominals", NOMINALS)


# --------------------------------------------------------------------------- nominals


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_nominals_are_imported_with_their_flags(db: Session, folder: Path, fmt: str) -> None:
    staff(db, folder, ("S1", "officer"))
    summary = monitoring.import_nominals(db, read(folder, "nominals", NOMINALS, fmt), "system:test")
    db.commit()
    assert summary.created == 3
    n1 = monitoring.get_nominal(db, "N1")
    assert n1 == NominalView(
        subject_id="N1",
        surname="Smith",
        forenames="Jo",
        date_of_birth=date(1980, 1, 2),
        postcode="ME14 1XX",
        address="1 High Street, Maidstone",
        flags=frozenset({"protected"}),
        protected=True,
        staff_id=None,
    )
    n3 = monitoring.get_nominal(db, "N3")
    assert n3 is not None and n3.staff_id == "S1" and not n3.protected
    assert n3.flags == frozenset({"public_figure", "staff:S1"}) and n3.address is None
    assert monitoring.get_nominal(db, "N404") is None
    subjects = {e.object_id: sorted(e.subjects) for e in entries(db, "nominal", "collection")}
    assert subjects == {"N1": ["N1"], "N2": ["N2"], "N3": ["N3", "S1"]}


@pytest.mark.usefixtures("people")
def test_reimported_nominals_are_altered(db: Session, folder: Path) -> None:
    moved = [{**NOMINALS[0], "postcode": "ME15 6AB", "flags": ""}, NOMINALS[1]]
    summary = store(db, folder, "nominals", moved)
    assert (summary.created, summary.updated, summary.unchanged) == (0, 1, 1)
    (alteration,) = entries(db, "nominal", "alteration")
    assert alteration.object_id == "N1"
    assert set(alteration.detail["changes"]) == {"postcode", "flags", "protected"}
    assert monitoring.protected_nominals(db) == []


@pytest.mark.usefixtures("people")
def test_bad_nominals_are_all_named(db: Session, folder: Path) -> None:
    good = NOMINALS[1]
    rows = [
        good,
        {**good, "subject_id": "N4", "flags": "famous"},  # 3
        {**good, "subject_id": "N5", "flags": "staff:GHOST"},  # 4
        {**good, "subject_id": "N6", "flags": "staff:S1;staff:S2"},  # 5
        {**good, "subject_id": "N7", "lat": "51.3"},  # 6
        {**good, "subject_id": "N8", "surname": "", "forenames": ""},  # 7
        {**good, "subject_id": "N9", "postcode": "nowhere", "date_of_birth": "2000-02-30"},  # 8
        {**good},  # 9: duplicate of line 2
        {**good, "subject_id": "N10", "lat": "91", "lon": "0"},  # 10
    ]
    found = rejected(db, folder, "nominals", rows)
    assert set(found) == {
        (3, "flags"),
        (4, "flags"),
        (5, "flags"),
        (6, "lon"),
        (7, "surname"),
        (7, "forenames"),
        (8, "postcode"),
        (8, "date_of_birth"),
        (9, "subject_id"),
        (10, "lat"),
    }
    assert "'famous' is not one of: public_figure, protected, staff:<staff_id>" in found[(3, "flags")]
    assert "GHOST is not in the staff register" in found[(4, "flags")]
    assert "only one member of staff" in found[(5, "flags")]
    assert count(db, Nominal) == 3  # only the fixture's


@pytest.mark.usefixtures("people")
def test_finding_nominals_by_name_birth_date_and_postcode(db: Session) -> None:
    def found(*args: object, **kwargs: object) -> list[str]:
        return [n.subject_id for n in monitoring.find_nominals(db, *args, **kwargs)]

    assert found("Smith", "Jo") == ["N1", "N2"]
    assert found(" SMITH ", "jo") == ["N1", "N2"]
    assert found("Smith", "Jo", date(1991, 7, 7)) == ["N2"]
    assert found("Smith", "Jo", postcode="me141xx") == ["N1"]
    assert found("Smith", "Jo", date(1991, 7, 7), "ME14 1XX") == []
    assert found("Smith", "Joe") == []
    assert [n.subject_id for n in monitoring.protected_nominals(db)] == ["N1"]


@pytest.mark.usefixtures("people")
def test_nominal_identities_for_the_gate_are_not_logged(db: Session) -> None:
    before = ledger.size(db)
    found = monitoring.nominal_identities(db, ["N1", "N3", "N9"])
    assert sorted(found) == ["N1", "N3"]
    assert found["N1"] == NominalIdentity("N1", "Smith", "Jo", date(1980, 1, 2), "ME14 1XX", None)
    assert found["N3"].staff_id == "S1" and found["N3"].date_of_birth is None
    assert monitoring.nominal_identities(db, []) == {}
    db.commit()
    assert ledger.size(db) == before


@pytest.mark.usefixtures("people")
def test_nominal_names_for_the_subject_access_report_are_not_logged(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    db.commit()
    before = ledger.size(db)
    monkeypatch.setattr(monitoring, "NAME_LOOKUP_BATCH", 2)  # several queries: every batch is asked
    found = monitoring.nominal_names(db, ["N3", "N1", "N9", "N1", "N0"])
    assert found == {"N1": [("Smith", "Jo")], "N3": [("Okafor", "Ada")]}
    assert monitoring.nominal_names(db, []) == {}
    db.commit()
    assert ledger.size(db) == before


@pytest.mark.usefixtures("people")
def test_only_viewing_a_nominal_is_a_logged_consultation(db: Session) -> None:
    db.commit()
    before = ledger.count(db, EntryFilter(op="consultation"))
    monitoring.get_nominal(db, "N1")
    monitoring.find_nominals(db, "Smith", "Jo")
    monitoring.protected_nominals(db)
    db.commit()
    assert ledger.count(db, EntryFilter(op="consultation")) == before
    shown = monitoring.view_nominal(db, "N1", actor="staff:S2", justification="case C1")
    assert shown is not None and shown.surname == "Smith"
    assert monitoring.view_nominal(db, "N404", actor="staff:S2", justification="case C1") is None
    db.commit()
    (entry,) = ledger.search(db, EntryFilter(op="consultation", object_type="nominal"))
    assert (entry.actor, entry.object_id, entry.subjects, entry.justification) == (
        "staff:S2",
        "N1",
        ["N1"],
        "case C1",
    )


# --------------------------------------------------------------------------- cases

CASES = [
    {
        "case_ref": "C1",
        "kind": "burglary",
        "opened_at": "2024-01-01T10:00:00+00:00",
        "closed_at": "2024-02-01T10:00:00Z",
        "team_id": "T1",
        "assigned_staff": "S1;S2",
        "subject_ids": "N1;N2",
    },
    {"case_ref": "C2", "kind": "fraud", "opened_at": "2024-03-01T09:00:00+01:00", "subject_ids": "N3"},
]


@pytest.mark.usefixtures("people")
def test_cases_are_imported_with_their_people(db: Session, folder: Path) -> None:
    assert store(db, folder, "cases", CASES).created == 2
    c2 = db.get(Case, "C2")
    assert c2 is not None and c2.closed_at is None and c2.opened_at == datetime(2024, 3, 1, 8, tzinfo=UTC)
    links = sorted((c.case_ref, c.staff_id) for c in db.scalars(select(CaseStaff)))
    assert links == [("C1", "S1"), ("C1", "S2")]
    subjects = {e.object_id: sorted(e.subjects) for e in entries(db, "case", "collection")}
    assert subjects == {"C1": ["N1", "N2"], "C2": ["N3"]}
    changed = [{**CASES[0], "assigned_staff": "S2", "subject_ids": "N2;N1;N3"}, CASES[1]]
    summary = store(db, folder, "cases", changed)
    assert (summary.updated, summary.unchanged) == (1, 1)
    (alteration,) = entries(db, "case", "alteration")
    assert set(alteration.detail["changes"]) == {"assigned_staff", "subject_ids"}
    assert sorted(c.staff_id for c in db.scalars(select(CaseStaff))) == ["S2"]
    assert sorted((c.case_ref, c.subject_id) for c in db.scalars(select(CaseSubject))) == [
        ("C1", "N1"),
        ("C1", "N2"),
        ("C1", "N3"),
        ("C2", "N3"),
    ]


@pytest.mark.usefixtures("people")
def test_bad_cases_are_all_named(db: Session, folder: Path) -> None:
    good = CASES[1]
    rows = [
        good,
        {**good, "case_ref": "C3", "assigned_staff": "S1;GHOST"},  # 3
        {**good, "case_ref": "C4", "subject_ids": "N404"},  # 4
        {**good, "case_ref": "C5", "opened_at": "2024-03-01"},  # 5: a date is not a time
        {**good, "case_ref": "C6", "closed_at": "2024-02-01T00:00:00Z"},  # 6: before opening
        {**good, "case_ref": "C7", "kind": ""},  # 7
        {**good},  # 8: duplicate
    ]
    found = rejected(db, folder, "cases", rows)
    assert set(found) == {
        (3, "assigned_staff"),
        (4, "subject_ids"),
        (5, "opened_at"),
        (6, "closed_at"),
        (7, "kind"),
        (8, "case_ref"),
    }
    assert "GHOST is not in the staff register" in found[(3, "assigned_staff")]
    assert "N404 is not in the nominal register" in found[(4, "subject_ids")]
    assert count(db, Case) == 0 and count(db, CaseSubject) == 0


# --------------------------------------------------------------------------- rosters

ROSTERS = [
    {"staff_id": "S1", "start": "2024-01-01T07:00:00+00:00", "end": "2024-01-01T17:00:00+00:00"},
    {"staff_id": "S1", "start": "2024-01-02T08:00:00+01:00", "end": "2024-01-02T18:00:00+01:00"},
]


@pytest.mark.usefixtures("people")
def test_rosters_are_imported_and_a_new_end_is_an_alteration(db: Session, folder: Path) -> None:
    assert store(db, folder, "rosters", ROSTERS).created == 2
    keys = sorted(db.scalars(select(RosterPeriod.roster_key)))
    assert keys == ["S1@2024-01-01T07:00:00+00:00", "S1@2024-01-02T07:00:00+00:00"]
    same_moment = [{**ROSTERS[1], "start": "2024-01-02T07:00:00Z", "end": "2024-01-02T19:00:00Z"}]
    summary = store(db, folder, "rosters", same_moment)
    assert (summary.created, summary.updated) == (0, 1)
    (alteration,) = entries(db, "roster", "alteration")
    assert alteration.subjects == ["S1"] and list(alteration.detail["changes"]) == ["ends_at"]


@pytest.mark.usefixtures("people")
def test_bad_rosters_are_all_named(db: Session, folder: Path) -> None:
    rows = [
        ROSTERS[0],
        {**ROSTERS[0], "staff_id": "GHOST"},  # 3
        {**ROSTERS[1], "end": "2024-01-02T08:00:00+01:00"},  # 4: ends as it starts
        {**ROSTERS[1], "start": "yesterday"},  # 5
        {**ROSTERS[0], "end": "2024-01-01T18:00:00+00:00"},  # 6: same staff and start as line 2
    ]
    found = rejected(db, folder, "rosters", rows)
    assert set(found) == {(3, "staff_id"), (4, "end"), (5, "start"), (6, "start")}
    assert count(db, RosterPeriod) == 0
