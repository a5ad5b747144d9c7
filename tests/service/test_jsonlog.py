"""Structured logs follow ``sys.stderr``: a stream captured and closed earlier never swallows later records."""

from __future__ import annotations

import io
import json
import logging
import sys

import pytest

from service.jsonlog import StderrHandler, configure_logging


def test_records_go_to_the_current_stderr_after_the_old_one_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    first = io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    configure_logging("info")  # what `procure serve` does, here inside a runner that captured stderr
    first.close()
    second = io.StringIO()
    monkeypatch.setattr(sys, "stderr", second)
    logging.getLogger("procure.test").warning("after the capture ended")
    lines = second.getvalue().splitlines()
    assert len(lines) == 1, lines  # one JSON line, no "--- Logging error ---" traceback
    record = json.loads(lines[0])
    assert record["msg"] == "after the capture ended" and record["level"] == "warning"
    assert [type(h) for h in logging.getLogger().handlers] == [StderrHandler]


def test_configure_logging_routes_uvicorn_through_the_root(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    monkeypatch.setattr(sys, "stderr", out)
    configure_logging("warning")
    logging.getLogger("uvicorn.error").info("hidden below the level")
    logging.getLogger("uvicorn.error").error("shown")
    assert [json.loads(line)["msg"] for line in out.getvalue().splitlines()] == ["shown"]
    assert logging.getLogger("uvicorn.error").handlers == [] and logging.getLogger("uvicorn.error").propagate
