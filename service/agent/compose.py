"""Compose answers from the templates in ``prompts/`` in the question's language, and number the citations."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pydantic import BaseModel

import prompts
from service.agent.parse import Assumption, Change, Lang
from service.agent.parse.intent import DEFAULT_REASON_ZH
from service.agent.rules_text import classification_text, reason_zh, warning_text
from service.presenters import numbers
from service.presenters.reasons import COUNTRY_ZH, STATUS_ZH, outlook_text, reason_text, vendor_name
from service.presenters.relaxations import describe
from service.usecases import ComplianceResult, Passage, PurchasePlan
from service.web.wording import binding_text


class AgentCitation(BaseModel):
    """A numbered source of an answer: a corpus passage (title, date, quote) or a catalog/rule source id."""

    n: int
    kind: str
    title: str
    date: str | None = None
    quote: str | None = None
    doc_id: str | None = None
    source_id: str | None = None
    url: str | None = None


@lru_cache(maxsize=4)
def phrases(lang: Lang) -> dict[str, str]:
    """The template sections of a language."""
    return prompts.sections(f"answer_{lang}")


def template_versions() -> dict[str, str]:
    """Content hashes of the answer templates (recorded with every answer)."""
    return {f"answer_{lang}": prompts.version(f"answer_{lang}") for lang in ("en", "zh")}


# ---- number formatting (the grounding check reads these forms back) ------------------------------


def money(value: float, currency: str, lang: Lang) -> str:
    """``¥48.2M`` / ``$7M`` in English, ``¥4,820万`` / ``¥1.47亿`` in Chinese (the one money presenter)."""
    return numbers.money(value, currency, lang)


def rate_between(frm: str, to: str | None, cny_per_usd: float | None) -> float | None:
    """Factor from one catalog currency to another at the catalog's rate (CNY/USD); None when none is needed."""
    if not to or to == frm or not cny_per_usd:
        return None
    if (frm, to) == ("USD", "CNY"):
        return cny_per_usd
    if (frm, to) == ("CNY", "USD"):
        return 1 / cny_per_usd
    return None


def size(value: float, lang: Lang) -> str:
    """Parameter or token counts: ``70B`` / ``1.4T`` in English, ``700亿`` / ``1.4万亿`` in Chinese."""
    return numbers.size(value, lang)


def days(value: float, lang: Lang | None = None) -> str:
    """Days with one decimal; with ``lang`` the unit follows (``175.6 days`` / ``175.6 天``)."""
    num = f"{value:.1f}"
    if lang is None:
        return num
    return f"{num} 天" if lang == "zh" else f"{num} days"


def pct(value: float) -> str:
    """A fraction as a whole percentage."""
    return f"{value * 100:.0f}%"


def value_text(field_name: str, value: Any, lang: Lang, currency: str | None) -> str:
    """A request field's value as the answer writes it."""
    if value is None:
        return "—"
    if field_name in ("params", "active_params", "tokens"):
        return size(float(value), lang)
    if field_name == "budget":
        return money(float(value), currency or "CNY", lang)
    if field_name == "min_domestic_share":
        return pct(float(value))
    if field_name == "deadline_days":
        return f"{float(value):g}"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


# ---- composition -------------------------------------------------------------------------------

_WORKLOAD = {"en": {"training": "training", "fine_tune": "fine-tuning", "inference": "serving"},
             "zh": {"training": "训练", "fine_tune": "微调", "inference": "推理"}}
_VERDICT = {"en": {"allowed": "allowed", "license_required": "licence required", "prohibited": "prohibited"},
            "zh": {"allowed": "允许", "license_required": "需要许可证", "prohibited": "禁止"}}
_KIND = {"en": {"commercial": "commercial", "state_funded": "state-owned"}, "zh": {"commercial": "商业",
                                                                                   "state_funded": "国有"}}


def workload_name(kind: str, lang: Lang) -> str:
    """A workload kind as the answer names it (``training`` → 训练)."""
    return _WORKLOAD[lang].get(kind, kind)


