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
import re
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urljoin

from lxml import etree

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
from everest_elearn.harvest.sources import SourceConfig

OSDD = "http://a9.com/-/spec/opensearch/1.1/"
ATOM = "http://www.w3.org/2005/Atom"
_XML = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
_PARAM = re.compile(r"\{([^}]+?)(\?)?\}")
_OSDD_TYPE = "application/opensearchdescription+xml"


@dataclass(frozen=True)
class Template:
    template: str
    type: str
    rel: str
    index_offset: int = 1
    page_offset: int = 1

    @property
    def names(self) -> set[str]:
        return {m.group(1).split(":")[-1] for m in _PARAM.finditer(self.template)}

    def fill(self, values: dict[str, str]) -> str:
        def one(match: re.Match[str]) -> str:
            return quote(values.get(match.group(1).split(":")[-1], ""), safe=",:/[]")

        return _PARAM.sub(one, self.template)


def templates(data: bytes, base: str) -> list[Template] | None:
    """The Url templates of a description document; None when the bytes are no OSDD."""
    try:
        root = etree.fromstring(data, parser=_XML)
    except etree.XMLSyntaxError:
        return None
    if etree.QName(root).localname != "OpenSearchDescription":
        return None
    out = []
    for url in root.iter(f"{{{OSDD}}}Url"):
        template = url.get("template")
        if not template:
            continue
        out.append(
            Template(
                urljoin(base, template), url.get("type", ""), url.get("rel", "results"),
                _int(url.get("indexOffset"), 1), _int(url.get("pageOffset"), 1),
            )
        )  # fmt: skip
    return out


def _int(raw: str | None, default: int) -> int:
    return int(raw) if raw and raw.lstrip("-").isdigit() else default


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
        links = _osdd_links(data)
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
            url = self._next(
                response.content, response.url, parsed.received, template, values, number
            )
            if url is not None:
                state: dict[str, Any] = {"url": url, "values": values, "number": number}
                if template is not None:
                    state["template"] = template.__dict__
                page.resume = state
            yield page

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
        link = _atom_next(data)
        if link is None and data.lstrip()[:1] == b"{":
            try:
                found = find_next(json.loads(data))
            except ValueError:
                found = None
            link = found["href"] if found else None
        if link is not None:
            return urljoin(base, link)
        if _navigates(data):
            return None  # the source pages by links, and this was its last page
        # No navigation links at all: page by index while pages come back full.
        full = received >= int(values.get("count", self.config.page_size)) > 0
        if template is not None and full and template.names & {"startIndex", "startPage"}:
            return self._page_url(template, values, number)
        return None


_NAVIGATION = {"next", "first", "last", "previous", "prev"}


def _navigates(data: bytes) -> bool:
    """Whether a response carries paging links (then a missing ``next`` means the end)."""
    if data.lstrip()[:1] == b"<":
        try:
            root = etree.fromstring(data, parser=_XML)
        except etree.XMLSyntaxError:
            return False
        return any(link.get("rel") in _NAVIGATION for link in root.findall(f"{{{ATOM}}}link"))
    try:
        document = json.loads(data)
    except ValueError:
        return False
    if not isinstance(document, dict):
        return False
    props = document.get("properties")
    links: list[Any] = (
        list(document.get("links") or []) if isinstance(document.get("links"), list) else []
    )
    inner = props.get("links") if isinstance(props, dict) else None
    if isinstance(inner, list):
        links.extend(inner)
    elif isinstance(inner, dict):
        links.extend({"rel": rel} for rel in inner)
    return any(isinstance(link, dict) and link.get("rel") in _NAVIGATION for link in links)


def _atom_next(data: bytes) -> str | None:
    if data.lstrip()[:1] != b"<":
        return None
    try:
        root = etree.fromstring(data, parser=_XML)
    except etree.XMLSyntaxError:
        return None
    for link in root.findall(f"{{{ATOM}}}link"):
        if link.get("rel") == "next" and link.get("href"):
            return str(link.get("href"))
    return None


def _osdd_links(data: bytes) -> list[str]:
    """Links to description documents in a collection search answer (Atom or GeoJSON)."""
    out: list[str] = []
    if data.lstrip()[:1] == b"<":
        try:
            root = etree.fromstring(data, parser=_XML)
        except etree.XMLSyntaxError:
            return out
        # Entry links only: the feed's own "search" link is the root description again.
        for link in root.iterfind(f"{{{ATOM}}}entry/{{{ATOM}}}link"):
            if (
                link.get("rel") == "search"
                and _OSDD_TYPE in (link.get("type") or "")
                and link.get("href")
            ):
                out.append(str(link.get("href")))
        return out
    try:
        document = json.loads(data)
    except ValueError:
        return out
    features = document.get("features") if isinstance(document, dict) else None
    for feature in features if isinstance(features, list) else []:
        props = feature.get("properties") if isinstance(feature, dict) else None
        links = props.get("links") if isinstance(props, dict) else None
        candidates = links.get("search", []) if isinstance(links, dict) else links or []
        for link in candidates if isinstance(candidates, list) else []:
            if (
                isinstance(link, dict)
                and _OSDD_TYPE in str(link.get("type"))
                and isinstance(link.get("href"), str)
            ):
                out.append(link["href"])
    return out
