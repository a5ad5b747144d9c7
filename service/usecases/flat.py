"""Typed requests from the flat request of ``procure ask`` / ``POST /v1/chat`` (DESIGN.md §7), with stated defaults.

The flat request holds what a question said (``workload``, ``params``, ``tokens``, ``budget``, ``currency``,
``deadline_days``, ``buyer_country`` ... absent when unknown). The defaults that turn it into an optimizer request
live here, once, so the chat agent (either planner), the evaluation harness and any door that accepts the flat
shape build the same :class:`PurchaseRequest` from the same question:

* tokens: :data:`TOKENS_PER_PARAM` × params (compute-optimal pre-training, Hoffmann et al. 2022);
* buyer: country ``CN``, kind ``commercial``, date today;
* budget currency: the flat ``currency``, else CNY;
* an estimate without a named count is sized for the deadline, else :data:`DEFAULT_ESTIMATE_DEADLINE_DAYS`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from optimizer import InferenceRequest, PurchaseRequest, TrainingRequest
from service.usecases.requests import with_license_risk

TOKENS_PER_PARAM = 20.0
"""Compute-optimal pre-training tokens per parameter (Hoffmann et al. 2022, "Chinchilla"): the stated default."""
DEFAULT_ESTIMATE_DEADLINE_DAYS = 90.0
"""Deadline an estimate is sized for when the question names neither a count nor a deadline."""
DEFAULT_BUYER_COUNTRY = "CN"
DEFAULT_BUYER_KIND = "commercial"
DEFAULT_CURRENCY = "CNY"

_LATENCY = (("ttft_s", ("ttft_s", "ttft")), ("tpot_s", ("tpot_s", "tpot")))
"""Serving latency targets as the flat request may write them (seconds)."""


def _latency(flat: Mapping[str, Any]) -> dict[str, float | int]:
    """Latency limits and the mean prompt/output lengths of a serving workload, where the request gives them."""
    out: dict[str, float | int] = {}
    for field, keys in _LATENCY:
        value = next((flat[k] for k in keys if flat.get(k) is not None), None)
        if value is not None:
            out[field] = float(value)
    for field in ("prompt_tokens", "output_tokens"):
        if flat.get(field):
            out[field] = int(flat[field])
    return out


def _workload(flat: Mapping[str, Any], name: str) -> dict[str, Any] | None:
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
        w.update(kind="inference", requests_per_s=flat["requests_per_s"], **_latency(flat))
    else:
        w.update(kind=kind, tokens=flat.get("tokens") or TOKENS_PER_PARAM * float(params))
        if flat.get("deadline_days"):
            w["deadline_days"] = flat["deadline_days"]
    return w


def flat_buyer(flat: Mapping[str, Any], *, today: dt.date | None = None) -> dict[str, Any]:
    """Keyword arguments of a compliance check for the flat request's buyer (defaults: CN, commercial, today)."""
    return {"buyer_country": flat.get("buyer_country") or DEFAULT_BUYER_COUNTRY,
            "date": flat.get("date") or today or dt.date.today(),
            "buyer_kind": flat.get("buyer_kind") or DEFAULT_BUYER_KIND,
            "headquarters_country": flat.get("headquarters_country")}


def flat_purchase_request(flat: Mapping[str, Any], *, alternatives: int = 3,
                          today: dt.date | None = None) -> PurchaseRequest:
    """The optimizer request for a flat request; ``extra_workloads`` (same flat fields) make a portfolio.

    Raises:
        pydantic.ValidationError: a value the request model refuses.
    """
    workloads = []
    first = _workload(flat, flat.get("workload") or "training")
    if first:
        workloads.append(first)
    extras: Sequence[Mapping[str, Any]] = flat.get("extra_workloads") or ()
    for i, extra in enumerate(extras, start=2):
        merged = {**extra}
        if merged.get("workload") != "inference":
            merged.setdefault("deadline_days", flat.get("deadline_days"))
        w = _workload(merged, f"{merged.get('workload', 'workload')}-{i}")
        if w and w["name"] not in {x["name"] for x in workloads}:
            workloads.append(w)
    buyer = flat_buyer(flat, today=today)
    data: dict[str, Any] = {
        "workloads": workloads,
        "buyer": {"country": buyer["buyer_country"], "kind": buyer["buyer_kind"],
                  "headquarters_country": buyer["headquarters_country"], "date": buyer["date"],
                  **({"name": flat["buyer_name"]} if flat.get("buyer_name") else {})},  # screened by name
        "alternatives": alternatives,
    }
    if flat.get("budget"):
        data["budget"] = {"amount": flat["budget"], "currency": flat.get("currency") or DEFAULT_CURRENCY}
    elif flat.get("currency"):
        data["currency"] = flat["currency"]
    if flat.get("objective"):
        data["objective"] = flat["objective"]
    policy: dict[str, Any] = {}
    if flat.get("min_domestic_share") is not None:
        policy["min_domestic_share"] = flat["min_domestic_share"]
    if flat.get("exclude_vendors"):
        policy["vendor_deny"] = list(flat["exclude_vendors"])
    if policy:
        data["policy"] = policy
    if flat.get("skus"):
        data["skus"] = list(flat["skus"])
    if flat.get("current_stack"):
        data["current_stack"] = flat["current_stack"]
    request = PurchaseRequest.model_validate(data)
    return with_license_risk(request, True) if flat.get("accept_license_risk") else request


def flat_training_request(flat: Mapping[str, Any], sku: str) -> TrainingRequest:
    """Estimate request for a training run on ``sku``: the named count, else sized for the deadline."""
    params = float(flat.get("params") or 0)
    data: dict[str, Any] = {"params": params, "tokens": flat.get("tokens") or TOKENS_PER_PARAM * params,
                            "accelerator": sku, "buyer_country": flat.get("buyer_country")}
    if flat.get("active_params"):
        data["active_params"] = flat["active_params"]
    if flat.get("count"):
        data["count"] = flat["count"]
    else:
        data["deadline_days"] = flat.get("deadline_days") or DEFAULT_ESTIMATE_DEADLINE_DAYS
    return TrainingRequest.model_validate(data)


def flat_inference_request(flat: Mapping[str, Any], sku: str) -> InferenceRequest:
    """Estimate request for serving on ``sku`` (request rate and latency targets where the question gave them)."""
    data: dict[str, Any] = {"params": flat.get("params"), "accelerator": sku}
    if flat.get("active_params"):
        data["active_params"] = flat["active_params"]
    if flat.get("requests_per_s"):
        data["requests_per_s"] = flat["requests_per_s"]
    elif flat.get("count"):  # "what's the throughput of 8 H100s?": the best layout on exactly that many
        data["count"] = int(flat["count"])
    data.update(_latency(flat))
    return InferenceRequest.model_validate(data)
