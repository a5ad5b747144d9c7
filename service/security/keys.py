"""API keys: creation, lookup by HMAC-SHA256 digest, revocation, and the audit log.

A key is ``pk_<id>_<secret>``; only ``HMAC-SHA256(server secret, key)`` is stored, so a copy of the database
does not yield usable keys and a lookup costs one HMAC (no slow password hash on every request). The server
secret is ``security.secret`` or, when unset, 32 random bytes kept in ``<data_dir>/keys.secret`` (mode 0600).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from sqlalchemy import DateTime, Engine, Integer, String, select, text, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from service.settings import Settings
from service.storage import Base, make_engine, session_factory, upgrade

Scope = Literal["read", "plan", "ingest", "jobs", "admin"]
SCOPES: tuple[str, ...] = get_args(Scope)
CACHE_TTL_S = 5.0
"""A verified key is trusted for this long without a database read (a revocation takes effect within it)."""


class ApiKeyRow(Base):
    """One API key (the key itself is never stored)."""

    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(200))
    rate_limit: Mapped[str | None] = mapped_column(String(40), nullable=True)
    quota: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AuditEventRow(Base):
    """One audited event: a request made with a key, an ingestion, a key created or revoked."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    event: Mapped[str] = mapped_column(String(40))
    key_id: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    method: Mapped[str | None] = mapped_column(String(10), nullable=True)
    path: Mapped[str | None] = mapped_column(String(300), nullable=True)
    status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    client: Mapped[str | None] = mapped_column(String(64), nullable=True)
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[str | None] = mapped_column(String(1000), nullable=True)


@dataclass(frozen=True)
class ApiKey:
    """A key as listed (no secret)."""

    id: str
    name: str
    scopes: tuple[str, ...]
    rate_limit: str | None
    quota: str | None
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None

    @property
    def active(self) -> bool:
        """Not revoked."""
        return self.revoked_at is None

    def allows(self, scope: str) -> bool:
        """True when the key has ``scope`` (``admin`` has every scope)."""
        return scope in self.scopes or "admin" in self.scopes


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _public(row: ApiKeyRow) -> ApiKey:
    return ApiKey(id=row.id, name=row.name, scopes=tuple(row.scopes.split(",")), rate_limit=row.rate_limit,
                  quota=row.quota, created_at=row.created_at, revoked_at=row.revoked_at,
                  last_used_at=row.last_used_at)


def server_secret(settings: Settings) -> bytes:
    """The HMAC secret: ``security.secret`` or the generated ``<data_dir>/keys.secret``."""
    if settings.security.secret is not None:
        return settings.security.secret.get_secret_value().encode()
    path: Path = settings.data_dir / "keys.secret"
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        value = secrets.token_hex(32).encode()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(value)
        return value


def parse_scopes(values: Iterable[str]) -> tuple[str, ...]:
    """Validate scope names (comma-separated or repeated)."""
    out: list[str] = []
    for value in values:
        for scope in (s.strip().lower() for s in value.split(",")):
            if not scope:
                continue
            if scope not in SCOPES:
                raise ValueError(f"unknown scope {scope!r}; use {', '.join(SCOPES)}")
            if scope not in out:
                out.append(scope)
    if not out:
        raise ValueError(f"give at least one scope ({', '.join(SCOPES)})")
    return tuple(out)


