"""Serving physics: one engine step of a replica under continuous batching, from first principles.

A replica is ``tp × pp`` devices (tensor parallel inside a stage, pipeline stages in sequence). MoE models run
their experts either tensor-parallel with the rest (``moe_mode = "tp"``) or expert-parallel with data-parallel
attention (``"dep"``: each rank keeps its own sequences and whole KV heads, tokens travel to their experts by
all-to-all). One step advances every decoding sequence by a token and carries a chunk of prompt tokens
(``mixed_batching``) so that prefill keeps pace: ``prefill tokens = decode tokens × E[prompt] / E[output]``.

Per device and stage, each kernel is timed at the roofline of the bytes it must read and the FLOPs it must do:

    dense GEMMs   max(W_dense / BW, 2·N_dense·T / (peak_lin · e_gemm(width, T)))
    experts       max(W_touched / BW, 2·N_expert·k·T / (peak_lin · e_gemm(width, T·k/E)))
                  (touched experts = E·(1 − (1 − k/E)^T))
    LM head       max(W_head / BW, 2·V·h·samples / (peak16 · e))     16-bit, sampled tokens only
    decode attn   max(KV bytes / (BW · s_attn), FLOPs / (peak_attn · e_attn)),  KV = seqs · context · bytes/token
    prefill attn  2·H·(d_qk + d_v) · queries · keys / (peak_attn · e_attn)
    non-GEMM      activation bytes / BW                              norms, residuals, rotary, SwiGLU
    TP            2 all-reduces per layer of T·h·2 bytes;  DEP: dispatch + combine per MoE layer
    cycle         pp · (stage + p2p) + host overhead per step        (the PP bubble in decode)

BW is the measured decode bandwidth fraction of peak HBM (CAL-H200-DECODE); e_gemm the calibrated GEMM efficiency
at the layer's width and the tokens per GEMM (CAL-H200-TRAIN), scaled by the part's profile and the engine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from optimizer.catalog import Accelerator
from optimizer.estimator.comm import allreduce_s
from optimizer.estimator.efficiency import EfficiencyModel
from optimizer.estimator.engines import EngineProfile
from optimizer.estimator.lengths import Lengths
from optimizer.estimator.memory import kv_heads_per_device, paged_tokens
from optimizer.estimator.precision import ServingPeaks
from optimizer.estimator.queueing import expected_max_poisson
from optimizer.estimator.shapes import ModelShape

MoeMode = Literal["tp", "dep"]
ACT_H = 12.0
"""Non-GEMM activation traffic per token and layer in units of hidden × 2 bytes: RMSNorm twice (read + write),
two residual adds (2 reads + 1 write each), rotary on q and k (read + write) — assumption for fused kernels."""
ACT_F = 3.0
"""Same in units of FFN width × 2 bytes: the gated activation reads gate and up and writes one (assumption)."""


@dataclass(frozen=True)
class ServeModel:
    """Everything about the model, part and engine that no plan changes."""

    acc: Accelerator
    shape: ModelShape
    engine_name: str
    engine: EngineProfile
    eff: EfficiencyModel
    peaks: ServingPeaks
    precision: str
    kv_precision: str
    weight_bytes: float  # per quantised matmul weight
    kv_value_bytes: float
    capacity_gb: float
    hbm_tbps: float
    bw: float  # achieved HBM bytes/s in decode (peak × measured fraction)
    link_bw: float  # achieved per-direction intra-node link bytes/s (0: no fast link)
    nic_bw: float | None  # achieved scale-out bytes/s per accelerator
    node: int
    domain: int  # fast-link domain (largest tensor-parallel group)
    prompt: Lengths  # uncached prompt tokens per request
    prompt_full: Lengths  # whole prompt (attention reads the cached prefix too)
    output: Lengths
    prefix_hit: float
    peak_attn: float  # TFLOPS prefill attention runs at
    e_attn: float  # attention kernel efficiency (engine × profile)
    # parameter bookkeeping
    n_dense: float  # active dense matmul parameters per token, LM head and routed experts excluded
    n_expert_layer: float  # parameters of one routed expert in one layer
    moe_layers: int
    experts: int
    top_k: int
    n_head: float  # LM head (vocab × hidden)
    n_embed16: float  # parameters kept in 16 bits (embeddings and LM head)
    n_routed: float  # all routed-expert parameters
    pair_pre: float  # prefill attention FLOPs per (query, key) pair, all layers
    pair_dec: float  # decode attention FLOPs per (query, key) pair, all layers (MLA absorbed)


@dataclass(frozen=True)
class ServePlan:
    """A replica layout and the constants of its step time (precomputed: the search evaluates many steps)."""

    tp: int
    pp: int
    moe_mode: MoeMode
    devices: int
    weights_dev: float  # bytes per device
    kv_tok_dev: float  # KV bytes per token of context a device stores for a sequence it holds
    seq_share: float  # share of the replica's sequences one device holds (1 under TP, 1/tp under DEP)
    kv_budget_dev: float  # bytes per device left for the KV cache
    workspace_dev: float
    e_dense: float  # calibrated GEMM efficiency at the dense layers' effective width (profile scale included)
    e_expert: float
    e_head: float


def build_plan(m: ServeModel, tp: int, pp: int, moe_mode: MoeMode) -> ServePlan:
    """The memory layout of a replica (weights, KV per token, KV budget per device)."""
    s, e = m.shape, m.engine
    dep = moe_mode == "dep" and s.moe
    dense_w = m.n_dense * m.weight_bytes / (1 if dep else tp)
    routed_w = m.n_routed * m.weight_bytes / tp
    emb_w = m.n_embed16 * 2.0 / (1 if dep else tp)
    weights = (dense_w + routed_w + emb_w) / pp
    ffn_dev = s.ffn_width / (1 if dep else tp)
    workspace = (e.max_num_tokens / (tp if dep else 1) * (6.0 * s.d_model + 2.0 * ffn_dev) * 2.0
                 + min(e.max_batch, 4096) * s.vocab * 4.0 / tp)
    cap = m.capacity_gb * 1e9
    overhead = m.eff.memory_overhead_gb * 1e9
    if e.memory_basis == "free":
        budget = (cap - weights - workspace - overhead) * e.memory_fraction
    else:
        budget = cap * e.memory_fraction - weights - workspace - overhead
    if dep:
        kv_tok, share = s.kv_bytes_per_token(m.kv_value_bytes) / pp, 1.0 / tp
    else:
        kv_tok, share = s.kv_bytes_per_token(m.kv_value_bytes) * kv_heads_per_device(s, tp) / pp, 1.0
    gemm = m.eff.gemm_efficiency
    e_dense = gemm(s.d_model / (1 if dep else tp**0.25), m.acc)
    expert_width = math.sqrt(s.d_model * s.expert_ffn) if s.expert_ffn else 0.7 * s.d_model
    e_expert = gemm(expert_width / (1 if dep else tp**0.25), m.acc)
    return ServePlan(tp=tp, pp=pp, moe_mode="dep" if dep else "tp", devices=tp * pp, weights_dev=weights,
                     kv_tok_dev=kv_tok, seq_share=share, kv_budget_dev=budget, workspace_dev=workspace,
                     e_dense=e_dense, e_expert=e_expert, e_head=gemm(float(s.d_model), m.acc))


def tokens_per_sequence(m: ServeModel) -> float:
    """KV tokens one sequence occupies on average, for the engine's reservation policy and block size.

    ``full`` reserves prompt + output at admission (mean of the sum); ``on_demand`` holds the live context,
    whose average over a slot's lifetime is E[prompt] + E[output²] / (2·E[output]) (long outputs hold slots
    longer); both round up to whole blocks.
    """
    if m.engine.kv_reservation == "full":
        live = m.prompt.mean + m.output.mean
    else:
        live = m.prompt.mean + m.output.second_moment / (2.0 * m.output.mean)
    return paged_tokens(live, m.engine.kv_block_tokens)


def max_sequences(m: ServeModel, p: ServePlan) -> float:
    """Sequences the KV cache of one replica can hold at once (0 when the weights leave no room)."""
    if p.kv_budget_dev <= 0:
        return 0.0
    return p.kv_budget_dev / p.kv_tok_dev / tokens_per_sequence(m) / p.seq_share


def decode_context(m: ServeModel) -> float:
    """Keys a decoding token attends to, averaged over decode slot time: E[prompt] + E[output²]/(2·E[output])."""
    return m.prompt_full.mean + m.output.second_moment / (2.0 * m.output.mean)


def prefill_context(m: ServeModel) -> float:
    """Keys a prefill query attends to on average (causal, length-weighted, cached prefix included)."""
    return (1.0 + m.prefix_hit) / 2.0 * m.prompt_full.biased_mean


def roof(a: float, b: float) -> float:
    """Kernel time from its memory time ``a`` and compute time ``b``: sqrt(a² + b²).

    A soft roofline: far from the ridge it is the larger of the two, at the ridge √2 times either, since a kernel
    there neither streams at full bandwidth nor computes at full rate (assumption: the quadratic join; the plain
    max() would credit a kernel at the ridge with both limits at once).
    """
    return math.hypot(a, b)


def _gemm_e(m: ServeModel, e_width: float, tokens: float, low_precision: bool = True) -> float:
    """Calibrated GEMM efficiency at ``tokens`` per GEMM (the M dimension), for the precision and engine.

    The width efficiency is scaled by T / (T + T_half), normalised to the calibration's 8192 tokens
    (efficiency.yaml ``gemm_tokens``); low-precision GEMMs reach the measured FP8 share of their own peak.
    """
    eff = m.eff
    t0 = eff.gemm_half_tokens
    factor = (tokens / (tokens + t0)) / (eff.gemm_ref_tokens / (eff.gemm_ref_tokens + t0))
    e = min(max(e_width * factor, 0.03), eff.gemm_cap) * m.engine.gemm_scale
    return e * m.peaks.gemm_factor if low_precision else e


@dataclass(frozen=True)
class StepParts:
    """Seconds of one replica cycle by kind (one token for every decoding sequence)."""

    cycle: float
    dense: float
    experts: float
    head: float
    attention_decode: float
    attention_prefill: float
    other: float
    tp_comm: float
    ep_comm: float
    pp_comm: float
    overhead: float
    bubble: float


def stage_time(m: ServeModel, p: ServePlan, b_dec: float, b_pre: float, samples: float,
               parts: bool = False) -> tuple[float, tuple[float, ...]]:
    """Seconds one pipeline stage spends on a micro-batch of ``b_dec`` decode and ``b_pre`` prefill tokens.

    ``samples`` tokens go through the LM head (decode tokens and each prompt's last token). Returns the time and,
    with ``parts``, (dense, experts, head, decode attention, prefill attention, non-GEMM, TP comm, EP comm).
    """
    s = m.shape
    tp, pp = p.tp, p.pp
    dep = p.moe_mode == "dep"
    bw = m.bw
    tokens = b_dec + b_pre
    # Tokens on this device's attention side: under TP all of them (split by heads); under DEP the busiest rank's
    # own (the MoE all-to-all waits for it every layer).
    tok_rank = b_dec / tp + dep_straggler_prefill(m, tp, b_dec, b_pre) if dep else tokens
    # dense GEMMs: every device does 1/tp of the FLOPs (DEP: its rank's tokens); TP splits the weights, DEP
    # replicates them
    peak_lin = m.peaks.linear * 1e12
    tok_gemm = tok_rank
    w_dense = m.n_dense * m.weight_bytes / (1 if dep else tp) / pp
    f_dense = 2.0 * m.n_dense * (tok_rank if dep else tokens / tp) / pp
    t_dense = roof(w_dense / bw, f_dense / (peak_lin * _gemm_e(m, p.e_dense, max(tok_gemm, 1.0))))
    # routed experts: distinct experts touched by the micro-batch are read once
    t_exp = 0.0
    if m.moe_layers and m.experts > 1 and tokens > 0:
        touched = m.experts * (1.0 - (1.0 - m.top_k / m.experts) ** tokens)
        w_exp = m.moe_layers / pp * touched * m.n_expert_layer * m.weight_bytes / tp
        f_exp = 2.0 * m.moe_layers / pp * m.n_expert_layer * m.top_k * tokens / tp
        t_exp = roof(w_exp / bw, f_exp / (peak_lin * _gemm_e(m, p.e_expert, max(tokens * m.top_k / m.experts, 1.0))))
        if dep:
            t_exp *= m.eff.expert_imbalance  # the busiest expert rank sets the pace
    # LM head (16-bit, vocabulary split over tp) on the last stage; spread over the stages of the cycle
    peak16 = m.peaks.sixteen * 1e12
    t_head = roof(m.n_head * 2.0 / tp / bw,
                 2.0 * m.n_head * samples / tp / (peak16 * _gemm_e(m, p.e_head, max(samples, 1.0), False))) / pp
    # attention: decode reads the KV cache, prefill is compute-bound
    ctx_d = decode_context(m)
    kv_bytes = b_dec * p.seq_share * ctx_d * p.kv_tok_dev
    f_att_d = b_dec * ctx_d * m.pair_dec / tp / pp
    t_att_d = roof(kv_bytes / (bw * m.engine.attention_bw_scale), f_att_d / (m.peak_attn * 1e12 * m.e_attn))
    pre_dev = tok_rank - b_dec / tp if dep else b_pre / tp  # prefill queries on this device (DEP: whole heads)
    t_att_p = pre_dev * prefill_context(m) * m.pair_pre / pp / (m.peak_attn * 1e12 * m.e_attn)
    # non-GEMM activation traffic
    h = s.d_model
    tok_h = tok_rank  # tokens whose full hidden vector this device touches
    act = s.n_layers / pp * 2.0 * (ACT_H * h * tok_h + ACT_F * s.ffn_width * tokens / tp)
    if m.weight_bytes <= 1.0 and m.peaks.gemm_factor < 1.0:
        # W8A8/W4A4: every linear layer's input is quantised first (read 16-bit, write the narrow copy): the QKV
        # and gate/up inputs (full hidden), the attention output (hidden / tp) and the down-projection input
        # (FFN / tp), unless a fused norm+quant kernel does it (not assumed)
        out = m.weight_bytes
        act += s.n_layers / pp * (2.0 + out) * ((2.0 * h) * tok_h + (h + s.ffn_width) * tokens / tp)
    t_other = act / bw
    # communication inside the stage
    t_tp = t_ep = 0.0
    if tp > 1:
        lat = m.engine.allreduce_latency_us * 1e-6
        inside = tp <= m.node and m.link_bw > 0
        link = m.link_bw if inside else (m.nic_bw or m.link_bw or 16e9)
        if not dep:
            t_tp = 2.0 * s.n_layers / pp * (allreduce_s(tokens * h * 2.0, tp, link / 1e9, 0.0) + lat)
        else:
            disp = h * (1.0 if m.weight_bytes <= 1.0 else 2.0)
            per_rank = tok_rank * m.top_k * (tp - 1) / tp  # the busiest rank's tokens leave last
            t_ep = m.moe_layers / pp * (per_rank * m.eff.expert_imbalance * (disp + 2.0 * h) / link + 2.0 * lat)
    t = t_dense + t_exp + t_head + t_att_d + t_att_p + t_other + t_tp + t_ep
    if not parts:
        return t, ()
    return t, (t_dense, t_exp, t_head, t_att_d, t_att_p, t_other, t_tp, t_ep)


def dep_straggler_prefill(m: ServeModel, ranks: int, b_dec: float, b_pre: float) -> float:
    """Prefill tokens on the busiest of ``ranks`` data-parallel attention ranks in one step.

    Each rank admits whole prompts on its own, ``b_pre / prompt`` of them per step spread at random over the ranks
    (Poisson), so the busiest rank holds E[max of ``ranks`` Poisson counts] prompts, within its token budget.
    With the engine's balancer (``attention_dp_balance``) the ranks take prompts together: the mean.
    """
    mean = b_pre / ranks
    if ranks <= 1 or b_pre <= 0 or m.engine.attention_dp_balance:
        return mean
    prompt = max(m.prompt.mean, 1.0)
    busiest = expected_max_poisson(b_pre / prompt / ranks, ranks) * prompt
    room = m.engine.max_num_tokens - b_dec / ranks
    return max(mean, min(busiest, room))


def cycle_time(m: ServeModel, p: ServePlan, n_dec: float) -> float:
    """Seconds between two tokens of a decoding sequence with ``n_dec`` sequences decoding in the replica."""
    return cycle_parts(m, p, n_dec, parts=False).cycle


def cycle_parts(m: ServeModel, p: ServePlan, n_dec: float, *, parts: bool = True) -> StepParts:
    """One cycle (every decoding sequence advances a token) and, with ``parts``, where its time goes.

    Pipeline: ``mb = min(pp, n_dec)`` micro-batches circulate; a micro-batch returns after ``pp`` stage times
    plus ``pp`` stage-boundary sends, and the host's per-step work. With fewer micro-batches than stages the
    stages idle (the decode bubble). Prefill runs in the same steps (mixed batching) or in its own steps.
    """
    e = m.engine
    n_dec = max(n_dec, 1e-9)
    rho = m.prompt.mean / m.output.mean  # prompt tokens to prefill per decoded token (steady state)
    mb = max(1.0, min(float(p.pp), math.floor(n_dec))) if p.pp > 1 else 1.0
    b_dec = n_dec / mb
    requests = n_dec / m.output.mean  # prompts completing per cycle
    overhead = e.step_overhead_ms * 1e-3
    p2p = 0.0
    if p.pp > 1:
        link = m.link_bw if (p.tp * p.pp <= m.node and m.link_bw > 0) else (m.nic_bw or m.link_bw or 16e9)
        p2p = (b_dec * (1.0 + (rho if e.mixed_batching else 0.0))) * m.shape.d_model * 2.0 / p.tp / link + 5e-6
    if e.mixed_batching:
        t_s, pr = stage_time(m, p, b_dec, b_dec * rho, (n_dec + requests) / mb, parts)
        gpu = p.pp * (t_s + p2p)
        t_pre_extra = 0.0
    else:
        t_s, pr = stage_time(m, p, b_dec, 0.0, n_dec / mb, parts)
        chunk = float(e.max_num_tokens)
        t_chunk, _ = stage_time(m, p, 0.0, chunk / p.pp, chunk / max(m.prompt.mean, 1.0) / p.pp)
        t_pre_extra = n_dec * rho / chunk * (p.pp * t_chunk + overhead)
        gpu = p.pp * (t_s + p2p) + t_pre_extra
    # Host work per step: fixed, plus per running sequence (each attention-DP rank runs its own scheduler).
    host = e.host_us_per_sequence * 1e-6 * n_dec * p.seq_share
    cycle = (max(gpu, host) if e.host_overlap else gpu + host) + overhead
    if not parts:
        return StepParts(cycle, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    kinds = [x * mb for x in pr]  # every stage runs each micro-batch once per cycle; per-device busy time
    kinds[4] += t_pre_extra
    exposed_host = cycle - overhead - gpu
    return StepParts(cycle=cycle, dense=kinds[0], experts=kinds[1], head=kinds[2], attention_decode=kinds[3],
                     attention_prefill=kinds[4], other=kinds[5], tp_comm=kinds[6], ep_comm=kinds[7],
                     pp_comm=p.pp * p2p, overhead=overhead + exposed_host, bubble=(p.pp - mb) * t_s)


def prefill_latency(m: ServeModel, p: ServePlan, prompt_tokens: float, n_dec: float,
                    cycle: float | None = None) -> float:
    """Seconds to prefill one prompt of ``prompt_tokens`` uncached tokens while ``n_dec`` sequences decode.

    Mixed batching gives each step the token budget left after the decode tokens, so the prompt takes
    ⌈tokens / budget⌉ cycles; separate prefill runs the prompt through every stage in one prefill step.
    ``cycle`` is the step time at ``n_dec`` when the caller has it.
    """
    e = m.engine
    if e.mixed_batching:
        budget = max(e.max_num_tokens - n_dec, e.max_num_tokens / 8.0)
        steps = max(1.0, math.ceil(prompt_tokens / budget))
        return steps * (cycle if cycle is not None else cycle_time(m, p, max(n_dec, 1.0)))
    t_s, _ = stage_time(m, p, 0.0, prompt_tokens, 1.0)
    return p.pp * t_s + e.step_overhead_ms * 1e-3
