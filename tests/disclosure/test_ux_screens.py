"""Usability fixes on the disclosure screens: what the authoriser sees, policy references in words, errors
at their fields, lawful bases in plain words, the subject confirmed, consequential buttons apart, emergency
deadlines in the queue and one name for each request, route and recipient."""

from __future__ import annotations

import html as html_text
import re

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy.orm import Session

from custodes.agreements import service as agreements
from custodes.disclosure import rules
from custodes.disclosure import service as disclosure
from custodes.disclosure import web as disclosure_web
from custodes.identity import service as identity
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter
from tests.conftest import PASSWORD, log_in, post_form
from tests.disclosure.world import make_world, principal, scheme_request


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


# ------------------------------------------------------------------ 1: the authoriser sees the grounds


def _submitted(db: Session, **changes: object) -> int:
    officer = principal("S1001")
    disclosure_id = disclosure.create_draft(db, scheme_request(**changes), officer)
    disclosure.submit(db, disclosure_id, officer)
    db.commit()
    return disclosure_id


def test_the_authoriser_sees_grounds_risk_and_japan_before_deciding(
    client: TestClient, world: Session
) -> None:
    disclosure_id = _submitted(world, name_justification="Members must know whom to look out for")
    log_in(client, "S1002")
    page = _text(client.get(f"/disclosures/{disclosure_id}").text)
    assert "Awaiting authorisation" in page
    assert "Grounds" in page and "INT-5" in page and "B2" in page
    assert (
        "Risk assessment" in page
        and "Confrontation in store" in page
        and "Members told not to approach" in page
    )
    assert "JAPAN decision record" in page and "Photo only, members only" in page
    assert "Members must know whom to look out for" in page and "Scheme exclusion notice" in page
    # The finding is shown at the panel it concerns, not only in the summary at the top.
    html = client.get(f"/disclosures/{disclosure_id}").text
    slot = html.split('data-where="authorisation"')[1].split("</div>")[0]
    assert "AUTHORISATION_MISSING" in slot
    ledger.flush_pending(world)
    seen = ledger.search(world, EntryFilter(op="consultation", object_type="disclosure", actor="staff:S1002"))
    assert seen and seen[-1].subjects == ["N2001"]


def test_a_missing_risk_plan_is_shown_in_the_risk_panel(client: TestClient, world: Session) -> None:
    request = scheme_request(risk_assessment={"risks": "Confrontation", "plan": None})
    disclosure_id = disclosure.create_draft(world, request, principal("S1001"))
    world.commit()
    log_in(client, "S1001")
    html = client.get(f"/disclosures/{disclosure_id}").text
    slot = html.split('data-where="risk_assessment"')[1].split("</div>")[0]
    assert "RISK_ASSESSMENT_MISSING" in slot


