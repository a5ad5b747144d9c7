"""The words the page's server-built views use, in English and Chinese, and the plan's notes in the reader's language.

The core writes a plan's warnings as English sentences. Those it builds from a rule's coded reason are worded again
from the code (:func:`service.presenters.reasons.reason_text`, by the route that knows the buyer); the few it builds
from a fixed pattern (cost assumptions, fabric availability) are matched here and written in Chinese from the values
they carry. A sentence neither way knows (a rule pack's own text) stays as written and is marked English, so a
screen reader reads it as English.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from service.presenters.reasons import COUNTRY_ZH, OUTLOOK_SHORT_ZH, VERDICT_ZH
from service.presenters.text import Lang

WORDS: dict[str, dict[Lang, str]] = {
    "optimal": {"en": "optimal", "zh": "最优"},
    "feasible": {"en": "feasible", "zh": "可行"},
    "infeasible": {"en": "no plan fits", "zh": "无可行方案"},
    "model_invalid": {"en": "model invalid", "zh": "模型无效"},
    "unknown": {"en": "no answer in time", "zh": "未在时限内求解"},
    "no_fit": {"en": "no plan satisfies every constraint", "zh": "没有同时满足全部约束的方案"},
    "for": {"en": "for", "zh": "用于"},
    "total": {"en": "total", "zh": "合计"},
    "days": {"en": "days", "zh": "天"},
    "total_cost": {"en": "Total cost", "zh": "总成本"},
    "range": {"en": "range", "zh": "区间"},
    "time": {"en": "Longest training", "zh": "最长训练"},
    "lead_time": {"en": "Delivery and set-up", "zh": "交付与部署"},
    "cluster": {"en": "Cluster", "zh": "集群"},
    "accelerators": {"en": "accelerators", "zh": "张加速卡"},
    "nodes": {"en": "nodes", "zh": "个节点"},
    "power": {"en": "Power", "zh": "功率"},
    "budget": {"en": "Budget", "zh": "预算"},
    "budget_used": {"en": "used", "zh": "已用"},
    "domestic": {"en": "Domestic share", "zh": "国产占比"},
    "binding": {"en": "Binding constraints", "zh": "约束瓶颈"},
    "none": {"en": "none", "zh": "无"},
    "data_as_of": {"en": "Data as of", "zh": "数据截至"},
    "stale": {"en": "older than {days} days before the plan's date", "zh": "早于方案日期超过 {days} 天"},
    "workload": {"en": "Workload", "zh": "任务"},
    "part": {"en": "Part", "zh": "芯片"},
    "count": {"en": "Accelerators", "zh": "加速卡数"},
    "node_count": {"en": "Nodes", "zh": "节点数"},
    "cost": {"en": "Total cost", "zh": "总成本"},
    "time_days": {"en": "Days", "zh": "天数"},
    "verdict": {"en": "Verdict", "zh": "合规结论"},
    "layout": {"en": "Parallel layout", "zh": "并行方案"},
    "status": {"en": "Status", "zh": "状态"},
    "delta_cost": {"en": "Δ cost", "zh": "成本差"},
    "delta_days": {"en": "Δ days", "zh": "天数差"},
    "break_even": {"en": "Break-even price", "zh": "盈亏平衡价格"},
    "reason": {"en": "Reason", "zh": "原因"},
    "per_acc": {"en": "per accelerator", "zh": "每卡"},
    "be_found": {"en": "chosen at {price} or less {per}", "zh": "{per}不高于 {price} 时入选"},
    "be_limit": {"en": "still chosen at {price} {per}", "zh": "{per} {price} 时仍入选"},
    "be_not": {"en": "not chosen even at {price} {per}", "zh": "{per}低至 {price} 仍不入选"},
    "be_missing": {"en": "unknown: {what}", "zh": "缺少数据：{what}"},
    "considered_summary": {"en": "{n} parts considered: {chosen} chosen, {feasible} feasible, {out} ruled out",
                           "zh": "共考虑 {n} 款芯片：选中 {chosen}，可行 {feasible}，排除 {out}"},
    "runner_up": {"en": "runner-up {name} ({cost}, {days})", "zh": "次优 {name}（{cost}，{days}）"},
    "validation_ok": {"en": "Independent re-check: the plan's figures were recomputed and agree",
                      "zh": "独立复核：方案数字已重新计算，结果一致"},
    "validation_bad": {"en": "Independent re-check found problems: {problems}", "zh": "独立复核发现问题：{problems}"},
    "training": {"en": "training", "zh": "预训练"},
    "fine_tune": {"en": "fine-tuning", "zh": "微调"},
    "inference": {"en": "serving", "zh": "推理服务"},
    "pretrain": {"en": "pre-training", "zh": "预训练"},
    "supply": {"en": "supply", "zh": "供货量"},
    "racks": {"en": "racks", "zh": "机柜"},
    "domestic_share": {"en": "domestic share", "zh": "国产占比"},
    "vendor_share": {"en": "vendor share", "zh": "厂商占比"},
    "policy": {"en": "buyer policy", "zh": "采购政策"},
    "deadline": {"en": "deadline", "zh": "期限"},
    "power_limit": {"en": "power", "zh": "功率"},
    "budget_limit": {"en": "budget", "zh": "预算"},
}


def w(key: str, lang: Lang, **values: str) -> str:
    """A word or sentence by key, filled with ``values``."""
    text = WORDS[key][lang]
    return text.format(**values) if values else text


def workload_name(name: str, lang: Lang) -> str:
    """A workload's name as shown: the page's default names (its kind) in the reader's words, others as given."""
    return WORDS[name][lang] if name in ("training", "fine_tune", "inference", "pretrain") else name


