"""One-line messages for validation errors, shared by the CLI and the HTTP error handlers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

_SKIP = {"body", "query", "path"}


def first_error(errors: Sequence[Any]) -> str:
    """The first pydantic/FastAPI validation problem as ``loc: message (and N more)``."""
    if not errors:
        return "invalid request"
    first = errors[0]
    loc = ".".join(str(p) for p in first.get("loc", ()) if p not in _SKIP)
    msg = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{loc}: {msg}{more}" if loc else f"{msg}{more}"


def error_list(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """JSON-safe list of validation problems (no input values echoed back)."""
    return [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
            for e in errors]
