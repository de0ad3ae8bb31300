"""What needs doing about training and vetting: one's own next steps (/me, the home page), a line manager's
own people (/training, the team list), where the records come from, and the vetting lists' order."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from custodes.identity import service as identity
from custodes.identity.permissions import Role
from custodes.identity.schemas import Principal
from custodes.imports import load_records
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter
from custodes.workforce import service as workforce
from tests.conftest import PASSWORD, log_in

ACTOR = "system:test"
TODAY = workforce.london_today()  # the screens work on the real day in London

# staff id → (role, team, area, line manager)
PEOPLE = {
    "M1": ("supervisor", "A-RESP", "NA", ""),
    "P1": ("officer", "A-RESP", "NA", "M1"),  # refresher expired, MI due in 10 days, vetting expired
    "P2": ("officer", "A-RESP", "NA", "M1"),  # all current, vetting current
    "P3": ("officer", "A-RESP", "NA", "OTHER"),  # someone else's: out of date, RV due, NPPV3 held
    "OTHER": ("supervisor", "B-RESP", "EA", ""),
}


def _ago(days: int) -> str:
    return str(TODAY - timedelta(days=days))


def make_people(db: Session) -> None:
    load_records(
        db,
        "staff",
        [
            {
                "staff_id": sid,
                "surname": f"Surname{sid}",
                "forenames": f"Forename{sid}",
                "role": role,
                "team_id": team,
                "area_code": area,
                "line_manager_id": manager,
            }
            for sid, (role, team, area, manager) in PEOPLE.items()
        ],
        ACTOR,
    )
    load_records(
        db,
        "courses",
        [
            {
                "course_code": "INIT",
                "title": "Data protection: initial",
                "mandatory_for": "",
                "validity_months": "",
                "gates": "system_access",
            },
            {
                "course_code": "MI",
                "title": "Managing Information",
                "mandatory_for": "officer;supervisor",
                "validity_months": "12",
                "gates": "disclosure",
            },
            {
                "course_code": "DP",
                "title": "Data protection: annual refresher",
                "mandatory_for": "",
                "validity_months": "12",
                "gates": "",
            },
        ],
        ACTOR,
    )
    year = 366  # more than twelve months ago, whatever the year's length
    done = [
        ("P1", "INIT", 900),
        ("P1", "MI", 365 - 10),  # expires in about 10 days
        ("P1", "DP", year + 20),  # expired about 20 days ago
        ("P2", "INIT", 900),
        ("P2", "MI", 100),
        ("P2", "DP", 100),
        ("M1", "INIT", 900),
        ("M1", "MI", 100),
        ("M1", "DP", 100),
        ("P3", "MI", 100),
        ("P3", "DP", 100),  # P3: the initial course never done (the gate's course)
        ("OTHER", "INIT", 900),
        ("OTHER", "MI", 100),
        ("OTHER", "DP", 100),
    ]
    load_records(
        db,
        "training",
        [{"staff_id": s, "course_code": c, "completed_on": _ago(d)} for s, c, d in done],
        ACTOR,
    )
    vetting = [
        ("P1", "NPPV2", "granted", _ago(2000), _ago(30)),  # expired 30 days ago, nothing else held
        ("P2", "NPPV2", "granted", _ago(100), str(TODAY + timedelta(days=1000))),
        ("P3", "RV", "granted", _ago(2000), str(TODAY + timedelta(days=12))),  # due; NPPV3 still held
        ("P3", "NPPV3", "granted", _ago(100), str(TODAY + timedelta(days=1500))),
        ("M1", "NPPV3", "granted", _ago(100), str(TODAY + timedelta(days=1500))),
        ("OTHER", "NPPV3", "granted", _ago(100), str(TODAY + timedelta(days=1500))),
    ]
    load_records(
        db,
        "vetting",
        [
            {"staff_id": s, "level": lv, "status": st, "decided_on": d, "expires_on": e}
            for s, lv, st, d, e in vetting
        ],
        ACTOR,
    )
    for sid in PEOPLE:
        identity.set_password(db, sid, PASSWORD, ACTOR)
    db.commit()


def _text(html: str) -> str:
    return " ".join(html.split())


def _words(html: str) -> str:
    """The page as read: tags dropped, spaces collapsed."""
    return _text(unescape(re.sub(r"<[^>]+>", "", html)))


def _day(value: date) -> str:
    return f"{value.day} {value:%b %Y}"


def test_next_steps_say_what_to_do_and_what_each_lapse_stops(db: Session) -> None:
    make_people(db)
    steps = {(s.kind, s.key): s for s in workforce.my_next_steps(db, "P1", TODAY)}
    assert set(steps) == {("training", "DP"), ("training", "MI"), ("vetting", "NPPV2")}
    refresher, mi, vetting = steps["training", "DP"], steps["training", "MI"], steps["vetting", "NPPV2"]
    assert refresher.lapsed and refresher.on is not None and refresher.on < TODAY
    assert "training system's records are imported" in refresher.to_do
    # A course that gates nothing stops nothing: the page must not say it does.
    assert "does not stop you using Custodes" in refresher.blocks and "disclosures" not in refresher.blocks
    assert not mi.lapsed and "Once it lapses you cannot make, authorise or release disclosures" in mi.blocks
    assert vetting.lapsed and vetting.on == TODAY - timedelta(days=30)
    assert "you cannot make, authorise or release disclosures" in vetting.blocks
    assert "pre-access gate refuses your searches" in vetting.blocks and "vetting unit" in vetting.to_do
    # Lapsed first.
    assert [s.lapsed for s in workforce.my_next_steps(db, "P1", TODAY)] == [True, True, False]
    # The gate's course never done; RV due while NPPV3 is still held: disclosures are not stopped.
    p3 = {(s.kind, s.key): s for s in workforce.my_next_steps(db, "P3", TODAY)}
    assert p3["training", "INIT"].on is None and "pre-access gate refuses" in p3["training", "INIT"].blocks
    assert "NPPV3 vetting still counts for disclosures" in p3["vetting", "RV"].blocks
    assert workforce.my_next_steps(db, "P2", TODAY) == []


def test_my_record_says_under_each_lapsed_row_what_to_do(client: TestClient, db: Session) -> None:
    make_people(db)
    log_in(client, "P1")
    page = _text(client.get("/me").text)
    expired = TODAY - timedelta(days=30)
    assert f"Expired {_day(expired)}." in page  # the vetting row
    assert "Book the course through your training system" in page
    assert "Once it lapses you cannot make, authorise or release disclosures." in page
    assert "Apply to renew it through the force vetting unit" in page
    assert page.count('class="next-step"') == 3


def test_home_shows_one_s_own_training_and_vetting_only_when_something_is_due(
    client: TestClient, db: Session
) -> None:
    make_people(db)
    log_in(client, "P1")
    page = _text(client.get("/").text)
    assert "Your training and vetting" in page
    assert "Data protection: annual refresher" in page and "NPPV2 vetting" in page
    assert 'href="/me#training"' in page
    client.cookies.clear()
    log_in(client, "P2")
    assert "Your training and vetting" not in client.get("/").text


def test_a_line_manager_sees_their_own_people_with_their_vetting(client: TestClient, db: Session) -> None:
    make_people(db)
    counts = workforce.line_report_counts(db, "M1", TODAY)
    assert (counts.people, counts.training_out_of_date, counts.training_due) == (2, 1, 0)
    assert (counts.vetting_expired, counts.vetting_due) == (1, 0)
    log_in(client, "M1")
    home = _words(client.get("/").text)
    assert "Your people's training and vetting" in home and "Of the 2 people you line-manage" in home
    assert "1 with training out of date" in home and "1 with vetting expired" in home
    raw = client.get("/training").text
    training = _words(raw)
    assert 'id="your-people"' in raw and "ForenameP1 SurnameP1" in training
    assert f"NPPV2 — expired {_day(TODAY - timedelta(days=30))}" in training
    assert "ForenameP3" not in training.split("Due soon means")[0]  # someone else's person
    entries = ledger.search(db, EntryFilter(op="consultation", object_type="vetting_team"))
    assert entries and sorted(entries[-1].subjects) == ["P1", "P2"]
    # The team list: vetting of one's own people only; the others' is not shown.
    raw = client.get("/training/teams/A-RESP").text
    team = _words(raw)
    assert "<th>Vetting</th>" in raw and "NPPV2 — expired" in team
    assert "Not yours to see" in team and "RV — " not in team


def test_a_vetting_viewer_sees_everyone_s_vetting_on_the_team_list(db: Session) -> None:
    make_people(db)
    dpu = Principal("D1", "Dee", frozenset({Role.DPU}))
    seen = workforce.visible_vetting(db, dpu, ["P1", "P3"], TODAY)
    assert set(seen) == {"P1", "P3"} and [level for level, _e in seen["P3"].held] == ["NPPV3", "RV"]
    supervisor = Principal("M1", "Em", frozenset({Role.SUPERVISOR}))
    assert set(workforce.visible_vetting(db, supervisor, ["P1", "P3"], TODAY)) == {"P1"}


def test_no_line_reports_no_card_and_no_section(client: TestClient, db: Session) -> None:
    make_people(db)
    load_records(
        db, "staff", [{"staff_id": "M2", "surname": "S", "forenames": "F", "role": "supervisor"}], ACTOR
    )
    identity.set_password(db, "M2", PASSWORD, ACTOR)
    db.commit()
    log_in(client, "M2")
    home = _text(client.get("/").text)
    assert "Your people's training and vetting" not in home and 'href="/training"' in home
    assert 'id="your-people"' not in client.get("/training").text


def test_training_pages_say_where_records_come_from_and_when_last_imported(
    client: TestClient, db: Session
) -> None:
    make_people(db)
    identity.set_config(db, "area_names", "NA = North Division", Principal("A", "Admin", frozenset()))
    db.commit()
    log_in(client, "M1")
    for url in ("/training", "/training/teams/A-RESP"):
        page = _words(client.get(url).text)
        assert "Where these records come from" in page and "custodes import training FILE" in page
        assert "your force's HR and training team" in page
        assert "An import last added or changed a training record on" in page
    # Areas by their configured names, on the page and in the chart.
    training = _words(client.get("/training").text)
    assert "North Division (NA)" in training and "Area NA" not in training
    assert b"North Division (NA)" in client.get("/training/chart.svg").content


def test_vetting_page_lists_the_expired_first_and_open(client: TestClient, db: Session) -> None:
    make_people(db)
    load_records(db, "staff", [{"staff_id": "C1", "surname": "S", "forenames": "F", "role": "ccu"}], ACTOR)
    identity.set_password(db, "C1", PASSWORD, ACTOR)
    db.commit()
    log_in(client, "C1")
    page = client.get("/vetting").text
    assert '<details class="overdue"' not in page
    expired, upcoming = (
        page.index("Already expired and not renewed (1)"),
        page.index("Expiring within 90 days"),
    )
    assert expired < upcoming < page.index("Backlog:")
    assert (
        "custodes import vetting FILE" in page and "An import last added or changed a vetting record" in page
    )
    home = _words(client.get("/").text)
    assert "1 person's vetting has expired and not been granted again (not applied to renew)." in home
    assert "1 more person with vetting expiring within 30 days." in home


def test_records_last_changed_is_none_before_any_import(db: Session) -> None:
    assert workforce.records_last_changed(db) == {"training": None, "vetting": None}
    make_people(db)
    found = workforce.records_last_changed(db)
    assert found["training"] is not None and found["vetting"] is not None
