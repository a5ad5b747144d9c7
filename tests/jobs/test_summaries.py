"""Summaries from hand-written result rows: winners by axis, break-even budgets, cheapest per country/date."""

from __future__ import annotations

from typing import Any

from service.jobs.summaries import break_even_budgets, cheapest_by_country_date, summarize, winners_by_axis

AXES = ["budget.amount", "buyer.country"]


def _row(sid: str, budget: float, country: str, parts: str | None, cost: float | None, *, status: str = "done",
         plan: str = "optimal") -> dict[str, Any]:
    return {"scenario_id": sid, "budget.amount": budget, "buyer.country": country, "status": status,
            "plan_status": plan if parts else "infeasible", "parts": parts, "items": [], "total_cost": cost,
            "total_cost_low": cost and cost * 0.9, "total_cost_high": cost and cost * 1.2, "currency": "CNY",
            "time_days": 30.0 if parts else None, "country": country, "date": "2025-08-01", "budget_amount": budget}


ROWS = [
    _row("a", 1e7, "CN", None, None),
    _row("b", 2e7, "CN", "h20", 1.9e7),
    _row("c", 4e7, "CN", "h20", 3.8e7),
    _row("d", 8e7, "CN", "910c", 7.5e7),
    _row("e", 1e7, "DE", "h100-sxm", 0.9e7),
    _row("f", 2e7, "DE", "h100-sxm", 1.8e7),
    _row("g", 4e7, "DE", "h200", 3.9e7),
    _row("h", 8e7, "DE", None, None, status="failed"),
]


def test_winner_by_country_counts_each_part() -> None:
    by_country = {e["value"]: e for e in winners_by_axis(ROWS, AXES)["buyer.country"]}
    assert by_country["CN"]["winner"] == "h20" and by_country["CN"]["share"] == 0.5
    assert by_country["CN"]["counts"] == {"h20": 2, "infeasible": 1, "910c": 1}
    assert by_country["DE"]["counts"] == {"h100-sxm": 2, "h200": 1, "failed": 1}


def test_break_even_budgets_bracket_each_switch_per_country() -> None:
    found = {(b["context"]["buyer.country"], b["below"], b["above"]): (b["budget_low"], b["budget_high"])
             for b in break_even_budgets(ROWS, AXES)}
    assert found == {
        ("CN", "infeasible", "h20"): (1e7, 2e7),  # the budget first suffices between ¥10M and ¥20M
        ("CN", "h20", "910c"): (4e7, 8e7),
        ("DE", "h100-sxm", "h200"): (2e7, 4e7),  # the failed ¥80M scenario is no evidence of a switch
    }


def test_no_budget_axis_no_break_even() -> None:
    assert break_even_budgets(ROWS, ["buyer.country"]) == []


def test_cheapest_feasible_plan_per_country_and_date() -> None:
    best = {c["country"]: c for c in cheapest_by_country_date(ROWS, AXES)}
    assert best["CN"]["scenario_id"] == "b" and best["CN"]["total_cost"] == 1.9e7
    assert best["DE"]["scenario_id"] == "e" and best["DE"]["swept"] == {"budget.amount": 1e7, "buyer.country": "DE"}


def test_summary_outcomes_add_up() -> None:
    s = summarize(ROWS, AXES)
    assert s["scenarios"] == 8 and sum(s["outcomes"].values()) == 8
    assert s["outcomes"]["infeasible"] == 1 and s["outcomes"]["failed"] == 1
