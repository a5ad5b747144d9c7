"""The model proposes a typed request (constrained JSON); the deterministic parse and the question text decide.

:class:`Extraction` is the small schema the model fills through structured output (a JSON-schema response
format, so even a tiny model's output parses). :func:`merge` keeps every field the deterministic parser read from
the question (it wins on any conflict, which is recorded) and takes a model value only for a field the parser
left unknown or merely assumed, and only when the question itself supports it: a number must be written in the
question, a part must be named in it, a date must appear in it, a currency must be signalled by a symbol or word.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from service.agent.numbers import find_numbers
from service.agent.parse import Lexicon, ParsedQuestion

_CURRENCY_WORDS = {"CNY": re.compile(r"¥|￥|元|人民币|\b(?:yuan|rmb|cny)\b", re.I),
                   "USD": re.compile(r"\$|美元|美金|\b(?:usd|dollars?)\b", re.I)}


class Extraction(BaseModel):
    """What the model reads from a purchase question (every field optional; leave out what is not written)."""

    model_config = ConfigDict(extra="ignore")

    workload: Literal["training", "fine_tune", "inference"] | None = Field(
        None, description="training, fine_tune or inference")
    params_billion: float | None = Field(None, description="Model size in billions of parameters, e.g. 70")
    tokens_billion: float | None = Field(None, description="Training tokens in billions, e.g. 1400")
    budget: float | None = Field(None, description="Budget as a plain amount, e.g. 50000000")
    currency: Literal["CNY", "USD"] | None = None
    deadline_days: float | None = Field(None, description="Deadline in days")
    buyer_country: str | None = Field(None, description="ISO 3166-1 alpha-2 code of the buyer's country, e.g. CN")
    date: str | None = Field(None, description="Purchase date YYYY-MM-DD if written")
    parts: list[str] | None = Field(None, description="Accelerator names written in the question, e.g. H20")
    requests_per_s: float | None = Field(None, description="Serving load in requests per second")


class ExtractionReport(BaseModel):
    """How the model's proposal was used: what it said, what was taken, what was refused and why."""

    proposed: dict[str, Any] = Field(default_factory=dict)
    accepted: dict[str, Any] = Field(default_factory=dict)
    rejected: dict[str, str] = Field(default_factory=dict)
    error: str | None = None


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)


def _written(value: float, text: str) -> bool:
    """True when ``value`` is a quantity written in ``text`` (``50M``, ``5000万`` and ``50,000,000`` alike)."""
    return any(_close(n.value, value) for n in find_numbers(text))


def _part(name: str, text: str, lex: Lexicon) -> str | None:
    aliases = {k.lower(): v for k, v in lex.sku_aliases.items()}
    sku = aliases.get(name.strip().lower())
    if sku is None:
        return None
    spelled = [k for k, v in lex.sku_aliases.items() if v == sku]
    low = text.lower()
    return sku if any(re.search(rf"(?<![a-z0-9]){re.escape(k.lower())}(?![a-z0-9])", low) for k in spelled) else None


def _check(key: str, value: Any, text: str, lex: Lexicon) -> tuple[str, Any] | str:
    """(request field, value) when the question supports the model's value, else the reason it does not."""
    if key in ("params_billion", "tokens_billion"):
        field = key.removesuffix("_billion")
        return (field, value * 1e9) if value > 0 and _written(value * 1e9, text) else "not written in the question"
    if key in ("budget", "deadline_days", "requests_per_s"):
        return (key, float(value)) if value > 0 and _written(float(value), text) else "not written in the question"
    if key == "currency":
        return (key, value) if _CURRENCY_WORDS[value].search(text) else "no currency sign or word in the question"
    if key == "buyer_country":
        code = str(value).upper()
        name = lex.countries.get(code)
        if name is None:
            return "unknown country code"
        return (key, code) if re.search(rf"\b(?:{re.escape(code)}|{re.escape(name)})\b", text, re.I) \
            else "country not named in the question"
    if key == "date":
        try:
            day = dt.date.fromisoformat(str(value))
        except ValueError:
            return "not a date"
        return (key, day) if day.isoformat() in text else "date not written in the question"
    if key == "parts":
        found = [_part(str(p), text, lex) for p in value]
        skus = list(dict.fromkeys(s for s in found if s))
        return ("skus", skus) if skus and len(skus) == len(found) else "part not named in the question"
    if key == "workload":
        return (key, value)
    return "not a request field"


def merge(parsed: ParsedQuestion, extraction: Extraction, text: str, lex: Lexicon
          ) -> tuple[ParsedQuestion, ExtractionReport]:
    """The deterministic parse, completed by the model's proposal where the question supports it.

    ``text`` is the question (with earlier user messages of the conversation). A field the parser read from the
    question (``parsed.stated``) is never replaced; one it left unknown or only assumed is filled when
    :func:`_check` accepts the model's value.
    """
    proposed = extraction.model_dump(exclude_none=True)
    report = ExtractionReport(proposed=proposed)
    flat = parsed.request.flat()
    updates: dict[str, Any] = {}
    for key, value in proposed.items():
        outcome = _check(key, value, text, lex)
        if isinstance(outcome, str):
            report.rejected[key] = outcome
            continue
        field, val = outcome
        workload = updates.get("workload") or flat.get("workload")
        if (field == "requests_per_s" and workload not in (None, "inference")) or (
                field == "tokens" and workload == "inference"):  # a figure of another kind of workload
            report.rejected[key] = f"does not apply to {workload}"
            continue
        if field in parsed.stated and field in flat:
            same = flat[field] == (val.isoformat() if isinstance(val, dt.date) else val) or (
                isinstance(val, float) and isinstance(flat[field], int | float) and _close(flat[field], val))
            if not same:
                report.rejected[key] = f"the parser read {flat[field]!r} from the question"
            continue
        if field == "skus" and flat.get("skus"):
            continue  # the parser's list of parts stands
        updates[field] = val
        report.accepted[field] = val.isoformat() if isinstance(val, dt.date) else val
    if not updates:
        return parsed, report
    request = parsed.request.model_copy(update=updates)
    missing = [m for m in parsed.missing if m not in updates]
    intent = parsed.intent
    if intent == "clarify" and not missing and parsed.base_intent is not None:
        intent = parsed.base_intent
    merged = parsed.model_copy(update={
        "request": request, "missing": missing, "intent": intent,
        "assumptions": [a for a in parsed.assumptions if a.field not in updates],
        "stated": [*parsed.stated, *[f for f in updates if f not in parsed.stated]]})
    return merged, report
