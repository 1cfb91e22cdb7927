"""Harvest benchmark, one run, figures printed (not pass/fail on absolute times).

1. STAC harvest rate: N real earth-search items (cloned, as in tests/harvest) served by the
   tests' loopback STAC API, harvested by the agent into an embedded (SQLite) catalogue, at two
   page sizes; then an incremental run with nothing new;
2. how long a misbehaving source runs before its limit stops it: endless ``next`` links against
   ``pages``, a server that drips one byte every 50 ms against ``seconds``;
3. the sizes of the fixture documents and files the harvest tests replay.

The machine's load (``uptime``) is printed with every part.
Usage: ``flock /tmp/bench.lock .venv/bin/python -m bench.harvest.run [--items 2000]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import tempfile
import time
from pathlib import Path

from tests.harvest.conftest import CATALOGUE, RASTERS, SAFE, earth_search_item, moments
from tests.harvest.conftest import item_collection as page_of_items
from tests.harvest.replay import Replay, Reply, Request
from tests.harvest.stac_server import StacApi

from everest_elearn.catalogue.backends.sqlite import SqliteStore
from everest_elearn.catalogue.service import Catalogue
from everest_elearn.harvest.agent import Agent
from everest_elearn.harvest.checkpoint import Checkpoints
from everest_elearn.harvest.report import RunReport
from everest_elearn.settings import Settings


def load() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


async def harvest(folder: Path, sources: str, name: str) -> tuple[RunReport, float]:
    (folder / "sources.yaml").write_text(sources)
    store = SqliteStore(folder / "catalogue.sqlite")
    await store.open()
    try:
        agent = Agent(
            Catalogue(store),
            Checkpoints(folder / "harvest.sqlite"),
            Settings(data_dir=folder).harvest,
            folder / "sources.yaml",
            {},
        )
        began = time.perf_counter()
        report = await agent.run(name)
        return report, time.perf_counter() - began
    finally:
        await store.close()


STAC = """\
sources:
  - name: es
    kind: stac
    url: {url}
    collection: sentinel-2-l1c
    page_size: {size}
    limits: {{pages: 100000}}
"""


async def rate(count: int) -> None:
    print(f"\n1. STAC harvest rate, {count} items ({load()})")
    items = [earth_search_item(i, when) for i, when in enumerate(moments(count))]
    for size in (100, 500):
        replay = Replay()
        try:
            StacApi(replay, items, page=size)
            with tempfile.TemporaryDirectory() as tmp:
                sources = STAC.format(url=replay.url, size=size)
                report, seconds = await harvest(Path(tmp), sources, "es")
                again, quiet = await harvest(Path(tmp), sources, "es")
        finally:
            replay.stop()
        assert report.created == count, report.to_dict()
        print(
            f"   page size {size}: {report.pages} pages, {report.created} stored in {seconds:.2f} s "
            f"= {count / seconds:.0f} items/s ({report.bytes / 2**20:.1f} MiB of pages); "
            f"incremental rerun: {again.received} items again (the newest, >= mark) in {quiet:.2f} s"
        )


LIMITED = """\
sources:
  - name: bad
    kind: stac
    url: {url}
    into: s2
    limits: {{pages: {pages}, seconds: {seconds}, request_seconds: 600, retries: 0}}
"""


async def limits() -> None:
    print(f"\n2. misbehaving sources against their limits ({load()})")
    replay = Replay()
    try:

        def endless(request: Request) -> Reply:
            n = int(request.query.get("n", "0"))
            item = earth_search_item(n, moments(n + 1)[-1])
            page = page_of_items([item], {"href": f"{replay.url}/search?n={n + 1}"})
            return Reply(json.dumps(page).encode())

        replay.route("/search", endless)
        with tempfile.TemporaryDirectory() as tmp:
            sources = LIMITED.format(url=replay.url, pages=200, seconds=600)
            report, seconds = await harvest(Path(tmp), sources, "bad")
        print(f"   endless next links, pages limit 200: {report.state} after {seconds:.2f} s "
              f"({report.pages} pages): {report.error}")  # fmt: skip
        body = json.dumps(page_of_items([earth_search_item(0, moments(1)[0])], None)).encode()
        replay.route("/search", lambda _r: Reply(body, drip=1, pause=0.05))
        for limit in (2, 5):
            with tempfile.TemporaryDirectory() as tmp:
                sources = LIMITED.format(url=replay.url, pages=200, seconds=limit)
                report, seconds = await harvest(Path(tmp), sources, "bad")
            print(f"   dripping answer, seconds limit {limit}: {report.state} after {seconds:.2f} s "
                  f"(overshoot {seconds - limit:.2f} s): {report.error}")  # fmt: skip
    finally:
        replay.stop()


def sizes() -> None:
    print("\n3. fixtures replayed by tests/harvest (../shared/fixtures)")
    found = [
        *(
            CATALOGUE / "opensearch" / f"eodag-{name}"
            for name in ("earth_search_search.json", "mundi_search.xml", "sara_search.json")
        ),
        CATALOGUE / "stac" / "odc-stac-sentinel-2-l2a.collection.json",
        *sorted(SAFE.glob("*.zip")),
        *sorted(RASTERS.rglob("*.tif")),
    ]
    for path in found:
        print(f"   {path.relative_to(CATALOGUE.parent)!s:75s} {path.stat().st_size:>10,d} bytes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000)
    args = parser.parse_args()
    asyncio.run(rate(args.items))
    asyncio.run(limits())
    sizes()


if __name__ == "__main__":
    main()
