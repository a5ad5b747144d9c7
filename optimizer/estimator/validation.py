"""Check the training estimator against published runs (like Calculon's validation)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from optimizer.catalog import Catalog
from optimizer.errors import CatalogError
from optimizer.estimator.common import TrainPrecision
from optimizer.estimator.training import PlanChoice, TrainingRequest, estimate_training

ASSUMED_COUNT = 2048
"""Accelerators assumed when a run does not publish its count (the dev set's convention for Llama 2)."""


class PublishedRun(BaseModel):
    """One published training run with its reported accelerator-hours."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str
    name: str
    set: Literal["dev", "extra"]
    params: float = Field(gt=0)
    active_params: float | None = None
    tokens: float = Field(gt=0)
    seq_len: int | None = None
    global_batch_tokens: float | None = None
    accelerator: str
    count: int | None = None
    precision: TrainPrecision = "bf16"
    reported_accelerator_hours: float = Field(gt=0)
    hours_basis: str
    plan: PlanChoice | None = None
    fabric: str | None = None
    fabric_gbit: float | None = None
    plan_source: str | None = None
    source: str
    source_url: str | None = None


class ValidationRow(BaseModel):
    """Predicted versus reported accelerator-hours for one run."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    set: str
    accelerator: str
    count: int
    count_assumed: bool
    plan_published: bool
    reported_hours: float
    predicted_hours: float
    predicted_low: float
    predicted_high: float
    error: float = Field(description="(predicted − reported) / reported")
    in_range: bool
    mfu: float
    plan: str


class ValidationReport(BaseModel):
    """All rows plus summary statistics of the absolute error."""

    model_config = ConfigDict(frozen=True)

    rows: list[ValidationRow]
    n: int
    mean_abs_error: float
    median_abs_error: float
    max_abs_error: float
    within_factor_1_5: int
    in_range: int
    by_set: dict[str, dict[str, float]]


def load_runs(path: Path | str | None = None) -> list[PublishedRun]:
    """Load the shipped runs file (or another with the same shape).

    Raises:
        CatalogError: the file is missing or invalid.
    """
    try:
        if path is None:
            text = resources.files("optimizer.data").joinpath("training_runs.yaml").read_text(encoding="utf-8")
        else:
            text = Path(path).read_text(encoding="utf-8")
        raw = yaml.safe_load(text)
        return [PublishedRun.model_validate(r) for r in raw["runs"]]
    except (OSError, KeyError, TypeError, yaml.YAMLError) as exc:
        raise CatalogError(f"cannot read runs file ({exc.__class__.__name__})", path=str(path)) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        raise CatalogError(f"{'.'.join(map(str, first['loc']))}: {first['msg']}", path=str(path)) from None


def _stats(errors: Sequence[float]) -> dict[str, float]:
    abs_err = [abs(e) for e in errors]
    if not abs_err:
        return {"n": 0, "mean_abs_error": 0.0, "median_abs_error": 0.0, "max_abs_error": 0.0}
    return {
        "n": float(len(abs_err)),
        "mean_abs_error": statistics.fmean(abs_err),
        "median_abs_error": statistics.median(abs_err),
        "max_abs_error": max(abs_err),
    }


def validate_runs(catalog: Catalog, runs: Sequence[PublishedRun]) -> ValidationReport:
    """Estimate every run at its published scale (and plan, where published) and compare hours."""
    rows: list[ValidationRow] = []
    for run in runs:
        count = run.count or ASSUMED_COUNT
        req = TrainingRequest(
            params=run.params, active_params=run.active_params, tokens=run.tokens, accelerator=run.accelerator,
            count=count, precision=run.precision, seq_len=run.seq_len or 4096,
            global_batch_tokens=run.global_batch_tokens, plan=run.plan, fabric=run.fabric,
            fabric_gbit=run.fabric_gbit,
        )
        est = estimate_training(catalog, req)
        if est.accelerator_hours is None or est.plan is None:
            raise CatalogError(f"run {run.id}: {est.message}", path="training_runs.yaml")
        pred = est.accelerator_hours
        lo = est.accelerator_hours_low or pred
        hi = est.accelerator_hours_high or pred
        pl = est.plan
        rows.append(ValidationRow(
            id=run.id, name=run.name, set=run.set, accelerator=run.accelerator, count=count,
            count_assumed=run.count is None, plan_published=run.plan is not None,
            reported_hours=run.reported_accelerator_hours, predicted_hours=pred, predicted_low=lo,
            predicted_high=hi, error=(pred - run.reported_accelerator_hours) / run.reported_accelerator_hours,
            in_range=lo <= run.reported_accelerator_hours <= hi, mfu=est.mfu or 0.0,
            plan=f"tp{pl.tp} pp{pl.pp}x{pl.virtual_stages} dp{pl.dp} zero{pl.zero_stage} "
                 f"rc{pl.recompute_fraction:.2f} mb{pl.micro_batch}",
        ))
    errors = [r.error for r in rows]
    overall = _stats(errors)
    by_set = {s: _stats([r.error for r in rows if r.set == s]) for s in sorted({r.set for r in rows})}
    return ValidationReport(
        rows=rows, n=len(rows), mean_abs_error=overall["mean_abs_error"],
        median_abs_error=overall["median_abs_error"], max_abs_error=overall["max_abs_error"],
        within_factor_1_5=sum(1 for r in rows if 1 / 1.5 <= r.predicted_hours / r.reported_hours <= 1.5),
        in_range=sum(1 for r in rows if r.in_range), by_set=by_set,
    )
