"""The agreement route: the agreement relied on must be named (never picked for the officer), and a finding
that it does not cover something says what it does cover (the officer may not open the agreement's page)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from custodes.disclosure import service as disclosure
from custodes.identity import service as identity
from tests.conftest import PASSWORD, log_in, post_form
from tests.disclosure.world import make_world, principal, probation_request

OFFICER = principal("S1001")


@pytest.fixture
def world(db: Session) -> Session:
    make_world(db)
    identity.set_password(db, "S1001", PASSWORD, "system:test")
    db.commit()
    return db


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _to_the_council(**changes: object) -> dict[str, object]:
    wanted: dict[str, object] = {"purpose": "prevention_of_crime", "lawful_basis": "CDA1998_s115", **changes}
    return probation_request(route="agreement", recipients=["KCC"], **wanted)


def test_an_agreement_route_request_naming_no_agreement_is_blocked_at_the_agreement_field(
    client: TestClient, world: Session
) -> None:
    draft = disclosure.create_draft(world, _to_the_council(agreement=None), OFFICER)  # a draft is saved
    result = disclosure.update_draft(world, draft, _to_the_council(agreement=None), OFFICER)
    (asked,) = [f for f in result.findings if f.code == "AGREEMENT_MISSING"]
    assert asked.where == "agreement" and asked.message == (
        "Agreement: name the agreement you rely on. Agreements naming a recipient: KMISA (Kent and Medway "
        "Information Sharing Agreement, in force)."
    )
    assert "PURPOSE_NOT_COVERED" not in result.codes()
    with pytest.raises(disclosure.DisclosureError):
        disclosure.submit(world, draft, OFFICER)
    world.commit()

    log_in(client, "S1001")
    page = client.get(f"/disclosures/{draft}/edit").text
    # Shown beside the Agreement field, after it and before the recipients.
    at_field = page[page.index('id="agreement"') : page.index('id="recipients"')]
    assert "Agreement: name the agreement you rely on." in _text(at_field)

    named = disclosure.update_draft(world, draft, _to_the_council(agreement="KMISA"), OFFICER)
    assert "AGREEMENT_MISSING" not in named.codes()


def test_a_finding_about_what_an_agreement_covers_lists_what_it_does_cover(world: Session) -> None:
    request = _to_the_council(agreement="KMISA")
    request["items"][0]["kind"] = "intelligence_summary"  # type: ignore[index]
    result = disclosure.check(world, request, actor="system:test")
    (item,) = [f for f in result.findings if f.code == "PURPOSE_NOT_COVERED"]
    assert item.where == "items.0" and item.message == (
        "Item 1 (intelligence summary) is not a data category that agreement KMISA with Kent County Council "
        "covers. It covers: description, name, offending indication, other."
    )
    purpose = disclosure.check(
        world, _to_the_council(agreement="KMISA", purpose="investigation"), actor="system:test"
    )
    (finding,) = [f for f in purpose.findings if f.where == "purpose"]
    assert finding.message == (
        "KMISA does not cover the purpose investigation for Kent County Council. Purposes: KMISA covers "
        "prevention of crime, safeguarding."
    )


def test_the_officer_names_the_agreement_on_screen_and_the_submission_is_refused_until_then(
    client: TestClient, world: Session
) -> None:
    draft = disclosure.create_draft(world, _to_the_council(agreement=None), OFFICER)
    world.commit()
    log_in(client, "S1001")
    refused = post_form(client, f"/disclosures/{draft}/submit")
    assert refused.status_code == 400  # type: ignore[attr-defined]
    assert "Agreement: name the agreement you rely on." in _text(refused.text)  # type: ignore[attr-defined]
