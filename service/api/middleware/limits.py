"""Input limits: path length, body size and pace, and finite JSON numbers, checked before any route runs.

Path segments are no longer than ``limits.max_path_chars`` (414); the body is read here and counted as its bytes
arrive, chunked or not (413), with a timeout between chunks for slow clients (408); JSON bodies may hold no
non-finite number (``1e309``, ``Infinity``, ``NaN``, also as strings) (422).

The body is buffered and replayed to the app by :class:`Replay`, which afterwards waits for the client to go
away: :mod:`.admission` watches it to cancel the work of a client that disconnected.
"""

from __future__ import annotations

import asyncio
import json
import math
from typing import Any

from service.api.errors import problem
from service.api.middleware._asgi import ASGIApp, Message, Receive, Scope, Send, header
from service.settings import LimitSettings


class _BodyError(Exception):
    def __init__(self, status: int, code: str, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.title, self.detail = status, code, title, detail


def _reject_constant(name: str) -> float:
    raise _BodyError(422, "non_finite_number", "Non-finite number", f"{name} is not a finite number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _BodyError(422, "non_finite_number", "Non-finite number", f"{text} is out of the range of numbers")
    return value


def _finite_int(text: str) -> int:
    if len(text.lstrip("-")) > 300:
        raise _BodyError(422, "non_finite_number", "Non-finite number", "an integer has more than 300 digits")
    return int(text)


def _non_finite_strings(value: Any, path: str = "") -> str | None:
    """Location of a string that a number field would read as infinite or NaN ("inf", "1e999"), if any."""
    if isinstance(value, str):
        if len(value) < 40:
            try:
                number = float(value)
            except ValueError:
                return None
            return None if math.isfinite(number) else path or "body"
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _non_finite_strings(item, f"{path}.{key}" if path else str(key))
            if found:
                return found
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = _non_finite_strings(item, f"{path}[{i}]")
            if found:
                return found
    return None


def check_json_numbers(body: bytes) -> Any:
    """Raise when a JSON body holds a non-finite number, as a literal or as a numeric string; the parsed body.

    Bodies that are not valid JSON pass as None (FastAPI answers them with its own 4xx).
    """
    try:
        data = json.loads(body, parse_constant=_reject_constant, parse_float=_finite_float, parse_int=_finite_int)
    except (ValueError, RecursionError):
        return None
    where = _non_finite_strings(data)
    if where:
        raise _BodyError(422, "non_finite_number", "Non-finite number", f"{where}: not a finite number")
    return data


class InputLimitMiddleware:
    """Bounds the path and the body before any route sees them."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, limits: LimitSettings) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.limits = limits

    async def _read_body(self, scope: Scope, receive: Receive) -> tuple[bytes, bool]:
        length = header(scope, b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
            raise _BodyError(413, "payload_too_large", "Payload too large",
                             f"request body exceeds {self.max_body_bytes} bytes")
        chunks: list[bytes] = []
        size = 0
        while True:
            try:
                message = await asyncio.wait_for(receive(), timeout=self.limits.body_timeout_s)
            except TimeoutError:
                raise _BodyError(408, "request_timeout", "Request timeout",
                                 f"no body data for {self.limits.body_timeout_s:g} s") from None
            if message["type"] == "http.disconnect":
                return b"".join(chunks), True
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise _BodyError(413, "payload_too_large", "Payload too large",
                                 f"request body exceeds {self.max_body_bytes} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks), False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: D102 - ASGI entry
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        longest = max((len(part) for part in scope["path"].split("/")), default=0)
        if longest > self.limits.max_path_chars:
            await problem(414, "uri_too_long", "URI too long",
                          f"a path segment is {longest} characters; the limit is {self.limits.max_path_chars}"
                          )(scope, receive, send)
            return
        if scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        try:
            body, disconnected = await self._read_body(scope, receive)
            content_type = (header(scope, b"content-type") or "").lower()
            if body and "json" in content_type:
                check_json_numbers(body)
        except _BodyError as exc:
            await problem(exc.status, exc.code, exc.title, exc.detail, headers={"Connection": "close"}
                          )(scope, receive, send)
            return
        if disconnected:
            return
        await self.app(scope, Replay(body, receive), send)


class Replay:
    """Gives the buffered body to the app, then waits for the client to disconnect (shared with the watchers)."""

    def __init__(self, body: bytes, receive: Receive) -> None:
        self._body: bytes | None = body
        self._receive = receive
        self._disconnect: asyncio.Future[Message] | None = None

    async def __call__(self) -> Message:
        """The body once, then (like a server) nothing until the client disconnects."""
        if self._body is not None:
            body, self._body = self._body, None
            return {"type": "http.request", "body": body, "more_body": False}
        return await self.wait_disconnect()

    def close(self) -> None:
        """Stop waiting for the disconnect (the request is over)."""
        if self._disconnect is not None and not self._disconnect.done():
            self._disconnect.cancel()

    async def wait_disconnect(self) -> Message:
        """The ``http.disconnect`` message, once the client goes (never consumes the body)."""
        if self._disconnect is None:
            self._disconnect = asyncio.ensure_future(self._wait())
        return await asyncio.shield(self._disconnect)

    async def _wait(self) -> Message:
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                return message
