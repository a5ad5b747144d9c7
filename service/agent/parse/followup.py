"""Follow-up editing: a message that changes the previous request ("what if the budget doubles?", "换成美元")."""

from __future__ import annotations

import datetime as dt
import re

from service.agent.parse.intent import Facts, apply_defaults, extract, finish
from service.agent.parse.model import Change, FlatRequest, Intent, Lexicon, ParsedQuestion, WhatIfSpec
from service.agent.parse.units import relative_deadline, vendors_only
from service.agent.parse.vocab import _ALTERNATIVES, _WHY_NOT

# --------------------------------------------------------------------------------------------------
# follow-ups

_FACTOR_WORDS = (
    (re.compile(r"(doubl\w*|twice|2x|two times|翻倍|翻一番|加倍|增加一倍|两倍|x2\b|×2)", re.I), 2.0),
    (re.compile(r"(tripl\w*|three times|3x|三倍|翻两番)", re.I), 3.0),
    (re.compile(r"(halv\w*|half|cut in half|减半|一半|砍半)", re.I), 0.5),
)
_BY_PERCENT = re.compile(r"(?P<dir>increas\w*|rais\w*|grow\w*|up|more|增加|提高|多|cut|reduc\w*|decreas\w*|down|less|"
                         r"减少|降低|少|削减)\s*(?:(?:the|our|my|its)\s+\w+\s+)?(?:by\s*|了)?(?P<num>\d+(?:\.\d+)?)\s*(?:%|％|percent)", re.I)


_FRACTIONS = {"half": 1 / 2, "third": 1 / 3, "quarter": 1 / 4, "fifth": 1 / 5, "tenth": 1 / 10,
              "二分之一": 1 / 2, "三分之一": 1 / 3, "四分之一": 1 / 4, "五分之一": 1 / 5, "十分之一": 1 / 10}
_BY_FRACTION = re.compile(r"(?P<dir>increas\w*|rais\w*|grow\w*|up|more|增加|提高|多|cut|reduc\w*|decreas\w*|down|"
                          r"less|减少|降低|少|削减|砍)\s*(?:(?:the|our|my|its)\s+\w+\s+)?(?:by\s*)?(?:a\s+|one\s+|了)?"
                          r"(?P<frac>third|quarter|fifth|tenth|二分之一|三分之一|四分之一|五分之一|十分之一)", re.I)


def _relative(text: str, word: re.Pattern[str]) -> float | None:
    if not word.search(text):
        return None
    for pattern, factor in _FACTOR_WORDS:
        if pattern.search(text):
            return factor
    m = _BY_PERCENT.search(text)
    frac = float(m.group("num")) / 100.0 if m else None
    if m is None:  # "cut by a third", "增加四分之一"
        m = _BY_FRACTION.search(text)
        frac = _FRACTIONS[m.group("frac").lower()] if m else None
    if m is None or frac is None:
        return None
    return 1 - frac if re.match(r"(cut|reduc|decreas|down|less|减|降|少|削|砍)", m.group("dir"), re.I) else 1 + frac


_BUDGET_REF = re.compile(r"(budget|预算|money|资金|经费|钱)", re.I)
_DEADLINE_REF = re.compile(r"(deadline|time|期限|工期|时间|交付)", re.I)
_RELATIVE_FIELDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("budget", _BUDGET_REF),
    ("deadline_days", _DEADLINE_REF),
    ("requests_per_s", re.compile(r"(requests?|qps|rps|traffic|load|请求|流量|并发)", re.I)),
    ("tokens", re.compile(r"(tokens?|data(?:set)?|数据|语料)", re.I)),
    ("params", re.compile(r"(model size|bigger model|larger model|parameters?|params|模型规模|参数量?|模型大小)", re.I)),
)
_COUNT_EDIT = re.compile(r"(?:with|using|use|on|用|换成|改成|改用|如果是)\s*(\d[\d,]*)\s*(?:张|块|台|个|cards?|gpus?|"
                         r"accelerators?|chips?|npus?|instead|\?|？|呢|$)", re.I)
_ANY_CHIP = re.compile(r"(any (?:chip|vendor|accelerator)|all vendors|no restriction|不限|任何芯片|都可以|放开)", re.I)


