"""The CI variant of the stack, hub side: the hub image (built by ``everest-elearn images build
hub``), run as compose runs it (host network, the Docker socket and hub_config mounted, settings
from the environment) against stand-ins that run here: the ``oidc-provider`` OpenID provider for
Keycloak, PostgreSQL for the ODC index. It passes the hub issue's end-to-end scenario: a
participant signs in with Chromium, the containerised hub spawns their notebook container through
the socket, the course package is there read-only, a notebook cell ``dc.load``s it and writes a
result that survives a restart of the server, a share of the results reaches a second participant
read-only and a revoke removes it."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import docker
import httpx
import pytest
from playwright.sync_api import BrowserContext

from everest_elearn.images import BuiltImage, ImageBuilder
from everest_elearn.packages.backends import open_volumes
from everest_elearn.packages.results import ResultsService, results_volume_name
from everest_elearn.packages.service import PackageService
from everest_elearn.packages.state import PackageState
from everest_elearn.security.identity import Identity
from everest_elearn.settings import Settings
from tests.browser.test_login import sign_in
from tests.browser.test_participant_datacube import (
    PACKAGE,
    course_hub_setup,
    open_data_folder,
    run_notebook,
)
from tests.fixtures.hub import ROOT, Hub, stop_hub
from tests.fixtures.images import images_settings
from tests.fixtures.oidc import OidcProvider

pytestmark = [pytest.mark.browser, pytest.mark.docker, pytest.mark.services]
SOCKET = "/var/run/docker.sock"
T = TypeVar("T")
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
    oidc_provider: OidcProvider,
    hub_ports: dict[str, int],
    notebook_image: BuiltImage,
    odc_db_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ContainerHub]:
    # The course opens to bob's cohort: the test signs bob in (see there why not alice).
    setup = course_hub_setup(
        oidc_provider, hub_ports, notebook_image, odc_db_url, tmp_path_factory, "cohort-ocean-2025"
    )
    # Results volumes named as compose's hub names them (the packages service shares them).
    setup.env.pop("EVEREST_HUB__RESULTS_VOLUME")
    grantee = f"grantee-{setup.tag}"
    remove_results_volumes(OWNER, grantee)
    running = start_hub_container(hub_image, setup.env, setup.data_dir, setup.tag)
    try:
        yield running
    finally:
        stop_hub_container(running)
        remove_results_volumes(OWNER, grantee)


def remove_results_volumes(*users: str) -> None:
    client = docker.from_env()
    for volume in client.volumes.list():
        labels = volume.attrs.get("Labels") or {}
        if volume.name in {results_volume_name(u) for u in users} or labels.get(
            "everest.owner"
        ) in set(users):
            volume.remove(force=True)


def results(hub: Hub) -> tuple[ResultsService, PackageState]:
    """The packages feature's results service on the hub's state folder, as the agency runs it."""
    settings = Settings(data_dir=hub.data_dir)
    state = PackageState(hub.data_dir / "packages.sqlite")
    packages = PackageService(settings, None, None, open_volumes(settings), state)  # type: ignore[arg-type]
    return ResultsService(packages), state


def publish(hub: Hub, owner: str, name: str, grantee: str) -> dict[str, Any]:
    async def run() -> dict[str, Any]:
        service, state = results(hub)
        try:
            return await service.publish(
                Identity(owner), {"name": name, "grant": [f"user:{grantee}"]}
            )
        finally:
            await state.close()

    return in_thread(run())


def revoke(hub: Hub, owner: str, name: str) -> None:
    async def run() -> None:
        service, state = results(hub)
        try:
            await service.revoke(Identity(owner), name)
        finally:
            await state.close()

    in_thread(run())


def in_thread(coroutine: Coroutine[Any, Any, T]) -> T:
    """Playwright's sync API keeps an event loop running in the test's thread: run beside it."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def sh(hub: Hub, user: str, script: str) -> tuple[int, str]:
    done = hub.container(user).exec_run(["sh", "-c", script])
    return done.exit_code, done.output.decode()


def test_containerised_hub_runs_the_participant_scenario(
    container_hub: ContainerHub, oidc_provider: OidcProvider, browser_context: BrowserContext
) -> None:
    hub = container_hub
    hub_container = docker.from_env().containers.get(hub.container_name)
    assert hub_container.attrs["HostConfig"]["NetworkMode"] == "host"

    bob = oidc_provider.users[OWNER]
    sign_in(browser_context, hub, bob.username, bob.password)
    open_data_folder(browser_context)

    # Spawned by the hub in its container, through the mounted socket, beside it on the host.
    notebook = hub.container("bob")
    assert notebook.attrs["HostConfig"]["NetworkMode"] == "host"
    denied = notebook.exec_run(["touch", f"/home/jovyan/data/{PACKAGE}/x"])
    assert denied.exit_code != 0 and b"Read-only file system" in denied.output

    text = run_notebook(browser_context, hub, "bob")
    assert re.search(r"LOADED \{.*'time': 2", text), text

    # The result survives a restart of the server (its results volume is kept).
    hub.stop_server(OWNER)
    hub.start_server(OWNER, timeout=300)
    code, out = sh(hub, OWNER, "cat ~/results/loaded.txt")
    assert code == 0 and "'time': 2" in out, out

    # A share reaches a second participant read-only; a revoke removes it.
    grantee = f"grantee-{hub.volume_tag}"
    share = publish(hub, OWNER, "loaded", grantee)
    hub.start_server(grantee)
    code, out = sh(hub, grantee, f"cat ~/shared/{share['name']}/loaded.txt")
    assert code == 0 and "'time': 2" in out, out
    code, out = sh(hub, grantee, f"touch ~/shared/{share['name']}/mine")
    assert code != 0 and "Read-only file system" in out
    hub.stop_server(grantee)
    revoke(hub, OWNER, share["name"])
    hub.start_server(grantee)
    code, out = sh(hub, grantee, f"ls ~/shared/{share['name']}")
    assert code != 0 and "No such file or directory" in out
    hub.stop_server(grantee)
    # The hub's settings (a client secret, the crypt key) never reach its log.
    log = hub.log_tail_all()
    assert oidc_provider.client_secret not in log
    assert hub.env["EVEREST_HUB__CRYPT_KEY"] not in log