@dataclass
class Composer:
    """Builds an answer's text line by line and collects numbered citations."""

    lang: Lang
    source_titles: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    citations: list[AgentCitation] = field(default_factory=list)
    derived: list[str] = field(default_factory=list)
    """Text whose numbers the composer itself wrote (counts of tool-result lists, fixed examples): evidence."""
    notes: set[str] = field(default_factory=set)
    """Warnings already written (a China-side note or a supply caution is said once per answer)."""

    def once(self, key: str) -> bool:
        """True the first time ``key`` is seen in this answer."""
        if key in self.notes:
            return False
        self.notes.add(key)
        return True

    def t(self, key: str, **kw: Any) -> str:
        """Fill one template section."""
        return phrases(self.lang)[key].format(**kw)

    def add(self, key: str, **kw: Any) -> None:
        """Append a filled section as a line."""
        self.lines.append(self.t(key, **kw))

    def cite_passage(self, p: Passage) -> int:
        """Number a passage (once per document) and return its number."""
        for c in self.citations:
            if c.kind == "passage" and (doc_key(c.doc_id) == doc_key(p.doc_id) or c.title == p.title):
                return c.n  # the same document, or its translation
        n = len(self.citations) + 1
        self.citations.append(AgentCitation(n=n, kind="passage", title=p.title, date=p.date.isoformat() if p.date
                                            else None, quote=quote_of(p, QUOTE_CHARS), doc_id=p.doc_id, url=p.url))
        return n

    def cite_source(self, source_id: str, title: str, url: str | None = None) -> int:
        """Number a catalog/rule source id (once)."""
        for c in self.citations:
            if c.source_id == source_id:
                return c.n
        n = len(self.citations) + 1
        known = self.source_titles.get(source_id)
        if known and title == source_id:
            title, url = known[0], url or known[1]
        self.citations.append(AgentCitation(n=n, kind="source", title=title, source_id=source_id, url=url))
        return n

    def text(self) -> str:
        """The answer with its sources section."""
        out = list(self.lines)
        if self.citations:
            out.append("")
            out.append(self.t("sources"))
            for c in self.citations:
                if c.kind == "passage":
                    out.append(self.t("citation_passage", n=c.n, title=c.title, date=c.date or "n.d.", quote=c.quote))
                else:
                    out.append(self.t("citation_source", n=c.n, id=c.source_id, title=c.title))
        return "\n".join(out)


def doc_key(doc_id: str | None) -> str:
    """A document id without its language suffix (``nvidia-h20-en`` and ``nvidia-h20-zh`` are one source)."""
    return re.sub(r"[-_.](?:en|zh)(?:\.md)?$", "", doc_id or "")


QUOTE_CHARS = 160
"""Longest quote a source line carries (one short quote per source)."""

_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+")


def quote_of(p: Passage, limit: int = 220) -> str:
    """The passage's first sentences up to ``limit`` characters (an exact substring of the passage)."""
    text = " ".join(p.text.split()).lstrip("-*•# ")
    if len(text) <= limit:
        return text
    cut = text[:limit]
    ends = [m.end() for m in re.finditer(r"[.!?](?=\s)|[。！？；]", cut)]
    return cut[:ends[-1]] if ends and ends[-1] > 60 else cut.rsplit(" ", 1)[0] + "…"


