"""Plotly figure specs (plain dicts) built from the API's JSON: one source for the page and the reports.

Every function takes the JSON the HTTP API returns (a purchase plan, a compliance timeline, batch result rows)
and returns ``{"data": [...], "layout": {...}}`` that ``Plotly.newPlot`` renders as is. Money axes are labelled in
the buyer's currency and notation (:mod:`service.web.axes`); the sweep figures live in
:mod:`service.web.sweep_charts` and are re-exported here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from service.web.axes import labels, lang_of, layout, money_axis, number_axis
from service.web.sweep_charts import budget_curves, compact, winner_heatmap
from service.web.wording import workload_name

Figure = dict[str, Any]

__all__ = ["VERDICT_LEVEL", "budget_curves", "compact", "compliance_timeline", "cost_breakdown", "cost_lines", "labels",
           "pareto", "risk_outcomes", "schedule", "winner_heatmap"]

VERDICT_LEVEL = {"allowed": 0, "license_required": 1, "prohibited": 2, "not_for_sale": 3, "not_yet_available": 4}
_VERDICT_COLOURS = ["#2e7d32", "#f9a825", "#c62828", "#6d4c41", "#bdbdbd"]


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


def _item_name(item: Mapping[str, Any], lang: str, *, short: bool = False) -> str:
    """``training: 144 × Huawei Ascend 910C`` (``short``: the part's id and the workload on a second line)."""
    work = workload_name(str(item.get("workload", "")), lang_of(lang))
    if short:
        return f"{item.get('accelerators', '')} × {item.get('sku')}<br>{work}"
    return f"{work}: {item.get('accelerators', '')} × {item.get('name') or item.get('sku')}"


def cost_breakdown(plan: Mapping[str, Any], lang: str = "en") -> Figure:
    """Stacked bars: one bar per plan item, one segment per cost line, the total's low/high as an error bar."""
    lab = labels(lang)
    items: Sequence[Mapping[str, Any]] = plan.get("items") or []
    names = [_item_name(it, lang) for it in items]
    per_item = [cost_lines(it) for it in items]
    keys: list[str] = []
    for lines in per_item:
        keys.extend(k for k in lines if k not in keys)
    currency = str(plan.get("currency", ""))
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
    highs_abs: list[float] = []
    if items:
        totals = [float(it.get("total_cost") or 0.0) for it in items]
        highs_abs = [float(it.get("total_cost_high") or t) for it, t in zip(items, totals, strict=True)]
        highs = [h - t for h, t in zip(highs_abs, totals, strict=True)]
        lows = [t - float(it.get("total_cost_low") or t) for it, t in zip(items, totals, strict=True)]
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": lab["range"],
                "x": names,
                "y": totals,
                "marker": {"color": "#222", "size": 6},
                "showlegend": False,
                "error_y": {"type": "data", "symmetric": False, "array": highs, "arrayminus": lows},
            }
        )
    yaxis = money_axis([0.0, *highs_abs], currency, lang, title=f"{lab['cost']} ({currency})", floor_zero=True)
    return {"data": data, "layout": layout(lab["cost_title"], barmode="stack", yaxis=yaxis,
                                           xaxis={"automargin": True})}


def pareto(plan: Mapping[str, Any], lang: str = "en") -> Figure:
    """The cost/time frontier with the chosen plan marked (empty frontier: only the chosen point).

    Both axes are widened around a single point, and cost is labelled in the buyer's notation at round steps.
    """
    lab = labels(lang)
    points = sorted(plan.get("pareto") or [], key=lambda p: p.get("total_cost") or 0.0)
    data: list[dict[str, Any]] = []
    costs = [float(p["total_cost"]) for p in points]
    days = [float(p["time_days"]) for p in points]
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
        costs.append(float(plan["total_cost"]))
        days.append(float(plan["time_days"]))
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
    currency = str(plan.get("currency", ""))
    return {
        "data": data,
        "layout": layout(
            lab["pareto_title"],
            xaxis=money_axis(costs, currency, lang, title=f"{lab['cost']} ({currency})", target=4),
            yaxis=number_axis(days, title=lab["time_days"]),
        ),
    }


