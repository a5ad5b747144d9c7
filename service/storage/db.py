"""Engine construction, SQLite pragmas and programmatic Alembic upgrades."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_upgrade_lock = threading.Lock()
_shared: dict[str, Engine] = {}


class Base(DeclarativeBase):
    """Declarative base for every table of the service; Alembic's autogenerate reads its metadata."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside one writer; busy_timeout turns lock contention into waiting, not errors.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Build an engine for ``url``; SQLite files get their folder created and WAL mode switched on."""
    if url.startswith("sqlite"):
        db_path = url.split("///", 1)[1] if "///" in url else ""
        if db_path and db_path != ":memory:":
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded attributes after commit (results are returned after the transaction)."""
    return sessionmaker(engine, expire_on_commit=False)


def upgrade(engine: Engine) -> None:
    """Apply every Alembic head to the database behind ``engine`` (idempotent, safe to call at start-up)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with _upgrade_lock, engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "heads")


def shared_engine(url: str) -> Engine:
    """One migrated engine per URL and process.

    For features that need the database outside a request's context (the shared corpus manifest).
    """
    with _upgrade_lock:
        engine = _shared.get(url)
    if engine is None:
        engine = make_engine(url)
        upgrade(engine)
        with _upgrade_lock:
            engine = _shared.setdefault(url, engine)
    return engine
