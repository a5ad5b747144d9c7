"""The manifest and the ingestion lock in a shared SQL database, for indexes whose vectors live on a Chroma server.

With a Chroma server, several service instances (API replicas, a CLI on another host) write and read one set of
vectors. Each instance keeping its own SQLite manifest made them strangers: a fresh instance saw an empty index,
bootstrapped it, and deleted, as leftovers, the vectors its own manifest lacked, which were another instance's
documents. Here the manifest (documents, chunks, BM25 tokens, generation) lives in the service database that
every instance shares, so there is one index:

* :class:`SqlManifest` has the interface of :class:`corpus.manifest.Manifest` on SQLAlchemy (SQLite or
  PostgreSQL); a commit is one transaction, the generation moves for every instance at once, and reads never
  write.
* :func:`database_lock` serialises ingestions of all instances: a PostgreSQL advisory lock held on its own
  connection (released by the server if the holder dies), or a lock file next to a SQLite database.

The tables are created by the service's Alembic revision ``0005_owners_shared_index``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Engine,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import SQLAlchemyError

from corpus.errors import IndexBusyError, IndexUnavailableError
from corpus.locking import POLL_S, IngestLock, WaitCallback, acquire_thread_lock, describe_holder
from corpus.manifest import (
    ChunkRecord,
    DocumentRecord,
    DocumentUpdate,
    Manifest,
    document_row,
    ensure_manifest_id,
)

metadata = MetaData()
corpus_meta = Table("corpus_meta", metadata, Column("key", String(64), primary_key=True),
                    Column("value", Text, nullable=False))
corpus_documents = Table(
    "corpus_documents", metadata,
    Column("doc_id", Text, primary_key=True), Column("path", Text), Column("content_hash", String(128), nullable=False),
    Column("pipeline", Text, nullable=False), Column("title", Text, nullable=False),
    Column("kind", String(32), nullable=False), Column("language", String(8), nullable=False),
    Column("published", String(10)), Column("author", Text), Column("url", Text), Column("body", Text, nullable=False),
    Column("ingested_at", String(32), nullable=False), Column("date_source", String(32)), Column("details", Text),
)
corpus_chunks = Table(
    "corpus_chunks", metadata,
    Column("chunk_id", Text, primary_key=True),
    Column("doc_id", Text, ForeignKey("corpus_documents.doc_id", ondelete="CASCADE"), nullable=False),
    Column("ordinal", Integer, nullable=False), Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False), Column("section", Text), Column("text", Text, nullable=False),
    Column("factual", Boolean, nullable=False), Column("boilerplate", Text), Column("tokens", Text, nullable=False),
)
_INSERT_CHUNK = 1_000
T = TypeVar("T")


class SqlManifest:
    """The manifest in the shared database (same interface as :class:`corpus.manifest.Manifest`).

    Args:
        engine: An engine on a database migrated with the corpus tables.
        name: How errors and lock holders name it (the database URL without its password).
    """

    def __init__(self, engine: Engine, name: str) -> None:
        self.engine = engine
        self.name = name
        self.path = Path(name)
        try:
            with engine.connect() as conn:
                conn.execute(select(func.count()).select_from(corpus_meta))
        except SQLAlchemyError as exc:
            raise IndexUnavailableError(f"cannot open the shared corpus manifest in {name}: "
                                        f"{str(exc).splitlines()[0]}") from None

    def close(self) -> None:
        """Nothing to close: the engine belongs to the caller."""

    def _read(self, fn: Callable[[Connection], T]) -> T:
        try:
            with self.engine.connect() as conn:
                return fn(conn)
        except SQLAlchemyError as exc:
            raise IndexUnavailableError(f"the shared corpus manifest cannot be read: {str(exc).splitlines()[0]}"
                                        ) from None

    def generation(self) -> int:
        """Counter bumped by every commit of any instance: a changed value means reload."""
        value = self.get_meta("generation")
        return int(value) if value else 0

    def get_meta(self, key: str) -> str | None:
        """A value from the meta table."""
        value = self._read(lambda c: c.execute(select(corpus_meta.c.value).where(corpus_meta.c.key == key))
                           .scalar_one_or_none())
        return None if value is None else str(value)

    def set_meta(self, key: str, value: str) -> None:
        """Store a meta value (used under the ingestion lock)."""
        with self.engine.begin() as conn:
            self._put(conn, key, value)

    def ensure_id(self) -> str:
        """This manifest's id (created once): what a Chroma collection it manages is marked with."""
        return ensure_manifest_id(self)

    @staticmethod
    def _put(conn: Connection, key: str, value: str) -> None:
        moved = conn.execute(update(corpus_meta).where(corpus_meta.c.key == key).values(value=value))
        if not moved.rowcount:
            conn.execute(insert(corpus_meta).values(key=key, value=value))

    def documents(self) -> dict[str, DocumentRecord]:
        """Every live document by id."""
        d = corpus_documents.c
        rows = self._read(lambda c: c.execute(select(d.doc_id, d.path, d.content_hash, d.pipeline)).all())
        return {r[0]: DocumentRecord(r[0], r[1], r[2], r[3]) for r in rows}

    def chunk_ids(self, doc_ids: Iterable[str] | None = None) -> set[str]:
        """Live chunk ids, of the given documents or of all."""
        c = corpus_chunks.c
        query = select(c.chunk_id)
        if doc_ids is not None:
            wanted = list(doc_ids)
            if not wanted:
                return set()
            query = query.where(c.doc_id.in_(wanted))
        return {str(r[0]) for r in self._read(lambda conn: conn.execute(query).all())}

    def body(self, doc_id: str) -> str | None:
        """The stored body text of a document."""
        d = corpus_documents.c
        value = self._read(lambda c: c.execute(select(d.body).where(d.doc_id == doc_id)).scalar_one_or_none())
        return None if value is None else str(value)

    def counts(self) -> tuple[int, int]:
        """(documents, chunks) in the manifest."""
        def both(conn: Connection) -> tuple[int, int]:
            docs = conn.execute(select(func.count()).select_from(corpus_documents)).scalar_one()
            chunks = conn.execute(select(func.count()).select_from(corpus_chunks)).scalar_one()
            return int(docs), int(chunks)

        return self._read(both)

    def load_chunks(self) -> list[ChunkRecord]:
        """Every live chunk with its document's metadata, in document and chunk order."""
        c, d = corpus_chunks.c, corpus_documents.c
        query = (select(c.chunk_id, c.doc_id, c.text, c.start, c.end, c.section, c.factual, c.tokens, d.title,
                        d.kind, d.language, d.published, d.url, d.content_hash, d.pipeline, d.date_source)
                 .join(corpus_documents, corpus_documents.c.doc_id == c.doc_id).order_by(c.doc_id, c.ordinal))
        rows = self._read(lambda conn: conn.execute(query).all())
        return [
            ChunkRecord(chunk_id=r[0], doc_id=r[1], text=r[2], start=r[3], end=r[4], section=r[5], factual=bool(r[6]),
                        tokens=r[7].split(" ") if r[7] else [], title=r[8], kind=r[9], language=r[10],
                        date=dt.date.fromisoformat(r[11]) if r[11] else None, url=r[12], version=f"{r[13]}/{r[14]}",
                        date_source=r[15])
            for r in rows
        ]

    def commit(self, updates: list[DocumentUpdate], removals: Iterable[str] = (), *, signature: str) -> None:
        """Replace documents and remove others in one transaction (the commit point of ingestion)."""
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        gone = list(removals) + [u.document.doc_id for u in updates]
        with self.engine.begin() as conn:
            for i in range(0, len(gone), _INSERT_CHUNK):
                part = gone[i:i + _INSERT_CHUNK]
                conn.execute(delete(corpus_chunks).where(corpus_chunks.c.doc_id.in_(part)))
                conn.execute(delete(corpus_documents).where(corpus_documents.c.doc_id.in_(part)))
            for update_ in updates:
                conn.execute(insert(corpus_documents).values(**document_row(update_.document, signature, now)))
                rows = [{"chunk_id": ch.chunk_id, "doc_id": ch.doc_id, "ordinal": ch.ordinal, "start": ch.start,
                         "end": ch.end, "section": ch.section, "text": ch.text, "factual": bool(ch.factual),
                         "boilerplate": ch.boilerplate, "tokens": " ".join(tokens)}
                        for ch, tokens in zip(update_.chunks, update_.tokens, strict=True)]
                for i in range(0, len(rows), _INSERT_CHUNK):
                    conn.execute(insert(corpus_chunks), rows[i:i + _INSERT_CHUNK])
            self._put(conn, "embedding", signature)
            generation = conn.execute(select(corpus_meta.c.value).where(corpus_meta.c.key == "generation")
                                      ).scalar_one_or_none()
            self._put(conn, "generation", str(int(generation or 0) + 1))

    def adopt(self, local: Manifest) -> int:
        """Copy a local SQLite manifest's documents and chunks in (once, when this one is empty); how many docs.

        An instance that kept its manifest in its data folder before the manifest moved to the database brings
        its index along, so the vectors it wrote on the server stay listed (and are not taken for leftovers).
        """
        if self.counts()[0]:
            return 0
        docs = local.documents()
        if not docs:
            return 0
        meta = {key: local.get_meta(key) for key in ("embedding", "manifest_id")}
        generation = local.generation()
        with self.engine.begin() as conn, local.reading() as db:
            for row in db.execute("SELECT doc_id, path, content_hash, pipeline, title, kind, language, published, "
                                  "author, url, body, ingested_at, date_source, details FROM documents"):
                conn.execute(insert(corpus_documents).values(dict(zip(
                    ("doc_id", "path", "content_hash", "pipeline", "title", "kind", "language", "published",
                     "author", "url", "body", "ingested_at", "date_source", "details"), row, strict=True))))
            batch: list[dict[str, object]] = []
            for row in db.execute('SELECT chunk_id, doc_id, ordinal, start, "end", section, text, factual, '
                                  "boilerplate, tokens FROM chunks"):
                batch.append(dict(zip(("chunk_id", "doc_id", "ordinal", "start", "end", "section", "text",
                                       "factual", "boilerplate", "tokens"), row, strict=True)))
                batch[-1]["factual"] = bool(batch[-1]["factual"])
                if len(batch) >= _INSERT_CHUNK:
                    conn.execute(insert(corpus_chunks), batch)
                    batch = []
            if batch:
                conn.execute(insert(corpus_chunks), batch)
            for key, value in meta.items():
                if value is not None:
                    self._put(conn, key, value)
            self._put(conn, "generation", str(generation + 1))
        return len(docs)


