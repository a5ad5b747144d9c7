"""A running API serves documents that a separate ``procure ingest`` process added, without a restart."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.settings import Settings


@pytest.mark.slow
def test_api_sees_a_cli_ingestion_without_restart(tmp_path: Path) -> None:
    data, first, later = tmp_path / "data", tmp_path / "first", tmp_path / "later"
    first.mkdir()
    later.mkdir()
    (first / "zebra.md").write_text("---\nid: zebra\npublished: 2025-02-01\n---\nThe Zebra Z1 has 12 GB.\n")
    (later / "quokka.md").write_text(
        "---\nid: quokka\npublished: 2025-03-01\n---\nThe Quokka Q7 accelerator ships with 77 GB of HBM3.\n"
    )
    settings = Settings(data_dir=data, corpus_dir=first)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        first_hits = client.get("/v1/corpus/search", params={"q": "Quokka Q7 77 GB", "k": 5}).json()["passages"]
        assert [p["doc_id"] for p in first_hits] == ["zebra"]

        env = {**os.environ, "PROCURE_DATA_DIR": str(data), "PROCURE_CORPUS_DIR": str(first)}
        done = subprocess.run(
            [sys.executable, "-c", "from service.cli import main; main()", "ingest", str(later), "--json"],
            capture_output=True, text=True, env=env, timeout=120, check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]

        hits = client.get("/v1/corpus/search", params={"q": "Quokka Q7 77 GB", "k": 5}).json()["passages"]
        assert hits[0]["doc_id"] == "quokka" and hits[0]["date"] == "2025-03-01"
        filtered = client.get(
            "/v1/corpus/search", params={"q": "Quokka Q7 77 GB", "k": 1, "date_from": "2025-03-01"}
        ).json()["passages"]
        assert [p["doc_id"] for p in filtered] == ["quokka"]
