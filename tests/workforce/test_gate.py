"""The pre-access gate: name matching (a big table and Hypothesis), the rules, the API and the CLI."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session
from structlog.testing import capture_logs

from custodes.identity import service as identity
from custodes.identity.permissions import Scope
from custodes.imports import load_records
from custodes.kit import names
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter
from custodes.workforce import api as gate_api
from custodes.workforce import gate
from custodes.workforce import service as workforce
from custodes.workforce.models import Referral, Staff
from custodes.workforce.schemas import DeclarationForm
from custodes.workforce.service import london_today

ACTOR = "system:test"
TODAY = london_today()  # the gate's today: London's date, whatever the server's time zone
RECENT = str(TODAY - timedelta(days=30))

STAFF = {
    # id: surname, forenames, role, line manager, date of birth
    "M1": ("Manager", "Mary", "supervisor", "", "1970-01-01"),
    "S1": ("Smith", "John", "officer", "M1", "1980-01-01"),
    "U1": ("Untrained", "Uma", "officer", "M1", ""),
    "V1": ("Unvetted", "Vic", "officer", "M1", ""),
    "R1": ("Recruit", "Rita", "staff", "M1", ""),  # vetted RV only: enough for PNC, not for PND
}


def make_gate_world(db: Session) -> None:
    """A small force: S1 has declarations; U1 lacks the system-access course; V1 has no vetting."""
    load_records(
        db,
        "staff",
        [
            {
                "staff_id": sid,
                "surname": s,
                "forenames": f,
                "role": r,
                "line_manager_id": m,
                "date_of_birth": d,
            }
            for sid, (s, f, r, m, d) in STAFF.items()
        ],
        ACTOR,
    )
    load_records(
        db,
        "courses",
        [
            {
                "course_code": "DP1",
                "title": "Data protection: system access",
                "mandatory_for": "",
                "validity_months": "12",
                "gates": "system_access",
            },
            {"course_code": "MI", "title": "Managing Information", "gates": "disclosure"},
        ],
        ACTOR,
    )
    load_records(
        db,
        "training",
        [{"staff_id": sid, "course_code": "DP1", "completed_on": RECENT} for sid in STAFF if sid != "U1"],
        ACTOR,
    )
    levels = {"M1": "MV", "S1": "MV", "U1": "MV", "R1": "RV"}
    load_records(
        db,
        "vetting",
        [
            {
                "staff_id": sid,
                "level": level,
                "status": "granted",
                "decided_on": "2020-01-01",
                "expires_on": "",
            }
            for sid, level in levels.items()
        ],
        ACTOR,
    )
    load_records(
        db,
        "nominals",
        [
            {"subject_id": "N5", "surname": "Neighbour", "forenames": "Karl", "date_of_birth": "1975-05-05"},
            {
                "subject_id": "N7",
                "surname": "Obrien Macdonald",
                "forenames": "Muhammad",
                "date_of_birth": "1990-02-03",
            },
            {"subject_id": "N8", "surname": "Smyth", "forenames": "Jon", "flags": "staff:S1"},
            {"subject_id": "N9", "surname": "Stranger", "forenames": "Sam", "date_of_birth": "1999-09-09"},
        ],
        ACTOR,
    )
    load_records(
        db,
        "declarations",
        [
            {
                "declaration_id": "D-1",
                "staff_id": "S1",
                "kind": "conflict_of_interest",
                "surname": "O'Brien-McDonald",
                "forenames": "Mohammed",
                "date_of_birth": "1990-02-03",
                "relationship": "relative",
                "declared_at": "2024-01-01",
            },
            {
                "declaration_id": "D-2",
                "staff_id": "S1",
                "kind": "reportable_association",
                "subject_id": "N5",
                "relationship": "neighbour",
                "declared_at": "2024-01-02",
            },
            {
                "declaration_id": "D-3",
                "staff_id": "S1",
                "kind": "conflict_of_interest",
                "surname": "Jones",
                "forenames": "Catherine",
                "postcode": "ME14 1AA",
                "relationship": "ex_partner",
                "declared_at": "2024-01-03",
            },
            {
                "declaration_id": "G-1",
                "staff_id": "S1",
                "kind": "gift_hospitality",
                "surname": "Stranger",
                "forenames": "Sam",
                "date_of_birth": "1999-09-09",
                "declared_at": "2024-01-04",
            },
        ],
        ACTOR,
    )


# --------------------------------------------------------------------------- name matching

DECLARED = names.PersonKey.of(None, "Smith", "John", date(1980, 1, 1), "ME14 1AA")

# (declared surname, forenames, subject surname, forenames, same date of birth?, same postcode?, match?)
NAME_TABLE = [
    ("Smith", "John", "smith", "john", True, False, True),
    ("Smith", "John", "  SMITH ", " John  ", True, False, True),
    ("Smith", "John", "Smith", "Jon", True, False, True),
    ("Smith", "John", "Smith", "J", True, False, True),
    ("Smith", "John", "Smith", "J.", False, True, True),
    ("Smith", "J", "Smith", "John", True, False, True),
    ("Smith", "John", "Smith", "John Paul", True, False, True),
    ("Smith", "John Paul", "Smith", "J P", True, False, True),
    ("Smith", "John", "Smith", "John", False, False, False),  # common name, nothing else agrees
    ("Smith", "John", "Smith", "J", False, False, False),  # initials need the dob or postcode
    ("Smith", "John", "Smith", "James", True, False, False),
    ("Smith", "John", "Smyth", "John", True, True, False),  # a different surname
    ("Smith", "John", "Smith", "K", True, True, False),
    ("Neighbour", "Karl", "Neighbour", "K", True, False, True),  # the initial as written (Karl reads as Carl)
    ("Jones", "Katherine", "Jones", "K.", False, True, True),
    ("Smith-Jones", "Anne", "Smith Jones", "Ann", True, False, True),
    ("Smith-Jones", "Anne", "smithjones", "anne", False, True, True),
    ("O'Brien", "Sean", "OBrien", "Shaun", True, False, True),
    ("O'Brien", "Sean", "O Brien", "Shawn", True, False, True),
    ("O’Brien", "Sean", "O'BRIEN", "sean", True, False, True),
    ("McDonald", "Steven", "MacDonald", "Stephen", True, False, True),
    ("Mc Donald", "Steven", "Macdonald", "Steve", True, False, False),  # nicknames are not variants
    # Mac, Mc and M' are one surname prefix, but only before the rest of a name of three letters or more
    # (review: every "mac" was read as "mc", so Mack was "Mc K" and Macey "Mcey"; M'Donald was "Mdonald")
    ("M'Donald", "Ian", "MacDonald", "Ian", True, False, True),
    ("M’Donald", "Ian", "Mc Donald", "Ian", False, True, True),
    ("Mc-Donald", "Ian", "MACDONALD", "Ian", True, False, True),
    ("MacKay", "Ian", "McKay", "Ian", True, False, True),
    ("Smith-MacRae", "Ian", "Smith McRae", "Ian", True, False, True),
    ("Mack", "Ian", "Mc K", "Ian", True, True, False),
    ("Mack", "Ian", "McK", "Ian", True, True, False),
    ("Macey", "Ian", "Mcey", "Ian", True, True, False),
    ("Macy", "Ian", "Mcy", "Ian", True, True, False),
    ("Mace", "Ian", "Mce", "Ian", True, True, False),
    ("Camacho", "Ian", "Camcho", "Ian", True, True, False),  # only a prefix
    ("M'Baye", "Awa", "Mbaye", "Awa", True, False, True),  # M' before other names: as typed, too
    ("MacDonald-Müller", "Ian", "McDonald-Mueller", "Ian", True, False, True),
    ("Khan", "Mohammed", "Khan", "Muhammad", True, False, True),
    ("Khan", "Mohamed", "KHAN", "Mohammad", False, True, True),
    ("Khan", "Mohammed", "Khan", "Mahmood", True, False, False),
    ("Jones", "Catherine", "Jones", "Katherine", True, False, True),
    ("Jones", "Kathryn", "Jones", "Catharine", True, False, True),
    ("Jones", "Catherine", "Jones", "Caroline", True, True, False),
    ("Brown", "Philip", "Brown", "Phillip", True, False, True),
    ("Brown", "Anne Marie", "Brown", "Annemarie", True, False, True),
    ("Brown", "Anne-Marie", "Brown", "Anne Marie", False, True, True),
    ("Zoë", "Chloé", "Zoe", "Chloe", True, False, True),  # accents
    # letters with no accent decomposition are transliterated, not dropped (review: ł, ø, đ, ı were lost)
    ("Wałęsa", "Michał", "Walesa", "Michal", True, False, True),
    ("WAŁĘSA", "MICHAŁ", "walesa", "michal", False, True, True),
    ("Kowalski", "Łukasz", "Kowalski", "Lukasz", True, False, True),
    ("Kowalski", "Łukasz", "Kowalski", "L", True, False, True),  # the initial of the transliteration
    ("Yılmaz", "Ayşe", "Yilmaz", "Ayse", True, False, True),
    ("Sørensen", "Lars", "Sorensen", "Lars", True, False, True),
    ("SØRENSEN", "Bjørn", "Sorensen", "Bjorn", True, False, True),
    ("Đorđević", "Ana", "Djordjevic", "Ana", True, False, True),  # đ is dj in English
    ("ĐORĐEVIĆ", "Ana", "Djordjevic", "Ana", False, True, True),
    ("Kaçar", "İsmail", "Kacar", "Ismail", True, False, True),
    ("Ærø", "Æsa", "Aero", "Aesa", True, False, True),
    ("Bœuf", "Œdipe", "Boeuf", "Oedipe", True, False, True),
    ("Þórsson", "Þóra", "Thorsson", "Thora", True, False, True),
    ("Guðmundsdóttir", "Ðóra", "Gudmundsdottir", "Dora", True, False, True),
    ("Straße", "Jürgen", "Strasse", "Jurgen", True, False, True),
    ("STRAẞE", "Jürgen", "Strasse", "Jurgen", True, False, True),
    ("Ħabib", "Ħanna", "Habib", "Hanna", True, False, True),
    ("Ŧuŋa", "Ŋora", "Tunga", "Ngora", True, False, True),
    ("Paŀlàs", "Ŀuis", "Pallas", "Luis", True, False, True),
    ("Wałęsa", "Michał", "Wasa", "Micha", True, True, False),  # no longer the name with letters dropped
    ("Wałęsa", "Michał", "Walesa", "Michal", False, False, False),  # still not on the name alone
    ("Murphy", "Niamh", "Murphy", "Niamh", False, True, True),
    ("Murphy", "Niamh", "Murphy", "", True, True, False),  # no forenames given
    # ä ö ü are written with the marks dropped or as ae oe ue, đ as dj or d: a name with one of them is
    # matched under both spellings, each part on its own (review: "Mueller" dodged a declared "Müller")
    ("Müller", "Hans", "Mueller", "Hans", True, False, True),
    ("Müller", "Hans", "Muller", "Hans", False, True, True),
    ("MÜLLER", "Jürgen", "mueller", "JUERGEN", True, False, True),
    ("Müller", "Jürgen", "Muller", "Juergen", True, False, True),
    ("Mu\u0308ller", "Hans", "Mueller", "Hans", True, False, True),  # ü as u and a combining diaeresis
    ("Gärtner", "Käthe", "Gaertner", "Kaethe", True, False, True),
    ("Gärtner", "Käthe", "Gartner", "K", False, True, True),
    ("Schröder", "Jörg", "Schroeder", "Joerg", True, False, True),
    ("Schröder", "Jörg", "Schroder", "Jorg", True, False, True),
    ("Strauß", "Ute", "Strauss", "Ute", True, False, True),
    ("Öztürk", "Gül", "Ozturk", "Gul", True, False, True),
    ("Đorđević", "Ana", "Dordevic", "Ana", True, False, True),
    ("Đorđević", "Đorđe", "Djordjevic", "Dorde", False, True, True),
    ("Đinh", "Đức", "Dinh", "Duc", True, False, True),  # Vietnamese đ is d in English
    ("\u00d0or\u0111evi\u0107", "Ana", "Djordjevic", "Ana", True, False, True),  # Icelandic Ð typed for Đ
    ("Müller", "Hans", "Mueller", "Hans", False, False, False),  # still never on the name alone
    ("Müller", "Hans", "Miller", "Hans", True, True, False),
    # names typed without those letters are not folded: these stay different people
    ("Mueller", "Hans", "Muller", "Hans", True, True, False),
    ("Smith", "Joe", "Smith", "Jo", True, True, False),
    ("Smith", "Michael", "Smith", "Michal", True, True, False),
    ("Smith", "Zoë", "Smith", "Zoee", True, True, False),  # ë is not an umlaut
    ("Hoey", "Sam", "Hoy", "Sam", True, True, False),
    ("Adjei", "Kofi", "Adei", "Kofi", True, True, False),
    # ...nor beside a letter written two ways: it is decided letter by letter (review)
    ("Smith", "Joe Jürgen", "Smith", "Jo", True, True, False),
    ("Smith", "Joe Jürgen", "Smith", "Jo Juergen", True, True, False),
    ("Hoey-Müller", "Sam", "Hoy-Muller", "Sam", True, True, False),
    ("Hoy-Mueller", "Sam", "Hoey-Müller", "Sam", True, True, False),
    ("Hoey-Müller", "Sam", "Hoey-Mueller", "Sam", True, False, True),
    # æ is written as ä is, a or ae, and œ as ö, o or oe (review: "Sather" dodged a declared "Sæther");
    # never e, and plain spellings stay as typed
    ("Sæther", "Peder", "Sather", "Peder", True, False, True),
    ("Sæbø", "Kåre", "Saebo", "Kare", True, False, True),
    ("Sæbø", "Kåre", "Sabo", "Kaare", False, True, True),
    ("SÆBØ", "Kåre", "saeboe", "K", True, False, True),
    ("Lærke", "Ægir", "Larke", "Agir", True, False, True),
    ("Bœuf", "Zoé", "Bouf", "Zoe", True, False, True),
    ("Sæbø", "Kåre", "Sebo", "Kare", True, True, False),
    ("Saebo", "Kare", "Sabo", "Kare", True, True, False),
    # each letter, so each part of a name, is read on its own, whichever side has the letter (review:
    # "Müller-Djordjevic" missed "Mueller-Đorđević", each pattern missing the other's written-out letter)
    ("Müller-Djordjevic", "Ana", "Mueller-Đorđević", "Ana", True, False, True),
    ("Müller-Djordjevic", "Ana", "Muller Đorđević", "Ana", False, True, True),
    ("Smith", "Jürgen Djordje", "Smith", "Juergen Đorđe", True, False, True),
    ("Sæbø-Hoey", "Kåre", "Saebo-Høy", "Kaare", True, False, True),
    ("Mueller-Djordjevic", "Ana", "Muller-Dordevic", "Ana", True, True, False),
    ("Müller-Djordjevic", "Ana", "Mueller-Dordevic", "Ana", True, True, False),
    ("Maas", "Ana", "Maes", "Ana", True, True, False),
    ("Smith", "Joe Jürgen", "Smith", "Joe Juergen", True, False, True),
]


@pytest.mark.parametrize(("ds", "df", "ss", "sf", "birth", "post", "expected"), NAME_TABLE)
def test_name_table(ds: str, df: str, ss: str, sf: str, birth: bool, post: bool, expected: bool) -> None:
    declared = names.PersonKey.of(None, ds, df, date(1980, 1, 1), "ME14 1AA")
    subject = names.PersonKey.of(
        None, ss, sf, date(1980, 1, 1) if birth else date(1981, 2, 2), "me141aa" if post else "TN1 1AA"
    )
    assert names.same_person(declared, subject) is expected
    assert names.same_person(subject, declared) is expected  # symmetric


def test_match_by_id_needs_nothing_else() -> None:
    declared = names.PersonKey.of("N1", None, None, None, None)
    assert names.same_person(declared, names.PersonKey.of("N1", "Other", "Name", None, None))
    assert not names.same_person(declared, names.PersonKey.of("N2", None, None, None, None))


def test_declaration_without_birth_or_postcode_never_matches_by_name() -> None:
    declared = names.PersonKey.of(None, "Smith", "John", None, None)
    assert not names.same_person(declared, names.PersonKey.of(None, "Smith", "John", None, None))


_NAME = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=12)


def _vary(name: str, data: st.DataObject) -> str:
    """Case, spacing, a hyphen or apostrophe inside: variation that must not change a match."""
    varied = "".join(ch.upper() if data.draw(st.booleans()) else ch for ch in name)
    if len(varied) > 3 and data.draw(st.booleans()):
        cut = data.draw(st.integers(1, len(varied) - 1))
        varied = varied[:cut] + data.draw(st.sampled_from(["-", "'", " ", "’"])) + varied[cut:]
    return " " * data.draw(st.integers(0, 2)) + varied + " " * data.draw(st.integers(0, 2))


@settings(max_examples=300, deadline=None)
@given(surname=_NAME, forename=_NAME, data=st.data())
def test_variation_keeps_a_match(surname: str, forename: str, data: st.DataObject) -> None:
    born = date(1985, 6, 7)
    declared = names.PersonKey.of(None, surname, forename, born, None)
    initial = data.draw(st.booleans())
    given_forename = forename[0] if initial else _vary(forename, data)
    subject = names.PersonKey.of(None, _vary(surname, data), given_forename, born, None)
    assert names.same_person(declared, subject)
    # ... and without an agreeing date of birth or postcode, the name alone never matches
    other = names.PersonKey.of(None, _vary(surname, data), given_forename, date(1985, 6, 8), "ME1 1AA")
    assert not names.same_person(declared, other)


@settings(max_examples=200, deadline=None)
@given(first=_NAME, second=_NAME, forename=_NAME)
def test_different_surnames_do_not_match(first: str, second: str, forename: str) -> None:
    if names.surname_key(first) == names.surname_key(second):
        return
    born = date(1990, 1, 1)
    declared = names.PersonKey.of(None, first, forename, born, "ME14 1AA")
    assert not names.same_person(declared, names.PersonKey.of(None, second, forename, born, "ME14 1AA"))


_TWO_WAY = {"ä": ("a", "ae"), "ö": ("o", "oe"), "ü": ("u", "ue"), "đ": ("d", "dj")}


def _with_two_way_letters(data: st.DataObject, base: str) -> tuple[str, str, str]:
    """`base` with one to three of ä ö ü đ put in, either case: (as written, marks dropped, written out)."""
    letters = list(base)
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(letters)))
        letters.insert(at, data.draw(st.sampled_from(sorted(_TWO_WAY))))
    written = "".join(ch.upper() if data.draw(st.booleans()) else ch for ch in letters)
    dropped = "".join(_TWO_WAY[ch][0] if ch in _TWO_WAY else ch for ch in letters)
    spelt = "".join(_TWO_WAY[ch][1] if ch in _TWO_WAY else ch for ch in letters)
    return written, dropped, spelt


@settings(max_examples=300, deadline=None)
@given(surname=_NAME, forename=_NAME, data=st.data())
def test_a_name_with_umlauts_or_dj_matches_both_english_spellings(
    surname: str, forename: str, data: st.DataObject
) -> None:
    """A name with ä ö ü or đ matches its spelling with the marks dropped and its spelling written out (ae oe
    ue, dj), each part either way and with the usual variation, either side declared; never on the name
    alone."""
    born = date(1985, 6, 7)
    surnames = _with_two_way_letters(data, surname)
    forenames = _with_two_way_letters(data, forename)
    declared = names.PersonKey.of(None, surnames[0], forenames[0], born, None)
    typed = (
        _vary(data.draw(st.sampled_from(surnames[1:])), data),
        _vary(data.draw(st.sampled_from(forenames[1:])), data),
    )
    subject = names.PersonKey.of(None, *typed, born, None)
    assert names.same_person(declared, subject) and names.same_person(subject, declared)
    elsewhere = names.PersonKey.of(None, *typed, date(1985, 6, 8), "ME1 1AA")
    assert not names.same_person(declared, elsewhere)


@settings(max_examples=300, deadline=None)
@given(name=_NAME, data=st.data())
def test_names_typed_without_those_letters_are_not_folded(name: str, data: st.DataObject) -> None:
    """The other spelling is kept for names written with ä ö ü đ only: an "e" after a, o or u, or a "j" after
    d, in a name typed in plain letters still makes another name (Joe is not Jo, Mueller not Muller), so the
    fold does not refer searches for everyone whose name merely looks like one."""
    spots = [i for i, ch in enumerate(name) if ch in "aoud"]
    if not spots:
        return
    at = data.draw(st.sampled_from(spots))
    longer = name[: at + 1] + ("j" if name[at] == "d" else "e") + name[at + 1 :]
    assert names.other_match_keys(longer, longer) == ("", "", "")
    born = date(1990, 1, 1)
    if names.surname_key(longer) != names.surname_key(name):  # a spelling variant may still join them
        one = names.PersonKey.of(None, name, "Sam", born, "ME14 1AA")
        assert not names.same_person(one, names.PersonKey.of(None, longer, "Sam", born, "ME14 1AA"))


def test_the_other_spelling_keys() -> None:
    assert names.match_keys("Müller", "Jürgen") == ("muller", "jurgen", "jurgen")  # as before
    assert names.other_match_keys("Müller", "Jürgen") == ("mueller", "juergen", "juergen")
    assert names.match_keys("Đorđević", "Ana") == ("dordevic", "ana", "ana")  # was "djordjevic"
    assert names.other_match_keys("Đorđević", "Ana") == ("djordjevic", "", "")
    assert names.other_match_keys("Smith", "Zoë") == ("", "", "")
    assert names.surname_keys("Müller") == ("muller", "mueller")
    assert names.surname_keys("Mueller") == ("mueller",)


# --------------------------------------------------------------------------- the rules


def _decide(db: Session, **body: Any) -> gate.GateDecision:
    result = gate.check(db, gate.GateIndex(), {"system": "PNC", "purpose": "investigation", **body}, ACTOR)
    assert isinstance(result, gate.GateDecision), result
    return result


def _codes(result: gate.GateDecision) -> list[str]:
    return [r.code for r in result.reasons]


@pytest.mark.parametrize("ending", ["withdrawn", "refused", "lapsed"])
def test_a_later_decision_ends_an_earlier_grant(db: Session, ending: str) -> None:
    make_gate_world(db)
    assert "NOT_VETTED" not in _codes(_decide(db, staff_id="S1", subject_id="N9"))
    decided = str(TODAY - timedelta(days=10))
    row = {"staff_id": "S1", "level": "MV", "status": ending, "decided_on": decided, "expires_on": ""}
    load_records(db, "vetting", [row], ACTOR)
    assert "NOT_VETTED" in _codes(_decide(db, staff_id="S1", subject_id="N9"))


@pytest.mark.parametrize(
    ("rows", "held"),
    [
        ([("MV", "granted", date(2020, 1, 1), None)], {"MV"}),
        ([("MV", "granted", date(2020, 1, 1), None), ("MV", "withdrawn", date(2024, 1, 1), None)], set()),
        ([("MV", "withdrawn", date(2020, 1, 1), None), ("MV", "granted", date(2024, 1, 1), None)], {"MV"}),
        ([("MV", "granted", date(2020, 1, 1), None), ("MV", "in_progress", date(2024, 1, 1), None)], {"MV"}),
        ([("MV", "granted", date(2020, 1, 1), date(2023, 1, 1))], set()),
        ([("MV", "granted", date(2020, 1, 1), None), ("RV", "refused", date(2024, 1, 1), None)], {"MV"}),
        ([("MV", "granted", date(2030, 1, 1), None)], set()),  # not decided yet on the day asked
    ],
)
def test_vetting_levels_in_force(rows: list[Any], held: set[str]) -> None:
    from custodes.workforce.service import levels_in_force

    assert levels_in_force(rows, date(2025, 6, 1)) == held


def test_allow(db: Session) -> None:
    make_gate_world(db)
    result = _decide(db, staff_id="S1", subject_id="N9")
    assert result.decision == "allow" and result.reasons == () and result.referral_id is None


def test_gift_declarations_do_not_refer(db: Session) -> None:
    make_gate_world(db)  # G-1 names N9's person, but a gift is not a conflict or association
    assert (
        _decide(
            db,
            staff_id="S1",
            subject={"surname": "Stranger", "forenames": "Sam", "date_of_birth": "1999-09-09"},
        ).decision
        == "allow"
    )


@pytest.mark.parametrize(
    ("body", "decision", "codes"),
    [
        ({"staff_id": "U1", "subject_id": "N9"}, "deny", ["NOT_TRAINED"]),
        ({"staff_id": "V1", "subject_id": "N9"}, "deny", ["NOT_VETTED"]),
        ({"staff_id": "R1", "subject_id": "N9"}, "allow", []),
        ({"staff_id": "R1", "subject_id": "N9", "system": "PND"}, "deny", ["NOT_VETTED"]),
        ({"staff_id": "S1", "subject_id": "N9", "purpose": None}, "deny", ["NO_PURPOSE"]),
        ({"staff_id": "S1", "subject_id": "N9", "purpose": None, "case_ref": "CR-1"}, "allow", []),
        ({"staff_id": "S1", "subject_id": "N9", "purpose": None, "system": "Genesis"}, "allow", []),
        ({"staff_id": "S1", "subject_id": "N5"}, "refer", ["DECLARED_CONFLICT"]),  # by id
        ({"staff_id": "S1", "subject_id": "N7"}, "refer", ["DECLARED_CONFLICT"]),  # id → name in nominals
        (
            {
                "staff_id": "S1",
                "subject": {"surname": "obrien mcdonald", "forenames": "M", "date_of_birth": "1990-02-03"},
            },
            "refer",
            ["DECLARED_CONFLICT"],
        ),
        (
            {
                "staff_id": "S1",
                "subject": {"surname": "JONES", "forenames": "Katherine", "postcode": "me141aa"},
            },
            "refer",
            ["DECLARED_CONFLICT"],
        ),
        (
            {
                "staff_id": "S1",
                "subject": {"surname": "Jones", "forenames": "Katherine", "postcode": "ME15 1AA"},
            },
            "allow",
            [],
        ),
        ({"staff_id": "S1", "subject_id": "N8"}, "refer", ["SELF"]),  # staff:S1 flag
        (
            {
                "staff_id": "S1",
                "subject": {"surname": "Smith", "forenames": "Jon", "date_of_birth": "1980-01-01"},
            },
            "refer",
            ["SELF"],
        ),
        ({"staff_id": "U1", "subject_id": "N9", "purpose": None}, "deny", ["NOT_TRAINED", "NO_PURPOSE"]),
        ({"staff_id": "U1", "subject_id": "N5"}, "deny", ["NOT_TRAINED"]),  # U1 declared nothing
    ],
)
def test_rules(db: Session, body: dict[str, Any], decision: str, codes: list[str]) -> None:
    make_gate_world(db)
    result = _decide(db, **body)
    assert (result.decision, _codes(result)) == (decision, codes)
    assert all(r.message for r in result.reasons)
    assert (result.referral_id is not None) == (decision == "refer")


def _declare(db: Session, declaration_id: str = "D-R", **fields: str) -> None:
    row = {
        "declaration_id": declaration_id,
        "staff_id": "S1",
        "kind": "conflict_of_interest",
        "relationship": "neighbour",
        "declared_at": "2024-01-01",
        **fields,
    }
    load_records(db, "declarations", [row], ACTOR)


@pytest.mark.parametrize(
    ("declared", "searched"),
    [
        (("Wałęsa", "Michał"), ("Walesa", "Michal")),
        (("Kowalski", "Łukasz"), ("Kowalski", "Lukasz")),
        (("Yılmaz", "Ayşe"), ("Yilmaz", "Ayse")),
        (("Sørensen", "Lars"), ("Sorensen", "Lars")),
        (("Đorđević", "Ana"), ("Djordjevic", "Ana")),
        (("Walesa", "Michal"), ("WAŁĘSA", "MICHAŁ")),  # and the other way round
        (("Müller", "Jürgen"), ("Mueller", "Juergen")),  # ü as ue, as English keyboards write it
        (("Müller", "Jürgen"), ("Muller", "Jurgen")),
        (("Đorđević", "Ana"), ("Dordevic", "Ana")),  # đ as d
        (("Mueller", "Hans"), ("Müller", "Hans")),  # and the other way round
        (("Dordevic", "Ana"), ("ĐORĐEVIĆ", "ANA")),
    ],
)
def test_letters_outside_english_do_not_dodge_a_declared_conflict(
    db: Session, declared: tuple[str, str], searched: tuple[str, str]
) -> None:
    """Review: letters with no accent decomposition (ł, ø, ı, đ) were deleted, so "Wałęsa, Michał" was
    not "Walesa, Michal" and a declared neighbour's search was allowed. They are transliterated."""
    make_gate_world(db)
    _declare(db, surname=declared[0], forenames=declared[1], date_of_birth="1975-05-05")
    subject = {"surname": searched[0], "forenames": searched[1], "date_of_birth": "1975-05-05"}
    result = _decide(db, staff_id="S1", subject=subject)
    assert (result.decision, _codes(result), result.declaration_ids) == (
        "refer",
        ["DECLARED_CONFLICT"],
        ("D-R",),
    )


