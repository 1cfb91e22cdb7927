"""The catalogue's small JSON API (records and collections) and the lifespan that opens the store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response

from everest_elearn.api.deps import IdentityDep, lifespan_service
from everest_elearn.catalogue.factory import create_store
from everest_elearn.catalogue.service import Catalogue
from everest_elearn.settings import Settings


@asynccontextmanager
async def lifespan(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    """Open the configured store, share one Catalogue on ``app.state.catalogue``, close on exit."""
    store = create_store(settings)
    await store.open()
    app.state.catalogue = Catalogue(store)
    try:
        yield
    finally:
        await store.close()


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
