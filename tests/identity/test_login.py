"""Logging in and out: refusals, lock-out, rate limit, the cookie, expiry, forged cookies, redirects."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from datetime import timedelta
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from itsdangerous import URLSafeSerializer
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from structlog.testing import capture_logs

from custodes.database import Database
from custodes.identity import service as identity
from custodes.identity.models import Account, LoginSession
from custodes.identity.permissions import Role
from custodes.kit.db import utcnow
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter
from custodes.settings import Settings
from custodes.web.app import create_app
from custodes.web.deps import SESSION_COOKIE, cookie_signer
from tests.conftest import PASSWORD, log_in, make_account, post_form

REFUSED = "That staff number and password do not match an active account."  # and the same hint each time


def _entries(db: Session, op: str, **criteria: str) -> list[ledger.StoredEntry]:
    db.expire_all()
    return ledger.search(db, EntryFilter(op=op, **criteria))


def _session_rows(db: Session, staff_id: str) -> list[LoginSession]:
    db.expire_all()
    return list(db.scalars(select(LoginSession).where(LoginSession.staff_id == staff_id)))


def _goes_to_login(client: TestClient, path: str = "/") -> bool:
    response = client.get(path)
    return response.status_code == 303 and response.headers["location"].startswith("/login?next=")


# --------------------------------------------------------------------------- refusals


def test_wrong_password_is_refused_and_recorded(client: TestClient, db: Session) -> None:
    make_account(db, "L1", {Role.OFFICER})
    response = log_in(client, "L1", "not the password at all")
    assert response.status_code == 401
    assert REFUSED in response.text
    assert SESSION_COOKIE not in client.cookies
    failures = _entries(db, "login_failed", object_id="L1")
    assert [f.detail["reason"] for f in failures] == ["wrong password"]
    assert "not the password" not in str(failures[0].content)  # the password is never recorded
    assert _goes_to_login(client)


@pytest.mark.parametrize("case", ["unknown", "disabled", "no password", "empty"])
def test_unknown_disabled_and_passwordless_accounts_get_the_same_answer(
    case: str, client: TestClient, db: Session
) -> None:
    make_account(db, "L2", {Role.OFFICER})
    make_account(db, "L3", {Role.OFFICER}, password=None)
    db.get(Account, "L2").active = False  # type: ignore[union-attr]
    db.commit()
    staff_id = {"unknown": "NOBODY9", "disabled": "L2", "no password": "L3", "empty": ""}[case]
    before = len(_entries(db, "login_failed"))
    response = log_in(client, staff_id)
    assert response.status_code == 401
    assert REFUSED in response.text
    failures = _entries(db, "login_failed")
    assert len(failures) == before + 1
    assert failures[0].detail["reason"] == "unknown or disabled account"


def test_lock_out_after_consecutive_failures(client: TestClient, db: Session, settings: Settings) -> None:
    make_account(db, "L4", {Role.OFFICER})
    limit = settings.login_lockout_failures
    for _ in range(limit - 1):
        assert log_in(client, "L4", "wrong password 1").status_code == 401
    # A success resets the count: failures must be consecutive.
    assert log_in(client, "L4").status_code == 303
    client.cookies.clear()
    for _ in range(limit):
        assert log_in(client, "L4", "wrong password 2").status_code == 401
    db.expire_all()
    account = db.get(Account, "L4")
    assert account is not None and account.locked_until is not None
    assert account.locked_until > utcnow() + timedelta(minutes=settings.login_lockout_minutes - 1)
    # Even the right password is refused while locked.
    locked = log_in(client, "L4")
    assert locked.status_code == 401
    assert REFUSED in locked.text  # the same words as any refusal: nothing about the account's state
    assert _entries(db, "login_failed", object_id="L4")[0].detail["reason"] == "account locked"
    # Move time on: the lock has passed.
    account.locked_until = utcnow() - timedelta(seconds=1)
    db.commit()
    assert log_in(client, "L4").status_code == 303
    db.expire_all()
    assert db.get(Account, "L4").failed_logins == 0  # type: ignore[union-attr]


def test_an_administrator_can_unlock(client: TestClient, db: Session, settings: Settings) -> None:
    make_account(db, "L5", {Role.OFFICER})
    for _ in range(settings.login_lockout_failures):
        log_in(client, "L5", "wrong password 3")
    identity.unlock(db, "L5", identity.principal_for(db, "L5"))
    db.commit()
    assert log_in(client, "L5").status_code == 303


@pytest.fixture
def limited_client(settings: Settings, db: Session, engine: Engine) -> Iterator[TestClient]:
    limited = settings.model_copy(update={"login_rate_limit": "3/minute"})
    factory = sessionmaker(
        bind=db.info["test_connection"], join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    app = create_app(limited, Database(engine, factory), checkpointer=False)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        yield client


def test_rate_limit_answers_429(limited_client: TestClient, db: Session) -> None:
    make_account(db, "L6", {Role.OFFICER})
    for _ in range(3):
        assert log_in(limited_client, "NOBODY8", "guess guess guess").status_code == 401
    refused = log_in(limited_client, "L6")  # even the right password, once over the limit
    assert refused.status_code == 429
    assert "Too many" in refused.text
    assert SESSION_COOKIE not in limited_client.cookies


def test_failures_for_unknown_staff_numbers_are_ledgered_only_up_to_a_limit_per_address(
    settings: Settings, db: Session, engine: Engine
) -> None:
    """Every failed log-in for a staff number with no account was a ledger entry: anyone on the network could
    grow the permanent ledger at will. Past `login_unknown_ledger_rate_limit` per address they go to the
    application log instead; failures naming a real account are all ledgered, whatever the count."""
    limited = settings.model_copy(update={"login_unknown_ledger_rate_limit": "2/hour"})
    factory = sessionmaker(
        bind=db.info["test_connection"], join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    make_account(db, "L13", {Role.OFFICER})
    make_account(db, "L14", {Role.OFFICER})
    db.get(Account, "L14").active = False  # type: ignore[union-attr]
    db.commit()
    before = len(_entries(db, "login_failed"))
    app = create_app(limited, Database(engine, factory), checkpointer=False)
    with (
        TestClient(app, base_url="https://testserver", follow_redirects=False) as client,
        capture_logs() as logged,
    ):
        answers = [
            log_in(client, name, "guess guess guess") for name in ("NOBODY1", "", "NOBODY2", "NOBODY3")
        ]
        for _ in range(2):
            answers += [log_in(client, "L13", "wrong password"), log_in(client, "L14")]
    assert {(a.status_code, REFUSED in a.text) for a in answers} == {(401, True)}  # type: ignore[attr-defined]
    failures = _entries(db, "login_failed")[: len(_entries(db, "login_failed")) - before]
    unknown = [f for f in failures if f.object_id is None]
    assert len(unknown) == 2  # NOBODY1 and the empty staff number; NOBODY2 and NOBODY3 only logged
    assert sorted(f.object_id or "" for f in failures if f.object_id) == ["L13", "L13", "L14", "L14"]
    not_ledgered = [e for e in logged if e["event"] == "log-in failed for an unknown account"]
    assert [e["attempted_name_sha256"] for e in not_ledgered] == [
        hashlib.sha256(name.encode()).hexdigest() for name in ("NOBODY2", "NOBODY3")
    ]
    assert {e["client"] for e in not_ledgered} == {"testclient"}


def test_failures_for_unknown_staff_numbers_from_many_addresses_stop_at_a_global_ceiling(
    settings: Settings, db: Session, engine: Engine
) -> None:
    """The per-address limit left an attacker with many addresses free to grow the ledger (10 entries an
    hour from each). Past `login_unknown_ledger_global_rate_limit` from every address together such failures
    go to the application log only; the first past it in the window is still an entry, which says the rest
    are not ledgered. Failures naming a real account are all ledgered, whatever the count."""
    limited = settings.model_copy(
        update={
            "login_unknown_ledger_rate_limit": "2/hour",
            "login_unknown_ledger_global_rate_limit": "3/hour",
        }
    )
    factory = sessionmaker(
        bind=db.info["test_connection"], join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    make_account(db, "L16", {Role.OFFICER})
    db.commit()
    known = {e.index for e in _entries(db, "login_failed")}
    app = create_app(limited, Database(engine, factory), checkpointer=False)
    answers = []
    with capture_logs() as logged:
        for number in range(1, 7):  # six addresses, one failure each: within every address's own limit
            address = (f"192.0.2.{number}", 50000)
            with TestClient(
                app, base_url="https://testserver", follow_redirects=False, client=address
            ) as client:
                answers.append(log_in(client, f"NOBODY{number}", "guess guess guess"))
                answers.append(log_in(client, "L16", "wrong password"))
    assert {(a.status_code, REFUSED in a.text) for a in answers} == {(401, True)}  # type: ignore[attr-defined]
    failures = [e for e in _entries(db, "login_failed") if e.index not in known]
    unknown = sorted((f for f in failures if f.object_id is None), key=lambda f: f.detail["client"])
    assert [f.detail["client"] for f in unknown] == ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"]
    assert [("not_ledgered" in f.detail) for f in unknown] == [False, False, False, True]
    note = unknown[-1].detail["not_ledgered"]
    assert "login_unknown_ledger_global_rate_limit" in note and "3 per 1 hour" in note
    assert [f.object_id for f in failures if f.object_id is not None] == ["L16"] * 6
    not_ledgered = [e for e in logged if e["event"] == "log-in failed for an unknown account"]
    assert [(e["client"], e["past"], e["ledgered"]) for e in not_ledgered] == [
        ("192.0.2.5", "overall", False),
        ("192.0.2.6", "overall", False),
    ]
    assert [e["attempted_name_sha256"] for e in not_ledgered] == [
        hashlib.sha256(name.encode()).hexdigest() for name in ("NOBODY5", "NOBODY6")
    ]


def test_the_global_ceiling_notes_its_suppression_once_a_window() -> None:
    limits = identity.UnknownLoginLimits.from_settings(
        Settings(login_unknown_ledger_rate_limit="5/hour", login_unknown_ledger_global_rate_limit="2/hour")
    )
    decided = [limits.decide(client) for client in "abcdaaaaa"]  # "a" six times: past its own limit
    assert decided == [*["ledger"] * 2, "notice", *["overall"] * 5, "address"]


def test_lock_out_is_shared_by_every_server_process(settings: Settings, db: Session, engine: Engine) -> None:
    """The lock-out is kept in the account's row, not in a process's memory: failures spread over several
    workers (two applications here) lock the account after `login_lockout_failures` in all, not per worker."""
    factory = sessionmaker(
        bind=db.info["test_connection"], join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    make_account(db, "L15", {Role.OFFICER})
    workers = [create_app(settings, Database(engine, factory), checkpointer=False) for _ in range(2)]
    with (
        TestClient(workers[0], base_url="https://testserver", follow_redirects=False) as first,
        TestClient(workers[1], base_url="https://testserver", follow_redirects=False) as second,
    ):
        for attempt in range(settings.login_lockout_failures):
            assert log_in((first, second)[attempt % 2], "L15", "wrong password 4").status_code == 401
        assert log_in(first, "L15").status_code == 401
        assert log_in(second, "L15").status_code == 401
    db.expire_all()
    assert db.get(Account, "L15").locked_until is not None  # type: ignore[union-attr]


# --------------------------------------------------------------------------- the session


def test_successful_log_in_sets_a_safe_cookie_and_is_recorded(client: TestClient, db: Session) -> None:
    make_account(db, "L7", {Role.OFFICER})
    response = log_in(client, "L7")
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    headers = [h for h in response.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE + "=")]
    assert len(headers) == 1
    attributes = {part.strip().split("=")[0].lower() for part in headers[0].split(";")}
    assert {"httponly", "secure"} <= attributes
    assert "samesite=lax" in headers[0].lower()
    cookie = SimpleCookie()
    cookie.load(headers[0])
    assert cookie[SESSION_COOKIE]["httponly"] and cookie[SESSION_COOKIE]["secure"]
    # The cookie carries a signed random token; the database keeps only its hash.
    raw = client.cookies[SESSION_COOKIE]
    token = cookie_signer(client.app.state.settings).loads(raw)  # type: ignore[attr-defined]
    rows = _session_rows(db, "L7")
    assert len(rows) == 1 and token not in rows[0].token_hash and len(rows[0].token_hash) == 64
    logins = _entries(db, "login", object_id="L7")
    assert len(logins) == 1 and logins[0].actor == "staff:L7"
    assert client.get("/").status_code == 200


def test_log_out_ends_the_session_on_the_server(client: TestClient, db: Session) -> None:
    make_account(db, "L8", {Role.OFFICER})
    log_in(client, "L8")
    stolen = client.cookies[SESSION_COOKIE]
    response = post_form(client, "/logout")
    assert response.status_code == 303  # type: ignore[attr-defined]
    assert response.headers["location"].startswith("/login")  # type: ignore[attr-defined]
    assert _session_rows(db, "L8")[0].ended_at is not None
    client.cookies.set(SESSION_COOKIE, stolen)  # the old cookie, replayed
    assert _goes_to_login(client)


def test_disabling_an_account_ends_its_sessions(client: TestClient, db: Session) -> None:
    make_account(db, "L9", {Role.OFFICER})
    make_account(db, "LADMIN", {Role.ADMIN}, password=None)
    log_in(client, "L9")
    identity.set_active(db, "L9", False, identity.principal_for(db, "LADMIN"))
    db.commit()
    assert _goes_to_login(client)


def _second_client(app: FastAPI) -> TestClient:
    return TestClient(app, base_url="https://testserver", follow_redirects=False)


def test_a_password_set_by_an_administrator_ends_the_accounts_sessions(
    app: FastAPI, client: TestClient, db: Session
) -> None:
    """Whoever was using the account (someone who learnt the old password) is logged out with it."""
    make_account(db, "P1", {Role.OFFICER})
    make_account(db, "PADMIN", {Role.ADMIN})
    with _second_client(app) as holder:
        log_in(holder, "P1")
        assert holder.get("/me").status_code == 200
        log_in(client, "PADMIN")
        response = post_form(client, "/admin/accounts/P1/password", {"password": "a brand new password"})
        assert "Password set" in unquote(response.headers["location"])  # type: ignore[attr-defined]
        assert _goes_to_login(holder, "/me")
        assert all(row.ended_at is not None for row in _session_rows(db, "P1"))
        assert client.get("/admin/accounts").status_code == 200  # the administrator's own session stays
    change = _entries(db, "alteration", object_id="P1", actor="staff:PADMIN")[0]
    assert change.detail["fields"] == ["password"] and change.detail["sessions_ended"] == 1


def test_a_password_set_on_the_command_line_ends_every_session(
    app: FastAPI, client: TestClient, db: Session
) -> None:
    make_account(db, "P2", {Role.OFFICER})
    with _second_client(app) as other:
        log_in(client, "P2")
        log_in(other, "P2")
        identity.set_password(db, "P2", "set by the operator", "system:cli")
        db.commit()
        assert _goes_to_login(client) and _goes_to_login(other)


def test_changing_ones_own_password_ends_every_other_session(
    app: FastAPI, client: TestClient, db: Session
) -> None:
    """On one's own page, which asks for the current password. The administrators' form used to set an
    administrator's own password without it (a stolen session could take the account over, and log the
    real administrator out): it now refuses, and points to that page."""
    make_account(db, "P3", {Role.ADMIN})
    with _second_client(app) as elsewhere:
        log_in(elsewhere, "P3")
        log_in(client, "P3")
        refused = post_form(client, "/admin/accounts/P3/password", {"password": "my own new password"})
        assert refused.status_code == 400  # type: ignore[attr-defined]
        assert (
            "to change your own password use My record, Change your password (/me/password): it "
            "asks for your current one"
        ) in refused.text  # type: ignore[attr-defined]
        assert 'href="/me/password"' in client.get("/admin/accounts/P3").text
        assert 'action="/admin/accounts/P3/password"' not in client.get("/admin/accounts/P3").text
        assert not _goes_to_login(elsewhere)
        response = post_form(
            client,
            "/me/password",
            {
                "current_password": PASSWORD,
                "new_password": "my own new password",
                "new_password_again": "my own new password",
            },
        )
        location = unquote(response.headers["location"])  # type: ignore[attr-defined]
        assert "Password changed. Your other sessions have been logged out." in location
        assert client.get("/admin/accounts").status_code == 200  # this session goes on
        assert _goes_to_login(elsewhere)
    assert [row.ended_at is None for row in _session_rows(db, "P3")].count(True) == 1


def test_after_the_last_day_of_service_sessions_end_and_log_in_is_refused(
    client: TestClient, db: Session
) -> None:
    """A leave date given in advance takes effect on its own: no re-import is needed on the day."""
    from custodes.identity.models import Account
    from custodes.kit.timefmt import london_day

    make_account(db, "L11", {Role.OFFICER})
    identity.set_last_day(db, "L11", london_day(utcnow()), "system:test")  # today is the last day
    db.commit()
    assert identity.get_account(db, "L11").active  # type: ignore[union-attr]
    log_in(client, "L11")
    assert client.get("/me").status_code == 200
    account = db.get(Account, "L11")
    assert account is not None
    account.active_until = london_day(utcnow()) - timedelta(days=1)  # as if the day had passed
    db.commit()
    assert _goes_to_login(client)
    client.cookies.clear()
    refused = log_in(client, "L11")
    assert refused.status_code == 401 and REFUSED in refused.text  # type: ignore[attr-defined]
    view = identity.get_account(db, "L11")
    assert view is not None and view.left and view.active  # disabled only by the date


@pytest.mark.parametrize("how", ["absolute", "idle"])
def test_expired_sessions_go_to_the_login_page(
    how: str, client: TestClient, db: Session, settings: Settings
) -> None:
    make_account(db, "L10", {Role.OFFICER})
    log_in(client, "L10")
    assert client.get("/").status_code == 200
    row = _session_rows(db, "L10")[0]
    if how == "absolute":
        row.expires_at = utcnow() - timedelta(seconds=1)
    else:
        row.last_seen_at = utcnow() - timedelta(minutes=settings.session_idle_minutes, seconds=1)
    db.commit()
    response = client.get("/me")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/me"


def test_recent_use_keeps_an_idle_session_alive(client: TestClient, db: Session, settings: Settings) -> None:
    make_account(db, "L11", {Role.OFFICER})
    log_in(client, "L11")
    row = _session_rows(db, "L11")[0]
    row.last_seen_at = utcnow() - timedelta(minutes=settings.session_idle_minutes - 1)
    db.commit()
    assert client.get("/").status_code == 200
    assert _session_rows(db, "L11")[0].last_seen_at > utcnow() - timedelta(minutes=1)


@pytest.mark.parametrize("forgery", ["garbage", "tampered", "other secret", "random token", "not a string"])
def test_forged_session_cookies_are_refused(
    forgery: str, client: TestClient, db: Session, settings: Settings
) -> None:
    make_account(db, "L12", {Role.OFFICER})
    log_in(client, "L12")
    genuine = client.cookies[SESSION_COOKIE]
    mine = cookie_signer(settings)
    forged = {
        "garbage": "not-a-cookie",
        "tampered": genuine[:-2] + ("AA" if not genuine.endswith("AA") else "BB"),
        "other secret": URLSafeSerializer("another secret", salt="custodes.session").dumps(
            mine.loads(genuine)
        ),
        "random token": mine.dumps("x" * 43),
        "not a string": mine.dumps({"token": mine.loads(genuine)}),
    }[forgery]
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, forged)
    assert _goes_to_login(client)


# --------------------------------------------------------------------------- redirects


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "https://evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "http:evil.example",
        "//evil.example/%2F..",
        "/\t/evil.example",
        "javascript:alert(1)",
    ],
)
def test_log_in_never_redirects_off_site(target: str, client: TestClient, db: Session) -> None:
    make_account(db, "L13", {Role.OFFICER})
    page = client.get("/login", params={"next": target})
    assert 'name="next" value="/"' in page.text
    response = post_form(client, "/login", {"staff_id": "L13", "password": PASSWORD, "next": target})
    location = response.headers["location"]  # type: ignore[attr-defined]
    assert urlsplit(location).netloc == "" and urlsplit(location).scheme == ""
    assert location == "/"
    # Already logged in: the log-in page's own redirect is just as careful.
    again = client.get("/login", params={"next": target})
    assert again.status_code == 303 and again.headers["location"] == "/"


def test_log_in_returns_to_the_page_asked_for(client: TestClient, db: Session) -> None:
    make_account(db, "L14", {Role.OFFICER})
    sent = client.get("/me")
    next_path = parse_qs(urlsplit(sent.headers["location"]).query)["next"][0]
    assert next_path == "/me"
    page = client.get(sent.headers["location"])
    assert 'name="next" value="/me"' in page.text
    response = post_form(client, "/login", {"staff_id": "L14", "password": PASSWORD, "next": next_path})
    assert response.headers["location"] == "/me"  # type: ignore[attr-defined]


def test_the_page_asked_for_survives_the_round_trip_whatever_its_characters(
    client: TestClient, db: Session
) -> None:
    make_account(db, "L15", {Role.ADMIN})
    sent = client.get("/admin/accounts/A%26next%3Devil%23x%3Fy")
    assert sent.status_code == 303
    asked = parse_qs(urlsplit(sent.headers["location"]).query)["next"]
    assert asked == ["/admin/accounts/A&next=evil%23x%3Fy"]  # one value: the whole path, as a URL
    response = post_form(client, "/login", {"staff_id": "L15", "password": PASSWORD, "next": asked[0]})
    location = response.headers["location"]  # type: ignore[attr-defined]
    assert location == asked[0]
    back = client.get(location)
    assert back.status_code == 404 and "A&amp;next=evil#x?y" in back.text  # the account asked for


def test_simultaneous_wrong_passwords_are_all_counted(
    backend: str, new_database: Callable[[str], str], settings: Settings
) -> None:
    """Else a burst of guesses sent at once would each read the same count and the lock-out never come."""
    from concurrent.futures import ThreadPoolExecutor

    from custodes.kit.db import make_engine, make_session_factory, transaction

    engine = make_engine(new_database(backend))
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        make_account(session, "L9", {Role.OFFICER})
    attempts = settings.login_lockout_failures + 3

    def guess(number: int) -> bool:
        with transaction(factory) as session:
            return identity.authenticate(session, settings, "L9", f"wrong guess {number}", "test").ok

    with ThreadPoolExecutor(max_workers=attempts) as pool:
        assert not any(pool.map(guess, range(attempts)))
    with factory() as session:
        account = session.get(Account, "L9")
        # Counted one after another: the first five lock the account, the rest find it locked.
        assert account is not None and account.failed_logins == settings.login_lockout_failures
        assert account.locked_until is not None
    engine.dispose()


def test_log_in_returns_to_the_page_asked_for_with_its_query(client: TestClient, db: Session) -> None:
    """/declarations/new?kind=gift came back from the log-in as /declarations/new: the query was dropped."""
    make_account(db, "L16", {Role.OFFICER})
    sent = client.get("/declarations/new?kind=gift&x=a%26b")
    assert sent.status_code == 303
    next_path = parse_qs(urlsplit(sent.headers["location"]).query)["next"]
    assert next_path == ["/declarations/new?kind=gift&x=a%26b"]  # one value: path and query
    page = client.get(sent.headers["location"])
    assert 'name="next" value="/declarations/new?kind=gift&amp;x=a%26b"' in page.text
    response = post_form(client, "/login", {"staff_id": "L16", "password": PASSWORD, "next": next_path[0]})
    assert response.headers["location"] == "/declarations/new?kind=gift&x=a%26b"  # type: ignore[attr-defined]


@pytest.mark.parametrize("query", ["next=//evil.example", "a=1&next=https://evil.example"])
def test_a_query_asked_for_never_makes_the_log_in_leave_the_site(
    query: str, client: TestClient, db: Session
) -> None:
    """The query is kept only inside the same-site path: a `next` in it is just part of that path."""
    make_account(db, "L17", {Role.OFFICER})
    sent = client.get(f"/me?{query}")
    next_path = parse_qs(urlsplit(sent.headers["location"]).query)["next"]
    assert next_path == [f"/me?{query}"]
    response = post_form(client, "/login", {"staff_id": "L17", "password": PASSWORD, "next": next_path[0]})
    location = response.headers["location"]  # type: ignore[attr-defined]
    assert urlsplit(location).netloc == "" and location.startswith("/me?")
