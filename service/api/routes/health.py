"""Liveness, readiness and metrics; all async and free of blocking work so they answer under load."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from service.api import metrics
from service.api.errors import PROBLEM_JSON
from service.api.schemas import Health, Readiness
from service.api.security import authorize

router = APIRouter(tags=["health"])
READY_DB_TIMEOUT_S = 2.0


@router.get("/healthz", response_model=Health)
async def read_health(request: Request) -> Health:
    """Liveness: the process answers and its catalog is loaded (no I/O, never waits for other work)."""
    dom = request.app.state.ctx.domain
    return Health(accelerators=len(dom.catalog.accelerators), rules=len(dom.engine.rules))


def _database_check(request: Request) -> str:
    request.app.state.keys.ping()
    return "ok"


@router.get("/readyz", response_model=Readiness)
async def read_readiness(request: Request) -> Any:
    """Readiness: catalog, rule packs, corpus index (warmed at start-up, never built here) and database."""
    ctx = request.app.state.ctx
    dom = ctx.domain
    checks: dict[str, str] = {
        "catalog": "ok" if dom.catalog.accelerators else "empty",
        "rules": "ok" if dom.engine.rules else "empty",
        "index": ctx.corpus.status(),
    }
    try:
        checks["database"] = await asyncio.wait_for(asyncio.to_thread(_database_check, request),
                                                    timeout=READY_DB_TIMEOUT_S)
    except TimeoutError:
        checks["database"] = f"no answer within {READY_DB_TIMEOUT_S:g} s"
    except Exception as exc:  # any driver error means "not reachable"
        checks["database"] = f"unreachable: {exc.__class__.__name__}"
    if all(v == "ok" for v in checks.values()):
        return Readiness(status="ready", checks=checks)
    failing = ", ".join(f"{k}: {v}" for k, v in checks.items() if v != "ok")
    body = {"type": "https://procure.example/problems/not_ready", "title": "Not ready", "status": 503,
            "detail": failing, "code": "not_ready", "checks": checks}
    return JSONResponse(body, status_code=503, media_type=PROBLEM_JSON, headers={"Retry-After": "5"})


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}},
            dependencies=[Depends(authorize)])
async def read_metrics() -> Response:
    """Prometheus metrics (text exposition format)."""
    body, content_type = metrics.exposition()
    return Response(body, media_type=content_type)
