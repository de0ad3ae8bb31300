"""`custodes import organisations | agreements | schemes | scheme-members` (imports.md)."""

from __future__ import annotations

import hashlib
import json
import re

from sqlalchemy import func, select
from typer.testing import Result

from custodes.agreements import service as agreements
from custodes.agreements.models import Agreement, Organisation, Scheme, SchemeMember
from custodes.agreements.schemas import AGREEMENT_COLUMNS, MEMBER_COLUMNS, SCHEME_COLUMNS
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter
from custodes.registers import digest_key, value_digest
from custodes.settings import Settings
from tests.agreements.conftest import Installation

PROBLEM = re.compile(r"^(?P<file>.+):(?P<line>\d+): (?P<column>[a-z_-]+): (?P<problem>.+)$")
ORG_HEADER = ("org_id", "name", "kind", "competent_authority", "secure_channel")
ORGS = [
    ("KCC", "Kent County Council", "local_authority", "false", "cst@kent.gov.uk"),
    ("PROB-SE", "Probation Service South East", "probation", "true", ""),
    ("MPS", "Metropolitan Police Service", "police", "true", "secure portal"),
]
AGREEMENTS = [
    (
        "KMISA",
        "Kent and Medway ISA",
        "ISA",
        "KCC;PROB-SE",
        "prevention_of_crime;safeguarding",
        "name;photo",
        "CDA1998_s115",
        "2024-01-01",
        "2027-01-01",
        "",
    ),
    (
        "MOU-1",
        "Probation MOU",
        "MOU",
        "PROB-SE",
        "offender_management",
        "name",
        "DPA2018_Part3",
        "2025-04-01",
        "2026-04-01",
        "",
    ),
]
SCHEMES = [
    ("SCH-01", "Maidstone ShopWatch", "N", "true", "Pat Manager", "2027-03-31"),
    ("SCH-02", "Dover PubWatch", "E", "false", "", ""),
]
MEMBERS = [
    ("M-0001", "SCH-01", "Corner Shop", "2024-01-10", "2024-01-10", "active"),
    ("M-0002", "SCH-01", "Jo Bloggs", "2024-02-01", "", "active"),
    ("M-0003", "SCH-02", "The Anchor", "2023-05-05", "2023-05-05", "left"),
]


def problems(result: Result) -> set[tuple[int, str]]:
    found = set()
    for line in result.output.splitlines():
        match = PROBLEM.match(line)
        if match and not line.startswith("Error"):
            found.add((int(match["line"]), match["column"]))
    return found


def entries(install: Installation, op: str, object_type: str) -> list[ledger.StoredEntry]:
    with install.session() as session:
        return ledger.search(session, EntryFilter(op=op, object_type=object_type), limit=1000)


def load_all(install: Installation) -> None:
    for kind, header, rows in (
        ("organisations", ORG_HEADER, ORGS),
        ("agreements", AGREEMENT_COLUMNS, AGREEMENTS),
        ("schemes", SCHEME_COLUMNS, SCHEMES),
        ("scheme-members", MEMBER_COLUMNS, MEMBERS),
    ):
        result = install.imported(kind, install.csv(f"{kind}.csv", header, rows))
        assert result.exit_code == 0, result.output


def test_good_files_are_imported(installation: Installation) -> None:
    load_all(installation)
    with installation.session() as session:
        assert [o.org_id for o in agreements.list_organisations(session)] == ["KCC", "MPS", "PROB-SE"]
        kmisa = agreements.get_agreement(session, "KMISA")
        assert kmisa is not None and kmisa.parties == ("KCC", "PROB-SE")
        assert kmisa.purposes == ("prevention_of_crime", "safeguarding")
        assert kmisa.data_categories == ("name", "photo") and kmisa.lawful_bases == ("CDA1998_s115",)
        assert kmisa.review_date is not None and kmisa.review_date.isoformat() == "2027-01-01"
        mou = agreements.get_agreement(session, "MOU-1")
        assert mou is not None and str(mou.review_date) == "2026-04-01" and mou.end_date is None
        scheme = agreements.get_scheme(session, "SCH-02")
        assert scheme is not None and not scheme.recognised and scheme.manager_name is None
        assert [m.member_id for m in agreements.list_members(session, "SCH-01")] == ["M-0001", "M-0002"]
        probation = agreements.get_organisation(session, "PROB-SE")
        assert probation is not None and probation.competent_authority and probation.secure_channel is None
    collections = entries(installation, "collection", "scheme_member")
    assert {e.object_id: e.subjects for e in collections} == {
        "M-0001": ["M-0001"],
        "M-0002": ["M-0002"],
        "M-0003": ["M-0003"],
    }
    assert "Bloggs" not in json.dumps([e.content for e in collections])  # no names in the ledger
    assert len(entries(installation, "collection", "agreement")) == 2


