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
from service.usecases.context import AppContext
from service.usecases.numbers import coerce_numbers


def _build(model: type[Any], fields: dict[str, Any]) -> Any:
    return model.model_validate(coerce_numbers(model, {k: v for k, v in fields.items() if v is not None}))


def estimate_training(ctx: AppContext, request: TrainingRequest | None = None, **fields: Any) -> TrainingEstimate:
    """Accelerator-hours with a range, days, MFU, memory per device and the parallelism plan.

    Give a ``TrainingRequest`` or its fields (numbers may be written "70B", "1.4T"; ``None`` means default).
    """
    req = request if request is not None else _build(TrainingRequest, fields)
    return _training(ctx.domain.catalog, req)


def estimate_inference(ctx: AppContext, request: InferenceRequest | None = None, **fields: Any) -> InferenceEstimate:
    """Replicas and accelerators for a request rate under TTFT/TPOT limits."""
    req = request if request is not None else _build(InferenceRequest, fields)
    return _inference(ctx.domain.catalog, req)


def estimate_cost(ctx: AppContext, request: CostRequest | None = None, **fields: Any) -> CostEstimate:
    """Capex, opex and total cost of ownership with low/base/high ranges."""
    req = request if request is not None else _build(CostRequest, fields)
    return _cost(ctx.domain.catalog, req)


def validate_estimator(ctx: AppContext, *, runs: Path | None = None,
                       which: Literal["all", "dev", "extra", "megatron"] = "all") -> ValidationReport:
    """Published runs (accelerator-hours) and Megatron-LM benchmarks (step time, TFLOP/s) vs predictions.

    ``which="megatron"`` selects the benchmarks alone; ``"all"`` includes them.

    Raises:
        InvalidInputError: no run selected.
    """
    loaded = [r for r in load_runs(runs) if which == "all" or r.set == which]
    benches = load_benchmarks(runs) if which in ("all", "megatron") else []
    if not loaded and not benches:
        raise InvalidInputError("no runs selected")
    return validate_runs(ctx.domain.catalog, loaded, benches)
