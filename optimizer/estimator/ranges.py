"""The low–high range of a training estimate: each uncertain or defaulted input re-evaluated at its two ends.

Drivers combine in quadrature on a log scale (independent sources of error); each says which input widens the
range and by how much, so a user knows what to pin down (the published batch, the plan, the stack, the fabric).
"""

from __future__ import annotations

import dataclasses
import math

from optimizer.catalog import Catalog
from optimizer.estimator.common import Fabric
from optimizer.estimator.plan_search import search_plan
from optimizer.estimator.step_time import Candidate, evaluate
from optimizer.estimator.training_context import TrainContext, batch_tokens_of, default_batch_tokens, with_seq
from optimizer.estimator.training_types import RangeDriver, TrainingRequest


def goodput_band(c: TrainContext, req: TrainingRequest, count: int) -> tuple[float, float, float, str]:
    """Goodput at this count: (value, optimistic, pessimistic, basis)."""
    if req.steady_state:
        return 1.0, 1.0, 1.0, "steady-state (no failures, restarts or evaluation)"
    if req.goodput is not None:
        return req.goodput, req.goodput, req.goodput, "given"
    gm = c.eff.goodput_model
    return (gm.goodput(count), gm.goodput(count, band="high"), gm.goodput(count, band="low"),
            f"modelled: {gm.failures_per_accelerator_hour.value:.3g} failures per accelerator-hour × {count:,} "
            f"accelerators × {gm.restart_hours.value:g} h per restart + {gm.checkpoint_eval_share.value:.0%} "
            f"checkpoint/eval")


def _factor(alt: float | None, base: float) -> float:
    return alt / base if alt else 1.0


