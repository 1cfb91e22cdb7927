"""A source can send anything: each bad item is rejected with its reason, limits stop the rest."""

from __future__ import annotations

import json
from typing import Any

from everest_elearn.catalogue.service import Catalogue
from tests.harvest.conftest import (
    AgentFactory,
    earth_search_item,
    item_collection,
    moments,
    product_ids,
)
from tests.harvest.replay import Replay, Reply, Request

SOURCE = """\
sources:
  - name: bad
    kind: stac
    url: {url}
    into: s2
    page_size: 3
    limits: {{pages: {pages}, response_bytes: {size}, request_seconds: {wait}, retries: 2, backoff: 0.05, seconds: {seconds}}}
"""


def source(
    url: str, pages: int = 50, size: str = "1 MB", wait: float = 5, seconds: float = 60
) -> str:
    return SOURCE.format(url=url, pages=pages, size=size, wait=wait, seconds=seconds)


def good(count: int) -> list[dict[str, Any]]:
    return [earth_search_item(i, when) for i, when in enumerate(moments(count))]


async def test_malformed_items_are_rejected_with_reasons_and_the_rest_stored(
    replay: Replay, make_agent: AgentFactory, catalogue: Catalogue
) -> None:
    items = good(6)
    items[1]["geometry"] = None  # missing footprint
    items[2]["properties"]["datetime"] = "yesterday"  # not a date
    items[3]["properties"]["eo:cloud_cover"] = "cloudy"  # wrong type
    items[4] = ["not", "an", "object"]  # type: ignore[call-overload]
    del items[5]["id"]
    second = good(8)[6:]
    second[0]["geometry"] = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]}  # not a ring
    second[1]["bbox"] = "everywhere"  # ignored: the geometry is what counts
    replay.answer("/search", item_collection(items, {"href": f"{replay.url}/page2"}))
    replay.answer("/page2", item_collection(second, None))
    report = await make_agent(source(replay.url)).run("bad")
    assert report.state == "ok", report.error
    assert (report.received, report.created, report.rejected) == (8, 2, 6)
    reasons = " | ".join(p.reason for p in report.rejections)
    for expected in ("geometry", "datetime", "cloudCover", "not a JSON object", "id", "ring"):
        assert expected in reasons, (expected, reasons)
    assert await product_ids(catalogue, "s2") == sorted([items[0]["id"], second[1]["id"]])


async def test_a_page_that_is_not_json_fails_the_run_and_keeps_what_came_before(
    replay: Replay, make_agent: AgentFactory, catalogue: Catalogue
) -> None:
    replay.answer("/search", item_collection(good(2), {"href": f"{replay.url}/broken"}))
    replay.answer("/broken", b'{"type": "FeatureCollection", "features": [ {"id": ')
    agent = make_agent(source(replay.url))
    report = await agent.run("bad")
    assert report.state == "failed" and "not valid JSON" in (report.error or "")
    assert len(await product_ids(catalogue, "s2")) == 2
    status = (await agent.status())["sources"][0]
    assert status["state"] == "failed" and "not valid JSON" in status["last_error"]
    assert status["resuming"]  # the next run starts again at the broken page, not from scratch


async def test_endless_next_links_are_stopped_by_the_page_limit(
    replay: Replay, make_agent: AgentFactory, catalogue: Catalogue
) -> None:
    def endless(request: Request) -> Reply:
        n = int(request.query.get("n", "0"))
        page = item_collection(
            [earth_search_item(n, moments(n + 1)[-1])], {"href": f"{replay.url}/search?n={n + 1}"}
        )
        return Reply(json.dumps(page).encode())

    replay.route("/search", endless)
    report = await make_agent(source(replay.url, pages=5)).run("bad")
    assert report.state == "limited" and "limit pages" in (report.error or "")
    assert report.pages == 5 and len(replay.requests("/search")) == 5


async def test_a_next_link_back_to_an_earlier_page_is_a_loop(
    replay: Replay, make_agent: AgentFactory
) -> None:
    replay.answer("/search", item_collection(good(1), {"href": f"{replay.url}/p2"}))
    replay.answer("/p2", item_collection(good(2)[1:], {"href": f"{replay.url}/p2"}))
    report = await make_agent(source(replay.url)).run("bad")
    assert report.state == "failed" and "loops" in (report.error or "")
    assert report.created == 2


async def test_a_huge_page_is_refused_by_size(replay: Replay, make_agent: AgentFactory) -> None:
    page = item_collection(good(3), None)
    page["padding"] = "x" * 300_000
    replay.answer("/search", page)
    report = await make_agent(source(replay.url, size="100 KB")).run("bad")
    assert report.state == "limited" and "response_bytes" in (report.error or "")
    assert report.created == 0


