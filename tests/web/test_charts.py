"""Figure specs built from API JSON: hand-checked values, not just shapes."""

from __future__ import annotations

import pytest

from service.web import charts

PLAN = {
    "status": "optimal",
    "message": "ok",
    "currency": "CNY",
    "total_cost": 48.0e6,
    "time_days": 163.0,
    "items": [
        {
            "workload": "pretrain",
            "sku": "ascend-910c",
            "name": "Ascend 910C",
            "accelerators": 176,
            "nodes": 22,
            "capex": 40.0e6,
            "opex": 8.0e6,
            "total_cost": 48.0e6,
            "total_cost_low": 44.0e6,
            "total_cost_high": 55.0e6,
        },
    ],
    "pareto": [
        {
            "total_cost": 60e6,
            "time_days": 120.0,
            "items": [{"workload": "pretrain", "sku": "h20", "accelerators": 512}],
        },
        {
            "total_cost": 48e6,
            "time_days": 163.0,
            "items": [{"workload": "pretrain", "sku": "ascend-910c", "accelerators": 176}],
        },
    ],
}


def test_cost_breakdown_stacks_capex_and_opex_with_the_total_range() -> None:
    fig = charts.cost_breakdown(PLAN, "en")
    bars = [d for d in fig["data"] if d["type"] == "bar"]
    assert [b["name"] for b in bars] == ["capex", "opex"]
    assert bars[0]["y"] == [40.0e6] and bars[1]["y"] == [8.0e6]
    rng = next(d for d in fig["data"] if d["type"] == "scatter")
    assert rng["error_y"]["array"] == [7.0e6] and rng["error_y"]["arrayminus"] == [4.0e6]
    assert fig["layout"]["barmode"] == "stack"
    assert "CNY" in fig["layout"]["yaxis"]["title"]["text"]


def test_cost_breakdown_uses_the_items_own_breakdown_when_present() -> None:
    item = dict(
        PLAN["items"][0],
        cost_breakdown={"accelerators": {"base": 30e6, "low": 28e6}, "network": 2e6, "hosting": {"base": 1e6}},
    )
    fig = charts.cost_breakdown(dict(PLAN, items=[item]), "zh")
    bars = {d["name"]: d["y"][0] for d in fig["data"] if d["type"] == "bar"}
    assert bars == {"accelerators": 30e6, "网络": 2e6, "托管与运维": 1e6}
    assert fig["layout"]["title"]["text"] == "各项成本构成"


def test_pareto_is_sorted_by_cost_and_marks_the_chosen_plan() -> None:
    fig = charts.pareto(PLAN, "en")
    frontier, chosen = fig["data"]
    assert frontier["x"] == [48e6, 60e6] and frontier["y"] == [163.0, 120.0]
    assert frontier["text"] == ["176×ascend-910c", "512×h20"]
    assert chosen["x"] == [48e6] and chosen["y"] == [163.0] and chosen["marker"]["symbol"] == "star"


def test_compliance_timeline_maps_verdicts_to_levels() -> None:
    data = {
        "sku": "h20",
        "name": "H20",
        "dates": ["2025-03-01", "2025-05-01"],
        "rows": [
            {"destination": "CN", "verdicts": ["allowed", "license_required"]},
            {"destination": "IR", "verdicts": ["prohibited", "prohibited"]},
        ],
    }
    fig = charts.compliance_timeline(data, "en")
    heat = fig["data"][0]
    assert heat["z"] == [[0, 1], [2, 2]]
    assert heat["y"] == ["CN", "IR"] and heat["text"][0] == ["allowed", "licence required"]


def test_winner_heatmap_places_each_part_in_its_cell() -> None:
    rows = [
        {"values": {"budget.amount": 2e7, "buyer.date": "2024-01-01"}, "skus": ["h20"], "status": "optimal"},
        {"values": {"budget.amount": 5e7, "buyer.date": "2024-01-01"}, "skus": ["ascend-910b"], "status": "optimal"},
        {"values": {"budget.amount": 2e7, "buyer.date": "2025-01-01"}, "skus": [], "status": "infeasible"},
        {"values": {"budget.amount": 5e7, "buyer.date": "2025-01-01"}, "skus": ["ascend-910c"], "status": "optimal"},
    ]
    fig = charts.winner_heatmap(rows)
    assert fig["parts"] == ["ascend-910b", "ascend-910c", "h20"]
    heat = fig["data"][0]
    assert heat["x"] == ["2024-01-01", "2025-01-01"] and heat["y"] == ["20M", "50M"]
    assert heat["z"] == [[2, None], [0, 1]]
    assert heat["text"][1] == ["ascend-910b", "ascend-910c"]


