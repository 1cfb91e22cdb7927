"""The Keycloak realm export agrees with the hub's settings in docker-compose.yml."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.deploy.compose import ROOT, filled_env, rendered

REALM = ROOT / "deploy" / "keycloak" / "everest-realm.json"
PLATFORM_ROLES = {"administrator", "course-manager", "module-developer", "participant"}


@pytest.fixture(scope="module")
def realm() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(REALM.read_text())
    return loaded


@pytest.fixture(scope="module")
def hub_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("realm")
    config = rendered(tmp, filled_env(tmp))
    env: dict[str, str] = config["services"]["hub"]["environment"]
    return env


def test_realm_roles_are_the_platform_roles(realm: dict[str, Any]) -> None:
    assert {r["name"] for r in realm["roles"]["realm"]} == PLATFORM_ROLES


def test_groups_map_to_the_same_roles_as_the_hub(
    realm: dict[str, Any], hub_env: dict[str, str]
) -> None:
    group_roles = json.loads(hub_env["EVEREST_HUB__GROUP_ROLES"])
    realm_groups = {g["name"]: g["realmRoles"] for g in realm["groups"]}
    assert set(realm_groups) == set(group_roles)
    for group, role in group_roles.items():
        assert realm_groups[group] == [role]
    assert realm["defaultGroups"] == ["/everest-participants"]


def test_hub_client_matches_hub_settings(realm: dict[str, Any], hub_env: dict[str, str]) -> None:
    (client,) = [
        c for c in realm["clients"] if c["clientId"] == hub_env["EVEREST_HUB__OIDC_CLIENT_ID"]
    ]
    assert client["publicClient"] is False
    assert client["secret"] == "${EVEREST_HUB_CLIENT_SECRET}"  # resolved by Keycloak at import
    assert client["redirectUris"] == ["${EVEREST_PUBLIC_URL}/hub/oauth_callback"]
    assert client["attributes"]["pkce.code.challenge.method"] == "S256"
    assert "groups" in client["defaultClientScopes"]
    assert hub_env["EVEREST_HUB__OIDC_ISSUER"].endswith(f"/realms/{realm['realm']}")


def test_groups_claim_is_flat_names(realm: dict[str, Any]) -> None:
    (scope,) = [s for s in realm["clientScopes"] if s["name"] == "groups"]
    (mapper,) = scope["protocolMappers"]
    assert mapper["protocolMapper"] == "oidc-group-membership-mapper"
    # The hub matches group names ("everest-admins"), not paths ("/everest-admins").
    assert mapper["config"]["full.path"] == "false"
    assert mapper["config"]["claim.name"] == "groups"
    assert mapper["config"]["userinfo.token.claim"] == "true"


def test_no_secret_in_the_export(realm: dict[str, Any]) -> None:
    text = REALM.read_text()
    for client in realm["clients"]:
        assert client["secret"].startswith("${")
    assert '"credentials"' not in text  # no users with passwords: they come from your directory
