"""Resolve hub-issued tokens for the Data Agency through the hub API (``/hub/api/user``)."""

from __future__ import annotations

import hashlib
import time

import httpx

from everest_elearn.errors import BackendUnavailable
from everest_elearn.security.identity import Identity, Role

ROLE_GROUP_PREFIX = "role-"
CACHE_SECONDS = 60.0


class HubTokenResolver:
    """An IdentityResolver: asks the hub who owns a token; groups become roles and courses.

    The agency thereby trusts identities the hub issued (after the provider's login) only.
    Answers are cached for a minute under the token's hash, never the token itself.
    """

    def __init__(self, hub_api_url: str, client: httpx.AsyncClient | None = None) -> None:
        self.url = hub_api_url.rstrip("/") + "/user"
        self._client = client
        self._cache: dict[str, tuple[float, Identity | None]] = {}

    async def resolve(self, token: str) -> Identity | None:
        key = hashlib.sha256(token.encode()).hexdigest()
        hit = self._cache.get(key)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=10)  # made on first use: no work at start
        try:
            response = await self._client.get(self.url, headers={"Authorization": f"token {token}"})
        except httpx.HTTPError:
            raise BackendUnavailable("the hub (identity)") from None
        identity = identity_from_model(response.json()) if response.status_code == 200 else None
        if response.status_code >= 500:
            raise BackendUnavailable("the hub (identity)")
        self._cache[key] = (time.monotonic() + CACHE_SECONDS, identity)
        return identity

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()


def identity_from_model(model: dict[str, object]) -> Identity | None:
    """A hub user model to an identity; services and odd answers are not identities."""
    if model.get("kind", "user") != "user" or not isinstance(model.get("name"), str):
        return None
    raw_groups = model.get("groups") or []
    groups = {str(g) for g in raw_groups} if isinstance(raw_groups, list) else set()
    roles = {Role.PARTICIPANT}
    for group in groups:
        if group.startswith(ROLE_GROUP_PREFIX):
            try:
                roles.add(Role(group[len(ROLE_GROUP_PREFIX) :]))
            except ValueError:
                continue
    if model.get("admin"):
        roles.add(Role.ADMIN)
    course_groups = {g for g in groups if not g.startswith(ROLE_GROUP_PREFIX)}
    return Identity(str(model["name"]), frozenset(roles), frozenset(course_groups))
