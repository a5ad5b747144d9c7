"""Deterministic planner (the offline default): parsed question → tool calls → answer from templates.

Decisions come from the parsed question and from tool results only; passage text is quoted, never read as
instructions, so a document that tries to steer the agent cannot change a tool call.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from service.agent import catalog_facts, compose, explain, wording
from service.agent import requests as build
from service.agent.compose import Composer, days, money, pct
from service.agent.parse import FlatRequest, ParsedQuestion
from service.agent.tools import CompareArgs, ComplianceArgs, EstimateArgs, SearchArgs, ToolCall, Tools, WhatIfArgs
from service.presenters import numbers
from service.presenters.reasons import COUNTRY_ZH
from service.usecases import (
    ComplianceResult,
    InferenceEstimate,
    OptimizerError,
    Passage,
    PurchasePlan,
    TrainingEstimate,
    data_as_of,
    risk_settings,
    with_risk,
)


@dataclass
class PlanOutcome:
    """What a planner produced before grounding."""

    answer: str
    citations: list[compose.AgentCitation]
    recommendation: PurchasePlan | None = None
    summary: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    derived: list[str] = field(default_factory=list)


def country_name(code: str, lang: str, names: Mapping[str, str]) -> str:
    """Display name of a country code."""
    if lang == "zh":
        return COUNTRY_ZH.get(code, code)
    return names.get(code, code)


def plan_summary(p: PurchasePlan | None) -> dict[str, Any] | None:
    """What the next turn compares against."""
    if p is None:
        return None
    return {"status": p.status, "total_cost": p.total_cost, "time_days": p.time_days, "currency": p.currency,
            "items": [{"sku": i.sku, "accelerators": i.accelerators} for i in p.items]}


def weak_evidence(tools: Tools, plan: PurchasePlan) -> list[tuple[str, str, str]]:
    """(part name, "price" | "spec", grade) for a chosen part whose price or sizing figure is graded W or A."""
    catalog = tools.backend.ctx.domain.catalog
    out: list[tuple[str, str, str]] = []
    for item in {i.sku: i for i in plan.items}.values():
        acc = catalog.accelerators.get(item.sku)
        if acc is None:
            continue
        if acc.price is not None and acc.price.grade in compose.WEAK_GRADES:
            out.append((item.name, "price", acc.price.grade))
        figures = [getattr(acc, n, None) for n in ("memory_gb", "memory_bandwidth_tbps", "tdp_w")]
        figures += [getattr(acc.dense, n, None) for n in ("bf16", "fp8")]
        weak = [f.grade for f in figures if f is not None and getattr(f, "grade", None) in compose.WEAK_GRADES]
        if weak:
            out.append((item.name, "spec", weak[0]))
    return out


def data_note(c: Composer, parsed: ParsedQuestion, tools: Tools) -> None:
    """"Data as of …" from the data packs in use (and that no later rule change is known, for a far date)."""
    try:
        as_of = data_as_of(tools.backend.ctx)
    except Exception:  # noqa: BLE001 - a pack header that cannot be read must not sink an answer
        return
    wording.data_line(c, as_of, parsed.request.date)


def _cite_plan_sources(c: Composer, p: PurchasePlan, limit: int = 4) -> None:
    for cit in p.citations[:limit]:
        c.cite_source(cit.id, cit.title, cit.url)


def _cite_passages(c: Composer, passages: list[Passage], limit: int = 3) -> None:
    """Cite the best passages, in the answer's language first (a document's translation is not a second source)."""
    same = [p for p in passages if p.language == c.lang]
    other = [p for p in passages if p.language != c.lang]
    for p in (same + other)[:limit]:
        c.cite_passage(p)


def unknown_parts(c: Composer, parsed: ParsedQuestion, tools: Tools) -> None:
    """Say which named parts the catalog does not have and offer its parts written the same way (MI355X → MI300X)."""
    if not parsed.unknown_parts:
        return
    lex = tools.backend.lexicon()
    similar = list(dict.fromkeys(n for code in parsed.unknown_parts for n in lex.similar_parts(code)))
    sep = "、" if c.lang == "zh" else ", "
    names = sep.join(parsed.unknown_parts)
    if similar:
        c.add("unknown_parts_similar", names=names, similar=sep.join(similar))
    else:
        c.add("unknown_parts", names=names)
    c.derived.extend([*parsed.unknown_parts, *similar])


def _search_terms(parsed: ParsedQuestion, plan: PurchasePlan | None) -> str:
    names = [i.name for i in plan.items] if plan and plan.items else []
    names += sorted({i.fabric for i in plan.items if i.fabric}) if plan else []  # e.g. InfiniBand availability
    topic = "出口许可 供应 风险" if parsed.language == "zh" else "export licence supply risk"
    return " ".join([*names, *(parsed.request.skus or []), topic]).strip()


def _safe_search(tools: Tools, query: str, k: int = 3) -> list[Passage]:
    try:
        return tools.search_corpus(SearchArgs(query=query[:500], k=k))
    except Exception:  # noqa: BLE001 - an unavailable index must not sink an answer; it only loses citations
        return []


def _engine_text(message: str | None, est: Any, name: str) -> str:
    """An estimator's message for the chat: the part's name for its id, no CLI flags."""
    text = message or ""
    sku = getattr(est, "accelerator", None)
    if isinstance(sku, str) and sku:
        text = re.sub(rf"(?<![\w-]){re.escape(sku)}(?![\w-])", name, text)
    return compose.chat_text(text)


def _check(tools: Tools, req: FlatRequest, sku: str) -> ComplianceResult:
    """The compliance tool for one part and the request's buyer (a commercial buyer in China where unstated)."""
    return tools.check_compliance(ComplianceArgs(sku=sku, buyer_country=req.buyer_country or "CN", date=req.date,
                                                 buyer_kind=req.buyer_kind or "commercial",
                                                 headquarters_country=req.headquarters_country,
                                                 buyer_name=req.buyer_name))


