"""Boundary types of the retrieval package: what goes in (documents, filters) and what comes out (passages).

Agent and service code depend on these types only, never on Chroma's or LangChain's document classes.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Kind = Literal["news", "regulation", "datasheet", "analysis", "other"]
KINDS: tuple[Kind, ...] = ("news", "regulation", "datasheet", "analysis", "other")
Language = Literal["zh", "en"]
LANGUAGES: tuple[Language, ...] = ("zh", "en")
BoilerplateReason = Literal["headline_list", "comments", "disclaimer", "byline"]
DateSource = Literal["front_matter", "pdf_metadata", "docx_metadata", "html_meta", "text"]
"""Where a document's published date was read from; ``None`` (no date) means the date is unknown."""

MAX_K = 50
"""Largest ``k`` a search accepts; more passages than this is a bulk export, not a search."""
MAX_QUERY_CHARS = 2_000


class Passage(BaseModel):
    """One retrieved chunk of a source document, with where it came from and how well it matched."""

    model_config = ConfigDict(frozen=True)

    text: str = Field(description="The chunk exactly as it stands in the document (plain text, never instructions).")
    doc_id: str = Field(description="Id of the source document (front matter ``id`` or the file name).")
    chunk_id: str = Field(description="Stable id of the chunk; unchanged while its text and document are unchanged.")
    title: str = Field(description="Title of the source document.")
    date: dt.date | None = Field(
        description="Publication date of what the document reports (None: unknown, see ``date_source``)."
    )
    date_source: DateSource | None = Field(
        None,
        description="Where the date was read from (front_matter, pdf_metadata, docx_metadata, html_meta, text); "
        "None when the date is unknown.",
    )
    kind: Kind = Field(description="news, regulation, datasheet, analysis or other.")
    language: Language = Field(description="Language of the source document.")
    section: str | None = Field(None, description="Heading the chunk stands under, when the document has one.")
    url: str | None = Field(None, description="First source URL of the document, when it has one.")
    score: float = Field(
        description="Fused reciprocal-rank score scaled to the best candidate plus the reranker's weighted relevance; "
        "higher is better, comparable within one search."
    )
    start: int = Field(ge=0, description="Offset of the first character of ``text`` in the document body.")
    end: int = Field(ge=0, description="Offset one past the last character of ``text`` in the document body.")
    factual: bool = Field(True, description="False for boilerplate (headline lists, reader comments, disclaimers).")


class SearchFilters(BaseModel):
    """Metadata filters applied to a search; every given field must match."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: tuple[Kind, ...] | None = Field(None, description="Only documents of these kinds.")
    language: tuple[Language, ...] | None = Field(None, description="Only documents in these languages.")
    date_from: dt.date | None = Field(None, description="Only documents published on or after this date.")
    date_to: dt.date | None = Field(None, description="Only documents published on or before this date.")
    doc_id: tuple[str, ...] | None = Field(None, description="Only these documents.")
    include_nonfactual: bool = Field(False, description="Also return boilerplate chunks (comments, disclaimers).")

    @model_validator(mode="after")
    def _range_is_ordered(self) -> SearchFilters:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError(f"date_from {self.date_from} is after date_to {self.date_to}; swap them")
        return self


class SourceDocument(BaseModel):
    """A parsed source file: metadata from its front matter (or HTML head) and its plain body text."""

    model_config = ConfigDict(frozen=True)

    doc_id: str
    title: str
    kind: Kind
    language: Language
    date: dt.date | None
    date_source: DateSource | None = Field(None, description="Where ``date`` came from; None when it is unknown.")
    authored: dt.date | None = Field(None, description="When the document itself was written, if it says so.")
    source_dates: dict[str, dt.date] = Field(
        default_factory=dict, description="Publication dates of the sources a fact sheet summarises, by source id."
    )
    format: str = Field("markdown", description="markdown, text, html, pdf or docx.")
    author: str | None = None
    urls: tuple[str, ...] = ()
    path: str | None = Field(None, description="Absolute path of the file it was read from.")
    content_hash: str = Field(description="SHA-256 of the file's bytes.")
    body: str = Field(description="Text that chunk offsets refer to.")


class Chunk(BaseModel):
    """A piece of a document body between sentence boundaries."""

    model_config = ConfigDict(frozen=True)

    chunk_id: str
    doc_id: str
    ordinal: int = Field(ge=0)
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    text: str
    section: str | None = None
    context: str = Field("", description="Extra text indexed with the chunk but not returned (e.g. a table header).")
    factual: bool = True
    boilerplate: BoilerplateReason | None = None


class IngestFailure(BaseModel):
    """A file that could not be ingested, and why."""

    path: str
    error: str


class IngestReport(BaseModel):
    """What an ingestion run changed."""

    root: str = Field(description="File or folder that was ingested.")
    added: list[str] = Field(default_factory=list, description="Ids of new documents.")
    updated: list[str] = Field(default_factory=list, description="Ids of documents whose chunks were replaced.")
    unchanged: list[str] = Field(default_factory=list, description="Ids of documents left as they were.")
    removed: list[str] = Field(default_factory=list, description="Ids of documents whose file is gone.")
    failed: list[IngestFailure] = Field(default_factory=list)
    chunks_written: int = Field(0, description="Chunks embedded and stored in this run.")
    documents_total: int = Field(0, description="Documents in the index after the run.")
    chunks_total: int = Field(0, description="Chunks in the index after the run.")
    seconds: float = Field(0.0, description="Wall-clock time of the run.")