FIELD_NAMES: dict[str, dict[str, str]] = {
    "en": {"date": "date", "buyer_country": "buyer's country", "currency": "currency", "tokens": "training tokens",
           "deadline_days": "deadline (days)", "workload": "workload", "budget": "budget", "params": "model size",
           "active_params": "active parameters", "requests_per_s": "requests per second", "buyer_kind": "buyer",
           "headquarters_country": "headquarters", "objective": "objective", "skus": "parts",
           "exclude_vendors": "excluded vendors", "min_domestic_share": "minimum domestic share", "model": "model",
           "ttft_s": "time to first token (s)", "tpot_s": "time per output token (s)", "count": "count",
           "accept_license_risk": "licence risk accepted", "current_stack": "current software stack",
           "prompt_tokens": "prompt tokens", "output_tokens": "output tokens", "extra_workloads": "further workloads"},
    "zh": {"date": "日期", "buyer_country": "买方国家或地区", "currency": "币种", "tokens": "训练 token 数",
           "deadline_days": "期限（天）", "workload": "任务类型", "budget": "预算", "params": "模型规模",
           "active_params": "激活参数", "requests_per_s": "每秒请求数", "buyer_kind": "买方类型",
           "headquarters_country": "总部所在地", "objective": "优化目标", "skus": "芯片",
           "exclude_vendors": "排除的厂商",
           "min_domestic_share": "国产芯片最低占比", "model": "模型", "ttft_s": "首字延迟（秒）",
           "tpot_s": "每个输出 token 的时间（秒）", "count": "数量", "accept_license_risk": "接受许可证风险",
           "current_stack": "现有软件栈", "prompt_tokens": "输入 token 数", "output_tokens": "输出 token 数",
           "extra_workloads": "其他任务"},
}
"""Request fields as an answer names them (an answer never shows a raw field identifier)."""

_VALUE_ZH = {"training": "训练", "fine_tune": "微调", "inference": "推理", "commercial": "商业", "state_funded": "国有",
             "min_cost": "成本最低", "min_time": "用时最短", "CNY": "人民币", "USD": "美元"}
_VALUE_EN = {"fine_tune": "fine-tuning", "inference": "serving", "state_funded": "state-funded",
             "min_cost": "lowest cost", "min_time": "shortest time"}
_REASON_EN_OF_ZH = {v: k for k, v in DEFAULT_REASON_ZH.items()}


def field_name(name: str, lang: Lang) -> str:
    """A request field as the answer names it."""
    return FIELD_NAMES[lang].get(name, name.replace("_", " "))


def _shown(field_name_: str, value: Any, lang: Lang, currency: str | None) -> str:
    if field_name_ == "extra_workloads":  # "fine-tuning 7B; serving 32B"
        return ("；" if lang == "zh" else "; ").join(
            f"{workload_name(w.get('workload') or 'training', lang)} {size(float(w['params']), lang)}"
            for w in value or [] if isinstance(w, dict) and w.get("params")) or "—"
    if field_name_ == "skus" and isinstance(value, list):
        return ("、" if lang == "zh" else ", ").join(str(v) for v in value)
    if field_name_ == "exclude_vendors" and isinstance(value, list):
        return ("、" if lang == "zh" else ", ").join(vendor_name(v, lang) for v in value)
    if isinstance(value, bool) or (value is None and field_name_ == "accept_license_risk"):
        return ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")
    if field_name_ == "buyer_country" and isinstance(value, str):
        return COUNTRY_ZH.get(value, value) if lang == "zh" else value
    if isinstance(value, str):
        return (_VALUE_ZH if lang == "zh" else _VALUE_EN).get(value, value)
    return value_text(field_name_, value, lang, currency)


def _reason(reason: str, lang: Lang) -> str:
    """A default's reason in the answer's language (a follow-up may carry an earlier turn's note)."""
    if lang == "zh":
        return DEFAULT_REASON_ZH.get(reason, reason)
    return _REASON_EN_OF_ZH.get(reason, reason)


def assumptions(c: Composer, notes: list[Assumption], currency: str | None) -> None:
    """State the defaults that were applied (each field once, in the answer's words)."""
    seen: set[str] = set()
    shown = [a for a in notes if not (a.field in seen or seen.add(a.field))]  # type: ignore[func-returns-value]
    if not shown:
        return
    c.add("assumptions")
    for a in shown:
        value = a.value.isoformat() if isinstance(a.value, dt.date) else a.value
        c.add("assumption", field=field_name(a.field, c.lang), value=_shown(a.field, value, c.lang, currency),
              reason=_reason(a.reason, c.lang))