@pytest.mark.parametrize(
    ("subject", "field"),
    [
        ({"forenames": "*"}, "subject.forenames"),
        ({"forenames": "-"}, "subject.forenames"),
        ({"forenames": "?"}, "subject.forenames"),
        ({"forenames": "."}, "subject.forenames"),
        ({"forenames": "Nig*"}, "subject.forenames"),
        ({"forenames": "Nig%"}, "subject.forenames"),
        ({"forenames": "N?gel"}, "subject.forenames"),
        ({"forenames": "Nig_l"}, "subject.forenames"),
        ({"surname": "Neigh*"}, "subject.surname"),
        ({"surname": "- -"}, "subject.surname"),
        ({"surname": "%"}, "subject.surname"),
    ],
)
def test_a_name_without_letters_or_with_a_wildcard_is_refused(
    db: Session, subject: dict[str, str], field: str
) -> None:
    """Review: forenames "*", "-", "?", ".", "Nig*" (or surname "Neigh*") reduced to nothing or to part of
    the name, matched nobody and were allowed past a declared conflict. Now refused, naming the field."""
    make_gate_world(db)
    _declare(db, surname="Neighbour", forenames="Nigel", date_of_birth="1975-05-05")
    body = {"surname": "Neighbour", "forenames": "Nigel", "date_of_birth": "1975-05-05", **subject}
    refused = gate.check(
        db, gate.GateIndex(), {"staff_id": "S1", "system": "Genesis", "subject": body}, ACTOR
    )
    assert isinstance(refused, gate.RequestRefused), refused
    assert [(f, p) for f, p in refused.problems] == [
        (field, "must contain letters; wildcards are not accepted — give the name as searched in full")
    ]
    db.commit()
    (entry,) = ledger.search(db, EntryFilter(object_type="access_check", op="access_denied"))
    assert entry.detail["refused"][0].startswith(field)