def is_followup(f: Facts) -> bool:
    """A message that edits the previous request rather than asking a new question."""
    r = f.request
    new_question = (r.workload is not None and (r.params is not None or r.model is not None)) or (
        # a compliance question that names its own buyer stands alone; "…for them?" asks about the session's buyer
        f.wants["compliance"] and bool(r.skus) and bool(r.buyer_country or r.date) and not f.wants["whatif"]
        and not f.wants["hedge"])
    return not new_question


def apply_followup(prev: ParsedQuestion, message: str, lex: Lexicon, *, today: dt.date | None = None
                   ) -> ParsedQuestion:
    """Edit the previous request with a follow-up ("what if the budget doubles?", "只用国产芯片呢？").

    Stated fields replace the old ones; relative edits (double, halve, +20%) scale them; a currency switch
    converts the budget at the catalog's exchange rate. Intents other than follow-ups parse afresh.
    """
    today = today or dt.date.today()
    f = extract(message, lex, today=today)
    if not is_followup(f):
        added = _added_workload(prev, f)
        return added if added is not None else finish(f, today=today, lex=lex)
    base = prev.request.model_dump(exclude_none=True)
    prev_intent = prev.base_intent or prev.intent
    if prev_intent == "clarify":
        prev_intent = "recommend"
    if prev_intent == "compliance" and "skus" not in prev.stated and base.get("params") is not None:
        base.pop("skus", None)  # the parts a compliance follow-up asked about were not a restriction of the plan
        prev_intent = "recommend"
    _refer_back(prev, f)
    if _WHY_NOT.search(f.text) and f.request.skus and prev.intent in ("recommend", "whatif") \
            and set(f.request.model_dump(exclude_none=True)) == {"skus"}:
        # "why not the H20?" asks about the plan just given: the same request, with the reasons for those parts
        return prev.model_copy(update={"why_not": list(f.request.skus), "changes": [], "language": f.language})
    scenario = bool(f.whatif and (f.whatif.remove_skus or f.whatif.price_changes or f.whatif.hedge))
    if _ALTERNATIVES.search(f.text) and prev.intent in ("recommend", "whatif") and not scenario \
            and not f.request.model_dump(exclude_none=True):
        # "what's the second best option?": the same request, with the solver's runner-up plans
        return prev.model_copy(update={"show_alternatives": True, "why_not": [], "changes": [],
                                       "language": f.language})
    # "and the H200?" right after a compliance answer asks the same question about another part
    asked_compliance = prev.intent == "compliance" or (prev.intent == "clarify" and prev.base_intent == "compliance")
    bare_parts = asked_compliance and set(f.request.model_dump(exclude_none=True)) == {"skus"} \
        and not any(f.wants[w] for w in ("whatif", "compare", "estimate", "hedge"))
    if (f.wants["compliance"] or bare_parts) and f.request.skus and not scenario and not f.wants["whatif"] \
            and not (f.wants["compare"] and len(f.request.skus) >= 2):
        return _compliance_followup(prev, f, base, today)
    # assumptions of the previous turn are re-derived, so only what was stated carries over as stated
    new = dict(base)
    stated = f.request.model_dump(exclude_none=True)
    stated.pop("extra_workloads", None)
    if scenario and prev.intent != "compliance":
        stated.pop("skus", None)  # "what if the H20 licence is revoked?" names the scenario, not a restriction
    for k, v in stated.items():
        if k in ("skus",) and prev.intent in ("compliance",) and not f.wants["compliance"] and not f.wants["compare"]:
            new[k] = v
        elif k == "exclude_vendors" and vendors_only(f.text):
            new[k] = v  # "only Huawei and Cambricon": the new set of vendors replaces the old restriction
        elif k == "exclude_vendors":
            new[k] = list(dict.fromkeys([*(base.get(k) or []), *v]))
        else:
            new[k] = v
    text = f.text
    more = relative_deadline(text)
    if more is not None and base.get("deadline_days"):  # "2 more months", "提前两周": from the previous deadline
        new["deadline_days"] = max(1.0, float(base["deadline_days"]) + more)
    for name, ref in _RELATIVE_FIELDS:  # "double the budget", "half the time", "2x the requests", "数据翻倍"
        factor = _relative(text, ref)
        if factor is not None and base.get(name) and name not in stated:
            new[name] = float(f"{base[name] * factor:.12g}")  # ¥30M cut by a third is ¥20M, not ¥20,000,000.000000004
    if "currency" in stated and base.get("currency") and stated["currency"] != base["currency"] \
            and base.get("budget") and "budget" not in stated and lex.cny_per_usd:
        rate = lex.cny_per_usd
        new["budget"] = base["budget"] / rate if stated["currency"] == "USD" else base["budget"] * rate
    if prev_intent == "estimate" and base.get("count") and "count" not in stated:  # "with 1024 instead?", "用1024张呢"
        m = _COUNT_EDIT.search(text)
        if m:
            new["count"] = int(m.group(1).replace(",", ""))
    if _ANY_CHIP.search(text):
        new.pop("exclude_vendors", None)
        new.pop("min_domestic_share", None)
    if re.search(r"(commercial|private|民营|私营|商业)", text, re.I) and "buyer_kind" not in stated:
        new["buyer_kind"] = "commercial"
    changes = [Change(field=k, old=base.get(k), new=new.get(k))
               for k in sorted(set(base) | set(new)) if base.get(k) != new.get(k)]
    if f.unknown_parts and not f.request.skus and not changes and not scenario:
        # "and the MI355X?": a part the catalog does not have changes nothing; say so rather than repeat the answer
        return ParsedQuestion(intent="clarify", base_intent=prev_intent, language=f.language, request=prev.request,
                              stated=prev.stated, assumptions=prev.assumptions, missing=["skus"],
                              unknown_parts=f.unknown_parts)
    req = FlatRequest.model_validate(new)
    intent: Intent = prev_intent
    if prev_intent in ("recommend", "whatif") and (changes or scenario):
        intent = "whatif"
    stated_fields = sorted(set(prev.stated) | {c.field for c in changes})
    kept = _carried(prev, new, stated_fields)
    req_clean, assumptions, missing = apply_defaults(
        FlatRequest.model_validate({k: v for k, v in new.items() if k in stated_fields or k in kept}), intent,
        f.language, today)
    assumptions = [a for a in prev.assumptions if a.field in kept] + assumptions
    if f.other_currency and "budget" not in stated:  # "in Japanese yen?", "what if it were €20M?": not converted
        missing = [*missing, "currency"]
    # the conversation keeps the previous turn's defaults unless this turn changed them
    merged = req_clean.model_dump(exclude_none=True)
    merged.update({k: v for k, v in req.model_dump(exclude_none=True).items() if k not in merged})
    parsed = ParsedQuestion(intent=intent, language=f.language, request=FlatRequest.model_validate(merged),
                            stated=stated_fields, assumptions=assumptions, missing=missing, changes=changes,
                            whatif=f.whatif if scenario else None)
    if missing:
        parsed.base_intent = intent
        parsed.intent = "clarify"
    elif prev_intent in ("recommend", "whatif") and not changes and not scenario and f.language == prev.language:
        parsed.unchanged = True  # "hmm, ok": say that nothing changed rather than repeat the plan as if it had
    return parsed



