"""`procure estimate …` and `procure validate`: JSON shapes, human output, errors."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from service.cli import app

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    r = runner.invoke(app, list(args))
    return r.exit_code, r.stdout, r.stderr


def test_estimate_training_json_shape() -> None:
    code, out, err = run("estimate", "training", "--params", "70B", "--tokens", "1.4T", "--accelerator", "H20",
                         "--count", "1024", "--json")
    assert code == 0, err
    body = json.loads(out)
    for key in ("accelerator_hours", "accelerator_hours_low", "accelerator_hours_high", "wall_clock_days", "mfu",
                "memory_per_device_gb", "plan", "mfu_peak", "assumptions", "bottleneck"):
        assert key in body
    assert body["accelerator_hours_low"] < body["accelerator_hours"] < body["accelerator_hours_high"]
    assert {"tp", "pp", "dp", "zero_stage"} <= set(body["plan"])


def test_estimate_training_deadline_and_text() -> None:
    code, out, _ = run("estimate", "training", "--params", "7e9", "--tokens", "1T", "--accelerator", "h100",
                       "--deadline-days", "20")
    assert code == 0 and "smallest count meeting 20 days" in out and "plan" in out


def test_does_not_fit_is_a_result_not_an_error() -> None:
    code, out, _ = run("estimate", "training", "--params", "70B", "--tokens", "1T", "--accelerator", "l2",
                       "--count", "8", "--json")
    assert code == 0
    body = json.loads(out)
    assert body["status"] == "does_not_fit" and body["minimum_count"] > 8


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--params", "70B", "--tokens", "1T", "--accelerator", "h100", "--count", "0"), "greater than or equal to 1"),
        (("--params", "-5", "--tokens", "1T", "--accelerator", "h100", "--count", "8"), "greater than 0"),
        (("--params", "lots", "--tokens", "1T", "--accelerator", "h100", "--count", "8"), "cannot read 'lots'"),
        (("--params", "7B", "--tokens", "1T", "--accelerator", "a100", "--count", "8", "--precision", "fp8"),
         "no FP8"),
        (("--params", "7B", "--tokens", "1T", "--accelerator", "h100", "--count", "8", "--fabric", "smoke"),
         "unknown fabric"),
        (("--params", "7B", "--tokens", "1T", "--accelerator", "h100"), "count or a deadline"),
    ],
)
def test_training_bad_input(args: tuple[str, ...], needle: str) -> None:
    code, out, err = run("estimate", "training", *args)
    assert code == 2 and out == "" and needle in err and "Traceback" not in err


def test_estimate_inference_and_cost() -> None:
    code, out, _ = run("estimate", "inference", "--params", "72B", "--accelerator", "h200", "--requests-per-s",
                       "500", "--json")
    assert code == 0
    body = json.loads(out)
    assert body["status"] == "ok" and body["accelerators"] == body["replicas"] * body["tp"]
    code, out, _ = run("estimate", "cost", "--accelerator", "h20", "--count", "1024", "--currency", "USD", "--json")
    assert code == 0
    cost = json.loads(out)
    assert cost["currency"] == "USD" and cost["total"]["low"] < cost["total"]["base"] < cost["total"]["high"]
    code, _, err = run("estimate", "cost", "--accelerator", "l20", "--count", "8")
    assert code == 2 and "no sourced price" in err


def test_validate_table_and_json() -> None:
    code, out, _ = run("validate", "--set", "dev")
    assert code == 0 and "median" in out and "Llama 2 70B" in out
    code, out, _ = run("validate", "--json")
    assert code == 0
    body = json.loads(out)
    assert body["n"] >= 12 and "median_abs_error" in body and len(body["rows"]) == body["n"]


def test_fixed_plan_flags() -> None:
    code, out, err = run("estimate", "training", "--params", "70B", "--tokens", "1T", "--accelerator", "h100",
                         "--count", "1024", "--tp", "8", "--pp", "1", "--zero-stage", "3", "--recompute", "full",
                         "--json")
    assert code == 0, err
    plan = json.loads(out)["plan"]
    assert (plan["tp"], plan["pp"], plan["zero_stage"], plan["recompute"]) == (8, 1, 3, "full")
    code, _, err = run("estimate", "training", "--params", "70B", "--tokens", "1T", "--accelerator", "h100",
                       "--count", "8", "--zero-stage", "4")
    assert code == 2 and "zero_stage" in err


def test_model_preset_and_practitioner_flags() -> None:
    code, out, err = run("estimate", "training", "--model", "QWEN2.5-72B", "--tokens", "1T", "--accelerator",
                         "h100", "--count", "512", "--seq-len", "8192", "--global-batch", "512 seqs", "--tp", "8",
                         "--recompute", "selective", "--stack", "megatron-core", "--optimizer", "lion",
                         "--steady-state", "--json")
    assert code == 0, err
    body = json.loads(out)
    assert body["shape"]["preset"] == "qwen2.5-72b" and body["shape"]["vocab"] == 152064
    assert body["plan"]["tp"] == 8 and body["plan"]["global_batch_tokens"] == 512 * 8192
    assert body["goodput"] == 1.0 and body["stack"] == "megatron-core"
    code, out, _ = run("estimate", "training", "--params", "70B", "--tokens", "1T", "--accelerator", "h100",
                       "--count", "512")
    assert code == 0 and "range:" in out and "inferred from the parameter count" in out


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--model", "gpt-9"], "unknown model"),
        (["--model", "llama-3-70b", "--params", "70B"], "not both"),
        (["--params", "70B", "--global-batch", "lots"], "global_batch"),
        (["--params", "70B", "--goodput", "0.9", "--steady-state"], "not both"),
        (["--params", "70B", "--seq-len", "8192", "--global-batch", "128"], "'128 seqs'"),
        ([], "--model"),
    ],
)
def test_training_flag_errors_are_one_line(extra: list[str], needle: str) -> None:
    code, _, err = run("estimate", "training", "--tokens", "1T", "--accelerator", "h100", "--count", "64", *extra)
    assert code == 2 and needle in err and "Traceback" not in err


def test_validate_reports_the_megatron_sets() -> None:
    code, out, err = run("validate", "--set", "megatron", "--json")
    assert code == 0, err
    body = json.loads(out)
    assert body["rows"] == [] and len(body["benchmarks"]) == 23
    assert set(body["benchmark_sets"]) == {"megatron-2021", "megatron-2022", "megatron-bridge-h100"}
    assert all(b["metric"] == "tokens_per_s_per_gpu" for b in body["benchmarks"] if b["set"] == "megatron-bridge-h100")
    code, out, _ = run("validate", "--set", "megatron")
    assert code == 0 and "Megatron benchmarks" in out


def test_inference_with_a_model_preset() -> None:
    code, out, err = run("estimate", "inference", "--model", "llama-3-70b", "--accelerator", "h20",
                         "--requests-per-s", "10", "--json")
    assert code == 0, err
    assert json.loads(out)["status"] in ("ok", "latency_unmet")
