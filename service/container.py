"""Build the application context once from settings (the FastAPI lifespan; the CLI per command).

Everything a use case needs comes from here: the catalog (embedded + ``catalog_files`` + extra files), the
compliance engine (embedded rules + ``rule_files``), the estimate cache, the corpus index (opened lazily) and
the database engine (created and migrated lazily). The LLM client joins when the chat feature lands.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from optimizer.table import EstimateCache
from service.corpus_wiring import LazyCorpus
from service.settings import Settings
from service.usecases.context import AppContext, Domain, LazyDatabase, LazyDomain
from service.usecases.data import build_domain_from, packs_in_use

__all__ = ["AppContext", "Domain", "build_context", "build_domain"]


def build_domain(settings: Settings, extra_catalogs: Sequence[Path] = ()) -> Domain:
    """Load the data packs in use (installed, else embedded) with the settings' and the extra catalog files."""
    catalog, engine = build_domain_from(settings, packs_in_use(settings), extra_catalogs)
    cache = EstimateCache(max_entries=settings.limits.estimate_cache_entries)
    return Domain(catalog=catalog, engine=engine, cache=cache)


def build_context(settings: Settings, extra_catalogs: Sequence[Path] = (), *, lazy_domain: bool = False) -> AppContext:
    """The context every use case runs against; corpus and database open on first use.

    Args:
        settings: Service settings.
        extra_catalogs: Catalog files added to ``settings.catalog_files`` (the CLI's ``--catalog``).
        lazy_domain: Load the catalog and rules on first use instead of now (commands that only search or ingest);
            by default they load now, so a bad catalog file fails at start-up.
    """
    domain = (LazyDomain(lambda: build_domain(settings, extra_catalogs)) if lazy_domain
              else LazyDomain.loaded(lambda: build_domain(settings, extra_catalogs)))
    return AppContext(settings=settings, domain_holder=domain, corpus=LazyCorpus(settings),
                      database=LazyDatabase(settings))
