"""Figures of a batch sweep: the winning part per cell, and cost and time against budget.

Both take result rows as the jobs API returns them (swept values keyed by dotted path, ``parts`` chosen,
``plan_status``); budgets are written in the rows' currency and the buyer's notation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from service.presenters.text import fmt_money
from service.web.axes import labels, lang_of, layout, money_axis, number_axis

Figure = dict[str, Any]


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


def _currency(rows: Sequence[Mapping[str, Any]]) -> str:
    return next((str(r["currency"]) for r in rows if r.get("currency")), "")


def compact(value: Any) -> str:
    """``60000000.0`` -> ``60M``; other values as text (axis labels of swept values without a currency)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
            if abs(value) >= size:
                return f"{value / size:g}{suffix}"
        return f"{value:g}"
    return str(value)


def _label(value: Any, key: str, currency: str, lang: str) -> str:
    """A swept value as an axis label: budgets as money in the buyer's notation, others compact."""
    if key.startswith("budget") and currency and isinstance(value, int | float) and not isinstance(value, bool):
        return fmt_money(float(value), currency, lang_of(lang))
    return compact(value)


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
    currency = _currency(rows)
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
            "y": [_label(y, y_key, currency, lang) for y in ys],
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
        "layout": layout(
            lab["winner_title"],
            xaxis={"title": {"text": lab["date"]}, "type": "category", "automargin": True},
            yaxis={"title": {"text": lab["budget"]}, "type": "category", "automargin": True},
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
    """Total cost and time against budget, one line per value of ``series_key`` (time on a second axis).

    Cost and budget axes are money in the rows' currency; the time axis on the right counts days upwards from
    zero, with its title and ticks clear of the legend (which sits under the plot).
    """
    lab = labels(lang)
    currency = _currency(rows)
    series: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        if not _feasible(r):
            continue
        key = str(_value(r, series_key) or "") if series_key else ""
        series.setdefault(key, []).append(r)
    data: list[dict[str, Any]] = []
    budgets: list[float] = []
    costs: list[float] = []
    days: list[float] = []
    for key, group in sorted(series.items()):
        group = sorted(group, key=lambda r: _value(r, budget_key) or 0)
        xs = [_value(r, budget_key) for r in group]
        budgets += [float(x) for x in xs if isinstance(x, int | float)]
        costs += [float(r["total_cost"]) for r in group if isinstance(r.get("total_cost"), int | float)]
        days += [float(r["time_days"]) for r in group if isinstance(r.get("time_days"), int | float)]
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
    if currency:
        xaxis = money_axis(budgets, currency, lang, title=lab["budget"])
        yaxis = money_axis(costs, currency, lang, title=f"{lab['cost']} ({currency})", floor_zero=True)
    else:
        xaxis = number_axis(budgets, title=lab["budget"])
        yaxis = number_axis(costs, title=lab["cost"], floor_zero=True)
    yaxis2 = {**number_axis([0.0, *days], title=lab["time_days"], floor_zero=True), "overlaying": "y",
              "side": "right", "rangemode": "tozero", "showgrid": False}
    return {
        "data": data,
        "layout": layout(lab["curves_title"], xaxis=xaxis, yaxis=yaxis, yaxis2=yaxis2,
                         margin={"l": 64, "r": 64, "t": 48, "b": 40}),
    }
