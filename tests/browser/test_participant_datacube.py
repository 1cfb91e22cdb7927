"""The participant's whole path in the real notebook image: sign in, find the course package
read-only in JupyterLab, run a notebook cell that ``dc.load``s it, keep a result across a restart."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import pytest
from playwright.sync_api import BrowserContext, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from pydantic import SecretStr

from everest_elearn.courses.backends.sqlite import SqliteCourseStore
from everest_elearn.courses.model import Course, PackageRef
from everest_elearn.courses.service import CourseService
from everest_elearn.images import BuiltImage
from everest_elearn.packages.datacube import DatacubeIndex
from everest_elearn.samples import generate
from tests.browser.test_login import sign_in
from tests.fixtures.hub import Hub, hub_env, start_hub, stop_hub
from tests.fixtures.oidc import OidcProvider

pytestmark = [pytest.mark.browser, pytest.mark.docker, pytest.mark.services]
PACKAGE = "e2e"  # the package name is the folder under ~/data that the ODC locations point at

CELL = (
    "import datacube, os; dc = datacube.Datacube(app='course'); "
    "x0, y0 = 700000 + 20 * 40, 8172000 - 20 * 40; "
    "ds = dc.load(product='synthetic_s1_grd', x=(x0, x0 + 2000), y=(y0 - 2000, y0), crs='EPSG:32736', "
    "time=('2019-03-01', '2019-03-31'), output_crs='EPSG:32736', resolution=20, measurements=['vv']); "
    "open(os.path.expanduser('~/results/loaded.txt'), 'w').write(str(dict(ds.sizes))); "
    "print('LOADED', dict(ds.sizes))"
)


def notebook_json() -> str:
    return json.dumps(
        {
            "cells": [{"cell_type": "code", "metadata": {}, "source": CELL, "outputs": [],
                       "execution_count": None}],
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                        "language": "python"}},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    )  # fmt: skip


async def index_package(odc_db_url: str, package_dir: Path) -> SecretStr:
    index = DatacubeIndex(odc_db_url)
    try:
        for item in generate(package_dir):
            await index.ensure_product(item.collection)
            await index.index_record(
                item.collection, item.record, item.files,
                package=PACKAGE, package_dir=package_dir, mount_root="/home/jovyan/data",
            )  # fmt: skip
        password = SecretStr(secrets.token_urlsafe(18))
        await index.ensure_readonly_role("everest_reader", password)
        return password
    finally:
        await index.close()


@dataclass(frozen=True)
class CourseHubSetup:
    """What a hub serving the course package needs: its settings, state folder, tag and token."""

    env: dict[str, str]
    data_dir: Path
    tag: str
    token: str


def course_hub_setup(
    oidc_provider: OidcProvider,
    hub_ports: dict[str, int],
    notebook_image: BuiltImage,
    odc_db_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    group: str,
) -> CourseHubSetup:
    """Index the package in the ODC database, fill its package volume, open the course "forest"
    to the provider's ``group`` and make the hub's settings, with the ODC read-only login."""
    data_dir = tmp_path_factory.mktemp("dchub")
    tag = "t" + secrets.token_hex(4)
    package_dir = tmp_path_factory.mktemp("package") / PACKAGE
    password = asyncio.run(index_package(odc_db_url, package_dir))
    client = docker.from_env()
    volume = f"everest-pkg-{PACKAGE}-{tag}"
    client.volumes.create(volume, labels={"everest.kind": "package"})
    client.containers.run(
        notebook_image.tag, ["cp", "-a", "/src/.", "/dst/"], user="0", network_mode="none",
        remove=True,
        volumes={str(package_dir): {"bind": "/src", "mode": "ro"}, volume: {"bind": "/dst", "mode": "rw"}},
    )  # fmt: skip
    service = CourseService(SqliteCourseStore(data_dir / "courses.sqlite"))
    asyncio.run(
        service.create(
            Course("forest", "Forests", packages=(PackageRef(PACKAGE, tag),), idp_groups=(group,))
        )
    )
    token = secrets.token_hex(24)
    env = hub_env(data_dir, hub_ports, notebook_image.tag, oidc_provider, tag, token)
    env["EVEREST_HUB__CONTAINER_LABELS"] = json.dumps({"everest.test-hub": tag})
    env["EVEREST_HUB__MEM_LIMIT"] = "3G"
    env["EVEREST_DATACUBE__DB_URL"] = odc_db_url
    env["EVEREST_DATACUBE__READONLY_PASSWORD"] = password.get_secret_value()
    return CourseHubSetup(env, data_dir, tag, token)


@pytest.fixture(scope="module")
def datacube_hub(
    oidc_provider: OidcProvider,
    hub_ports: dict[str, int],
    notebook_image: BuiltImage,
    odc_db_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Hub]:
    setup = course_hub_setup(
        oidc_provider, hub_ports, notebook_image, odc_db_url, tmp_path_factory, "cohort-forest-2025"
    )
    running = start_hub(setup.env, setup.data_dir, setup.tag, setup.token)
    try:
        yield running
    finally:
        stop_hub(running)


def open_data_folder(context: BrowserContext) -> None:
    """The course package is in the file browser, under data/."""
    page = context.pages[-1]
    page.locator(".jp-DirListing-item", has_text="data").first.dblclick()
    expect(page.locator(".jp-DirListing-item", has_text=PACKAGE)).to_be_visible()


def run_notebook(context: BrowserContext, hub: Hub, user: str) -> Any:
    """Write the notebook whose cell ``dc.load``s the package into the user's results/, run it
    in JupyterLab and return the cell's output."""
    hub.container(user).exec_run(
        ["python3", "-c",
         f"open('/home/jovyan/results/check.ipynb','w').write({notebook_json()!r})"]
    )  # fmt: skip
    page = context.pages[-1]
    page.goto(f"{hub.url}/user/{user}/lab/tree/results/check.ipynb")
    cell = page.locator(".jp-Cell").first
    expect(cell).to_be_visible(timeout=120_000)
    # JupyterLab may ask which kernel to use for a notebook it has not opened before.
    with contextlib.suppress(PlaywrightTimeout):
        page.get_by_role("button", name="Select Kernel").click(timeout=20_000)
    expect(page.get_by_text("Python 3 (ipykernel) | Idle")).to_be_visible(timeout=120_000)
    cell.click()
    page.keyboard.press("Shift+Enter")
    output = page.locator(".jp-OutputArea-output").filter(has_text="LOADED")
    expect(output).to_be_visible(timeout=180_000)
    return output.inner_text()