_ALSO = re.compile(r"(\balso\b|\bas well\b|\bin addition\b|\badditionally\b|\bon top of (?:that|this)\b|"
                   r"另外|同时还|还要|还需要|还得|再加|此外|也要)", re.I)
_WORKLOAD_FIELDS = ("workload", "params", "active_params", "model", "tokens", "deadline_days", "requests_per_s",
                    "ttft_s", "tpot_s", "prompt_tokens", "output_tokens")


def _added_workload(prev: ParsedQuestion, f: Facts) -> ParsedQuestion | None:
    """The previous plan's request with one more workload (same buyer, budget and policy).

    "…and if we also need to fine-tune a 7B model on 5B tokens within 10 days?"; None when the message is not such an
    addition.
    """
    r = f.request
    if not _ALSO.search(f.text) or prev.intent not in ("recommend", "whatif") or prev.request.params is None:
        return None
    if r.workload is None or r.params is None or (r.workload == "inference" and r.requests_per_s is None) \
            or (r.workload == "fine_tune" and r.tokens is None):
        return None
    if r.budget is not None or r.buyer_country is not None:
        return None  # "Also: train a 13B model …, budget $2M, buyer in Japan" is a question of its own
    base = prev.request.model_dump(exclude_none=True)
    extra = {k: v for k, v in r.model_dump(exclude_none=True).items() if k in _WORKLOAD_FIELDS}
    new = {**base, "extra_workloads": [*(base.get("extra_workloads") or []), extra]}
    change = Change(field="extra_workloads", old=base.get("extra_workloads"), new=new["extra_workloads"])
    return ParsedQuestion(intent="whatif", language=f.language, request=FlatRequest.model_validate(new),
                          stated=sorted({*prev.stated, "extra_workloads"}), assumptions=prev.assumptions,
                          changes=[change])


