"""Results are private until shared; a share reaches the grantee read-only; a revoke removes it.

Shares are made by the packages feature's ResultsService; the spawner reads its registry.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Iterator
from typing import Any

import docker
import pytest

from everest_elearn.packages.backends import open_volumes
from everest_elearn.packages.results import ResultsService, results_volume_name
from everest_elearn.packages.service import PackageService
from everest_elearn.packages.state import PackageState
from everest_elearn.security.identity import Identity
from everest_elearn.settings import Settings
from tests.fixtures.hub import Hub, hub_env, start_hub, stop_hub
from tests.fixtures.oidc import OidcProvider

pytestmark = [pytest.mark.docker, pytest.mark.services]


@pytest.fixture(scope="module")
def share_hub(
    oidc_provider: OidcProvider,
    hub_ports: dict[str, int],
    singleuser_image: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Hub, str, str]]:
    """A hub whose results volumes are named like the packages service names them."""
    data_dir = tmp_path_factory.mktemp("sharehub")
    tag = "t" + secrets.token_hex(4)
    owner, grantee = f"sharer-{tag}", f"grantee-{tag}"
    token = secrets.token_hex(24)
    env = hub_env(data_dir, hub_ports, singleuser_image, oidc_provider, tag, token)
    env.pop("EVEREST_HUB__RESULTS_VOLUME")
    env["EVEREST_HUB__CONTAINER_LABELS"] = json.dumps({"everest.test-hub": tag})
    running = start_hub(env, data_dir, tag, token)
    try:
        yield running, owner, grantee
    finally:
        stop_hub(running)
        client = docker.from_env()
        for volume in client.volumes.list():
            labels = volume.attrs.get("Labels") or {}
            if volume.name in {results_volume_name(owner), results_volume_name(grantee)} or (
                labels.get("everest.owner") == owner
            ):
                volume.remove(force=True)


def results_service(hub: Hub) -> tuple[ResultsService, PackageState]:
    settings = Settings(data_dir=hub.data_dir)
    state = PackageState(hub.data_dir / "packages.sqlite")
    packages = PackageService(settings, None, None, open_volumes(settings), state)  # type: ignore[arg-type]
    return ResultsService(packages), state


def sh(hub: Hub, user: str, script: str) -> tuple[int, str]:
    result = hub.container(user).exec_run(["sh", "-c", script])
    return result.exit_code, result.output.decode()


def test_share_reaches_the_grantee_read_only_and_a_revoke_removes_it(
    share_hub: tuple[Hub, str, str],
) -> None:
    hub, owner, grantee = share_hub
    hub.start_server(owner)
    assert sh(hub, owner, "echo 'flood extent' > ~/results/extent.txt")[0] == 0
    hub.start_server(grantee)
    # Private until shared: nothing of the owner's in the grantee's container.
    assert sh(hub, grantee, "ls ~/shared 2>/dev/null | wc -l")[1].strip() == "0"
    hub.stop_server(grantee)

    async def publish() -> dict[str, Any]:
        service, state = results_service(hub)
        try:
            return await service.publish(
                Identity(owner), {"name": "flood", "grant": [f"user:{grantee}"]}
            )
        finally:
            await state.close()

    share = asyncio.run(publish())
    hub.start_server(grantee)
    code, out = sh(hub, grantee, f"cat ~/shared/{share['name']}/extent.txt")
    assert (code, out) == (0, "flood extent\n")
    code, out = sh(hub, grantee, f"touch ~/shared/{share['name']}/mine")
    assert code != 0 and "Read-only file system" in out
    hub.stop_server(grantee)

    async def revoke() -> None:
        service, state = results_service(hub)
        try:
            await service.revoke(Identity(owner), share["name"])
        finally:
            await state.close()

    asyncio.run(revoke())
    hub.start_server(grantee)
    code, out = sh(hub, grantee, f"ls ~/shared/{share['name']}")
    assert code != 0 and "No such file or directory" in out
    mounts = {m.get("Name") for m in hub.container(grantee).attrs["Mounts"]}
    assert share["volume"] not in mounts
    hub.stop_server(grantee)
    hub.stop_server(owner)
