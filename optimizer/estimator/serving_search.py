"""Serving plan search: replica layouts × batch caps, sized against the request rate and the latency limits.

For each layout the batch a replica may hold is capped by its KV cache, the engine's batch and step budget, and
the TPOT limit (the largest batch whose cycle meets it); the rate it sustains is then capped by the TTFT limit at
the latency basis, with ``replicas`` load-balanced replicas forming an M/G/c admission queue
(:mod:`optimizer.estimator.queueing`). A rate is met with the fewest accelerators; without one, the layout with
the most output tokens per accelerator is reported.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

from optimizer.catalog import Catalog
from optimizer.errors import InvalidInputError
from optimizer.estimator.common import Assumption, choose_fabric, node_size, require
from optimizer.estimator.efficiency import load_efficiency
from optimizer.estimator.engines import load_engines
from optimizer.estimator.inference import InferenceEstimate, InferenceRequest, ServingStep
from optimizer.estimator.lengths import Lengths, from_histogram, from_mean
from optimizer.estimator.models import model_preset
from optimizer.estimator.precision import KV_BYTES, WEIGHT_BYTES, check_kv_precision, serving_peaks
from optimizer.estimator.queueing import mean_wait, occupancy_quantile, quantile_of, wait_quantile
from optimizer.estimator.serving import (
    MoeMode,
    ServeModel,
    ServePlan,
    build_plan,
    cycle_parts,
    cycle_time,
    decode_context,
    max_sequences,
    prefill_latency,
    tokens_per_sequence,
)
from optimizer.estimator.shapes import ModelShape, infer_shape

_TP_MENU = (1, 2, 4, 8, 16, 32, 64)
_PP_MENU = (1, 2, 4, 8)
_MAX_REPLICAS = 1_000_000


def _lengths(mean: int, std: float | None, hist: tuple[tuple[float, float], ...] | None) -> Lengths:
    if hist is not None:
        return from_histogram(list(hist))
    return from_mean(float(mean), std or 0.0)


def _shape(req: InferenceRequest) -> ModelShape:
    if req.model is not None:
        preset = model_preset(req.model)
        given = (("n_layers", req.n_layers, preset.layers), ("d_model", req.d_model, preset.hidden),
                 ("n_kv_heads", req.n_kv_heads, preset.kv_heads))
        over = {k: v for k, v, own in given if v is not None and v != own}
        shape = preset.shape()
        return shape.model_copy(update=over) if over else shape
    return infer_shape(req.params, active_params=req.active_params, n_layers=req.n_layers, d_model=req.d_model,
                       n_kv_heads=req.n_kv_heads)


def build_model(catalog: Catalog, req: InferenceRequest) -> ServeModel:
    """The plan-independent serving context of a request.

    Raises:
        UnknownSkuError, UnsupportedPrecisionError, InvalidInputError: bad input.
    """
    eff = load_efficiency()
    acc = catalog.accelerator(req.accelerator)
    engine_name, engine = load_engines().for_accelerator(acc, req.engine)
    over: dict[str, object] = {}
    if req.max_batch is not None:
        over["max_batch"] = req.max_batch
    if req.max_num_tokens is not None:
        over["max_num_tokens"] = req.max_num_tokens
    if req.chunked_prefill is not None:
        over["mixed_batching"] = req.chunked_prefill
    if req.memory_fraction is not None:
        over["memory_fraction"] = req.memory_fraction
    if req.attention_dp_balance is not None:
        over["attention_dp_balance"] = req.attention_dp_balance
    if over:
        engine = engine.model_copy(update=over)
    peaks = serving_peaks(acc, req.precision, eff)
    kv = req.kv_precision or ("fp16" if req.precision == "fp16" else "bf16")
    check_kv_precision(acc, kv)
    capacity = require(acc, "memory_gb", "memory capacity")
    hbm = require(acc, "memory_bandwidth_tbps", "memory bandwidth")
    shape = _shape(req)
    prompt_full = _lengths(req.prompt_tokens, req.prompt_tokens_std, req.prompt_histogram)
    output = _lengths(req.output_tokens, req.output_tokens_std, req.output_histogram)
    link = acc.intra_node_link_gbps.value
    node = node_size(catalog, acc)
    fabric = choose_fabric(catalog, acc, fabric=None, buyer_country=None,
                           era_default=eff.default_fabrics.get(eff.profile_name(acc)))
    prof = eff.profile(acc)
    # An FP8 KV cache runs the context FMHA in FP8; an NVFP4 cache is dequantised to FP8 before attention (NVIDIA,
    # developer blog 2025-12-08, https://developer.nvidia.com/blog/?p=109878), so it gets the same rate; INT8 KV runs
    # attention in 16 bits.
    fp8_attn = engine.fp8_context_attention and kv in ("fp8", "fp4") and acc.dense.fp8.value is not None
    h, layers = shape.d_model, shape.n_layers
    n_head = float(shape.vocab * h)
    if shape.moe:
        moe_layers = max(layers - shape.dense_layers, 1)
        if shape.expert_ffn:
            n_exp_layer = (3.0 if shape.gated else 2.0) * h * shape.expert_ffn
            n_routed = moe_layers * shape.experts * n_exp_layer
        else:
            active_exp = shape.expert_matmul_params_per_token()
            n_routed = shape.params - shape.active_params + active_exp
            n_exp_layer = n_routed / (shape.experts * moe_layers)
        n_exp_active = moe_layers * shape.top_k * n_exp_layer
    else:
        moe_layers, n_exp_layer, n_routed, n_exp_active = 0, 0.0, 0.0, 0.0
    n_dense = max(shape.matmul_params_per_token - n_head - n_exp_active, 0.0)
    n_embed16 = max(shape.params - n_routed - n_dense, n_head)
    heads = shape.n_heads
    pair_pre = 2.0 * layers * heads * (shape.head_dim + shape.v_head_dim)
    if shape.attention == "mla" and shape.kv_lora_rank:
        pair_dec = 2.0 * layers * heads * (2.0 * shape.kv_lora_rank + (shape.qk_rope_dim or 0))
    else:
        pair_dec = pair_pre
    return ServeModel(
        acc=acc, shape=shape, engine_name=engine_name, engine=engine, eff=eff, peaks=peaks, precision=req.precision,
        kv_precision=kv, weight_bytes=WEIGHT_BYTES[req.precision], kv_value_bytes=KV_BYTES[kv], capacity_gb=capacity,
        hbm_tbps=hbm, bw=hbm * 1e12 * eff.decode_bandwidth.value,
        link_bw=(link / 2.0 * eff.link_efficiency * 1e9) if link else 0.0,
        nic_bw=(fabric.gbit_per_accelerator / 8.0 * eff.fabric_efficiency.get(fabric.kind, 0.75) * 1e9)
        if fabric else None,
        node=node, domain=min(acc.intra_node_domain, node) if link else 1,
        prompt=prompt_full.scaled(1.0 - req.prefix_cache_hit), prompt_full=prompt_full, output=output,
        prefix_hit=req.prefix_cache_hit,
        peak_attn=float(acc.dense.fp8.value or peaks.sixteen) if fp8_attn else peaks.sixteen,
        e_attn=engine.prefill_attention_efficiency * prof.gemm_scale,
        n_dense=n_dense, n_expert_layer=n_exp_layer, moe_layers=moe_layers, experts=shape.experts,
        top_k=shape.top_k, n_head=n_head, n_embed16=n_embed16, n_routed=n_routed, pair_pre=pair_pre,
        pair_dec=pair_dec,
    )


@dataclass
class Outcome:
    """One layout at one batch cap, at its operating point."""

    plan: ServePlan
    b_mem: float
    b_cap: int
    limited_by: str
    mu: float  # requests/s one replica completes at the batch cap
    replicas: int
    rate: float  # planned (or sustainable) total rate
    capacity: float  # sustainable total rate at the limits
    own: float  # prefill latency of a mean prompt
    own_q: float  # prefill latency of a prompt at the basis quantile
    cs2: float  # service-time spread


def _service_cv2(m: ServeModel, p: ServePlan, b_cap: int, cyc: float) -> float:
    """Squared coefficient of variation of a request's work: prompt tokens and output tokens at their costs."""
    per_out = cyc / b_cap
    per_in = 2.0 * (m.n_dense + m.n_expert_layer * m.moe_layers * m.top_k) / (
        p.devices * m.peaks.linear * 1e12 * max(p.e_dense * m.peaks.gemm_factor, 0.05))
    var = per_in**2 * max(m.prompt.second_moment - m.prompt.mean**2, 0.0) + per_out**2 * max(
        m.output.second_moment - m.output.mean**2, 0.0)
    mean = per_in * m.prompt.mean + per_out * m.output.mean
    return var / (mean * mean)