@pytest.mark.parametrize("forenames", ["N", "N.", "n", " N . "])
def test_an_initial_is_still_a_name(db: Session, forenames: str) -> None:
    make_gate_world(db)
    _declare(db, surname="Neighbour", forenames="Nigel", date_of_birth="1975-05-05")
    subject = {"surname": "Neighbour", "forenames": forenames, "date_of_birth": "1975-05-05"}
    assert _decide(db, staff_id="S1", subject=subject).decision == "refer"


def test_a_conflict_declared_by_name_alone_is_refused_and_with_a_postcode_refers(db: Session) -> None:
    """Review: a conflict declared on screen by name only was accepted and never matched at the gate. (Now
    it is refused unless the declarer ticks that they know only the name: see the next test.)"""
    make_gate_world(db)
    form = DeclarationForm(
        kind="conflict_of_interest",
        surname="Neighbour",
        forenames="Nigel",
        relationship="neighbour",
        description="lives next door; we fell out",
    )
    with pytest.raises(workforce.DeclarationProblems) as caught:
        workforce.make_declaration(db, "S1", form, actor="staff:S1")
    assert [f for f, _p in caught.value.problems] == ["date_of_birth"]
    workforce.make_declaration(db, "S1", replace(form, postcode="ME14 1AA"), actor="staff:S1")
    subject = {"surname": "Neighbour", "forenames": "Nigel", "postcode": "ME14 1AA"}
    assert _decide(db, staff_id="S1", subject=subject).decision == "refer"


