"""Helpers for the hardening tests: apps with chosen settings and a request that keeps CP-SAT busy."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.settings import Settings

HEAVY_WORKLOADS = 14
HEAVY_LIMITS = {"max_workloads": 20, "max_alternatives": 10}
"""Above the default per-request caps (10 workloads, 5 alternatives): tests that send :func:`heavy_request` over
HTTP raise these documented settings so that the solve is long enough to be cancelled."""


def heavy_request(n: int = HEAVY_WORKLOADS, alternatives: int = 8, pareto: bool = True) -> dict[str, Any]:
    """A valid portfolio that takes about 20 s cold (14 workloads, 8 alternatives, Pareto on) on this machine.

    The buyer accepts licence risk, so every licence-required part stays in the model: with the default licence
    policy (unfavourable outlooks held back) a 10-workload portfolio solves in under a second.
    """
    workloads: list[dict[str, Any]] = []
    for i in range(n):
        if i % 2 == 0:
            workloads.append({"kind": "training", "name": f"t{i}", "params": f"{7 + i * 3}B",
                              "tokens": f"{1 + i * 0.3:.1f}T", "deadline_days": 30 + i * 7})
        else:
            workloads.append({"kind": "inference", "name": f"s{i}", "params": f"{7 + i * 5}B",
                              "requests_per_s": 20 + i * 10})
    return {"workloads": workloads, "buyer": {"country": "CN", "date": "2026-02-15"}, "objective": "min_cost",
            "policy": {"min_domestic_share": 0.3}, "alternatives": alternatives, "pareto": pareto,
            "accept_license_risk": True}


LIGHT_REQUEST: dict[str, Any] = {
    "workloads": [{"kind": "training", "name": "t", "params": "7B", "tokens": "1T", "deadline_days": 60}],
    "buyer": {"country": "CN", "date": "2026-02-15"}, "objective": "min_cost", "alternatives": 0,
}


@pytest.fixture
def make_client(tmp_path: Path) -> Iterator[Callable[..., TestClient]]:
    """Build a started TestClient for settings overrides (closed at the end of the test)."""
    opened: list[TestClient] = []

    def _make(**overrides: Any) -> TestClient:
        overrides.setdefault("data_dir", tmp_path / "data")
        client = TestClient(create_app(Settings(**overrides)), raise_server_exceptions=False)
        client.__enter__()
        opened.append(client)
        return client

    yield _make
    for client in opened:
        client.__exit__(None, None, None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``procure serve`` in a subprocess on a free loopback port."""

    def __init__(self, tmp_path: Path, env: dict[str, str] | None = None) -> None:
        exe = shutil.which("procure", path=str(Path(sys.executable).parent))
        assert exe
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        full = {**os.environ, "PROCURE_DATA_DIR": str(tmp_path / "srv"), "PROCURE_PORT": str(self.port),
                "PROCURE_WARM_INDEX": "false", **(env or {})}
        self.log = (tmp_path / "server.log").open("w+b")
        self.proc = subprocess.Popen([exe, "serve"], env=full, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.2)
        raise AssertionError(f"server did not start: {self.output()}")

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    started: list[Server] = []

    def _start(env: dict[str, str] | None = None) -> Server:
        srv = Server(tmp_path, env)
        started.append(srv)
        return srv

    yield _start
    for srv in started:
        srv.stop()
