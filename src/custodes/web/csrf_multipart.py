"""Compatibility fix: asgi-csrf 0.11 cannot check the token of a multipart (file upload) form.

asgi-csrf passes `FileClass=` to python-multipart's FormParser, which python-multipart 0.0.26 removed
(simonw/asgi-csrf#38, fix proposed in #39); every multipart POST then fails with a TypeError. Older
python-multipart releases carry CVE-2026-40347, so pinning back is not an option. This replaces the one
broken function with the same logic on the current API: read the body until the `csrftoken` field, refuse a
file that comes before it, replay what was read. `web/app.py` installs it with the CSRF middleware.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import asgi_csrf
from python_multipart import FormParser

Receive = Callable[[], Awaitable[dict[str, Any]]]


async def parse_multipart_form_data(boundary: bytes, receive: Receive) -> tuple[str | None, Receive]:
    """(the csrftoken field's value or None, a receive that replays the body read so far)."""
    messages: list[dict[str, Any]] = []

    def on_field(field: Any) -> None:
        if field.field_name == b"csrftoken":
            raise asgi_csrf.TokenFound((field.value or b"").decode("utf-8", "replace"))

    def on_file(_file: Any) -> None:
        raise asgi_csrf.FileBeforeToken

    async def replay_receive() -> dict[str, Any]:
        return messages.pop(0) if messages else await receive()

    parser = FormParser("multipart/form-data", on_field, on_file, boundary=boundary)
    more_body = True
    try:
        while more_body:
            message = await receive()
            messages.append(message)
            parser.write(message.get("body", b""))
            more_body = message.get("more_body", False)
    except asgi_csrf.TokenFound as found:
        return found.args[0], replay_receive
    return None, replay_receive


def install() -> None:
    if getattr(asgi_csrf._parse_multipart_form_data, "__module__", "") == "asgi_csrf":
        asgi_csrf._parse_multipart_form_data = parse_multipart_form_data
