"""Chroma server mode for real: ``chroma run`` on 127.0.0.1, ingest and search through PROCURE_CHROMA_URL."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from corpus.eval import load_questions
from corpus.types import SearchFilters
from service.corpus_wiring import SHIPPED_SOURCES, build_corpus
from service.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
QUESTIONS = [ROOT / "corpus" / "eval" / "retrieval_dev.jsonl", ROOT / "corpus" / "eval" / "retrieval_extended.jsonl"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Chroma server started from the chromadb package's own ``chroma`` command, stopped afterwards."""
    command = Path(sys.executable).parent / "chroma"
    if not command.exists():
        # chromadb is a dependency and ships the command: its absence is a broken install, not a reason to skip
        pytest.fail(f"the chroma command is not installed next to {sys.executable}; it comes with the chromadb "
                    "dependency: run `make install` (or `pip install -e .`) in this venv")
    folder = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    log = (folder / "server.log").open("wb")
    process = subprocess.Popen(
        [str(command), "run", "--path", str(folder / "data"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"chroma run did not start: {(folder / 'server.log').read_text(errors='replace')[-2000:]}")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.mark.slow
@pytest.mark.integration
def test_server_mode_gives_the_same_results_as_embedded(
    chroma_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROCURE_CHROMA_URL", chroma_server)
    served_settings = Settings(data_dir=tmp_path / "served", corpus_dir=SHIPPED_SOURCES)
    assert served_settings.chroma.mode == "http" and served_settings.chroma.port == int(chroma_server.rsplit(":", 1)[1])
    monkeypatch.delenv("PROCURE_CHROMA_URL")
    served = build_corpus(served_settings, bootstrap=True)
    embedded = build_corpus(Settings(data_dir=tmp_path / "embedded", corpus_dir=SHIPPED_SOURCES), bootstrap=True)
    assert served.stats() == embedded.stats() and served.stats()["documents"] == len(list(SHIPPED_SOURCES.glob("*.md")))
    # the vectors really live in the server
    assert served.collection.count() == served.stats()["chunks"]

    filters = [None, SearchFilters(language=("zh",)), SearchFilters(date_to=dt.date(2024, 12, 31))]
    questions = [q.q for path in QUESTIONS for q in load_questions(path)]
    for question in questions:
        for f in filters:
            a = [(p.chunk_id, p.score) for p in served.search(question, k=5, filters=f)]
            b = [(p.chunk_id, p.score) for p in embedded.search(question, k=5, filters=f)]
            assert a == b, (question, f)

    # an ingestion through the server-backed index is seen by a second service process using the same server
    other = build_corpus(served_settings)
    note = tmp_path / "note.md"
    note.write_text("---\nid: server-note\npublished: 2025-05-05\n---\nThe Numbat N5 card has 40 GB of memory.\n")
    served.ingest(note)
    assert other.search("Numbat N5 memory", k=1)[0].doc_id == "server-note"
