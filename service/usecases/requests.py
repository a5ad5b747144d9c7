"""Purchase requests from YAML/JSON files or from flat single-workload fields (CLI flags, agent slots)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from optimizer.errors import InvalidInputError
from optimizer.request import PurchaseRequest
from service.usecases.numbers import coerce_numbers, day, fraction, money, quantity

ACCEPT_LICENSE_RISK = "allow_with_risk_premium"
"""Licence policy used when the buyer opts in with ``--accept-license-risk`` / ``accept_license_risk``."""


def read_data_file(path: Path, what: str = "request") -> Any:
    """Parse a YAML or JSON file (JSON when the suffix is ``.json``): request files, sweep specs.

    Raises:
        InvalidInputError: the file is missing, unreadable or not valid YAML/JSON.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInputError(f"{what} file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"cannot read {what} file {path} ({exc.__class__.__name__})") from None
    try:
        return json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError):
        raise InvalidInputError(f"{path}: not valid {'JSON' if path.suffix.lower() == '.json' else 'YAML'}") from None


def load_request_file(path: Path) -> PurchaseRequest:
    """Parse a YAML or JSON request file.

    Raises:
        InvalidInputError: unreadable file or not a mapping; pydantic ValidationError for bad fields.
    """
    data = read_data_file(path)
    if not isinstance(data, dict):
        raise InvalidInputError(f"{path}: the request must be a mapping with `workloads` and `buyer`")
    return PurchaseRequest.model_validate(coerce_numbers(PurchaseRequest, data))


