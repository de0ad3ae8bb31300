"""Each rule of monitoring.md raised by one access, explanations, grouping and scoring (DuckDB engine)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from sqlalchemy.orm import Session

from custodes.identity import service as identity
from custodes.identity.schemas import Principal
from custodes.imports import load_records
from custodes.kit.names import PersonKey, forenames_agree, same_person
from custodes.monitoring import detectors
from custodes.monitoring import service as monitoring
from custodes.monitoring.alerts import AlertDraft
from custodes.monitoring.schemas import Rule
from custodes.settings import Settings
from tests.monitoring.world import (
    DAY0,
    _nominal,
    _staff,
    event,
    ingest,
    load_lookalikes,
    load_name_only,
    load_world,
)


@pytest.fixture
def world(db: Session, settings: Settings, tmp_path: Path) -> Path:
    load_world(db)
    folder = tmp_path / "in"
    folder.mkdir()
    return folder


def alerts_for(db: Session, settings: Settings, folder: Path, *rows: dict[str, str]) -> list[AlertDraft]:
    ingest(db, settings, folder, rows)
    alerts, _ = monitoring.find_alerts(db, settings)
    return alerts


def only(alerts: list[AlertDraft]) -> AlertDraft:
    assert len(alerts) == 1, [a.as_json() for a in alerts]
    return alerts[0]


@pytest.mark.parametrize(
    ("subject", "rule"),
    [
        ("N-SELF", Rule.SELF),
        ("N-REL", Rule.RELATIVE_OR_HOUSEHOLD),
        ("N-NB", Rule.NEIGHBOUR),
        ("N-DECL", Rule.DECLARED_CONFLICT),
        ("N-COL", Rule.COLLEAGUE),
        ("N-PUB", Rule.PUBLIC_FIGURE),
    ],
)
def test_each_relationship_rule_raises_an_unexplained_alert(
    db: Session, settings: Settings, world: Path, subject: str, rule: Rule
) -> None:
    alert = only(alerts_for(db, settings, world, event("e1", subject)))
    assert rule in alert.rules
    assert Rule.UNEXPLAINED in alert.rules
    assert alert.staff_id == "S1" and alert.subject_id == subject
    assert "no case assigned to S1 or team T1" in alert.explanation


def test_relative_by_surname_in_any_case_and_postcode_is_also_a_neighbour(
    db: Session, settings: Settings, world: Path
) -> None:
    alert = only(alerts_for(db, settings, world, event("e1", "N-REL")))
    assert alert.rules[:2] == (Rule.RELATIVE_OR_HOUSEHOLD, Rule.NEIGHBOUR)
    assert "same postcode" in alert.explanation


def test_neighbour_distance_is_stated_in_metres(db: Session, settings: Settings, world: Path) -> None:
    alert = only(alerts_for(db, settings, world, event("e1", "N-NB")))
    assert "N-NB lives 133 m from S1's home" in alert.explanation


def test_declared_conflict_matches_a_spelling_variant_and_initial(
    db: Session, settings: Settings, world: Path
) -> None:
    alert = only(alerts_for(db, settings, world, event("e1", "N-DECL")))
    assert alert.rules == (Rule.DECLARED_CONFLICT, Rule.UNEXPLAINED)
    assert "D-1" in alert.explanation and "friend" in alert.explanation


FORENAMES = (
    "K", "K.", "Karl", "Carl", "C", "Kenneth", "Kathryn", "Catherine", "Anne Marie", "Annemarie", "Ann-Marie",
    "Anne", "A", "John", "Jon", "J", "Mackenzie", "McKenzie", "M", "Sean", "Shaun", "",
    "Jürgen", "Juergen", "Jurgen", "Jörg", "Joerg", "Đorđe", "Djordje", "Dorde", "D", "Đ", "Dj", "Ü", "U",
    "Ue", "Djorde", "Dordje", "Søren", "Soeren", "Soren", "Håkon", "Haakon", "Hakon", "Åse", "Aase", "Ase",
    "Bjørn Åge", "Bjoern Aage", "Bjorn Aage", "Ø", "O", "Oe", "Michael", "Michal", "Joe", "Jo", "Noel", "Nol",
    "Ægir", "Aegir", "Agir", "Egir", "Mikæl", "Mikael", "Mikal", "Zoë",
    "Jürgen Djordje", "Juergen Đorđe", "Jurgen Djordje", "Juergen Dorde",
    "Joe Jürgen", "Jo Jurgen", "Joe Juergen", "Jo Jürgen", "Jo Juergen", "Jürgen Joe", "Juergen Jo",
)  # fmt: skip
_KEY_COLUMNS = "surname_key VARCHAR, forename_key VARCHAR, joined_key VARCHAR, surname_other VARCHAR, " + (
    "forename_other VARCHAR, joined_other VARCHAR, surname_fold VARCHAR, forename_fold VARCHAR, "
    "joined_fold VARCHAR"
)


def test_the_detectors_forename_join_agrees_with_the_gates_matching() -> None:
    """detectors._agree, run as SQL over the stored keys, says what kit.names.forenames_agree says (in
    either spelling of forenames with ä ö ü đ: the table now has the other spelling's keys too)."""
    con = duckdb.connect()
    con.execute(f"CREATE TABLE people (name VARCHAR, {_KEY_COLUMNS})")
    con.executemany(
        "INSERT INTO people VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(n, *monitoring._name_keys("Smith", n)) for n in FORENAMES],
    )
    found = con.execute(
        f"SELECT a.name, b.name, {detectors._agree('a', 'b')} FROM people a, people b"
    ).fetchall()
    assert len(found) == len(FORENAMES) ** 2
    keys = {n: PersonKey.of(None, "Smith", n, None, None) for n in FORENAMES}
    wrong = [(a, b, bool(said)) for a, b, said in found if bool(said) != forenames_agree(keys[a], keys[b])]
    assert wrong == []
    assert ("K", "Karl", True) in {(a, b, bool(said)) for a, b, said in found}
    assert {("Jürgen", "Juergen", True), ("Đorđe", "Dorde", True), ("Juergen", "Jurgen", False)} <= {
        (a, b, bool(said)) for a, b, said in found
    }
    said = {(a, b): bool(x) for a, b, x in found}
    # mixed spellings meet the name written with the letters; plain names are compared as typed
    assert said["Đorđe", "Djorde"] and said["Dordje", "Đorđe"] and said["Søren", "Soeren"]
    assert said["Håkon", "Haakon"] and said["Åse", "Ase"] and said["Bjørn Åge", "Bjorn Aage"]
    assert said["Ø", "Oe"] and said["O", "Ø"]
    assert not said["Djordje", "Dorde"] and not said["Haakon", "Hakon"] and not said["Soeren", "Soren"]
    assert not said["Michael", "Michal"] and not said["Joe", "Jo"] and not said["Noel", "Nol"]
    # written two ways is decided letter by letter (review: "Joe Jürgen" agreed with "Jo")
    assert (
        not said["Joe Jürgen", "Jo"] and not said["Jo", "Joe Jürgen"] and not said["Joe Jürgen", "Jo Jurgen"]
    )
    assert not said["Jo Jürgen", "Joe Juergen"] and not said["Joe Juergen", "Jo Jürgen"]
    # each letter read on its own, whichever side has it (review: each side's pattern missed the other)
    assert said["Jürgen Djordje", "Juergen Đorđe"] and said["Juergen Đorđe", "Jürgen Djordje"]
    assert not said["Juergen Đorđe", "Jurgen Djordje"] and not said["Jurgen Djordje", "Juergen Dorde"]
    assert (
        said["Joe Jürgen", "Joe Juergen"]
        and said["Jo Juergen", "Jo Jürgen"]
        and said["Jürgen Joe", "Juergen Jo"]
    )


SURNAMES = (
    "Müller", "Mueller", "Muller", "MÜLLER", "Miller", "Đorđević", "Djordjevic", "Dordevic", "Smith",
    "Schröder", "Schroeder", "Schroder", "Strauß", "Strauss", "Straus", "Joe", "Jo", "",
    "Djordevic", "Dordjevic", "DJORĐEVIĆ", "Ødegård", "Odegaard", "Oedegard", "Oedegaard", "Odegard",
    "Åberg", "Aaberg", "Aberg", "Sørensen", "Soerensen", "Sorensen", "Müller-Lüdenscheidt",
    "Mueller-Ludenscheidt", "Muller-Luedenscheidt", "Sæther", "Saether", "Sather", "Hoey", "Hoy", "Høy",
    "Adjei", "Adei", "Hoey-Müller", "Hoey-Mueller", "Hoey Muller", "Hoy-Muller", "Hoy-Mueller", "Hoy-Müller",
    "Müller-Hoey", "Mueller-Hoy", "Hoey-Đorđević", "Hoey-Djordevic", "Hoy-Dordevic",
    "MacDonald", "McDonald", "Mc Donald", "M'Donald", "Mack", "Mc K", "McK", "Macey", "Mcey", "MacKay",
    "McKay", "M'Baye", "Mbaye", "MacDonald-Müller", "McDonald-Mueller", "Sæbø", "Saebo", "Sabo", "Saeboe",
    "Sebo", "Bœuf", "Boeuf", "Bouf", "Müller-Djordjevic", "Mueller-Đorđević", "Muller Đorđević",
    "Mueller-Djordjevic", "Muller-Dordevic", "Maas", "Maes", "Maas-Müller", "Maes-Müller",
)  # fmt: skip


def test_the_detectors_name_match_agrees_with_the_gates_matching() -> None:
    """detectors._same_person (surname in either spelling, forenames, date of birth) says what
    kit.names.same_person says, for surnames with and without letters English writes two ways."""
    con = duckdb.connect()
    con.execute(f"CREATE TABLE people (name VARCHAR, {_KEY_COLUMNS}, date_of_birth DATE, postcode VARCHAR)")
    con.executemany(
        "INSERT INTO people VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, DATE '1980-01-01', NULL)",
        [(n, *monitoring._name_keys(n, "Hans")) for n in SURNAMES],
    )
    found = con.execute(
        f"SELECT a.name, b.name, {detectors._same_person('a', 'b')} FROM people a, people b"
    ).fetchall()
    assert len(found) == len(SURNAMES) ** 2
    keys = {n: PersonKey.of(None, n, "Hans", date(1980, 1, 1), None) for n in SURNAMES}
    wrong = [(a, b, bool(said)) for a, b, said in found if bool(said) != same_person(keys[a], keys[b])]
    assert wrong == []
    said = {(a, b): bool(x) for a, b, x in found}
    assert said["Müller", "Mueller"] and said["Mueller", "Müller"] and said["Muller", "MÜLLER"]
    assert said["Đorđević", "Djordjevic"] and said["Dordevic", "Đorđević"]
    assert not said["Mueller", "Muller"] and not said["Joe", "Jo"]
    # Every mix of the spellings meets the name written with the letters (review: "Djordevic", đ written
    # out once and plain once, dodged a "Đorđević"; ø and å were one spelling only)...
    for mixed in ("Djordjevic", "Djordevic", "Dordjevic", "Dordevic", "DJORĐEVIĆ"):
        assert said["Đorđević", mixed] and said[mixed, "Đorđević"]
    for mixed in ("Odegaard", "Oedegard", "Oedegaard", "Odegard"):
        assert said["Ødegård", mixed] and said[mixed, "Ødegård"]
    assert said["Åberg", "Aaberg"] and said["Aberg", "Åberg"] and said["Sørensen", "Soerensen"]
    assert (
        said["Müller-Lüdenscheidt", "Mueller-Ludenscheidt"]
        and said["Muller-Luedenscheidt", "Müller-Lüdenscheidt"]
    )
    assert said["Sæther", "Saether"] and said["Høy", "Hoey"] and said["Hoy", "Høy"]
    # æ is written as ä is, a or ae (review: "Sather" dodged a "Sæther"); œ as ö
    assert (
        said["Sæther", "Sather"] and said["Sabo", "Sæbø"] and said["Sæbø", "Saeboe"] and said["Bœuf", "Bouf"]
    )
    # ...while names typed in plain letters stay as typed: a plain "dj", "oe" or "ae" is no đ, ø or æ
    assert not said["Djordjevic", "Dordevic"] and not said["Djordevic", "Djordjevic"]
    assert not said["Odegaard", "Odegard"] and not said["Aaberg", "Aberg"] and not said["Saether", "Sather"]
    assert not said["Hoey", "Hoy"] and not said["Adjei", "Adei"] and not said["Saebo", "Sabo"]
    # written two ways is decided letter by letter (review: "Hoey-Müller" was "Hoy-Muller")
    assert not said["Hoey-Müller", "Hoy-Muller"] and not said["Hoy-Mueller", "Hoey-Müller"]
    assert not said["Müller-Hoey", "Mueller-Hoy"] and not said["Hoey-Đorđević", "Hoy-Dordevic"]
    assert said["Hoey-Müller", "Hoey-Mueller"] and said["Hoey Muller", "Hoey-Müller"]
    assert said["Hoey-Djordevic", "Hoey-Đorđević"] and said["Hoy-Müller", "Hoy-Mueller"]
    # Mac, Mc and M' are one prefix before the rest of a name of three letters or more, and only then
    # (review: Mack was "Mc K", Macey "Mcey", and M'Donald not McDonald)
    for one in ("MacDonald", "McDonald", "Mc Donald", "M'Donald"):
        assert all(said[one, other] for other in ("MacDonald", "McDonald", "Mc Donald", "M'Donald"))
    assert (
        said["MacKay", "McKay"] and said["M'Baye", "Mbaye"] and said["McDonald-Mueller", "MacDonald-Müller"]
    )
    assert not said["Mack", "Mc K"] and not said["Mack", "McK"] and not said["Macey", "Mcey"]
    # each letter, so each part, read on its own whichever side has it (review: these were missed)
    assert said["Müller-Djordjevic", "Mueller-Đorđević"] and said["Mueller-Đorđević", "Müller-Djordjevic"]
    assert said["Muller Đorđević", "Müller-Djordjevic"]
    assert not said["Mueller-Djordjevic", "Muller-Dordevic"] and not said["Maas", "Maes"]
    assert said["Maas-Müller", "Maes-Müller"]  # the rare mix accepted (kit.names.folds_alike)


_FAR_DOB = "1966-06-06"


@pytest.mark.parametrize(
    ("declared", "nominal"),
    [
        (("Müller", "Jürgen"), ("Mueller", "Juergen")),
        (("Müller", "Jürgen"), ("Muller", "J")),
        (("Mueller", "Juergen"), ("MÜLLER", "Jürgen")),
        (("Đorđević", "Ana"), ("Dordevic", "Ana")),
        (("Djordjevic", "Ana"), ("Đorđević", "Ana")),
        # mixed spellings, and ø å (review)
        (("Đorđević", "Đorđe"), ("Djordevic", "Djorde")),
        (("Djordevic", "Ana"), ("ĐORĐEVIĆ", "ANA")),
        (("Ødegård", "Bjørn"), ("Odegaard", "Bjoern")),
        (("Oedegard", "Bjorn"), ("Ødegård", "Bjørn")),
        (("Åberg", "Håkon"), ("Aaberg", "Hakon")),
        (("Sørensen", "Søren"), ("Soerensen", "Soren")),
        (("Müller-Lüdenscheidt", "Jürgen"), ("Mueller-Ludenscheidt", "Jurgen")),
        (("Strauß", "Jens"), ("Strauss", "Jens")),
        (("Bæk", "Jens"), ("Baek", "Jens")),
    ],
)
def test_declared_conflict_matches_either_spelling_of_umlauts_and_dj(
    db: Session, settings: Settings, world: Path, declared: tuple[str, str], nominal: tuple[str, str]
) -> None:
    """Review: a declared "Müller" was not matched by the register's "Mueller" (ü written out, as English
    keyboards do), nor "Đorđević" by "Dordevic": DECLARED_CONFLICT missed them."""
    load_records(
        db,
        "nominals",
        [
            {
                "subject_id": "N-DE",
                "surname": nominal[0],
                "forenames": nominal[1],
                "date_of_birth": _FAR_DOB,
                "postcode": "",
                "lat": "",
                "lon": "",
                "flags": "",
            }
        ],
        "system:test",
    )
    load_records(
        db,
        "declarations",
        [
            {
                "declaration_id": "D-DE",
                "staff_id": "S1",
                "kind": "conflict_of_interest",
                "subject_id": "",
                "surname": declared[0],
                "forenames": declared[1],
                "date_of_birth": _FAR_DOB,
                "postcode": "",
                "relationship": "friend",
                "declared_at": "2026-01-01T00:00:00+00:00",
            }
        ],
        "system:test",
    )
    alert = only(alerts_for(db, settings, world, event("e1", "N-DE")))
    assert alert.rules == (Rule.DECLARED_CONFLICT, Rule.UNEXPLAINED)
    assert "D-DE" in alert.explanation


def test_declared_mueller_does_not_match_a_muller_typed_without_the_umlaut(
    db: Session, settings: Settings, world: Path
) -> None:
    """Plain spellings are not folded into each other (Mueller ≠ Muller), only names with ü are both."""
    load_records(
        db,
        "nominals",
        [
            {
                "subject_id": "N-DE",
                "surname": "Muller",
                "forenames": "Hans",
                "date_of_birth": _FAR_DOB,
                "postcode": "",
                "lat": "",
                "lon": "",
                "flags": "",
            }
        ],
        "system:test",
    )
    load_records(
        db,
        "declarations",
        [
            {
                "declaration_id": "D-DE",
                "staff_id": "S1",
                "kind": "conflict_of_interest",
                "subject_id": "",
                "surname": "Mueller",
                "forenames": "Hans",
                "date_of_birth": _FAR_DOB,
                "postcode": "",
                "relationship": "friend",
                "declared_at": "2026-01-01T00:00:00+00:00",
            }
        ],
        "system:test",
    )
    assert alerts_for(db, settings, world, event("e1", "N-DE")) == []


_HOME = {"home_postcode": "TN30 7ZZ", "home_lat": "51.0600", "home_lon": "0.6900"}
_AT_HOME = {"postcode": "TN30 7ZZ", "lat": "51.0601", "lon": "0.6901"}


@pytest.mark.parametrize(
    ("staff", "nominal", "rules"),
    [
        # the household: a surname in another spelling, at the searcher's home
        (("Ødegård", "Bjørn"), ("Odegaard", "Siri", _AT_HOME), (Rule.RELATIVE_OR_HOUSEHOLD, Rule.NEIGHBOUR)),
        (("Đorđević", "Ana"), ("Djordevic", "Marko", _AT_HOME), (Rule.RELATIVE_OR_HOUSEHOLD, Rule.NEIGHBOUR)),
        (("Oedegard", "Bjorn"), ("Ødegård", "Siri", _AT_HOME), (Rule.RELATIVE_OR_HOUSEHOLD, Rule.NEIGHBOUR)),
        # the searcher themself: name in another spelling with their date of birth or home postcode
        (("Djordevic", "Ana"), ("Đorđević", "Ana", {"date_of_birth": "1988-08-08"}), (Rule.SELF,)),
        (("Müller-Lüdenscheidt", "Jürgen"), ("Mueller-Ludenscheidt", "Jurgen", _AT_HOME), (Rule.SELF,)),
        (("Håkonsen", "Åse"), ("Haakonsen", "Ase", {"postcode": "TN30 7ZZ"}), (Rule.SELF,)),
        # names typed in plain letters are compared as typed: a neighbour, not a relative
        (("Djordjevic", "Ana"), ("Dordevic", "Marko", _AT_HOME), (Rule.NEIGHBOUR,)),
        (("Saebo", "Per"), ("Sabo", "Kari", _AT_HOME), (Rule.NEIGHBOUR,)),
        (("Sæbø", "Per"), ("Sebo", "Kari", _AT_HOME), (Rule.NEIGHBOUR,)),  # æ is never e
        # æ is a or ae, as ä is (review: this was a neighbour only, æ read as ae alone)
        (("Sæther", "Per"), ("Sather", "Kari", _AT_HOME), (Rule.RELATIVE_OR_HOUSEHOLD, Rule.NEIGHBOUR)),
    ],
)
def test_relationship_rules_fire_across_spellings(
    db: Session,
    settings: Settings,
    world: Path,
    staff: tuple[str, str],
    nominal: tuple[str, str, dict[str, str]],
    rules: tuple[Rule, ...],
) -> None:
    """Review: a searcher "Ødegård" looking up "Odegaard" at their own address, or "Djordevic" looking up
    their own record as "Đorđević", raised no relationship rule: ø and å had one spelling, and a spelling
    mixing the written-out and plain forms matched neither. Now every mix meets the name written with the
    letters, in SELF and RELATIVE_OR_HOUSEHOLD as in the gate."""
    load_records(db, "staff", [_staff("S7", *staff, "T2", "1988-08-08", **_HOME)], "system:test")
    surname, forenames, extra = nominal
    load_records(db, "nominals", [_nominal("N-SP", surname, forenames, **extra)], "system:test")
    alert = only(alerts_for(db, settings, world, event("e1", "N-SP", staff="S7")))
    assert alert.rules == (*rules, Rule.UNEXPLAINED)


def test_self_by_an_initial_as_written_and_the_same_date_of_birth(
    db: Session, settings: Settings, world: Path
) -> None:
    """ "K Smith" is Karl Smith's initial although Karl is matched under its variant Carl (as the gate)."""
    load_lookalikes(db)
    alert = only(alerts_for(db, settings, world, event("e1", "N-KSMITH", staff="S4")))
    assert alert.rules == (Rule.SELF, Rule.UNEXPLAINED)
    assert "N-KSMITH is S4's own record" in alert.explanation


def test_self_by_name_and_home_postcode_without_a_date_of_birth(
    db: Session, settings: Settings, world: Path
) -> None:
    load_lookalikes(db)
    alert = only(alerts_for(db, settings, world, event("e1", "N-HOME")))
    assert alert.rules == (Rule.SELF, Rule.UNEXPLAINED)  # not also their relative or neighbour
    assert "N-HOME is S1's own record" in alert.explanation


def test_the_searchers_name_elsewhere_without_a_date_of_birth_is_not_self(
    db: Session, settings: Settings, world: Path
) -> None:
    load_lookalikes(db)
    assert alerts_for(db, settings, world, event("e1", "N-NAMESAKE")) == []
    found = monitoring.explain(db, settings, "e1", "system:test")
    assert found is not None and found.rules == (Rule.UNEXPLAINED,)


# Members of staff on record without the `staff:` flag (COLLEAGUE: "subject is another member of the
# workforce", known by name with date of birth or home postcode, as SELF knows the searcher).
UNFLAGGED_STAFF = [
    _nominal("N-ADA", "OKAFOR", "A", date_of_birth="1985-05-05"),  # S2: initial, same birth date
    _nominal("N-RAVI", "Patel", "Ravi", postcode="tn1 1aa", lat="51.1300", lon="0.2600"),  # S3: home postcode
    _nominal("N-RAVI-ELSEWHERE", "Patel", "Ravi", postcode="CT9 1ZZ", lat="51.38", lon="1.38"),  # name only
    _nominal("N-RAVI-OTHER-DOB", "Patel", "Ravi", date_of_birth="1976-03-03"),  # another birth date
]


@pytest.mark.parametrize(("subject", "colleague"), [("N-ADA", "S2"), ("N-RAVI", "S3"), ("N-KSMITH", "S4")])
def test_colleague_by_name_with_date_of_birth_or_home_postcode_without_the_staff_flag(
    db: Session, settings: Settings, world: Path, subject: str, colleague: str
) -> None:
    """Before, COLLEAGUE read only the nominal's `staff:` flag: a colleague on record without it (a victim
    or witness once) raised nothing for a single look-up."""
    load_lookalikes(db)
    load_records(db, "nominals", UNFLAGGED_STAFF, "system:test")
    alert = only(alerts_for(db, settings, world, event("e1", subject)))
    assert alert.rules == (Rule.COLLEAGUE, Rule.UNEXPLAINED)
    assert f"{subject} is a colleague ({colleague})" in alert.explanation


@pytest.mark.parametrize("subject", ["N-RAVI-ELSEWHERE", "N-RAVI-OTHER-DOB"])
def test_a_colleagues_name_alone_is_not_a_colleague(
    db: Session, settings: Settings, world: Path, subject: str
) -> None:
    load_records(db, "nominals", UNFLAGGED_STAFF, "system:test")
    assert alerts_for(db, settings, world, event("e1", subject)) == []
    found = monitoring.explain(db, settings, "e1", "system:test")
    assert found is not None and found.rules == (Rule.UNEXPLAINED,)


def test_ones_own_record_found_by_name_is_self_not_a_colleague(
    db: Session, settings: Settings, world: Path
) -> None:
    """N-RAVI is S3 by name and home postcode: S3 looking it up is SELF only; S1 looking it up, COLLEAGUE."""
    load_records(db, "nominals", UNFLAGGED_STAFF, "system:test")
    alerts = alerts_for(db, settings, world, event("e1", "N-RAVI", staff="S3"), event("e2", "N-RAVI"))
    assert {a.staff_id: a.rules for a in alerts} == {
        "S3": (Rule.SELF, Rule.UNEXPLAINED),
        "S1": (Rule.COLLEAGUE, Rule.UNEXPLAINED),
    }


def test_common_surname_far_away_raises_nothing(db: Session, settings: Settings, world: Path) -> None:
    assert alerts_for(db, settings, world, event("e1", "N-FAR", case_ref="")) == []


def test_assigned_and_team_cases_explain_accesses(db: Session, settings: Settings, world: Path) -> None:
    rows = [event("e1", "N-CASE"), event("e2", "N-TEAM", hour=11), event("e3", None, action="search")]
    assert alerts_for(db, settings, world, *rows) == []
    assert monitoring.explain(db, settings, "e1", "system:test").explanation == "assigned_case"  # type: ignore[union-attr]
    team = monitoring.explain(db, settings, "e2", "system:test")
    assert team is not None and team.explanation == "team_case"
    assert team.words == "explained by case C-2 of S1's team T1"
    nobody = monitoring.explain(db, settings, "e3", "system:test")
    assert nobody is not None and nobody.explanation == "no_person" and nobody.rules == ()


def test_a_neighbour_through_an_assigned_case_is_a_low_scored_alert(
    db: Session, settings: Settings, world: Path
) -> None:
    alert = only(alerts_for(db, settings, world, event("e1", "N-NBCASE")))
    assert alert.rules == (Rule.NEIGHBOUR,)
    assert alert.score < 50
    assert "explained by case C-1" in alert.explanation
    assert "should have been declared" in alert.explanation


def test_explained_relationship_scores_lower_than_unexplained(
    db: Session, settings: Settings, world: Path
) -> None:
    alerts = alerts_for(db, settings, world, event("e1", "N-NBCASE"), event("e2", "N-NB"))
    by_subject = {a.subject_id: a for a in alerts}
    assert by_subject["N-NB"].score > by_subject["N-NBCASE"].score


@pytest.mark.parametrize(
    ("case_ref", "words"),
    [
        ("C-404", "cites case C-404, which does not exist"),
        ("C-2", "cites case C-2, which does not involve N-CASE"),  # S1's team's case, other people
        ("C-3", "cites case C-3, which does not involve N-CASE"),
    ],
)
def test_case_mismatch(db: Session, settings: Settings, world: Path, case_ref: str, words: str) -> None:
    alert = only(alerts_for(db, settings, world, event("e1", "N-CASE", case_ref=case_ref)))
    assert Rule.CASE_MISMATCH in alert.rules
    assert words in alert.explanation


def test_case_of_another_team_is_not_theirs(db: Session, settings: Settings, world: Path) -> None:
    alert = only(alerts_for(db, settings, world, event("e1", "N-RAND", case_ref="C-3", day=-20)))
    assert Rule.CASE_MISMATCH in alert.rules
    assert "neither S1's nor their team's" in alert.explanation


def test_a_lone_unexplained_access_is_not_an_alert(db: Session, settings: Settings, world: Path) -> None:
    assert alerts_for(db, settings, world, event("e1", "N-RAND")) == []
    found = monitoring.explain(db, settings, "e1", "system:test")
    assert found is not None and found.rules == (Rule.UNEXPLAINED,)
    assert [case["case_ref"] for case in found.cases_involving_subject] == ["C-3"]


def test_repeated_interest_on_three_days_within_thirty(db: Session, settings: Settings, world: Path) -> None:
    rows = [event("e1", "N-RAND", day=0), event("e2", "N-RAND", day=4), event("e3", "N-RAND", day=8)]
    alert = only(alerts_for(db, settings, world, *rows))
    assert alert.rules == (Rule.UNEXPLAINED, Rule.REPEATED_INTEREST)
    assert [e.event_id for e in alert.events] == ["e1", "e2", "e3"]
    assert "3 times on 3 separate days over 9 days" in alert.explanation


def test_two_days_or_days_too_far_apart_are_not_repeated_interest(
    db: Session, settings: Settings, world: Path
) -> None:
    rows = [
        event("e1", "N-RAND", day=0),
        event("e2", "N-RAND", day=0, hour=11),
        event("e3", "N-RAND", day=40),
    ]
    assert alerts_for(db, settings, world, *rows) == []


def test_off_duty_unexplained_access_raises_and_on_duty_does_not(
    db: Session, settings: Settings, world: Path
) -> None:
    rows = [event("e1", "N-PUB", hour=3), event("e2", "N-CASE", hour=3), event("e3", "N-RAND", hour=3, day=1)]
    alerts = alerts_for(db, settings, world, *rows)
    rules = {a.subject_id: a.rules for a in alerts}
    assert rules == {
        "N-PUB": (Rule.PUBLIC_FIGURE, Rule.UNEXPLAINED, Rule.OFF_DUTY),
        "N-RAND": (Rule.UNEXPLAINED, Rule.OFF_DUTY),
    }  # e2: off duty but on S1's own case, which is ordinary work
    assert "outside S1's rostered duty" in next(a for a in alerts if a.subject_id == "N-RAND").explanation
    explained = monitoring.explain(db, settings, "e2", "system:test")  # raises nothing, but is off duty
    assert explained is not None and explained.explanation == "assigned_case"
    assert explained.rules == (Rule.OFF_DUTY,)
    ingest(db, settings, world, [event("e4", "N-CASE", day=2)])
    on_duty = monitoring.explain(db, settings, "e4", "system:test")
    assert on_duty is not None and on_duty.rules == ()


def test_grace_period_around_duty(db: Session, settings: Settings, world: Path) -> None:
    """Duty is 07:00–17:00; the default grace is 60 minutes."""
    rows = [event("e1", "N-RAND", hour=17, minute=45), event("e2", "N-PUB", hour=18, minute=30)]
    alerts = alerts_for(db, settings, world, *rows)
    assert {a.subject_id for a in alerts} == {"N-PUB"}


def test_volume_anomaly_against_own_and_team_baseline(db: Session, settings: Settings, world: Path) -> None:
    rows = [
        event(f"b{d}-{i}", None, day=d, action="search", minute=i) for d in range(1, 7) for i in range(10)
    ]
    rows += [
        event(f"t{d}-{i}", None, day=d, action="search", staff="S2", minute=i)
        for d in range(7)
        for i in range(10)
    ]
    burst = [
        event(f"x{i}", None, day=0, action="search", hour=8 + i // 60, minute=i % 60) for i in range(120)
    ]
    alert = only(alerts_for(db, settings, world, *rows, *burst))
    assert alert.rules == (Rule.VOLUME_ANOMALY,) and alert.subject_id is None
    assert len(alert.events) == 120
    assert "S1 ran 120 searches on 05 Oct 2026, against their usual 10 a day and team T1's 10." in (
        alert.explanation
    )
    found = monitoring.explain(db, settings, "x0", "system:test")
    assert found is not None and found.rules == (Rule.VOLUME_ANOMALY,)


def _s1_searches() -> list[dict[str, str]]:
    """S1: 10 searches a day on days 1-4, and 60 (x0 … x59) on day 0."""
    rows = [
        event(f"b{d}-{i}", None, day=d, action="search", minute=i) for d in range(1, 5) for i in range(10)
    ]
    return rows + [
        event(f"x{i}", None, day=0, action="search", hour=8 + i // 30, minute=i % 30) for i in range(60)
    ]


def test_explain_judges_volume_against_the_team_as_the_run_does(
    db: Session, settings: Settings, world: Path
) -> None:
    """60 searches are 6 x S1's usual 10, but the team's median day is 100: the run raises nothing, and
    explain (which took the searcher's own median for the team's) must not call it an anomaly."""
    busy = [  # S2, of S1's team: 100 a day on days 0-4
        event(f"t{d}-{i}", None, day=d, action="search", staff="S2", hour=8 + i // 50, minute=i % 50)
        for d in range(5)
        for i in range(100)
    ]
    ingest(db, settings, world, [*_s1_searches(), *busy])
    alerts, _ = monitoring.find_alerts(db, settings)
    assert alerts == []
    found = monitoring.explain(db, settings, "x0", "system:test")
    assert found is not None and found.rules == ()


def test_explain_over_a_window_meets_the_rules_a_run_over_it_finds(
    db: Session, settings: Settings, world: Path
) -> None:
    ingest(db, settings, world, _s1_searches())
    whole = monitoring.explain(db, settings, "x0", "system:test")
    assert whole is not None and whole.rules == (Rule.VOLUME_ANOMALY,)
    day = (DAY0, DAY0 + timedelta(days=1))  # only day 0: the searcher's median is that day itself
    assert monitoring.find_alerts(db, settings, day)[0] == []
    alone = monitoring.explain(db, settings, "x0", "system:test", day)
    assert alone is not None and alone.rules == ()
    with pytest.raises(monitoring.OutsideWindow, match="b1-0 happened at 2026-10-06T10:00:00"):
        monitoring.explain(db, settings, "b1-0", "system:test", day)


def test_accesses_group_into_one_alert_per_pattern(db: Session, settings: Settings, world: Path) -> None:
    rows = [event("e1", "N-NB", day=0), event("e2", "N-NB", day=3), event("e3", "N-NB", day=9)]
    alert = only(alerts_for(db, settings, world, *rows))
    assert len(alert.events) == 3 and alert.first_at < alert.last_at


def test_accesses_far_apart_make_separate_alerts(db: Session, settings: Settings, world: Path) -> None:
    alerts = alerts_for(db, settings, world, event("e1", "N-NB", day=-40), event("e2", "N-NB", day=0))
    assert len(alerts) == 2 and len({a.alert_id for a in alerts}) == 2


def test_a_referral_explains_the_managers_search(db: Session, settings: Settings, world: Path) -> None:
    from datetime import timedelta

    from custodes.workforce.models import Referral
    from tests.monitoring.world import DAY0

    db.add(
        Referral(
            staff_id="S2", manager_id="S1", system="PNC", subject_id="N-RAND", codes="DECLARED_CONFLICT",
            declaration_ids="", status="open", created_at=DAY0 - timedelta(hours=1),
        )
    )  # fmt: skip
    db.flush()
    assert alerts_for(db, settings, world, event("e1", "N-RAND")) == []
    assert monitoring.explain(db, settings, "e1", "system:test").explanation == "referral"  # type: ignore[union-attr]


def test_thresholds_come_from_configuration(db: Session, settings: Settings, world: Path) -> None:
    admin = Principal(staff_id="S3", display_name="Admin", roles=frozenset())
    identity.set_config(db, "neighbour_distance_m", "100", admin)
    assert alerts_for(db, settings, world, event("e1", "N-NB")) == []


@pytest.mark.parametrize(
    ("days", "window", "fires"),
    [
        ((0, 8, 16), None, True),  # 3 days within 17: inside the default 30
        ((0, 8, 16), "10", False),  # ... but not within 10
        ((0, 20, 40), None, False),  # 41 days: outside the default 30
        ((0, 20, 40), "45", True),  # ... inside 45
    ],
)
def test_the_repeated_interest_window_comes_from_configuration(
    db: Session, settings: Settings, world: Path, days: tuple[int, ...], window: str | None, fires: bool
) -> None:
    """Before, the 30-day window was fixed (Thresholds.repeat_window_days was never read from the
    configuration): a changed window now changes what fires."""
    if window is not None:
        admin = Principal(staff_id="S3", display_name="Admin", roles=frozenset())
        identity.set_config(db, "repeated_interest_window_days", window, admin)
    assert monitoring.thresholds(db).repeat_window_days == int(window or 30)
    rows = [event(f"e{day}", "N-RAND", day=day) for day in days]
    alerts = alerts_for(db, settings, world, *rows)
    assert [a.rules for a in alerts] == ([(Rule.UNEXPLAINED, Rule.REPEATED_INTEREST)] if fires else [])


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        (
            "repeated_interest_window_days",
            "0",
            "Repeated interest window (days): enter a whole number greater than 0",
        ),
        (
            "repeated_interest_window_days",
            "367",
            "Repeated interest window (days): enter a whole number from 1 to 366",
        ),
        (
            "repeated_interest_window_days",
            "2",
            "Repeated interest window (days): enter at least 3, the Repeated interest (days) setting",
        ),
        (
            "repeated_interest_days",
            "31",
            "Repeated interest (days): enter at most 30, the Repeated interest window (days) setting",
        ),
    ],
)
def test_a_repeated_interest_window_that_could_never_fire_is_refused(
    db: Session, key: str, value: str, words: str
) -> None:
    admin = Principal(staff_id="S3", display_name="Admin", roles=frozenset())
    with pytest.raises(identity.IdentityError) as refused:
        identity.set_config(db, key, value, admin)
    assert str(refused.value) == words
    assert monitoring.thresholds(db) == detectors.Thresholds()
    identity.set_config(db, "repeated_interest_window_days", "3", admin)  # as short as the days allow
    identity.set_config(db, "repeated_interest_days", "2", admin)
    identity.set_config(db, "repeated_interest_window_days", "2", admin)
    assert (monitoring.thresholds(db).repeat_days, monitoring.thresholds(db).repeat_window_days) == (2, 2)


def test_every_threshold_setting_is_documented(db: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each configuration value the detectors read is named in docs/monitoring.md's Thresholds and in
    the Configuration screen's description."""
    read: list[str] = []
    real = identity.config_value
    monkeypatch.setattr(identity, "config_value", lambda session, key: read.append(key) or real(session, key))
    limits = monitoring.thresholds(db)
    assert "repeated_interest_window_days" in read and len(read) == len(detectors.Thresholds.__slots__)
    assert limits == detectors.Thresholds()  # the defaults agree
    text = (Path(__file__).parents[2] / "docs" / "monitoring.md").read_text()
    thresholds = text.split("## Thresholds", 1)[1].split("\n## ", 1)[0]
    assert [key for key in read if f"`{key}`" not in thresholds] == []
    assert [key for key in read if key not in identity.CONFIGURATION] == []


def test_run_stores_alerts_and_keeps_triage_on_rerun(db: Session, settings: Settings, world: Path) -> None:
    from custodes.monitoring.models import Alert

    ingest(db, settings, world, [event("e1", "N-SELF")])
    first = monitoring.run(db, settings, "system:test")
    assert first.new_alerts == 1 and first.events == 1
    alert = db.get(Alert, first.alerts[0].alert_id)
    assert alert is not None and alert.status == "new"
    alert.status = "dismissed"
    db.flush()
    second = monitoring.run(db, settings, "system:test")
    assert second.new_alerts == 0
    assert db.get(Alert, first.alerts[0].alert_id).status == "dismissed"  # type: ignore[union-attr]


def test_a_run_beyond_memory_and_spill_says_what_to_do_and_records_nothing(
    db: Session, settings: Settings, world: Path
) -> None:
    from custodes.monitoring.models import MonitorRun

    ingest(db, settings, world, [event("e1", "N-SELF")])
    starved = settings.model_copy(update={"monitoring_memory_limit": "1KB", "monitoring_spill_limit": "1KB"})
    with pytest.raises(monitoring.CapacityError) as refused:
        monitoring.run(db, starved, "system:test")
    message = str(refused.value)
    assert "more than the 1KB of memory (CUSTODES_MONITORING_MEMORY_LIMIT)" in message
    assert "custodes monitor run --from DATE --to DATE" in message
    assert db.query(MonitorRun).count() == 0


# --------------------------------------------------------------------------- alerts across runs


def _stored_alerts(db: Session) -> dict[str, tuple[str, list[str]]]:
    from custodes.monitoring.models import Alert, AlertEvent

    db.expire_all()
    found = {}
    for alert in db.query(Alert).all():
        events = db.query(AlertEvent.event_id).filter(AlertEvent.alert_id == alert.alert_id)
        found[alert.alert_id] = (alert.status, sorted(event_id for (event_id,) in events))
    return found


def test_a_narrower_window_never_takes_accesses_out_of_an_alert(
    db: Session, settings: Settings, world: Path
) -> None:
    from datetime import timedelta

    from tests.monitoring.world import DAY0

    ingest(db, settings, world, [event("e1", "N-NB"), event("e2", "N-NB", day=4), event("e3", "N-NB", day=8)])
    (alert_id,) = [alert.alert_id for alert in monitoring.run(db, settings, "system:test").alerts]
    whole = _stored_alerts(db)
    assert whole == {alert_id: ("new", ["e1", "e2", "e3"])}
    first_week = monitoring.run(db, settings, "system:test", (None, DAY0 + timedelta(days=2)))
    later = monitoring.run(db, settings, "system:test", (DAY0 + timedelta(days=3), None))
    assert first_week.new_alerts == later.new_alerts == 0  # the later accesses continue the same alert
    assert _stored_alerts(db) == whole


def test_the_alerts_a_run_writes_out_are_the_alerts_it_stored(
    db: Session, settings: Settings, world: Path, tmp_path: Path
) -> None:
    """`monitor run --alerts-out` over a later window: its accesses continue the alert stored by the first
    run (whose id is its first access's, and which met REPEATED_INTEREST over the three days), so the line
    must carry that alert's id, rules, score and span, as the screens show it, not the window's draft."""
    ingest(db, settings, world, [event("e1", "N-NB"), event("e2", "N-NB", day=4), event("e3", "N-NB", day=8)])
    (first,) = monitoring.run(db, settings, "system:test").alerts
    assert Rule.REPEATED_INTEREST in first.rules
    later = monitoring.run(db, settings, "system:test", (DAY0 + timedelta(days=3), None))
    out = tmp_path / "alerts.jsonl"
    monitoring.write_alerts(later.alerts, out)
    (line,) = [json.loads(text) for text in out.read_text().splitlines()]
    screen = first.as_json()
    for key in ("alert_id", "rules", "score", "first_at", "last_at", "explanation"):
        assert line[key] == screen[key], key
    assert line["event_ids"] == ["e2", "e3"]  # what this run found in it


def test_accesses_after_a_dismissal_raise_a_new_alert_and_the_dismissal_stands(
    db: Session, settings: Settings, world: Path
) -> None:
    from custodes.monitoring.models import Alert

    ingest(db, settings, world, [event("e1", "N-NB")])
    (first,) = monitoring.run(db, settings, "system:test").alerts
    dismissed = db.get(Alert, first.alert_id)
    assert dismissed is not None
    dismissed.status = "dismissed"
    db.flush()
    ingest(db, settings, world, [event("e2", "N-NB", day=4), event("e3", "N-NB", day=9)])
    again = monitoring.run(db, settings, "system:test")
    assert again.new_alerts == 1
    (second,) = again.alerts
    assert second.alert_id != first.alert_id and [e.event_id for e in second.events] == ["e2", "e3"]
    assert _stored_alerts(db) == {
        first.alert_id: ("dismissed", ["e1"]),
        second.alert_id: ("new", ["e2", "e3"]),
    }
    assert monitoring.run(db, settings, "system:test").new_alerts == 0


def test_a_volume_alert_and_a_search_that_found_nobody_are_two_alerts(
    db: Session, settings: Settings, world: Path
) -> None:
    quiet = [event(f"q{day}", None, day=day, action="search") for day in range(10)]
    busy = [event(f"v{i}", None, day=10, hour=9, minute=i, action="search") for i in range(59)]
    cited = event("x0", None, day=10, hour=8, action="search", case_ref="C-NOPE")
    ingest(db, settings, world, [*quiet, cited, *busy])
    alerts = {alert.rules: alert for alert in monitoring.run(db, settings, "system:test").alerts}
    assert set(alerts) == {(Rule.VOLUME_ANOMALY,), (Rule.CASE_MISMATCH,)}
    mismatch = alerts[(Rule.CASE_MISMATCH,)]
    assert mismatch.alert_id != alerts[(Rule.VOLUME_ANOMALY,)].alert_id
    assert mismatch.score == 50  # not halved: a search that found nobody is not explained by a case
    assert mismatch.explanation == (
        "S1 ran a search that found nobody once on 15 Oct 2026; cites case C-NOPE, which does not exist."
    )


def test_an_access_stored_twice_counts_once(db: Session, settings: Settings, world: Path) -> None:
    ingest(db, settings, world, [event("e1", "N-NB")])
    ingest(db, settings, world, [event("e1", "N-NB", day=1)])  # same id, another day (docs: known limit)
    (alert,) = monitoring.run(db, settings, "system:test").alerts
    assert [e.event_id for e in alert.events] == ["e1"]


def test_an_id_stored_on_two_days_is_one_access_to_every_detector(
    db: Session, settings: Settings, world: Path
) -> None:
    """e1 (day 0) and e2 (day 5) are two accesses; e1 re-sent with its time corrected to day 2 is stored
    again (the duplicate check reads only the days an ingest touches) but is still one access: two days of
    interest, not three, and two accesses in the run's counts."""
    ingest(db, settings, world, [event("e1", "N-RAND"), event("e2", "N-RAND", day=5)])
    ingest(db, settings, world, [event("e1", "N-RAND", day=2)])
    assert len(monitoring.stored_events(settings, "e1")) == 2
    summary = monitoring.run(db, settings, "system:test")
    assert (summary.events, summary.about_people, summary.explained) == (2, 2, 0)
    assert summary.alerts == []


def test_the_copy_of_an_id_stored_twice_that_counts_is_the_first_stored(
    db: Session, settings: Settings, world: Path
) -> None:
    ingest(db, settings, world, [event("e1", "N-NB", day=2)])
    ingest(db, settings, world, [event("e1", "N-NB", day=0)])  # re-sent later with another day
    (alert,) = monitoring.run(db, settings, "system:test").alerts
    first = monitoring.stored_event(settings, "e1")
    assert first is not None
    assert [(e.event_id, e.batch_id) for e in alert.events] == [("e1", first["batch_id"])]
    assert alert.first_at == DAY0 + timedelta(days=2, hours=10)


@pytest.mark.parametrize(
    ("relationship", "rules"),
    [
        ("friend", (Rule.DECLARED_CONFLICT, Rule.UNEXPLAINED)),
        ("partner", (Rule.RELATIVE_OR_HOUSEHOLD, Rule.DECLARED_CONFLICT, Rule.UNEXPLAINED)),
    ],
)
def test_a_declared_subject_id_not_in_the_nominal_register_is_a_declared_conflict(
    db: Session, settings: Settings, world: Path, relationship: str, rules: tuple[Rule, ...]
) -> None:
    """The declaration names the subject's id; the person is in no register of this module (a record of
    another system): the declared id alone matches."""
    declaration = {
        "declaration_id": "D-9", "staff_id": "S1", "kind": "conflict_of_interest", "subject_id": "N-GHOST",
        "surname": "", "forenames": "", "date_of_birth": "", "postcode": "", "relationship": relationship,
        "declared_at": "2026-01-01T00:00:00+00:00",
    }  # fmt: skip
    load_records(db, "declarations", [declaration], "system:test")
    db.flush()
    alert = only(alerts_for(db, settings, world, event("e1", "N-GHOST"), event("e2", "N-OTHER")))
    assert (alert.subject_id, alert.rules) == ("N-GHOST", rules)


def test_a_run_reports_each_phase_for_a_progress_bar(db: Session, settings: Settings, world: Path) -> None:
    """`custodes monitor run` draws a bar from these steps (before: a spinner saying nothing of the phases):
    one per detector query among them, counted from 0 to the total, which never changes."""
    ingest(db, settings, world, [event("e1", "N-NB")])
    steps: list[tuple[str, int, int]] = []
    monitoring.run(db, settings, "system:test", progress=lambda *step: steps.append(step))
    names = [name for name, _select in detectors.steps((0, 1), detectors.Thresholds())]
    assert [what for what, _done, _total in steps] == [
        "Waiting for any other run",
        "Loading the reference data",
        "Loading the accesses",
        *(f"Detector: {name}" for name in names),
        "Collecting the findings",
        "Building the alerts",
        "Storing the alerts",
        "Recording the run",
    ]
    assert [done for _what, done, _total in steps] == list(range(monitoring.RUN_PHASES))
    assert {total for _what, _done, total in steps} == {monitoring.RUN_PHASES}


def test_a_person_declared_by_name_alone_is_a_declared_conflict(
    db: Session, settings: Settings, world: Path
) -> None:
    """Review: a person declared by name alone (ticked "I don't know their date of birth or postcode") was
    matched only at the gate; the detectors' `declared` step wanted a date of birth or postcode, so
    DECLARED_CONFLICT never fired when the declarer opened that person's record. Now any nominal of that
    full name is the declared person, whatever their date of birth or postcode; another forename is not.
    An initial declared by name alone (stored before the form asked for a full name) stands only for that
    initial, not for every name it begins."""
    declaration_id = load_name_only(db)
    alerts = alerts_for(
        db,
        settings,
        world,
        event("e1", "N-ADAM"),
        event("e2", "N-ADAMJ", hour=11),
        event("e3", "N-BRIAN", hour=12),
        event("e4", "N-ROBERT", staff="S2"),
        event("e5", "N-RW", staff="S2", hour=11),
    )
    declared = {(a.staff_id, a.subject_id): a for a in alerts if Rule.DECLARED_CONFLICT in a.rules}
    assert set(declared) == {("S1", "N-ADAM"), ("S1", "N-ADAMJ"), ("S2", "N-RW")}
    assert declared["S1", "N-ADAM"].rules == (Rule.DECLARED_CONFLICT, Rule.UNEXPLAINED)
    assert declaration_id in declared["S1", "N-ADAM"].explanation
    assert "D-INITIAL" in declared["S2", "N-RW"].explanation
    # Adam's namesake with another forename, and Robert for S2's "R", are a lone unexplained access each.
    assert {a.subject_id for a in alerts} == {"N-ADAM", "N-ADAMJ", "N-RW"}


def test_the_detectors_name_only_match_agrees_with_the_gates_matching() -> None:
    """detectors._declared_by_name_only, run as SQL over the stored keys, says what
    workforce.service.declared_matches says of a person declared by name alone (no id, date of birth or
    postcode) against a nominal with a date of birth, over the grids of forenames and of surnames; and a
    declaration with a date of birth or postcode is not matched by it (that is _same_person's)."""
    from custodes.workforce.service import declared_matches

    people = sorted({("Smith", f) for f in FORENAMES} | {(s, "Hans") for s in SURNAMES})
    columns = [name for name, _type in monitoring._KEYS]
    keys = [monitoring._name_keys(surname, forenames) for surname, forenames in people]

    def table(born: date | None, postcode: str | None) -> pa.Table:
        return pa.table(
            {
                "person": [f"{forenames}|{surname}" for surname, forenames in people],
                "subject_id": pa.array([None] * len(people), pa.string()),
                **{column: [row[i] for row in keys] for i, column in enumerate(columns)},
                "date_of_birth": pa.array([born] * len(people), pa.date32()),
                "postcode": pa.array([postcode] * len(people), pa.string()),
            }
        )

    con = duckdb.connect()
    con.register("d", table(None, None))
    con.register("n", table(date(1980, 1, 1), "ME14 1AA"))
    con.register("dated", table(date(1990, 1, 1), None))
    select = "SELECT d.person, n.person, {} FROM {} d CROSS JOIN n"
    found = con.execute(select.format(detectors._declared_by_name_only("d", "n"), "d")).fetchall()
    named = {f"{forenames}|{surname}": (surname, forenames) for surname, forenames in people}
    declared = {p: PersonKey.of(None, *named[p], None, None) for p in named}
    subject = {p: PersonKey.of(None, *named[p], date(1980, 1, 1), "ME14 1AA") for p in named}
    said = {(a, b): bool(x) for a, b, x in found}
    assert len(said) == len(people) ** 2
    wrong = [(a, b, x) for (a, b), x in said.items() if x != declared_matches(declared[a], subject[b])]
    assert wrong == []
    assert said["Jon|Smith", "John|Smith"] and said["Hans|Müller", "Hans|Mueller"]
    assert said["John|Smith", "J|Smith"]  # a search by an initial may be the declared person
    assert not said["J|Smith", "John|Smith"] and not said["K|Smith", "Karl|Smith"]  # a declared initial
    assert said["J|Smith", "J|Smith"] and not said["Joe|Smith", "Jo|Smith"]
    dated = con.execute(select.format(detectors._declared_by_name_only("d", "n"), "dated")).fetchall()
    assert not any(x for _a, _b, x in dated)