def test_a_person_declared_by_name_alone_refers_every_search_of_that_full_name(db: Session) -> None:
    """UX review 16: an officer who knows only a name could not declare. Ticked "I don't know their date of
    birth or postcode", the declaration is accepted and the gate refers any search of that full name (the
    gate's name normalisation: case, spacing, spelling variants), whatever date of birth or postcode comes
    with it; another forename or surname is not referred."""
    make_gate_world(db)
    form = DeclarationForm(
        kind="reportable_association",
        surname="Thompson",
        forenames="Adam",
        relationship="friend",
        description="An old friend; I hear he deals drugs.",
        name_only="yes",
    )
    declaration_id = workforce.make_declaration(db, "S1", form, actor="staff:S1")
    for subject in (
        {"surname": "THOMPSON", "forenames": "adam", "date_of_birth": "1985-03-04"},
        {"surname": "Thompson", "forenames": "Adam James", "postcode": "TN1 1AA"},
    ):
        result = _decide(db, staff_id="S1", subject=subject)
        assert result.decision == "refer" and result.declaration_ids == (declaration_id,), subject
    for subject in (
        {"surname": "Thompson", "forenames": "Brian", "date_of_birth": "1985-03-04"},
        {"surname": "Thomas", "forenames": "Adam", "date_of_birth": "1985-03-04"},
    ):
        assert _decide(db, staff_id="S1", subject=subject).decision == "allow", subject
    # The same name searched by someone else is not theirs to be referred for.
    subject = {"surname": "Thompson", "forenames": "Adam", "postcode": "TN1 1AA"}
    assert _decide(db, staff_id="M1", subject=subject).decision == "allow"


