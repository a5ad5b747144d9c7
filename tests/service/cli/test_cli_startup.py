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
    assert {"bm25s", "corpus.index", "corpus.embeddings"} <= set(loaded)
    assert "chromadb" not in loaded  # Chroma is imported when a client is made (not needed from a vector copy)
    loaded = loaded_after("from corpus.index import make_chroma_client\nmake_chroma_client(mode='memory')")
    assert "chromadb" in loaded


def test_the_cli_loads_or_tools_only_when_it_solves() -> None:
    code = "import sys\nimport service.cli\nprint('ortools' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


STARTUP_HEAVY = ("optimizer", "ortools", "chromadb", "bm25s", "jieba", "corpus", "sqlalchemy", "langchain_core",
                 "langchain_openai", "service.agent", "service.usecases.planning", "fastapi", "numpy", "pandas",
                 "plotly", "rich.markdown", "rich.table", "rich.progress", "yaml")
"""Nothing of this is needed to start `procure` or print its help: each command imports what it uses."""


def _loaded(code: str, names: tuple[str, ...] = STARTUP_HEAVY) -> list[str]:
    probe = f"import sys\n{code}\nimport json\nprint(json.dumps([m for m in {names!r} if m in sys.modules]))"
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    return list(json.loads(out.stdout.strip().splitlines()[-1]))


def test_starting_the_cli_imports_no_command_s_dependencies() -> None:
    assert _loaded("import service.cli") == []


def test_help_imports_no_command_s_dependencies() -> None:
    code = ("from typer.testing import CliRunner\nfrom service.cli import app\n"
            "r = CliRunner().invoke(app, ['--help'])\nassert r.exit_code == 0 and 'ask' in r.output, r.output")
    # Typer draws its help with rich (tables, markdown); nothing of ours is imported for it
    assert [m for m in _loaded(code) if not m.startswith("rich.")] == []


def test_the_application_layer_imports_a_use_case_on_first_use() -> None:
    assert _loaded("from service import usecases") == []
    loaded = _loaded("from service import usecases\nusecases.catalog_list", ("optimizer", "ortools", "chromadb"))
    assert loaded == ["optimizer"]  # the catalog needs the core, not the solver or the vector store


def test_ask_loads_the_agent_only_when_it_runs() -> None:
    assert "service.agent" not in _loaded("import service.cli.ask")
    loaded = _loaded("import service.cli.ask\nservice.cli.ask._agent", ("service.agent",))
    assert loaded == []  # naming the helper imports nothing; calling it does


def test_a_domain_error_is_still_one_line_after_lazy_imports(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from service.cli import app

    r = CliRunner().invoke(app, ["compliance", "check", "no-such-part", "--buyer-country", "CN"],
                           env={"PROCURE_DATA_DIR": str(tmp_path)})
    assert r.exit_code == 2 and "Traceback" not in r.output and len(r.output.strip().splitlines()) == 1, r.output


RECOMMEND_EN = ("Best cluster to train a 70B model on 1.4T tokens within 120 days, budget ¥80M, buyer in China, "
                "on 2025-08-01")


@pytest.mark.slow
def test_a_second_english_recommendation_skips_jieba_chroma_and_alembic(tmp_path: Path) -> None:
    """The first question indexes the corpus and fills the data folder's caches (jieba cuts, the vector copy);
    the next process answers the same from them, without jieba's dictionary, Chroma or Alembic."""
    probe = (
        "import json, runpy, sys\n"
        "sys.argv = ['procure', 'ask', sys.argv[1], '--json']\n"
        "try:\n    runpy.run_module('service.cli', run_name='__main__')\nexcept SystemExit:\n    pass\n"
        "print(json.dumps([m for m in ('jieba', 'chromadb', 'alembic') if m in sys.modules]), file=sys.stderr)\n"
    )
    env = {**__import__("os").environ, "PROCURE_DATA_DIR": str(tmp_path / "data")}
    env.pop("PROCURE_LLM_BASE_URL", None)
    answers = []
    loaded = []
    for _ in range(2):
        out = subprocess.run([sys.executable, "-c", probe, RECOMMEND_EN], cwd=ROOT, env=env, capture_output=True,
                             text=True, check=True)
        answers.append(json.loads(out.stdout))
        loaded.append(json.loads(out.stderr.strip().splitlines()[-1]))
    assert loaded[0] == ["jieba", "chromadb", "alembic"]  # the first indexes the corpus and creates the database
    assert loaded[1] == []
    first, second = answers
    assert second["citations"] == first["citations"] and second["citations"]
    timing = ("solver",)  # the solver's wall time differs from run to run
    assert {k: v for k, v in second["recommendation"].items() if k not in timing} == {
        k: v for k, v in first["recommendation"].items() if k not in timing}
