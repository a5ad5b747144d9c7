"""A self-contained HTML memo of a purchase plan: request, plan, plots, considered options, citations.

The memo inlines its CSS, the figure specs and the plotly.js bundle, so it opens offline from a file and can be
handed to a committee as is.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, pass_context, select_autoescape
from jinja2.runtime import Context

from service.presenters.reasons import STATUS_ZH, reason_text
from service.presenters.text import Lang, fmt_money
from service.web import charts
from service.web.assets import plotly_js
from service.web.compare import compare_table
from service.web.view import headline, risk_view
from service.web.wording import verdict_text, workload_name

_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Purchase plan memo",
        "request": "Request",
        "plan": "Plan",
        "status": "Status",
        "workload": "Workload",
        "part": "Part",
        "count": "Accelerators",
        "nodes": "Nodes",
        "cost": "Total cost",
        "range": "Range",
        "time": "Time (days)",
        "verdict": "Verdict",
        "binding": "Binding constraints",
        "considered": "Considered options",
        "reason": "Reason",
        "alternatives": "Alternatives",
        "warnings": "Warnings and risks",
        "relaxations": "What would make it feasible",
        "citations": "Sources",
        "assumptions": "Assumptions",
        "generated": "Generated",
        "data_version": "Data version",
        "validation": "Independent re-check",
        "plots": "Plots",
        "none": "none",
        "risk": "Risk scenarios and the hedged plan",
        "switching": "Switching software stack (one-time porting, in the total)",
        "switching_target": "Target ecosystem",
        "switching_effort": "Engineer-months (training / serving)",
        "switching_ramp": "Ramp (days × MFU share)",
        "scenario": "Scenario",
        "probability": "Probability",
        "base_plan": "Today's plan",
        "hedged_plan": "Hedged plan",
        "events": "Events of the scenario set",
        "grade": "Grade",
        "basis": "Basis",
        "data_as_of": "Data as of",
        "break_even": "Break-even prices of parts with no sourced price",
        "be_price": "Chosen below (per accelerator)",
        "be_plan": "Plan at that price",
        "be_missing": "Missing figures",
        "screening": "Entity screening",
        "compare": "Plans compared",
        "differs": "differs",
    },
    "zh": {
        "title": "采购方案备忘录",
        "request": "需求",
        "plan": "方案",
        "status": "状态",
        "workload": "任务",
        "part": "芯片",
        "count": "加速卡数",
        "nodes": "节点数",
        "cost": "总成本",
        "range": "区间",
        "time": "时间（天）",
        "verdict": "合规结论",
        "binding": "约束瓶颈",
        "considered": "备选方案",
        "reason": "原因",
        "alternatives": "其他方案",
        "warnings": "警告与风险",
        "relaxations": "如何使需求可行",
        "citations": "资料来源",
        "assumptions": "假设",
        "generated": "生成时间",
        "data_version": "数据版本",
        "validation": "独立复核",
        "plots": "图表",
        "none": "无",
        "risk": "风险情景与对冲方案",
        "switching": "软件生态迁移（一次性移植费用，已计入总成本）",
        "switching_target": "目标生态",
        "switching_effort": "人月（训练 / 推理）",
        "switching_ramp": "爬坡（天 × MFU 比例）",
        "scenario": "情景",
        "probability": "概率",
        "base_plan": "当前方案",
        "hedged_plan": "对冲方案",
        "events": "情景集中的事件",
        "grade": "等级",
        "basis": "依据",
        "data_as_of": "数据截至",
        "break_even": "无来源价格部件的盈亏平衡价格",
        "be_price": "低于此单卡价格时入选",
        "be_plan": "届时方案",
        "be_missing": "缺失数据",
        "screening": "实体清单筛查",
        "compare": "方案对比",
        "differs": "有差异",
    },
}


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(loader=PackageLoader("service.web", "templates"), autoescape=select_autoescape(["html", "j2"]))
    env.filters["money"] = _money
    env.filters["num"] = format_number
    env.filters["reason"] = _reason
    env.filters["status"] = _status
    env.filters["verdict"] = _verdict
    env.filters["workload"] = _workload
    return env


@pass_context
def _verdict(context: Context, item: Mapping[str, Any]) -> str:
    """A chosen item's export verdict and licence outlook in the memo's language."""
    lang: Lang = "zh" if context.get("lang") == "zh" else "en"
    return verdict_text(str(item.get("verdict", "")), item.get("license_outlook"), lang)


@pass_context
def _workload(context: Context, name: str) -> str:
    return workload_name(str(name), "zh" if context.get("lang") == "zh" else "en")


@pass_context
def _reason(context: Context, row: Mapping[str, Any]) -> str:
    """A considered option's reason in the memo's language (written from its code where it has one)."""
    return reason_text(row.get("why"), str(row.get("reason") or ""), str(context.get("lang") or "en"))


@pass_context
def _status(context: Context, status: str) -> str:
    return STATUS_ZH.get(status, status) if context.get("lang") == "zh" else status


def format_number(value: Any, digits: int = 1) -> str:
    """``1234.5`` -> ``1,234.5``; missing values as an em dash."""
    if value is None:
        return "—"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return f"{int(value):,}"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


@pass_context
def _money(context: Context, value: Any, currency: str = "") -> str:
    """Amounts in the memo's language, in the notation used everywhere else (``¥48.2M`` / ``¥4,820万``)."""
    lang: Lang = "zh" if context.get("lang") == "zh" else "en"
    return fmt_money(None if value is None else float(value), currency, lang)


