"""Roles (with two-person control over sensitive self-grants), API tokens, and configuration changes."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from custodes.cli import app as cli
from custodes.identity import service as identity
from custodes.identity.models import ApiToken, RoleRequest
from custodes.identity.permissions import (
    NEEDS_SECOND_ADMIN,
    ROLE_TITLES,
    SCOPE_REACH,
    SCOPES_NEEDING_SECOND_ADMIN,
    Role,
    Scope,
)
from custodes.identity.schemas import Principal
from custodes.kit.db import utcnow
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryDraft, EntryFilter, Op
from custodes.settings import Settings
from custodes.web.app import create_app
from tests.conftest import log_in, make_account, post_form
from tests.support.concurrency import at_once


def _entries(db: Session, op: str, **criteria: str) -> list[ledger.StoredEntry]:
    db.expire_all()
    return ledger.search(db, EntryFilter(op=op, **criteria))


def _roles(db: Session, staff_id: str) -> set[Role]:
    db.expire_all()
    found = identity.get_account(db, staff_id)
    assert found is not None
    return set(found.roles)


def _flash(response: object) -> str:
    """The redirect's banner message, without the timestamp and signature the app adds to it; or, for a
    refusal, "Not done: " and the reason shown in the red box on the page sent back (400). Refusals used to
    come back in the green done banner, with what was typed lost."""
    if response.status_code == 400:  # type: ignore[attr-defined]
        return "Not done: " + _problem(response)
    assert response.status_code == 303  # type: ignore[attr-defined]
    sealed = unquote(response.headers["location"].partition("done=")[2])  # type: ignore[attr-defined]
    return sealed.rsplit(".", 2)[0]


def _problem(response: object) -> str:
    """The reason in the red "Not done. Please put right" box of a page sent back after a refusal."""
    text = response.text  # type: ignore[attr-defined]
    box = re.search(
        r'<div class="errors" role="alert" id="[^"]*">\s*<strong>Not done\. Please put right:</strong>\s*'
        r"<ul><li>(.*?)</li></ul>",
        text,
        re.S,
    )
    assert box is not None, text
    return html.unescape(box.group(1))


def _switch(client: TestClient, staff_id: str) -> None:
    client.cookies.clear()
    assert log_in(client, staff_id).status_code == 303  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- roles


def test_an_administrator_changes_someone_elses_roles(
    client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    admin = logged_in(Role.ADMIN)
    make_account(db, "R1", {Role.OFFICER}, password=None)
    response = post_form(client, "/admin/accounts/R1/roles", {"roles": ["staff", "analyst"]})
    assert response.status_code == 303  # type: ignore[attr-defined]
    assert _flash(response) == "Roles updated."
    assert _roles(db, "R1") == {Role.STAFF, Role.ANALYST}
    change = _entries(db, "alteration", object_id="R1", actor=f"staff:{admin}")[0]
    assert change.detail["added"] == ["analyst", "staff"] and change.detail["removed"] == ["officer"]
    page = client.get("/admin/accounts/R1")
    assert page.status_code == 200 and "Roles updated." not in page.text


@pytest.mark.parametrize("role", sorted(NEEDS_SECOND_ADMIN), ids=str)
def test_a_sensitive_role_for_anyone_waits_for_a_second_administrator(
    client: TestClient, db: Session, logged_in: Callable[[Role], str], role: Role
) -> None:
    """Else an administrator could give it to an account of their choosing and log in as it."""
    admin = logged_in(Role.ADMIN)
    make_account(db, "R3", {Role.OFFICER}, password=None)
    response = post_form(client, "/admin/accounts/R3/roles", {"roles": ["officer", str(role)]})
    assert _flash(response) == (
        f"Giving Test R3 the {ROLE_TITLES[role]} role waits for a second administrator's approval."
    )
    assert _roles(db, "R3") == {Role.OFFICER}
    request = db.scalars(select(RoleRequest).where(RoleRequest.staff_id == "R3")).one()
    assert request.requested_by == admin and request.outcome is None


def test_an_administrator_cannot_set_the_password_of_another_sensitive_account(
    client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    logged_in(Role.ADMIN)
    make_account(db, "A8", {Role.ADMIN}, password=None)
    make_account(db, "C8", {Role.CCU, Role.OFFICER}, password=None)
    make_account(db, "O8", {Role.OFFICER}, password=None)
    make_account(db, "S8", {Role.SUPERVISOR, Role.OFFICER}, password=None)
    make_account(db, "I8", {Role.AIC}, password=None)
    for staff_id, role in (
        ("A8", "System administrator"),
        ("C8", "Counter-Corruption Unit"),
        ("S8", "Supervisor (line manager)"),
        ("I8", "Area Intelligence Co-ordinator"),
    ):
        refused = post_form(
            client, f"/admin/accounts/{staff_id}/password", {"password": "a long new password"}
        )
        assert _flash(refused) == (
            f"Not done: {staff_id} holds the {role} role: their password can only be changed by them or on "
            "the server (custodes account set-password)"
        )
        db.expire_all()
        assert identity.get_account(db, staff_id).has_password is False  # type: ignore[union-attr]
    allowed = post_form(client, "/admin/accounts/O8/password", {"password": "a long new password"})
    assert _flash(allowed) == "Password set. Give it to the member of staff in person."


def test_an_unknown_role_is_refused_by_name(
    client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    logged_in(Role.ADMIN)
    make_account(db, "R2", {Role.OFFICER}, password=None)
    response = post_form(client, "/admin/accounts/R2/roles", {"roles": ["officer", "wizard"]})
    assert "wizard" in _flash(response) and _flash(response).startswith("Not done")
    assert _roles(db, "R2") == {Role.OFFICER}


@pytest.mark.parametrize("role", sorted(NEEDS_SECOND_ADMIN - {Role.ADMIN}), ids=str)
def test_a_sensitive_self_grant_becomes_a_request(role: Role, db: Session) -> None:
    """(Only an administrator can change roles, so `admin` itself is never a self-grant.)"""
    make_account(db, "A1", {Role.ADMIN}, password=None)
    make_account(db, "A2", {Role.ADMIN}, password=None)
    first, second = identity.principal_for(db, "A1"), identity.principal_for(db, "A2")
    wanted = {Role.ADMIN, Role.OFFICER, role}
    result = identity.change_roles(db, "A1", wanted, first)
    assert not result.applied and result.request_id is not None
    assert _roles(db, "A1") == {Role.ADMIN}  # nothing of the change applies until approved
    with pytest.raises(identity.IdentityError, match="second administrator"):
        identity.decide_role_request(db, result.request_id, True, first)
    identity.decide_role_request(db, result.request_id, True, second)
    db.commit()
    assert _roles(db, "A1") == wanted
    # Trading administration for another sensitive role is a self-grant too.
    swap = identity.change_roles(db, "A2", {role}, second)
    assert not swap.applied and _roles(db, "A2") == {Role.ADMIN}
    with pytest.raises(identity.IdentityError, match="already been decided"):
        identity.decide_role_request(db, result.request_id, False, second)


def test_two_person_control_through_the_screens(client: TestClient, db: Session) -> None:
    make_account(db, "A3", {Role.ADMIN})
    make_account(db, "A4", {Role.ADMIN})
    _switch(client, "A3")
    response = post_form(client, "/admin/accounts/A3/roles", {"roles": ["admin", "ccu"]})
    assert "second administrator" in _flash(response)
    assert _roles(db, "A3") == {Role.ADMIN}
    request = db.scalars(select(RoleRequest).where(RoleRequest.staff_id == "A3")).one()
    assert request.outcome is None and request.requested_by == "A3"
    assert _entries(db, "configuration", object_id="A3")[0].detail["requested_roles"] == ["admin", "ccu"]
    waiting = client.get("/admin/role-requests")
    assert "A3" in waiting.text and "<strong>Adds</strong> Counter-Corruption Unit" in waiting.text
    assert "1 role change awaits a second administrator" in client.get("/").text
    # The same administrator cannot approve their own request.
    own = post_form(client, f"/admin/role-requests/{request.id}", {"decision": "approve"})
    assert _flash(own).startswith("Not done") and "second administrator" in _flash(own)
    assert _roles(db, "A3") == {Role.ADMIN}
    # A second administrator can.
    _switch(client, "A4")
    approved = post_form(client, f"/admin/role-requests/{request.id}", {"decision": "approve"})
    assert _flash(approved) == "Role change approved."
    assert _roles(db, "A3") == {Role.ADMIN, Role.CCU}
    authorisation = _entries(db, "authorisation", object_id="A3")[0]
    assert authorisation.actor == "staff:A4" and authorisation.detail["request"] == request.id
    db.expire_all()
    assert db.get(RoleRequest, request.id).decided_by == "A4"  # type: ignore[union-attr]


def test_a_declined_request_changes_nothing(db: Session) -> None:
    make_account(db, "A5", {Role.ADMIN}, password=None)
    make_account(db, "A6", {Role.ADMIN}, password=None)
    result = identity.change_roles(db, "A5", {Role.ADMIN, Role.AUDITOR}, identity.principal_for(db, "A5"))
    assert result.request_id is not None
    identity.decide_role_request(db, result.request_id, False, identity.principal_for(db, "A6"))
    db.commit()
    assert _roles(db, "A5") == {Role.ADMIN}
    assert _entries(db, "refusal", object_id="A5")[0].actor == "staff:A6"
    assert identity.pending_role_requests(db) == []


def test_removing_roles_and_ordinary_grants_to_others_apply_directly(client: TestClient, db: Session) -> None:
    make_account(db, "A7", {Role.ADMIN})
    make_account(db, "C7", {Role.CCU, Role.OFFICER}, password=None)
    _switch(client, "A7")
    removed = post_form(client, "/admin/accounts/C7/roles", {"roles": ["officer"]})
    assert _flash(removed) == "Roles updated."
    assert _roles(db, "C7") == {Role.OFFICER}
    added = post_form(client, "/admin/accounts/C7/roles", {"roles": ["officer", "analyst"]})
    assert _flash(added) == "Roles updated."
    assert _roles(db, "C7") == {Role.OFFICER, Role.ANALYST}
    assert identity.pending_role_requests(db) == []


@pytest.mark.parametrize(
    "wanted",
    [["admin", "officer"], ["admin", "aic", "supervisor"], ["officer"], ["admin", "analyst"]],
    ids=["officer", "aic-and-supervisor", "give-up-admin", "analyst"],
)
def test_every_change_to_ones_own_roles_waits_for_a_second_administrator(
    wanted: list[str], client: TestClient, db: Session
) -> None:
    """An administrator gave themselves aic and supervisor alone, and with them the authorisation of
    disclosures (one they could draft as an officer whose password they set); any change to one's own
    roles, even a removal, now waits."""
    make_account(db, "A7", {Role.ADMIN, Role.CCU})
    _switch(client, "A7")
    response = post_form(client, "/admin/accounts/A7/roles", {"roles": wanted})
    assert _flash(response) == (
        "You cannot change your own roles: a second administrator must approve the change."
    )
    assert _roles(db, "A7") == {Role.ADMIN, Role.CCU}
    (request,) = identity.pending_role_requests(db)
    assert request.staff_id == "A7" and request.roles == ";".join(sorted(wanted))
    assert client.get("/disclosures/queue/authorise").status_code == 403
    assert client.get("/admin/accounts").status_code == 200


@pytest.mark.parametrize("role", [Role.AIC, Role.SUPERVISOR], ids=str)
def test_roles_that_approve_others_work_need_a_second_administrator(
    role: Role, client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    """aic and supervisor authorise disclosures (supervisors also decide declarations and referrals)."""
    logged_in(Role.ADMIN)
    make_account(db, "R9", {Role.OFFICER}, password=None)
    response = post_form(client, "/admin/accounts/R9/roles", {"roles": ["officer", str(role)]})
    assert _flash(response) == (
        f"Giving Test R9 the {ROLE_TITLES[role]} role waits for a second administrator's approval."
    )
    assert _roles(db, "R9") == {Role.OFFICER}


def test_an_administrator_cannot_disable_themselves(client: TestClient, db: Session) -> None:
    make_account(db, "A8", {Role.ADMIN})
    _switch(client, "A8")
    response = post_form(client, "/admin/accounts/A8/active", {"active": "false"})
    assert "cannot disable your own account" in _flash(response)
    assert client.get("/admin/accounts").status_code == 200


# --------------------------------------------------------------------------- API tokens


def test_unknown_scope_is_refused_by_name(db: Session) -> None:
    with pytest.raises(identity.IdentityError, match="'ledger:write'") as refused:
        identity.create_api_token(db, "client", ["ledger:read", "ledger:write"], "system:test")
    assert "ledger:read" in str(refused.value)  # the known scopes are listed
    with pytest.raises(identity.IdentityError, match="at least one scope"):
        identity.create_api_token(db, "client", [], "system:test")
    with pytest.raises(identity.IdentityError, match="name"):
        identity.create_api_token(db, "  ", ["ledger:read"], "system:test")


def test_tokens_resolve_until_revoked(client: TestClient, db: Session) -> None:
    token = identity.create_api_token(db, "verifier", ["ledger:read"], "system:test")
    db.commit()
    stored = db.scalars(select(ApiToken).where(ApiToken.name == "verifier")).one()
    assert token not in (stored.token_hash, stored.scopes) and token.startswith("cst_")
    principal = identity.resolve_api_token(db, token)
    assert principal is not None and principal.scopes == frozenset({Scope.LEDGER_READ})
    assert principal.name == "verifier" and principal.actor == f"system:api-token-{stored.id}"
    assert identity.resolve_api_token(db, token + "x") is None
    assert identity.resolve_api_token(db, token.removeprefix("cst_")) is None
    assert client.get("/api/v1/token", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    identity.revoke_api_token(db, stored.id, "system:test")
    db.commit()
    assert identity.resolve_api_token(db, token) is None
    refused = client.get("/api/v1/ledger/checkpoint", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401
    assert _entries(db, "configuration", object_type="api_token")[0].detail["action"] == "revoked"


def test_a_token_without_the_scope_gets_403(client: TestClient, db: Session) -> None:
    token = identity.create_api_token(db, "gatekeeper", ["access-check", "ingest"], "system:test")
    db.commit()
    response = client.get("/api/v1/ledger/checkpoint", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert "ledger:read" in response.json()["detail"]


def _shown_token(page: object) -> str:
    return page.text.split("<code>")[1].split("</code>")[0]  # type: ignore[attr-defined]


def test_tokens_through_the_screens(client: TestClient, db: Session, settings: Settings) -> None:
    """A token made on the screens is shown once and works only after a second administrator approves it
    (the old test used it at once: that was the defect)."""
    make_account(db, "K1", {Role.ADMIN})
    make_account(db, "K2", {Role.ADMIN})
    _switch(client, "K1")
    page = post_form(client, "/admin/tokens", {"name": "PND audit feed", "scopes": ["ledger:read"]})
    assert page.status_code == 200  # type: ignore[attr-defined]
    assert "It does not work yet" in page.text  # type: ignore[attr-defined]
    shown = _shown_token(page)
    headers = {"Authorization": f"Bearer {shown}"}
    assert client.get("/api/v1/token", headers=headers).status_code == 401
    stored = db.scalars(select(ApiToken).where(ApiToken.name == "PND audit feed")).one()
    assert stored.approval == "pending" and stored.created_by == "staff:K1"
    listing = client.get("/admin/tokens").text
    assert shown not in listing  # shown once only
    assert "by Test K1 (K1)" in listing and "Awaiting a second administrator" in listing
    assert f"/admin/tokens/{stored.id}/decision" not in listing  # not offered to the one who made it
    own = post_form(client, f"/admin/tokens/{stored.id}/decision", {"decision": "approve"})
    assert (
        _flash(own) == "Not done: a second administrator must decide on this token, not the one who made it"
    )
    assert client.get("/api/v1/token", headers=headers).status_code == 401
    _switch(client, "K2")
    assert f"/admin/tokens/{stored.id}/decision" in client.get("/admin/tokens").text
    approved = post_form(client, f"/admin/tokens/{stored.id}/decision", {"decision": "approve"})
    assert _flash(approved) == "Token approved: it works from now on."
    assert client.get("/api/v1/token", headers=headers).json() == {
        "id": stored.id,
        "name": "PND audit feed",
        "scopes": ["ledger:read"],
    }
    assert "Approved by Test K2 (K2)" in client.get("/admin/tokens").text
    authorisation = _entries(db, "authorisation", object_type="api_token")[0]
    assert authorisation.actor == "staff:K2" and authorisation.object_id == str(stored.id)
    bad = post_form(client, "/admin/tokens", {"name": "x", "scopes": ["everything"]})
    assert "everything" in _flash(bad)
    revoked = post_form(client, f"/admin/tokens/{stored.id}/revoke", {"reason": "client retired"})
    assert _flash(revoked) == "Token revoked."
    assert client.get("/api/v1/token", headers=headers).status_code == 401
    assert _flash(post_form(client, "/admin/tokens/999999/revoke")).startswith("Not done")


def test_an_administrator_cannot_read_the_ledger_or_push_events_with_a_token_of_their_own(
    client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    """docs/security.md: an administrator is not trusted to read the ledger's contents; nor to put
    invented accesses into misuse monitoring in an officer's name."""
    logged_in(Role.ADMIN)
    page = post_form(
        client, "/admin/tokens", {"name": "x", "scopes": ["ledger:read", "ingest", "access-check"]}
    )
    headers = {"Authorization": f"Bearer {_shown_token(page)}"}
    assert client.get("/api/v1/ledger/entries?from=0", headers=headers).status_code == 401
    assert client.post("/api/v1/access-events", headers=headers, json={}).status_code == 401
    assert client.post("/api/v1/access-check", headers=headers, json={}).status_code == 401


