"""Plotly figure specs (plain dicts) built from the API's JSON: one source for the page and the reports.

Every function takes the JSON the HTTP API returns (a purchase plan, a compliance timeline, batch result rows)
and returns ``{"data": [...], "layout": {...}}`` that ``Plotly.newPlot`` renders as is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

Figure = dict[str, Any]

_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "cost_title": "Cost breakdown by item",
        "cost": "Cost",
        "pareto_title": "Cost vs time (Pareto frontier)",
        "time_days": "Time (days)",
        "frontier": "Pareto frontier",
        "chosen": "Chosen plan",
        "timeline_title": "Export verdict by date and destination",
        "winner_title": "Winning part by budget and date",
        "budget": "Budget",
        "date": "Date",
        "curves_title": "Cost and time by budget",
        "allowed": "allowed",
        "license_required": "licence required",
        "prohibited": "prohibited",
        "capex": "capex",
        "opex": "opex",
        "hardware": "servers and accelerators",
        "storage": "storage",
        "network": "network",
        "fees_tariffs": "fees and tariffs",
        "licence_risk_premium": "licence-risk premium",
        "power": "power",
        "hosting": "hosting and maintenance",
        "risk_title": "Outcome per scenario: today's plan vs hedged plan",
        "base_plan": "today's plan",
        "hedged_plan": "hedged plan",
        "on_time": "on time",
        "late": "late or over budget",
        "fails": "fails",
        "others": "other scenarios",
    },
    "zh": {
        "cost_title": "各项成本构成",
        "cost": "成本",
        "pareto_title": "成本与时间（帕累托前沿）",
        "time_days": "时间（天）",
        "frontier": "帕累托前沿",
        "chosen": "所选方案",
        "timeline_title": "按日期与目的地的出口管制结论",
        "winner_title": "按预算与日期的胜出芯片",
        "budget": "预算",
        "date": "日期",
        "curves_title": "不同预算下的成本与时间",
        "allowed": "允许",
        "license_required": "需许可证",
        "prohibited": "禁止",
        "capex": "资本支出",
        "opex": "运营支出",
        "hardware": "服务器与加速卡",
        "storage": "存储",
        "network": "网络",
        "fees_tariffs": "费用与关税",
        "licence_risk_premium": "许可证风险溢价",
        "power": "电费",
        "hosting": "托管与运维",
        "risk_title": "各情景结果：当前方案与对冲方案",
        "base_plan": "当前方案",
        "hedged_plan": "对冲方案",
        "on_time": "按期",
        "late": "延误或超预算",
        "fails": "无法完成",
        "others": "其他情景",
    },
}

VERDICT_LEVEL = {"allowed": 0, "license_required": 1, "prohibited": 2}
_VERDICT_COLOURS = ["#2e7d32", "#f9a825", "#c62828"]


def labels(lang: str) -> dict[str, str]:
    """The label set for ``lang`` (``zh`` or anything else for English)."""
    return _LABELS["zh" if lang.startswith("zh") else "en"]


def _layout(title: str, **extra: Any) -> dict[str, Any]:
    return {"title": {"text": title}, "margin": {"l": 60, "r": 20, "t": 50, "b": 60}, "autosize": True, **extra}


def cost_lines(item: Mapping[str, Any]) -> dict[str, float]:
    """The cost lines of one plan item, which add up to its total cost.

    capex = hardware + storage + network + fees/tariffs (``fee_fraction`` x hardware) + licence-risk premium
    (``risk_premium`` x hardware); opex = power + hosting/maintenance. Storage is what capex holds beyond the other
    lines; an item without ``hardware`` (older plans) is shown as capex and opex.
    """
    breakdown = item.get("cost_breakdown")
    if isinstance(breakdown, Mapping) and breakdown:
        lines: dict[str, float] = {}
        for key, value in breakdown.items():
            amount = value.get("base") if isinstance(value, Mapping) else value
            if isinstance(amount, int | float):
                lines[str(key)] = float(amount)
        if lines:
            return lines
    capex, opex = float(item.get("capex") or 0.0), float(item.get("opex") or 0.0)
    hardware = float(item.get("hardware") or 0.0)
    if hardware <= 0:
        return {"capex": capex, "opex": opex}
    network, hosting = float(item.get("network") or 0.0), float(item.get("hosting") or 0.0)
    fees = hardware * float(item.get("fee_fraction") or 0.0)
    premium = hardware * float(item.get("risk_premium") or 0.0)
    out = {
        "hardware": hardware,
        "storage": max(capex - hardware - network - fees - premium, 0.0),
        "network": network,
        "fees_tariffs": fees,
        "licence_risk_premium": premium,
        "power": max(opex - hosting, 0.0),
        "hosting": hosting,
    }
    return {k: v for k, v in out.items() if v > 0 or k == "hardware"}


def cost_breakdown(plan: Mapping[str, Any], lang: str = "en") -> Figure:
    """Stacked bars: one bar per plan item, one segment per cost line, the total's low/high as an error bar."""
    lab = labels(lang)
    items: Sequence[Mapping[str, Any]] = plan.get("items") or []
    names = [
        f"{it.get('workload', '')}: {it.get('accelerators', '')} × {it.get('name') or it.get('sku')}" for it in items
    ]
    per_item = [cost_lines(it) for it in items]
    keys: list[str] = []
    for lines in per_item:
        keys.extend(k for k in lines if k not in keys)
    currency = plan.get("currency", "")
    data: list[dict[str, Any]] = []
    for key in keys:
        data.append(
            {
                "type": "bar",
                "name": lab.get(key, key.replace("_", " ")),
                "x": names,
                "y": [lines.get(key, 0.0) for lines in per_item],
            }
        )
    if items:
        totals = [float(it.get("total_cost") or 0.0) for it in items]
        highs = [float(it.get("total_cost_high") or t) - t for it, t in zip(items, totals, strict=True)]
        lows = [t - float(it.get("total_cost_low") or t) for it, t in zip(items, totals, strict=True)]
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": "range",
                "x": names,
                "y": totals,
                "marker": {"color": "#222", "size": 6},
                "showlegend": False,
                "error_y": {"type": "data", "symmetric": False, "array": highs, "arrayminus": lows},
            }
        )
    return {
        "data": data,
        "layout": _layout(lab["cost_title"], barmode="stack", yaxis={"title": {"text": f"{lab['cost']} ({currency})"}}),
    }


