"""The catalogue's small JSON API (records and collections) and the lifespan that opens the store."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response

from everest_elearn.api.deps import IdentityDep, lifespan_service
from everest_elearn.catalogue.factory import create_store
from everest_elearn.catalogue.service import Catalogue
from everest_elearn.catalogue.store import CatalogueStore
from everest_elearn.errors import BackendUnavailable
from everest_elearn.settings import Settings

log = logging.getLogger(__name__)
# How often a store that could not be reached at start is tried again.
RECONNECT_SECONDS = 2.0


@asynccontextmanager
async def lifespan(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    """Open the configured store, share one Catalogue on ``app.state.catalogue``, close on exit.

    A search engine that is down at start does not stop the agency: until it answers, every
    catalogue request gets 503 with Retry-After (the store refuses while unopened), and a
    background task keeps trying to open it.
    """
    store = create_store(settings)
    reconnect: asyncio.Task[None] | None = None
    try:
        await store.open()
    except BackendUnavailable as exc:
        log.warning("catalogue: %s; answering 503 until it can be opened", exc)
        reconnect = asyncio.create_task(_reconnect(store), name="catalogue-reconnect")
    app.state.catalogue = Catalogue(store)
    try:
        yield
    finally:
        if reconnect is not None:
            reconnect.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reconnect
        await store.close()


async def _reconnect(store: CatalogueStore) -> None:
    while True:
        await asyncio.sleep(RECONNECT_SECONDS)
        try:
            await store.open()
        except BackendUnavailable:
            continue
        log.info("catalogue: the store is reachable again")
        return


def get_catalogue(request: Request) -> Catalogue:
    catalogue: Catalogue = lifespan_service(request, "catalogue", "catalogue", retry_after=10)
    return catalogue


CatalogueDep = Annotated[Catalogue, Depends(get_catalogue)]
router = APIRouter(prefix="/catalogue", tags=["catalogue"])


@router.get("/records/{identifier}")
async def get_record(identifier: str, catalogue: CatalogueDep, identity: IdentityDep) -> Any:
    record = await catalogue.get(identifier, identity)
    return record.model_dump(mode="json")


@router.delete("/records/{identifier}", status_code=204)
async def delete_record(
    identifier: str, catalogue: CatalogueDep, identity: IdentityDep
) -> Response:
    await catalogue.delete(identifier, identity)
    return Response(status_code=204)


@router.get("/collections")
async def list_collections(catalogue: CatalogueDep, identity: IdentityDep) -> Any:
    collections = await catalogue.collections(identity)
    return {
        "collections": [c.model_dump(mode="json") for c in collections],
        "total": len(collections),
    }
