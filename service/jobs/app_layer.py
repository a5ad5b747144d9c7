"""The one place where batch jobs reach the domain core (until the application layer lands).

Everything the jobs package needs from the recommend / what-if use cases goes through these two functions,
so moving onto ``service.usecases`` is a change to this file only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from optimizer.compliance import ComplianceEngine
from optimizer.compliance.schema import Buyer, ComplianceResult
from optimizer.plan import PurchasePlan
from optimizer.request import PurchaseRequest
from service.container import Domain, build_domain
from service.settings import Settings

if TYPE_CHECKING:
    from optimizer.whatif import WhatIfChange


class _RememberingEngine(ComplianceEngine):
    """The worker's compliance engine: a check is pure in (SKU, buyer) for fixed rules, so it is remembered.

    A sweep asks the same question for every budget of a country and date; this answers it once. Engines
    derived for rule-date what-ifs are plain ``ComplianceEngine`` objects and remember nothing.
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
    """What a worker builds once and reuses for every scenario: the domain (with its estimate cache)."""

    domain: Domain
    time_limit_s: float
    num_workers: int
    engine: ComplianceEngine  # the domain's engine, remembering its checks


def build_scenario_context(settings: Settings) -> ScenarioContext:
    """Load the catalog and the rule packs once per worker."""
    dom = build_domain(settings)
    return ScenarioContext(domain=dom, time_limit_s=settings.solver.time_limit_s,
                           num_workers=settings.solver.num_workers, engine=_remembering(dom.engine))


def parse_scenario(request: dict[str, Any], whatif: dict[str, Any] | None) -> tuple[PurchaseRequest,
                                                                                     WhatIfChange | None]:
    """Validate a resolved scenario (raises pydantic's ValidationError on bad fields)."""
    from optimizer.whatif import WhatIfChange  # optimizer.whatif loads OR-Tools: only when a scenario is read

    req = PurchaseRequest.model_validate(request)
    change = WhatIfChange.model_validate(whatif) if whatif else None
    return req, change


def recommend_scenario(ctx: ScenarioContext, request: PurchaseRequest, change: WhatIfChange | None) -> PurchasePlan:
    """The recommend use case, after applying the what-if change (removed SKUs, prices, dates) when given."""
    from optimizer.recommend import recommend  # OR-Tools loads in workers, not at CLI start-up
    from optimizer.whatif import _apply

    dom = ctx.domain
    catalog, engine = dom.catalog, ctx.engine
    if change is not None:
        # price what-ifs re-bind the engine to a re-priced catalog: start from the plain engine then
        base_engine = dom.engine if change.price_changes else ctx.engine
        catalog, engine, request = _apply(catalog, base_engine, request, change)
    # Estimates do not depend on prices or dates, so one cache serves every scenario of the worker.
    return recommend(catalog, engine, request, cache=dom.cache, time_limit_s=ctx.time_limit_s,
                     num_workers=ctx.num_workers)
