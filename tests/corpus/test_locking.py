"""Concurrent ingestion: one writer at a time per index, across processes and threads."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from corpus.errors import IndexBusyError
from corpus.index import CorpusIndex
from corpus.locking import IngestLock
from corpus.manifest import DocumentUpdate
from tests.corpus.conftest import ROOT, IndexFactory

HOLD_LOCK = """
import sys
from pathlib import Path
from corpus.locking import IngestLock
with IngestLock(Path(sys.argv[1])).hold(timeout=30):
    print("locked", flush=True)
    sys.stdin.readline()
print("released", flush=True)
"""


@contextmanager
def lock_held_by_another_process(path: Path) -> Iterator[subprocess.Popen[str]]:
    """A child process holding ``path`` until the block ends (or until it is killed)."""
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(path)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "locked"
        yield child
    finally:
        if child.poll() is None:
            assert child.stdin is not None
            child.stdin.write("\n")
            child.stdin.flush()
        child.wait(timeout=30)


def one_doc_folder(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / f"{name}.md").write_text(
        f"---\nid: {name}\ntitle: {name}\nkind: analysis\nlanguage: en\n---\n\n{text}\n", encoding="utf-8"
    )
    return folder


def vector_ids(index: CorpusIndex) -> set[str]:
    return set(index.collection.get(include=[])["ids"])


def test_ingest_fails_clearly_while_another_process_ingests(make_index: IndexFactory, tmp_path: Path) -> None:
    index = make_index()
    folder = one_doc_folder(tmp_path, "alpha", "The Quuxtron-7 accelerator ships with 77 GB of memory.")
    waited: list[str] = []
    with lock_held_by_another_process(index.ingest_lock.path) as child:
        with pytest.raises(IndexBusyError) as info:
            index.ingest(folder, wait_s=0.3, on_wait=waited.append)
        assert f"pid {child.pid}" in info.value.message and "another ingestion" in info.value.message
        assert info.value.code == "index_busy"
        assert len(waited) == 1 and f"pid {child.pid}" in waited[0]
        assert index.is_empty  # nothing was written while the other process held the lock
    report = index.ingest(folder, wait_s=0)
    assert report.added == ["alpha"]


def test_ingest_waits_for_the_other_process_then_runs(make_index: IndexFactory, tmp_path: Path) -> None:
    index = make_index()
    folder = one_doc_folder(tmp_path, "beta", "The Zorblax-3 card draws 450 W.")
    started = threading.Event()
    result: dict[str, object] = {}

    def ingest() -> None:
        try:
            result["report"] = index.ingest(folder, wait_s=60, on_wait=lambda holder: started.set())
        except Exception as exc:  # surfaced by the assertions below
            result["error"] = exc

    with lock_held_by_another_process(index.ingest_lock.path):
        worker = threading.Thread(target=ingest)
        worker.start()
        assert started.wait(30), "the ingestion should report that it waits for the other process"
        assert worker.is_alive() and index.is_empty
    worker.join(60)
    assert "error" not in result, result
    report = result["report"]
    assert getattr(report, "added", None) == ["beta"]


def test_a_crashed_holder_does_not_leave_a_stale_lock(make_index: IndexFactory, tmp_path: Path) -> None:
    index = make_index()
    folder = one_doc_folder(tmp_path, "gamma", "The Frobnitz-9 has 12 links.")
    with lock_held_by_another_process(index.ingest_lock.path) as child:
        child.kill()  # the OS releases the lock with the process
        child.wait(timeout=30)
    assert index.ingest_lock.path.exists()
    assert index.ingest(folder, wait_s=0).added == ["gamma"]


def test_concurrent_ingestions_do_not_delete_each_others_vectors(
    make_index: IndexFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second ingestion starts while the first has written vectors but not committed the manifest.

    Without the lock, the second would collect the first one's uncommitted vectors as crash leftovers and the
    first would then commit chunks that have no vectors.
    """
    first = make_index("shared")
    second = make_index("shared")  # another handle on the same folder, as another process would have
    folder_a = one_doc_folder(tmp_path, "delta", "The Quuxtron-7 accelerator ships with 77 GB of memory.")
    folder_b = one_doc_folder(tmp_path, "epsilon", "The Zorblax-3 card draws 450 W of power.")

    vectors_written = threading.Event()
    let_commit = threading.Event()
    original_commit = first.manifest.commit

    def slow_commit(updates: list[DocumentUpdate], *args: object, **kwargs: object) -> None:
        vectors_written.set()
        assert let_commit.wait(30)
        original_commit(updates, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(first.manifest, "commit", slow_commit)
    second_waits = threading.Event()
    errors: list[BaseException] = []

    def run(index: CorpusIndex, folder: Path, **kwargs: object) -> None:
        try:
            index.ingest(folder, **kwargs)  # type: ignore[arg-type]
        except BaseException as exc:
            errors.append(exc)

    a = threading.Thread(target=run, args=(first, folder_a))
    a.start()
    assert vectors_written.wait(30)
    b = threading.Thread(
        target=run, args=(second, folder_b), kwargs={"wait_s": 60, "on_wait": lambda holder: second_waits.set()}
    )
    b.start()
    assert second_waits.wait(30), "the second ingestion must wait for the first"
    assert b.is_alive()
    let_commit.set()
    a.join(60)
    b.join(60)
    assert not errors, errors

    reopened = make_index("shared")
    live = reopened.manifest.chunk_ids()
    assert reopened.manifest.documents().keys() == {"delta", "epsilon"}
    assert live and vector_ids(reopened) == live  # every committed chunk kept its vector
    hit = reopened.search("Quuxtron-7 memory", k=1)
    assert hit and hit[0].doc_id == "delta"


def test_a_second_holder_in_the_same_process_is_excluded(tmp_path: Path) -> None:
    """A second holder in the same process (another thread or handle) is excluded too."""
    lock = IngestLock(tmp_path / "x.lock")
    other = IngestLock(tmp_path / "x.lock")
    with lock.hold(timeout=0):
        with pytest.raises(IndexBusyError, match=r"pid \d+"):
            with other.hold(timeout=0):
                pass
        with pytest.raises(IndexBusyError, match="another thread of this process"):
            with lock.hold(timeout=0):
                pass
    with other.hold(timeout=0):
        pass
