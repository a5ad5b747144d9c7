"""Build the corpus index from settings (CLI and FastAPI lifespan); the corpus package never sees settings.

The index modules (Chroma, bm25s, jieba) are imported inside :func:`build_corpus`, not at import time, so
``procure --help`` and commands that never search do not pay for them.

Where the manifest lives follows where the vectors live: next to an embedded Chroma folder, a SQLite file in the
data folder; with a Chroma server (``chroma.mode=http``), the service database (``PROCURE_DATABASE_URL``), which
every instance sharing the server must share too. One index then serves every instance; an instance pointed at
another database refuses the server's collection instead of cleaning it (see :mod:`corpus.shared_manifest`).
"""

from __future__ import annotations

import atexit
import logging
import shutil
import tempfile
import threading
import time
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

import corpus
from corpus.errors import IndexUnavailableError
from service.settings import Settings

if TYPE_CHECKING:
    from chromadb.api import ClientAPI

    from corpus.index import CorpusIndex
    from corpus.locking import IngestLock
    from corpus.shared_manifest import AdvisoryLock, SqlManifest

log = logging.getLogger("procure.corpus")
SHIPPED_SOURCES = Path(corpus.__file__).resolve().parent / "sources"
MANIFEST_FILE = "corpus.sqlite"


def corpus_dir(settings: Settings) -> Path:
    """Folder indexed by ``procure ingest`` without a path: ``corpus_dir`` or the shipped ``corpus/sources``."""
    return settings.corpus_dir or SHIPPED_SOURCES


def ingest_allowed_dir(settings: Settings) -> Path:
    """Only paths under this folder may be ingested over HTTP."""
    return settings.ingest_allowed_dir or corpus_dir(settings)


def build_corpus(settings: Settings, *, bootstrap: bool = False, read_only: bool = False) -> CorpusIndex:
    """Open the index named by settings; with ``bootstrap``, ingest :func:`corpus_dir` into an empty one.

    Args:
        settings: Service settings (data folder, Chroma mode, embedding provider).
        bootstrap: Ingest the default documents when the index has none yet (first run on a fresh data folder).
        read_only: Searching only: an existing embedded vector store is opened from a private copy, because
            Chroma rewrites its files whenever a client opens them (the manifest is only read); a shared index
            on a Chroma server is opened without creating, marking or cleaning anything (no bootstrap).

    Returns:
        The index, ready to search.

    Raises:
        IndexUnavailableError: Chroma, the manifest or the embedding model cannot be opened.
        IndexBusyError: ``bootstrap`` had to ingest but another ingestion held the lock too long.
    """
    from corpus.embeddings import make_embedder
    from corpus.glossary import load_glossary
    from corpus.index import make_chroma_client, open_index
    from corpus.rerank import make_reranker
    from corpus.text import shared_tokenizer

    if settings.data_dir.exists() and not settings.data_dir.is_dir():
        raise IndexUnavailableError(
            f"the data folder {settings.data_dir} is a file; point PROCURE_DATA_DIR at a folder"
        )
    glossary = load_glossary()
    try:
        tokenizer = shared_tokenizer(settings.data_dir / "cache" / "jieba", tuple(glossary.chinese_terms))
    except OSError as exc:
        raise IndexUnavailableError(f"cannot use the data folder {settings.data_dir}: {exc.strerror or exc}") from None
    emb = settings.embeddings
    embedder = make_embedder(
        emb.provider,
        tokenizer=tokenizer,
        dimensions=emb.dimensions,
        model_path=emb.model_path,
        base_url=emb.base_url,
        model=emb.model,
        api_key=emb.api_key.get_secret_value() if emb.api_key else None,
    )
    chroma_path = settings.chroma_path
    existing = (settings.data_dir / MANIFEST_FILE).is_file() and chroma_path.is_dir()
    if read_only and existing and settings.chroma.mode == "embedded":
        chroma_path = _snapshot(chroma_path)

    def connect() -> ClientAPI:
        chroma = settings.chroma
        return make_chroma_client(
            mode=chroma.mode, path=chroma_path, host=chroma.host, port=chroma.port, ssl=chroma.ssl
        )

    shared = settings.chroma.mode == "http"

    def _open() -> CorpusIndex:
        manifest, lock = _shared_manifest(settings, adopt=not read_only) if shared else (None, None)
        return open_index(
            manifest_path=settings.data_dir / MANIFEST_FILE,
            manifest=manifest,
            lock=lock,
            shared=shared,
            read_only=read_only and shared,
            # embedded: Chroma is opened on first need; a search served from the index's current vector copy
            # (corpus.vector_cache) never imports it
            client=None if settings.chroma.mode == "embedded" else connect(),
            vector_copy=settings.data_dir / "cache" / "vectors" / f"{settings.chroma.collection}.npz",
            collection=settings.chroma.collection,
            embedder=embedder,
            tokenizer=tokenizer,
            glossary=glossary,
            ingest_wait_s=settings.ingest_wait_s,
            client_factory=connect if settings.chroma.mode == "embedded" else None,
            reranker=reranker,
            rerank_weight=emb.rerank_weight,
            mix_languages=emb.mix_languages,
        )

    reranker = make_reranker(emb.reranker, tokenizer=tokenizer, glossary=glossary, model_path=emb.reranker_model_path)
    try:
        index = _open()
    except IndexUnavailableError as exc:
        if not (bootstrap and settings.chroma.mode == "embedded" and _set_aside_damaged(settings)):
            raise
        log.warning("corpus index damaged (%s); the damaged files were set aside, rebuilding", exc.message)
        index = _open()
    if bootstrap and not (read_only and shared) and corpus_dir(settings).is_dir():
        if index.is_empty:
            index.ingest(corpus_dir(settings))
        elif (index.chroma_opened or not chroma_path.is_dir()) and index.missing_vectors():
            # a current vector copy stands for the store it was read from, unless the store's folder is gone
            report = index.ingest(corpus_dir(settings))
            log.warning("vector store was missing %d document(s); re-embedded them from their sources",
                        len(report.repaired))
    return index


