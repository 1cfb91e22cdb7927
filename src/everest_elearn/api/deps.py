"""Request-scoped dependencies: the services built in the lifespan, and the caller's identity."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from everest_elearn.security.identity import Identity, IdentityResolver, identify
from everest_elearn.settings import Settings


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_identity(request: Request) -> Identity:
    resolver: IdentityResolver = request.app.state.identity_resolver
    return await identify(resolver, request.headers.get("authorization"))


SettingsDep = Annotated[Settings, Depends(get_settings)]
IdentityDep = Annotated[Identity, Depends(get_identity)]
