"""Check the training estimator against published runs (like Calculon's validation)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from optimizer.catalog import Catalog
from optimizer.errors import CatalogError
from optimizer.estimator.common import TrainPrecision
from optimizer.estimator.training import PlanChoice, StackName, TrainingRequest, estimate_training

ASSUMED_COUNT = 2048
"""Accelerators assumed when a run does not publish its count (the dev set's convention for Llama 2)."""


class RunShape(BaseModel):
    """Published architecture of a run that is not a preset."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    n_layers: int
    d_model: int
    n_heads: int
    n_kv_heads: int
    vocab: int
    ffn: int | None = None
    gated: bool = True


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
    basis: Literal["steady-state", "whole-run"] = "whole-run"
    stack: StackName | None = None
    model: str | None = Field(None, description="Architecture preset (models.yaml) when the run is a preset model.")
    shape: RunShape | None = None
    global_batch_seqs: int | None = Field(None, ge=1, description="Published batch in sequences (× seq_len).")
    goodput: float | None = Field(None, gt=0, le=1, description="Whole-run goodput the run's own sources publish "
                                  "(given to the estimator instead of the goodput model, like a published plan).")
    goodput_source: str | None = Field(None, description="Where the published goodput comes from.")
    modelled: bool = Field(True, description="False when the architecture is outside the estimator's physics "
                                             "(reported, but kept out of the modelled-run statistics).")
    modelled_note: str | None = None


class Benchmark(BaseModel):
    """One published Megatron-LM benchmark iteration with its full configuration."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    set: str
    name: str
    model: str | None = Field(None, description="Architecture preset (models.yaml); else the GPT-3 style shape below.")
    layers: int | None = None
    hidden: int | None = None
    heads: int | None = None
    vocab: int = 51200
    seq_len: int = 2048
    gpus: int
    tp: int
    pp: int
    cp: int = 1
    zero_stage: int = Field(0, ge=0, le=3, description="3 for fully sharded data parallelism (FSDP).")
    global_batch: int = Field(description="Sequences per iteration.")
    micro_batch: int | None = None
    virtual_stages: int | None = None
    recompute: Literal["none", "selective", "full"] | None = Field(
        None, description="None: the estimator picks the cheapest recompute that fits (the recipe does not say).")
    precision: TrainPrecision = "bf16"
    metric: Literal["step_time_s", "tflops_per_gpu", "tokens_per_s_per_gpu"]
    reported: float = Field(gt=0)
    accelerator: str = "a100-80gb"
    stack: StackName = "megatron-2021"
    fabric: str | None = None
    source: str

    @model_validator(mode="after")
    def _shape_given(self) -> Benchmark:
        if self.model is None and (self.layers is None or self.hidden is None or self.heads is None):
            raise ValueError("a benchmark needs a model preset or layers, hidden and heads")
        if self.metric == "tflops_per_gpu" and self.model is not None:
            raise ValueError("tflops_per_gpu uses Narayanan's Eq. 3 and needs the GPT-3 style shape")
        return self

    @property
    def params(self) -> float:
        """Narayanan et al. Eq. 2: P = 12·l·h²·(1 + 13/(12h) + (V + s)/(12·l·h))."""
        assert self.layers is not None and self.hidden is not None
        n, h = self.layers, self.hidden
        return 12.0 * n * h * h * (1 + 13 / (12 * h) + (self.vocab + self.seq_len) / (12 * n * h))

    def iteration_flops(self) -> float:
        """Narayanan et al. Eq. 3 (with the recomputation forward): 96·B·s·l·h²·(1 + s/6h + V/16lh)."""
        assert self.layers is not None and self.hidden is not None
        n, h, s = self.layers, self.hidden, self.seq_len
        return 96.0 * self.global_batch * s * n * h * h * (1 + s / (6 * h) + self.vocab / (16 * n * h))


class BenchmarkRow(BaseModel):
    """Predicted versus reported step time (or achieved TFLOP/s per GPU) for one benchmark."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    set: str
    metric: str
    reported: float
    predicted: float
    error: float
    plan: str


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
    goodput: float = 1.0
    goodput_published: bool = False
    modelled: bool = True
    widened_by: list[str] = Field(default_factory=list, description="The inputs that widen this run's range most "
                                  "(largest first).")


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
    benchmarks: list[BenchmarkRow] = Field(default_factory=list)
    benchmark_sets: dict[str, dict[str, float]] = Field(default_factory=dict)
    n_modelled: int = Field(0, description="Runs whose architecture the estimator models (``modelled``).")
    within_factor_1_5_modelled: int = 0
    in_range_modelled: int = 0
    conditions: Literal["published", "minimal"] = Field(
        "published", description="published: each run's published plan, batch, sequence, fabric, stack and goodput "
        "are passed; minimal: only model, tokens, part, count and precision (held-out style: the rest defaulted, the "
        "range has to carry it).")


def _load_raw(path: Path | str | None) -> dict[str, object]:
    try:
        if path is None:
            text = resources.files("optimizer.data").joinpath("training_runs.yaml").read_text(encoding="utf-8")
        else:
            text = Path(path).read_text(encoding="utf-8")
        raw = yaml.safe_load(text)
        if not isinstance(raw, dict):
            raise TypeError("not a mapping")
        return raw
    except (OSError, TypeError, yaml.YAMLError) as exc:
        raise CatalogError(f"cannot read runs file ({exc.__class__.__name__})", path=str(path)) from None


def load_benchmarks(path: Path | str | None = None) -> list[Benchmark]:
    """Load the Megatron-LM benchmarks of the runs file (empty when it has none).

    Raises:
        CatalogError: the file is missing or invalid.
    """
    raw = _load_raw(path)
    try:
        return [Benchmark.model_validate(r) for r in raw.get("benchmarks") or []]  # type: ignore[attr-defined]
    except ValidationError as exc:
        first = exc.errors()[0]
        raise CatalogError(f"{'.'.join(map(str, first['loc']))}: {first['msg']}", path=str(path)) from None


def validate_benchmarks(catalog: Catalog, benches: Sequence[Benchmark]) -> list[BenchmarkRow]:
    """Estimate each benchmark iteration with its published configuration; compare step time or TFLOP/s."""
    rows: list[BenchmarkRow] = []
    for b in benches:
        dp = b.gpus // (b.tp * b.pp * b.cp)
        plan = PlanChoice(tp=b.tp, pp=b.pp, dp=dp, cp=b.cp, micro_batch=b.micro_batch,
                          virtual_stages=b.virtual_stages, recompute=b.recompute, zero_stage=b.zero_stage)
        common = {"tokens": float(b.global_batch * b.seq_len), "accelerator": b.accelerator, "count": b.gpus,
                  "seq_len": b.seq_len, "global_batch_seqs": b.global_batch, "steady_state": True, "stack": b.stack,
                  "plan": plan, "precision": b.precision, "fabric": b.fabric}
        if b.model is not None:
            req = TrainingRequest(model=b.model, **common)  # type: ignore[arg-type]
        else:
            req = TrainingRequest(params=b.params, n_layers=b.layers, d_model=b.hidden, n_heads=b.heads,
                                  n_kv_heads=b.heads, ffn=4 * (b.hidden or 0), gated=False, vocab=b.vocab,
                                  **common)  # type: ignore[arg-type]
        est = estimate_training(catalog, req, ranged=False)
        if est.step is None or est.plan is None:
            raise CatalogError(f"benchmark {b.id}: {est.message}", path="training_runs.yaml")
        step = est.step.step_s
        if b.metric == "step_time_s":
            pred = step
        elif b.metric == "tflops_per_gpu":
            pred = b.iteration_flops() / (step * b.gpus) / 1e12
        else:
            pred = b.global_batch * b.seq_len / step / b.gpus
        pl = est.plan
        rows.append(BenchmarkRow(
            id=b.id, name=b.name, set=b.set, metric=b.metric, reported=b.reported, predicted=pred,
            error=(pred - b.reported) / b.reported,
            plan=f"tp{pl.tp} pp{pl.pp}x{pl.virtual_stages} dp{pl.dp}" + (f" cp{pl.cp}" if pl.cp > 1 else "")
                 + (f" zero{pl.zero_stage}" if pl.zero_stage else "") + f" mb{pl.micro_batch} {pl.recompute}",
        ))
    return rows


def load_runs(path: Path | str | None = None) -> list[PublishedRun]:
    """Load the shipped runs file (or another with the same shape).

    Raises:
        CatalogError: the file is missing or invalid.
    """
    raw = _load_raw(path)
    try:
        return [PublishedRun.model_validate(r) for r in raw["runs"]]  # type: ignore[attr-defined]
    except (KeyError, TypeError) as exc:
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


def validate_runs(catalog: Catalog, runs: Sequence[PublishedRun], benchmarks: Sequence[Benchmark] = (), *,
                  minimal: bool = False) -> ValidationReport:
    """Estimate every run at its published scale (and plan, where published) and compare hours.

    Steady-state runs are estimated with goodput 1; whole-run figures with the goodput model. Megatron-LM
    benchmarks, when given, are reported as their own sets (``benchmark_sets``). ``minimal`` passes only the model,
    tokens, part, count and precision, as a held-out table typically states them.
    """
    rows: list[ValidationRow] = []
    for run in runs:
        count = run.count or ASSUMED_COUNT
        shape = run.shape.model_dump() if run.shape else {}
        common = {"params": None if run.model else run.params, "model": run.model,
                  "active_params": None if run.model else run.active_params, "tokens": run.tokens,
                  "accelerator": run.accelerator, "count": count, "precision": run.precision,
                  "steady_state": run.basis == "steady-state", "count_assumed": run.count is None}
        if minimal:
            req = TrainingRequest(**common, **shape)  # type: ignore[arg-type]
        else:
            req = TrainingRequest(
                **common, seq_len=run.seq_len or 4096, global_batch_tokens=run.global_batch_tokens,  # type: ignore[arg-type]
                global_batch_seqs=run.global_batch_seqs, plan=run.plan, fabric=run.fabric, fabric_gbit=run.fabric_gbit,
                stack=run.stack, goodput=None if run.basis == "steady-state" else run.goodput, **shape,
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
            goodput=est.goodput, goodput_published=run.goodput is not None and run.basis != "steady-state",
            modelled=run.modelled,
            widened_by=[d.input for d in sorted(est.range_drivers, key=lambda d: -math.log(d.high_factor
                                                                                             / d.low_factor))
                        if d.high_factor / d.low_factor > 1.01][:3],
        ))
    errors = [r.error for r in rows]
    overall = _stats(errors)
    brows = validate_benchmarks(catalog, benchmarks)
    bsets = {s: _stats([r.error for r in brows if r.set == s]) for s in sorted({r.set for r in brows})}
    by_set = {s: _stats([r.error for r in rows if r.set == s]) for s in sorted({r.set for r in rows})}
    return ValidationReport(
        rows=rows, n=len(rows), mean_abs_error=overall["mean_abs_error"],
        median_abs_error=overall["median_abs_error"], max_abs_error=overall["max_abs_error"],
        within_factor_1_5=sum(1 for r in rows if _within(r)),
        in_range=sum(1 for r in rows if r.in_range), by_set=by_set, benchmarks=brows, benchmark_sets=bsets,
        n_modelled=sum(1 for r in rows if r.modelled),
        within_factor_1_5_modelled=sum(1 for r in rows if r.modelled and _within(r)),
        in_range_modelled=sum(1 for r in rows if r.modelled and r.in_range),
        conditions="minimal" if minimal else "published",
    )


def _within(r: ValidationRow, factor: float = 1.5) -> bool:
    return 1 / factor <= r.predicted_hours / r.reported_hours <= factor
