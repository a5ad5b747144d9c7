"""Inference estimator: the request and the answer of ``estimate inference`` (the search is in ``serving_search``).

For a model, an accelerator, an engine and precisions, each replica layout (TP × PP, and for MoE tensor- or
expert-parallel experts) is sized from first principles (:mod:`optimizer.estimator.serving`): weights and a paged
KV cache set the sequences a replica can hold, the engine's step (decode plus prefill chunks) sets the time per
output token, and a queueing model (:mod:`optimizer.estimator.queueing`) turns the request rate into p50/p99 time
to first token. With a rate, the cheapest layout that meets the limits is sized in replicas; without one, the
layout with the most output tokens per accelerator at the limits is reported (for ``count`` accelerators when given).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from optimizer.estimator.common import Assumption
from optimizer.estimator.engines import EngineName
from optimizer.estimator.models import fill_from_preset
from optimizer.estimator.precision import KvPrecision, ServePrecision
from optimizer.estimator.shapes import ModelShape

LatencyBasis = Literal["p50", "p90", "p99", "mean"]
Histogram = tuple[tuple[float, float], ...]


class InferenceRequest(BaseModel):
    """A model to serve at a request rate under latency limits, with the serving stack's knobs."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    params: float = Field(gt=0, le=1e14)
    model: str | None = Field(None, min_length=1, max_length=80,
                              description="Model preset (fills params, layers, hidden and KV heads).")
    active_params: float | None = Field(None, gt=0, le=1e14)
    accelerator: str = Field(min_length=1)
    precision: ServePrecision = Field("bf16", description="Weights: bf16/fp16, fp8 or int8 (W8A8), fp4 (W4A4, "
                                      "Blackwell), int4 (4-bit weights, 16-bit compute).")
    kv_precision: KvPrecision | None = Field(None, description="KV cache: bf16/fp16, fp8, int8 or fp4; default "
                                             "16-bit (the engines' 'auto').")
    prompt_tokens: int = Field(2048, ge=1, le=2_000_000, description="Mean prompt length.")
    output_tokens: int = Field(512, ge=1, le=1_000_000, description="Mean output length.")
    prompt_tokens_std: float | None = Field(None, ge=0, le=2_000_000, description="Spread of prompt lengths.")
    output_tokens_std: float | None = Field(None, ge=0, le=1_000_000, description="Spread of output lengths.")
    prompt_histogram: Histogram | None = Field(None, max_length=200,
                                               description="Prompt lengths as [tokens, weight] pairs.")
    output_histogram: Histogram | None = Field(None, max_length=200,
                                               description="Output lengths as [tokens, weight] pairs.")
    prefix_cache_hit: float = Field(0.0, ge=0, le=0.99, description="Share of prompt tokens found in the prefix "
                                    "cache (not prefilled again).")
    requests_per_s: float | None = Field(None, gt=0, le=1e7)
    ttft_s: float | None = Field(2.0, gt=0, le=3600, description="Time-to-first-token limit (None: no limit).")
    tpot_s: float | None = Field(0.10, gt=0, le=60, description="Time-per-output-token limit (None: no limit).")
    latency_basis: LatencyBasis = Field("p99", description="Which statistic the limits bound: p50, p90, p99 or "
                                        "mean.")
    target_utilisation: float = Field(0.8, gt=0.05, le=1.0, description="Load ceiling per replica (headroom).")
    tp: int | None = Field(None, ge=1, le=64)
    pp: int | None = Field(None, ge=1, le=64, description="Pipeline stages per replica.")
    ep: int | None = Field(None, ge=1, le=1024, description="Expert parallelism (MoE): ep > 1 runs experts "
                           "expert-parallel with data-parallel attention over ep = tp ranks; 1 keeps experts TP.")
    engine: EngineName | None = Field(None, description="Serving engine profile (default: MindIE on Ascend, "
                                      "else generic).")
    max_batch: int | None = Field(None, ge=1, le=1_000_000, description="Concurrent sequences per replica "
                                  "(engine default when omitted).")
    max_num_tokens: int | None = Field(None, ge=64, le=1_000_000, description="Tokens per engine step.")
    chunked_prefill: bool | None = Field(None, description="Mix prefill chunks into decode steps (engine "
                                         "default when omitted).")
    memory_fraction: float | None = Field(None, gt=0.1, le=1.0, description="Share of memory the engine gives the "
                                          "KV cache (engine default when omitted).")
    attention_dp_balance: bool | None = Field(None, description="With data-parallel attention (MoE expert "
                                              "parallelism), ranks take new prompts together (engine default "
                                              "when omitted: each rank on its own).")
    count: int | None = Field(None, ge=1, le=1_048_576, description="Serve on exactly this many accelerators: "
                              "report their capacity at the limits.")
    n_layers: int | None = Field(None, ge=1, le=1000)
    d_model: int | None = Field(None, ge=64, le=131072)
    n_kv_heads: int | None = Field(None, ge=1, le=1024)

    @model_validator(mode="before")
    @classmethod
    def _preset(cls, data: object) -> object:
        return fill_from_preset(data, shape_fields=True)

    @model_validator(mode="after")
    def _consistent(self) -> InferenceRequest:
        if self.prompt_histogram is not None and self.prompt_tokens_std is not None:
            raise ValueError("give the prompt spread as a standard deviation or a histogram, not both")
        if self.output_histogram is not None and self.output_tokens_std is not None:
            raise ValueError("give the output spread as a standard deviation or a histogram, not both")
        for name, hist in (("prompt_histogram", self.prompt_histogram), ("output_histogram", self.output_histogram)):
            if hist is not None and (not hist or any(n < 1 or w < 0 for n, w in hist) or sum(w for _, w in hist) <= 0):
                raise ValueError(f"{name} needs [tokens ≥ 1, weight ≥ 0] pairs with a positive total weight")
        if self.ep is not None and self.ep > 1 and self.tp is not None and self.tp != self.ep:
            raise ValueError("expert parallelism runs over the tensor-parallel ranks: give ep equal to tp (or "
                             "leave tp out)")
        if self.active_params is not None and self.active_params > self.params * 1.0001:
            raise ValueError("active_params cannot exceed params")
        return self


