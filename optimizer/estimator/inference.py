"""Inference estimator: prefill is compute-bound, decode is memory-bandwidth-bound.

Per replica (tensor parallel degree t, batch B, continuous batching):

    TPOT(B)  = max(bytes_read(B) / (t·HBM·f_bw), 2·N_active·B / (t·peak·e)) + TP all-reduces
    prefill  = (2·N_active·P + 2·layers·P²·hidden) / (t·peak·e_block)
    R(B)     = 1 / (prefill + output·TPOT(B)/B)         requests/s at full load

where f_bw is the measured decode bandwidth fraction (0.79–0.84 on an H200). Replicas are sized so each
runs at ``target_utilisation`` of R; TTFT adds M/D/1 queueing to the prefill time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from optimizer.catalog import Catalog
from optimizer.errors import InvalidInputError, UnsupportedPrecisionError
from optimizer.estimator.common import Assumption, node_size, require
from optimizer.estimator.efficiency import load_efficiency
from optimizer.estimator.models import fill_from_preset, model_preset
from optimizer.estimator.shapes import ModelShape, infer_shape

ServePrecision = Literal["bf16", "fp16", "fp8", "int8"]
_BYTES = {"bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "int8": 1.0}


class InferenceRequest(BaseModel):
    """A model to serve at a request rate under latency limits."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    params: float = Field(gt=0, le=1e14)
    model: str | None = Field(None, min_length=1, max_length=80,
                              description="Model preset (fills params, layers, hidden and KV heads).")
    active_params: float | None = Field(None, gt=0, le=1e14)
    accelerator: str = Field(min_length=1)
    precision: ServePrecision = "bf16"
    kv_precision: Literal["bf16", "fp8"] = "bf16"
    prompt_tokens: int = Field(2048, ge=1, le=2_000_000)
    output_tokens: int = Field(512, ge=1, le=1_000_000)
    requests_per_s: float | None = Field(None, gt=0, le=1e7)
    ttft_s: float = Field(2.0, gt=0, le=3600, description="Time-to-first-token limit.")
    tpot_s: float = Field(0.10, gt=0, le=60, description="Time-per-output-token limit.")
    target_utilisation: float = Field(0.8, gt=0.05, le=1.0)
    tp: int | None = Field(None, ge=1, le=64)
    n_layers: int | None = Field(None, ge=1, le=1000)
    d_model: int | None = Field(None, ge=64, le=131072)
    n_kv_heads: int | None = Field(None, ge=1, le=1024)

    @model_validator(mode="before")
    @classmethod
    def _preset(cls, data: object) -> object:
        return fill_from_preset(data, shape_fields=True)


@dataclass(frozen=True)
class _Option:
    per_acc: float
    t: int
    batch: int
    prefill: float
    ttft: float
    tpot: float
    mem_dev: float
    compute_bound: bool
    e_prefill: float


class InferenceEstimate(BaseModel):
    """Replicas and accelerators for the target, with per-replica performance."""

    model_config = ConfigDict(frozen=True)

    status: Literal["ok", "does_not_fit", "latency_unmet"]
    message: str
    accelerator: str
    tp: int | None = None
    batch: int | None = None
    replicas: int | None = None
    accelerators: int | None = None
    nodes: int | None = None
    ttft_s: float | None = None
    tpot_s: float | None = None
    prefill_s: float | None = None
    requests_per_s_per_replica: float | None = None
    output_tokens_per_s_per_accelerator: float | None = None
    weights_gb: float
    kv_cache_gb_per_replica: float | None = None
    kv_bytes_per_token: float
    memory_per_device_gb: float | None = None
    bound: str | None = None
    assumptions: list[Assumption] = Field(default_factory=list)


def decode_memory_s(shape: ModelShape, *, batch: int, context: float, tp: int, hbm_tbps: float,
                    bandwidth_fraction: float, weight_bytes: float, kv_bytes_per_token: float) -> float:
    """Seconds per decode step when memory-bound.

    Weights (MoE: the experts touched) plus the batch's KV cache are read once per step across ``tp``
    devices at ``bandwidth_fraction`` of peak HBM bandwidth.
    """
    w_read = (min(shape.params, shape.active_params * batch) if shape.moe else shape.params) * weight_bytes
    return (w_read + batch * context * kv_bytes_per_token) / (tp * hbm_tbps * 1e12 * bandwidth_fraction)


