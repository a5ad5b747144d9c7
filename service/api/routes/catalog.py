"""Catalog resources."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from service import usecases
from service.deps import ContextDep
from service.presenters import accelerator_detail, accelerator_summary

router = APIRouter(prefix="/v1/catalog", tags=["catalog"])


@router.get("/accelerators")
def read_accelerators(ctx: ContextDep, vendor: str | None = None) -> list[dict[str, Any]]:
    """List accelerators with headline figures, TPP and price (BF16 and FP16 peaks reported apart)."""
    return [accelerator_summary(e) for e in usecases.catalog_list(ctx, vendor=vendor)]


@router.get("/accelerators/{sku}")
def read_accelerator(sku: str, ctx: ContextDep) -> dict[str, Any]:
    """Show one accelerator (id or alias) with every sourced figure."""
    return accelerator_detail(usecases.catalog_show(ctx, sku))
