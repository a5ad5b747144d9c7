"""Shared CLI plumbing: consoles, JSON output, error translation, common options."""

from __future__ import annotations

import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from typer.core import TyperGroup

from service.messages import first_error
from service.settings import Settings, SettingsInvalidError, get_settings

if TYPE_CHECKING:
    from service.usecases import AppContext

console = Console(soft_wrap=False)
err_console = Console(stderr=True)

CatalogOpt = Annotated[
    list[Path] | None,
    typer.Option("--catalog", help="Extra catalog YAML that adds or overrides SKUs and prices (repeatable)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout only.")]


class LangChoice(StrEnum):
    """Languages of the human-readable output."""

    en = "en"
    zh = "zh"


LangOpt = Annotated[LangChoice, typer.Option("--lang", help="Text output in en or zh (amounts in 万/亿).")]


def output_width() -> int | None:
    """COLUMNS when set; the terminal's width; 200 columns when piped (tables keep their width when redirected)."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) >= 20:
        return int(columns)
    return None if sys.stdout.isatty() else 200


def emit_json(payload: Any) -> None:
    """Write JSON to stdout and nothing else."""
    if isinstance(payload, BaseModel):
        payload = payload.model_dump(mode="json")
    sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2, default=str))
    sys.stdout.write("\n")
    sys.stdout.flush()


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print a one-line error on stderr and return the exit to raise."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, markup=True, soft_wrap=True)
    return typer.Exit(code)


class ProcureGroup(TyperGroup):
    """Root command group that turns domain errors into one-line messages and exit code 2."""

    def invoke(self, ctx: Any) -> Any:
        """Run the command; translate known errors instead of printing tracebacks."""
        console.width = output_width()  # type: ignore[assignment]
        try:
            return super().invoke(ctx)
        except SettingsInvalidError as exc:
            raise fail(exc.message) from None
        except ValidationError as exc:
            raise fail(first_error(list(exc.errors()))) from None
        except typer.BadParameter as exc:  # bad or missing flag values: one line, with where to find help
            hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx is not None else ""
            raise fail(exc.format_message().replace("\n", " ").replace("Value error, ", "") + hint) from None
        except Exception as exc:
            if _domain_error(exc):
                raise fail(exc.message) from None  # type: ignore[attr-defined]
            raise


def _domain_error(exc: Exception) -> bool:
    """An error of the core or the corpus (one line to the user); their modules are loaded only once one is raised."""
    if not {"optimizer", "corpus"} & set(sys.modules):
        return False  # neither was imported, so the error is not one of theirs
    from service.usecases import CorpusError, OptimizerError

    return isinstance(exc, OptimizerError | CorpusError)


def settings() -> Settings:
    """Settings from the environment (a bad value ends the command with a one-line error)."""
    return get_settings()


def context(extra: list[Path] | None = None, *, lazy_domain: bool = False) -> AppContext:
    """The application context from settings plus ``--catalog`` files (catalog loaded on first use if lazy)."""
    from service.container import build_context

    return build_context(get_settings(), extra or [], lazy_domain=lazy_domain)
