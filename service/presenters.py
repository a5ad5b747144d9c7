"""Turn domain objects into plain JSON-ready dictionaries shared by the CLI and the HTTP API."""

from __future__ import annotations

from typing import Any

from optimizer.catalog import Accelerator, Catalog, Figure
from optimizer.compliance import compute_metrics


def _val(fig: Figure) -> float | None:
    return fig.value


def accelerator_summary(acc: Accelerator, catalog: Catalog) -> dict[str, Any]:
    """One row of the catalog list: headline figures, price and computed TPP/PD."""
    m = compute_metrics(acc)
    sixteen = acc.dense.bf16 if acc.dense.bf16.known else acc.dense.fp16
    price = acc.price
    node = next(iter(catalog.nodes_for(acc.id)), None)
    return {
        "id": acc.id,
        "name": acc.name,
        "vendor": acc.vendor,
        "country_of_origin": acc.country_of_origin,
        "domestic_china": acc.domestic_china,
        "bf16_dense_tflops": _val(sixteen),
        "fp8_dense_tflops": _val(acc.dense.fp8),
        "memory_gb": _val(acc.memory_gb),
        "memory_bandwidth_tbps": _val(acc.memory_bandwidth_tbps),
        "intra_node_link_gbps": _val(acc.intra_node_link_gbps),
        "tdp_w": _val(acc.tdp_w),
        "tpp": None if m.tpp is None else round(m.tpp, 1),
        "performance_density": None if m.pd is None else round(m.pd, 3),
        "price": None if price is None else price.model_dump(mode="json"),
        "node": None if node is None else node.id,
    }


def accelerator_detail(acc: Accelerator, catalog: Catalog) -> dict[str, Any]:
    """The full record plus computed metrics, nodes and compatible networks."""
    m = compute_metrics(acc)
    out = acc.model_dump(mode="json", exclude_none=True)
    out["computed"] = {
        "tpp": None if m.tpp is None else round(m.tpp, 1),
        "tpp_low": None if m.tpp_low is None else round(m.tpp_low, 1),
        "tpp_high": None if m.tpp_high is None else round(m.tpp_high, 1),
        "tpp_precision": m.precision,
        "performance_density": None if m.pd is None else round(m.pd, 3),
    }
    out["nodes"] = [n.model_dump(mode="json", exclude_none=True) for n in catalog.nodes_for(acc.id)]
    out["networks"] = [n.id for n in catalog.networks_for(acc.vendor)]
    return out
