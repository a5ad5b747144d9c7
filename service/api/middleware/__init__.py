"""ASGI middleware that bounds every request before and while the routes run, one module per job.

* :mod:`.context` — :class:`RequestContextMiddleware` (outermost): request id, one JSON access-log line,
  Prometheus counters and latency, the audit event.
* :mod:`.limits` — :class:`InputLimitMiddleware`: path length (414), body size as it arrives (413), slow bodies
  (408), non-finite JSON numbers (422).
* :mod:`.admission` — :class:`WorkMiddleware`: the work control of each ``/v1`` request (solver budget,
  deadline, cancellation on disconnect and shutdown) and the slots heavy requests queue for.

The per-request work caps (workloads, alternatives) are not here: they live in the application layer
(:mod:`service.usecases.limits`) so that the CLI, the agent and batch jobs obey them too.

Pure ASGI (no ``BaseHTTPMiddleware``) so that streaming, disconnects and context variables behave.
"""

from service.api.middleware.admission import HEAVY, WorkMiddleware, cancel_all, in_flight
from service.api.middleware.context import RequestContextMiddleware
from service.api.middleware.limits import InputLimitMiddleware, check_json_numbers

__all__ = [
    "HEAVY",
    "InputLimitMiddleware",
    "RequestContextMiddleware",
    "WorkMiddleware",
    "cancel_all",
    "check_json_numbers",
    "in_flight",
]
