"""A client's walk over a loopback server: root description, collections, their descriptions,
paging every result by startIndex and by startPage, and OWSLib filling the templates."""

from __future__ import annotations

import httpx
import pytest
from lxml import etree
from owslib.opensearch import OpenSearch

from tests.opensearch.client import XP, Feed, fill, xml
from tests.opensearch.conftest import products

ATOM = "application/atom+xml"
GEOJSON = "application/geo+json"


def get(url: str, **kw: object) -> httpx.Response:
    response = httpx.get(url, timeout=10, **kw)  # type: ignore[arg-type]
    assert response.status_code == 200, (url, response.text[:500])
    return response


def template(osdd: etree._Element, media_type: str) -> str:
    urls = osdd.xpath(f"os:Url[@type='{media_type}']/@template", namespaces=XP)
    assert len(urls) == 1, f"one {media_type} template"
    return str(urls[0])


def collection_descriptions(server: str) -> dict[str, etree._Element]:
    """Root OSDD -> collection search -> each entry's rel=search description document."""
    root = xml(get(f"{server}/opensearch/description.xml").content)
    feed = Feed(xml(get(fill(template(root, ATOM), {"count": "50"})).content))
    out = {}
    for entry in feed.root.iterfind("atom:entry", XP):
        identifier = entry.findtext("dc:identifier", namespaces=XP)
        href = entry.xpath(
            "atom:link[@rel='search'][@type='application/opensearchdescription+xml']/@href",
            namespaces=XP,
        )
        assert identifier and len(href) == 1
        out[identifier] = xml(get(str(href[0])).content)
    return out


def test_two_step_search_reaches_every_open_collection(server: str) -> None:
    descriptions = collection_descriptions(server)
    assert set(descriptions) == {"S1_GRD", "S2_L2A"}  # the restricted one stays hidden
    s2 = descriptions["S2_L2A"]
    assert s2.nsmap[None] == XP["os"]  # unprefixed Url for older clients
    url = s2.find("os:Url[@rel='results']", XP)
    assert url is not None and url.get("indexOffset") == "1" and url.get("pageOffset") == "1"


def test_example_queries_return_hits(server: str) -> None:
    root = xml(get(f"{server}/opensearch/description.xml").content)
    for osdd in [root, *collection_descriptions(server).values()]:
        example = osdd.find("os:Query[@role='example']", XP)
        assert example is not None
        values = {}
        for key, value in example.attrib.items():
            if key == "role":
                continue
            namespace, _, local = key[1:].partition("}")
            prefix = {v: k for k, v in XP.items()}[namespace]
            values[f"{prefix}:{local}"] = value
        assert values, "the example names a parameter"
        feed = Feed(xml(get(fill(template(osdd, ATOM), values)).content))
        assert feed.total > 0 and feed.ids


@pytest.mark.parametrize("collection", ["S2_L2A", "S1_GRD"])
def test_paging_by_start_index_and_start_page_and_next_links(server: str, collection: str) -> None:
    osdd = collection_descriptions(server)[collection]
    expected = {r.identifier for r in products(collection)}
    atom = template(osdd, ATOM)
    count = 5
    pages = -(-len(expected) // count)

    by_index: list[str] = []
    for page in range(pages + 1):  # one page past the end must be empty
        feed = Feed(
            xml(get(fill(atom, {"count": str(count), "startIndex": str(page * count + 1)})).content)
        )
        assert feed.total == len(expected)
        by_index.extend(feed.ids)
        assert ("previous" in feed.rels) == (page > 0)
        assert ("next" in feed.rels) == (page < pages - 1)
        assert "self" in feed.rels and "first" in feed.rels
    assert len(by_index) == len(set(by_index)) and set(by_index) == expected

    by_page: list[str] = []
    for page in range(1, pages + 1):
        feed = Feed(xml(get(fill(atom, {"count": str(count), "startPage": str(page)})).content))
        assert feed.start_index == (page - 1) * count + 1
        by_page.extend(feed.ids)
    assert by_page == by_index

    followed: list[str] = []
    url: str | None = fill(atom, {"count": str(count)})
    visited = 0
    while url:
        feed = Feed(xml(get(url).content))
        followed.extend(feed.ids)
        last = feed.link("last")
        url = feed.link("next")
        visited += 1
        assert visited <= pages
    assert followed == by_index
    assert last == feed.link("self")


def test_geojson_template_pages_the_same_way(server: str) -> None:
    osdd = collection_descriptions(server)["S1_GRD"]
    url: str | None = fill(template(osdd, GEOJSON), {"count": "4"})
    seen: list[str] = []
    while url:
        response = get(url)
        assert response.headers["content-type"].startswith(GEOJSON)
        body = response.json()
        assert body["type"] == "FeatureCollection" and body["totalResults"] == 14
        seen.extend(f["properties"]["identifier"] for f in body["features"])
        nxt = body["properties"]["links"].get("next")
        url = nxt[0]["href"] if nxt else None
    assert sorted(seen) == sorted(r.identifier for r in products("S1_GRD"))


def test_owslib_fills_the_templates(server: str) -> None:
    root = OpenSearch(f"{server}/opensearch/description.xml")
    assert root.description.tags[0] == "CEOS-OS-BP-V1.1/L2"
    collections = root.search(ATOM, count="10", productType="GRD")
    assert [e.get("id") for e in [collections]] and collections is not None

    client = OpenSearch(f"{server}/opensearch/collections/S2_L2A/description.xml")
    found = client.search(GEOJSON, cloudCover="[0,20]", platformSerialIdentifier="2A", count="50")
    expected = {
        r.identifier
        for r in products("S2_L2A")
        if r.properties["cloudCover"] <= 20 and r.properties["platformSerialIdentifier"] == "2A"
    }
    assert {f["properties"]["identifier"] for f in found["features"]} == expected
    assert found["queries"]["request"][0]["eo:cloudCover"] == "[0,20]"
    # OWSLib checks values against the advertised options, which come from the data.
    with pytest.raises(RuntimeError):
        client.search(GEOJSON, platformSerialIdentifier="3C")
    box = client.search(GEOJSON, box="-9,36,-7,37", relation="intersects", count="50")
    assert box["totalResults"] > 0
