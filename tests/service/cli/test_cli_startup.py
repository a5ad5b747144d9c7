"""Start-up: the CLI and the app import the retrieval stack (Chroma, bm25s, jieba) only when it is used."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
HEAVY = ("chromadb", "bm25s", "jieba", "corpus.index", "corpus.embeddings")


def loaded_after(statement: str) -> list[str]:
    code = f"import sys\n{statement}\nimport json\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return list(json.loads(out.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("statement", ["import service.cli", "import service.app", "import corpus"])
def test_importing_does_not_load_the_retrieval_stack(statement: str) -> None:
    assert loaded_after(statement) == []


def test_using_the_index_still_loads_it() -> None:
    loaded = loaded_after("import corpus\ncorpus.open_index")
    assert {"chromadb", "bm25s", "corpus.index", "corpus.embeddings"} <= set(loaded)


def test_the_cli_loads_or_tools_only_when_it_solves() -> None:
    code = "import sys\nimport service.cli\nprint('ortools' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
