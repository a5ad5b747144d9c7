"""Intent and assembly.

What a message states (``extract``), what it asks (``decide_intent``) and the stated
defaults (``apply_defaults``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from service.agent.numbers import plain_number
from service.agent.parse.model import (
    TOKENS_PER_PARAM,
    Assumption,
    FlatRequest,
    Intent,
    Lang,
    Lexicon,
    ParsedQuestion,
    WhatIfSpec,
    WorkloadKind,
)
from service.agent.parse.named import find_buyer_name, find_io_tokens, find_latency, find_unknown_parts
from service.agent.parse.units import (
    _PERCENT,
    _classify_numbers,
    _find_countries,
    _find_deadline,
    _find_excluded_vendors,
    _find_model,
    _find_share,
    _find_skus,
    _Sku,
    _Text,
    conversion_to_unpriced_currency,
    date_as_deadline,
    deadline_from_date,
    find_dated,
    vendors_named,
    vendors_only,
)
from service.agent.parse.vocab import (
    _ACCEPT_RISK,
    _ADVICE,
    _ASK_SOURCES,
    _COMMERCIAL,
    _COMPARE,
    _COMPLIANCE,
    _DOWN,
    _ESTIMATE,
    _FINETUNE,
    _HEDGE,
    _MIN_COST,
    _MIN_TIME,
    _PRICE,
    _PRICE_TENTHS,
    _PRICE_ZHE,
    _REFUSE_RISK,
    _REVOKE,
    _SEARCH,
    _SERVE,
    _STACK,
    _STACK_NAMES,
    _STATE,
    _TRAIN,
    _UP,
    _WHATIF,
    _WHICH_PARTS,
    detect_language,
)

# --------------------------------------------------------------------------------------------------
# intent and assembly


def _workloads(text: str) -> list[tuple[int, WorkloadKind]]:
    found: list[tuple[int, WorkloadKind]] = []
    spans: list[tuple[int, int]] = []
    for pattern, kind in ((_FINETUNE, "fine_tune"), (_TRAIN, "training"), (_SERVE, "inference")):
        for m in pattern.finditer(text):
            if any(s <= m.start() < e for s, e in spans):
                continue
            spans.append((m.start(), m.end()))
            found.append((m.start(), kind))  # type: ignore[arg-type]
    found.sort()
    # collapse repeats of one kind
    out: list[tuple[int, WorkloadKind]] = []
    for pos, kind in found:
        if not any(k == kind for _, k in out):
            out.append((pos, kind))
    return out


def parse_question(question: str, lex: Lexicon, *, today: dt.date | None = None) -> ParsedQuestion:
    """Parse one question on its own (no conversation) into intent, flat request and assumptions."""
    today = today or dt.date.today()
    facts = extract(question, lex, today=today)
    return finish(facts, today=today, lex=lex)


@dataclass
class Facts:
    """What a message states, before defaults."""

    language: Lang
    text: str
    request: FlatRequest
    skus: list[_Sku]
    wants: dict[str, bool]
    whatif: WhatIfSpec | None
    other_currency: str | None = None
    """A budget in a currency the catalog does not price in: the answer asks for yuan or dollars."""
    price_delta: float | None = None
    """A relative price change the message names, with or without its part ("what if it were 30 % cheaper?")."""
    unknown_parts: list[str] = field(default_factory=list)
    """Part codes the catalog does not have ("MI355X")."""


def extract(question: str, lex: Lexicon, *, today: dt.date | None = None) -> Facts:
    """Everything the message itself states (no defaults, no intent decision yet; ``today`` dates "9月1日")."""
    lang = detect_language(question)
    text = question.replace("，", ", ").replace("。", ". ").replace("：", ": ").replace("（", "(").replace("）", ")")
    text = text.replace("～", "~").replace("≥", ">=").replace("≤", "<=")
    t = _Text(text, text)
    dated = find_dated(t, today)
    date = dated[0] if dated else None
    skus = _find_skus(t, lex)
    unknown = find_unknown_parts(t)
    model, m_params, m_active = _find_model(t, lex)
    ttft, tpot = find_latency(t)
    prompt_len, output_len = find_io_tokens(t)
    buyer_name = find_buyer_name(t)
    deadline = _find_deadline(t)
    share = _find_share(t)
    country, hq = _find_countries(t, lex)
    excluded = _find_excluded_vendors(t)
    nums = _classify_numbers(t, lang)
    low = text.lower()
    work = _workloads(text)
    date_deadline = None
    if dated and (work or m_params or model) and date_as_deadline(text, dated[1], dated[2]):
        # "train it before end of June 2027": the work's deadline, not the purchase date
        date_deadline = deadline_from_date(dated[0], dated[3], today or dt.date.today())
        date = None if date_deadline is not None else date
    req: dict[str, Any] = {}
    if work:
        req["workload"] = work[0][1]
    elif nums.rps is not None or ttft is not None or tpot is not None:
        req["workload"] = "inference"
    params = nums.params if nums.params is not None else m_params
    active = nums.active if nums.active is not None else m_active
    if params is not None and model and m_params is not None and nums.params is not None and len(work) < 2:
        params = m_params
    if params is not None:
        req["params"] = params
    if active is not None and (params is None or active <= params):
        req["active_params"] = active
    if model:
        req["model"] = model
    if nums.tokens is not None:
        req["tokens"] = nums.tokens
    if nums.budget is not None:
        req["budget"] = nums.budget
    if nums.currency is not None:
        req["currency"] = nums.currency
    elif re.search(r"(换成|改成|改为|用|以|in|to|switch to|convert to|show in)\s*(美元|美金|dollars?|usd)", text, re.I):
        req["currency"] = "USD"
    elif re.search(r"(换成|改成|改为|用|以|in|to|switch to|convert to|show in)\s*(人民币|元|rmb|cny|yuan)", text, re.I):
        req["currency"] = "CNY"
    if deadline is not None:
        req["deadline_days"] = deadline
    elif date_deadline is not None:
        req["deadline_days"] = date_deadline
    if country:
        req["buyer_country"] = country
    if hq:
        req["headquarters_country"] = hq
    if buyer_name:
        req["buyer_name"] = buyer_name
    if _STATE.search(text):
        req["buyer_kind"] = "state_funded"
    elif _COMMERCIAL.search(text):
        req["buyer_kind"] = "commercial"
    if date:
        req["date"] = date
    if _MIN_COST.search(text):
        req["objective"] = "min_cost"
    elif _MIN_TIME.search(text):
        req["objective"] = "min_time"
    sku_ids = list(dict.fromkeys(s.sku for s in skus))
    if sku_ids:
        req["skus"] = sku_ids
    if excluded:
        req["exclude_vendors"] = excluded
    only = [v for v in vendors_only(t.masked) if v in lex.vendors] if not sku_ids else []
    if only:  # "only AMD please", "华为和寒武纪混用": every other vendor of the catalog is left out
        req["exclude_vendors"] = list(dict.fromkeys([*(req.get("exclude_vendors") or []),
                                                     *sorted(v for v in lex.vendors if v not in only)]))
    if share is not None:
        req["min_domestic_share"] = share
    if nums.rps is not None:
        req["requests_per_s"] = nums.rps
    if prompt_len is not None:
        req["prompt_tokens"] = prompt_len
    if output_len is not None:
        req["output_tokens"] = output_len
    if ttft is not None:
        req["ttft_s"] = ttft
    if tpot is not None:
        req["tpot_s"] = tpot
    counts = [s.count for s in skus if s.count]
    if counts:
        req["count"] = counts[0]
    if len(work) >= 2:
        extra: list[dict[str, Any]] = []
        for pos, kind in work[1:]:
            w: dict[str, Any] = {"workload": kind}
            later = [v for p, v in nums.extra_params if p > pos]
            if kind == "inference" and nums.rps is not None:
                w["requests_per_s"] = nums.rps
                req.pop("requests_per_s", None)
            if later:
                w["params"] = later[0]
            elif model and m_params is not None and nums.params is not None and m_params != nums.params:
                w["params"] = m_params
                w["model"] = model
                req.pop("model", None)
                req["params"] = nums.params
            extra.append(w)
        req["extra_workloads"] = extra
    whatif = None
    hedge = bool(_HEDGE.search(text))
    priced_vendors = vendors_named(t.masked) if _PRICE.search(text) and not sku_ids else []
    vendor_skus = [s for s, v in lex.sku_vendors.items() if v in priced_vendors]  # "Huawei parts 20% dearer"
    priced = bool(_PRICE.search(text) and (sku_ids or vendor_skus) and price_change(t.masked, text) is not None)
    if _WHATIF.search(text) or _REVOKE.search(text) or hedge or priced:  # "H20便宜三成的话呢？" names a scenario too
        spec = WhatIfSpec(hedge=hedge)
        per_part = _scenario_per_part(skus, t.masked, text) if len(sku_ids) >= 2 and not hedge else None
        if per_part is not None:  # "the H20 licence is revoked and the 910C gets 10% dearer": each part its own
            spec.remove_skus, spec.price_changes = per_part
        elif _REVOKE.search(text) and sku_ids and not hedge:
            spec.remove_skus = sku_ids
        elif _REVOKE.search(text) and not sku_ids and not hedge and vendors_named(t.masked):
            # "what if licences for all NVIDIA parts are revoked?": every part of that vendor leaves the plan
            req["exclude_vendors"] = list(dict.fromkeys([*(req.get("exclude_vendors") or []),
                                                         *vendors_named(t.masked)]))
        change = price_change(t.masked, text)
        if per_part is not None:
            pass
        elif _PRICE.search(text) and sku_ids and change is not None:
            spec.price_changes = {sku_ids[0]: change}
        elif _PRICE.search(text) and vendor_skus and change is not None:
            spec.price_changes = dict.fromkeys(vendor_skus, change)
        whatif = spec
    wants = {
        "compliance": bool(_COMPLIANCE.search(text)),
        "whatif": bool(_WHATIF.search(text)),
        "revoke": bool(_REVOKE.search(text)),
        "compare": bool(_COMPARE.search(text)),
        "estimate": bool(_ESTIMATE.search(text)),
        "search": bool(_SEARCH.search(low)),
        "sources": bool(_ASK_SOURCES.search(text)),
        "advice": bool(_ADVICE.search(text)),
        "which_parts": bool(_WHICH_PARTS.search(text)),
        "hedge": hedge,
    }
    stack = _STACK.search(text)
    if stack:  # "we already run everything on CUDA": moving to another ecosystem costs porting and a ramp
        req["current_stack"] = _STACK_NAMES[next(g for g in stack.groups() if g).lower()]
    if _ACCEPT_RISK.search(text) and not _REFUSE_RISK.search(text):
        req["accept_license_risk"] = True  # "what if we accept the licence risk?", "接受许可证风险呢？"
    delta = price_change(t.masked, text) if _PRICE.search(text) else None
    other_currency = nums.other_currency or conversion_to_unpriced_currency(t.masked)
    return Facts(lang, text, FlatRequest.model_validate(req), skus, wants, whatif, other_currency, delta, unknown)


_CLAUSE_BREAK = re.compile(r"(?:[,;，；。]|\band\b|\bwhile\b|\bplus\b|\bbut\b|并且|而且|同时|以及|另外|但是?)", re.I)


def _scenario_per_part(skus: list[Any], masked: str, text: str) -> tuple[list[str], dict[str, float]] | None:
    """Each named part's own scenario when a message names several.

    "The H20 licence is revoked and the 910C gets 10% dearer", "H20降价20%，910B涨价10%": a part takes the scenario
    of its clause, else of the next clause that names one ("the H20 and the H100 are no longer available"). None
    when no clause names a scenario.
    """
    bounds = sorted({0, len(text), *(m.end() for m in _CLAUSE_BREAK.finditer(text))})
    clauses = []
    for a, b in zip(bounds, bounds[1:], strict=False):
        seg, seg_masked = text[a:b], masked[a:b]
        change = price_change(seg_masked, seg) if _PRICE.search(seg) else None
        clauses.append((a, b, bool(_REVOKE.search(seg)), change))
    if not any(revoke or change is not None for _, _, revoke, change in clauses):
        return None
    removed: list[str] = []
    prices: dict[str, float] = {}
    for part in skus:
        at = next((i for i, (a, b, _, _) in enumerate(clauses) if a <= part.start < b), 0)
        order = [*range(at, len(clauses)), *range(at - 1, -1, -1)]
        scenario = next((clauses[i] for i in order if clauses[i][2] or clauses[i][3] is not None), None)
        if scenario is None:
            continue
        if scenario[3] is not None:
            prices[part.sku] = scenario[3]
        elif part.sku not in removed:
            removed.append(part.sku)
    return removed, prices


def price_change(masked: str, text: str) -> float | None:
    """The relative price change a message names: ``+0.1`` for "10 % more", ``-0.3`` for "便宜三成" or "打七折"."""
    zhe = _PRICE_ZHE.search(masked)
    if zhe:
        digits = "".join(str(int(plain_number(g) or 0)) for g in (zhe.group("n"), zhe.group("m")) if g)
        paid = float(f"0.{digits}") if digits else None
        return None if paid is None or paid <= 0 else round(-(1.0 - paid), 6)
    pct = _PERCENT.search(masked)
    frac: float | None = None
    if pct:
        value = float(pct.group("num")) if pct.group("num") else plain_number(pct.group("cn") or "")
        frac = None if value is None else value / 100.0
    else:
        tenths = _PRICE_TENTHS.search(masked)
        value = plain_number(tenths.group("n")) if tenths else None
        frac = None if value is None else value / 10.0
    if frac is None:
        return None
    return -frac if _DOWN.search(text) and not _UP.search(text) else frac


def decide_intent(f: Facts) -> Intent:
    """The intent of a stand-alone message from what it states and asks."""
    r = f.request
    skus = r.skus or []
    workload_like = r.workload is not None or r.params is not None or r.model is not None
    plan_like = workload_like and (r.budget is not None or r.deadline_days is not None or r.tokens is not None
                                   or r.requests_per_s is not None)
    if f.wants["sources"]:  # "what does the corpus say about the H20 licence?": the passages, not a verdict
        return "search"
    if f.wants["which_parts"] and f.wants["compliance"] and not skus and not workload_like:
        return "compliance"  # "which accelerators can a Chinese buyer still buy?": every part's verdict
    if f.wants["whatif"] and (f.wants["revoke"] or (f.whatif and f.whatif.price_changes)):
        return "whatif"
    if f.wants["hedge"] and (workload_like or f.wants["revoke"]):
        return "whatif"
    if f.wants["compare"] and len(skus) + len(f.unknown_parts) >= 2:
        return "compare"  # "V100 vs H100" is a comparison even when the catalog lacks one side
    if f.wants["estimate"] and skus and workload_like:
        return "estimate"
    if skus and f.wants["compliance"] and not plan_like:
        return "compliance"
    if f.wants["whatif"] and workload_like:
        return "whatif"
    if workload_like or r.budget is not None:
        return "recommend"
    if f.wants["advice"] and not skus:
        return "recommend"  # "which GPU should I buy?": a plan without its workload, so a clarifying question
    if skus and (r.buyer_country or r.date):
        return "compliance"
    if len(skus) >= 2:
        return "compare"
    if f.wants["compliance"] and not f.wants["search"]:
        return "compliance"
    return "search"


def finish(f: Facts, *, today: dt.date, lex: Lexicon, intent: Intent | None = None) -> ParsedQuestion:
    """Decide the intent, apply the stated defaults and list what is missing."""
    intent = intent or decide_intent(f)
    stated = list(f.request.flat().keys())
    req, assumptions, missing = apply_defaults(f.request, intent, f.language, today)
    if f.wants["advice"] and intent == "recommend" and not stated:
        missing = [*missing, "buyer_country"]
    if f.other_currency and ("budget" not in stated or conversion_to_unpriced_currency(f.text)):
        missing = [*missing, "currency"]  # "€40M" is never costed as $40M or ¥40M  # nothing known yet: ask for all a plan needs, the buyer's country too
    if f.unknown_parts and not req.skus and intent in ("compliance", "compare", "estimate") \
            and "skus" not in missing:
        missing = [*missing, "skus"]  # "How fast would 64 MI355X train it?": the part is not one the catalog has
    every_part = intent == "compliance" and not req.skus and f.wants["which_parts"] and not f.unknown_parts
    if every_part:
        missing = [m for m in missing if m != "skus"]
        named = [v for v in vendors_named(f.text) if v in lex.vendors]
        if named and not req.exclude_vendors:  # "which NVIDIA chips can a Chinese buyer buy?": that vendor's parts
            req = req.model_copy(update={"exclude_vendors": sorted(v for v in lex.vendors if v not in named)})
    parsed = ParsedQuestion(intent=intent, language=f.language, request=req, stated=stated, assumptions=assumptions,
                            missing=missing, whatif=f.whatif if intent == "whatif" else None,
                            unknown_parts=f.unknown_parts, every_part=every_part)
    if missing:
        parsed.base_intent = intent
        parsed.intent = "clarify"
    return parsed


COMPARE_DEADLINE_DAYS = 90.0
"""Deadline each side of a training comparison is sized for when the question names none (the estimate's default)."""

DEFAULT_REASON_ZH = {
    "the question is in English": "问题用英文提出",
    "the buyer is outside China and asks in English": "买方在中国境外，问题用英文提出",
    "the buyer is in China": "买方在中国",
    "each part is sized to finish within the same deadline": "每种芯片按同一期限配置数量",
    "today's date": "今天的日期",
    "the question is in Chinese": "问题用中文提出",
    "the budget is in CNY": "预算以人民币计",
    "the budget is in USD": "预算以美元计",
    "the catalog's home market": "目录的默认市场",
    "no workload named; a model size suggests training": "未说明负载类型；给出了模型规模，按训练处理",
    f"{TOKENS_PER_PARAM:g} tokens per parameter (compute-optimal, Hoffmann et al. 2022)":
        f"每个参数 {TOKENS_PER_PARAM:g} 个 token（计算最优，Hoffmann 等，2022）",
}
"""The reasons of the defaults, as a Chinese answer states them."""


def apply_defaults(req: FlatRequest, intent: Intent, lang: Lang, today: dt.date
                   ) -> tuple[FlatRequest, list[Assumption], list[str]]:
    """Fill the reasonable defaults (stated) and list the required values still missing."""
    data = req.model_dump(exclude_none=True)
    notes: list[Assumption] = []
    missing: list[str] = []

    def default(name: str, value: Any, reason: str) -> None:
        if data.get(name) is None:
            data[name] = value
            notes.append(Assumption(field=name, value=value, reason=DEFAULT_REASON_ZH.get(reason, reason)
                                    if lang == "zh" else reason))

    if intent in ("recommend", "whatif", "compliance", "estimate", "compare"):
        default("date", today, "today's date")
        if data.get("currency") == "CNY" or lang == "zh":
            default("buyer_country", "CN", "the question is in Chinese" if lang == "zh" else "the budget is in CNY")
        else:
            default("buyer_country", "US" if data.get("currency") == "USD" else "CN",
                    "the budget is in USD" if data.get("currency") == "USD" else "the catalog's home market")
    if intent in ("recommend", "whatif", "estimate", "compare"):
        if data.get("budget") is not None:
            default("currency", "CNY" if lang == "zh" else "USD",
                    "the question is in Chinese" if lang == "zh" else "the question is in English")
        elif lang == "zh":
            default("currency", "CNY", "the question is in Chinese")
        elif data.get("buyer_country") not in (None, "CN"):
            default("currency", "USD", "the buyer is outside China and asks in English")
        else:
            default("currency", "CNY", "the buyer is in China")
    if intent == "compare" and data.get("workload") in ("training", "fine_tune", None) and data.get("params"):
        if data.get("workload") is None and data.get("requests_per_s") is None:  # each side gets its cost and time
            default("workload", "training", "no workload named; a model size suggests training")
        if data.get("workload", "training") == "training":
            default("tokens", TOKENS_PER_PARAM * float(data["params"]),
                    f"{TOKENS_PER_PARAM:g} tokens per parameter (compute-optimal, Hoffmann et al. 2022)")
        if not data.get("count"):
            default("deadline_days", COMPARE_DEADLINE_DAYS, "each part is sized to finish within the same deadline")
    if intent in ("recommend", "whatif", "estimate"):
        workload = data.get("workload")
        if workload is None and data.get("params") is not None:
            default("workload", "training", "no workload named; a model size suggests training")
            workload = data["workload"]
        if data.get("params") is None:
            missing.append("params")
        if workload is None:
            missing.append("workload")
        if workload == "training" and data.get("params") is not None:
            default("tokens", TOKENS_PER_PARAM * float(data["params"]),
                    f"{TOKENS_PER_PARAM:g} tokens per parameter (compute-optimal, Hoffmann et al. 2022)")
        if workload == "fine_tune" and data.get("tokens") is None:
            missing.append("tokens")
        if workload == "inference" and data.get("requests_per_s") is None \
                and not (intent == "estimate" and data.get("count")):  # a given count is sized without a rate
            missing.append("requests_per_s")
        if intent in ("recommend", "whatif") and workload != "inference" and data.get("budget") is None \
                and data.get("deadline_days") is None:
            missing.append("budget")
    if intent == "compliance" and not data.get("skus"):
        missing.append("skus")
    if intent == "compare" and len(data.get("skus") or []) < 2:
        missing.append("skus")
    return FlatRequest.model_validate(data), notes, missing

