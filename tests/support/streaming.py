"""An ASGI wrapper that hands a request body to the application in chunks, as a server does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

CHUNK = 65_536  # uvicorn's


class Streaming:
    """Hands the body to the application in chunks of `CHUNK` bytes (TestClient delivers it in one
    message), counting the bytes the application pulls: how much of a body was read before an answer."""

    def __init__(self, app: Any) -> None:
        self.app, self.read = app, 0

    async def __call__(self, scope: Any, receive: Callable[[], Any], send: Any) -> None:
        body: bytes | None = None
        finished = False

        async def chunked() -> Any:
            nonlocal body, finished
            if body is None:
                message = await receive()
                if message["type"] != "http.request":
                    return message
                body = bytes(message.get("body", b""))
            if finished:
                return await receive()
            chunk, body = body[:CHUNK], body[CHUNK:]
            finished = not body
            self.read += len(chunk)
            return {"type": "http.request", "body": chunk, "more_body": not finished}

        await self.app(scope, chunked, send)
