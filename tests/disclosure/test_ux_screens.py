"""Usability fixes on the disclosure screens: what the authoriser sees, policy references in words, errors
at their fields, lawful bases in plain words, the subject confirmed, consequential buttons apart, emergency
deadlines in the queue and one name for each request, route and recipient."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from custodes.disclosure import rules
from custodes.identity import service as identity
from tests.conftest import PASSWORD, log_in
from tests.disclosure.world import make_world


@pytest.fixture
def world(db: Session) -> Session:
    make_world(db)
    for staff_id in ("S1001", "S1002", "S1003", "S1004"):
        identity.set_password(db, staff_id, PASSWORD, "system:test")
    db.commit()
    return db


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --------------------------------------------------------------------------- 2: policy references in words


def test_no_finding_cites_an_internal_design_reference() -> None:
    for code, rule in rules.FINDINGS.items():
        assert "seed" not in rule.policy.lower(), code


def test_the_checks_page_spells_out_k10_and_keeps_capitals(client: TestClient, world: Session) -> None:
    log_in(client, "S1001")
    page = _text(client.get("/disclosures/findings").text)
    assert "seed" not in page.lower()
    assert "the force's policy on disclosure to crime-reduction schemes" in page
    assert "A JAPAN consideration is not recorded" in page and "A japan" not in page
    assert "only for the K10 purposes" in page and "k10" not in page
    assert "IOPC recommendation to Kent Police, June 2023" in page
