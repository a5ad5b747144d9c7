"""Corpus fixtures: a shared jieba cache, and index factories over temporary folders."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from corpus.embeddings import HashingEmbedder
from corpus.glossary import Glossary, load_glossary
from corpus.index import CorpusIndex, make_chroma_client, open_index
from corpus.text import Tokenizer, shared_tokenizer

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ROOT / "corpus" / "sources"
DEV_QUESTIONS = ROOT / "corpus" / "eval" / "retrieval_dev.jsonl"  # copy of shared/eval/retrieval_dev.jsonl
EXTENDED_QUESTIONS = ROOT / "corpus" / "eval" / "retrieval_extended.jsonl"

IndexFactory = Callable[..., CorpusIndex]


@pytest.fixture(scope="session")
def glossary() -> Glossary:
    return load_glossary()


@pytest.fixture(scope="session")
def tokenizer(tmp_path_factory: pytest.TempPathFactory, glossary: Glossary) -> Tokenizer:
    return shared_tokenizer(tmp_path_factory.mktemp("jieba"), tuple(glossary.chinese_terms))


def build_index(folder: Path, tokenizer: Tokenizer, glossary: Glossary, *, dimensions: int = 256) -> CorpusIndex:
    return open_index(
        manifest_path=folder / "corpus.sqlite",
        client=make_chroma_client(mode="embedded", path=folder / "chroma"),
        collection="test-corpus",
        embedder=HashingEmbedder(tokenizer, dimensions),
        tokenizer=tokenizer,
        glossary=glossary,
    )


@pytest.fixture
def make_index(tmp_path: Path, tokenizer: Tokenizer, glossary: Glossary) -> IndexFactory:
    """``make_index(name)`` opens (or reopens) an index stored under ``tmp_path/name``."""

    def _make(name: str = "index", *, dimensions: int = 256) -> CorpusIndex:
        return build_index(tmp_path / name, tokenizer, glossary, dimensions=dimensions)

    return _make


@pytest.fixture(scope="session")
def shipped_index(tmp_path_factory: pytest.TempPathFactory, tokenizer: Tokenizer, glossary: Glossary) -> CorpusIndex:
    """The shipped corpus/sources, ingested once per test session (default 512-dim hashing embedding)."""
    index = build_index(tmp_path_factory.mktemp("shipped"), tokenizer, glossary, dimensions=512)
    report = index.ingest(SOURCES)
    assert not report.failed, report.failed
    return index


@pytest.fixture
def sources_copy(tmp_path: Path) -> Path:
    """A private copy of three shipped documents (two languages and the seed article) to modify."""
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in ("seed-h20-return-2025-07-15.md", "nvidia-h20-l20-l2-en.md", "nvidia-a100-a800-zh.md"):
        shutil.copy(SOURCES / name, folder / name)
    return folder
