"""The rules file: parsing with line-numbered errors, and matching products to rules (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any

from everest_elearn.errors import InvalidInput
from everest_elearn.gateway import yamlines
from everest_elearn.gateway.delivery import Strategy
from everest_elearn.gateway.matching import Match, ProductFacts
from everest_elearn.gateway.yamlines import LineDict, LineList

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


def parse(text: str, source: str = "rules") -> RuleSet:
    """Parse and validate a rules file; raises ``RulesInvalid`` listing every problem by line."""
    try:
        data = yamlines.load(text)
    except yamlines.YamlSyntaxError as exc:
        raise RulesInvalid(source, [Problem(exc.line, f"not valid YAML: {exc.message}")]) from None
    parser = _Parser()
    ruleset = parser.document(data)
    if parser.problems:
        raise RulesInvalid(source, sorted(parser.problems, key=lambda p: p.line))
    return ruleset


# --- values ---------------------------------------------------------------------------------

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B|B)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}
_SIZE_UNITS |= {"KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])?\s*$", re.IGNORECASE)
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_size(value: Any) -> int:
    """``1024``, ``"500 MB"``, ``"2GiB"`` -> bytes."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    m = _SIZE.match(str(value)) if isinstance(value, str | float) else None
    if not m:
        raise ValueError(f"{value!r} is not a size (e.g. 500 MB, 2 GiB, or bytes)")
    return int(float(m.group(1)) * _SIZE_UNITS[(m.group(2) or "B").upper()])


def parse_retention(value: Any) -> timedelta:
    """A retention: a duration above zero (0 would evict what was just fetched)."""
    duration = parse_duration(value)
    if duration <= timedelta(0):
        raise ValueError(f"{value!r} must be longer than zero")
    return duration


