"""Estimator: hand-computed FLOPs, memory, communication, decode and cost; physics; bad input."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from optimizer.catalog import Catalog
from optimizer.errors import InvalidInputError, UnsupportedPrecisionError
from optimizer.estimator import (
    CostRequest,
    InferenceRequest,
    PlanChoice,
    TrainingRequest,
    estimate_cost,
    estimate_inference,
    estimate_training,
    infer_shape,
    load_efficiency,
)
from optimizer.estimator.comm import allreduce_s as _allreduce_s

LLAMA70 = {"params": 70e9, "n_layers": 80, "d_model": 8192}


def _train(catalog: Catalog, **kw: object):  # type: ignore[no-untyped-def]
    base = {**LLAMA70, "tokens": 1.4e12, "accelerator": "h100-sxm", "count": 1024}
    base.update(kw)
    return estimate_training(catalog, TrainingRequest(**base))  # type: ignore[arg-type]


# ------------------------------------------------------------------ FLOPs
def test_flops_per_token_and_total_by_hand(catalog: Catalog) -> None:
    est = _train(catalog)
    # 6·N = 4.2e11; causal attention 6·layers·seq·hidden = 6·80·4096·8192 = 1.61061e10
    assert est.flops_per_token == pytest.approx(4.2e11 + 6 * 80 * 4096 * 8192)
    assert est.total_flops == pytest.approx(est.flops_per_token * 1.4e12)
    assert est.total_flops == pytest.approx(6.1055e23, rel=1e-3)


def test_mfu_is_consistent_with_hours(catalog: Catalog) -> None:
    est = _train(catalog)
    assert est.accelerator_hours is not None and est.mfu is not None and est.tokens_per_s is not None
    seconds = est.accelerator_hours * 3600 / est.count
    # MFU = 6·N·tokens/s / (count · peak); hours = tokens / throughput / goodput
    assert seconds == pytest.approx(1.4e12 / est.tokens_per_s / est.goodput, rel=1e-9)
    assert est.mfu == pytest.approx(6 * 70e9 * est.tokens_per_s / (1024 * 989.4e12), rel=1e-9)
    assert "bf16 989.4" in (est.mfu_peak or "")


# ------------------------------------------------------------------ memory under two shardings
def test_memory_70b_tp8_zero1_by_hand(catalog: Catalog) -> None:
    plan = PlanChoice(tp=8, pp=1, zero_stage=1, recompute="none", micro_batch=1)
    est = _train(catalog, count=1024, plan=plan)
    m = est.memory
    assert m is not None and est.plan is not None
    dp = 1024 // 8
    p_dev = 70e9 / 8
    assert m.weights_gb == pytest.approx(p_dev * 2 / 1e9)  # 17.5 GB bf16 weights
    assert m.gradients_gb == pytest.approx(p_dev * 2 / 1e9)  # 17.5 GB bf16 grads
    assert m.optimizer_gb == pytest.approx(p_dev * 12 / dp / 1e9)  # fp32 master+m+v sharded over DP = 0.82 GB
    act = 34 * 4096 * 8192 / 8 * 80 + 4 * 4096 * 128_000 / 8  # per layer ·80 layers + fp32 logits
    assert m.activations_gb == pytest.approx(act / 1e9)
    assert m.total_gb == pytest.approx((17.5 + 17.5 + 0.8203125 + act / 1e9) * 1.08 + 3.0, rel=1e-6)


def test_memory_70b_zero3_shards_everything(catalog: Catalog) -> None:
    plan = PlanChoice(tp=8, pp=1, zero_stage=3, recompute="full", micro_batch=1)
    est = _train(catalog, count=1024, plan=plan)
    m = est.memory
    assert m is not None
    assert m.weights_gb == pytest.approx(70e9 / 8 / 128 * 2 / 1e9)
    assert m.gradients_gb == pytest.approx(70e9 / 8 / 128 * 2 / 1e9)
    assert m.optimizer_gb == pytest.approx(70e9 / 8 / 128 * 12 / 1e9)
    # full recompute keeps only each layer's input, 2·seq·hidden bytes, sharded over TP by sequence parallelism
    assert m.activations_gb == pytest.approx((2 * 4096 * 8192 * 80 / 8 + 4 * 4096 * 128_000 / 8) / 1e9)


def test_70b_does_not_fit_one_node_and_reports_minimum(catalog: Catalog) -> None:
    est = _train(catalog, count=4)
    assert est.status == "does_not_fit"
    assert est.minimum_count is not None and est.minimum_count > 4
    ok = _train(catalog, count=est.minimum_count)
    assert ok.status == "ok"


# ------------------------------------------------------------------ communication
def test_ring_allreduce_by_hand() -> None:
    # 1 GB over 8 ranks at 50 GB/s per direction: 2·(7/8)·1e9/50e9 = 0.035 s
    assert _allreduce_s(1e9, 8, 50.0, 0.0) == pytest.approx(0.035)
    assert _allreduce_s(1e9, 1, 50.0, 0.0) == 0.0
    assert _allreduce_s(0.0, 4, 50.0, 1e-5) == pytest.approx(6e-5)


def test_dp_allreduce_time_in_a_plan_by_hand(catalog: Catalog) -> None:
    # TP 8 fills the node, so each GPU's DP peers sit in other nodes: the ring runs on its own NIC.
    plan = PlanChoice(tp=8, pp=1, zero_stage=1, recompute="none", micro_batch=1)
    est = _train(catalog, count=1024, plan=plan, fabric="ib-ndr-400")
    assert est.step is not None
    eff = load_efficiency()
    bw = 400 / 8 * eff.fabric_efficiency["infiniband"]  # 42.5 GB/s per GPU
    grads = 70e9 / 8 * 2  # bf16 gradient bytes per device
    expected = 2 * 127 / 128 * grads / (bw * 1e9) + 2 * 7 * eff.latency_inter_s  # tree latency: 2·log2(128) steps
    assert est.step.dp_comm_s == pytest.approx(expected)


# ------------------------------------------------------------------ inference
def test_kv_bytes_per_token_of_a_gqa_model() -> None:
    shape = infer_shape(70e9, n_layers=80, d_model=8192)
    assert shape.kv_bytes_per_token(2.0) == 2 * 80 * 8 * 128 * 2  # 327,680 bytes: GQA with 8 KV heads
    assert shape.kv_bytes_per_token(1.0) == 163_840  # FP8


def test_inference_sizes_replicas_for_rate(catalog: Catalog) -> None:
    req = InferenceRequest(params=70e9, accelerator="h200", requests_per_s=50, prompt_tokens=1024,
                           output_tokens=256, n_layers=80, d_model=8192)
    est = estimate_inference(catalog, req)
    assert est.status == "ok" and est.replicas and est.tp and est.requests_per_s_per_replica
    # the replicas carry the rate at their sustainable per-replica rate (limits and the 80 % ceiling included)
    assert est.replicas == math.ceil(50 / est.requests_per_s_per_replica - 1e-9)
    assert est.accelerators == est.replicas * est.tp * (est.pp or 1)
    assert est.tpot_s is not None and est.tpot_s <= 0.10 and est.ttft_s is not None and est.ttft_s <= 2.0
    assert est.latency_basis == "p99" and est.ttft_p99_s is not None and est.ttft_p50_s is not None
    assert est.ttft_p50_s <= est.ttft_p99_s and est.tpot_p50_s is not None and est.tpot_p99_s is not None


def test_inference_does_not_fit_and_latency(catalog: Catalog) -> None:
    too_big = estimate_inference(catalog, InferenceRequest(params=70e9, accelerator="l2", tp=1))
    assert too_big.status == "does_not_fit"
    strict = estimate_inference(catalog, InferenceRequest(params=70e9, accelerator="l20", tpot_s=0.001))
    assert strict.status == "latency_unmet"


# ------------------------------------------------------------------ cost
def test_capex_and_opex_by_hand(catalog: Catalog) -> None:
    est = estimate_cost(catalog, CostRequest(accelerator="h20", accelerators=1024, currency="CNY"))
    assert est.nodes == 128
    assert est.capex.base == pytest.approx(128 * 1_300_000)  # HGX H20 server CNY 1.3M base
    assert est.capex.low == pytest.approx(128 * 1_200_000) and est.capex.high == pytest.approx(128 * 1_400_000)
    kw = 8 * 400 * 1.82 / 1000  # 8 × 400 W × server factor 1.82
    cny_per_kwh = 0.088 * 7.18
    hosting = 0.05 * 128 * 1_300_000  # hosting/maintenance: 5 % of the hardware price a year (assumption, grade A)
    per_year = 128 * kw * 0.75 * 1.3 * 8760 * cny_per_kwh + hosting
    assert est.opex_per_year.base == pytest.approx(per_year)
    assert est.hosting.base == pytest.approx(hosting * 3)
    assert est.opex.base == pytest.approx(per_year * 3)
    assert est.total.base == pytest.approx(128 * 1_300_000 + per_year * 3)
    assert est.total.low < est.total.base < est.total.high


def test_cost_derived_node_price_fx_and_adders(catalog: Catalog) -> None:
    usd = estimate_cost(catalog, CostRequest(accelerator="ascend-910b", accelerators=16, currency="USD",
                                             fee_fraction=0.15, risk_premium=0.1))
    # 8 × CNY 120,000 / 7.18 + US$50,000 overhead per node
    node = 8 * 120_000 / 7.18 + 50_000
    assert usd.node_price.base == pytest.approx(node)
    assert usd.hardware.base == pytest.approx(2 * node)
    assert usd.fees.base == pytest.approx(0.15 * 2 * node) and usd.risk.base == pytest.approx(0.1 * 2 * node)


def test_cost_errors(catalog: Catalog) -> None:
    with pytest.raises(InvalidInputError, match="no sourced price"):
        estimate_cost(catalog, CostRequest(accelerator="l20", accelerators=8))
    with pytest.raises(ValidationError):
        CostRequest(accelerator="h20", accelerators=0)


# ------------------------------------------------------------------ the three-way comparison
def test_h20_vs_910b_vs_h800_differ_explainably(catalog: Catalog) -> None:
    kw = {"tokens": 1.4e12, "count": 1024, "buyer_country": "CN"}
    h20 = _train(catalog, accelerator="h20", **kw)
    b910 = _train(catalog, accelerator="ascend-910b", **kw)
    h800 = _train(catalog, accelerator="h800", **kw)
    assert h20.accelerator_hours and b910.accelerator_hours and h800.accelerator_hours
    # Slowest peak (148 TFLOPS) → most hours; H800 has the H100's compute.
    assert h20.accelerator_hours > b910.accelerator_hours > h800.accelerator_hours
    # H20 is compute-poor and bandwidth-rich: highest MFU, compute-bound.
    assert h20.mfu and b910.mfu and h800.mfu
    assert h20.mfu > h800.mfu > b910.mfu
    assert h20.bottleneck == "compute-bound"
    assert any("compute-poor and bandwidth-rich" in s for s in h20.limits)
    # The Ascend's MFU refers to its FP16 peak (no BF16 figure is sourced).
    assert (b910.mfu_peak or "").startswith("fp16")
    # The H800's 400 GB/s NVLink shows up as tensor-parallel or pipeline cost; its TP comm share > H20's.
    assert h800.step and h20.step
    assert h800.step.tp_comm_s / h800.step.step_s > h20.step.tp_comm_s / h20.step.step_s


def test_fp8_is_faster_but_well_below_2x(catalog: Catalog) -> None:
    bf16 = _train(catalog, accelerator="h800", precision="bf16")
    fp8 = _train(catalog, accelerator="h800", precision="fp8")
    assert bf16.accelerator_hours and fp8.accelerator_hours
    speedup = bf16.accelerator_hours / fp8.accelerator_hours
    assert 1.1 < speedup < 1.7
    assert (fp8.mfu_peak or "").startswith("fp8")


def test_mfu_falls_with_scale_at_fixed_batch(catalog: Catalog) -> None:
    small = _train(catalog, count=512, global_batch_tokens=4e6)
    large = _train(catalog, count=8192, global_batch_tokens=4e6)
    assert small.mfu and large.mfu and large.mfu < small.mfu


def test_mfu_rises_with_model_size(catalog: Catalog) -> None:
    m7 = estimate_training(catalog, TrainingRequest(params=7e9, tokens=1e12, accelerator="h100-sxm", count=256))
    m70 = estimate_training(catalog, TrainingRequest(params=70e9, tokens=1e12, accelerator="h100-sxm", count=256))
    assert m7.mfu and m70.mfu and m70.mfu > m7.mfu


def test_range_brackets_the_base(catalog: Catalog) -> None:
    est = _train(catalog)
    assert est.accelerator_hours_low is not None and est.accelerator_hours_high is not None
    assert est.accelerator_hours_low < est.accelerator_hours < est.accelerator_hours_high  # type: ignore[operator]


def test_deadline_mode_picks_smallest_count(catalog: Catalog) -> None:
    est = estimate_training(catalog, TrainingRequest(**LLAMA70, tokens=1.4e12, accelerator="h100-sxm",
                                                     deadline_days=30))
    assert est.status == "ok" and est.wall_clock_days is not None and est.wall_clock_days <= 30
    fewer = _train(catalog, count=est.count - 8)
    assert fewer.wall_clock_days is not None and fewer.wall_clock_days > 30


# ------------------------------------------------------------------ bad input
def test_bad_training_input(catalog: Catalog) -> None:
    with pytest.raises(ValidationError):
        TrainingRequest(params=70e9, tokens=1e12, accelerator="h100-sxm", count=0)
    with pytest.raises(ValidationError):
        TrainingRequest(params=70e9, tokens=-1, accelerator="h100-sxm", count=8)
    with pytest.raises(ValidationError, match="count or a deadline"):
        TrainingRequest(params=70e9, tokens=1e12, accelerator="h100-sxm")
    with pytest.raises(UnsupportedPrecisionError, match="no FP8"):
        _train(catalog, accelerator="a100-80gb", precision="fp8")
    with pytest.raises(UnsupportedPrecisionError, match="no 16-bit"):
        estimate_training(catalog, TrainingRequest(params=7e9, tokens=1e12, accelerator="mlu590", count=8))
    with pytest.raises(InvalidInputError, match="unknown fabric"):
        _train(catalog, fabric="carrier-pigeon")


def test_model_that_fits_no_count(catalog: Catalog) -> None:
    est = estimate_training(catalog, TrainingRequest(params=2e15, tokens=1e12, accelerator="l2", count=8))
    assert est.status == "does_not_fit"
    assert "do not fit" in est.message


@settings(max_examples=40, deadline=None)
@given(params=st.floats(1e9, 4e11), count=st.sampled_from([64, 256, 1024, 4096]),
       sku=st.sampled_from(["h100-sxm", "h20", "a100-80gb", "ascend-910b", "h800"]))
def test_estimates_are_physical(catalog: Catalog, params: float, count: int, sku: str) -> None:
    est = estimate_training(catalog, TrainingRequest(params=params, tokens=1e12, accelerator=sku, count=count))
    if est.status == "ok":
        assert est.mfu is not None and 0.0 < est.mfu < 0.75
        assert est.memory is not None and est.memory.total_gb <= est.memory.capacity_gb * 1.0001
        assert est.plan is not None and est.plan.tp * est.plan.pp * est.plan.dp <= count
    else:
        assert est.minimum_count is None or est.minimum_count > count
