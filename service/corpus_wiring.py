"""Build the corpus index from settings (CLI and FastAPI lifespan); the corpus package never sees settings.

The index modules (Chroma, bm25s, jieba) are imported inside :func:`build_corpus`, not at import time, so
``procure --help`` and commands that never search do not pay for them.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

import corpus
from service.settings import Settings

if TYPE_CHECKING:
    from chromadb.api import ClientAPI

    from corpus.index import CorpusIndex

SHIPPED_SOURCES = Path(corpus.__file__).resolve().parent / "sources"
MANIFEST_FILE = "corpus.sqlite"


def corpus_dir(settings: Settings) -> Path:
    """Folder indexed by ``procure ingest`` without a path: ``corpus_dir`` or the shipped ``corpus/sources``."""
    return settings.corpus_dir or SHIPPED_SOURCES


def ingest_allowed_dir(settings: Settings) -> Path:
    """Only paths under this folder may be ingested over HTTP."""
    return settings.ingest_allowed_dir or corpus_dir(settings)


def build_corpus(settings: Settings, *, bootstrap: bool = False) -> CorpusIndex:
    """Open the index named by settings; with ``bootstrap``, ingest :func:`corpus_dir` into an empty one.

    Args:
        settings: Service settings (data folder, Chroma mode, embedding provider).
        bootstrap: Ingest the default documents when the index has none yet (first run on a fresh data folder).

    Returns:
        The index, ready to search.

    Raises:
        IndexUnavailableError: Chroma, the manifest or the embedding model cannot be opened.
        IndexBusyError: ``bootstrap`` had to ingest but another ingestion held the lock too long.
    """
    from corpus.embeddings import make_embedder
    from corpus.glossary import load_glossary
    from corpus.index import make_chroma_client, open_index
    from corpus.rerank import make_reranker
    from corpus.text import shared_tokenizer

    glossary = load_glossary()
    tokenizer = shared_tokenizer(settings.data_dir / "cache" / "jieba", tuple(glossary.chinese_terms))
    emb = settings.embeddings
    embedder = make_embedder(
        emb.provider,
        tokenizer=tokenizer,
        dimensions=emb.dimensions,
        model_path=emb.model_path,
        base_url=emb.base_url,
        model=emb.model,
        api_key=emb.api_key.get_secret_value() if emb.api_key else None,
    )
    def connect() -> ClientAPI:
        chroma = settings.chroma
        return make_chroma_client(
            mode=chroma.mode, path=settings.chroma_path, host=chroma.host, port=chroma.port, ssl=chroma.ssl
        )

    client = connect()
    reranker = make_reranker(emb.reranker, tokenizer=tokenizer, glossary=glossary, model_path=emb.reranker_model_path)
    index = open_index(
        manifest_path=settings.data_dir / MANIFEST_FILE,
        client=client,
        collection=settings.chroma.collection,
        embedder=embedder,
        tokenizer=tokenizer,
        glossary=glossary,
        ingest_wait_s=settings.ingest_wait_s,
        client_factory=connect if settings.chroma.mode == "embedded" else None,
        reranker=reranker,
        rerank_weight=emb.rerank_weight,
        mix_languages=emb.mix_languages,
    )
    if bootstrap and index.is_empty and corpus_dir(settings).is_dir():
        index.ingest(corpus_dir(settings))
    return index


class LazyCorpus:
    """Opens the index on first use (the API starts fast; the first search pays for jieba and Chroma).

    Args:
        settings: Service settings.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._index: CorpusIndex | None = None
        self._lock = threading.Lock()

    def get(self, *, bootstrap: bool = True) -> CorpusIndex:
        """The index, built once; with ``bootstrap`` a fresh data folder first gets the default documents."""
        if self._index is None:
            with self._lock:
                if self._index is None:
                    self._index = build_corpus(self.settings, bootstrap=bootstrap)
        return self._index
