"""``procure serve``: run the HTTP API."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from service.settings import get_settings


def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default from PROCURE_HOST, 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default from PROCURE_PORT, 8000).")] = None,
) -> None:
    """Start the FastAPI service with uvicorn (foreground; Ctrl+C or SIGTERM cancels running solves and stops).

    API keys are required when binding a non-loopback address.
    """
    from service.app import create_app
    from service.container import build_context
    from service.jsonlog import configure_logging
    from service.server import run

    settings = get_settings()
    update: dict[str, Any] = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    if update:
        settings = settings.model_copy(update=update)
    configure_logging(settings.log_level)
    ctx = build_context(settings)  # a bad catalog or rule file ends here with one line, not in uvicorn's traceback
    run(create_app(ctx=ctx), settings)
