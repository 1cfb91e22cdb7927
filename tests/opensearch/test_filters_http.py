"""Over HTTP on both backends: every interval form on an EO date parameter, geo:geometry in
every WKT type with every geo:relation, and restricted products kept out of totals and facets."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from shapely import wkt
from shapely.geometry import shape

from tests.opensearch.client import XP, Feed, xml
from tests.opensearch.conftest import MEMBER_TOKEN, RECORDS, products

S2 = products("S2_L2A")
OPEN = [r for r in RECORDS if r.parent_identifier in {"S1_GRD", "S2_L2A"}]


def processed(i: int) -> datetime:
    return datetime.fromisoformat(S2[i].properties["processingDate"])


def z(i: int) -> str:
    return processed(i).isoformat().replace("+00:00", "Z")


async def search(client: httpx.AsyncClient, **params: str) -> Feed:
    params.setdefault("count", "50")
    response = await client.get("/opensearch/products", params=params)
    assert response.status_code == 200, response.text
    return Feed(xml(response.content))


# Exact instants of S2 products' processing dates, so inclusive and exclusive bounds differ.
DATE_FORMS = [
    (lambda: z(3), {3}),
    (lambda: f"[{z(3)},{z(6)}]", {3, 4, 5, 6}),
    (lambda: f"]{z(3)},{z(6)}[", {4, 5}),
    (lambda: f"[{z(3)},{z(6)}[", {3, 4, 5}),
    (lambda: f"]{z(3)},{z(6)}]", {4, 5, 6}),
    (lambda: f"[{z(20)}", {20, 21, 22}),
    (lambda: f"{z(2)}]", {0, 1, 2}),
    (lambda: f"]{z(20)}", {21, 22}),
    (lambda: f"{z(2)}[", {0, 1}),
    (lambda: f"{{{z(1)},{z(5)},{z(22)}}}", {1, 5, 22}),
    # The same instant written with an offset, and a bare date (midnight) as a bound.
    (lambda: (processed(4) + timedelta(hours=2)).isoformat().replace("+00:00", "+02:00"), {4}),
    (lambda: f"[{processed(10).date()},{processed(12).date()}[", {10, 11}),
]


@pytest.mark.parametrize(("notation", "indices"), DATE_FORMS)
async def test_every_interval_form_on_an_eo_date(
    client: httpx.AsyncClient, notation: Any, indices: set[int]
) -> None:
    text = notation()
    found = await search(client, processingDate=text)
    assert sorted(found.ids) == sorted(S2[i].identifier for i in indices)
    assert found.total == len(indices)
    assert "eo:processingDate" in found.request  # applied, echoed in the canonical notation


WKT = {
    "POINT": "POINT(-8.37 36.57)",
    "LINESTRING": "LINESTRING(-8.63 36.37, -4.63 37.87)",
    "POLYGON": "POLYGON((-8.7 36.2, -6.3 36.2, -6.3 38.3, -8.7 38.3, -8.7 36.2))",
    "MULTIPOINT": "MULTIPOINT((-8.37 36.57), (1.53 40.47))",
    "MULTILINESTRING": "MULTILINESTRING((-2.73 40.23, -2.27 40.77), (-0.63 39.37, 0.37 39.37))",
    "MULTIPOLYGON": (
        "MULTIPOLYGON(((-2.8 40.2, -2.2 40.2, -2.2 40.8, -2.8 40.8, -2.8 40.2)),"
        " ((1.2 40.2, 1.8 40.2, 1.8 40.8, 1.2 40.8, 1.2 40.2)))"
    ),
    "GEOMETRYCOLLECTION": (
        "GEOMETRYCOLLECTION(POINT(-4.47 37.53), LINESTRING(-0.63 39.37, 0.37 39.37))"
    ),
}


def holds(record_geometry: dict[str, Any], area: Any, relation: str) -> bool:
    footprint = shape(record_geometry)
    if relation == "intersects":
        return bool(footprint.intersects(area))
    if relation == "contains":
        return bool(footprint.contains(area))
    return bool(footprint.disjoint(area))


@pytest.mark.parametrize("relation", ["intersects", "contains", "disjoint"])
@pytest.mark.parametrize("kind", list(WKT))
async def test_geometry_of_every_wkt_type_with_every_relation(
    client: httpx.AsyncClient, kind: str, relation: str
) -> None:
    area = wkt.loads(WKT[kind])
    found = await search(client, geometry=WKT[kind], relation=relation)
    expected = {r.identifier for r in OPEN if r.geometry and holds(r.geometry, area, relation)}
    assert set(found.ids) == expected and found.total == len(expected)
    if relation != "contains":
        assert expected, "the test geometry selects something"
    assert found.request["geo:relation"] == relation


def facet(feed: Feed, name: str) -> dict[str, int]:
    terms = feed.root.xpath(
        f"fr:facetedResults/fr:facet[fr:index='{name}']/fr:terms/fr:term", namespaces=XP
    )
    return {
        str(t.findtext("fr:actualTerm", namespaces=XP)): int(t.findtext("fr:count", namespaces=XP))
        for t in terms
    }


async def test_restricted_products_stay_out_of_totals_and_facets(
    client: httpx.AsyncClient,
) -> None:
    anyone = await search(client, count="0")
    assert anyone.total == len(OPEN)
    assert "PLEIADES" not in facet(anyone, "eo:platform")
    assert "TEAM_A_PRIVATE" not in facet(anyone, "eo:parentIdentifier")
    assert "ORTHO" not in facet(anyone, "eo:productType")
    body = (await client.get("/opensearch/products.json", params={"count": "0"})).json()
    assert body["totalResults"] == len(OPEN)
    assert "PLEIADES" not in body["properties"]["facets"]["eo:platform"]

    headers = {"Authorization": f"Bearer {MEMBER_TOKEN}"}
    response = await client.get("/opensearch/products", params={"count": "0"}, headers=headers)
    member = Feed(xml(response.content))
    assert member.total == len(OPEN) + 3
    assert facet(member, "eo:platform")["PLEIADES"] == 3


@pytest.mark.parametrize(
    ("path", "params", "echo"),
    [
        # startIndex wins over startPage (BP-007): the page number was not applied
        (
            "products",
            {"startIndex": "3", "startPage": "4", "count": "5"},
            {"startIndex": "3", "count": "5"},
        ),
        # a relation without its geometry or time constrains nothing
        ("products", {"relation": "disjoint", "timeRelation": "during"}, {}),
        # product parameters mean nothing to a collection search
        ("collections", {"cloudCover": "[0,10]", "orbitNumber": "5"}, {}),
        # empty values are absent (BP-005F), unknown keys ignored, phrases of nothing dropped
        ("products", {"cloudCover": "", "searchTerms": '""', "nope": "1"}, {}),
        # what was applied is echoed in its canonical form
        (
            "products",
            {"cloudCover": "[ 0 , 10.0 ]", "count": "9999", "box": "-9,36,-7,38"},
            {"eo:cloudCover": "[0,10]", "count": "50", "geo:box": "-9,36,-7,38"},
        ),
    ],
)
async def test_the_request_query_echoes_only_what_was_applied(
    client: httpx.AsyncClient, path: str, params: dict[str, str], echo: dict[str, str]
) -> None:
    response = await client.get(f"/opensearch/{path}", params=params)
    assert response.status_code == 200, response.text
    assert Feed(xml(response.content)).request == echo
    body = (await client.get(f"/opensearch/{path}.json", params=params)).json()
    assert body["queries"]["request"] == [echo]
