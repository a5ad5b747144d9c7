"""Scenario and data wording of an answer: a what-if's change, its effect and break-even prices, and the data's age.

Everything here is written from the use cases' typed results in the answer's language (never their English
sentences), with the templates of :mod:`service.agent.compose`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from service.agent.compose import Composer, money, pct, phrases, rate_between
from service.agent.parse import Lang


def data_line(c: Composer, as_of: dict[str, dt.date], asked: dt.date | None, *, stale_days: int = 90) -> None:
    """"Data as of …" from the data packs; when the asked date is well past the rules, that nothing later is known."""
    rules = as_of.get("us_rules")
    if rules is None:
        return
    c.add("data_as_of", rules=rules.isoformat(), cn=as_of.get("cn_measures", rules).isoformat(),
          prices=as_of.get("prices", rules).isoformat(), catalog=as_of.get("catalog", rules).isoformat())
    if asked is not None and (asked - rules).days > stale_days:
        c.add("data_stale", date=rules.isoformat())
    c.derived.append(" ".join(d.isoformat() for d in as_of.values()))



def whatif_changes(remove: Sequence[str], prices: dict[str, float], name: Any, lang: Lang) -> str:
    """The scenario in words ("NVIDIA H20 price −20%", "NVIDIA H20 价格下降 20%"); ``name``: part id → name."""
    parts = [c_t(lang, "wi_removed", name=name(s)) for s in remove]
    for sku, change in prices.items():
        key = "wi_price_down" if change < 0 else "wi_price_up"
        parts.append(c_t(lang, key, name=name(sku), pct=pct(abs(change))))
    return ("; " if lang == "en" else "；").join(parts)


def whatif_summary(result: Any, name: Any, lang: Lang) -> str:
    """What the change did, from the use case's typed result (never its English sentence)."""
    changed = result.changed
    if not changed.items:
        head = c_t(lang, "wi_infeasible")
    elif not result.skus_added and not result.skus_removed:
        head = c_t(lang, "wi_same")
    else:
        none = c_t(lang, "wi_nothing")
        sep = ", " if lang == "en" else "、"
        head = c_t(lang, "wi_switch", old=sep.join(name(s) for s in result.skus_removed) or none,
                   new=sep.join(name(s) for s in result.skus_added) or none)
    tail = []
    if result.delta_cost is not None:
        sign = "+" if result.delta_cost >= 0 else ""
        tail.append(c_t(lang, "wi_cost", delta=sign + money(result.delta_cost, changed.currency or "CNY", lang)))
    if result.delta_days is not None:
        tail.append(c_t(lang, "wi_time", delta=f"{result.delta_days:+.1f}"))
    joiner = "; " if lang == "en" else "；"
    return joiner.join([head, *tail])


def break_even_text(b: Any, name: Any, lang: Lang, currency: str | None = None, cny_per_usd: float | None = None
                    ) -> str:
    """A break-even price in words from its typed fields."""
    if b.change is None or b.current_price is None or b.break_even_price is None:
        if b.change is None:
            return c_t(lang, "be_never", name=name(b.sku))
        key = "be_fall" if b.change < 0 else "be_rise"
        return c_t(lang, key, name=name(b.sku), pct=pct(abs(b.change)), prices="")
    key = "be_fall" if b.change < 0 else "be_rise"
    factor = rate_between(b.currency, currency, cny_per_usd)  # in the answer's currency, as every other amount
    cur = currency if factor and currency else b.currency
    prices = c_t(lang, "be_prices", old=money((factor or 1.0) * b.current_price, cur, lang),
                 new=money((factor or 1.0) * b.break_even_price, cur, lang),
                 basis=c_t(lang, "be_per_node" if b.basis.startswith("node") else "be_per_accelerator"))
    return c_t(lang, key, name=name(b.sku), pct=pct(abs(b.change)), prices=prices)


def c_t(lang: Lang, key: str, **kw: Any) -> str:
    """One template section filled, outside a composer."""
    return phrases(lang)[key].format(**kw)
