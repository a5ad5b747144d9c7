"""The ingestion manifest: a SQLite file that is the index's source of truth.

It records every live document (path, content hash, pipeline signature, metadata, body) and every live
chunk (text, offsets, labels and its BM25 tokens). A document's replacement is one SQLite transaction, the
commit point of ingestion: vectors are written to Chroma before it and stale vectors deleted after it, and
searches only ever return chunks listed here. A crash at any moment therefore leaves the previous or the new
version of each document searchable, never a mix; leftover vectors are collected on the next ingest.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from corpus.chunking import CHUNKER_VERSION
from corpus.errors import IndexUnavailableError
from corpus.loaders import LOADER_VERSION
from corpus.types import Chunk, DateSource, Kind, Language, SourceDocument

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY,
    path TEXT,
    content_hash TEXT NOT NULL,
    pipeline TEXT NOT NULL,
    title TEXT NOT NULL,
    kind TEXT NOT NULL,
    language TEXT NOT NULL,
    published TEXT,
    author TEXT,
    url TEXT,
    body TEXT NOT NULL,
    ingested_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id TEXT PRIMARY KEY,
    doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    section TEXT,
    text TEXT NOT NULL,
    factual INTEGER NOT NULL,
    boilerplate TEXT,
    tokens TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_by_doc ON chunks(doc_id, ordinal);
"""
_ADDED_COLUMNS = {"date_source": "TEXT", "details": "TEXT"}
"""Document columns added after the first release; older manifests get them on open (ALTER TABLE)."""
TOKENIZER_VERSION = "1"


def pipeline_signature(embedding_signature: str) -> str:
    """Signature stored per document: loader, chunker, tokenizer and embedding versions; a change re-ingests."""
    return f"loader-{LOADER_VERSION}/chunker-{CHUNKER_VERSION}/tokens-{TOKENIZER_VERSION}/{embedding_signature}"


@dataclass(frozen=True)
class DocumentRecord:
    """What the manifest knows about one live document."""

    doc_id: str
    path: str | None
    content_hash: str
    pipeline: str


@dataclass(frozen=True)
class ChunkRecord:
    """A live chunk joined with its document's metadata (one row of the in-memory search state)."""

    chunk_id: str
    doc_id: str
    text: str
    start: int
    end: int
    section: str | None
    factual: bool
    tokens: list[str]
    title: str
    kind: Kind
    language: Language
    date: dt.date | None
    url: str | None
    version: str = ""
    date_source: DateSource | None = None
    """Content hash and pipeline of the document: a chunk keeps its id across edits elsewhere in its document,
    but its vector (which embeds the title and section) may change, so cached vectors are keyed by both."""


@dataclass(frozen=True)
class DocumentUpdate:
    """A document with its new chunks and their BM25 tokens, to be written in one transaction."""

    document: SourceDocument
    chunks: list[Chunk]
    tokens: list[list[str]]


