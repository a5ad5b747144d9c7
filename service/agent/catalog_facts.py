"""Catalog facts in a chat answer: a part's sourced price, memory, bandwidth, power and TPP.

"What's the price of an H200?", "100张H200要多少钱？": the figures come from the catalog tool of this turn, each with
its date and evidence grade; an unsourced figure stays unknown, and a count is priced at list price for the
accelerators alone (a plan adds network, hosting and power, so the answer says so).
"""

from __future__ import annotations

import math
import re
from typing import Any

from service.agent.compose import Composer, money, rate_between
from service.agent.tools import Tools
from service.presenters import numbers

ASKS_FACTS = re.compile(r"(\bprices?\b|\bpriced\b|\bcosts?\b|how much|多少钱|价格|报价|售价|单价|\bmemory\b|显存|"
                        r"bandwidth|带宽|\btdp\b|power draw|功耗|\bspecs?\b|specifications?|规格|参数)", re.I)
"""A question that asks for a part's figures rather than a verdict or a plan."""

MAX_PARTS = 3


def asks_facts(question: str) -> bool:
    """Whether the question asks for catalog figures (price, memory, bandwidth, power, specs)."""
    return bool(ASKS_FACTS.search(question))


def _value(field: Any) -> float | None:
    return field.get("value") if isinstance(field, dict) else None


def _price(entry: dict[str, Any]) -> tuple[dict[str, Any], int] | None:
    """The part's sourced price and how many accelerators it buys (a node's price covers the node's parts)."""
    acc = entry["accelerator"]
    if acc.get("price"):
        return acc["price"], 1
    for node in entry.get("nodes") or []:
        if node.get("price") and node.get("accelerators_per_node"):
            return node["price"], int(node["accelerators_per_node"])
    return None


def _figures(entry: dict[str, Any]) -> list[str]:
    """Memory, bandwidth, the headline 16-bit peak (BF16, else FP16, as the catalog table shows it), TDP and TPP."""
    acc = entry["accelerator"]
    dense = acc.get("dense") or {}
    precision = "BF16" if _value(dense.get("bf16")) is not None else "FP16"
    memory, bandwidth = _value(acc.get("memory_gb")), _value(acc.get("memory_bandwidth_tbps"))
    peak, tdp = _value(dense.get(precision.lower())), _value(acc.get("tdp_w"))
    tpp = (entry.get("computed") or {}).get("tpp")
    out = [f"{memory:g} GB {acc.get('memory_type') or ''}".strip() if memory is not None else None,
           f"{bandwidth:g} TB/s" if bandwidth is not None else None,
           f"{precision} {peak:,.1f} TFLOPS" if peak is not None else None,
           f"{tdp:,.0f} W" if tdp is not None else None,
           f"TPP {tpp:,.0f}" if tpp is not None else None]
    return [x for x in out if x is not None]


def add_facts(c: Composer, tools: Tools, skus: list[str], count: int | None = None, currency: str | None = None
              ) -> None:
    """One price line and one figures line per named part (at most three), from ``catalog_show``.

    Prices are shown in ``currency`` (the reader's) at the catalog's exchange rate, with the sourced amount beside.
    """
    rate = tools.backend.lexicon().cny_per_usd
    for sku in skus[:MAX_PARTS]:
        entry = tools.catalog_show(sku)
        acc = entry["accelerator"]
        priced = _price(entry)
        if priced is None:
            c.add("facts_no_price", name=acc["name"])
        else:
            price, per = priced
            factor = rate_between(price["currency"], currency, rate)
            cur: str = currency if factor and currency else price["currency"]
            k = factor or 1.0
            each = money(k * price["base"] / per, cur, c.lang)
            low, high = money(k * price["low"] / per, cur, c.lang), money(k * price["high"] / per, cur, c.lang)
            sourced = money(price["base"] / per, price["currency"], c.lang)
            shown = f"{each} ({sourced})" if factor and c.lang == "en" else f"{each}（{sourced}）" if factor else each
            spread = c.t("facts_range", low=low, high=high) if low != high else ""  # one sourced figure: no range
            c.add("facts_price", name=acc["name"], price=shown, range=spread, date=price.get("date") or "—",
                  grade=price.get("grade") or "—", sources=", ".join(price.get("source") or []))
            c.derived.extend([each, low, high, sourced])
            if count:
                units = math.ceil(count / per)  # a node-priced part is bought in whole nodes
                total = money(k * units * price["base"], cur, c.lang)
                c.add("facts_count", count=numbers.count(count), name=acc["name"], total=total)
                c.derived.extend([total, str(units)])
        figures = _figures(entry)
        sep = "，" if c.lang == "zh" else ", "
        c.add("facts_figures", figures=sep.join(figures) if figures else c.t("facts_unknown"))
