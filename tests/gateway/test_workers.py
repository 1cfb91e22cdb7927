"""The full agency (``create_app``) as two real uvicorn processes on one data directory.

Products are ingested through the HTTP API; ``/data`` answers from either process; a file asked
for through both at once is fetched from the provider exactly once; statistics are summed.
"""

from __future__ import annotations

import concurrent.futures
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.fixtures.agency import wait_healthy
from tests.fixtures.provider import Provider, free_port
from tests.gateway.conftest import write_file

ROOT = Path(__file__).resolve().parents[2]
ADMIN = "workers-admin-token"
AUTH = {"Authorization": f"Bearer {ADMIN}"}
COLLECTION = "S2_WORKERS"
UVICORN = [
    *(sys.executable, "-m", "uvicorn", "--factory", "everest_elearn.api.app:create_app"),
    *("--host", "127.0.0.1", "--log-level", "warning"),
]


@dataclass
class Agencies:
    urls: list[str]
    provider: Provider
    processes: list[subprocess.Popen[bytes]]

    def client(self, index: int) -> httpx.Client:
        return httpx.Client(base_url=self.urls[index], headers=AUTH, timeout=60)


@pytest.fixture
def agencies(tmp_path: Path, provider: Provider) -> Iterator[Agencies]:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        f"""
sources:
  - name: provider
    url: {provider.url}/open/
  - name: slow
    url: {provider.url}/slow/
rules:
  - name: mirrored
    match: {{product_type: MIRRORED}}
    strategy: mirror
  - name: cached
    strategy: cache
"""
    )
    env = {
        **os.environ,
        "EVEREST_DATA_DIR": str(tmp_path / "data"),
        "EVEREST_CATALOGUE__LOAD_SAMPLES": "false",
        "EVEREST_PACKAGES__VOLUMES": "directory",
        "EVEREST_GATEWAY__RULES_FILE": str(rules),
        "EVEREST_SECURITY__ADMIN_TOKEN": ADMIN,
    }
    (tmp_path / "data").mkdir()
    ports = [free_port(), free_port()]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    processes: list[subprocess.Popen[bytes]] = []
    try:
        # One after the other: the embedded catalogue's first-start schema setup is not safe
        # to run twice at once on a fresh data directory (reported to the catalogue's owner).
        for url, port in zip(urls, ports, strict=True):
            processes.append(
                subprocess.Popen(
                    [*UVICORN, "--port", str(port)],
                    cwd=ROOT,
                    env=env,
                )
            )
            wait_healthy(url, processes[-1])
        yield Agencies(urls, provider, processes)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def _ingest(
    client: httpx.Client, identifier: str, href: str, size: int, digest: str, kind: str
) -> None:
    collection = {
        "type": "Collection",
        "stac_version": "1.0.0",
        "id": COLLECTION,
        "description": "gateway worker tests",
        "license": "CC-BY-4.0",
        "extent": {
            "spatial": {"bbox": [[30.0, -17.0, 36.0, -9.0]]},
            "temporal": {"interval": [["2024-01-01T00:00:00Z", None]]},
        },
        "links": [],
    }
    item = {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": identifier,
        "collection": COLLECTION,
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[33, -14], [34, -14], [34, -13], [33, -13], [33, -14]]],
        },
        "bbox": [33, -14, 34, -13],
        "properties": {"datetime": "2024-06-01T08:00:00Z", "sentinel:product_type": kind},
        "links": [],
        "assets": {
            "data": {
                "href": href,
                "type": "image/tiff",
                "roles": ["data"],
                "file:size": size,
                "file:checksum": f"1220{digest}",
            }
        },
    }
    for document in (collection, item):
        answer = client.post("/catalogue/ingest", json=document)
        assert answer.status_code == 200, answer.text
        assert answer.json()["ingested"] == 1, answer.text


def test_two_workers_fetch_a_file_once_and_sum_their_statistics(agencies: Agencies) -> None:
    provider = agencies.provider
    provider.rate = 2 * 1024 * 1024
    size = 5_000_000
    digest = write_file(provider.root, "shared.tif", size)
    body = (provider.root / "shared.tif").read_bytes()
    with agencies.client(0) as first, agencies.client(1) as second:
        _ingest(first, "P_SHARED", f"{provider.url}/slow/shared.tif", size, digest, "S2MSI2A")
        path = f"/data/{COLLECTION}/P_SHARED/shared.tif"
        # HEAD answers from the catalogue's size and checksum, without a download.
        head = second.head(path)
        assert head.status_code == 200 and head.headers["content-length"] == str(size)
        assert head.headers["etag"] == f'"{digest}"'
        assert provider.gets("/slow/shared.tif") == 0

        def get(index: int, headers: dict[str, str]) -> httpx.Response:
            with agencies.client(index) as client:
                return client.get(path, headers=headers)

        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            leader = pool.submit(get, 0, {})
            time.sleep(0.5)  # the first worker is downloading; the others join it
            followers = [
                pool.submit(get, 1, {}),
                pool.submit(get, 1, {"Range": "bytes=4000000-4000099"}),
                pool.submit(get, 0, {}),
                pool.submit(get, 1, {"Range": "bytes=-10"}),
            ]
            answers = [leader.result()] + [f.result() for f in followers]
        for answer in (answers[0], answers[1], answers[3]):
            assert answer.status_code == 200, answer.text
            assert answer.content == body
            assert answer.headers["etag"] == f'"{digest}"'
        assert answers[2].status_code == 206
        assert answers[2].content == body[4_000_000:4_000_100]
        assert answers[4].status_code == 206 and answers[4].content == body[-10:]
        assert provider.gets("/slow/shared.tif") == 1

        # Once stored, either worker serves it from the store.
        hit = second.get(path, headers={"Range": "bytes=10-19"})
        assert hit.status_code == 206 and hit.content == body[10:20]
        assert hit.headers["x-gateway-origin"] == "hit"
        # Each worker adds its counts to the shared ledger within a second.
        time.sleep(1.5)
        stats = [first.get("/gateway/stats").json(), second.get("/gateway/stats").json()]
    for report in stats:
        assert report["upstream_fetches"] == 1
        assert report["joined_fetches"] == 4
        assert report["hits"] == 1
        assert report["bytes_fetched"] == size
    # Each process also says what it did itself.
    assert {s["process"]["upstream_fetches"] for s in stats} == {0, 1}
    assert sum(s["process"]["joined_fetches"] for s in stats) == 4
    assert provider.gets("/slow/shared.tif") == 1


def test_a_worker_dying_mid_download_fails_its_followers_cleanly_and_a_retry_works(
    agencies: Agencies,
) -> None:
    provider = agencies.provider
    provider.rate = 1024 * 1024
    size = 4_000_000
    digest = write_file(provider.root, "dies.tif", size)
    body = (provider.root / "dies.tif").read_bytes()
    path = f"/data/{COLLECTION}/P_DIES/dies.tif"
    with agencies.client(1) as second:
        _ingest(second, "P_DIES", f"{provider.url}/slow/dies.tif", size, digest, "S2MSI2A")
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            first = agencies.client(0)
            leader = pool.submit(lambda: first.get(path))
            time.sleep(0.8)
            follower = pool.submit(lambda: second.get(path))
            time.sleep(0.8)
            agencies.processes[0].kill()  # the downloading worker dies without cleaning up
            with pytest.raises(httpx.HTTPError):
                leader.result()
            with pytest.raises(httpx.HTTPError):  # cut off, never a complete-looking file
                follower.result()
        first.close()
        retry = second.get(path)
        assert retry.status_code == 200 and retry.content == body
    assert provider.gets("/slow/dies.tif") == 2
