"""Hedged plans through every door: CLI (`--risk`, `procure risk scenarios`), HTTP, request files, batch rows, memo."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service import usecases
from service.app import create_app
from service.cli import app
from service.container import build_context
from service.jobs.results import RISK_FIELDS, columns, result_row
from service.jobs.runner import run_scenario
from service.settings import Settings
from service.usecases import AppContext, InvalidInputError, PurchaseRequest
from service.usecases.batch import scenario_context
from service.web import charts
from service.web.report import render_report

runner = CliRunner()
REQUEST: dict[str, Any] = {
    "workloads": [{"kind": "training", "name": "train", "params": "7B", "tokens": "200B", "deadline_days": 60}],
    "buyer": {"country": "CN", "date": "2026-03-01"},
    "budget": {"amount": "2亿", "currency": "CNY"},
    "accept_license_risk": True,
    "skus": ["h200", "ascend-910c", "h20"],
}


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> AppContext:
    return build_context(Settings(data_dir=tmp_path_factory.mktemp("risk")))


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(data_dir=tmp_path_factory.mktemp("api"))),
                    raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def request_file(tmp_path: Path) -> Path:
    path = tmp_path / "req.yaml"
    path.write_text(yaml.safe_dump(REQUEST, allow_unicode=True), encoding="utf-8")
    return path


def _check_block(risk: dict[str, Any]) -> None:
    """The `risk` block of DESIGN.md §9."""
    assert {"scenarios", "probability_on_time", "expected_total_cost", "items"} <= set(risk)
    assert set(risk["probability_on_time"]) == {"base", "hedged"} == set(risk["expected_total_cost"])
    assert risk["scenarios"] and all({"name", "probability", "base", "hedged"} <= set(s) for s in risk["scenarios"])
    assert abs(sum(s["probability"] for s in risk["scenarios"]) - 1) < 1e-9
    assert risk["probability_on_time"]["hedged"] >= risk["probability_on_time"]["base"]
    assert risk["items"] and risk["validation"]["ok"]


# ------------------------------------------------------------------------------------------ use case
def test_recommend_dispatches_to_the_hedge_when_the_request_carries_risk(ctx: AppContext) -> None:
    req = PurchaseRequest.model_validate(usecases.coerce_numbers(PurchaseRequest, REQUEST))
    plain = usecases.recommend(ctx, req)
    assert plain.risk is None
    hedged = usecases.recommend(ctx, usecases.with_risk(req, usecases.RiskSettings(samples=30)))
    assert hedged.risk is not None
    assert [i.option_id for i in hedged.items] == [i.option_id for i in plain.items]  # the top level is today's
    _check_block(hedged.risk.model_dump(mode="json"))


def test_risk_settings_from_flags_and_files(tmp_path: Path) -> None:
    assert usecases.risk_settings() is None
    assert usecases.risk_settings("default") == usecases.RiskSettings()
    s = usecases.risk_settings("default", objective="cvar", current_stack="CANN")
    assert s is not None and s.objective == "cvar" and s.current_stack == "CANN"
    assert usecases.risk_settings(None, current_stack="CUDA") == usecases.RiskSettings(current_stack="CUDA")
    path = tmp_path / "risk.yaml"
    path.write_text("objective: expected_cost\nsamples: 40\noutlooks: {case_by_case: {revoke: 0.5}}\n")
    f = usecases.risk_settings(path, objective="on_time")
    assert f is not None and f.samples == 40 and f.objective == "on_time"
    path.write_text("objective: nope\n")
    with pytest.raises(InvalidInputError, match="objective"):
        usecases.risk_settings(path)
    with pytest.raises(InvalidInputError, match="risk objective"):
        usecases.risk_settings("default", objective="fastest")
    with pytest.raises(InvalidInputError, match="not found"):
        usecases.risk_settings(tmp_path / "missing.yaml")


# ------------------------------------------------------------------------------------------ CLI
def test_cli_recommend_with_risk_json_adds_the_block(request_file: Path) -> None:
    result = runner.invoke(app, ["recommend", "--request", str(request_file), "--risk", "default",
                                 "--risk-objective", "on_time", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["status"] in ("optimal", "feasible") and out["items"]
    _check_block(out["risk"])
    assert out["risk"]["objective"] == "on_time"


def test_cli_risk_file_stack_and_text_output(request_file: Path, tmp_path: Path) -> None:
    risk = tmp_path / "risk.json"
    risk.write_text(json.dumps({"samples": 25, "seed": 4, "objective": "cvar"}))
    result = runner.invoke(app, ["recommend", "--request", str(request_file), "--risk", str(risk),
                                 "--current-stack", "CANN"])
    assert result.exit_code == 0, result.output
    assert "Hedged plan" in result.stdout and "cvar" in result.stdout and "scenario" in result.stdout
    zh = runner.invoke(app, ["recommend", "--request", str(request_file), "--risk", str(risk), "--lang", "zh"])
    assert zh.exit_code == 0 and "对冲方案" in zh.stdout and "按期且不超预算的概率" in zh.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["--risk", "no-such-file.yaml"], "risk file not found"),
    (["--risk", "default", "--current-stack", "fortran"], "unknown software stack"),
    (["--risk-objective", "fastest"], "fastest"),
])
def test_cli_risk_errors_are_one_line(request_file: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["recommend", "--request", str(request_file), *args, "--json"])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
    assert result.stdout.strip() == "" or not result.stdout.lstrip().startswith("{")


def test_cli_risk_scenarios_writes_an_editable_file(request_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "scenarios.yaml"
    result = runner.invoke(app, ["risk", "scenarios", "--request", str(request_file), "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["settings"]["derive"] is False and data["events"] and data["scenarios"]
    edited = yaml.safe_load(out.read_text(encoding="utf-8"))
    for ev in edited["events"]:
        if ev["kind"] == "licence" and ev["sku"] == "h200":
            ev["revoke"], ev["pause"] = 0.9, 0.0
    out.write_text(yaml.safe_dump(edited), encoding="utf-8")
    hedged = runner.invoke(app, ["recommend", "--request", str(request_file), "--risk", str(out), "--json"])
    assert hedged.exit_code == 0, hedged.output
    risk = json.loads(hedged.stdout)["risk"]
    h200 = next(e for e in risk["events"] if e["id"] == "licence:h200")
    assert h200["detail"]["revoke"] == 0.9
    assert "h200" not in {i["sku"] for i in risk["items"]}


def test_a_request_file_may_carry_its_risk_section(request_file: Path) -> None:
    data = {**REQUEST, "risk": {"samples": 20, "objective": "expected_cost"}}
    request_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = runner.invoke(app, ["recommend", "--request", str(request_file), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["risk"]["objective"] == "expected_cost"


# ------------------------------------------------------------------------------------------ HTTP
def test_http_recommendation_with_risk(client: TestClient) -> None:
    body = {**REQUEST, "risk": {"samples": "30", "objective": "on_time", "current_stack": "CUDA"}}
    r = client.post("/v1/recommendations", json=body)
    assert r.status_code == 200, r.text
    _check_block(r.json()["risk"])
    assert r.json()["risk"]["switching"]["current_stack"] == "cuda"
    hedged = client.post("/v1/recommendations/hedged", json=REQUEST)
    assert hedged.status_code == 200 and hedged.json()["risk"]["objective"] == "on_time"
    sc = client.post("/v1/recommendations/risk-scenarios", json=body)
    assert sc.status_code == 200 and sc.json()["settings"]["derive"] is False


@pytest.mark.parametrize(("risk", "status", "code"), [
    ({"objective": "nope"}, 422, "validation_error"),
    ({"samples": 0}, 422, "validation_error"),
    ({"outlooks": {"assured": {"revoke": 0.8, "pause": 0.5}}}, 422, "validation_error"),
    ({"current_stack": "fortran"}, 422, "invalid_input"),
    ({"events": [{"kind": "delay", "id": "x", "sku": "h2x", "probability": 0.5, "days": {"low": 1, "high": 2}}]},
     404, "unknown_sku"),
    ({"events": [{"kind": "price", "id": "x", "sku": "h20", "low": 0.9, "base": 0.9, "high": 0.9}]}, 422,
     "validation_error"),
])
def test_http_bad_risk_is_a_problem_not_a_500(client: TestClient, risk: dict[str, Any], status: int,
                                              code: str) -> None:
    r = client.post("/v1/recommendations", json={**REQUEST, "risk": risk})
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == code


# ------------------------------------------------------------------------------------------ batch, memo, chart
def test_batch_rows_carry_the_hedge_and_sweep_risk_parameters(ctx: AppContext) -> None:
    sc = scenario_context(ctx)
    low = run_scenario(sc, {"request": {**REQUEST, "risk": {"samples": 20, "outlooks": {"case_by_case": {
        "revoke": 0.0, "pause": 0.0}}}}, "whatif": None})
    high = run_scenario(sc, {"request": {**REQUEST, "risk": {"samples": 20, "outlooks": {"case_by_case": {
        "revoke": 0.9}}}}, "whatif": None})
    for row in (low, high):
        assert row["risk_objective"] == "on_time" and row["hedged_parts"]
        assert row["probability_on_time_hedged"] >= row["probability_on_time_base"]
    assert "h200" not in high["hedged_parts"]
    flat = result_row({"scenario_id": "s", "status": "done", "result": high, "swept": {}})
    assert all(k in flat for k in RISK_FIELDS) and set(RISK_FIELDS) <= set(columns([]))


def test_memo_and_chart_show_the_scenarios(ctx: AppContext) -> None:
    req = PurchaseRequest.model_validate(usecases.coerce_numbers(PurchaseRequest, REQUEST))
    plan = usecases.recommend_hedged(ctx, req, usecases.RiskSettings(samples=30)).model_dump(mode="json")
    fig = charts.risk_outcomes(plan, "en")
    assert [t["name"] for t in fig["data"]] == ["today's plan", "hedged plan"]
    names = fig["data"][0]["y"]
    assert len(names) == min(12, len(plan["risk"]["scenarios"])) and all("%" in n for n in names)
    assert fig["data"][1]["x"][-1] == pytest.approx(
        max(plan["risk"]["scenarios"], key=lambda s: s["probability"])["hedged"]["total_cost"])
    html = render_report(plan, request=REQUEST, lang="en")
    assert 'id="risk-scenarios"' in html and 'id="plot-risk"' in html and "Risk scenarios" in html
    assert "no shock" in html or "other scenarios" in html
    zh = render_report(plan, request=REQUEST, lang="zh")
    assert "风险情景与对冲方案" in zh and "当前方案" in zh
    assert charts.risk_outcomes({"items": []})["data"][0]["y"] == []


def test_page_figures_and_http_memo_carry_the_risk_chart(client: TestClient) -> None:
    plan = client.post("/v1/recommendations", json={**REQUEST, "risk": {"samples": 20}}).json()
    figs = client.post("/v1/web/figures", json={"plan": plan})
    assert figs.status_code == 200, figs.text
    assert figs.json()["risk"]["data"][1]["name"] == "hedged plan"
    plain = client.post("/v1/recommendations", json=REQUEST).json()
    assert client.post("/v1/web/figures", json={"plan": plain}).json()["risk"] is None
    memo = client.post("/v1/reports?lang=zh", json={"plan": plan, "request": REQUEST})
    assert memo.status_code == 200 and "风险情景与对冲方案" in memo.text


def test_the_service_caps_the_scenarios_one_request_may_draw(tmp_path: Path) -> None:
    small = build_context(Settings(data_dir=tmp_path, limits={"max_risk_samples": 10}))
    req = PurchaseRequest.model_validate(usecases.coerce_numbers(PurchaseRequest, REQUEST))
    with pytest.raises(InvalidInputError, match="at most 10"):
        usecases.recommend(small, usecases.with_risk(req, usecases.RiskSettings(samples=11)))
    with pytest.raises(InvalidInputError, match="at most 10"):
        usecases.risk_scenarios(small, req, usecases.RiskSettings(samples=50))
    assert usecases.recommend(small, usecases.with_risk(req, usecases.RiskSettings(samples=10))).risk is not None


def test_scenarios_are_worded_from_their_codes_in_either_language() -> None:
    from service.presenters.risk import scenario_name

    shocks = [usecases.Shock(code="revoked", sku="h20"), usecases.Shock(code="revoked", sku="h200"),
              usecases.Shock(code="delayed", sku="ascend-910c", days=45.0)]
    assert scenario_name(shocks, "en") == "licence revoked: h20, h200; delivery 45 days late: ascend-910c"
    assert scenario_name(shocks, "zh") == "许可被撤销：h20, h200；交付延迟45 天：ascend-910c"
    assert scenario_name([], "zh") == "无冲击"


# ------------------------------------------------------------------------------------------ switching in today's plan
def test_cli_current_stack_without_risk_prices_switching_into_todays_plan(request_file: Path) -> None:
    result = runner.invoke(app, ["recommend", "--request", str(request_file), "--current-stack", "CUDA", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out.get("risk") is None  # the stack alone asks for no hedge
    sw = out["switching"]
    assert sw["current_stack"] == "cuda" and out["switching_cost"] == sw["cost"]
    assert out["total_cost"] == pytest.approx(sum(i["total_cost"] for i in out["items"]) + sw["cost"])
    cann = next(t for t in sw["terms"] if t["target"] == "cann")
    assert cann["grade"] == "A" and cann["sources"] and cann["basis"]
    assert out["validation"]["ok"] and out["validation"]["switching_cost"] == pytest.approx(sw["cost"])
    text = runner.invoke(app, ["recommend", "--request", str(request_file), "--current-stack", "CUDA"])
    assert text.exit_code == 0 and "switching from cuda" in text.stdout and "assumption (grade A) → cann" in text.stdout
    plain = runner.invoke(app, ["recommend", "--request", str(request_file), "--json"])
    assert json.loads(plain.stdout)["switching"] is None
    bad = runner.invoke(app, ["recommend", "--request", str(request_file), "--current-stack", "fortran", "--json"])
    assert bad.exit_code == 2 and "unknown software stack" in bad.output and "Traceback" not in bad.output


def test_http_and_memo_carry_the_switching_line(client: TestClient) -> None:
    r = client.post("/v1/recommendations", json={**REQUEST, "skus": ["ascend-910c"], "current_stack": "CUDA"})
    assert r.status_code == 200, r.text
    plan = r.json()
    assert plan["switching"]["charges"] and plan["switching"]["charges"][0]["target"] == "cann"
    assert plan["switching_cost"] == pytest.approx(plan["switching"]["charges"][0]["porting_cost"])
    html = render_report(plan, request=REQUEST, lang="en")
    assert "Switching software stack" in html and "cann" in html
    zh = render_report(plan, request=REQUEST, lang="zh")
    assert "软件生态迁移" in zh
    from service.web.view import cost_rows

    rows = {r["key"]: r for r in cost_rows(plan, "en")}
    assert rows["switching"]["label"].startswith("switching stack") and "total" in rows
    bad = client.post("/v1/recommendations", json={**REQUEST, "current_stack": "fortran"})
    assert bad.status_code == 422 and "unknown software stack" in bad.text
