"""Every member of staff changes their own password (My record, Change your password: /me/password)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import unquote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from custodes.database import Database
from custodes.identity import service as identity
from custodes.identity.models import Account, LoginSession
from custodes.identity.permissions import Role
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter
from custodes.settings import Settings
from custodes.web.app import create_app
from tests.conftest import PASSWORD, log_in, make_account, post_form

PAGE = "/me/password"
NEW = "a new password of my own"


def _entries(db: Session, op: str, **criteria: str) -> list[ledger.StoredEntry]:
    db.expire_all()
    return ledger.search(db, EntryFilter(op=op, **criteria))


def _account(db: Session, staff_id: str) -> Account:
    db.expire_all()
    account = db.get(Account, staff_id)
    assert account is not None
    return account


def _open_sessions(db: Session, staff_id: str) -> int:
    db.expire_all()
    rows = db.scalars(select(LoginSession).where(LoginSession.staff_id == staff_id))
    return sum(1 for row in rows if row.ended_at is None)


def _change(client: TestClient, current: str = PASSWORD, new: str = NEW, again: str | None = None) -> object:
    return post_form(
        client,
        PAGE,
        {
            "current_password": current,
            "new_password": new,
            "new_password_again": new if again is None else again,
        },
    )


def _logged_out(client: TestClient) -> bool:
    response = client.get("/me")
    return response.status_code == 303 and response.headers["location"].startswith("/login")


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_every_role_changes_their_own_password(
    role: Role, app: FastAPI, client: TestClient, db: Session
) -> None:
    """The whole flow: the page, the change, the other session logged out, the new password works, the
    old does not, and the holder is recorded as having set it."""
    staff_id = make_account(db, f"OWN{role.value.upper()}", {role})
    identity.set_password(db, staff_id, PASSWORD, "staff:SOMEADMIN")  # as an administrator might have
    db.commit()
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as elsewhere:
        assert log_in(elsewhere, staff_id).status_code == 303  # type: ignore[attr-defined]
        assert log_in(client, staff_id).status_code == 303  # type: ignore[attr-defined]
        assert 'href="/me/password"' in client.get("/me").text
        page = client.get(PAGE)
        assert page.status_code == 200
        assert "At least 12 characters, and not the staff number." in page.text  # the rule beside the field
        assert "by an administrator, SOMEADMIN" in page.text and "Someone else knows" in page.text
        response = _change(client)
        assert response.status_code == 303  # type: ignore[attr-defined]
        location = response.headers["location"]  # type: ignore[attr-defined]
        banner = unquote(location.partition("done=")[2]).rsplit(".", 2)[0]  # without the app's signature
        assert location.startswith(f"{PAGE}?done=")
        assert banner == "Password changed. Your other sessions have been logged out."
        shown = client.get(location)
        assert shown.status_code == 200 and banner in shown.text
        assert "by you" in shown.text and "Someone else knows" not in shown.text
        assert _logged_out(elsewhere)
    assert _open_sessions(db, staff_id) == 1  # this one goes on
    account = _account(db, staff_id)
    assert account.password_set_by == f"staff:{staff_id}"
    change = _entries(db, "alteration", object_id=staff_id, actor=f"staff:{staff_id}")[0]
    assert change.detail == {"fields": ["password"], "sessions_ended": 1}
    assert NEW not in str(change.content) and PASSWORD not in str(change.content)  # no password material
    client.cookies.clear()
    assert log_in(client, staff_id).status_code == 401  # type: ignore[attr-defined]
    assert log_in(client, staff_id, NEW).status_code == 303  # type: ignore[attr-defined]


def test_a_wrong_current_password_counts_as_a_failed_log_in(
    client: TestClient, db: Session, settings: Settings
) -> None:
    make_account(db, "OWN1", {Role.OFFICER})
    log_in(client, "OWN1")
    refused = _change(client, current="not my password")
    assert refused.status_code == 400  # type: ignore[attr-defined]
    assert "Current password: that is not the password you log in with." in refused.text  # type: ignore[attr-defined]
    assert 'class="field wrong"' in refused.text  # type: ignore[attr-defined]
    failure = _entries(db, "login_failed", object_id="OWN1")[0]
    assert failure.actor == "staff:OWN1"
    assert failure.detail["reason"] == "wrong current password when changing password"
    assert "not my password" not in str(failure.content) and NEW not in str(failure.content)
    account = _account(db, "OWN1")
    assert account.failed_logins == 1 and account.password_set_by == "system:test"
    assert _entries(db, "alteration", object_id="OWN1", actor="staff:OWN1") == []
    # Consecutive failures lock the account, as at log-in; then even the right password is refused.
    for _ in range(settings.login_lockout_failures - 1):
        last = _change(client, current="still not it")
    assert "now locked for 15 minutes" in last.text  # type: ignore[attr-defined]
    account = _account(db, "OWN1")
    assert account.locked_until is not None and account.failed_logins == settings.login_lockout_failures
    reasons = [e.detail["reason"] for e in _entries(db, "login_failed", object_id="OWN1")]
    assert reasons[0] == "wrong current password when changing password; account locked"
    locked = _change(client)
    assert locked.status_code == 400 and "your account is locked" in locked.text  # type: ignore[attr-defined]
    assert _entries(db, "login_failed", object_id="OWN1")[0].detail["reason"] == (
        "account locked; changing password"
    )
    assert _account(db, "OWN1").password_set_by == "system:test"  # unchanged
    client.cookies.clear()
    assert log_in(client, "OWN1").status_code == 401  # type: ignore[attr-defined]  # locked for log-in too


def test_the_right_current_password_resets_the_count(client: TestClient, db: Session) -> None:
    make_account(db, "OWN2", {Role.STAFF})
    log_in(client, "OWN2")
    _change(client, current="wrong once")
    assert _account(db, "OWN2").failed_logins == 1
    assert _change(client).status_code == 303  # type: ignore[attr-defined]
    assert _account(db, "OWN2").failed_logins == 0


@pytest.fixture
def limited_client(settings: Settings, db: Session, engine: Engine) -> Iterator[TestClient]:
    limited = settings.model_copy(update={"login_rate_limit": "3/minute"})
    factory = sessionmaker(
        bind=db.info["test_connection"], join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    app = create_app(limited, Database(engine, factory), checkpointer=False)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        yield client


def test_attempts_count_against_the_log_in_rate_limit(limited_client: TestClient, db: Session) -> None:
    make_account(db, "OWN3", {Role.OFFICER})
    assert log_in(limited_client, "OWN3").status_code == 303  # type: ignore[attr-defined]
    assert _change(limited_client, current="guess one").status_code == 400  # type: ignore[attr-defined]
    assert _change(limited_client, current="guess two").status_code == 400  # type: ignore[attr-defined]
    refused = _change(limited_client)  # the fourth attempt from this address, even with the right password
    assert refused.status_code == 429  # type: ignore[attr-defined]
    assert "Too many password attempts" in refused.text  # type: ignore[attr-defined]
    assert _account(db, "OWN3").password_set_by == "system:test"
    limited_client.cookies.clear()
    assert log_in(limited_client, "OWN3").status_code == 429  # type: ignore[attr-defined]  # one limit for both


@pytest.mark.parametrize(
    ("new", "again", "field", "message"),
    [
        ("short", "short", "new_password", "New password: a password needs at least 12 characters."),
        (
            "own999999999",
            "own999999999",
            "new_password",
            "New password: a password cannot be the staff number.",
        ),
        (
            PASSWORD,
            PASSWORD,
            "new_password",
            "New password: it is your current password. Choose a different one.",
        ),
        (NEW, NEW + "x", "new_password_again", "New password again: it does not match the new password."),
    ],
    ids=["too short", "staff number", "unchanged", "mismatch"],
)
def test_the_new_password_must_meet_the_rule(
    new: str, again: str, field: str, message: str, client: TestClient, db: Session
) -> None:
    make_account(db, "OWN999999999", {Role.ANALYST})
    log_in(client, "OWN999999999")
    refused = _change(client, new=new, again=again)
    assert refused.status_code == 400  # type: ignore[attr-defined]
    assert message in refused.text  # type: ignore[attr-defined]
    assert f'<div class="field wrong">\n    <label for="{field}">' in refused.text  # type: ignore[attr-defined]
    account = _account(db, "OWN999999999")
    assert account.password_set_by == "system:test" and account.failed_logins == 0
    assert _entries(db, "login_failed", object_id="OWN999999999") == []  # the current password was right


def test_the_rule_applies_however_a_password_is_set(db: Session) -> None:
    make_account(db, "OWNRULE12345", {Role.OFFICER}, password=None)
    with pytest.raises(identity.IdentityError, match="cannot be the staff number"):
        identity.set_password(db, "OWNRULE12345", "ownrule12345", "system:cli")


def test_a_password_the_holder_set_lets_a_sensitive_role_be_granted(client: TestClient, db: Session) -> None:
    """The refusal tells the holder to set their own password on this page; once they have, it goes ahead."""
    make_account(db, "OWNA", {Role.ADMIN}, password=None)
    make_account(db, "OWNB", {Role.ADMIN}, password=None)
    make_account(db, "OWNC", {Role.OFFICER}, password=None)
    identity.set_password(db, "OWNC", PASSWORD, "staff:OWNA")
    asked = identity.change_roles(db, "OWNC", {Role.OFFICER, Role.CCU}, identity.principal_for(db, "OWNA"))
    assert asked.request_id is not None
    db.commit()
    with pytest.raises(identity.IdentityError, match="Change your password: /me/password"):
        identity.decide_role_request(db, asked.request_id, True, identity.principal_for(db, "OWNB"))
    log_in(client, "OWNC")
    assert _change(client).status_code == 303  # type: ignore[attr-defined]
    identity.decide_role_request(db, asked.request_id, True, identity.principal_for(db, "OWNB"))
    db.commit()
    assert set(identity.get_account(db, "OWNC").roles) == {Role.OFFICER, Role.CCU}  # type: ignore[union-attr]


def test_logged_out_the_page_sends_to_log_in(client: TestClient) -> None:
    response = client.get(PAGE)
    assert response.status_code == 303 and response.headers["location"] == f"/login?next={PAGE}"
