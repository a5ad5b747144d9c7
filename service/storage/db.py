"""Engine construction, SQLite pragmas and programmatic Alembic upgrades."""

from __future__ import annotations

import ast
import re
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_upgrade_lock = threading.Lock()
_REVISION_LINE = re.compile(r"^(revision|down_revision)\s*=\s*(.+?)\s*$", re.MULTILINE)
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


def head_revisions(versions: Path = MIGRATIONS_DIR / "versions") -> frozenset[str]:
    """The heads of the migration scripts in ``versions``, read from their ``revision``/``down_revision`` lines.

    A head is a revision no other script names as its ``down_revision``; Alembic computes the same set, but
    importing it costs a few tenths of a second that a process whose database is up to date need not pay.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in versions.glob("*.py"):
        found = dict(_REVISION_LINE.findall(script.read_text(encoding="utf-8")))
        if "revision" not in found:
            continue
        revisions.add(ast.literal_eval(found["revision"]))
        down = ast.literal_eval(found.get("down_revision", "None"))
        parents.update((down,) if isinstance(down, str) else tuple(down or ()))
    return frozenset(revisions - parents)


def _is_at_heads(engine: Engine) -> bool:
    """True when the database's ``alembic_version`` rows are exactly the scripts' heads (nothing to upgrade)."""
    try:
        with engine.connect() as connection:
            stamped = {row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))}
    except SQLAlchemyError:  # no table yet (a new database): Alembic creates it
        return False
    return bool(stamped) and stamped == head_revisions()


def upgrade(engine: Engine) -> None:
    """Apply every Alembic head to the database behind ``engine`` (idempotent, safe to call at start-up).

    A database already at the heads is left alone without importing Alembic (a cold CLI process pays ~0.3 s
    for it otherwise).
    """
    if _is_at_heads(engine):
        return
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
