"""Two or three plans side by side: parts, counts, cost lines, days, risks and data age, differences marked.

One table for the page's compare view and the memo. A row ``differs`` when its cells do not all read the same; for
rows with a better direction (cost, days: lower; on-time probability, domestic share: higher) ``best`` names the
columns holding the best value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from service.presenters.text import Lang, fmt_days, fmt_money, fmt_share
from service.web import charts
from service.web.view import part_line
from service.web.wording import binding_text, verdict_text, w

MAX_PLANS = 3

_ROW_WORDS: dict[str, dict[Lang, str]] = {
    "status": {"en": "Status", "zh": "状态"},
    "parts": {"en": "Parts", "zh": "芯片"},
    "accelerators": {"en": "Accelerators", "zh": "加速卡数"},
    "nodes": {"en": "Nodes", "zh": "节点数"},
    "total_cost": {"en": "Total cost", "zh": "总成本"},
    "range": {"en": "Cost range", "zh": "成本区间"},
    "capex": {"en": "Capex", "zh": "资本支出"},
    "opex": {"en": "Opex", "zh": "运营支出"},
    "time_days": {"en": "Longest training", "zh": "最长训练"},
    "lead_time": {"en": "Delivery and set-up", "zh": "交付与部署"},
    "power": {"en": "Power", "zh": "功率"},
    "budget": {"en": "Budget", "zh": "预算"},
    "domestic": {"en": "Domestic share", "zh": "国产占比"},
    "verdicts": {"en": "Export verdicts", "zh": "出口管制结论"},
    "binding": {"en": "Binding constraints", "zh": "约束瓶颈"},
    "warnings": {"en": "Risks and warnings", "zh": "风险与警告"},
    "hedged": {"en": "Hedged purchase", "zh": "对冲采购"},
    "on_time": {"en": "On time (today → hedged)", "zh": "按期概率（当前 → 对冲）"},
    "data_age": {"en": "Data as of", "zh": "数据截至"},
}

Cell = tuple[str, float | None]


def _money(v: Any, cur: str, lang: Lang) -> Cell:
    n = float(v) if isinstance(v, int | float) else None
    return fmt_money(n, cur, lang), n


def _lines(plan: Mapping[str, Any]) -> dict[str, float]:
    sums: dict[str, float] = {}
    for item in plan.get("items") or []:
        for key, value in charts.cost_lines(item).items():
            sums[key] = sums.get(key, 0.0) + value
    return sums


def _line_cell(key: str, lang: Lang) -> Callable[[Mapping[str, Any], Mapping[str, Any]], Cell]:
    def cell(entry: Mapping[str, Any], plan: Mapping[str, Any]) -> Cell:
        return _money(_lines(plan).get(key), str(plan.get("currency", "")), lang)
    return cell


def _data_age(entry: Mapping[str, Any]) -> Cell:
    plan = entry.get("plan") or {}
    data = plan.get("data") if isinstance(plan, Mapping) else None
    as_of = data.get("as_of") if isinstance(data, Mapping) else None
    text = str(as_of or entry.get("data_as_of") or "—")
    return text, None


def _on_time(plan: Mapping[str, Any]) -> Cell:
    risk = plan.get("risk")
    pot = risk.get("probability_on_time") if isinstance(risk, Mapping) else None
    hedged = pot.get("hedged") if isinstance(pot, Mapping) else None
    if not isinstance(hedged, int | float):
        return "—", None
    base = pot.get("base") if isinstance(pot, Mapping) else None
    text = fmt_share(float(hedged)) if not isinstance(base, int | float) else \
        f"{fmt_share(float(base))} → {fmt_share(float(hedged))}"
    return text, float(hedged)


def _hedged_parts(plan: Mapping[str, Any], lang: Lang) -> str:
    """What the hedged plan buys (``—`` for a plan without a hedge)."""
    risk = plan.get("risk")
    items = risk.get("items") if isinstance(risk, Mapping) else None
    if not items:
        return "—"
    return ("；" if lang == "zh" else "; ").join(f"{i.get('accelerators', 0):,} × {i.get('sku')}" for i in items)


def _rows(lang: Lang) -> list[tuple[str, Callable[[Mapping[str, Any], Mapping[str, Any]], Cell], str | None]]:
    """(key, cell of (entry, plan), better direction)."""
    sep = "、" if lang == "zh" else ", "

    def cur(p: Mapping[str, Any]) -> str:
        return str(p.get("currency", ""))

    def num(v: Any) -> Cell:
        return ("—", None) if not isinstance(v, int | float) else (f"{v:,.0f}", float(v))

    def days(v: Any) -> Cell:
        return ("—", None) if not isinstance(v, int | float) else (fmt_days(float(v), lang), float(v))

    return [
        ("status", lambda e, p: (w(str(p.get("status")), lang) if str(p.get("status")) in (
            "optimal", "feasible", "infeasible", "model_invalid", "unknown") else str(p.get("status")), None), None),
        ("parts", lambda e, p: (part_line(p.get("items") or [], lang) or "—", None), None),
        ("accelerators", lambda e, p: num(p.get("accelerators")), None),
        ("nodes", lambda e, p: num(p.get("nodes")), None),
        ("total_cost", lambda e, p: _money(p.get("total_cost"), cur(p), lang), "min"),
        ("range", lambda e, p: (f"{_money(p.get('total_cost_low'), cur(p), lang)[0]}–"
                                f"{_money(p.get('total_cost_high'), cur(p), lang)[0]}", None), None),
        ("capex", lambda e, p: _money(p.get("capex"), cur(p), lang), "min"),
        ("opex", lambda e, p: _money(p.get("opex"), cur(p), lang), "min"),
        *[(f"line:{k}", _line_cell(k, lang), "min")
          for k in ("hardware", "storage", "network", "fees_tariffs", "licence_risk_premium", "power", "hosting")],
        ("time_days", lambda e, p: days(p.get("time_days")), "min"),
        ("lead_time", lambda e, p: days(p.get("lead_time_days") or None), "min"),
        ("power", lambda e, p: (("—", None) if not p.get("power_kw") else (f"{p['power_kw']:,.0f} kW",
                                                                          float(p["power_kw"]))), "min"),
        ("budget", lambda e, p: _money(p.get("budget"), cur(p), lang), None),
        ("domestic", lambda e, p: (("—", None) if p.get("domestic_share") is None else
                                   (fmt_share(p["domestic_share"]), float(p["domestic_share"]))), "max"),
        ("verdicts", lambda e, p: (sep.join(dict.fromkeys(
            verdict_text(str(i.get("verdict", "")), i.get("license_outlook"), lang) for i in p.get("items") or []))
            or "—", None), None),
        ("binding", lambda e, p: (sep.join(binding_text(b, lang) for b in p.get("binding_constraints") or [])
                                  or w("none", lang), None), None),
        ("warnings", lambda e, p: (str(len(p.get("warnings") or [])), float(len(p.get("warnings") or []))), "min"),
        ("hedged", lambda e, p: (_hedged_parts(p, lang), None), None),
        ("on_time", lambda e, p: _on_time(p), "max"),
        ("data_age", lambda e, p: _data_age(e), None),
    ]


def compare_table(entries: Sequence[Mapping[str, Any]], lang: Lang) -> dict[str, Any]:
    """The comparison of up to three plans (``label``, ``plan`` as JSON, optional ``data_as_of``).

    Rows that are empty for every plan (a cost line no plan has, no hedge anywhere) are left out.
    """
    entries = list(entries)[:MAX_PLANS]
    lab = charts.labels(lang)
    rows = []
    for key, cell, better in _rows(lang):
        cells = [cell(e, e.get("plan") or {}) for e in entries]
        texts = [c[0] for c in cells]
        if all(t in ("—", "", "—–—") for t in texts):
            continue
        label = lab.get(key[5:], key[5:]) if key.startswith("line:") else _ROW_WORDS[key][lang]
        label = label[:1].upper() + label[1:]
        differs = len(set(texts)) > 1
        best: list[int] = []
        values = [c[1] for c in cells]
        known = [v for v in values if v is not None]
        if differs and better and len(known) > 1 and len(set(known)) > 1:
            target = min(known) if better == "min" else max(known)
            best = [i for i, v in enumerate(values) if v == target]
        rows.append({"key": key, "label": label, "cells": texts, "differs": differs, "best": best})
    return {"columns": [str(e.get("label") or f"#{i + 1}") for i, e in enumerate(entries)], "rows": rows}
