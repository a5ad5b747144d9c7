"""Catalog resources."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from service import usecases
from service.deps import ContextDep
from service.presenters import accelerator_detail, accelerator_summary
from service.usecases import Comparison, IsoDate

router = APIRouter(prefix="/v1/catalog", tags=["catalog"])


@router.get("/accelerators")
def read_accelerators(ctx: ContextDep, vendor: str | None = None) -> list[dict[str, Any]]:
    """List accelerators with headline figures, TPP and price (BF16 and FP16 peaks reported apart)."""
    return [accelerator_summary(e) for e in usecases.catalog_list(ctx, vendor=vendor)]


@router.get("/compare", response_model=Comparison)
def read_comparison(
    ctx: ContextDep,
    sku: Annotated[list[str], Query(min_length=1, max_length=10, description="Ids or aliases (repeat).")],
    buyer_country: Annotated[str | None, Query(min_length=2, max_length=2, description="Add verdicts.")] = None,
    date: Annotated[IsoDate | None, Query(description="Date of the verdicts (default today).")] = None,
) -> Comparison:
    """Accelerators side by side, with export verdicts for a buyer when a country is given."""
    return usecases.compare(ctx, sku, buyer_country=buyer_country, date=date)


@router.get("/accelerators/{sku}")
def read_accelerator(sku: str, ctx: ContextDep) -> dict[str, Any]:
    """Show one accelerator (id or alias) with every sourced figure."""
    return accelerator_detail(usecases.catalog_show(ctx, sku))
