"""The wizard's form → request: what a verification vouches for, and how many rows a request holds."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from custodes.disclosure import service as disclosure
from custodes.disclosure.schemas import RequestUnreadable
from custodes.disclosure.web import MAX_ROWS, add_row, document_from_form
from custodes.identity import service as identity
from tests.conftest import PASSWORD, log_in, post_form
from tests.disclosure.world import make_world, principal, scheme_request

OFFICER = principal("S1001")
EARLIER = {"by": "S1001", "at": "2020-01-01T09:00:00+00:00", "method": "checked against source record"}
SOURCE = {"kind": "system_record", "system": "Genesis", "record_id": "INT-5"}
PHOTO = {"custody_image": True, "offence_outcome": "convicted", "held_on": "Genesis"}


def _previous(kind: str = "other") -> dict[str, Any]:
    item: dict[str, Any] = {
        "kind": kind,
        "content": "Seen in store on 3 Oct",
        "source": SOURCE,
        "verified": EARLIER,
    }
    if kind == "photo":
        item["photo"] = PHOTO
    return {"items": [item]}


def _posted(kind: str = "other", **changes: str) -> FormData:
    fields = {
        "item-0-kind": kind,
        "item-0-content": "Seen in store on 3 Oct",
        "item-0-source_kind": "system_record",
        "item-0-source_system": "Genesis",
        "item-0-source_record_id": "INT-5",
        "item-0-verified": "1",
    }
    if kind == "photo":
        fields |= {
            "item-0-custody_image": "1",
            "item-0-offence_outcome": "convicted",
            "item-0-held_on": "Genesis",
        }
    fields |= {f"item-0-{key}": value for key, value in changes.items()}
    return FormData([(key, value) for key, value in fields.items() if value != "(none)"])


def _verified(form: FormData, previous: dict[str, Any]) -> Any:
    return document_from_form(form, OFFICER, previous)["items"][0].get("verified")


def test_a_verification_is_kept_while_words_and_source_stay_the_same() -> None:
    assert _verified(_posted(), _previous()) == EARLIER
    assert _verified(_posted(source_system=" Genesis "), _previous()) == EARLIER  # spacing is not a change
    assert _verified(_posted("photo"), _previous("photo")) == EARLIER


@pytest.mark.parametrize(
    ("kind", "changes"),
    [
        ("other", {"content": "Seen in store on 4 Oct"}),
        ("other", {"source_system": "Athena", "source_record_id": "OCC-999"}),  # the review's case
        ("other", {"source_record_id": "INT-6"}),
        ("other", {"source_kind": "document"}),
        ("photo", {"held_on": "Athena"}),
        ("photo", {"offence_outcome": "cautioned"}),
        ("photo", {"custody_image": "(none)"}),
    ],
    ids=[
        "words",
        "system-and-record",
        "record",
        "source-kind",
        "photo-held-on",
        "photo-outcome",
        "photo-custody",
    ],
)
def test_a_verification_of_something_else_is_not_kept(kind: str, changes: dict[str, str]) -> None:
    verified = _verified(_posted(kind, **changes), _previous(kind))
    assert verified != EARLIER
    assert verified["by"] == "S1001" and verified["at"] != EARLIER["at"]  # made now, by whoever ticked it


def _rows_form(count: int) -> FormData:
    pairs = []
    for n in range(count):
        pairs += [(f"item-{n}-kind", "other"), (f"item-{n}-content", f"fact {n}")]
    return FormData(pairs)


def test_rows_past_the_limit_are_refused_not_dropped() -> None:
    assert len(document_from_form(_rows_form(MAX_ROWS), OFFICER, {})["items"]) == MAX_ROWS == 30
    with pytest.raises(RequestUnreadable) as refused:
        document_from_form(_rows_form(MAX_ROWS + 1), OFFICER, {})
    assert refused.value.problems == [
        "items: a request holds at most 30 items; the form sent 31, so nothing was saved"
    ]
    removed = FormData([*_rows_form(MAX_ROWS + 1).multi_items(), ("item-3-remove", "1")])
    assert len(document_from_form(removed, OFFICER, {})["items"]) == MAX_ROWS  # removing one is enough


def test_adding_a_row_to_a_full_group_adds_nothing() -> None:
    document = document_from_form(_rows_form(MAX_ROWS - 1), OFFICER, {})
    assert add_row(document, "item") and len(document["items"]) == MAX_ROWS
    assert not add_row(document, "item") and len(document["items"]) == MAX_ROWS
    assert add_row(document, "intel") and add_row(document, "outcome")


# --------------------------------------------------------------------------- on the screen (both databases)


@pytest.fixture
def world(db: Session) -> Session:
    make_world(db)
    identity.set_password(db, "S1001", PASSWORD, "system:test")
    db.commit()
    return db


def _full_draft(db: Session) -> int:
    request = scheme_request()
    request["items"] = [dict(request["items"][1], content=f"fact {n}") for n in range(MAX_ROWS)]
    disclosure_id = disclosure.create_draft(db, request, OFFICER)
    disclosure.update_draft(db, disclosure_id, request, OFFICER)
    db.commit()
    return disclosure_id


def _items(db: Session, disclosure_id: int) -> int:
    return len(disclosure.draft_document(db, disclosure_id, OFFICER)["items"])


def test_the_wizard_offers_no_add_button_at_the_limit_and_says_why(
    client: TestClient, world: Session
) -> None:
    disclosure_id = _full_draft(world)
    log_in(client, "S1001")
    page = client.get(f"/disclosures/{disclosure_id}/edit")
    assert "Add an item" not in page.text
    assert "A request holds at most 30 items: remove one to add another." in page.text
    assert "Add an intelligence record" in page.text
    form = {
        "route": "partnership_scheme",
        "subject": "N2001",
        "purpose": "prevention_of_crime",
        "scheme": "SCH-01",
    }
    for n in range(MAX_ROWS):
        form |= {f"item-{n}-kind": "other", f"item-{n}-content": f"fact {n}"}
    added = post_form(client, f"/disclosures/{disclosure_id}/edit", {**form, "add": "item"})
    assert added.status_code == 303
    assert "at most 30 items" in client.get(added.headers["location"]).text
    assert _items(world, disclosure_id) == MAX_ROWS
    form |= {
        "item-0-content": "changed",
        f"item-{MAX_ROWS}-kind": "other",
        f"item-{MAX_ROWS}-content": "too many",
    }
    refused = post_form(client, f"/disclosures/{disclosure_id}/edit", form)
    assert refused.status_code == 400
    assert "Items: a request holds at most 30 items; the form sent 31, so nothing was saved" in refused.text
    assert _items(world, disclosure_id) == MAX_ROWS
    assert disclosure.draft_document(world, disclosure_id, OFFICER)["items"][0]["content"] == "fact 0"
