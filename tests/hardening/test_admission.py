"""Work admission and the commit point, driven at the ASGI level (no sockets): exact answers, exact metrics.

* Work past its commit point cannot be cancelled: at the deadline the client gets the work's own answer, never a
  504 for something that then exists.
* Work cancelled before its commit point stores nothing; the request is answered 504 at its deadline.
* ``client_disconnected`` counts a client that left before its answer was complete, not the disconnect message a
  server sends after every complete answer.
* The per-request caps live in the use cases: the CLI and the agent path obey them as HTTP does.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI

from optimizer.cancel import WorkCancelledError, WorkControl, check_cancelled, checker, commit_point, controlled
from service.api import metrics
from service.api.errors import install_error_handlers
from service.api.middleware import InputLimitMiddleware, WorkMiddleware
from service.container import build_context
from service.settings import LimitSettings, Settings
from service.usecases import LimitExceededError, PurchaseRequest, recommend
from tests.hardening.conftest import LIGHT_REQUEST, heavy_request


def test_a_committed_control_refuses_cancellation() -> None:
    control = WorkControl()
    control.begin_commit()
    assert control.cancel("deadline") is False and not control.cancelled
    control.check()  # the committed work finishes normally
    other = WorkControl()
    assert other.cancel("client disconnected") is True
    with pytest.raises(WorkCancelledError):
        other.begin_commit()


def test_the_checker_keeps_its_control_across_threads() -> None:
    control = WorkControl()
    with controlled(control):
        check = checker()
    seen: list[BaseException] = []

    def elsewhere() -> None:  # a thread that did not copy the context
        control.cancel("deadline")
        try:
            check()
        except WorkCancelledError as exc:
            seen.append(exc)
        check_cancelled()  # no control installed here: nothing happens

    t = threading.Thread(target=elsewhere)
    t.start()
    t.join()
    assert len(seen) == 1 and getattr(seen[0], "reason", "") == "deadline"
    checker()()  # without a control: a no-op
    commit_point()


def _route_app(work: Callable[[], dict[str, Any]]) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)  # a cancelled route answers as in the service (problem+json)

    @app.post("/v1/work")
    def run() -> dict[str, Any]:
        return work()

    return app


def _call(app: Any, *, disconnect_after_s: float | None = None) -> tuple[int | None, bytes, float]:
    """One POST through the ASGI app; the client hangs up after ``disconnect_after_s`` (None: it waits)."""
    messages: list[dict[str, Any]] = []

    async def run() -> float:
        delivered = False
        done = asyncio.Event()

        async def receive() -> dict[str, Any]:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": b"{}", "more_body": False}
            if disconnect_after_s is not None:
                await asyncio.sleep(disconnect_after_s)
            else:
                await done.wait()  # like a server: the disconnect comes after the complete answer
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            messages.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                done.set()

        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
                 "scheme": "http", "path": "/v1/work", "raw_path": b"/v1/work", "query_string": b"",
                 "root_path": "", "headers": [(b"content-type", b"application/json"), (b"host", b"t")],
                 "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 80), "state": {}}
        start = time.perf_counter()
        await app(scope, receive, send)
        await asyncio.sleep(0.05)  # let a disconnect watcher run, as it would on a real server
        return time.perf_counter() - start

    elapsed = asyncio.run(run())
    status = next((m["status"] for m in messages if m["type"] == "http.response.start"), None)
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return status, body, elapsed


def _wrapped(work: Callable[[], dict[str, Any]], deadline_s: float) -> Any:
    limits = LimitSettings(request_deadline_s=deadline_s)
    return InputLimitMiddleware(WorkMiddleware(_route_app(work), limits=limits), max_body_bytes=10_000, limits=limits)


@pytest.mark.serial
def test_work_past_its_commit_point_is_answered_not_cancelled() -> None:
    stored: list[str] = []

    def work() -> dict[str, Any]:
        time.sleep(0.3)
        commit_point()  # e.g. the job row is committed here …
        stored.append("job")
        time.sleep(1.0)  # … and the deadline passes while the answer is being prepared
        return {"stored": True}

    status, body, _ = _call(_wrapped(work, deadline_s=0.6))
    assert stored == ["job"]
    assert status == 200 and json.loads(body) == {"stored": True}  # never a 504 for something that exists


@pytest.mark.serial
def test_work_cancelled_before_its_commit_point_stores_nothing() -> None:
    stored: list[str] = []

    def work() -> dict[str, Any]:
        for _ in range(100):
            time.sleep(0.02)
            check_cancelled()
        commit_point()
        stored.append("job")
        return {"stored": True}

    status, body, elapsed = _call(_wrapped(work, deadline_s=0.5))
    assert status == 504 and json.loads(body)["code"] == "deadline_exceeded"
    assert stored == [] and elapsed < 1.5


def _disconnects() -> float:
    return metrics.REJECTED.labels("client_disconnected")._value.get()  # type: ignore[attr-defined]


@pytest.mark.serial
def test_client_disconnected_counts_only_clients_that_left_early() -> None:
    before = _disconnects()
    for _ in range(3):
        status, _, _ = _call(_wrapped(lambda: {"ok": True}, deadline_s=5))
        assert status == 200
    assert _disconnects() == before  # complete answers followed by the server's disconnect message

    def slow() -> dict[str, Any]:
        for _ in range(200):
            time.sleep(0.02)
            check_cancelled()
        return {"ok": True}

    _, _, elapsed = _call(_wrapped(slow, deadline_s=30), disconnect_after_s=0.3)
    assert elapsed < 2  # the work stopped with its client
    assert _disconnects() == before + 1


def test_the_caps_live_in_the_use_cases(tmp_path: Any) -> None:
    ctx = build_context(Settings(data_dir=tmp_path, limits={"max_workloads": 3, "max_alternatives": 2}))
    with pytest.raises(LimitExceededError, match=r"at most 3 per request \(PROCURE_LIMITS__MAX_WORKLOADS"):
        recommend(ctx, PurchaseRequest.model_validate(heavy_request(4, alternatives=1)))
    with pytest.raises(LimitExceededError, match="PROCURE_LIMITS__MAX_ALTERNATIVES"):
        recommend(ctx, PurchaseRequest.model_validate({**LIGHT_REQUEST, "alternatives": 3}))
    assert recommend(ctx, PurchaseRequest.model_validate(LIGHT_REQUEST)).status in ("optimal", "feasible")