def test_jsonl_with_lists(installation: Installation) -> None:
    load_all(installation)
    path = installation.folder / "more.jsonl"
    record: dict[str, object] = dict(zip(AGREEMENT_COLUMNS, AGREEMENTS[1], strict=True))
    record.update(agreement_id="DSA-9", kind="DSA", parties=["KCC", "MPS"], purposes=["investigation"])
    path.write_text(json.dumps(record) + "\n")
    result = installation.imported("agreements", path)
    assert result.exit_code == 0, result.output
    with installation.session() as session:
        found = agreements.get_agreement(session, "DSA-9")
        assert found is not None and found.parties == ("KCC", "MPS") and found.purposes == ("investigation",)


def test_bad_rows_are_all_named_and_nothing_is_stored(installation: Installation) -> None:
    load_all(installation)
    bad = [
        ("NEW-1", *AGREEMENTS[0][1:]),  # 2: fine
        (
            "NEW-2",
            "T",
            "XYZ",
            "KCC",
            "prevention_of_crime",
            "name",
            "CDA1998_s115",
            "2024-01-01",
            "2027-01-01",
            "",
        ),  # 3
        (
            "NEW-3",
            "T",
            "ISA",
            "GHOST",
            "prevention_of_crime",
            "name",
            "CDA1998_s115",
            "2024-01-01",
            "2027-01-01",
            "",
        ),  # 4
        ("NEW-4", "T", "ISA", "KCC", "gossip", "name", "CDA1998_s115", "2024-01-01", "2027-01-01", ""),  # 5
        (
            "NEW-5",
            "T",
            "ISA",
            "KCC",
            "prevention_of_crime",
            "shoe_size",
            "CDA1998_s115",
            "2024-01-01",
            "2027-01-01",
            "",
        ),
        (
            "NEW-6",
            "T",
            "ISA",
            "KCC",
            "prevention_of_crime",
            "name",
            "CDA1998_s115",
            "2024-02-30",
            "2027-01-01",
            "",
        ),  # 7
        (
            "NEW-7",
            "T",
            "ISA",
            "KCC",
            "prevention_of_crime",
            "name",
            "CDA1998_s115",
            "2024-01-01",
            "2027-01-01",
            "2023-1-1",
        ),
        (
            "NEW-8",
            "T",
            "ISA",
            "KCC",
            "prevention_of_crime",
            "name",
            "CDA1998_s115",
            "2024-01-01",
            "2023-01-01",
            "",
        ),
        (
            "NEW-1",
            "T",
            "ISA",
            "KCC",
            "prevention_of_crime",
            "name",
            "CDA1998_s115",
            "2024-01-01",
            "2027-01-01",
            "",
        ),  # 10
        (
            "NEW-9",
            "",
            "ISA",
            "KCC",
            "prevention_of_crime",
            "name",
            "Children Act 2004 s.10 " * 10,  # a basis in words is taken, but not one of 230 characters
            "2024-01-01",
            "2027-01-01",
            "",
        ),  # 11
    ]
    path = installation.csv("bad.csv", AGREEMENT_COLUMNS, bad)
    result = installation.imported("agreements", path)
    assert result.exit_code == 1, result.output
    assert problems(result) == {
        (3, "kind"),
        (4, "parties"),  # GHOST: the rows that parsed are cross-checked too, whatever the others' problems
        (5, "purposes"),
        (6, "data_categories"),
        (7, "start_date"),
        (8, "end_date"),
        (9, "review_date"),
        (10, "agreement_id"),
        (11, "title"),
        (11, "lawful_bases"),
    }, result.output
    assert "nothing was imported" in result.output
    with installation.session() as session:
        assert session.scalar(select(func.count()).select_from(Agreement)) == 2
    # Alone, the unknown party is the only problem.
    only_ghost = installation.csv("ghost.csv", AGREEMENT_COLUMNS, [bad[0], bad[2]])
    result = installation.imported("agreements", only_ghost)
    assert result.exit_code == 1
    assert problems(result) == {(3, "parties")}
    assert "GHOST is not in the partner register" in result.output
    with installation.session() as session:
        assert agreements.get_agreement(session, "NEW-1") is None


