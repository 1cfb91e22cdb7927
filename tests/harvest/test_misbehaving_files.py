"""File servers that misbehave: dripping or failing files are rejected; the run and the process go on."""

from __future__ import annotations

import asyncio
import os

from everest_elearn.catalogue.service import Catalogue
from tests.harvest.conftest import RASTERS, AgentFactory, product_ids
from tests.harvest.replay import Replay, Reply

PYROSAR = RASTERS / "pyrosar" / "S1A__IW___A_20150309T173017_VV_grd_mli_geo_norm_db.tif"

SOURCE = """\
sources:
  - name: drip
    kind: http
    url: {url}/index.txt
    into: s1
    page_size: 100
    limits: {{request_seconds: 0.3, seconds: 120, retries: 0}}
"""


async def test_files_that_drip_are_rejected_and_the_run_ends(
    replay: Replay, make_agent: AgentFactory
) -> None:
    # More files than asyncio's default worker threads: reads that never end would leave none
    # for the checkpoints and the catalogue, and the run (and the agent) would hang.
    count = min(32, (os.cpu_count() or 1) + 4) + 2
    body = PYROSAR.read_bytes()
    lines = []
    for i in range(count):
        name = f"rasters/S1A_20150309T1730{i:02d}_slow.tif"
        lines.append(f"{name},{len(body)}")
        # No Range support (200 with the whole file), one byte every 50 ms: about a minute per file.
        replay.answer(f"/{name}", body, content_type="image/tiff", drip=1, pause=0.05)
    replay.answer("/index.txt", "\n".join(lines) + "\n", content_type="text/plain")
    agent = make_agent(SOURCE.format(url=replay.url))
    run = asyncio.create_task(agent.run("drip"))
    done, _ = await asyncio.wait({run}, timeout=60)  # a guard against a hang, not a measurement
    assert run in done, "the run hung on files that never finish"
    report = run.result()
    assert (report.state, report.created, report.rejected) == ("ok", 0, count), report.error
    assert all("0.3 s" in p.reason or "request_seconds" in p.reason for p in report.rejections), (
        report.rejections
    )
    status = (await agent.status())["sources"][0]
    assert status["state"] == "ok" and status["totals"]["rejected"] == count


async def test_a_file_whose_server_fails_mid_read_is_rejected_and_the_harvest_goes_on(
    replay: Replay, make_agent: AgentFactory, catalogue: Catalogue
) -> None:
    body = PYROSAR.read_bytes()
    good = "rasters/S1A__IW___A_20150309T173017_VV_grd_mli_geo_norm_db.tif"
    broken = "rasters/S1A_20150310T000000_broken.tif"
    replay.answer(f"/{good}", body, content_type="image/tiff")
    # GDAL reads a GeoTIFF through a Python callback: an error raised into it would abort the
    # whole process (the agent and the API with it), not just this file.
    replay.answer(f"/{broken}", b"busy", status=500, content_type="text/plain")
    replay.answer(
        "/index.txt", f"{good},{len(body)}\n{broken},{len(body)}\n", content_type="text/plain"
    )
    report = await make_agent(SOURCE.format(url=replay.url)).run("drip")
    assert (report.state, report.created, report.rejected) == ("ok", 1, 1), report.error
    assert report.rejections[0].identifier == broken
    assert "answered 500" in report.rejections[0].reason
    assert await product_ids(catalogue, "s1") == [PYROSAR.stem]


async def test_an_endless_directory_listing_is_stopped_by_the_page_limit(
    replay: Replay, make_agent: AgentFactory
) -> None:
    # Every folder lists two more folders (as a server with a symbolic link loop does).
    listing = b'<html><body><pre><a href="../">../</a>\n<a href="a/">a/</a>\n<a href="b/">b/</a>\n</pre></body></html>'
    replay.route("/tree/*", lambda _r: Reply(listing, content_type="text/html"))
    source = f"""\
sources:
  - name: loop
    kind: http
    url: {replay.url}/tree/
    into: s1
    depth: 30
    limits: {{pages: 20, seconds: 120, retries: 0}}
"""
    report = await make_agent(source).run("loop")
    assert report.state == "limited" and "limit pages" in (report.error or ""), report.error
    assert len(replay.log) == 20  # at most the limit's number of listings is read
