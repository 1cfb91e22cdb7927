"""The Data Agency application factory (``uvicorn --factory everest_elearn.api.app:create_app``)."""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from types import ModuleType

from fastapi import FastAPI

from everest_elearn import __version__
from everest_elearn.api import errors as api_errors
from everest_elearn.security.identity import ChainResolver, StaticTokenResolver
from everest_elearn.settings import Settings, load_settings

log = logging.getLogger(__name__)

# One module per resource under everest_elearn.api; each has ``router`` and may have
# ``lifespan(app, settings)``, an async context manager that opens its services on app.state.
RESOURCES = ("catalogue", "ingest", "opensearch", "stac", "gateway", "packages", "harvest")


def _secret(value: object) -> str | None:
    get = getattr(value, "get_secret_value", None)
    return get() if get else None


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the Data Agency; connections open in the lifespan, not here."""
    settings = settings or load_settings()

    modules = _resource_modules()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        async with AsyncExitStack() as stack:
            for module in modules:
                opener = getattr(module, "lifespan", None)
                if opener is not None:
                    await stack.enter_async_context(opener(app, settings))
            yield

    app = FastAPI(
        title="everest-elearn Data Agency",
        version=__version__,
        description="EO catalogue (OpenSearch EO, STAC), gateway and data packages.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.identity_resolver = ChainResolver(
        StaticTokenResolver(
            _secret(settings.security.admin_token), _secret(settings.security.agent_token)
        )
    )
    if settings.security.hub_api_url:
        # Tokens the hub issued (users' servers, the courses service) identify users here.
        from everest_elearn.hub.identity import HubTokenResolver

        app.state.identity_resolver.resolvers.append(
            HubTokenResolver(settings.security.hub_api_url)
        )
    if settings.security.provider_userinfo_url:
        from everest_elearn.security.provider import ProviderTokenResolver

        hub = settings.hub
        app.state.identity_resolver.resolvers.append(
            ProviderTokenResolver(
                settings.security.provider_userinfo_url,
                hub.oidc_username_claim,
                hub.oidc_groups_claim,
                hub.group_roles,
            )
        )
    api_errors.install(app)
    for module in modules:
        app.include_router(module.router)

    @app.get("/health", tags=["operations"])
    async def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return app


def _resource_modules() -> list[ModuleType]:
    found: list[ModuleType] = []
    for name in RESOURCES:
        try:
            found.append(importlib.import_module(f"everest_elearn.api.{name}"))
        except ModuleNotFoundError as exc:  # a resource not built yet
            if exc.name != f"everest_elearn.api.{name}":
                raise
    return found
