"""Transformer shapes inferred from a parameter count (overridable), for FLOPs, memory and comms."""

from __future__ import annotations

import math

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


class ModelShape(BaseModel):
    """Shapes of a decoder-only transformer."""

    model_config = ConfigDict(frozen=True)

    params: float = Field(gt=0, description="Total parameters.")
    active_params: float = Field(gt=0, description="Parameters used per token (MoE active; = params if dense).")
    n_layers: int = Field(ge=1)
    d_model: int = Field(ge=64)
    n_heads: int = Field(ge=1)
    n_kv_heads: int = Field(ge=1)
    vocab: int = Field(128_000, ge=1000)
    top_k: int = Field(1, ge=1, description="Experts per token (MoE).")

    @property
    def moe(self) -> bool:
        """True for a mixture-of-experts model."""
        return self.active_params < self.params * 0.999

    @property
    def head_dim(self) -> int:
        """Size of one attention head."""
        return self.d_model // self.n_heads

    def kv_bytes_per_token(self, bytes_per_value: float = 2.0) -> float:
        """KV-cache bytes for one token of context (all layers, K and V)."""
        return 2 * self.n_layers * self.n_kv_heads * self.head_dim * bytes_per_value

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
) -> ModelShape:
    """Infer a plausible Llama-style shape from the (active) parameter count.

    Dense shape comes from the active parameters (for MoE, the experts add memory, not FLOPs);
    layers follow from N ≈ 12·layers·hidden². Models with hidden ≥ 8192 use 8 KV heads (GQA).

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
    heads = max(1, d // 128)
    kv = n_kv_heads or (8 if d >= 8192 else heads)
    kv = min(kv, heads)
    top_k = 8 if active < params * 0.5 else (2 if active < params * 0.999 else 1)
    return ModelShape(params=params, active_params=active, n_layers=layers, d_model=d, n_heads=heads,
                      n_kv_heads=kv, top_k=top_k)
