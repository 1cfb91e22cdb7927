"""A share in the browser: one participant shares results from their server, a second sees them
in JupyterLab after signing in through the provider, and a revoke takes them away again."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import docker
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from everest_elearn.packages.results import results_volume_name
from tests.browser.test_login import sign_in
from tests.fixtures import oidc
from tests.fixtures.agency import serve_agency
from tests.fixtures.hub import Hub, hub_env, start_hub, stop_hub
from tests.hub.agency_calls import agency, call

pytestmark = [pytest.mark.browser, pytest.mark.docker, pytest.mark.services]


@dataclass(frozen=True)
class ShareHub:
    hub: Hub
    owner: str
    grantee: str
    password: str


@pytest.fixture(scope="module")
def share_hub(
    singleuser_image: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ShareHub]:
    """Its own provider and users: results volumes are named per user as the agency names them,
    so the users are unique to this hub (never alice or bob, whose volumes other hubs use)."""
    work = tmp_path_factory.mktemp("browser-share")
    tag = "t" + secrets.token_hex(4)
    owner, grantee = f"sharer-{tag}", f"grantee-{tag}"
    ports = {n: oidc.free_port() for n in ("port", "hub_port", "proxy_api_port", "courses_port")}
    users = [oidc.TestUser(owner, ["cohort-a"]), oidc.TestUser(grantee, ["cohort-b"])]
    provider = oidc.start_provider(
        [f"http://127.0.0.1:{ports['port']}/hub/oauth_callback"], users, work / "oidc"
    )
    token = secrets.token_hex(24)
    hub_api = f"http://127.0.0.1:{ports['hub_port']}/hub/api"
    try:
        with serve_agency(work, {"EVEREST_SECURITY__HUB_API_URL": hub_api}) as url:
            env = hub_env(work, ports, singleuser_image, provider, tag, token)
            env.pop("EVEREST_HUB__RESULTS_VOLUME")
            env["EVEREST_HUB__AGENCY_URL"] = url
            env["EVEREST_HUB__CONTAINER_LABELS"] = json.dumps({"everest.test-hub": tag})
            running = start_hub(env, work, tag, token)
            try:
                yield ShareHub(running, owner, grantee, oidc.PASSWORD)
            finally:
                stop_hub(running)
                for volume in docker.from_env().volumes.list():
                    labels = volume.attrs.get("Labels") or {}
                    if volume.name in {
                        results_volume_name(owner),
                        results_volume_name(grantee),
                    } or labels.get("everest.owner") in {owner, grantee}:
                        volume.remove(force=True)
    finally:
        oidc.stop_process(provider.process)


def shared_folder(page: Page, hub: Hub, user: str) -> None:
    """Open ~/shared in the user's JupyterLab and wait until its listing shows."""
    page.goto(f"{hub.url}/user/{user}/lab/tree/shared")
    expect(page.locator(".jp-BreadCrumbs")).to_contain_text("shared", timeout=120_000)
    expect(page.locator(".jp-DirListing-content")).to_be_visible()


def test_a_share_shows_in_the_grantees_jupyterlab_until_it_is_revoked(
    share_hub: ShareHub, browser_context: BrowserContext
) -> None:
    hub, owner, grantee = share_hub.hub, share_hub.owner, share_hub.grantee
    hub.start_server(owner)
    wrote = hub.container(owner).exec_run(
        ["sh", "-c", "echo 'flood extent' > ~/results/extent.txt"]
    )
    assert wrote.exit_code == 0
    status, share = call(
        hub, owner, "POST", agency(hub) + "/packages/shares",
        {"name": "flood", "grant": [f"user:{grantee}"]},
    )  # fmt: skip
    assert status == 201, share

    sign_in(browser_context, hub, grantee, share_hub.password)
    page = browser_context.pages[-1]
    shared_folder(page, hub, grantee)
    item = page.locator(".jp-DirListing-item", has_text=share["name"])
    expect(item).to_be_visible()
    item.dblclick()
    expect(page.locator(".jp-DirListing-item", has_text="extent.txt")).to_be_visible()
    # Read-only, checked in the container.
    denied = hub.container(grantee).exec_run(["touch", f"/home/jovyan/shared/{share['name']}/x"])
    assert denied.exit_code != 0 and b"Read-only file system" in denied.output

    # Revoked while the grantee's server runs with it: withdrawn and emptied at once (the
    # open folder shows nothing after a refresh, no restart), the folder gone at its restart.
    status, _ = call(hub, owner, "DELETE", agency(hub) + f"/packages/shares/{share['name']}")
    assert status == 204
    assert call(hub, grantee, "GET", agency(hub) + "/packages/shares") == (200, [])
    page.goto(f"{hub.url}/user/{grantee}/lab/tree/shared/{share['name']}")
    expect(page.locator(".jp-BreadCrumbs")).to_contain_text(share["name"], timeout=120_000)
    expect(page.locator(".jp-DirListing-content")).to_be_visible()
    expect(page.locator(".jp-DirListing-item", has_text="extent.txt")).to_have_count(0)
    empty = hub.container(grantee).exec_run(["ls", "-A", f"/home/jovyan/shared/{share['name']}"])
    assert (empty.exit_code, empty.output) == (0, b"")
    kept = hub.container(owner).exec_run(["cat", "/home/jovyan/results/extent.txt"])
    assert (kept.exit_code, kept.output) == (0, b"flood extent\n")
    hub.stop_server(grantee)
    hub.start_server(grantee)
    shared_folder(page, hub, grantee)
    expect(page.locator(".jp-DirListing-item", has_text=share["name"])).to_have_count(0)
    gone = hub.container(grantee).exec_run(["ls", f"/home/jovyan/shared/{share['name']}"])
    assert gone.exit_code != 0
    assert re.search(rb"No such file or directory", gone.output)
    # No server mounts it any more: the next look at the shares removes its volume.
    assert call(hub, owner, "GET", agency(hub) + "/packages/shares") == (200, [])
    with pytest.raises(docker.errors.NotFound):
        docker.from_env().volumes.get(share["volume"])
    hub.stop_server(grantee)
    hub.stop_server(owner)