def parse_duration(value: Any) -> timedelta:
    """``3600``, ``"12h"``, ``"7d"`` -> timedelta."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return timedelta(seconds=value)
    m = _DURATION.match(value) if isinstance(value, str) else None
    if not m:
        raise ValueError(f"{value!r} is not a duration (e.g. 90s, 30m, 12h, 7d, 2w)")
    return timedelta(seconds=float(m.group(1)) * _DURATION_UNITS[(m.group(2) or "s").lower()])


# --- the parser -----------------------------------------------------------------------------


class _Parser:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def fail(self, line: int, message: str) -> None:
        self.problems.append(Problem(line, message))

    def keys(self, node: LineDict, allowed: set[str], what: str) -> None:
        for key in node:
            if key in allowed:
                continue
            if key.lower() in SECRET_KEYS:
                self.fail(
                    node.line_of(key),
                    f"{what}: '{key}' would put a secret in the rules; name it instead "
                    "with 'credential: NAME' (an environment variable or a secret file)",
                )
            else:
                self.fail(
                    node.line_of(key),
                    f"{what}: unknown key '{key}' (expected one of {', '.join(sorted(allowed))})",
                )

    def mapping(self, value: Any, line: int, what: str) -> LineDict | None:
        if isinstance(value, LineDict):
            return value
        self.fail(line, f"{what} must be a mapping")
        return None

    def sequence(self, value: Any, line: int, what: str) -> LineList | None:
        if isinstance(value, LineList):
            return value
        self.fail(line, f"{what} must be a list")
        return None

    def text(self, node: LineDict, key: str, what: str, required: bool = False) -> str | None:
        if key not in node or node[key] is None:
            if required:
                self.fail(node.line, f"{what}: '{key}' is required")
            return None
        value = node[key]
        if not isinstance(value, str | int | float) or isinstance(value, bool) or value == "":
            self.fail(node.line_of(key), f"{what}: '{key}' must be a non-empty text")
            return None
        return str(value)

    def strategy(self, node: LineDict, key: str, what: str) -> Strategy | None:
        raw = self.text(node, key, what)
        if raw is None:
            return None
        try:
            return Strategy(raw.lower())
        except ValueError:
            choices = ", ".join(s.value for s in Strategy)
            self.fail(node.line_of(key), f"{what}: {key} '{raw}' is not one of {choices}")
            return None

    def patterns(self, node: LineDict, key: str, what: str) -> tuple[str, ...]:
        value = node.get(key)
        if value is None:
            return ()
        items = value if isinstance(value, list) else [value]
        out: list[str] = []
        for item in items:
            if isinstance(item, str | int | float) and not isinstance(item, bool) and item != "":
                out.append(str(item))
            else:
                self.fail(node.line_of(key), f"{what}: '{key}' must be a text or a list of texts")
        return tuple(out)

    def unique(self, seen: dict[str, int], name: str, node: LineDict, what: str) -> None:
        """Names identify rules and policies in logs and status: two alike would be ambiguous."""
        line = node.line_of("name")
        if name in seen:
            self.fail(line, f"{what} is defined twice (first at line {seen[name]})")
        else:
            seen[name] = line

    def selector(self, node: LineDict, key: str, what: str) -> tuple[str, ...]:
        """A policy's groups/roles/users: absent means anyone, so present must name someone."""
        found = self.patterns(node, key, what)
        if key in node and not found and node[key] in (None, []):
            # An empty selector would otherwise read as "no condition": everyone.
            self.fail(node.line_of(key), f"{what}: '{key}' is empty; name at least one or omit it")
        return found

    def document(self, data: Any) -> RuleSet:
        if data is None:
            return RuleSet()
        root = self.mapping(data, 1, "the rules file")
        if root is None:
            return RuleSet()
        self.keys(root, {"version", "cache", "sources", "rules", "policies"}, "the rules file")
        if root.get("version", 1) != 1:
            self.fail(root.line_of("version"), "version must be 1")
        cache = self.cache(root.get("cache"), root.line_of("cache")) if "cache" in root else None
        sources = self.sources(root.get("sources"), root.line_of("sources"))
        names = {s.name for s in sources}
        rules = self.rules(root.get("rules"), root.line_of("rules"), names)
        policies = None
        if "policies" in root:
            policies = self.policies(root.get("policies"), root.line_of("policies"), names, rules)
        return RuleSet(tuple(sources), tuple(rules), policies, cache or CacheConfig())

    def cache(self, value: Any, line: int) -> CacheConfig | None:
        node = self.mapping(value, line, "cache")
        if node is None:
            return None
        self.keys(node, {"retention", "budget", "eviction"}, "cache")
        config = CacheConfig()
        try:
            if "retention" in node:
                config = CacheConfig(parse_retention(node["retention"]), config.budget)
        except ValueError as exc:
            self.fail(node.line_of("retention"), f"cache: retention {exc}")
        try:
            if node.get("budget") is not None:
                config = CacheConfig(config.retention, parse_size(node["budget"]))
        except ValueError as exc:
            self.fail(node.line_of("budget"), f"cache: budget {exc}")
        raw = self.text(node, "eviction", "cache")
        if raw is not None:
            try:
                config = CacheConfig(config.retention, config.budget, Eviction(raw.lower()))
            except ValueError:
                self.fail(node.line_of("eviction"), f"cache: eviction '{raw}' is not lru or oldest")
        return config

    def sources(self, value: Any, line: int) -> list[Source]:
        if value is None:
            return []
        items = self.sequence(value, line, "sources")
        out: list[Source] = []
        names: dict[str, int] = {}
        for index, item in enumerate(items or []):
            item_line = items.item_lines[index] if items else line
            node = self.mapping(item, item_line, "a source")
            if node is None:
                continue
            allowed = {"name", "url", "auth", "credential", "endpoint", "region", "redirect_hosts"}
            self.keys(node, allowed, "source")
            name = self.text(node, "name", "source", required=True)
            url = self.text(node, "url", "source", required=True)
            what = f"source '{name}'"
            if name:
                self.unique(names, name, node, what)
            if url is not None:
                url = self.source_url(url, node.line_of("url"), what)
            auth = AuthKind.NONE
            raw_auth = self.text(node, "auth", what)
            if raw_auth is not None:
                try:
                    auth = AuthKind(raw_auth.lower())
                except ValueError:
                    choices = ", ".join(a.value for a in AuthKind)
                    self.fail(
                        node.line_of("auth"), f"{what}: auth '{raw_auth}' is not one of {choices}"
                    )
            credential = self.text(node, "credential", what)
            if credential is not None and not CREDENTIAL_NAME.match(credential):
                self.fail(
                    node.line_of("credential"),
                    f"{what}: credential must be a name (letters, digits, _ . -)",
                )
                credential = None
            if auth not in (AuthKind.NONE,) and credential is None and "credential" not in node:
                self.fail(node.line, f"{what}: auth {auth.value} needs 'credential: NAME'")
            if url and url.startswith("s3://") and auth not in (AuthKind.NONE, AuthKind.S3):
                self.fail(node.line_of("auth"), f"{what}: an s3:// source takes auth s3 or none")
            if url and not url.startswith("s3://") and auth is AuthKind.S3:
                self.fail(node.line_of("auth"), f"{what}: auth s3 needs an s3:// url")
            endpoint = self.text(node, "endpoint", what)
            if endpoint is not None and not endpoint.startswith(("http://", "https://")):
                self.fail(node.line_of("endpoint"), f"{what}: endpoint must be an http(s) URL")
            hosts = self.redirect_hosts(node, url, what)
            if name and url:
                out.append(
                    Source(
                        name,
                        url,
                        auth,
                        credential,
                        endpoint,
                        self.text(node, "region", what),
                        node.line,
                        hosts,
                    )
                )
        return out

    def redirect_hosts(self, node: LineDict, url: str | None, what: str) -> tuple[str, ...]:
        hosts = tuple(h.lower() for h in self.patterns(node, "redirect_hosts", what))
        line = node.line_of("redirect_hosts")
        if hosts and url and not url.lower().startswith(("http://", "https://")):
            self.fail(line, f"{what}: redirect_hosts applies to http(s) sources only")
        for host in hosts:
            if not REDIRECT_HOST.match(host):
                self.fail(line, f"{what}: redirect host '{host}' must be a host name[:port]")
        return hosts

    def source_url(self, url: str, line: int, what: str) -> str | None:
        lowered = url.lower()
        if not lowered.startswith(("http://", "https://", "s3://", "file:///")):
            self.fail(line, f"{what}: url must start with http://, https://, s3:// or file:///")
            return None
        authority = url.split("://", 1)[1].split("/", 1)[0]
        if "@" in authority:
            self.fail(line, f"{what}: url must not carry credentials; use 'credential: NAME'")
            return None
        if "?" in url or "#" in url:
            self.fail(line, f"{what}: url must be a location prefix without query or fragment")
            return None
        if any(seg in (".", "..") for seg in url.split("://", 1)[1].split("/")):
            self.fail(line, f"{what}: url must not contain '.' or '..' segments")
            return None
        return url

    def match(self, value: Any, line: int, what: str, sources: set[str]) -> Match:
        if value is None:
            return Match()
        node = self.mapping(value, line, f"{what}: match")
        if node is None:
            return Match()
        allowed = {"collection", "provider", "product_type", "platform", "host", "size", "age"}
        self.keys(node, allowed, f"{what}: match")
        providers = self.patterns(node, "provider", what)
        for provider in providers:
            if provider not in sources and not any(c in provider for c in "*?["):
                self.fail(
                    node.line_of("provider"), f"{what}: provider '{provider}' is not a source"
                )
        sizes = self.bounds(node, "size", what, parse_size)
        ages = self.bounds(node, "age", what, parse_duration)
        return Match(
            collections=self.patterns(node, "collection", what),
            providers=providers,
            product_types=self.patterns(node, "product_type", what),
            platforms=self.patterns(node, "platform", what),
            hosts=self.patterns(node, "host", what),
            min_size=sizes[0],
            max_size=sizes[1],
            min_age=ages[0],
            max_age=ages[1],
        )

    def bounds(self, node: LineDict, key: str, what: str, convert: Any) -> tuple[Any, Any]:
        if key not in node:
            return None, None
        sub = self.mapping(node[key], node.line_of(key), f"{what}: {key}")
        if sub is None:
            return None, None
        self.keys(sub, {"min", "max"}, f"{what}: {key}")
        out: list[Any] = [None, None]
        for i, bound in enumerate(("min", "max")):
            if sub.get(bound) is not None:
                try:
                    out[i] = convert(sub[bound])
                except ValueError as exc:
                    self.fail(sub.line_of(bound), f"{what}: {key} {bound} {exc}")
        if out[0] is not None and out[1] is not None and out[0] > out[1]:
            # Such a range matches nothing: almost certainly swapped or mistyped bounds.
            self.fail(sub.line_of("min"), f"{what}: {key} min is larger than max")
        return out[0], out[1]

    def rules(self, value: Any, line: int, sources: set[str]) -> list[Rule]:
        if value is None:
            return []
        items = self.sequence(value, line, "rules")
        out: list[Rule] = []
        names: dict[str, int] = {}
        for index, item in enumerate(items or []):
            item_line = items.item_lines[index] if items else line
            node = self.mapping(item, item_line, "a rule")
            if node is None:
                continue
            allowed = {"name", "match", "strategy", "allow", "fallback", "retention"}
            self.keys(node, allowed, "rule")
            name = self.text(node, "name", "rule") or f"rule {index + 1}"
            what = f"rule '{name}'"
            self.unique(names, name, node, what)
            match = self.match(node.get("match"), node.line_of("match"), what, sources)
            strategy = self.strategy(node, "strategy", what)
            if strategy is None and "strategy" not in node:
                self.fail(node.line, f"{what}: 'strategy' is required")
            allow: set[Strategy] = set()
            for raw in self.patterns(node, "allow", what):
                try:
                    allow.add(Strategy(raw.lower()))
                except ValueError:
                    self.fail(node.line_of("allow"), f"{what}: allow '{raw}' is not a strategy")
            fallback = self.strategy(node, "fallback", what)
            if fallback not in (None, Strategy.PIPE, Strategy.REDIRECT):
                self.fail(node.line_of("fallback"), f"{what}: fallback must be pipe or redirect")
                fallback = None
            retention = None
            if node.get("retention") is not None:
                try:
                    retention = parse_retention(node["retention"])
                except ValueError as exc:
                    self.fail(node.line_of("retention"), f"{what}: retention {exc}")
            if strategy is not None:
                allow.add(strategy)
                out.append(
                    Rule(name, match, strategy, frozenset(allow), fallback, retention, node.line)
                )
        return out

    def policies(
        self, value: Any, line: int, sources: set[str], rules: list[Rule]
    ) -> tuple[Policy, ...]:
        if value is None:
            return ()
        items = self.sequence(value, line, "policies")
        out: list[Policy] = []
        names: dict[str, int] = {}
        for index, item in enumerate(items or []):
            item_line = items.item_lines[index] if items else line
            node = self.mapping(item, item_line, "a policy")
            if node is None:
                continue
            allowed = {"name", "groups", "roles", "users", "authenticated", "match", "strategy"}
            self.keys(node, allowed | {"access"}, "policy")
            name = self.text(node, "name", "policy") or f"policy {index + 1}"
            what = f"policy '{name}'"
            self.unique(names, name, node, what)
            access = (self.text(node, "access", what) or "allow").lower()
            if access not in ("allow", "deny"):
                self.fail(node.line_of("access"), f"{what}: access must be allow or deny")
            strategy = self.strategy(node, "strategy", what)
            if strategy is not None and rules and not any(strategy in r.allow for r in rules):
                # No rule lets a policy choose it: it could only ever be replaced.
                self.fail(
                    node.line_of("strategy"),
                    f"{what}: strategy {strategy.value} is allowed by no rule "
                    "(add it to a rule's 'allow')",
                )
            authenticated = node.get("authenticated", False)
            if not isinstance(authenticated, bool):
                self.fail(
                    node.line_of("authenticated"), f"{what}: authenticated must be true or false"
                )
                authenticated = False
            out.append(
                Policy(
                    name=name,
                    groups=self.selector(node, "groups", what),
                    roles=self.selector(node, "roles", what),
                    users=self.selector(node, "users", what),
                    authenticated=authenticated,
                    match=self.match(node.get("match"), node.line_of("match"), what, sources),
                    strategy=strategy,
                    deny=access == "deny",
                    line=node.line,
                )
            )
        return tuple(out)


__all__ = [
    "AuthKind",
    "CacheConfig",
    "Eviction",
    "Match",
    "Policy",
    "Problem",
    "ProductFacts",
    "Rule",
    "RuleSet",
    "RulesInvalid",
    "Source",
    "parse",
    "parse_duration",
    "parse_size",
]
