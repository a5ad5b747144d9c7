"""The efficiency model: calibration-derived constants with provenance, loaded from ``efficiency.yaml``.

Block efficiency (model FLOPs achieved / dense peak, one device, no communication) is

    1 / (1 / e_gemm(width) + kappa * (peak / peak_ref) * (hbm_ref / hbm))

where ``e_gemm`` is the measured Hopper GEMM efficiency at the layer's effective width (scaled per
architecture profile) and ``kappa`` the measured non-GEMM time per FLOP on the H200, rescaled to the
target chip's compute-to-bandwidth ratio. A compute-poor, bandwidth-rich chip (H20) therefore reaches
a higher fraction of its small peak than an H100.
"""

from __future__ import annotations

import math
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from optimizer.catalog import Accelerator

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: the same safe load, faster


class _M(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Profile(_M):
    """Per-architecture adjustment of the Hopper measurements."""

    gemm_scale: float
    uncertainty: float
    source: tuple[str, ...] = ()
    note: str = ""


class Ranged(_M):
    """A constant with a low/high band."""

    value: float
    low: float | None = None
    high: float | None = None
    source: tuple[str, ...] = ()
    provenance: str = ""


class Stack(_M):
    """A software-stack profile: what it overlaps and which attention kernel it runs (efficiency.yaml)."""

    note: str
    grad_overlap: bool
    param_overlap: bool
    prefetch: float
    tp_overlap: float
    p2p_overlap: float
    a2a_overlap: float
    flash: bool
    fp8_saved_inputs: bool = Field(False, description="FP8 runs cache 1-byte linear-layer inputs for the backward "
                                                      "(Transformer Engine); False where 16-bit inputs are kept.")
    bucket_params: float
    source: tuple[str, ...] = ()
    provenance: str = "assumption"


class GoodputModel(_M):
    """Goodput = 1 / (1 + checkpoint/eval share + failures per hour × restart cost)."""

    failures_per_accelerator_hour: Ranged
    restart_hours: Ranged
    checkpoint_eval_share: Ranged

    def goodput(self, accelerators: int, *, band: str = "value") -> float:
        """Goodput at this scale; ``band`` = value | low | high (low = pessimistic inputs)."""
        def pick(r: Ranged, worse_is_high: bool) -> float:
            if band == "value":
                return r.value
            want_high = (band == "low") == worse_is_high
            return (r.high if want_high else r.low) or r.value
        rate = pick(self.failures_per_accelerator_hour, True)
        cost = pick(self.restart_hours, True)
        share = pick(self.checkpoint_eval_share, True)
        return 1.0 / (1.0 + share + rate * accelerators * cost)


class EfficiencyModel(_M):
    """All efficiency constants, typed."""

    peak_ref_tflops: float
    hbm_ref_tbps: float
    gemm_points: tuple[tuple[float, float], ...]
    gemm_floor: float
    gemm_cap: float
    kappa: Ranged
    fp8_gemm_speedup: float
    fp8_cast_overhead: float
    decode_bandwidth: Ranged
    profiles: dict[str, Profile]
    sku_profiles: dict[str, str]
    vendor_profiles: dict[str, str]
    link_efficiency: float
    fabric_efficiency: dict[str, float]
    collective_latency_s: float
    sync_overhead_per_doubling: float
    memory_overhead_gb: float
    memory_fragmentation: float
    goodput: Ranged
    bytes_per_param: float
    activation_coefficient: float
    full_recompute_coefficient: float
    gemm_ref_tokens: float
    gemm_half_tokens: float
    latency_intra_s: float
    latency_inter_s: float
    stacks: dict[str, Stack]
    default_stacks: dict[str, str]
    default_fabrics: dict[str, str]
    goodput_model: GoodputModel
    optimizer_bytes: dict[str, float]
    expert_imbalance: float = 1.0

    def stack_for(self, acc: Accelerator, name: str | None) -> tuple[str, Stack]:
        """The declared stack, else the profile's default."""
        key = name or self.default_stacks.get(self.profile_name(acc)) or self.default_stacks["default"]
        return key, self.stacks[key]

    def tokens_factor(self, tokens: float) -> float:
        """GEMM efficiency relative to the calibration's 8192 tokens per GEMM."""
        t0 = self.gemm_half_tokens
        return (tokens / (tokens + t0)) / (self.gemm_ref_tokens / (self.gemm_ref_tokens + t0))

    def profile_name(self, acc: Accelerator) -> str:
        """Profile for an accelerator: by SKU, then by vendor, else ``generic``."""
        return self.sku_profiles.get(acc.id) or self.vendor_profiles.get(acc.vendor) or "generic"

    def profile(self, acc: Accelerator) -> Profile:
        """The efficiency profile of an accelerator."""
        return self.profiles[self.profile_name(acc)]

    def gemm_efficiency(self, width: float, acc: Accelerator, tokens: float | None = None) -> float:
        """GEMM fraction of dense peak at an effective layer width and tokens per GEMM.

        Width: log2 interpolation of the measurements at 8192 tokens; tokens: the saturating factor
        T/(T+T_half), normalised to 1 at the calibration's 8192 tokens (efficiency.yaml ``gemm_tokens``).
        """
        (w0, e0), (w1, e1) = self.gemm_points[0], self.gemm_points[-1]
        slope = (e1 - e0) / math.log2(w1 / w0)
        e = e0 + slope * math.log2(max(width, 1.0) / w0)
        e = min(max(e, self.gemm_floor), self.gemm_cap)
        if tokens is not None:
            e = min(max(e * self.tokens_factor(tokens), 0.05), self.gemm_cap)
        return e * self.profile(acc).gemm_scale

    def bandwidth_term(self, acc: Accelerator, peak_tflops: float, *, kappa: float | None = None) -> float:
        """Non-GEMM time per FLOP on this chip, in units of 1/peak (kappa rescaled by compute/bandwidth)."""
        hbm = acc.memory_bandwidth_tbps.value or self.hbm_ref_tbps
        k = self.kappa.value if kappa is None else kappa
        return k * (peak_tflops / self.peak_ref_tflops) * (self.hbm_ref_tbps / hbm)

    def block_efficiency(
        self,
        acc: Accelerator,
        *,
        width: float,
        peak16_tflops: float,
        precision: Literal["bf16", "fp16", "fp8"],
        attention_share: float,
        scale: float = 1.0,
        kappa: float | None = None,
    ) -> float:
        """Model FLOPs achieved per second / 16-bit dense peak for one device (no communication).

        Args:
            acc: the accelerator.
            width: effective GEMM width (hidden size, reduced by tensor parallelism).
            peak16_tflops: the 16-bit dense peak the result is relative to.
            precision: ``bf16`` or ``fp8`` (fp8 speeds up the linear layers only).
            attention_share: fraction of FLOPs in attention (kept in 16-bit).
            scale: multiplier on GEMM efficiency (uncertainty band).
            kappa: override of the non-GEMM coefficient (uncertainty band).
        """
        e_g = min(self.gemm_efficiency(width, acc) * scale, 0.95)
        other = self.bandwidth_term(acc, peak16_tflops, kappa=kappa)
        if precision == "fp8":
            linear = (1 - attention_share) / (e_g * self.fp8_gemm_speedup)
            attention = attention_share / e_g
            cast = self.fp8_cast_overhead * (peak16_tflops / self.peak_ref_tflops) * (
                self.hbm_ref_tbps / (acc.memory_bandwidth_tbps.value or self.hbm_ref_tbps)
            )
            return 1.0 / (linear + attention + other + cast)
        return 1.0 / (1.0 / e_g + other)


def _ranged(raw: dict[str, Any]) -> Ranged:
    return Ranged.model_validate(raw)


@lru_cache(maxsize=1)
def load_efficiency() -> EfficiencyModel:
    """Load the embedded efficiency model (cached)."""
    text = resources.files("optimizer.data").joinpath("efficiency.yaml").read_text(encoding="utf-8")
    raw = yaml.load(text, Loader=_YAML_LOADER)
    cl = raw["cluster"]
    return EfficiencyModel(
        peak_ref_tflops=raw["hopper_reference"]["peak_bf16_tflops"],
        hbm_ref_tbps=raw["hopper_reference"]["hbm_tbps"],
        gemm_points=tuple(tuple(p) for p in raw["gemm_efficiency"]["points"]),
        gemm_floor=raw["gemm_efficiency"]["floor"],
        gemm_cap=raw["gemm_efficiency"]["cap"],
        kappa=_ranged(raw["non_gemm_coefficient"]),
        fp8_gemm_speedup=raw["fp8"]["gemm_speedup"],
        fp8_cast_overhead=raw["fp8"]["cast_overhead"],
        decode_bandwidth=_ranged(raw["decode_bandwidth_fraction"]),
        profiles={k: Profile.model_validate(v) for k, v in raw["profiles"].items()},
        sku_profiles=raw["sku_profiles"],
        vendor_profiles=raw["vendor_profiles"],
        link_efficiency=cl["link_efficiency"]["value"],
        fabric_efficiency={k: v for k, v in cl["fabric_efficiency"].items() if isinstance(v, int | float)},
        collective_latency_s=cl["collective_latency_us"]["value"] * 1e-6,
        sync_overhead_per_doubling=cl["sync_overhead_per_doubling"]["value"],
        memory_overhead_gb=cl["memory_overhead_gb"]["value"],
        memory_fragmentation=cl["memory_fragmentation"]["value"],
        goodput=_ranged(raw["goodput"]),
        bytes_per_param=raw["memory"]["bytes_per_param_adam_mixed"],
        activation_coefficient=raw["memory"]["activation_bytes_coefficient"],
        full_recompute_coefficient=raw["memory"]["full_recompute_bytes_coefficient"],
        gemm_ref_tokens=raw["gemm_tokens"]["reference_tokens"],
        gemm_half_tokens=raw["gemm_tokens"]["half_tokens"],
        latency_intra_s=raw["latency"]["intra_node_us"]["value"] * 1e-6,
        latency_inter_s=raw["latency"]["inter_node_us"]["value"] * 1e-6,
        stacks={k: Stack.model_validate(v) for k, v in raw["stacks"].items()},
        default_stacks=raw["default_stacks"],
        default_fabrics={k: v for k, v in raw["default_fabrics"].items() if isinstance(v, str)},
        goodput_model=GoodputModel(**{k: _ranged(v) for k, v in raw["goodput_model"].items()}),
        optimizer_bytes={k: float(v) for k, v in raw["optimizers"].items() if isinstance(v, int | float)},
        expert_imbalance=float((raw.get("moe_serving") or {}).get("expert_imbalance", 1.0)),
    )
