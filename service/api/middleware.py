"""ASGI middleware that bounds every request before and while the routes run.

* :class:`RequestContextMiddleware` (outermost): request id (``X-Request-ID``), one JSON access-log line,
  Prometheus request counters and latency histograms.
* :class:`InputLimitMiddleware`: path segments no longer than ``limits.max_path_chars`` (414); the body is read
  here and counted as its bytes arrive, chunked or not (413), with a timeout between chunks for slow clients
  (408); JSON bodies may hold no non-finite number (``1e309``, ``Infinity``, ``NaN``, also as strings) (422).
* :class:`WorkMiddleware`: every ``/v1`` request runs under a :class:`optimizer.cancel.WorkControl` with the
  request's solver budget; heavy requests (plans, what-ifs, ingestion) wait for one of
  ``limits.max_concurrent_solves`` slots. At the deadline the work is cancelled and 504 (or 503 while still
  queued) is sent; a client that disconnects cancels its work; :func:`cancel_all` (graceful shutdown) stops
  every solve in flight.

Pure ASGI (no ``BaseHTTPMiddleware``) so that streaming, disconnects and context variables behave.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from service.api import metrics
from service.api.errors import problem
from service.jsonlog import request_id_var
from service.settings import LimitSettings
from service.usecases import WorkControl, controlled

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("procure.access")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
HEAVY = (("POST", "/v1/recommendations"), ("POST", "/v1/corpus/documents"), ("POST", "/v1/chat"))
"""(method, path prefix) of the requests that solve or ingest and therefore queue for a slot."""

_active: set[WorkControl] = set()


def cancel_all(reason: str = "shutdown") -> int:
    """Cancel every unit of work in flight (graceful shutdown); returns how many were cancelled."""
    controls = list(_active)
    for control in controls:
        control.cancel(reason)
    return len(controls)


def in_flight() -> int:
    """Units of work running now."""
    return len(_active)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


class _ResponseState:
    """Wraps ``send``: remembers the status, adds headers, drops messages once the request was answered."""

    def __init__(self, send: Send, extra_headers: list[tuple[bytes, bytes]] | None = None) -> None:
        self._send = send
        self.extra = extra_headers or []
        self.status: int | None = None
        self.closed = False

    async def __call__(self, message: Message) -> None:
        if self.closed:
            return
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
            if self.extra:
                message = {**message, "headers": [*message.get("headers", []), *self.extra]}
        await self._send(message)


# ---------------------------------------------------------------------------------------------- context
class RequestContextMiddleware:
    """Request id, access log line and metrics for each HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: D102 - ASGI entry
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = _header(scope, b"x-request-id")
        rid = given if given and _SAFE_ID.match(given) else uuid.uuid4().hex
        token = request_id_var.set(rid)
        state = _ResponseState(send, [(b"x-request-id", rid.encode())])
        start = time.perf_counter()
        metrics.IN_PROGRESS.inc()
        try:
            await self.app(scope, receive, state)
        finally:
            metrics.IN_PROGRESS.dec()
            elapsed = time.perf_counter() - start
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            status = state.status or 500
            metrics.REQUESTS.labels(scope["method"], template, str(status)).inc()
            metrics.LATENCY.labels(scope["method"], template).observe(elapsed)
            log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "route": template,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                    "client": (scope.get("client") or ("?",))[0],
                },
            )
            await _audit(scope, status, rid)
            request_id_var.reset(token)


async def _audit(scope: Scope, status: int, request_id: str) -> None:
    """Write the audit event of a request made with a key, and of every ingestion (any outcome)."""
    key_id = scope.get("state", {}).get("audit_key")
    ingest = scope["method"] == "POST" and scope["path"].startswith("/v1/corpus/documents")
    store = getattr(getattr(scope.get("app"), "state", None), "keys", None)
    if store is None or not (key_id or ingest):
        return
    client = (scope.get("client") or ("?",))[0]
    try:
        await asyncio.to_thread(store.audit, "ingest" if ingest else "request", key_id=key_id,
                                method=scope["method"], path=scope["path"], status=status, client=client,
                                request_id=request_id)
    except Exception:  # the audit log must never turn an answered request into an error
        log.exception("could not write the audit event")


# ---------------------------------------------------------------------------------------------- input
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


