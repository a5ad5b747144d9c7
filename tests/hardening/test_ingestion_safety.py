"""Ingestion safety: symbolic links out of the folder, lost or damaged vector stores, damaged data folders."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.cli import app as cli
from service.corpus_wiring import build_corpus
from service.settings import Settings

DOC = "---\ntitle: {t}\ndate: 2025-01-01\n---\n# {t}\n\n{t} has 96 GB of HBM3 and a bandwidth of 4.0 TB/s.\n"


def _docs(root: Path) -> Path:
    docs = root / "docs"
    docs.mkdir(parents=True)
    (docs / "inside.md").write_text(DOC.format(t="Inside"), encoding="utf-8")
    return docs


def _settings(tmp_path: Path, docs: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", corpus_dir=docs, warm_index=False)


def test_symlinks_out_of_the_folder_are_not_ingested(tmp_path: Path) -> None:
    docs = _docs(tmp_path)
    secret = tmp_path / "secret.md"
    secret.write_text(DOC.format(t="Secret"), encoding="utf-8")
    (docs / "leak.md").symlink_to(secret)
    (docs / "host.txt").symlink_to("/etc/hostname") if Path("/etc/hostname").exists() else None
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "deep.md").write_text(DOC.format(t="Deep"), encoding="utf-8")
    (docs / "linked-folder").symlink_to(outside, target_is_directory=True)
    (docs / "inner.md").symlink_to(docs / "inside.md")  # a link that stays inside is fine
    index = build_corpus(_settings(tmp_path, docs))
    report = index.ingest(docs, allowed_root=docs)
    failed = {Path(f.path).name: f.error for f in report.failed}
    assert "leak.md" in failed and "outside" in failed["leak.md"]
    if Path("/etc/hostname").exists():
        assert "host.txt" in failed
    titles = {p.title for p in index.search("HBM3 bandwidth", k=10)}
    assert "Secret" not in titles and "Deep" not in titles and "Inside" in titles


def test_http_ingest_refuses_a_link_to_a_file_outside(make_client: Callable[..., TestClient], tmp_path: Path) -> None:
    docs = _docs(tmp_path)
    (docs / "leak.md").symlink_to(tmp_path / "x.md")
    (tmp_path / "x.md").write_text(DOC.format(t="Secret"), encoding="utf-8")
    client = make_client(corpus_dir=docs)
    r = client.post("/v1/corpus/documents", json={"path": "leak.md"})
    assert r.status_code == 422 and "outside" in r.json()["detail"]
    r = client.post("/v1/corpus/documents", json={"path": "."})
    assert r.status_code == 200
    assert [f["path"].endswith("leak.md") for f in r.json()["failed"]] == [True]


def _procure(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("procure", path=str(Path(sys.executable).parent))
    assert exe
    return subprocess.run([exe, *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_deleted_vector_store_is_repaired_and_said_so(tmp_path: Path) -> None:
    # separate processes: Chroma keeps an opened store in memory, a deleted folder only shows in a new process
    docs = _docs(tmp_path)
    env = {"PROCURE_DATA_DIR": str(tmp_path / "data"), "PROCURE_CORPUS_DIR": str(docs)}
    first = _procure("ingest", "--json", env=env)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["added"] == ["inside"]
    shutil.rmtree(tmp_path / "data" / "chroma")
    second = _procure("ingest", env=env)
    assert second.returncode == 0, second.stderr
    assert "repaired 1 (their vectors were missing)" in second.stdout and "unchanged 0" in second.stdout
    third = _procure("ingest", "--json", env=env)
    assert json.loads(third.stdout)["unchanged"] == ["inside"] and json.loads(third.stdout)["repaired"] == []
    found = _procure("search", "HBM3 bandwidth", "--json", env=env)
    assert json.loads(found.stdout)[0]["title"] == "Inside"


def test_damaged_store_is_set_aside_and_rebuilt_at_start(tmp_path: Path) -> None:
    docs = _docs(tmp_path)
    settings = _settings(tmp_path, docs)
    build_corpus(settings, bootstrap=True)
    manifest = settings.data_dir / "corpus.sqlite"
    for part in manifest.parent.glob("corpus.sqlite*"):
        part.write_bytes(b"this is not a database" * 100)
    index = build_corpus(settings, bootstrap=True)
    assert index.stats()["documents"] == 1
    assert list(settings.data_dir.glob("corpus.sqlite.damaged-*"))


def test_damaged_data_gives_clean_errors(make_client: Callable[..., TestClient], tmp_path: Path) -> None:
    data_file = tmp_path / "data-is-a-file"
    data_file.write_text("x", encoding="utf-8")
    client = make_client(data_dir=data_file)
    r = client.get("/v1/corpus/search", params={"q": "H20"})
    assert r.status_code == 503 and r.json()["code"] == "index_unavailable"
    assert client.get("/readyz").status_code == 503
    runner = CliRunner()
    result = runner.invoke(cli, ["search", "H20"], env={"PROCURE_DATA_DIR": str(data_file)})
    assert result.exit_code == 2 and "is a file" in result.output
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_search_does_not_rewrite_the_index(tmp_path: Path) -> None:
    docs = _docs(tmp_path)
    data = tmp_path / "data"
    env = {"PROCURE_DATA_DIR": str(data), "PROCURE_CORPUS_DIR": str(docs)}
    assert _procure("ingest", env=env).returncode == 0

    def digests() -> dict[str, str]:
        return {str(f.relative_to(data)): hashlib.sha256(f.read_bytes()).hexdigest()
                for f in sorted(data.rglob("*")) if f.is_file() and "cache" not in f.parts}

    before = digests()
    found = _procure("search", "HBM3", "--json", env=env)
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)[0]["title"] == "Inside"
    assert digests() == before
