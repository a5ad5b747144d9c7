"""Compose answers from the templates in ``prompts/`` in the question's language, and number the citations."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pydantic import BaseModel

import prompts
from service.agent.parse import Assumption, Change, Lang
from service.presenters.reasons import STATUS_ZH, outlook_text, reason_text
from service.usecases import ComplianceResult, Passage, PurchasePlan


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
    """``¥48.20M`` / ``$7.00M`` in English, ``¥4,820万`` / ``¥1.47亿`` in Chinese."""
    sym = "¥" if currency == "CNY" else "$"
    sign = "-" if value < 0 else ""
    v = abs(value)
    if lang == "zh":
        if v >= 1e8:
            return f"{sign}{sym}{v / 1e8:.2f}亿"
        if v >= 1e4:
            return f"{sign}{sym}{v / 1e4:,.0f}万"
        return f"{sign}{sym}{v:,.0f}"
    if v >= 1e9:
        return f"{sign}{sym}{v / 1e9:.2f}B"
    return f"{sign}{sym}{v / 1e6:,.2f}M"


def size(value: float, lang: Lang) -> str:
    """Parameter or token counts: ``70B`` / ``1.4T`` in English, ``700亿`` / ``1.4万亿`` in Chinese."""
    if lang == "zh":
        if value >= 1e12:
            return f"{value / 1e12:g}万亿"
        if value >= 1e8:
            return f"{value / 1e8:g}亿"
        return f"{value / 1e4:g}万"
    if value >= 1e12:
        return f"{value / 1e12:g}T"
    if value >= 1e9:
        return f"{value / 1e9:g}B"
    return f"{value / 1e6:g}M"


def days(value: float) -> str:
    """Days with one decimal."""
    return f"{value:.1f}"


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
_BINDING_ZH = {"budget": "预算", "deadline": "期限", "domestic_share": "国产化率", "policy": "采购政策",
               "power": "功率", "racks": "机架", "supply": "供应量", "vendor_share": "单一厂商占比"}


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

    def t(self, key: str, **kw: Any) -> str:
        """Fill one template section."""
        return phrases(self.lang)[key].format(**kw)

    def add(self, key: str, **kw: Any) -> None:
        """Append a filled section as a line."""
        self.lines.append(self.t(key, **kw))

    def cite_passage(self, p: Passage) -> int:
        """Number a passage (once) and return its number."""
        for c in self.citations:
            if c.kind == "passage" and c.doc_id == p.doc_id and c.quote == quote_of(p):
                return c.n
        n = len(self.citations) + 1
        self.citations.append(AgentCitation(n=n, kind="passage", title=p.title, date=p.date.isoformat() if p.date
                                            else None, quote=quote_of(p), doc_id=p.doc_id, url=p.url))
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


_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+")


def quote_of(p: Passage, limit: int = 220) -> str:
    """The passage's first sentences up to ``limit`` characters (an exact substring of the passage)."""
    text = " ".join(p.text.split()).lstrip("-*•# ")
    if len(text) <= limit:
        return text
    cut = text[:limit]
    ends = [m.end() for m in re.finditer(r"[.!?](?=\s)|[。！？；]", cut)]
    return cut[:ends[-1]] if ends and ends[-1] > 60 else cut.rsplit(" ", 1)[0] + "…"


def assumptions(c: Composer, notes: list[Assumption], currency: str | None) -> None:
    """State the defaults that were applied."""
    if not notes:
        return
    c.add("assumptions")
    for a in notes:
        value = a.value.isoformat() if isinstance(a.value, dt.date) else a.value
        c.add("assumption", field=a.field, value=value_text(a.field, value, c.lang, currency), reason=a.reason)


def changes(c: Composer, items: list[Change], currency: str | None) -> None:
    """Say what a follow-up changed."""
    if not items:
        return
    switched = next((ch for ch in items if ch.field == "currency" and ch.old and ch.new), None)
    old_currency = str(switched.old) if switched else currency  # "换成美元": the old budget stays in yuan
    parts = [c.t("change", field=ch.field, old=value_text(ch.field, ch.old, c.lang, old_currency),
                 new=value_text(ch.field, ch.new, c.lang, currency)) for ch in items]
    c.add("changes", changes="; ".join(parts))


def plan(c: Composer, p: PurchasePlan, *, max_excluded: int = 4) -> None:
    """Plan, why, what the alternatives lost on, exclusions."""
    cur = p.currency
    if not p.items:
        c.add("infeasible", message=p.message)
    else:
        items = "; ".join(c.t("plan_item", accelerators=i.accelerators, name=i.name, nodes=i.nodes,
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
            names = p.binding_constraints if c.lang == "en" else [_BINDING_ZH.get(b, b) for b in p.binding_constraints]
            c.add("why", binding=", ".join(names) if c.lang == "en" else "、".join(names))
        else:
            c.add("why_none")
    for o in [o for o in p.considered if o.status not in ("chosen", "excluded")][:5]:
        detail = ""
        if o.delta_cost is not None and o.delta_cost > 0:
            detail += c.t("lost_cost", delta=money(o.delta_cost, cur, c.lang))
        if o.delta_days is not None and o.delta_days > 0:
            detail += c.t("lost_time", days=days(o.delta_days))
        if o.reason and o.reason != "allowed":
            why = reason_text(o.why, o.reason, c.lang)
            detail += f" ({why})" if c.lang == "en" else f"（{why}）"
        status = o.status if c.lang == "en" else STATUS_ZH.get(o.status, o.status)
        c.add("lost", name=o.name, status=status, detail=detail)
    shown = [e for e in p.excluded if e.category in ("compliance", "policy")][:max_excluded]
    part_names = {o.sku: o.name for o in p.considered}
    for e in shown:
        c.add("excluded", sku=part_names.get(e.sku, e.sku), reason=reason_text(e.why, e.reason, c.lang))
    rest = len(p.excluded) - len(shown)
    if rest > 0:
        c.add("excluded_more", count=rest)
        c.derived.append(str(rest))


def risks(c: Composer, p: PurchasePlan, checks: list[ComplianceResult]) -> None:
    """Licence outlook of the chosen parts and supply warnings that fired for them."""
    c.add("risks")
    n = 0
    for i in p.items:
        if i.license_outlook:
            c.add("risk_outlook", name=i.name, outlook=outlook_text(i.license_outlook, c.lang))
            n += 1
    seen: set[str] = set()
    for r in checks:
        for w in r.warnings:
            if w.rule_id in seen:
                continue
            seen.add(w.rule_id)
            refs = "".join(f" [{c.cite_source(s, s)}]" for s in w.citations[:2])
            c.add("risk_warning", text=reason_text(w.why, w.text.strip(), c.lang) + refs)
            n += 1
    if not n:
        c.add("risks_none")


def compliance(c: Composer, r: ComplianceResult, country_name: str) -> None:
    """Verdict, classification and reasons of one check."""
    text = outlook_text(r.license_outlook, c.lang) if r.license_outlook else None
    outlook = (f" ({text})" if c.lang == "en" else f"（{text}）") if text else ""
    tpp = f", TPP {r.tpp:,.0f}" if r.tpp is not None else ""
    c.add("compliance", name=r.name, kind=_KIND[c.lang][r.buyer_kind], country=country_name, date=r.date.isoformat(),
          verdict=_VERDICT[c.lang][r.verdict], outlook=outlook, classification=r.classification, tpp=tpp)
    for reason in r.reasons[:6]:
        c.add("compliance_reason", reason=reason)
    for w in r.warnings[:4]:
        c.add("risk_warning", text=reason_text(w.why, w.text.strip(), c.lang))
