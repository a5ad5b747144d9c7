"""Turn the agent's flat request into the optimizer's typed requests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from service.agent.parse import TOKENS_PER_PARAM, FlatRequest
from service.usecases import InferenceRequest, PurchaseRequest, TrainingRequest


def _workload(flat: dict[str, Any], name: str) -> dict[str, Any] | None:
    kind = flat.get("workload") or "training"
    params = flat.get("params")
    if params is None:
        return None
    w: dict[str, Any] = {"name": name, "params": params}
    if flat.get("active_params"):
        w["active_params"] = flat["active_params"]
    if kind == "inference":
        if not flat.get("requests_per_s"):
            return None
        w.update(kind="inference", requests_per_s=flat["requests_per_s"])
        w.update({k: flat[k] for k in ("ttft_s", "tpot_s") if flat.get(k)})  # latency limits the buyer stated
    else:
        w.update(kind=kind, tokens=flat.get("tokens") or TOKENS_PER_PARAM * params)
        if flat.get("deadline_days"):
            w["deadline_days"] = flat["deadline_days"]
    return w


def purchase_request(req: FlatRequest, *, alternatives: int = 3) -> PurchaseRequest:
    """The optimizer request for a (defaulted) flat request; extra workloads become a portfolio."""
    flat = req.model_dump(exclude_none=True)
    workloads = []
    first = _workload(flat, flat.get("workload") or "training")
    if first:
        workloads.append(first)
    for i, extra in enumerate(req.extra_workloads or [], start=2):
        merged = {**extra}
        if merged.get("workload") != "inference":
            merged.setdefault("deadline_days", flat.get("deadline_days"))
        w = _workload(merged, f"{merged.get('workload', 'workload')}-{i}")
        if w and w["name"] not in {x["name"] for x in workloads}:
            workloads.append(w)
    data: dict[str, Any] = {
        "workloads": workloads,
        "buyer": {"country": req.buyer_country or "CN", "kind": req.buyer_kind or "commercial",
                  "headquarters_country": req.headquarters_country, "date": req.date or dt.date.today(),
                  **({"name": req.buyer_name} if req.buyer_name else {})},
        "alternatives": alternatives,
    }
    if req.budget:
        data["budget"] = {"amount": req.budget, "currency": req.currency or "CNY"}
    elif req.currency:
        data["currency"] = req.currency
    if req.objective:
        data["objective"] = req.objective
    policy: dict[str, Any] = {}
    if req.min_domestic_share is not None:
        policy["min_domestic_share"] = req.min_domestic_share
    if req.exclude_vendors:
        policy["vendor_deny"] = req.exclude_vendors
    if policy:
        data["policy"] = policy
    if req.skus:
        data["skus"] = req.skus
    return PurchaseRequest.model_validate(data)


def buyer_args(req: FlatRequest) -> dict[str, Any]:
    """Keyword arguments of a compliance check for the request's buyer."""
    return {"buyer_country": req.buyer_country or "CN", "date": req.date or dt.date.today(),
            "buyer_kind": req.buyer_kind or "commercial", "headquarters_country": req.headquarters_country}


def training_request(req: FlatRequest, sku: str) -> TrainingRequest:
    """Estimate request for a training run on ``sku`` (the named count, else sized for the deadline)."""
    params = float(req.params or 0)
    data: dict[str, Any] = {"params": params, "tokens": req.tokens or TOKENS_PER_PARAM * params, "accelerator": sku,
                            "buyer_country": req.buyer_country}
    if req.active_params:
        data["active_params"] = req.active_params
    if req.count:
        data["count"] = req.count
    else:
        data["deadline_days"] = req.deadline_days or 90.0
    return TrainingRequest.model_validate(data)


def inference_request(req: FlatRequest, sku: str) -> InferenceRequest:
    """Estimate request for serving on ``sku``."""
    data: dict[str, Any] = {"params": req.params, "accelerator": sku}
    if req.active_params:
        data["active_params"] = req.active_params
    if req.requests_per_s:
        data["requests_per_s"] = req.requests_per_s
    for key in ("ttft_s", "tpot_s"):
        if getattr(req, key):
            data[key] = getattr(req, key)
    return InferenceRequest.model_validate(data)