def range_drivers(catalog: Catalog, c: TrainContext, req: TrainingRequest, cand: Candidate, batch_tokens: float,
                   count: int, g: tuple[float, float, float, str]) -> list[RangeDriver]:
    """Each uncertain or defaulted input with the hours multipliers at its two ends."""
    prof = c.eff.profile(c.acc)
    e = c.eff
    out: list[RangeDriver] = []

    def again(cc: TrainContext, batch: float, mb: int | None = None, **kw: object) -> float | None:
        args: dict[str, object] = {"cp": cand.cp, "ep": cand.ep, "recompute": cand.recompute,
                                   "selective": cand.selective, "vpps": (cand.vpp,)}
        args.update(kw)
        r = evaluate(cc, cand.tp, cand.pp, cand.dp, cand.zero, mb or cand.mb, batch, **args)  # type: ignore[arg-type]
        return r.step / (r.m * r.mb * r.dp) if r else None

    per_seq = cand.step / (cand.m * cand.mb * cand.dp)
    lo = again(c, batch_tokens, eff_scale=1 + prof.uncertainty, kappa=e.kappa.low)
    hi = again(c, batch_tokens, eff_scale=1 - prof.uncertainty, kappa=e.kappa.high)
    out.append(RangeDriver(input="kernel efficiency", low_factor=_factor(lo, per_seq), high_factor=_factor(hi, per_seq),
                           note=f"profile '{e.profile_name(c.acc)}' ±{prof.uncertainty:.0%} GEMM efficiency, "
                                f"non-GEMM coefficient {e.kappa.low}–{e.kappa.high}"))
    if g[1] != g[2]:
        out.append(RangeDriver(input="goodput", low_factor=g[0] / g[1], high_factor=g[0] / g[2],
                               note=f"failure rate, restart cost and checkpoint share bands: {g[2]:.2f}–{g[1]:.2f}"))
    if batch_tokens_of(c, req) is None:
        a = [again(c, batch_tokens * k) for k in (0.5, 2.0)]
        fs = [_factor(x, per_seq) for x in a]
        note = f"{batch_tokens / 1e6:.3g}M tokens assumed; ×0.5 and ×2 evaluated"
        size_default = default_batch_tokens(c.shape.params)
        if batch_tokens > 2.0 * size_default and req.plan is None:
            # The default batch grew to give every data-parallel replica a sequence (beyond the ×0.5 evaluated
            # above); a run that keeps the model-size default instead needs more model parallelism (MFU falls
            # with more accelerators at a fixed batch): re-plan at that batch for the slow end.
            alt = search_plan(c, count, req.model_copy(update={"global_batch_tokens": size_default}))
            if alt is not None:
                fs.append(alt.step / (alt.m * alt.mb * alt.dp) / per_seq)  # hours ∝ time per sequence
                note += f", and the size default {size_default / 1e6:.3g}M re-planned"
        out.append(RangeDriver(input="global batch (defaulted)", low_factor=min(fs + [1.0]),
                               high_factor=max(fs + [1.0]), note=note))
    if req.seq_len is None:
        fs = []
        for seq in (2048, 8192):
            cc = with_seq(c, seq)
            r = evaluate(cc, cand.tp, cand.pp, cand.dp, cand.zero, cand.mb, batch_tokens, cp=cand.cp, ep=cand.ep,
                          vpps=(cand.vpp,))
            if r is not None:
                fs.append(r.step / (r.m * r.mb * r.dp * seq) / (per_seq / c.seq))
        out.append(RangeDriver(input="sequence length (defaulted)", low_factor=min(fs + [1.0]),
                               high_factor=max(fs + [1.0]), note=f"{c.seq} assumed; 2048 and 8192 evaluated"))
    if req.plan is None:
        plain = again(c, batch_tokens, mb=1, vpps=(1,), recompute=None) if cand.vpp > 1 or cand.mb > 1 else None
        out.append(RangeDriver(input="parallelism plan (searched)", low_factor=1.0,
                               high_factor=max(1.0, _factor(plain, per_seq)),
                               note="the searched plan is the fastest that fits; a plain 1F1B plan with micro-batch "
                                    "1 bounds the slow end"))
    if req.stack is None:
        fs = []
        for name, st in e.stacks.items():
            if name == c.stack_name or (name == "mindspeed") != (c.stack_name == "mindspeed"):
                continue  # MindSpeed is the Ascend port; the others are the GPU stacks
            cc = dataclasses.replace(c, stack_name=name, stack=st,
                                     attn_tok=c.shape.attention_flops_per_token(c.seq, causal_skip=st.flash))
            x = again(cc, batch_tokens, recompute=None, selective=None)
            if x:
                fs.append(x / per_seq)
        if fs:
            out.append(RangeDriver(input="software stack (defaulted)", low_factor=min(fs + [1.0]),
                                   high_factor=max(fs + [1.0]),
                                   note=f"{c.stack_name} assumed; the other stack profiles evaluated on the same plan"))
    if req.count_assumed and req.plan is None:
        fs = []
        for n in (count // 2, count * 2):
            alt = search_plan(c, n, req) if n >= 1 else None
            if alt is not None:
                fs.append(alt.step * n / (alt.m * alt.mb * alt.dp) / (per_seq * count))
        out.append(RangeDriver(input="accelerator count (assumed)", low_factor=min(fs + [1.0]),
                               high_factor=max(fs + [1.0]), note=f"{count:,} assumed; half and double evaluated "
                                                                  "(hours, not days)"))
    if req.fabric is None and req.fabric_gbit is None and count > c.node and c.fabric is not None:
        fs = []
        for net in catalog.networks_for(c.acc.vendor):
            if net.kind == "cloud" or net.per_accelerator_gbit.value is None or net.id == c.fabric.id:
                continue
            gbit = net.per_accelerator_gbit.value
            cc = dataclasses.replace(c, fabric=Fabric(net.id, net.name, net.kind, gbit, "available"),
                                     fabric_eff=e.fabric_efficiency.get(net.kind, 0.75))
            x = again(cc, batch_tokens)
            if x:
                fs.append(x / per_seq)
        if fs:
            out.append(RangeDriver(input="fabric (defaulted)", low_factor=min(fs + [1.0]), high_factor=max(fs + [1.0]),
                                   note=f"{c.fabric.name} assumed; the vendor's other sourced fabrics evaluated"))
    return out


RANGE_Z = 1.2816
"""The reported range is a central 80 % interval: each driver's ends are read as one standard deviation of the
log-hours, the drivers combine in quadrature, and the sum is widened by z(0.90) = 1.28. Without it the range was
a one-sigma band that held the published figure for 6 of 10 held-out runs."""


def combine_drivers(drivers: list[RangeDriver]) -> tuple[float, float]:
    """Independent drivers combine in quadrature on a log scale, widened to an 80 % interval (``RANGE_Z``)."""
    lo = math.sqrt(sum(math.log(min(d.low_factor, 1.0)) ** 2 for d in drivers))
    hi = math.sqrt(sum(math.log(max(d.high_factor, 1.0)) ** 2 for d in drivers))
    return math.exp(-RANGE_Z * lo), math.exp(RANGE_Z * hi)


def defaulted_inputs(req: TrainingRequest) -> list[str]:
    """Inputs the request left out (defaults were used)."""
    out = []
    if req.seq_len is None:
        out.append("seq_len")
    if req.global_batch_tokens is None and req.global_batch_seqs is None:
        out.append("global_batch")
    if req.plan is None:
        out.append("plan")
    if req.fabric is None and req.fabric_gbit is None:
        out.append("fabric")
    if req.model is None and req.n_layers is None and req.d_model is None:
        out.append("shape")
    if req.stack is None:
        out.append("stack")
    if req.goodput is None and not req.steady_state:
        out.append("goodput")
    return out
