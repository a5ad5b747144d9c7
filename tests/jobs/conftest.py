"""Job tests run against SQLite (a file, WAL) and PostgreSQL (a fresh schema per test at 127.0.0.1:5432)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service.jobs.spec import parse_spec
from service.jobs.store import JobStore
from service.storage import make_engine, upgrade
from tests.pg import NO_POSTGRES, PG_URL, fresh_schema, postgres_available

__all__ = ["NO_POSTGRES", "PG_URL", "postgres_available"]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty job database URL (workers in other processes open it by URL)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'jobs.db'}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
        return
    with fresh_schema("jobs") as url:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url


@pytest.fixture
def store(db_url: str) -> Iterator[JobStore]:
    engine = make_engine(db_url)
    yield JobStore(engine)
    engine.dispose()


BASE: dict[str, Any] = {
    "workloads": [{"kind": "training", "params": "70B", "tokens": "1.4T"}],
    "buyer": {"country": "CN", "date": "2025-08-01"},
    "budget": {"amount": "5000万", "currency": "CNY"},
    "objective": "min_time",
    "alternatives": 0,
}


def make_spec(n_budgets: int = 4, countries: tuple[str, ...] = ("CN", "DE"), **extra: Any) -> Any:
    """A small real sweep: log-spaced budgets x buyer countries."""
    return parse_spec({"base": BASE, "sweep": {"budget.amount": {"from": 2e7, "to": 5e8, "steps": n_budgets,
                                                                 "scale": "log"},
                                               "buyer.country": list(countries)}, **extra})
