"""Training, inference and cost estimates, and validation against published runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from optimizer.errors import InvalidInputError
from optimizer.estimator import (
    CostEstimate,
    CostRequest,
    InferenceEstimate,
    InferenceRequest,
    TrainingEstimate,
    TrainingRequest,
    ValidationReport,
    load_benchmarks,
    load_runs,
    validate_runs,
)
from optimizer.estimator import estimate_cost as _cost
from optimizer.estimator import estimate_inference as _inference
from optimizer.estimator import estimate_training as _training
from optimizer.estimator.serving_validation import ServingReport, load_serving_runs, validate_serving
from service.usecases.context import AppContext
from service.usecases.numbers import coerce_numbers, quantity


def _build(model: type[Any], fields: dict[str, Any]) -> Any:
    return model.model_validate(coerce_numbers(model, {k: v for k, v in fields.items() if v is not None}))


def estimate_training(ctx: AppContext, request: TrainingRequest | None = None, **fields: Any) -> TrainingEstimate:
    """Accelerator-hours with a range, days, MFU, memory per device and the parallelism plan.

    Give a ``TrainingRequest`` or its fields (numbers may be written "70B", "1.4T"; ``None`` means default).
    """
    req = request if request is not None else _build(TrainingRequest, fields)
    return _training(ctx.domain.catalog, req)


def estimate_inference(ctx: AppContext, request: InferenceRequest | None = None, **fields: Any) -> InferenceEstimate:
    """Replicas and accelerators for a request rate under TTFT/TPOT limits (p99 by default), or a deployment's capacity.

    Engine, weight and KV precision, TP/PP/EP and length distributions are fields of the request.

    Histograms may be written ``"128:0.3,1024:0.7"`` (tokens:weight pairs) as well as lists of pairs.
    ``offline=True`` removes both latency limits (a ``None`` field otherwise means "default").
    """
    offline = bool(fields.pop("offline", False))
    for key in ("prompt_histogram", "output_histogram"):
        if isinstance(fields.get(key), str):
            fields[key] = histogram(fields[key], what=key)
    req = request if request is not None else _build(InferenceRequest, fields)
    if offline:
        req = req.model_copy(update={"ttft_s": None, "tpot_s": None})
    return _inference(ctx.domain.catalog, req)


def histogram(text: str, *, what: str) -> list[tuple[float, float]]:
    """``"128:0.3,1024:0.7"`` → [(128, 0.3), (1024, 0.7)]; lengths in the shared notation (``8K:1``).

    Raises:
        InvalidInputError: an empty value or a pair that is not ``tokens:weight``.
    """
    pairs = [p.strip() for p in text.split(",") if p.strip()]
    if not pairs:
        raise InvalidInputError(f"{what}: empty value; give tokens:weight pairs such as 128:0.3,1024:0.7")
    out: list[tuple[float, float]] = []
    for pair in pairs:
        parts = pair.split(":")
        if len(parts) != 2:
            raise InvalidInputError(f"{what}: {pair!r} is not tokens:weight (example: 128:0.3,1024:0.7)")
        out.append((quantity(parts[0], what=what), quantity(parts[1], what=what)))
    return out


def estimate_cost(ctx: AppContext, request: CostRequest | None = None, **fields: Any) -> CostEstimate:
    """Capex, opex and total cost of ownership with low/base/high ranges."""
    req = request if request is not None else _build(CostRequest, fields)
    return _cost(ctx.domain.catalog, req)


def validate_estimator(ctx: AppContext, *, runs: Path | None = None,
                       which: Literal["all", "dev", "extra", "megatron"] = "all",
                       defaults_only: bool = False) -> ValidationReport:
    """Published runs (accelerator-hours) and Megatron-LM benchmarks (step time, TFLOP/s) vs predictions.

    ``which="megatron"`` selects the benchmarks alone; ``"all"`` includes them. ``defaults_only`` estimates each
    run from its model, tokens, part, count and precision alone (held-out style: the range must carry the rest).

    Raises:
        InvalidInputError: no run selected.
    """
    loaded = [r for r in load_runs(runs) if which == "all" or r.set == which]
    benches = load_benchmarks(runs) if which in ("all", "megatron") else []
    if not loaded and not benches:
        raise InvalidInputError("no runs selected")
    return validate_runs(ctx.domain.catalog, loaded, benches, minimal=defaults_only)


def validate_serving_estimator(ctx: AppContext, *, runs: Path | None = None) -> ServingReport:
    """Published serving throughput (output tokens/s per accelerator) vs the serving estimator, per row.

    Raises:
        InvalidInputError: the file holds no rows.
    """
    rows = load_serving_runs(runs)
    if not rows:
        raise InvalidInputError("no serving runs in the file")
    return validate_serving(ctx.domain.catalog, rows)