def pareto(plan: Mapping[str, Any], lang: str = "en") -> Figure:
    """The cost/time frontier with the chosen plan marked (empty frontier: only the chosen point)."""
    lab = labels(lang)
    points = sorted(plan.get("pareto") or [], key=lambda p: p.get("total_cost") or 0.0)
    data: list[dict[str, Any]] = []
    if points:
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": lab["frontier"],
                "x": [p["total_cost"] for p in points],
                "y": [p["time_days"] for p in points],
                "text": [", ".join(f"{i['accelerators']}×{i['sku']}" for i in p.get("items", [])) for p in points],
            }
        )
    if plan.get("total_cost") is not None and plan.get("time_days") is not None:
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": lab["chosen"],
                "x": [plan["total_cost"]],
                "y": [plan["time_days"]],
                "marker": {"symbol": "star", "size": 16, "color": "#c62828"},
            }
        )
    currency = plan.get("currency", "")
    return {
        "data": data,
        "layout": _layout(
            lab["pareto_title"],
            xaxis={"title": {"text": f"{lab['cost']} ({currency})"}},
            yaxis={"title": {"text": lab["time_days"]}},
        ),
    }


def compliance_timeline(timeline: Mapping[str, Any], lang: str = "en") -> Figure:
    """Heat map of verdicts: destinations down, dates across, green/amber/red for allowed/licence/prohibited."""
    lab = labels(lang)
    dates: list[str] = list(timeline.get("dates") or [])
    rows: list[Mapping[str, Any]] = list(timeline.get("rows") or [])
    z = [[VERDICT_LEVEL.get(v, None) for v in row.get("verdicts", [])] for row in rows]
    text = [[lab.get(v, v) for v in row.get("verdicts", [])] for row in rows]
    scale = [
        [0.0, _VERDICT_COLOURS[0]],
        [0.333, _VERDICT_COLOURS[0]],
        [0.334, _VERDICT_COLOURS[1]],
        [0.666, _VERDICT_COLOURS[1]],
        [0.667, _VERDICT_COLOURS[2]],
        [1.0, _VERDICT_COLOURS[2]],
    ]
    data = [
        {
            "type": "heatmap",
            "x": dates,
            "y": [r.get("destination", "") for r in rows],
            "z": z,
            "text": text,
            "zmin": 0,
            "zmax": 2,
            "colorscale": scale,
            "hovertemplate": "%{y} %{x}: %{text}<extra></extra>",
            "colorbar": {
                "tickvals": [0, 1, 2],
                "ticktext": [lab["allowed"], lab["license_required"], lab["prohibited"]],
            },
        }
    ]
    title = f"{lab['timeline_title']}: {timeline.get('name') or timeline.get('sku', '')}"
    return {"data": data, "layout": _layout(title, yaxis={"type": "category"})}