def _ttft(q: float | None, *, slots: int, rate: float, mu: float, cs2: float, own: float) -> float:
    """Time to first token at ``rate`` requests/s on one replica of ``slots`` batch slots.

    The replica completes ``mu`` requests/s at full load; the answer is the admission wait (M/G/c over the slots)
    plus the prefill of the request's own prompt.
    """
    per_slot = mu / slots
    if q is None:
        return mean_wait(servers=slots, rate=rate, mu=per_slot, cs2=cs2) + own
    return wait_quantile(q, servers=slots, rate=rate, mu=per_slot, cs2=cs2) + own


def _replica_rate(req: InferenceRequest, q: float | None, slots: int, mu: float, cs2: float, own: float) -> float:
    """Largest rate one replica sustains within the TTFT limit and the utilisation ceiling (requests/s)."""
    top = mu * req.target_utilisation
    if req.ttft_s is None:
        return top
    budget = req.ttft_s - own
    if budget <= 0:
        return 0.0
    if _ttft(q, slots=slots, rate=top, mu=mu, cs2=cs2, own=own) <= req.ttft_s:
        return top
    lo, hi = 0.0, top
    for _ in range(30):
        mid = (lo + hi) / 2
        if _ttft(q, slots=slots, rate=mid, mu=mu, cs2=cs2, own=own) <= req.ttft_s:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-3 * top:
            break
    return lo


