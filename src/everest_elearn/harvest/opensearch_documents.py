"""OpenSearch documents read apart from fetching: description templates and paging links."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urljoin

from lxml import etree

from everest_elearn.errors import UpstreamError

OSDD = "http://a9.com/-/spec/opensearch/1.1/"
ATOM = "http://www.w3.org/2005/Atom"
_XML = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
_PARAM = re.compile(r"\{([^}]+?)(\?)?\}")
_OSDD_TYPE = "application/opensearchdescription+xml"


@dataclass(frozen=True)
class Template:
    """One ``Url`` template of a description document, with its paging offsets."""

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


_NAVIGATION = {"next", "first", "last", "previous", "prev"}


def navigates(data: bytes) -> bool:
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


def atom_next(data: bytes) -> str | None:
    """The ``next`` link of an Atom feed; None for other documents or no link.

    Raises UpstreamError for a ``next`` link without ``href`` (not the end of the results).
    """
    if data.lstrip()[:1] != b"<":
        return None
    try:
        root = etree.fromstring(data, parser=_XML)
    except etree.XMLSyntaxError:
        return None
    for link in root.findall(f"{{{ATOM}}}link"):
        if link.get("rel") == "next":
            href = (link.get("href") or "").strip()
            if not href:
                raise UpstreamError("its next link has no href")
            return href
    return None


def osdd_links(data: bytes) -> list[str]:
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
