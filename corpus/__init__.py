"""Retrieval over the project's corpus of articles and fact sheets (Chroma + BM25, fused).

Typical use (the service builds the pieces from its settings)::

    index = open_index(manifest_path=..., client=make_chroma_client(mode="embedded", path=...),
                       collection="procure-corpus", embedder=..., tokenizer=..., glossary=load_glossary())
    index.ingest(Path("corpus/sources"))
    passages = index.search("H20 memory bandwidth", k=5)

Importing the package (or its light modules: ``corpus.types``, ``corpus.errors``, ``corpus.loaders``,
``corpus.eval``) does not load Chroma, bm25s or jieba; :mod:`corpus.index` is imported on first use of
``CorpusIndex``, ``open_index`` or ``make_chroma_client``, so commands that never search start fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from corpus.errors import CorpusError, IndexBusyError, IndexUnavailableError, InvalidQueryError, SourceError
from corpus.types import IngestReport, Passage, SearchFilters

if TYPE_CHECKING:
    from corpus.index import CorpusIndex, make_chroma_client, open_index

_LAZY = {"CorpusIndex": "corpus.index", "make_chroma_client": "corpus.index", "open_index": "corpus.index"}

__all__ = [
    "CorpusError",
    "CorpusIndex",
    "IndexBusyError",
    "IndexUnavailableError",
    "IngestReport",
    "InvalidQueryError",
    "Passage",
    "SearchFilters",
    "SourceError",
    "make_chroma_client",
    "open_index",
]


def __getattr__(name: str) -> Any:
    """Import the heavy index module when one of its names is first asked for (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'corpus' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
