"""Roles (with two-person control over sensitive self-grants), API tokens, and configuration changes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from custodes.cli import app as cli
from custodes.identity import service as identity
from custodes.identity.models import ApiToken, RoleRequest
from custodes.identity.permissions import NEEDS_SECOND_ADMIN, Role, Scope
from custodes.identity.schemas import Principal
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
    """The redirect's banner message, without the timestamp and signature the app adds to it."""
    sealed = unquote(response.headers["location"].partition("done=")[2])  # type: ignore[attr-defined]
    return sealed.rsplit(".", 2)[0]


def _switch(client: TestClient, staff_id: str) -> None:
    client.cookies.clear()
    assert log_in(client, staff_id).status_code == 303  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- roles


def test_an_administrator_changes_someone_elses_roles(
    client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    admin = logged_in(Role.ADMIN)
    make_account(db, "R1", {Role.OFFICER}, password=None)
    response = post_form(client, "/admin/accounts/R1/roles", {"roles": ["supervisor", "analyst"]})
    assert response.status_code == 303  # type: ignore[attr-defined]
    assert _flash(response) == "Roles updated."
    assert _roles(db, "R1") == {Role.SUPERVISOR, Role.ANALYST}
    change = _entries(db, "alteration", object_id="R1", actor=f"staff:{admin}")[0]
    assert change.detail["added"] == ["analyst", "supervisor"] and change.detail["removed"] == ["officer"]
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
    assert _flash(response) == f"Giving the {role} role waits for a second administrator's approval."
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
    for staff_id, role in (("A8", "admin"), ("C8", "ccu")):
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
    assert "A3" in waiting.text and "ccu" in waiting.text
    assert "await a second administrator" in client.get("/").text
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


def test_removing_roles_and_ordinary_self_grants_apply_directly(client: TestClient, db: Session) -> None:
    make_account(db, "A7", {Role.ADMIN, Role.CCU, Role.OFFICER})
    _switch(client, "A7")
    removed = post_form(client, "/admin/accounts/A7/roles", {"roles": ["admin", "officer"]})
    assert _flash(removed) == "Roles updated."
    assert _roles(db, "A7") == {Role.ADMIN, Role.OFFICER}
    added = post_form(client, "/admin/accounts/A7/roles", {"roles": ["admin", "officer", "supervisor"]})
    assert _flash(added) == "Roles updated."
    assert _roles(db, "A7") == {Role.ADMIN, Role.OFFICER, Role.SUPERVISOR}
    assert identity.pending_role_requests(db) == []
    # Giving up administration takes effect at once, and with it the administrators' screens.
    post_form(client, "/admin/accounts/A7/roles", {"roles": ["officer"]})
    assert _roles(db, "A7") == {Role.OFFICER}
    assert client.get("/admin/accounts").status_code == 403


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


def test_tokens_through_the_screens(
    client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    logged_in(Role.ADMIN)
    page = post_form(client, "/admin/tokens", {"name": "PND audit feed", "scopes": ["ledger:read"]})
    assert page.status_code == 200  # type: ignore[attr-defined]
    shown = page.text.split("<code>")[1].split("</code>")[0]  # type: ignore[attr-defined]
    assert client.get("/api/v1/token", headers={"Authorization": f"Bearer {shown}"}).json() == {
        "id": identity.resolve_api_token(db, shown).token_id,  # type: ignore[union-attr]
        "name": "PND audit feed",
        "scopes": ["ledger:read"],
    }
    assert shown not in client.get("/admin/tokens").text  # shown once only
    bad = post_form(client, "/admin/tokens", {"name": "x", "scopes": ["everything"]})
    assert "everything" in _flash(bad)
    token_id = identity.resolve_api_token(db, shown).token_id  # type: ignore[union-attr]
    revoked = post_form(client, f"/admin/tokens/{token_id}/revoke")
    assert _flash(revoked) == "Token revoked."
    assert client.get("/api/v1/token", headers={"Authorization": f"Bearer {shown}"}).status_code == 401
    assert _flash(post_form(client, "/admin/tokens/999999/revoke")).startswith("Not done")


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
    app = create_app(Settings(home=tmp_path / "home", database_url=url), checkpointer=False)
    try:
        with TestClient(app, base_url="https://testserver") as client:
            headers = {"Authorization": f"Bearer {token}"}
            assert client.get("/api/v1/token", headers=headers).json()["scopes"] == ["ledger:read"]
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
    assert response.status_code == 303  # type: ignore[attr-defined]
    message = _flash(response)
    assert message.startswith("Not done") and "Disclosure review (days)" in message
    assert identity.config_value(db, "review_days") == "60"
    assert _entries(db, "configuration", object_type="config") == []
    shown = client.get(response.headers["location"])  # type: ignore[attr-defined]
    assert "Disclosure review (days): enter a whole number" in shown.text


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
