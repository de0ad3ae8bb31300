"""The learning screens, driven as a browser would (forms with the CSRF token), and the exports."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from custodes.identity.permissions import Role
from custodes.learning import service as learning
from tests.conftest import post_form
from tests.learning.helpers import OWNER, RECOMMENDATION, make_learning, make_owners


def post(client: TestClient, url: str, data: dict[str, Any]) -> Any:
    return post_form(client, url, data)


def follow(client: TestClient, response: Any) -> str:
    assert response.status_code == 303, response.text
    page = client.get(response.headers["location"])
    assert page.status_code == 200
    return str(page.text)


def test_dpu_adds_a_recommendation_and_its_actions(
    client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    make_owners(db)
    db.commit()
    logged_in(Role.DPU)
    assert "Add a recommendation" in client.get("/learning").text
    form = client.get("/learning/new")
    assert form.status_code == 200 and 'value="FACT_UNVERIFIED"' in form.text
    data = {**RECOMMENDATION, "controls": ["DISCLOSER_TRAINING_EXPIRED", "LEDGER"]}
    page = follow(client, post(client, "/learning", data))
    assert "Recommendation added." in page and "Staff trained in the powers they use to share" in page
    assert "DISCLOSER_TRAINING_EXPIRED" in page and 'href="/disclosures/findings"' in page
    (rec,) = learning.list_recommendations(db)

    refused = post(client, f"/learning/{rec.id}/actions", {"text": "x", "owner_staff_id": "NOBODY"})
    assert refused.status_code == 400
    assert "Owner: NOBODY is not in the staff register" in refused.text
    assert "Due date: is required" in refused.text
    action = {"text": "Recirculate guidance", "owner_staff_id": OWNER, "due_on": "2020-01-01"}
    page = follow(client, post(client, f"/learning/{rec.id}/actions", action))
    assert "Action added: owned by Olive Owen (LRN001), due 1 Jan 2020." in page and "Overdue" in page
    listing = client.get("/learning?overdue=1").text
    assert f"/learning/{rec.id}" in listing and "1 overdue" in listing

    found = learning.get_recommendation(db, rec.id)
    assert found is not None
    (act,) = found.actions
    done = {"completed_on": "2020-01-02", "evidence": "Email of 2 January"}
    page = follow(client, post(client, f"/learning/{rec.id}/actions/{act.id}/complete", done))
    assert "Action completed." in page and "Email of 2 January" in page
    assert f"/learning/{rec.id}" not in client.get("/learning?overdue=1").text

    edit = client.get(f"/learning/{rec.id}/edit")
    assert edit.status_code == 200 and "checked> Tamper-evident audit trail" in edit.text  # words, then code
    bad = post(client, f"/learning/{rec.id}", {**RECOMMENDATION, "controls": ["MADE_UP"], "accepted": "no"})
    assert bad.status_code == 400
    assert "Controls: MADE_UP is not a control of Custodes" in bad.text
    assert "Reason: give the reason" in bad.text
    closed = {**RECOMMENDATION, "status": "done", "evidence": "All done", "controls": ["LEDGER"]}
    page = follow(client, post(client, f"/learning/{rec.id}", closed))
    assert "Recommendation updated." in page and "Add an action" not in page


def test_filters_controls_page_and_exports(
    client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    ids = make_learning(db)
    logged_in(Role.AUDITOR)
    page = client.get("/learning")
    assert page.status_code == 200 and "Add a recommendation" not in page.text
    assert "1 action past their due date" in page.text
    assert "No recommendation matches." in client.get("/learning?source=HMICFRS").text
    assert (
        f"/learning/{ids['recommendation_id']}" in client.get("/learning?control=lawful_basis_missing").text
    )
    assert "Mark done" not in client.get(f"/learning/{ids['recommendation_id']}").text
    controls = client.get("/learning/controls").text
    assert "DECLARED_CONFLICT" in controls and f"L-{ids['recommendation_id']}" in controls
    assert client.get("/learning/999999").status_code == 404

    exported = client.get("/learning/export.csv")
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == 1 and rows[0]["owner_staff_id"] == OWNER and rows[0]["overdue"] == "true"
    assert rows[0]["controls"] == "LAWFUL_BASIS_MISSING;DISCLOSER_TRAINING_EXPIRED"
    assert list(csv.reader(io.StringIO(client.get("/learning/export.csv?source=HMICFRS").text))) == [
        list(rows[0].keys())
    ]
    pdf = client.get("/learning/export.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_csv_cells_that_look_like_formulas_are_quoted(
    client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    make_owners(db)
    learning.create_recommendation(db, {**RECOMMENDATION, "title": "=HYPERLINK(1)"}, "system:test")
    db.commit()
    logged_in(Role.DPU)
    (row,) = list(csv.DictReader(io.StringIO(client.get("/learning/export.csv").text)))
    assert row["title"] == "'=HYPERLINK(1)" and row["action_id"] == ""


def test_controls_are_shown_with_their_words_and_sources_as_instruments(
    client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    """No 'seed 004' (the specification's shorthand) and no bare codes: the instrument, and what it does."""
    ids = make_learning(db)
    logged_in(Role.DPU)
    controls = client.get("/learning/controls").text
    assert "seed" not in controls.lower()
    assert "HMICFRS PEEL 2018, Kent" in controls and "IOPC recommendation to Durham Constabulary" in controls
    register = client.get("/learning").text
    assert "No lawful basis or power named <code>LAWFUL_BASIS_MISSING</code>" in register
    assert ">No lawful basis or power named (LAWFUL_BASIS_MISSING)</option>" in register
    form = client.get("/learning/new").text
    assert (
        'value="FACT_UNVERIFIED"> An item is not verified against a record <code>FACT_UNVERIFIED</code>'
        in form
    )
    page = client.get(f"/learning/{ids['recommendation_id']}").text
    assert "seed" not in page.lower()
    assert "(DPA 2018 s.35(2); IOPC recommendation to Durham Constabulary" in page


def test_an_action_refused_is_shown_in_its_form_with_the_owner_highlighted(
    client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    """The red box sat at the top of the page, far from the form, and the Owner field was not marked."""
    ids = make_learning(db)
    db.commit()
    logged_in(Role.DPU)
    typed = {"text": "Brief the PSD", "owner_staff_id": "S99999", "due_on": "2027-01-01"}
    refused = post(client, f"/learning/{ids['recommendation_id']}/actions", typed)
    assert refused.status_code == 400
    page = refused.text
    form = page[page.index('id="add-action"') :]
    assert page.index('<div class="errors"') > page.index('id="add-action"')  # inside the form
    assert "Owner: S99999 is not in the staff register" in form
    assert '<div class="field wrong"><label for="owner_staff_id">' in form
    assert '<div class="field"><label for="due_on">' in form  # only the field to put right
    assert 'value="S99999"' in form and "Brief the PSD</textarea>" in form


def test_an_owner_may_be_typed_as_a_name_or_as_shown(
    client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    ids = make_learning(db)
    db.commit()
    logged_in(Role.DPU)
    url = f"/learning/{ids['recommendation_id']}/actions"
    by_name = post(client, url, {"text": "One", "owner_staff_id": "mo mills", "due_on": "2027-01-01"})
    assert "owned by Mo Mills (LRN002)" in follow(client, by_name)
    as_shown = {"text": "Two", "owner_staff_id": "Olive Owen (LRN001)", "due_on": "2027-01-01"}
    assert "owned by Olive Owen (LRN001)" in follow(client, post(client, url, as_shown))
    several = post(client, url, {"text": "Three", "owner_staff_id": "o", "due_on": "2027-01-01"})
    assert several.status_code == 400
    assert "matches more than one person (" in several.text and "type the staff number" in several.text
    nobody = post(client, url, {"text": "Four", "owner_staff_id": "Zed Nobody", "due_on": "2027-01-01"})
    assert nobody.status_code == 400
    assert "Owner: Zed Nobody is not in the staff register: type a staff number" in nobody.text


def test_a_recommendation_is_found_by_the_reference_the_screens_show(
    client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    """/learning/L-6 answered "recommendation_id: Input should be a valid integer"."""
    ids = make_learning(db)
    db.commit()
    logged_in(Role.DPU)
    number = ids["recommendation_id"]
    for typed in (f"L-{number}", f"l-{number}", f"L{number}"):
        sent = client.get(f"/learning/{typed}")
        assert sent.status_code == 303 and sent.headers["location"] == f"/learning/{number}"
    assert client.get(f"/learning/{number}").status_code == 200
    missing = client.get("/learning/L-99999")
    assert missing.status_code == 303
    gone = client.get(missing.headers["location"])
    assert gone.status_code == 404 and "There is no recommendation L-99999" in gone.text
    nonsense = client.get("/learning/abc")
    assert nonsense.status_code == 404 and "There is no recommendation abc" in nonsense.text
    assert "valid integer" not in nonsense.text
