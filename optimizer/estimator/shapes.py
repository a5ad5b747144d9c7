"""Transformer shapes (from a preset or inferred from a parameter count) and the FLOPs/bytes they imply.

FLOPs per token of training (forward + backward = 3 × forward), by first principles:

    linear    6 · (active matmul parameters, LM head included)
    attention 3 · 2 · layers · heads · (d_qk + d_v) · ctx      (QKᵀ and A·V of one query against ctx keys)

where ``ctx`` is the number of keys a kernel actually multiplies: seq/2 for a causal kernel that skips the
masked half (flash attention), seq for a full-matrix kernel (masked scores still computed), and for a sliding
window w < seq about w − w²/(2·seq) (causal-skip) or w (full matrix tiles). For a standard multi-head layer
(d_qk = d_v = hidden/heads) and a causal-skip kernel this is the familiar 6 · layers · seq · hidden.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from optimizer.errors import InvalidInputError

# Hidden size of well-known dense decoder models by parameter count (Llama/GPT families), interpolated
# in log space: 1.3B-2048, 7B-4096, 13B-5120, 34B-8192 (Code Llama), 70B-8192, 175B-12288, 405B-16384.
_WIDTHS: tuple[tuple[float, int], ...] = (
    (1.3e9, 2048),
    (7e9, 4096),
    (13e9, 5120),
    (34e9, 8192),
    (70e9, 8192),
    (175e9, 12288),
    (405e9, 16384),
    (1.8e12, 25600),
)

Attention = Literal["mha", "gqa", "mqa", "mla"]


class ModelShape(BaseModel):
    """Shapes of a decoder-only transformer (dense or mixture-of-experts)."""

    model_config = ConfigDict(frozen=True)

    params: float = Field(gt=0, description="Total parameters.")
    active_params: float = Field(gt=0, description="Parameters used per token (MoE active; = params if dense).")
    n_layers: int = Field(ge=1)
    d_model: int = Field(ge=64)
    n_heads: int = Field(ge=1)
    n_kv_heads: int = Field(ge=1)
    vocab: int = Field(128_000, ge=1000)
    top_k: int = Field(1, ge=1, description="Experts per token (MoE).")
    ffn: int | None = Field(None, ge=1, description="Dense FFN width (None: 4·hidden equivalent).")
    gated: bool = Field(True, description="Gated FFN (SwiGLU): three matrices instead of two.")
    head_dim_qk: int | None = Field(None, ge=1, description="Query/key head size (None: hidden / heads).")
    head_dim_v: int | None = Field(None, ge=1, description="Value head size (None: query/key head size).")
    attention: Attention = "gqa"
    kv_lora_rank: int | None = Field(None, ge=1, description="MLA compressed KV width (cached per token).")
    qk_rope_dim: int | None = Field(None, ge=0, description="MLA decoupled rotary key width (cached per token).")
    window: int | None = Field(None, ge=1, description="Sliding-window attention span (all layers).")
    document_len: int | None = Field(None, ge=1, description="Mean document length under a document mask.")
    parallel_block: bool = Field(False, description="Attention and MLP in parallel (one TP reduction per pass).")
    experts: int = Field(1, ge=1, description="Routed experts per MoE layer.")
    expert_ffn: int | None = Field(None, ge=1, description="FFN width of one expert.")
    shared_experts: int = Field(0, ge=0)
    dense_layers: int = Field(0, ge=0, description="Leading layers with a dense FFN in an MoE model.")
    max_nodes_per_token: int | None = Field(None, ge=1, description="Node-limited routing (DeepSeek-V3: 4).")
    linear_params: float | None = Field(None, gt=0, description="Active matmul parameters per token incl. LM head.")
    preset: str | None = Field(None, description="Model preset id when the shape came from the catalog.")
    source: str | None = None
    inferred: bool = Field(True, description="True when layers/hidden/heads were inferred from the parameter count.")

    @property
    def moe(self) -> bool:
        """True for a mixture-of-experts model."""
        return self.experts > 1 or self.active_params < self.params * 0.999

    @property
    def head_dim(self) -> int:
        """Size of one query/key attention head."""
        return self.head_dim_qk or self.d_model // self.n_heads

    @property
    def v_head_dim(self) -> int:
        """Size of one value head."""
        return self.head_dim_v or self.head_dim

    @property
    def ffn_width(self) -> float:
        """Active FFN width per token, in units comparable to a dense gated FFN (MoE: top-k experts + shared)."""
        if self.moe and self.expert_ffn:
            return float((self.top_k + self.shared_experts) * self.expert_ffn)
        if self.ffn:
            return float(self.ffn)
        return 4.0 * self.d_model if not self.gated else 8.0 / 3.0 * self.d_model

    @property
    def matmul_params_per_token(self) -> float:
        """Active matmul parameters per token (6× this is the linear training FLOPs per token)."""
        return self.linear_params or self.active_params

    def kv_bytes_per_token(self, bytes_per_value: float = 2.0) -> float:
        """KV-cache bytes for one token of context (all layers): K and V per KV head, or MLA's latent."""
        if self.attention == "mla" and self.kv_lora_rank:
            return self.n_layers * (self.kv_lora_rank + (self.qk_rope_dim or 0)) * bytes_per_value
        return self.n_layers * self.n_kv_heads * (self.head_dim + self.v_head_dim) * bytes_per_value

    def attention_context(self, seq: int, *, causal_skip: bool) -> float:
        """Keys multiplied per query on average (see the module docstring).

        A document mask (packed documents of mean length L) leaves L/2 keys per query for kernels that skip
        masked tiles (varlen flash attention); full-matrix kernels still multiply all ``seq`` keys.
        """
        if self.document_len is not None and self.document_len < seq and causal_skip:
            return self.document_len / 2.0
        if self.window is not None and self.window < seq:
            w = float(self.window)
            return w - w * w / (2.0 * seq) if causal_skip else w
        return seq / 2.0 if causal_skip else float(seq)

    def attention_flops_per_token(self, seq: int, *, causal_skip: bool = True) -> float:
        """Training FLOPs per token in the attention score/value products (fwd + bwd)."""
        ctx = self.attention_context(seq, causal_skip=causal_skip)
        return 3.0 * 2.0 * self.n_layers * self.n_heads * (self.head_dim + self.v_head_dim) * ctx

    def training_flops_per_token(self, seq: int, *, causal_skip: bool = True) -> float:
        """Model FLOPs per token: 6 × matmul parameters + attention."""
        return 6.0 * self.matmul_params_per_token + self.attention_flops_per_token(seq, causal_skip=causal_skip)

    def expert_matmul_params_per_token(self) -> float:
        """Active routed-expert matmul parameters per token (0 for dense models)."""
        if not self.moe:
            return 0.0
        if self.expert_ffn:
            moe_layers = self.n_layers - self.dense_layers
            return moe_layers * self.top_k * (3 if self.gated else 2) * self.d_model * self.expert_ffn
        # Inferred MoE (assumption): experts hold the FFN share of a Llama-style layer (2/3 of its parameters);
        # 10% of the active parameters are taken as embeddings/shared dense weights.
        return 2.0 / 3.0 * self.active_params * 0.9

    def activation_coefficient(self) -> float:
        """Korthikanti's per-layer activation bytes / (seq · batch · hidden) with flash attention (no 5as/h term).

        34 = 15 (attention block and norms) + 19 (a 4h GeLU MLP: input 2, up-projection output 8, activation
        output 8, dropout mask 1); generalised to the FFN actually used: 2 + (6 gated | 4 plain) · ffn/h + 1.
        """
        mlp = 2.0 + (6.0 if self.gated else 4.0) * self.ffn_width / self.d_model + 1.0
        return 15.0 + mlp

    def fp8_activation_saving(self) -> float:
        """Per-layer activation bytes / (seq · batch · hidden) saved when FP8 linear layers cache 1-byte inputs.

        Of Korthikanti's terms, the QKV input (norm output, 2) and the up-projection input (norm output, 2) are
        saved only for their linear layer: 2 → 1 each; the down-projection input (activation output, 2·ffn/h)
        becomes ffn/h; the output projection's input is also the flash-attention output, which attention keeps
        in 16 bits, so its FP8 copy adds 1. Net: 1 + 1 + ffn/h − 1 = 1 + ffn/h.
        """
        return 1.0 + self.ffn_width / self.d_model

    @model_validator(mode="after")
    def _check(self) -> ModelShape:
        if self.active_params > self.params * 1.0001:
            raise ValueError("active parameters cannot exceed total parameters")
        if self.n_kv_heads > self.n_heads:
            raise ValueError("n_kv_heads cannot exceed n_heads")
        return self


