"""JSON-ready dictionaries shared by the CLI (``--json``) and the HTTP API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from service.presenters.relaxations import relaxation_dict
from service.presenters.text import Lang
from service.usecases import AcceleratorDetail, CatalogEntry, PurchasePlan

if TYPE_CHECKING:  # the what-if module loads OR-Tools; commands that never solve do not pay for it
    from service.usecases import WhatIfResult


def accelerator_summary(entry: CatalogEntry) -> dict[str, Any]:
    """One row of the catalog list: headline figures (BF16 and FP16 apart), price and computed TPP/PD."""
    return entry.model_dump(mode="json")


def accelerator_detail(detail: AcceleratorDetail) -> dict[str, Any]:
    """The full record plus computed metrics, nodes and compatible networks."""
    out = detail.accelerator.model_dump(mode="json", exclude_none=True)
    out["computed"] = detail.computed
    out["nodes"] = detail.nodes
    out["networks"] = detail.networks
    if detail.systems:
        out["systems"] = detail.systems
    return out


def plan_dict(plan: PurchasePlan, lang: Lang = "en") -> dict[str, Any]:
    """A plan for JSON: every typed field, and each relaxation also carries its ``message`` in ``lang``."""
    out = plan.model_dump(mode="json")
    out["relaxations"] = [relaxation_dict(r, lang) for r in plan.relaxations]
    return out


def whatif_dict(result: WhatIfResult, lang: Lang = "en") -> dict[str, Any]:
    """A what-if for JSON: both plans as ``plan_dict`` gives them."""
    out = result.model_dump(mode="json")
    out["base"] = plan_dict(result.base, lang)
    out["changed"] = plan_dict(result.changed, lang)
    return out
