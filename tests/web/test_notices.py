"""The confirmation banner (`?done=`) shows only messages the app signed, and only for a few minutes."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
from fastapi.testclient import TestClient

from custodes.identity.permissions import Role
from custodes.settings import Settings
from custodes.web.notices import NOTICE_MAX_AGE_SECONDS, done_url, notice_signer
from tests.conftest import post_form

BANNER = '<p class="notice" role="status">'
CRAFTED = "Your password has expired, call 0800 000 000 now"


def _banner(client: TestClient, url: str) -> str | None:
    page = client.get(url)
    assert page.status_code == 200
    if BANNER not in page.text:
        return None
    return page.text.partition(BANNER)[2].partition("</p>")[0]


def test_a_message_the_app_signed_shows(client: TestClient, settings: Settings) -> None:
    assert _banner(client, done_url(settings, "/login", "Roles updated.")) == "Roles updated."


@pytest.mark.parametrize(
    "done",
    [
        CRAFTED,  # the reviewer's link: plain text
        CRAFTED + ".AAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBB",  # shaped like a signed value
        "",
    ],
)
def test_an_unsigned_message_shows_nothing(client: TestClient, done: str) -> None:
    assert _banner(client, f"/login?done={quote(done)}") is None
    assert CRAFTED not in client.get(f"/login?done={quote(done)}").text


def test_a_tampered_message_shows_nothing(client: TestClient, settings: Settings) -> None:
    signed = unquote(done_url(settings, "/login", "Roles updated.").partition("done=")[2])
    _message, _, seal = signed.partition(".")
    assert _banner(client, f"/login?done={quote(signed)}") == "Roles updated."
    assert _banner(client, f"/login?done={quote(CRAFTED + '.' + seal)}") is None
    assert _banner(client, f"/login?done={quote(signed[:-2] + 'xx')}") is None


def test_a_message_signed_with_another_secret_shows_nothing(client: TestClient, tmp_path: Path) -> None:
    elsewhere = Settings(home=tmp_path / "elsewhere", secret_key="another-installation-secret-0123456789")
    assert _banner(client, done_url(elsewhere, "/login", CRAFTED)) is None


def test_a_stale_message_shows_nothing(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A signed link kept, or sent on to someone else, stops showing its banner after a few minutes."""
    signer = notice_signer(settings)
    monkeypatch.setattr(signer, "get_timestamp", lambda: int(time.time()) - NOTICE_MAX_AGE_SECONDS - 5)
    stale = signer.sign("Roles updated.").decode()
    assert _banner(client, f"/login?done={quote(stale)}") is None
    signer = notice_signer(settings)
    monkeypatch.setattr(signer, "get_timestamp", lambda: int(time.time()) - NOTICE_MAX_AGE_SECONDS + 30)
    recent = signer.sign("Roles updated.").decode()
    assert _banner(client, f"/login?done={quote(recent)}") == "Roles updated."


def test_redirects_after_a_form_carry_a_signed_banner(
    client: TestClient, logged_in: Callable[[Role], str]
) -> None:
    logged_in(Role.ADMIN)
    saved = post_form(client, "/admin/config/review_days", {"value": "61"})
    location = saved.headers["location"]  # type: ignore[attr-defined]
    assert location.startswith("/admin/config?done=")
    message = _banner(client, location)
    assert message == "Setting saved."
    # The same message without its signature is not shown.
    assert _banner(client, f"/admin/config?done={quote(message)}") is None


def test_the_ledger_verification_banner_is_signed(
    client: TestClient, logged_in: Callable[[Role], str]
) -> None:
    logged_in(Role.AUDITOR)
    verified = post_form(client, "/audit/verify")
    assert verified.status_code == 303  # type: ignore[attr-defined]
    location = verified.headers["location"]  # type: ignore[attr-defined]
    assert location.startswith("/audit?done=Verified%20")
    message = _banner(client, location)
    assert message is not None and message.startswith("Verified ") and message.endswith("intact.")


def test_log_out_shows_a_signed_banner(client: TestClient, logged_in: Callable[[Role], str]) -> None:
    logged_in(Role.OFFICER)
    out = post_form(client, "/logout")
    location = out.headers["location"]  # type: ignore[attr-defined]
    assert location.startswith("/login?done=You%20have%20logged%20out.")
    assert _banner(client, location) == "You have logged out."
    assert _banner(client, "/login?done=You+have+logged+out.") is None


def test_an_anchor_follows_the_signed_message(settings: Settings) -> None:
    url = done_url(settings, "/stopsearch/samples/SSS-1", "Reviewed.", "#item-2")
    assert url.startswith("/stopsearch/samples/SSS-1?done=Reviewed.") and url.endswith("#item-2")