def changes(c: Composer, items: list[Change], currency: str | None, name_of: Any = None) -> None:
    """Say what a follow-up changed (parts by their names when ``name_of`` maps an id to one)."""
    if not items:
        return
    if name_of is not None:  # "芯片 ascend-910b → ascend-910c" reads "Huawei Ascend 910B → Huawei Ascend 910C"
        items = [ch.model_copy(update={k: [name_of(s) for s in v] for k, v in (("old", ch.old), ("new", ch.new))
                                       if isinstance(v, list)}) if ch.field == "skus" else ch for ch in items]
    switched = next((ch for ch in items if ch.field == "currency" and ch.old and ch.new), None)
    old_currency = str(switched.old) if switched else currency  # "换成美元": the old budget stays in yuan
    parts = [c.t("change", field=field_name(ch.field, c.lang), old=_shown(ch.field, ch.old, c.lang, old_currency),
                 new=_shown(ch.field, ch.new, c.lang, currency)) for ch in items]
    c.add("changes", changes="; ".join(parts))


MAX_REASONS = 5
"""Most reasons a plan answer lists (the binding constraints, then the alternatives that came closest)."""

_STATUS_RANK = {"feasible": 0, "over budget": 1, "misses deadline": 2, "blocked by policy": 3}


_CLI_HINT = re.compile(r"\s*[(（]--[a-z][\w-]*(?:\s*/\s*-{1,2}[\w-]+)*[)）]")


def chat_text(text: str) -> str:
    """A presenter's or engine's sentence for the chat, without the CLI flags it names.

    "(--accept-license-risk)", "(--tp/--pp)": a chat buyer says "accept the licence risk", which the parser reads.
    """
    return _CLI_HINT.sub("", text)


def relaxation_lines(p: PurchasePlan, lang: Lang) -> list[str]:
    """The verified relaxations of an infeasible plan in words (amounts rounded up), else the feasible ones."""
    verified = [r for r in p.relaxations if r.verified and r.feasible]
    chosen = verified or [r for r in p.relaxations if r.feasible]
    names = {o.sku: o.name for o in p.considered}
    return [chat_text(describe(_named_workload(r, lang).model_copy(update={"skus": [names.get(s, s) for s in r.skus]}),
                               lang)) for r in chosen[:3]]


def _named_workload(r: Any, lang: Lang) -> Any:
    """A relaxation whose workload reads as a word ("训练", "serving"), not as the request's workload id."""
    if not r.workload:
        return r
    kind = next((k for k in ("fine_tune", "training", "inference") if r.workload.startswith(k)), None)
    if kind is None:
        return r
    return r.model_copy(update={"workload": _WORKLOAD[lang][kind]})


