"""Helpers the browser tests share: a plan from the live server, the form filled for a dated request, geometry."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

# Waits for the server (a plan, a sweep, an answer) check their condition every 100 ms instead of on every animation
# frame (Playwright's default), which would have Chromium draw a frame 60 times a second while the server works.
POLL_MS = 100

REQUEST_2025 = {
    "workloads": [{"kind": "training", "name": "training", "params": "70B", "tokens": "1.4T"}],
    "buyer": {"country": "CN", "kind": "commercial", "date": "2025-08-01"},
    "budget": {"amount": "5000万", "currency": "CNY"},
    "objective": "min_time",
    "alternatives": 3,
    "pareto": True,
}


def post(base: str, path: str, body: dict[str, Any]) -> Any:
    """POST JSON to the live server and read the JSON answer."""
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as resp:  # noqa: S310 - loopback test server
        return json.loads(resp.read())


def get(base: str, path: str) -> Any:
    """GET JSON from the live server."""
    with urllib.request.urlopen(base + path, timeout=60) as resp:  # noqa: S310 - loopback test server
        return json.loads(resp.read())


def plan_form(page: Any, *, date: str = "2025-08-01", budget: str | None = None, hedge: bool = False) -> None:
    """Fill the Plan form for a dated request and submit it; wait until the new plan and its plots are drawn."""
    page.click("nav button[data-tab=plan]")
    page.fill("#plan-form input[name=date]", date)
    if budget is not None:
        page.fill("#plan-form input[name=budget]", budget)
    page.set_checked("#hedge", hedge)
    page.evaluate("window.__drawnBefore = state.drawn")
    page.click("#plan-submit")
    page.wait_for_function("state.drawn && state.drawn !== window.__drawnBefore", timeout=60_000, polling=POLL_MS)


def render(page: Any, plan: dict[str, Any], request: dict[str, Any] | None = None) -> None:
    """Show a plan (a dict as the API returns it, possibly edited) in the plan view, as a form answer would."""
    page.evaluate("([plan, request]) => { state.request = request; state.planSource = 'form'; "
                  "window.__done = false; renderPlan(plan).then(() => { window.__done = true; }); }",
                  [plan, request or REQUEST_2025])
    page.wait_for_function("window.__done === true", timeout=60_000, polling=POLL_MS)


def boxes_overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    """True when two client rectangles overlap by more than a pixel each way."""
    return (min(a["right"], b["right"]) - max(a["left"], b["left"]) > 1
            and min(a["bottom"], b["bottom"]) - max(a["top"], b["top"]) > 1)