# Where the bundle goes: the template is rendered around this marker and the cached bundle bytes are spliced in.
# Copying the 4.8 MB bundle through `str.replace`, Jinja and `encode` cost ~50 ms per memo; splicing costs ~2 ms.
# Everything before the script tag is autoescaped text, so the first occurrence of the marker is the tag's.
_BUNDLE_MARK = "<!--procure:plotly.min.js-->"


@lru_cache(maxsize=1)
def _bundle_bytes() -> bytes:
    """plotly.min.js as UTF-8 bytes, safe inside a ``<script>`` element (no ``</script`` in it)."""
    return plotly_js().replace("</script", "<\\/script").encode("utf-8")


def render_report(
    plan: Mapping[str, Any],
    *,
    request: Mapping[str, Any] | None = None,
    citations: Sequence[Mapping[str, Any]] = (),
    lang: str = "en",
    data_version: str = "",
    generated_at: datetime | None = None,
    compare: Sequence[Mapping[str, Any]] = (),
) -> str:
    """Render the memo as text (:func:`render_report_bytes` is the same memo, ready to send or write).

    Args:
        plan: the purchase plan as the API returns it (``POST /v1/recommendations``).
        request: the request that produced it (shown as submitted).
        citations: retrieved passages (``title``, ``date``, ``text``/``quote``, ``doc_id``) to list with the plan's own.
        lang: ``en`` or ``zh``.
        data_version: catalog and rule-pack version the plan was computed with.
        generated_at: timestamp shown on the memo (now by default).
        compare: up to three plans (``label``, ``plan``, optional ``data_as_of``) shown side by side.
    """
    return render_report_bytes(plan, request=request, citations=citations, lang=lang, data_version=data_version,
                               generated_at=generated_at, compare=compare).decode("utf-8")


def render_report_bytes(
    plan: Mapping[str, Any],
    *,
    request: Mapping[str, Any] | None = None,
    citations: Sequence[Mapping[str, Any]] = (),
    lang: str = "en",
    data_version: str = "",
    generated_at: datetime | None = None,
    compare: Sequence[Mapping[str, Any]] = (),
) -> bytes:
    """The memo as UTF-8 bytes; arguments as :func:`render_report`."""
    lang = "zh" if lang.startswith("zh") else "en"
    words: Lang = "zh" if lang == "zh" else "en"
    figures = {"cost": charts.cost_breakdown(plan, lang)}
    if plan.get("pareto") or plan.get("time_days") is not None:
        figures["pareto"] = charts.pareto(plan, lang)
    risk = risk_view(plan.get("risk"), lang)  # type: ignore[arg-type]
    if risk is not None:
        figures["risk"] = charts.risk_outcomes(plan, lang)
    generated = (generated_at or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    html = (
        _env()
        .get_template("report.html.j2")
        .render(
            t=_TEXT[lang],
            lang=lang,
            plan=plan,
            request_json=json.dumps(request, ensure_ascii=False, indent=2, default=str) if request else "",
            citations=list(citations),
            figures_json=json.dumps(figures, ensure_ascii=False).replace("</", "<\\/"),
            plotly_js=_BUNDLE_MARK,
            data_version=data_version,
            generated=generated,
            risk=risk,
            compare=compare_table(compare, words) if compare else None,
            head=headline(plan, words),
        )
    )
    before, mark, after = html.partition(_BUNDLE_MARK)
    if not mark:  # pragma: no cover - the template lost its script tag
        raise RuntimeError("report template has no place for the plotting library")
    return b"".join((before.encode("utf-8"), _bundle_bytes(), after.encode("utf-8")))