_CARRIED = ("buyer_country", "date", "buyer_kind", "headquarters_country", "buyer_name", "currency")
"""Defaults of the conversation's buyer that a follow-up keeps unless it changes them."""


def _carried(prev: ParsedQuestion, new: dict[str, object], stated: list[str]) -> set[str]:
    """Fields the previous turn defaulted that this turn keeps as they were (buyer, date, currency of a budget)."""
    out = set()
    for name in _CARRIED:
        if name in stated or new.get(name) is None or prev.request.model_dump().get(name) != new.get(name):
            continue
        if name == "currency" and new.get("budget") is None:
            continue  # a currency without a budget follows the buyer, re-derived below
        out.add(name)
    return out


def _compliance_followup(prev: ParsedQuestion, f: Facts, base: dict[str, object], today: dt.date
                         ) -> ParsedQuestion:
    """"Is the H200 allowed for them?": a compliance check of the named parts for the conversation's buyer.

    The buyer (country, kind, headquarters) and the date come from the conversation unless this message states
    them; the plan's other fields stay in the request so that a later follow-up can edit the plan again.
    """
    stated = f.request.model_dump(exclude_none=True)
    new = dict(base)
    for k in ("skus", "buyer_country", "buyer_kind", "headquarters_country", "buyer_name", "date"):
        if k in stated:
            new[k] = stated[k]
    changes = [Change(field=k, old=base.get(k), new=new.get(k)) for k in ("buyer_country", "buyer_kind",
                                                                          "headquarters_country", "date")
               if base.get(k) != new.get(k)]
    stated_fields = sorted((set(prev.stated) - {"skus"}) | {c.field for c in changes})
    kept = {k for k in ("buyer_country", "date", "buyer_kind", "headquarters_country", "buyer_name")
            if new.get(k) is not None}
    req, assumptions, missing = apply_defaults(
        FlatRequest.model_validate({k: v for k, v in new.items() if k in kept or k == "skus"}), "compliance",
        f.language, today)
    merged = {**new, **req.model_dump(exclude_none=True)}
    assumptions = [a for a in prev.assumptions if a.field in kept and a.field not in stated] + assumptions
    return ParsedQuestion(intent="compliance", language=f.language, request=FlatRequest.model_validate(merged),
                          stated=stated_fields, assumptions=assumptions, missing=missing, changes=changes)


_IT = re.compile(r"\b(?:it|its|that (?:part|chip|card|one)|the same (?:part|chip|card))\b|它|该芯片|这款|那款|同一款", re.I)


def _refer_back(prev: ParsedQuestion, f: Facts) -> None:
    """"What if it were 30 % cheaper instead?": a scenario without its part is about the part the last one named."""
    if f.request.skus or prev.whatif is None:
        return
    named = list(dict.fromkeys([*prev.whatif.remove_skus, *prev.whatif.price_changes]))
    if len(named) != 1 or not (_IT.search(f.text) or f.wants["whatif"]):
        return
    spec = f.whatif or WhatIfSpec()
    if f.price_delta is not None and not spec.price_changes:
        spec.price_changes = {named[0]: f.price_delta}
    elif f.wants["revoke"] and not spec.remove_skus:
        spec.remove_skus = named
    else:
        return
    f.whatif = spec
