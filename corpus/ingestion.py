"""Writing the index: ingestion, garbage collection, cancellation and the guard of a shared collection.

Vectors are written first, then the manifest commits them (:mod:`corpus.manifest`); :class:`corpus.index.CorpusIndex`
inherits :class:`IndexWriter`, which holds this half of it.

Cancellation: :meth:`CorpusIndex.ingest` takes a ``check`` callable, called while it waits for the lock, between
files, every few hundred chunks it tokenizes and between embedding batches; when it raises (the request was
cancelled), the vectors written but not committed are deleted and the lock is released at once. A
``before_commit`` callable is called just before the final manifest commit (the request's commit point).

Shared index: with a Chroma server several instances share the vectors, so the manifest lives in the shared
database (:mod:`corpus.shared_manifest`) and every instance sees one index. The collection is marked with the id
of the manifest that manages it; an instance whose manifest is another one (a fresh data folder, a different
database) refuses to read or write it instead of taking the other's vectors for leftovers. A read-only index
(``procure search``) never creates, marks or cleans anything.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from corpus.chunking import chunk_document
from corpus.errors import IndexUnavailableError, SourceError
from corpus.loaders import find_sources, read_document
from corpus.locking import IngestLock, WaitCallback
from corpus.manifest import ChunkRecord, DocumentUpdate, Manifest
from corpus.shared_manifest import AdvisoryLock, SqlManifest
from corpus.types import Chunk, IngestFailure, IngestReport, SourceDocument

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection

    from corpus.embeddings import Embedder
    from corpus.glossary import Glossary
    from corpus.index import _State
    from corpus.text import Tokenizer

WRITE_BATCH_CHUNKS = 256
"""Chunks embedded and committed together; each document is still replaced in one transaction."""
CHROMA_BATCH = 1_000
INGEST_WAIT_S = 60.0
"""Default time an ingestion waits for another one (any process) to release the index's write lock."""
CHECK_EVERY_CHUNKS = 256
"""Chunks tokenized or embedded between two cancellation checks during ingestion."""
OWNER_KEY = "procure_manifest"
"""Chroma collection metadata key naming the manifest that manages the collection (shared indexes)."""

Check = Callable[[], None]
"""Raises to stop an ingestion (a cancelled request); called at safe points."""
ProgressCallback = Callable[[int, int, str], None]
"""Called as ``progress(done, total, current_file_name)`` while ingesting."""


def days(value: Any) -> int:
    """Day number of a date (``toordinal``), -1 for none: how dates are stored with vectors and filtered."""
    return -1 if value is None else int(value.toordinal())


def index_text(doc: SourceDocument, chunk: Chunk) -> str:
    """Text indexed for a chunk: document title, section and table header give it context."""
    return "\n".join(p for p in (doc.title, chunk.section or "", chunk.context, chunk.text) if p)


