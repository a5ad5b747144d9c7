"""A purchase plan as the page shows it: headline first, then cost lines and schedule, then the considered options.

Every text is in the reader's language and every amount in the buyer's currency and notation (the presenters'
money formatter); the page renders this view as it comes, so the memo, the compare view and the page word a plan the
same way. Fields the plan may carry from newer cores (``break_even``, ``data``) are shown when present.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from service.presenters.reasons import STATUS_ZH, reason_text
from service.presenters.relaxations import describe
from service.presenters.risk import headline as risk_headline
from service.presenters.risk import hedged_lines, scenario_lines, summary_lines
from service.presenters.text import Lang, fmt_days, fmt_money, fmt_share
from service.usecases import PurchasePlan, RiskReport
from service.web import charts
from service.web.wording import binding_text, note_text, verdict_text, w, workload_name

STATUS_RANK = {"chosen": 0, "feasible": 1, "over budget": 2, "misses deadline": 2, "blocked by policy": 3,
               "excluded": 4}
"""Order of the considered options: the decisive ones (chosen, the runners-up, the near misses) first."""


def _list(value: Any) -> list[Any]:
    """A field a newer core may send, read defensively: a list, or nothing."""
    return value if isinstance(value, list) else []


def _money(v: Any, cur: str, lang: Lang, *, signed: bool = False) -> str:
    return fmt_money(float(v) if isinstance(v, int | float) else None, cur, lang, signed=signed)


def _days(v: Any, lang: Lang) -> str:
    return fmt_days(float(v) if isinstance(v, int | float) else None, lang)


def _num(v: Any) -> str:
    return "—" if not isinstance(v, int | float) else f"{v:,.0f}"


def part_line(items: Sequence[Mapping[str, Any]], lang: Lang) -> str:
    """``144 × Huawei Ascend 910C for training`` / ``预训练：144 张 Huawei Ascend 910C`` (several joined)."""
    if lang == "zh":
        return "；".join(f"{workload_name(str(i.get('workload', '')), lang)}：{i.get('accelerators', 0):,} 张 "
                        f"{i.get('name') or i.get('sku')}" for i in items)
    return "; ".join(f"{i.get('accelerators', 0):,} × {i.get('name') or i.get('sku')} {w('for', lang)} "
                     f"{workload_name(str(i.get('workload', '')), lang)}" for i in items)


def headline(plan: Mapping[str, Any], lang: Lang, relaxations: Sequence[str] = ()) -> dict[str, Any]:
    """The plan in two lines: what to buy, then what it costs and how long it takes (or why nothing fits)."""
    status = str(plan.get("status", ""))
    ok = status in ("optimal", "feasible") and bool(plan.get("items"))
    cur = str(plan.get("currency", ""))
    if not ok:
        return {"ok": False, "status": status, "status_text": w(status, lang) if status in
                ("infeasible", "model_invalid", "unknown") else status,
                "title": w(status, lang) if status in ("infeasible", "model_invalid", "unknown") else status,
                "summary": relaxations[0] if relaxations else (w("no_fit", lang) if lang == "zh" else
                                                               str(plan.get("message", "")))}
    total = _money(plan.get("total_cost"), cur, lang)
    rng = f"{_money(plan.get('total_cost_low'), cur, lang)}–{_money(plan.get('total_cost_high'), cur, lang)}"
    summary = f"{w('total', lang)} {total}（{w('range', lang)} {rng}）" if lang == "zh" else \
        f"{w('total', lang)} {total} ({w('range', lang)} {rng})"
    if plan.get("time_days") is not None:
        summary += ("，" if lang == "zh" else ", ") + f"{w('time', lang).lower()} {_days(plan.get('time_days'), lang)}"
    return {"ok": True, "status": status, "status_text": w(status, lang), "title": part_line(plan["items"], lang),
            "summary": summary}


def facts(plan: Mapping[str, Any], lang: Lang) -> list[dict[str, str]]:
    """Key figures as label/value pairs: cost and range, time, lead time, cluster, power, budget, domestic share."""
    cur = str(plan.get("currency", ""))
    out: list[dict[str, str]] = []
    if plan.get("total_cost") is not None:
        out.append({"key": "total_cost", "label": w("total_cost", lang), "value": _money(plan["total_cost"], cur, lang),
                    "detail": f"{_money(plan.get('total_cost_low'), cur, lang)}–"
                              f"{_money(plan.get('total_cost_high'), cur, lang)}"})
    if plan.get("time_days") is not None:
        out.append({"key": "time", "label": w("time", lang), "value": _days(plan["time_days"], lang), "detail": ""})
    if plan.get("lead_time_days"):
        out.append({"key": "lead", "label": w("lead_time", lang), "value": _days(plan["lead_time_days"], lang),
                    "detail": ""})
    if plan.get("accelerators"):
        sep = " " if lang == "zh" else " "
        out.append({"key": "cluster", "label": w("cluster", lang),
                    "value": f"{plan['accelerators']:,}{sep}{w('accelerators', lang)}",
                    "detail": f"{plan.get('nodes') or 0:,}{sep}{w('nodes', lang)}"})
    if plan.get("power_kw"):
        out.append({"key": "power", "label": w("power", lang), "value": f"{plan['power_kw']:,.0f} kW", "detail": ""})
    if plan.get("budget"):
        used = (float(plan["total_cost"]) / float(plan["budget"])) if plan.get("total_cost") else None
        out.append({"key": "budget", "label": w("budget", lang), "value": _money(plan["budget"], cur, lang),
                    "detail": "" if used is None else f"{w('budget_used', lang)} {fmt_share(used)}"})
    if plan.get("domestic_share") is not None:
        out.append({"key": "domestic", "label": w("domestic", lang), "value": fmt_share(plan["domestic_share"]),
                    "detail": ""})
    binding = [binding_text(b, lang) for b in plan.get("binding_constraints") or []]
    out.append({"key": "binding", "label": w("binding", lang),
                "value": ("、" if lang == "zh" else ", ").join(binding) or w("none", lang), "detail": ""})
    return out


def cost_rows(plan: Mapping[str, Any], lang: Lang) -> list[dict[str, str]]:
    """The plan's cost lines summed over its items (they add up to the total), largest first, with their shares."""
    lab = charts.labels(lang)
    cur = str(plan.get("currency", ""))
    sums: dict[str, float] = {}
    for item in plan.get("items") or []:
        for key, value in charts.cost_lines(item).items():
            sums[key] = sums.get(key, 0.0) + value
    if plan.get("switching_cost"):  # one-time porting to other ecosystems: part of the total, not of any item
        sums["switching"] = float(plan["switching_cost"])
    total = sum(sums.values())
    rows = [{"key": k, "label": lab.get(k, k.replace("_", " ")), "value": _money(v, cur, lang),
             "share": fmt_share(v / total) if total else "—"} for k, v in sorted(sums.items(), key=lambda kv: -kv[1])]
    if rows:
        rows.append({"key": "total", "label": w("total_cost", lang), "value": _money(total, cur, lang), "share": ""})
    return rows


