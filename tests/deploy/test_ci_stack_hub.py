"""The CI variant of the stack, hub side: the hub image (built by ``everest-elearn images build
hub``), run as compose runs it (host network, the Docker socket and hub_config mounted, settings
from the environment) against stand-ins that run here: the ``oidc-provider`` OpenID provider for
Keycloak, PostgreSQL for the ODC index; beside it the agency image, as compose's agency service
(the same state folder, the Docker socket, the hub's API to resolve tokens) on osmem-server for
Elasticsearch and moto for MinIO, holding the sample catalogue. It passes the hub issue's end-to-end scenario: a
participant signs in with Chromium, the containerised hub spawns their notebook container through
the socket, the catalogue answers a search from the notebook, the course package is there read-only, a notebook cell ``dc.load``s it and writes a
result that survives a restart of the server, a share of the results made from the notebook
through the agency's API reaches a second participant read-only and a revoke removes it."""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import httpx
import pytest
from osmem_server import OsmemServer
from playwright.sync_api import BrowserContext

from everest_elearn.images import BuiltImage, ImageBuilder
from tests.browser.test_login import sign_in
from tests.browser.test_participant_datacube import (
    PACKAGE,
    course_hub_setup,
    open_data_folder,
    run_notebook,
)
from tests.deploy.agency_container import (
    agency_call,
    remove_results_volumes,
    start_agency_container,
)
from tests.deploy.compose import health_check
from tests.fixtures.hub import ROOT, Hub, stop_hub
from tests.fixtures.images import images_settings
from tests.fixtures.moto import MotoS3
from tests.fixtures.oidc import OidcProvider, free_port

pytestmark = [pytest.mark.browser, pytest.mark.docker, pytest.mark.services]
SOCKET = "/var/run/docker.sock"
OWNER = "bob"  # container names are per user on the engine: the host-hub tests spawn alice's


@dataclass
class ContainerHub(Hub):
    """A hub running in its container; its log is the container's."""

    container_name: str = ""

    def log_tail(self) -> str:
        return self.log_tail_all()[-4000:]

    def log_tail_all(self) -> str:
        try:
            logs: bytes = docker.from_env().containers.get(self.container_name).logs()
        except docker.errors.NotFound:
            return "(hub container gone)"
        return logs.decode(errors="replace")


@pytest.fixture(scope="module")
def agency_image() -> str:
    return ImageBuilder(images_settings()).build_sync("agency").tag


@pytest.fixture(scope="module")
def hub_image() -> str:
    """Built once per hash of its inputs, like the agency's and the notebook's."""
    return ImageBuilder(images_settings()).build_sync("hub").tag


def start_hub_container(image: str, env: dict[str, str], data_dir: Path, tag: str) -> ContainerHub:
    """The hub container as compose's ``hub`` service; returns once ``/hub/api/`` answers."""
    settings = {k: v for k, v in env.items() if k.startswith("EVEREST_")}
    # Compose mounts a named volume at the data dir; the same path here lets the test seed it.
    name = f"everest-ci-hub-{tag}"
    client = docker.from_env()
    container = client.containers.run(
        image,
        detach=True,
        name=name,
        network_mode="host",
        environment=settings,
        labels={"everest.ci-stack": tag},
        volumes={
            SOCKET: {"bind": SOCKET, "mode": "rw"},
            str(ROOT / "hub_config"): {"bind": "/srv/jupyterhub", "mode": "ro"},
            str(data_dir): {"bind": str(data_dir), "mode": "rw"},
        },
    )
    url = f"http://127.0.0.1:{env['EVEREST_HUB__PORT']}"
    hub = ContainerHub(url, f"{url}/hub/api", env["EVEREST_HUB__ADMIN_API_TOKEN"], data_dir,
                       env, tag, container_name=name)  # fmt: skip
    deadline = time.monotonic() + 120
    while True:
        container.reload()
        assert container.status in ("created", "running"), hub.log_tail()
        try:
            if httpx.get(f"{hub.api}/", timeout=2).status_code == 200:
                return hub
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"the hub container did not answer: {hub.log_tail()}"
        time.sleep(0.5)