# A record named by id is the register's person whatever name comes with it: the id (and the register's
# details for it) decide on their own; the name given is matched as well, never instead.
@pytest.mark.parametrize(
    ("body", "codes", "declarations"),
    [
        # D-2 names N5 by id: another name given with the id does not hide it
        (
            {"subject_id": "N5", "subject": {"surname": "Other", "forenames": "Ann", "postcode": "TN1 1AA"}},
            ["DECLARED_CONFLICT"],
            ["D-2"],
        ),
        # D-1 names N7's person by name and date of birth: so does the register, whatever name is given
        (
            {
                "subject_id": "N7",
                "subject": {"surname": "Else", "forenames": "Someone", "date_of_birth": "2001-01-01"},
            },
            ["DECLARED_CONFLICT"],
            ["D-1"],
        ),
        # D-2 was declared by id only: the register's name and date of birth for N5 match a search by name
        (
            {"subject": {"surname": "Neighbour", "forenames": "K", "date_of_birth": "1975-05-05"}},
            ["DECLARED_CONFLICT"],
            ["D-2"],
        ),
        # the name given still counts next to an id (D-3 by name and postcode, asked with N9's id)
        (
            {
                "subject_id": "N9",
                "subject": {"surname": "Jones", "forenames": "Catherine", "postcode": "ME14 1AA"},
            },
            ["DECLARED_CONFLICT"],
            ["D-3"],
        ),
        # N8 is flagged as S1: another name given with the id is still S1
        (
            {"subject_id": "N8", "subject": {"surname": "Doe", "forenames": "Jane", "postcode": "TN1 1AA"}},
            ["SELF"],
            [],
        ),
        # an unrelated id with an unrelated name: nothing
        (
            {"subject_id": "N9", "subject": {"surname": "Doe", "forenames": "Jane", "postcode": "TN1 1AA"}},
            [],
            [],
        ),
    ],
)
def test_an_id_decides_on_its_own_whatever_name_comes_with_it(
    db: Session, body: dict[str, Any], codes: list[str], declarations: list[str]
) -> None:
    make_gate_world(db)
    result = _decide(db, staff_id="S1", **body)
    assert (_codes(result), list(result.declaration_ids)) == (codes, declarations)
    assert result.decision == ("refer" if codes else "allow")


def test_the_index_follows_the_register_behind_a_declaration_by_id(db: Session) -> None:
    """D-2 names N5 by id; a search by name matches through the register's details, as they are now."""
    make_gate_world(db)
    index = gate.GateIndex()
    body = {
        "staff_id": "S1",
        "system": "PNC",
        "purpose": "x",
        "subject": {"surname": "Neighbour", "forenames": "Karl", "postcode": "ME1 2AB"},
    }
    assert gate.check(db, index, body, ACTOR).decision == "allow"  # type: ignore[union-attr]
    db.commit()
    row = {"subject_id": "N5", "surname": "Neighbour", "forenames": "Karl", "date_of_birth": "1975-05-05"}
    load_records(db, "nominals", [{**row, "postcode": "ME1 2AB"}], ACTOR)
    db.commit()
    assert gate.check(db, index, body, ACTOR).decision == "refer"  # type: ignore[union-attr]


