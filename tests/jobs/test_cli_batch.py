"""``procure batch``: run (and resume), status, list, results, summary, cancel; clean JSON, one-line errors."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

from service.cli import app
from tests.jobs.conftest import BASE

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def spec_file(tmp_path: Path) -> Path:
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump({"name": "cli sweep", "base": BASE, "sweep": {
        "budget.amount": [3e7, 1e8, 3e8], "buyer.country": ["CN", "DE"]}}), encoding="utf-8")
    return path


@pytest.mark.slow
def test_run_then_rerun_resumes_without_recomputing(spec_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "results.csv"
    code, stdout, err = run("batch", "run", str(spec_file), "--job-id", "cli-1", "--workers", "2",
                            "--out", str(out), "--json")
    assert code == 0, err
    job = json.loads(stdout)  # stdout holds the JSON and nothing else
    assert job["state"] == "completed" and job["done"] == 6 and job["created"] and job["rows_written"] == 6
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["buyer.country"] for r in rows] == ["CN", "DE"] * 3
    assert all(r["status"] == "done" and r["scenario_id"] for r in rows)

    code, stdout, _ = run("batch", "results", "cli-1", "--format", "jsonl")
    first = [json.loads(line) for line in stdout.splitlines()]
    assert len(first) == 6 and {"scenario_id", "budget.amount", "buyer.country", "status", "parts", "items",
                                "total_cost_low", "total_cost", "total_cost_high", "time_days",
                                "binding_constraints", "error"} <= set(first[0])

    code, stdout, err = run("batch", "run", str(spec_file), "--job-id", "cli-1", "--json")
    assert code == 0 and "resuming job cli-1: 6/6 finished" in err
    assert not json.loads(stdout)["created"]
    _, stdout, _ = run("batch", "results", "cli-1", "--format", "jsonl")
    assert [json.loads(line) for line in stdout.splitlines()] == first  # same rows, nothing recomputed

    code, stdout, _ = run("batch", "results", "cli-1", "--format", "csv")
    assert code == 0 and len(list(csv.DictReader(io.StringIO(stdout)))) == 6
    code, stdout, _ = run("batch", "results", "cli-1", "--format", "table")
    assert code == 0 and "results of cli-1" in stdout
    parquet = tmp_path / "r.parquet"
    assert run("batch", "results", "cli-1", "--out", str(parquet))[0] == 0
    table = pq.read_table(parquet)
    assert table.num_rows == 6 and pa.types.is_floating(table.schema.field("total_cost").type)  # numbers, not text

    code, stdout, _ = run("batch", "status", "cli-1", "--json")
    assert json.loads(stdout)["progress"] == 1.0
    code, stdout, _ = run("batch", "list", "--json")
    assert [j["id"] for j in json.loads(stdout)] == ["cli-1"]
    code, stdout, _ = run("batch", "list")
    assert "cli-1" in stdout and "completed" in stdout
    code, stdout, _ = run("batch", "summary", "cli-1", "--json")
    summary = json.loads(stdout)
    assert summary["scenarios"] == 6 and set(summary["winners_by_axis"]) == {"budget.amount", "buyer.country"}
    code, stdout, _ = run("batch", "summary", "cli-1")
    assert code == 0 and "winner by buyer.country" in stdout and "cheapest feasible plan" in stdout


def test_the_same_job_id_with_another_spec_is_refused(spec_file: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.yaml"
    other.write_text(yaml.safe_dump({"base": BASE, "sweep": {"budget.amount": [1e8]}}), encoding="utf-8")
    from service.jobs.manage import open_store, submit
    from service.jobs.spec import load_spec
    from service.settings import get_settings

    submit(open_store(get_settings()), load_spec(spec_file), job_id="taken")
    code, stdout, err = run("batch", "run", str(other), "--job-id", "taken")
    assert code == 2 and stdout == "" and "different spec" in err and "Traceback" not in err


def test_cancel_and_status_of_a_submitted_job(spec_file: Path) -> None:
    from service.jobs.manage import open_store, submit
    from service.jobs.spec import load_spec
    from service.settings import get_settings

    submit(open_store(get_settings()), load_spec(spec_file), job_id="to-cancel")
    code, stdout, _ = run("batch", "cancel", "to-cancel", "--json")
    assert code == 0 and json.loads(stdout)["state"] == "cancelled"
    code, stdout, _ = run("batch", "status", "to-cancel")
    assert code == 0 and "cancelled" in stdout


@pytest.mark.parametrize("args, message", [
    (["batch", "status", "nope"], "no job with id 'nope'"),
    (["batch", "results", "nope"], "no job with id"),
    (["batch", "run", "missing.yaml"], "spec file not found"),
])
def test_one_line_errors(args: list[str], message: str) -> None:
    code, stdout, err = run(*args)
    assert code == 2 and message in err and "Traceback" not in err


def test_a_bad_out_suffix_fails_before_any_work(spec_file: Path, tmp_path: Path) -> None:
    code, _, err = run("batch", "run", str(spec_file), "--out", str(tmp_path / "r.xlsx"))
    assert code == 2 and ".csv, .jsonl or .parquet" in err


def test_a_bad_spec_is_a_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("base: {workloads: []}\nsweep: {budget.amount: [1]}\n", encoding="utf-8")
    code, _, err = run("batch", "run", str(bad))
    assert code == 2 and "no valid scenario" in err