def stop_hub_container(hub: ContainerHub) -> None:
    client = docker.from_env()
    print(f"--- hub container log (tail)\n{hub.log_tail()}")  # shown when a test failed
    try:
        container = client.containers.get(hub.container_name)
        container.stop(timeout=30)  # SIGTERM: the hub stops its servers and its proxy
        container.remove(force=True)
    except docker.errors.NotFound:
        pass
    # The proxy's pid file holds a pid of the container's namespace: never signal it here.
    (hub.data_dir / "hub" / "proxy.pid").unlink(missing_ok=True)
    stop_hub(hub)  # removes the notebook containers and volumes the test made


@pytest.fixture(scope="module")
def container_hub(
    hub_image: str,
    agency_image: str,
    oidc_provider: OidcProvider,
    hub_ports: dict[str, int],
    notebook_image: BuiltImage,
    odc_db_url: str,
    osmem: OsmemServer,
    moto_s3: MotoS3,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ContainerHub]:
    # The course opens to bob's cohort: the test signs bob in (see there why not alice).
    setup = course_hub_setup(
        oidc_provider, hub_ports, notebook_image, odc_db_url, tmp_path_factory, "cohort-ocean-2025"
    )
    # Results volumes named as compose's hub names them (the agency shares them).
    setup.env.pop("EVEREST_HUB__RESULTS_VOLUME")
    grantee = f"grantee-{setup.tag}"
    remove_results_volumes(OWNER, grantee)
    # The agency beside it, as compose's agency service: same state folder, the hub's API to
    # tell whose a token is, Docker volumes for shares; notebooks are given its address.
    api_port = free_port()
    hub_api = f"http://127.0.0.1:{setup.env['EVEREST_HUB__HUB_PORT']}/hub/api"
    bucket = f"ci-hub-{setup.tag}"
    moto_s3.client().create_bucket(Bucket=bucket)  # type: ignore[attr-defined]
    agency_env = {
        "EVEREST_API__HOST": "127.0.0.1",
        "EVEREST_API__PORT": str(api_port),
        # The whole CI stack: osmem-server in Elasticsearch's place, moto in MinIO's.
        "EVEREST_CATALOGUE__BACKEND": "elasticsearch",
        "EVEREST_CATALOGUE__ELASTICSEARCH_URL": osmem.url,
        "EVEREST_CATALOGUE__ELASTICSEARCH_FLAVOUR": "opensearch",
        "EVEREST_CATALOGUE__ELASTICSEARCH_GEOMETRY_CHECK": "refine",
        "EVEREST_CATALOGUE__INDEX_PREFIX": f"ci{setup.tag}",
        "EVEREST_GATEWAY__STORE": "s3",
        "EVEREST_GATEWAY__S3_ENDPOINT_URL": moto_s3.endpoint_url,
        "EVEREST_GATEWAY__S3_BUCKET": bucket,
        "EVEREST_GATEWAY__S3_REGION": moto_s3.region,
        "EVEREST_GATEWAY__S3_ACCESS_KEY_ID": moto_s3.access_key_id,
        "EVEREST_GATEWAY__S3_SECRET_ACCESS_KEY": moto_s3.secret_access_key,
        "EVEREST_HARVEST__AGENT_ENABLED": "false",
        "EVEREST_SECURITY__ADMIN_TOKEN": secrets.token_urlsafe(24),
        "EVEREST_SECURITY__HUB_API_URL": hub_api,
        "EVEREST_PACKAGES__VOLUMES": "docker",
        "EVEREST_DATACUBE__DB_URL": setup.env["EVEREST_DATACUBE__DB_URL"],
        "EVEREST_DATACUBE__READONLY_PASSWORD": setup.env["EVEREST_DATACUBE__READONLY_PASSWORD"],
    }
    agency, agency_url = start_agency_container(
        agency_image, agency_env, f"everest-ci-agency-{setup.tag}", setup.data_dir
    )
    setup.env["EVEREST_HUB__AGENCY_URL"] = agency_url
    # The operator's path: the CLI on the host ingests the sample catalogue into the agency.
    ingest = subprocess.run(
        ["everest-elearn", "catalogue", "ingest", "--samples", "--url", agency_url,
         "--token", agency_env["EVEREST_SECURITY__ADMIN_TOKEN"]],
        capture_output=True, text=True, check=False,
        env={"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": "/tmp"},
    )  # fmt: skip
    assert ingest.returncode == 0, ingest.stderr[-2000:]
    try:
        running = start_hub_container(hub_image, setup.env, setup.data_dir, setup.tag)
        try:
            yield running
        finally:
            stop_hub_container(running)
    finally:
        print(f"--- agency container log (tail)\n{agency.logs().decode()[-3000:]}")
        agency.remove(force=True)
        remove_results_volumes(OWNER, grantee)
        httpx.delete(f"{osmem.url}/ci{setup.tag}-*", timeout=30)


