"""FastAPI application factory; the lifespan builds the application context once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import Response

from service.api.errors import install_error_handlers, problem
from service.api.routes import catalog, chat, compliance, estimates, health, jobs, recommendations
from service.api.routes import corpus as corpus_routes
from service.container import build_context
from service.settings import Settings, get_settings
from service.usecases import AppContext


def create_app(settings: Settings | None = None, ctx: AppContext | None = None) -> FastAPI:
    """Build the app. Settings are injected (tests pass their own); the context loads in the lifespan.

    Args:
        settings: Service settings (default: from the environment).
        ctx: An already built context (``procure serve`` builds it first so a bad catalog fails in one line).
    """
    settings = ctx.settings if ctx is not None else (settings or get_settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.ctx = ctx if ctx is not None else build_context(settings)
        yield
        app.state.ctx.database.dispose()

    app = FastAPI(
        title="procure",
        version="0.1.0",
        description="Decision support for buying AI accelerators under export controls, budget and deadlines.",
        lifespan=lifespan,
    )
    install_error_handlers(app)

    @app.middleware("http")
    async def limit_body(request: Request, call_next):  # type: ignore[no-untyped-def]
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > settings.max_request_bytes:
            return problem(
                413,
                "payload_too_large",
                "Payload too large",
                f"request body exceeds {settings.max_request_bytes} bytes",
            )
        response: Response = await call_next(request)
        return response

    app.include_router(health.router)
    app.include_router(catalog.router)
    app.include_router(compliance.router)
    app.include_router(estimates.router)
    app.include_router(recommendations.router)
    app.include_router(corpus_routes.router)
    app.include_router(chat.router)
    app.include_router(jobs.router)
    return app
