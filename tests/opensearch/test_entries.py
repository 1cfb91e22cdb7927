"""Each entry, in Atom and in GeoJSON (OGC 17-047), on both backends: identifier, date, footprint
(two-part ones too), summary and the enclosure, alternate, via, icon and describedby links;
and the WKT types a client may send are the ones the description advertises."""

from __future__ import annotations

import httpx
from shapely.geometry import shape

from tests.opensearch.client import XP, xml
from tests.opensearch.conftest import products
from tests.opensearch.test_filters_http import WKT

S2 = products("S2_L2A")
TWO_PARTS = products("S1_GRD")[13]


async def test_atom_entries_carry_what_clients_read(client: httpx.AsyncClient) -> None:
    record = S2[4]
    params = {"uid": record.identifier}
    entry = xml((await client.get("/opensearch/products", params=params)).content).find(
        "atom:entry", XP
    )
    assert entry is not None
    assert entry.findtext("dc:identifier", namespaces=XP) == record.identifier
    assert (entry.findtext("dc:date", namespaces=XP) or "").startswith("2021-06-13T10:30:00")
    assert entry.findtext("atom:summary", namespaces=XP)
    corners = (entry.findtext("georss:polygon", namespaces=XP) or "").split()
    assert len(corners) == 10  # five lat lon pairs
    links = {link.get("rel"): link for link in entry.iterfind("atom:link", XP)}
    assert {"enclosure", "alternate", "via", "icon", "describedby"} <= set(links)
    enclosure = links["enclosure"]
    assert enclosure.get("href") == record.links[0].href
    assert enclosure.get("length") == str(record.links[0].length)
    assert enclosure.get("type") == "application/zip"

    multi = xml(
        (await client.get("/opensearch/products", params={"uid": TWO_PARTS.identifier})).content
    )
    polygons = multi.xpath("atom:entry/georss:where//gml:Polygon", namespaces=XP)
    assert len(polygons) == 2


async def test_geojson_features_carry_what_clients_read(client: httpx.AsyncClient) -> None:
    record = S2[4]
    body = (await client.get("/opensearch/products.json", params={"uid": record.identifier})).json()
    (feature,) = body["features"]
    props = feature["properties"]
    assert props["identifier"] == record.identifier and props["summary"]
    assert props["date"].startswith("2021-06-13T10:30:00Z/")
    assert shape(feature["geometry"]).equals(shape(record.geometry))
    links = props["links"]
    assert links["data"] == [
        {"href": record.links[0].href, "type": "application/zip", "length": record.links[0].length}
    ]
    assert links["previews"][0]["href"] == record.links[1].href
    assert links["via"][0]["href"] == record.links[2].href
    assert {a["type"] for a in links["alternates"]} >= {"application/atom+xml"}
    assert links["describedby"]

    two = (
        await client.get("/opensearch/products.json", params={"uid": TWO_PARTS.identifier})
    ).json()["features"][0]
    assert two["geometry"]["type"] == "MultiPolygon"
    assert shape(two["geometry"]).equals(shape(TWO_PARTS.geometry))


async def test_the_advertised_wkt_types_are_the_accepted_ones(client: httpx.AsyncClient) -> None:
    osdd = xml((await client.get("/opensearch/collections/S1_GRD/description.xml")).content)
    for url in osdd.iterfind("os:Url[@rel='results']", XP):
        profiles = url.xpath(
            "param:Parameter[@value='{geo:geometry}']/atom:link[@rel='profile']/@href",
            namespaces=XP,
        )
        assert {str(p).rsplit("/", 1)[-1] for p in profiles} == set(WKT)