def sh(hub: Hub, user: str, script: str) -> tuple[int, str]:
    done = hub.container(user).exec_run(["sh", "-c", script])
    return done.exit_code, done.output.decode()


def test_containerised_hub_runs_the_participant_scenario(
    container_hub: ContainerHub,
    oidc_provider: OidcProvider,
    browser_context: BrowserContext,
    tmp_path: Path,
) -> None:
    hub = container_hub
    hub_container = docker.from_env().containers.get(hub.container_name)
    assert hub_container.attrs["HostConfig"]["NetworkMode"] == "host"
    check = health_check("hub", tmp_path)  # compose's, run as the engine runs it
    assert hub_container.exec_run(check).exit_code == 0
    assert hub_container.exec_run(check, environment={"EVEREST_HUB__HUB_PORT": "1"}).exit_code != 0

    bob = oidc_provider.users[OWNER]
    sign_in(browser_context, hub, bob.username, bob.password)
    open_data_folder(browser_context)

    # Spawned by the hub in its container, through the mounted socket, beside it on the host.
    notebook = hub.container("bob")
    assert notebook.attrs["HostConfig"]["NetworkMode"] == "host"
    denied = notebook.exec_run(["touch", f"/home/jovyan/data/{PACKAGE}/x"])
    assert denied.exit_code != 0 and b"Read-only file system" in denied.output

    # Finding data: the catalogue searched from the notebook, through the agency beside the hub.
    status, body = agency_call(hub, OWNER, "GET", "/stac/search?collections=sentinel-1-grd&limit=2")
    assert status == 200 and len(json.loads(body)["features"]) == 2, body

    text = run_notebook(browser_context, hub, "bob")
    assert re.search(r"LOADED \{.*'time': 2", text), text

    # The result survives a restart of the server (its results volume is kept).
    hub.stop_server(OWNER)
    hub.start_server(OWNER, timeout=300)
    code, out = sh(hub, OWNER, "cat ~/results/loaded.txt")
    assert code == 0 and "'time': 2" in out, out

    # A share reaches a second participant read-only; a revoke removes it.
    grantee = f"grantee-{hub.volume_tag}"
    grant = json.dumps({"name": "loaded", "grant": [f"user:{grantee}"]})
    status, body = agency_call(hub, OWNER, "POST", "/packages/shares", grant)
    assert status == 201, body
    share = json.loads(body)
    hub.start_server(grantee)
    code, out = sh(hub, grantee, f"cat ~/shared/{share['name']}/loaded.txt")
    assert code == 0 and "'time': 2" in out, out
    code, out = sh(hub, grantee, f"touch ~/shared/{share['name']}/mine")
    assert code != 0 and "Read-only file system" in out
    hub.stop_server(grantee)
    assert agency_call(hub, OWNER, "DELETE", f"/packages/shares/{share['name']}")[0] == 204
    hub.start_server(grantee)
    code, out = sh(hub, grantee, f"ls ~/shared/{share['name']}")
    assert code != 0 and "No such file or directory" in out
    hub.stop_server(grantee)
    # The hub's settings (a client secret, the crypt key) never reach its log.
    log = hub.log_tail_all()
    assert oidc_provider.client_secret not in log
    assert hub.env["EVEREST_HUB__CRYPT_KEY"] not in log