def test_the_authority_document_is_offered_for_decision_marked_not_released(
    client: TestClient, world: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    printed: list[str] = []
    monkeypatch.setattr(disclosure_web, "html_to_pdf", lambda html: printed.append(html) or b"%PDF-fake")
    disclosure_id = _submitted(world)
    log_in(client, "S1002")
    page = client.get(f"/disclosures/{disclosure_id}").text
    assert f'href="/disclosures/{disclosure_id}/authority.pdf"' in page
    response = client.get(f"/disclosures/{disclosure_id}/authority.pdf")
    assert response.status_code == 200
    assert "for decision, not released" in printed[-1] and "FOR DECISION · NOT RELEASED" in printed[-1]
    assert "INT-5" in printed[-1] and "Photo only, members only" in printed[-1]
    disclosure.authorise(world, disclosure_id, principal("S1002"))
    disclosure.release(world, disclosure_id, principal("S1002"))
    world.commit()
    client.get(f"/disclosures/{disclosure_id}/authority.pdf")
    assert "NOT RELEASED" not in printed[-1] and "not released" not in printed[-1]


# --------------------------------------------------------------------------- 3: errors at their fields


def test_refusing_with_no_reasons_is_an_error_at_the_reasons_field(
    client: TestClient, world: Session
) -> None:
    disclosure_id = _submitted(world)
    log_in(client, "S1002")
    response = post_form(client, f"/disclosures/{disclosure_id}/refuse", {"reasons": "  "})
    assert response.status_code == 400  # type: ignore[attr-defined]
    html = response.text  # type: ignore[attr-defined]
    assert 'role="alert"' in html and 'role="status"' not in html
    assert (
        'id="reasons" name="reasons"' in html
        and 'aria-invalid="true" aria-describedby="reasons-error"' in html
    )
    assert 'id="reasons-error"' in html and "Give the reasons for refusing" in html
    assert disclosure.view(world, disclosure_id, principal("S1004"), "t").summary.status == "submitted"


def test_a_bad_undertaking_date_is_shown_at_its_field_and_kept(client: TestClient, world: Session) -> None:
    disclosure_id = _submitted(world)
    disclosure.authorise(world, disclosure_id, principal("S1002"))
    world.commit()
    log_in(client, "S1002")
    response = post_form(
        client, f"/disclosures/{disclosure_id}/release", {"undertaking-M-0001": "31/02/2026"}
    )
    assert response.status_code == 400  # type: ignore[attr-defined]
    html = response.text  # type: ignore[attr-defined]
    assert 'role="alert"' in html and "&#39;31/02/2026&#39; is not a date" in html
    assert 'href="#undertaking-M-0001"' in html
    assert disclosure.view(world, disclosure_id, principal("S1004"), "t").summary.status == "authorised"


def test_a_refused_submission_shows_the_wizard_with_the_reason_as_an_error(
    client: TestClient, world: Session
) -> None:
    disclosure_id = disclosure.create_draft(world, scheme_request(rationale=None), principal("S1001"))
    world.commit()
    log_in(client, "S1001")
    response = post_form(client, f"/disclosures/{disclosure_id}/submit")
    assert response.status_code == 400  # type: ignore[attr-defined]
    text = _text(response.text)  # type: ignore[attr-defined]
    assert 'role="alert"' in response.text and "Saved, but not submitted" in text  # type: ignore[attr-defined]
    assert "Cannot submit" in text and "RATIONALE_MISSING" in text


def test_retention_with_a_non_number_is_an_error_at_its_field(client: TestClient, world: Session) -> None:
    log_in(client, "S1004")
    rule = disclosure.retention_rules(world)[0]
    response = post_form(client, f"/retention/{rule.record_type}", {"keep_days": "six", "basis": "MoPI"})
    assert response.status_code == 400  # type: ignore[attr-defined]
    html = response.text  # type: ignore[attr-defined]
    field = f"keep_days-{rule.record_type}"
    assert 'role="alert"' in html and f'aria-describedby="{field}-error"' in html
    assert "give a whole number of days" in html and 'value="six"' in html and ">MoPI</textarea>" in html


LONG_BASIS = (
    "MoPI APP (Management of Police Information), retention schedule group 3: records of information "
    "shared with partner agencies under s.115 Crime and Disorder Act 1998 are reviewed six years after the "
    "last disclosure, in line with the force's information sharing policy IS-07 paragraph 4.2 and the data "
    "protection impact assessment DPIA-2024-019 agreed with the Data Protection Officer."
)


def test_retention_basis_is_a_textarea_showing_the_whole_basis(client: TestClient, world: Session) -> None:
    """The basis was a one-line input that cut a sentence or two off; it is a textarea holding it all."""
    assert 200 < len(LONG_BASIS) <= disclosure.RETENTION_BASIS_MAX
    rule = disclosure.retention_rules(world)[0]
    disclosure.set_retention_rule(world, rule.record_type, rule.keep_days, LONG_BASIS, "staff:S1004")
    world.commit()
    log_in(client, "S1004")
    html = client.get("/retention").text
    basis = f"basis-{rule.record_type}"
    textarea = re.search(
        rf'<textarea id="{basis}" name="basis" rows="3" maxlength="500"[^>]*>([^<]*)</textarea>', html
    )
    assert textarea is not None and html_text.unescape(textarea.group(1)) == LONG_BASIS
    assert f'<input type="text" id="{basis}"' not in html


def test_retention_basis_too_long_is_an_error_at_its_field_with_the_text_kept(
    client: TestClient, world: Session
) -> None:
    rule = disclosure.retention_rules(world)[0]
    too_long = LONG_BASIS + " " + "Reviewed annually by the Information Management Board. " * 5
    assert len(too_long) > disclosure.RETENTION_BASIS_MAX
    log_in(client, "S1004")
    response = post_form(client, f"/retention/{rule.record_type}", {"keep_days": "400", "basis": too_long})
    assert response.status_code == 400  # type: ignore[attr-defined]
    html = response.text  # type: ignore[attr-defined]
    basis = f"basis-{rule.record_type}"
    assert 'role="alert"' in html and f'href="#{basis}"' in html
    assert re.search(
        rf'<textarea id="{basis}"[^>]*aria-invalid="true" aria-describedby="{basis}-error"', html
    )
    assert f'<p class="bad field-error" id="{basis}-error">The basis can be at most 500 characters' in html
    assert f">{escape(too_long)}</textarea>" in html and 'value="400"' in html
    world.expire_all()
    unchanged = next(r for r in disclosure.retention_rules(world) if r.record_type == rule.record_type)
    assert (unchanged.keep_days, unchanged.basis) == (rule.keep_days, rule.basis)


def test_a_basis_over_the_limit_is_refused_by_the_service(world: Session) -> None:
    rule = disclosure.retention_rules(world)[0]
    with pytest.raises(disclosure.RetentionRuleRefused) as refused:
        disclosure.set_retention_rule(
            world, rule.record_type, 400, "x" * (disclosure.RETENTION_BASIS_MAX + 1), "staff:S1004"
        )
    assert refused.value.field == "basis"
    disclosure.set_retention_rule(
        world, rule.record_type, 400, "x" * disclosure.RETENTION_BASIS_MAX, "staff:S1004"
    )


# --------------------------------------------------------------------------- 4: lawful bases in words


def test_lawful_bases_are_offered_and_shown_in_words_and_stored_as_codes(
    client: TestClient, world: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    disclosure_id = disclosure.create_draft(world, scheme_request(), principal("S1001"))
    world.commit()
    log_in(client, "S1001")
    wizard = client.get(f"/disclosures/{disclosure_id}/edit").text
    assert '<option value="CDA1998_s115" selected>Crime and Disorder Act 1998, s.115</option>' in wizard
    assert ">UK GDPR Art. 6(1)(e): public task</option>" in wizard and ">CDA1998_s115<" not in wizard
    case = _text(client.get(f"/disclosures/{disclosure_id}").text)
    assert "Crime and Disorder Act 1998, s.115" in case and "CDA1998_s115" not in case
    stored = disclosure.view(world, disclosure_id, principal("S1001"), "t").request
    assert stored is not None and stored.lawful_basis == "CDA1998_s115"
    printed: list[str] = []
    monkeypatch.setattr(disclosure_web, "html_to_pdf", lambda html: printed.append(html) or b"%PDF-fake")
    client.get(f"/disclosures/{disclosure_id}/authority.pdf")
    assert "Crime and Disorder Act 1998, s.115" in printed[-1]


def test_an_unknown_configured_basis_is_shown_as_its_code() -> None:
    assert disclosure_web.basis_title("LOCAL_ACT_s9") == "LOCAL_ACT_s9"
    assert disclosure_web.basis_title(None) == ""


# --------------------------------------------------------------------------- 11: consequential buttons


def test_authorise_and_refuse_are_separate_sections(client: TestClient, world: Session) -> None:
    disclosure_id = _submitted(world)
    log_in(client, "S1002")
    html = client.get(f"/disclosures/{disclosure_id}").text
    authorise = html.split('<section class="panel" id="authorise">')[1].split("</section>")[0]
    refuse = html.split('<section class="panel" id="refuse">')[1].split("</section>")[0]
    assert "<h2>Authorise this disclosure</h2>" in authorise and "Refuse" not in authorise
    assert "<h2>Or refuse it</h2>" in refuse and ">Authorise<" not in refuse


def test_release_shows_what_to_whom_and_under_which_power(client: TestClient, world: Session) -> None:
    disclosure_id = _submitted(world)
    disclosure.authorise(world, disclosure_id, principal("S1002"))
    world.commit()
    log_in(client, "S1002")
    html = client.get(f"/disclosures/{disclosure_id}").text
    section = _text(html.split('<section class="panel" id="release">')[1].split("</section>")[0])
    summary, button = section.split("Release and issue the reference")[0], "Release and issue the reference"
    assert button in section
    assert "You are about to release" in summary and "2 items: photo, offending indication" in summary
    assert "Corner Shop Ltd" in summary and "M-0001" in summary
    assert "Crime and Disorder Act 1998, s.115" in summary and "S1002" in summary


# --------------------------------------------------------------------------- 12: emergencies in the queue


def test_an_emergency_in_the_queue_shows_its_authorisation_deadline(
    client: TestClient, world: Session
) -> None:
    from tests.disclosure.world import probation_request

    officer = principal("S1001")
    request = probation_request(
        route="emergency", rationale="Threat to life: he said he would go to her house."
    )
    disclosure_id = disclosure.create_draft(world, request, officer)
    disclosure.release(world, disclosure_id, officer)
    world.commit()
    due = disclosure.view(world, disclosure_id, principal("S1004"), "t").summary.completion_due
    assert due is not None
    log_in(client, "S1003")
    queue = client.get("/disclosures/queue/authorise").text
    row = queue.split(f'href="/disclosures/{disclosure_id}"')[1].split("</tr>")[0]
    assert "Emergency — authorise by" in row and "emergency-due" in row
    assert "Released at once" in _text(row)


# --------------------------------------------------------------------------- 18: one name for each thing


def test_requests_routes_schemes_and_recipients_are_named_the_same_way_everywhere(
    client: TestClient, world: Session
) -> None:
    from tests.disclosure.world import probation_request

    scheme_id = _submitted(world)
    probation_id = disclosure.create_draft(world, probation_request(), principal("S1001"))
    disclosure.submit(world, probation_id, principal("S1001"))
    world.commit()
    log_in(client, "S1001")
    wizard_draft = disclosure.create_draft(world, scheme_request(), principal("S1001"))
    world.commit()
    assert f"<h1>Request {wizard_draft} " in client.get(f"/disclosures/{wizard_draft}/edit").text
    mine = _text(client.get("/disclosures").text)
    assert "Crime-reduction scheme" in mine and "partnership scheme" not in mine
    assert "Competent authority" in mine
    client.cookies.clear()
    log_in(client, "S1003")
    queue = client.get("/disclosures/queue/authorise").text
    assert "<th>Reference</th>" in queue and "<th>Case</th>" not in queue
    row = _text(queue.split(f'href="/disclosures/{probation_id}"')[1].split("</tr>")[0])
    assert f"Request {probation_id}" in row and "Competent authority" in row
    client.cookies.clear()
    log_in(client, "S1002")
    case = _text(client.get(f"/disclosures/{scheme_id}").text)
    scheme = agreements.list_schemes(world)[0]
    assert f"{scheme.name} {scheme.scheme_id}" in case
