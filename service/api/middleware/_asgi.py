"""ASGI types and the response wrapper the middleware modules share."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of a request header (lower-case ``name``), or None."""
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


class ResponseState:
    """Wraps ``send``: remembers the status and whether the answer is complete, adds headers.

    Once ``closed`` (the request was answered by someone else), the app's messages are dropped.
    """

    def __init__(self, send: Send, extra_headers: list[tuple[bytes, bytes]] | None = None) -> None:
        self._send = send
        self.extra = extra_headers or []
        self.status: int | None = None
        self.complete = False
        """True once the last body message went out: the client got its whole answer."""
        self.closed = False

    async def __call__(self, message: Message) -> None:
        if self.closed:
            return
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
            if self.extra:
                message = {**message, "headers": [*message.get("headers", []), *self.extra]}
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            self.complete = True  # set before sending: the server may report the disconnect while sending
        await self._send(message)
