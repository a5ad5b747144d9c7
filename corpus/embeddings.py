"""Embedding functions: an offline hashing embedding (default) and two real-model adapters.

``make_embedder`` dispatches on a provider name with lazy imports, so neither sentence-transformers nor
network access is needed unless chosen:

- ``hashing`` — deterministic feature hashing of jieba words, CJK character bigrams, English words and
  character trigrams, signed and L2-normalised (no model, no download, identical on every machine).
- ``sentence_transformers`` — a model loaded from a local folder (never from a hub).
- ``openai`` — an OpenAI-compatible ``/embeddings`` endpoint called with httpx.

``corpus.chroma_functions.ChromaEmbeddingFunction`` adapts any of them to Chroma's protocol (a module of its own,
so that searching from a current vector copy never imports Chroma).
"""

from __future__ import annotations

import importlib
import math
import zlib
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np

from corpus.errors import IndexUnavailableError
from corpus.text import ascii_tokens, cjk_runs, normalize

if TYPE_CHECKING:
    import httpx

    from corpus.text import Tokenizer

Provider = Literal["hashing", "sentence_transformers", "openai"]
Vector = np.ndarray[Any, np.dtype[np.float32]]


class Embedder(Protocol):
    """What the index needs from an embedding model."""

    @property
    def signature(self) -> str:
        """Identifies the vector space; vectors with different signatures are never mixed."""
        ...

    def embed_documents(self, texts: list[str]) -> Vector:
        """Vectors (rows) for passages."""
        ...

    def embed_query(self, text: str) -> Vector:
        """Vector for a search query."""
        ...


MAX_REMEMBERED_PASSAGES = 5_000
"""Passage vectors kept per process (2 KB each at 512 dimensions): about four times the shipped corpus's chunks."""
_PASSAGE_VECTORS: dict[tuple[int, str, str], Vector] = {}


