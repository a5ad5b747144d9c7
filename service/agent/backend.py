"""The agent's one door to the application layer (``service.usecases``).

Every tool the planners call (recommend, what-if, compliance, estimate, compare, catalog, corpus search) goes
through :class:`Backend`, which calls the use cases with the app's :class:`AppContext`; the agent never
orchestrates the optimizer or the corpus itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from service import usecases
from service.agent.parse import Lexicon, PresetLookup
from service.container import build_context
from service.settings import Settings
from service.usecases import (
    AppContext,
    ComplianceResult,
    InferenceEstimate,
    InferenceRequest,
    Passage,
    PurchasePlan,
    PurchaseRequest,
    SearchFilters,
    TrainingEstimate,
    TrainingRequest,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from service.usecases import WhatIfChange, WhatIfResult


@dataclass
class Backend:
    """The application context the agent works against, plus the parser's lexicon built from its catalog."""

    ctx: AppContext
    presets: PresetLookup = usecases.model_size
    _lexicon: Lexicon | None = field(default=None, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings, *, ctx: AppContext | None = None) -> Backend:
        """Build from settings, reusing the app's context when given."""
        return cls(ctx=ctx or build_context(settings))

    @property
    def settings(self) -> Settings:
        """The service settings."""
        return self.ctx.settings

    def accelerator_name(self, sku: str) -> str:
        """Display name of an accelerator id."""
        return self.ctx.domain.catalog.accelerators[sku].name

    def candidate_skus(self) -> list[str]:
        """Accelerators a plan considers by default (datacenter parts; consumer cards only when named)."""
        return [sku for sku, acc in self.ctx.domain.catalog.accelerators.items() if acc.datacenter]

    def source_titles(self) -> dict[str, tuple[str, str | None]]:
        """Source id → (title, url) from the catalog's source registry."""
        return {k: (v.title, v.url) for k, v in self.ctx.domain.catalog.sources.items()}

    @property
    def db(self) -> Engine:
        """The service database (migrations applied on first use)."""
        return self.ctx.db

    def lexicon(self) -> Lexicon:
        """SKU aliases, vendors and countries for the question parser."""
        if self._lexicon is None:
            catalog = self.ctx.domain.catalog
            aliases: dict[str, str] = {}
            vendors: dict[str, str] = {}
            for sku, acc in catalog.accelerators.items():
                for name in (sku, acc.name, *acc.aliases):
                    aliases.setdefault(name, sku)
                vendors.setdefault(acc.vendor, acc.vendor)
            countries = dict(self.ctx.domain.engine.countries)
            self._lexicon = Lexicon(sku_aliases=aliases, vendors=vendors, countries=countries,
                                    presets=self.presets, cny_per_usd=catalog.exchange_rate.cny_per_usd,
                                    sku_names={sku: acc.name for sku, acc in catalog.accelerators.items()},
                                    sku_vendors={sku: acc.vendor for sku, acc in catalog.accelerators.items()})
        return self._lexicon

    # ---- tools -----------------------------------------------------------------------------------

    def recommend(self, request: PurchaseRequest) -> PurchasePlan:
        """Purchase plan with reasons (CP-SAT)."""
        return usecases.recommend(self.ctx, request)

    def what_if(self, request: PurchaseRequest, change: WhatIfChange) -> WhatIfResult:
        """Base and changed plan, what changed, break-even prices."""
        return usecases.what_if(self.ctx, request, change)

    def whatif_change(self, remove_skus: list[str], price_changes: Mapping[str, float]) -> WhatIfChange:
        """The use cases' change object."""
        return usecases.whatif_change(remove=remove_skus, price=dict(price_changes))

    def check_compliance(self, sku: str, *, buyer_country: str, date: object, buyer_kind: str = "commercial",
                         headquarters_country: str | None = None, buyer_name: str | None = None
                         ) -> ComplianceResult:
        """Export verdict for one part, buyer and date (the buyer's name screened against the Entity List)."""
        return usecases.check_compliance(self.ctx, sku, buyer_country=buyer_country, date=date,  # type: ignore[arg-type]
                                         buyer_kind=buyer_kind, headquarters_country=headquarters_country,
                                         buyer_name=buyer_name)

    def estimate_training(self, request: TrainingRequest) -> TrainingEstimate:
        """Accelerator-hours, days, MFU for a training run."""
        return usecases.estimate_training(self.ctx, request)

    def estimate_inference(self, request: InferenceRequest) -> InferenceEstimate:
        """Replicas and accelerators for a request rate."""
        return usecases.estimate_inference(self.ctx, request)

    def resolve_sku(self, name: str) -> str:
        """Canonical SKU id for an alias (raises UnknownSkuError with suggestions)."""
        return self.ctx.domain.catalog.resolve(name)

    def catalog_entry(self, sku: str) -> Mapping[str, object]:
        """Headline facts of one accelerator (JSON-ready)."""
        return usecases.catalog_show(self.ctx, sku).model_dump(mode="json")

    def search(self, query: str, k: int = 4, filters: SearchFilters | None = None) -> list[Passage]:
        """Hybrid corpus search (factual passages only)."""
        return usecases.search(self.ctx, query, k=k, filters=filters or SearchFilters())
