"""Corpus search and ingestion (responses never name server paths)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from service import usecases
from service.deps import ContextDep
from service.usecases import MAX_K, MAX_QUERY_CHARS, IngestReport, IsoDate, Kind, Language, Passage, SearchFilters

router = APIRouter(prefix="/v1/corpus", tags=["corpus"])


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
    ctx: ContextDep,
    q: Annotated[str, Query(description="Question or keywords, Chinese or English (not empty).",
                            json_schema_extra={"minLength": 1, "maxLength": MAX_QUERY_CHARS, "pattern": r"\S"})],
    k: Annotated[int, Query(description=f"Number of passages, 1 to {MAX_K}.",
                            json_schema_extra={"minimum": 1, "maximum": MAX_K})] = 5,
    kind: Annotated[list[Kind] | None, Query(description="Only these kinds (repeatable).")] = None,
    language: Annotated[list[Language] | None, Query(description="Only these languages (repeatable).")] = None,
    date_from: Annotated[IsoDate | None, Query(description="Published on or after (YYYY-MM-DD).")] = None,
    date_to: Annotated[IsoDate | None, Query(description="Published on or before (YYYY-MM-DD).")] = None,
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
    return SearchResults(query=q, k=k, passages=usecases.search(ctx, q, k=k, filters=filters))


@router.post("/documents")
def ingest_documents(body: CorpusDocumentCreate, ctx: ContextDep) -> IngestReport:
    """Ingest a file or folder from the allowed server folder (incremental; unchanged files are skipped).

    Paths in the report are relative to the allowed folder.
    """
    return usecases.ingest(ctx, body.path, restricted=True)
