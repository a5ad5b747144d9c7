"""Agent fixtures: a small corpus, isolated settings, an agent with a fixed 'today'."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from service.agent.backend import Backend
from service.agent.chat import Agent
from service.agent.parse import Lexicon
from service.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ROOT / "corpus" / "sources"
EVAL = ROOT / "service" / "agent" / "eval"
TODAY = dt.date(2025, 8, 1)
DOCS = ("nvidia-h20-l20-l2-en.md", "nvidia-h20-l20-l2-zh.md", "huawei-ascend-910b-910c-cloudmatrix-en.md",
        "china-side-measures-2025-2026-en.md", "rule-2023-10-tpp-density-en.md")


def small_corpus(folder: Path, extra: dict[str, str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in DOCS:
        shutil.copy(SOURCES / name, folder / name)
    for name, text in (extra or {}).items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def make_settings(root: Path, corpus: Path, **kw: object) -> Settings:
    return Settings(data_dir=root / "data", corpus_dir=corpus, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def agent_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("agent")
    return make_settings(root, small_corpus(root / "corpus"))


@pytest.fixture(scope="session")
def backend(agent_settings: Settings) -> Backend:
    return Backend.from_settings(agent_settings)


@pytest.fixture(scope="session")
def agent(backend: Backend) -> Agent:
    return Agent(backend, today=TODAY)


@pytest.fixture(scope="session")
def lex(backend: Backend) -> Lexicon:
    return backend.lexicon()
