"""`procure recommend` / `procure whatif`: JSON on stdout only, human tables, one-line errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli import app

ROOT = Path(__file__).resolve().parents[3]
runner = CliRunner()
CHINA = ["recommend", "--params", "70B", "--tokens", "1.4T", "--budget", "5000万", "--currency", "CNY",
         "--buyer-country", "CN", "--date", "2025-08-01", "--objective", "min_time"]


def run(*args: str) -> tuple[int, str, str]:
    r = runner.invoke(app, list(args))
    return r.exit_code, r.stdout, r.stderr


def test_recommend_flags_json_shape() -> None:
    code, out, err = run(*CHINA, "--json")
    assert code == 0, err
    plan = json.loads(out)
    for key in ("status", "items", "capex", "opex", "total_cost", "currency", "time_days", "binding_constraints",
                "alternatives", "excluded", "citations", "considered", "relaxations"):
        assert key in plan
    assert plan["status"] == "optimal" and plan["currency"] == "CNY" and plan["total_cost"] <= 50e6
    assert {"sku", "nodes", "accelerators", "workload"} <= set(plan["items"][0])
    assert any(e["sku"] == "h800" for e in plan["excluded"])


def test_recommend_table_output() -> None:
    code, out, _ = run(*CHINA)
    assert code == 0 and "Considered options" in out and "binding constraints" in out


def test_recommend_request_file_and_infeasible(tmp_path: Path) -> None:
    code, out, _ = run("recommend", "--request", str(ROOT / "examples" / "portfolio.yaml"), "--json")
    assert code == 0 and json.loads(out)["domestic_share"] >= 0.5
    bad = tmp_path / "impossible.yaml"
    bad.write_text("workloads: [{params: 70B, tokens: 1.4T, deadline_days: 30}]\nbuyer: {country: CN, date: "
                   "2025-08-01}\nbudget: {amount: 1M, currency: CNY}\n", encoding="utf-8")
    code, out, _ = run("recommend", "--request", str(bad), "--json")
    assert code == 0
    plan = json.loads(out)
    assert plan["status"] == "infeasible" and plan["relaxations"]


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--budget", "-5"], "greater than 0"),
        (["--currency", "EUR"], "'CNY' or 'USD'"),
        (["--deadline-days", "0"], "greater than 0"),
        (["--vendor-allow", "nvidia", "--vendor-deny", "nvidia"], "both allowed and denied"),
        (["--date", "2025-02-31"], "YYYY-MM-DD"),
        (["--skus", "h2000"], "unknown accelerator"),
    ],
)
def test_recommend_bad_input(extra: list[str], needle: str) -> None:
    args = list(CHINA)
    for flag in ("--budget", "--currency", "--date"):
        if flag in extra and flag in args:
            i = args.index(flag)
            del args[i:i + 2]
    code, out, err = run(*args, *extra)
    assert code == 2 and out == "" and needle in err and "Traceback" not in err


def test_recommend_missing_request_file(tmp_path: Path) -> None:
    code, _, err = run("recommend", "--request", str(tmp_path / "nope.yaml"))
    assert code == 2 and "not found" in err


def test_whatif_cli() -> None:
    code, out, err = run("whatif", "--request", str(ROOT / "examples" / "china_70b.yaml"), "--remove", "ascend-910c",
                         "--json")
    assert code == 0, err
    body = json.loads(out)
    assert "ascend-910c becomes unavailable" in body["changes"] and body["skus_removed"] == ["ascend-910c"]
    code, _, err = run("whatif", "--request", str(ROOT / "examples" / "china_70b.yaml"), "--price", "h20=cheap")
    assert code == 2 and "not a number" in err


@pytest.mark.slow
def test_json_stdout_is_clean_in_a_real_process() -> None:
    exe = shutil.which("procure", path=str(Path(sys.executable).parent))
    assert exe
    proc = subprocess.run([exe, *CHINA, "--json"], capture_output=True, text=True, check=False,
                          env={**os.environ}, timeout=120)
    assert proc.returncode == 0, proc.stderr
    json.loads(proc.stdout)  # nothing but JSON on stdout (no solver banners)


def test_recommend_with_a_model_preset() -> None:
    code, out, err = run("recommend", "--model", "qwen2.5-7b", "--tokens", "1T", "--deadline-days", "60",
                         "--skus", "h20", "--json")
    assert code == 0, err
    assert json.loads(out)["status"] in ("optimal", "feasible", "infeasible")
