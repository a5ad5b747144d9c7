"""`procure serve` starts the real server; /healthz answers 200 (what `make run` ends with)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_serve_answers_healthz(tmp_path: Path) -> None:
    exe = shutil.which("procure", path=str(Path(sys.executable).parent))
    assert exe
    port = _free_port()
    env = {**os.environ, "PROCURE_DATA_DIR": str(tmp_path), "PROCURE_PORT": str(port)}
    proc = subprocess.Popen([exe, "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code
                break
            except httpx.HTTPError:
                if proc.poll() is not None:
                    break
                time.sleep(0.3)
        assert status == 200, proc.stderr.read().decode() if proc.poll() is not None else "no answer"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_serve_with_a_missing_catalog_file_fails_in_one_line(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from service.cli import app
    from service.settings import get_settings

    get_settings.cache_clear()
    r = CliRunner().invoke(app, ["serve", "--port", "1"], env={"PROCURE_CATALOG_FILES": str(tmp_path / "my.yaml")})
    get_settings.cache_clear()
    assert r.exit_code == 2 and "my.yaml" in r.stderr and len(r.stderr.strip().splitlines()) == 1
