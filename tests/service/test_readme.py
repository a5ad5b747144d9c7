"""The README's examples run as written from a clone (no ../shared, every file they name ships)."""

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
NEEDS_THE_USER = ("~/",)  # paths on the reader's own machine
SLOW = ("ingest", "search", "eval")


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def _commands() -> list[list[str]]:
    out = []
    for block in _blocks("bash"):
        text = block.replace("\\\n", " ")
        for line in text.splitlines():
            line = line.strip()
            if not line.startswith(".venv/bin/procure ") or any(u in line for u in NEEDS_THE_USER):
                continue
            argv = shlex.split(line, comments=True)[1:]
            if argv[0] != "serve":
                out.append(argv)
    return out


COMMANDS = _commands()


def test_the_readme_has_examples_and_none_needs_the_shared_folder() -> None:
    assert len(COMMANDS) >= 15
    assert not [c for c in COMMANDS if any("../shared" in a or a.startswith("shared/") for a in c)]
    assert "Ctrl+C" in README  # how to stop `make run`


@pytest.mark.parametrize(
    "argv",
    [pytest.param(c, marks=pytest.mark.slow) if c[0] in SLOW else c for c in COMMANDS],
    ids=[" ".join(c)[:60] for c in COMMANDS],
)
def test_readme_command_runs(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
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
    exec(compile(block, "README.md", "exec"), scope)  # noqa: S102 - the README's own example
    plan = scope["plan"]
    assert plan.status == "optimal" and plan.items[0].sku == "ascend-910c"


def test_every_setting_is_documented_in_the_configuration_table() -> None:
    from service.settings import Settings

    section = README.split("## Configuration", 1)[1].split("\n## ", 1)[0]
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