class AdvisoryLock:
    """The ingestion lock of every instance on one PostgreSQL database.

    ``pg_try_advisory_lock`` on a connection of its own: the server releases it when the holder's connection
    ends, so a crash never leaves it held.

    Args:
        engine: The shared database.
        name: What the lock guards (its key is derived from it).
    """

    def __init__(self, engine: Engine, name: str = "procure-corpus") -> None:
        self.engine = engine
        self.name = name
        self.key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        self.path = Path(f"postgresql advisory lock {self.key}")
        self._local = threading.Lock()

    def holder(self) -> str:
        """Who holds the lock, as the holder wrote it, or "unknown"."""
        try:
            with self.engine.connect() as conn:
                value = conn.execute(select(corpus_meta.c.value).where(corpus_meta.c.key == "ingest_holder")
                                     ).scalar_one_or_none()
            info = json.loads(value) if value else {}
        except (SQLAlchemyError, ValueError):
            return "unknown"
        return describe_holder(info)

    @contextmanager
    def hold(self, *, timeout: float, on_wait: WaitCallback | None = None,
             check: Callable[[], None] | None = None) -> Iterator[None]:
        """Hold the lock for the block, waiting up to ``timeout`` seconds (``check`` is called while waiting).

        Raises:
            IndexBusyError: another instance held it for longer than ``timeout``.
            IndexUnavailableError: the database cannot be reached.
        """
        deadline = time.monotonic() + timeout
        if not acquire_thread_lock(self._local, timeout, check):
            raise self._busy(timeout, "another thread of this process")
        try:
            try:
                conn = self.engine.connect()
            except SQLAlchemyError as exc:
                raise IndexUnavailableError(f"cannot reach the database for the ingestion lock: {exc}") from None
            try:
                told = False
                while not conn.execute(select(func.pg_try_advisory_lock(self.key))).scalar_one():
                    conn.commit()
                    if check is not None:
                        check()
                    if time.monotonic() >= deadline:
                        raise self._busy(timeout, self.holder())
                    if on_wait is not None and not told:
                        on_wait(self.holder())
                        told = True
                    time.sleep(POLL_S)
                conn.commit()  # the lock is the session's: no transaction stays open while ingesting
                self._describe(holding=True)
                try:
                    yield
                finally:
                    self._describe(holding=False)
                    conn.execute(select(func.pg_advisory_unlock(self.key)))
                    conn.commit()
            finally:
                conn.close()
        finally:
            self._local.release()

    def _busy(self, timeout: float, holder: str) -> IndexBusyError:
        return IndexBusyError(
            f"another ingestion is writing this index ({holder}; {self.path}); gave up after waiting {timeout:g} s. "
            "Try again when it has finished, or allow a longer wait.")

    def _describe(self, *, holding: bool) -> None:
        info = json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                           "since": dt.datetime.now().astimezone().isoformat(timespec="seconds")}) if holding else ""
        try:
            with self.engine.begin() as conn:
                SqlManifest._put(conn, "ingest_holder", info)
        except SQLAlchemyError:  # the description is a courtesy; the advisory lock is what excludes
            pass


def database_lock(engine: Engine) -> AdvisoryLock | IngestLock:
    """The ingestion lock for a manifest in ``engine``'s database: advisory on PostgreSQL, a file next to SQLite."""
    if engine.dialect.name == "postgresql":
        return AdvisoryLock(engine)
    database = engine.url.database
    if not database or database == ":memory:":
        raise IndexUnavailableError("a shared corpus manifest needs a database file or server, not :memory:")
    return IngestLock(Path(database).with_name(f"{Path(database).stem}.corpus.lock"))


def ping(engine: Engine) -> None:
    """Raise :class:`IndexUnavailableError` when the database does not answer."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        raise IndexUnavailableError(f"the database of the shared index does not answer: {exc}") from None