def test_a_manager_who_declared_the_subject_by_id_is_passed_over_for_a_search_by_name(db: Session) -> None:
    make_gate_world(db)
    rows = [
        {"declaration_id": "D-M", "staff_id": "M1", "kind": "reportable_association", "subject_id": "N9",
         "relationship": "friend", "declared_at": "2024-01-05"},
        {"declaration_id": "D-S", "staff_id": "S1", "kind": "conflict_of_interest", "surname": "Stranger",
         "forenames": "Sam", "date_of_birth": "1999-09-09", "relationship": "relative",
         "declared_at": "2024-01-05"},
    ]  # fmt: skip
    load_records(db, "declarations", rows, ACTOR)
    result = _decide(
        db, staff_id="S1", subject={"surname": "Stranger", "forenames": "S", "date_of_birth": "1999-09-09"}
    )
    assert result.decision == "refer" and result.referral_id is not None
    assert db.get(Referral, result.referral_id).manager_id is None  # type: ignore[union-attr]


def _home(db: Session, postcode: str = "ME14 2BB") -> None:
    """S1 lives at `postcode` (the staff register's home postcode)."""
    load_records(
        db,
        "staff",
        [{"staff_id": "S1", "surname": "Smith", "forenames": "John", "role": "officer",
          "line_manager_id": "M1", "date_of_birth": "1980-01-01", "home_postcode": postcode}],
        ACTOR,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("body", "self_"),
    [
        ({"subject": {"surname": "Smith", "forenames": "John", "postcode": "me142bb"}}, True),
        ({"subject": {"surname": "SMITH", "forenames": "J.", "postcode": "ME14 2BB"}}, True),  # initial
        ({"subject": {"surname": "Smith", "forenames": "Jon", "postcode": "ME14 2BB"}}, True),  # variant
        # the name and home postcode, with a date of birth that does not agree: still them by address
        (
            {
                "subject": {
                    "surname": "Smith",
                    "forenames": "John",
                    "postcode": "ME14 2BB",
                    "date_of_birth": "1981-02-02",
                }
            },
            True,
        ),
        # someone else at the same address, or a John Smith elsewhere: not them
        ({"subject": {"surname": "Smith", "forenames": "Jane", "postcode": "ME14 2BB"}}, False),
        ({"subject": {"surname": "Smith", "forenames": "John", "postcode": "ME14 2BC"}}, False),
        ({"subject": {"surname": "Smithson", "forenames": "John", "postcode": "ME14 2BB"}}, False),
        # a record in the register that is them by name and home postcode, asked by id (with or without
        # another name)
        ({"subject_id": "N-HOME"}, True),
        (
            {"subject_id": "N-HOME", "subject": {"surname": "Doe", "forenames": "Jo", "postcode": "TN1 1AA"}},
            True,
        ),
        ({"subject_id": "N-AWAY"}, False),
    ],
)
def test_self_by_name_and_home_postcode(db: Session, body: dict[str, Any], self_: bool) -> None:
    make_gate_world(db)
    _home(db)
    load_records(
        db,
        "nominals",
        [
            {"subject_id": "N-HOME", "surname": "Smith", "forenames": "John", "postcode": "ME14 2BB"},
            {"subject_id": "N-AWAY", "surname": "Smith", "forenames": "John", "postcode": "ME1 1AA"},
        ],
        ACTOR,
    )
    result = _decide(db, staff_id="S1", **body)
    assert _codes(result) == (["SELF"] if self_ else [])


def test_self_follows_a_change_of_home_postcode(db: Session) -> None:
    make_gate_world(db)
    index = gate.GateIndex()
    body = {
        "staff_id": "S1",
        "system": "PNC",
        "purpose": "x",
        "subject": {"surname": "Smith", "forenames": "John", "postcode": "ME14 2BB"},
    }
    assert gate.check(db, index, body, ACTOR).decision == "allow"  # type: ignore[union-attr]
    db.commit()
    _home(db)
    db.commit()
    assert gate.check(db, index, body, ACTOR).decision == "refer"  # type: ignore[union-attr]


def test_deny_beats_refer_and_opens_no_referral(db: Session) -> None:
    make_gate_world(db)
    result = _decide(db, staff_id="S1", subject_id="N5", purpose=None)
    assert result.decision == "deny" and _codes(result) == ["DECLARED_CONFLICT", "NO_PURPOSE"]
    assert result.referral_id is None


def test_expired_training_denies(db: Session) -> None:
    make_gate_world(db)
    old = str(TODAY - timedelta(days=400))
    load_records(db, "training", [{"staff_id": "R1", "course_code": "DP1", "completed_on": old}], ACTOR)
    index = gate.GateIndex()
    on_day = TODAY + timedelta(days=340)  # RECENT + 12 months is before this
    result = gate.check(db, index, {"staff_id": "R1", "subject_id": "N9", "system": "Genesis"}, ACTOR, on_day)
    assert isinstance(result, gate.GateDecision) and _codes(result) == ["NOT_TRAINED"]


def test_every_decision_is_a_ledger_entry(db: Session) -> None:
    make_gate_world(db)
    allow = _decide(db, staff_id="S1", subject_id="N9")
    refer = _decide(db, staff_id="S1", subject_id="N5")
    deny = _decide(db, staff_id="V1", subject_id="N9")
    db.commit()
    entries = ledger.search(db, EntryFilter(object_type="access_check"))
    by_decision = {e.detail["decision"]: e for e in entries}
    assert {d.decision for d in (allow, refer, deny)} == set(by_decision)
    assert by_decision["allow"].op == "consultation" and sorted(by_decision["allow"].subjects) == ["N9", "S1"]
    assert by_decision["allow"].justification == "investigation"
    assert by_decision["deny"].op == "access_denied" and by_decision["deny"].detail["codes"] == ["NOT_VETTED"]
    assert by_decision["refer"].detail["referral_id"] == refer.referral_id
    assert by_decision["refer"].detail["declarations"] == ["D-2"]
    referral = ledger.search(db, EntryFilter(object_type="referral"))
    assert [e.object_id for e in referral] == [str(refer.referral_id)]
    row = db.get(Referral, refer.referral_id)
    assert row is not None and row.manager_id == "M1" and row.status == "open"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"staff_id": "NOBODY", "subject_id": "N9"}, "staff_id"),
        ({"subject_id": "N9"}, "staff_id"),
        ({"staff_id": "S1"}, "subject_id"),
        ({"staff_id": "S1", "subject": {"surname": "Smith"}}, "subject"),
        ({"staff_id": "S1", "subject": {"surname": "Smith", "forenames": "J"}}, "subject"),
        (
            {"staff_id": "S1", "subject": {"surname": "S", "forenames": "J", "date_of_birth": "1-2-3"}},
            "subject.date_of_birth",
        ),
        (
            {"staff_id": "S1", "subject": {"surname": "S", "forenames": "J", "date_of_birth": "1980-W01-1"}},
            "subject.date_of_birth",
        ),  # an ISO week date (review): strictly YYYY-MM-DD
        (
            {"staff_id": "S1", "subject": {"surname": "S", "forenames": "J", "date_of_birth": "19800101"}},
            "subject.date_of_birth",
        ),
        (
            {"staff_id": "S1", "subject": {"surname": "S", "forenames": "J", "date_of_birth": "1980-1-01"}},
            "subject.date_of_birth",
        ),
        (
            {"staff_id": "S1", "subject": {"surname": "S", "forenames": "J", "postcode": "nowhere"}},
            "subject.postcode",
        ),
        ({"staff_id": "S1", "subject": "Smith"}, "subject"),
        ({"staff_id": 5, "subject_id": "N9"}, "staff_id"),
        ({"staff_id": "S1", "subject_id": "N9", "system": "Facebook"}, "system"),
        ({"staff_id": "S1", "subject_id": "N9", "colour": "red"}, "colour"),
        ({"staff_id": "S1", "subject_id": "bad id!"}, "subject_id"),
    ],
)
def test_refusals_name_the_problem_and_are_recorded(db: Session, body: dict[str, Any], field: str) -> None:
    make_gate_world(db)
    result = gate.check(db, gate.GateIndex(), body, ACTOR)
    assert isinstance(result, gate.RequestRefused)
    assert field in [f for f, _ in result.problems]
    db.commit()
    refused = ledger.search(db, EntryFilter(object_type="access_check", op="access_denied"))
    assert len(refused) == 1 and refused[0].detail["refused"]


