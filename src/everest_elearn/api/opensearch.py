"""The OpenSearch EO edge: description documents, collection and product searches (Atom, GeoJSON).

Start at ``/opensearch/description.xml``; everything else is reached from its templates and links.
The format comes from the path extension (``.atom``/``.json``), else ``httpAccept``, else the
Accept header, else Atom. Errors answer in that format: an OWS ExceptionReport or JSON.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request, Response

from everest_elearn import errors
from everest_elearn.api.catalogue import get_catalogue
from everest_elearn.api.deps import get_identity
from everest_elearn.api.errors import error_body, headers_for, status_for
from everest_elearn.catalogue.opensearch.atom import render_error, render_feed
from everest_elearn.catalogue.opensearch.engine import OpenSearchEngine
from everest_elearn.catalogue.opensearch.geojson import render_collection
from everest_elearn.catalogue.opensearch.params import HTTP_ACCEPT
from everest_elearn.catalogue.opensearch.response import ATOM, GEOJSON, OSDD
from everest_elearn.catalogue.registry import Level
from everest_elearn.settings import Settings

router = APIRouter(prefix="/opensearch", tags=["opensearch"])

ALIASES = {
    ATOM: ATOM,
    "application/atom xml": ATOM,  # an unencoded "+" in a query string arrives as a space
    "atom": ATOM,
    "application/xml": ATOM,
    "text/xml": ATOM,
    GEOJSON: GEOJSON,
    "application/geo json": GEOJSON,
    "application/json": GEOJSON,
    "json": GEOJSON,
    "geojson": GEOJSON,
}
CONTENT_TYPES = {
    ATOM: "application/atom+xml; charset=utf-8",
    GEOJSON: "application/geo+json",
    OSDD: "application/opensearchdescription+xml; charset=utf-8",
}


class UriTooLong(errors.EverestError):
    """The request URI exceeds ``settings.api.max_uri_length`` (CEOS BP-005: 414)."""


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _base_url(request: Request) -> str:
    public = _settings(request).api.public_url
    base = public or str(request.base_url)
    return base if base.endswith("/") else base + "/"


def _from_accept(header: str | None) -> str:
    """The best format the Accept header allows; Atom when it names none of ours."""
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate((header or "").split(",")):
        media, *params = (part.strip() for part in item.split(";"))
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if media.lower() in ALIASES and q > 0:
            ranked.append((-q, position, ALIASES[media.lower()]))
    return min(ranked)[2] if ranked else ATOM


def _media_type(request: Request, extension: str | None) -> str:
    if extension:
        return extension
    values = [v.strip() for v in request.query_params.getlist(HTTP_ACCEPT) if v.strip()]
    if values:
        chosen = ALIASES.get(values[0].lower())
        if chosen is None:
            raise errors.InvalidInput(
                HTTP_ACCEPT, f"{values[0]!r} is not offered; use {ATOM} or {GEOJSON}"
            )
        return chosen
    return _from_accept(request.headers.get("accept"))


def _error_media_type(request: Request, extension: str | None) -> str:
    try:
        return _media_type(request, extension)
    except errors.InvalidInput:
        return _from_accept(request.headers.get("accept"))


def _error(exc: errors.EverestError, media_type: str) -> Response:
    if isinstance(exc, UriTooLong):
        status, headers = 414, {}
    else:
        status, headers = status_for(exc), headers_for(exc)
    if media_type == GEOJSON:
        body = error_body(exc, status)
        return Response(
            json.dumps(body), status_code=status, headers=headers, media_type="application/json"
        )
    code = "InvalidParameterValue" if isinstance(exc, errors.InvalidInput) else type(exc).__name__
    locator = exc.where if isinstance(exc, errors.InvalidInput) else None
    return Response(
        render_error(code, str(exc), locator),
        status_code=status,
        headers=headers,
        media_type="application/xml",
    )


async def _answer(
    request: Request,
    extension: str | None,
    produce: Callable[[OpenSearchEngine, str], Awaitable[Response]],
) -> Response:
    """Common checks and error formatting around one OpenSearch operation."""
    media_type = _error_media_type(request, extension)
    try:
        limit = _settings(request).api.max_uri_length
        uri_length = len(request.url.path) + len(request.url.query) + 1
        if uri_length > limit:
            raise UriTooLong(f"the request URI is {uri_length} characters; the limit is {limit}")
        media_type = _media_type(request, extension)
        engine = OpenSearchEngine(get_catalogue(request), _settings(request).catalogue)
        return await produce(engine, media_type)
    except errors.EverestError as exc:
        return _error(exc, media_type)


def _params(request: Request) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        out.setdefault(key, []).append(value)
    return out


async def _search(request: Request, level: Level, extension: str | None) -> Response:
    async def produce(engine: OpenSearchEngine, media_type: str) -> Response:
        search = engine.parse(level, _params(request))
        identity = await get_identity(request)
        page = await engine.search(level, search, identity, _base_url(request), media_type)
        if media_type == GEOJSON:
            body = json.dumps(render_collection(page)).encode()
        else:
            body = render_feed(page)
        return Response(body, media_type=CONTENT_TYPES[media_type])

    return await _answer(request, extension, produce)


@router.get("/description.xml", summary="Root description document (searches collections)")
async def root_description(request: Request) -> Response:
    async def produce(engine: OpenSearchEngine, _: str) -> Response:
        identity = await get_identity(request)
        body = await engine.root_description(_base_url(request), identity)
        return Response(body, media_type=CONTENT_TYPES[OSDD])

    return await _answer(request, ATOM, produce)


@router.get(
    "/collections/{identifier}/description.xml",
    summary="Description document of one collection (searches its products)",
)
async def collection_description(identifier: str, request: Request) -> Response:
    async def produce(engine: OpenSearchEngine, _: str) -> Response:
        identity = await get_identity(request)
        body = await engine.collection_description(identifier, _base_url(request), identity)
        return Response(body, media_type=CONTENT_TYPES[OSDD])

    return await _answer(request, ATOM, produce)


@router.get("/collections", summary="Search collections")
async def search_collections(request: Request) -> Response:
    return await _search(request, Level.COLLECTION, None)


@router.get("/collections.atom", include_in_schema=False)
async def search_collections_atom(request: Request) -> Response:
    return await _search(request, Level.COLLECTION, ATOM)


@router.get("/collections.json", include_in_schema=False)
async def search_collections_json(request: Request) -> Response:
    return await _search(request, Level.COLLECTION, GEOJSON)


@router.get("/products", summary="Search products (parentIdentifier names the collection)")
async def search_products(request: Request) -> Response:
    return await _search(request, Level.PRODUCT, None)


@router.get("/products.atom", include_in_schema=False)
async def search_products_atom(request: Request) -> Response:
    return await _search(request, Level.PRODUCT, ATOM)


@router.get("/products.json", include_in_schema=False)
async def search_products_json(request: Request) -> Response:
    return await _search(request, Level.PRODUCT, GEOJSON)
