"""Identities and the resolver interface; the hub issue plugs its own resolver in."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from everest_elearn.errors import Forbidden, Unauthorized


class Role(StrEnum):
    ADMIN = "administrator"
    AGENT = "data-agent"
    MANAGER = "course-manager"
    DEVELOPER = "module-developer"
    PARTICIPANT = "participant"


@dataclass(frozen=True)
class Identity:
    """An authenticated caller, or the anonymous one."""

    subject: str | None
    roles: frozenset[Role] = field(default_factory=frozenset)
    groups: frozenset[str] = field(default_factory=frozenset)

    @property
    def anonymous(self) -> bool:
        return self.subject is None

    @property
    def can_write_catalogue(self) -> bool:
        return bool(self.roles & {Role.ADMIN, Role.AGENT})

    def may_see(self, restricted_to: frozenset[str] | list[str] | tuple[str, ...]) -> bool:
        """Open records (no groups) are visible to everyone; restricted ones to members or admins."""
        if not restricted_to or Role.ADMIN in self.roles:
            return True
        return bool(self.groups.intersection(restricted_to))

    def require_catalogue_writer(self) -> None:
        if self.anonymous:
            raise Unauthorized("a bearer token is required to change the catalogue")
        if not self.can_write_catalogue:
            raise Forbidden("only administrators and the data agent may change the catalogue")


ANONYMOUS = Identity(subject=None)


class IdentityResolver(Protocol):
    """Turns a presented bearer token into an identity; returns None when it does not know it."""

    async def resolve(self, token: str) -> Identity | None: ...


class StaticTokenResolver:
    """Recognises the administrator's and the data agent's configured tokens."""

    def __init__(self, admin_token: str | None, agent_token: str | None) -> None:
        self._tokens: list[tuple[str, Identity]] = []
        if admin_token:
            self._tokens.append((admin_token, Identity("admin", frozenset({Role.ADMIN}))))
        if agent_token:
            self._tokens.append((agent_token, Identity("data-agent", frozenset({Role.AGENT}))))

    async def resolve(self, token: str) -> Identity | None:
        for known, identity in self._tokens:
            # Constant-time comparison: tokens are secrets.
            if hmac.compare_digest(known.encode(), token.encode()):
                return identity
        return None


class ChainResolver:
    """Asks each resolver in turn; the first that knows the token wins."""

    def __init__(self, *resolvers: IdentityResolver) -> None:
        self.resolvers = list(resolvers)

    async def resolve(self, token: str) -> Identity | None:
        for resolver in self.resolvers:
            identity = await resolver.resolve(token)
            if identity is not None:
                return identity
        return None


async def identify(resolver: IdentityResolver, authorization: str | None) -> Identity:
    """The identity behind an ``Authorization`` header value; anonymous when there is none."""
    if not authorization:
        return ANONYMOUS
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() not in {"bearer", "token"} or not token.strip():
        raise Unauthorized("the Authorization header must be 'Bearer <token>'")
    identity = await resolver.resolve(token.strip())
    if identity is None:
        raise Unauthorized("the token presented is not valid")
    return identity
