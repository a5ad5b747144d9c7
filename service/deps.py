"""Injectable dependencies as ``Annotated`` aliases; routes only annotate parameters."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from service.settings import Settings
from service.usecases import AppContext


def get_context(request: Request) -> AppContext:
    """The application context built in the lifespan."""
    ctx: AppContext = request.app.state.ctx
    return ctx


def get_app_settings(request: Request) -> Settings:
    """Settings the app was created with."""
    return get_context(request).settings


ContextDep = Annotated[AppContext, Depends(get_context)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