class ServingStep(BaseModel):
    """Where one decode cycle of a replica spends its time (seconds per device, at the reported batch)."""

    model_config = ConfigDict(frozen=True)

    cycle_s: float
    dense_gemm_s: float
    expert_gemm_s: float
    lm_head_s: float
    attention_decode_s: float
    attention_prefill_s: float
    other_s: float = Field(description="Norms, residuals, rotary and activations (memory-bound).")
    tp_comm_s: float
    ep_comm_s: float
    pp_comm_s: float
    pipeline_bubble_s: float
    host_overhead_s: float


class InferenceEstimate(BaseModel):
    """Replicas and accelerators for the target, with per-replica performance and latency percentiles."""

    model_config = ConfigDict(frozen=True)

    status: Literal["ok", "does_not_fit", "latency_unmet"]
    message: str
    accelerator: str
    tp: int | None = None
    batch: int | None = Field(None, description="Concurrent sequences per replica at the planned load.")
    replicas: int | None = None
    accelerators: int | None = None
    nodes: int | None = None
    ttft_s: float | None = Field(None, description="Time to first token at the latency basis (p99 by default).")
    tpot_s: float | None = Field(None, description="Time per output token at the latency basis.")
    prefill_s: float | None = None
    requests_per_s_per_replica: float | None = Field(None, description="Sustainable rate per replica at the "
                                                     "limits.")
    output_tokens_per_s_per_accelerator: float | None = Field(None, description="Output tokens/s per accelerator "
                                                              "at the sustainable rate.")
    weights_gb: float
    kv_cache_gb_per_replica: float | None = None
    kv_bytes_per_token: float
    memory_per_device_gb: float | None = None
    bound: str | None = None
    assumptions: list[Assumption] = Field(default_factory=list)
    engine: str = "generic"
    precision: str = "bf16"
    kv_precision: str = "bf16"
    pp: int | None = None
    ep: int | None = None
    moe_mode: str | None = Field(None, description="tp: experts tensor-parallel; dep: expert-parallel experts "
                                 "with data-parallel attention.")
    latency_basis: str = "p99"
    ttft_p50_s: float | None = None
    ttft_p99_s: float | None = None
    tpot_p50_s: float | None = None
    tpot_p99_s: float | None = None
    max_batch: int | None = Field(None, description="Concurrent sequences per replica allowed (memory, engine "
                                  "cap, step budget, TPOT limit).")
    max_sequences_memory: int | None = Field(None, description="Sequences the KV cache of a replica holds.")
    requests_per_s_capacity: float | None = Field(None, description="Sustainable rate of the whole deployment.")
    utilisation: float | None = Field(None, description="Planned load / capacity at the batch cap.")
    limited_by: str | None = Field(None, description="What caps a replica: memory, engine batch, step budget, "
                                   "TPOT or TTFT limit.")
    step: ServingStep | None = None
    weights_gb_per_device: float | None = None
    shape: ModelShape | None = None
    warnings: list[str] = Field(default_factory=list)


class ServingAssumed(BaseModel):
    """What a serving option's capacity assumes: engine, precisions, replica layout and latencies at the basis."""

    model_config = ConfigDict(frozen=True)

    engine: str
    precision: str
    kv_precision: str
    tp: int
    pp: int = 1
    ep: int = 1
    batch: int = Field(description="Concurrent sequences per replica at the planned load.")
    replicas_per_unit: int = Field(description="Replicas in one purchase unit (a node, or the nodes one replica "
                                   "spans).")
    latency_basis: str = "p99"
    ttft_s: float | None = None
    tpot_s: float | None = None
    output_tokens_per_s_per_accelerator: float = 0.0
