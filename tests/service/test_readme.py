"""The examples of the README and of docs/*.md run as written from a clone (no ../shared, every file they name ships).

The README is the newcomer's path (set-up, first questions, the doors); the reference moved to docs/, so the shell,
YAML and Python examples are read from both, and the settings table from docs/settings.md.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from service import usecases
from service.cli import app
from service.settings import get_settings

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = {p.name: p.read_text(encoding="utf-8") for p in sorted((ROOT / "docs").glob("*.md"))}
SETTINGS = DOCS["settings.md"]
EVERYWHERE = "\n".join([README, *DOCS.values()])
NEEDS_THE_USER = ("~/",)  # paths on the reader's own machine
SLOW = ("ingest", "search", "eval")


def _blocks(lang: str, text: str = EVERYWHERE) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", text, flags=re.S)


def _command_blocks(text: str = EVERYWHERE) -> list[list[list[str]]]:
    """The ``.venv/bin/procure`` lines of each bash block, in order; a line already seen in an earlier block is
    not repeated. A reader runs a block top to bottom, so a later line may use what an earlier one made."""
    seen: list[list[str]] = []
    blocks: list[list[list[str]]] = []
    for block in _blocks("bash", text):
        joined = block.replace("\\\n", " ")
        cmds = []
        for line in joined.splitlines():
            line = line.strip()
            if not line.startswith(".venv/bin/procure ") or any(u in line for u in NEEDS_THE_USER):
                continue
            argv = shlex.split(line, comments=True)[1:]
            server = argv[0] == "serve" or argv[:2] == ["llm", "serve"]  # foreground servers: run elsewhere
            if not server and argv not in seen:
                seen.append(argv)
                cmds.append(argv)
        if cmds:
            blocks.append(cmds)
    return blocks


def _commands(text: str = EVERYWHERE) -> list[list[str]]:
    return [argv for block in _command_blocks(text) for argv in block]


COMMANDS = _commands()
BLOCKS = _command_blocks()


def test_the_readme_has_examples_and_none_needs_the_shared_folder() -> None:
    assert len(COMMANDS) >= 35  # README and docs together (30 before the reference moved to docs/)
    assert not [c for c in COMMANDS if any("../shared" in a or a.startswith("shared/") for a in c)]
    assert "Ctrl+C" in README  # how to stop `make run`


def test_the_readme_is_a_newcomers_path() -> None:
    """Set-up, first questions in both languages, the four doors and links: the reference lives in docs/."""
    assert "make run" in README and "make test" in README
    first = [c for c in _commands(README) if c[0] == "ask"]
    assert any(re.search(r"[\u4e00-\u9fff]", c[1]) for c in first)  # a question in Chinese
    assert any(re.fullmatch(r"[ -~]+", c[1]) for c in first)  # and one in English
    for door in ("/v1/chat/completions", "batch run", "http://127.0.0.1:8000/"):
        assert door in README, door
    assert "to come" not in EVERYWHERE
    linked = set(re.findall(r"\]\(docs/([a-z]+\.md)", README))
    assert linked >= set(DOCS) - {"README.md"}  # every reference page is reachable from the README
    shots = set(re.findall(r"\]\((docs/screenshots/[^)]+\.png)\)", README))
    assert shots and all((ROOT / s).is_file() for s in shots)


def test_relative_links_in_the_docs_resolve() -> None:
    broken = []
    for name, text in [("README.md", README), *((f"docs/{n}", t) for n, t in DOCS.items())]:
        base = (ROOT / name).parent
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if "://" not in target and not (base / target).exists():
                broken.append(f"{name}: {target}")
    assert broken == []


@pytest.mark.parametrize(
    "block",
    [pytest.param(b, marks=pytest.mark.slow) if any(c[0] in SLOW for c in b) else b for b in BLOCKS],
    ids=[" ".join(b[0])[:60] for b in BLOCKS],
)
def test_readme_commands_run(block: list[list[str]], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    for argv in block:  # in order, in one data folder (the fixture's), as a reader would
        get_settings.cache_clear()
        r = CliRunner().invoke(app, argv)
        assert r.exit_code == 0, f"{argv}: {r.stderr or r.output}"
        for arg in argv:
            if arg.endswith((".yaml", ".yml", ".jsonl", ".json")):
                assert (ROOT / arg).is_file(), arg


def test_the_readme_request_file_is_valid(tmp_path: Path) -> None:
    block = next(b for b in _blocks("yaml") if b.startswith("workloads:"))
    assert isinstance(yaml.safe_load(block), dict)
    path = tmp_path / "request.yaml"
    path.write_text(block, encoding="utf-8")
    request = usecases.load_request_file(path)
    assert request.budget is not None and request.budget.amount == 1e8


@pytest.mark.slow
def test_the_readme_python_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    block = next(b for b in _blocks("python") if "build_context" in b)
    monkeypatch.chdir(ROOT)
    get_settings.cache_clear()
    scope: dict[str, object] = {}
    exec(compile(block, "docs/architecture.md", "exec"), scope)  # noqa: S102 - the docs' own example
    plan = scope["plan"]
    assert plan.status == "optimal" and plan.items[0].sku == "ascend-910c"


def test_every_setting_is_documented_in_the_settings_page() -> None:
    from service.settings import Settings

    section = SETTINGS
    missing = []
    for name, field in Settings.model_fields.items():
        env = f"PROCURE_{name.upper()}"
        group = getattr(field.annotation, "model_fields", None)
        if group:
            missing += [f"{env}__{sub.upper()}" for sub in group
                        if f"{env}__{sub.upper()}" not in section and f"`__{sub.upper()}`" not in section
                        and f"__{sub.upper()}," not in section]
        elif env not in section:
            missing.append(env)
    assert missing == []
