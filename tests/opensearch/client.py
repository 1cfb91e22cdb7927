"""What a test client needs: namespaces, Atom reading, template filling as OWSLib does it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlparse, urlunparse

from lxml import etree

from everest_elearn.catalogue.registry import NS

XP = {
    "os": NS["os"],
    "atom": NS["atom"],
    "param": NS["param"],
    "dc": NS["dc"],
    "georss": NS["georss"],
    "eo": NS["eo"],
    "gml": "http://www.opengis.net/gml",
    "ev": "https://everest-elearn.org/ns/opensearch/1.0/",
    "fr": "http://docs.oasis-open.org/ns/search-ws/facetedResults",
    "ows": "http://www.opengis.net/ows/2.0",
}


def xml(body: bytes) -> etree._Element:
    return etree.fromstring(body)


def fill(template: str, values: dict[str, str]) -> str:
    """Replace ``{token?}`` by values (tokens as the Parameter ``value`` names them), drop the rest.

    Fixed parameters stay (BP-005E); unfilled optional parameters are removed, as OWSLib does.
    """
    url = template
    for token, value in values.items():
        url = url.replace(f"{{{token}?}}", value).replace(f"{{{token}}}", value)
    parts = list(urlparse(url))
    kept = [
        (k, v)
        for k, v in parse_qsl(parts[4], keep_blank_values=True)
        if not re.search(r"\{[^}]*\}", v)
    ]
    parts[4] = urlencode(kept)
    return urlunparse(parts)


@dataclass
class Feed:
    root: etree._Element

    @property
    def total(self) -> int:
        return int(self.root.findtext("os:totalResults", namespaces=XP) or "-1")

    @property
    def start_index(self) -> int:
        return int(self.root.findtext("os:startIndex", namespaces=XP) or "-1")

    @property
    def items_per_page(self) -> int:
        return int(self.root.findtext("os:itemsPerPage", namespaces=XP) or "-1")

    @property
    def ids(self) -> list[str]:
        return [str(e) for e in self.root.xpath("atom:entry/dc:identifier/text()", namespaces=XP)]

    def link(self, rel: str) -> str | None:
        found = self.root.xpath(f"atom:link[@rel='{rel}']/@href", namespaces=XP)
        return str(found[0]) if found else None

    @property
    def rels(self) -> list[str]:
        return [str(r) for r in self.root.xpath("atom:link/@rel", namespaces=XP)]

    @property
    def request(self) -> dict[str, str]:
        query = self.root.find("os:Query[@role='request']", XP)
        assert query is not None
        out = {}
        for key, value in query.attrib.items():
            if key == "role":
                continue
            namespace, _, local = key[1:].partition("}") if key.startswith("{") else ("", "", key)
            prefix = {v: k for k, v in NS.items()}.get(namespace)
            out[f"{prefix}:{local}" if prefix else key] = value
        return out
