"""The CI variant of the stack: the agency image, as compose runs it (host network, settings
from the environment), against stand-ins that run here: osmem-server for Elasticsearch, moto for
MinIO. The vendor images themselves cannot be pulled on the build machines."""

from __future__ import annotations

import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import httpx
import pytest
from lxml import etree
from osmem_server import OsmemServer

from everest_elearn.images import ImageBuilder
from tests.deploy.compose import health_check
from tests.fixtures.images import images_settings
from tests.fixtures.moto import MotoS3
from tests.fixtures.oidc import free_port

pytestmark = [pytest.mark.docker, pytest.mark.services]
OS = "{http://a9.com/-/spec/opensearch/1.1/}"


@pytest.fixture(scope="module")
def agency_image() -> str:
    return ImageBuilder(images_settings()).build_sync("agency").tag


@pytest.fixture
def agency(
    agency_image: str, osmem: OsmemServer, moto_s3: MotoS3
) -> Iterator[tuple[str, str, Any]]:
    """The agency container on a free loopback port; yields its URL, admin token, container."""
    port, token, tag = free_port(), secrets.token_urlsafe(24), secrets.token_hex(4)
    bucket = f"ci-stack-{tag}"
    moto_s3.client().create_bucket(Bucket=bucket)  # type: ignore[attr-defined]
    env = {
        "EVEREST_API__HOST": "127.0.0.1",
        "EVEREST_API__PORT": str(port),
        "EVEREST_CATALOGUE__BACKEND": "elasticsearch",
        "EVEREST_CATALOGUE__ELASTICSEARCH_URL": osmem.url,
        "EVEREST_CATALOGUE__ELASTICSEARCH_FLAVOUR": "opensearch",
        "EVEREST_CATALOGUE__ELASTICSEARCH_GEOMETRY_CHECK": "refine",
        "EVEREST_CATALOGUE__INDEX_PREFIX": f"ci{tag}",
        "EVEREST_SECURITY__ADMIN_TOKEN": token,
        "EVEREST_GATEWAY__STORE": "s3",
        "EVEREST_GATEWAY__S3_ENDPOINT_URL": moto_s3.endpoint_url,
        "EVEREST_GATEWAY__S3_BUCKET": bucket,
        "EVEREST_GATEWAY__S3_REGION": moto_s3.region,
        "EVEREST_GATEWAY__S3_ACCESS_KEY_ID": moto_s3.access_key_id,
        "EVEREST_GATEWAY__S3_SECRET_ACCESS_KEY": moto_s3.secret_access_key,
        "EVEREST_PACKAGES__VOLUMES": "directory",
        "EVEREST_HARVEST__AGENT_ENABLED": "false",
    }
    client = docker.from_env()
    container = client.containers.run(
        agency_image, detach=True, network_mode="host", environment=env, name=f"everest-ci-{tag}"
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            container.reload()
            assert container.status in ("created", "running"), container.logs().decode()[-3000:]
            try:
                if httpx.get(f"{url}/opensearch/description.xml", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, container.logs().decode()[-3000:]
            time.sleep(0.5)
        yield url, token, container
        logs = container.logs().decode()
        assert token not in logs
    finally:
        container.remove(force=True)
        httpx.delete(f"{osmem.url}/ci{tag}-*", timeout=30)


def test_agency_container_serves_catalogue_on_search_engine(
    agency: tuple[str, str, Any], tmp_path: Path
) -> None:
    url, token, container = agency
    # Compose's health check, run in the container as the engine runs it: healthy, and not
    # when nothing answers on the port it asks.
    check = health_check("agency", tmp_path)
    assert container.exec_run(check).exit_code == 0
    assert container.exec_run(check, environment={"EVEREST_API__PORT": "1"}).exit_code != 0
    description = httpx.get(f"{url}/opensearch/description.xml", timeout=10)
    assert description.status_code == 200
    root = etree.fromstring(description.content)
    templates = [u.get("template") for u in root.iter(f"{OS}Url")]
    assert any(t and t.startswith(url) for t in templates), templates

    # The operator's path: the CLI on the host ingests into the containerised agency.
    ingest = subprocess.run(
        ["everest-elearn", "catalogue", "ingest", "--samples", "--url", url, "--token", token],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": _venv_path(), "HOME": "/tmp", "COLUMNS": "120"},
    )
    assert ingest.returncode == 0, ingest.stderr[-2000:]

    found = httpx.get(
        f"{url}/opensearch/products",
        params={"parentIdentifier": "sentinel-2-l2a", "httpAccept": "application/geo+json"},
        timeout=30,
    )
    assert found.status_code == 200, found.text[:500]
    body = found.json()
    assert body["totalResults"] > 0 and body["features"]
    stac = httpx.get(f"{url}/stac/search", params={"collections": "sentinel-1-grd", "limit": 2})
    assert stac.status_code == 200 and len(stac.json()["features"]) == 2
    refused = httpx.post(f"{url}/catalogue/ingest", content=b"{}", timeout=10)
    assert refused.status_code in (401, 403)

    # The upgrade doc's re-index, as compose runs it (`docker compose exec agency ...`), while
    # the agency keeps answering searches.
    search = {"parentIdentifier": "sentinel-2-l2a", "httpAccept": "application/geo+json"}
    outcome: dict[str, Any] = {}

    def run_reindex() -> None:
        outcome["exec"] = container.exec_run(
            ["everest-elearn", "catalogue", "reindex", "--chunk", "10"],
            environment={"COLUMNS": "160"},
        )

    worker = threading.Thread(target=run_reindex)
    worker.start()
    answers = []
    while True:
        answer = httpx.get(f"{url}/opensearch/products", params=search, timeout=30)
        answers.append((answer.status_code, answer.json().get("totalResults")))
        if not worker.is_alive():
            break
        time.sleep(0.05)
    worker.join()
    done = outcome["exec"]
    assert done.exit_code == 0, done.output.decode()[-2000:]
    assert b".r2" in done.output
    assert set(answers) == {(200, body["totalResults"])}, answers


def _venv_path() -> str:
    return f"{Path(sys.executable).parent}:/usr/bin:/bin"