_GRID = tuple(sorted({max(1, round(2 ** (k / 16))) for k in range(0, 321)}))
"""Batch caps tried under a TTFT limit: a fixed geometric grid (ratio 2^(1/16), at most 4.4 % apart), the same for
every request, so a tighter limit or a wider KV cache only removes candidates and never raises the capacity."""


def _batch_caps(m: ServeModel, p: ServePlan, req: InferenceRequest) -> tuple[float, int, str, str | None]:
    """(sequences memory holds, batch cap, what caps it, why it fails or None)."""
    b_mem = max_sequences(m, p)
    if b_mem < 1:
        return b_mem, 0, "memory", "no room for one sequence's KV cache"
    dep = p.moe_mode == "dep"
    caps = [(b_mem, "memory"), (float(m.engine.max_batch * (p.tp if dep and req.max_batch is None else 1)),
                                "engine batch")]
    if m.engine.mixed_batching:
        rho = m.prompt.mean / m.output.mean
        caps.append((m.engine.max_num_tokens * (p.tp if dep else 1) / (1.0 + rho), "step token budget"))
    value, why = min(caps)
    b_max = max(1, int(math.floor(value)))
    if req.tpot_s is not None and cycle_time(m, p, 1.0) > req.tpot_s:
        return b_mem, 0, "TPOT limit", (f"one sequence alone takes {cycle_time(m, p, 1.0) * 1e3:.1f} ms per token "
                                        f"(limit {req.tpot_s * 1e3:g} ms)")
    return b_mem, b_max, why, None


def _largest_within_tpot(m: ServeModel, p: ServePlan, b_max: int, tpot: float) -> int:
    """The largest batch up to ``b_max`` whose step meets the TPOT limit (the step time rises with the batch)."""
    if cycle_time(m, p, float(b_max)) <= tpot:
        return b_max
    lo, hi = 1, b_max
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if cycle_time(m, p, float(mid)) <= tpot:
            lo = mid
        else:
            hi = mid
    return lo


