"""The storage foundation: engines for SQLite and PostgreSQL and idempotent Alembic upgrades."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from service.settings import Settings
from service.storage import make_engine, upgrade
from tests.pg import NO_POSTGRES, PG_URL, postgres_available


def test_default_database_is_a_sqlite_file_under_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "d")
    assert settings.resolved_database_url == f"sqlite:///{(tmp_path / 'd' / 'procure.db').resolve()}"
    engine = make_engine(settings.resolved_database_url)
    upgrade(engine)
    upgrade(engine)  # a second start-up changes nothing
    assert "alembic_version" in inspect(engine).get_table_names()
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    engine.dispose()


@pytest.mark.integration
def test_upgrade_on_postgresql_is_idempotent() -> None:
    if not postgres_available():
        pytest.fail(NO_POSTGRES)
    schema = f"t_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        engine = make_engine(PG_URL + f"?options=-csearch_path%3D{schema}")
        upgrade(engine)
        upgrade(engine)
        assert "alembic_version" in inspect(engine).get_table_names(schema=schema)
        engine.dispose()
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
