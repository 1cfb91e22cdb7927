"""OpenSearch harvesting: two-step through description documents, resto GeoJSON and DIAS Atom pages."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from everest_elearn.catalogue.service import Catalogue
from tests.harvest.conftest import CATALOGUE, AgentFactory, product_ids, real_json
from tests.harvest.replay import Replay, Reply, Request

ROOT_OSDD = """<?xml version="1.0" encoding="UTF-8"?>
<OpenSearchDescription xmlns="http://a9.com/-/spec/opensearch/1.1/"
  xmlns:geo="http://a9.com/-/opensearch/extensions/geo/1.0/"
  xmlns:time="http://a9.com/-/opensearch/extensions/time/1.0/"
  xmlns:eo="http://a9.com/-/opensearch/extensions/eo/1.0/">
  <ShortName>Loopback</ShortName><Description>replay</Description>
  <Url type="application/atom+xml" rel="collection"
       template="{url}/collections/search.atom?uid={{geo:uid?}}&amp;count={{count?}}"/>
  <Url type="application/atom+xml" rel="results" indexOffset="1"
       template="{url}/opensearch?productType={{eo:productType?}}&amp;timeStart={{time:start?}}&amp;maxRecords={{count?}}&amp;startIndex={{startIndex?}}&amp;format=atom"/>
</OpenSearchDescription>"""

COLLECTION_OSDD = """<?xml version="1.0" encoding="UTF-8"?>
<OpenSearchDescription xmlns="http://a9.com/-/spec/opensearch/1.1/"
  xmlns:time="http://a9.com/-/opensearch/extensions/time/1.0/"
  xmlns:eo="http://a9.com/-/opensearch/extensions/eo/1.0/">
  <ShortName>S2</ShortName><Description>resto collection S2</Description>
  <Url type="application/json" rel="results" pageOffset="1"
       template="{url}/collections/S2/search.json?startDate={{time:start?}}&amp;maxRecords={{count}}&amp;page={{startPage?}}"/>
</OpenSearchDescription>"""

COLLECTIONS_FEED = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <title>collections</title><id>{url}/collections</id><updated>2023-01-01T00:00:00Z</updated>
  <link rel="search" type="application/opensearchdescription+xml" href="{url}/description.xml"/>
  <entry><title>Sentinel-2</title><id>{url}/collections/S2</id><dc:identifier>S2</dc:identifier>
    <updated>2023-01-01T00:00:00Z</updated>
    <link rel="search" type="application/opensearchdescription+xml" href="/collections/S2/describe.xml"/>
  </entry>
</feed>"""


def resto_features(count: int) -> list[dict[str, Any]]:
    """The real resto (sara) features, cloned under new product identifiers."""
    base = real_json("opensearch/eodag-sara_search.json")["features"]
    out = []
    for i in range(count):
        feature = copy.deepcopy(base[i % len(base)])
        name = feature["properties"]["productIdentifier"].replace("_20200815T023440", f"_{i:04d}")
        feature["id"] = name
        feature["properties"]["productIdentifier"] = name
        feature["properties"]["title"] = name
        out.append(feature)
    return out


def resto_page(features: list[dict[str, Any]], request: Request) -> tuple[dict[str, Any], int, int]:
    """The real resto answer holding the page of ``features`` the request asks for by index;
    with that page's number and size."""
    size = int(request.query["maxRecords"])
    page = int(request.query.get("page") or 1)
    document = real_json("opensearch/eodag-sara_search.json")
    document["features"] = features[(page - 1) * size : page * size]
    return document, page, size


def resto_api(replay: Replay, features: list[dict[str, Any]]) -> None:
    replay.answer(
        "/description.xml",
        ROOT_OSDD.format(url=replay.url),
        content_type="application/opensearchdescription+xml",
    )
    replay.answer(
        "/collections/search.atom",
        COLLECTIONS_FEED.format(url=replay.url),
        content_type="application/atom+xml",
    )
    replay.answer(
        "/collections/S2/describe.xml",
        COLLECTION_OSDD.format(url=replay.url),
        content_type="application/opensearchdescription+xml",
    )

    def search(request: Request) -> Reply:
        document, page, size = resto_page(features, request)
        links = [x for x in document["properties"]["links"] if x["rel"] != "next"]
        if page * size < len(features):
            links.append(
                {
                    "rel": "next",
                    "type": "application/json",
                    "title": "next",
                    "href": f"{replay.url}/collections/S2/search.json?maxRecords={size}&page={page + 1}",
                }
            )
        document["properties"]["links"] = links
        return Reply(json.dumps(document).encode(), content_type="application/json")

    replay.route("/collections/S2/search.json", search)