def schedule(plan: Mapping[str, Any], lang: str = "en", *, start: str | None = None) -> Figure:
    """From order to finished work, per plan item: delivery and set-up (the lead time), then the work itself.

    With ``start`` (the buyer's date, ``YYYY-MM-DD``) the axis is calendar dates; without it, days from the order.
    Training ends after its ``time_days``; serving runs on, drawn as far as the longest training (or 30 days).
    """
    lab = labels(lang)
    items: Sequence[Mapping[str, Any]] = plan.get("items") or []
    lead = float(plan.get("lead_time_days") or 0.0)
    runs = [float(it["time_days"]) for it in items if isinstance(it.get("time_days"), int | float)]
    horizon = max(runs, default=30.0)
    try:
        day0 = dt.date.fromisoformat(start) if start else None
        if day0 is not None:  # the schedule must fit the calendar (a lead time of 10⁶ days does not)
            day0 + dt.timedelta(days=lead + max([horizon, *runs]))
    except (ValueError, OverflowError):
        day0 = None
    names = [_item_name(it, lang, short=True) for it in items]
    segments: list[tuple[str, str, list[float], list[float]]] = []  # (key, colour, offsets, lengths)
    if lead > 0:
        segments.append(("lead", "#90a4ae", [0.0] * len(items), [lead] * len(items)))
    work = [float(it["time_days"]) if isinstance(it.get("time_days"), int | float) else horizon for it in items]
    kinds = ["run" if it.get("kind", "training") == "training" and it.get("time_days") is not None else "serve"
             for it in items]
    for key, colour in (("run", "#1f6feb"), ("serve", "#2e7d32")):
        if key in kinds:
            segments.append((key, colour, [lead if k == key else 0.0 for k in kinds],
                             [w if k == key else 0.0 for w, k in zip(work, kinds, strict=True)]))
    data: list[dict[str, Any]] = []
    for key, colour, offsets, lengths in segments:
        trace: dict[str, Any] = {"type": "bar", "orientation": "h", "name": lab[key], "y": names,
                                 "marker": {"color": colour}, "hovertemplate": f"{lab[key]}: %{{customdata}}"
                                 "<extra></extra>", "customdata": [_days_text(n, lang) for n in lengths]}
        if day0 is not None:
            trace["base"] = [(day0 + dt.timedelta(days=o)).isoformat() for o in offsets]
            trace["x"] = [n * 86_400_000 for n in lengths]
        else:
            trace["base"] = offsets
            trace["x"] = lengths
        data.append(trace)
    xaxis: dict[str, Any] = {"type": "date", "automargin": True} if day0 is not None else {
        "title": {"text": lab["time_days"]}, "automargin": True, "rangemode": "tozero"}
    return {"data": data, "layout": layout(lab["schedule_title"], barmode="overlay", xaxis=xaxis,
                                           yaxis={"automargin": True, "type": "category"},
                                           height=max(220, 150 + 40 * len(items)))}


def _days_text(n: float, lang: str) -> str:
    return f"{n:,.0f} 天" if lang.startswith("zh") else f"{n:,.0f} days"


def compliance_timeline(timeline: Mapping[str, Any], lang: str = "en") -> Figure:
    """Heat map: destinations down, dates across; green/amber/red for allowed/licence/prohibited.

    A date on which the part could not be bought shows that instead of the export verdict: grey before it was
    available (announcement, volume shipments), brown during a sales halt for that destination.
    """
    lab = labels(lang)
    dates: list[str] = list(timeline.get("dates") or [])
    rows: list[Mapping[str, Any]] = list(timeline.get("rows") or [])
    states = [_states(row) for row in rows]
    z = [[VERDICT_LEVEL.get(v) for v in row] for row in states]
    text = [[lab.get(v, v) for v in row] for row in states]
    n = len(_VERDICT_COLOURS)
    scale: list[list[Any]] = []
    for i, colour in enumerate(_VERDICT_COLOURS):
        scale += [[i / n, colour], [(i + 1) / n, colour]]
    data = [
        {
            "type": "heatmap",
            "x": dates,
            "y": [r.get("destination", "") for r in rows],
            "z": z,
            "text": text,
            "zmin": -0.5,
            "zmax": n - 0.5,
            "colorscale": scale,
            "xgap": 1,
            "hovertemplate": "%{y} %{x}: %{text}<extra></extra>",
            "colorbar": {
                "tickvals": list(range(n)),
                "ticktext": [lab[k] for k in sorted(VERDICT_LEVEL, key=VERDICT_LEVEL.__getitem__)],
                "orientation": "h", "x": 0, "xanchor": "left", "y": -0.25, "yanchor": "top", "thickness": 12,
            },
        }
    ]
    title = f"{lab['timeline_title']}: {timeline.get('name') or timeline.get('sku', '')}"
    return {"data": data, "layout": layout(title, yaxis={"type": "category", "automargin": True},
                                           xaxis={"automargin": True}, margin={"l": 48, "r": 16, "t": 48, "b": 96})}


def _states(row: Mapping[str, Any]) -> list[str]:
    """Per date: the availability when the part could not be bought, else the export verdict."""
    verdicts = list(row.get("verdicts") or [])
    avail = list(row.get("availability") or [])
    out = []
    for i, verdict in enumerate(verdicts):
        state = avail[i] if i < len(avail) else "available"
        out.append(state if state in ("not_yet_available", "not_for_sale") else verdict)
    return out


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
    currency = str(risk.get("currency") or plan.get("currency", ""))
    amounts = [float(x) for d in data for x in d["x"] if isinstance(x, int | float)]
    return {
        "data": data,
        "layout": layout(lab["risk_title"], barmode="group", height=max(320, 100 + 44 * len(rows)),
                         xaxis=money_axis([0.0, *amounts], currency, lang, title=f"{lab['cost']} ({currency})",
                                          floor_zero=True, target=4),
                         yaxis={"automargin": True}),
    }


def _short(name: str, width: int = 60) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"