def _shared_manifest(settings: Settings, *, adopt: bool) -> tuple[SqlManifest, AdvisoryLock | IngestLock]:
    """The manifest and ingestion lock in the service database, for an index on a Chroma server.

    With ``adopt``, a manifest this instance kept in its data folder before (older releases did) is copied in
    once, while the shared one is still empty, so the vectors it wrote stay listed.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from corpus.manifest import Manifest
    from corpus.shared_manifest import SqlManifest, database_lock
    from service.storage import shared_engine

    try:
        engine = shared_engine(settings.resolved_database_url)
    except (SQLAlchemyError, OSError) as exc:
        raise IndexUnavailableError(f"the index on a Chroma server keeps its manifest in the service database, "
                                    f"which cannot be opened: {str(exc).splitlines()[0]}") from None
    manifest = SqlManifest(engine, engine.url.render_as_string(hide_password=True))
    lock = database_lock(engine)
    local = settings.data_dir / MANIFEST_FILE
    if adopt and local.is_file() and manifest.counts()[0] == 0:
        with lock.hold(timeout=settings.ingest_wait_s):
            adopted = manifest.adopt(Manifest(local))
        if adopted:
            log.warning("moved the index manifest of %s (%d documents) into the service database, where every "
                        "instance sharing the Chroma server sees it", local, adopted)
    return manifest, lock


def _snapshot(folder: Path) -> Path:
    """A private copy of ``folder`` (removed at exit) that Chroma may rewrite without touching the original."""
    target = Path(tempfile.mkdtemp(prefix="procure-chroma-")) / folder.name
    atexit.register(shutil.rmtree, target.parent, True)
    shutil.copytree(folder, target)
    return target


def _set_aside_damaged(settings: Settings) -> bool:
    """Rename a manifest that is not a database, or a Chroma folder that cannot be opened; True if one was."""
    import sqlite3

    stamp = time.strftime("%Y%m%dT%H%M%S")
    manifest = settings.data_dir / MANIFEST_FILE
    moved = False
    if manifest.exists():
        try:
            with closing(sqlite3.connect(manifest)) as db:
                db.execute("PRAGMA schema_version").fetchone()
                ok = db.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        except sqlite3.Error:
            ok = False
        if not ok:
            for suffix in ("", "-wal", "-shm"):
                part = manifest.with_name(manifest.name + suffix)
                if part.exists():
                    part.rename(part.with_name(f"{part.name}.damaged-{stamp}"))
            moved = True
    chroma = settings.chroma_path
    if not moved and chroma.exists():
        chroma.rename(chroma.with_name(f"{chroma.name}.damaged-{stamp}"))
        moved = True
    return moved


class LazyCorpus:
    """Opens the index on first use (the API starts fast; the first search pays for jieba and Chroma).

    Args:
        settings: Service settings.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._index: CorpusIndex | None = None
        self._lock = threading.Lock()
        self._warming: threading.Thread | None = None
        self._error: str | None = None

    def get(self, *, bootstrap: bool = True, read_only: bool = False) -> CorpusIndex:
        """The index, built once; with ``bootstrap`` a fresh data folder first gets the default documents.

        ``read_only`` (a search-only process such as ``procure search``): an existing embedded vector store is
        opened from a private copy, so searching never rewrites it.
        """
        if self._index is None:
            with self._lock:
                if self._index is None:
                    try:
                        self._index = build_corpus(self.settings, bootstrap=bootstrap, read_only=read_only)
                    except Exception as exc:
                        self._error = getattr(exc, "message", None) or exc.__class__.__name__
                        raise
                    self._error = None
        return self._index

    def warm(self) -> None:
        """Open (and bootstrap) the index in a background thread, so no request waits for it."""
        if self._index is None and self._warming is None:
            self._warming = threading.Thread(target=self._warm, name="procure-warm-index", daemon=True)
            self._warming.start()

    def _warm(self) -> None:
        try:
            self.get()
        except Exception:  # noqa: S110 - the failure is kept in _error and shown by status()
            pass

    def status(self) -> str:
        """``ok`` once the index is open; else ``warming``, ``not opened yet`` or the error that stopped it."""
        if self._index is not None:
            return "ok"
        if self._error is not None:
            return f"unavailable: {self._error}"
        if self._warming is not None and self._warming.is_alive():
            return "warming"
        return "not opened yet"
