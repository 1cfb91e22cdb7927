"""STAC API harvesting against a loopback API replaying earth-search's real answers."""

from __future__ import annotations

from datetime import UTC, datetime

from everest_elearn.catalogue.service import Catalogue
from tests.harvest.conftest import AgentFactory, earth_search_item, moments, product_ids
from tests.harvest.replay import Replay
from tests.harvest.stac_server import StacApi

SOURCE = """\
sources:
  - name: es
    kind: stac
    url: {url}
    collection: sentinel-2-l1c
    method: {method}
    page_size: 3
    incremental: {incremental}
    schedule: 1h
"""


def items(count: int) -> list[dict[str, object]]:
    return [earth_search_item(i, when) for i, when in enumerate(moments(count))]


async def test_get_paging_follows_next_links(
    replay: Replay, make_agent: AgentFactory, catalogue: Catalogue
) -> None:
    api = StacApi(replay, items(8))
    agent = make_agent(SOURCE.format(url=replay.url, method="GET", incremental="datetime"))
    report = await agent.run("es")
    assert report.state == "ok", report.error
    assert (report.pages, report.created, report.rejected) == (3, 8, 0)
    assert await product_ids(catalogue, "sentinel-2-l1c") == sorted(i["id"] for i in api.items)
    tokens = [r.query.get("token") for r in replay.requests("/search")]
    assert tokens == [None, "3", "6"]
    record = await catalogue.store.get(str(api.items[0]["id"]))
    assert record is not None and record.data_links
    assert record.extra["harvest"]["layout"] == f"Sentinel-2/S2MSI1C/2024-02-01/{record.identifier}"
    collection = await catalogue.store.get("sentinel-2-l1c")
    assert collection is not None and collection.title  # the provider's own collection document


async def test_post_paging_merges_the_body(
    replay: Replay, make_agent: AgentFactory, catalogue: Catalogue
) -> None:
    StacApi(replay, items(7))
    agent = make_agent(SOURCE.format(url=replay.url, method="POST", incremental="datetime"))
    report = await agent.run("es")
    assert (report.state, report.pages, report.created) == ("ok", 3, 7)
    bodies = [r.body for r in replay.requests("/search")]
    assert [b.get("token") for b in bodies] == [None, "3", "6"]
    # merge: true keeps the original filters on every page
    assert all(b["collections"] == ["sentinel-2-l1c"] and b["limit"] == 3 for b in bodies)


async def test_incremental_by_datetime_asks_only_for_newer(
    replay: Replay, make_agent: AgentFactory, catalogue: Catalogue
) -> None:
    api = StacApi(replay, items(5))
    agent = make_agent(SOURCE.format(url=replay.url, method="GET", incremental="datetime"))
    assert (await agent.run("es")).created == 5
    api.items.extend(
        earth_search_item(100 + i, when)
        for i, when in enumerate(moments(4, datetime(2024, 3, 1, tzinfo=UTC)))
    )
    second = await agent.run("es")
    assert (second.state, second.created) == ("ok", 4)
    # only the newest of the first run comes again (>= the mark), as an update
    assert second.updated == 1
    window = replay.requests("/search")[-2].query["datetime"]
    assert window.startswith("2024-02-02T00:00:00Z/")
    assert len(await product_ids(catalogue, "sentinel-2-l1c")) == 9


async def test_incremental_by_updated_uses_a_cql2_filter(
    replay: Replay, make_agent: AgentFactory, catalogue: Catalogue
) -> None:
    StacApi(replay, items(4))
    agent = make_agent(SOURCE.format(url=replay.url, method="POST", incremental="updated"))
    assert (await agent.run("es")).created == 4
    await agent.run("es")
    body = replay.requests("/search")[-1].body
    assert body["filter"]["args"][1]["timestamp"] == "2024-02-01T20:00:00Z"
    assert body["filter-lang"] == "cql2-json"


FILTERED = """\
sources:
  - name: es-{method}
    kind: stac
    url: {url}
    collection: sentinel-2-l1c
    method: {method}
    area: [32.6, -17.2, 36.0, -9.3]
    time: {{start: 2024-02-01T06:00:00Z, end: 2024-02-02}}
    product_type: S2MSI1C
"""


async def test_filters_go_to_the_server_and_the_product_type_is_checked_on_our_side(
    replay: Replay, make_agent: AgentFactory, catalogue: Catalogue
) -> None:
    found = items(8)
    found[2]["properties"]["s2:product_type"] = "S2MSI2A"  # another product type in the answer
    StacApi(replay, found)
    for method in ("GET", "POST"):
        agent = make_agent(FILTERED.format(url=replay.url, method=method))
        report = await agent.run(f"es-{method}")
        first = replay.requests("/search")[-1]
        params = first.query if method == "GET" else first.body
        window = "2024-02-01T06:00:00Z/2024-02-02T00:00:00Z"
        if method == "GET":
            assert params["bbox"] == "32.6,-17.2,36.0,-9.3" and params["datetime"] == window
            assert params["collections"] == "sentinel-2-l1c"
        else:
            assert params["bbox"] == [32.6, -17.2, 36.0, -9.3] and params["datetime"] == window
            assert params["collections"] == ["sentinel-2-l1c"]
        # 06:00, 12:00, 18:00 and the next midnight are in the window; one is of another type
        assert (report.state, report.received, report.skipped) == ("ok", 4, 1), report.error
    ids = await product_ids(catalogue, "sentinel-2-l1c")
    assert ids == sorted(str(i["id"]) for i in found[1:5] if i is not found[2])
