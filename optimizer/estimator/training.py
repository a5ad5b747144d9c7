"""Training estimator: hours, days, MFU, memory and the plan of a training run, with a low–high range.

The work is split by job: :mod:`training_context` (shape, peaks, links), :mod:`step_time` (one plan's step),
:mod:`plan_search` (the best plan, the smallest count), :mod:`ranges` (the low–high range and what drives it);
memory and communication terms live in :mod:`memory` and :mod:`comm`, shared with the serving estimator.

Hours = tokens / (tokens per step / t_step) / goodput · count, goodput modelled from failures × scale × restart
cost plus a checkpoint/eval share (or 1 for a steady-state figure).
"""

from __future__ import annotations

import math

from optimizer.catalog import Catalog
from optimizer.estimator.common import Assumption
from optimizer.estimator.efficiency import load_efficiency
from optimizer.estimator.plan_search import PlanMemo, minimum_count_ctx, node_multiples, search_plan
from optimizer.estimator.ranges import combine_drivers, defaulted_inputs, goodput_band, range_drivers
from optimizer.estimator.step_time import BATCH_TOLERANCE, Evaluated, gemm_width, micro_batches, to_eval
from optimizer.estimator.training_context import TrainContext, batch_tokens_of, build_context
from optimizer.estimator.training_types import (
    MAX_COUNT,
    MemoryBreakdown,
    OptimizerName,
    Plan,
    PlanChoice,
    RangeDriver,
    Recompute,
    StackName,
    StepBreakdown,
    TrainingEstimate,
    TrainingRequest,
)

__all__ = [
    "MemoryBreakdown",
    "OptimizerName",
    "Plan",
    "PlanChoice",
    "RangeDriver",
    "Recompute",
    "StackName",
    "StepBreakdown",
    "TrainingEstimate",
    "TrainingRequest",
    "estimate_training",
    "minimum_count",
]


def minimum_count(catalog: Catalog, req: TrainingRequest) -> int | None:
    """Smallest accelerator count (whole nodes beyond one node) on which some plan fits in memory."""
    c = build_context(catalog, req, load_efficiency())
    return minimum_count_ctx(c, req)


def estimate_training(catalog: Catalog, req: TrainingRequest, *, ranged: bool = True,
                      plans: PlanMemo | None = None) -> TrainingEstimate:
    """Estimate a training run; with no count, size the cluster for ``deadline_days``.

    ``ranged=False`` skips the low/high range (its drivers re-evaluate the chosen plan under each uncertain input):
    the point values are the same, and the purchase optimizer, which probes many counts, needs only those.
    ``plans`` shares plan searches with earlier estimates on the same catalog (same results, less work).

    Raises:
        UnknownSkuError, UnsupportedPrecisionError, InvalidInputError: bad input (never a traceback).
    """
    eff = load_efficiency()
    c = build_context(catalog, req, eff)
    if req.count is None:
        return _size_for_deadline(catalog, req, c, plans)
    return _estimate_count(catalog, c, req, req.count, ranged=ranged, plans=plans)


def _size_for_deadline(catalog: Catalog, req: TrainingRequest, c: TrainContext,
                       plans: PlanMemo | None) -> TrainingEstimate:
    assert req.deadline_days is not None  # guaranteed by the request validator
    fits_at = minimum_count_ctx(c, req, plans)
    if fits_at is None:
        return _estimate_count(catalog, c, req, MAX_COUNT, plans=plans)
    counts = sorted({fits_at, *[c.node * k for k in node_multiples() if c.node * k >= fits_at]})
    last: TrainingEstimate | None = None
    prev_ok: int | None = None
    for n in counts:
        est = _estimate_count(catalog, c, req, n, ranged=False, plans=plans)
        last = est
        if est.status == "ok" and est.wall_clock_days is not None and est.wall_clock_days <= req.deadline_days:
            # Refine downwards node by node between the previous power of two and this count.
            lo = prev_ok or fits_at
            step = c.node if n > c.node else 1
            chosen = n
            for m in range(max(lo, fits_at), n, step):
                e2 = _estimate_count(catalog, c, req, m, ranged=False, plans=plans)
                if e2.status == "ok" and e2.wall_clock_days is not None and e2.wall_clock_days <= req.deadline_days:
                    chosen = m
                    break
            final = _estimate_count(catalog, c, req, chosen, plans=plans)
            return final.model_copy(update={"message": f"{final.message}; smallest count meeting "
                                                       f"{req.deadline_days:g} days"})
        prev_ok = n
    assert last is not None
    final = _estimate_count(catalog, c, req, last.count, plans=plans)
    return final.model_copy(update={
        "message": f"no count up to {counts[-1]} meets {req.deadline_days:g} days; showing the largest tried",
    })


