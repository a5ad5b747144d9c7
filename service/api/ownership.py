"""Jobs and chat sessions belong to the API key that created them.

A request sees its own key's jobs and sessions (one without a key sees those made without a key); the ``admin``
scope sees all. Anything else answers 404, exactly as for an id that does not exist, so ids of other keys'
work cannot be probed; each such attempt is written to the audit log (event ``cross_owner``).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import Request

from service.api.security import principal
from service.jobs.store import ANY_OWNER, JobNotFoundError, JobStore

log = logging.getLogger("procure.security")


def acting_owner(request: Request) -> Any:
    """The ``owner`` argument for the job store: :data:`ANY_OWNER` for admin, else the key id (or None)."""
    who = principal(request)
    return ANY_OWNER if who.admin else who.key_id


def audit_cross_owner(request: Request, what: str, resource_id: str) -> None:
    """Record that a request asked for another key's job or session (the answer was 404)."""
    who = principal(request)
    store = getattr(request.app.state, "keys", None)
    if store is None:
        return
    try:
        store.audit("cross_owner", key_id=who.key_id, method=request.method, path=request.url.path,
                    status=404, client=request.client.host if request.client else None,
                    request_id=request.headers.get("x-request-id"),
                    detail=f"{what} {resource_id} belongs to another key")
    except Exception:  # the audit log must never turn an answer into an error
        log.exception("could not write the cross-owner audit event")


def guard_job(request: Request, store: JobStore, job_id: str) -> Any:
    """The owner to read ``job_id`` as; raises 404 (and audits) when the job is another key's.

    Raises:
        JobNotFoundError: no such job, or it belongs to another key.
    """
    owner = acting_owner(request)
    if owner is ANY_OWNER:
        return owner
    actual = store.owner_of(job_id)
    if actual != owner:
        audit_cross_owner(request, "job", job_id)
        raise JobNotFoundError(job_id)
    return owner
