"""Searches in-process: every interval form, relation, sort, facet, empty-result explanation,
error and access rule, checked against the records the catalogue was filled with."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from osmem_server import OsmemServer
from shapely.geometry import box, shape

from everest_elearn.api import create_app
from everest_elearn.catalogue.model import Record
from everest_elearn.settings import Settings
from tests.opensearch.client import XP, Feed, xml
from tests.opensearch.conftest import ADMIN_TOKEN, MEMBER_TOKEN, products

S2 = products("S2_L2A")
S1 = products("S1_GRD")


async def ids(client: httpx.AsyncClient, **params: str) -> list[str]:
    params.setdefault("count", "50")
    response = await client.get("/opensearch/products", params=params)
    assert response.status_code == 200, response.text
    return Feed(xml(response.content)).ids


async def feed(
    client: httpx.AsyncClient, path: str = "/opensearch/products", **params: str
) -> Feed:
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    return Feed(xml(response.content))


def cloud(test: Any) -> set[str]:
    return {r.identifier for r in S2 if test(r.properties["cloudCover"])}


@pytest.mark.parametrize(
    ("notation", "test"),
    [
        ("20", lambda v: v == 20),
        ("[0,20]", lambda v: 0 <= v <= 20),
        ("]10,20[", lambda v: 10 < v < 20),
        ("[10,20[", lambda v: 10 <= v < 20),
        ("]10,20]", lambda v: 10 < v <= 20),
        ("[90", lambda v: v >= 90),
        ("10]", lambda v: v <= 10),
        ("]90", lambda v: v > 90),
        ("10[", lambda v: v < 10),
        ("{5,15,100}", lambda v: v in {5, 15, 100}),
    ],
)
async def test_every_interval_form_on_cloud_cover(
    client: httpx.AsyncClient, notation: str, test: Any
) -> None:
    found = await ids(client, parentIdentifier="S2_L2A", cloudCover=notation)
    assert set(found) == cloud(test) and len(found) == len(set(found))
    assert found, f"{notation} selects something in the test data"


async def test_intervals_on_integers_and_dates(client: httpx.AsyncClient) -> None:
    orbit = await ids(client, parentIdentifier="S1_GRD", orbitNumber="[36200,36500[")
    assert set(orbit) == {r.identifier for r in S1 if 36200 <= r.properties["orbitNumber"] < 36500}
    tracks = await ids(client, parentIdentifier="S1_GRD", track="{110}")
    assert set(tracks) == {r.identifier for r in S1 if r.properties["track"] == 110}


def _overlaps(record: Record, start: datetime, end: datetime, relation: str) -> bool:
    assert record.start is not None
    r_start, r_end = record.start, record.end or record.start
    if relation == "intersects":
        return r_start <= end and r_end >= start
    if relation == "during":
        return r_start >= start and r_end <= end
    if relation == "disjoint":
        return r_end < start or r_start > end
    return r_start == start and r_end == end


@pytest.mark.parametrize("relation", ["intersects", "during", "disjoint"])
async def test_time_relations(client: httpx.AsyncClient, relation: str) -> None:
    start, end = (
        datetime(2021, 6, 10, tzinfo=UTC),
        datetime(2021, 7, 10, 23, 59, 59, 999999, tzinfo=UTC),
    )
    found = await ids(
        client,
        parentIdentifier="S2_L2A",
        start="2021-06-10T00:00:00Z",
        end="2021-07-10",
        timeRelation=relation,
    )
    assert set(found) == {r.identifier for r in S2 if _overlaps(r, start, end, relation)}
    assert found


async def test_time_relation_equals(client: httpx.AsyncClient) -> None:
    record = S2[3]
    assert record.start and record.end
    found = await ids(
        client,
        parentIdentifier="S2_L2A",
        start=record.start.isoformat(),
        end=record.end.isoformat(),
        timeRelation="equals",
    )
    assert found == [record.identifier]


@pytest.mark.parametrize("relation", ["intersects", "contains", "disjoint"])
async def test_spatial_relations(client: httpx.AsyncClient, relation: str) -> None:
    area = box(-8.8, 36.2, -8.7, 36.3) if relation == "contains" else box(-9, 36, -6, 38)
    found = await ids(
        client, parentIdentifier="S2_L2A", box=",".join(map(str, area.bounds)), relation=relation
    )

    def holds(record: Record) -> bool:
        footprint = shape(record.geometry)
        if relation == "intersects":
            return bool(footprint.intersects(area))
        if relation == "contains":
            return bool(footprint.contains(area))
        return bool(footprint.disjoint(area))

    assert set(found) == {r.identifier for r in S2 if holds(r)}
    assert found


async def test_wkt_geometry_point_circle_and_uid(client: httpx.AsyncClient) -> None:
    target = S1[13]  # the two-part footprint
    hit = await ids(client, parentIdentifier="S1_GRD", geometry="POINT(1.5 40.5)")
    assert target.identifier in hit
    line = await ids(client, parentIdentifier="S1_GRD", geometry="LINESTRING(-2.5 40.5, -2.4 40.6)")
    assert target.identifier in line
    circle = await ids(client, parentIdentifier="S1_GRD", lat="40.5", lon="1.5", radius="1000")
    assert target.identifier in circle
    assert await ids(client, uid=target.identifier) == [target.identifier]


async def test_search_terms_and_and_phrases(client: httpx.AsyncClient) -> None:
    phrase = await ids(client, parentIdentifier="S2_L2A", searchTerms='"Rhone delta"')
    assert phrase == [S2[4].identifier]
    both = await ids(client, parentIdentifier="S1_GRD", searchTerms="radar flood")
    assert set(both) == {r.identifier for r in S1 if "flood" in r.keywords}


@pytest.mark.parametrize(
    ("key", "ascending"), [("cloudCover", True), ("cloudCover", False), ("start", False)]
)
async def test_sorting(client: httpx.AsyncClient, key: str, ascending: bool) -> None:
    found = await ids(client, parentIdentifier="S2_L2A", sortKeys=f"{key},,{int(ascending)}")

    def value(r: Record) -> Any:
        return r.start if key == "start" else r.properties[key]

    expected = sorted(S2, key=value, reverse=not ascending)
    assert [value(next(r for r in S2 if r.identifier == i)) for i in found] == [
        value(r) for r in expected
    ]


async def test_count_zero_answers_totals_only(client: httpx.AsyncClient) -> None:
    result = await feed(client, parentIdentifier="S2_L2A", count="0")
    assert result.total == len(S2) and result.ids == [] and result.items_per_page == 0
    assert "self" in result.rels and "next" not in result.rels


async def test_count_above_the_maximum_is_clamped(client: httpx.AsyncClient) -> None:
    result = await feed(client, count="5000")
    assert result.items_per_page == 50 and len(result.ids) == len(S1) + len(S2)
    assert result.request["count"] == "50"


async def test_empty_and_unknown_parameters(client: httpx.AsyncClient) -> None:
    result = await feed(
        client, parentIdentifier="S2_L2A", cloudCover="", box="", frobnicate="1", **{"eo:x": "2"}
    )
    assert result.total == len(S2)
    assert result.request == {"eo:parentIdentifier": "S2_L2A"}  # only what was applied
    assert "frobnicate" not in (result.link("self") or "")


async def test_facets_count_the_whole_result(client: httpx.AsyncClient) -> None:
    result = await feed(client, parentIdentifier="S2_L2A", count="1", cloudCover="[0,50]")
    counts = {
        str(term.findtext("fr:actualTerm", namespaces=XP)): int(
            term.findtext("fr:count", namespaces=XP) or 0
        )
        for term in result.root.xpath(
            "fr:facetedResults/fr:facet[fr:index='eo:platformSerialIdentifier']/fr:terms/fr:term",
            namespaces=XP,
        )
    }
    selected = [r for r in S2 if r.properties["cloudCover"] <= 50]
    assert counts == {
        s: sum(1 for r in selected if r.properties["platformSerialIdentifier"] == s)
        for s in ("2A", "2B")
    }
    body = (
        await client.get(
            "/opensearch/products.json",
            params={"parentIdentifier": "S2_L2A", "cloudCover": "[0,50]"},
        )
    ).json()
    assert body["properties"]["facets"]["eo:platformSerialIdentifier"] == counts


async def test_an_empty_result_says_which_constraint_empties_it(client: httpx.AsyncClient) -> None:
    params = {"parentIdentifier": "S1_GRD", "orbitDirection": "ASCENDING", "cloudCover": "[0,10]"}
    result = await feed(client, **params)
    assert result.total == 0 and "self" in result.rels
    explanation = result.root.find("ev:emptyExplanation", XP)
    assert explanation is not None
    assert explanation.get("parameter") == "eo:cloudCover"
    ascending = sum(1 for r in S1 if r.properties["orbitDirection"] == "ASCENDING")
    assert explanation.get("totalWithout") == str(ascending)
    subtitle = result.root.findtext("atom:subtitle", namespaces=XP) or ""
    assert "eo:cloudCover" in subtitle and str(ascending) in subtitle
    body = (
        await client.get(
            "/opensearch/products", params={**params, "httpAccept": "application/geo+json"}
        )
    ).json()
    assert body["properties"]["emptyExplanation"]["parameter"] == "eo:cloudCover"
    assert body["properties"]["emptyExplanation"]["totalWithout"] == ascending


async def test_a_mistyped_collection_is_named_as_what_empties_the_search(
    client: httpx.AsyncClient,
) -> None:
    result = await feed(client, parentIdentifier="S2_L2B", cloudCover="[0,10]")
    explanation = result.root.find("ev:emptyExplanation", XP)
    assert result.total == 0 and explanation is not None
    assert explanation.get("parameter") == "eo:parentIdentifier"
    assert explanation.get("value") == "S2_L2B"
    assert explanation.get("totalWithout") == str(len(cloud(lambda v: v <= 10)))
    # A restricted collection reads like an unknown one: the count without it is what anyone sees.
    hidden = await feed(client, parentIdentifier="TEAM_A_PRIVATE")
    why = hidden.root.find("ev:emptyExplanation", XP)
    assert why is not None and why.get("totalWithout") == str(len(S1) + len(S2))


async def test_an_empty_result_no_single_constraint_explains_says_so(
    client: httpx.AsyncClient,
) -> None:
    params = {
        "parentIdentifier": "S1_GRD",
        "orbitDirection": "ASCENDING",
        "cloudCover": "[0,10]",
        "box": "100,0,101,1",
    }
    result = await feed(client, **params)
    explanation = result.root.find("ev:emptyExplanation", XP)
    assert result.total == 0 and explanation is not None
    assert explanation.get("parameter") is None and explanation.get("totalWithout") == "0"
    assert "no single constraint" in (explanation.text or "")
    assert "no single constraint" in (result.root.findtext("atom:subtitle", namespaces=XP) or "")
    body = (await client.get("/opensearch/products.json", params=params)).json()
    assert body["properties"]["emptyExplanation"]["parameter"] is None
    assert "no single constraint" in body["properties"]["emptyExplanation"]["message"]


@pytest.mark.parametrize(
    ("params", "where"),
    [
        ({"cloudCover": "[10,"}, "eo:cloudCover"),
        ({"count": "-3"}, "count"),
        ({"startIndex": "zero"}, "startIndex"),
        ({"box": "1,2,3"}, "geo:box"),
        ({"geometry": "POLYGON((1 2))"}, "geo:geometry"),
        ({"start": "2021-02-30"}, "time:start"),
        ({"timeRelation": "overlaps"}, "time:relation"),
        ({"sortKeys": "title,,1"}, "sru:sortKeys"),
        ({"httpAccept": "text/csv"}, "httpAccept"),
    ],
)
async def test_malformed_values_answer_400_naming_the_parameter(
    client: httpx.AsyncClient, params: dict[str, str], where: str
) -> None:
    atom = await client.get("/opensearch/products", params=params)
    assert atom.status_code == 400
    assert atom.headers["content-type"].startswith("application/xml")
    locator = xml(atom.content).xpath("ows:Exception/@locator", namespaces=XP)
    assert locator == [where]
    as_json = await client.get(
        "/opensearch/products", params=params, headers={"Accept": "application/json"}
    )
    assert as_json.status_code == 400
    assert as_json.json()["parameter"] == where and where in as_json.json()["detail"]


async def test_format_by_accept_header_and_extension(client: httpx.AsyncClient) -> None:
    by_header = await client.get("/opensearch/products", headers={"Accept": "application/geo+json"})
    assert by_header.headers["content-type"].startswith("application/geo+json")
    by_extension = await client.get(
        "/opensearch/collections.atom", headers={"Accept": "application/json"}
    )
    assert by_extension.headers["content-type"].startswith("application/atom+xml")
    assert (await client.get("/opensearch/collections.json")).json()["totalResults"] == 2


async def test_an_over_long_uri_answers_414(client: httpx.AsyncClient) -> None:
    response = await client.get("/opensearch/products", params={"searchTerms": "x" * 5000})
    assert response.status_code == 414
    assert xml(response.content).tag.endswith("ExceptionReport")


async def test_an_unreachable_backend_answers_503_with_retry_after(tmp_path: Path) -> None:
    """A search engine that goes away after start: every OpenSearch answer is 503 + Retry-After."""
    engine = OsmemServer.start(addr="127.0.0.1:0", japanese=False)
    settings = Settings(
        data_dir=tmp_path,
        catalogue={
            "backend": "elasticsearch",
            "elasticsearch_url": engine.url,
            "index_prefix": "gone",
        },  # type: ignore[arg-type]
    )
    app = create_app(settings)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                assert (await http.get("/opensearch/collections")).status_code == 200
                engine.close()
                for path, accept in (
                    ("/opensearch/products", "application/geo+json"),
                    ("/opensearch/collections", "application/atom+xml"),
                    ("/opensearch/description.xml", "application/xml"),
                ):
                    response = await http.get(path, headers={"Accept": accept})
                    assert response.status_code == 503, response.text
                    assert int(response.headers["retry-after"]) > 0
    finally:
        engine.close()


async def test_restricted_entries_never_show_to_others(client: httpx.AsyncClient) -> None:
    anonymous = await feed(client, "/opensearch/collections")
    assert "TEAM_A_PRIVATE" not in anonymous.ids and anonymous.total == 2
    platforms = anonymous.root.xpath(
        "fr:facetedResults/fr:facet[fr:index='eo:platform']//fr:actualTerm/text()", namespaces=XP
    )
    assert "PLEIADES" not in platforms
    assert (await feed(client, parentIdentifier="TEAM_A_PRIVATE")).total == 0
    assert (await feed(client, cloudCover="1")).ids == []
    hidden = await client.get("/opensearch/collections/TEAM_A_PRIVATE/description.xml")
    assert hidden.status_code == 404
    root = await client.get("/opensearch/description.xml")
    assert b"PLEIADES" not in root.content

    for token in (MEMBER_TOKEN, ADMIN_TOKEN):
        headers = {"Authorization": f"Bearer {token}"}
        members = Feed(xml((await client.get("/opensearch/collections", headers=headers)).content))
        assert "TEAM_A_PRIVATE" in members.ids and members.total == 3
        private = await client.get(
            "/opensearch/products", params={"parentIdentifier": "TEAM_A_PRIVATE"}, headers=headers
        )
        assert Feed(xml(private.content)).total == 3
        osdd = await client.get(
            "/opensearch/collections/TEAM_A_PRIVATE/description.xml", headers=headers
        )
        assert osdd.status_code == 200

    bad = await client.get("/opensearch/collections", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401 and xml(bad.content).tag.endswith("ExceptionReport")


async def test_bounded_totals_are_reported_as_a_lower_bound(
    catalogue_settings: Settings,
) -> None:
    """Beyond ``track_total_hits`` the total is a lower bound: said so, no ``last``, paging works."""
    settings = catalogue_settings.model_copy(
        update={
            "catalogue": catalogue_settings.catalogue.model_copy(update={"track_total_hits": 10})
        }
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            url: str | None = "/opensearch/products?parentIdentifier=S2_L2A&count=5"
            seen: list[str] = []
            while url:
                page = Feed(xml((await http.get(url)).content))
                relation = page.root.findtext("ev:totalResultsRelation", namespaces=XP)
                if page.total < len(S2):  # counted up to the page asked for, not further
                    assert relation == "gte" and "last" not in page.rels
                else:
                    assert relation is None and "last" in page.rels
                seen.extend(page.ids)
                url = page.link("next")
            assert sorted(seen) == sorted(r.identifier for r in S2)
            body = (await http.get("/opensearch/products.json?parentIdentifier=S2_L2A")).json()
            assert body["properties"]["totalResultsRelation"] == "gte" and 10 <= body[
                "totalResults"
            ] < len(S2)


@pytest.mark.parametrize("start", ["24", "10001", "999999999"])
async def test_pages_past_the_end_are_empty_not_errors(
    client: httpx.AsyncClient, start: str
) -> None:
    result = await feed(client, parentIdentifier="S2_L2A", startIndex=start, count="10")
    assert result.ids == [] and result.total == len(S2)
    assert "next" not in result.rels and "previous" in result.rels
    # previous leads back to the last page with records, which is also ``last``
    previous = result.link("previous")
    assert previous is not None and previous == result.link("last")
    back = Feed(xml((await client.get(previous)).content))
    assert back.ids and back.start_index == 21 and "next" not in back.rels


@pytest.mark.parametrize(
    "terms",
    [
        '"',
        "*",
        "-flood",
        "title:flood",
        "NEAR(a b)",
        "AND",
        "OR NOT",
        "(",
        ")",
        "^a",
        "a+b",
        "'",
        "\\",
        "%",
        "_",
        "{x}",
        "\u00e9t\u00e9",
        "\U0001f30a",
    ],
)
async def test_search_terms_never_break_the_backend(client: httpx.AsyncClient, terms: str) -> None:
    response = await client.get("/opensearch/products", params={"searchTerms": terms})
    assert response.status_code in {200, 400}, response.text
    if response.status_code == 400:
        assert xml(response.content).xpath("//ows:Exception/@locator", namespaces=XP) == [
            "searchTerms"
        ]