SOURCE = """\
sources:
  - name: sara
    kind: opensearch
    url: {url}/description.xml
    collection: S2
    into: sentinel-2-l1c
    format: {format}
    page_size: 2
"""


async def test_two_step_search_and_resto_paging(
    replay: Replay, make_agent: AgentFactory, catalogue: Catalogue
) -> None:
    features = resto_features(5)
    resto_api(replay, features)
    report = await make_agent(SOURCE.format(url=replay.url, format="auto")).run("sara")
    assert report.state == "ok", report.error
    assert (report.pages, report.created, report.rejected) == (3, 5, 0)
    assert replay.requests("/collections/search.atom")[0].query["uid"] == "S2"
    pages = [r.query.get("page") for r in replay.requests("/collections/S2/search.json")]
    assert pages == ["1", "2", "3"]
    ids = await product_ids(catalogue, "sentinel-2-l1c")
    assert ids == sorted(f["id"] for f in features)
    record = await catalogue.store.get(ids[0])
    assert record is not None and record.properties["productType"] == "S2MSI1C"
    assert record.extra["harvest"]["layout"].startswith("Sentinel-2/S2MSI1C/2020-08-15/")


def mundi_pages(replay: Replay, pages: int) -> None:
    """The real DIAS (mundi) Atom answer, its next links pointing at loopback, entries renamed."""
    text = (CATALOGUE / "opensearch/eodag-mundi_search.xml").read_text()

    def search(request: Request) -> Reply:
        start = int(request.query.get("startIndex") or 1)
        number = (start - 1) // 2
        body = text.replace("_20200815T023440", f"_{number:04d}")
        body = re.sub(r'<link rel="next"[^>]*/>', "", body)
        if number + 1 < pages:
            href = (
                f"{replay.url}/opensearch?maxRecords=2&amp;startIndex={start + 2}&amp;format=atom"
            )
            body = body.replace(
                "</title>",
                f'</title><link rel="next" type="application/atom+xml" href="{href}"/>',
                1,
            )
        return Reply(body.encode(), content_type="application/atom+xml")

    replay.route("/opensearch", search)


async def test_atom_results_follow_next_links(
    replay: Replay, make_agent: AgentFactory, catalogue: Catalogue
) -> None:
    replay.answer(
        "/description.xml",
        ROOT_OSDD.format(url=replay.url),
        content_type="application/opensearchdescription+xml",
    )
    mundi_pages(replay, 3)
    text = SOURCE.format(url=replay.url, format="atom").replace(
        "    collection: S2\n", "    product_type: IMAGE\n"
    )
    report = await make_agent(text).run("sara")
    assert report.state == "ok", report.error
    assert (report.pages, report.created) == (3, 6)
    first = replay.requests("/opensearch")[0]
    assert (first.query["productType"], first.query["startIndex"], first.query["maxRecords"]) == (
        "IMAGE",
        "1",
        "2",
    )
    assert len(await product_ids(catalogue, "sentinel-2-l1c")) == 6


async def test_a_search_url_without_description_works_too(
    replay: Replay, make_agent: AgentFactory
) -> None:
    mundi_pages(replay, 2)
    text = SOURCE.format(url=replay.url, format="auto").replace(
        "/description.xml", "/opensearch?startIndex=1"
    )
    report = await make_agent(text).run("sara")
    assert (report.state, report.created) == ("ok", 4)


async def test_a_broken_entry_is_rejected_and_the_page_goes_on(
    replay: Replay, make_agent: AgentFactory
) -> None:
    features = resto_features(4)
    features[1]["geometry"] = None
    features[2]["properties"]["startDate"] = 12
    resto_api(replay, features)
    report = await make_agent(SOURCE.format(url=replay.url, format="auto")).run("sara")
    assert (report.state, report.created, report.rejected) == ("ok", 2, 2)
    assert {p.identifier for p in report.rejections} == {features[1]["id"], features[2]["id"]}


async def test_pages_by_index_when_a_source_sends_no_navigation_links(
    replay: Replay, make_agent: AgentFactory, catalogue: Catalogue
) -> None:
    features = resto_features(5)
    replay.answer(
        "/description.xml",
        COLLECTION_OSDD.format(url=replay.url),
        content_type="application/opensearchdescription+xml",
    )

    def search(request: Request) -> Reply:
        document = resto_page(features, request)[0]
        del document["properties"]["links"]
        return Reply(json.dumps(document).encode())

    replay.route("/collections/S2/search.json", search)
    text = SOURCE.format(url=replay.url, format="auto").replace("    collection: S2\n", "")
    report = await make_agent(text).run("sara")
    assert (report.state, report.created) == ("ok", 5)
    pages = [r.query["page"] for r in replay.requests("/collections/S2/search.json")]
    assert pages == ["1", "2", "3"]  # the third page is short: the end