def items_table(plan: Mapping[str, Any], lang: Lang) -> dict[str, Any]:
    """The chosen parts, one row per item."""
    cur = str(plan.get("currency", ""))
    cols = [w(k, lang) for k in ("workload", "part", "count", "node_count", "cost", "time_days", "verdict", "layout")]
    rows = [[workload_name(str(i.get("workload", "")), lang), str(i.get("name") or i.get("sku")),
             _num(i.get("accelerators")), _num(i.get("nodes")),
             f"{_money(i.get('total_cost'), cur, lang)} ({_money(i.get('total_cost_low'), cur, lang)}–"
             f"{_money(i.get('total_cost_high'), cur, lang)})",
             _days(i.get("time_days"), lang) if i.get("time_days") is not None else
             f"{i.get('capacity_rps') or 0:,.0f} req/s",
             verdict_text(str(i.get("verdict", "")), i.get("license_outlook"), lang), str(i.get("plan") or "")]
            for i in plan.get("items") or []]
    return {"columns": cols, "rows": rows}


def break_even_text(entry: Mapping[str, Any], lang: Lang) -> str:
    """A part's break-even price in words (``found``, ``chosen_at_limit``, ``not_chosen``, ``missing_figures``)."""
    cur = str(entry.get("currency", ""))
    price = _money(entry.get("price"), cur, lang)
    status = entry.get("status")
    per = w("per_acc", lang)
    if status == "found":
        return w("be_found", lang, price=price, per=per)
    if status == "chosen_at_limit":
        return w("be_limit", lang, price=price, per=per)
    if status == "not_chosen":
        return w("be_not", lang, price=price, per=per)
    missing = ("、" if lang == "zh" else ", ").join(str(m) for m in _list(entry.get("missing")))
    return w("be_missing", lang, what=missing or "—")


