"""The estimator against published runs: the dev-set accuracy targets of the issue."""

from __future__ import annotations

import pytest

from optimizer.catalog import Catalog
from optimizer.errors import CatalogError
from optimizer.estimator import (
    PlanChoice,
    TrainingRequest,
    estimate_training,
    load_benchmarks,
    load_runs,
    validate_runs,
)
from optimizer.estimator.validation import Benchmark


def test_dev_runs_meet_the_accuracy_targets(catalog: Catalog) -> None:
    dev = [r for r in load_runs() if r.set == "dev"]
    assert {r.id for r in dev} == {"llama2-70b", "llama1-65b", "bloom-176b", "nemotron4-15b"}
    report = validate_runs(catalog, dev)
    assert report.median_abs_error <= 0.12
    for row in report.rows:
        assert 1 / 1.5 <= row.predicted_hours / row.reported_hours <= 1.5, row.id
    assert report.in_range == 4


def test_published_run_set_levels(catalog: Catalog) -> None:
    """The issue's targets: median ≤ 12%, inside the predicted range for ≥ 80%; every run within 1.5× is NOT met
    (Llama 3 8B/70B report more hours than their physics implies at the assumed 2,048 GPUs; count, batch and
    what the model card's cumulative time includes are unpublished; the Olmo phase is not a transformer)."""
    report = validate_runs(catalog, load_runs())
    assert report.median_abs_error <= 0.12
    assert report.in_range >= 0.8 * report.n
    assert report.within_factor_1_5 >= 15
    assert report.n_modelled == report.n - 1 and report.within_factor_1_5_modelled >= 15
    steady = {r.id for r in load_runs() if r.basis == "steady-state"}
    assert {"nemotron4-15b", "llama1-65b", "deepseek-v3"} <= steady


def test_held_out_style_range_contains_the_reported_hours(catalog: Catalog) -> None:
    """Held-out tables state model, tokens, part, count and precision; everything else is defaulted. The 80 %
    interval has to hold the published hours for at least 80 % of those runs, keep the median near target, and
    say which inputs widened it (defaulted batch, plan and goodput each appear as a driver)."""
    report = validate_runs(catalog, load_runs(), minimal=True)
    assert report.conditions == "minimal"
    assert report.in_range >= 0.8 * report.n
    assert report.median_abs_error <= 0.15
    est = estimate_training(catalog, TrainingRequest(model="llama-2-70b", tokens=2e12, accelerator="a100-80gb",
                                                     count=2048))
    assert est.accelerator_hours_low is not None and est.accelerator_hours_high is not None
    drivers = {d.input for d in est.range_drivers}
    assert {"goodput"} <= drivers and est.defaulted
    for d in est.range_drivers:
        assert d.low_factor <= 1.0 <= d.high_factor, d.input


def test_published_goodput_and_scope_are_carried(catalog: Catalog) -> None:
    """A run's own published goodput replaces the goodput model (hours ∝ 1 / goodput); out-of-scope
    architectures are reported but kept out of the modelled statistics."""
    runs = {r.id: r for r in load_runs()}
    opt = runs["opt-175b"]
    assert opt.goodput == pytest.approx(33 * 1024 / (56 * 992), abs=0.005) and opt.plan is not None
    with_published = validate_runs(catalog, [opt]).rows[0]
    modelled = validate_runs(catalog, [opt.model_copy(update={"goodput": None})]).rows[0]
    assert with_published.goodput_published and not modelled.goodput_published
    assert with_published.predicted_hours * with_published.goodput == pytest.approx(
        modelled.predicted_hours * modelled.goodput, rel=1e-9)
    # Steady state with the published plan (TP 8 + FSDP, full recompute): the paper's 147 TFLOP/s per GPU counts
    # the recomputed forward (8·N·D), i.e. 147 × 6/8 / 312 = 35.3% MFU; the physics lands within 15% of it.
    assert with_published.mfu == pytest.approx(147 * 6 / 8 / 312, rel=0.15)
    olmo = validate_runs(catalog, [runs["olmo-hybrid-7b-b200-phase"]])
    assert not olmo.rows[0].modelled and olmo.n_modelled == 0 and olmo.within_factor_1_5_modelled == 0


