"""The agent's flat request as the application layer's typed requests.

The defaults (tokens per parameter, buyer, currency, estimate deadline) are the use cases' own
(:mod:`service.usecases.flat`); this module only hands them the parsed request as the flat mapping of DESIGN.md §7.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from service import usecases
from service.agent.parse import FlatRequest
from service.usecases import InferenceRequest, PurchaseRequest, TrainingRequest


def flat(req: FlatRequest) -> dict[str, Any]:
    """The request as the flat mapping the use cases read (unknown fields absent)."""
    return req.model_dump(exclude_none=True)


def purchase_request(req: FlatRequest, *, alternatives: int = 3, today: dt.date | None = None) -> PurchaseRequest:
    """The optimizer request for a (defaulted) flat request; extra workloads become a portfolio."""
    return usecases.flat_purchase_request(flat(req), alternatives=alternatives, today=today)


def buyer_args(req: FlatRequest) -> dict[str, Any]:
    """Keyword arguments of a compliance check for the request's buyer."""
    return usecases.flat_buyer(flat(req))


def training_request(req: FlatRequest, sku: str) -> TrainingRequest:
    """Estimate request for a training run on ``sku`` (the named count, else sized for the deadline)."""
    return usecases.flat_training_request(flat(req), sku)


def inference_request(req: FlatRequest, sku: str) -> InferenceRequest:
    """Estimate request for serving on ``sku``."""
    return usecases.flat_inference_request(flat(req), sku)