def check_work_limits(path: str, data: Any, limits: LimitSettings) -> None:
    """Raise when a recommendation or what-if asks for more workloads or alternatives than the limits allow."""
    if not path.startswith("/v1/recommendations") or not isinstance(data, dict):
        return
    request = data.get("request") if path.startswith("/v1/recommendations/whatif") else data
    if not isinstance(request, dict):
        return
    workloads = request.get("workloads")
    if isinstance(workloads, list) and len(workloads) > limits.max_workloads:
        raise _BodyError(422, "limit_exceeded", "Limit exceeded",
                         f"workloads: {len(workloads)} given, at most {limits.max_workloads} per request")
    alternatives = request.get("alternatives")
    if isinstance(alternatives, int) and alternatives > limits.max_alternatives:
        raise _BodyError(422, "limit_exceeded", "Limit exceeded",
                         f"alternatives: {alternatives} asked, at most {limits.max_alternatives} per request")


class InputLimitMiddleware:
    """Bounds the path and the body before any route sees them."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, limits: LimitSettings) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.limits = limits

    async def _read_body(self, scope: Scope, receive: Receive) -> tuple[bytes, bool]:
        length = _header(scope, b"content-length")
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
            content_type = (_header(scope, b"content-type") or "").lower()
            if body and "json" in content_type:
                check_work_limits(scope["path"], check_json_numbers(body), self.limits)
        except _BodyError as exc:
            await problem(exc.status, exc.code, exc.title, exc.detail, headers={"Connection": "close"}
                          )(scope, receive, send)
            return
        if disconnected:
            return
        await self.app(scope, _Replay(body, receive), send)


class _Replay:
    """Gives the buffered body to the app, then waits for the client to disconnect (shared with the watchers)."""

    def __init__(self, body: bytes, receive: Receive) -> None:
        self._body: bytes | None = body
        self._receive = receive
        self._disconnect: asyncio.Future[Message] | None = None

    async def __call__(self) -> Message:
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


# ---------------------------------------------------------------------------------------------- work
class WorkMiddleware:
    """Deadline, cancellation, solver budget and a concurrency limit for heavy requests under ``/v1``."""

    def __init__(self, app: ASGIApp, *, limits: LimitSettings) -> None:
        self.app = app
        self.limits = limits
        self._slots: asyncio.Semaphore | None = None

    def _semaphore(self) -> asyncio.Semaphore:
        if self._slots is None:  # created on the server's event loop, not at import
            self._slots = asyncio.Semaphore(self.limits.max_concurrent_solves)
        return self._slots

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: D102 - ASGI entry
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        heavy = any(scope["method"] == m and scope["path"].startswith(p) for m, p in HEAVY)
        deadline = time.monotonic() + self.limits.request_deadline_s
        slots = self._semaphore() if heavy else None
        if slots is not None:
            try:
                await asyncio.wait_for(slots.acquire(), timeout=self.limits.request_deadline_s)
            except TimeoutError:
                metrics.REJECTED.labels("queue_timeout").inc()
                await problem(503, "overloaded", "Service overloaded",
                              f"no solver slot became free within {self.limits.request_deadline_s:g} s",
                              headers={"Retry-After": "5"})(scope, receive, send)
                return
        control = WorkControl(solver_budget_s=self.limits.solver_budget_s)
        _active.add(control)
        state = _ResponseState(send)
        try:
            with controlled(control):  # the task below (and the worker thread it uses) copies this context
                task = asyncio.ensure_future(self.app(scope, receive, state))
            watcher = asyncio.ensure_future(self._watch_disconnect(receive, control)) if heavy else None
            try:
                await asyncio.wait_for(asyncio.shield(task), timeout=max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                control.cancel("deadline")
                metrics.REJECTED.labels("deadline").inc()
                if state.status is None:
                    state.closed = True
                    await problem(504, "deadline_exceeded", "Deadline exceeded",
                                  f"the request took longer than {self.limits.request_deadline_s:g} s and was "
                                  "cancelled; ask for fewer workloads, alternatives or Pareto points")(
                        scope, receive, send)
                await asyncio.wait({task}, timeout=30)  # the cancelled solve ends at its next check
            finally:
                if watcher is not None:
                    watcher.cancel()
                if isinstance(receive, _Replay):
                    receive.close()
        finally:
            _active.discard(control)
            if control.solves:
                metrics.SOLVER_SECONDS.observe(control.solver_seconds)
            if slots is not None:
                slots.release()

    @staticmethod
    async def _watch_disconnect(receive: Receive, control: WorkControl) -> None:
        if not isinstance(receive, _Replay):
            return  # the body was not buffered by InputLimitMiddleware: reading here could steal it
        message = await receive.wait_disconnect()
        if message["type"] == "http.disconnect":
            metrics.REJECTED.labels("client_disconnected").inc()
            control.cancel("client disconnected")