def test_budget_curves_skip_infeasible_rows_and_sort_by_budget() -> None:
    rows = [
        {
            "values": {"budget.amount": 5e7, "buyer.country": "CN"},
            "status": "optimal",
            "total_cost": 4.9e7,
            "time_days": 160,
        },
        {
            "values": {"budget.amount": 2e7, "buyer.country": "CN"},
            "status": "optimal",
            "total_cost": 1.9e7,
            "time_days": 400,
        },
        {"values": {"budget.amount": 1e7, "buyer.country": "CN"}, "status": "infeasible"},
    ]
    fig = charts.budget_curves(rows)
    cost, time = fig["data"]
    assert cost["x"] == [2e7, 5e7] and cost["y"] == [1.9e7, 4.9e7]
    assert time["y"] == [400, 160] and time["yaxis"] == "y2"


def test_winner_heatmap_reads_batch_result_rows_as_the_jobs_api_returns_them() -> None:
    rows = [
        {
            "scenario_id": "a",
            "budget.amount": 5e7,
            "buyer.country": "CN",
            "status": "done",
            "plan_status": "optimal",
            "parts": ["ascend-910c"],
            "total_cost": 4.8e7,
            "time_days": 160,
        },
        {
            "scenario_id": "b",
            "budget.amount": 1e8,
            "buyer.country": "CN",
            "status": "done",
            "plan_status": "optimal",
            "parts": ["ascend-910c"],
            "total_cost": 9.9e7,
            "time_days": 80,
        },
        {
            "scenario_id": "c",
            "budget.amount": 5e7,
            "buyer.country": "DE",
            "status": "done",
            "plan_status": "optimal",
            "parts": ["h100-sxm"],
            "total_cost": 4.9e7,
            "time_days": 60,
        },
        {
            "scenario_id": "d",
            "budget.amount": 1e8,
            "buyer.country": "DE",
            "status": "done",
            "plan_status": "infeasible",
            "parts": [],
            "total_cost": None,
            "time_days": None,
        },
    ]
    fig = charts.winner_heatmap(rows, x_key="buyer.country", y_key="budget.amount")
    heat = fig["data"][0]
    assert fig["parts"] == ["ascend-910c", "h100-sxm"]
    assert heat["x"] == ["CN", "DE"] and heat["z"] == [[0, 1], [0, None]]
    curves = charts.budget_curves(rows)
    names = [d["name"] for d in curves["data"]]
    assert names == ["CN Cost", "CN Time (days)", "DE Cost", "DE Time (days)"]
    assert curves["data"][0]["y"] == [4.8e7, 9.9e7] and curves["data"][2]["x"] == [5e7]


def test_cost_lines_split_capex_and_opex_into_what_a_committee_asks_about() -> None:
    # hardware 10M, fees 15% (1.5M), risk premium 5% (0.5M), network 1M, storage 0.2M -> capex 13.2M;
    # hosting 1.5M of opex 4M -> power 2.5M.
    item = {
        "capex": 13.2e6,
        "opex": 4.0e6,
        "hardware": 10e6,
        "network": 1e6,
        "hosting": 1.5e6,
        "fee_fraction": 0.15,
        "risk_premium": 0.05,
        "total_cost": 17.2e6,
    }
    lines = charts.cost_lines(item)
    assert lines == pytest.approx(
        {
            "hardware": 10e6,
            "storage": 0.2e6,
            "network": 1e6,
            "fees_tariffs": 1.5e6,
            "licence_risk_premium": 0.5e6,
            "power": 2.5e6,
            "hosting": 1.5e6,
        }
    )
    assert sum(lines.values()) == pytest.approx(item["total_cost"])
    fig = charts.cost_breakdown(
        {"currency": "CNY", "items": [dict(item, workload="w", accelerators=8, sku="h20")]}, "zh"
    )
    assert [d["name"] for d in fig["data"] if d["type"] == "bar"][:2] == ["服务器与加速卡", "存储"]
