"""JSON-ready dictionaries shared by the CLI (``--json``) and the HTTP API."""

from __future__ import annotations

from typing import Any

from service.usecases import AcceleratorDetail, CatalogEntry


def accelerator_summary(entry: CatalogEntry) -> dict[str, Any]:
    """One row of the catalog list: headline figures (BF16 and FP16 apart), price and computed TPP/PD."""
    return entry.model_dump(mode="json")


def accelerator_detail(detail: AcceleratorDetail) -> dict[str, Any]:
    """The full record plus computed metrics, nodes and compatible networks."""
    out = detail.accelerator.model_dump(mode="json", exclude_none=True)
    out["computed"] = detail.computed
    out["nodes"] = detail.nodes
    out["networks"] = detail.networks
    return out
