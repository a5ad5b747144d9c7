"""Embedding functions: the offline hashing default and the pluggable real-model adapters."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import numpy as np
import pytest

from corpus.embeddings import ChromaEmbeddingFunction, HashingEmbedder, OpenAIEmbedder, make_embedder
from corpus.errors import IndexUnavailableError
from corpus.text import Tokenizer


def test_hashing_is_deterministic_normalised_and_meaningful(tokenizer: Tokenizer) -> None:
    a = HashingEmbedder(tokenizer, 256)
    b = HashingEmbedder(tokenizer, 256)
    texts = ["H20 显存带宽 4.0 TB/s", "H20 memory bandwidth is 4.0 TB/s", "China Mobile bought 7994 servers"]
    va, vb = a.embed_documents(texts), b.embed_documents(texts)
    assert va.shape == (3, 256) and va.dtype == np.float32
    assert np.array_equal(va, vb)
    assert np.allclose(np.linalg.norm(va, axis=1), 1.0)
    q = a.embed_query("H20 memory bandwidth")
    assert float(q @ va[1]) > float(q @ va[2])
    assert a.signature == "hashing-v1-256"


def test_openai_compatible_endpoint(tokenizer: Tokenizer) -> None:
    seen: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append({"auth": request.headers.get("authorization"), **body})
        rows = list(enumerate(body["input"]))[::-1]  # out of order on purpose
        data = [{"index": i, "embedding": [float(len(t)), 1.0, 0.0]} for i, t in rows]
        return httpx.Response(200, json={"data": data})

    client = httpx.Client(transport=httpx.MockTransport(handler))
    emb = OpenAIEmbedder("http://emb.local/v1/", "bge-m3", api_key="k", client=client, batch_size=2)
    vectors = emb.embed_documents(["a", "bbb", "cc"])
    assert vectors.shape == (3, 3)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    assert vectors[1][0] > vectors[0][0]  # order restored from "index"
    assert [s["input"] for s in seen] == [["a", "bbb"], ["cc"]] and seen[0]["auth"] == "Bearer k"
    assert emb.signature == "openai-bge-m3"


def test_openai_endpoint_errors_are_index_unavailable() -> None:
    client = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(401, json={"error": "no"})))
    emb = OpenAIEmbedder("http://emb.local/v1", "m", client=client)
    with pytest.raises(IndexUnavailableError, match="answered 401"):
        emb.embed_query("x")


def test_factory_requires_settings_for_real_models(tokenizer: Tokenizer, tmp_path: Path) -> None:
    assert isinstance(make_embedder("hashing", tokenizer=tokenizer, dimensions=64), HashingEmbedder)
    with pytest.raises(IndexUnavailableError, match="model_path"):
        make_embedder("sentence_transformers", tokenizer=tokenizer)
    with pytest.raises(IndexUnavailableError, match="base_url and model"):
        make_embedder("openai", tokenizer=tokenizer)
    with pytest.raises(IndexUnavailableError):
        # either the package is missing or the folder is: never a download
        make_embedder("sentence_transformers", tokenizer=tokenizer, model_path=tmp_path / "no-model")


def test_chroma_adapter_round_trip(tokenizer: Tokenizer) -> None:
    fn = ChromaEmbeddingFunction(HashingEmbedder(tokenizer, 32))
    assert fn.get_config() == {"signature": "hashing-v1-32"}
    assert len(fn(["一", "two"])) == 2
    rebuilt = ChromaEmbeddingFunction.build_from_config(fn.get_config())
    with pytest.raises(IndexUnavailableError, match="reopened without"):
        rebuilt(["x"])


def test_a_passage_is_embedded_once_per_process_and_glossary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every fresh data folder indexes the same shipped passages: the second index reuses the vectors, but only
    for the same dimensions and glossary words (which change the cuts), and never hands out its own rows."""
    texts = ["昇腾910B 的显存带宽 1.6 TB/s (a remembered passage)", "H20 memory bandwidth 4.0 TB/s, remembered"]
    first = HashingEmbedder(Tokenizer(tmp_path / "a", ("显存带宽",)), 256).embed_documents(texts)
    made: list[str] = []
    original = HashingEmbedder._embed
    monkeypatch.setattr(HashingEmbedder, "_embed", lambda self, t: made.append(t) or original(self, t))
    again = HashingEmbedder(Tokenizer(tmp_path / "b", ("显存带宽",)), 256).embed_documents(texts)
    assert made == [] and np.array_equal(first, again)
    again[0, :] = 0.0  # the caller's copy
    assert np.array_equal(HashingEmbedder(Tokenizer(None, ("显存带宽",)), 256).embed_documents(texts), first)
    HashingEmbedder(Tokenizer(None, ("带宽",)), 256).embed_documents(texts)  # other words: computed again
    HashingEmbedder(Tokenizer(None, ("显存带宽",)), 128).embed_documents(texts)  # other dimensions: too
    assert made == texts + texts
