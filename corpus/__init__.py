"""Retrieval over the project's corpus of articles and fact sheets (Chroma + BM25, fused).

Typical use (the service builds the pieces from its settings)::

    index = open_index(manifest_path=..., client=make_chroma_client(mode="embedded", path=...),
                       collection="procure-corpus", embedder=..., tokenizer=..., glossary=load_glossary())
    index.ingest(Path("corpus/sources"))
    passages = index.search("H20 memory bandwidth", k=5)
"""

from corpus.errors import CorpusError, IndexUnavailableError, InvalidQueryError, SourceError
from corpus.index import CorpusIndex, make_chroma_client, open_index
from corpus.types import IngestReport, Passage, SearchFilters

__all__ = [
    "CorpusError",
    "CorpusIndex",
    "IndexUnavailableError",
    "IngestReport",
    "InvalidQueryError",
    "Passage",
    "SearchFilters",
    "SourceError",
    "make_chroma_client",
    "open_index",
]
