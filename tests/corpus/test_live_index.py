"""Live index: a running index sees ingestions by other processes; a whole ingestion can be one transaction."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from corpus.glossary import Glossary
from corpus.index import CorpusIndex, make_chroma_client, open_index
from corpus.text import Tokenizer
from corpus.types import SearchFilters
from tests.corpus.conftest import IndexFactory

ROOT = Path(__file__).resolve().parents[2]
OTHER_PROCESS = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    sys.path.insert(0, {root!r})
    from tests.corpus.conftest import build_index
    from corpus.glossary import load_glossary
    from corpus.text import shared_tokenizer
    glossary = load_glossary()
    tokenizer = shared_tokenizer(Path({jieba!r}), tuple(glossary.chinese_terms))
    index = build_index(Path({folder!r}), tokenizer, glossary)
    print(",".join(index.ingest(Path({docs!r})).added))
    """
)


def write(folder: Path, doc_id: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{doc_id}.md").write_text(
        f"---\nid: {doc_id}\ntitle: {doc_id}\nlanguage: en\npublished: 2025-01-0{len(doc_id) % 9 + 1}\n---\n{text}\n",
        encoding="utf-8",
    )


def live_index(folder: Path, tokenizer: Tokenizer, glossary: Glossary) -> CorpusIndex:
    from corpus.embeddings import HashingEmbedder

    def connect() -> object:
        return make_chroma_client(mode="embedded", path=folder / "chroma")

    return open_index(
        manifest_path=folder / "corpus.sqlite",
        client=make_chroma_client(mode="embedded", path=folder / "chroma"),
        collection="test-corpus",
        embedder=HashingEmbedder(tokenizer, 256),
        tokenizer=tokenizer,
        glossary=glossary,
        client_factory=connect,  # type: ignore[arg-type]
    )


@pytest.mark.slow
def test_a_running_index_serves_another_processs_ingestion(
    tmp_path: Path, tokenizer: Tokenizer, glossary: Glossary
) -> None:
    docs = tmp_path / "docs"
    write(docs, "zebra", "The Zebra Z1 accelerator has 12 GB of memory.")
    running = live_index(tmp_path / "index", tokenizer, glossary)
    running.ingest(docs)
    assert [p.doc_id for p in running.search("Zebra Z1 memory", k=5)] == ["zebra"]

    write(docs, "quokka", "The Quokka Q7 accelerator ships with 77 GB of HBM3 memory.")
    code = OTHER_PROCESS.format(root=str(ROOT), jieba=str(tmp_path / "jieba"), folder=str(tmp_path / "index"),
                                docs=str(docs))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "quokka"

    # no restart: the generation moved, the running index reloads and reopens its embedded Chroma client
    unfiltered = running.search("Quokka Q7 77 GB", k=2)
    assert unfiltered[0].doc_id == "quokka" and running.reopened == 1
    filtered = running.search("Quokka Q7 77 GB", k=2, filters=SearchFilters(language=("en",)))
    assert filtered[0].doc_id == "quokka"
    assert running.stats() == {"documents": 2, "chunks": 2}
    # and its own later ingestions need no reopen
    write(docs, "wombat", "The Wombat W3 accelerator draws 300 W.")
    running.ingest(docs)
    assert running.search("Wombat W3 power", k=1)[0].doc_id == "wombat" and running.reopened == 1


def test_an_atomic_ingestion_is_all_or_nothing(make_index: IndexFactory, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import corpus.ingestion as index_module  # where ingestion (and its batch size) lives

    monkeypatch.setattr(index_module, "WRITE_BATCH_CHUNKS", 2)  # several batches from a few small documents
    docs = tmp_path / "docs"
    for i in range(6):
        write(docs, f"doc{i}", f"Accelerator model Kappa{i} has {10 + i} GB of memory.")
    index = make_index()
    calls = {"n": 0}
    store = CorpusIndex._store_vectors

    def failing_store(self: CorpusIndex, pending: list[object]) -> int:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full while writing the third batch")
        return store(self, pending)  # type: ignore[arg-type]

    monkeypatch.setattr(CorpusIndex, "_store_vectors", failing_store)
    with pytest.raises(OSError):
        index.ingest(docs, atomic=True)
    assert index.stats() == {"documents": 0, "chunks": 0}  # the two batches already stored were never committed
    assert index.search("Kappa0 memory", k=3) == []

    calls["n"] = 0
    with pytest.raises(OSError):
        index.ingest(docs)  # per-batch commits: what was finished stays
    assert index.stats()["documents"] == 4

    monkeypatch.setattr(CorpusIndex, "_store_vectors", store)
    report = index.ingest(docs, atomic=True)
    assert sorted(report.added) == ["doc4", "doc5"] and index.stats()["documents"] == 6