def test_a_declined_token_never_works(client: TestClient, db: Session) -> None:
    make_account(db, "K3", {Role.ADMIN}, password=None)
    make_account(db, "K4", {Role.ADMIN}, password=None)
    token, pending = identity.request_api_token(
        db, "feed", ["ingest"], 30, 90, identity.principal_for(db, "K3")
    )
    assert pending
    token_id = db.scalars(select(ApiToken.id).where(ApiToken.name == "feed")).one()
    identity.decide_api_token(db, token_id, False, identity.principal_for(db, "K4"))
    db.commit()
    assert identity.resolve_api_token(db, token) is None
    with pytest.raises(identity.IdentityError, match="not awaiting approval"):
        identity.decide_api_token(db, token_id, True, identity.principal_for(db, "K4"))
    assert _entries(db, "refusal", object_type="api_token")[0].detail["action"] == "declined"


def test_every_scope_says_whether_a_screen_token_needs_approval() -> None:
    assert set(SCOPE_REACH) == set(Scope)
    assert {Scope.LEDGER_READ, Scope.INGEST} <= SCOPES_NEEDING_SECOND_ADMIN


def test_tokens_expire(client: TestClient, db: Session, settings: Settings) -> None:
    made = identity.create_api_token(db, "short-lived", ["ledger:read"], "system:test", days=3)
    db.commit()
    row = db.scalars(select(ApiToken).where(ApiToken.name == "short-lived")).one()
    assert timedelta(days=3) - (row.expires_at - row.created_at) < timedelta(seconds=1)
    headers = {"Authorization": f"Bearer {made}"}
    assert client.get("/api/v1/token", headers=headers).status_code == 200
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.commit()
    assert identity.resolve_api_token(db, made) is None
    assert client.get("/api/v1/token", headers=headers).status_code == 401
    default = identity.create_api_token(db, "default", ["ingest"], "system:test")
    assert default
    row = db.scalars(select(ApiToken).where(ApiToken.name == "default")).one()
    assert (row.expires_at - row.created_at).days == settings.api_token_days == 90


