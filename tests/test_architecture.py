"""Import rules of DESIGN.md section 2, enforced with import-linter, plus the no-environment rule."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold() -> None:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    assert exe, "import-linter is a dev dependency"
    proc = subprocess.run([exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "broken" not in proc.stdout.lower().replace("0 broken", "")


def test_core_packages_never_read_the_environment() -> None:
    pattern = re.compile(r"os\.environ|os\.getenv|getenv\(")
    offenders = [
        str(p.relative_to(ROOT))
        for pkg in ("optimizer", "corpus", "prompts")
        for p in (ROOT / pkg).rglob("*.py")
        if pattern.search(p.read_text(encoding="utf-8"))
    ]
    assert offenders == []


ENTRY_POINTS = ("api", "cli", "agent", "jobs", "web", "presenters")
"""Entry points of ``service`` (present and future) and the presenters reach the core only through service.usecases."""


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):  # also imports inside functions and TYPE_CHECKING blocks
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def test_entry_points_reach_the_core_only_through_the_application_layer() -> None:
    offenders = [
        f"{p.relative_to(ROOT)}: {name}"
        for pkg in ENTRY_POINTS
        for p in (ROOT / "service" / pkg).rglob("*.py")
        for name in _imports(p)
        if name.split(".")[0] in ("optimizer", "corpus")
    ]
    assert offenders == []


def test_import_linter_names_the_application_layer_contract() -> None:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert "only through the application layer" in text
    assert 'forbidden_modules = ["optimizer", "corpus"]' in text
    contract = text[text.index("only through the application layer"):]
    sources = contract[contract.index("source_modules"):contract.index("\n", contract.index("source_modules"))]
    assert all(f'"service.{door}"' in sources for door in ENTRY_POINTS), sources  # the agent and jobs included
    assert 'modules = ["service.agent", "service.jobs"]' in text  # independent doors


def test_the_agent_orchestrates_no_solve_of_its_own() -> None:
    """The agent's tools call use cases; no agent module builds optimizer requests or runs two solves itself."""
    agent = ROOT / "service" / "agent"
    for path in agent.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "PurchaseRequest.model_validate" not in text, path.name  # request defaults live in usecases.flat
        assert "TrainingRequest.model_validate" not in text and "InferenceRequest.model_validate" not in text


def test_optimizer_exports_a_public_face() -> None:
    import optimizer

    assert {"recommend", "what_if", "PurchaseRequest", "PurchasePlan", "load_catalog", "load_engine"} <= set(
        optimizer.__all__)
    for name in optimizer.__all__:
        assert getattr(optimizer, name) is not None, name


def test_oracles_live_outside_the_production_packages() -> None:
    assert not (ROOT / "optimizer" / "brute.py").exists() and not (ROOT / "optimizer" / "mip.py").exists()
    production = [p for pkg in ("optimizer", "corpus", "prompts", "service") for p in (ROOT / pkg).rglob("*.py")]
    offenders = [str(p.relative_to(ROOT)) for p in production
                 if any(n.startswith("tests") or n.endswith((".brute", ".mip")) for n in _imports(p))]
    assert offenders == []
