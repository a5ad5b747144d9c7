"""The PostgreSQL that runs on these machines and in CI (127.0.0.1:5432, trust auth, database ``test``)."""

from __future__ import annotations

from sqlalchemy import text

from service.storage import make_engine

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
NO_POSTGRES = ("PostgreSQL is not running at 127.0.0.1:5432 (user postgres, database test, trust auth); the CI "
               "machines run it: start one there to run this test")


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