def test_members_reference_schemes_and_organisations(installation: Installation) -> None:
    load_all(installation)
    rows = [
        ("M-0100", "SCH-99", "Nowhere", "2024-01-01", "", "active"),
        ("KCC", "SCH-01", "Clash", "2024-01-01", "", "active"),
        ("M-0101", "SCH-01", "Odd", "2024-01-01", "", "expelled"),
    ]
    result = installation.imported("scheme-members", installation.csv("m.csv", MEMBER_COLUMNS, rows))
    assert result.exit_code == 1
    # One run names every bad row: the references of rows that parsed as well as the row that did not.
    assert problems(result) == {(2, "scheme_id"), (3, "member_id"), (4, "status")}, result.output
    result = installation.imported("scheme-members", installation.csv("m.csv", MEMBER_COLUMNS, rows[:2]))
    assert problems(result) == {(2, "scheme_id"), (3, "member_id")}
    assert "KCC is already an organisation's id" in result.output
    header = (*MEMBER_COLUMNS, "org_id")
    result = installation.imported(
        "scheme-members",
        installation.csv(
            "o.csv", header, [("M-0102", "SCH-01", "Council shop", "2024-01-01", "", "active", "NOPE")]
        ),
    )
    assert problems(result) == {(2, "org_id")}
    result = installation.imported(
        "organisations", installation.csv("c.csv", ORG_HEADER, [("M-0001", "X", "other", "false", "")])
    )
    assert problems(result) == {(2, "org_id")}
    with installation.session() as session:
        assert session.scalar(select(func.count()).select_from(SchemeMember)) == 3
        assert session.scalar(select(func.count()).select_from(Organisation)) == 3


def test_an_agreement_needs_a_review_date(installation: Installation) -> None:
    """Without one it would never fall due for review; the row and field are named."""
    load_all(installation)
    rows = [("ISA-9", "T", "ISA", "KCC", "prevention_of_crime", "name", "CDA1998_s115", "2024-01-01", "", "")]
    result = installation.imported("agreements", installation.csv("r.csv", AGREEMENT_COLUMNS, rows))
    assert result.exit_code == 1
    assert problems(result) == {(2, "review_date")}
    assert "review_date: is required: give the date the agreement is next to be reviewed" in result.output
    with installation.session() as session:
        assert agreements.get_agreement(session, "ISA-9") is None


def test_members_registered_or_signing_in_the_future_are_refused(installation: Installation) -> None:
    """K10 6.2.1, 8.2.1: the row and the field are named, and nothing is imported."""
    load_all(installation)
    rows = [
        ("M-0200", "SCH-01", "New Shop", "2999-01-01", "", "active"),
        ("M-0201", "SCH-01", "Other Shop", "2024-01-01", "2999-06-01", "active"),
        ("M-0202", "SCH-01", "Fine Shop", "2024-01-01", "2024-01-01", "active"),
    ]
    result = installation.imported("scheme-members", installation.csv("f.csv", MEMBER_COLUMNS, rows))
    assert result.exit_code == 1
    assert problems(result) == {(2, "registered_on"), (3, "undertaking_signed_on")}, result.output
    assert "is in the future" in result.output
    with installation.session() as session:
        assert session.scalar(select(func.count()).select_from(SchemeMember)) == 3


