"""Health and readiness."""

from __future__ import annotations

from fastapi import APIRouter

from service.api.schemas import Health
from service.deps import ContextDep

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
def read_health(ctx: ContextDep) -> Health:
    """Report that the service is up and its catalog is loaded."""
    dom = ctx.domain
    return Health(accelerators=len(dom.catalog.accelerators), rules=len(dom.engine.rules))
