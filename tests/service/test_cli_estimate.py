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
                       "--count", "8", "--zero-stage", "2")
    assert code == 2 and "zero_stage" in err
