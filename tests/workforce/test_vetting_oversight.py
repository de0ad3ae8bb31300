"""Vetting oversight (issue 4.2): bring-forward renewals, the backlog by stage and age, and the disparity
table (risk ratio with Katz's log-method interval, small-number suppression), on screen and as a PDF."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from custodes import registers
from custodes.identity.permissions import Role
from custodes.imports import load_records
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter
from custodes.workforce import service as workforce
from custodes.workforce import web as workforce_web
from custodes.workforce.models import Staff, Vetting
from tests.conftest import log_in, make_account
from tests.workforce.files import rejected
from tests.workforce.test_training_compliance import ACTOR, make_force

TODAY = date(2026, 6, 1)


def _vetting(db: Session, rows: list[dict[str, str]]) -> None:
    load_records(db, "vetting", rows, ACTOR)
    db.commit()


def test_staff_import_takes_the_optional_group_and_keeps_it_out_of_the_ledger(db: Session) -> None:
    make_force(db, {"P1": "Black", "P2": "White"})
    assert db.get(Staff, "P1").ethnicity_group == "Black"  # type: ignore[union-attr]
    assert db.get(Staff, "M1").ethnicity_group is None  # type: ignore[union-attr]
    # A later file without the column leaves the groups alone.
    load_records(
        db, "staff", [{"staff_id": "P1", "surname": "New", "forenames": "Name", "role": "officer"}], ACTOR
    )
    db.commit()
    assert db.get(Staff, "P1").ethnicity_group == "Black"  # type: ignore[union-attr]
    for entry in ledger.search(db, EntryFilter(object_type="staff")):
        assert "Black" not in str(entry.content) and "White" not in str(entry.content)


def test_a_bad_group_is_rejected(db: Session, tmp_path: Path) -> None:
    row = {"staff_id": "X1", "surname": "A", "forenames": "B", "role": "officer", "ethnicity_group": "Purple"}
    assert (2, "ethnicity_group") in rejected(db, tmp_path, "staff", [row])


def test_renewals_due_bring_forward(db: Session) -> None:
    make_force(db)
    soon, later = str(TODAY + timedelta(days=30)), str(TODAY + timedelta(days=400))
    _vetting(
        db,
        [
            {
                "staff_id": "P1",
                "level": "MV",
                "status": "granted",
                "decided_on": "2020-01-01",
                "expires_on": soon,
            },
            {
                "staff_id": "P2",
                "level": "MV",
                "status": "granted",
                "decided_on": "2020-01-01",
                "expires_on": soon,
            },
            {
                "staff_id": "P2",
                "level": "MV",
                "status": "granted",
                "decided_on": "2026-01-01",
                "expires_on": later,
            },
            {
                "staff_id": "P3",
                "level": "RV",
                "status": "granted",
                "decided_on": "2019-01-01",
                "expires_on": str(TODAY - timedelta(days=3)),
            },
            {
                "staff_id": "P4",
                "level": "RV",
                "status": "granted",
                "decided_on": "2020-01-01",
                "expires_on": soon,
            },
            {
                "staff_id": "P4",
                "level": "RV",
                "status": "applied",
                "applied_on": str(TODAY - timedelta(days=5)),
            },
        ],
    )
    due = workforce.renewals_due(db, TODAY, 60, actor="staff:M1")
    db.commit()
    assert [(r.staff_id, r.days_left, r.renewal_applied) for r in due] == [
        ("P3", -3, False),
        ("P1", 30, False),
        ("P4", 30, True),
    ]  # P2's later grant replaces the one expiring
    assert workforce.renewals_due(db, TODAY, 10, actor="staff:M1")[0].staff_id == "P3"
    (entry,) = ledger.search(db, EntryFilter(op="consultation", object_type="vetting_renewals"))
    assert sorted(entry.subjects) == ["P1", "P3", "P4"]


def test_backlog_by_stage_and_age(db: Session) -> None:
    make_force(db)
    ages = {"P1": 5, "P2": 45, "P3": 200, "P4": 95}
    _vetting(
        db,
        [
            {
                "staff_id": s,
                "level": "SC",
                "status": "applied" if s in ("P1", "P3") else "in_progress",
                "applied_on": str(TODAY - timedelta(days=a)),
            }
            for s, a in ages.items()
        ]
        + [{"staff_id": "P5", "level": "SC", "status": "refused", "decided_on": "2026-01-01"}],
    )
    backlog = workforce.vetting_backlog(db, TODAY, actor="staff:M1")
    assert backlog.counts == {"applied": [1, 0, 0, 0, 1], "in_progress": [0, 1, 0, 1, 0]}
    assert backlog.total == 4 and backlog.band_total(4) == 1
    assert [(c.staff_id, c.age_days) for c in backlog.oldest] == [
        ("P3", 200),
        ("P4", 95),
        ("P2", 45),
        ("P1", 5),
    ]


def test_an_application_date_after_the_decision_is_rejected(db: Session, tmp_path: Path) -> None:
    make_force(db)
    row = {
        "staff_id": "P1",
        "level": "MV",
        "status": "granted",
        "decided_on": "2026-01-01",
        "expires_on": "2030-01-01",
        "applied_on": "2026-02-01",
    }
    assert (2, "applied_on") in rejected(db, tmp_path, "vetting", [row])


def _decisions(db: Session, counts: dict[str, tuple[int, int]]) -> None:
    """Give each group (decisions, refused): one staff record per decision, decided in 2025."""
    staff, vetting = [], []
    for group, (decisions, refused) in counts.items():
        for n in range(decisions):
            sid = f"{group[:2].upper()}{n}"
            staff.append(
                {
                    "staff_id": sid,
                    "surname": "S",
                    "forenames": "F",
                    "role": "officer",
                    "ethnicity_group": group,
                }
            )
            vetting.append(
                {
                    "staff_id": sid,
                    "level": "MV",
                    "status": "refused" if n < refused else "granted",
                    "decided_on": "2025-03-01",
                    "expires_on": "",
                }
            )
    load_records(db, "staff", staff, ACTOR)
    _vetting(db, vetting)


def test_disparity_ratio_and_katz_interval(db: Session) -> None:
    _decisions(
        db, {"White": (200, 20), "Black": (50, 12), "Asian": (40, 4), "Mixed": (2, 0), "Other": (30, 0)}
    )
    table = workforce.vetting_disparity(db, date(2025, 1, 1), date(2025, 12, 31), "White", threshold=3)
    rows = {r.group: r for r in table.rows}
    white, black = rows["White"], rows["Black"]
    assert white.reference and white.ratio == 1.0 and white.rate == pytest.approx(0.10)
    # Katz: RR = (12/50)/(20/200) = 2.4; SE(ln RR) = sqrt(1/12 - 1/50 + 1/20 - 1/200).
    se = math.sqrt(1 / 12 - 1 / 50 + 1 / 20 - 1 / 200)
    assert black.ratio == pytest.approx(2.4)
    assert black.low == pytest.approx(2.4 * math.exp(-1.959964 * se), rel=1e-4)
    assert black.high == pytest.approx(2.4 * math.exp(1.959964 * se), rel=1e-4)
    assert black.reading == "refused more often"
    assert rows["Asian"].ratio == pytest.approx(1.0) and rows["Asian"].reading == "no clear difference"
    assert rows["Mixed"].suppressed and rows["Mixed"].decisions is None  # 2 decisions: fewer than 3
    assert rows["Other"].ratio is None and "not estimable" in rows["Other"].note


def test_disparity_suppresses_small_numbers(db: Session) -> None:
    _decisions(db, {"White": (200, 20), "Black": (50, 4), "Asian": (6, 0)})
    table = workforce.vetting_disparity(db, date(2025, 1, 1), date(2025, 12, 31))  # configured: 10
    rows = {r.group: r for r in table.rows}
    assert table.threshold == 10
    assert rows["Black"].suppressed and rows["Black"].refused is None and "refusals" in rows["Black"].note
    assert rows["Asian"].suppressed and "decisions" in rows["Asian"].note
    assert not rows["White"].suppressed
    # Decisions outside the period are not counted.
    assert all(r.decisions is None for r in workforce.vetting_disparity(db, date(2026, 1, 1), TODAY).rows)


def test_vetting_screen_and_pdf(client: TestClient, db: Session) -> None:
    _decisions(db, {"White": (30, 10), "Black": (20, 10)})
    make_account(db, "CCU1", {Role.CCU})
    make_account(db, "OFF1", {Role.OFFICER})
    log_in(client, "CCU1")
    page = client.get("/vetting?since=2025-01-01&until=2025-12-31")
    assert page.status_code == 200
    assert "Refused more often" in page.text or "No clear difference" in page.text
    assert "Katz" in page.text
    pdf = client.get("/vetting/export.pdf?since=2025-01-01&until=2025-12-31")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    csv_text = client.get("/vetting/renewals.csv").text
    assert csv_text.startswith("staff_id,name,team_id")
    client.cookies.clear()
    log_in(client, "OFF1")
    assert client.get("/vetting").status_code == 403


def test_a_grant_later_recorded_as_lapsed_still_counts_as_a_grant(db: Session) -> None:
    """Review: the table counted rows whose status is now granted or refused, so re-importing grants as
    lapsed (the documented way) took them out of the denominator: a false disparity (ratio 1.0 → 2.0)."""
    _decisions(db, {"White": (20, 10), "Black": (20, 10)})

    def black() -> tuple[int | None, int | None, float | None]:
        table = workforce.vetting_disparity(db, date(2025, 1, 1), date(2025, 12, 31), threshold=5)
        row = next(r for r in table.rows if r.group == "Black")
        return row.decisions, row.refused, row.ratio

    assert black() == (20, 10, pytest.approx(1.0))
    lapsed = [
        {
            "staff_id": f"BL{n}",
            "level": "MV",
            "status": "lapsed",
            "decided_on": "2025-03-01",
            "expires_on": "",
        }
        for n in range(10, 20)
    ]
    _vetting(db, lapsed)
    row = db.get(Vetting, "BL10/MV/2025-03-01")
    assert row is not None and (row.status, row.decision) == ("lapsed", "granted")
    assert black() == (20, 10, pytest.approx(1.0))
    # A row that arrives already lapsed carries no outcome it could be counted by; a file correcting the
    # outcome of the decision itself (granted → refused, same decision date) does change it.
    _vetting(
        db,
        [
            {"staff_id": "BL0", "level": "SC", "status": "lapsed", "decided_on": "2025-04-01"},
            {"staff_id": "BL11", "level": "MV", "status": "refused", "decided_on": "2025-03-01"},
        ],
    )
    assert db.get(Vetting, "BL0/SC/2025-04-01").decision is None  # type: ignore[union-attr]
    assert black() == (20, 11, pytest.approx(1.1))


def test_a_renewal_is_due_when_the_latest_grant_expires_whatever_an_older_grant_said(db: Session) -> None:
    """Review: a grant that never expired, however long superseded, kept every later grant of that level
    off the list, and the "latest" grant was the one expiring last, not the one decided last."""
    make_force(db)
    soon = TODAY + timedelta(days=29)
    _vetting(
        db,
        [
            # P1: a 2010 grant with no expiry, then a 2019 grant expiring soon: due.
            {"staff_id": "P1", "level": "NPPV3", "status": "granted", "decided_on": "2010-01-01"},
            {
                "staff_id": "P1",
                "level": "NPPV3",
                "status": "granted",
                "decided_on": "2019-06-01",
                "expires_on": str(soon),
            },
            # P2: a grant expiring soon, replaced by a later one that never expires: not due.
            {
                "staff_id": "P2",
                "level": "MV",
                "status": "granted",
                "decided_on": "2019-01-01",
                "expires_on": str(TODAY + timedelta(days=10)),
            },
            {"staff_id": "P2", "level": "MV", "status": "granted", "decided_on": "2020-01-01"},
            # P3: a long grant, then a later, shorter one (e.g. granted for a fixed posting): due.
            {
                "staff_id": "P3",
                "level": "SC",
                "status": "granted",
                "decided_on": "2019-01-01",
                "expires_on": str(TODAY + timedelta(days=400)),
            },
            {
                "staff_id": "P3",
                "level": "SC",
                "status": "granted",
                "decided_on": "2021-01-01",
                "expires_on": str(TODAY + timedelta(days=20)),
            },
        ],
    )
    due = workforce.renewals_due(db, TODAY, 60, actor="staff:M1")
    assert [(r.staff_id, r.level, r.days_left) for r in due] == [("P3", "SC", 20), ("P1", "NPPV3", 29)]
    # What the list brings forward is what readiness reads: P1 is not vetted the day after it expires.
    assert workforce.discloser_readiness(db, "P1", soon).vetting_current
    assert not workforce.discloser_readiness(db, "P1", soon + timedelta(days=1)).vetting_current


def test_leavers_are_not_brought_forward_for_renewal(db: Session) -> None:
    """Review: a leaver's expiring vetting stayed on the renewal list after they had gone."""
    make_force(db)
    expiring = {"level": "MV", "status": "granted", "decided_on": "2020-01-01"}
    _vetting(
        db,
        [
            {"staff_id": sid, **expiring, "expires_on": str(TODAY + timedelta(days=30))}
            for sid in ("P1", "P2", "P3")
        ],
    )
    for sid, last_day in (("P1", TODAY - timedelta(days=1)), ("P2", TODAY)):
        staff = db.get(Staff, sid)
        assert staff is not None
        staff.leave_date = last_day
    db.flush()
    due = workforce.renewals_due(db, TODAY, 60, actor="staff:M1")
    assert [r.staff_id for r in due] == ["P2", "P3"]  # P2's last day is today: still serving


def test_backlog_age_and_the_default_disparity_period_are_in_london_days(
    client: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review: an application without `applied_on` aged from its UTC storage date, and the default
    five-year period clamped the day to 28 (on 31 March it began on 28 March, five years before)."""
    make_force(db)
    # Stored at 23:30 UTC on 31 May 2026: 00:30 on 1 June in London.
    monkeypatch.setattr(registers, "utcnow", lambda: datetime(2026, 5, 31, 23, 30, tzinfo=UTC))
    _vetting(db, [{"staff_id": "P1", "level": "SC", "status": "applied"}])
    (case,) = workforce.vetting_backlog(db, TODAY, actor="staff:M1").oldest
    assert (case.applied_on, case.age_days) == (TODAY, 0)

    make_account(db, "CCU1", {Role.CCU})
    log_in(client, "CCU1")
    monkeypatch.setattr(workforce_web, "utcnow", lambda: datetime(2026, 3, 31, 12, 0, tzinfo=UTC))
    page = client.get("/vetting")
    assert page.status_code == 200
    assert 'value="2021-03-31"' in page.text and 'value="2021-03-28"' not in page.text