def plan(c: Composer, p: PurchasePlan) -> None:
    """A one-line headline, then at most five reasons, most decisive first, and the count of the rest."""
    cur = p.currency
    if not p.items:
        lines = relaxation_lines(p, c.lang)
        c.add("infeasible_head")
        for line in lines:
            c.add("relax", text=line)
            c.derived.append(line)  # amounts rounded up from the verified relaxation values
        if not lines:
            c.add("relax_none")
    else:
        items = "; ".join(c.t("plan_item", accelerators=numbers.count(i.accelerators), name=i.name,
                              nodes=numbers.count(i.nodes),
                              node_word="node" if i.nodes == 1 else "nodes",
                              workload=_WORKLOAD[c.lang].get(i.kind if i.kind == "inference" else i.workload
                                                             if i.workload in ("training", "fine_tune")
                                                             else i.kind, i.kind),
                              cost=money(i.total_cost, cur, c.lang)) for i in p.items)
        timing = []
        if p.time_days is not None:
            timing.append(c.t("time_training", days=days(p.time_days)))
        rps = sum(i.capacity_rps or 0 for i in p.items)
        if rps:
            timing.append(c.t("time_inference", rps=f"{rps:.0f}"))
            c.derived.append(f"{rps:.0f}")  # the sum of the serving items' capacities
        c.add("plan", items=items, total=money(p.total_cost or 0, cur, c.lang),
              low=money(p.total_cost_low or 0, cur, c.lang), high=money(p.total_cost_high or 0, cur, c.lang),
              time=", ".join(timing) if c.lang == "en" else "，".join(timing))
        if p.binding_constraints:
            names = [binding_text(b, c.lang) for b in p.binding_constraints]
            c.add("why", binding=", ".join(names) if c.lang == "en" else "、".join(names))
        else:
            c.add("why_none")
    if p.items and p.switching is not None and p.switching.cost > 0:  # leaving the buyer's stack is priced in
        ramp = max((ch.ramp_days_added or 0.0 for ch in p.switching.charges), default=0.0)
        c.add("switching", stack=p.switching.current_stack.upper().replace("ROCM", "ROCm"),
              cost=money(p.switching.cost, cur, c.lang), ramp=c.t("switching_ramp", days=days(ramp)) if ramp else "")
    others = [o for o in p.considered if o.status not in ("chosen", "excluded")]
    others.sort(key=lambda o: (_STATUS_RANK.get(o.status, 4), o.delta_cost if o.delta_cost is not None else 1e30))
    shown = 0
    repeated = {o.name for o in others if sum(x.name == o.name for x in others) > 1}
    for o in others[:MAX_REASONS]:
        status, detail = option_detail(c, o, cur)
        name = o.name
        if o.name in repeated:  # one part considered for two workloads: say which
            kinds = {i.workload: i.kind if i.kind == "inference" else "training" for i in p.items}
            label = _WORKLOAD[c.lang].get(kinds.get(o.workload, ""), o.workload)
            name += f" ({label})" if c.lang == "en" else f"（{label}）"
        c.add("lost", name=name, status=status, detail=detail)
        shown += 1
    part_names = {o.sku: o.name for o in p.considered}
    excluded = [e for e in p.excluded if e.category in ("compliance", "policy")]
    for e in excluded[:max(0, MAX_REASONS - shown)]:
        c.add("excluded", sku=part_names.get(e.sku, e.sku), reason=chat_text(reason_text(e.why, e.reason, c.lang)))
        shown += 1
    rest = len(others) + len(p.excluded) - shown
    if rest > 0:
        c.add("excluded_more", count=rest)
        c.derived.append(str(rest))


def deltas(c: Composer, delta_cost: float | None, delta_days: float | None, cur: str) -> str:
    """What an option costs and takes more than the chosen plan (", costs ¥2M more, takes 3.1 days longer")."""
    out = c.t("lost_cost", delta=money(delta_cost, cur, c.lang)) if delta_cost is not None and delta_cost > 0 else ""
    if delta_days is not None and delta_days > 0 and days(delta_days) != days(0.0):  # not "0.0 days longer"
        out += c.t("lost_time", days=days(delta_days))
    return out


def option_detail(c: Composer, o: Any, cur: str) -> tuple[str, str]:
    """A considered part's status and what it lost by ("over budget", ", costs ¥2M more (licence required)")."""
    detail = deltas(c, o.delta_cost, o.delta_days, cur)
    if o.reason and o.reason != "allowed":
        why = chat_text(reason_text(o.why, o.reason, c.lang))
        detail += f" ({why})" if c.lang == "en" else f"（{why}）"
    return (o.status if c.lang == "en" else STATUS_ZH.get(o.status, o.status)), detail


WEAK_GRADES = ("W", "A")
"""Evidence grades a risk line names: a weak report (W) or an assumption (A)."""


def risks(c: Composer, p: PurchasePlan, checks: list[ComplianceResult],
          weak: Sequence[tuple[str, str, str]] = ()) -> None:
    """Licence outlook of the chosen parts, figures they rest on with weak evidence, and warnings that fired.

    ``weak`` lists (part name, what, grade) for a chosen part whose price or a specification is graded W or A.
    """
    c.add("risks")
    n = 0
    for i in p.items:
        if i.license_outlook and c.once(f"outlook:{i.sku}"):
            c.add("risk_outlook", name=i.name, outlook=outlook_text(i.license_outlook, c.lang))
            n += 1
    for name, what, grade in weak:
        if c.once(f"weak:{name}:{what}"):
            c.add(f"risk_weak_{what}", name=name, grade=grade)
            n += 1
    for r in checks:
        for w in r.warnings:
            text = warning_text(w, c.lang)
            if not c.once(f"warning:{text}"):
                continue
            refs = "".join(f" [{c.cite_source(s, s)}]" for s in w.citations[:2])
            c.add("risk_warning", text=text + refs)
            n += 1
    if not n:
        c.add("risks_none")


