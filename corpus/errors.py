"""Errors raised by the retrieval package.

Hierarchy::

    CorpusError               root; carries a stable ``code``
    ├── InvalidQueryError     empty query, bad k or filter (code ``invalid_query``)
    ├── SourceError           a document cannot be read or is not allowed (code ``source_invalid``)
    ├── IndexUnavailableError the index is missing or unusable (code ``index_unavailable``)
    └── IndexBusyError        another ingestion holds the index's write lock (code ``index_busy``)
"""

from __future__ import annotations


class CorpusError(Exception):
    """Root of the retrieval errors; ``code`` is stable and machine-readable."""

    code: str = "corpus_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidQueryError(CorpusError):
    """The query, k or a filter is invalid."""

    code = "invalid_query"


class SourceError(CorpusError):
    """A source document cannot be read, decoded or is outside the allowed folder."""

    code = "source_invalid"


class IndexUnavailableError(CorpusError):
    """The index is missing or cannot be opened."""

    code = "index_unavailable"


class IndexBusyError(CorpusError):
    """Another ingestion (in this or another process) holds the index's write lock longer than we may wait."""

    code = "index_busy"
