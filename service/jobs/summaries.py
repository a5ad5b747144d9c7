"""What a sweep says: which part wins where (by axis), break-even budgets, the cheapest plan per country/date."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from service.jobs.spec import canonical_json

BUDGET_AXES = ("budget.amount", "budget", "whatif.budget")
FEASIBLE = ("optimal", "feasible")


def _winner(row: dict[str, Any]) -> str:
    """The part (or part mix) a scenario chose; ``infeasible`` / ``failed`` otherwise."""
    if row["status"] != "done":
        return "failed"
    if row.get("plan_status") in FEASIBLE and row.get("parts"):
        return str(row["parts"])
    return "infeasible"


def winners_by_axis(rows: list[dict[str, Any]], axes: list[str]) -> dict[str, list[dict[str, Any]]]:
    """For every axis value: how often each part wins, and the most frequent winner."""
    out: dict[str, list[dict[str, Any]]] = {}
    for axis in axes:
        groups: dict[str, Counter[str]] = {}
        values: dict[str, Any] = {}
        for r in rows:
            key = canonical_json(r.get(axis))
            values.setdefault(key, r.get(axis))
            groups.setdefault(key, Counter())[_winner(r)] += 1
        entries = []
        for key, counts in groups.items():
            total = sum(counts.values())
            wins = {k: v for k, v in counts.items() if k not in ("infeasible", "failed")}
            top = max(sorted(wins), key=lambda k: wins[k]) if wins else None
            entries.append({"value": values[key], "winner": top,
                            "share": round(wins[top] / total, 4) if top else 0.0,
                            "counts": dict(sorted(counts.items(), key=lambda kv: -kv[1])), "scenarios": total})
        out[axis] = entries
    return out


def _budget_axis(axes: list[str]) -> str | None:
    return next((a for a in BUDGET_AXES if a in axes), None)


def break_even_budgets(rows: list[dict[str, Any]], axes: list[str]) -> list[dict[str, Any]]:
    """Where, along the budget axis, the winning part changes (other axes held fixed).

    Each entry gives the other axes' values, the part below and above, and the two budgets that bracket the
    switch (the sweep's resolution); ``infeasible`` below means the budget first becomes sufficient there.
    """
    axis = _budget_axis(axes)
    if axis is None:
        return []
    others = [a for a in axes if a != axis]
    lines: dict[str, list[tuple[float, str, dict[str, Any]]]] = defaultdict(list)
    for r in rows:
        budget = r.get("budget_amount")
        if budget is None or r["status"] != "done":
            continue
        context = {a: r.get(a) for a in others}
        lines[canonical_json(context)].append((float(budget), _winner(r), context))
    out = []
    for points in lines.values():
        points.sort(key=lambda p: p[0])
        for (b0, w0, ctx), (b1, w1, _) in zip(points, points[1:], strict=False):
            if w0 != w1:
                out.append({"context": ctx, "below": w0, "above": w1,
                            "budget_low": b0, "budget_high": b1, "currency": _currency(rows)})
    return out


def _currency(rows: list[dict[str, Any]]) -> str | None:
    return next((r.get("currency") for r in rows if r.get("currency")), None)


def cheapest_by_country_date(rows: list[dict[str, Any]], axes: list[str]) -> list[dict[str, Any]]:
    """The cheapest feasible plan (total cost, base case) for every buyer country and date in the job."""
    best: dict[tuple[str, str, str], dict[str, Any]] = {}
    for r in rows:
        if _winner(r) in ("infeasible", "failed") or r.get("total_cost") is None:
            continue
        key = (str(r.get("country")), str(r.get("date")), str(r.get("currency")))
        if key not in best or r["total_cost"] < best[key]["total_cost"]:
            best[key] = r
    return [{"country": k[0], "date": k[1], "currency": k[2], "scenario_id": r["scenario_id"], "parts": r["parts"],
             "items": r["items"], "total_cost_low": r["total_cost_low"], "total_cost": r["total_cost"],
             "total_cost_high": r["total_cost_high"], "time_days": r["time_days"],
             "swept": {a: r.get(a) for a in axes}}
            for k, r in sorted(best.items())]


def summarize(rows: Iterable[dict[str, Any]], axes: list[str]) -> dict[str, Any]:
    """The three views of a job's results, as JSON-ready data (the CLI renders it as tables)."""
    data = list(rows)
    counts = Counter(_winner(r) for r in data)
    return {
        "scenarios": len(data),
        "outcomes": dict(sorted(counts.items(), key=lambda kv: -kv[1])),
        "winners_by_axis": winners_by_axis(data, axes),
        "break_even_budgets": break_even_budgets(data, axes),
        "cheapest_by_country_date": cheapest_by_country_date(data, axes),
    }