def test_the_screens_offer_at_most_the_configured_lifetime(
    client: TestClient, db: Session, logged_in: Callable[[Role], str], settings: Settings
) -> None:
    logged_in(Role.ADMIN)
    page = client.get("/admin/tokens").text
    assert f'max="{settings.api_token_days}"' in page and "needs a second administrator" in page
    too_long = post_form(client, "/admin/tokens", {"name": "y", "scopes": ["ingest"], "days": "91"})
    assert _flash(too_long) == "Not done: Lifetime (days): enter a whole number from 1 to 90"
    for bad in ("0", "abc", "1.5"):
        refused = post_form(client, "/admin/tokens", {"name": "y", "scopes": ["ingest"], "days": bad})
        assert _flash(refused).startswith("Not done: Lifetime (days)")
    made = post_form(client, "/admin/tokens", {"name": "week", "scopes": ["ingest"], "days": "7"})
    assert made.status_code == 200  # type: ignore[attr-defined]
    row = db.scalars(select(ApiToken).where(ApiToken.name == "week")).one()
    assert (row.expires_at - row.created_at).days == 7
    assert row.expires_at.strftime("%Y") in client.get("/admin/tokens").text


def test_cli_creates_a_token_that_works(
    backend: str, new_database: Callable[[str], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CUSTODES_SECRET_KEY", raising=False)
    url = new_database(backend)
    env = {"CUSTODES_HOME": str(tmp_path / "home"), "CUSTODES_DATABASE_URL": url}
    runner = CliRunner()
    assert runner.invoke(cli, ["init"], env=env).exit_code == 0
    made = runner.invoke(cli, ["api-token", "create", "--name", "X", "--scope", "ledger:read"], env=env)
    assert made.exit_code == 0, made.output
    token = made.stdout.strip().splitlines()[-1]
    assert token.startswith("cst_")
    wrong = runner.invoke(cli, ["api-token", "create", "--name", "Y", "--scope", "ledger:write"], env=env)
    assert wrong.exit_code == 1 and "ledger:write" in wrong.output
    several = ["api-token", "create", "--name", "Z", "--scope", "access-check", "ingest"]  # as imports.md
    two = runner.invoke(cli, several, env=env)
    assert two.exit_code == 0, two.output
    assert runner.invoke(cli, [*several[:-1], "ingest,ledger:read"], env=env).exit_code == 0
    app = create_app(Settings(home=tmp_path / "home", database_url=url), checkpointer=False)
    try:
        with TestClient(app, base_url="https://testserver") as client:
            headers = {"Authorization": f"Bearer {token}"}
            assert client.get("/api/v1/token", headers=headers).json()["scopes"] == ["ledger:read"]
            both = {"Authorization": f"Bearer {two.stdout.strip().splitlines()[-1]}"}
            assert client.get("/api/v1/token", headers=both).json()["scopes"] == ["access-check", "ingest"]
            checkpoint = client.get("/api/v1/ledger/checkpoint", headers=headers)
            assert checkpoint.status_code == 200  # the command signed a checkpoint covering its entry
            assert client.get("/api/v1/ledger/public-key", headers=headers).status_code == 200
    finally:
        app.state.database.close()


# --------------------------------------------------------------------------- configuration


def test_configuration_changes_are_recorded_with_old_and_new_value(
    client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    admin = logged_in(Role.ADMIN)
    response = post_form(client, "/admin/config/review_days", {"value": " 45 "})
    assert _flash(response) == "Setting saved."
    assert identity.config_value(db, "review_days") == "45"
    change = _entries(db, "configuration", object_type="config", object_id="review_days")
    assert len(change) == 1
    assert change[0].actor == f"staff:{admin}" and change[0].detail == {"old": "60", "new": "45"}
    post_form(client, "/admin/config/review_days", {"value": "50"})
    latest = _entries(db, "configuration", object_type="config", object_id="review_days")
    assert latest[0].detail == {"old": "45", "new": "50"}
    post_form(client, "/admin/config/review_days", {"value": "50"})  # no change, no entry
    assert len(_entries(db, "configuration", object_type="config")) == 2
    page = client.get("/admin/config")
    assert 'value="50"' in page.text and admin in page.text


def test_a_setting_first_changed_twice_at_once_is_changed_twice(
    committing_sessions: sessionmaker[Session],
) -> None:
    """Two administrators change a setting never changed before at the same moment: the second waits for
    the first, and each ledger entry's "old" is the value it replaced (PostgreSQL failed on the key)."""
    factory = committing_sessions
    admin = Principal("A1", "Admin One", frozenset({Role.ADMIN}))
    values = iter(("45", "50"))
    outcome = at_once(factory, lambda s: identity.set_config(s, "review_days", next(values), admin))
    assert outcome == [None]
    with factory() as session:
        assert identity.config_value(session, "review_days") == "50"
        ledger.flush_pending(session)
        changes = ledger.search(session, EntryFilter(object_type="config"), limit=10)
        assert sorted((e.detail["old"], e.detail["new"]) for e in changes) == [("45", "50"), ("60", "45")]


@pytest.mark.parametrize("value", ["abc", "0", "-5", "4.5", "", "1e3", "²", "١٢", "٣"])
def test_a_bad_configuration_value_is_refused_with_the_setting_named(
    value: str, client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    logged_in(Role.ADMIN)
    response = post_form(client, "/admin/config/review_days", {"value": value})
    assert response.status_code == 400  # type: ignore[attr-defined]  # was a redirect to the done banner
    message = _flash(response)
    assert message.startswith("Not done") and "Disclosure review (days)" in message
    assert identity.config_value(db, "review_days") == "60"
    assert _entries(db, "configuration", object_type="config") == []
    assert "Disclosure review (days): enter a whole number" in response.text  # type: ignore[attr-defined]


def test_an_unknown_setting_is_refused(client: TestClient, logged_in: Callable[[Role], str]) -> None:
    logged_in(Role.ADMIN)
    assert "unknown setting 'colour'" in _flash(post_form(client, "/admin/config/colour", {"value": "1"}))


def test_roles_by_staff_in_one_call(db: Session) -> None:
    make_account(db, "S1", {Role.OFFICER, Role.SUPERVISOR}, password=None)
    make_account(db, "S2", {Role.OFFICER}, password=None)
    assert identity.roles_by_staff(db, ["S1", "S2", "S9"]) == {
        "S1": {"officer", "supervisor"},
        "S2": {"officer"},
    }
    assert identity.roles_by_staff(db, []) == {}


def test_reading_entries_through_the_api_is_a_recorded_consultation(client: TestClient, db: Session) -> None:
    token = identity.create_api_token(db, "outside verifier", [Scope.LEDGER_READ], "system:test")
    ledger.record_many(db, [EntryDraft("staff:T1", Op.CONFIGURATION, "config", f"k{i}") for i in range(3)])
    db.commit()
    wanted = list(ledger.export_lines(db, 0, 3))
    assert len(wanted) == 3
    response = client.get("/api/v1/ledger/entries?from=0&to=3", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.content == b"".join(line + b"\n" for line in wanted)
    (read,) = _entries(db, "consultation", object_type="ledger_export")
    assert read.object_id == "0-3" and read.actor.startswith("system:api-token-")
    assert read.detail == {"from": 0, "to": 3}


# --------------------------------------------------------------------------- out-of-date role requests


def _principal(db: Session, staff_id: str) -> Principal:
    return identity.principal_for(db, staff_id)


def test_a_request_is_cancelled_when_the_accounts_roles_change(db: Session) -> None:
    """A request held the whole role list asked for: approved after a suspended administrator lost the
    admin role, it gave it back."""
    for staff_id in ("RA", "RB", "RC"):
        make_account(db, staff_id, {Role.ADMIN}, password=None)
    asked = identity.change_roles(db, "RB", {Role.ADMIN, Role.AUDITOR}, _principal(db, "RA"))
    assert asked.request_id is not None
    suspended = identity.change_roles(db, "RB", {Role.OFFICER}, _principal(db, "RC"))
    assert suspended.applied
    db.commit()
    request = db.get(RoleRequest, asked.request_id)
    assert request is not None and request.outcome == "cancelled" and request.decided_by == "RC"
    assert identity.pending_role_requests(db) == []
    with pytest.raises(identity.IdentityError, match="already been decided"):
        identity.decide_role_request(db, asked.request_id, True, _principal(db, "RC"))
    assert _roles(db, "RB") == {Role.OFFICER}
    cancelled = _entries(db, "configuration", object_id="RB")[0]
    assert cancelled.detail == {"request": asked.request_id, "cancelled": "the account's roles changed"}


def test_approving_a_request_made_against_other_roles_is_refused(db: Session) -> None:
    make_account(db, "RD", {Role.ADMIN}, password=None)
    make_account(db, "RE", {Role.ADMIN}, password=None)
    make_account(db, "RF", {Role.OFFICER, Role.ANALYST}, password=None)
    asked = identity.change_roles(db, "RF", {Role.OFFICER, Role.ANALYST, Role.CCU}, _principal(db, "RD"))
    assert asked.request_id is not None
    request = db.get(RoleRequest, asked.request_id)
    assert request is not None and request.from_roles == "analyst;officer"
    request.from_roles = "officer"  # as if the roles had changed by a route that did not cancel it
    db.flush()
    with pytest.raises(identity.IdentityError) as refused:
        identity.decide_role_request(db, asked.request_id, True, _principal(db, "RE"))
    assert str(refused.value) == (
        f"RF's roles have changed since request {asked.request_id} was made (then: Police officer; now: "
        "Performance analyst, Police officer): decline it and ask again"
    )
    request.from_roles = None  # made before requests recorded the roles they change
    db.flush()
    with pytest.raises(identity.IdentityError, match="made before requests recorded the roles"):
        identity.decide_role_request(db, asked.request_id, True, _principal(db, "RE"))
    assert _roles(db, "RF") == {Role.OFFICER, Role.ANALYST}
    identity.decide_role_request(db, asked.request_id, False, _principal(db, "RE"))  # declining is allowed


@pytest.mark.parametrize("how", ["loses admin", "disabled"])
def test_a_request_is_cancelled_when_its_requester_no_longer_manages_accounts(how: str, db: Session) -> None:
    make_account(db, "RG", {Role.ADMIN}, password=None)
    make_account(db, "RH", {Role.ADMIN}, password=None)
    make_account(db, "RI", {Role.OFFICER}, password=None)
    asked = identity.change_roles(db, "RI", {Role.OFFICER, Role.CCU}, _principal(db, "RG"))
    assert asked.request_id is not None
    if how == "loses admin":
        assert identity.change_roles(db, "RG", {Role.OFFICER}, _principal(db, "RH")).applied
    else:
        identity.set_active(db, "RG", False, _principal(db, "RH"))
    db.commit()
    assert identity.pending_role_requests(db) == []
    assert db.get(RoleRequest, asked.request_id).outcome == "cancelled"  # type: ignore[union-attr]
    with pytest.raises(identity.IdentityError, match="already been decided"):
        identity.decide_role_request(db, asked.request_id, True, _principal(db, "RH"))
    assert _roles(db, "RI") == {Role.OFFICER}


def test_the_approval_screen_shows_the_change_against_the_current_roles(
    client: TestClient, db: Session
) -> None:
    make_account(db, "RJ", {Role.ADMIN})
    make_account(db, "RK", {Role.ADMIN})
    make_account(db, "RL", {Role.OFFICER, Role.ANALYST}, password=None)
    _switch(client, "RJ")
    post_form(client, "/admin/accounts/RL/roles", {"roles": ["officer", "ccu"]})
    _switch(client, "RK")
    page = client.get("/admin/role-requests").text
    assert "<strong>Adds</strong> Counter-Corruption Unit" in page
    assert "<strong>Removes</strong> Performance analyst" in page
    assert "Roles now: Performance analyst, Police officer." in page
    assert "After the change: Counter-Corruption Unit, Police officer." in page
    assert "ccu" not in page.replace('value="', "")  # no role codes in the words


# --------------------------------------------------------------------------- passwords set by others


def test_a_sensitive_role_waits_for_the_holder_to_set_a_password_an_administrator_set(
    app: FastAPI, client: TestClient, db: Session
) -> None:
    """Remove the role, set the password (allowed then), ask for the role back: the approving
    administrator saw only the roles, and the first could then log in as a counter-corruption account."""
    make_account(db, "PA", {Role.ADMIN})
    make_account(db, "PB", {Role.ADMIN})
    make_account(db, "PC", {Role.CCU, Role.OFFICER})
    _switch(client, "PA")
    assert _flash(post_form(client, "/admin/accounts/PC/roles", {"roles": ["officer"]})) == "Roles updated."
    post_form(client, "/admin/accounts/PC/password", {"password": "known to admin PA"})
    asked = post_form(client, "/admin/accounts/PC/roles", {"roles": ["officer", "ccu"]})
    assert "waits for a second administrator" in _flash(asked)
    (request,) = identity.pending_role_requests(db)
    _switch(client, "PB")
    page = client.get("/admin/role-requests").text
    assert "Password: set by Test PA (PA)" in page and "cannot be given this role" in page
    assert "<td>Test PA (PA)</td>" in page  # who asked, by name with the number
    assert "Set by Test PA (PA)" in client.get("/admin/accounts/PC").text
    refused = post_form(client, f"/admin/role-requests/{request.id}", {"decision": "approve"})
    message = _flash(refused)
    assert message.startswith("Not done: PC's password was last set by PA (")
    assert message.endswith(
        "), not by PC: PC must first set their own password (My record, Change your password: "
        "/me/password), or the operator set it on the server (custodes account set-password), before being "
        "given the Counter-Corruption Unit role"
    )
    assert _roles(db, "PC") == {Role.OFFICER}
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as intruder:
        assert log_in(intruder, "PC", "known to admin PA").status_code == 303  # type: ignore[attr-defined]
        assert intruder.get("/alerts").status_code == 403
        # The operator sets the password on the server: the grant can go ahead, and every session ends.
        identity.set_password(db, "PC", "set by the operator", "system:cli")
        db.commit()
        approved = post_form(client, f"/admin/role-requests/{request.id}", {"decision": "approve"})
        assert _flash(approved) == "Role change approved."
        assert _roles(db, "PC") == {Role.OFFICER, Role.CCU}
        assert intruder.get("/alerts").status_code == 303  # logged out


def test_a_sensitive_grant_ends_the_accounts_sessions(app: FastAPI, client: TestClient, db: Session) -> None:
    make_account(db, "PD", {Role.ADMIN})
    make_account(db, "PE", {Role.ADMIN})
    make_account(db, "PF", {Role.OFFICER})  # password set by the test (the server), never by an admin
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as holder:
        log_in(holder, "PF")
        assert holder.get("/me").status_code == 200
        asked = identity.change_roles(
            db, "PF", {Role.OFFICER, Role.AUDITOR}, identity.principal_for(db, "PD")
        )
        assert asked.request_id is not None
        identity.decide_role_request(db, asked.request_id, True, identity.principal_for(db, "PE"))
        db.commit()
        assert _roles(db, "PF") == {Role.OFFICER, Role.AUDITOR}
        assert holder.get("/me").status_code == 303  # a new log-in takes up the new role


@pytest.mark.parametrize("set_by", [None, "staff:PH", "system:cli"], ids=["unknown", "holder", "server"])
def test_a_password_set_by_its_holder_or_the_server_does_not_stop_a_grant(
    set_by: str | None, db: Session
) -> None:
    from custodes.identity.models import Account

    make_account(db, "PG", {Role.ADMIN}, password=None)
    make_account(db, "PH", {Role.OFFICER})
    make_account(db, "PI", {Role.ADMIN}, password=None)
    account = db.get(Account, "PH")
    assert account is not None
    account.password_set_by = set_by
    db.flush()
    asked = identity.change_roles(db, "PH", {Role.OFFICER, Role.DPU}, identity.principal_for(db, "PG"))
    assert asked.request_id is not None
    identity.decide_role_request(db, asked.request_id, True, identity.principal_for(db, "PI"))
    assert _roles(db, "PH") == {Role.OFFICER, Role.DPU}


def test_the_gate_refuses_a_cached_token_once_it_expires(client: TestClient, db: Session) -> None:
    """The pre-access gate caches tokens for up to a minute; an expiry inside that minute still counts."""
    import time

    token = identity.create_api_token(db, "gate client", ["access-check"], "system:test")
    row = db.scalars(select(ApiToken).where(ApiToken.name == "gate client")).one()
    row.expires_at = utcnow() + timedelta(seconds=1.5)
    db.commit()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post("/api/v1/access-check", headers=headers, json={}).status_code == 422  # admitted
    time.sleep(max(0.0, (row.expires_at - utcnow()).total_seconds()) + 0.05)
    assert client.post("/api/v1/access-check", headers=headers, json={}).status_code == 401


# --------------------------------------------------------------------------- tokens whose maker has gone


def _pending_token(db: Session, maker: str, name: str) -> tuple[str, int]:
    token, pending = identity.request_api_token(db, name, ["ledger:read"], 30, 90, _principal(db, maker))
    assert pending
    return token, db.scalars(select(ApiToken.id).where(ApiToken.name == name)).one()


@pytest.mark.parametrize("how", ["loses admin", "disabled", "left the force"])
def test_a_pending_token_is_cancelled_when_its_maker_no_longer_manages_tokens(how: str, db: Session) -> None:
    """As pending role requests are: else a second administrator could still approve a token made by an
    administrator who had since been suspended, and it would work."""
    from custodes.kit.timefmt import london_day

    make_account(db, "TA", {Role.ADMIN}, password=None)
    make_account(db, "TB", {Role.ADMIN}, password=None)
    make_account(db, "TZ", {Role.OFFICER}, password=None)
    token, token_id = _pending_token(db, "TA", "made by TA")
    _other, other_id = _pending_token(db, "TB", "made by TB")
    asked = identity.change_roles(db, "TZ", {Role.OFFICER, Role.DPU}, _principal(db, "TA"))
    if how == "loses admin":
        assert identity.change_roles(db, "TA", {Role.OFFICER}, _principal(db, "TB")).applied
        why = "no longer manages tokens"
    elif how == "disabled":
        identity.set_active(db, "TA", False, _principal(db, "TB"))
        why = "was disabled"
    else:
        identity.set_last_day(db, "TA", london_day(utcnow()) - timedelta(days=1), "system:import")
        why = "has left the force"
    db.commit()
    row = db.get(ApiToken, token_id)
    assert row is not None and row.approval == "cancelled" and row.approved_at is not None
    assert db.get(ApiToken, other_id).approval == "pending"  # type: ignore[union-attr]
    entry = _entries(db, "configuration", object_type="api_token", object_id=str(token_id))[0]
    assert entry.detail == {
        "action": "cancelled",
        "name": "made by TA",
        "cancelled": f"TA, who made it, {why}",
    }
    assert entry.actor == row.approved_by
    with pytest.raises(identity.IdentityError) as refused:
        identity.decide_api_token(db, token_id, True, _principal(db, "TB"))
    assert str(refused.value) == (
        f"API token {token_id} is not awaiting approval (it was cancelled): make a new one if it is needed"
    )
    assert identity.resolve_api_token(db, token) is None
    assert db.get(RoleRequest, asked.request_id).outcome == "cancelled"  # type: ignore[union-attr]


def test_the_tokens_screen_never_approves_a_cancelled_or_declined_token(
    client: TestClient, db: Session
) -> None:
    make_account(db, "TC", {Role.ADMIN}, password=None)
    make_account(db, "TD", {Role.ADMIN})
    make_account(db, "TE", {Role.ADMIN}, password=None)
    cancelled, cancelled_id = _pending_token(db, "TC", "cancelled one")
    declined, declined_id = _pending_token(db, "TE", "declined one")
    identity.set_active(db, "TC", False, _principal(db, "TE"))
    identity.decide_api_token(db, declined_id, False, _principal(db, "TD"))
    db.commit()
    _switch(client, "TD")
    page = client.get("/admin/tokens").text
    assert "Cancelled" in page and "whoever made it no longer manages tokens" in page
    assert f"/admin/tokens/{cancelled_id}/decision" not in page
    assert f"/admin/tokens/{declined_id}/decision" not in page
    for token_id, was in ((cancelled_id, "cancelled"), (declined_id, "declined")):
        refused = post_form(client, f"/admin/tokens/{token_id}/decision", {"decision": "approve"})
        assert _flash(refused) == (
            f"Not done: API token {token_id} is not awaiting approval (it was {was}): make a new one if it "
            "is needed"
        )
        assert db.get(ApiToken, token_id).approval == was  # type: ignore[union-attr]
    for token in (cancelled, declined):
        assert client.get("/api/v1/token", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_approval_is_refused_when_the_maker_or_requester_is_past_their_last_day(db: Session) -> None:
    """Past the last day of service an account is no longer used (log-in refused) though still enabled
    until an import or an administrator disables it: its pending token or request is not approved."""
    from custodes.identity.models import Account
    from custodes.kit.timefmt import london_day

    make_account(db, "TF", {Role.ADMIN}, password=None)
    make_account(db, "TG", {Role.ADMIN}, password=None)
    make_account(db, "TH", {Role.OFFICER}, password=None)
    _token, token_id = _pending_token(db, "TF", "made by a leaver")
    asked = identity.change_roles(db, "TH", {Role.OFFICER, Role.AUDITOR}, _principal(db, "TF"))
    assert asked.request_id is not None
    account = db.get(Account, "TF")
    assert account is not None
    account.active_until = london_day(utcnow()) - timedelta(days=1)  # the day has passed; still enabled
    db.flush()
    with pytest.raises(identity.IdentityError) as refused:
        identity.decide_api_token(db, token_id, True, _principal(db, "TG"))
    assert str(refused.value) == f"TF, who made API token {token_id}, no longer manages tokens: decline it"
    with pytest.raises(identity.IdentityError, match="TF, who asked, no longer manages accounts"):
        identity.decide_role_request(db, asked.request_id, True, _principal(db, "TG"))
    identity.decide_api_token(db, token_id, False, _principal(db, "TG"))  # declining is allowed
    identity.decide_role_request(db, asked.request_id, False, _principal(db, "TG"))


def test_the_administrators_home_page_counts_what_awaits_a_second_administrator(
    client: TestClient, db: Session
) -> None:
    make_account(db, "HA", {Role.ADMIN})
    make_account(db, "HB", {Role.ADMIN}, password=None)
    make_account(db, "HC", {Role.OFFICER})
    _pending_token(db, "HB", "first feed")
    _token, expired_id = _pending_token(db, "HB", "expired feed")
    _token, revoked_id = _pending_token(db, "HB", "revoked feed")
    _token, decided_id = _pending_token(db, "HB", "decided feed")
    db.get(ApiToken, expired_id).expires_at = utcnow() - timedelta(seconds=1)  # type: ignore[union-attr]
    identity.revoke_api_token(db, revoked_id, "staff:HB")
    identity.decide_api_token(db, decided_id, True, _principal(db, "HA"))
    identity.change_roles(db, "HC", {Role.OFFICER, Role.AUDITOR}, _principal(db, "HB"))
    db.commit()
    _switch(client, "HA")
    home = client.get("/").text
    assert '<a href="/admin/tokens">1 API token awaits a second administrator.</a>' in home
    assert '<a href="/admin/role-requests">1 role change awaits a second administrator.</a>' in home
    _switch(client, "HC")
    assert "a second administrator" not in client.get("/").text  # not an administrator's business


def test_a_list_setting_is_a_wide_box_and_a_line_break_separates_as_well(
    client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    logged_in(Role.ADMIN)
    page = client.get("/admin/config").text
    lawful = re.search(r'<textarea name="value"[^>]*aria-label="Lawful bases for disclosure"[^>]*>', page)
    assert lawful and 'class="wide"' in lawful[0]  # not a ten-character box
    assert re.search(r'<input type="text" name="value" value="60" aria-label="Disclosure review', page)
    assert "seed" not in page.lower()
    post_form(
        client, "/admin/config/lawful_bases", {"value": "DPA2018_Part3;\r\n common_law \n\n;CDA1998_s115"}
    )
    assert identity.config_value(db, "lawful_bases") == "DPA2018_Part3;common_law;CDA1998_s115"


def test_area_names_are_configured_as_code_and_name_and_shown_with_the_code(
    client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    admin = logged_in(Role.ADMIN)
    refused = post_form(client, "/admin/config/area_names", {"value": "NA North Division"})
    assert "Area names: write each entry as CODE = name" in _flash(refused)
    post_form(client, "/admin/config/area_names", {"value": "NA=North Division\n CZ =  Central Zone "})
    assert identity.config_value(db, "area_names") == "NA = North Division;CZ = Central Zone"
    assert identity.area_names(db) == {"NA": "North Division", "CZ": "Central Zone"}
    label = identity.area_labeller(db)
    assert (label("NA"), label("XX"), label(None)) == ("North Division (NA)", "XX", "—")
    page = client.get("/admin/config").text
    assert f"by Test {admin} ({admin})" in page  # who changed it: name and number
