"""STAC API item search: filters as query (GET) or body (POST), ``next`` links followed to the end.

Incremental by ``datetime`` narrows the search window to start at the last high-water mark; by
``updated`` it adds a CQL2 filter ``updated >= mark`` (servers with the Filter extension). Paging
follows the response's ``next`` link exactly as the server gives it: GET with a token in the URL,
or POST with a ``body`` (merged into the previous body when ``merge`` is true, STAC API spec).
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from everest_elearn.catalogue.ingest.detect import parse_json
from everest_elearn.catalogue.model import Kind, Record
from everest_elearn.errors import EverestError, UpstreamError
from everest_elearn.harvest.common import (
    declared_collection,
    find_next,
    iso,
    page_of,
    renamed_collection,
    window,
)
from everest_elearn.harvest.fetch import Http, safe_url
from everest_elearn.harvest.harvester import Cursor, Page
from everest_elearn.harvest.sources import SourceConfig

_JSON = {"Accept": "application/geo+json, application/json"}


class StacHarvester:
    def __init__(self, config: SourceConfig, http: Http) -> None:
        self.config = config
        self.http = http
        self.root = config.url.rstrip("/")

    async def close(self) -> None:
        await self.http.close()

    async def collections(self) -> list[Record]:
        config = self.config
        if config.collection:
            url = f"{self.root}/collections/{config.collection}"
            try:
                response = await self.http.get(url, headers=_JSON)
                parsed = parse_json(json.loads(response.content), source=safe_url(url))
            except (EverestError, ValueError):
                parsed = None
            if parsed is not None:
                for _, record in parsed.records:
                    if record.kind is Kind.COLLECTION:
                        return [renamed_collection(record, config)]
        return [declared_collection(config)]

    def first_request(self, since: datetime | None) -> dict[str, Any]:
        config = self.config
        start, end = window(config, since)
        params: dict[str, Any] = {"limit": config.page_size}
        if config.collection:
            params["collections"] = [config.collection]
        if config.area:
            params["bbox"] = list(config.area)
        if start or end:
            params["datetime"] = f"{iso(start) if start else '..'}/{iso(end) if end else '..'}"
        if since is not None and config.incremental == "updated":
            params["filter"] = {
                "op": ">=",
                "args": [{"property": "updated"}, {"timestamp": iso(since)}],
            }
            params["filter-lang"] = "cql2-json"
        url = f"{self.root}/search"
        if config.method == "POST":
            return {"method": "POST", "href": url, "body": params}
        query: dict[str, str] = {}
        for key, value in params.items():
            if key == "filter":
                query[key] = f"updated >= TIMESTAMP('{iso(since) if since else ''}')"
                query["filter-lang"] = "cql2-text"
            elif key != "filter-lang":
                query[key] = ",".join(map(str, value)) if isinstance(value, list) else str(value)
        return {"method": "GET", "href": f"{url}?{urlencode(query)}"}

    async def pages(self, cursor: Cursor) -> AsyncGenerator[Page, None]:
        request: dict[str, Any] | None = (
            cursor.resume["request"] if cursor.resume else self.first_request(cursor.since)
        )
        seen: set[str] = set()
        number = 0
        while request is not None:
            number += 1
            key = json.dumps(request, sort_keys=True)
            if key in seen:
                raise UpstreamError(
                    f"the source's next link leads back to a page already read (page {number}): "
                    "it loops; stopped"
                )
            seen.add(key)
            href = str(request["href"])
            method = str(request.get("method", "GET")).upper()
            response = await self.http.request(
                method, href, json=request.get("body") if method == "POST" else None, headers=_JSON
            )
            where = f"{safe_url(href)} (page {number})"
            try:
                document = json.loads(response.content)
            except ValueError as exc:
                # Without the document there is no next link: the run cannot go on past it.
                raise UpstreamError(f"{where}: not valid JSON ({str(exc)[:80]})") from None
            if not isinstance(document, dict) or not isinstance(document.get("features"), list):
                raise UpstreamError(f"{where}: not a STAC ItemCollection (no 'features' list)")
            page = page_of(
                parse_json(document, self.config.target, where),
                self.config,
                where,
                len(response.content),
            )
            try:
                following = self._next(document, request)
            except UpstreamError as exc:
                # Store this page, keep it as the place to resume, then fail: the pages after
                # it are read once the source is fixed, and the checkpoint does not move.
                page.resume = {"request": request}
                yield page
                raise UpstreamError(f"{where}: {exc}; the pages after it cannot be read") from None
            request = following
            page.resume = {"request": request} if request is not None else None
            yield page

    def _next(self, document: dict[str, Any], previous: dict[str, Any]) -> dict[str, Any] | None:
        link = find_next(document)
        if link is None:
            return None
        method = str(link.get("method") or "GET").upper()
        if method not in ("GET", "POST"):
            raise UpstreamError(f"its next link has method {method[:20]!r} (GET or POST only)")
        nxt: dict[str, Any] = {"method": method, "href": link["href"]}
        if method == "POST":
            body = link.get("body")
            if body is not None and not isinstance(body, dict):
                raise UpstreamError("its next link's body is not an object")
            if link.get("merge") and isinstance(previous.get("body"), dict):
                body = {**previous["body"], **(body or {})}
            nxt["body"] = body if body is not None else previous.get("body")
        return nxt
