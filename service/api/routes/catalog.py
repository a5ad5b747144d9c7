"""Catalog resources."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from service.deps import DomainDep
from service.presenters import accelerator_detail, accelerator_summary

router = APIRouter(prefix="/v1/catalog", tags=["catalog"])


@router.get("/accelerators")
def read_accelerators(dom: DomainDep, vendor: str | None = None) -> list[dict[str, Any]]:
    """List accelerators with headline figures, TPP and price."""
    return [
        accelerator_summary(a, dom.catalog)
        for a in dom.catalog.accelerators.values()
        if vendor is None or a.vendor == vendor.lower()
    ]


@router.get("/accelerators/{sku}")
def read_accelerator(sku: str, dom: DomainDep) -> dict[str, Any]:
    """Show one accelerator (id or alias) with every sourced figure."""
    return accelerator_detail(dom.catalog.accelerator(sku), dom.catalog)
