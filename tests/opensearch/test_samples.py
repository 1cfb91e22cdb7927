"""On a fresh data directory the bundled sample catalogue is offered, and every example query of
its description documents returns hits."""

from __future__ import annotations

from pathlib import Path

import httpx
from lxml import etree

from everest_elearn.api import create_app
from everest_elearn.settings import Settings
from tests.opensearch.client import XP, Feed, fill, xml


def _example(osdd: etree._Element) -> dict[str, str]:
    query = osdd.find("os:Query[@role='example']", XP)
    assert query is not None
    prefixes = {v: k for k, v in XP.items()}
    out = {}
    for key, value in query.attrib.items():
        if key.startswith("{"):
            namespace, _, local = key[1:].partition("}")
            out[f"{prefixes[namespace]}:{local}"] = value
    return out


async def test_sample_catalogue_examples_return_hits(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path / "data"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://agency") as http:
            root = xml((await http.get("/opensearch/description.xml")).content)
            template = str(
                root.xpath("os:Url[@type='application/atom+xml']/@template", namespaces=XP)[0]
            )
            assert Feed(xml((await http.get(fill(template, _example(root)))).content)).total > 0
            collections = Feed(xml((await http.get(fill(template, {"count": "50"}))).content))
            assert len(collections.ids) >= 2
            products = 0
            for href in collections.root.xpath(
                "atom:entry/atom:link[@rel='search']/@href", namespaces=XP
            ):
                osdd = xml((await http.get(str(href))).content)
                atom = str(
                    osdd.xpath("os:Url[@type='application/atom+xml']/@template", namespaces=XP)[0]
                )
                assert Feed(xml((await http.get(fill(atom, _example(osdd)))).content)).total > 0
                products += Feed(xml((await http.get(fill(atom, {"count": "0"}))).content)).total
            assert products >= 200
