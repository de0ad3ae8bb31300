"""Training compliance by area and team (issue 4.1): counts, the team drill-down, the chart, /me."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from custodes.identity import service as identity
from custodes.imports import load_records
from custodes.kit.tabular import BatchRejected
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter
from custodes.workforce import service as workforce
from custodes.workforce.models import Staff
from custodes.workforce.schemas import TrainingState
from tests.conftest import PASSWORD, log_in

ACTOR = "system:test"
TODAY = date(2026, 6, 1)

# staff id → (role, team, area, line manager)
FORCE = {
    "M1": ("supervisor", "A-RESP", "NA", ""),
    "P1": ("officer", "A-RESP", "NA", "M1"),
    "P2": ("officer", "A-RESP", "NA", "M1"),
    "P3": ("officer", "A-RESP", "NA", "M1"),
    "P4": ("staff", "B-INT", "EA", "M1"),
    "P5": ("dpu", "HQ-DPU", "EA", "M1"),
}


def make_force(db: Session, groups: dict[str, str] | None = None) -> None:
    """Six people; MI (36 months, officers and supervisors) and DP (12 months, everyone)."""
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
                **({"ethnicity_group": groups.get(sid, "")} if groups is not None else {}),
            }
            for sid, (role, team, area, manager) in FORCE.items()
        ],
        ACTOR,
    )
    load_records(
        db,
        "courses",
        [
            {
                "course_code": "MI",
                "title": "Managing Information",
                "mandatory_for": "officer;supervisor",
                "validity_months": "36",
                "gates": "disclosure",
            },
            {
                "course_code": "DP",
                "title": "Data protection",
                "mandatory_for": "",
                "validity_months": "12",
                "gates": "",
            },
        ],
        ACTOR,
    )
    done = {
        # P1: all current. P2: DP expires in 20 days (due soon). P3: MI never done (out of date).
        # P4: DP expired. P5: DP current. M1: all current.
        ("P1", "MI"): TODAY - timedelta(days=100),
        ("P1", "DP"): TODAY - timedelta(days=100),
        ("P2", "MI"): TODAY - timedelta(days=100),
        ("P2", "DP"): date(2025, 6, 21),
        ("P3", "DP"): TODAY - timedelta(days=10),
        ("P4", "DP"): date(2025, 3, 1),
        ("P5", "DP"): TODAY - timedelta(days=5),
        ("M1", "MI"): TODAY - timedelta(days=5),
        ("M1", "DP"): TODAY - timedelta(days=5),
    }
    load_records(
        db,
        "training",
        [{"staff_id": s, "course_code": c, "completed_on": str(d)} for (s, c), d in done.items()],
        ACTOR,
    )
    db.commit()


def test_dashboard_counts_each_person_once_by_their_worst_course(db: Session) -> None:
    make_force(db)
    board = workforce.training_dashboard(db, TODAY, within_days=30)
    force = board.force
    assert (force.staff, force.current, force.due_soon, force.out_of_date) == (6, 3, 1, 2)
    assert round(force.compliant_percent, 1) == 66.7
    areas = {a.label: a for a in board.areas}
    assert (areas["NA"].staff, areas["NA"].out_of_date, areas["NA"].due_soon) == (4, 1, 1)
    assert (areas["EA"].staff, areas["EA"].out_of_date) == (2, 1)
    assert [t.label for t in board.teams["EA"]] == ["B-INT", "HQ-DPU"]
    courses = {c.course_code: c for c in board.courses}
    assert (courses["MI"].required, courses["MI"].current, courses["MI"].out_of_date) == (4, 3, 1)
    assert (courses["DP"].required, courses["DP"].due_soon, courses["DP"].out_of_date) == (6, 1, 1)
    # A shorter window: P2's refresher is no longer "due soon".
    assert workforce.training_dashboard(db, TODAY, within_days=10).force.due_soon == 0


def test_team_list_names_what_each_person_needs_and_is_logged(db: Session) -> None:
    make_force(db)
    members = workforce.team_training(db, "A-RESP", TODAY, 30, actor="staff:M1")
    db.commit()
    assert [m.staff_id for m in members] == ["P3", "P2", "M1", "P1"]  # worst first, then by name
    p3 = members[0]
    assert p3.state == TrainingState.OUT_OF_DATE
    mi = next(c for c in p3.courses if c.course_code == "MI")
    assert mi.last_completed_on is None and mi.state == TrainingState.OUT_OF_DATE
    (entry,) = ledger.search(db, EntryFilter(op="consultation", object_type="training_team"))
    assert entry.object_id == "A-RESP" and sorted(entry.subjects) == ["M1", "P1", "P2", "P3"]
    assert workforce.team_training(db, "NO-SUCH", TODAY, 30, actor="staff:M1") == []


def test_screens_chart_and_my_record(client: TestClient, db: Session) -> None:
    make_force(db)
    for sid in ("M1", "P3"):
        identity.set_password(db, sid, PASSWORD, ACTOR)
    db.commit()
    log_in(client, "M1")  # a supervisor holds training:view
    page = client.get("/training?within=30")
    assert page.status_code == 200
    assert "Training compliance" in page.text and "/training/teams/A-RESP" in page.text
    chart = client.get("/training/chart.svg")
    assert chart.status_code == 200 and chart.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in chart.content and b"<script" not in chart.content
    team = client.get("/training/teams/A-RESP")
    assert team.status_code == 200 and "ForenameP3 SurnameP3" in team.text and "never completed" in team.text
    client.cookies.clear()
    log_in(client, "P3")  # an officer: own record only
    assert client.get("/training").status_code == 403
    me = client.get("/me")
    assert "My training" in me.text and "Managing Information" in me.text and "Not done" in me.text


def _leaves(db: Session, staff_id: str, last_day: date) -> None:
    staff = db.get(Staff, staff_id)
    assert staff is not None
    staff.leave_date = last_day
    db.flush()


def test_leavers_are_not_counted_from_the_day_after_their_last_day(db: Session) -> None:
    """Review: compliance counted everyone in the register, leavers too (P3, out of date, left yesterday)."""
    make_force(db)
    _leaves(db, "P3", TODAY - timedelta(days=1))
    _leaves(db, "P2", TODAY)  # today is P2's last day: still in service
    board = workforce.training_dashboard(db, TODAY, within_days=30)
    assert (board.force.staff, board.force.current, board.force.due_soon, board.force.out_of_date) == (
        5,
        3,
        1,
        1,
    )
    courses = {c.course_code: c for c in board.courses}
    assert (courses["MI"].required, courses["MI"].out_of_date) == (3, 0)
    members = workforce.team_training(db, "A-RESP", TODAY, 30, actor="staff:M1")
    assert [m.staff_id for m in members] == ["P2", "M1", "P1"]
    # Asked about a day before P3 left, P3 is counted.
    assert workforce.training_dashboard(db, TODAY - timedelta(days=2), within_days=30).force.staff == 6


def test_a_completion_dated_today_in_london_is_not_in_the_future(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review: the future-date check used the server's date.today(). At 00:30 on 1 July in London (23:30 on
    30 June UTC) a completion dated 1 July is today's; on 1 July 23:30 UTC (00:30 on 2 July in London) a
    completion dated 2 July is too."""
    make_force(db)
    for now, day in (
        (datetime(2026, 6, 30, 23, 30, tzinfo=UTC), "2026-07-01"),
        (datetime(2026, 7, 1, 23, 30, tzinfo=UTC), "2026-07-02"),
    ):
        monkeypatch.setattr(workforce, "utcnow", lambda now=now: now)
        row = {"staff_id": "P1", "course_code": "DP", "completed_on": day}
        assert load_records(db, "training", [row], ACTOR).created == 1
    monkeypatch.setattr(workforce, "utcnow", lambda: datetime(2026, 7, 1, 22, 30, tzinfo=UTC))
    with pytest.raises(BatchRejected) as caught:
        load_records(
            db, "training", [{"staff_id": "P1", "course_code": "MI", "completed_on": "2026-07-03"}], ACTOR
        )
    assert [(p.column, p.problem) for p in caught.value.problems] == [
        ("completed_on", "2026-07-03 is in the future")
    ]
