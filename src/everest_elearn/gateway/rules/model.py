"""What a parsed rules file holds: sources, rules, policies, cache settings; and its errors."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from everest_elearn.errors import InvalidInput
from everest_elearn.gateway.delivery import Strategy
from everest_elearn.gateway.matching import Match

CREDENTIAL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,127}$")
REDIRECT_HOST = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?$")
# Keys that would put a secret into the rules file; credentials are referenced by name only.
SECRET_KEYS = {"password", "token", "secret", "access_key", "secret_key", "cookie_value", "api_key"}


class AuthKind(StrEnum):
    NONE = "none"
    BASIC = "basic"  # credential value "user:password"
    BEARER = "bearer"  # credential value: the token
    COOKIE = "cookie"  # credential value "name=value"
    S3 = "s3"  # credential value "access_key_id:secret_access_key"


class Eviction(StrEnum):
    LRU = "lru"  # least recently used first
    OLDEST = "oldest"  # first fetched first


@dataclass(frozen=True)
class Problem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class RulesInvalid(InvalidInput):
    """The rules file has problems; each names its line."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.problems = problems
        lines = "; ".join(str(p) for p in problems)
        super().__init__(source, lines)


@dataclass(frozen=True)
class Source:
    """A provider location the gateway may fetch from: every fetched URL starts with ``url``."""

    name: str
    url: str
    auth: AuthKind = AuthKind.NONE
    credential: str | None = None
    endpoint: str | None = None  # S3 endpoint URL (MinIO, moto); None = AWS
    region: str | None = None
    line: int = 0
    # Hosts (``name`` or ``name:port``) an HTTP source may redirect to besides the sources'
    # own locations, e.g. its signed-URL storage; they never get the source's credentials.
    redirect_hosts: tuple[str, ...] = ()

    @property
    def scheme(self) -> str:
        return self.url.split(":", 1)[0].lower()


@dataclass(frozen=True)
class Rule:
    name: str
    match: Match
    strategy: Strategy
    allow: frozenset[Strategy]
    fallback: Strategy | None = None  # used when the object store is unreachable
    retention: timedelta | None = None  # cache only; None = the cache section's default
    line: int = 0


@dataclass(frozen=True)
class Policy:
    """Who (groups, roles, users) gets which products (match), and by which strategy."""

    name: str
    groups: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    authenticated: bool = False
    match: Match = field(default_factory=Match)
    strategy: Strategy | None = None
    deny: bool = False
    line: int = 0


@dataclass(frozen=True)
class CacheConfig:
    retention: timedelta = timedelta(days=7)
    budget: int | None = None  # bytes; None = unlimited
    eviction: Eviction = Eviction.LRU


@dataclass(frozen=True)
class RuleSet:
    sources: tuple[Source, ...] = ()
    rules: tuple[Rule, ...] = ()
    # None: no policies section, everyone may get what the rules cover.
    policies: tuple[Policy, ...] | None = None
    cache: CacheConfig = field(default_factory=CacheConfig)

    def source(self, name: str) -> Source | None:
        return next((s for s in self.sources if s.name == name), None)
