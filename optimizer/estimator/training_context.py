"""The training estimator's context: the model shape, the part's peaks and links, the stack and the fabric.

Everything an evaluated plan needs that does not depend on the plan is computed once here (FLOPs per token, the
non-GEMM coefficient, link rates, activation bytes), so the plan search stays cheap.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from optimizer.catalog import Accelerator, Catalog
from optimizer.errors import InvalidInputError
from optimizer.estimator.common import Fabric, Peaks, TrainPrecision, choose_fabric, node_size, peaks_for, require
from optimizer.estimator.efficiency import EfficiencyModel, Stack
from optimizer.estimator.memory import usable_bytes
from optimizer.estimator.models import model_preset
from optimizer.estimator.shapes import ModelShape, infer_shape
from optimizer.estimator.training_types import DEFAULT_SEQ, TrainingRequest


# ---------------------------------------------------------------------- internal evaluation
@dataclass(frozen=True)
class TrainContext:
    """Plan-independent inputs of one training estimate."""

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
    weight_bytes: float = 2.0  # bytes of weights per parameter (16-bit, plus a 1-byte copy under FP8)
    comm_cache: dict[tuple[float, ...], float] = field(default_factory=dict, init=False, repr=False, compare=False)
    usable: float = field(default=0.0, init=False)  # bytes of device memory the model may use (memory.usable_bytes)

    def __post_init__(self) -> None:
        object.__setattr__(self, "moe", self.shape.moe)
        fp8_saved = self.precision == "fp8" and self.stack.fp8_saved_inputs  # 1-byte linear inputs (TE)
        object.__setattr__(self, "act_coef", self.shape.activation_coefficient()
                           - (self.shape.fp8_activation_saving() if fp8_saved else 0.0))
        object.__setattr__(self, "intra_bw", (self.link_gbs_dir or 16.0) * self.eff.link_efficiency * 1e9)
        object.__setattr__(self, "weight_bytes", 3.0 if self.precision == "fp8" else 2.0)
        object.__setattr__(self, "usable", usable_bytes(self.capacity_gb, self.eff.memory_overhead_gb,
                                                        self.eff.memory_fragmentation))
        object.__setattr__(self, "nic_bw", self.fabric.gbit_per_accelerator / 8.0 * self.fabric_eff * 1e9
                           if self.fabric else None)


def training_shape(req: TrainingRequest) -> ModelShape:
    """The model shape of a request: its preset (with overrides) or one inferred from the parameter count."""
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


def build_context(catalog: Catalog, req: TrainingRequest, eff: EfficiencyModel, *, seq: int | None = None,
                  fabric_id: str | None = None) -> TrainContext:
    """The context of a request (``seq`` and ``fabric_id`` override the request's).

    Raises:
        UnknownSkuError, UnsupportedPrecisionError, InvalidInputError: bad input.
    """
    acc = catalog.accelerator(req.accelerator)
    peaks = peaks_for(acc, req.precision)
    capacity = require(acc, "memory_gb", "memory capacity")
    hbm = require(acc, "memory_bandwidth_tbps", "memory bandwidth")
    shape = training_shape(req)
    seq_len = seq or req.seq_len or DEFAULT_SEQ
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
    return TrainContext(
        acc=acc, shape=shape, peaks=peaks, precision=req.precision, eff=eff, stack_name=stack_name, stack=stack,
        seq=seq_len, capacity_gb=capacity, hbm_tbps=hbm, link_gbs_dir=(link / 2.0) if link else None,
        fast_domain=min(acc.intra_node_domain, node) if link else 1, node=node, fabric=fabric,
        fabric_eff=eff.fabric_efficiency.get(fabric.kind, 0.75) if fabric else 0.0,
        bytes_per_param=eff.optimizer_bytes.get(req.optimizer, eff.bytes_per_param),
        lin_params=lin, exp_params=shape.expert_matmul_params_per_token(), attn_tok=attn_kernel,
        flops_per_token=dense + attn_model, attention_share=attn_model / (attn_model + dense),
        other=bw_term, other_lin=bw_term + cast, lin_speed=eff.fp8_gemm_speedup if fp8 else 1.0,
        blocks=gemm_cache(eff, acc),
    )


_GEMM_CACHES: dict[tuple[int, str], tuple[EfficiencyModel, dict[tuple[float, ...], float]]] = {}


def gemm_cache(eff: EfficiencyModel, acc: Accelerator) -> dict[tuple[float, ...], float]:
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


def default_batch_tokens(params: float) -> float:
    """Global batch assumed when none is given, by model size."""
    # Llama 1/2 used 4M tokens at every size; 405B-class runs used 16M (ramped).
    if params >= 300e9:
        return 16e6
    if params >= 100e9:
        return 8e6
    return 4e6


def batch_tokens_of(c: TrainContext, req: TrainingRequest) -> float | None:
    """The global batch the request gives, in tokens (None when it gives none)."""
    if req.global_batch_tokens is not None:
        return req.global_batch_tokens
    if req.global_batch_seqs is not None:
        return float(req.global_batch_seqs * c.seq)
    return None


def with_seq(c: TrainContext, seq: int) -> TrainContext:
    """The same context at another sequence length (attention FLOPs change; GEMM cache is kept)."""
    s = c.shape
    attn_model = s.attention_flops_per_token(seq, causal_skip=True)
    dense = 6.0 * c.lin_params
    return dataclasses.replace(c, seq=seq, attn_tok=s.attention_flops_per_token(seq, causal_skip=c.stack.flash),
                               flops_per_token=dense + attn_model, attention_share=attn_model / (attn_model + dense))