def _operating(m: ServeModel, p: ServePlan, b_cap: int, rate: float, servers: int, cs2: float, mu: float,
               own99: float, own: float) -> tuple[dict[str, float], dict[str, float], float]:
    """Latency percentiles and mean decoding batch at a total ``rate`` over ``servers`` replicas."""
    lam = rate / servers
    # Little's law: decoding sequences b = rate × output tokens × time per token(b); b/cycle(b) rises with b, so
    # the fixed point below the cap is found by bisection (at or above capacity the replica runs at its cap).
    if lam >= mu * 0.9999:
        b = float(b_cap)
    else:
        lo, hi = 0.0, float(b_cap)
        for _ in range(30):
            mid = (lo + hi) / 2
            if lam * m.output.mean * cycle_time(m, p, max(mid, 1.0)) > mid:
                lo = mid
            else:
                hi = mid
            if hi - lo < 0.01:
                break
        b = hi
    tpot = {"p50": cycle_time(m, p, max(b, 1.0)), "mean": cycle_time(m, p, max(b, 1.0))}
    for name, q in (("p90", 0.9), ("p99", 0.99)):
        tpot[name] = cycle_time(m, p, max(1.0, min(float(b_cap), occupancy_quantile(b, q))))
    ttft = {"mean": _ttft(None, slots=b_cap, rate=lam, mu=mu, cs2=cs2, own=own)}
    for name, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99)):
        ttft[name] = _ttft(q, slots=b_cap, rate=lam, mu=mu, cs2=cs2, own=own99 if q > 0.5 else own)
    return ttft, tpot, b


