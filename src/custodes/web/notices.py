"""The confirmation banner after a form ("Roles updated."): redirects carry it in `?done=`, signed.

A page shows the banner only when the `done` value carries the app's own signature and is recent: anyone
can put any text in a link, so an unsigned, tampered or stale value is ignored rather than shown on a
trusted screen. The message stays readable in the address; the signature is itsdangerous's timestamped
one, keyed with the secret that signs the session cookie (`custodes.web.deps.cookie_signer`), with a salt of
its own so neither signature can stand for the other.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse
from itsdangerous import BadSignature, TimestampSigner
from starlette.types import Receive, Scope, Send

from custodes.settings import Settings

_URL_SAFE = ":/%#?=@[]!$&'()*+,;"  # as RedirectResponse quotes its URL
NOTICE_MAX_AGE_SECONDS = 300  # the redirect is followed at once; a link kept or sent on later shows nothing


def notice_signer(settings: Settings) -> TimestampSigner:
    return TimestampSigner(settings.resolved_secret_key, salt="custodes.done")


def done_url(settings: Settings, path: str, message: str, anchor: str = "") -> str:
    """`path?done=<message signed now>` (then `anchor`, e.g. `#item-2`); `&done=` after a path that has a
    query already (`/alerts?status=new&selected=A1`)."""
    sealed = notice_signer(settings).sign(message).decode()
    return f"{path}{'&' if '?' in path else '?'}done={quote(sealed)}{anchor}"


class DoneRedirect(RedirectResponse):
    """303 to `path` showing `message` as the banner. The message is signed as the response is sent, with the
    settings of the app sending it, so the web handlers need no request or settings to build one."""

    def __init__(self, path: str, message: str, anchor: str = "") -> None:
        super().__init__(path + anchor, status_code=303)
        self.path, self.message, self.anchor = path, message, anchor

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        settings: Settings = scope["app"].state.settings
        self.headers["location"] = quote(
            done_url(settings, self.path, self.message, self.anchor), safe=_URL_SAFE
        )
        await super().__call__(scope, receive, send)


def done_redirect(path: str, message: str, anchor: str = "") -> RedirectResponse:
    """Every module's redirect after a form: back to `path` with `message` in the banner."""
    return DoneRedirect(path, message, anchor)


def notice(request: Request) -> str | None:
    """The banner to show: the `done` message if the app signed it in the last few minutes, else nothing."""
    value = request.query_params.get("done")
    if not value:
        return None
    try:
        message = notice_signer(request.app.state.settings).unsign(value, max_age=NOTICE_MAX_AGE_SECONDS)
    except BadSignature:  # unsigned, tampered, signed with another secret, or expired
        return None
    return message.decode("utf-8", errors="replace")
