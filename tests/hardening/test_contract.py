"""Schemathesis against the app: every operation, bounded examples; no 5xx, every status and body documented.

The number of generated cases is written to ``bench/results/schemathesis.json`` by the last test.
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
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
    ))
    with TestClient(app):
        app.state.ctx.corpus.get()  # open (bootstrap) the index so that /readyz is ready and searches work
        yield schemathesis.openapi.from_asgi("/openapi.json", app)


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
