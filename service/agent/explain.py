"""Answers about single parts, from tool results of the same turn.

Why a part is not in the plan ("why not the H20?"), the solver's runner-up plans ("what's the second best
option?"), why a plan on one part alone has no items (comparisons, "use the H20 only"), and every catalog part's
verdict for one buyer ("which chips can a Chinese buyer buy?"). Nothing here decides anything: each sentence reads
the plan's own considered, excluded and alternatives lists or the compliance results.
"""

from __future__ import annotations

from typing import Any

from service.agent.compose import (
    _KIND,
    _VERDICT,
    Composer,
    chat_text,
    days,
    deltas,
    money,
    option_detail,
    relaxation_lines,
)
from service.presenters import numbers
from service.presenters.reasons import reason_text
from service.usecases import ComplianceResult, PurchasePlan


def _standing(p: PurchasePlan, sku: str) -> tuple[Any, Any]:
    """(the part's considered option that lost, its exclusion), either None, from the plan's own lists."""
    option = next((o for o in p.considered if o.sku == sku and o.status not in ("chosen", "excluded")), None)
    excluded = next((e for e in p.excluded if e.sku == sku), None)
    return option, excluded


def _excluded_text(c: Composer, excluded: Any) -> str:
    return chat_text(reason_text(excluded.why, excluded.reason, c.lang))


def why_not(c: Composer, p: PurchasePlan, skus: list[str], name_of: Any) -> None:
    """Why each named part is not in the plan: its status and what it lost by, or what excluded it."""
    chosen = {i.sku for i in p.items}
    for sku in skus:
        name = name_of(sku)
        option, excluded = _standing(p, sku)
        if sku in chosen:
            c.add("why_not_chosen", name=name)
        elif option is not None:
            status, detail = option_detail(c, option, p.currency)
            c.add("why_not_option", name=name, status=status, detail=detail)
        elif excluded is not None:
            c.add("why_not_excluded", name=name, reason=_excluded_text(c, excluded))
        else:
            c.add("why_not_unknown", name=name)


def alternatives(c: Composer, p: PurchasePlan, limit: int = 3) -> None:
    """The solver's runner-up plans for the same request, cheapest first, with what each costs and takes more."""
    if not p.items:
        c.add("alternatives_none_infeasible")
        return
    if not p.alternatives:
        c.add("alternatives_none")
        return
    names = {o.sku: o.name for o in p.considered}
    c.add("alternatives_head")
    sep = "; " if c.lang == "en" else "；"
    for a in sorted(p.alternatives, key=lambda a: a.rank)[:limit]:
        items = sep.join(c.t("alternative_item", accelerators=numbers.count(i.accelerators),
                             name=names.get(i.sku, i.sku)) for i in a.items)
        c.add("alternative", rank=a.rank, items=items, total=money(a.total_cost, p.currency, c.lang),
              time=days(a.time_days, c.lang) if a.time_days is not None else "—",
              detail=deltas(c, a.delta_cost, a.delta_days, p.currency))


def alone_reason(c: Composer, p: PurchasePlan, sku: str, *, relaxation: bool = True) -> str:
    """Why a plan restricted to one part has no items.

    The rule or policy that excluded it, else its status and the first verified change that would make it feasible
    ("misses deadline; deadline … must be at least 101 days").
    """
    option, excluded = _standing(p, sku)
    if excluded is not None:
        return _excluded_text(c, excluded)
    parts = []
    if option is not None:
        status, detail = option_detail(c, option, p.currency)
        parts.append(status + detail)
    held = option is not None and option.why is not None and option.why.code == "licence_held_back"
    lines = [] if held or not relaxation else relaxation_lines(p, c.lang)[:1]  # held back: its reason says it
    c.derived.extend(lines)  # amounts rounded up from the verified relaxation values
    parts += lines
    return ("; " if c.lang == "en" else "；").join(parts) or c.t("alone_unknown")


def every_part(c: Composer, results: list[ComplianceResult], country_name: str) -> None:
    """The catalog's parts grouped by verdict for one buyer and date."""
    if not results:
        return
    first = results[0]
    c.add("every_part_head", kind=_KIND[c.lang][first.buyer_kind], where=country_name, date=first.date.isoformat(),
          n=len(results))
    sep = "、" if c.lang == "zh" else ", "
    for verdict in ("allowed", "license_required", "prohibited"):
        names = [r.name for r in results if r.verdict == verdict]
        if names:
            c.add("every_part_group", verdict=_VERDICT[c.lang][verdict], count=len(names), names=sep.join(names))
            c.derived.append(str(len(names)))
    c.derived.append(str(len(results)))
    c.add("every_part_tail")
