"""Catalog browsing, export-compliance checks and side-by-side comparison."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from optimizer.catalog import Accelerator, Figure, PriceRange
from optimizer.compliance import Buyer, ComplianceResult, compute_metrics
from service.usecases.context import AppContext
from service.usecases.numbers import day


class CatalogEntry(BaseModel):
    """One accelerator's headline figures; 16-bit peaks keep their own precision (BF16 is never filled with FP16)."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    vendor: str
    country_of_origin: str
    domestic_china: bool
    bf16_dense_tflops: float | None = Field(description="Dense BF16 peak; null when only FP16 is published.")
    fp16_dense_tflops: float | None
    sixteen_bit_precision: Literal["bf16", "fp16"] | None = Field(
        description="Which 16-bit peak the headline column shows (bf16 when published, else fp16).")
    fp8_dense_tflops: float | None
    memory_gb: float | None
    memory_bandwidth_tbps: float | None
    intra_node_link_gbps: float | None
    tdp_w: float | None
    tpp: float | None
    performance_density: float | None
    price: PriceRange | None
    node: str | None

    @property
    def sixteen_bit_tflops(self) -> float | None:
        """The headline 16-bit peak (BF16, else FP16)."""
        return self.bf16_dense_tflops if self.sixteen_bit_precision == "bf16" else self.fp16_dense_tflops


def _round(v: float | None, digits: int) -> float | None:
    return None if v is None else round(v, digits)


def _entry(ctx: AppContext, acc: Accelerator) -> CatalogEntry:
    m = compute_metrics(acc)
    bf16, fp16 = acc.dense.bf16, acc.dense.fp16
    node = next(iter(ctx.domain.catalog.nodes_for(acc.id)), None)
    return CatalogEntry(
        id=acc.id, name=acc.name, vendor=acc.vendor, country_of_origin=acc.country_of_origin,
        domestic_china=acc.domestic_china, bf16_dense_tflops=bf16.value, fp16_dense_tflops=fp16.value,
        sixteen_bit_precision="bf16" if bf16.known else ("fp16" if fp16.known else None),
        fp8_dense_tflops=acc.dense.fp8.value, memory_gb=acc.memory_gb.value,
        memory_bandwidth_tbps=acc.memory_bandwidth_tbps.value, intra_node_link_gbps=acc.intra_node_link_gbps.value,
        tdp_w=acc.tdp_w.value, tpp=_round(m.tpp, 1), performance_density=_round(m.pd, 3), price=acc.price,
        node=None if node is None else node.id,
    )


def catalog_list(ctx: AppContext, *, vendor: str | None = None) -> list[CatalogEntry]:
    """Every accelerator (or one vendor's) with headline figures, TPP and price."""
    return [_entry(ctx, a) for a in ctx.domain.catalog.accelerators.values()
            if vendor is None or a.vendor == vendor.strip().lower()]


class AcceleratorDetail(BaseModel):
    """One accelerator: the sourced record, computed metrics, node types and compatible fabrics."""

    model_config = ConfigDict(frozen=True)

    accelerator: Accelerator
    computed: dict[str, Any]
    nodes: list[dict[str, Any]]
    networks: list[str]
    systems: list[dict[str, Any]] = Field(default_factory=list, description="Rack-scale systems built on the part.")

    def figures(self) -> list[tuple[str, Figure]]:
        """(name, figure) pairs in display order."""
        acc = self.accelerator
        out = [(f"dense {p} {'TOPS' if p == 'int8' else 'TFLOPS'}", acc.dense.get(p))  # type: ignore[arg-type]
               for p in ("fp8", "bf16", "fp16", "tf32", "fp32", "int8")]
        out += [(n, getattr(acc, n)) for n in ("memory_gb", "memory_bandwidth_tbps", "intra_node_link_gbps",
                                               "io_bandwidth_gbps", "logic_die_area_mm2", "tdp_w")]
        return [(n, f) for n, f in out if isinstance(f, Figure)]


def catalog_show(ctx: AppContext, sku: str) -> AcceleratorDetail:
    """One accelerator by id or alias.

    Raises:
        UnknownSkuError: no id or alias matches (with suggestions).
    """
    cat = ctx.domain.catalog
    acc = cat.accelerator(sku)
    m = compute_metrics(acc)
    return AcceleratorDetail(
        accelerator=acc,
        computed={"tpp": _round(m.tpp, 1), "tpp_low": _round(m.tpp_low, 1), "tpp_high": _round(m.tpp_high, 1),
                  "tpp_precision": m.precision, "performance_density": _round(m.pd, 3)},
        nodes=[n.model_dump(mode="json", exclude_none=True) for n in cat.nodes_for(acc.id)],
        networks=[n.id for n in cat.networks_for(acc.vendor)],
        systems=[x.model_dump(mode="json", exclude_none=True) for x in cat.systems.values() if x.accelerator == acc.id],
    )


def check_compliance(ctx: AppContext, sku: str, *, buyer_country: str, date: dt.date | str | None = None,
                     buyer_kind: str = "commercial", headquarters_country: str | None = None,
                     buyer_name: str | None = None, buyer_parent: str | None = None,
                     via_country: str | None = None) -> ComplianceResult:
    """Export-control verdict for an accelerator, buyer and date (default today), with every rule that fired.

    ``buyer_name`` and ``buyer_parent`` are screened against the Entity List parties of the screening pack (and the
    Affiliates rule); ``via_country`` is the country the items are re-exported or trans-shipped from.
    """
    when = dt.date.today() if date is None else day(date, what="date")
    buyer = Buyer(country=buyer_country, kind=buyer_kind,  # type: ignore[arg-type]
                  headquarters_country=headquarters_country, on=when, name=buyer_name, parent=buyer_parent,
                  via_country=via_country)
    return ctx.domain.engine.check(sku, buyer)


class Comparison(BaseModel):
    """Accelerators side by side, with their verdicts for one buyer when a country is given."""

    model_config = ConfigDict(frozen=True)

    entries: list[CatalogEntry]
    verdicts: list[ComplianceResult] = Field(default_factory=list)


def compare(ctx: AppContext, skus: Sequence[str], *, buyer_country: str | None = None,
            date: dt.date | str | None = None, buyer_kind: str = "commercial") -> Comparison:
    """Headline figures (and verdicts for ``buyer_country``) of several accelerators, in the order given."""
    cat = ctx.domain.catalog
    ids = list(dict.fromkeys(cat.resolve(s) for s in skus))
    entries = [_entry(ctx, cat.accelerators[i]) for i in ids]
    verdicts = [check_compliance(ctx, i, buyer_country=buyer_country, date=date, buyer_kind=buyer_kind)
                for i in ids] if buyer_country else []
    return Comparison(entries=entries, verdicts=verdicts)
