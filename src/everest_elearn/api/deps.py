"""Request-scoped dependencies: the services built in the lifespan, and the caller's identity."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from everest_elearn.errors import BackendUnavailable
from everest_elearn.security.identity import Identity, IdentityResolver, identify
from everest_elearn.settings import Settings


def lifespan_service(request: Request, attribute: str, service: str, retry_after: int = 30) -> Any:
    """What the lifespan put on ``app.state.<attribute>``; unavailable (503) as ``service`` while
    it is missing: the lifespan has not run, or failed to open it."""
    value = getattr(request.app.state, attribute, None)
    if value is None:
        raise BackendUnavailable(service, retry_after=retry_after)
    return value


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_identity(request: Request) -> Identity:
    resolver: IdentityResolver = request.app.state.identity_resolver
    return await identify(resolver, request.headers.get("authorization"))


SettingsDep = Annotated[Settings, Depends(get_settings)]
IdentityDep = Annotated[Identity, Depends(get_identity)]
