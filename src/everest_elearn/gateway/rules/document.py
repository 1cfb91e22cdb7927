"""The rules file's top level: its sections in order, and the cache settings."""

from __future__ import annotations

from typing import Any

from everest_elearn.gateway.rules.checker import Checker
from everest_elearn.gateway.rules.matchers import rule_list
from everest_elearn.gateway.rules.model import CacheConfig, Eviction, RuleSet
from everest_elearn.gateway.rules.policies import policy_list
from everest_elearn.gateway.rules.sources import source_list
from everest_elearn.gateway.rules.values import parse_retention, parse_size


def document(p: Checker, data: Any) -> RuleSet:
    if data is None:
        return RuleSet()
    root = p.mapping(data, 1, "the rules file")
    if root is None:
        return RuleSet()
    p.keys(root, {"version", "cache", "sources", "rules", "policies"}, "the rules file")
    if root.get("version", 1) != 1:
        p.fail(root.line_of("version"), "version must be 1")
    cache = cache_section(p, root.get("cache"), root.line_of("cache")) if "cache" in root else None
    sources = source_list(p, root.get("sources"), root.line_of("sources"))
    names = {s.name for s in sources}
    rules = rule_list(p, root.get("rules"), root.line_of("rules"), names)
    policies = None
    if "policies" in root:
        policies = policy_list(p, root.get("policies"), root.line_of("policies"), names, rules)
    return RuleSet(tuple(sources), tuple(rules), policies, cache or CacheConfig())


def cache_section(p: Checker, value: Any, line: int) -> CacheConfig | None:
    node = p.mapping(value, line, "cache")
    if node is None:
        return None
    p.keys(node, {"retention", "budget", "eviction"}, "cache")
    config = CacheConfig()
    try:
        if "retention" in node:
            config = CacheConfig(parse_retention(node["retention"]), config.budget)
    except ValueError as exc:
        p.fail(node.line_of("retention"), f"cache: retention {exc}")
    try:
        if node.get("budget") is not None:
            config = CacheConfig(config.retention, parse_size(node["budget"]))
    except ValueError as exc:
        p.fail(node.line_of("budget"), f"cache: budget {exc}")
    raw = p.text(node, "eviction", "cache")
    if raw is not None:
        try:
            config = CacheConfig(config.retention, config.budget, Eviction(raw.lower()))
        except ValueError:
            p.fail(node.line_of("eviction"), f"cache: eviction '{raw}' is not lru or oldest")
    return config
