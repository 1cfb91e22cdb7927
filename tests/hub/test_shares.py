"""Results are private until shared; a share reaches the grantee read-only; a revoke removes it.

The participants share and revoke from inside their own containers, calling the Data Agency
with the server's token (JUPYTERHUB_API_TOKEN): the agency asks the hub who owns it.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator

import docker
import pytest

from everest_elearn.packages.results import results_volume_name
from tests.fixtures.agency import serve_agency
from tests.fixtures.hub import Hub, hub_env, oidc_login, start_hub, stop_hub
from tests.fixtures.oidc import GROUP_ROLES, OidcProvider
from tests.hub.agency_calls import agency, call

pytestmark = [pytest.mark.docker, pytest.mark.services]


@pytest.fixture(scope="module")
def share_hub(
    oidc_provider: OidcProvider,
    hub_ports: dict[str, int],
    singleuser_image: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Hub, str, str]]:
    """A hub and the agency on one data folder; results volumes named as the agency names them."""
    data_dir = tmp_path_factory.mktemp("sharehub")
    tag = "t" + secrets.token_hex(4)
    owner, grantee = f"sharer-{tag}", f"grantee-{tag}"
    token = secrets.token_hex(24)
    hub_api = f"http://127.0.0.1:{hub_ports['hub_port']}/hub/api"
    trusted = {
        "EVEREST_SECURITY__HUB_API_URL": hub_api,
        # The provider's tokens too (oidc-provider's userinfo endpoint), mapped as the hub does.
        "EVEREST_SECURITY__PROVIDER_USERINFO_URL": oidc_provider.issuer + "/me",
        "EVEREST_HUB__GROUP_ROLES": json.dumps(GROUP_ROLES),
    }
    with serve_agency(data_dir, trusted) as agency:
        env = hub_env(data_dir, hub_ports, singleuser_image, oidc_provider, tag, token)
        env.pop("EVEREST_HUB__RESULTS_VOLUME")
        env["EVEREST_HUB__AGENCY_URL"] = agency
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


def sh(hub: Hub, user: str, script: str) -> tuple[int, str]:
    result = hub.container(user).exec_run(["sh", "-c", script])
    return result.exit_code, result.output.decode()


def test_the_server_token_carries_only_the_users_name_and_groups(
    share_hub: tuple[Hub, str, str],
) -> None:
    hub, owner, _ = share_hub
    hub.start_server(owner)
    status, model = call(hub, owner, "GET", hub.api + "/user")
    assert status == 200 and model["name"] == owner
    # Each scope is limited to this user (or this server); nothing else, no admin, no inherit.
    # (users:activity implies read:users:activity.)
    assert {s.split("!")[0] for s in model["scopes"]} == {
        "access:servers",
        "read:users:activity",
        "read:users:groups",
        "read:users:name",
        "users:activity",
    }
    assert all(s.endswith((f"!user={owner}", f"!server={owner}/")) for s in model["scopes"])
    # It cannot act for anybody else on the hub.
    assert call(hub, owner, "GET", hub.api + "/users")[0] == 403
    hub.stop_server(owner)


def test_share_reaches_the_grantee_read_only_and_a_revoke_removes_it(
    share_hub: tuple[Hub, str, str],
) -> None:
    hub, owner, grantee = share_hub
    hub.start_server(owner)
    assert sh(hub, owner, "echo 'flood extent' > ~/results/extent.txt")[0] == 0
    hub.start_server(grantee)
    # Private until shared: nothing of the owner's in the grantee's container or listing.
    assert sh(hub, grantee, "ls ~/shared 2>/dev/null | wc -l")[1].strip() == "0"
    assert call(hub, grantee, "GET", agency(hub) + "/packages/shares") == (200, [])
    hub.stop_server(grantee)

    # The owner shares from their own server, as themselves.
    status, share = call(
        hub, owner, "POST", agency(hub) + "/packages/shares",
        {"name": "flood", "grant": [f"user:{grantee}"]},
    )  # fmt: skip
    assert status == 201, share
    assert share["grant"] == [f"user:{grantee}"]
    hub.start_server(grantee)
    code, out = sh(hub, grantee, f"cat ~/shared/{share['name']}/extent.txt")
    assert (code, out) == (0, "flood extent\n")
    code, out = sh(hub, grantee, f"touch ~/shared/{share['name']}/mine")
    assert code != 0 and "Read-only file system" in out
    # Only its owner can revoke it.
    status, _ = call(hub, grantee, "DELETE", agency(hub) + f"/packages/shares/{share['name']}")
    assert status == 403

    # Revoked while the grantee's server runs with it: the folder is empty there at once.
    status, _ = call(hub, owner, "DELETE", agency(hub) + f"/packages/shares/{share['name']}")
    assert status == 204
    assert sh(hub, grantee, f"ls -A ~/shared/{share['name']}") == (0, "")
    assert sh(hub, grantee, f"cat ~/shared/{share['name']}/extent.txt")[0] != 0
    # The owner's results are untouched: only the platform's copy was emptied.
    assert sh(hub, owner, "cat ~/results/extent.txt") == (0, "flood extent\n")
    # At the grantee's next start the folder is gone.
    hub.stop_server(grantee)
    hub.start_server(grantee)
    code, out = sh(hub, grantee, f"ls ~/shared/{share['name']}")
    assert code != 0 and "No such file or directory" in out
    mounts = {m.get("Name") for m in hub.container(grantee).attrs["Mounts"]}
    assert share["volume"] not in mounts
    hub.stop_server(grantee)
    hub.stop_server(owner)


def test_the_providers_token_from_auth_state_calls_the_agency_as_the_user(
    share_hub: tuple[Hub, str, str], oidc_provider: OidcProvider
) -> None:
    """alice signs in through the provider; her server gets the access token kept in her
    (encrypted) auth_state, and the agency, asking the provider, knows her by it."""
    hub, _, grantee = share_hub
    oidc_login(hub, "alice", oidc_provider.users["alice"].password).close()
    hub.start_server("alice")
    try:
        url = agency(hub) + "/packages/shares"
        status, share = call(
            hub, "alice", "POST", url, {"name": "by-token", "grant": [f"user:{grantee}"]},
            token="EVEREST_PROVIDER_TOKEN",
        )  # fmt: skip
        assert status == 201, share
        # The share is alice's: named after her, and listed as hers.
        assert share["name"].startswith("share-alice-")
        status, mine = call(hub, "alice", "GET", url, token="EVEREST_PROVIDER_TOKEN")
        assert status == 200 and [(s["name"], s["owner"]) for s in mine] == [
            (share["name"], "alice")
        ]
        # A token neither the provider nor the hub knows (the container's host name) is refused.
        assert call(hub, "alice", "GET", url, token="HOSTNAME")[0] == 401
        status, _ = call(
            hub, "alice", "DELETE", f"{url}/{share['name']}", token="EVEREST_PROVIDER_TOKEN"
        )
        assert status == 204
    finally:
        hub.stop_server("alice")
        for volume in docker.from_env().volumes.list():
            if volume.name == results_volume_name("alice"):
                volume.remove(force=True)
