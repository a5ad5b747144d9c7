"""The agent's one door to the application layer.

Every tool the planners call (recommend, what-if, compliance, estimate, compare, catalog, corpus search) goes
through :class:`Backend`. Until ``service.usecases`` lands on main this module calls the optimizer and corpus
wiring directly, the same calls the HTTP routes make; switching to the application layer changes this file only.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from corpus.types import Passage, SearchFilters
from optimizer.catalog import Catalog
from optimizer.compliance import Buyer, ComplianceResult
from optimizer.compliance.engine import load_countries
from optimizer.estimator import (
    InferenceEstimate,
    InferenceRequest,
    TrainingEstimate,
    TrainingRequest,
    estimate_inference,
    estimate_training,
)
from optimizer.plan import PurchasePlan
from optimizer.recommend import recommend
from optimizer.request import PurchaseRequest
from optimizer.whatif import WhatIfChange, WhatIfResult, what_if
from service.agent.parse import Lexicon, PresetLookup, no_presets
from service.container import Domain, build_domain
from service.corpus_wiring import LazyCorpus
from service.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine


@dataclass
class Backend:
    """Domain objects, the lazy corpus and the database engine the agent works with."""

    settings: Settings
    domain: Domain
    corpus: LazyCorpus
    presets: PresetLookup = no_presets
    _engine: Engine | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _lexicon: Lexicon | None = field(default=None, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings, *, domain: Domain | None = None,
                      corpus: LazyCorpus | None = None) -> Backend:
        """Build from settings, reusing the app's domain and corpus holder when given."""
        return cls(settings=settings, domain=domain or build_domain(settings), corpus=corpus or LazyCorpus(settings))

    @property
    def catalog(self) -> Catalog:
        """The catalog in use."""
        return self.domain.catalog

    @property
    def db(self) -> Engine:
        """The service database (migrations applied on first use)."""
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    from service.storage import make_engine, upgrade

                    engine = make_engine(self.settings.resolved_database_url)
                    upgrade(engine)
                    self._engine = engine
        return self._engine

    def lexicon(self) -> Lexicon:
        """SKU aliases, vendors and countries for the question parser."""
        if self._lexicon is None:
            aliases: dict[str, str] = {}
            vendors: dict[str, str] = {}
            for sku, acc in self.catalog.accelerators.items():
                for name in (sku, acc.name, *acc.aliases):
                    aliases.setdefault(name, sku)
                vendors.setdefault(acc.vendor, acc.vendor)
            self._lexicon = Lexicon(sku_aliases=aliases, vendors=vendors, countries=load_countries(),
                                    presets=self.presets, cny_per_usd=self.catalog.exchange_rate.cny_per_usd)
        return self._lexicon

    # ---- tools -----------------------------------------------------------------------------------

    def recommend(self, request: PurchaseRequest) -> PurchasePlan:
        """Purchase plan with reasons (CP-SAT)."""
        s = self.settings.solver
        return recommend(self.catalog, self.domain.engine, request, cache=self.domain.cache,
                         time_limit_s=s.time_limit_s, num_workers=s.num_workers)

    def what_if(self, request: PurchaseRequest, change: WhatIfChange) -> WhatIfResult:
        """Base and changed plan, what changed, break-even prices."""
        return what_if(self.catalog, self.domain.engine, request, change, cache=self.domain.cache,
                       time_limit_s=self.settings.solver.time_limit_s)

    def check_compliance(self, sku: str, buyer: Buyer) -> ComplianceResult:
        """Export verdict for one part, buyer and date."""
        return self.domain.engine.check(sku, buyer)

    def estimate_training(self, request: TrainingRequest) -> TrainingEstimate:
        """Accelerator-hours, days, MFU for a training run."""
        return estimate_training(self.catalog, request)

    def estimate_inference(self, request: InferenceRequest) -> InferenceEstimate:
        """Replicas and accelerators for a request rate."""
        return estimate_inference(self.catalog, request)

    def resolve_sku(self, name: str) -> str:
        """Canonical SKU id for an alias (raises UnknownSkuError with suggestions)."""
        return self.catalog.resolve(name)

    def catalog_entry(self, sku: str) -> Mapping[str, object]:
        """Headline facts of one accelerator (JSON-ready)."""
        acc = self.catalog.accelerator(sku)
        return acc.model_dump(mode="json", include={"id", "name", "vendor", "domestic_china", "memory_gb",
                                                     "memory_bandwidth_tbps", "price", "tdp_w"})

    def search(self, query: str, k: int = 4, filters: SearchFilters | None = None) -> list[Passage]:
        """Hybrid corpus search (factual passages only)."""
        return self.corpus.get().search(query, k=k, filters=filters or SearchFilters())
