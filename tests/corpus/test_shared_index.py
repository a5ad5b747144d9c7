"""Instances sharing one Chroma server share one index (a real `chroma run` on a free port).

The manifest lives in the shared database (PostgreSQL here), so a second instance with a fresh data folder sees
the first one's documents, a read-only search writes nothing (no bootstrap, no mark, no clean-up), ingestions of
two instances add up instead of deleting each other's vectors, and an instance pointed at another database refuses
the server's collection with a one-line message instead of cleaning it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from corpus.errors import IndexUnavailableError
from corpus.index import CorpusIndex, make_chroma_client, open_index
from corpus.ingestion import OWNER_KEY
from service.corpus_wiring import SHIPPED_SOURCES, build_corpus
from service.settings import Settings
from tests.pg import fresh_schema
from tests.service.corpus.test_corpus_chroma_server import chroma_server

__all__ = ["chroma_server"]
pytestmark = [pytest.mark.slow, pytest.mark.integration]
SOURCES = sorted(SHIPPED_SOURCES.glob("*.md"))[:4]


@pytest.fixture
def database() -> Iterator[str]:
    """A fresh schema in the test PostgreSQL (the shared store of the instances)."""
    with fresh_schema("shared") as url:
        yield url


def _folder(root: Path, *files: Path | tuple[str, str]) -> Path:
    root.mkdir(parents=True)
    for f in files:
        if isinstance(f, Path):
            shutil.copy(f, root / f.name)
        else:
            (root / f[0]).write_text(f[1], encoding="utf-8")
    return root


@pytest.fixture
def collection() -> str:
    """A collection of this test's own (the server is shared by the module's tests)."""
    return f"shared-{uuid.uuid4().hex[:8]}"


def _settings(data: Path, server: str, db: str | None, corpus: Path, collection: str) -> Settings:
    return Settings(data_dir=data, chroma_url=server, database_url=db, corpus_dir=corpus,
                    chroma={"collection": collection})


def _intact(index: CorpusIndex) -> None:
    """Every chunk the shared manifest lists has its vector, and the server holds no other."""
    ids = set(index.collection.get(include=[])["ids"])
    assert ids == index.manifest.chunk_ids()


def test_two_instances_on_one_server_share_one_index(chroma_server: str, database: str, collection: str,
                                                    tmp_path: Path) -> None:
    corpus = _folder(tmp_path / "corpus", *SOURCES)
    first = build_corpus(_settings(tmp_path / "a", chroma_server, database, corpus, collection), bootstrap=True)
    assert first.stats()["documents"] == 4
    _intact(first)
    generation, marker = first.manifest.generation(), first.collection.metadata[OWNER_KEY]
    vectors = first.collection.count()

    # a read-only `procure search` from a fresh data folder (the probe's repro): finds, and writes nothing
    env = {**os.environ, "PROCURE_DATA_DIR": str(tmp_path / "b"), "PROCURE_CHROMA_URL": chroma_server,
           "PROCURE_DATABASE_URL": database, "PROCURE_CHROMA__COLLECTION": collection,
           "PROCURE_CORPUS_DIR": str(tmp_path / "nowhere")}
    procure = str(Path(sys.executable).parent / "procure")
    found = subprocess.run([procure, "search", "MI300X memory bandwidth", "--k", "3", "--json"], env=env,
                           capture_output=True, text=True, check=False)
    assert found.returncode == 0, found.stderr
    assert {p["doc_id"] for p in json.loads(found.stdout)} & {p.stem for p in SOURCES}
    assert first.collection.count() == vectors and first.manifest.generation() == generation
    assert first.collection.metadata[OWNER_KEY] == marker

    # a second service instance (fresh data folder, bootstrap on) joins the index instead of rebuilding it
    second = build_corpus(_settings(tmp_path / "c", chroma_server, database, corpus, collection), bootstrap=True)
    assert second.stats() == first.stats() and first.manifest.generation() == generation

    # both ingest at once: the database lock serialises them and nobody's vectors are taken for leftovers
    notes = [_folder(tmp_path / f"notes{i}", (f"note{i}.md", f"---\nid: note-{i}\npublished: 2025-05-0{i + 1}\n---\n"
                                              f"The Wombat W{i} card has {40 + i} GB of memory.\n"))
             for i in range(2)]
    errors: list[BaseException] = []

    def ingest(index: CorpusIndex, folder: Path) -> None:
        try:
            index.ingest(folder)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=ingest, args=(idx, folder)) for idx, folder in zip((first, second), notes,
                                                                                           strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert first.stats()["documents"] == second.stats()["documents"] == 6
    assert first.search("Wombat W1 memory", k=1)[0].doc_id == "note-1"  # written by the other instance
    assert second.search("Wombat W0 memory", k=1)[0].doc_id == "note-0"
    _intact(first)


def test_an_instance_on_another_database_refuses_the_shared_collection(chroma_server: str, database: str,
                                                                      collection: str, tmp_path: Path) -> None:
    corpus = _folder(tmp_path / "corpus", *SOURCES[:2])
    owner = build_corpus(_settings(tmp_path / "a", chroma_server, database, corpus, collection), bootstrap=True)
    before = set(owner.collection.get(include=[])["ids"])
    # a fresh data folder with its own (default SQLite) database, pointed at the same server and collection
    stranger = _settings(tmp_path / "b", chroma_server, None, corpus, collection)
    with pytest.raises(IndexUnavailableError, match="PROCURE_DATABASE_URL"):
        build_corpus(stranger, bootstrap=True)
    env = {**os.environ, "PROCURE_DATA_DIR": str(tmp_path / "b"), "PROCURE_CHROMA_URL": chroma_server,
           "PROCURE_CHROMA__COLLECTION": collection}
    env.pop("PROCURE_DATABASE_URL", None)
    done = subprocess.run([str(Path(sys.executable).parent / "procure"), "search", "H20", "--json"], env=env,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "another index" in done.stderr and "Traceback" not in done.stderr
    assert set(owner.collection.get(include=[])["ids"]) == before  # nothing of the owner's was touched


def test_a_manifest_kept_in_the_data_folder_is_adopted_once(chroma_server: str, database: str, collection: str,
                                                            tmp_path: Path) -> None:
    """An instance of an older release kept its manifest in the data folder; upgrading keeps its documents."""
    corpus = _folder(tmp_path / "corpus", *SOURCES[:2])
    settings = _settings(tmp_path / "a", chroma_server, database, corpus, collection)
    from corpus.embeddings import make_embedder
    from corpus.glossary import load_glossary
    from corpus.text import shared_tokenizer

    glossary = load_glossary()
    tokenizer = shared_tokenizer(tmp_path / "jieba", tuple(glossary.chinese_terms))
    url = chroma_server.removeprefix("http://")
    old = open_index(manifest_path=settings.data_dir / "corpus.sqlite",
                     client=make_chroma_client(mode="http", host=url.split(":")[0], port=int(url.split(":")[1])),
                     collection=collection, embedder=make_embedder("hashing", tokenizer=tokenizer),
                     tokenizer=tokenizer, glossary=glossary)
    old.ingest(corpus)
    ids = set(old.collection.get(include=[])["ids"])
    upgraded = build_corpus(settings, bootstrap=True)
    assert upgraded.stats() == old.stats() and upgraded.manifest.chunk_ids() == ids
    assert set(upgraded.collection.get(include=[])["ids"]) == ids  # adopted, not re-embedded or cleaned away
    report = upgraded.ingest(corpus)
    assert report.unchanged and not report.added and not report.updated
