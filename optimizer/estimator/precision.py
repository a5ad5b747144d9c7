"""Serving precisions: bytes per weight and per KV value, and the tensor peak each one computes at.

Weights (``precision``) and the KV cache (``kv_precision``) are chosen apart:

    bf16/fp16  16-bit weights and activations (W16A16)
    fp8        FP8 weights and activations (W8A8, e4m3 with per-tensor or per-block scales)
    int8       INT8 weights and activations (W8A8, SmoothQuant-style)
    fp4        FP4 weights and activations (NVFP4: 4-bit values plus one FP8 scale per 16 → 4.5 bits; needs FP4
               tensor cores, Blackwell)
    int4       4-bit weights, 16-bit activations (W4A16, AWQ/GPTQ with a 16-bit scale per group of 128 → 4.125 bits
               plus zero points ≈ 4.25): memory and bandwidth of 4 bits, compute at the 16-bit peak
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from optimizer.catalog import Accelerator
from optimizer.errors import InvalidInputError, UnsupportedPrecisionError
from optimizer.estimator.efficiency import EfficiencyModel

ServePrecision = Literal["bf16", "fp16", "fp8", "int8", "fp4", "int4"]
KvPrecision = Literal["bf16", "fp16", "fp8", "int8", "fp4"]
SERVE_PRECISIONS: tuple[str, ...] = ("bf16", "fp16", "fp8", "int8", "fp4", "int4")
KV_PRECISIONS: tuple[str, ...] = ("bf16", "fp16", "fp8", "int8", "fp4")

WEIGHT_BYTES: dict[str, float] = {"bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "int8": 1.0, "fp4": 4.5 / 8, "int4": 4.25 / 8}
"""Bytes per matmul weight, scales included (NVFP4: FP8 scale per 16 values; INT4: 16-bit scale and zero per 128)."""
KV_BYTES: dict[str, float] = {"bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "int8": 1.0, "fp4": 4.5 / 8}
"""Bytes per cached K or V value (FP8/INT8 per-tensor scales are negligible; NVFP4 KV carries its block scales)."""
W4A16_EFFICIENCY = 0.80
"""Compute-bound W4A16 GEMMs reach this share of the 16-bit GEMM rate (dequantisation inside the kernel; assumption:
Marlin-class kernels are close to FP16 at small batch and fall behind at large batch)."""


@dataclass(frozen=True)
class ServingPeaks:
    """Tensor peaks a serving precision computes at (TFLOPS) and the GEMM efficiency factor it carries."""

    linear: float  # peak the quantised linear layers run at
    linear_name: str
    sixteen: float  # 16-bit peak (attention, non-quantised layers)
    gemm_factor: float  # share of the calibrated 16-bit GEMM efficiency reached at the linear peak


def serving_peaks(acc: Accelerator, precision: str, eff: EfficiencyModel) -> ServingPeaks:
    """Peaks for serving ``precision`` on ``acc``.

    Raises:
        UnsupportedPrecisionError: the part lacks the tensor format, or its peak is not sourced.
        InvalidInputError: unknown precision.
    """
    if precision not in WEIGHT_BYTES:
        raise InvalidInputError(f"unknown precision {precision!r}; choose one of {', '.join(SERVE_PRECISIONS)}")
    d = acc.dense
    sixteen_fig = d.bf16 if d.bf16.known else d.fp16
    if precision == "fp16" and d.fp16.known:
        sixteen_fig = d.fp16
    if sixteen_fig.value is None:
        raise UnsupportedPrecisionError(f"{acc.id}: no 16-bit dense peak is sourced ({d.bf16.reason or d.fp16.reason})")
    sixteen = float(sixteen_fig.value)
    if precision in ("bf16", "fp16"):
        return ServingPeaks(sixteen, precision, sixteen, 1.0)
    if precision == "int4":
        return ServingPeaks(sixteen, "16-bit (W4A16)", sixteen, W4A16_EFFICIENCY)
    fig = d.low_precision(precision)
    if fig is None or fig.value is None:
        why = (fig.reason if fig is not None else None) or "no tensor-core figure in the catalog"
        hint = "; use --precision int4 (4-bit weights, 16-bit compute) or fp8" if precision == "fp4" else ""
        raise UnsupportedPrecisionError(f"{acc.id} has no {precision.upper()} tensor peak ({why}){hint}")
    # Low-precision GEMMs reach the measured FP8 share of their own peak: fp8 rate / bf16 rate = 1.84 of a 2x peak
    # (CAL-H200-TRAIN); the same share is assumed for INT8 and FP4.
    return ServingPeaks(float(fig.value), precision, sixteen, eff.fp8_gemm_speedup / 2.0)


def check_kv_precision(acc: Accelerator, kv: str) -> None:
    """An FP4 KV cache needs FP4 tensor support (Blackwell); the others are storage formats any part can use.

    Raises:
        UnsupportedPrecisionError: FP4 KV on a part without FP4.
        InvalidInputError: unknown KV precision.
    """
    if kv not in KV_BYTES:
        raise InvalidInputError(f"unknown KV-cache precision {kv!r}; choose one of {', '.join(KV_PRECISIONS)}")
    if kv == "fp4" and (acc.dense.fp4 is None or acc.dense.fp4.value is None):
        raise UnsupportedPrecisionError(f"{acc.id} has no FP4 support for an FP4 KV cache; use --kv-precision fp8")