async def test_a_huge_page_without_content_length_is_cut_off(
    replay: Replay, make_agent: AgentFactory
) -> None:
    page = json.dumps(item_collection(good(3), None)).encode() + b" " * 300_000
    replay.route("/search", lambda _r: Reply(page, length=-1))
    report = await make_agent(source(replay.url, size="100 KB")).run("bad")
    assert report.state == "limited" and "more than" in (report.error or "")


async def test_a_slow_drip_answer_times_out_and_is_retried_then_fails(
    replay: Replay, make_agent: AgentFactory
) -> None:
    body = json.dumps(item_collection(good(2), None)).encode()
    replay.route("/search", lambda _r: Reply(body, drip=50, pause=0.2))
    report = await make_agent(source(replay.url, wait=0.5)).run("bad")
    assert report.state == "failed" and "did not answer within 0.5 s" in (report.error or "")
    assert len(replay.requests("/search")) == 3  # first try and two retries


async def test_a_run_is_stopped_by_its_time_limit(replay: Replay, make_agent: AgentFactory) -> None:
    def slow(request: Request) -> Reply:
        n = int(request.query.get("n", "0"))
        page = item_collection(
            [earth_search_item(n, moments(n + 1)[-1])], {"href": f"{replay.url}/search?n={n + 1}"}
        )
        return Reply(json.dumps(page).encode(), drip=4096, pause=0.1)

    replay.route("/search", slow)
    report = await make_agent(source(replay.url, seconds=1, wait=5)).run("bad")
    assert report.state == "limited" and "limit seconds" in (report.error or "")


async def test_server_errors_are_retried_with_backoff(
    replay: Replay, make_agent: AgentFactory, catalogue: Catalogue
) -> None:
    answers = iter(
        [Reply(b"busy", status=503, headers={"Retry-After": "0"}), Reply(b"", status=502)]
    )
    body = json.dumps(item_collection(good(2), None)).encode()
    replay.route("/search", lambda _r: next(answers, Reply(body)))
    report = await make_agent(source(replay.url)).run("bad")
    assert (report.state, report.created) == ("ok", 2)
    assert len(replay.requests("/search")) == 3


async def test_a_refused_credential_is_named_not_shown(
    replay: Replay, make_agent: AgentFactory
) -> None:
    replay.answer("/search", b"no", status=401)
    text = source(replay.url).replace(
        "    into: s2\n", "    into: s2\n    auth: bearer\n    credential: ES_TOKEN\n"
    )
    agent = make_agent(text, environ={"ES_TOKEN": "very-secret-token"})
    report = await agent.run("bad")
    assert report.state == "failed" and "401" in (report.error or "")
    assert replay.requests("/search")[0].headers["Authorization"] == "Bearer very-secret-token"
    assert "very-secret-token" not in json.dumps(await agent.status())
    missing = make_agent(text, environ={})
    report = await missing.run("bad")
    assert "ES_TOKEN" in (report.error or "") and report.state == "failed"


async def test_an_item_that_would_lose_a_part_is_rejected_not_stored_without_it(
    replay: Replay, make_agent: AgentFactory, catalogue: Catalogue
) -> None:
    items = good(3)
    first_asset = next(iter(items[1]["assets"]))
    items[1]["assets"][first_asset]["href"] = 12  # a data file without a location
    items[2]["properties"]["platform"] = 2  # the mission, of the wrong type
    replay.answer("/search", item_collection(items, None))
    report = await make_agent(source(replay.url)).run("bad")
    assert (report.state, report.created, report.rejected) == ("ok", 1, 2), report.rejections
    reasons = {p.identifier: p.reason for p in report.rejections}
    assert "href" in reasons[items[1]["id"]] and "platform" in reasons[items[2]["id"]]
    assert await product_ids(catalogue, "s2") == [items[0]["id"]]
    stored = await catalogue.store.get(str(items[0]["id"]))
    assert stored is not None and len(stored.links) >= len(items[0]["assets"])


async def test_a_next_link_that_cannot_be_followed_fails_the_run_instead_of_ending_it(
    replay: Replay, make_agent: AgentFactory, catalogue: Catalogue
) -> None:
    # Taken as the last page, it would end the run "ok" and move the checkpoint past every
    # page the source still had: a gap nobody sees.
    for broken in ({"href": 42}, {"href": f"{replay.url}/p2", "method": "DELETE"}):
        page = item_collection(good(2), None)
        page["links"].insert(0, {"rel": "next", **broken})
        replay.answer("/search", page)
        agent = make_agent(source(replay.url))
        report = await agent.run("bad")
        assert report.state == "failed" and "next link" in (report.error or ""), report.error
        assert report.created + report.updated == 2  # the page itself is stored
        row = (await agent.status())["sources"][0]
        assert row["resuming"] and row["since"] is None  # read again, checkpoint not moved
    assert len(await product_ids(catalogue, "s2")) == 2
