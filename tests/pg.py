"""The PostgreSQL that runs on these machines and in CI (127.0.0.1:5432, trust auth, database ``test``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import text

from service.storage import make_engine

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
NO_POSTGRES = ("PostgreSQL is not running at 127.0.0.1:5432 (user postgres, database test, trust auth); the CI "
               "machines run it: start one (this test needs it)")


def postgres_available() -> bool:
    """True when the test database answers; tests that need it skip with that reason otherwise."""
    try:
        engine = make_engine(PG_URL)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return True
    except Exception:
        return False


@contextmanager
def fresh_schema(prefix: str = "t") -> Iterator[str]:
    """A new schema in the test database for one test (others' tests share the server); yields its URL.

    Fails the test when PostgreSQL is not running (it runs on every machine and in CI); the schema is dropped
    afterwards.
    """
    if not postgres_available():
        pytest.fail(NO_POSTGRES)
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema_url(schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def schema_url(schema: str, port: int = 5432) -> str:
    """The URL of the test database with ``schema`` first on the search path (through ``port``: a proxy)."""
    return PG_URL.replace("127.0.0.1:5432", f"127.0.0.1:{port}") + f"?options=-csearch_path%3D{schema}"
