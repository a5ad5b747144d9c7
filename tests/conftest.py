"""Shared fixtures: a clean environment, the embedded catalog and engine, isolated settings."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer.testing

from optimizer.catalog import Catalog, load_catalog
from optimizer.compliance import ComplianceEngine, load_engine

_get_command = typer.testing._get_command
_commands: dict[int, tuple[typer.Typer, object]] = {}


def _command_once(app: typer.Typer):  # type: ignore[no-untyped-def]
    """Typer's click command for ``app``, built once per test process.

    ``CliRunner.invoke`` rebuilds the whole command tree from the functions' signatures on every call (~0.1 s for
    procure's commands, paid by several hundred in-process invocations). The tree is a pure function of the
    registered commands, which the tests never change, and click makes a new context per invocation, so one tree
    serves every invocation.
    """
    hit = _commands.get(id(app))
    if hit is None or hit[0] is not app:
        hit = _commands[id(app)] = (app, _get_command(app))
    return hit[1]


typer.testing._get_command = _command_once  # type: ignore[assignment]


def _clean(monkeypatch: pytest.MonkeyPatch, data: Path) -> None:
    for key in list(os.environ):
        if key.startswith("PROCURE_"):
            monkeypatch.delenv(key)
    for key in ("COLUMNS", "LINES"):  # xdist workers start with COLUMNS=80, LINES=24: the CLI would wrap at 80
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("PROCURE_DATA_DIR", str(data))
    monkeypatch.setenv("PROCURE_WARM_INDEX", "false")  # tests that need the index open it themselves
    from service.settings import get_settings

    get_settings.cache_clear()


@pytest.fixture(autouse=True, scope="session")
def clean_session_environ(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The same clean environment for module- and session-scoped fixtures, which are set up before the per-test one.

    Without it an app a module builds once saw the developer's PROCURE_* settings and the default data folder, and
    warmed its index in the background (the default), ~20 CPU-s of a parallel run spent indexing the shipped corpus
    for apps whose tests never searched.
    """
    with pytest.MonkeyPatch.context() as mp:
        _clean(mp, tmp_path_factory.mktemp("procure-session-data"))
        yield


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Strip PROCURE_* variables so tests never see a developer's settings; keep caches in temp folders."""
    _clean(monkeypatch, tmp_path_factory.mktemp("procure-data"))
    yield
    from service.settings import get_settings

    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def no_exec(monkeypatch: pytest.MonkeyPatch) -> None:
    """A command that replaces its process (``procure llm serve`` execs llama.cpp's server) must never replace the
    test run when invoked in-process: the run would silently become a server. Tests start servers as subprocesses."""

    def refuse(path: str, *args: object) -> None:
        raise AssertionError(f"a test tried to exec {path} in the test process; start it as a subprocess")

    for name in ("execv", "execve", "execvp", "execvpe", "execl", "execlp"):
        monkeypatch.setattr(os, name, refuse)


_LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access")


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """Put the root and uvicorn loggers back as they were: a test that runs ``procure serve`` configures logging.

    Without this a handler set up inside one test (bound to that test's captured stderr) stays on the root logger and
    the next test's log records go to a closed stream: order-dependent failures, more of them under xdist. pytest's
    own capture handlers come and go per phase (setup, call, teardown), so they are left to pytest.
    """
    saved = [(logging.getLogger(name), [h for h in logging.getLogger(name).handlers if not _is_pytests(h)],
              logging.getLogger(name).level, logging.getLogger(name).propagate) for name in _LOGGERS]
    yield
    for logger, handlers, level, propagate in saved:
        logger.handlers[:] = handlers + [h for h in logger.handlers if _is_pytests(h)]
        logger.setLevel(level)
        logger.propagate = propagate


def _is_pytests(handler: logging.Handler) -> bool:
    return type(handler).__module__.startswith("_pytest")


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="session")
def engine(catalog: Catalog) -> ComplianceEngine:
    return load_engine(catalog)


@pytest.fixture
def write_yaml(tmp_path: Path):  # type: ignore[no-untyped-def]
    def _write(text: str, name: str = "extra.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return _write


# Files whose tests share one worker under `pytest -n … --dist loadgroup` (``make test``), beside files that mark
# themselves: "ray" never starts two Ray instances at once on a 2-CPU machine. Tests marked ``serial`` race a request
# against a deadline of a few seconds or time a cancelled solve: ``make test`` runs them after the parallel phase,
# alone, as a serial run on a quiet machine would (a busy neighbour worker made a 5-s ingest deadline fail there).
# That phase collects SERIAL_DIR only, so a serial test must live there.
XDIST_GROUPS = {
    "tests/jobs/test_ray.py": "ray",
    "tests/jobs/test_ray_cluster.py": "ray",
    "tests/agent/test_real_model.py": "llm",  # one llama.cpp server for all real-model tests
}
SERIAL_DIR = "tests/hardening/"


@pytest.hookimpl(tryfirst=True)  # before xdist reads the marks and before -m deselects
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        path = item.path.relative_to(config.rootpath).as_posix()
        group = XDIST_GROUPS.get(path)
        if group:
            item.add_marker(pytest.mark.xdist_group(group))
        if item.get_closest_marker("serial") and not path.startswith(SERIAL_DIR):
            raise pytest.UsageError(f"{item.nodeid} is marked serial outside {SERIAL_DIR}, which is the only "
                                    "folder the serial phase of `make test` collects; move it there")
