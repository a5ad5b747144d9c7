"""Health and readiness."""

from __future__ import annotations

from fastapi import APIRouter

from service.api.schemas import Health
from service.deps import DomainDep

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
def read_health(dom: DomainDep) -> Health:
    """Report that the service is up and its catalog is loaded."""
    return Health(accelerators=len(dom.catalog.accelerators), rules=len(dom.engine.rules))