def test_the_index_follows_changes_made_after_it_was_built(db: Session) -> None:
    make_gate_world(db)
    index = gate.GateIndex()
    body = {"staff_id": "S1", "subject_id": "N9", "system": "PNC", "purpose": "x"}
    assert gate.check(db, index, body, ACTOR).decision == "allow"  # type: ignore[union-attr]
    db.commit()
    load_records(
        db,
        "declarations",
        [
            {
                "declaration_id": "D-9",
                "staff_id": "S1",
                "kind": "reportable_association",
                "subject_id": "N9",
                "relationship": "friend",
                "declared_at": "2024-05-01",
            }
        ],
        ACTOR,
    )
    db.commit()  # the ledger entry is appended at commit
    assert gate.check(db, index, body, ACTOR).decision == "refer"  # type: ignore[union-attr]
    load_records(
        db,
        "vetting",
        [{"staff_id": "S1", "level": "MV", "status": "lapsed", "decided_on": "2020-01-01", "expires_on": ""}],
        ACTOR,
    )
    db.commit()
    assert gate.check(db, index, body, ACTOR).decision == "deny"  # type: ignore[union-attr]
    load_records(
        db,
        "courses",
        [{"course_code": "DP1", "title": "Data protection", "validity_months": "12", "gates": "disclosure"}],
        ACTOR,
    )
    db.commit()
    result = gate.check(db, index, body, ACTOR)
    assert isinstance(result, gate.GateDecision) and _codes(result) == ["NOT_VETTED", "DECLARED_CONFLICT"]


def test_preload_gives_the_same_decisions(db: Session) -> None:
    make_gate_world(db)
    index = gate.GateIndex()
    assert index.preload(db) == len(STAFF)
    for staff_id in STAFF:
        for subject in ("N5", "N7", "N8", "N9"):
            body = {"staff_id": staff_id, "subject_id": subject, "system": "PNC", "purpose": "x"}
            warm, cold = gate.check(db, index, body, ACTOR), gate.check(db, gate.GateIndex(), body, ACTOR)
            assert isinstance(warm, gate.GateDecision) and isinstance(cold, gate.GateDecision)
            assert (warm.decision, warm.reasons) == (cold.decision, cold.reasons)


# --------------------------------------------------------------------------- the API


def _token(db: Session, scopes: list[Scope]) -> dict[str, str]:
    token = identity.create_api_token(db, "gate client", scopes, ACTOR)
    db.commit()
    return {"Authorization": f"Bearer {token}"}


def test_api_decides(client: TestClient, db: Session) -> None:
    make_gate_world(db)
    headers = _token(db, [Scope.ACCESS_CHECK])
    body = {"staff_id": "S1", "subject_id": "N5", "system": "PNC", "purpose": "investigation"}
    response = client.post("/api/v1/access-check", json=body, headers=headers)
    assert response.status_code == 200, response.text
    found = response.json()
    assert found["decision"] == "refer" and found["reasons"][0]["code"] == "DECLARED_CONFLICT"
    assert isinstance(found["referral_id"], int)
    allow = client.post("/api/v1/access-check", json={**body, "subject_id": "N9"}, headers=headers).json()
    assert allow == {"decision": "allow", "reasons": []}
    db.expire_all()
    assert db.scalar(select(Referral.id).where(Referral.id == found["referral_id"])) is not None
    entries = ledger.search(db, EntryFilter(object_type="access_check"))
    assert sorted(e.detail["decision"] for e in entries) == ["allow", "refer"]
    assert entries[0].actor.startswith("system:api-token-")