def test_participant_loads_course_data_in_a_notebook(
    datacube_hub: Hub, oidc_provider: OidcProvider, browser_context: BrowserContext
) -> None:
    hub = datacube_hub
    alice = oidc_provider.users["alice"]
    sign_in(browser_context, hub, alice.username, alice.password)
    open_data_folder(browser_context)

    container = hub.container("alice")
    denied = container.exec_run(["touch", f"/home/jovyan/data/{PACKAGE}/x"])
    assert denied.exit_code != 0 and b"Read-only file system" in denied.output
    env = dict(e.split("=", 1) for e in container.attrs["Config"]["Env"])
    assert env["ODC_DEFAULT_DB_URL"].startswith("postgresql+psycopg2://everest_reader:")

    text = run_notebook(browser_context, hub, "alice")
    assert re.search(r"LOADED \{.*'time': 2", text), text

    # The result survives a restart of the server.
    hub.stop_server("alice")
    hub.start_server("alice", timeout=300)
    kept = hub.container("alice").exec_run(["cat", "/home/jovyan/results/loaded.txt"])
    assert kept.exit_code == 0 and b"'time': 2" in kept.output


def test_a_participant_of_another_course_never_gets_the_package(
    datacube_hub: Hub, oidc_provider: OidcProvider, browser_context: BrowserContext
) -> None:
    """bob (the ocean cohort) signs in like alice; the forest package is nowhere in his server."""
    hub = datacube_hub
    bob = oidc_provider.users["bob"]
    sign_in(browser_context, hub, bob.username, bob.password)
    page = browser_context.pages[-1]
    expect(page.locator(".jp-DirListing-item", has_text="results")).to_be_visible()
    expect(page.locator(".jp-DirListing-item", has_text=PACKAGE)).to_have_count(0)

    container = hub.container("bob")
    listing = container.exec_run(["sh", "-c", "ls -A /home/jovyan/data 2>/dev/null; true"])
    assert PACKAGE not in listing.output.decode().split()
    mounted = {m.get("Name") for m in container.attrs["Mounts"]}
    assert not any(name and name.startswith(f"everest-pkg-{PACKAGE}-") for name in mounted)
    # None of the package's rasters anywhere in bob's container; alice's has them.
    assert count_rasters(container) == 0
    hub.start_server("alice")
    assert count_rasters(hub.container("alice")) > 0
    hub.stop_server("bob")


def count_rasters(container: Any) -> int:
    """The package's VV rasters found in all of the container's mounts (not /proc, /sys)."""
    script = "find / \\( -path /proc -o -path /sys \\) -prune -o -name '*_vv.tif' -print 2>/dev/null | wc -l"
    return int(container.exec_run(["sh", "-c", script]).output.decode().strip())
