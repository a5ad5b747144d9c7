"""What every figure shares: its labels in two languages, its layout, and axes a planner can read.

A money axis is labelled by the presenters' money notation (``¥46M``, ``¥4,600万``, ``$1.2亿``) at round steps, and
an axis over a single value is widened around it: Plotly's own ticks over a range of zero width are the same number
repeated to eight digits (``87.140182M``, ``87.1401825M``…).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from service.presenters.text import Lang, fmt_money

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
        "not_yet_available": "not yet available",
        "not_for_sale": "sales halted",
        "capex": "capex",
        "opex": "opex",
        "hardware": "servers and accelerators",
        "storage": "storage",
        "network": "network",
        "fees_tariffs": "fees and tariffs",
        "licence_risk_premium": "licence-risk premium",
        "power": "power",
        "hosting": "hosting and maintenance",
        "switching": "switching stack (one-time porting)",
        "risk_title": "Outcome per scenario: today's plan vs hedged plan",
        "base_plan": "today's plan",
        "hedged_plan": "hedged plan",
        "on_time": "on time",
        "late": "late or over budget",
        "fails": "fails",
        "others": "other scenarios",
        "schedule_title": "From order to finished work",
        "lead": "delivery and set-up",
        "run": "training",
        "serve": "serving",
        "range": "range",
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
        "not_yet_available": "尚未上市",
        "not_for_sale": "暂停销售",
        "capex": "资本支出",
        "opex": "运营支出",
        "hardware": "服务器与加速卡",
        "storage": "存储",
        "network": "网络",
        "fees_tariffs": "费用与关税",
        "licence_risk_premium": "许可证风险溢价",
        "power": "电费",
        "hosting": "托管与运维",
        "switching": "生态迁移（一次性移植）",
        "risk_title": "各情景结果：当前方案与对冲方案",
        "base_plan": "当前方案",
        "hedged_plan": "对冲方案",
        "on_time": "按期",
        "late": "延误或超预算",
        "fails": "无法完成",
        "others": "其他情景",
        "schedule_title": "从下单到完成",
        "lead": "交付与部署",
        "run": "训练",
        "serve": "推理服务",
        "range": "区间",
    },
}


def labels(lang: str) -> dict[str, str]:
    """The label set for ``lang`` (``zh`` or anything else for English)."""
    return _LABELS[lang_of(lang)]


def lang_of(lang: str) -> Lang:
    """``zh`` for any Chinese tag, else ``en``."""
    return "zh" if lang.startswith("zh") else "en"


def layout(title: str, **extra: Any) -> dict[str, Any]:
    """The common layout: a title, room for axis labels, sized by its container, legend under the plot.

    The legend sits below the plotting area so it never covers a right-hand axis, its title or its tick labels.
    """
    return {
        "title": {"text": title},
        "margin": {"l": 64, "r": 24, "t": 48, "b": 40},
        "autosize": True,
        "legend": {"orientation": "h", "x": 0, "xanchor": "left", "y": -0.2, "yanchor": "top"},
        **extra,
    }


_LARGEST = 1e300
"""Values beyond this are left out of an axis range (its padding would overflow to infinity)."""


def padded_range(values: Iterable[float], *, pad: float = 0.08, floor_zero: bool = False) -> tuple[float, float]:
    """A range around ``values`` with ``pad`` of room each side; one value (or equal values) gets ±10% of itself.

    Around zero (or a tiny value) it reaches at least half a unit each side.
    """
    vals = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    vals = [v for v in vals if abs(v) <= _LARGEST]
    if not vals:
        return (0.0, 1.0)
    lo, hi = min(vals), max(vals)
    if hi - lo <= max(abs(hi) * 1e-9, 1e-6):  # one value (amounts and days below a millionth are noise)
        half = max(abs(hi) * 0.1, 0.5)
        lo, hi = lo - half, hi + half
    else:
        room = (hi - lo) * pad
        lo, hi = lo - room, hi + room
    if floor_zero and lo < 0 <= min(vals):
        lo = 0.0
    return (lo, hi)


def nice_step(span: float, target: int = 5) -> float:
    """A round step (1, 2, 2.5 or 5 × a power of ten) giving about ``target`` ticks over ``span``."""
    raw = span / max(target, 1)
    if raw <= 0 or not math.isfinite(raw):
        return 1.0
    mag = 10.0 ** math.floor(math.log10(raw))
    return next(m * mag for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * mag >= raw - 1e-12 * mag)


def ticks(lo: float, hi: float, target: int = 5) -> list[float]:
    """Round tick values inside ``[lo, hi]``."""
    step = nice_step(hi - lo, target)
    first = math.ceil(lo / step - 1e-9) * step
    out: list[float] = []
    v = first
    while v <= hi + step * 1e-9 and len(out) < 50:
        out.append(round(v, 10))
        v = first + step * len(out)
    return out


def money_axis(values: Iterable[float], currency: str, lang: str, *, title: str | None = None,
               floor_zero: bool = False, target: int = 5) -> dict[str, Any]:
    """A linear axis over ``values`` with round ticks labelled in the buyer's currency and notation."""
    lo, hi = padded_range(values, floor_zero=floor_zero)
    vals = ticks(lo, hi, target)
    text = [fmt_money(v, currency, lang_of(lang)) for v in vals]
    if len(set(text)) < len(text):  # steps finer than the notation writes: the amounts in full
        step = vals[1] - vals[0]
        digits = max(0, -math.floor(math.log10(step) + 1e-9))
        sym = {"CNY": "¥", "USD": "$"}.get(currency, f"{currency} ")
        text = [f"{'-' if v < 0 else ''}{sym}{abs(v):,.{digits}f}" for v in vals]
    axis: dict[str, Any] = {"type": "linear", "range": [lo, hi], "tickmode": "array", "tickvals": vals,
                            "ticktext": text, "automargin": True}
    if title:
        axis["title"] = {"text": title}
    return axis


def number_axis(values: Iterable[float], *, title: str | None = None, floor_zero: bool = False,
                target: int = 5) -> dict[str, Any]:
    """A linear axis over ``values`` (days, counts) with round ticks, readable over a single value too.

    The ticks are given explicitly: a second axis laid over a first would otherwise take ticks aligned to the first
    axis's grid (709, 528, 347 days) instead of round ones.
    """
    lo, hi = padded_range(values, floor_zero=floor_zero)
    vals = ticks(lo, hi, target)
    step = vals[1] - vals[0] if len(vals) > 1 else 1.0
    digits = 0 if step >= 1 else min(3, -math.floor(math.log10(step)))
    axis: dict[str, Any] = {"type": "linear", "range": [lo, hi], "tickmode": "array", "tickvals": vals,
                            "ticktext": [f"{v:,.{digits}f}" for v in vals], "automargin": True}
    if title:
        axis["title"] = {"text": title}
    return axis
