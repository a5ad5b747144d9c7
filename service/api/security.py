"""Authentication, authorisation and rate limits, applied as one dependency at ``include_router`` time.

* Keys come in ``Authorization: Bearer pk_…`` or ``X-API-Key: pk_…``. They are required when
  :func:`keys_required` says so (``security.require_keys``, else whenever the service binds a non-loopback
  address); on loopback a request without a key is allowed, but a wrong key is always a 401.
* The scope a request needs follows from its method and path (:func:`scope_for`): ``read`` for look-ups and
  searches, ``plan`` for estimates and recommendations, ``ingest`` for corpus ingestion, ``jobs`` for batch jobs,
  ``admin`` for key administration; ``admin`` holds every scope.
* Each key (or, without a key, each client address) has a rate limit and a quota (``limits`` library, counters
  in memory or Redis by ``security.storage_url``); over either the answer is 429 with ``Retry-After``.
* Requests made with a key and every ingestion are written to the audit log when answered.
* The :class:`Principal` of a request (its key id, and whether it holds ``admin``) decides which jobs and chat
  sessions it sees (:mod:`service.api.ownership`).
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

from service.api import metrics
from service.api.errors import ProblemError
from service.security.keys import ApiKey, KeyStore
from service.settings import Settings

log = logging.getLogger("procure.security")
SCOPE_BY_PREFIX: tuple[tuple[str | None, str, str], ...] = (
    ("POST", "/v1/corpus/documents", "ingest"),
    (None, "/v1/recommendations", "plan"),
    (None, "/v1/estimates", "plan"),
    (None, "/v1/jobs", "jobs"),
    (None, "/v1/web/jobs", "jobs"),
    ("POST", "/v1/chat", "plan"),
    (None, "/v1/keys", "admin"),
    (None, "/v1/audit", "admin"),
    ("POST", "/v1/data", "admin"),
)
"""(method or any, path prefix, scope); anything else under /v1 (and /metrics) needs ``read``."""


@dataclass(frozen=True)
class Principal:
    """Who a request acts for: the id of its API key (None without one) and whether the key holds ``admin``."""

    key_id: str | None
    admin: bool = False

    def owns(self, owner: str | None) -> bool:
        """True when a resource created by ``owner`` (a key id, or None) is visible to this principal."""
        return self.admin or owner == self.key_id


ANONYMOUS = Principal(None)


def principal(request: Request) -> Principal:
    """The principal :func:`authorize` recorded for this request (anonymous when none was)."""
    found = request.scope.get("state", {}).get("principal")
    return found if isinstance(found, Principal) else ANONYMOUS


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def keys_required(settings: Settings) -> bool:
    """``security.require_keys`` if set, else True when the service binds a non-loopback address."""
    if settings.security.require_keys is not None:
        return settings.security.require_keys
    return not is_loopback(settings.host)


def scope_for(method: str, path: str) -> str:
    """The scope a request needs."""
    for want_method, prefix, scope in SCOPE_BY_PREFIX:
        if (want_method is None or want_method == method) and path.startswith(prefix):
            return scope
    return "read"


class RateLimits:
    """Per-identity rate limit and quota on a ``limits`` storage (memory:// or redis://)."""

    def __init__(self, settings: Settings) -> None:
        self.default_rate = parse(settings.security.rate_limit)
        self.default_quota = parse(settings.security.quota)
        self.storage = storage_from_string(settings.security.storage_url)
        self.moving = MovingWindowRateLimiter(self.storage)
        self.fixed = FixedWindowRateLimiter(self.storage)

    def hit(self, identity: str, rate: str | None = None, quota: str | None = None) -> tuple[str, int] | None:
        """Count one request; None if allowed, else (which limit, seconds to wait)."""
        checks: list[tuple[str, RateLimitItem, MovingWindowRateLimiter | FixedWindowRateLimiter]] = [
            ("rate_limited", parse(rate) if rate else self.default_rate, self.moving),
            ("quota_exceeded", parse(quota) if quota else self.default_quota, self.fixed),
        ]
        try:
            for code, item, limiter in checks:
                if not limiter.hit(item, identity):
                    reset = limiter.get_window_stats(item, identity).reset_time
                    return code, max(1, math.ceil(reset - time.time()))
        except Exception as exc:  # storage down (Redis): serve rather than lock every client out
            log.warning("rate-limit storage unavailable, request allowed: %s", exc)
        return None


def _presented_key(request: Request) -> str | None:
    auth = request.headers.get("authorization")
    if auth and auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.headers.get("x-api-key")


def authorize(request: Request) -> ApiKey | None:
    """Check the key (if any) and its scope, count the request against its limits; the key or None.

    Raises:
        ProblemError: 401 (no or bad key), 403 (scope missing), 429 (rate limit or quota).
    """
    app_state = request.app.state
    store: KeyStore = app_state.keys
    scope = scope_for(request.method, request.url.path)
    presented = _presented_key(request)
    key: ApiKey | None = None
    challenge = {"WWW-Authenticate": 'Bearer realm="procure"'}
    if presented and not presented.startswith("pk_") and not app_state.keys_required:
        presented = None  # not one of our keys (an OpenAI client's placeholder token): keys are optional here
    if presented:
        try:
            key = store.verify(presented)
        except Exception as exc:  # database or data folder unusable: the key cannot be checked
            log.error("cannot check an API key: %s", exc)
            raise ProblemError(503, "key_store_unavailable", "API keys cannot be checked right now",
                               headers={"Retry-After": "5"}) from None
        if key is None:
            raise ProblemError(401, "unauthorized", "the API key is unknown or revoked", headers=challenge)
        if not key.allows(scope):
            raise ProblemError(403, "forbidden", f"this key lacks the {scope!r} scope ({', '.join(key.scopes)})")
        request.scope.setdefault("state", {})["audit_key"] = key.id
        request.scope["state"]["principal"] = Principal(key.id, admin="admin" in key.scopes)
    elif app_state.keys_required:
        raise ProblemError(401, "unauthorized",
                           f"an API key with the {scope!r} scope is required (Authorization: Bearer pk_…; "
                           "create one with `procure keys create`)", headers=challenge)
    identity = f"key:{key.id}" if key else f"ip:{request.client.host if request.client else '?'}"
    limited = app_state.rate_limits.hit(identity, key.rate_limit if key else None, key.quota if key else None)
    if limited is not None:
        code, wait = limited
        metrics.REJECTED.labels(code).inc()
        what = "rate limit" if code == "rate_limited" else "quota"
        raise ProblemError(429, code, f"{what} reached for {identity.split(':')[0]}; retry in {wait} s",
                           headers={"Retry-After": str(wait)})
    return key


Authorized = Annotated[ApiKey | None, Depends(authorize)]
AUTH = [Depends(authorize)]
"""Pass as ``dependencies=AUTH`` to ``include_router`` for every router under /v1."""
