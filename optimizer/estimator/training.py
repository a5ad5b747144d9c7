"""Training estimator: FLOPs, memory under a sharding, a parallelism plan and its step time.

Per step and device (1F1B pipeline with optional interleaving, Megatron-style tensor parallelism with
sequence parallelism, context, data and expert parallelism), every term from first principles:

    t_comp    = Σ FLOPs_kind / (peak · GEMM efficiency(width, tokens per GEMM)) + non-GEMM time
    t_micro   = t_comp + exposed TP collectives (NVLink latency per ring step) + exposed p2p
    t_pipe    = (m + (pp − 1)/v) · t_micro                          (bubble, NARAYANAN)
    t_dp      = node-level collective (ranks ordered tp, cp, dp, pp as Megatron does, so node/(tp·cp) replicas
                share a node): reduce-scatter among the node's replicas on NVLink, then the
                inter-node ring on 1/local of the bytes per NIC (all the node's NICs share it), then all-gather
    exposed   = schedule physics of the declared software stack (efficiency.yaml ``stacks``)
    t_step    = (t_pipe + exposed DP + exposed expert all-to-all + optimizer) · (1 + sync · log2(nodes/8))

Hours = tokens / (tokens per step / t_step) / goodput · count, goodput modelled from failures × scale ×
restart cost plus a checkpoint/eval share (or 1 for a steady-state figure). The plan (tp ≤ fast-link domain,
pp, cp, ZeRO stage, recompute none/selective/full, micro-batch, interleaving) is searched for the highest
throughput that fits in memory; anything the user fixes is kept.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from optimizer.catalog import Accelerator, Catalog
from optimizer.errors import InvalidInputError
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
from optimizer.estimator.efficiency import EfficiencyModel, Stack, load_efficiency
from optimizer.estimator.models import model_preset
from optimizer.estimator.shapes import ModelShape, infer_shape

Recompute = Literal["none", "selective", "partial", "full"]
StackName = Literal["megatron-2021", "megatron-core", "fsdp", "deepspeed-zero3", "mindspeed"]
OptimizerName = Literal["adam", "lion", "lamb"]
_MAX_COUNT = 1_048_576
_DEFAULT_SEQ = 4096


class PlanChoice(BaseModel):
    """A parallelism plan fixed by the user (any field left out is searched)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tp: int | None = Field(None, ge=1, le=64)
    pp: int | None = Field(None, ge=1, le=512)
    dp: int | None = Field(None, ge=1, le=_MAX_COUNT)
    cp: int | None = Field(None, ge=1, le=64, description="Context parallelism (sequence split across devices).")
    ep: int | None = Field(None, ge=1, le=1024, description="Expert parallelism (MoE).")
    virtual_stages: int | None = Field(None, ge=1, le=16, description="Interleaved pipeline chunks per stage.")
    zero_stage: Literal[0, 1, 2, 3] | None = None
    recompute: Literal["none", "selective", "full"] | None = None
    micro_batch: int | None = Field(None, ge=1, le=64)


