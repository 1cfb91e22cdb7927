"""Resolve the identity provider's access tokens by asking its userinfo endpoint.

The hub keeps each user's provider tokens in ``auth_state`` (encrypted) and hands the access
token to the user's server; the agency trusts it because the provider itself answers for it.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping

import httpx

from everest_elearn.errors import BackendUnavailable
from everest_elearn.security.identity import Identity, Role

CACHE_SECONDS = 60.0


class ProviderTokenResolver:
    """An IdentityResolver for provider access tokens: userinfo's claims become the identity.

    The username and groups claims are those the hub logs users in with; provider groups map to
    roles as the hub maps them. Answers are cached a minute under the token's hash only.
    """

    def __init__(
        self,
        userinfo_url: str,
        username_claim: str,
        groups_claim: str,
        group_roles: Mapping[str, str],
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.url = userinfo_url
        self.username_claim = username_claim
        self.groups_claim = groups_claim
        self.group_roles = dict(group_roles)
        self._client = client
        self._cache: dict[str, tuple[float, Identity | None]] = {}

    async def resolve(self, token: str) -> Identity | None:
        key = hashlib.sha256(token.encode()).hexdigest()
        hit = self._cache.get(key)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=10)
        try:
            response = await self._client.get(
                self.url, headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.HTTPError:
            raise BackendUnavailable("the identity provider") from None
        if response.status_code >= 500:
            raise BackendUnavailable("the identity provider")
        identity = self.identity(response.json()) if response.status_code == 200 else None
        self._cache[key] = (time.monotonic() + CACHE_SECONDS, identity)
        return identity

    def identity(self, claims: dict[str, object]) -> Identity | None:
        name = claims.get(self.username_claim)
        if not isinstance(name, str) or not name:
            return None
        raw = claims.get(self.groups_claim) or []
        groups = {str(g).lstrip("/") for g in raw} if isinstance(raw, list) else set()
        roles = {Role.PARTICIPANT}
        for group in groups:
            try:
                roles.add(Role(self.group_roles[group]))
            except (KeyError, ValueError):
                continue
        return Identity(name, frozenset(roles), frozenset(groups))

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
