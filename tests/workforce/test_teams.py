"""Teams get names: the team register (`custodes import teams`), `team_labeller`, and the screens and PDFs
that showed a bare team id ("team A-RESP") now showing "North Division Response Team A (A-RESP)"."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from custodes.identity import service as identity
from custodes.identity.permissions import Role
from custodes.imports import load_records, run_import
from custodes.kit.tabular import BatchRejected
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter
from custodes.workforce import demo as workforce_demo
from custodes.workforce import service as workforce
from custodes.workforce import web as workforce_web
from custodes.workforce.models import Team
from custodes.workforce.schemas import DeclarationForm
from tests.conftest import PASSWORD, log_in, make_account
from tests.workforce.test_training_compliance import ACTOR, make_force

RESPONSE = "North Division Response Team A"
INTELLIGENCE = "East Division Intelligence Unit"


def words(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def name_teams(db: Session) -> None:
    load_records(
        db,
        "teams",
        [
            {"team_id": "A-RESP", "name": RESPONSE, "area_code": "NA"},
            {"team_id": "B-INT", "name": INTELLIGENCE, "area_code": "EA"},
        ],
        ACTOR,
    )


def _teams(db: Session) -> dict[str, tuple[str, str | None]]:
    return {t.team_id: (t.name, t.area_code) for t in db.scalars(select(Team))}


# --------------------------------------------------------------------------- the import


def test_a_good_file_is_stored_and_ledgered(db: Session, tmp_path: Path) -> None:
    teams = tmp_path / "teams.csv"
    teams.write_text(f"team_id,name,area_code\nA-RESP,{RESPONSE},NA\nHQ-DPU,Data Protection Unit,\n")
    summary = run_import(db, "teams", [teams], ACTOR)
    db.commit()
    assert (summary.created, summary.updated, summary.unchanged) == (2, 0, 0)
    assert _teams(db) == {"A-RESP": (RESPONSE, "NA"), "HQ-DPU": ("Data Protection Unit", None)}
    created = ledger.search(db, EntryFilter(op="collection", object_type="team"))
    assert sorted(e.object_id for e in created) == ["A-RESP", "HQ-DPU"]

    # Renamed: an alteration naming the field (keyed digests, never the names); a file without the
    # optional area_code column leaves the stored areas alone; an unchanged row is left alone.
    renamed = tmp_path / "renamed.csv"
    renamed.write_text(
        "team_id,name\nA-RESP,North Division Response Team Alpha\nHQ-DPU,Data Protection Unit\n"
    )
    summary = run_import(db, "teams", [renamed], ACTOR)
    db.commit()
    assert (summary.created, summary.updated, summary.unchanged) == (0, 1, 1)
    assert _teams(db)["A-RESP"] == ("North Division Response Team Alpha", "NA")
    (altered,) = ledger.search(db, EntryFilter(op="alteration", object_type="team"))
    assert altered.object_id == "A-RESP" and set(altered.detail["changes"]) == {"name"}
    assert "Alpha" not in str(altered.detail)


def test_bad_rows_are_each_named_and_nothing_is_stored(db: Session, tmp_path: Path) -> None:
    teams = tmp_path / "teams.csv"
    teams.write_text(
        "team_id,name,area_code\n"
        f"A-RESP,{RESPONSE},NA\n"  # good, but the batch is refused with the others
        "B-INT,,EA\n"  # no name
        f"C-CID,{'x' * 121},EA\n"  # name too long
        "D-CUST,Custody,north\n"  # not an area code
        ",Nameless team,NA\n"  # no id
        f"{'T' * 33},Long id,NA\n"  # id longer than the staff file's
        "A-RESP,Again,NA\n"  # the same team twice
    )
    with pytest.raises(BatchRejected) as caught:
        run_import(db, "teams", [teams], ACTOR)
    found = {(p.line, p.column): p.problem for p in caught.value.problems}
    assert found == {
        (3, "name"): "is required",
        (4, "name"): "is longer than 120 characters",
        (5, "area_code"): "'north' is not an area code such as NORTH (up to 8 capital letters or digits)",
        (6, "team_id"): "is required",
        (7, "team_id"): "is longer than 32 characters",
        (8, "team_id"): "A-RESP already appears on line 2",
    }
    assert all(p.file == str(teams) for p in caught.value.problems)
    assert _teams(db) == {}
    assert ledger.search(db, EntryFilter(object_type="team")) == []


# --------------------------------------------------------------------------- the labeller


def test_the_labeller_names_a_known_team_and_falls_back_to_the_id(db: Session) -> None:
    label = workforce.team_labeller(db)
    assert (label("A-RESP"), label(None), label("")) == ("A-RESP", "—", "—")  # no register yet: the id
    assert not label.named("A-RESP")
    name_teams(db)
    label = workforce.team_labeller(db)
    assert label("A-RESP") == f"{RESPONSE} (A-RESP)" and label.named("A-RESP")
    assert label("Z-UNKNOWN") == "Z-UNKNOWN" and not label.named("Z-UNKNOWN")
    assert (
        workforce.team_label({"T14": "Northtown Response Team B"}, "T14") == "Northtown Response Team B (T14)"
    )


# --------------------------------------------------------------------------- the screens


def test_screens_and_the_register_pdf_show_the_team_by_name(
    client: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_force(db)
    name_teams(db)
    for sid in ("M1", "P1"):
        identity.set_password(db, sid, PASSWORD, ACTOR)
    declaration = workforce.make_declaration(
        db,
        "P1",
        DeclarationForm(
            kind="gift_hospitality",
            organisation="Acme Motors Ltd",
            description="Car valet",
            value_pounds="£60",
            gift_accepted="declined",
        ),
        actor="staff:P1",
    )
    db.commit()
    labelled = f"{RESPONSE} (A-RESP)"
    log_in(client, "M1")  # a supervisor: training, and P1's line manager
    board = words(client.get("/training").text)
    assert labelled in board and f"{INTELLIGENCE} (B-INT)" in board
    assert "HQ-DPU" in board  # a team with no name: its id
    team = client.get("/training/teams/A-RESP")
    assert f"Training: {labelled}" in words(team.text) and f"<title>Training: {labelled}" in team.text
    unnamed = words(client.get("/training/teams/HQ-DPU").text)
    assert "Training: team HQ-DPU" in unnamed
    page = words(client.get(f"/declarations/{declaration}").text)
    assert f"ForenameP1 SurnameP1 (P1), {labelled}" in page
    me = words(client.get("/me").text)
    assert f"Team {labelled}" in me

    # The register (screen, PDF; its search finds the team by name) and vetting, as the counter-corruption
    # unit sees them.
    load_records(
        db,
        "vetting",
        [{"staff_id": "P1", "level": "NPPV2", "status": "in_progress", "decided_on": "", "expires_on": ""}],
        ACTOR,
    )
    make_account(db, "CCU1", {Role.CCU})
    db.commit()
    client.cookies.clear()
    log_in(client, "CCU1")
    register = words(client.get("/declarations/register?q=response+team+a").text)
    assert f"P1 · {labelled}" in register
    assert "Acme Motors" not in words(client.get("/declarations/register?q=intelligence").text)
    monkeypatch.setattr(workforce_web, "html_to_pdf", lambda html: html.encode())
    pdf = words(client.get("/declarations/register/export.pdf").content.decode())
    assert labelled in pdf
    csv_text = client.get("/declarations/register/export.csv").text
    assert f",A-RESP,{RESPONSE}," in csv_text  # the id kept, for matching; the name in the next column
    vetting = words(client.get("/vetting").text)
    assert f"ForenameP1 SurnameP1 P1 {labelled} NPPV2" in vetting
    assert labelled in words(client.get("/vetting/export.pdf").content.decode())


def test_csv_exports_give_the_team_name_beside_its_id(client: TestClient, db: Session) -> None:
    """The declarations register's and the vetting renewals' CSVs had `team_id` alone: they now have
    `team_name` beside it (the id kept, for matching with other data), blank for a team with no name."""
    make_force(db)
    name_teams(db)  # A-RESP and B-INT named; HQ-DPU not
    soon = (date.today() + timedelta(days=30)).isoformat()
    load_records(
        db,
        "vetting",
        [
            {
                "staff_id": sid,
                "level": "NPPV2",
                "status": "granted",
                "decided_on": "2024-01-02",
                "expires_on": soon,
            }
            for sid in ("P1", "P5")
        ],
        ACTOR,
    )
    for sid in ("P1", "P5"):
        workforce.make_declaration(
            db,
            sid,
            DeclarationForm(
                kind="gift_hospitality",
                organisation=f"Acme {sid}",
                description="Car valet",
                value_pounds="£60",
                gift_accepted="declined",
            ),
            actor=f"staff:{sid}",
        )
    make_account(db, "CCU1", {Role.CCU})
    db.commit()
    log_in(client, "CCU1")

    def table(path: str) -> dict[str, dict[str, str]]:
        response = client.get(path)
        assert response.status_code == 200, response.text
        return {row["staff_id"]: row for row in csv.DictReader(io.StringIO(response.text))}

    register = table("/declarations/register/export.csv")
    header = list(next(iter(register.values())))
    assert header[header.index("team_id") + 1] == "team_name"
    assert (register["P1"]["team_id"], register["P1"]["team_name"]) == ("A-RESP", RESPONSE)
    assert (register["P5"]["team_id"], register["P5"]["team_name"]) == ("HQ-DPU", "")
    renewals = table("/vetting/renewals.csv")
    assert list(next(iter(renewals.values())))[:4] == ["staff_id", "name", "team_id", "team_name"]
    assert (renewals["P1"]["team_id"], renewals["P1"]["team_name"]) == ("A-RESP", RESPONSE)
    assert (renewals["P5"]["team_id"], renewals["P5"]["team_name"]) == ("HQ-DPU", "")
    assert renewals["P1"]["level"] == "NPPV2" and renewals["P1"]["renewal_applied"] == "false"


# --------------------------------------------------------------------------- the demo


def test_the_demo_names_every_team_its_staff_belong_to() -> None:
    named = {row["team_id"]: row for row in workforce_demo.team_rows()}
    used = {row.values["team_id"] for row in workforce_demo.staff_rows(seed=3, count=400)}
    assert used <= set(named)
    assert named["NA-RESP1"]["name"] == "North Division Response Team A"
    assert named["NA-RESP2"]["name"] == "North Division Response Team B"
    assert named["EA-NHP3"]["name"] == "East Division Neighbourhood Team C"
    assert named["WE-CID2"]["name"] == "West Division CID B"
    assert named["CZ-CUST1"]["name"] == "Central Zone Custody"  # the only one of its kind: no letter
    assert (named["HQ-DPU"]["name"], named["HQ-DPU"]["area_code"]) == ("Data Protection Unit", "")
    assert len({row["name"] for row in named.values()}) == len(named)