class HashingEmbedder:
    """Signed feature hashing of words and character n-grams into ``dimensions`` floats.

    Features: jieba words and character bigrams of Chinese runs; words (plural-stemmed) and boundary-marked
    character trigrams of English words of five or more letters. Weights are 1 + log(count); the vector is
    L2-normalised, so cosine similarity measures shared vocabulary across both languages' surface forms.

    Args:
        tokenizer: The bilingual tokenizer (for jieba words).
        dimensions: Vector size.
    """

    def __init__(self, tokenizer: Tokenizer, dimensions: int = 512) -> None:
        self.tokenizer = tokenizer
        self.dimensions = dimensions
        self._slots: dict[str, tuple[int, float]] = {}

    @property
    def signature(self) -> str:
        """``hashing-v1-<dimensions>``."""
        return f"hashing-v1-{self.dimensions}"

    def _slot(self, feature: str) -> tuple[int, float]:
        slot = self._slots.get(feature)
        if slot is None:
            h = zlib.crc32(feature.encode("utf-8"))
            slot = (h % self.dimensions, 1.0 if (h >> 31) & 1 else -1.0)
            if len(self._slots) < 500_000:
                self._slots[feature] = slot
        return slot

    def features(self, text: str) -> Counter[str]:
        """Feature counts of ``text`` (exposed for tests and diagnostics)."""
        norm = normalize(text)
        feats: Counter[str] = Counter()
        pos = 0
        for m in cjk_runs(norm):
            self._ascii_features(norm[pos : m.start()], feats)
            run = m.group()
            for word in self.tokenizer.cjk_words(run):
                feats["w:" + word] += 1
            for i in range(len(run) - 1):
                feats["b:" + run[i : i + 2]] += 1
            pos = m.end()
        self._ascii_features(norm[pos:], feats)
        return feats

    @staticmethod
    def _ascii_features(run: str, feats: Counter[str]) -> None:
        for word in ascii_tokens(run):
            feats["w:" + word] += 1
            if len(word) >= 5 and word.isalpha():
                marked = f"<{word}>"
                for i in range(len(marked) - 2):
                    feats["t:" + marked[i : i + 3]] += 1

    def _embed(self, text: str) -> Vector:
        vec = np.zeros(self.dimensions, dtype=np.float32)
        for feature, count in self.features(text).items():
            index, sign = self._slot(feature)
            vec[index] += sign * (1.0 + math.log(count))
        norm = float(np.linalg.norm(vec))
        if norm > 0:
            vec /= norm
        return vec

    def embed_documents(self, texts: list[str]) -> Vector:
        """Vectors for passages, one row each.

        A passage this process embedded before with the same dimensions and glossary words is not embedded again:
        every fresh data folder indexes the same shipped documents.
        """
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        rows = []
        for text in texts:
            key = (self.dimensions, self.tokenizer.words_key, text)
            vec = _PASSAGE_VECTORS.get(key)
            if vec is None:
                vec = self._embed(text)
                if len(_PASSAGE_VECTORS) >= MAX_REMEMBERED_PASSAGES:
                    _PASSAGE_VECTORS.clear()
                _PASSAGE_VECTORS[key] = vec
            rows.append(vec)
        return np.stack(rows)  # a copy: the remembered rows are never handed out

    def embed_query(self, text: str) -> Vector:
        """Vector for a query (same features as passages)."""
        return self._embed(text)


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from a local folder (the package is imported only here).

    Args:
        model_path: Folder holding the model (e.g. a downloaded bge-m3 or multilingual-e5).
    """

    def __init__(self, model_path: Path) -> None:
        try:
            module: Any = importlib.import_module("sentence_transformers")
        except ImportError:
            raise IndexUnavailableError(
                "embeddings provider 'sentence_transformers' needs the package: pip install 'procure[embeddings]'"
            ) from None
        if not model_path.is_dir():
            raise IndexUnavailableError(f"sentence-transformers model folder {model_path} does not exist")
        self._model: Any = module.SentenceTransformer(str(model_path), local_files_only=True)
        generic = model_path.name.lower() in {"model", "models", "snapshot", "weights"}
        self._name = f"{model_path.parent.name}-{model_path.name}" if generic else model_path.name

    @property
    def signature(self) -> str:
        """``st-<folder name>`` (``st-<parent>-<folder>`` for a folder named just "model")."""
        return f"st-{self._name}"

    def embed_documents(self, texts: list[str]) -> Vector:
        """Normalised model vectors for passages."""
        out = self._model.encode(texts, normalize_embeddings=True, show_progress_bar=False)
        return np.asarray(out, dtype=np.float32)

    def embed_query(self, text: str) -> Vector:
        """Normalised model vector for a query."""
        vector: Vector = self.embed_documents([text])[0]
        return vector


class OpenAIEmbedder:
    """An OpenAI-compatible ``POST {base_url}/embeddings`` endpoint (vLLM, Ollama, DeepSeek, OpenAI …).

    Args:
        base_url: Endpoint base, e.g. ``http://127.0.0.1:11434/v1``.
        model: Model name sent with each request.
        api_key: Bearer token, if the endpoint needs one.
        client: An httpx client to use (tests pass one with a mock transport).
        batch_size: Texts per request.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        client: httpx.Client | None = None,
        batch_size: int = 64,
    ) -> None:
        import httpx

        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = client or httpx.Client(timeout=60.0)
        self._headers = headers
        self._url = base_url.rstrip("/") + "/embeddings"
        self._model = model
        self._batch = batch_size

    @property
    def signature(self) -> str:
        """``openai-<model>``."""
        return f"openai-{self._model}"

    def _request(self, texts: list[str]) -> list[list[float]]:
        import httpx

        try:
            response = self._client.post(
                self._url, json={"model": self._model, "input": texts}, headers=self._headers
            )
            response.raise_for_status()
            rows = sorted(response.json()["data"], key=lambda r: r["index"])
            return [list(map(float, r["embedding"])) for r in rows]
        except httpx.HTTPStatusError as exc:
            raise IndexUnavailableError(
                f"embeddings endpoint {self._url} answered {exc.response.status_code}; check base_url, model and key"
            ) from None
        except httpx.HTTPError as exc:
            raise IndexUnavailableError(f"embeddings endpoint {self._url} is unreachable: {exc}") from None
        except (KeyError, TypeError, ValueError) as exc:
            raise IndexUnavailableError(f"embeddings endpoint {self._url} gave an unexpected answer: {exc}") from None

    def embed_documents(self, texts: list[str]) -> Vector:
        """Endpoint vectors for passages, L2-normalised."""
        rows: list[list[float]] = []
        for i in range(0, len(texts), self._batch):
            rows.extend(self._request(texts[i : i + self._batch]))
        if len(rows) != len(texts):
            raise IndexUnavailableError(f"embeddings endpoint returned {len(rows)} vectors for {len(texts)} texts")
        matrix = np.asarray(rows, dtype=np.float32).reshape(len(texts), -1)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return (matrix / np.where(norms == 0, 1, norms)).astype(np.float32)

    def embed_query(self, text: str) -> Vector:
        """Endpoint vector for a query."""
        vector: Vector = self.embed_documents([text])[0]
        return vector


def make_embedder(
    provider: Provider,
    *,
    tokenizer: Tokenizer,
    dimensions: int = 512,
    model_path: Path | None = None,
    base_url: str | None = None,
    model: str | None = None,
    api_key: str | None = None,
) -> Embedder:
    """Build the embedding function named by ``provider`` (imports of optional packages happen here).

    Args:
        provider: ``hashing``, ``sentence_transformers`` or ``openai``.
        tokenizer: The bilingual tokenizer (used by ``hashing``).
        dimensions: Vector size of the hashing embedding.
        model_path: Local model folder for ``sentence_transformers``.
        base_url: Endpoint base for ``openai``.
        model: Model name for ``openai``.
        api_key: Bearer token for ``openai``.

    Returns:
        The embedder.

    Raises:
        IndexUnavailableError: A required setting or package is missing.
    """
    if provider == "hashing":
        return HashingEmbedder(tokenizer, dimensions)
    if provider == "sentence_transformers":
        if model_path is None:
            raise IndexUnavailableError("embeddings provider 'sentence_transformers' needs a local model_path")
        return SentenceTransformerEmbedder(model_path)
    if provider == "openai":
        if not base_url or not model:
            raise IndexUnavailableError("embeddings provider 'openai' needs base_url and model")
        return OpenAIEmbedder(base_url, model, api_key=api_key)
    raise IndexUnavailableError(f"unknown embeddings provider {provider!r}")


def __getattr__(name: str) -> Any:
    """``ChromaEmbeddingFunction`` lives in :mod:`corpus.chroma_functions` (it imports Chroma, ~0.5 s)."""
    if name == "ChromaEmbeddingFunction":
        from corpus.chroma_functions import ChromaEmbeddingFunction

        return ChromaEmbeddingFunction
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
