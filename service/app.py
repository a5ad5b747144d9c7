"""FastAPI application factory; the lifespan builds the application context once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from service.api import metrics
from service.api.errors import install_error_handlers
from service.api.middleware import InputLimitMiddleware, RequestContextMiddleware, WorkMiddleware, cancel_all, in_flight
from service.api.openapi import install_openapi
from service.api.routes import catalog, chat, compliance, data, estimates, health, jobs, recommendations
from service.api.routes import corpus as corpus_routes
from service.api.security import AUTH, RateLimits, keys_required
from service.container import build_context
from service.security.keys import KeyStore
from service.settings import Settings, get_settings
from service.usecases import AppContext
from service.web import routes as web_routes
from service.web.assets import STATIC_DIR


def create_app(settings: Settings | None = None, ctx: AppContext | None = None) -> FastAPI:
    """Build the app. Settings are injected (tests pass their own); the context loads in the lifespan.

    Args:
        settings: Service settings (default: from the environment).
        ctx: An already built context (``procure serve`` builds it first so a bad catalog fails in one line).
    """
    settings = ctx.settings if ctx is not None else (settings or get_settings())
    docs = settings.security.docs if settings.security.docs is not None else settings.environment != "production"

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        if getattr(app.state, "ctx", None) is None:  # once, even if a test client re-enters the lifespan
            app.state.ctx = ctx if ctx is not None else build_context(settings)
        metrics.register_source("cache", lambda: app.state.ctx.domain.cache)
        metrics.register_source("in_flight", in_flight)
        if settings.warm_index:
            app.state.ctx.corpus.warm()
        yield
        cancel_all("shutdown")
        app.state.ctx.database.dispose()

    app = FastAPI(
        title="procure",
        version="0.1.0",
        description="Decision support for buying AI accelerators under export controls, budget and deadlines.",
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url=None,
        openapi_url="/openapi.json" if docs else None,
    )
    app.state.settings = settings
    app.state.keys = KeyStore(settings, engine_factory=lambda: app.state.ctx.db)
    app.state.keys_required = keys_required(settings)
    app.state.rate_limits = RateLimits(settings)
    install_error_handlers(app)
    install_openapi(app, settings)

    # Added innermost first: the request passes RequestContext → CORS → InputLimit → Work → routes.
    app.add_middleware(WorkMiddleware, limits=settings.limits)
    app.add_middleware(InputLimitMiddleware, max_body_bytes=settings.max_request_bytes, limits=settings.limits)
    if settings.security.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.security.cors_origins,
                           allow_methods=["GET", "POST", "DELETE"], allow_headers=["Authorization", "X-API-Key",
                                                                                  "Content-Type", "X-Request-ID"])
    app.add_middleware(RequestContextMiddleware)

    app.include_router(health.router)
    app.include_router(catalog.router, dependencies=AUTH)
    app.include_router(compliance.router, dependencies=AUTH)
    app.include_router(estimates.router, dependencies=AUTH)
    app.include_router(recommendations.router, dependencies=AUTH)
    app.include_router(corpus_routes.router, dependencies=AUTH)
    app.include_router(chat.router, dependencies=AUTH)
    app.include_router(jobs.router, dependencies=AUTH)
    app.include_router(data.router, dependencies=AUTH)
    app.include_router(web_routes.router, dependencies=AUTH)
    app.include_router(web_routes.page_router)  # the page and its scripts are public; its API calls carry the key
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