class IndexWriter:
    """The ingestion half of :class:`corpus.index.CorpusIndex` (state and search live there)."""

    manifest: Manifest | SqlManifest
    collection: Collection
    embedder: Embedder
    tokenizer: Tokenizer
    glossary: Glossary
    pipeline: str
    ingest_lock: IngestLock | AdvisoryLock
    ingest_wait_s: float
    shared: bool
    read_only: bool
    _written: set[str]
    _check: Check | None
    _own_generations: set[int]
    _primed: bool

    def _current(self) -> _State:
        raise NotImplementedError  # the search state: CorpusIndex

    def _reload(self) -> _State:
        raise NotImplementedError  # the search state: CorpusIndex

    def _guard(self, *, writing: bool) -> None:
        """Refuse a shared collection that another manifest manages; claim an unmarked one before writing.

        Raises:
            IndexUnavailableError: the collection is marked with another manifest's id.
        """
        if not self.shared:
            return
        marker = (self.collection.metadata or {}).get(OWNER_KEY)
        mine = self.manifest.get_meta("manifest_id")
        if marker is not None and marker != mine:
            raise IndexUnavailableError(
                f"the Chroma collection {self.collection.name!r} holds another index's vectors (managed by manifest "
                f"{marker}, this one is {mine or 'new'}); every instance that shares a Chroma server must share its "
                "database: point PROCURE_DATABASE_URL at the one that holds that index")
        if marker is None and writing:
            mine = mine or self.manifest.ensure_id()
            try:
                self.collection.modify(metadata={**(self.collection.metadata or {}), OWNER_KEY: mine})
            except Exception as exc:  # chromadb raises many types (connection, validation)
                raise IndexUnavailableError(f"cannot mark the Chroma collection as this index's: {exc}") from None


    # ------------------------------------------------------------------ ingestion

    def ingest(
        self,
        path: Path,
        *,
        allowed_root: Path | None = None,
        progress: ProgressCallback | None = None,
        wait_s: float | None = None,
        on_wait: WaitCallback | None = None,
        atomic: bool = False,
        check: Check | None = None,
        before_commit: Check | None = None,
    ) -> IngestReport:
        """Ingest a file or a folder, incrementally and atomically per document (or as a whole with ``atomic``).

        Unchanged files (same bytes, same pipeline) are skipped; changed files have their chunks replaced in
        one transaction; documents that came from a file under the ingested folder that is gone (or now has
        another id) are removed. A file that fails to parse keeps its previous version and is reported.

        One ingestion at a time writes an index: this one first takes the index's inter-process lock, waiting
        up to ``wait_s`` seconds for another ingestion (in any process) to finish.

        Args:
            path: A supported file or a folder searched recursively.
            allowed_root: When given, ``path`` must resolve inside it (HTTP ingestion).
            progress: Called with (done, total, file name) as files are processed.
            wait_s: Longest wait for the write lock; default ``ingest_wait_s`` of the index, 0 to fail at once.
            on_wait: Called once with a description of the holder if the lock is busy and we wait.
            atomic: Commit the whole run in one manifest transaction, so searches see all of it or none of it
                (the HTTP route does this); by default every ``WRITE_BATCH_CHUNKS`` chunks are committed as they
                are written, so an interrupted ingestion of a large folder keeps what it finished.
            check: Called at safe points (waiting for the lock, between files, every ``CHECK_EVERY_CHUNKS``
                chunks); when it raises, the uncommitted vectors are deleted, the lock released and the error
                propagates.
            before_commit: Called just before the last manifest commit; when it raises nothing is committed.

        Returns:
            What changed.

        Raises:
            SourceError: The path is missing or outside ``allowed_root``, or a single file cannot be parsed.
            IndexBusyError: Another ingestion held the write lock for longer than ``wait_s``.
            IndexUnavailableError: A read-only index, or a shared collection managed by another manifest.
        """
        if self.read_only:
            raise IndexUnavailableError("this index was opened read-only (for searching); ingest from `procure "
                                        "ingest` or the service")
        started = time.perf_counter()
        root = self._check_path(path, allowed_root)
        files = find_sources(root)
        report = IngestReport(root=str(root))
        with self.ingest_lock.hold(timeout=self.ingest_wait_s if wait_s is None else wait_s, on_wait=on_wait,
                                   check=check):
            self._guard(writing=True)
            self._written, self._check = set(), check
            try:
                with self.tokenizer.transient():  # passages' sentences would only fill the cut cache
                    self._ingest_locked(root, files, report, progress=progress, atomic=atomic, check=check,
                                        before_commit=before_commit)
            except Exception:  # a cancelled request, a failed write (a power cut leaves them to the next GC)
                self._drop_uncommitted()
                raise
            finally:
                self._check = None
        state = self._reload()
        self._prime_cuts(state.records)
        report.documents_total = len({r.doc_id for r in state.records})
        report.chunks_total = len(state.records)
        report.seconds = round(time.perf_counter() - started, 3)
        return report

    def _prime_cuts(self, records: list[ChunkRecord]) -> None:
        """Cut the words a search tokenises (glossary forms, titles) now, while jieba is loaded, and keep them.

        A later search process then finds them in the tokenizer's cut cache and, for an English question, never
        loads jieba's dictionary (see :class:`corpus.text.Tokenizer`).
        """
        forms = [form for entry in self.glossary.entries for form in (*entry.zh, *entry.en)]
        self.tokenizer.prime([*forms, *dict.fromkeys(r.title for r in records)])
        self.tokenizer.save_cuts()
        self._primed = True

    def _drop_uncommitted(self) -> None:
        """Delete the vectors this (stopped) ingestion wrote that no manifest lists; best effort, GC does the rest."""
        try:
            stale = self._written - self.manifest.chunk_ids()
            if stale:
                self._delete_vectors(stale)
        except Exception:  # noqa: S110 - the next ingestion collects what is left
            pass
        self._written = set()

    def _ingest_locked(self, root: Path, files: list[Path], report: IngestReport, *,
                       progress: ProgressCallback | None, atomic: bool, check: Check | None,
                       before_commit: Check | None) -> None:
        """The body of :meth:`ingest`, run under the write lock."""
        single = root.is_file()
        self._current()  # another process may have ingested: see its vectors before writing next to them
        # Under the lock nobody else has uncommitted vectors, so every vector the manifest lacks is a leftover.
        stored = self._collect_garbage()
        lacking = {r.doc_id for r in self._reload().records if r.chunk_id not in stored}
        staged: list[DocumentUpdate] = []
        known = self.manifest.documents()
        seen: dict[str, str] = {}
        kept_paths: set[str] = set()
        pending: list[DocumentUpdate] = []
        for done, file in enumerate(files):
            if check is not None:
                check()
            if progress:
                progress(done, len(files), file.name)
            if not file.resolve().is_relative_to(root if root.is_dir() else root.parent):
                # a symbolic link (or a link inside a linked folder) leading out of the ingested folder
                report.failed.append(IngestFailure(path=str(file), error="links outside the ingested folder"))
                kept_paths.add(str(file.resolve()))
                continue
            try:
                doc = read_document(file)
            except SourceError as exc:
                if single:
                    raise
                report.failed.append(IngestFailure(path=str(file), error=exc.message))
                kept_paths.add(str(file.resolve()))
                continue
            if doc.doc_id in seen:
                clash = f"document id {doc.doc_id!r} is also used by {seen[doc.doc_id]}"
                report.failed.append(IngestFailure(path=str(file), error=clash))
                continue
            seen[doc.doc_id] = doc.path or str(file)
            old = known.get(doc.doc_id)
            same = old is not None and (old.content_hash, old.pipeline, old.path) == (
                doc.content_hash,
                self.pipeline,
                doc.path,
            )
            if same and doc.doc_id in lacking:
                report.repaired.append(doc.doc_id)  # vectors lost (deleted or damaged store): embed again
            elif same:
                report.unchanged.append(doc.doc_id)
                continue
            chunks = chunk_document(doc)
            tokens = []
            for i, c in enumerate(chunks):
                if check is not None and i % CHECK_EVERY_CHUNKS == 0:
                    check()
                tokens.append(self.tokenizer.passage_words(index_text(doc, c)))
            pending.append(DocumentUpdate(doc, chunks, tokens))
            if not same:
                (report.updated if old else report.added).append(doc.doc_id)
            if sum(len(u.chunks) for u in pending) >= WRITE_BATCH_CHUNKS:
                report.chunks_written += self._store_vectors(pending)
                staged.extend(pending)
                pending = []
                if not atomic:
                    self._commit(staged, [])
                    staged = []
        report.chunks_written += self._store_vectors(pending)
        staged.extend(pending)
        gone: list[str] = []
        if progress:
            progress(len(files), len(files), "")
        if not single:
            gone = [
                rec.doc_id
                for rec in known.values()
                if rec.path
                and Path(rec.path).is_relative_to(root)
                and rec.doc_id not in seen
                and rec.path not in kept_paths
            ]
            report.removed.extend(gone)
        if before_commit is not None and (staged or gone):
            before_commit()
        self._commit(staged, gone)

    @staticmethod
    def _check_path(path: Path, allowed_root: Path | None) -> Path:
        try:
            root = path.expanduser().resolve()
        except (OSError, RuntimeError, ValueError) as exc:
            raise SourceError(f"cannot resolve {path}: {exc}") from None
        if allowed_root is not None:
            allowed = allowed_root.expanduser().resolve()
            if not root.is_relative_to(allowed):
                raise SourceError(f"{path} is outside the folder allowed for ingestion ({allowed})")
        try:
            exists = root.exists()
        except OSError as exc:  # e.g. a name longer than the file system allows
            raise SourceError(f"cannot use {str(path)[:80]}…: {exc.strerror or exc.__class__.__name__}") from None
        if not exists:
            raise SourceError(f"{path} does not exist; give a file or a folder of .md/.txt/.html documents")
        return root

    def _store_vectors(self, pending: list[DocumentUpdate]) -> int:
        """Embed and upsert the chunks of ``pending`` (invisible to searches until :meth:`_commit`).

        The running ingestion's ``check`` is called between embedding batches.
        """
        check = self._check
        if not pending:
            return 0
        ids: list[str] = []
        texts: list[str] = []
        documents: list[str] = []
        metadatas: list[dict[str, str | int | float | bool]] = []
        for update in pending:
            doc = update.document
            for chunk in update.chunks:
                ids.append(chunk.chunk_id)
                texts.append(index_text(doc, chunk))
                documents.append(chunk.text)
                metadatas.append(
                    {
                        "doc_id": doc.doc_id,
                        "kind": doc.kind,
                        "language": doc.language,
                        "day": days(doc.date),
                        "factual": chunk.factual,
                        "start": chunk.start,
                        "end": chunk.end,
                    }
                )
        for i in range(0, len(ids), CHROMA_BATCH):
            if check is not None:
                check()
            vectors = self.embedder.embed_documents(texts[i : i + CHROMA_BATCH])
            self._written.update(ids[i : i + CHROMA_BATCH])
            self.collection.upsert(
                ids=ids[i : i + CHROMA_BATCH],
                embeddings=vectors,
                documents=documents[i : i + CHROMA_BATCH],
                metadatas=metadatas[i : i + CHROMA_BATCH],  # type: ignore[arg-type]
            )
        return len(ids)

    def _commit(self, updates: list[DocumentUpdate], removals: list[str]) -> None:
        """The manifest commit (the point where searches switch over), then deletion of replaced vectors."""
        if not updates and not removals:
            return
        old_ids = self.manifest.chunk_ids([u.document.doc_id for u in updates] + removals)
        self.manifest.commit(updates, removals, signature=self.embedder.signature)
        self._own_generations.add(self.manifest.generation())  # under the ingest lock: nobody else committed
        stale = old_ids - {c.chunk_id for u in updates for c in u.chunks}
        if stale:
            self._delete_vectors(stale)

    def _delete_vectors(self, ids: Iterable[str]) -> None:
        stale = sorted(ids)
        for i in range(0, len(stale), CHROMA_BATCH):
            self.collection.delete(ids=stale[i : i + CHROMA_BATCH])

    def _collect_garbage(self) -> set[str]:
        """Delete vectors the manifest does not list (left by an interrupted ingestion); the ids kept."""
        stored = set(self.collection.get(include=[])["ids"])
        orphans = stored - self.manifest.chunk_ids()
        if orphans:
            self._delete_vectors(orphans)
        return stored - orphans

    def missing_vectors(self) -> int:
        """Chunks in the manifest whose vector the store lacks (a deleted or damaged store); 0 when intact."""
        wanted = self.manifest.counts()[1]
        try:
            have = self.collection.count()
        except Exception as exc:  # chromadb raises many types (sqlite, rust bindings)
            raise IndexUnavailableError(f"cannot count vectors in Chroma: {exc}") from None
        if have >= wanted:
            return 0
        stored = set(self.collection.get(include=[])["ids"])
        return sum(1 for r in self._current().records if r.chunk_id not in stored)
