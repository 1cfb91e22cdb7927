"""STAC API at ``/stac``: landing page, conformance, collections, items, item search, queryables."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from everest_elearn.api.catalogue import CatalogueDep
from everest_elearn.api.deps import IdentityDep
from everest_elearn.catalogue import stac
from everest_elearn.catalogue.model import Kind
from everest_elearn.catalogue.query import Query
from everest_elearn.catalogue.service import Catalogue
from everest_elearn.errors import InvalidInput, NotFound
from everest_elearn.security.identity import Identity

router = APIRouter(prefix="/stac", tags=["stac"])
GEOJSON = "application/geo+json"


def _base(request: Request) -> str:
    public = request.app.state.settings.api.public_url
    return str(public or request.base_url).rstrip("/")


def _geojson(body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, media_type=GEOJSON)


@router.get("")
async def landing(request: Request, catalogue: CatalogueDep, identity: IdentityDep) -> Any:
    root = f"{_base(request)}/stac"
    children = [
        {
            "rel": "child",
            "type": "application/json",
            "href": f"{root}/collections/{c.identifier}",
            "title": c.title,
        }
        for c in await catalogue.collections(identity)
    ]
    return {
        "type": "Catalog",
        "stac_version": stac.STAC_VERSION,
        "id": "everest-elearn",
        "title": "everest-elearn catalogue",
        "description": "EO collections and products of the everest-elearn Data Agency.",
        "conformsTo": stac.CONFORMANCE,
        "links": [
            {"rel": "self", "type": "application/json", "href": root},
            {"rel": "root", "type": "application/json", "href": root},
            {"rel": "conformance", "type": "application/json", "href": f"{root}/conformance"},
            {"rel": "data", "type": "application/json", "href": f"{root}/collections"},
            {"rel": "search", "type": GEOJSON, "href": f"{root}/search", "method": "GET"},
            {"rel": "search", "type": GEOJSON, "href": f"{root}/search", "method": "POST"},
            {
                "rel": "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                "type": "application/schema+json",
                "href": f"{root}/queryables",
            },
            {
                "rel": "service-desc",
                "type": "application/vnd.oai.openapi+json;version=3.0",
                "href": f"{_base(request)}/openapi.json",
            },
            *children,
        ],
    }


@router.get("/conformance")
async def conformance() -> Any:
    return {"conformsTo": stac.CONFORMANCE}


@router.get("/queryables")
async def queryables(request: Request) -> Any:
    return JSONResponse(stac.queryables(_base(request)), media_type="application/schema+json")


@router.get("/collections")
async def collections(request: Request, catalogue: CatalogueDep, identity: IdentityDep) -> Any:
    base = _base(request)
    found = await catalogue.collections(identity)
    return {
        "collections": [stac.collection(c, base) for c in found],
        "links": [
            {"rel": "self", "type": "application/json", "href": f"{base}/stac/collections"},
            {"rel": "root", "type": "application/json", "href": f"{base}/stac"},
        ],
    }


async def _collection(catalogue: Catalogue, identifier: str, identity: Identity) -> Any:
    record = await catalogue.get(identifier, identity)
    if record.kind is not Kind.COLLECTION:
        raise NotFound("collection", identifier)
    return record


@router.get("/collections/{collection_id}")
async def get_collection(
    collection_id: str, request: Request, catalogue: CatalogueDep, identity: IdentityDep
) -> Any:
    return stac.collection(await _collection(catalogue, collection_id, identity), _base(request))


@router.get("/collections/{collection_id}/items")
async def collection_items(
    collection_id: str, request: Request, catalogue: CatalogueDep, identity: IdentityDep
) -> Any:
    await _collection(catalogue, collection_id, identity)
    params = dict(request.query_params)
    query = stac.search_query(params, collection=collection_id)
    href = f"{_base(request)}/stac/collections/{collection_id}/items"
    return await _page(request, catalogue, identity, query, params, href, post=False)


@router.get("/collections/{collection_id}/items/{item_id}")
async def get_item(
    collection_id: str,
    item_id: str,
    request: Request,
    catalogue: CatalogueDep,
    identity: IdentityDep,
) -> Any:
    record = await catalogue.get(item_id, identity)
    if record.kind is not Kind.PRODUCT or record.parent_identifier != collection_id:
        raise NotFound("item", item_id)
    return _geojson(stac.item(record, _base(request)))


@router.get("/search")
async def search_get(request: Request, catalogue: CatalogueDep, identity: IdentityDep) -> Any:
    params = dict(request.query_params)
    query = stac.search_query(params)
    href = f"{_base(request)}/stac/search"
    return await _page(request, catalogue, identity, query, params, href, post=False)


@router.post("/search")
async def search_post(request: Request, catalogue: CatalogueDep, identity: IdentityDep) -> Any:
    try:
        body = await request.json()
    except ValueError:
        raise InvalidInput("body", "not JSON") from None
    if not isinstance(body, dict):
        raise InvalidInput("body", "expected a JSON object")
    query = stac.search_query(body)
    href = f"{_base(request)}/stac/search"
    return await _page(request, catalogue, identity, query, body, href, post=True)


async def _page(
    request: Request,
    catalogue: Catalogue,
    identity: Identity,
    query: Query,
    params: dict[str, Any],
    href: str,
    *,
    post: bool,
) -> JSONResponse:
    result = await catalogue.search(query, identity)
    base = _base(request)
    links: list[dict[str, Any]] = [
        {"rel": "root", "type": "application/json", "href": f"{base}/stac"},
        {"rel": "self", "type": GEOJSON, "href": str(request.url)},
    ]
    following = query.offset + len(result.records)
    # A next link only when there is a next page: pystac-client follows it to the end.
    if result.records and following < result.total:
        token = stac.encode_token(following)
        if post:
            links.append(
                {
                    "rel": "next",
                    "type": GEOJSON,
                    "href": href,
                    "method": "POST",
                    "body": {**params, "token": token},
                    "merge": False,
                }
            )
        else:
            next_href = f"{href}?{urlencode({**params, 'token': token})}"
            links.append({"rel": "next", "type": GEOJSON, "href": next_href})
    return _geojson(
        {
            "type": "FeatureCollection",
            "features": [stac.item(r, base) for r in result.records],
            "links": links,
            "numberMatched": result.total,
            "numberReturned": len(result.records),
            "context": {
                "limit": query.limit,
                "matched": result.total,
                "returned": len(result.records),
            },
        }
    )
