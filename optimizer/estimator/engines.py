"""Serving-engine profiles (``engines.yaml``): scheduler defaults and kernel figures with provenance."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from optimizer.catalog import Accelerator
from optimizer.errors import InvalidInputError

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: the same safe load, faster

EngineName = Literal["generic", "trtllm", "vllm", "sglang", "mindie"]
ENGINE_NAMES: tuple[str, ...] = ("generic", "trtllm", "vllm", "sglang", "mindie")


class EngineProfile(BaseModel):
    """One serving engine: how it batches, pages the KV cache and reserves memory, and how fast its kernels run."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    note: str
    mixed_batching: bool
    max_num_tokens: int = Field(ge=64)
    max_batch: int = Field(ge=1)
    kv_block_tokens: int = Field(ge=1)
    kv_reservation: Literal["full", "on_demand"]
    memory_fraction: float = Field(gt=0, le=1)
    memory_basis: Literal["total", "free"]
    gemm_scale: float = Field(gt=0, le=1.5)
    attention_bw_scale: float = Field(gt=0, le=1.2)
    prefill_attention_efficiency: float = Field(gt=0, le=1)
    fp8_context_attention: bool
    step_overhead_ms: float = Field(ge=0)
    host_us_per_sequence: float = Field(0.0, ge=0, description="Host time per running sequence per step.")
    host_overlap: bool = Field(False, description="Host work runs behind the GPU step (overlap scheduler).")
    allreduce_latency_us: float = Field(ge=0)
    attention_dp_balance: bool = Field(False, description="Data-parallel attention ranks take new prompts together "
                                       "(no rank prefills alone while the others wait at the MoE all-to-all).")
    provenance: dict[str, str] = Field(default_factory=dict)
    sources: tuple[str, ...] = ()


class EngineBook(BaseModel):
    """All profiles, the vendor defaults and the source URLs."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    engines: dict[str, EngineProfile]
    defaults: dict[str, str]
    sources: dict[str, str] = Field(default_factory=dict)

    def for_accelerator(self, acc: Accelerator, name: str | None) -> tuple[str, EngineProfile]:
        """The named engine, else the vendor's default (MindIE on Ascend), else ``generic``.

        Raises:
            InvalidInputError: an unknown engine name.
        """
        key = (name or self.defaults.get(acc.vendor) or self.defaults["default"]).strip().lower()
        prof = self.engines.get(key)
        if prof is None:
            raise InvalidInputError(f"unknown engine {name!r}; choose one of {', '.join(sorted(self.engines))}")
        return key, prof


@lru_cache(maxsize=1)
def load_engines() -> EngineBook:
    """The embedded engine profiles (cached)."""
    text = resources.files("optimizer.data").joinpath("engines.yaml").read_text(encoding="utf-8")
    return EngineBook.model_validate(yaml.load(text, Loader=_YAML_LOADER))
