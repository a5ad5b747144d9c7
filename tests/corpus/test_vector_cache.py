"""The vector copy next to the manifest: a search from it equals a search through Chroma, and never opens Chroma."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from chromadb.api import ClientAPI

from corpus import vector_cache
from corpus.embeddings import HashingEmbedder
from corpus.glossary import Glossary
from corpus.index import CorpusIndex, make_chroma_client, open_index
from corpus.text import Tokenizer
from tests.corpus.conftest import SOURCES

QUESTIONS = ["What is the performance density of the H20?", "H20的显存带宽是多少", "TPP threshold of the 2023 rule"]


def _sources(tmp_path: Path, *names: str) -> Path:
    folder = tmp_path / "sources"
    folder.mkdir(exist_ok=True)
    for name in names:
        shutil.copy(SOURCES / name, folder / name)
    return folder


def _index(tmp_path: Path, tokenizer: Tokenizer, glossary: Glossary, *, lazy: bool, opened: list[int]) -> CorpusIndex:
    def connect() -> ClientAPI:
        opened.append(1)
        return make_chroma_client(mode="embedded", path=tmp_path / "chroma")

    return open_index(
        manifest_path=tmp_path / "corpus.sqlite",
        client=None if lazy else connect(),
        client_factory=connect,
        collection="copy",
        embedder=HashingEmbedder(tokenizer, 256),
        tokenizer=tokenizer,
        glossary=glossary,
        vector_copy=tmp_path / "cache" / "vectors.npz",
    )


def _results(index: CorpusIndex) -> list[list[tuple[str, float]]]:
    return [[(p.chunk_id, p.score) for p in index.search(q, k=5)] for q in QUESTIONS]


def test_a_current_copy_answers_like_chroma_without_opening_it(
    tmp_path: Path, tokenizer: Tokenizer, glossary: Glossary
) -> None:
    writer = _index(tmp_path, tokenizer, glossary, lazy=False, opened=[])
    writer.ingest(_sources(tmp_path, "nvidia-h20-l20-l2-en.md", "nvidia-h20-l20-l2-zh.md"))
    expected = _results(writer)  # the first search reads the vectors from Chroma and writes the copy
    assert (tmp_path / "cache" / "vectors.npz").is_file()
    opened: list[int] = []
    reader = _index(tmp_path, tokenizer, glossary, lazy=True, opened=opened)
    assert _results(reader) == expected
    assert not reader.chroma_opened and not opened


def test_after_an_ingestion_elsewhere_the_copy_is_not_used(
    tmp_path: Path, tokenizer: Tokenizer, glossary: Glossary
) -> None:
    writer = _index(tmp_path, tokenizer, glossary, lazy=False, opened=[])
    sources = _sources(tmp_path, "nvidia-h20-l20-l2-en.md")
    writer.ingest(sources)
    writer.search(QUESTIONS[0])  # writes the copy for this generation
    _sources(tmp_path, "rule-2023-10-tpp-density-en.md")
    writer.ingest(sources)  # a new generation: the copy on disk is stale until the next search
    opened: list[int] = []
    reader = _index(tmp_path, tokenizer, glossary, lazy=True, opened=opened)
    assert reader.chroma_opened and opened  # the stale copy is refused, so Chroma is opened (and checked) at once
    got = _results(reader)
    assert got == _results(writer)
    assert "rule-2023-10-tpp-density-en" in {p.doc_id for p in reader.search(QUESTIONS[2], k=5)}


def test_load_refuses_another_generation_pipeline_or_rows(tmp_path: Path) -> None:
    path = tmp_path / "v.npz"
    keys = [("a#0", "h1/p"), ("a#1", "h1/p")]
    matrix = np.eye(2, 3, dtype=np.float32)
    vector_cache.save(path, vector_cache.CachedVectors(4, "p", keys, matrix, np.array([True, False])))
    got = vector_cache.load(path, generation=4, pipeline="p", keys=keys)
    assert got is not None
    assert np.array_equal(got.matrix, matrix) and got.present.tolist() == [True, False]
    assert vector_cache.load(path, generation=5, pipeline="p", keys=keys) is None
    assert vector_cache.load(path, generation=4, pipeline="q", keys=keys) is None
    assert vector_cache.load(path, generation=4, pipeline="p", keys=[("a#0", "h2/p"), ("a#1", "h1/p")]) is None
    assert vector_cache.load(path, generation=4, pipeline="p", keys=keys[:1]) is None
    path.write_bytes(b"not a zip")
    assert vector_cache.load(path, generation=4, pipeline="p", keys=keys) is None
