"""Prompt templates stored as files, with a loader that returns the text and its content hash."""

from __future__ import annotations

import hashlib
from importlib import resources

_PACKAGE = "prompts.templates"


class PromptNotFoundError(LookupError):
    """No template with that name exists."""


def load(name: str) -> str:
    """Return the text of the template ``name`` (file ``templates/<name>.md``).

    Raises:
        PromptNotFoundError: when no such template exists.
    """
    path = resources.files(_PACKAGE).joinpath(f"{name}.md")
    if not path.is_file():
        raise PromptNotFoundError(f"no prompt template named {name!r}")
    return path.read_text(encoding="utf-8")


def version(name: str) -> str:
    """Short content hash of the template, recorded with every answer it produced."""
    return hashlib.sha256(load(name).encode("utf-8")).hexdigest()[:12]


def sections(name: str) -> dict[str, str]:
    """The ``## section`` blocks of template ``name`` as a mapping (lines starting with ``#`` alone are comments)."""
    out: dict[str, str] = {}
    current: str | None = None
    lines: list[str] = []
    for line in load(name).splitlines():
        if line.startswith("## "):
            if current is not None:
                out[current] = "\n".join(lines).strip("\n")
            current, lines = line[3:].strip(), []
        elif line.startswith("# ") and current is None:
            continue
        elif current is not None:
            lines.append(line)
    if current is not None:
        out[current] = "\n".join(lines).strip("\n")
    return out


__all__ = ["PromptNotFoundError", "load", "sections", "version"]