def _estimate_count(catalog: Catalog, c: TrainContext, req: TrainingRequest, count: int, *,
                    ranged: bool = True, plans: PlanMemo | None = None) -> TrainingEstimate:
    shape = c.shape
    tokens_total = req.tokens
    total_flops = c.flops_per_token * tokens_total
    nodes = max(1, math.ceil(count / c.node))
    g = goodput_band(c, req, count)
    goodput = g[0]
    common: dict[str, object] = {
        "accelerator": c.acc.id, "accelerator_name": c.acc.name, "count": count, "nodes": nodes,
        "total_flops": total_flops, "flops_per_token": c.flops_per_token, "shape": shape, "goodput": goodput,
        "goodput_basis": g[3], "stack": c.stack_name, "seq_len": c.seq, "defaulted": defaulted_inputs(req),
        "fabric": c.fabric.id if c.fabric and count > c.node else None,
    }
    cand = plans.search(c, count, req) if plans is not None else search_plan(c, count, req)
    if cand is None:
        need = minimum_count_ctx(c, req, plans)
        why = (f"{shape.params / 1e9:.0f}B parameters do not fit on {count} × {c.acc.id} "
               f"({c.capacity_gb:.0f} GB each) under any plan")
        if req.plan is not None:
            why += " with the given plan"
        msg = why + (f"; at least {need} accelerators are needed" if need else "; no count up to 1M fits")
        choice = req.plan or PlanChoice()
        given = batch_tokens_of(c, req)
        if given is not None and choice.tp and choice.pp:
            dp = choice.dp or count // (choice.tp * choice.pp * (choice.cp or 1))
            mb = choice.micro_batch or 1
            seqs = given / c.seq
            if seqs < dp * mb:
                msg = (f"the global batch ({seqs:,.0f} sequences) is smaller than the {dp:,} data-parallel "
                       f"replicas of the given plan × micro-batch {mb}: give a larger batch, "
                       "fewer accelerators or more model parallelism")
            elif micro_batches(seqs, dp, mb) is None:
                msg = (f"the global batch ({seqs:,.0f} sequences) does not split into whole micro-batches of {mb} "
                       f"over the {dp:,} data-parallel replicas of the given plan (within "
                       f"{BATCH_TOLERANCE:.0%}): give a batch that is a multiple of {dp * mb:,} sequences or "
                       "another data-parallel width")
        return TrainingEstimate(status="does_not_fit", message=msg, minimum_count=need, **common)  # type: ignore[arg-type]
    best = to_eval(c, cand)
    step = best.step.step_s
    batch_tokens = best.plan.global_batch_tokens
    tps = batch_tokens / step
    seconds = tokens_total / tps / goodput
    hours = seconds / 3600.0 * count
    drivers = range_drivers(catalog, c, req, cand, batch_tokens, count, g) if ranged else []
    f_lo, f_hi = combine_drivers(drivers) if drivers else (1.0, 1.0)
    hours_lo, hours_hi = hours * f_lo, hours * f_hi
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
    assumptions = _assumptions(c, best, goodput, g[3])
    widest = sorted(drivers, key=lambda d: -math.log(d.high_factor / max(d.low_factor, 1e-9)))[:2]
    why = ", ".join(d.input for d in widest)
    return TrainingEstimate(
        status="ok",
        message=f"{tokens_total / 1e12:g}T tokens on {count} × {c.acc.id}: {hours / 1e6:.3g}M accelerator-hours, "
                f"{seconds / 86400:.1f} days, MFU {mfu:.1%} of {c.peaks.compute_name} peak"
                + (f"; range driven by {why}" if why else ""),
        accelerator_hours=hours, accelerator_hours_low=hours_lo, accelerator_hours_high=hours_hi,
        wall_clock_days=seconds / 86400, wall_clock_days_low=hours_lo / count / 24,
        wall_clock_days_high=hours_hi / count / 24,
        mfu=mfu, mfu_with_attention=mfu_attn,
        mfu_peak=f"{c.peaks.compute_name} {c.peaks.compute:g} TFLOPS dense"
        + (f" (MFU vs 16-bit peak {mfu16:.1%})" if c.peaks.compute_name == "fp8" else ""),
        tokens_per_s=tps, memory_per_device_gb=best.memory.total_gb, memory=best.memory, plan=best.plan,
        step=best.step, bottleneck=bottleneck, limits=limits, assumptions=assumptions, warnings=warnings,
        range_drivers=drivers, **common,  # type: ignore[arg-type]
    )