def _value(row: Mapping[str, Any], key: str) -> Any:
    """A swept value: batch result rows carry them at the top level, keyed by path; ``values`` is also accepted."""
    values = row.get("values")
    return values.get(key) if isinstance(values, Mapping) else row.get(key)


def _parts(row: Mapping[str, Any]) -> list[str]:
    """Chosen parts: a list (``skus``) or the jobs API's ``"a+b"`` text (``parts``)."""
    parts = row.get("skus") or row.get("parts") or []
    return [p for p in parts.split("+") if p] if isinstance(parts, str) else list(parts)


def _feasible(row: Mapping[str, Any]) -> bool:
    return (row.get("plan_status") or row.get("status")) in ("optimal", "feasible")


def compact(value: Any) -> str:
    """``60000000.0`` -> ``60M``; other values as text (axis labels of swept budgets)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
            if abs(value) >= size:
                return f"{value / size:g}{suffix}"
        return f"{value:g}"
    return str(value)


def winner_heatmap(
    rows: Sequence[Mapping[str, Any]], lang: str = "en", *, x_key: str = "buyer.date", y_key: str = "budget.amount"
) -> Figure:
    """Winning part per (budget, date) cell of a batch job; cells without a feasible plan stay empty.

    Args:
        rows: batch result rows (swept values keyed by dotted path, ``parts`` chosen, ``plan_status``).
        lang: label language.
        x_key: swept field across.
        y_key: swept field down.
    """
    lab = labels(lang)
    xs = sorted({str(_value(r, x_key)) for r in rows})
    ys = sorted({_value(r, y_key) for r in rows}, key=lambda v: (v is None, v if v is not None else 0))
    parts = sorted({"+".join(_parts(r)) for r in rows if _parts(r) and _feasible(r)})
    code = {p: i for i, p in enumerate(parts)}
    grid: list[list[int | None]] = [[None] * len(xs) for _ in ys]
    names: list[list[str]] = [[""] * len(xs) for _ in ys]
    for r in rows:
        skus = "+".join(_parts(r))
        if not skus or not _feasible(r):
            continue
        yi, xi = ys.index(_value(r, y_key)), xs.index(str(_value(r, x_key)))
        grid[yi][xi], names[yi][xi] = code[skus], skus
    data = [
        {
            "type": "heatmap",
            "x": xs,
            "y": [compact(y) for y in ys],
            "z": grid,
            "text": names,
            "texttemplate": "%{text}",
            "zmin": 0,
            "zmax": max(len(parts) - 1, 1),
            "colorscale": "Viridis",
            "showscale": False,
            "hovertemplate": "%{y} / %{x}: %{text}<extra></extra>",
        }
    ]
    return {
        "data": data,
        "layout": _layout(
            lab["winner_title"],
            xaxis={"title": {"text": lab["date"]}, "type": "category"},
            yaxis={"title": {"text": lab["budget"]}, "type": "category"},
        ),
        "parts": parts,
    }


def budget_curves(
    rows: Sequence[Mapping[str, Any]],
    lang: str = "en",
    *,
    budget_key: str = "budget.amount",
    series_key: str | None = "buyer.country",
) -> Figure:
    """Total cost and time against budget, one line per value of ``series_key`` (time on a second axis)."""
    lab = labels(lang)
    series: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        if not _feasible(r):
            continue
        key = str(_value(r, series_key) or "") if series_key else ""
        series.setdefault(key, []).append(r)
    data: list[dict[str, Any]] = []
    for key, group in sorted(series.items()):
        group = sorted(group, key=lambda r: _value(r, budget_key) or 0)
        xs = [_value(r, budget_key) for r in group]
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": f"{key} {lab['cost']}".strip(),
                "x": xs,
                "y": [r.get("total_cost") for r in group],
            }
        )
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": f"{key} {lab['time_days']}".strip(),
                "x": xs,
                "y": [r.get("time_days") for r in group],
                "yaxis": "y2",
                "line": {"dash": "dot"},
            }
        )
    return {
        "data": data,
        "layout": _layout(
            lab["curves_title"],
            xaxis={"title": {"text": lab["budget"]}},
            yaxis={"title": {"text": lab["cost"]}},
            yaxis2={"title": {"text": lab["time_days"]}, "overlaying": "y", "side": "right"},
        ),
    }


_OUTCOME_COLOURS = {"on_time": "#2e7d32", "late": "#f9a825", "fails": "#c62828"}


def _state(outcome: Mapping[str, Any] | None) -> str:
    if outcome is None or not outcome.get("feasible"):
        return "fails"
    return "on_time" if outcome.get("on_time") else "late"


def risk_outcomes(plan: Mapping[str, Any], lang: str = "en", *, limit: int = 12) -> Figure:
    """Total cost after recourse per scenario (most likely first), today's plan beside the hedged plan.

    Bars are coloured by outcome (on time, late or over budget, fails) and labelled with the finishing day; the
    scenario's probability leads its label. An empty figure when the plan has no ``risk`` block.
    """
    lab = labels(lang)
    risk = plan.get("risk") or {}
    rows = sorted(risk.get("scenarios") or [], key=lambda s: -(s.get("probability") or 0.0))[:limit]
    names = [f"{(s.get('probability') or 0):.1%} · {_short(s.get('name') or '')}" for s in reversed(rows)]
    data: list[dict[str, Any]] = []
    for key, label in (("base", lab["base_plan"]), ("hedged", lab["hedged_plan"])):
        outs = [s.get(key) for s in reversed(rows)]
        states = [_state(o) for o in outs]
        data.append({
            "type": "bar",
            "orientation": "h",
            "name": label,
            "y": names,
            "x": [None if o is None else o.get("total_cost") for o in outs],
            "text": ["" if o is None or o.get("days") is None else f"{o['days']:.0f} d" for o in outs],
            "textposition": "auto",
            "marker": {"color": [_OUTCOME_COLOURS[st] for st in states],
                       "pattern": {"shape": "" if key == "hedged" else "/"}},
            "customdata": [[lab[st], s.get("name") or ""] for st, s in zip(states, reversed(rows), strict=True)],
            "hovertemplate": "%{customdata[1]}<br>" + label + ": %{customdata[0]}, %{x:,.0f}<extra></extra>",
        })
    currency = risk.get("currency") or plan.get("currency", "")
    return {
        "data": data,
        "layout": _layout(lab["risk_title"], barmode="group", height=max(320, 60 + 44 * len(rows)),
                          xaxis={"title": {"text": f"{lab['cost']} ({currency})"}},
                          yaxis={"automargin": True}),
    }


def _short(name: str, width: int = 60) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"