_MISSING_ZH = (("tdp", "功耗（TDP）"), ("power_kw", "功耗（TDP）"), ("memory_bandwidth", "显存带宽"),
               ("memory_gb", "显存容量"), ("dense.", "峰值算力"))


def _missing_zh(field: str) -> str:
    """A missing catalog figure in Chinese words (a Chinese answer carries no raw field names)."""
    return next((zh for key, zh in _MISSING_ZH if key in field), "其他规格")


def unpriced(c: Composer, p: PurchasePlan, limit: int = 3) -> None:
    """Parts with no sourced price: the break-even price at which each would enter the plan, or what is missing.

    The price was verified by re-solving (the use case's break-even search). Found prices first; at most ``limit``.
    """
    order = {"found": 0, "chosen_at_limit": 1, "missing_figures": 2, "not_chosen": 3}
    shown = sorted(p.break_even, key=lambda b: order.get(b.status, 9))[:limit]
    if not shown:
        return
    c.add("unpriced")
    for b in shown:
        if b.status == "found" and b.price is not None:
            then = ""
            if b.items and b.total_cost is not None and b.time_days is not None:
                count = sum(i.accelerators for i in b.items)
                then = c.t("unpriced_then", count=f"{count:,}", total=money(b.total_cost, b.currency, c.lang),
                           days=days(b.time_days))
            c.add("unpriced_found", name=b.name, price=money(b.price, b.currency, c.lang), then=then)
        elif b.status == "chosen_at_limit" and b.price is not None:
            c.add("unpriced_limit", name=b.name, price=money(b.price, b.currency, c.lang))
        elif b.status == "missing_figures":
            missing = [_missing_zh(m) for m in b.missing] if c.lang == "zh" else list(b.missing)
            c.add("unpriced_missing", name=b.name, missing=("、" if c.lang == "zh" else ", ").join(
                dict.fromkeys(missing)) or "—")
        elif b.status == "not_chosen" and b.price is not None:
            c.add("unpriced_never", name=b.name, price=money(b.price, b.currency, c.lang))


def compliance(c: Composer, r: ComplianceResult, country_name: str) -> None:
    """Verdict, classification and reasons of one check (Chinese summaries of the rules in a Chinese answer)."""
    text = outlook_text(r.license_outlook, c.lang) if r.license_outlook else None
    outlook = (f" ({text})" if c.lang == "en" else f"（{text}）") if text else ""
    tpp = f", TPP {r.tpp:,.0f}" if r.tpp is not None else ""
    if c.lang == "zh":
        tpp = f"，TPP {r.tpp:,.0f}" if r.tpp is not None else ""
    c.add("compliance", name=r.name, kind=_KIND[c.lang][r.buyer_kind], country=country_name, date=r.date.isoformat(),
          verdict=_VERDICT[c.lang][r.verdict], outlook=outlook,
          classification=classification_text(r.classification, c.lang), tpp=tpp)
    warned = {w.text.strip() for w in r.warnings}
    reasons = [reason_zh(rule, r) for rule in r.rules] if c.lang == "zh" else [
        x for x in r.reasons if re.sub(r"^\[\w+\]\s*", "", x).strip() not in warned]  # warnings follow, once
    for reason in reasons[:MAX_REASONS]:
        c.add("compliance_reason", reason=reason)
    for w in r.warnings[:4]:
        text = warning_text(w, c.lang)
        if c.once(f"warning:{text}"):  # a note that reads the same for two parts (China-side measures) is said once
            c.add("risk_warning", text=text)