def verdict_text(verdict: str, outlook: str | None, lang: Lang) -> str:
    """``licence required (granted)`` / ``需要许可证（已获批）``."""
    if lang == "zh":
        text = VERDICT_ZH.get(verdict, verdict)
        return text + (f"（{OUTLOOK_SHORT_ZH.get(outlook, outlook)}）" if outlook else "")
    text = {"license_required": "licence required"}.get(verdict, verdict.replace("_", " "))
    return text + (f" ({outlook.replace('_', ' ')})" if outlook else "")


def binding_text(name: str, lang: Lang) -> str:
    """A binding constraint: ``deadline[pretrain]`` -> ``deadline (pretrain)`` / ``期限（预训练）``."""
    family, _, inner = name.partition("[")
    inner = inner.rstrip("]")
    key = {"power": "power_limit", "budget": "budget_limit"}.get(family, family)
    word = WORDS[key][lang] if key in WORDS else family.replace("_", " ")
    if not inner:
        return word
    shown = workload_name(inner, lang)
    return f"{word}（{shown}）" if lang == "zh" else f"{word} ({shown})"


_SUPPLY_ZH = {"limited": "有限", "unavailable": "不可获得", "unknown": "未知"}


def _grade_zh(kind: str, grade: str) -> str:
    return f"为假设（{grade} 级）" if kind == "an assumption" else f"来源较弱（{grade} 级）"


_PATTERNS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"network cost \((?P<name>.+)\) is (?P<kind>an assumption|weakly sourced) \(grade (?P<g>\w)\): "
                r"(?P<range>[\d,.]+–[\d,.]+) (?P<cur>[A-Z]{3}) per node"),
     lambda m: f"网络成本（{m['name']}）{_grade_zh(m['kind'], m['g'])}：每节点 {m['range']} {m['cur']}"),
    (re.compile(r"hosting/maintenance is (?P<kind>an assumption|weakly sourced) \(grade (?P<g>\w)\): (?P<v>[\d.]+%) "
                r"of the hardware price per year \((?P<lo>[\d.]+%)–(?P<hi>[\d.]+%)\)"),
     lambda m: f"托管/运维{_grade_zh(m['kind'], m['g'])}：每年为硬件价格的 {m['v']}（{m['lo']}–{m['hi']}）"),
    (re.compile(r"hosting/maintenance (?:is )?not included \(no figure(?P<hint>; set hosting_per_node_year)?\)"),
     lambda m: "未计入托管/运维成本（没有数据" + ("；可设置 hosting_per_node_year" if m["hint"] else "") + "）"),
    (re.compile(r"(?P<name>.+): no (?:sourced )?network price; network cost (?:is )?not included"),
     lambda m: f"{m['name']}：没有有来源的网络价格，未计入网络成本"),
    (re.compile(r"(?P<name>.+) availability for the buyer is (?P<a>limited|unavailable|unknown)"),
     lambda m: f"{m['name']} 对买方的供应情况：" + _SUPPLY_ZH[m["a"]]),
    (re.compile(r"(?P<name>.+): availability to (?P<c>[A-Z]{2}) is limited"),
     lambda m: f"{m['name']} 对{COUNTRY_ZH.get(m['c'], m['c'])}买方供应有限"),
    (re.compile(r"(?P<name>.+) unavailable to buyers in (?P<c>[A-Z]{2})"),
     lambda m: f"{m['name']} 不向{COUNTRY_ZH.get(m['c'], m['c'])}买方供应"),
    (re.compile(r"no scale-out fabric allowed for this vendor"), lambda m: "该厂商没有可用的横向扩展网络"),
    (re.compile(r"no scale-out fabric with a sourced bandwidth serves this vendor; cross-node traffic assumed at "
                r"the intra-node link rate"),
     lambda m: "没有带宽有来源的横向扩展网络支持该厂商；跨节点通信按节点内互联速率估算"),
]


def note_text(text: str, lang: Lang, known: dict[str, str] | None = None) -> tuple[str, Lang]:
    """A plan note in ``lang`` and the language it ends up in (English when no wording is known for it).

    Args:
        text: the core's English sentence.
        lang: the reader's language.
        known: sentences already worded elsewhere (a rule warning worded from its code), English -> ``lang``.
    """
    if lang == "en":
        return text, "en"
    if known and text in known:
        return known[text], lang
    for pattern, write in _PATTERNS:
        m = pattern.fullmatch(text)
        if m:
            return write(m), lang
    return text, "en"
