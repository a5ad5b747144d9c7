"""What every use case runs against: settings, the domain (catalog, rules, estimate cache), corpus and database."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from optimizer.catalog import Catalog
from optimizer.compliance import ComplianceEngine
from optimizer.table import EstimateCache
from service.corpus_wiring import LazyCorpus
from service.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine


@dataclass(frozen=True)
class Domain:
    """The catalog, the compliance engine bound to it, and a cache of estimates for this catalog."""

    catalog: Catalog
    engine: ComplianceEngine
    cache: EstimateCache = field(default_factory=EstimateCache)
    derived: dict[str, str] = field(default_factory=dict, compare=False, repr=False)
    """Values computed once from this catalog and these rules (a reload builds a new domain, so a new dict)."""


class LazyDomain:
    """The domain, loaded by ``load`` on first use (or at once when built with :meth:`ready`).

    Args:
        load: Builds the domain (catalog files, rule packs) from settings.
    """

    def __init__(self, load: Callable[[], Domain]) -> None:
        self._load = load
        self._domain: Domain | None = None
        self._lock = threading.Lock()

    @classmethod
    def ready(cls, domain: Domain) -> LazyDomain:
        """A holder around an already loaded domain."""
        holder = cls(lambda: domain)
        holder._domain = domain
        return holder

    @classmethod
    def loaded(cls, load: Callable[[], Domain]) -> LazyDomain:
        """A holder loaded now that can :meth:`reload` from the same loader (a bad catalog fails at once)."""
        holder = cls(load)
        holder.get()
        return holder

    def reload(self) -> None:
        """Drop the loaded domain; the next :meth:`get` loads it again (after data packs change)."""
        with self._lock:
            self._domain = None

    def get(self) -> Domain:
        """The domain, loaded once."""
        if self._domain is None:
            with self._lock:
                if self._domain is None:
                    self._domain = self._load()
        return self._domain


class LazyDatabase:
    """The SQLAlchemy engine for ``settings.resolved_database_url``, built and migrated on first use.

    Args:
        settings: Service settings (``database_url`` / ``data_dir``).
    """

    def __init__(self, settings: Settings) -> None:
        self.url = settings.resolved_database_url
        self._engine: Engine | None = None
        self._lock = threading.Lock()

    def get(self) -> Engine:
        """The engine, with every Alembic head applied (once per process)."""
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    from service.storage import make_engine, upgrade

                    engine = make_engine(self.url)
                    upgrade(engine)
                    self._engine = engine
        return self._engine

    def dispose(self) -> None:
        """Close pooled connections (app shutdown, end of a CLI command)."""
        if self._engine is not None:
            self._engine.dispose()


@dataclass(frozen=True)
class AppContext:
    """Built once by :func:`service.container.build_context`; passed as the first argument of every use case."""

    settings: Settings
    domain_holder: LazyDomain
    corpus: LazyCorpus
    database: LazyDatabase

    @property
    def domain(self) -> Domain:
        """Catalog, compliance engine and estimate cache (loaded at build time, or on first use when lazy)."""
        return self.domain_holder.get()

    @property
    def db(self) -> Engine:
        """The database engine (created and migrated on first use)."""
        return self.database.get()
