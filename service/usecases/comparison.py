"""Accelerators compared for one workload: export verdicts for the buyer and, with a workload, estimates.

Each part gets its export verdict for the buyer and, when the workload is known, its training or serving estimate.

The chat agent's ``compare`` tool and any other door that compares parts for a question call this, so a comparison
reads the same everywhere; the request defaults are those of :mod:`service.usecases.flat`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, Field

from optimizer import ComplianceResult, InferenceEstimate, TrainingEstimate
from optimizer.errors import InvalidInputError, UnsupportedPrecisionError
from service.usecases.catalog import check_compliance
from service.usecases.context import AppContext
from service.usecases.estimates import estimate_inference, estimate_training
from service.usecases.flat import flat_buyer, flat_inference_request, flat_training_request
from service.usecases.limits import check_compare_size


class ComparedPart(BaseModel):
    """One accelerator of a workload comparison."""

    sku: str
    name: str
    compliance: ComplianceResult
    training: TrainingEstimate | None = None
    inference: InferenceEstimate | None = None
    message: str | None = Field(None, description="Why there is no estimate, when the workload is known but none "
                                                  "could be made (e.g. the model does not fit).")


def compare_for_workload(ctx: AppContext, skus: Sequence[str], flat: Mapping[str, Any], *,
                         today: dt.date | None = None) -> list[ComparedPart]:
    """Verdict (and estimate, when ``flat`` names a model size) for each part, in the order given, duplicates dropped.

    Raises:
        UnknownSkuError: a name matches no accelerator (with suggestions).
        LimitExceededError: more parts than :data:`service.usecases.limits.MAX_COMPARE_PARTS`.
    """
    catalog = ctx.domain.catalog
    ids = list(dict.fromkeys(catalog.resolve(s) for s in skus))
    check_compare_size(len(ids))
    buyer = flat_buyer(flat, today=today)
    rows: list[ComparedPart] = []
    for sku in ids:
        row = ComparedPart(sku=sku, name=catalog.accelerators[sku].name,
                           compliance=check_compliance(ctx, sku, **buyer))
        if flat.get("params"):
            try:
                if flat.get("workload") == "inference":
                    row.inference = estimate_inference(ctx, flat_inference_request(flat, sku))
                else:
                    row.training = estimate_training(ctx, flat_training_request(flat, sku))
            except (InvalidInputError, UnsupportedPrecisionError, ValueError) as exc:
                # the part cannot run it: say so and keep its verdict
                row.message = str(getattr(exc, "message", exc)).splitlines()[0]
        rows.append(row)
    return rows
