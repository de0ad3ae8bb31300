"""The administrators' screens as a member of staff sees them: refusals in the red box by the form with what
was typed kept, role titles rather than codes, pending role requests on the account, a confirm step with a
reason before cutting off an account or a token."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from custodes.identity import service as identity
from custodes.identity.permissions import Role
from custodes.identity.schemas import Principal
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter
from tests.conftest import log_in, make_account, post_form

RED_BOX = '<div class="errors" role="alert"'
GREEN_BANNER = "done="


def _principal(db: Session, staff_id: str) -> Principal:
    return identity.principal_for(db, staff_id)


def _switch(client: TestClient, staff_id: str) -> None:
    client.cookies.clear()
    assert log_in(client, staff_id).status_code == 303  # type: ignore[attr-defined]


def _box(text: str) -> str:
    found = re.search(r'<div class="errors" role="alert" id="([^"]*)">.*?<li>(.*?)</li>', text, re.S)
    assert found is not None, text
    return f"{found.group(1)}: {found.group(2)}"


# --------------------------------------------------------------------------- refusals on the page


def test_a_token_without_a_scope_is_refused_by_the_form_with_the_name_kept(
    client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    """It came back in the green done banner ("Not done: a token needs at least one scope"), name cleared."""
    logged_in(Role.ADMIN)
    refused = post_form(client, "/admin/tokens", {"name": "Niche RMS proxy", "days": "30"})
    assert refused.status_code == 400  # type: ignore[attr-defined]
    page = refused.text  # type: ignore[attr-defined]
    assert _box(page) == "problem: a token needs at least one scope"
    assert "Not done. Please put right:" in page
    assert 'value="Niche RMS proxy"' in page and 'value="30"' in page  # what was typed is kept
    assert '<fieldset class="wrong"><legend>Scopes' in page  # the field to put right is highlighted
    assert page.index(RED_BOX) < page.index('action="/admin/tokens"')  # by the form, above it
    assert identity.list_api_tokens(db) == []


def test_a_token_with_a_bad_lifetime_highlights_the_lifetime_and_keeps_the_scopes(
    client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    logged_in(Role.ADMIN)
    refused = post_form(client, "/admin/tokens", {"name": "feed", "scopes": ["ingest"], "days": "9999"})
    page = refused.text  # type: ignore[attr-defined]
    assert refused.status_code == 400 and "Lifetime (days): enter a whole number from 1 to" in page  # type: ignore[attr-defined]
    assert re.search(r'<div class="field wrong"><label for="days">', page)
    assert 'value="ingest" checked' in page and 'value="feed"' in page


def test_a_bad_setting_is_refused_in_its_row_with_the_value_typed_kept(
    client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    logged_in(Role.ADMIN)
    refused = post_form(client, "/admin/config/review_days", {"value": "soon"})
    assert refused.status_code == 400  # type: ignore[attr-defined]
    page = refused.text  # type: ignore[attr-defined]
    assert _box(page).startswith("problem-review_days: ") and "enter a whole number greater than 0" in page
    assert re.search(
        r'<form class="inline field wrong" method="post" action="/admin/config/review_days">', page
    )
    assert 'value="soon"' in page
    assert identity.config_value(db, "review_days") != "soon"


# --------------------------------------------------------------------------- role titles and requests


def test_the_accounts_list_shows_role_titles_not_codes(
    client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    logged_in(Role.ADMIN)
    make_account(db, "RT1", {Role.CCU, Role.OFFICER}, password=None)
    page = client.get("/admin/accounts", params={"q": "RT1"}).text
    assert "<td>Counter-Corruption Unit, Police officer</td>" in page
    assert '<option value="ccu">Counter-Corruption Unit</option>' in page
    assert ">ccu<" not in page and "ccu, officer" not in page


def test_a_pending_role_request_shows_on_the_account_and_in_the_menu(
    client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    admin = logged_in(Role.ADMIN)
    make_account(db, "RT2", {Role.OFFICER}, password=None)
    asked = post_form(client, "/admin/accounts/RT2/roles", {"roles": ["officer", "ccu"]})
    assert "Giving Test RT2 the Counter-Corruption Unit role" in asked.headers["location"].replace("%20", " ")  # type: ignore[attr-defined]
    page = client.get("/admin/accounts/RT2").text
    assert "Awaiting a second administrator:</strong>" in page
    assert "adds Counter-Corruption Unit" in page and f"asked by Test {admin} ({admin}) on " in page
    assert 'href="/admin/role-requests">Role requests</a>' in page  # the menu entry
    none_waiting = client.get("/admin/accounts/" + admin).text
    assert "Awaiting a second administrator:</strong>" not in none_waiting


def test_a_role_is_not_approved_for_a_disabled_account(client: TestClient, db: Session) -> None:
    """It was: the approver was not told the account was disabled, and enabling it later brought the role."""
    make_account(db, "RA1", {Role.ADMIN})
    make_account(db, "RA2", {Role.ADMIN})
    make_account(db, "RT3", {Role.OFFICER}, password=None)
    asked = identity.change_roles(db, "RT3", {Role.OFFICER, Role.CCU}, _principal(db, "RA1"))
    identity.set_active(db, "RT3", False, _principal(db, "RA1"), reason="suspended")
    db.commit()
    _switch(client, "RA2")
    page = client.get("/admin/role-requests").text
    assert "Account disabled" in page and "This account is disabled" in page
    assert 'value="approve"' not in page  # no Approve button offered
    refused = post_form(client, f"/admin/role-requests/{asked.request_id}", {"decision": "approve"})
    assert refused.status_code == 400  # type: ignore[attr-defined]
    assert _box(refused.text) == (  # type: ignore[attr-defined]
        f"problem-{asked.request_id}: Test RT3 (RT3) is disabled: a role is not given to an account that "
        "cannot be used. Enable the account first (the request waits), or decline it"
    )
    db.expire_all()
    assert set(identity.get_account(db, "RT3").roles) == {Role.OFFICER}  # type: ignore[union-attr]
    # Enabled again, the request waits and can be approved.
    identity.set_active(db, "RT3", True, _principal(db, "RA1"))
    db.commit()
    approved = post_form(client, f"/admin/role-requests/{asked.request_id}", {"decision": "approve"})
    assert approved.status_code == 303  # type: ignore[attr-defined]
    db.expire_all()
    assert set(identity.get_account(db, "RT3").roles) == {Role.OFFICER, Role.CCU}  # type: ignore[union-attr]


# --------------------------------------------------------------------------- confirm with a reason


def test_disabling_an_account_needs_a_reason_kept_in_the_ledger(
    client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    """One click used to disable it; the account page now asks to confirm, with the effect and a reason."""
    admin = logged_in(Role.ADMIN)
    make_account(db, "RT4", {Role.OFFICER})
    page = client.get("/admin/accounts/RT4").text
    assert "<summary" in page and "Disable account…" in page
    assert "Test RT4 will be logged out everywhere at once and cannot log in" in page
    assert re.search(r'<textarea id="disable-reason" name="reason"[^>]* required', page)
    refused = post_form(client, "/admin/accounts/RT4/active", {"active": "false", "reason": "  "})
    assert refused.status_code == 400  # type: ignore[attr-defined]
    assert _box(refused.text).endswith(
        "Reason: say why you are disabling this account; it is kept in the audit ledger"
    )  # type: ignore[attr-defined]
    assert '<details class="confirm" open>' in refused.text  # type: ignore[attr-defined]
    db.expire_all()
    assert identity.get_account(db, "RT4").active  # type: ignore[union-attr]
    done = post_form(
        client, "/admin/accounts/RT4/active", {"active": "false", "reason": "Suspended pending PSD"}
    )
    assert done.status_code == 303  # type: ignore[attr-defined]
    db.expire_all()
    assert not identity.get_account(db, "RT4").active  # type: ignore[union-attr]
    entry = ledger.search(db, EntryFilter(op="alteration", object_id="RT4", actor=f"staff:{admin}"))[0]
    assert entry.justification == "Suspended pending PSD" and entry.detail["active"] is False


def test_revoking_a_token_needs_a_reason_kept_in_the_ledger(
    client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    admin = logged_in(Role.ADMIN)
    identity.create_api_token(db, "Niche RMS proxy", ["access-check"], "system:test")
    db.commit()
    (token,) = identity.list_api_tokens(db)
    page = client.get("/admin/tokens").text
    assert "Revoke…</summary>" in page
    assert (
        "Niche RMS proxy will stop working at once:</strong> every request with this token is refused" in page
    )
    refused = post_form(client, f"/admin/tokens/{token.id}/revoke", {"reason": ""})
    assert refused.status_code == 400  # type: ignore[attr-defined]
    assert _box(refused.text) == (  # type: ignore[attr-defined]
        f"problem-{token.id}: Reason: say why you are revoking the token for Niche RMS proxy; it is kept in "
        "the audit ledger"
    )
    db.expire_all()
    assert identity.list_api_tokens(db)[0].revoked_at is None
    done = post_form(client, f"/admin/tokens/{token.id}/revoke", {"reason": "Client retired"})
    assert done.status_code == 303  # type: ignore[attr-defined]
    db.expire_all()
    assert identity.list_api_tokens(db)[0].revoked_at is not None
    entry = ledger.search(
        db, EntryFilter(op="configuration", object_type="api_token", actor=f"staff:{admin}")
    )[0]
    assert entry.justification == "Client retired" and entry.detail["action"] == "revoked"


@pytest.mark.parametrize("reason", [None, "operator request"])
def test_the_server_commands_may_revoke_and_disable_without_a_reason(reason: str | None, db: Session) -> None:
    make_account(db, "RA9", {Role.ADMIN})
    make_account(db, "RT5", {Role.OFFICER})
    identity.set_active(db, "RT5", False, _principal(db, "RA9"), reason=reason)
    assert not identity.get_account(db, "RT5").active  # type: ignore[union-attr]
