"""Check the serving estimator against published throughput (``serving_runs.yaml``).

Every row passes its published conditions through the same request fields the CLI flags set; nothing is fitted
per row. Offline rows are estimated at full load with no latency limits; server rows at the rate their latency
limits allow (MLPerf: p99 TTFT ≤ 2 s and p99 TPOT ≤ 200 ms), with the system's replicas pooled behind one queue.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from optimizer.catalog import Catalog
from optimizer.errors import CatalogError, OptimizerError
from optimizer.estimator.inference import InferenceRequest, LatencyBasis
from optimizer.estimator.serving_search import run_estimate

_REQUEST_FIELDS = ("model", "accelerator", "precision", "kv_precision", "prompt_tokens", "output_tokens",
                   "prompt_tokens_std", "output_tokens_std", "prefix_cache_hit", "tp", "pp", "ep", "engine",
                   "max_batch", "max_num_tokens", "chunked_prefill", "memory_fraction", "attention_dp_balance")


class ServingRun(BaseModel):
    """One published throughput figure with the conditions it was measured under."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    set: Literal["dev", "extra"]
    table: str | None = None
    model: str
    accelerator: str
    devices: int = Field(ge=1, description="Accelerators in the measured system.")
    engine: str | None = None
    precision: str = "bf16"
    kv_precision: str | None = None
    tp: int | None = None
    pp: int | None = None
    ep: int | None = None
    max_batch: int | None = None
    max_num_tokens: int | None = None
    chunked_prefill: bool | None = None
    memory_fraction: float | None = None
    attention_dp_balance: bool | None = None
    prompt_tokens: float
    output_tokens: float
    prompt_tokens_std: float | None = None
    output_tokens_std: float | None = None
    prefix_cache_hit: float = 0.0
    scenario: Literal["offline", "server"]
    ttft_s: float | None = None
    tpot_s: float | None = None
    latency_basis: LatencyBasis = "p99"
    reported: float = Field(gt=0, description="Output tokens/s per accelerator.")
    source: str
    conditions_source: str | None = None
    dataset: str | None = None

    def request(self) -> InferenceRequest:
        """The estimator request that states this row's conditions."""
        data: dict[str, Any] = {k: getattr(self, k) for k in _REQUEST_FIELDS if getattr(self, k) is not None}
        data["prompt_tokens"] = max(1, round(self.prompt_tokens))
        data["output_tokens"] = max(1, round(self.output_tokens))
        data["count"] = self.devices
        data["target_utilisation"] = 1.0
        if self.scenario == "offline":
            data["ttft_s"], data["tpot_s"] = None, None
        else:
            data["ttft_s"], data["tpot_s"] = self.ttft_s or 2.0, self.tpot_s or 0.2
            data["latency_basis"] = self.latency_basis
        return InferenceRequest.model_validate(data)


class ServingRow(BaseModel):
    """Predicted versus published output tokens/s per accelerator for one row."""

    model_config = ConfigDict(frozen=True)

    id: str
    set: str
    model: str
    accelerator: str
    engine: str
    precision: str
    kv_precision: str
    scenario: str
    reported: float
    predicted: float | None
    error: float | None = Field(description="(predicted − reported) / reported; None when no estimate.")
    plan: str
    status: str
    source: str


class ServingReport(BaseModel):
    """Rows and the statistics of |error| by set and over all."""

    model_config = ConfigDict(frozen=True)

    rows: list[ServingRow]
    by_set: dict[str, dict[str, float]]
    overall: dict[str, float]


def _stats(errors: Sequence[float]) -> dict[str, float]:
    abs_err = [abs(e) for e in errors]
    if not abs_err:
        return {"n": 0.0, "median_abs_error": 0.0, "max_abs_error": 0.0, "mean_abs_error": 0.0, "median_error": 0.0}
    return {"n": float(len(abs_err)), "median_abs_error": statistics.median(abs_err), "max_abs_error": max(abs_err),
            "mean_abs_error": statistics.fmean(abs_err), "median_error": statistics.median(errors)}


def load_serving_runs(path: Path | str | None = None) -> list[ServingRun]:
    """Rows of the shipped serving runs file (or another of the same shape), tables and datasets applied.

    Raises:
        CatalogError: the file is missing or invalid.
    """
    try:
        if path is None:
            text = resources.files("optimizer.data").joinpath("serving_runs.yaml").read_text(encoding="utf-8")
        else:
            text = Path(path).read_text(encoding="utf-8")
        raw = yaml.safe_load(text)
        tables: dict[str, dict[str, Any]] = raw.get("tables") or {}
        datasets: dict[str, dict[str, Any]] = raw.get("datasets") or {}
        out = []
        for row in raw["runs"]:
            merged: dict[str, Any] = dict(tables.get(row.get("table") or "", {}))
            merged.update(row)
            ds = datasets.get(merged.get("dataset") or "")
            if ds is not None:
                merged.setdefault("prompt_tokens", ds["prompt_tokens"])
                merged.setdefault("prompt_tokens_std", ds.get("prompt_tokens_std"))
                if "output_cv" in ds and "output_tokens_std" not in merged:
                    merged["output_tokens_std"] = ds["output_cv"] * float(merged["output_tokens"])
            out.append(ServingRun.model_validate(merged))
        return out
    except (OSError, TypeError, KeyError, AttributeError, yaml.YAMLError) as exc:
        raise CatalogError(f"cannot read serving runs file ({exc.__class__.__name__})", path=str(path)) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        raise CatalogError(f"{'.'.join(map(str, first['loc']))}: {first['msg']}", path=str(path)) from None


def validate_serving(catalog: Catalog, runs: Sequence[ServingRun]) -> ServingReport:
    """Estimate every row under its published conditions and compare output tokens/s per accelerator."""
    rows: list[ServingRow] = []
    for run in runs:
        try:
            est = run_estimate(catalog, run.request())
        except OptimizerError as exc:
            rows.append(ServingRow(id=run.id, set=run.set, model=run.model, accelerator=run.accelerator,
                                   engine=run.engine or "", precision=run.precision,
                                   kv_precision=run.kv_precision or "", scenario=run.scenario, reported=run.reported,
                                   predicted=None, error=None, plan="", status=f"error: {exc.message}",
                                   source=run.source))
            continue
        pred = est.output_tokens_per_s_per_accelerator
        plan = (f"TP{est.tp}×PP{est.pp}" + (" DEP" if est.moe_mode == "dep" else "")
                + f", batch {est.batch} (cap {est.max_batch}, {est.limited_by})") if est.status == "ok" else ""
        rows.append(ServingRow(
            id=run.id, set=run.set, model=run.model, accelerator=run.accelerator, engine=est.engine,
            precision=est.precision, kv_precision=est.kv_precision, scenario=run.scenario, reported=run.reported,
            predicted=pred, error=None if pred is None else (pred - run.reported) / run.reported, plan=plan,
            status=est.status if est.status == "ok" else f"{est.status}: {est.message}", source=run.source))
    scored = [r for r in rows if r.error is not None]
    by_set = {s: _stats([r.error for r in scored if r.set == s and r.error is not None])
              for s in sorted({r.set for r in rows})}
    return ServingReport(rows=rows, by_set=by_set, overall=_stats([r.error for r in scored if r.error is not None]))