def _reader_currency(parsed: ParsedQuestion) -> str | None:
    """The currency to show a catalog price in: the request's, else yuan for a Chinese question."""
    return parsed.request.currency or ("CNY" if parsed.language == "zh" else None)


class DeterministicPlanner:
    """Runs the tools a parsed question needs and renders the answer from templates."""

    name = "deterministic"

    def run(self, parsed: ParsedQuestion, tools: Tools, *, question: str,
            previous: dict[str, Any] | None = None) -> PlanOutcome:
        """Answer one parsed question."""
        c = Composer(parsed.language, source_titles=tools.backend.source_titles())
        req = parsed.request
        cur = req.currency
        compose.changes(c, parsed.changes, cur, tools.backend.accelerator_name)
        if parsed.unchanged:
            c.add("unchanged")
            c.derived.append(c.t("unchanged"))  # its examples are examples, not figures of this answer
        if parsed.intent == "clarify":
            return self._clarify(c, parsed, tools)
        intent = parsed.intent
        if intent == "recommend" and parsed.whatif and (parsed.whatif.remove_skus or parsed.whatif.price_changes):
            intent = "whatif"  # a plan question that names a change is answered by the what-if use case
        handler = {
            "recommend": self._recommend, "whatif": self._whatif, "compliance": self._compliance,
            "estimate": self._estimate, "compare": self._compare, "search": self._search,
        }[intent]
        outcome = handler(c, parsed, tools, question, previous)
        return outcome

    # ---- intents ---------------------------------------------------------------------------------

    def _clarify(self, c: Composer, parsed: ParsedQuestion, tools: Tools) -> PlanOutcome:
        unknown_parts(c, parsed, tools)
        needs = [c.t(f"need_{m}") for m in parsed.missing if f"need_{m}" in compose.phrases(c.lang)]
        if parsed.base_intent == "whatif" and "params" in parsed.missing:
            needs = [c.t("need_base")]
        sep = "; " if c.lang == "en" else "；"
        serving = parsed.request.workload == "inference" or "requests_per_s" in parsed.missing
        example = c.t("clarify_example_inference" if serving else "clarify_example")  # an example of the same kind
        c.add("clarify", needs=sep.join(needs), example=example)
        return PlanOutcome(answer=c.text(), citations=c.citations, derived=[example, *c.derived])

    def _finish_plan(self, c: Composer, parsed: ParsedQuestion, tools: Tools, plan: PurchasePlan,
                     previous: dict[str, Any] | None) -> PlanOutcome:
        if parsed.why_not:  # "why not the H20?": the answer to the question first, then the plan it is about
            explain.why_not(c, plan, parsed.why_not, tools.backend.accelerator_name)
        if parsed.show_alternatives:  # "what's the second best option?"
            explain.alternatives(c, plan)
        compose.plan(c, plan)
        if not plan.items and parsed.request.skus:  # "use the H20 only" and no plan: why, for each part asked for
            for sku in parsed.request.skus[:3]:
                c.add("restricted_reason", name=tools.backend.accelerator_name(sku),
                      reason=explain.alone_reason(c, plan, sku, relaxation=False))
        if parsed.unknown_parts and not parsed.request.skus:  # "…with MI355X": planned over the parts it has
            names = "、".join(parsed.unknown_parts) if c.lang == "zh" else ", ".join(parsed.unknown_parts)
            c.add("unknown_parts_plan", names=names)
            c.derived.extend(parsed.unknown_parts)
        same_request = bool(parsed.why_not or parsed.show_alternatives)  # nothing changed: no before/after line
        if previous and not same_request and previous.get("total_cost") is not None and plan.total_cost is not None \
                and previous.get("currency") == plan.currency:
            c.add("compare_diff", old_total=money(previous["total_cost"], plan.currency, c.lang),
                  new_total=money(plan.total_cost, plan.currency, c.lang),
                  old_time=days(previous["time_days"], c.lang) if previous.get("time_days") is not None else "—",
                  new_time=days(plan.time_days, c.lang) if plan.time_days is not None else "—")
        checks = []
        for sku in dict.fromkeys(i.sku for i in plan.items):
            checks.append(_check(tools, parsed.request, sku))
        compose.risks(c, plan, checks, weak_evidence(tools, plan))
        compose.unpriced(c, plan)
        compose.assumptions(c, parsed.assumptions, parsed.request.currency)
        data_note(c, parsed, tools)
        _cite_passages(c, _safe_search(tools, _search_terms(parsed, plan)))
        _cite_plan_sources(c, plan)
        return PlanOutcome(answer=c.text(), citations=c.citations, recommendation=plan, summary=plan_summary(plan),
                           derived=c.derived)

    def _recommend(self, c: Composer, parsed: ParsedQuestion, tools: Tools, question: str,
                   previous: dict[str, Any] | None) -> PlanOutcome:
        plan = tools.recommend(parsed.request)
        return self._finish_plan(c, parsed, tools, plan, None)

    def _whatif(self, c: Composer, parsed: ParsedQuestion, tools: Tools, question: str,
                previous: dict[str, Any] | None) -> PlanOutcome:
        spec = parsed.whatif
        if spec is not None and spec.hedge:
            return self._hedged(c, parsed, tools)
        if spec is None or not (spec.remove_skus or spec.price_changes):
            plan = tools.recommend(parsed.request)
            return self._finish_plan(c, parsed, tools, plan, previous)
        named = set(spec.remove_skus) | set(spec.price_changes)
        kept = [s for s in parsed.request.skus or [] if s not in named]  # the parts a what-if names are its subject
        base = parsed.request.model_copy(update={"skus": kept or None})
        # one use case solves both plans (the same what-if as `procure whatif` and POST /v1/recommendations/whatif)
        result = tools.what_if(WhatIfArgs(request=base, remove_skus=spec.remove_skus,
                                          price_changes=spec.price_changes))
        name = tools.backend.accelerator_name
        c.add("whatif", changes=wording.whatif_changes(spec.remove_skus, spec.price_changes, name, c.lang),
              summary=wording.whatif_summary(result, name, c.lang))
        for be in result.break_even[:3]:
            text = wording.break_even_text(be, name, c.lang, result.changed.currency,
                                           tools.backend.lexicon().cny_per_usd)
            c.add("break_even", message=text)
            c.derived.append(text)  # the "2%" floor of the search is the use case's own
        outcome = self._finish_plan(c, parsed, tools, result.changed, plan_summary(result.base))
        outcome.extra["whatif"] = result.model_dump(mode="json", include={"changes", "delta_cost", "delta_days",
                                                                           "skus_added", "skus_removed", "summary"})
        return outcome

    def _hedged(self, c: Composer, parsed: ParsedQuestion, tools: Tools) -> PlanOutcome:
        """"What's the safest plan if licences may be revoked?": the use cases' hedged recommendation, summarised."""
        request = with_risk(build.purchase_request(parsed.request), risk_settings("default"))
        tools.calls.append(ToolCall(name="recommend", args={"request": parsed.request.flat(), "risk": "default"}))
        plan = tools.backend.recommend(request)
        tools.evidence.add(plan)
        risk = plan.risk
        if risk is not None and risk.status in ("optimal", "feasible"):
            cur = risk.currency

            def share(v: float | None) -> str:
                return "—" if v is None else pct(v)

            def cost(v: float | None) -> str:
                return "—" if v is None else money(v, cur, c.lang)

            on_time = risk.probability_on_time
            c.add("hedged", p_base=share(on_time.base), p_hedged=share(on_time.hedged),
                  e_base=cost(risk.expected_total_cost.base), e_hedged=cost(risk.expected_total_cost.hedged))
            if risk.same_as_base:
                c.add("hedged_same")
            for i in ([] if risk.same_as_base else risk.items):
                c.add("hedged_item", accelerators=i.accelerators, name=i.name,
                      workload=compose.workload_name(i.kind, c.lang), cost=money(i.total_cost, cur, c.lang))
        outcome = self._finish_plan(c, parsed, tools, plan, None)
        if risk is not None:
            outcome.extra["risk"] = risk.model_dump(mode="json", include={
                "objective", "status", "same_as_base", "probability_on_time", "expected_total_cost", "currency"})
        return outcome

    def _compliance(self, c: Composer, parsed: ParsedQuestion, tools: Tools, question: str,
                    previous: dict[str, Any] | None) -> PlanOutcome:
        req = parsed.request
        results: list[ComplianceResult] = []
        every = parsed.every_part and not req.skus  # "which chips can a Chinese buyer buy?": the whole catalog
        lex = tools.backend.lexicon()
        catalog = [s for s in lex.sku_names if lex.sku_vendors.get(s) not in (req.exclude_vendors or [])]
        for sku in (catalog if every else req.skus or []):
            r = _check(tools, req, sku)
            results.append(r)
            if every:
                continue
            where = country_name(r.buyer_country, c.lang, lex.countries)
            if req.buyer_name:  # the screened buyer, as the question named it
                where += f" ({req.buyer_name})" if c.lang == "en" else f"（{req.buyer_name}）"
            compose.compliance(c, r, where)
        if req.skus and not every and catalog_facts.asks_facts(question):  # "想买100张H200，要多少钱？"
            catalog_facts.add_facts(c, tools, req.skus, req.count, _reader_currency(parsed))
        if every and results:
            explain.every_part(c, results, country_name(results[0].buyer_country, c.lang, lex.countries))
        compose.assumptions(c, parsed.assumptions, req.currency)
        data_note(c, parsed, tools)
        _cite_passages(c, _safe_search(tools, question))
        for r in results[:0] if every else results:  # a whole-catalog list cites no rule text of its own
            for sid in r.citations[:4]:
                c.cite_source(sid, sid)
        return PlanOutcome(answer=c.text(), citations=c.citations, derived=c.derived,
                           extra={"compliance": [r.model_dump(mode="json") for r in results]})

    def _estimate_verdict(self, c: Composer, req: FlatRequest, tools: Tools, sku: str, name: str) -> None:
        """Name a verdict that is not "allowed" under an estimate.

        How many parts a run needs says nothing about whether the buyer may buy them ("How many H200s do I need…"
        for a buyer in China).
        """
        if not req.buyer_country or req.date is None:
            return
        r = _check(tools, req, sku)
        if r.verdict != "allowed":
            where = country_name(r.buyer_country, c.lang, tools.backend.lexicon().countries)
            c.add("estimate_verdict", name=name, verdict=compose._VERDICT[c.lang][r.verdict], where=where,
                  date=r.date.isoformat())

    def _estimate_line(self, c: Composer, est: TrainingEstimate | InferenceEstimate, name: str) -> None:
        if isinstance(est, TrainingEstimate):
            if est.status != "ok" or est.wall_clock_days is None:
                c.add("estimate_failed", name=name, message=_engine_text(est.message, est, name))
                return
            c.add("estimate_training", name=name, count=numbers.count(est.count), days=days(est.wall_clock_days),
                  low=days(est.wall_clock_days_low or est.wall_clock_days),
                  high=days(est.wall_clock_days_high or est.wall_clock_days),
                  hours=numbers.count(est.accelerator_hours or 0), mfu=pct(est.mfu or 0))
        else:
            if est.status != "ok" or est.accelerators is None:
                c.add("estimate_failed", name=name, message=_engine_text(est.message, est, name))
                return
            rps = (est.requests_per_s_per_replica or 0) * (est.replicas or 0)
            c.add("estimate_inference", name=name, accelerators=numbers.count(est.accelerators),
                  replicas=numbers.count(est.replicas),
                  rps=f"{rps:.0f}")

    def _estimate(self, c: Composer, parsed: ParsedQuestion, tools: Tools, question: str,
                  previous: dict[str, Any] | None) -> PlanOutcome:
        results = []
        for sku in parsed.request.skus or []:
            name = tools.backend.accelerator_name(sku)
            try:
                est = tools.estimate(EstimateArgs(request=parsed.request, sku=sku))
            except (OptimizerError, ValueError) as exc:
                c.add("estimate_failed", name=name, message=str(getattr(exc, "message", exc)))
                continue
            results.append(est.model_dump(mode="json", exclude={"step", "memory"}))
            self._estimate_line(c, est, name)
            self._estimate_verdict(c, parsed.request, tools, sku, name)
        compose.assumptions(c, parsed.assumptions, parsed.request.currency)
        data_note(c, parsed, tools)
        return PlanOutcome(answer=c.text(), citations=c.citations, extra={"estimates": results}, derived=c.derived)

    def _compare(self, c: Composer, parsed: ParsedQuestion, tools: Tools, question: str,
                 previous: dict[str, Any] | None) -> PlanOutcome:
        rows = tools.compare(CompareArgs(request=parsed.request, skus=parsed.request.skus or []))
        for row in rows:
            perf = ""
            est: TrainingEstimate | InferenceEstimate | None = row.training or row.inference
            verdict = compose._VERDICT[c.lang][row.compliance.verdict]
            if est is not None:
                sub = Composer(c.lang)
                self._estimate_line(sub, est, row.name)
                perf = " — " + sub.lines[0].split("**", 2)[-1].lstrip("：: ")
            c.add("compare_row", name=row.name, verdict=verdict, perf=perf)
            self._compare_cost(c, parsed, tools, row.sku, row.name)
        if catalog_facts.asks_facts(question):  # "H20和910B的价格分别是多少？": each side's sourced price
            catalog_facts.add_facts(c, tools, [r.sku for r in rows], parsed.request.count, _reader_currency(parsed))
        compose.assumptions(c, parsed.assumptions, parsed.request.currency)
        data_note(c, parsed, tools)
        _cite_passages(c, _safe_search(tools, question))
        return PlanOutcome(answer=c.text(), citations=c.citations, derived=c.derived,
                           extra={"compare": [r.model_dump(mode="json", exclude={"training": {"step", "memory"}})
                                              for r in rows]})

    def _compare_cost(self, c: Composer, parsed: ParsedQuestion, tools: Tools, sku: str, name: str) -> None:
        """Cost and time of the cheapest plan on this part alone (same request, deadline and buyer), or why none."""
        req = parsed.request
        if req.params is None or req.workload is None or (req.workload == "inference" and not req.requests_per_s):
            return
        try:
            plan = tools.recommend(req.model_copy(update={"skus": [sku], "objective": "min_cost", "count": None}))
        except (OptimizerError, ValueError):
            return
        cur = plan.currency
        if not plan.items or plan.total_cost is None:
            c.add("compare_cost_none", name=name, reason=explain.alone_reason(c, plan, sku))
            return
        count = sum(i.accelerators for i in plan.items)
        when = (c.t("compare_time", days=days(plan.time_days)) if plan.time_days is not None
                else c.t("time_inference", rps=f"{sum(i.capacity_rps or 0 for i in plan.items):.0f}"))
        c.add("compare_cost", name=name, count=numbers.count(count), total=money(plan.total_cost, cur, c.lang),
              when=when)
        c.derived.append(str(count))

    def _search(self, c: Composer, parsed: ParsedQuestion, tools: Tools, question: str,
                previous: dict[str, Any] | None) -> PlanOutcome:
        facts = bool(parsed.request.skus) and catalog_facts.asks_facts(question)
        if facts:  # "What's the price of an H200?": the catalog's figures first, the passages after
            catalog_facts.add_facts(c, tools, parsed.request.skus or [], parsed.request.count,
                                    _reader_currency(parsed))
        passages = _safe_search(tools, question, k=2 if facts else 4)
        if not passages:
            if facts:
                return PlanOutcome(answer=c.text(), citations=c.citations, derived=c.derived)
            c.add("search_none")
            return PlanOutcome(answer=c.text(), citations=c.citations)
        c.add("search")
        for p in passages:
            n = c.cite_passage(p)
            c.add("search_item", quote=compose.quote_of(p, 160), n=n)
        data_note(c, parsed, tools)
        return PlanOutcome(answer=c.text(), citations=c.citations, derived=c.derived)