def _explain(c: TrainContext, ev: Evaluated, count: int) -> tuple[str, list[str]]:
    st = ev.step
    parts = {
        "compute": st.compute_s,
        "tensor-parallel communication on the intra-node link": st.tp_comm_s,
        "pipeline bubble": st.pipeline_bubble_s,
        "data-parallel gradient traffic on the scale-out fabric": st.dp_comm_exposed_s,
        "expert all-to-all": st.expert_comm_s,
        "context-parallel KV exchange": st.cp_comm_s,
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
    elif ev.plan.recompute == "selective":
        limits.append("selective recompute of the attention core (scores not stored) to fit memory")
    compute_share = st.compute_s / st.step_s if st.step_s else 1.0
    if compute_share >= 0.75:
        bottleneck = "compute-bound"
    else:
        worst = max((k for k in parts if k != "compute"), key=lambda k: parts[k])
        bottleneck = f"communication-bound ({worst})" if parts[worst] > 0.1 * st.step_s else "mixed"
    return bottleneck, limits


def _assumptions(c: TrainContext, ev: Evaluated, goodput: float, basis: str) -> list[Assumption]:
    e = c.eff
    prof = e.profile(c.acc)
    s = c.shape
    tokens = ev.plan.micro_batch * c.seq / ev.plan.cp
    if s.preset:
        shape_src = f"preset '{s.preset}': {s.source}"
    else:
        shape_src = ("inferred from the parameter count (Llama/GPT shapes: N ≈ 12·layers·hidden², 8 KV heads from "
                     "hidden 8192" + (", experts ≈ top-k × total/active" if s.moe else "")
                     + "); give --model or --layers/--hidden to fix it")
    out = [
        Assumption(name="model shape", value=f"{s.n_layers} layers × hidden {s.d_model}, {s.n_heads} heads / "
                   f"{s.n_kv_heads} KV heads ({s.attention}), vocab {s.vocab:,}"
                   + (f", MoE {s.experts} experts top-{s.top_k}" if s.moe else ""), source=shape_src),
        Assumption(name="FLOPs per token", value=f"6 × {c.lin_params:.3g} matmul parameters + attention = "
                   f"{c.flops_per_token:.3g}",
                   source="first principles: QKᵀ and A·V at seq/2 keys (causal), 3× forward for training"),
        Assumption(name="software stack", value=f"{c.stack_name}: {c.stack.note}",
                   source="efficiency.yaml stacks (" + (", ".join(c.stack.source) or c.stack.provenance) + ")"),
        Assumption(name="GEMM efficiency", value=f"{e.gemm_efficiency(gemm_width(s, ev.plan.tp), c.acc, tokens):.3f}"
                   f" at effective width {gemm_width(s, ev.plan.tp):.0f} (hidden / tp^0.25) and {tokens:,.0f} tokens "
                   "per GEMM", source=f"profile '{e.profile_name(c.acc)}': {prof.note}"),
        Assumption(name="non-GEMM time", value=f"kappa {e.kappa.value} × compute/bandwidth ratio vs H200",
                   source="measured: 1/block MFU − 1/GEMM efficiency (CAL-H200-TRAIN)"),
        Assumption(name="block efficiency", value=f"{ev.block_eff:.3f} of {c.peaks.sixteen_name} dense peak",
                   source="derived from the two rows above"),
        Assumption(name="goodput", value=f"{goodput:.3f}", source=basis + " (LLAMA3 failure rate)"),
        Assumption(name="memory per parameter", value=f"{c.bytes_per_param:g} bytes (mixed precision)",
                   source="ZeRO paper"),
        Assumption(name="activation memory", value=f"{s.activation_coefficient():.1f}·seq·micro_batch·hidden/tp per "
                   "layer" + ("" if c.stack.flash else " + 5·heads·seq/hidden for stored scores"),
                   source="Korthikanti et al. 2022, generalised to the FFN width"),
        Assumption(name="link latency", value=f"{e.latency_intra_s * 1e6:g} µs per NVLink/HCCS step, "
                   f"{e.latency_inter_s * 1e6:g} µs per scale-out step", source="assumption (efficiency.yaml)"),
        Assumption(name="link efficiency", value=f"{e.link_efficiency:.2f} of per-direction link bandwidth",
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
                              source="catalog networks (era default by profile) + assumption"))
    return out