def considered_table(plan: Mapping[str, Any], lang: Lang) -> dict[str, Any]:
    """Every part considered, decisive ones first, with a one-line summary naming the runner-up.

    Decisive first: the chosen part, the feasible ones, the near misses (over budget, late), then those a policy or a
    rule excluded; within each, by the plan's objective (time for ``min_time``, cost for ``min_cost``).
    """
    cur = str(plan.get("currency", ""))
    rows_in = list(plan.get("considered") or [])
    first, then = ("time_days", "total_cost") if plan.get("objective") == "min_time" else ("total_cost", "time_days")

    def rank(i: int) -> tuple[Any, ...]:
        r = rows_in[i]
        return (STATUS_RANK.get(r.get("status", ""), 5), r.get(first) is None, r.get(first) or 0.0,
                r.get(then) is None, r.get(then) or 0.0, str(r.get("name")))

    order = sorted(range(len(rows_in)), key=rank)
    breaks = {str(b.get("sku")): b for b in _list(plan.get("break_even")) if isinstance(b, Mapping)}
    several = len({r.get("workload") for r in rows_in}) > 1
    keys = (["workload"] if several else []) + ["part", "status", "count", "cost", "time_days", "delta_cost",
                                                 "delta_days"] + (["break_even"] if breaks else []) + ["reason"]
    numeric = {"count", "cost", "time_days", "delta_cost", "delta_days"}
    rows = []
    for i in order:
        r = rows_in[i]
        status = str(r.get("status", ""))
        cells = {
            "workload": workload_name(str(r.get("workload", "")), lang),
            "part": str(r.get("name") or r.get("sku")),
            "status": STATUS_ZH.get(status, status) if lang == "zh" else status,
            "count": _num(r.get("accelerators")),
            "cost": _money(r.get("total_cost"), cur, lang),
            "time_days": _num(r.get("time_days")),
            "delta_cost": _money(r.get("delta_cost"), cur, lang, signed=True),
            "delta_days": "—" if r.get("delta_days") is None else f"{r['delta_days']:+,.0f}",
            "break_even": break_even_text(breaks[str(r.get("sku"))], lang) if str(r.get("sku")) in breaks else "",
            "reason": reason_text(r.get("why"), str(r.get("reason") or ""), lang),
        }
        sort = {"count": r.get("accelerators"), "cost": r.get("total_cost"), "time_days": r.get("time_days"),
                "delta_cost": r.get("delta_cost"), "delta_days": r.get("delta_days")}
        rows.append({"status": status, "decisive": STATUS_RANK.get(status, 5) <= 2, "cells": [cells[k] for k in keys],
                     "sort": [sort.get(k) for k in keys]})
    counts = {k: sum(1 for r in rows_in if r.get("status") == k) for k in ("chosen", "feasible")}
    summary = w("considered_summary", lang, n=str(len(rows_in)), chosen=str(counts["chosen"]),
                feasible=str(counts["feasible"]), out=str(len(rows_in) - counts["chosen"] - counts["feasible"]))
    runner = next((rows_in[i] for i in order if rows_in[i].get("status") == "feasible"), None)
    if runner is not None:
        days = "—" if runner.get("delta_days") is None else (
            f"{runner['delta_days']:+,.0f} 天" if lang == "zh" else f"{runner['delta_days']:+,.0f} days")
        summary += ("；" if lang == "zh" else "; ") + w(
            "runner_up", lang, name=str(runner.get("name") or runner.get("sku")),
            cost=_money(runner.get("delta_cost"), cur, lang, signed=True), days=days)
    return {"summary": summary, "columns": [{"key": k, "label": w(k, lang), "numeric": k in numeric} for k in keys],
            "rows": rows}


