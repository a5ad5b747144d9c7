"""Model presets: a sourced architecture catalog (``models.yaml``) behind ``--model``.

Parameter counts are computed from the shape (embeddings, attention, FFN or experts), so a preset cannot
carry a size that disagrees with its own architecture.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from optimizer.errors import InvalidInputError
from optimizer.estimator.shapes import Attention, ModelShape

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: the same safe load, faster


class _M(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MlaShape(_M):
    """Multi-head latent attention widths (DeepSeek-V2/V3)."""

    q_lora: int | None = None
    kv_lora: int
    qk_nope: int
    qk_rope: int
    v_head: int


class MoeShape(_M):
    """Mixture-of-experts layout."""

    experts: int = Field(ge=2)
    top_k: int = Field(ge=1)
    expert_ffn: int = Field(ge=1)
    shared: int = Field(0, ge=0)
    dense_layers: int = Field(0, ge=0)
    max_nodes: int | None = Field(None, ge=1)


class ModelPreset(_M):
    """One model of the architecture catalog."""

    id: str
    name: str
    aliases: tuple[str, ...] = ()
    layers: int = Field(ge=1)
    hidden: int = Field(ge=64)
    heads: int = Field(ge=1)
    kv_heads: int = Field(ge=1)
    head_dim: int | None = None
    ffn: int = Field(ge=1)
    gated: bool = True
    vocab: int = Field(ge=1000)
    tied: bool = False
    attention: Attention
    mla: MlaShape | None = None
    moe: MoeShape | None = None
    window: int | None = None
    position: Literal["rope", "alibi"] = "rope"
    published_params: float
    source: str = Field(min_length=8)

    def _attention_params(self) -> float:
        d, h = self.hidden, self.heads
        if self.mla is not None:
            m = self.mla
            qk = m.qk_nope + m.qk_rope
            q = d * m.q_lora + m.q_lora * h * qk if m.q_lora else d * h * qk
            kv = d * (m.kv_lora + m.qk_rope) + m.kv_lora * h * (m.qk_nope + m.v_head)
            return float(q + kv + h * m.v_head * d)
        hd = self.head_dim or d // h
        return float(d * h * hd + 2 * d * self.kv_heads * hd + h * hd * d)

    def _ffn_params(self, width: int) -> float:
        return float((3 if self.gated else 2) * self.hidden * width)

    def counts(self) -> tuple[float, float, float]:
        """(total parameters, active parameters, active matmul parameters per token incl. LM head)."""
        emb = self.vocab * self.hidden
        head = 0 if self.tied else emb
        attn = self._attention_params()
        if self.moe is None:
            layer = attn + self._ffn_params(self.ffn)
            total = self.layers * layer + emb + head
            return total, total, self.layers * layer + emb
        m = self.moe
        expert = self._ffn_params(m.expert_ffn)
        moe_layers = self.layers - m.dense_layers
        dense = m.dense_layers * (attn + self._ffn_params(self.ffn))
        router = self.hidden * m.experts
        total = dense + moe_layers * (attn + router + (m.experts + m.shared) * expert) + emb + head
        active_layers = dense + moe_layers * (attn + router + (m.top_k + m.shared) * expert)
        return total, active_layers + emb + head, active_layers + emb

    def shape(self) -> ModelShape:
        """The estimator's shape for this model."""
        total, active, matmul = self.counts()
        hd_qk = (self.mla.qk_nope + self.mla.qk_rope) if self.mla else self.head_dim
        return ModelShape(
            params=total, active_params=active, n_layers=self.layers, d_model=self.hidden, n_heads=self.heads,
            n_kv_heads=self.kv_heads, vocab=self.vocab, top_k=self.moe.top_k if self.moe else 1, ffn=self.ffn,
            gated=self.gated, head_dim_qk=hd_qk, head_dim_v=self.mla.v_head if self.mla else None,
            attention=self.attention, kv_lora_rank=self.mla.kv_lora if self.mla else None,
            qk_rope_dim=self.mla.qk_rope if self.mla else None, window=self.window,
            experts=self.moe.experts if self.moe else 1, expert_ffn=self.moe.expert_ffn if self.moe else None,
            shared_experts=self.moe.shared if self.moe else 0, dense_layers=self.moe.dense_layers if self.moe else 0,
            max_nodes_per_token=self.moe.max_nodes if self.moe else None, linear_params=matmul, preset=self.id,
            source=self.source, inferred=False,
        )


def _key(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(" ", "-")


@lru_cache(maxsize=1)
def load_models() -> dict[str, ModelPreset]:
    """All presets by lower-case id and alias (cached)."""
    text = resources.files("optimizer.data").joinpath("models.yaml").read_text(encoding="utf-8")
    out: dict[str, ModelPreset] = {}
    for raw in yaml.load(text, Loader=_YAML_LOADER)["models"]:
        m = ModelPreset.model_validate(raw)
        for k in (m.id, *m.aliases):
            out[_key(k)] = m
    return out


def preset_ids() -> list[str]:
    """Canonical preset ids, sorted."""
    return sorted({m.id for m in load_models().values()})


def model_preset(name: str) -> ModelPreset:
    """Look a model up by id or alias, case-insensitively.

    Raises:
        InvalidInputError: unknown model (the message lists the known ids).
    """
    m = load_models().get(_key(name))
    if m is None:
        raise InvalidInputError(f"unknown model {name!r}; known models: {', '.join(preset_ids())}")
    return m


def fill_from_preset(data: object, *, shape_fields: bool = False) -> object:
    """Before-validator helper: a ``model`` field supplies ``params`` and ``active_params``.

    For serving (``shape_fields``) it also supplies the layer count, hidden size and KV heads, unless given.

    Raises:
        ValueError: unknown model, or a ``params`` that contradicts the preset.
    """
    if not isinstance(data, dict) or not data.get("model"):
        return data
    try:
        preset = model_preset(str(data["model"]))
    except InvalidInputError as exc:
        raise ValueError(exc.message) from None
    total, active, _ = preset.counts()
    out = dict(data)
    if out.get("params") is None:
        out["params"] = total
    elif isinstance(out["params"], int | float) and abs(float(out["params"]) / total - 1) > 0.05:
        raise ValueError(f"params {float(out['params']):g} contradict model {preset.id} ({total:.4g}); give one")
    if preset.moe is not None and out.get("active_params") is None:
        out["active_params"] = active
    if shape_fields:
        out.setdefault("n_layers", preset.layers)
        out.setdefault("d_model", preset.hidden)
        out.setdefault("n_kv_heads", preset.kv_heads)
    return out