def test_schemes_and_organisations_validate_their_cells(installation: Installation) -> None:
    rows = [
        ("S-1", "ShopWatch", "north", "yes", "", "2027-01-01"),  # area, recognised, manager missing
        ("S 2", "PubWatch", "N", "true", "Pat", "soon"),  # id, date
    ]
    result = installation.imported("schemes", installation.csv("s.csv", SCHEME_COLUMNS, rows))
    assert problems(result) == {
        (2, "area_code"),
        (2, "recognised"),
        (2, "manager_name"),
        (3, "scheme_id"),
        (3, "manager_vetted_until"),
    }, result.output
    orgs = [("X1", "", "pub", "maybe", "")]
    result = installation.imported("organisations", installation.csv("o.csv", ORG_HEADER, orgs))
    assert problems(result) == {(2, "name"), (2, "kind"), (2, "competent_authority")}
    with installation.session() as session:
        assert session.scalar(select(func.count()).select_from(Scheme)) == 0


def sha256(value: object) -> str:
    return hashlib.sha256(str(value).encode()).hexdigest()


def test_reimport_records_alterations_with_digests(installation: Installation) -> None:
    load_all(installation)
    again = installation.imported("agreements", installation.csv("same.csv", AGREEMENT_COLUMNS, AGREEMENTS))
    assert "agreements: 0 new, 0 updated, 2 unchanged" in again.output
    changed = [list(row) for row in AGREEMENTS]
    changed[0][3] = "KCC;MPS"  # a party swapped
    changed[0][8] = "2026-06-30"  # review date brought forward
    result = installation.imported("agreements", installation.csv("changed.csv", AGREEMENT_COLUMNS, changed))
    assert "agreements: 0 new, 1 updated, 1 unchanged" in result.output, result.output
    (alteration,) = entries(installation, "alteration", "agreement")
    assert alteration.object_id == "KMISA"
    # Keyed digests (HMAC under the installation's secret key, bound to the record and field), not SHA-256.
    key = digest_key(Settings(home=installation.folder / "home"))

    def digests(kind: str, object_id: str, field: str, old: object, new: object) -> dict[str, str]:
        return {
            "old_hmac": value_digest(key, kind, object_id, field, old),
            "new_hmac": value_digest(key, kind, object_id, field, new),
        }

    assert alteration.detail["changes"] == {
        "parties": digests("agreement", "KMISA", "parties", "KCC;PROB-SE", "KCC;MPS"),
        "review_date": digests("agreement", "KMISA", "review_date", "2027-01-01", "2026-06-30"),
    }
    assert sha256("KCC;MPS") not in json.dumps(alteration.content)
    with installation.session() as session:
        found = agreements.get_agreement(session, "KMISA")
        assert found is not None and found.parties == ("KCC", "MPS")
        assert [a.agreement_id for a in agreements.agreements_for(session, "PROB-SE")] == ["MOU-1"]

    members = [list(row) for row in MEMBERS]
    members[1][4] = "2024-03-01"  # Jo Bloggs signs the undertaking
    result = installation.imported("scheme-members", installation.csv("m2.csv", MEMBER_COLUMNS, members))
    assert "scheme-members: 0 new, 1 updated, 2 unchanged" in result.output
    (member_change,) = entries(installation, "alteration", "scheme_member")
    assert member_change.object_id == "M-0002" and member_change.subjects == ["M-0002"]
    assert member_change.detail["changes"] == {
        "undertaking_signed_on": digests(
            "scheme_member", "M-0002", "undertaking_signed_on", None, "2024-03-01"
        )
    }


def test_an_import_without_an_optional_column_keeps_its_values(installation: Installation) -> None:
    load_all(installation)
    header = ("org_id", "name", "kind", "competent_authority")
    result = installation.imported("organisations", installation.csv("o.csv", header, [r[:4] for r in ORGS]))
    assert "organisations: 0 new, 0 updated, 3 unchanged" in result.output, result.output
    with installation.session() as session:
        kcc = agreements.get_organisation(session, "KCC")
        assert kcc is not None and kcc.secure_channel == "cst@kent.gov.uk"
