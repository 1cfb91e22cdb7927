"""The agency's gateway edge for the benchmark, reading its products from a JSON file.

``uvicorn --factory bench.gateway.app:create``; settings come from ``EVEREST_...`` as usual and
``BENCH_RECORDS`` names a JSON list of product records (the catalogue's model).
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from everest_elearn.api import errors as api_errors
from everest_elearn.api import gateway as gateway_api
from everest_elearn.catalogue.model import Record
from everest_elearn.errors import NotFound
from everest_elearn.security.identity import ChainResolver, Identity, StaticTokenResolver
from everest_elearn.settings import load_settings


class JsonProducts:
    def __init__(self, path: Path) -> None:
        self.records = {
            r["identifier"]: Record.model_validate(r) for r in json.loads(path.read_text())
        }

    async def get(self, identifier: str, identity: Identity) -> Record:
        if identifier not in self.records:
            raise NotFound("record", identifier)
        return self.records[identifier]


def create() -> FastAPI:
    settings = load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        async with gateway_api.lifespan(app, settings):
            app.state.catalogue = JsonProducts(Path(os.environ["BENCH_RECORDS"]))
            yield

    app = FastAPI(lifespan=lifespan)
    app.state.settings = settings
    token = settings.security.admin_token
    app.state.identity_resolver = ChainResolver(
        StaticTokenResolver(token.get_secret_value() if token else None, None)
    )
    api_errors.install(app)
    app.include_router(gateway_api.router)
    return app
