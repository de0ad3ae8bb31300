"""The shared layout every page uses: the skip link, the menu's current entry, home pages and plurals."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from markupsafe import Markup
from sqlalchemy.orm import Session

from custodes.identity import service as identity
from custodes.identity.permissions import Role
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter
from custodes.monitoring import casework
from custodes.web.templating import plural, scroll_tables
from custodes.workforce import service as workforce
from tests.conftest import PASSWORD, log_in
from tests.disclosure.test_lifecycle import _authorised
from tests.disclosure.world import make_world as make_disclosure_world
from tests.monitoring.test_casework import OPENING, UNIT, UNIT_OTHER, make_alerts, make_people
from tests.workforce.test_declarations_screen import GIFT
from tests.workforce.test_gate import make_gate_world
from tests.workforce.test_referrals import _close, _refer
from tests.workforce.test_training_compliance import ACTOR, make_force


def current_menu_entry(page: str) -> list[str]:
    return re.findall(r'<a href="[^"]*" aria-current="page">([^<]+)</a>', page)


def test_the_first_link_skips_to_the_main_content(client: TestClient, db: Session) -> None:
    make_force(db)
    identity.set_password(db, "P1", PASSWORD, ACTOR)
    db.commit()
    log_in(client, "P1")
    page = client.get("/").text
    first_link = re.search(r"<a [^>]*>[^<]*</a>", page)
    assert first_link is not None
    assert first_link.group(0) == '<a class="skip-link" href="#content">Skip to content</a>'
    assert '<main id="content"' in page


def test_the_menu_marks_where_a_declaration_belongs(client: TestClient, db: Session) -> None:
    """A declaration being decided is under /declarations/ but belongs to "Decide declarations"; the menu
    marked "Declarations" (the declarer's own list)."""
    make_force(db)
    for staff_id in ("P1", "M1"):
        identity.set_password(db, staff_id, PASSWORD, ACTOR)
    declaration_id = workforce.make_declaration(db, "P1", GIFT, actor="staff:P1")
    db.commit()
    log_in(client, "P1")
    assert current_menu_entry(client.get(f"/declarations/{declaration_id}").text) == ["Declarations"]
    client.cookies.clear()
    log_in(client, "M1")
    assert current_menu_entry(client.get("/declarations").text) == ["Declarations"]
    assert current_menu_entry(client.get("/declarations/queue").text) == ["Decide declarations"]
    assert current_menu_entry(client.get(f"/declarations/{declaration_id}").text) == ["Decide declarations"]


def test_every_table_is_wrapped_in_a_box_that_scrolls_sideways(client: TestClient, db: Session) -> None:
    """A wide table made the whole page wider than a phone (the alerts queue was 1120 px at 390)."""
    assert scroll_tables(Markup("<p>x</p><table class='t'><tr><td>&lt;table</td></tr></table>")) == (
        "<p>x</p><div class=\"table-scroll\"><table class='t'><tr><td>&lt;table</td></tr></table></div>"
    )
    make_force(db)
    identity.set_password(db, "M1", PASSWORD, ACTOR)
    db.commit()
    log_in(client, "M1")
    page = client.get("/training").text
    # The card's figure counts due-soon as compliant, unlike the chart's "Current" bar: it says so.
    assert "current and due soon together (the chart shows them apart)" in page
    assert page.count("<table") >= 1
    assert page.count("<table") == page.count('<div class="table-scroll"><table')


def test_counts_read_as_english() -> None:
    """ "3 action(s)", "account(s)": a count now takes the word that fits it."""
    assert plural(1, "action") == "1 action"
    assert plural(3, "action") == "3 actions"
    assert plural(0, "account") == "0 accounts"
    assert plural(1204, "account") == "1,204 accounts"
    assert plural(1, "person", "people") == "1 person"
    assert plural(2, "person", "people") == "2 people"


def test_my_record_leads_to_my_referrals(client: TestClient, db: Session) -> None:
    """The gate tells a requester to see My referrals, but no page linked to /me/referrals."""
    make_gate_world(db)
    identity.set_password(db, "S1", PASSWORD, ACTOR)
    db.commit()
    log_in(client, "S1")
    page = client.get("/me").text
    assert "You have no referrals." in page and 'href="/me/referrals"' in page
    first = _refer(db)
    _refer(db, subject_id="N5")
    _close(db, first)
    db.commit()
    page = client.get("/me").text
    assert "2 referrals, <strong>1 with your line manager</strong>." in page
    assert '<a href="/me/referrals">See your referrals</a>' in page


def _home(client: TestClient, staff_id: str) -> str:
    client.cookies.clear()
    log_in(client, staff_id)
    return " ".join(client.get("/").text.split())


def test_a_supervisor_s_home_shows_declarations_to_decide_and_referrals_waiting(
    client: TestClient, db: Session
) -> None:
    """The home page left out a supervisor's main work: declarations to decide and referrals waiting."""
    make_gate_world(db)
    identity.set_password(db, "M1", PASSWORD, ACTOR)
    db.commit()
    home = _home(client, "M1")
    assert '<a href="/declarations/queue">Declarations to decide</a>: none waiting.' in home
    assert '<a href="/referrals">Referrals</a>: none open.' in home
    _refer(db)
    _refer(db, subject_id="N5")
    workforce.make_declaration(db, "S1", GIFT, actor="staff:S1")
    db.commit()
    home = _home(client, "M1")
    assert "Declarations to decide</a>: <strong>1</strong> waiting for your decision." in home
    assert "Referrals</a>: <strong>2 searches</strong> the gate passed to you to do." in home


def test_the_unit_s_home_counts_only_the_alerts_and_investigations_it_may_see(
    client: TestClient, db: Session
) -> None:
    """New alerts and open investigations for the counter-corruption unit, counted as its queues show them:
    none about the viewer (Ben is the subject of two of the four alerts and of the investigation)."""
    make_people(db)
    make_alerts(db)
    for staff_id in (UNIT, UNIT_OTHER):
        identity.set_password(db, staff_id, PASSWORD, ACTOR)
    casework.open_investigation(db, ["AL-UNIT"], identity.principal_for(db, UNIT), reason=OPENING)
    db.commit()
    carol = _home(client, UNIT)
    assert "<strong>3</strong> new, waiting for triage." in carol
    assert '<a href="/investigations">Investigations</a>: <strong>1</strong> open.' in carol
    ben = _home(client, UNIT_OTHER)
    assert "<strong>2</strong> new, waiting for triage." in ben
    assert '<a href="/investigations">Investigations</a>: none open.' in ben
    # Counts name nobody: the home page is not a consultation.
    assert not [e for e in ledger.search(db, EntryFilter(op="consultation")) if e.actor == f"staff:{UNIT}"]


def test_an_officer_s_home_says_an_authorised_request_is_theirs_to_release(
    client: TestClient, db: Session
) -> None:
    """The officer's card said only "1 of your requests are in progress", not that it waited for them."""
    make_disclosure_world(db)
    identity.set_password(db, "S1001", PASSWORD, ACTOR)
    db.commit()
    assert "authorised — release" not in _home(client, "S1001")
    first = _authorised(db)
    db.commit()
    home = _home(client, "S1001")
    assert "<strong>1</strong> of your requests is in progress." in home
    assert f'<a href="/disclosures/{first}">1 authorised — release it</a>' in home
    _authorised(db)
    db.commit()
    assert '<a href="/disclosures">2 authorised — release them</a>' in _home(client, "S1001")


def test_the_retention_basis_sits_under_its_heading_in_the_rule_s_form(
    client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    """The basis input wrapped under "Keep for (days)": one form spans the two cells now (form attribute)."""
    logged_in(Role.DPU)
    page = client.get("/retention").text
    for record_type in ("disclosure_released", "disclosure_refused", "disclosure_draft"):
        assert f'<form id="rule-{record_type}" method="post" action="/retention/{record_type}">' in page
        assert re.search(
            rf'<td class="retention-basis"><textarea id="basis-{record_type}" name="basis"'
            rf'[^>]*form="rule-{record_type}"',
            page,
        )
        assert f'<button type="submit" class="secondary" form="rule-{record_type}">Save</button>' in page
