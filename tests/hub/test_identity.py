"""The agency trusts hub-issued tokens: HubTokenResolver asks a real hub who owns them."""

from __future__ import annotations

import pytest

from everest_elearn.hub.identity import HubTokenResolver
from everest_elearn.security.identity import Role
from tests.fixtures.hub import Hub, oidc_login, user_token
from tests.fixtures.oidc import OidcProvider

pytestmark = [pytest.mark.docker, pytest.mark.services]


async def test_hub_tokens_resolve_to_identities_with_roles(
    hub: Hub, oidc_provider: OidcProvider
) -> None:
    oidc_login(hub, "carol", oidc_provider.users["carol"].password).close()
    token = user_token(hub, "carol", "read:users:name!user", "read:users:groups!user")
    resolver = HubTokenResolver(hub.api)
    try:
        identity = await resolver.resolve(token)
        assert identity is not None
        assert identity.subject == "carol"
        assert Role.MANAGER in identity.roles
        assert "everest-managers" in identity.groups
        assert await resolver.resolve("not-a-token") is None
    finally:
        await resolver.aclose()
