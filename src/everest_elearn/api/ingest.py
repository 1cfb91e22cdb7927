"""``POST /catalogue/ingest`` (any supported document, writers only) and the samples at start."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import JSONResponse

from everest_elearn.api.catalogue import CatalogueDep
from everest_elearn.api.deps import IdentityDep, SettingsDep
from everest_elearn.catalogue import samples
from everest_elearn.catalogue.ingest import values
from everest_elearn.catalogue.ingest.outcome import Reject
from everest_elearn.catalogue.ingest.service import ingest
from everest_elearn.catalogue.service import Catalogue
from everest_elearn.errors import InvalidInput, TooLarge
from everest_elearn.security.identity import Identity, Role
from everest_elearn.settings import Settings

log = logging.getLogger(__name__)
# Who loads the samples at start: not a caller, so a fixed administrator identity.
SYSTEM = Identity("everest-samples", frozenset({Role.ADMIN}))
_JSON = {"application/json", "application/geo+json", "application/stac+json"}
_XML = {"application/xml", "text/xml", "application/atom+xml"}


@asynccontextmanager
async def lifespan(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    """Load the bundled samples into an empty embedded catalogue (after the catalogue opened)."""
    catalogue: Catalogue | None = getattr(app.state, "catalogue", None)
    wanted = settings.catalogue.load_samples and settings.catalogue.backend == "sqlite"
    if wanted and catalogue is not None and await catalogue.count() == 0:
        report = await ingest(
            catalogue, samples.documents(settings.catalogue.samples_base_url), SYSTEM
        )
        log.info(
            "sample catalogue loaded: %d records, %d rejected",
            report.ingested,
            len(report.rejected),
        )
    yield


def _supported(media_type: str) -> bool:
    return media_type in _JSON or media_type in _XML or media_type.endswith(("+json", "+xml"))


router = APIRouter(prefix="/catalogue", tags=["catalogue"])


@router.post(
    "/ingest",
    summary="Ingest STAC, OGC 17-003/17-047 GeoJSON or OpenSearch Atom metadata",
    responses={413: {"description": "Too large"}, 415: {"description": "Not JSON or XML"}},
)
async def ingest_document(
    request: Request,
    catalogue: CatalogueDep,
    identity: IdentityDep,
    settings: SettingsDep,
    collection: str | None = Query(None, description="Assign every product to this collection"),
) -> Any:
    """Upsert every record of the document and report received, ingested, skipped, rejected."""
    identity.require_catalogue_writer()
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not _supported(media_type):
        detail = f"Content-Type {media_type or '(none)'!r} is not supported: send JSON or XML"
        return JSONResponse(
            {"code": "UnsupportedMediaType", "status": 415, "detail": detail}, status_code=415
        )
    if collection is not None:
        try:
            collection = values.identifier(collection, "collection")
        except Reject as exc:
            raise InvalidInput("collection", str(exc)) from None
    body = await _read_capped(request, settings.catalogue.ingest_max_bytes)
    report = await ingest(catalogue, body, identity, collection=collection)
    return report.to_dict()


async def _read_capped(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"the document is larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:  # a missing or false Content-Length must not get past the limit
            raise TooLarge(f"the document is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