class Manifest:
    """SQLite-backed manifest (thread-safe; one connection guarded by a lock).

    Args:
        path: The SQLite file; its folder is created.

    Raises:
        IndexUnavailableError: The file cannot be opened or is not a manifest.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.executescript(_SCHEMA)
            have = {row[1] for row in self._db.execute("PRAGMA table_info(documents)")}
            for column, sql_type in _ADDED_COLUMNS.items():
                if column not in have:
                    self._db.execute(f"ALTER TABLE documents ADD COLUMN {column} {sql_type}")
        except (OSError, sqlite3.Error) as exc:
            raise IndexUnavailableError(f"cannot open the corpus manifest {path}: {exc}") from None
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _bump(self, db: sqlite3.Connection) -> None:
        db.execute(
            "INSERT INTO meta(key, value) VALUES('generation', '1') "
            "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
        )

    def generation(self) -> int:
        """Counter bumped by every commit (also by other processes): a changed value means reload."""
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        return int(row[0]) if row else 0

    def get_meta(self, key: str) -> str | None:
        """A value from the meta table."""
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def documents(self) -> dict[str, DocumentRecord]:
        """Every live document by id."""
        with self._lock:
            rows = self._db.execute("SELECT doc_id, path, content_hash, pipeline FROM documents").fetchall()
        return {r[0]: DocumentRecord(r[0], r[1], r[2], r[3]) for r in rows}

    def chunk_ids(self, doc_ids: Iterable[str] | None = None) -> set[str]:
        """Live chunk ids, of the given documents or of all."""
        with self._lock:
            if doc_ids is None:
                return {r[0] for r in self._db.execute("SELECT chunk_id FROM chunks")}
            out: set[str] = set()
            for doc_id in doc_ids:
                out.update(r[0] for r in self._db.execute("SELECT chunk_id FROM chunks WHERE doc_id = ?", (doc_id,)))
            return out

    def body(self, doc_id: str) -> str | None:
        """The stored body text of a document (chunk offsets refer to it)."""
        with self._lock:
            row = self._db.execute("SELECT body FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        return str(row[0]) if row else None

    def counts(self) -> tuple[int, int]:
        """(documents, chunks) in the manifest."""
        with self._lock:
            docs = self._db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
            chunks = self._db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        return int(docs), int(chunks)

    def load_chunks(self) -> list[ChunkRecord]:
        """Every live chunk with its document's metadata, in document and chunk order."""
        with self._lock:
            rows = self._db.execute(
                'SELECT c.chunk_id, c.doc_id, c.text, c.start, c."end", c.section, c.factual, c.tokens, '
                "d.title, d.kind, d.language, d.published, d.url, d.content_hash || '/' || d.pipeline, d.date_source "
                "FROM chunks c JOIN documents d USING (doc_id) ORDER BY c.doc_id, c.ordinal"
            ).fetchall()
        return [
            ChunkRecord(
                chunk_id=r[0],
                doc_id=r[1],
                text=r[2],
                start=r[3],
                end=r[4],
                section=r[5],
                factual=bool(r[6]),
                tokens=r[7].split(" ") if r[7] else [],
                title=r[8],
                kind=r[9],
                language=r[10],
                date=dt.date.fromisoformat(r[11]) if r[11] else None,
                url=r[12],
                version=r[13],
                date_source=r[14],
            )
            for r in rows
        ]

    def set_meta(self, key: str, value: str) -> None:
        """Store a meta value."""
        with self._transaction() as db:
            db.execute("INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = ?",
                       (key, value, value))

    def ensure_id(self) -> str:
        """This manifest's id (created once): what a Chroma collection it manages is marked with."""
        return ensure_manifest_id(self)

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """The connection, held for a series of reads (copying this manifest into a shared one)."""
        with self._lock:
            yield self._db

    def commit(self, updates: list[DocumentUpdate], removals: Iterable[str] = (), *, signature: str) -> None:
        """Replace documents and remove others in one transaction (the commit point of ingestion).

        Args:
            updates: Documents to insert or replace, with all their chunks.
            removals: Ids of documents to delete with their chunks.
            signature: Embedding signature of the vectors written for these chunks.
        """
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        with self._transaction() as db:
            for doc_id in removals:
                db.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,))
            for update in updates:
                row = document_row(update.document, signature, now)
                db.execute("DELETE FROM documents WHERE doc_id = ?", (row["doc_id"],))
                db.execute(
                    f"INSERT INTO documents({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",
                    tuple(row.values()),
                )
                db.executemany(
                    "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            c.chunk_id,
                            c.doc_id,
                            c.ordinal,
                            c.start,
                            c.end,
                            c.section,
                            c.text,
                            int(c.factual),
                            c.boilerplate,
                            " ".join(tokens),
                        )
                        for c, tokens in zip(update.chunks, update.tokens, strict=True)
                    ],
                )
            db.execute(
                "INSERT INTO meta(key, value) VALUES('embedding', ?) ON CONFLICT(key) DO UPDATE SET value = ?",
                (signature, signature),
            )
            self._bump(db)


class MetaStore(Protocol):
    """Anything with the manifest's meta table (the SQLite file, the shared database)."""

    def get_meta(self, key: str) -> str | None: ...  # noqa: D102

    def set_meta(self, key: str, value: str) -> None: ...  # noqa: D102


def ensure_manifest_id(manifest: MetaStore) -> str:
    """The manifest's id, created on first need (under the ingestion lock, so once)."""
    found = manifest.get_meta("manifest_id")
    if found is None:
        found = uuid.uuid4().hex
        manifest.set_meta("manifest_id", found)
    return found


def document_row(d: SourceDocument, signature: str, now: str) -> dict[str, object]:
    """The manifest row of a document (the same columns in the SQLite file and in the shared database)."""
    return {
        "doc_id": d.doc_id,
        "path": d.path,
        "content_hash": d.content_hash,
        "pipeline": pipeline_signature(signature),
        "title": d.title,
        "kind": d.kind,
        "language": d.language,
        "published": d.date.isoformat() if d.date else None,
        "author": d.author,
        "url": d.urls[0] if d.urls else None,
        "body": d.body,
        "ingested_at": now,
        "date_source": d.date_source,
        "details": json.dumps(
            {
                "format": d.format,
                "authored": d.authored.isoformat() if d.authored else None,
                "source_dates": {k: v.isoformat() for k, v in d.source_dates.items()},
            },
            ensure_ascii=False,
        ),
    }
