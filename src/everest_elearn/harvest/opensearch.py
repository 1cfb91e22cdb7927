"""OpenSearch EO (CEOS two-step): description documents, then Atom or GeoJSON result pages.

The source URL is a description document (OSDD) or a search URL. With an OSDD and a
``collection``, step one searches the collections (the ``rel="collection"`` template, by
``geo:uid``) and follows the collection entry's own OSDD; step two fills that document's results
template. Without a collection template the root results template is filled with
``eo:parentIdentifier``. Pages follow ``next`` links (Atom ``link``, GeoJSON ``links``, resto
``properties.links``, OGC 17-047 ``properties.links.next``), else ``startIndex``/``startPage``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

from everest_elearn.catalogue.ingest import parse_document
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
from everest_elearn.harvest.opensearch_documents import (
    Template,
    atom_next,
    navigates,
    osdd_links,
    templates,
)
from everest_elearn.harvest.sources import SourceConfig


class OpenSearchHarvester:
    def __init__(self, config: SourceConfig, http: Http) -> None:
        self.config = config
        self.http = http
        self.collection: Record | None = None

    async def close(self) -> None:
        await self.http.close()

    def _pick(self, found: list[Template], rel: str) -> Template | None:
        wanted = {"atom": ("atom",), "geojson": ("json",), "auto": ("atom", "json")}[
            self.config.format
        ]
        for kind in wanted:
            for template in found:
                if template.rel == rel and kind in template.type:
                    return template
        return None

    async def _results_template(self) -> Template | None:
        """Two-step: the collection's own results template, else the root one; None: a search URL."""
        root = await self.http.get(self.config.url)
        found = templates(root.content, root.url)
        if found is None:
            return None
        collection = self.config.collection
        step_one = self._pick(found, "collection")
        if collection and step_one is not None:
            url = step_one.fill({"uid": collection, "parentIdentifier": collection, "count": "10"})
            try:
                answer = await self.http.get(url)
                described = await self._collection_osdd(answer.content, answer.url)
            except EverestError:
                described = None
            if described is not None:
                chosen = self._pick(described, "results")
                if chosen is not None:
                    return chosen
        chosen = self._pick(found, "results")
        if chosen is None:
            raise UpstreamError(
                f"{safe_url(self.config.url)}: the description document has no Atom or GeoJSON results template"
            )
        return chosen

    async def _collection_osdd(self, data: bytes, base: str) -> list[Template] | None:
        parsed = parse_document(data, source=safe_url(base))
        for _, record in parsed.records:
            if record.kind is Kind.COLLECTION and record.identifier == self.config.collection:
                self.collection = renamed_collection(record, self.config)
        links = osdd_links(data)
        for href in links:
            answer = await self.http.get(urljoin(base, href))
            found = templates(answer.content, answer.url)
            if found:
                return found
        return None

    async def collections(self) -> list[Record]:
        return [self.collection or declared_collection(self.config)]

    def values(self, since: datetime | None) -> dict[str, str]:
        config = self.config
        start, end = window(config, since)
        values = {"count": str(config.page_size), "searchTerms": ""}
        if config.collection:
            values["parentIdentifier"] = config.collection
        if config.area:
            values["box"] = ",".join(f"{v:g}" for v in config.area)
        if start:
            values["start"] = iso(start)
        if end:
            values["end"] = iso(end)
        if config.product_type:
            values["productType"] = config.product_type
        if since is not None and config.incremental == "updated":
            values["modificationDate"] = f"[{iso(since)}"
        return values

    async def pages(self, cursor: Cursor) -> AsyncGenerator[Page, None]:
        resume = cursor.resume or {}
        template: Template | None = (
            Template(**resume["template"]) if resume.get("template") else None
        )
        values: dict[str, str] = resume.get("values") or {}
        number = int(resume.get("number", 0))
        url: str | None = resume.get("url")
        if url is None:
            template = await self._results_template()
            values = self.values(cursor.since)
            url = self.config.url if template is None else self._page_url(template, values, 0)
        seen: set[str] = set()
        while url is not None:
            if url in seen:
                raise UpstreamError(
                    f"the next link leads back to a page already read ({safe_url(url)}): it loops; stopped"
                )
            seen.add(url)
            response = await self.http.get(
                url,
                headers={"Accept": "application/atom+xml, application/geo+json, application/json"},
            )
            where = f"{safe_url(url)} (page {number + 1})"
            parsed = parse_document(response.content, self.config.target, where)
            if parsed.format in ("json", "xml", "unknown"):
                reason = parsed.rejected[0].reason if parsed.rejected else "unreadable"
                raise UpstreamError(f"{where}: {reason}")
            page = page_of(parsed, self.config, where, len(response.content))
            number += 1
            try:
                following = self._next(
                    response.content, response.url, parsed.received, template, values, number
                )
            except UpstreamError as exc:
                # As for STAC: store the page, resume at it, fail; the checkpoint does not move.
                page.resume = self._state(url, values, number - 1, template)
                yield page
                raise UpstreamError(f"{where}: {exc}; the pages after it cannot be read") from None
            url = following
            if url is not None:
                page.resume = self._state(url, values, number, template)
            yield page

    @staticmethod
    def _state(
        url: str, values: dict[str, str], number: int, template: Template | None
    ) -> dict[str, Any]:
        state: dict[str, Any] = {"url": url, "values": values, "number": number}
        if template is not None:
            state["template"] = template.__dict__
        return state

    def _page_url(self, template: Template, values: dict[str, str], number: int) -> str:
        count = int(values.get("count", self.config.page_size))
        return template.fill({
            **values,
            "startIndex": str(template.index_offset + number * count),
            "startPage": str(template.page_offset + number),
        })  # fmt: skip

    def _next(
        self,
        data: bytes,
        base: str,
        received: int,
        template: Template | None,
        values: dict[str, str],
        number: int,
    ) -> str | None:
        link = atom_next(data)
        if link is None and data.lstrip()[:1] == b"{":
            try:
                found = find_next(json.loads(data))
            except ValueError:
                found = None
            link = found["href"] if found else None
        if link is not None:
            return urljoin(base, link)
        if navigates(data):
            return None  # the source pages by links, and this was its last page
        # No navigation links at all: page by index while pages come back full.
        full = received >= int(values.get("count", self.config.page_size)) > 0
        if template is not None and full and template.names & {"startIndex", "startPage"}:
            return self._page_url(template, values, number)
        return None
