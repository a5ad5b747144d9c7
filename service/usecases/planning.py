"""Purchase plans: recommend and what-if, solved with the settings' CP-SAT limits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from optimizer.errors import InvalidInputError
from optimizer.plan import PurchasePlan
from optimizer.request import PurchaseRequest
from service.usecases.context import AppContext
from service.usecases.limits import check_work_limits
from service.usecases.numbers import check_money, day, fraction, money, quantity

if TYPE_CHECKING:  # optimizer.whatif loads OR-Tools; imported when a what-if runs
    from optimizer.whatif import WhatIfChange, WhatIfResult


def _check(ctx: AppContext, request: PurchaseRequest) -> None:
    check_work_limits(request, ctx.settings.limits)
    if request.budget is not None:
        check_money(request.budget.amount, what="budget")


def recommend(ctx: AppContext, request: PurchaseRequest) -> PurchasePlan:
    """Choose a purchase plan (CP-SAT) with considered options, alternatives and relaxations.

    A request with a ``risk`` section also gets the hedged plan (:func:`service.usecases.hedging.recommend_hedged`).

    Raises:
        OptimizerError: unknown SKU or country, or a value the core refuses.
        LimitExceededError: more workloads or alternatives than ``settings.limits`` allow.
    """
    from optimizer.recommend import recommend as solve  # OR-Tools loads only when solving

    _check(ctx, request)
    if request.risk is not None:  # the plan then carries its `risk` block (hedged plan, scenarios)
        from service.usecases.hedging import recommend_hedged

        return recommend_hedged(ctx, request)
    dom, s = ctx.domain, ctx.settings.solver
    return solve(dom.catalog, dom.engine, request, cache=dom.cache, time_limit_s=s.time_limit_s,
                 num_workers=s.num_workers, pareto_points=ctx.settings.limits.max_pareto_points,
                 max_break_even_parts=s.break_even_parts)


def what_if(ctx: AppContext, request: PurchaseRequest, changes: WhatIfChange, *,
            break_even_prices: bool = True) -> WhatIfResult:
    """Solve the base request and the changed one; report the difference and break-even prices.

    ``break_even_prices=False`` leaves the break-even list empty (a door that does not show it skips its solves).
    """
    from optimizer.whatif import what_if as solve

    _check(ctx, request)
    if changes.budget is not None:
        check_money(changes.budget, what="budget")
    dom, s = ctx.domain, ctx.settings.solver
    return solve(dom.catalog, dom.engine, request, changes, cache=dom.cache, time_limit_s=s.time_limit_s,
                 num_workers=s.num_workers, break_even_prices=break_even_prices)


def _pairs(items: Sequence[str], option: str, example: str) -> list[tuple[str, str]]:
    out = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InvalidInputError(f"{option} {item!r}: use {example}")
        out.append((key.strip(), value.strip()))
    return out


def whatif_change(
    *,
    remove: Sequence[str] = (),
    price: Sequence[str] | Mapping[str, str | float] = (),
    on: str | dt.date | None = None,
    rule_dates: Sequence[str] | Mapping[str, str | dt.date] = (),
    min_domestic_share: str | float | None = None,
    budget: str | float | None = None,
    deadline_days: str | float | None = None,
    base: PurchaseRequest | None = None,
) -> WhatIfChange:
    """Build a change from written values (``SKU=+20%``, ``RULE=YYYY-MM-DD``, ``8000万``, ``¥2亿``).

    Raises:
        InvalidInputError: a value cannot be read, or a budget's currency differs from the base request's.
    """
    from optimizer.whatif import WhatIfChange

    prices = price.items() if isinstance(price, Mapping) else _pairs(price, "--price", "SKU=+20% or SKU=-0.3")
    rules = rule_dates.items() if isinstance(rule_dates, Mapping) else _pairs(
        rule_dates, "--rule-date", "RULE_ID=YYYY-MM-DD")
    amount = None
    if budget is not None:
        amount, written = money(budget, what="budget")
        expected = base.report_currency if base is not None else None
        if written and expected and written != expected:
            raise InvalidInputError(f"budget is written in {written} but the request is in {expected}")
    return WhatIfChange(
        remove_skus=list(remove),
        price_changes={sku: fraction(v, what=f"price change of {sku}") for sku, v in prices},
        date=None if on is None else day(on, what="date"),
        rule_dates={rid: day(d, what=f"date of rule {rid}") for rid, d in rules},
        min_domestic_share=None if min_domestic_share is None else fraction(min_domestic_share,
                                                                            what="min_domestic_share"),
        budget=amount,
        deadline_days=None if deadline_days is None else quantity(deadline_days, what="deadline_days"),
    )
