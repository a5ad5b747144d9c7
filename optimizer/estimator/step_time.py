"""Step time of one training plan: compute, tensor/context/pipeline/data/expert communication and the bubble.

Per step and device (1F1B pipeline with optional interleaving, Megatron-style tensor parallelism with sequence
parallelism, context, data and expert parallelism):

    t_comp    = Σ FLOPs_kind / (peak · GEMM efficiency(width, tokens per GEMM)) + non-GEMM time
    t_micro   = t_comp + exposed TP collectives + exposed CP ring + v · exposed p2p
    t_pipe    = (m + (pp − 1)/v) · t_micro                          (bubble, NARAYANAN)
    exposed   = schedule physics of the declared software stack (efficiency.yaml ``stacks``)
    t_step    = (t_pipe + exposed DP + exposed expert all-to-all + optimizer) · (1 + sync · log2(nodes/8))

Memory and the recompute that makes a plan fit come from :mod:`optimizer.estimator.memory`, collective times from
:mod:`optimizer.estimator.comm` (both shared with the serving estimator).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from optimizer.estimator.comm import all_to_all_s, allreduce_s, expert_copies, node_allreduce_s
from optimizer.estimator.memory import fit_recompute, params_per_device, training_state_bytes
from optimizer.estimator.shapes import ModelShape
from optimizer.estimator.training_context import TrainContext
from optimizer.estimator.training_types import MemoryBreakdown, Plan, Recompute, StepBreakdown


@dataclass(frozen=True)
class Evaluated:
    """A candidate turned into the reported plan, step breakdown and memory."""

    plan: Plan
    step: StepBreakdown
    memory: MemoryBreakdown
    block_eff: float


@dataclass(slots=True)
class Candidate:
    """One evaluated plan (plain floats: the search evaluates hundreds per estimate).

    Slotted and not frozen: frozen dataclasses build several times slower, and nothing mutates it.
    """

    tp: int
    pp: int
    dp: int
    cp: int
    ep: int
    zero: int
    recompute: float  # fraction of layers fully recomputed
    selective: bool
    mb: int
    m: int
    vpp: int
    step: float
    parts: tuple[float, ...]  # compute, tp, bubble, pp, dp, dp_exposed, a2a, opt, sync, cp
    mem: tuple[float, ...]  # weights, grads, optim, acts, overhead, total (bytes)
    block: float
    seqs_per_s: float  # training throughput in sequences per second (plans differ in batch and idle devices)


BATCH_TOLERANCE = 0.10
"""A plan must realise the global batch within this fraction: sequences per step are whole micro-batches on every
data-parallel replica, and rounding a 512-sequence batch onto 341 replicas (682 sequences) would credit the plan
with a third more work per step than the run does."""


def micro_batches(seqs: float, dp: int, mb: int) -> int | None:
    """Micro-batches per replica per step for a batch of ``seqs`` sequences (None: the replicas cannot carry it).

    They cannot when there are fewer sequences than replicas × micro-batch, or when whole micro-batches would change
    the batch by more than ``BATCH_TOLERANCE``.
    """
    if seqs < dp * mb:
        return None
    m = max(1, round(seqs / (dp * mb)))
    return m if abs(m * dp * mb - seqs) <= BATCH_TOLERANCE * seqs else None


def default_ep(s: ModelShape, dp: int) -> int:
    """Expert parallelism: the largest power of two ≤ dp, the expert count and 64."""
    cap = min(dp, s.experts, 64)
    return 1 << (max(cap, 1).bit_length() - 1)


def gemm_width(shape: ModelShape, tp: int) -> float:
    """Effective GEMM width for the efficiency model: hidden / tp^0.25 (assumption)."""
    return float(shape.d_model / tp**0.25)


def gemm_eff(c: TrainContext, width: float, tokens: float, scale: float) -> float:
    """GEMM efficiency at a width and tokens per GEMM (cached per accelerator profile)."""
    key = (width, tokens, scale)
    v = c.blocks.get(key)
    if v is None:
        v = min(c.eff.gemm_efficiency(width, c.acc, tokens) * scale, 0.95)
        c.blocks[key] = v
    return v


def dp_allreduce_s(c: TrainContext, nbytes: float, dp: int, local: int) -> float:
    """Node-level all-reduce of ``nbytes`` per device among ``dp`` replicas, ``local`` of them per node.

    Cached in the context: the plan search asks for the same (bytes, dp, local) once per micro-batch and ZeRO stage.
    """
    key = (nbytes, dp, local)
    v = c.comm_cache.get(key)
    if v is None:
        e = c.eff
        v = node_allreduce_s(nbytes, dp, local, intra_bw=c.intra_bw, nic_bw=c.nic_bw,
                             latency_intra=e.latency_intra_s, latency_inter=e.latency_inter_s)
        c.comm_cache[key] = v
    return v


def _compute_s(c: TrainContext, tp: int, pp: int, ep: int, tokens_dev: float, f: float, sel: bool,
               eff_scale: float, kappa: float | None) -> tuple[float, float, float]:
    """(compute seconds per micro-batch, block efficiency, attention seconds that can hide a CP ring)."""
    s = c.shape
    per_dev = tokens_dev / (tp * pp)
    f_exp = 6.0 * c.exp_params * per_dev
    f_lin = 6.0 * c.lin_params * per_dev - f_exp
    f_attn = c.attn_tok * per_dev
    r_lin = 1.0 + f / 3.0
    r_attn = r_lin + (1.0 / 3.0 if sel else 0.0) * (1 - f)
    e_d = gemm_eff(c, s.d_model / tp**0.25, tokens_dev, eff_scale)
    t = f_lin * r_lin / (e_d * c.lin_speed) + f_attn * r_attn / e_d
    if f_exp > 0:
        # Expert GEMMs (hidden × expert FFN) at their geometric-mean width and the tokens one expert receives
        # from its EP group: tokens·top_k·ep/experts (assumption: balanced routing; 0.7·hidden when the expert
        # width is unknown, assumption).
        width = math.sqrt(s.d_model * s.expert_ffn) if s.expert_ffn else 0.7 * s.d_model
        t += f_exp * r_lin / (gemm_eff(c, width / tp**0.25, tokens_dev * s.top_k * ep / s.experts, eff_scale)
                              * c.lin_speed)
    other = c.other if kappa is None else c.other * kappa / c.eff.kappa.value
    other_lin = c.other_lin + (other - c.other)
    peak = c.peaks.sixteen * 1e12
    t_comp = (t + (f_lin + f_exp) * r_lin * other_lin + f_attn * r_attn * other) / peak
    block = c.flops_per_token * per_dev / (t_comp * peak)
    return t_comp, block, f_attn * r_attn / (e_d * peak)


def _dp_exposed(c: TrainContext, ar: float, p_dev: float, zero: int, m: int, t_comp: float,
                layers_stage: int) -> tuple[float, float]:
    """(data-parallel traffic time, the part the stack's schedule leaves exposed)."""
    st = c.stack
    bucket = min(1.0, st.bucket_params / max(p_dev, 1.0))
    if zero >= 3:
        # ZeRO-3/FSDP: parameters gathered for forward and backward, gradients reduce-scattered, every micro-batch.
        per_mb = 1.5 * ar
        return m * per_mb, m * max(per_mb / max(layers_stage, 1), per_mb - st.prefetch * t_comp)
    if not st.grad_overlap:
        return ar, ar
    # Gradients reduce in buckets behind the last micro-batch's backward on this stage; the parameter all-gather
    # (distributed optimizer) behind the first micro-batch's forward.
    rs, ag = ar / 2, ar / 2
    window_b = t_comp * 2.0 / 3.0
    exp_rs = max(bucket * rs, rs - window_b)
    if zero == 0:
        return ar, max(bucket * ar, ar - window_b)
    exp_ag = max(bucket * ag, ag - t_comp / 3.0) if st.param_overlap else ag
    return ar, exp_rs + exp_ag


def evaluate(c: TrainContext, tp: int, pp: int, dp: int, zero: int, mb: int, batch_tokens: float, *,
             cp: int = 1, ep: int | None = None, recompute: float | None = None, selective: bool | None = None,
             vpps: tuple[int, ...] = (1,), eff_scale: float = 1.0, kappa: float | None = None) -> Candidate | None:
    """Evaluate one (tp, pp, dp, cp, ZeRO, micro-batch) plan.

    Chooses the cheapest recompute that fits memory (none, selective, then full on just enough layers) unless
    given, and the best interleaving among ``vpps``; returns None when the plan cannot fit or run.
    """
    s = c.shape
    e = c.eff
    st = c.stack
    m = micro_batches(batch_tokens / c.seq, dp, mb)
    if m is None:
        return None
    if ep is None:
        ep = default_ep(s, dp) if c.moe else 1
    # ---- memory: state under ZeRO, activations of the micro-batches in flight, the recompute that fits
    p_dev = params_per_device(s, tp=tp, pp=pp, ep=ep)
    w, g, o = training_state_bytes(p_dev, dp=dp, zero=zero, weight_bytes=c.weight_bytes,
                                   bytes_per_param=c.bytes_per_param)
    layers_stage = math.ceil(s.n_layers / pp)
    tokens_dev = mb * c.seq / cp  # tokens per GEMM (sequence parallelism all-gathers the TP shards)
    sbh = tokens_dev * s.d_model
    scores = 0.0 if st.flash else 5.0 * s.n_heads * c.seq / cp / s.d_model  # Korthikanti's 5as/h term
    logits = 4.0 * tokens_dev * s.vocab / tp
    fit = fit_recompute(fixed=w + g + o + logits, stored=layers_stage * min(pp, m),
                        act_none=(c.act_coef + scores) * sbh / tp, act_sel=c.act_coef * sbh / tp,
                        act_full=e.full_recompute_coefficient * sbh / tp, layers_stage=layers_stage,
                        cap=c.usable,
                        has_scores=scores > 0, recompute=recompute, selective=selective)
    if fit is None:
        return None
    f, sel, layer_acts = fit
    acts = layer_acts + logits
    t_comp, block, t_attn = _compute_s(c, tp, pp, ep, tokens_dev, f, sel, eff_scale, kappa)
    # ---- tensor parallelism: per layer 2 all-reduce volumes forward and 2 backward (1 each for parallel blocks)
    t_tp = 0.0
    if tp > 1:
        inside = tp <= c.node
        bw_dir = (c.intra_bw if inside else (c.nic_bw or c.intra_bw)) / 1e9
        coll = layers_stage * (1 if s.parallel_block else 2) * (2 + f)
        t_tp = coll * allreduce_s(sbh * 2.0, tp, bw_dir, e.latency_intra_s if inside else e.latency_inter_s) * (
            1 - st.tp_overlap)
    # ---- context parallelism: ring exchange of K and V (fwd, 2× bwd), hidden behind attention where possible
    t_cp = 0.0
    if cp > 1:
        kv = tokens_dev * s.n_kv_heads * (s.head_dim + s.v_head_dim) * 2.0 / tp
        bw = c.intra_bw if tp * cp <= c.node else (c.nic_bw or c.intra_bw)
        t_cp = max(0.0, layers_stage * 3 * (cp - 1) * kv / bw - t_attn)
    # ---- pipeline point-to-point: activations scattered over TP ranks, forward + backward per micro-batch
    pp_one = 0.0
    if pp > 1:
        # Megatron's rank order (tp, cp, dp innermost; pp outermost): the next stage is tp·cp·dp ranks away.
        cross = tp * cp * dp >= c.node and c.nic_bw is not None
        bw = (c.nic_bw or c.intra_bw) if cross else c.intra_bw
        lat = e.latency_inter_s if cross else e.latency_intra_s
        pp_one = 2 * (sbh * 2.0 / tp / bw + lat) * (1 - st.p2p_overlap)
    best_v, best_pipe, best_bubble = 1, 0.0, 0.0
    for v in vpps:
        t_micro = t_comp + t_tp + t_cp + v * pp_one
        bubble = (pp - 1) / v * t_micro  # interleaving divides the 1F1B bubble by v (NARAYANAN)
        pipe = m * t_micro + bubble
        if v == vpps[0] or pipe < best_pipe:
            best_v, best_pipe, best_bubble = v, pipe, bubble
    # ---- data parallelism at node level, exposed by the stack's schedule
    local = min(dp, max(1, c.node // (tp * cp))) if c.fabric else dp  # DP peers sharing a node
    t_dp, t_dp_exp = _dp_exposed(c, dp_allreduce_s(c, p_dev * 2.0, dp, local), p_dev, zero, m, t_comp,
                                 layers_stage)
    # ---- MoE all-to-all: bytes per token to the experts' ranks, on NVLink or the NIC by where they live
    t_a2a = 0.0
    if c.moe and ep > 1:
        k_local, k_remote = expert_copies(s.top_k, ep, min(ep, local if c.fabric else ep), s.max_nodes_per_token)
        per_layer = all_to_all_s(tokens_dev / tp, dispatch_bytes=s.d_model * (1.0 if c.precision == "fp8" else 2.0),
                                 combine_bytes=s.d_model * 2.0, k_local=k_local, k_remote=k_remote,
                                 local_bw=c.intra_bw, remote_bw=c.nic_bw or c.intra_bw)
        moe_layers = math.ceil(max(s.n_layers - s.dense_layers, 1) / pp)
        t_a2a = (1 - st.a2a_overlap) * m * moe_layers * 2 * per_layer  # forward and backward
    t_opt = p_dev * c.bytes_per_param * 2 / (dp if zero >= 1 else 1) / (c.hbm_tbps * 1e12)
    base = best_pipe + t_dp_exp + t_a2a + t_opt
    # Stragglers and jitter grow with the nodes that meet in each data-parallel collective.
    nodes = math.ceil(dp / local) if dp > 1 else 1
    sync = e.sync_overhead_per_doubling * math.log2(nodes / 8) if nodes > 8 else 0.0
    step = base * (1 + sync)
    used = w + g + o + acts
    over = used * e.memory_fragmentation + e.memory_overhead_gb * 1e9
    return Candidate(tp=tp, pp=pp, dp=dp, cp=cp, ep=ep, zero=zero, recompute=f, selective=sel, mb=mb, m=m,
                     vpp=best_v, step=step,
                     parts=(m * t_comp, m * t_tp, best_bubble, m * best_v * pp_one, t_dp, t_dp_exp, t_a2a, t_opt,
                            base * sync, m * t_cp),
                     mem=(w, g, o, acts, over, used + over), block=block, seqs_per_s=m * mb * dp / step)


def to_eval(c: TrainContext, cand: Candidate) -> Evaluated:
    """The reported plan, step breakdown and memory of a candidate."""
    gb = 1e9
    w, g, o, acts, over, total = cand.mem
    label: Recompute
    if cand.recompute >= 1:
        label = "full"
    elif cand.recompute > 0:
        label = "partial"
    else:
        label = "selective" if cand.selective else "none"
    plan = Plan(tp=cand.tp, pp=cand.pp, dp=cand.dp, ep=cand.ep, cp=cand.cp, zero_stage=cand.zero, recompute=label,
                recompute_fraction=round(cand.recompute, 4), micro_batch=cand.mb, num_microbatches=cand.m,
                virtual_stages=cand.vpp, global_batch_tokens=cand.m * cand.mb * cand.dp * c.seq,
                sequence_parallel=cand.tp > 1, stack=c.stack_name)
    p = cand.parts
    step = StepBreakdown(step_s=cand.step, compute_s=p[0], tp_comm_s=p[1], pipeline_bubble_s=p[2], pp_comm_s=p[3],
                         dp_comm_s=p[4], dp_comm_exposed_s=p[5], expert_comm_s=p[6], optimizer_s=p[7],
                         sync_overhead_s=p[8], cp_comm_s=p[9])
    mem = MemoryBreakdown(weights_gb=w / gb, gradients_gb=g / gb, optimizer_gb=o / gb, activations_gb=acts / gb,
                          overhead_gb=over / gb, total_gb=total / gb, capacity_gb=c.capacity_gb)
    return Evaluated(plan=plan, step=step, memory=mem, block_eff=cand.block)