async def test_an_atom_entry_without_geometry_is_rejected_and_a_cut_off_page_fails_the_run(
    replay: Replay, make_agent: AgentFactory, catalogue: Catalogue
) -> None:
    text = (CATALOGUE / "opensearch/eodag-mundi_search.xml").read_text()
    second = text.index("<entry>", text.index("<entry>") + 1)
    # The real answer, its second entry stripped of its footprint (georss polygon and box).
    no_geometry = text[:second] + re.sub(
        r"<georss:(polygon|box)>[^<]*</georss:\1>", "", text[second:]
    )
    no_geometry = re.sub(r'<link rel="next"[^>]*/>', "", no_geometry).replace(
        "</title>",
        f'</title><link rel="next" type="application/atom+xml" href="{replay.url}/cut"/>',
        1,
    )
    replay.answer("/opensearch", no_geometry, content_type="application/atom+xml")
    # The next page is cut off mid-entry, as a dropped connection leaves it.
    replay.answer("/cut", text[: second + 500], content_type="application/atom+xml")
    source = SOURCE.format(url=replay.url, format="atom").replace(
        "/description.xml", "/opensearch?startIndex=1"
    )
    agent = make_agent(source)
    report = await agent.run("sara")
    assert (report.state, report.pages, report.created, report.rejected) == ("failed", 1, 1, 1)
    assert "geometry" in report.rejections[0].reason or "footprint" in report.rejections[0].reason
    assert "/cut" in (report.error or "") and "(page 2)" in (report.error or "")
    assert await product_ids(catalogue, "sentinel-2-l1c") == [
        "S2A_MSIL1C_20200815T005251_N0209_R002_T55PBQ_20200815T023440"
    ]
    row = (await agent.status())["sources"][0]
    assert row["state"] == "failed" and row["resuming"]  # the next run starts at the cut page


async def test_a_second_run_asks_only_for_what_is_newer_than_the_checkpoint(
    replay: Replay, make_agent: AgentFactory
) -> None:
    features = resto_features(3)
    resto_api(replay, features)
    agent = make_agent(SOURCE.format(url=replay.url, format="auto"))
    assert (await agent.run("sara")).created == 3
    before = replay.requests("/collections/S2/search.json")
    assert before[0].query["startDate"] == ""  # no time filter, no checkpoint yet
    newest = max(f["properties"]["startDate"] for f in features)
    second = await agent.run("sara")
    asked = replay.requests("/collections/S2/search.json")[len(before)].query["startDate"]
    assert second.state == "ok" and asked == newest[:19] + "Z"


async def test_an_atom_next_link_without_href_fails_the_run_after_storing_the_page(
    replay: Replay, make_agent: AgentFactory, catalogue: Catalogue
) -> None:
    text = (CATALOGUE / "opensearch/eodag-mundi_search.xml").read_text()
    broken = re.sub(
        r'<link rel="next"[^>]*/>', '<link rel="next" type="application/atom+xml"/>', text
    )
    replay.answer("/opensearch", broken, content_type="application/atom+xml")
    source = SOURCE.format(url=replay.url, format="atom").replace(
        "/description.xml", "/opensearch?startIndex=1"
    )
    agent = make_agent(source)
    report = await agent.run("sara")
    assert report.state == "failed" and "next link has no href" in (report.error or "")
    assert report.created == 2 and len(await product_ids(catalogue, "sentinel-2-l1c")) == 2
    row = (await agent.status())["sources"][0]
    assert row["resuming"] and row["since"] is None
    again = await agent.run("sara")  # the same page is read again, not skipped
    assert (again.state, again.updated) == ("failed", 2)
    # first run: the url read as a possible description, then as the page; second: the page
    assert len(replay.requests("/opensearch")) == 3


async def test_an_entity_bomb_page_fails_at_once(replay: Replay, make_agent: AgentFactory) -> None:
    # "Billion laughs": ten levels of entities, each ten times the one before, inside the real
    # mundi answer's title.
    entities = '<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {chr(98 + i)} "{f"&{chr(97 + i)};" * 10}">' for i in range(8)
    )
    text = (CATALOGUE / "opensearch/eodag-mundi_search.xml").read_text()
    bomb = text.replace(
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE feed [{entities}]>',
    ).replace("<title>DIAS CWS OpenSearch Service - Search Results</title>", "<title>&i;</title>")
    replay.answer("/opensearch", bomb, content_type="application/atom+xml")
    source = SOURCE.format(url=replay.url, format="atom").replace(
        "/description.xml", "/opensearch?startIndex=1"
    )
    report = await make_agent(source).run("sara")
    assert report.state == "failed" and "entity" in (report.error or ""), report.error
    assert report.created == 0
