"""Corpus search and ingestion."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from corpus.types import MAX_K, IngestReport, Kind, Language, Passage, SearchFilters
from service.corpus_wiring import LazyCorpus, ingest_allowed_dir
from service.settings import Settings

if TYPE_CHECKING:  # the index module (Chroma, bm25s) is imported on the first corpus request, not at start-up
    from corpus.index import CorpusIndex

router = APIRouter(prefix="/v1/corpus", tags=["corpus"])


def get_corpus(request: Request) -> CorpusIndex:
    """The corpus index held by the app (opened, and bootstrapped on a fresh data folder, on first use)."""
    holder: LazyCorpus | None = getattr(request.app.state, "corpus", None)
    if holder is None:
        settings: Settings = request.app.state.settings
        holder = request.app.state.corpus = LazyCorpus(settings)
    return holder.get()


CorpusDep = Annotated["CorpusIndex", Depends(get_corpus)]


class SearchResults(BaseModel):
    """Passages found for a query, best first."""

    query: str
    k: int
    passages: list[Passage]


class CorpusDocumentCreate(BaseModel):
    """Body of ``POST /v1/corpus/documents``: a file or folder on the server, inside the allowed folder."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(
        min_length=1,
        max_length=4096,
        description="File or folder to ingest; relative paths are taken from the allowed ingestion folder.",
    )


@router.get("/search")
def search_corpus(
    corpus: CorpusDep,
    q: Annotated[str, Query(description="Question or keywords, Chinese or English.")],
    k: Annotated[int, Query(description=f"Number of passages, 1 to {MAX_K}.")] = 5,
    kind: Annotated[list[Kind] | None, Query(description="Only these kinds (repeatable).")] = None,
    language: Annotated[list[Language] | None, Query(description="Only these languages (repeatable).")] = None,
    date_from: Annotated[dt.date | None, Query(description="Published on or after (YYYY-MM-DD).")] = None,
    date_to: Annotated[dt.date | None, Query(description="Published on or before (YYYY-MM-DD).")] = None,
    include_nonfactual: Annotated[bool, Query(description="Also return comments and disclaimers.")] = False,
) -> SearchResults:
    """Hybrid search (BM25 + vectors, fused) over the corpus."""
    filters = SearchFilters(
        kind=tuple(kind) if kind else None,
        language=tuple(language) if language else None,
        date_from=date_from,
        date_to=date_to,
        include_nonfactual=include_nonfactual,
    )
    return SearchResults(query=q, k=k, passages=corpus.search(q, k=k, filters=filters))


@router.post("/documents")
def ingest_documents(body: CorpusDocumentCreate, corpus: CorpusDep, request: Request) -> IngestReport:
    """Ingest a file or folder from the allowed server folder: incremental, and atomic as a whole."""
    settings: Settings = request.app.state.settings
    allowed = ingest_allowed_dir(settings)
    path = Path(body.path)
    return corpus.ingest(path if path.is_absolute() else allowed / path, allowed_root=allowed, atomic=True)
