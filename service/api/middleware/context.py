"""Request context: request id (``X-Request-ID``), the JSON access-log line, request metrics, the audit event."""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid

from service.api import metrics
from service.api.middleware._asgi import ASGIApp, Receive, ResponseState, Scope, Send, header
from service.jsonlog import request_id_var

log = logging.getLogger("procure.access")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class RequestContextMiddleware:
    """Request id, access log line and metrics for each HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: D102 - ASGI entry
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = header(scope, b"x-request-id")
        rid = given if given and _SAFE_ID.match(given) else uuid.uuid4().hex
        token = request_id_var.set(rid)
        state = ResponseState(send, [(b"x-request-id", rid.encode())])
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