def alternatives(plan: Mapping[str, Any], lang: Lang) -> list[str]:
    """Other plans: parts, cost and time, and the difference to the chosen plan."""
    cur = str(plan.get("currency", ""))
    out = []
    for a in plan.get("alternatives") or []:
        parts = ("、" if lang == "zh" else ", ").join(f"{i['accelerators']:,} × {i['sku']}" for i in a.get("items", []))
        days = "" if a.get("time_days") is None else f", {_days(a['time_days'], lang)}"
        delta = _money(a.get("delta_cost"), cur, lang, signed=True)
        out.append(f"#{a.get('rank')}: {parts} — {_money(a.get('total_cost'), cur, lang)}{days} (Δ {delta})")
    return out


def data_line(plan: Mapping[str, Any], lang: Lang) -> dict[str, Any] | None:
    """``Data as of …`` for a plan that says which data it used (``data.as_of``), with its stale packs."""
    data = plan.get("data")
    if not isinstance(data, Mapping) or not data.get("as_of"):
        return None
    stale = [s for s in _list(data.get("stale")) if isinstance(s, Mapping)]
    text = f"{w('data_as_of', lang)} {data['as_of']}"
    if stale:
        names = ("、" if lang == "zh" else ", ").join(str(s.get("name")) for s in stale)
        text += ("；" if lang == "zh" else "; ") + f"{names}: " + w(
            "stale", lang, days=str(data.get("threshold_days") or 90))
    return {"as_of": str(data["as_of"]), "text": text, "stale": bool(stale)}


def plan_view(plan: PurchasePlan, raw: Mapping[str, Any], lang: Lang, *, start: str | None = None,
              known_notes: dict[str, str] | None = None) -> dict[str, Any]:
    """Everything the page shows of a plan, worded in ``lang``.

    Args:
        plan: the plan, typed (relaxations and the risk block are worded from their fields).
        raw: the plan as JSON, with any fields a newer core added (``break_even``, ``data``).
        lang: ``en`` or ``zh``.
        start: the buyer's date (``YYYY-MM-DD``) the schedule starts from.
        known_notes: warnings already worded in ``lang`` (English sentence -> ``lang``).
    """
    relax = [describe(r, lang) for r in sorted(plan.relaxations, key=lambda r: not r.feasible)]
    notes = [note_text(t, lang, known_notes) for t in raw.get("warnings") or []]
    figures: dict[str, Any] = {"cost": charts.cost_breakdown(raw, lang), "pareto": charts.pareto(raw, lang)}
    if raw.get("items"):
        figures["schedule"] = charts.schedule(raw, lang, start=start)
    risk = risk_view(raw.get("risk"), lang)
    if risk is not None:
        figures["risk"] = charts.risk_outcomes(raw, lang)
    v = plan.validation
    validation = "" if v is None else (w("validation_ok", lang) if v.ok else
                                       w("validation_bad", lang, problems="; ".join(v.problems)))
    return {
        "lang": lang,
        "headline": headline(raw, lang, relax),
        "facts": facts(raw, lang),
        "data": data_line(raw, lang),
        "cost_lines": cost_rows(raw, lang),
        "items": items_table(raw, lang),
        "considered": considered_table(raw, lang),
        "alternatives": alternatives(raw, lang),
        "relaxations": relax,
        "warnings": [{"text": text, "lang": tl} for text, tl in notes],
        "risk": None if risk is None else {"headline": risk["message"], "lines": risk["hedged"] + risk["summary"],
                                           "rows": [vars(r) for r in risk["rows"]]},
        "validation": validation,
        "sources": [{"id": c.id, "title": c.title, "url": c.url} for c in plan.citations],
        "figures": figures,
    }


def risk_view(block: Mapping[str, Any] | None, lang: Lang) -> dict[str, Any] | None:
    """What the memo's risk section shows: headline lines, hedged plan, scenario rows, events, assumptions."""
    if not block:
        return None
    report = RiskReport.model_validate(block)
    return {
        "message": risk_headline(report, lang),
        "summary": summary_lines(report, lang),
        "hedged": hedged_lines(report, lang),
        "rows": scenario_lines(report, lang),
        "events": report.events,
        "assumptions": report.assumptions,
        "validation": report.validation,
        "objective": report.objective,
        "method": report.method,
        "count": len(report.scenarios),
    }
