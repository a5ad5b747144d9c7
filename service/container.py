"""Build the domain objects once from settings (used by the CLI and by the FastAPI lifespan)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from optimizer.catalog import Catalog, load_catalog
from optimizer.compliance import ComplianceEngine, load_engine
from optimizer.table import EstimateCache
from service.settings import Settings


@dataclass(frozen=True)
class Domain:
    """The catalog, the compliance engine bound to it, and a cache of estimates for this catalog."""

    catalog: Catalog
    engine: ComplianceEngine
    cache: EstimateCache = field(default_factory=EstimateCache)


def build_domain(settings: Settings, extra_catalogs: Sequence[Path] = (), *, cache_entries: int = 20_000) -> Domain:
    """Load the catalog (embedded + settings files + extra files) and the rule packs."""
    catalog = load_catalog([*settings.catalog_files, *extra_catalogs])
    engine = load_engine(catalog, settings.rule_files)
    return Domain(catalog=catalog, engine=engine, cache=EstimateCache(max_entries=cache_entries))
