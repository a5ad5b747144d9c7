"""Batch scenarios: the recommend use case for one resolved sweep scenario, with a worker's warm caches.

A batch worker builds one :class:`ScenarioContext` and runs thousands of scenarios against it: the domain is loaded
once, estimates are cached, and compliance answers are remembered per (SKU, buyer), because a sweep asks the same
question for every budget of a country and date. A scenario may carry a what-if change (removed SKUs, price
changes, rule dates, another date); only the changed plan is solved (the interactive what-if also solves the base
plan and break-even prices, which a sweep does not need).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from optimizer.compliance import Buyer, ComplianceEngine, ComplianceResult
from optimizer.plan import PurchasePlan
from optimizer.request import PurchaseRequest
from service.usecases.context import AppContext, Domain, LazyDomain
from service.usecases.numbers import coerce_numbers
from service.usecases.planning import recommend

if TYPE_CHECKING:
    from optimizer.whatif import WhatIfChange


class _RememberingEngine(ComplianceEngine):
    """A compliance engine whose checks are remembered: a check is pure in (SKU, buyer) for fixed rules.

    Engines derived for rule-date what-ifs (``with_rule_dates``) are plain engines and remember nothing.
    """

    _memo: dict[tuple[str, Buyer], ComplianceResult]
    _LIMIT = 100_000

    def check(self, sku: str, buyer: Buyer) -> ComplianceResult:
        """``ComplianceEngine.check``, remembered."""
        key = (sku, buyer)
        hit = self._memo.get(key)
        if hit is None:
            if len(self._memo) >= self._LIMIT:
                self._memo.clear()
            hit = self._memo[key] = super().check(sku, buyer)
        return hit


def _remembering(engine: ComplianceEngine) -> ComplianceEngine:
    clone = object.__new__(_RememberingEngine)
    clone.__dict__.update(engine.__dict__)
    clone._memo = {}
    return clone


@dataclass(frozen=True)
class ScenarioContext:
    """A worker's application context (its engine remembers checks) and the plain engine for price what-ifs."""

    app: AppContext
    plain_engine: ComplianceEngine


def scenario_context(ctx: AppContext) -> ScenarioContext:
    """Wrap a worker's application context for batch scenarios."""
    dom = ctx.domain
    remembering = replace(ctx, domain_holder=LazyDomain.ready(
        Domain(catalog=dom.catalog, engine=_remembering(dom.engine), cache=dom.cache)))
    return ScenarioContext(app=remembering, plain_engine=dom.engine)


def parse_scenario(request: dict[str, Any], whatif: dict[str, Any] | None) -> tuple[PurchaseRequest,
                                                                                     WhatIfChange | None]:
    """Validate a resolved scenario: the request (human numbers such as "70B" read) and the what-if change.

    Raises:
        pydantic.ValidationError, InvalidInputError: bad fields or unreadable numbers.
    """
    from optimizer.whatif import WhatIfChange  # loads OR-Tools: only when a scenario is read

    req = PurchaseRequest.model_validate(coerce_numbers(PurchaseRequest, request))
    change = WhatIfChange.model_validate(whatif) if whatif else None
    return req, change


def recommend_scenario(ctx: ScenarioContext, request: PurchaseRequest, change: WhatIfChange | None) -> PurchasePlan:
    """The recommend use case after applying the scenario's what-if change, if any.

    Raises:
        OptimizerError: unknown SKU or country, a change that leaves nothing to choose, or a refused value.
    """
    app = ctx.app
    if "break_even_prices" not in request.model_fields_set:  # a sweep summarises plans: skip the extra solves
        request = request.model_copy(update={"break_even_prices": False})
    if change is not None:
        from optimizer.whatif import apply_change

        dom = app.domain
        # price what-ifs re-bind the engine to a re-priced catalog: start from the plain engine then
        engine = ctx.plain_engine if change.price_changes else dom.engine
        catalog, engine, request = apply_change(dom.catalog, engine, request, change)
        app = replace(app, domain_holder=LazyDomain.ready(Domain(catalog=catalog, engine=engine, cache=dom.cache)))
    return recommend(app, request)
