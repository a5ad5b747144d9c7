"""Serving estimator: hand arithmetic for each term, engine profiles, validation and monotonicity properties."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from optimizer.catalog import Catalog
from optimizer.errors import InvalidInputError, UnsupportedPrecisionError
from optimizer.estimator import InferenceRequest, estimate_inference, load_engines, model_preset
from optimizer.estimator.lengths import from_histogram, from_mean
from optimizer.estimator.memory import kv_bytes_per_token_device, paged_tokens
from optimizer.estimator.precision import KV_BYTES, WEIGHT_BYTES
from optimizer.estimator.queueing import (
    erlang_c,
    expected_max_poisson,
    mean_wait,
    occupancy_quantile,
    wait_quantile,
)
from optimizer.estimator.serving import (
    build_plan,
    cycle_parts,
    cycle_time,
    dep_straggler_prefill,
    prefill_latency,
    stage_time,
    tokens_per_sequence,
)
from optimizer.estimator.serving_search import build_model
from optimizer.estimator.serving_validation import load_serving_runs, validate_serving


def _req(**kw: object) -> InferenceRequest:
    base: dict[str, object] = {"model": "llama-3-70b", "accelerator": "h200", "precision": "fp8"}
    base.update(kw)
    return InferenceRequest.model_validate(base)


# ------------------------------------------------------------------ KV cache and weights
@pytest.mark.parametrize(("kv", "expected"), [("bf16", 327_680), ("fp16", 327_680), ("fp8", 163_840),
                                               ("int8", 163_840), ("fp4", 92_160)])
def test_kv_bytes_per_token_at_each_precision(catalog: Catalog, kv: str, expected: float) -> None:
    # Llama 3 70B: 80 layers × 8 KV heads × (128 + 128) values of K and V; NVFP4 carries an FP8 scale per 16 values
    assert 80 * 8 * 256 * KV_BYTES[kv] == expected
    est = estimate_inference(catalog, _req(accelerator="b200", precision="fp4", kv_precision=kv, count=8))
    assert est.kv_bytes_per_token == pytest.approx(expected)
    assert est.kv_precision == kv


def test_mla_latent_cache_is_not_split_by_tensor_parallelism() -> None:
    mla = model_preset("deepseek-v3").shape()
    assert mla.kv_bytes_per_token(1.0) == 61 * (512 + 64)  # 35,136 bytes: one latent + rotary key per layer
    assert kv_bytes_per_token_device(mla, 1.0, tp=8, pp=1) == 61 * 576  # every rank keeps the whole latent
    gqa = model_preset("llama-3-70b").shape()
    assert kv_bytes_per_token_device(gqa, 1.0, tp=8, pp=2) == 80 * 8 * 256 / 8 / 2  # one head each, half the layers
    assert kv_bytes_per_token_device(gqa, 1.0, tp=16, pp=1) == 80 * 256  # 8 heads over 16 ranks: replicated


def test_weight_bytes_per_precision() -> None:
    assert WEIGHT_BYTES["fp8"] == 1.0 and WEIGHT_BYTES["bf16"] == 2.0
    assert WEIGHT_BYTES["fp4"] == pytest.approx(0.5625)  # 4 bits + an 8-bit scale per 16 values
    assert WEIGHT_BYTES["int4"] == pytest.approx(0.53125)  # 4 bits + 16-bit scale and zero per 128


def test_paged_blocks_and_reservation(catalog: Catalog) -> None:
    assert paged_tokens(1000, 16) == pytest.approx(1007.5)  # half a 16-token block wasted on average
    assert paged_tokens(1000, 1) == 1000
    full = build_model(catalog, _req(engine="trtllm", prompt_tokens=1000, output_tokens=1000))
    assert tokens_per_sequence(full) == pytest.approx(2000 + 31 / 2)  # prompt + whole output, 32-token blocks
    lazy = build_model(catalog, _req(engine="vllm", prompt_tokens=1000, output_tokens=1000))
    # on demand: the live context averaged over a slot's lifetime, E[prompt] + E[out²]/(2 E[out]) = 1000 + 500
    assert tokens_per_sequence(lazy) == pytest.approx(1500 + 15 / 2)
    spread = build_model(catalog, _req(engine="vllm", prompt_tokens=1000, output_tokens=1000,
                                       output_tokens_std=1000))
    assert tokens_per_sequence(spread) == pytest.approx(1000 + (1000**2 + 1000**2) / 2000 + 7.5)


def test_memory_bound_decode_runs_at_the_measured_bandwidth(catalog: Catalog) -> None:
    # One sequence with a 1-token context in bf16: the step reads the weights once at 0.82 × 4.8 TB/s.
    m = build_model(catalog, _req(precision="bf16", prompt_tokens=1, output_tokens=1, engine="trtllm"))
    p = build_plan(m, 1, 1, "tp")
    t, _ = stage_time(m, p, 1.0, 0.0, 1.0)
    read = (m.n_dense * 2.0 + m.n_head * 2.0) / (4.8e12 * 0.82)
    assert t == pytest.approx(read, rel=0.03)


# ------------------------------------------------------------------ pipeline bubble, prefill chunks
def test_pipeline_bubble_in_decode(catalog: Catalog) -> None:
    m = build_model(catalog, _req(engine="trtllm", pp=4, prompt_tokens=512, output_tokens=512))
    p = build_plan(m, 1, 4, "tp")
    # Two sequences on four stages: two micro-batches of one sequence circulate, half the stage slots are idle.
    parts = cycle_parts(m, p, 2.0)
    rho = 512 / 512
    t_s, _ = stage_time(m, p, 1.0, 1.0 * rho, (2.0 + 2.0 / 512) / 2)
    assert parts.bubble == pytest.approx((4 - 2) * t_s)
    p2p = 1.0 * (1 + rho) * 8192 * 2.0 / 1 / m.link_bw + 5e-6  # activations of the micro-batch, one hop
    assert parts.pp_comm == pytest.approx(4 * p2p)
    host = max(4 * (t_s + p2p), 35e-6 * 2)  # overlap scheduler: host work hides behind the GPU
    assert parts.cycle == pytest.approx(host + 0.3e-3)
    # Four or more sequences fill the pipeline: no bubble
    assert cycle_parts(m, p, 8.0).bubble == 0.0


def test_prefill_chunk_time(catalog: Catalog) -> None:
    m = build_model(catalog, _req(engine="trtllm", prompt_tokens=20_000, output_tokens=2000))
    p = build_plan(m, 1, 1, "tp")
    # 8,192 tokens per step, 192 of them decode tokens: 8,000 prompt tokens per step → ⌈20,000 / 8,000⌉ = 3 steps
    assert prefill_latency(m, p, 20_000, 192.0) == pytest.approx(3 * cycle_time(m, p, 192.0))
    assert prefill_latency(m, p, 8_000, 192.0) == pytest.approx(cycle_time(m, p, 192.0))
    # a separate-prefill engine runs the prompt through every stage in one step
    ascend = build_model(catalog, _req(accelerator="ascend-910c", precision="bf16", engine="mindie", pp=2))
    pa = build_plan(ascend, 4, 2, "tp")
    t_s, _ = stage_time(ascend, pa, 0.0, 2048.0, 1.0)
    assert prefill_latency(ascend, pa, 2048.0, 64.0) == pytest.approx(2 * t_s + 2e-3)


# ------------------------------------------------------------------ queueing
def test_p99_from_the_queueing_model() -> None:
    assert erlang_c(1, 0.8) == pytest.approx(0.8)  # M/M/1: an arrival waits with probability ρ
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)  # (a²/2 · 2/(2−a)) / (1 + a + a²/2 · 2/(2−a)) = 1/3
    # M/M/1, μ = 10/s, λ = 8/s: P(W > t) = 0.8·e^(−2t) → p99 = ln(0.8 / 0.01) / 2 = 2.191 s
    assert wait_quantile(0.99, servers=1, rate=8, mu=10, cs2=1.0) == pytest.approx(math.log(80) / 2)
    # deterministic service (c_s² = 0) halves it (Allen–Cunneen)
    assert wait_quantile(0.99, servers=1, rate=8, mu=10, cs2=0.0) == pytest.approx(math.log(80) / 4)
    assert wait_quantile(0.5, servers=1, rate=1, mu=10, cs2=1.0) == 0.0  # waits with probability 0.1 < 0.5
    assert mean_wait(servers=1, rate=8, mu=10, cs2=1.0) == pytest.approx(0.8 / 2)  # ρ/(μ − λ)
    assert wait_quantile(0.99, servers=1, rate=10, mu=10, cs2=1.0) == math.inf
    assert occupancy_quantile(100, 0.99) == pytest.approx(100 + 2.3263 * 10)


def test_halfin_whitt_matches_the_exact_erlang_c() -> None:
    c, a = 200, 185.0
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    exact = c * b / (c - a * (1 - b))
    assert erlang_c(c, a) == pytest.approx(exact, rel=0.06)
    # A lightly loaded large batch: φ(β) underflows, and no arrival waits (no division by zero).
    assert erlang_c(4096, 10.0) == 0.0


def test_lengths_as_distributions() -> None:
    h = from_histogram([(128, 1), (1024, 1)])
    assert h.mean == 576 and h.second_moment == (128**2 + 1024**2) / 2 and h.p99 == 1024
    assert h.biased_mean == pytest.approx(h.second_moment / 576)
    fixed = from_mean(1000)
    assert fixed.p99 == 1000 and fixed.cv2 == 0
    ln = from_mean(1000, 500)  # log-normal of mean 1,000 and std 500: p99 = exp(μ + 2.326σ)
    sigma = math.sqrt(math.log(1.25))
    assert ln.p99 == pytest.approx(math.exp(math.log(1000) - sigma**2 / 2 + 2.326 * sigma))
    with pytest.raises(ValueError, match="positive weight"):
        from_histogram([(128, 0)])


# ------------------------------------------------------------------ request handling and engines
def test_engine_profiles_are_sourced_data() -> None:
    book = load_engines()
    assert set(book.engines) >= {"generic", "trtllm", "vllm", "sglang", "mindie"}
    for name, prof in book.engines.items():
        for knob in ("gemm_scale", "attention_bw_scale", "prefill_attention_efficiency", "step_overhead_ms",
                     "host_us_per_sequence", "allreduce_latency_us"):
            assert prof.provenance.get(knob), f"{name}.{knob} has no provenance"
        assert prof.sources and all(s in book.sources for s in prof.sources), name
    assert book.defaults["huawei"] == "mindie" and book.defaults["default"] == "generic"


def test_ascend_defaults_to_mindie_and_fp4_needs_fp4_tensor_cores(catalog: Catalog) -> None:
    est = estimate_inference(catalog, _req(model="qwen2.5-72b", accelerator="ascend-910c", precision="bf16",
                                           count=16))
    assert est.engine == "mindie"
    with pytest.raises(UnsupportedPrecisionError, match="int4"):
        estimate_inference(catalog, _req(accelerator="h100-sxm", precision="fp4"))
    with pytest.raises(UnsupportedPrecisionError, match="FP4"):
        estimate_inference(catalog, _req(accelerator="h100-sxm", kv_precision="fp4"))
    int4 = estimate_inference(catalog, _req(accelerator="h100-sxm", precision="int4", count=8))
    total, _, _ = model_preset("llama-3-70b").counts()
    emb = 2 * 128_256 * 8192  # input embedding and LM head stay 16-bit
    assert int4.status == "ok"
    assert int4.weights_gb == pytest.approx(((total - emb) * 4.25 / 8 + emb * 2) / 1e9)


def test_bad_serving_requests(catalog: Catalog) -> None:
    with pytest.raises(ValidationError, match="ep equal to tp"):
        _req(model="qwen3-235b-a22b", tp=4, ep=8)
    with pytest.raises(ValidationError, match="not both"):
        _req(prompt_tokens_std=100, prompt_histogram=[(128, 1.0)])
    with pytest.raises(ValidationError, match="positive total"):
        _req(output_histogram=[(128, 0.0)])
    with pytest.raises(ValidationError):
        _req(engine="tgi")
    with pytest.raises(InvalidInputError, match="smaller than one replica"):
        estimate_inference(catalog, _req(accelerator="h100-sxm", precision="bf16", tp=4, count=2))


def test_pipeline_and_expert_parallel_layouts(catalog: Catalog) -> None:
    pp = estimate_inference(catalog, _req(accelerator="rtx-pro-6000", precision="fp4", kv_precision="fp8", pp=4,
                                          tp=1, count=4, ttft_s=None, tpot_s=None))
    assert pp.status == "ok" and pp.pp == 4 and pp.step is not None and pp.step.pp_comm_s > 0
    dep = estimate_inference(catalog, _req(model="deepseek-r1", accelerator="h200", ep=8, count=8, ttft_s=None,
                                           tpot_s=None))
    assert dep.moe_mode == "dep" and dep.ep == 8 and dep.step is not None and dep.step.ep_comm_s > 0
    tp_moe = estimate_inference(catalog, _req(model="deepseek-r1", accelerator="h200", tp=8, ep=1, count=8,
                                              ttft_s=None, tpot_s=None))
    # tensor-parallel MLA keeps the whole latent on every rank: far fewer sequences fit than with DEP
    assert tp_moe.moe_mode == "tp" and (tp_moe.max_sequences_memory or 0) < (dep.max_sequences_memory or 0)


def test_busiest_attention_rank_sets_the_dep_step(catalog: Catalog) -> None:
    """E[max of 2 Poisson(1)] = Σ_k 1 − F(k−1)² = 0.8647 + 0.4587 + 0.1542 + 0.0376 + 0.0074 + 0.0012 + 0.0002."""
    assert expected_max_poisson(1.0, 2) == pytest.approx(1.524, abs=1e-3)
    assert expected_max_poisson(3.0, 1) == 3.0 and expected_max_poisson(0.0, 8) == 0.0
    # Rare prompts: nearly every prompt stalls all n ranks alone, E[max] → n·λ, i.e. n times the mean per rank.
    assert expected_max_poisson(1e-4, 8) == pytest.approx(8e-4, rel=1e-3)
    req = _req(model="qwen3-235b-a22b", ep=8, count=8, prompt_tokens=1000, output_tokens=1000, ttft_s=None,
               tpot_s=None, engine="trtllm")
    m = build_model(catalog, req)
    # 8 ranks, 4,000 prefill tokens a step = 4 prompts of 1,000, λ = 0.5 per rank: E[max] = 1.6 prompts, within
    # the 8,192-token budget less the rank's 500 decode tokens
    busiest = dep_straggler_prefill(m, 8, 4000.0, 4000.0)
    assert busiest == pytest.approx(expected_max_poisson(0.5, 8) * 1000.0)
    assert 1500 < busiest < 1700
    assert dep_straggler_prefill(m, 8, 64000.0, 64000.0) <= 8192 - 8000 + 64000 / 8  # never below the mean
    balanced = build_model(catalog, req.model_copy(update={"attention_dp_balance": True}))
    assert dep_straggler_prefill(balanced, 8, 4000.0, 4000.0) == 500.0
    alone = estimate_inference(catalog, req)
    together = estimate_inference(catalog, req.model_copy(update={"attention_dp_balance": True}))
    assert (alone.output_tokens_per_s_per_accelerator or 0) < (together.output_tokens_per_s_per_accelerator or 0)


def test_prefix_cache_and_p99_basis(catalog: Catalog) -> None:
    cold = estimate_inference(catalog, _req(prompt_tokens=4000, output_tokens=200, count=8))
    warm = estimate_inference(catalog, _req(prompt_tokens=4000, output_tokens=200, count=8, prefix_cache_hit=0.75))
    assert (warm.output_tokens_per_s_per_accelerator or 0) > (cold.output_tokens_per_s_per_accelerator or 0)
    mean = estimate_inference(catalog, _req(count=8, latency_basis="mean", ttft_s=0.5, tpot_s=0.03))
    p99 = estimate_inference(catalog, _req(count=8, latency_basis="p99", ttft_s=0.5, tpot_s=0.03))
    assert (p99.output_tokens_per_s_per_accelerator or 0) <= (mean.output_tokens_per_s_per_accelerator or 0)
    assert p99.ttft_p99_s is not None and p99.ttft_p99_s <= 0.5 + 1e-9


# ------------------------------------------------------------------ validation against published results
def test_serving_dev_set_within_target(catalog: Catalog) -> None:
    runs = load_serving_runs()
    assert {r.set for r in runs} == {"dev", "extra"}
    dev = [r for r in runs if r.set == "dev"]
    assert len(dev) == 11 and all(r.prompt_tokens == pytest.approx(222.3) for r in dev)
    report = validate_serving(catalog, dev)
    assert all(r.error is not None for r in report.rows)
    assert report.by_set["dev"]["median_abs_error"] <= 0.10
    assert report.by_set["dev"]["max_abs_error"] <= 0.25


# ------------------------------------------------------------------ properties
_PARTS = st.sampled_from([("h100-sxm", "fp8"), ("h200", "fp8"), ("b200", "fp4"), ("mi300x", "fp8"),
                          ("a100-80gb", "bf16")])
_MODELS = st.sampled_from(["llama-3-8b", "qwen2.5-32b", "llama-3-70b", "qwen3-30b-a3b"])


@settings(max_examples=40, deadline=None)
@given(part=_PARTS, model=_MODELS, prompt=st.integers(64, 8192), output=st.integers(16, 2048),
       ttft=st.floats(0.2, 5.0), tpot=st.floats(0.01, 0.3), engine=st.sampled_from(["trtllm", "vllm", "generic"]))
def test_throughput_never_rises_when_kv_widens_or_limits_tighten(
        catalog: Catalog, part: tuple[str, str], model: str, prompt: int, output: int, ttft: float, tpot: float,
        engine: str) -> None:
    acc, precision = part
    base = {"model": model, "accelerator": acc, "precision": precision, "prompt_tokens": prompt,
            "output_tokens": output, "engine": engine, "count": 8, "ttft_s": ttft, "tpot_s": tpot}

    def rate(**kw: object) -> float:
        est = estimate_inference(catalog, InferenceRequest.model_validate({**base, **kw}))
        return est.output_tokens_per_s_per_accelerator or 0.0 if est.status == "ok" else 0.0

    kvs = ["fp4", "fp8", "bf16"] if acc == "b200" else ["fp8", "bf16"]
    by_kv = [rate(kv_precision=kv) for kv in kvs]
    assert all(wide <= narrow * (1 + 1e-9) for narrow, wide in zip(by_kv, by_kv[1:], strict=False))
    loose = rate(kv_precision="fp8")
    assert rate(kv_precision="fp8", ttft_s=ttft / 2) <= loose * (1 + 1e-9)
    assert rate(kv_precision="fp8", tpot_s=tpot / 2) <= loose * (1 + 1e-9)
