"""Training estimator: FLOPs, memory under a sharding, a parallelism plan and its step time.

Per step and device (1F1B pipeline, Megatron-style tensor parallelism with sequence parallelism):

    t_micro   = FLOPs_micro / (peak · block_efficiency) + TP all-reduces on the fast link
    t_pipe    = (m + pp − 1) · t_micro                       (pipeline bubble, NARAYANAN)
    t_dp      = 2·(dp−1)/dp · grad_bytes / NIC bandwidth     (ring; ZeRO-3 moves 1.5× more)
    t_step    = (t_pipe + exposed DP/expert traffic + optimizer) · (1 + sync · log2(nodes/8))

Hours = tokens / (tokens per step / t_step) / goodput · count. The plan (tp ≤ fast-link domain, pp,
ZeRO stage, recompute, micro-batch) is searched for the shortest step that fits in memory.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from optimizer.catalog import Accelerator, Catalog
from optimizer.estimator.common import (
    Assumption,
    Fabric,
    Peaks,
    TrainPrecision,
    choose_fabric,
    node_size,
    peaks_for,
    require,
)
from optimizer.estimator.efficiency import EfficiencyModel, load_efficiency
from optimizer.estimator.shapes import ModelShape, infer_shape

Recompute = Literal["none", "partial", "full"]
_MAX_COUNT = 1_048_576


class PlanChoice(BaseModel):
    """A parallelism plan fixed by the user (any field left out is searched)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tp: int | None = Field(None, ge=1, le=64)
    pp: int | None = Field(None, ge=1, le=512)
    zero_stage: Literal[1, 3] | None = None
    recompute: Literal["none", "full"] | None = None
    micro_batch: int | None = Field(None, ge=1, le=64)