def _width_for(params: float) -> int:
    pts = _WIDTHS
    if params <= pts[0][0]:
        return pts[0][1]
    if params >= pts[-1][0]:
        return pts[-1][1]
    for (p0, w0), (p1, w1) in zip(pts, pts[1:], strict=False):
        if p0 <= params <= p1:
            t = math.log(params / p0) / math.log(p1 / p0)
            w = math.exp(math.log(w0) + t * math.log(w1 / w0))
            return int(round(w / 128.0) * 128)
    return pts[-1][1]


def infer_shape(
    params: float,
    *,
    active_params: float | None = None,
    n_layers: int | None = None,
    d_model: int | None = None,
    n_kv_heads: int | None = None,
    n_heads: int | None = None,
    ffn: int | None = None,
    vocab: int | None = None,
    experts: int | None = None,
    top_k: int | None = None,
    gated: bool | None = None,
) -> ModelShape:
    """Infer a plausible Llama-style shape from the (active) parameter count.

    Dense shape comes from the active parameters (for MoE, the experts add memory, not FLOPs);
    layers follow from N ≈ 12·layers·hidden². Models with hidden ≥ 8192 use 8 KV heads (GQA). An MoE
    without a given expert count is assumed to route top-8 (or top-2 when over half the weights are
    active) among top-k × total/active experts.

    Raises:
        InvalidInputError: non-positive or inconsistent sizes.
    """
    if params <= 0:
        raise InvalidInputError(f"params must be positive (got {params:g})")
    active = params if active_params is None else active_params
    if active <= 0:
        raise InvalidInputError(f"active params must be positive (got {active:g})")
    if active > params * 1.0001:
        raise InvalidInputError(f"active params {active:g} exceed total params {params:g}")
    d = d_model or _width_for(active)
    layers = n_layers or max(1, round(active / (12.0 * d * d)))
    heads = n_heads or max(1, d // 128)
    kv = n_kv_heads or (8 if d >= 8192 else heads)
    kv = min(kv, heads)
    moe = active < params * 0.999
    k = top_k or (8 if active < params * 0.5 else (2 if moe else 1))
    n_exp = experts or (max(2, 2 ** round(math.log2(k * params / active))) if moe else 1)
    return ModelShape(params=params, active_params=active, n_layers=layers, d_model=d, n_heads=heads,
                      n_kv_heads=kv, top_k=k, ffn=ffn, vocab=vocab or 128_000, experts=n_exp,
                      gated=True if gated is None else gated,
                      attention="gqa" if kv < heads else "mha", inferred=True)
