"""Retrieval over the project's corpus of articles and fact sheets (Chroma + BM25, fused)."""

from corpus.errors import CorpusError

__all__ = ["CorpusError"]
