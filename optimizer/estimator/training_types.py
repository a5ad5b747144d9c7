"""Requests and results of the training estimator (the typed interface of ``estimate training``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from optimizer.estimator.common import Assumption, TrainPrecision
from optimizer.estimator.shapes import ModelShape

Recompute = Literal["none", "selective", "partial", "full"]
StackName = Literal["megatron-2021", "megatron-core", "fsdp", "deepspeed-zero3", "mindspeed"]
OptimizerName = Literal["adam", "lion", "lamb"]
MAX_COUNT = 1_048_576
DEFAULT_SEQ = 4096


class PlanChoice(BaseModel):
    """A parallelism plan fixed by the user (any field left out is searched)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tp: int | None = Field(None, ge=1, le=64)
    pp: int | None = Field(None, ge=1, le=512)
    dp: int | None = Field(None, ge=1, le=MAX_COUNT)
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
    count: int | None = Field(None, ge=1, le=MAX_COUNT, description="Accelerators; omit to size for a deadline.")
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
    seq_len: int = DEFAULT_SEQ
    range_drivers: list[RangeDriver] = Field(default_factory=list)
    defaulted: list[str] = Field(default_factory=list, description="Inputs that were not given (defaults used).")
    assumptions: list[Assumption] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
