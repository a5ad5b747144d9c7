"""Schemathesis against the app: every operation, bounded examples; no 5xx, every status and body documented.

The number of generated cases is written to ``bench/results/schemathesis.json`` by the last test.
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests.models
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.schemas import BaseSchema
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from service.app import create_app
from service.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
MAX_EXAMPLES = 25
CASES: Counter[str] = Counter()
STATUSES: Counter[int] = Counter()
# One worker runs the whole file, in file order (``--dist loadgroup``): the record below counts what the first test ran.
pytestmark = pytest.mark.xdist_group("schemathesis")


@pytest.fixture(scope="module")
def contract_schema() -> Iterator[BaseSchema]:
    """The app's OpenAPI schema, loaded when the test runs (not at collection, which every xdist worker does)."""
    app = create_app(Settings(
        data_dir=Path(tempfile.mkdtemp(prefix="procure-st-")),
        warm_index=False,
        security={"rate_limit": "1000000/minute", "quota": "10000000/day"},
        limits={"solver_budget_s": 2, "request_deadline_s": 120},
        solver={"time_limit_s": 1},
        # The jobs that POST /v1/jobs submits are answered (201, pending) and never looked at again (the other job
        # routes get generated ids): running them in the API started two worker processes per job, ~40 CPU-s on
        # 2 cores that also slowed the operations after them. tests/jobs runs jobs.
        jobs={"run_in_api": False},
    ))
    with TestClient(app), _one_client(app):
        app.state.ctx.corpus.get()  # open (bootstrap) the index so that /readyz is ready and searches work
        yield schemathesis.openapi.from_asgi("/openapi.json", app)


@contextmanager
def _one_client(app: Any) -> Iterator[None]:
    """Send every case through one in-process client, and read each response body in one piece.

    Schemathesis builds a new ``requests`` session per call: each one also read the proxy variables and looked for
    ``~/.netrc`` (``trust_env``), ~0.2 ms a case over ~24,000 cases, for an app reached in-process. And ``requests``
    reads a body in 10 KiB chunks: a report inlines plotly.js (~4.6 MB), ~460 reads for each of ~1,500 reports.
    Patched here rather than passed as ``session=`` because ``derandomize`` seeds from the test function's source
    and signature: changing them draws other examples (one of those was a ``POST /v1/chat`` with ``stream: true``
    that failed ST108 while its ``text/event-stream`` schema was ``type: string``; the schema is now one event's,
    and tests/agent/test_chat_api.py checks both streams against it).
    """
    with asgi.get_client(app) as client, pytest.MonkeyPatch.context() as mp:
        client.trust_env = False

        @contextmanager
        def reuse(application: Any, *, max_stream_events: int = asgi.DEFAULT_MAX_STREAM_EVENTS) -> Iterator[Any]:
            assert application is app, "one app per run"
            client.cookies.clear()  # each case stands alone, as with a new client
            client.adapter.max_stream_events = max_stream_events
            yield client

        mp.setattr(asgi, "get_client", reuse)
        mp.setattr(requests.models, "CONTENT_CHUNK_SIZE", 16 * 1024 * 1024)  # the body is in memory already
        yield


# Lazy: the cases (the coverage phase's ~19,000 among them) are generated when the test runs, one subtest per
# operation; built at import they cost ~50 s of collection in every pytest process, xdist workers included.
schema = schemathesis.pytest.from_fixture("contract_schema")


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_every_operation_conforms(case: schemathesis.Case) -> None:
    response = case.call_and_validate(checks=[not_a_server_error, status_code_conformance, content_type_conformance,
                                              response_schema_conformance, unsupported_method,
                                              allow_header_conformance],
                                      timeout=60)  # a cold first call on a loaded 2-CPU machine can pass 10 s
    CASES[f"{case.method} {case.path}"] += 1
    STATUSES[response.status_code] += 1


@pytest.mark.slow
def test_zz_record_case_count() -> None:
    """Runs after the parametrised test (file order): record how many cases were generated and answered."""
    assert sum(CASES.values()) >= 100, CASES
    out = ROOT / "bench" / "results" / "schemathesis.json"
    out.write_text(json.dumps({"cases": sum(CASES.values()), "max_examples_per_operation": MAX_EXAMPLES,
                               "operations": dict(sorted(CASES.items())),
                               "statuses": {str(k): v for k, v in sorted(STATUSES.items())},
                               "failures": 0}, indent=2) + "\n", encoding="utf-8")
