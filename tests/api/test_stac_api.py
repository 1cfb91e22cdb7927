"""The STAC API: pystac-client against a real agency on loopback, and edge cases in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from pystac_client import Client

from everest_elearn.api import create_app
from everest_elearn.catalogue.model import Kind, Record
from everest_elearn.security.identity import Identity, Role
from everest_elearn.settings import Settings
from tests.fixtures.agency import serve_agency

CHIP = [-0.7819, 38.0828, -0.7359, 38.1288]
ADMIN = Identity("admin", frozenset({Role.ADMIN}))


@pytest.fixture(scope="module")
def agency(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``everest-elearn serve`` on a fresh data directory: it offers the samples."""
    with serve_agency(tmp_path_factory.mktemp("stac")) as url:
        yield url


def test_pystac_client_finds_collections_and_items(agency: str) -> None:
    client = Client.open(f"{agency}/stac")
    assert {c.id for c in client.get_collections()} == {"sentinel-1-grd", "sentinel-2-l2a"}
    s2 = client.get_collection("sentinel-2-l2a")
    assert "B04" in s2.extra_fields["item_assets"]
    search = client.search(
        collections=["sentinel-1-grd"], bbox=CHIP, datetime="2019-09-17/2019-09-17T23:59:59Z"
    )
    (item,) = list(search.items())
    assert item.properties["sat:relative_orbit"] == 110
    assert item.properties["sar:polarizations"] == ["VV", "VH"]
    assert set(item.assets) >= {"vv", "vh", "safe"}


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_paging_walks_every_result_once(agency: str, method: str) -> None:
    client = Client.open(f"{agency}/stac")
    search = client.search(collections=["sentinel-2-l2a"], limit=7, method=method)
    ids = [item.id for item in search.items()]
    assert len(ids) == len(set(ids)) == search.matched() == 110


def test_last_page_has_no_next_link(agency: str) -> None:
    page = httpx.get(
        f"{agency}/stac/search", params={"collections": "sentinel-1-grd", "limit": 200}
    ).json()
    assert page["numberReturned"] == page["numberMatched"] == 133
    assert not [link for link in page["links"] if link["rel"] == "next"]
    empty = httpx.get(f"{agency}/stac/search", params={"ids": "nothing-here"}).json()
    assert empty["features"] == [] and not [l for l in empty["links"] if l["rel"] == "next"]  # noqa: E741


def test_query_extension_and_intersects(agency: str) -> None:
    body = {
        "collections": ["sentinel-2-l2a"],
        "intersects": {"type": "Point", "coordinates": [-0.76, 38.1]},
        "datetime": "2019-09-01T00:00:00Z/2019-09-30T23:59:59Z",
        "query": {"eo:cloud_cover": {"lte": 20}},
        "limit": 50,
    }
    found = httpx.post(f"{agency}/stac/search", json=body).json()
    assert found["features"]
    assert all(f["properties"]["eo:cloud_cover"] <= 20 for f in found["features"])
    body["query"] = {"cloudCover": {"gt": 20}}  # registry names work too
    cloudy = httpx.post(f"{agency}/stac/search", json=body).json()
    assert all(f["properties"]["eo:cloud_cover"] > 20 for f in cloudy["features"])
    assert cloudy["numberMatched"] + found["numberMatched"] == 6  # 30SXH every 5 days


@pytest.fixture
async def http(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(data_dir=tmp_path))
    async with app.router.lifespan_context(app):
        catalogue = app.state.catalogue
        secret = Record(
            identifier="team-only", kind=Kind.COLLECTION, title="secret", restricted_to=["team-a"]
        )
        product = Record(
            identifier="team-only-1",
            parent_identifier="team-only",
            geometry={"type": "Point", "coordinates": [1, 2]},
            start="2020-01-01T00:00:00Z",
        )  # type: ignore[arg-type]
        await catalogue.upsert([secret, product], ADMIN)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://agency") as client:
            yield client


async def test_landing_conformance_queryables(http: httpx.AsyncClient) -> None:
    landing = (await http.get("/stac")).json()
    rels = {link["rel"] for link in landing["links"]}
    assert {"self", "root", "conformance", "data", "search", "child"} <= rels
    assert "https://api.stacspec.org/v1.0.0/item-search" in landing["conformsTo"]
    assert (await http.get("/stac/conformance")).json()["conformsTo"] == landing["conformsTo"]
    queryables = (await http.get("/stac/queryables")).json()
    assert queryables["properties"]["eo:cloud_cover"]["maximum"] == 100
    assert queryables["properties"]["sat:relative_orbit"]["type"] == "integer"


async def test_restricted_records_never_show(http: httpx.AsyncClient) -> None:
    ids = {c["id"] for c in (await http.get("/stac/collections")).json()["collections"]}
    assert "team-only" not in ids and "sentinel-1-grd" in ids
    assert (await http.get("/stac/collections/team-only")).status_code == 404
    assert (await http.get("/stac/collections/team-only/items/team-only-1")).status_code == 404
    found = (await http.get("/stac/search", params={"ids": "team-only-1"})).json()
    assert found["numberMatched"] == 0


@pytest.mark.parametrize(
    ("params", "where"),
    [
        ({"bbox": "1,2,3"}, "bbox"),
        ({"datetime": "yesterday"}, "datetime"),
        ({"datetime": "2020-02-01/2020-01-01"}, "datetime"),
        ({"limit": "0"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"token": "not-a-token"}, "token"),
        ({"collections": "a,b"}, "collections"),
        ({"query": '{"nope": {"eq": 1}}'}, "query"),
        ({"intersects": "{bad"}, "intersects"),
    ],
)
async def test_bad_parameters_answer_400(
    http: httpx.AsyncClient, params: dict[str, str], where: str
) -> None:
    response = await http.get("/stac/search", params=params)
    assert response.status_code == 400, response.text
    assert response.json()["parameter"] == where


async def test_items_of_a_collection_and_one_item(http: httpx.AsyncClient) -> None:
    page = (await http.get("/stac/collections/sentinel-1-grd/items", params={"limit": 2})).json()
    assert len(page["features"]) == 2
    (following,) = [link for link in page["links"] if link["rel"] == "next"]
    second = (await http.get(following["href"].removeprefix("http://agency"))).json()
    assert {f["id"] for f in second["features"]}.isdisjoint({f["id"] for f in page["features"]})
    first = page["features"][0]
    one = await http.get(f"/stac/collections/sentinel-1-grd/items/{first['id']}")
    assert one.status_code == 200 and one.headers["content-type"] == "application/geo+json"
    assert one.json()["id"] == first["id"]
    wrong = await http.get(f"/stac/collections/sentinel-2-l2a/items/{first['id']}")
    assert wrong.status_code == 404