def estimate_inference(catalog: Catalog, req: InferenceRequest) -> InferenceEstimate:
    """Size a serving deployment (or report one replica's capacity when no rate is given).

    Raises:
        UnknownSkuError, UnsupportedPrecisionError, InvalidInputError: bad input.
    """
    eff = load_efficiency()
    acc = catalog.accelerator(req.accelerator)
    peak = acc.dense.get(req.precision)
    if not peak.known and req.precision in ("bf16", "fp16"):
        peak = acc.dense.fp16 if req.precision == "bf16" else acc.dense.bf16
    if peak.value is None:
        raise UnsupportedPrecisionError(f"{acc.id} has no sourced {req.precision} peak ({peak.reason})")
    peak_tf = float(peak.value)
    sixteen = acc.dense.bf16.value or acc.dense.fp16.value or peak_tf
    capacity = require(acc, "memory_gb", "memory capacity")
    hbm = require(acc, "memory_bandwidth_tbps", "memory bandwidth")
    if req.model is not None:  # the preset's own shape (MLA's latent KV cache, head sizes)
        shape = model_preset(req.model).shape()
    else:
        shape = infer_shape(req.params, active_params=req.active_params, n_layers=req.n_layers, d_model=req.d_model,
                            n_kv_heads=req.n_kv_heads)
    wbytes = _BYTES[req.precision]
    weights = shape.params * wbytes
    kv_tok = shape.kv_bytes_per_token(2.0 if req.kv_precision == "bf16" else 1.0)
    ctx_max = req.prompt_tokens + req.output_tokens
    ctx_avg = req.prompt_tokens + req.output_tokens / 2
    link = acc.intra_node_link_gbps.value
    node = node_size(catalog, acc)
    domain = min(acc.intra_node_domain, node) if link else 1
    tps = [t for t in (1, 2, 4, 8, 16, 32, 64) if t <= domain]
    if req.tp is not None:
        if req.tp > domain:
            raise InvalidInputError(f"tp {req.tp} exceeds {acc.id}'s fast-link domain of {domain}")
        tps = [req.tp]
    f_bw = eff.decode_bandwidth.value
    usable = capacity * (1 - eff.memory_fragmentation) - eff.memory_overhead_gb
    best: _Option | None = None
    fit_any = False
    for t in tps:
        w_dev = weights / t / 1e9
        if w_dev >= usable:
            continue
        fit_any = True
        width = shape.d_model / t**0.25
        e_pre = eff.block_efficiency(acc, width=width, peak16_tflops=sixteen, precision="bf16",
                                     attention_share=0.0) * (peak_tf / sixteen if wbytes == 1 else 1.0)
        e_pre = min(e_pre, 0.9)
        pre_flops = (2 * shape.active_params * req.prompt_tokens
                     + 2 * shape.n_layers * req.prompt_tokens**2 * shape.d_model)
        t_tp_pre = 0.0
        t_tp_tok = 0.0
        if t > 1 and link:
            bw = link / 2 * eff.link_efficiency * 1e9
            t_tp_pre = 2 * shape.n_layers * (2 * (t - 1) / t * req.prompt_tokens * shape.d_model * 2 / bw
                                             + eff.collective_latency_s)
            t_tp_tok = 2 * shape.n_layers * eff.collective_latency_s
        prefill = pre_flops / (t * peak_tf * 1e12 * e_pre) + t_tp_pre
        b = 1
        while b <= 4096:
            kv_dev = b * ctx_max * kv_tok / t / 1e9
            if w_dev + kv_dev > usable:
                break
            t_mem = decode_memory_s(shape, batch=b, context=ctx_avg, tp=t, hbm_tbps=hbm, bandwidth_fraction=f_bw,
                                    weight_bytes=wbytes, kv_bytes_per_token=kv_tok)
            t_cmp = 2 * shape.active_params * b / (t * peak_tf * 1e12 * e_pre)
            tpot0 = max(t_mem, t_cmp) + t_tp_tok
            rate = 1.0 / (prefill + req.output_tokens * tpot0 / b)
            rho = req.target_utilisation
            # Prefill shares the device: decode slows by the prefill share at the planned load.
            tpot = tpot0 / max(1e-6, 1 - rho * rate * prefill)
            ttft = prefill * (1 + rho / (2 * (1 - rho))) if rho < 1 else prefill * 10
            if tpot <= req.tpot_s and ttft <= req.ttft_s:
                per_acc = rate / t
                if best is None or per_acc > best.per_acc:
                    best = _Option(per_acc=per_acc, t=t, batch=b, prefill=prefill, ttft=ttft, tpot=tpot,
                                   mem_dev=w_dev + kv_dev, compute_bound=t_cmp > t_mem, e_prefill=e_pre)
            b *= 2
    common: dict[str, object] = {"accelerator": acc.id, "weights_gb": weights / 1e9, "kv_bytes_per_token": kv_tok}
    if not fit_any:
        need = math.ceil(weights / 1e9 / usable)
        return InferenceEstimate(status="does_not_fit", message=(
            f"{weights / 1e9:.0f} GB of weights do not fit on {max(tps)} × {acc.id} ({capacity:.0f} GB each, "
            f"the largest tensor-parallel group tried); about {need} devices would be needed for the weights "
            "alone"), **common)  # type: ignore[arg-type]
    if best is None:
        return InferenceEstimate(status="latency_unmet", message=(
            f"no batch size meets TTFT ≤ {req.ttft_s:g}s and TPOT ≤ {req.tpot_s:g}s on {acc.id}"),
            **common)  # type: ignore[arg-type]
    per_acc, t, b, prefill, ttft, tpot = best.per_acc, best.t, best.batch, best.prefill, best.ttft, best.tpot
    rate_replica = per_acc * t
    replicas = (math.ceil(req.requests_per_s / (rate_replica * req.target_utilisation))
                if req.requests_per_s else 1)
    accelerators = replicas * t
    assumptions = [
        Assumption(name="decode bandwidth", value=f"{f_bw:.2f} of peak HBM bandwidth",
                   source="measured 0.79–0.84 on an H200 decode layer (CAL-H200-DECODE)"),
        Assumption(name="KV cache", value=f"{kv_tok / 1e3:.1f} kB per token ({shape.n_layers} layers × "
                   f"{shape.n_kv_heads} KV heads × {shape.head_dim} × 2 × {2 if req.kv_precision == 'bf16' else 1} B)",
                   source="model shape (inferred or given)"),
        Assumption(name="prefill efficiency", value=f"{best.e_prefill:.2f} of the dense peak used",
                   source="block efficiency model (CAL-H200-TRAIN)"),
        Assumption(name="load", value=f"replicas run at {req.target_utilisation:.0%} of capacity; "
                   "TTFT includes M/D/1 queueing", source="assumption"),
    ]
    return InferenceEstimate(
        status="ok",
        message=(f"{replicas} replica(s) × TP{t} = {accelerators} × {acc.id}; batch {b}, TTFT {ttft:.2f}s, "
                 f"TPOT {tpot * 1000:.0f} ms"),
        tp=t, batch=b, replicas=replicas, accelerators=accelerators, nodes=math.ceil(accelerators / node),
        ttft_s=ttft, tpot_s=tpot, prefill_s=prefill, requests_per_s_per_replica=rate_replica,
        output_tokens_per_s_per_accelerator=per_acc * req.output_tokens,
        kv_cache_gb_per_replica=b * ctx_max * kv_tok / 1e9,
        memory_per_device_gb=best.mem_dev + eff.memory_overhead_gb,
        bound=f"decode {'compute' if best.compute_bound else 'memory-bandwidth'}-bound", assumptions=assumptions,
        **common,  # type: ignore[arg-type]
    )
