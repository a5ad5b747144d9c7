"""Build the domain objects once from settings (used by the CLI and by the FastAPI lifespan)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from optimizer.catalog import Catalog, load_catalog
from optimizer.compliance import ComplianceEngine, load_engine
from service.settings import Settings


@dataclass(frozen=True)
class Domain:
    """The catalog and the compliance engine bound to it."""

    catalog: Catalog
    engine: ComplianceEngine


def build_domain(settings: Settings, extra_catalogs: Sequence[Path] = ()) -> Domain:
    """Load the catalog (embedded + settings files + extra files) and the rule packs."""
    catalog = load_catalog([*settings.catalog_files, *extra_catalogs])
    engine = load_engine(catalog, settings.rule_files)
    return Domain(catalog=catalog, engine=engine)