@pytest.mark.parametrize(
    "content",
    [
        b"not json",
        b"[1, 2]",
        b'{"staff_id": "NOBODY", "subject_id": "N9"}',
        b'{"staff_id": "S1", "subject": {"surname": "Smith", "forenames": "J", '
        b'"date_of_birth": "31/12/1990"}}',
        b'{"staff_id": "S1", "subject": {"surname": "Smith", "forenames": "J*", "postcode": "ME14 1AA"}}',
        b"",
    ],
)
def test_api_refuses_bad_input_with_reasons_never_500(
    client: TestClient, db: Session, content: bytes
) -> None:
    make_gate_world(db)
    headers = {**_token(db, [Scope.ACCESS_CHECK]), "Content-Type": "application/json"}
    response = client.post("/api/v1/access-check", content=content, headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["problem"]
    db.expire_all()
    assert ledger.search(db, EntryFilter(object_type="access_check", op="access_denied"))


def test_api_refuses_missing_revoked_and_wrong_tokens_and_logs_it(client: TestClient, db: Session) -> None:
    make_gate_world(db)
    body = {"staff_id": "S1", "subject_id": "N9", "system": "Genesis"}
    start = ledger.size(db)
    with capture_logs() as logged:
        assert client.post("/api/v1/access-check", json=body).status_code == 401
    # No token: no actor and nobody's data, so the application log, not the ledger (docs/security.md).
    assert ledger.size(db) == start
    assert [e["reason"] for e in logged if e["event"] == "api request refused"] == ["no bearer token"]
    wrong = _token(db, [Scope.INGEST])
    assert client.post("/api/v1/access-check", json=body, headers=wrong).status_code == 403
    headers = _token(db, [Scope.ACCESS_CHECK])
    assert client.post("/api/v1/access-check", json=body, headers=headers).status_code == 200  # now cached
    token_id = max(t.id for t in identity.list_api_tokens(db))
    identity.revoke_api_token(db, token_id, ACTOR)
    db.commit()
    revoked = client.post("/api/v1/access-check", json=body, headers=headers)
    assert revoked.status_code == 401 and revoked.headers["www-authenticate"] == "Bearer"
    with capture_logs() as logged:
        assert client.post("/api/v1/access-check", json=body, headers=headers).status_code == 401
    db.expire_all()
    denials = ledger.search(db, EntryFilter(op="access_denied"))
    details = [d.detail for d in denials]
    assert not any("refused" in d and not isinstance(d["refused"], list) for d in details), details
    assert any(d.get("needs") == "ingest" or d.get("needs") == "access-check" for d in details)
    # The first call after the revocation is refused and recorded under the token's holder, whether the
    # cached token was re-checked by the token check or inside the decision's transaction; the gate then
    # forgets the token, so the next call is a token it cannot name, logged like an unknown one.
    revoked_by = [d.actor for d in denials if d.detail.get("refused") == ["token: revoked"]]
    assert revoked_by == [f"system:api-token-{token_id}"], details
    assert [e["reason"] for e in logged if e["event"] == "api request refused"] == [
        "unknown, revoked, expired, unapproved or malformed token"
    ]


def test_a_cached_token_that_has_expired_is_refused_as_expired_under_its_holder(
    client: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_gate_world(db)
    body = {"staff_id": "S1", "subject_id": "N9", "system": "Genesis"}
    headers = _token(db, [Scope.ACCESS_CHECK])
    assert client.post("/api/v1/access-check", json=body, headers=headers).status_code == 200  # now cached
    token = max(identity.list_api_tokens(db), key=lambda t: t.id)
    assert token.expires_at is not None
    later = token.expires_at + timedelta(days=1)
    monkeypatch.setattr(identity, "utcnow", lambda: later)
    monkeypatch.setattr(gate_api, "utcnow", lambda: later)
    assert client.post("/api/v1/access-check", json=body, headers=headers).status_code == 401
    db.expire_all()
    refusals = [d for d in ledger.search(db, EntryFilter(op="access_denied")) if "refused" in d.detail]
    assert [(d.actor, d.detail["refused"]) for d in refusals] == [
        (f"system:api-token-{token.id}", ["token: expired"])
    ]


def test_api_refuses_an_oversized_body_and_records_it(client: TestClient, db: Session) -> None:
    make_gate_world(db)
    headers = {**_token(db, [Scope.ACCESS_CHECK]), "Content-Type": "application/json"}
    content = b'{"staff_id": "S1", "purpose": "' + b"x" * gate_api.MAX_BODY + b'"}'
    response = client.post("/api/v1/access-check", content=content, headers=headers)
    assert response.status_code == 413
    assert response.json()["detail"] == [{"field": "body", "problem": "larger than 65,536 bytes"}]
    db.expire_all()
    refused = ledger.search(db, EntryFilter(object_type="access_check", op="access_denied"))
    assert [e.detail for e in refused] == [{"refused": ["body: larger than 65,536 bytes"]}]


def _exchange(client: TestClient, db: Session) -> list[tuple[int, Any, str | None]]:
    """Status, answer (without referral ids) and security header of one of each kind of request."""
    body = {"staff_id": "S1", "subject_id": "N5", "system": "PNC", "purpose": "investigation"}
    good, wrong = _token(db, [Scope.ACCESS_CHECK]), _token(db, [Scope.INGEST])
    found = []
    for json_body, headers in (
        (body, good),
        ({**body, "subject_id": "N9"}, good),
        ({**body, "staff_id": "NOBODY"}, good),
        (body, {}),
        (body, wrong),
    ):
        response = client.post("/api/v1/access-check", json=json_body, headers=headers)
        answer = response.json()
        if isinstance(answer, dict):
            answer.pop("referral_id", None)
        found.append((response.status_code, answer, response.headers.get("x-content-type-options")))
    return found


def test_the_fast_front_and_the_documented_route_answer_alike(
    app: FastAPI, client: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`AccessCheckFront` serves the gate in the app; the FastAPI route (the one in the OpenAPI schema)
    must give the same answers, headers and ledger entries if it is reached."""
    make_gate_world(db)
    db.commit()
    served_by_front = []
    front_answer = gate_api._front_answer

    async def counting(*args: Any) -> gate_api.Answer:
        served_by_front.append(args)
        return await front_answer(*args)

    monkeypatch.setattr(gate_api, "_front_answer", counting)
    start = ledger.size(db)
    through_front = _exchange(client, db)
    assert len(served_by_front) == 5
    middle = ledger.size(db)
    app.user_middleware = [m for m in app.user_middleware if m.cls is not gate_api.AccessCheckFront]
    app.middleware_stack = None  # rebuilt without the front on the next request
    through_route = _exchange(client, db)
    assert len(served_by_front) == 5
    assert through_route == through_front
    assert [status for status, _, _ in through_front] == [200, 200, 422, 401, 403]
    assert {header for _, _, header in through_front} == {"nosniff"}
    db.expire_all()
    recorded = [
        (e.index >= middle, e.op, e.object_type, e.detail.get("refused"), e.detail.get("needs"))
        for e in ledger.search(db, EntryFilter(), limit=1000)
        if e.index >= start and e.object_type != "api_token"
    ]
    front = sorted(str(r[1:]) for r in recorded if not r[0])
    assert front == sorted(str(r[1:]) for r in recorded if r[0])
    assert sum("access_denied" in r for r in front) == 2  # unknown staff, wrong scope (no token: logged)


@pytest.mark.parametrize(("last_day", "denied"), [(TODAY - timedelta(days=1), True), (TODAY, False)])
def test_a_leaver_is_denied_from_the_day_after_their_last(db: Session, last_day: date, denied: bool) -> None:
    make_gate_world(db)
    assert _decide(db, staff_id="S1", subject_id="N9").decision == "allow"  # the gate's index is warm
    row = {"staff_id": "S1", "surname": "Smith", "forenames": "John", "role": "officer"}
    load_records(
        db,
        "staff",
        [{**row, "line_manager_id": "M1", "date_of_birth": "1980-01-01", "leave_date": str(last_day)}],
        ACTOR,
    )
    result = _decide(db, staff_id="S1", subject_id="N9")
    assert (_codes(result) == ["LEFT_FORCE"]) is denied
    assert result.decision == ("deny" if denied else "allow")


@pytest.fixture
def server_not_in_london(monkeypatch: pytest.MonkeyPatch) -> Iterator[date]:
    """The process's local time zone set to one whose date is not London's right now (one of the two is
    always on another day: UTC+14 and UTC-12); yields the server's date."""
    london = london_today()
    try:
        for zone in ("Pacific/Kiritimati", "Etc/GMT+12"):
            monkeypatch.setenv("TZ", zone)
            time.tzset()
            if date.today() != london:
                break
        assert date.today() != london
        yield date.today()
    finally:
        monkeypatch.undo()
        time.tzset()


def test_the_gates_today_is_londons_not_the_servers(db: Session, server_not_in_london: date) -> None:
    """Review: the gate took the server's local date for today. A leaver is judged by London's date: still
    in service on their last day there, denied from the day after, wherever the server's clock is set."""
    london = london_today()
    make_gate_world(db)
    s1 = db.get(Staff, "S1")
    assert s1 is not None
    s1.leave_date = london
    db.flush()
    assert _decide(db, staff_id="S1", subject_id="N9").decision == "allow"
    s1.leave_date = london - timedelta(days=1)
    db.flush()
    result = _decide(db, staff_id="S1", subject_id="N9")
    assert (result.decision, _codes(result)) == ("deny", ["LEFT_FORCE"])


def test_a_wrong_data_key_answers_503_with_what_to_do(client: TestClient, db: Session) -> None:
    """Home locations written under another key: the gate cannot decide, and says why, instead of a 500."""
    from sqlalchemy import text

    from custodes.kit.crypto import FieldCipher, new_key_text, parse_key

    make_gate_world(db)
    other = FieldCipher(parse_key(new_key_text(), "another key"))
    stored = other.encrypt(b"ME14 1XX".ljust(16, b"\0"), "staff.home_postcode")
    db.execute(text("UPDATE staff SET home_postcode = :value WHERE staff_id = 'S1'"), {"value": stored})
    headers = _token(db, [Scope.ACCESS_CHECK])
    body = {"staff_id": "S1", "subject_id": "N9", "system": "PNC", "purpose": "investigation"}
    response = client.post("/api/v1/access-check", json=body, headers=headers)
    assert response.status_code == 503
    assert "data encryption key is missing or is not the one" in response.json()["detail"]
    assert client.post("/api/v1/access-check", json=body, headers=headers).status_code == 503  # again
