"""Output a person can read and inputs written one way everywhere (issue 8, items 3, 6 and 7, service side)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.app import create_app
from service.cli import app
from service.settings import Settings, get_settings

ROOT = Path(__file__).resolve().parents[3]
runner = CliRunner()
CHINA = ["recommend", "--params", "70B", "--tokens", "1.4T", "--budget", "5000万", "--buyer-country", "CN",
         "--date", "2025-08-01", "--objective", "min_time"]


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    get_settings.cache_clear()
    r = runner.invoke(app, list(args), env=env)
    get_settings.cache_clear()
    return r.exit_code, r.stdout, r.stderr


def one_line_error(code: int, out: str, err: str) -> None:
    assert code == 2 and out == "", (code, out, err)
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(data_dir=tmp_path_factory.mktemp("readable"))),
                    raise_server_exceptions=False) as c:
        yield c


# --- item 7: full reasons, 80 columns, FP16/BF16 -------------------------------------------------------------------

def test_at_80_columns_the_chosen_part_and_every_sku_are_whole() -> None:
    code, out, err = run(*CHINA, env={"COLUMNS": "80"})
    assert code == 0, err
    assert max(len(line) for line in out.splitlines()) <= 80
    plan = json.loads(run(*CHINA, "--json")[1])
    chosen = plan["items"][0]
    assert chosen["sku"] == "ascend-910c" and f"{chosen['accelerators']} × ascend-910c" in out and "ascen…" not in out
    for c in plan["considered"]:
        assert re.search(rf"│\s*{re.escape(c['sku'])}\s", out), c["sku"]


def test_considered_reasons_are_wrapped_in_full_never_cut() -> None:
    plan = json.loads(run(*CHINA, "--json")[1])
    longest = max(plan["considered"], key=lambda c: len(c["reason"]))
    assert len(longest["reason"]) > 90
    for width in ("80", "200"):
        code, out, _ = run(*CHINA, env={"COLUMNS": width})
        cells = "".join(line.rsplit("│", 2)[-2].strip() + " " for line in out.splitlines() if line.count("│") > 2)
        assert " ".join(longest["reason"].split()) in " ".join(cells.split()), width


def test_catalog_list_never_shows_an_fp16_peak_as_bf16() -> None:
    code, out, err = run("catalog", "list", "--json")
    rows = {r["id"]: r for r in json.loads(out)}
    b = rows["ascend-910b"]
    assert b["sixteen_bit_precision"] == "fp16" and b["bf16_dense_tflops"] is None and b["fp16_dense_tflops"]
    assert rows["h100-sxm"]["sixteen_bit_precision"] == "bf16"
    code, out, err = run("catalog", "list", env={"COLUMNS": "200"})
    line = next(line for line in out.splitlines() if "ascend-910b" in line)
    assert "(FP16)" in line
    assert "(FP16)" not in next(line for line in out.splitlines() if "h100-sxm" in line)


# --- item 7: the same number notation everywhere; one-line errors -------------------------------------------------

def test_http_estimates_accept_the_notation_recommendations_accept(client: TestClient) -> None:
    written = client.post("/v1/estimates/training",
                          json={"params": "70B", "tokens": "1.4T", "accelerator": "h100", "count": "2K"})
    plain = client.post("/v1/estimates/training",
                        json={"params": 70e9, "tokens": 1.4e12, "accelerator": "h100", "count": 2048 - 48})
    assert written.status_code == 200, written.text
    assert plain.status_code == 200
    assert written.json()["accelerator_hours"] == pytest.approx(plain.json()["accelerator_hours"], rel=0.05)
    inf = client.post("/v1/estimates/inference", json={"params": "72B", "accelerator": "h20", "requests_per_s": "1K"})
    assert inf.status_code == 200, inf.text
    cost = client.post("/v1/estimates/cost", json={"accelerator": "h20", "accelerators": "1K",
                                                   "hosting_per_node_year": "2万"})
    assert cost.status_code == 200, cost.text


def test_empty_flags_are_errors_not_defaults() -> None:
    one_line_error(*run(*CHINA[:-4], "--date", ""))
    one_line_error(*run("compliance", "check", "h20", "--buyer-country", "CN", "--date", ""))
    one_line_error(*run(*CHINA, "--skus", ""))
    one_line_error(*run("estimate", "training", "--params", "", "--tokens", "1T", "--accelerator", "h100",
                        "--count", "8"))


def test_bad_settings_give_one_line(tmp_path: Path) -> None:
    code, out, err = run("catalog", "list", env={"PROCURE_CATALOG_FILES": str(tmp_path / "my.yaml")})
    one_line_error(code, out, err)
    assert "my.yaml" in err
    one_line_error(*run("catalog", "list", env={"PROCURE_CATALOG_FILES": "[broken"}))
    code, out, err = run("catalog", "list", env={"PROCURE_SOLVER__TIME_LIMIT_S": "soon"})
    one_line_error(code, out, err)
    assert "PROCURE_SOLVER__TIME_LIMIT_S" in err


def test_a_single_catalog_file_needs_no_json_list(tmp_path: Path) -> None:
    code, out, err = run("catalog", "list", "--json",
                         env={"PROCURE_CATALOG_FILES": str(ROOT / "examples" / "my_prices.yaml")})
    assert code == 0, err


# --- items 3 and 6, service side: absurd and non-finite inputs; licence opt-in --------------------------------------

@pytest.mark.parametrize("budget", ["1e22", "inf", "1e309"])
def test_absurd_budget_is_one_line_exit_2(budget: str) -> None:
    args = list(CHINA)
    args[args.index("--budget") + 1] = budget
    one_line_error(*run(*args))


@pytest.mark.parametrize("raw", ["Infinity", "1e309", "NaN", "-Infinity"])
def test_nonfinite_json_numbers_are_422_not_500(client: TestClient, raw: str) -> None:
    body = ('{"workloads": [{"kind": "training", "params": 7e10, "tokens": 1.4e12}], '
            '"buyer": {"country": "CN", "date": "2025-08-01"}, "budget": {"amount": RAW}}').replace("RAW", raw)
    r = client.post("/v1/recommendations", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    training = '{"params": RAW, "tokens": 1e12, "accelerator": "h100", "count": 8}'.replace("RAW", raw)
    r = client.post("/v1/estimates/training", content=training, headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text


def test_absurd_budget_over_http_is_422(client: TestClient) -> None:
    r = client.post("/v1/recommendations", json={"workloads": [{"params": "70B", "tokens": "1.4T"}],
                                                  "buyer": {"country": "CN", "date": "2025-08-01"},
                                                  "budget": {"amount": 1e22}})
    assert r.status_code == 422 and "budget" in r.json()["detail"]


def test_accept_license_risk_flag_and_http_field(client: TestClient) -> None:
    code, out, err = run(*CHINA, "--accept-license-risk", "--json")
    assert code == 0, err
    r = client.post("/v1/recommendations", json={"workloads": [{"params": "70B", "tokens": "1.4T"}],
                                                  "buyer": {"country": "CN", "date": "2025-08-01"},
                                                  "budget": "¥5000万", "objective": "min_time",
                                                  "accept_license_risk": True})
    assert r.status_code == 200, r.text
    assert r.json()["items"][0]["sku"] == json.loads(out)["items"][0]["sku"]


def test_ingest_responses_name_no_server_path(tmp_path: Path) -> None:
    allowed = tmp_path / "allowed"
    (allowed / "sub").mkdir(parents=True)
    (allowed / "sub" / "note.md").write_text("---\nid: n1\nkind: analysis\nlanguage: en\n---\nQuux 7 GB.\n",
                                             encoding="utf-8")
    (allowed / "sub" / "bad.txt").write_bytes("英伟达".encode("gbk"))
    settings = Settings(data_dir=tmp_path / "data", ingest_allowed_dir=allowed)
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        ok = c.post("/v1/corpus/documents", json={"path": "sub"})
        outside = c.post("/v1/corpus/documents", json={"path": str(tmp_path)})
        missing = c.post("/v1/corpus/documents", json={"path": "nope"})
    assert ok.status_code == 200, ok.text
    assert ok.json()["root"] == "sub" and ok.json()["failed"][0]["path"] == "sub/bad.txt"
    assert outside.status_code == 422 and missing.status_code == 422
    for r in (ok, outside, missing):
        assert str(tmp_path) not in r.text, r.text


def test_chinese_output_uses_wan_and_yi_and_the_same_numbers() -> None:
    plan = json.loads(run(*CHINA, "--json")[1])
    code, out, err = run(*CHINA, "--lang", "zh", env={"COLUMNS": "80"})
    assert code == 0, err
    wan = f"¥{plan['total_cost'] / 1e4:,.0f}万"
    assert wan in out and "合计" in out and "选定" in out and "备选方案" in out
    code, out, _ = run(*CHINA, env={"COLUMNS": "80"})
    millions = f"{plan['total_cost'] / 1e6:.2f}".rstrip("0").rstrip(".")
    assert f"¥{millions}M" in out and "万" not in out.split("\n")[0]


def test_openapi_says_numeric_fields_take_the_notation_too(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    for name, field in (("TrainingEstimateCreate", "params"), ("TrainingEstimateCreate", "count"),
                        ("CostEstimateCreate", "accelerators")):
        kinds = {o.get("type") for o in schemas[name]["properties"][field]["anyOf"]}
        assert "string" in kinds and kinds & {"number", "integer"}, (name, field)


@pytest.mark.parametrize("args", [
    ("estimate", "training", "--params", "7B", "--tokens", "1T", "--accelerator", "h100", "--count", "8", "--tp", "x"),
    ("estimate", "training", "--tokens", "1T"),
    ("recommend", "--objective", "fast"),
])
def test_bad_or_missing_flag_values_are_one_line(args: tuple[str, ...]) -> None:
    code, out, err = run(*args)
    one_line_error(code, out, err)
    assert "--help" in err and "╭" not in err


def test_seq_len_takes_the_notation() -> None:
    code, out, err = run("estimate", "training", "--params", "7B", "--tokens", "1T", "--accelerator", "h100",
                         "--count", "8", "--seq-len", "8K", "--json")
    assert code == 0, err


def test_http_whatif_budget_reads_the_notation_and_checks_the_currency(client: TestClient) -> None:
    base = {"workloads": [{"params": "70B", "tokens": "1.4T"}], "buyer": {"country": "CN", "date": "2025-08-01"},
            "budget": {"amount": "5000万", "currency": "CNY"}, "objective": "min_time", "alternatives": 0}
    ok = client.post("/v1/recommendations/whatif", json={"request": base, "change": {"budget": "¥8000万"}})
    assert ok.status_code == 200, ok.text
    assert ok.json()["changed"]["budget"] == pytest.approx(8e7)
    bad = client.post("/v1/recommendations/whatif", json={"request": base, "change": {"budget": "$7M"}})
    assert bad.status_code == 422 and "written in USD" in bad.json()["detail"]


def test_catalog_list_at_80_columns_keeps_every_figure_whole() -> None:
    code, out, err = run("catalog", "list", env={"COLUMNS": "80"})
    assert code == 0, err
    assert "…" not in out and max(len(line) for line in out.splitlines()) <= 80
    rows = json.loads(run("catalog", "list", "--json")[1])
    for r in rows:
        assert re.search(rf"│{re.escape(r['id'])}\s", out), r["id"]
        if r["tpp"] is not None:
            assert f"{r['tpp']:,.0f}" in out


def test_whatif_text_at_80_columns_is_built_from_the_numbers() -> None:
    code, out, err = run("whatif", "--request", str(ROOT / "examples" / "china_70b.yaml"), "--budget", "8000万",
                         env={"COLUMNS": "80"})
    assert code == 0, err
    body = json.loads(run("whatif", "--request", str(ROOT / "examples" / "china_70b.yaml"), "--budget", "8000万",
                          "--json")[1])
    assert max(len(line) for line in out.splitlines()) <= 80
    flat = " ".join(out.split())
    assert f"cost +¥{body['delta_cost'] / 1e6:.4g}M" in flat
    for b in body["break_even"]:
        assert b["sku"] in flat
