"""HTTP API for the corpus: search and ingestion, with problem+json errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.settings import Settings


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    data = tmp_path_factory.mktemp("api-data")
    allowed = tmp_path_factory.mktemp("api-allowed")
    (allowed / "note.md").write_text(
        "---\nid: api-note\nkind: analysis\nlanguage: en\npublished: 2026-03-01\n---\n"
        "The Quuxtron-7 accelerator ships with 77 GB of memory.\n",
        encoding="utf-8",
    )
    (allowed / "gbk.txt").write_bytes("英伟达".encode("gbk"))
    return data, allowed


@pytest.fixture(scope="module")
def client(folders: tuple[Path, Path]) -> Iterator[TestClient]:
    data, allowed = folders
    settings = Settings(data_dir=data, ingest_allowed_dir=allowed)
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        yield c


def test_search_on_a_fresh_data_folder(client: TestClient) -> None:
    r = client.get("/v1/corpus/search", params={"q": "What is the TPP threshold in the October 2023 rule?", "k": 5})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["k"] == 5 and len(body["passages"]) == 5
    assert {"text", "doc_id", "title", "score", "start", "end", "language"} <= body["passages"][0].keys()
    assert any("4,800" in p["text"] or "4800" in p["text"] for p in body["passages"])


def test_search_filters(client: TestClient) -> None:
    r = client.get("/v1/corpus/search", params=[("q", "H20"), ("kind", "regulation"), ("language", "zh")])
    assert r.status_code == 200
    assert all(p["kind"] == "regulation" and p["language"] == "zh" for p in r.json()["passages"])


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"q": ""}, "invalid_query"),
        ({"q": "   "}, "invalid_query"),
        ({"q": "H20", "k": 0}, "invalid_query"),
        ({"q": "H20", "k": 10_000}, "invalid_query"),
        ({"q": "H20", "k": "many"}, "validation_error"),
        ({}, "validation_error"),
        ({"q": "H20", "kind": "blog"}, "validation_error"),
        ({"q": "H20", "date_from": "2026-01-01", "date_to": "2025-01-01"}, "validation_error"),
    ],
)
def test_bad_searches_are_422_problems(client: TestClient, params: dict[str, object], code: str) -> None:
    r = client.get("/v1/corpus/search", params=params)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == code


def test_ingest_inside_the_allowed_folder(client: TestClient) -> None:
    r = client.post("/v1/corpus/documents", json={"path": "note.md"})
    assert r.status_code == 200, r.text
    assert r.json()["added"] == ["api-note"]
    again = client.post("/v1/corpus/documents", json={"path": "note.md"}).json()
    assert again["unchanged"] == ["api-note"] and again["chunks_written"] == 0
    hits = client.get("/v1/corpus/search", params={"q": "Quuxtron-7 memory", "k": 1}).json()["passages"]
    assert hits[0]["doc_id"] == "api-note" and hits[0]["date"] == "2026-03-01"


@pytest.mark.parametrize(
    ("payload", "needle"),
    [
        ({"path": "/etc/passwd"}, "outside the folder allowed"),
        ({"path": "../../etc/passwd"}, "outside the folder allowed"),
        ({"path": "missing.md"}, "does not exist"),
        ({"path": "gbk.txt"}, "not UTF-8"),
        ({"path": "bad\u0000name.md"}, "cannot resolve"),
    ],
)
def test_bad_ingestion_is_422_source_invalid(client: TestClient, payload: dict[str, str], needle: str) -> None:
    r = client.post("/v1/corpus/documents", json=payload)
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "source_invalid" and needle in body["detail"]


def test_ingest_body_is_validated(client: TestClient) -> None:
    assert client.post("/v1/corpus/documents", json={"path": ""}).json()["code"] == "validation_error"
    assert client.post("/v1/corpus/documents", json={"path": "a", "x": 1}).json()["code"] == "validation_error"


def test_openapi_documents_corpus_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/v1/corpus/search" in paths and "/v1/corpus/documents" in paths


def test_ingest_while_another_ingestion_runs_is_409_index_busy(folders: tuple[Path, Path]) -> None:
    from corpus.locking import IngestLock

    data, allowed = folders
    settings = Settings(data_dir=data, ingest_allowed_dir=allowed, ingest_wait_s=0)
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        c.get("/v1/corpus/search", params={"q": "H20"})  # opens (and on a fresh folder bootstraps) the index
        with IngestLock(data / "corpus.ingest.lock").hold(timeout=0):
            r = c.post("/v1/corpus/documents", json={"path": "note.md"})
        assert r.status_code == 409, r.text
        assert r.json()["code"] == "index_busy" and "another ingestion" in r.json()["detail"]
        assert c.post("/v1/corpus/documents", json={"path": "note.md"}).status_code == 200
