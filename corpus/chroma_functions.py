"""Chroma's side of the embeddings: the adapter registered with Chroma (importing this module imports Chroma).

``ChromaEmbeddingFunction`` adapts any :class:`corpus.embeddings.Embedder` to Chroma's protocol; it is registered
under one name so a persisted collection can be reopened without Chroma falling back to its default
(downloading) model.
"""

from __future__ import annotations

from typing import Any, Literal

from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

from corpus.embeddings import Embedder, Vector
from corpus.errors import IndexUnavailableError


class _Unbound:
    """Stand-in embedder for a collection reopened from its stored config without ours."""

    def __init__(self, signature: str) -> None:
        self.signature = signature

    def embed_documents(self, texts: list[str]) -> Vector:
        raise IndexUnavailableError(f"collection was reopened without its embedding function ({self.signature})")

    def embed_query(self, text: str) -> Vector:
        raise IndexUnavailableError(f"collection was reopened without its embedding function ({self.signature})")


@register_embedding_function
class ChromaEmbeddingFunction(EmbeddingFunction[Documents]):
    """Chroma adapter for an :class:`Embedder`; always passed on create and on reopen.

    Args:
        embedder: The embedding function to adapt.
    """

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def __call__(self, input: Documents) -> Embeddings:  # noqa: A002 - Chroma's protocol names it so
        """Embed documents for Chroma."""
        return list(self.embedder.embed_documents(list(input)))

    def embed_query(self, input: Documents) -> Embeddings:  # noqa: A002
        """Embed queries for Chroma."""
        return [self.embedder.embed_query(text) for text in input]

    @staticmethod
    def name() -> str:
        """Registered name."""
        return "procure"

    def get_config(self) -> dict[str, Any]:
        """Stored with the collection: only the signature (never a key)."""
        return {"signature": self.embedder.signature}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ChromaEmbeddingFunction:
        """Rebuild from a stored config: a stand-in that refuses to embed (ours is passed instead)."""
        return ChromaEmbeddingFunction(_Unbound(str(config.get("signature", "unknown"))))

    def default_space(self) -> Literal["cosine"]:
        """Vectors are normalised; cosine distance."""
        return "cosine"