class TrainingRequest(BaseModel):
    """What to train, on what, with how many accelerators (or by when)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    params: float | None = Field(None, gt=0, description="Total parameters (or give `model`).")
    model: str | None = Field(None, min_length=1, max_length=80,
                              description="Model preset id or alias (e.g. qwen2.5-72b), case-insensitive.")
    active_params: float | None = Field(None, gt=0, description="Active parameters per token (MoE).")
    tokens: float = Field(gt=0, description="Training tokens.")
    accelerator: str = Field(min_length=1)
    count: int | None = Field(None, ge=1, le=_MAX_COUNT, description="Accelerators; omit to size for a deadline.")
    deadline_days: float | None = Field(None, gt=0, le=3650)
    precision: TrainPrecision = Field("bf16", description="bf16 (or fp16) mixed precision, or fp8 linear layers.")
    seq_len: int | None = Field(None, ge=128, le=1_048_576, description="Sequence length (default 4096).")
    global_batch_tokens: float | None = Field(None, gt=0)
    global_batch_seqs: int | None = Field(None, ge=1, description="Global batch in sequences (× seq_len tokens).")
    fabric: str | None = None
    fabric_gbit: float | None = Field(
        None, gt=0, le=100_000,
        description="Scale-out bandwidth per accelerator (Gb/s), or per NIC when nics_per_node is given.")
    nics_per_node: int | None = Field(None, ge=1, le=64, description="Scale-out NICs per node (with fabric_gbit).")
    buyer_country: str | None = None
    n_layers: int | None = Field(None, ge=1, le=1000)
    d_model: int | None = Field(None, ge=64, le=131072)
    n_heads: int | None = Field(None, ge=1, le=1024)
    n_kv_heads: int | None = Field(None, ge=1, le=1024)
    ffn: int | None = Field(None, ge=64, le=1_048_576, description="Dense FFN width.")
    gated: bool | None = Field(None, description="Gated (SwiGLU) FFN; default true for inferred shapes.")
    vocab: int | None = Field(None, ge=1000, le=2_000_000)
    experts: int | None = Field(None, ge=1, le=4096)
    window: int | None = Field(None, ge=1, le=1_048_576, description="Sliding-window attention span.")
    document_len: int | None = Field(None, ge=1, le=1_048_576,
                                     description="Mean document length when attention is masked per document.")
    top_k: int | None = Field(None, ge=1, le=64)
    goodput: float | None = Field(None, gt=0, le=1)
    steady_state: bool = Field(False, description="Report steady-state throughput: goodput 1 (no failures).")
    stack: StackName | None = Field(None, description="Software stack profile (overlap and attention kernel).")
    optimizer: OptimizerName = "adam"
    count_assumed: bool = Field(False, description="The count is a guess (e.g. not published): widen the range.")
    plan: PlanChoice | None = None

    @model_validator(mode="after")
    def _count_or_deadline(self) -> TrainingRequest:
        if self.count is None and self.deadline_days is None:
            raise ValueError("give an accelerator count or a deadline in days")
        if self.params is None and self.model is None:
            raise ValueError("give params or a model preset")
        if self.params is not None and self.active_params is not None and self.active_params > self.params:
            raise ValueError("active_params cannot exceed params")
        if self.global_batch_tokens is not None and self.global_batch_seqs is not None:
            raise ValueError("give the global batch in tokens or in sequences, not both")
        if self.nics_per_node is not None and self.fabric_gbit is None:
            raise ValueError("nics_per_node needs fabric_gbit (the bandwidth of one NIC)")
        return self


class Plan(BaseModel):
    """The chosen parallelism plan."""

    model_config = ConfigDict(frozen=True)

    tp: int
    pp: int
    dp: int
    ep: int
    cp: int = 1
    zero_stage: int
    recompute: Recompute
    recompute_fraction: float = Field(description="Share of layers whose activations are fully recomputed.")
    micro_batch: int
    num_microbatches: int
    virtual_stages: int = Field(description="Interleaved pipeline chunks per stage (1 = plain 1F1B).")
    global_batch_tokens: float
    sequence_parallel: bool
    stack: str = "megatron-core"


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
    cp_comm_s: float = 0.0


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


class RangeDriver(BaseModel):
    """One source of width in the predicted range, and how much it widens it."""

    model_config = ConfigDict(frozen=True)

    input: str
    low_factor: float = Field(description="Hours multiplier at the optimistic end of this input.")
    high_factor: float = Field(description="Hours multiplier at the pessimistic end of this input.")
    note: str


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
    goodput_basis: str = ""
    stack: str = ""
    seq_len: int = _DEFAULT_SEQ
    range_drivers: list[RangeDriver] = Field(default_factory=list)
    defaulted: list[str] = Field(default_factory=list, description="Inputs that were not given (defaults used).")
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
    stack_name: str
    stack: Stack
    seq: int
    capacity_gb: float
    hbm_tbps: float
    link_gbs_dir: float | None  # per direction, GB/s
    fast_domain: int
    node: int
    fabric: Fabric | None
    fabric_eff: float
    bytes_per_param: float
    lin_params: float  # active matmul parameters per token
    exp_params: float  # of which routed experts
    attn_tok: float  # attention FLOPs per token on the stack's kernel (fwd + bwd)
    flops_per_token: float  # model FLOPs: 6·N_active + causal attention
    attention_share: float
    other: float  # non-GEMM time per FLOP (units of 1/peak) for 16-bit work
    other_lin: float  # same for linear layers (fp8 adds casts)
    lin_speed: float  # fp8 GEMM speed-up on linear layers (1 for 16-bit)
    blocks: dict[tuple[float, ...], float]  # GEMM efficiency cache
    moe: bool = False
    act_coef: float = 34.0  # activation bytes / (seq·batch·hidden) per layer (Korthikanti, generalised)
    intra_bw: float = 0.0  # achieved per-direction bandwidth of the fast intra-node link (B/s)
    nic_bw: float | None = None  # achieved scale-out bandwidth per accelerator (B/s), None without a fabric

    def __post_init__(self) -> None:
        object.__setattr__(self, "moe", self.shape.moe)
        fp8_saved = self.precision == "fp8" and self.stack.fp8_saved_inputs  # 1-byte linear inputs (TE)
        object.__setattr__(self, "act_coef", self.shape.activation_coefficient()
                           - (self.shape.fp8_activation_saving() if fp8_saved else 0.0))
        object.__setattr__(self, "intra_bw", (self.link_gbs_dir or 16.0) * self.eff.link_efficiency * 1e9)
        object.__setattr__(self, "nic_bw", self.fabric.gbit_per_accelerator / 8.0 * self.fabric_eff * 1e9
                           if self.fabric else None)


@dataclass(frozen=True)
class _Eval:
    plan: Plan
    step: StepBreakdown
    memory: MemoryBreakdown
    block_eff: float


@dataclass(slots=True)
class _Cand:
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


def _state_bytes(c: _Ctx, tp: int, pp: int, dp: int, ep: int, zero: int) -> tuple[float, float, float, float]:
    """Parameters per device and bytes of weights, gradients and optimizer state per device (ZeRO 0-3)."""
    s = c.shape
    shard = tp * pp
    p_dev = s.active_params / shard + ((s.params - s.active_params) / (shard * ep) if c.moe else 0.0)
    w_bytes = 2.0 + (1.0 if c.precision == "fp8" else 0.0)
    o_bytes = c.bytes_per_param - 4.0  # fp32 master + optimizer moments
    w = p_dev * w_bytes / (dp if zero >= 3 else 1)
    g = p_dev * 2.0 / (dp if zero >= 2 else 1)
    o = p_dev * o_bytes / (dp if zero >= 1 else 1)
    return p_dev, w, g, o


def _allreduce_s(nbytes: float, group: int, bw_gbs_dir: float, latency: float) -> float:
    """Ring all-reduce: 2(g−1)/g of the bytes per device at the link rate, 2(g−1) latency steps."""
    if group <= 1:
        return 0.0
    return 2.0 * (group - 1) / group * nbytes / (bw_gbs_dir * 1e9) + 2 * (group - 1) * latency


def _dp_allreduce_s(c: _Ctx, nbytes: float, dp: int, local: int) -> float:
    """Node-level all-reduce of ``nbytes`` per device among ``dp`` replicas, ``local`` of them per node.

    Reduce-scatter among the node's replicas on the fast link, an inter-node ring on 1/local of the bytes per
    device (so the node's NICs share the traffic), then all-gather on the fast link. Inter-node latency follows
    a tree (2·log2(nodes) steps); intra-node a ring.
    """
    if dp <= 1:
        return 0.0
    e = c.eff
    local = max(1, min(local, dp))
    t = 0.0
    if local > 1:
        t += 2.0 * (local - 1) / local * nbytes / c.intra_bw + 2 * (local - 1) * e.latency_intra_s
    nodes = math.ceil(dp / local)
    if nodes > 1:
        bw = c.nic_bw or c.intra_bw
        t += 2.0 * (nodes - 1) / nodes * nbytes / local / bw + 2 * math.ceil(math.log2(nodes)) * e.latency_inter_s
    return t


def _gemm(c: _Ctx, width: float, tokens: float, scale: float) -> float:
    key = (width, tokens, scale)
    v = c.blocks.get(key)
    if v is None:
        v = min(c.eff.gemm_efficiency(width, c.acc, tokens) * scale, 0.95)
        c.blocks[key] = v
    return v


def _evaluate(c: _Ctx, tp: int, pp: int, dp: int, zero: int, mb: int, batch_tokens: float, *,
              cp: int = 1, ep: int | None = None, recompute: float | None = None, selective: bool | None = None,
              vpps: tuple[int, ...] = (1,), eff_scale: float = 1.0, kappa: float | None = None) -> _Cand | None:
    """Evaluate one (tp, pp, dp, cp, ZeRO, micro-batch) plan.

    Chooses the cheapest recompute that fits memory (none, selective, then full on just enough layers) unless
    given, and the best interleaving among ``vpps``; returns None when the plan cannot fit or run.
    """
    s = c.shape
    e = c.eff
    st = c.stack
    seqs = batch_tokens / c.seq
    m = _micro_batches(seqs, dp, mb)
    if m is None:
        return None
    if ep is None:
        ep = _default_ep(s, dp) if c.moe else 1
    p_dev, w, g, o = _state_bytes(c, tp, pp, dp, ep, zero)
    layers_stage = math.ceil(s.n_layers / pp)
    in_flight = min(pp, m)
    tokens_dev = mb * c.seq / cp  # tokens per GEMM (sequence parallelism all-gathers the TP shards)
    sbh = tokens_dev * s.d_model
    coef = c.act_coef
    scores = 0.0 if st.flash else 5.0 * s.n_heads * c.seq / cp / s.d_model  # Korthikanti's 5as/h term
    act_none = (coef + scores) * sbh / tp
    act_sel = coef * sbh / tp
    act_full = e.full_recompute_coefficient * sbh / tp
    logits = 4.0 * tokens_dev * s.vocab / tp
    cap = (c.capacity_gb - e.memory_overhead_gb) / (1 + e.memory_fragmentation) * 1e9
    fixed = w + g + o + logits
    stored = layers_stage * in_flight
    sel = bool(selective) and scores > 0
    if recompute is None:
        if fixed + stored * act_full > cap:
            return None
        base_act = act_none
        if fixed + stored * act_none > cap and selective is not False and scores > 0:
            sel, base_act = True, act_sel
        if fixed + stored * base_act <= cap:
            f = 0.0
        else:
            # Recompute just enough layers fully (Megatron --recompute-num-layers) to fit.
            f = (fixed + stored * base_act - cap) / (stored * (base_act - act_full))
            f = min(1.0, math.ceil(f * layers_stage) / layers_stage)
    else:
        f = recompute
        base_act = act_sel if sel else act_none
    layer_acts = stored * (base_act * (1 - f) + act_full * f)
    if fixed + layer_acts > cap * 1.0001:
        return None
    acts = layer_acts + logits
    # ---- compute: dense GEMMs, expert GEMMs, attention, non-GEMM work
    per_dev = tokens_dev / (tp * pp)
    f_exp = 6.0 * c.exp_params * per_dev
    f_lin = 6.0 * c.lin_params * per_dev - f_exp
    f_attn = c.attn_tok * per_dev
    r_lin = 1.0 + f / 3.0
    r_attn = r_lin + (1.0 / 3.0 if sel else 0.0) * (1 - f)
    e_d = _gemm(c, s.d_model / tp**0.25, tokens_dev, eff_scale)
    t_comp = f_lin * r_lin / (e_d * c.lin_speed) + f_attn * r_attn / e_d
    if f_exp > 0:
        # Expert GEMMs (hidden × expert FFN) at their geometric-mean width and the tokens one expert receives
        # from its EP group: tokens·top_k·ep/experts (assumption: balanced routing; 0.7·hidden when the expert
        # width is unknown, assumption).
        width = math.sqrt(s.d_model * s.expert_ffn) if s.expert_ffn else 0.7 * s.d_model
        t_comp += f_exp * r_lin / (_gemm(c, width / tp**0.25, tokens_dev * s.top_k * ep / s.experts, eff_scale)
                                   * c.lin_speed)
    other = c.other if kappa is None else c.other * kappa / e.kappa.value
    other_lin = c.other_lin + (other - c.other)
    t_comp = (t_comp + (f_lin + f_exp) * r_lin * other_lin + f_attn * r_attn * other) / (c.peaks.sixteen * 1e12)
    block = c.flops_per_token * per_dev / (t_comp * c.peaks.sixteen * 1e12)
    # ---- tensor parallelism: per layer 2 all-reduce volumes forward and 2 backward (1 each for parallel blocks)
    t_tp = 0.0
    if tp > 1:
        per_pass = 1 if s.parallel_block else 2
        coll = layers_stage * per_pass * (2 + f)
        bw_dir = c.intra_bw / 1e9 if tp <= c.node else (c.nic_bw or c.intra_bw) / 1e9
        lat = e.latency_intra_s if tp <= c.node else e.latency_inter_s
        t_tp = coll * _allreduce_s(tokens_dev * s.d_model * 2.0, tp, bw_dir, lat) * (1 - st.tp_overlap)
    # ---- context parallelism: ring exchange of K and V (fwd, 2× bwd), hidden behind attention where possible
    t_cp = 0.0
    if cp > 1:
        kv = tokens_dev * s.n_kv_heads * (s.head_dim + s.v_head_dim) * 2.0 / tp
        bw = c.intra_bw if tp * cp <= c.node else (c.nic_bw or c.intra_bw)
        ring = layers_stage * 3 * (cp - 1) * kv / bw
        t_cp = max(0.0, ring - f_attn * r_attn / (e_d * c.peaks.sixteen * 1e12))
    # ---- pipeline point-to-point: activations scattered over TP ranks, forward + backward per micro-batch
    pp_one = 0.0
    if pp > 1:
        # Megatron's rank order (tp, cp, dp innermost; pp outermost): the next stage is tp·cp·dp ranks away.
        cross = tp * cp * dp >= c.node and c.nic_bw is not None
        bw = (c.nic_bw or c.intra_bw) if cross else c.intra_bw
        lat = e.latency_inter_s if cross else e.latency_intra_s
        pp_one = 2 * (tokens_dev * s.d_model * 2.0 / tp / bw + lat) * (1 - st.p2p_overlap)
    best_v, best_pipe, best_bubble = 1, 0.0, 0.0
    for v in vpps:
        t_micro = t_comp + t_tp + t_cp + v * pp_one
        bubble = (pp - 1) / v * t_micro  # interleaving divides the 1F1B bubble by v (NARAYANAN)
        pipe = m * t_micro + bubble
        if v == vpps[0] or pipe < best_pipe:
            best_v, best_pipe, best_bubble = v, pipe, bubble
    # ---- data parallelism at node level, exposed by the stack's schedule
    local = min(dp, max(1, c.node // (tp * cp))) if c.fabric else dp  # DP peers sharing a node
    ar = _dp_allreduce_s(c, p_dev * 2.0, dp, local)
    bucket = min(1.0, st.bucket_params / max(p_dev, 1.0))
    if zero <= 2:
        t_dp = ar
        rs, ag = ar / 2, ar / 2
        if not st.grad_overlap:
            t_dp_exp = t_dp
        else:
            # Gradients reduce in buckets behind the last micro-batch's backward on this stage; the parameter
            # all-gather (distributed optimizer) behind the first micro-batch's forward.
            window_b = t_comp * 2.0 / 3.0
            exp_rs = max(bucket * rs, rs - window_b)
            if zero >= 1 and st.param_overlap:
                exp_ag = max(bucket * ag, ag - t_comp / 3.0)
            else:
                exp_ag = ag if zero >= 1 else max(bucket * ag, ag - window_b + (rs - exp_rs))
            t_dp_exp = exp_rs + exp_ag if zero >= 1 else max(bucket * t_dp, t_dp - window_b)
    else:
        # ZeRO-3/FSDP: parameters gathered for forward and backward, gradients reduce-scattered, every micro-batch.
        per_mb = 1.5 * ar
        t_dp = m * per_mb
        hide = st.prefetch * t_comp
        t_dp_exp = m * max(per_mb / max(layers_stage, 1), per_mb - hide)
    # ---- MoE all-to-all: bytes per token to the experts' ranks, on NVLink or the NIC by where they live
    t_a2a = 0.0
    if c.moe and ep > 1:
        tokens_rank = tokens_dev / tp
        local_ep = min(ep, local if c.fabric else ep)
        ep_nodes = math.ceil(ep / local_ep)
        remote_share = (ep_nodes - 1) / ep_nodes
        k_remote = s.top_k * remote_share
        if s.max_nodes_per_token is not None:
            k_remote = min(k_remote, s.max_nodes_per_token * remote_share)  # one copy per node, NVLink fan-out
        k_local = s.top_k - k_remote
        dispatch = s.d_model * (1.0 if c.precision == "fp8" else 2.0)
        combine = s.d_model * 2.0
        per_layer = tokens_rank * (dispatch + combine) * (k_remote / (c.nic_bw or c.intra_bw)
                                                         + k_local / c.intra_bw)
        moe_layers = math.ceil(max(s.n_layers - s.dense_layers, 1) / pp)
        t_a2a = (1 - st.a2a_overlap) * m * moe_layers * 2 * per_layer  # forward and backward
    upd_bytes = p_dev * c.bytes_per_param * 2 / (dp if zero >= 1 else 1)
    t_opt = upd_bytes / (c.hbm_tbps * 1e12)
    base = best_pipe + t_dp_exp + t_a2a + t_opt
    # Stragglers and jitter grow with the nodes that meet in each data-parallel collective.
    nodes = math.ceil(dp / local) if dp > 1 else 1
    sync = e.sync_overhead_per_doubling * math.log2(nodes / 8) if nodes > 8 else 0.0
    step = base * (1 + sync)
    used = w + g + o + acts
    over = used * e.memory_fragmentation + e.memory_overhead_gb * 1e9
    return _Cand(tp=tp, pp=pp, dp=dp, cp=cp, ep=ep, zero=zero, recompute=f, selective=sel, mb=mb, m=m, vpp=best_v,
                 step=step,
                 parts=(m * t_comp, m * t_tp, best_bubble, m * best_v * pp_one, t_dp, t_dp_exp, t_a2a, t_opt,
                        base * sync, m * t_cp),
                 mem=(w, g, o, acts, over, used + over), block=block, seqs_per_s=m * mb * dp / step)


def _default_ep(s: ModelShape, dp: int) -> int:
    """Expert parallelism: the largest power of two ≤ dp, the expert count and 64."""
    cap = min(dp, s.experts, 64)
    return 1 << (max(cap, 1).bit_length() - 1)


def _to_eval(c: _Ctx, cand: _Cand) -> _Eval:
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
    return _Eval(plan=plan, step=step, memory=mem, block_eff=cand.block)


def _width(shape: ModelShape, tp: int) -> float:
    """Effective GEMM width for the efficiency model: hidden / tp^0.25 (assumption)."""
    return float(shape.d_model / tp**0.25)


_MICRO_BATCHES = (1, 2, 4, 8)
"""Micro-batch sizes searched: larger ones fill GEMMs and amortise per-micro-batch costs, at more memory."""
_PP_MENU = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128)
"""Pipeline depths tried. DP = ⌊count / (TP·PP·CP)⌋; leftover devices idle (they still count in the hours)."""


_BATCH_TOLERANCE = 0.10
"""A plan must realise the global batch within this fraction: sequences per step are whole micro-batches on every
data-parallel replica, and rounding a 512-sequence batch onto 341 replicas (682 sequences) would credit the plan
with a third more work per step than the run does."""


def _micro_batches(seqs: float, dp: int, mb: int) -> int | None:
    """Micro-batches per replica per step for a batch of ``seqs`` sequences (None: the replicas cannot carry it).

    They cannot when there are fewer sequences than replicas × micro-batch, or when whole micro-batches would change
    the batch by more than ``_BATCH_TOLERANCE``.
    """
    if seqs < dp * mb:
        return None
    m = max(1, round(seqs / (dp * mb)))
    return m if abs(m * dp * mb - seqs) <= _BATCH_TOLERANCE * seqs else None


def _default_batch_tokens(params: float) -> float:
    # Llama 1/2 used 4M tokens at every size; 405B-class runs used 16M (ramped).
    if params >= 300e9:
        return 16e6
    if params >= 100e9:
        return 8e6
    return 4e6


def _batch_tokens(c: _Ctx, req: TrainingRequest) -> float | None:
    if req.global_batch_tokens is not None:
        return req.global_batch_tokens
    if req.global_batch_seqs is not None:
        return float(req.global_batch_seqs * c.seq)
    return None


def _search(c: _Ctx, count: int, req: TrainingRequest) -> _Cand | None:
    """Highest-throughput plan for ``count`` accelerators that fits in memory (None if none fits)."""
    choice = req.plan or PlanChoice()
    tps = [t for t in (1, 2, 4, 8, 16, 32, 64) if t <= c.fast_domain and t <= count]
    if choice.tp is not None:
        tps = [choice.tp] if choice.tp <= count else []
    cps = [choice.cp] if choice.cp else ([1, 2, 4, 8] if c.seq >= 32768 else [1])
    rc_fixed = None if choice.recompute in (None, "selective") else (0.0 if choice.recompute == "none" else 1.0)
    sel_fixed = True if choice.recompute == "selective" else (False if choice.recompute == "none" else None)
    given = _batch_tokens(c, req)
    best: _Cand | None = None
    for cp in cps:
        for tp in tps:
            pps = [p for p in _PP_MENU if p <= min(c.shape.n_layers, count // (tp * cp))]
            if choice.pp is not None:
                pps = [choice.pp] if choice.pp * tp * cp <= count else []
            best_tp: float = 0.0
            cand: _Cand | None = None
            for pp in pps:
                dp = choice.dp or count // (tp * pp * cp)
                if dp < 1 or tp * pp * cp * dp > count:
                    continue
                ep = choice.ep or (_default_ep(c.shape, dp) if c.moe else 1)
                batch = given or max(_default_batch_tokens(c.shape.params), dp * c.seq)
                layers_stage = math.ceil(c.shape.n_layers / pp)
                if choice.virtual_stages:
                    vpps: tuple[int, ...] = (choice.virtual_stages,)
                else:
                    vpps = tuple(v for v in (1, 2, 4, 8) if v == 1 or (pp > 1 and layers_stage >= v))
                zeros = [choice.zero_stage] if choice.zero_stage is not None else [1, 3]
                pp_best: _Cand | None = None
                for mb in ([choice.micro_batch] if choice.micro_batch else _MICRO_BATCHES):
                    found = None
                    for zero in zeros:
                        found = _evaluate(c, tp, pp, dp, zero, mb, batch, cp=cp, ep=ep, recompute=rc_fixed,
                                          selective=sel_fixed, vpps=vpps)
                        if found is not None:
                            break  # ZeRO-3 only when ZeRO-1 does not fit: it moves far more data
                    if found is None:
                        break  # a larger micro-batch will not fit either
                    if pp_best is not None and found.seqs_per_s < pp_best.seqs_per_s:
                        break  # throughput peaked: larger micro-batches only grow the bubble further
                    pp_best = found
                    if found.m <= 1:
                        break
                cand = pp_best
                if cand is not None:
                    best_tp = max(best_tp, cand.seqs_per_s)
                    if best is None or cand.seqs_per_s > best.seqs_per_s:
                        best = cand
                # Deeper pipelines only add bubble and transfers once one fits well: stop when clearly worse.
                if best_tp and cand is not None and cand.seqs_per_s < 0.8 * best_tp:
                    break
    return best


def _shape(req: TrainingRequest) -> ModelShape:
    shape = _base_shape(req)
    extra = {k: v for k, v in (("window", req.window), ("document_len", req.document_len)) if v is not None}
    return shape.model_copy(update=extra) if extra else shape


def _base_shape(req: TrainingRequest) -> ModelShape:
    if req.model is not None:
        if req.params is not None:
            raise InvalidInputError("give --params or --model, not both (a preset fixes the parameter count)")
        shape = model_preset(req.model).shape()
        overrides = {k: v for k, v in (("n_layers", req.n_layers), ("d_model", req.d_model), ("n_heads", req.n_heads),
                                        ("n_kv_heads", req.n_kv_heads), ("vocab", req.vocab)) if v is not None}
        return shape.model_copy(update=overrides) if overrides else shape
    assert req.params is not None  # guaranteed by the request validator
    return infer_shape(req.params, active_params=req.active_params, n_layers=req.n_layers, d_model=req.d_model,
                       n_heads=req.n_heads, n_kv_heads=req.n_kv_heads, ffn=req.ffn, vocab=req.vocab,
                       experts=req.experts, top_k=req.top_k, gated=req.gated)


def _context(catalog: Catalog, req: TrainingRequest, eff: EfficiencyModel, *, seq: int | None = None,
             fabric_id: str | None = None) -> _Ctx:
    acc = catalog.accelerator(req.accelerator)
    peaks = peaks_for(acc, req.precision)
    capacity = require(acc, "memory_gb", "memory capacity")
    hbm = require(acc, "memory_bandwidth_tbps", "memory bandwidth")
    shape = _shape(req)
    seq_len = seq or req.seq_len or _DEFAULT_SEQ
    if req.global_batch_tokens is not None and req.global_batch_tokens < seq_len:
        raise InvalidInputError(
            f"a global batch of {req.global_batch_tokens:,.0f} tokens is less than one {seq_len:,}-token sequence; "
            f"a batch in sequences is written like '{req.global_batch_tokens:,.0f} seqs'")
    link = acc.intra_node_link_gbps.value
    node = node_size(catalog, acc)
    stack_name, stack = eff.stack_for(acc, req.stack)
    era = eff.default_fabrics.get(eff.profile_name(acc))
    fabric = choose_fabric(catalog, acc, fabric=fabric_id or req.fabric, buyer_country=req.buyer_country,
                           era_default=era)
    if req.fabric_gbit is not None:
        gbit = req.fabric_gbit * (req.nics_per_node / node if req.nics_per_node else 1.0)
        base = fabric or Fabric("custom", "custom fabric", "infiniband", gbit, "available")
        fabric = Fabric(base.id, f"{base.name} at {gbit:g} Gb/s per accelerator", base.kind, gbit, base.availability)
    attn_model = shape.attention_flops_per_token(seq_len, causal_skip=True)
    attn_kernel = shape.attention_flops_per_token(seq_len, causal_skip=stack.flash)
    lin = shape.matmul_params_per_token
    dense = 6.0 * lin
    bw_term = eff.bandwidth_term(acc, peaks.sixteen)
    fp8 = req.precision == "fp8"
    cast = eff.fp8_cast_overhead * (peaks.sixteen / eff.peak_ref_tflops) * (eff.hbm_ref_tbps / hbm) if fp8 else 0.0
    return _Ctx(
        acc=acc, shape=shape, peaks=peaks, precision=req.precision, eff=eff, stack_name=stack_name, stack=stack,
        seq=seq_len, capacity_gb=capacity, hbm_tbps=hbm, link_gbs_dir=(link / 2.0) if link else None,
        fast_domain=min(acc.intra_node_domain, node) if link else 1, node=node, fabric=fabric,
        fabric_eff=eff.fabric_efficiency.get(fabric.kind, 0.75) if fabric else 0.0,
        bytes_per_param=eff.optimizer_bytes.get(req.optimizer, eff.bytes_per_param),
        lin_params=lin, exp_params=shape.expert_matmul_params_per_token(), attn_tok=attn_kernel,
        flops_per_token=dense + attn_model, attention_share=attn_model / (attn_model + dense),
        other=bw_term, other_lin=bw_term + cast, lin_speed=eff.fp8_gemm_speedup if fp8 else 1.0,
        blocks=_gemm_cache(eff, acc),
    )


_GEMM_CACHES: dict[tuple[int, str], tuple[EfficiencyModel, dict[tuple[float, ...], float]]] = {}


def _gemm_cache(eff: EfficiencyModel, acc: Accelerator) -> dict[tuple[float, ...], float]:
    """One GEMM-efficiency cache per (efficiency model, accelerator profile), shared by every estimate.

    The efficiency depends only on those and (width, tokens, scale); the optimizer asks for thousands of estimates.
    """
    key = (id(eff), eff.profile_name(acc))
    hit = _GEMM_CACHES.get(key)
    if hit is None or hit[0] is not eff:
        if len(_GEMM_CACHES) > 64:
            _GEMM_CACHES.clear()
        hit = _GEMM_CACHES[key] = (eff, {})
    return hit[1]


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


def estimate_training(catalog: Catalog, req: TrainingRequest, *, ranged: bool = True) -> TrainingEstimate:
    """Estimate a training run; with no count, size the cluster for ``deadline_days``.

    ``ranged=False`` skips the low/high range (its drivers re-evaluate the chosen plan under each uncertain input):
    the point values are the same, and the purchase optimizer, which probes many counts, needs only those.

    Raises:
        UnknownSkuError, UnsupportedPrecisionError, InvalidInputError: bad input (never a traceback).
    """
    eff = load_efficiency()
    c = _context(catalog, req, eff)
    if req.count is None:
        return _size_for_deadline(catalog, req, c)
    return _estimate_count(catalog, c, req, req.count, ranged=ranged)


def _size_for_deadline(catalog: Catalog, req: TrainingRequest, c: _Ctx) -> TrainingEstimate:
    assert req.deadline_days is not None  # guaranteed by the request validator
    fits_at = minimum_count_ctx(c, req)
    if fits_at is None:
        return _estimate_count(catalog, c, req, _MAX_COUNT)
    counts = sorted({fits_at, *[c.node * k for k in _node_multiples() if c.node * k >= fits_at]})
    last: TrainingEstimate | None = None
    prev_ok: int | None = None
    for n in counts:
        est = _estimate_count(catalog, c, req, n, ranged=False)
        last = est
        if est.status == "ok" and est.wall_clock_days is not None and est.wall_clock_days <= req.deadline_days:
            # Refine downwards node by node between the previous power of two and this count.
            lo = prev_ok or fits_at
            step = c.node if n > c.node else 1
            chosen = n
            for m in range(max(lo, fits_at), n, step):
                e2 = _estimate_count(catalog, c, req, m, ranged=False)
                if e2.status == "ok" and e2.wall_clock_days is not None and e2.wall_clock_days <= req.deadline_days:
                    chosen = m
                    break
            final = _estimate_count(catalog, c, req, chosen)
            return final.model_copy(update={"message": f"{final.message}; smallest count meeting "
                                                       f"{req.deadline_days:g} days"})
        prev_ok = n
    assert last is not None
    final = _estimate_count(catalog, c, req, last.count)
    return final.model_copy(update={
        "message": f"no count up to {counts[-1]} meets {req.deadline_days:g} days; showing the largest tried",
    })


def _goodput(c: _Ctx, req: TrainingRequest, count: int) -> tuple[float, float, float, str]:
    """(goodput, optimistic, pessimistic, basis)."""
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


def _range_drivers(catalog: Catalog, c: _Ctx, req: TrainingRequest, cand: _Cand, batch_tokens: float,
                   count: int, g: tuple[float, float, float, str]) -> list[RangeDriver]:
    """Each uncertain or defaulted input with the hours multipliers at its two ends."""
    prof = c.eff.profile(c.acc)
    e = c.eff
    out: list[RangeDriver] = []

    def again(cc: _Ctx, batch: float, mb: int | None = None, **kw: object) -> float | None:
        args: dict[str, object] = {"cp": cand.cp, "ep": cand.ep, "recompute": cand.recompute,
                                   "selective": cand.selective, "vpps": (cand.vpp,)}
        args.update(kw)
        r = _evaluate(cc, cand.tp, cand.pp, cand.dp, cand.zero, mb or cand.mb, batch, **args)  # type: ignore[arg-type]
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
    if _batch_tokens(c, req) is None:
        a = [again(c, batch_tokens * k) for k in (0.5, 2.0)]
        fs = [_factor(x, per_seq) for x in a]
        note = f"{batch_tokens / 1e6:.3g}M tokens assumed; ×0.5 and ×2 evaluated"
        size_default = _default_batch_tokens(c.shape.params)
        if batch_tokens > 2.0 * size_default and req.plan is None:
            # The default batch grew to give every data-parallel replica a sequence (beyond the ×0.5 evaluated
            # above); a run that keeps the model-size default instead needs more model parallelism (MFU falls
            # with more accelerators at a fixed batch): re-plan at that batch for the slow end.
            alt = _search(c, count, req.model_copy(update={"global_batch_tokens": size_default}))
            if alt is not None:
                fs.append(alt.step / (alt.m * alt.mb * alt.dp) / per_seq)  # hours ∝ time per sequence
                note += f", and the size default {size_default / 1e6:.3g}M re-planned"
        out.append(RangeDriver(input="global batch (defaulted)", low_factor=min(fs + [1.0]),
                               high_factor=max(fs + [1.0]), note=note))
    if req.seq_len is None:
        fs = []
        for seq in (2048, 8192):
            cc = _with_seq(c, seq)
            r = _evaluate(cc, cand.tp, cand.pp, cand.dp, cand.zero, cand.mb, batch_tokens, cp=cand.cp, ep=cand.ep,
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
            alt = _search(c, n, req) if n >= 1 else None
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


def _with_seq(c: _Ctx, seq: int) -> _Ctx:
    """The same context at another sequence length (attention FLOPs change; GEMM cache is kept)."""
    s = c.shape
    attn_model = s.attention_flops_per_token(seq, causal_skip=True)
    dense = 6.0 * c.lin_params
    return dataclasses.replace(c, seq=seq, attn_tok=s.attention_flops_per_token(seq, causal_skip=c.stack.flash),
                               flops_per_token=dense + attn_model, attention_share=attn_model / (attn_model + dense))


def _combine(drivers: list[RangeDriver]) -> tuple[float, float]:
    """Independent drivers combine in quadrature on a log scale."""
    lo = math.sqrt(sum(math.log(min(d.low_factor, 1.0)) ** 2 for d in drivers))
    hi = math.sqrt(sum(math.log(max(d.high_factor, 1.0)) ** 2 for d in drivers))
    return math.exp(-lo), math.exp(hi)


def _defaulted(req: TrainingRequest) -> list[str]:
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


def _estimate_count(catalog: Catalog, c: _Ctx, req: TrainingRequest, count: int, *,
                    ranged: bool = True) -> TrainingEstimate:
    shape = c.shape
    tokens_total = req.tokens
    total_flops = c.flops_per_token * tokens_total
    nodes = max(1, math.ceil(count / c.node))
    g = _goodput(c, req, count)
    goodput = g[0]
    common: dict[str, object] = {
        "accelerator": c.acc.id, "accelerator_name": c.acc.name, "count": count, "nodes": nodes,
        "total_flops": total_flops, "flops_per_token": c.flops_per_token, "shape": shape, "goodput": goodput,
        "goodput_basis": g[3], "stack": c.stack_name, "seq_len": c.seq, "defaulted": _defaulted(req),
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
        choice = req.plan or PlanChoice()
        given = _batch_tokens(c, req)
        if given is not None and choice.tp and choice.pp:
            dp = choice.dp or count // (choice.tp * choice.pp * (choice.cp or 1))
            mb = choice.micro_batch or 1
            seqs = given / c.seq
            if seqs < dp * mb:
                msg = (f"the global batch ({seqs:,.0f} sequences) is smaller than the {dp:,} data-parallel "
                       f"replicas of the given plan × micro-batch {mb}: give a larger batch, "
                       "fewer accelerators or more model parallelism")
            elif _micro_batches(seqs, dp, mb) is None:
                msg = (f"the global batch ({seqs:,.0f} sequences) does not split into whole micro-batches of {mb} "
                       f"over the {dp:,} data-parallel replicas of the given plan (within "
                       f"{_BATCH_TOLERANCE:.0%}): give a batch that is a multiple of {dp * mb:,} sequences or "
                       "another data-parallel width")
        return TrainingEstimate(status="does_not_fit", message=msg, minimum_count=need, **common)  # type: ignore[arg-type]
    best = _to_eval(c, cand)
    step = best.step.step_s
    batch_tokens = best.plan.global_batch_tokens
    tps = batch_tokens / step
    seconds = tokens_total / tps / goodput
    hours = seconds / 3600.0 * count
    drivers = _range_drivers(catalog, c, req, cand, batch_tokens, count, g) if ranged else []
    f_lo, f_hi = _combine(drivers) if drivers else (1.0, 1.0)
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


def _assumptions(c: _Ctx, ev: _Eval, goodput: float, basis: str) -> list[Assumption]:
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
        Assumption(name="GEMM efficiency", value=f"{e.gemm_efficiency(_width(s, ev.plan.tp), c.acc, tokens):.3f}"
                   f" at effective width {_width(s, ev.plan.tp):.0f} (hidden / tp^0.25) and {tokens:,.0f} tokens "
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