def single_workload_request(
    *,
    workload: str = "training",
    params: str | float | None,
    model: str | None = None,
    active_params: str | float | None = None,
    tokens: str | float | None = None,
    requests_per_s: str | float | None = None,
    deadline_days: str | float | None = None,
    precision: str | None = None,
    budget: str | float | None = None,
    currency: str | None = None,
    buyer_country: str = "CN",
    buyer_kind: str = "commercial",
    on: str | dt.date | None = None,
    buyer_name: str | None = None,
    buyer_parent: str | None = None,
    via_country: str | None = None,
    objective: str | None = None,
    license_required: str | None = None,
    accept_license_risk: bool = False,
    min_domestic_share: str | float | None = None,
    vendor_allow: Sequence[str] = (),
    vendor_deny: Sequence[str] = (),
    allow_restricted: bool = False,
    power_kw: str | float | None = None,
    skus: Sequence[str] = (),
    alternatives: int = 3,
    pareto: bool = False,
    engine: str | None = None,
    kv_precision: str | None = None,
    tp: int | None = None,
    pp: int | None = None,
    ep: int | None = None,
    ttft_s: str | float | None = None,
    tpot_s: str | float | None = None,
    latency_basis: str | None = None,
    prompt_tokens: str | float | None = None,
    output_tokens: str | float | None = None,
) -> PurchaseRequest:
    """Build a one-workload request from flat fields written in the shared number notation.

    Raises:
        InvalidInputError: a required field is missing, a number or date cannot be read.
        pydantic.ValidationError: a value is out of range.
    """
    if params is None and model is None:
        raise InvalidInputError("give --request FILE, or --params/--model (and --tokens or --requests-per-s)")
    work: dict[str, Any] = {"kind": workload, "name": workload}
    if params is not None:
        work["params"] = quantity(params, what="params")
    if model is not None:
        work["model"] = model
    if active_params is not None:
        work["active_params"] = quantity(active_params, what="active_params")
    if workload == "inference":
        if requests_per_s is None:
            raise InvalidInputError("an inference workload needs --requests-per-s")
        work["requests_per_s"] = quantity(requests_per_s, what="requests_per_s")
        if precision:
            work["precision"] = precision
        serving = {"engine": engine, "kv_precision": kv_precision, "tp": tp, "pp": pp, "ep": ep,
                   "latency_basis": latency_basis}
        work.update({k: v for k, v in serving.items() if v is not None})
        for key, value in (("ttft_s", ttft_s), ("tpot_s", tpot_s), ("prompt_tokens", prompt_tokens),
                           ("output_tokens", output_tokens)):
            if value is not None:
                number = quantity(value, what=key)
                work[key] = round(number) if key.endswith("tokens") else number
    else:
        if any(v is not None for v in (engine, kv_precision, tp, pp, ep, ttft_s, tpot_s, latency_basis)):
            raise InvalidInputError("--engine, --kv-precision, --tp, --pp, --ep, --ttft, --tpot and --latency-basis "
                                    "apply to --workload inference")
        if tokens is None:
            raise InvalidInputError(f"a {workload} workload needs --tokens")
        work["tokens"] = quantity(tokens, what="tokens")
        if deadline_days is not None:
            work["deadline_days"] = quantity(deadline_days, what="deadline_days")
        if precision:
            work["precision"] = precision
    buyer: dict[str, Any] = {"country": buyer_country, "kind": buyer_kind}
    if on is not None:
        buyer["date"] = day(on, what="date")
    for key, value in (("name", buyer_name), ("parent", buyer_parent), ("via_country", via_country)):
        if value is not None and value.strip():
            buyer[key] = value.strip()
    policy: dict[str, Any] = {"vendor_deny": list(vendor_deny), "allow_restricted": allow_restricted}
    if license_required is not None:
        policy["license_required"] = license_required
    if min_domestic_share is not None:
        policy["min_domestic_share"] = fraction(min_domestic_share, what="min_domestic_share")
    if vendor_allow:
        policy["vendor_allow"] = list(vendor_allow)
    data: dict[str, Any] = {"workloads": [work], "buyer": buyer, "policy": policy,
                            "alternatives": alternatives, "pareto": pareto}
    if budget is not None:
        amount, written = money(budget, what="budget")
        if written and currency and written != currency.upper():
            raise InvalidInputError(f"budget is written in {written} but --currency says {currency.upper()}")
        data["budget"] = {"amount": amount, "currency": (written or currency or "CNY").upper()}
    elif currency:
        data["currency"] = currency.upper()
    if objective is not None:
        data["objective"] = objective
    if power_kw is not None:
        data["limits"] = {"power_kw": quantity(power_kw, what="power_kw")}
    if skus:
        names = [x.strip() for x in skus if x.strip()]
        if not names:
            raise InvalidInputError("skus: empty value; give accelerator ids such as h100,ascend-910c")
        data["skus"] = names
    return with_license_risk(PurchaseRequest.model_validate(data), accept_license_risk)


def with_license_risk(request: PurchaseRequest, accept: bool) -> PurchaseRequest:
    """The request as a plain ``PurchaseRequest``; with ``accept``, licence-risk parts are admitted (opt-in).

    Uses the core's ``accept_license_risk`` request field where the core has it; otherwise the policy's
    ``license_required`` becomes :data:`ACCEPT_LICENSE_RISK`, unless the request wrote a policy itself.
    """
    data = request.model_dump(include=set(PurchaseRequest.model_fields))
    if accept and "accept_license_risk" in PurchaseRequest.model_fields:
        data["accept_license_risk"] = True
    elif accept and "license_required" not in request.policy.model_fields_set:
        data["policy"] = {**data["policy"], "license_required": ACCEPT_LICENSE_RISK}
    return PurchaseRequest.model_validate(data)


def with_buyer_names(request: PurchaseRequest, *, name: str | None = None, parent: str | None = None,
                     via_country: str | None = None) -> PurchaseRequest:
    """The request with the buyer's name, parent and shipping route replaced where given (flags over a file)."""
    updates = {k: v.strip() for k, v in (("name", name), ("parent", parent), ("via_country", via_country))
               if v is not None and v.strip()}
    if not updates:
        return request
    data = request.model_dump(include=set(PurchaseRequest.model_fields))
    data["buyer"] = {**data["buyer"], **updates}
    return PurchaseRequest.model_validate(data)
