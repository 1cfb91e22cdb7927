"""Matching products to rules and callers to policies (pure): the gateway's decision."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from datetime import datetime, timedelta
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from everest_elearn.errors import Forbidden
from everest_elearn.gateway.delivery import Strategy
from everest_elearn.security.identity import Identity

if TYPE_CHECKING:
    from everest_elearn.catalogue.model import Link, Record
    from everest_elearn.gateway.rules import Policy, Rule, RuleSet, Source


def _any(patterns: tuple[str, ...], value: str | None) -> bool:
    """Empty patterns match anything; otherwise a case-insensitive glob must match the value."""
    if not patterns:
        return True
    if value is None:
        return False
    lowered = value.lower()
    return any(fnmatchcase(lowered, p.lower()) for p in patterns)


@dataclass(frozen=True)
class ProductFacts:
    """What rules look at: one data file of one product, located at one source."""

    collection: str
    provider: str  # the name of the source the file comes from
    product_type: str | None
    platform: str | None
    size: int | None
    age: timedelta | None
    host: str

    @classmethod
    def of(cls, product: Record, link: Link, source: Source, now: datetime) -> ProductFacts:
        props = product.properties
        stamp = product.start or product.end
        return cls(
            collection=product.parent_identifier or "",
            provider=source.name,
            product_type=_text(props.get("productType")),
            platform=_text(props.get("platform") or props.get("platformShortName")),
            size=link.length,
            age=(now - stamp) if stamp else None,
            host=(urlsplit(link.href).hostname or "").lower(),
        )


def _text(value: object) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class Match:
    """A conjunction of conditions; an empty condition matches everything."""

    collections: tuple[str, ...] = ()
    providers: tuple[str, ...] = ()
    product_types: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()
    min_size: int | None = None
    max_size: int | None = None
    min_age: timedelta | None = None
    max_age: timedelta | None = None

    def matches(self, facts: ProductFacts) -> bool:
        if not (
            _any(self.collections, facts.collection)
            and _any(self.providers, facts.provider)
            and _any(self.product_types, facts.product_type)
            and _any(self.platforms, facts.platform)
            and _any(self.hosts, facts.host)
        ):
            return False
        if self.min_size is not None or self.max_size is not None:
            if facts.size is None:
                return False
            if self.min_size is not None and facts.size < self.min_size:
                return False
            if self.max_size is not None and facts.size > self.max_size:
                return False
        if self.min_age is not None or self.max_age is not None:
            if facts.age is None:
                return False
            if self.min_age is not None and facts.age < self.min_age:
                return False
            if self.max_age is not None and facts.age > self.max_age:
                return False
        return True


def applies_to(policy: Policy, identity: Identity) -> bool:
    """A policy without groups, roles or users applies to everyone (subject to ``authenticated``)."""
    if policy.authenticated and identity.anonymous:
        return False
    if not (policy.groups or policy.roles or policy.users):
        return True
    if policy.groups and any(_any(policy.groups, g) for g in identity.groups):
        return True
    if policy.roles and any(_any(policy.roles, str(r)) for r in identity.roles):
        return True
    return bool(policy.users and identity.subject and _any(policy.users, identity.subject))


@dataclass(frozen=True)
class Decision:
    rule: Rule
    policy: Policy | None
    strategy: Strategy
    # The policy's strategy when the rule does not allow it and its own strategy applies
    # instead; the service logs and counts it, so a policy never silently goes unheeded.
    overridden: Strategy | None = None


def decide(ruleset: RuleSet, facts: ProductFacts, identity: Identity) -> Decision:
    """The first matching rule, the first policy for this caller and product, and the strategy."""
    rule = next((r for r in ruleset.rules if r.match.matches(facts)), None)
    if rule is None:
        raise Forbidden("no gateway rule covers this product")
    if ruleset.policies is None:
        return Decision(rule, None, rule.strategy)
    for policy in ruleset.policies:
        if applies_to(policy, identity) and policy.match.matches(facts):
            if policy.deny:
                raise Forbidden(f"access policy '{policy.name}' denies this product")
            wanted = policy.strategy
            # A policy may pick among what the rule (the provider's terms) allows, never beyond.
            if wanted is None or wanted in rule.allow:
                return Decision(rule, policy, wanted or rule.strategy)
            return Decision(rule, policy, rule.strategy, overridden=wanted)
    raise Forbidden("no access policy grants this product to this caller")


def locate(href: str, sources: tuple[Source, ...]) -> Source | None:
    """The declared source whose location prefix contains ``href``; None = not allowed to fetch."""
    parts = urlsplit(href)
    if parts.query or parts.fragment or parts.username or parts.password:
        return None
    path = unquote(parts.path)
    # Reject anything that could climb out of a source prefix after normalisation.
    if "\\" in path or "\x00" in path or any(seg in (".", "..") for seg in path.split("/")):
        return None
    if posixpath.normpath(path) != path.rstrip("/") and path not in ("", "/"):
        return None
    for source in sources:
        base = urlsplit(source.url)
        if base.scheme.lower() != parts.scheme.lower():
            continue
        if (base.netloc or "").lower() != (parts.netloc or "").lower():
            continue
        prefix = unquote(base.path)
        if prefix.endswith("/"):
            if path.startswith(prefix) and len(path) > len(prefix):
                return source
        elif path == prefix or path.startswith(prefix + "/"):
            return source
    return None