def evaluate_plan(m: ServeModel, p: ServePlan, req: InferenceRequest) -> Outcome | str:
    """The best batch cap of one layout for the request, or why the layout cannot serve it.

    Without a TTFT limit the largest admissible batch is best (a replica's rate rises with its batch); with one,
    a smaller batch may prefill sooner, so the caps of a fixed grid up to the admissible batch are compared.
    """
    b_mem, b_max, why, fail = _batch_caps(m, p, req)
    if fail is not None:
        return fail
    q = None if req.latency_basis == "mean" else quantile_of(req.latency_basis)
    prompt_q = m.prompt.p99 if (q or 0.5) > 0.5 else m.prompt.mean
    if req.ttft_s is None:
        # The rate rises with the batch: the largest batch within the TPOT limit is best.
        top = b_max if req.tpot_s is None else _largest_within_tpot(m, p, b_max, req.tpot_s)
        caps = [top]
        why = why if top == b_max else "TPOT limit"
    else:
        top = b_max if req.tpot_s is None else _largest_within_tpot(m, p, b_max, req.tpot_s)
        why = why if top == b_max else "TPOT limit"
        caps = list(_GRID[:bisect.bisect_right(_GRID, top)][::-1])
    best: Outcome | None = None
    reason = ""
    rates: dict[int, float] = {}

    def rate_at(b_cap: int) -> float:
        nonlocal best, reason
        if b_cap in rates:
            return rates[b_cap]
        cyc = cycle_time(m, p, float(b_cap))
        own_q = prefill_latency(m, p, prompt_q, float(b_cap), cyc)
        rates[b_cap] = 0.0
        if req.ttft_s is not None and own_q > req.ttft_s:
            reason = (f"prefilling one {prompt_q:,.0f}-token prompt takes {own_q:.2f} s alone "
                      f"(limit {req.ttft_s:g} s)")
            return 0.0
        own = prefill_latency(m, p, m.prompt.mean, float(b_cap), cyc) if prompt_q != m.prompt.mean else own_q
        # A slot is held from admission through prefill to the last output token.
        mu = b_cap / (own + m.output.mean * cyc)
        cs2 = _service_cv2(m, p, b_cap, cyc)
        per_replica = _replica_rate(req, q, b_cap, mu, cs2, own_q)
        rates[b_cap] = per_replica
        if per_replica <= 0:
            reason = "no load meets the TTFT limit"
            return 0.0
        if best is not None and per_replica <= best.capacity / best.replicas:
            return per_replica
        if req.requests_per_s is not None:
            n = min(_MAX_REPLICAS, max(1, math.ceil(req.requests_per_s / per_replica * (1 - 1e-9))))
            rate = req.requests_per_s
        else:
            n = max(1, (req.count or p.devices) // p.devices)
            rate = per_replica * n
        best = Outcome(plan=p, b_mem=b_mem, b_cap=b_cap, limited_by=why if b_cap == caps[0] else "TTFT limit",
                       mu=mu, replicas=n, rate=rate, capacity=per_replica * n, own=own, own_q=own_q, cs2=cs2)
        return per_replica

    # Coarse pass (every 8th grid point, ratio √2) from the top while the rate holds up, then the fine grid
    # around the best coarse point: the rate rises with the batch until the prompt's own prefill eats the TTFT.
    # Coarse points sit on fixed grid indices (every 8th from the bottom, plus the top), so a larger admissible
    # batch only adds points above: a wider KV cache or a looser limit cannot move the search off a better peak.
    top_index = len(caps) - 1
    coarse = [0] + [i for i in range(1, len(caps)) if (top_index - i) % 8 == 0]
    peak = 0
    for i in coarse:
        r = rate_at(caps[i])
        if r > rate_at(caps[peak]):
            peak = i
        elif r < 0.8 * rate_at(caps[peak]) and rate_at(caps[peak]) > 0:
            break
    for b_cap in caps[max(0, peak - 8):peak + 9]:
        rate_at(b_cap)
    return best if best is not None else (reason or "latency limits unmet")


def _better(req: InferenceRequest, a: Outcome, b: Outcome) -> bool:
    if req.requests_per_s is not None:
        return (a.replicas * a.plan.devices, -a.capacity) < (b.replicas * b.plan.devices, -b.capacity)
    return a.capacity / (a.replicas * a.plan.devices) > b.capacity / (b.replicas * b.plan.devices) * 1.0001


def _cannot_beat(m: ServeModel, p: ServePlan, req: InferenceRequest, best: Outcome) -> bool:
    """True when this layout cannot beat ``best``, so its batch-cap search can be skipped.

    The bound is the decode rate at the largest admissible batch with no prefill, queueing or latency limit:
    b / cycle(b) never falls as the batch grows (every step term is affine or a soft roofline in the batch), so no
    batch cap of the layout does better.
    """
    _, b_max, _, fail = _batch_caps(m, p, req)
    if fail is not None or b_max < 1:
        return True
    bound = b_max / (m.output.mean * cycle_time(m, p, float(b_max))) * req.target_utilisation
    if req.requests_per_s is not None:
        n = min(_MAX_REPLICAS, max(1, math.ceil(req.requests_per_s / bound * (1 - 1e-9))))
        return n * p.devices > best.replicas * best.plan.devices
    return bound / p.devices <= best.capacity / (best.replicas * best.plan.devices) * 1.0001


def _layouts(m: ServeModel, req: InferenceRequest) -> list[tuple[int, int, MoeMode]]:
    """Replica layouts to try: TP inside the fast-link domain, PP when needed, TP or DEP experts for MoE."""
    s = m.shape
    ep_dep = req.ep is not None and req.ep > 1
    if req.tp is not None:
        if req.tp > max(m.domain, 1) and m.link_bw > 0 and req.tp > m.node:
            raise InvalidInputError(f"tp {req.tp} exceeds {m.acc.id}'s fast-link domain of {m.domain}")
        tps = [req.tp]
    elif ep_dep:
        tps = [req.ep or 1]
    else:
        tps = [t for t in _TP_MENU if t <= m.domain]
    if req.pp is not None:
        pps = [req.pp]
    else:
        slow_link = m.link_bw < 100e9
        top = max(tps)
        p_top = build_plan(m, top, 1, "tp")
        pps = [1] + ([2, 4, 8] if slow_link or max_sequences(m, p_top) < 1 else [])
    modes: list[MoeMode] = ["tp"]
    if s.moe:
        modes = ["dep"] if ep_dep else (["tp"] if req.ep == 1 else ["tp", "dep"])
    return [(t, pp, mode) for t in tps for pp in pps for mode in modes
            if t * pp <= 64 and not (mode == "dep" and t == 1 and len(modes) > 1)]


def run_estimate(catalog: Catalog, req: InferenceRequest) -> InferenceEstimate:
    """Estimate a serving deployment: see the module docstring.

    Raises:
        UnknownSkuError, UnsupportedPrecisionError, InvalidInputError: bad input.
    """
    m = build_model(catalog, req)
    layouts = _layouts(m, req)
    if req.count is not None and all(t * pp > req.count for t, pp, _ in layouts):
        raise InvalidInputError(f"count {req.count} is smaller than one replica of every layout tried "
                                f"(smallest {min(t * pp for t, pp, _ in layouts)} accelerators)")
    s = m.shape
    common: dict[str, object] = {
        "accelerator": m.acc.id, "weights_gb": _weights_bytes(m) / 1e9,
        "kv_bytes_per_token": s.kv_bytes_per_token(m.kv_value_bytes), "engine": m.engine_name,
        "precision": m.precision, "kv_precision": m.kv_precision, "latency_basis": req.latency_basis, "shape": s,
    }
    best: Outcome | None = None
    reasons: list[str] = []
    fit_any = False
    for t, pp, mode in layouts:
        if req.count is not None and t * pp > req.count:
            continue
        plan = build_plan(m, t, pp, mode)
        if max_sequences(m, plan) >= 1:
            fit_any = True
        if best is not None and _cannot_beat(m, plan, req, best):
            continue
        out = evaluate_plan(m, plan, req)
        if isinstance(out, str):
            reasons.append(f"TP{t}×PP{pp}{' DEP' if plan.moe_mode == 'dep' else ''}: {out}")
            continue
        if best is None or _better(req, out, best):
            best = out
    if not fit_any:
        biggest = max(t * pp for t, pp, _ in layouts)
        return InferenceEstimate(status="does_not_fit", message=(
            f"{_weights_bytes(m) / 1e9:.0f} GB of weights ({m.precision}) leave no room for a KV cache on up to "
            f"{biggest} × {m.acc.id} ({m.capacity_gb:.0f} GB each) with {m.engine_name}; use more devices per "
            "replica (--tp/--pp), a narrower precision or a part with more memory"), **common)  # type: ignore[arg-type]
    if best is None:
        limits = ", ".join(x for x in (f"TTFT ≤ {req.ttft_s:g}s" if req.ttft_s else "",
                                       f"TPOT ≤ {req.tpot_s * 1e3:g} ms" if req.tpot_s else "") if x)
        return InferenceEstimate(status="latency_unmet", message=(
            f"no layout meets {limits} ({req.latency_basis}) on {m.acc.id}: {reasons[0] if reasons else ''}"),
            **common)  # type: ignore[arg-type]
    return _estimate_from(m, req, best, common)


def _weights_bytes(m: ServeModel) -> float:
    return (m.n_dense + m.n_routed) * m.weight_bytes + m.n_embed16 * 2.0


def _estimate_from(m: ServeModel, req: InferenceRequest, o: Outcome, common: dict[str, object]) -> InferenceEstimate:
    p = o.plan
    basis = req.latency_basis
    ttft_all, tpot_all, b_bar = _operating(m, p, o.b_cap, o.rate, o.replicas, o.cs2, o.mu, o.own_q, o.own)
    per_replica = o.capacity / o.replicas
    devices = o.replicas * p.devices
    parts = cycle_parts(m, p, max(b_bar, 1.0))
    step = ServingStep(cycle_s=parts.cycle, dense_gemm_s=parts.dense, expert_gemm_s=parts.experts,
                       lm_head_s=parts.head, attention_decode_s=parts.attention_decode,
                       attention_prefill_s=parts.attention_prefill, other_s=parts.other, tp_comm_s=parts.tp_comm,
                       ep_comm_s=parts.ep_comm, pp_comm_s=parts.pp_comm, pipeline_bubble_s=parts.bubble,
                       host_overhead_s=parts.overhead)
    kv_used = b_bar * tokens_per_sequence(m) * p.kv_tok_dev * p.seq_share
    mem_dev = (p.weights_dev + kv_used + p.workspace_dev) / 1e9 + m.eff.memory_overhead_gb
    bytes_like = parts.attention_decode + parts.other
    bound = "decode memory-bandwidth-bound" if bytes_like + _weight_read_share(m, p, b_bar) > parts.cycle / 2 \
        else "decode compute-bound"
    dep = p.moe_mode == "dep" and m.shape.moe
    ttft, tpot = _finite(ttft_all[basis]), tpot_all[basis]
    util = o.rate / (o.replicas * o.mu) if o.mu > 0 else None
    msg = (f"{o.replicas} replica(s) × TP{p.tp}" + (f"×PP{p.pp}" if p.pp > 1 else "") + (" (DEP)" if dep else "")
           + f" = {devices} × {m.acc.id} on {m.engine_name}, {m.precision} weights / {m.kv_precision} KV; "
           f"batch {b_bar:.0f} (cap {o.b_cap}, {o.limited_by}), TTFT {basis} "
           + (f"{ttft:.2f}s" if ttft is not None else "unbounded at full load") + f", TPOT {basis} "
           f"{tpot * 1e3:.0f} ms, {o.capacity * m.output.mean / devices:,.0f} output tokens/s per accelerator")
    return InferenceEstimate(
        status="ok", message=msg, tp=p.tp, pp=p.pp, ep=p.tp if dep else 1, moe_mode=p.moe_mode if m.shape.moe else None,
        batch=round(b_bar), replicas=o.replicas, accelerators=devices, nodes=math.ceil(devices / m.node),
        ttft_s=ttft, tpot_s=tpot, ttft_p50_s=_finite(ttft_all["p50"]), ttft_p99_s=_finite(ttft_all["p99"]),
        tpot_p50_s=tpot_all["p50"], tpot_p99_s=tpot_all["p99"], prefill_s=o.own, requests_per_s_per_replica=per_replica,
        output_tokens_per_s_per_accelerator=o.capacity * m.output.mean / devices,
        kv_cache_gb_per_replica=b_bar * tokens_per_sequence(m) * m.shape.kv_bytes_per_token(m.kv_value_bytes) / 1e9,
        memory_per_device_gb=mem_dev, weights_gb_per_device=p.weights_dev / 1e9, bound=bound,
        max_batch=o.b_cap, max_sequences_memory=int(o.b_mem), requests_per_s_capacity=o.capacity,
        utilisation=util, limited_by=o.limited_by, step=step, assumptions=_assumptions(m, p),
        **common,  # type: ignore[arg-type]
    )


def _finite(x: float) -> float | None:
    """None for an unbounded latency (a queue at or above capacity)."""
    return x if math.isfinite(x) else None


def _weight_read_share(m: ServeModel, p: ServePlan, b: float) -> float:
    """Seconds per cycle spent reading dense weights when that read, not the GEMM FLOPs, bounds the kernel."""
    w = m.n_dense * m.weight_bytes / (1 if p.moe_mode == "dep" else p.tp) / p.pp
    flops_t = 2.0 * m.n_dense * b / p.tp / p.pp / (m.peaks.linear * 1e12 * max(p.e_dense * m.peaks.gemm_factor, 0.05))
    return p.pp * (w / m.bw if w / m.bw > flops_t else 0.0)


def _assumptions(m: ServeModel, p: ServePlan) -> list[Assumption]:
    e, eng, s = m.eff, m.engine, m.shape
    prov = eng.provenance
    return [
        Assumption(name="decode bandwidth", value=f"{e.decode_bandwidth.value:.2f} of peak HBM "
                   f"({m.hbm_tbps:g} TB/s)", source="measured 0.79-0.84 on an H200 decode layer (CAL-H200-DECODE)"),
        Assumption(name="GEMM efficiency", value=f"{p.e_dense:.3f} at the dense layers' width before the tokens "
                   f"factor; {m.precision} GEMMs × {m.peaks.gemm_factor:.2f} of the {m.peaks.linear_name} peak "
                   f"{m.peaks.linear:g} TFLOPS", source=f"CAL-H200-TRAIN; profile '{e.profile_name(m.acc)}': "
                   f"{e.profile(m.acc).note}"),
        Assumption(name="engine", value=f"{m.engine_name}: {eng.note}", source="engines.yaml: "
                   + "; ".join(f"{k}: {v}" for k, v in prov.items())),
        Assumption(name="weights", value=f"{m.precision}: {m.weight_bytes:g} bytes per matmul weight; embeddings "
                   "and LM head 16-bit", source="precision formats (NVFP4 scale per 16 values; INT4 group 128)"),
        Assumption(name="KV cache", value=f"{s.kv_bytes_per_token(m.kv_value_bytes) / 1e3:.1f} kB per token "
                   f"({m.kv_precision}), {eng.kv_block_tokens}-token blocks, {eng.kv_reservation} reservation, "
                   f"{eng.memory_fraction:.0%} of {eng.memory_basis} memory",
                   source="model shape; engine defaults (engines.yaml)"),
        Assumption(name="lengths", value=f"prompt mean {m.prompt_full.mean:,.0f} (p99 {m.prompt_full.p99:,.0f}), "
                   f"output mean {m.output.mean:,.0f}; decode context {decode_context(m):,.0f} tokens, prefix "
                   f"cache hit {m.prefix_hit:.0%}", source="request (a spread widens the p99 and the decode "
                   "context)"),
        Assumption(name="queueing", value="M/G/c admission over load-balanced replicas (Allen-Cunneen), decode "
                   "occupancy Poisson (M/G/∞) for the p99 TPOT", source="standard queueing approximations"),
    ]
