"""Injectable dependencies as ``Annotated`` aliases; routes only annotate parameters."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from service.container import Domain
from service.settings import Settings


def get_app_settings(request: Request) -> Settings:
    """Settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


def get_domain(request: Request) -> Domain:
    """Catalog and compliance engine built in the lifespan."""
    dom: Domain = request.app.state.domain
    return dom


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
DomainDep = Annotated[Domain, Depends(get_domain)]
