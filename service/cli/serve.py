"""``procure serve``: run the HTTP API."""

from __future__ import annotations

from typing import Annotated

import typer

from service.cli._common import context
from service.settings import get_settings


def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default from PROCURE_HOST, 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default from PROCURE_PORT, 8000).")] = None,
) -> None:
    """Start the FastAPI service with uvicorn (in the foreground; stop it with Ctrl+C)."""
    import uvicorn

    from service.app import create_app

    settings = get_settings()
    ctx = context()  # a bad catalog or rule file ends here with one line, not in uvicorn's start-up traceback
    uvicorn.run(
        create_app(ctx=ctx),
        host=host or settings.host,
        port=port or settings.port,
        log_level=settings.log_level,
    )