class KeyStore:
    """API keys and audit events in the service database.

    Args:
        settings: Service settings (database URL, data folder, secret).
        engine_factory: Returns the engine to use (the application context's ``db``); default: one built and
            migrated from ``settings.database_url``.
    """

    def __init__(self, settings: Settings, engine_factory: Callable[[], Engine] | None = None) -> None:
        self.settings = settings
        self._engine_factory = engine_factory
        self._engine: Engine | None = None
        self._ready = False
        self._lock = threading.Lock()
        self._secret: bytes | None = None
        self._cache: dict[str, tuple[float, ApiKey]] = {}

    def _sessions(self) -> sessionmaker[Session]:
        with self._lock:
            if self._engine is None:
                if self._engine_factory is not None:  # the application context's engine (already migrated)
                    self._engine = self._engine_factory()
                    self._ready = True
                else:
                    self._engine = make_engine(self.settings.resolved_database_url)
            if not self._ready:
                upgrade(self._engine)
                self._ready = True
        return session_factory(self._engine)

    def ping(self) -> None:
        """Run ``SELECT 1`` (readiness); raises when the database is unreachable."""
        with self._sessions()() as session:
            session.execute(text("SELECT 1"))

    def digest(self, key: str) -> str:
        """HMAC-SHA256 of ``key`` under the server secret (hex)."""
        if self._secret is None:
            self._secret = server_secret(self.settings)
        return hmac.new(self._secret, key.encode(), hashlib.sha256).hexdigest()

    def create(self, name: str, scopes: Iterable[str], *, rate_limit: str | None = None,
               quota: str | None = None) -> tuple[ApiKey, str]:
        """Create a key; returns it and the plain key (shown once, never stored)."""
        checked = parse_scopes(scopes)
        key_id = secrets.token_hex(6)
        plain = f"pk_{key_id}_{secrets.token_urlsafe(32)}"
        row = ApiKeyRow(id=key_id, name=name[:80], digest=self.digest(plain), scopes=",".join(checked),
                        rate_limit=rate_limit, quota=quota, created_at=_now())
        with self._sessions()() as session, session.begin():
            session.add(row)
        self.audit("key_created", key_id=key_id, detail=f"{name[:80]} scopes={','.join(checked)}")
        return _public(row), plain

    def list_keys(self, *, include_revoked: bool = False) -> list[ApiKey]:
        """Keys, oldest first."""
        with self._sessions()() as session:
            query = select(ApiKeyRow).order_by(ApiKeyRow.created_at)
            if not include_revoked:
                query = query.where(ApiKeyRow.revoked_at.is_(None))
            return [_public(r) for r in session.scalars(query)]

    def revoke(self, key_id: str) -> bool:
        """Revoke a key by id; False when there is no such active key."""
        with self._sessions()() as session, session.begin():
            result = session.execute(update(ApiKeyRow).where(ApiKeyRow.id == key_id, ApiKeyRow.revoked_at.is_(None))
                                     .values(revoked_at=_now()))
            done = bool(getattr(result, "rowcount", 0))
        self._cache.clear()
        if done:
            self.audit("key_revoked", key_id=key_id)
        return done

    def verify(self, key: str) -> ApiKey | None:
        """The active key for ``key``, or None (unknown, malformed or revoked)."""
        if not key.startswith("pk_") or len(key) > 200:
            return None
        digest = self.digest(key)
        cached = self._cache.get(digest)
        now = time.monotonic()
        if cached is not None and now - cached[0] < CACHE_TTL_S:
            return cached[1]
        with self._sessions()() as session, session.begin():
            row = session.scalars(select(ApiKeyRow).where(ApiKeyRow.digest == digest)).first()
            if row is None or row.revoked_at is not None or not hmac.compare_digest(row.digest, digest):
                self._cache.pop(digest, None)
                return None
            row.last_used_at = _now()
            found = _public(row)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = (now, found)
        return found

    def audit(self, event: str, *, key_id: str | None = None, method: str | None = None, path: str | None = None,
              status: int | None = None, client: str | None = None, request_id: str | None = None,
              detail: str | None = None) -> None:
        """Append an audit event."""
        row = AuditEventRow(at=_now(), event=event, key_id=key_id, method=method, path=(path or "")[:300] or None,
                            status=status, client=client, request_id=request_id,
                            detail=(detail or "")[:1000] or None)
        with self._sessions()() as session, session.begin():
            session.add(row)

    def audit_events(self, limit: int = 100) -> list[AuditEventRow]:
        """The latest audit events, newest first."""
        with self._sessions()() as session:
            return list(session.scalars(select(AuditEventRow).order_by(AuditEventRow.id.desc()).limit(limit)))
