"""Alembic 0005 on a database that already holds jobs and chat sessions (SQLite and PostgreSQL).

Existing rows keep everything and get no owner (visible to requests without a key and to admin); the shared
corpus tables appear; the job store reads the old job, idempotency key included.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text

from service.jobs.store import JobStore
from service.storage import make_engine, upgrade
from service.storage.db import MIGRATIONS_DIR
from tests.pg import fresh_schema


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    with fresh_schema("mig") as pg:
        yield pg


def test_0005_adds_owners_to_existing_rows_and_the_shared_corpus_tables(url: str) -> None:
    engine = make_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:  # the schema as the previous release left it
        cfg.attributes["connection"] = connection
        for revision in ("0002_jobs", "0003_chat_sessions", "0004_api_keys"):
            command.upgrade(cfg, revision)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO jobs (id, name, spec, spec_hash, axes, idempotency_key, state, total, "
                          "created_at) VALUES ('job-old', 'before 0005', '{}', 'x', '[]', 'legacy', 'completed', 0, "
                          "1.0)"))
        conn.execute(text("INSERT INTO chat_sessions (id, created_at, updated_at) "
                          "VALUES ('s-old', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
    upgrade(engine)  # every head, as the service does at start-up
    tables = set(inspect(engine).get_table_names())
    assert {"corpus_meta", "corpus_documents", "corpus_chunks"} <= tables
    assert "owner" in {c["name"] for c in inspect(engine).get_columns("jobs")}
    assert "owner" in {c["name"] for c in inspect(engine).get_columns("chat_sessions")}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT owner FROM chat_sessions WHERE id = 's-old'")).scalar_one() is None
    old = JobStore(engine).status("job-old", owner=None)  # no owner: visible without a key
    assert old.name == "before 0005" and old.owner is None and old.idempotency_key == "legacy"
    upgrade(engine)  # idempotent
    engine.dispose()