class TrainingRequest(BaseModel):
    """What to train, on what, with how many accelerators (or by when)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    params: float = Field(gt=0, description="Total parameters.")
    active_params: float | None = Field(None, gt=0, description="Active parameters per token (MoE).")
    tokens: float = Field(gt=0, description="Training tokens.")
    accelerator: str = Field(min_length=1)
    count: int | None = Field(None, ge=1, le=_MAX_COUNT, description="Accelerators; omit to size for a deadline.")
    deadline_days: float | None = Field(None, gt=0, le=3650)
    precision: TrainPrecision = Field("bf16", description="bf16 (or fp16) mixed precision, or fp8 linear layers.")
    seq_len: int = Field(4096, ge=128, le=1_048_576)
    global_batch_tokens: float | None = Field(None, gt=0)
    fabric: str | None = None
    fabric_gbit: float | None = Field(
        None, gt=0, le=100_000, description="Scale-out bandwidth per accelerator (Gb/s), overriding the fabric's."
    )
    buyer_country: str | None = None
    n_layers: int | None = Field(None, ge=1, le=1000)
    d_model: int | None = Field(None, ge=64, le=131072)
    goodput: float | None = Field(None, gt=0, le=1)
    plan: PlanChoice | None = None

    @model_validator(mode="after")
    def _count_or_deadline(self) -> TrainingRequest:
        if self.count is None and self.deadline_days is None:
            raise ValueError("give an accelerator count or a deadline in days")
        if self.active_params is not None and self.active_params > self.params:
            raise ValueError("active_params cannot exceed params")
        return self


class Plan(BaseModel):
    """The chosen parallelism plan."""

    model_config = ConfigDict(frozen=True)

    tp: int
    pp: int
    dp: int
    ep: int
    zero_stage: int
    recompute: Recompute
    recompute_fraction: float = Field(description="Share of layers whose activations are recomputed.")
    micro_batch: int
    num_microbatches: int
    virtual_stages: int = Field(description="Interleaved pipeline chunks per stage (1 = plain 1F1B).")
    global_batch_tokens: float
    sequence_parallel: bool


class StepBreakdown(BaseModel):
    """Where one optimizer step spends its time (seconds)."""

    model_config = ConfigDict(frozen=True)

    step_s: float
    compute_s: float
    tp_comm_s: float
    pipeline_bubble_s: float
    pp_comm_s: float
    dp_comm_s: float
    dp_comm_exposed_s: float
    expert_comm_s: float
    optimizer_s: float
    sync_overhead_s: float


class MemoryBreakdown(BaseModel):
    """Memory per device (GB)."""

    model_config = ConfigDict(frozen=True)

    weights_gb: float
    gradients_gb: float
    optimizer_gb: float
    activations_gb: float
    overhead_gb: float
    total_gb: float
    capacity_gb: float


class TrainingEstimate(BaseModel):
    """The answer: hours with a range, days, MFU and the plan, or why it does not fit."""

    model_config = ConfigDict(frozen=True)

    status: Literal["ok", "does_not_fit"]
    message: str
    accelerator: str
    accelerator_name: str
    count: int
    nodes: int
    minimum_count: int | None = None
    accelerator_hours: float | None = None
    accelerator_hours_low: float | None = None
    accelerator_hours_high: float | None = None
    wall_clock_days: float | None = None
    wall_clock_days_low: float | None = None
    wall_clock_days_high: float | None = None
    mfu: float | None = Field(None, description="Model FLOPs (6·N·D) / time / the peak named in mfu_peak.")
    mfu_with_attention: float | None = None
    mfu_peak: str | None = Field(None, description="Which dense peak MFU refers to, e.g. 'bf16 989.4 TFLOPS'.")
    tokens_per_s: float | None = None
    memory_per_device_gb: float | None = None
    memory: MemoryBreakdown | None = None
    plan: Plan | None = None
    step: StepBreakdown | None = None
    bottleneck: str | None = None
    limits: list[str] = Field(default_factory=list)
    fabric: str | None = None
    total_flops: float
    flops_per_token: float
    shape: ModelShape
    goodput: float
    assumptions: list[Assumption] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)


# ---------------------------------------------------------------------- internal evaluation
@dataclass(frozen=True)
class _Ctx:
    acc: Accelerator
    shape: ModelShape
    peaks: Peaks
    precision: TrainPrecision
    eff: EfficiencyModel
    seq: int
    capacity_gb: float
    hbm_tbps: float
    link_gbs_dir: float | None  # per direction, GB/s
    fast_domain: int
    node: int
    fabric: Fabric | None
    fabric_eff: float
    attention_share: float
    flops_per_token: float  # model FLOPs: 6·N_active + causal attention
    recompute_flops_per_token: float  # extra forward for full recompute
    blocks: dict[tuple[int, float, float | None], float]  # block efficiency cache by (tp, scale, kappa)


@dataclass(frozen=True)
class _Eval:
    plan: Plan
    step: StepBreakdown
    memory: MemoryBreakdown
    block_eff: float


@dataclass(frozen=True)
class _Cand:
    """One evaluated plan (plain floats: the search evaluates hundreds per estimate)."""

    tp: int
    pp: int
    dp: int
    ep: int
    zero: int
    recompute: float
    mb: int
    m: int
    vpp: int
    step: float
    parts: tuple[float, ...]  # compute, tp, bubble, pp, dp, dp_exposed, a2a, opt, sync
    mem: tuple[float, ...]  # weights, grads, optim, acts, overhead, total (bytes)
    block: float

    @property
    def seqs_per_s(self) -> float:
        """Training throughput in sequences per second (plans can differ in batch and idle devices)."""
        return self.m * self.mb * self.dp / self.step


def _state_bytes(c: _Ctx, tp: int, pp: int, dp: int, ep: int, zero: int) -> tuple[float, float, float, float]:
    """Parameters per device and bytes of weights, gradients and optimizer state per device."""
    s = c.shape
    shard = tp * pp
    p_dev = s.active_params / shard + ((s.params - s.active_params) / (shard * ep) if s.moe else 0.0)
    w_bytes = 2.0 + (1.0 if c.precision == "fp8" else 0.0)
    o_bytes = c.eff.bytes_per_param - 4.0  # fp32 master + Adam moments
    if zero == 1:
        return p_dev, p_dev * w_bytes, p_dev * 2.0, p_dev * o_bytes / dp
    return p_dev, p_dev * w_bytes / dp, p_dev * 2.0 / dp, p_dev * o_bytes / dp


def _allreduce_s(nbytes: float, group: int, bw_gbs_dir: float, latency: float) -> float:
    if group <= 1:
        return 0.0
    return 2.0 * (group - 1) / group * nbytes / (bw_gbs_dir * 1e9) + 2 * (group - 1) * latency


def _evaluate(c: _Ctx, tp: int, pp: int, dp: int, zero: int, mb: int, batch_tokens: float, *,
              recompute: float | None = None, vpps: tuple[int, ...] = (1,), eff_scale: float = 1.0,
              kappa: float | None = None) -> _Cand | None:
    """Evaluate one (tp, pp, dp, ZeRO, micro-batch) plan.

    Chooses the smallest recompute fraction that fits memory (unless given) and the best interleaving among
    ``vpps``; returns None when the plan cannot fit or run.
    """
    s = c.shape
    e = c.eff
    seqs = batch_tokens / c.seq
    if seqs < dp * mb:
        return None
    m = max(1, round(seqs / (dp * mb)))
    ep = min(dp, 64) if s.moe else 1
    p_dev, w, g, o = _state_bytes(c, tp, pp, dp, ep, zero)
    layers_stage = math.ceil(s.n_layers / pp)
    in_flight = min(pp, m)
    act_none = e.activation_coefficient / tp * c.seq * mb * s.d_model
    act_full = e.full_recompute_coefficient * c.seq * mb * s.d_model
    logits = 4.0 * c.seq * mb * s.vocab / tp
    cap = (c.capacity_gb - e.memory_overhead_gb) / (1 + e.memory_fragmentation) * 1e9
    fixed = w + g + o + logits  # everything but the per-layer activations
    stored = layers_stage * in_flight
    if recompute is None:
        if fixed + stored * act_full > cap:
            return None
        if fixed + stored * act_none <= cap:
            f = 0.0
        else:
            # Recompute just enough layers (Megatron --recompute-num-layers) to fit.
            f = (fixed + stored * act_none - cap) / (stored * (act_none - act_full))
            f = min(1.0, math.ceil(f * layers_stage) / layers_stage)
    else:
        f = recompute
    layer_acts = stored * (act_none * (1 - f) + act_full * f)
    if fixed + layer_acts > cap * 1.0001:
        return None
    acts = layer_acts + logits
    block = c.blocks.get((tp, eff_scale, kappa))
    if block is None:
        block = e.block_efficiency(c.acc, width=_width(s, tp), peak16_tflops=c.peaks.sixteen,
                                   precision=c.precision, attention_share=c.attention_share, scale=eff_scale,
                                   kappa=kappa)
        c.blocks[(tp, eff_scale, kappa)] = block
    tokens_mb = mb * c.seq
    hw_flops_tok = c.flops_per_token + c.recompute_flops_per_token * f
    t_comp = hw_flops_tok * tokens_mb / (tp * pp) / (c.peaks.sixteen * 1e12 * block)
    t_tp = 0.0
    if tp > 1 and c.link_gbs_dir:
        # Tensor parallelism: 2 all-reduces forward and 2 backward per layer (+2 for recomputed layers).
        per_layer = 4 + 2 * f
        t_tp = layers_stage * per_layer * _allreduce_s(tokens_mb * s.d_model * 2.0, tp,
                                                       c.link_gbs_dir * e.link_efficiency, e.collective_latency_s)
    nic = (c.fabric.gbit_per_accelerator / 8.0 * c.fabric_eff) if c.fabric else None
    intra = (c.link_gbs_dir or 16.0) * e.link_efficiency
    pp_one = 0.0
    if pp > 1:
        bw = nic if (tp * pp > c.node and nic) else intra
        pp_one = 2 * tokens_mb * s.d_model * 2.0 / tp / (bw * 1e9) + 2 * e.collective_latency_s
    best_v, best_pipe, best_bubble = 1, 0.0, 0.0
    for v in vpps:
        t_micro = t_comp + t_tp + v * pp_one
        bubble = (pp - 1) / v * t_micro  # interleaving divides the 1F1B bubble by v (NARAYANAN)
        pipe = m * t_micro + bubble
        if v == vpps[0] or pipe < best_pipe:
            best_v, best_pipe, best_bubble = v, pipe, bubble
    dp_bw = nic if (tp * pp * dp > c.node and nic) else intra
    if zero == 1:
        # Gradients reduce-scattered and parameters all-gathered once per step (one all-reduce volume).
        t_dp = _allreduce_s(p_dev * 2.0, dp, dp_bw, e.collective_latency_s * 4)
        overlap = e.dp_overlap
    else:
        # ZeRO-3 re-gathers parameters in forward and backward and reduce-scatters gradients every micro-batch.
        t_dp = m * 1.5 * _allreduce_s(p_dev * 2.0, dp, dp_bw, e.collective_latency_s * 4)
        overlap = e.dp_overlap_zero3
    backward = best_pipe * 2.0 / 3.0
    t_dp_exp = max(t_dp - overlap * backward, (1 - overlap) * t_dp)
    t_a2a = 0.0
    if s.moe and ep > 1:
        a2a_bytes = tokens_mb * s.d_model * 2.0 * s.top_k * 4 / tp  # dispatch + combine, forward + backward
        bw = nic if (tp * ep > c.node and nic) else intra
        t_a2a = 0.5 * m * layers_stage * a2a_bytes * (ep - 1) / ep / (bw * 1e9)  # half hidden by overlap
    t_opt = p_dev * e.bytes_per_param * 2 / (dp if zero == 3 else 1) / (c.hbm_tbps * 1e12)
    base = best_pipe + t_dp_exp + t_a2a + t_opt
    nodes = max(1, math.ceil(tp * pp * dp / c.node))
    sync = e.sync_overhead_per_doubling * math.log2(nodes / 8) if nodes > 8 else 0.0
    step = base * (1 + sync)
    used = w + g + o + acts
    over = used * e.memory_fragmentation + e.memory_overhead_gb * 1e9
    return _Cand(tp=tp, pp=pp, dp=dp, ep=ep, zero=zero, recompute=f, mb=mb, m=m, vpp=best_v, step=step,
                 parts=(m * t_comp, m * t_tp, best_bubble, m * best_v * pp_one, t_dp, t_dp_exp, t_a2a, t_opt,
                        base * sync),
                 mem=(w, g, o, acts, over, used + over), block=block)


def _to_eval(c: _Ctx, cand: _Cand) -> _Eval:
    gb = 1e9
    w, g, o, acts, over, total = cand.mem
    label: Recompute = "none" if cand.recompute == 0 else ("full" if cand.recompute >= 1 else "partial")
    plan = Plan(tp=cand.tp, pp=cand.pp, dp=cand.dp, ep=cand.ep, zero_stage=cand.zero, recompute=label,
                recompute_fraction=round(cand.recompute, 4), micro_batch=cand.mb, num_microbatches=cand.m,
                virtual_stages=cand.vpp, global_batch_tokens=cand.m * cand.mb * cand.dp * c.seq,
                sequence_parallel=cand.tp > 1)
    p = cand.parts
    step = StepBreakdown(step_s=cand.step, compute_s=p[0], tp_comm_s=p[1], pipeline_bubble_s=p[2], pp_comm_s=p[3],
                         dp_comm_s=p[4], dp_comm_exposed_s=p[5], expert_comm_s=p[6], optimizer_s=p[7],
                         sync_overhead_s=p[8])
    mem = MemoryBreakdown(weights_gb=w / gb, gradients_gb=g / gb, optimizer_gb=o / gb, activations_gb=acts / gb,
                          overhead_gb=over / gb, total_gb=total / gb, capacity_gb=c.capacity_gb)
    return _Eval(plan=plan, step=step, memory=mem, block_eff=cand.block)


def _width(shape: ModelShape, tp: int) -> float:
    """Effective GEMM width for the efficiency model.

    Tensor parallelism narrows the weight matrices (hidden / tp^0.25, assumption); MoE experts are narrower
    than the dense hidden size (×0.7, assumption).
    """
    return float(shape.d_model / tp**0.25 * (0.7 if shape.moe else 1.0))


_MICRO_BATCHES = (1,)
"""Micro-batch sizes searched: 1 keeps activation memory lowest; larger sizes only shave per-step latency."""
_PP_MENU = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128)
"""Pipeline depths tried. DP = ⌊count / (TP·PP)⌋; leftover devices idle (they still count in the hours)."""


def _default_batch_tokens(params: float) -> float:
    # Llama 1/2 used 4M tokens at every size; 405B-class runs used 16M (ramped).
    if params >= 300e9:
        return 16e6
    if params >= 100e9:
        return 8e6
    return 4e6


def _search(c: _Ctx, count: int, req: TrainingRequest) -> _Cand | None:
    """Shortest-step plan for ``count`` accelerators that fits in memory (None if none fits)."""
    choice = req.plan or PlanChoice()
    tps = [t for t in (1, 2, 4, 8, 16, 32, 64) if t <= c.fast_domain and t <= count]
    if choice.tp is not None:
        tps = [choice.tp] if choice.tp <= count else []
    rc_fixed = None if choice.recompute is None else (0.0 if choice.recompute == "none" else 1.0)
    best: _Cand | None = None
    cand: _Cand | None = None
    for tp in tps:
        pps = [p for p in _PP_MENU if p <= min(c.shape.n_layers, count // tp)]
        if choice.pp is not None:
            pps = [choice.pp] if choice.pp * tp <= count else []
        best_tp: float = 0.0
        for pp in pps:
            dp = count // (tp * pp)
            batch = req.global_batch_tokens or _default_batch_tokens(c.shape.params)
            if req.global_batch_tokens is None:
                batch = max(batch, dp * c.seq)  # at least one sequence per replica
            layers_stage = math.ceil(c.shape.n_layers / pp)
            vpps = tuple(v for v in (1, 2, 4, 8) if v == 1 or (pp > 1 and layers_stage >= v))
            zeros = [choice.zero_stage] if choice.zero_stage else [1, 3]
            for mb in ([choice.micro_batch] if choice.micro_batch else _MICRO_BATCHES):
                for zero in zeros:
                    cand = _evaluate(c, tp, pp, dp, zero, mb, batch, recompute=rc_fixed, vpps=vpps)
                    if cand is not None:
                        best_tp = max(best_tp, cand.seqs_per_s)
                        if best is None or cand.seqs_per_s > best.seqs_per_s:
                            best = cand
                        break  # ZeRO-3 only when ZeRO-1 does not fit: it moves far more data
            # Deeper pipelines only add bubble and transfers once one fits well: stop when clearly worse.
            if best_tp and cand is not None and cand.seqs_per_s < 0.8 * best_tp:
                break
    return best


def _context(catalog: Catalog, req: TrainingRequest, eff: EfficiencyModel) -> _Ctx:
    acc = catalog.accelerator(req.accelerator)
    peaks = peaks_for(acc, req.precision)
    capacity = require(acc, "memory_gb", "memory capacity")
    hbm = require(acc, "memory_bandwidth_tbps", "memory bandwidth")
    shape = infer_shape(req.params, active_params=req.active_params, n_layers=req.n_layers, d_model=req.d_model)
    link = acc.intra_node_link_gbps.value
    node = node_size(catalog, acc)
    fabric = choose_fabric(catalog, acc, fabric=req.fabric, buyer_country=req.buyer_country)
    if req.fabric_gbit is not None:
        base = fabric or Fabric("custom", "custom fabric", "infiniband", req.fabric_gbit, "available")
        fabric = Fabric(base.id, f"{base.name} at {req.fabric_gbit:g} Gb/s", base.kind, req.fabric_gbit,
                        base.availability)
    attn = 6.0 * shape.n_layers * req.seq_len * shape.d_model
    dense = 6.0 * shape.active_params
    return _Ctx(
        acc=acc, shape=shape, peaks=peaks, precision=req.precision, eff=eff, seq=req.seq_len,
        capacity_gb=capacity, hbm_tbps=hbm, link_gbs_dir=(link / 2.0) if link else None,
        fast_domain=min(acc.intra_node_domain, node) if link else 1, node=node, fabric=fabric,
        fabric_eff=eff.fabric_efficiency.get(fabric.kind, 0.75) if fabric else 0.0,
        attention_share=attn / (attn + dense), flops_per_token=dense + attn,
        recompute_flops_per_token=(dense + attn) / 3.0, blocks={},
    )


def minimum_count(catalog: Catalog, req: TrainingRequest) -> int | None:
    """Smallest accelerator count (whole nodes beyond one node) on which some plan fits in memory."""
    c = _context(catalog, req, load_efficiency())
    return minimum_count_ctx(c, req)


def _node_multiples() -> list[int]:
    out, k = [], 1
    while k <= _MAX_COUNT // 8:
        out.append(k)
        k *= 2
    return out


def _days(hours_per_acc: float) -> float:
    return hours_per_acc / 24.0


def estimate_training(catalog: Catalog, req: TrainingRequest) -> TrainingEstimate:
    """Estimate a training run; with no count, size the cluster for ``deadline_days``.

    Raises:
        UnknownSkuError, UnsupportedPrecisionError, InvalidInputError: bad input (never a traceback).
    """
    eff = load_efficiency()
    c = _context(catalog, req, eff)
    if req.count is None:
        return _size_for_deadline(catalog, req, c)
    return _estimate_count(c, req, req.count)


def _size_for_deadline(catalog: Catalog, req: TrainingRequest, c: _Ctx) -> TrainingEstimate:
    assert req.deadline_days is not None  # guaranteed by the request validator
    fits_at = minimum_count(catalog, req)
    if fits_at is None:
        return _estimate_count(c, req, _MAX_COUNT)
    counts = sorted({fits_at, *[c.node * k for k in _node_multiples() if c.node * k >= fits_at]})
    last: TrainingEstimate | None = None
    prev_ok: int | None = None
    for n in counts:
        est = _estimate_count(c, req, n)
        last = est
        if est.status == "ok" and est.wall_clock_days is not None and est.wall_clock_days <= req.deadline_days:
            # Refine downwards node by node between the previous power of two and this count.
            lo = prev_ok or fits_at
            step = c.node if n > c.node else 1
            for m in range(max(lo, fits_at), n, step):
                e2 = _estimate_count(c, req, m)
                if e2.status == "ok" and e2.wall_clock_days is not None and e2.wall_clock_days <= req.deadline_days:
                    return e2.model_copy(update={"message": f"{e2.message}; smallest count meeting "
                                                            f"{req.deadline_days:g} days"})
            return est.model_copy(update={"message": f"{est.message}; smallest count meeting "
                                                     f"{req.deadline_days:g} days"})
        prev_ok = n
    assert last is not None
    return last.model_copy(update={
        "message": f"no count up to {counts[-1]} meets {req.deadline_days:g} days; showing the largest tried",
    })


def _estimate_count(c: _Ctx, req: TrainingRequest, count: int) -> TrainingEstimate:
    eff = c.eff
    shape = c.shape
    total_flops = c.flops_per_token * req.tokens
    nodes = max(1, math.ceil(count / c.node))
    goodput = req.goodput or eff.goodput.value
    common: dict[str, object] = {
        "accelerator": c.acc.id, "accelerator_name": c.acc.name, "count": count, "nodes": nodes,
        "total_flops": total_flops, "flops_per_token": c.flops_per_token, "shape": shape, "goodput": goodput,
        "fabric": c.fabric.id if c.fabric and count > c.node else None,
    }
    cand = _search(c, count, req)
    if cand is None:
        need = minimum_count_ctx(c, req)
        why = (f"{shape.params / 1e9:.0f}B parameters do not fit on {count} × {c.acc.id} "
               f"({c.capacity_gb:.0f} GB each) under any plan")
        if req.plan is not None:
            why += " with the given plan"
        msg = why + (f"; at least {need} accelerators are needed" if need else "; no count up to 1M fits")
        return TrainingEstimate(status="does_not_fit", message=msg, minimum_count=need, **common)  # type: ignore[arg-type]
    best = _to_eval(c, cand)
    step = best.step.step_s
    batch_tokens = best.plan.global_batch_tokens
    tps = batch_tokens / step
    seconds = req.tokens / tps / goodput
    hours = seconds / 3600.0 * count
    # Range: pessimistic/optimistic efficiency and goodput, same plan.
    prof = eff.profile(c.acc)
    lo_eval = _evaluate(c, cand.tp, cand.pp, cand.dp, cand.zero, cand.mb, batch_tokens, recompute=cand.recompute,
                        vpps=(cand.vpp,), eff_scale=1 + prof.uncertainty, kappa=eff.kappa.low)
    hi_eval = _evaluate(c, cand.tp, cand.pp, cand.dp, cand.zero, cand.mb, batch_tokens, recompute=cand.recompute,
                        vpps=(cand.vpp,), eff_scale=1 - prof.uncertainty, kappa=eff.kappa.high)
    g_hi = max(goodput, eff.goodput.high or goodput) if req.goodput is None else goodput
    g_lo = min(goodput, eff.goodput.low or goodput) if req.goodput is None else goodput
    step_lo = lo_eval.step if lo_eval else step
    step_hi = hi_eval.step if hi_eval else step
    hours_lo = req.tokens / (batch_tokens / step_lo) / g_hi / 3600 * count
    hours_hi = req.tokens / (batch_tokens / step_hi) / g_lo / 3600 * count
    model_flops = 6.0 * shape.active_params * tps
    mfu16 = model_flops / (count * c.peaks.sixteen * 1e12)
    mfu = model_flops / (count * c.peaks.compute * 1e12)
    mfu_attn = c.flops_per_token * tps / (count * c.peaks.compute * 1e12)
    bottleneck, limits = _explain(c, best, count)
    warnings: list[str] = []
    if c.fabric and count > c.node and c.fabric.availability in ("limited", "unavailable", "unknown"):
        warnings.append(f"{c.fabric.name} availability for the buyer is {c.fabric.availability}")
    if count > c.node and c.fabric is None:
        warnings.append("no scale-out fabric with a sourced bandwidth serves this vendor; cross-node traffic "
                        "assumed at the intra-node link rate")
    assumptions = _assumptions(c, best, goodput)
    return TrainingEstimate(
        status="ok",
        message=f"{req.tokens / 1e12:g}T tokens on {count} × {c.acc.id}: {hours / 1e6:.3g}M accelerator-hours, "
                f"{seconds / 86400:.1f} days, MFU {mfu:.1%} of {c.peaks.compute_name} peak",
        accelerator_hours=hours, accelerator_hours_low=hours_lo, accelerator_hours_high=hours_hi,
        wall_clock_days=seconds / 86400, wall_clock_days_low=hours_lo / count / 24,
        wall_clock_days_high=hours_hi / count / 24,
        mfu=mfu, mfu_with_attention=mfu_attn,
        mfu_peak=f"{c.peaks.compute_name} {c.peaks.compute:g} TFLOPS dense"
        + (f" (MFU vs 16-bit peak {mfu16:.1%})" if c.peaks.compute_name == "fp8" else ""),
        tokens_per_s=tps, memory_per_device_gb=best.memory.total_gb, memory=best.memory, plan=best.plan,
        step=best.step, bottleneck=bottleneck, limits=limits, assumptions=assumptions, warnings=warnings,
        **common,  # type: ignore[arg-type]
    )


def minimum_count_ctx(c: _Ctx, req: TrainingRequest) -> int | None:
    """Smallest count on which a plan fits: doubling, then a binary search over whole nodes."""
    candidates = [n for n in (1, 2, 4) if n < c.node] + [c.node * k for k in _node_multiples()]
    prev = 0
    for n in candidates:
        if _search(c, n, req) is not None:
            if n <= c.node or prev < c.node:
                return n
            lo, hi = prev // c.node, n // c.node  # lo does not fit, hi fits (in nodes)
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if _search(c, mid * c.node, req) is not None:
                    hi = mid
                else:
                    lo = mid
            return hi * c.node
        prev = n
    return None


def _explain(c: _Ctx, ev: _Eval, count: int) -> tuple[str, list[str]]:
    st = ev.step
    parts = {
        "compute": st.compute_s,
        "tensor-parallel communication on the intra-node link": st.tp_comm_s,
        "pipeline bubble": st.pipeline_bubble_s,
        "data-parallel gradient traffic on the scale-out fabric": st.dp_comm_exposed_s,
        "expert all-to-all": st.expert_comm_s,
    }
    limits: list[str] = []
    ratio = c.peaks.sixteen / c.hbm_tbps
    limits.append(
        f"block efficiency {ev.block_eff:.1%} of {c.peaks.sixteen_name} peak: {c.peaks.sixteen:g} TFLOPS with "
        f"{c.hbm_tbps:g} TB/s HBM ({ratio:.0f} FLOP/byte); "
        + ("compute-poor and bandwidth-rich, so kernels run near GEMM efficiency"
           if ratio < 100 else "memory-bound work takes a visible share of the step")
    )
    for name, t in parts.items():
        share = t / st.step_s if st.step_s else 0.0
        if name != "compute" and share >= 0.03:
            limits.append(f"{name}: {share:.0%} of the step")
    if c.link_gbs_dir is None:
        limits.append("no fast intra-node link is sourced: tensor parallelism disabled")
    elif c.link_gbs_dir * 2 < 200:
        limits.append(f"slow intra-node link ({c.link_gbs_dir * 2:.0f} GB/s bidirectional) limits tensor parallelism")
    if ev.plan.recompute_fraction > 0:
        limits.append(f"activations of {ev.plan.recompute_fraction:.0%} of layers recomputed to fit memory: "
                      f"+{ev.plan.recompute_fraction / 3:.0%} compute")
    compute_share = st.compute_s / st.step_s if st.step_s else 1.0
    if compute_share >= 0.75:
        bottleneck = "compute-bound"
    else:
        worst = max((k for k in parts if k != "compute"), key=lambda k: parts[k])
        bottleneck = f"communication-bound ({worst})" if parts[worst] > 0.1 * st.step_s else "mixed"
    return bottleneck, limits


def _assumptions(c: _Ctx, ev: _Eval, goodput: float) -> list[Assumption]:
    e = c.eff
    prof = e.profile(c.acc)
    out = [
        Assumption(name="model shape", value=f"{c.shape.n_layers} layers × hidden {c.shape.d_model}, "
                   f"{c.shape.n_kv_heads} KV heads" + (f", MoE top-{c.shape.top_k}" if c.shape.moe else ""),
                   source="inferred from parameter count (Llama/GPT shapes); override with --layers/--hidden"),
        Assumption(name="FLOPs per token", value=f"6·N_active + 6·layers·seq·hidden = {c.flops_per_token:.3g}",
                   source="standard dense count plus causal attention (same convention as the calibration probe)"),
        Assumption(name="GEMM efficiency", value=f"{e.gemm_efficiency(_width(c.shape, ev.plan.tp), c.acc):.3f}"
                   f" at effective width {_width(c.shape, ev.plan.tp):.0f} (hidden / tp^0.25)",
                   source=f"profile '{e.profile_name(c.acc)}': {prof.note}"),
        Assumption(name="non-GEMM time", value=f"kappa {e.kappa.value} × compute/bandwidth ratio vs H200",
                   source="measured: 1/block MFU − 1/GEMM efficiency (CAL-H200-TRAIN)"),
        Assumption(name="block efficiency", value=f"{ev.block_eff:.3f} of {c.peaks.sixteen_name} dense peak",
                   source="derived from the two rows above"),
        Assumption(name="goodput", value=f"{goodput:.2f}", source="published 0.85–0.95 for well-run jobs (RUNS-DEV)"),
        Assumption(name="memory per parameter", value=f"{e.bytes_per_param:g} bytes (mixed-precision Adam)",
                   source="ZeRO paper"),
        Assumption(name="activation memory", value=f"{e.activation_coefficient:g}·seq·micro_batch·hidden/tp per layer",
                   source="Korthikanti et al. 2022 with flash attention and sequence parallelism"),
        Assumption(name="link efficiency", value=f"{e.link_efficiency:.2f} of per-direction link bandwidth",
                   source="assumption"),
        Assumption(name="DP overlap", value=f"{e.dp_overlap:.2f} of gradient traffic hidden by backward",
                   source="assumption"),
    ]
    if c.precision == "fp8":
        out.append(Assumption(name="FP8", value=f"linear-layer GEMMs ×{e.fp8_gemm_speedup} (measured); attention "
                              f"and non-GEMM work unchanged; cast overhead {e.fp8_cast_overhead}",
                              source="CAL-H200-TRAIN (fp8 vs bf16 GEMM rates); cast overhead is an assumption"))
    if c.peaks.sixteen_name == "fp16":
        out.append(Assumption(name="16-bit peak", value=f"FP16 {c.peaks.sixteen:g} TFLOPS used (no BF16 figure)",
                              source="catalog"))
    if c.fabric:
        out.append(Assumption(name="scale-out fabric", value=f"{c.fabric.name}: {c.fabric.gbit_per_accelerator:g} "
                              f"Gb/s per accelerator at {c.fabric_eff:.2f} efficiency",
                              source="catalog networks + assumption"))
    return out
