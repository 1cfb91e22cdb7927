"""The agency trusts hub-issued tokens: HubTokenResolver asks a real hub who owns them."""

from __future__ import annotations

import pytest

from everest_elearn.api.app import create_app
from everest_elearn.errors import Unauthorized
from everest_elearn.hub.identity import HubTokenResolver
from everest_elearn.security.identity import Role, identify
from everest_elearn.settings import SecuritySettings, Settings
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


async def test_the_agency_trusts_hub_tokens_when_told_where_the_hub_is(
    hub: Hub, oidc_provider: OidcProvider
) -> None:
    oidc_login(hub, "alice", oidc_provider.users["alice"].password).close()
    token = user_token(hub, "alice", "read:users:name!user", "read:users:groups!user")
    app = create_app(
        Settings(data_dir=hub.data_dir / "agency", security=SecuritySettings(hub_api_url=hub.api))
    )
    identity = await identify(app.state.identity_resolver, f"Bearer {token}")
    assert identity.subject == "alice"
    assert "cohort-forest-2025" in identity.groups
    with pytest.raises(Unauthorized):
        await identify(app.state.identity_resolver, "Bearer forged")
    plain = create_app(Settings(data_dir=hub.data_dir / "agency2"))
    with pytest.raises(Unauthorized):
        await identify(plain.state.identity_resolver, f"Bearer {token}")
