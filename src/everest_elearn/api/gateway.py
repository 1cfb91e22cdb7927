"""The gateway's HTTP edge: ``/data/{collection}/{product}/{file}``, stats and rules status."""

from __future__ import annotations

import os
import unicodedata
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from email.utils import format_datetime, parsedate_to_datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from everest_elearn.api.deps import IdentityDep, lifespan_service
from everest_elearn.api.sendfile import FileStreamResponse
from everest_elearn.errors import Forbidden, Unauthorized
from everest_elearn.gateway.delivery import FileStream, ProductLookup, Redirect
from everest_elearn.gateway.factory import build_gateway
from everest_elearn.gateway.ranges import RangeNotSatisfiable, parse_range
from everest_elearn.gateway.service import Gateway
from everest_elearn.security.identity import Identity, Role
from everest_elearn.settings import Settings

router = APIRouter(tags=["gateway"])


@asynccontextmanager
async def lifespan(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    gateway = build_gateway(settings, os.environ)
    await gateway.start()
    gateway.rules.watch(settings.gateway.reload_interval)
    app.state.gateway = gateway
    try:
        yield
    finally:
        await gateway.rules.close()
        await gateway.close()


def get_gateway(request: Request) -> Gateway:
    gateway: Gateway = lifespan_service(request, "gateway", "gateway")
    return gateway


GatewayDep = Annotated[Gateway, Depends(get_gateway)]


def _lookup(request: Request) -> ProductLookup | None:
    return getattr(request.app.state, "catalogue", None)


def _require_operator(identity: Identity) -> None:
    if identity.anonymous:
        raise Unauthorized("a bearer token is required")
    if not identity.roles & {Role.ADMIN, Role.AGENT, Role.MANAGER}:
        raise Forbidden("only administrators, the data agent and course managers see this")


def _headers(stream: FileStream) -> dict[str, str]:
    headers = {"Accept-Ranges": "bytes" if stream.size is not None else "none"}
    headers["X-Gateway-Strategy"] = stream.strategy.value
    headers["X-Gateway-Origin"] = stream.origin.value
    headers["Content-Disposition"] = content_disposition(stream.name)
    if stream.etag:
        headers["ETag"] = stream.etag
    if stream.last_modified:
        headers["Last-Modified"] = format_datetime(stream.last_modified, usegmt=True)
    if stream.length is not None:
        headers["Content-Length"] = str(stream.length)
    if stream.partial and stream.size is not None:
        headers["Content-Range"] = f"bytes {stream.start}-{stream.end}/{stream.size}"
    return headers


def content_disposition(name: str) -> str:
    """RFC 6266: an ASCII ``filename`` for old clients, the exact name as ``filename*``.

    Names come from catalogue hrefs: non-ASCII would not encode into a header, and a quote,
    backslash or CR/LF would break out of the quoted string or the header itself.
    """
    fallback = "".join(
        "" if unicodedata.combining(c) else c if c.isascii() and c.isprintable() else "_"
        for c in unicodedata.normalize("NFKD", name).replace('"', "_").replace("\\", "_")
    )
    encoded = quote(name, safe="!#$&+-.^_`|~")  # RFC 5987 attr-chars stay as they are
    return f"inline; filename=\"{fallback or 'download'}\"; filename*=UTF-8''{encoded}"


def _not_modified(request: Request, stream: FileStream) -> bool:
    match = request.headers.get("if-none-match")
    if match is not None:
        return stream.etag is not None and (match.strip() == "*" or stream.etag in match)
    since = request.headers.get("if-modified-since")
    if since and stream.last_modified:
        try:
            return stream.last_modified.replace(microsecond=0) <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


@router.api_route("/data/{collection}/{product}/{file}", methods=["GET", "HEAD"])
async def data(
    collection: str,
    product: str,
    file: str,
    request: Request,
    gateway: GatewayDep,
    identity: IdentityDep,
) -> Response:
    """A product's file: redirected, piped, or served from the cache or the mirror."""
    record = await gateway.product(collection, product, identity, _lookup(request))
    byte_range = parse_range(request.headers.get("range"))
    if_range = request.headers.get("if-range")
    # HEAD answers from the store or the catalogue, without starting a download.
    serve = gateway.describe if request.method == "HEAD" else gateway.serve
    try:
        delivered = await serve(record, file, identity, byte_range)
    except RangeNotSatisfiable as exc:
        return Response(status_code=416, headers={"Content-Range": f"bytes */{exc.size}"})
    if isinstance(delivered, Redirect):
        return RedirectResponse(delivered.url, status_code=307)
    stream = delivered
    if if_range is not None and byte_range is not None and if_range != stream.etag:
        # The client's copy is outdated: send the whole file instead of a part.
        await stream.aclose()
        delivered = await serve(record, file, identity, None)
        assert isinstance(delivered, FileStream)
        stream = delivered
    headers = _headers(stream)
    if _not_modified(request, stream):
        await stream.aclose()
        headers.pop("Content-Length", None)
        headers.pop("Content-Range", None)
        return Response(status_code=304, headers=headers)
    status = 206 if stream.partial else 200
    if request.method == "HEAD":
        await stream.aclose()
        return Response(status_code=status, headers=headers, media_type=stream.media_type)
    zero_copy = request.app.state.settings.gateway.zero_copy
    return FileStreamResponse(stream, status, headers, stream.media_type, zero_copy)


@router.get("/gateway/stats")
async def stats(gateway: GatewayDep, identity: IdentityDep) -> dict[str, object]:
    """Hits, misses, bytes, evictions and fallbacks of this process, and the store's usage."""
    _require_operator(identity)
    return await gateway.report()


@router.get("/gateway/status")
async def status(gateway: GatewayDep, identity: IdentityDep) -> dict[str, object]:
    """The rules in force: when loaded, and why the last edit was rejected if it was."""
    _require_operator(identity)
    return gateway.status()
