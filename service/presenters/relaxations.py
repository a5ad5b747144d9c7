"""Sentences for the optimizer's typed relaxations, in English or Chinese.

The core returns numbers with units (``Relaxation``: kind, field, current, value, unit, skus, pair ...); this module
alone turns them into text, so the console, ``--json``, the HTTP API and the chat answer all say the same thing.
Suggested minimums are rounded UP (a suggested budget must never read lower than the one that was verified).
"""

from __future__ import annotations

import math
from typing import Any

from service.presenters import numbers
from service.presenters.numbers import Lang
from service.usecases import Relaxation


def _value(r: Relaxation, lang: Lang) -> str:
    v = r.value
    if isinstance(v, bool) or v is None:
        return ""
    if r.unit in ("CNY", "USD"):
        return numbers.money(v, r.unit, lang, rounding="up")  # a suggested minimum never reads lower
    if r.unit == "days":
        return f"{math.ceil(v):,} 天" if lang == "zh" else f"{math.ceil(v):,} days"
    if r.unit == "fraction":
        return f"{math.floor(v * 100 + 1e-9)}%" if r.kind == "domestic_share" else f"{math.ceil(v * 100 - 1e-9)}%"
    return f"{v:,.0f} {r.unit or ''}".strip()


def _current(r: Relaxation, lang: Lang) -> str:
    c = r.current
    if isinstance(c, bool) or c is None:
        return ""
    shown = r.model_copy(update={"value": c})
    return _value(shown, lang)


_EN = {
    "budget": "budget must be at least {v} (now {c})",
    "deadline": "deadline for {w} must be at least {v} (now {c})",
    "domestic_share": "minimum domestic share must fall to {v} (now {c})",
    "license_policy": "accept licence risk (--accept-license-risk) to admit {s}",
    "policy": "lift the buyer-policy block on {s}",
    "power": "power cap must be at least {v} (now {c})",
    "racks": "at least {v} are needed (now {c})",
    "supply": "supply of {s} must reach {v} (now {c})",
    "vendor_share": "the per-vendor cap must rise to {v} (now {c})",
    "fabric": "{s} need a scale-out fabric the buyer may not use; allow another fabric",
}
_ZH = {
    "budget": "预算至少需要 {v}（当前 {c}）",
    "deadline": "{w}的工期至少需要 {v}（当前 {c}）",
    "domestic_share": "国产芯片最低占比需降至 {v}（当前 {c}）",
    "license_policy": "接受许可证风险（--accept-license-risk）以纳入 {s}",
    "policy": "解除采购政策对 {s} 的限制",
    "power": "功率上限至少需要 {v}（当前 {c}）",
    "racks": "至少需要 {v}（当前 {c}）",
    "supply": "{s} 的供应量需达到 {v}（当前 {c}）",
    "vendor_share": "单一厂商占比上限需提高到 {v}（当前 {c}）",
    "fabric": "{s} 需要买方不可用的横向扩展网络；请允许其他网络",
}
_NOT = {"en": "changing {k} alone is not enough", "zh": "仅调整{k}不足以得到可行方案"}
_LIMIT = {"en": " (not even at its limit of {l:,.0f})", "zh": "（即使达到上限 {l:,.0f} 也不行）"}
_KIND_EN = {"budget": "the budget", "deadline": "the deadline", "domestic_share": "the domestic share",
            "license_policy": "the licence policy", "policy": "the buyer policy", "power": "the power cap",
            "racks": "the rack count", "supply": "the supply limits", "vendor_share": "the per-vendor cap"}
_KIND_ZH = {"budget": "预算", "deadline": "工期", "domestic_share": "国产占比", "license_policy": "许可证政策",
            "policy": "采购政策", "power": "功率上限", "racks": "机柜数", "supply": "供应量",
            "vendor_share": "厂商占比"}


def describe(r: Relaxation, lang: Lang = "en") -> str:
    """One sentence for a relaxation (a pair joins its two changes)."""
    if r.kind == "pair":
        joiner = "，并且" if lang == "zh" else ", and "
        head = "同时调整两项：" if lang == "zh" else "change both: "
        return head + joiner.join(describe(x, lang) for x in r.pair)
    skus = ", ".join(r.skus) or ("受限芯片" if lang == "zh" else "the held-back parts")
    if not r.feasible and r.reason == "insufficient_alone":
        kind = _KIND_ZH.get(r.kind, r.kind) if lang == "zh" else _KIND_EN.get(r.kind, r.kind)
        if r.workload:
            kind += f"（{r.workload}）" if lang == "zh" else f" for {r.workload}"
        return _NOT[lang].format(k=kind) + (_LIMIT[lang].format(l=r.limit) if r.limit else "")
    template = (_ZH if lang == "zh" else _EN)[r.kind]
    return template.format(v=_value(r, lang), c=_current(r, lang), w=r.workload or "", s=skus)


def describe_all(relaxations: list[Relaxation], lang: Lang = "en") -> list[str]:
    """Sentences for every relaxation, feasible ones first."""
    ordered = sorted(relaxations, key=lambda r: not r.feasible)
    return [describe(r, lang) for r in ordered]


def relaxation_dict(r: Relaxation, lang: Lang = "en") -> dict[str, Any]:
    """A relaxation for JSON: its typed fields plus ``message`` in the reader's language (pairs recursively)."""
    out = r.model_dump(mode="json")
    out["pair"] = [relaxation_dict(x, lang) for x in r.pair]
    out["message"] = describe(r, lang)
    return out