def test_megatron_benchmarks_with_the_published_configuration(catalog: Catalog) -> None:
    benches = [b for b in load_benchmarks() if b.set in ("megatron-2021", "megatron-2022")]
    assert sum(b.set == "megatron-2022" for b in benches) == 8 and sum(b.set == "megatron-2021" for b in benches) == 10
    # Narayanan et al. Eq. 2 reproduces the table's parameter counts (1008B, 529.6B, 1.7B).
    by_id = {b.id: b for b in benches}
    assert by_id["narayanan-1008b"].params == pytest.approx(1008e9, rel=0.002)
    assert by_id["narayanan-529.6b"].params == pytest.approx(529.6e9, rel=0.002)
    assert by_id["narayanan-1.7b"].params == pytest.approx(1.7e9, rel=0.03)
    report = validate_runs(catalog, [], benches)
    for name, st in report.benchmark_sets.items():
        assert st["max_abs_error"] <= 0.12, name
        assert st["median_abs_error"] <= 0.05, name
    # Selective recompute is faster than full recompute for every Korthikanti model, as published.
    rows = {r.id: r for r in report.benchmarks}
    for size in ("22b", "175b", "530b", "1t"):
        assert rows[f"korthikanti-{size}-selective"].predicted < rows[f"korthikanti-{size}-full"].predicted


def test_megatron_bridge_h100_tokens_per_second(catalog: Catalog) -> None:
    """The H100 set: tokens/s per GPU = global batch × sequence / predicted step time / GPUs, by hand."""
    benches = [b for b in load_benchmarks() if b.set == "megatron-bridge-h100"]
    assert len(benches) == 5 and all(b.model and b.precision == "fp8" for b in benches)
    report = validate_runs(catalog, [], benches)
    eight = next(b for b in benches if b.model == "llama-3-8b")
    est = estimate_training(catalog, TrainingRequest(
        model="llama-3-8b", tokens=128 * 8192.0, accelerator="h100-sxm", count=8, seq_len=8192,
        global_batch_seqs=128, steady_state=True, stack="megatron-core", precision="fp8", fabric="ib-ndr-400",
        plan=PlanChoice(tp=1, pp=1, dp=8, cp=1, micro_batch=1, zero_stage=3)))
    assert est.step is not None
    row = next(r for r in report.benchmarks if r.id == eight.id)
    assert row.predicted == pytest.approx(128 * 8192 / est.step.step_s / 8, rel=1e-9)
    # The steady-state H100 physics is within 20% of NVIDIA's tuned recipes (and never above them by more than 5%):
    # the Llama 3 whole-run misses are not an optimistic H100 model.
    for r in report.benchmarks:
        assert -0.20 <= r.error <= 0.05, r.id
    with pytest.raises(ValueError, match="preset or layers"):
        Benchmark(id="x", set="s", name="x", gpus=8, tp=1, pp=1, global_batch=8, metric="step_time_s", reported=1,
                  source="x")


def test_all_runs_validate_and_report_statistics(catalog: Catalog) -> None:
    runs = load_runs()
    assert len(runs) >= 12
    assert len({r.id for r in runs}) == len(runs)
    report = validate_runs(catalog, runs)
    errors = sorted(abs(r.error) for r in report.rows)
    assert report.max_abs_error == pytest.approx(errors[-1])
    assert report.n == len(runs) and set(report.by_set) == {"dev", "extra"}


def test_bad_runs_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "runs.yaml"
    bad.write_text("runs:\n  - id: x\n", encoding="utf-8")
    with pytest.raises(CatalogError):
        load_runs(bad)
    with pytest.raises(CatalogError):
        load_runs(tmp_path / "missing.yaml")
