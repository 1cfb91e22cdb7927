"""The rules' ``rules`` list and the ``match`` conditions rules and policies share."""

from __future__ import annotations

from typing import Any

from everest_elearn.gateway.delivery import Strategy
from everest_elearn.gateway.matching import Match
from everest_elearn.gateway.rules.checker import Checker
from everest_elearn.gateway.rules.model import Rule
from everest_elearn.gateway.rules.values import parse_duration, parse_retention, parse_size
from everest_elearn.gateway.yamlines import LineDict


def matcher(p: Checker, value: Any, line: int, what: str, sources: set[str]) -> Match:
    if value is None:
        return Match()
    node = p.mapping(value, line, f"{what}: match")
    if node is None:
        return Match()
    allowed = {"collection", "provider", "product_type", "platform", "host", "size", "age"}
    p.keys(node, allowed, f"{what}: match")
    providers = p.patterns(node, "provider", what)
    for provider in providers:
        if provider not in sources and not any(c in provider for c in "*?["):
            p.fail(node.line_of("provider"), f"{what}: provider '{provider}' is not a source")
    sizes = bounds(p, node, "size", what, parse_size)
    ages = bounds(p, node, "age", what, parse_duration)
    return Match(
        collections=p.patterns(node, "collection", what),
        providers=providers,
        product_types=p.patterns(node, "product_type", what),
        platforms=p.patterns(node, "platform", what),
        hosts=p.patterns(node, "host", what),
        min_size=sizes[0],
        max_size=sizes[1],
        min_age=ages[0],
        max_age=ages[1],
    )


def bounds(p: Checker, node: LineDict, key: str, what: str, convert: Any) -> tuple[Any, Any]:
    if key not in node:
        return None, None
    sub = p.mapping(node[key], node.line_of(key), f"{what}: {key}")
    if sub is None:
        return None, None
    p.keys(sub, {"min", "max"}, f"{what}: {key}")
    out: list[Any] = [None, None]
    for i, bound in enumerate(("min", "max")):
        if sub.get(bound) is not None:
            try:
                out[i] = convert(sub[bound])
            except ValueError as exc:
                p.fail(sub.line_of(bound), f"{what}: {key} {bound} {exc}")
    if out[0] is not None and out[1] is not None and out[0] > out[1]:
        # Such a range matches nothing: almost certainly swapped or mistyped bounds.
        p.fail(sub.line_of("min"), f"{what}: {key} min is larger than max")
    return out[0], out[1]


def rule_list(p: Checker, value: Any, line: int, sources: set[str]) -> list[Rule]:
    if value is None:
        return []
    out: list[Rule] = []
    names: dict[str, int] = {}
    for index, node in p.entries(value, line, "rules", "a rule"):
        allowed = {"name", "match", "strategy", "allow", "fallback", "retention"}
        p.keys(node, allowed, "rule")
        name = p.text(node, "name", "rule") or f"rule {index + 1}"
        what = f"rule '{name}'"
        p.unique(names, name, node, what)
        match = matcher(p, node.get("match"), node.line_of("match"), what, sources)
        strategy = p.strategy(node, "strategy", what)
        if strategy is None and "strategy" not in node:
            p.fail(node.line, f"{what}: 'strategy' is required")
        allow: set[Strategy] = set()
        for raw in p.patterns(node, "allow", what):
            try:
                allow.add(Strategy(raw.lower()))
            except ValueError:
                p.fail(node.line_of("allow"), f"{what}: allow '{raw}' is not a strategy")
        fallback = p.strategy(node, "fallback", what)
        if fallback not in (None, Strategy.PIPE, Strategy.REDIRECT):
            p.fail(node.line_of("fallback"), f"{what}: fallback must be pipe or redirect")
            fallback = None
        retention = None
        if node.get("retention") is not None:
            try:
                retention = parse_retention(node["retention"])
            except ValueError as exc:
                p.fail(node.line_of("retention"), f"{what}: retention {exc}")
        if strategy is not None:
            allow.add(strategy)
            out.append(
                Rule(name, match, strategy, frozenset(allow), fallback, retention, node.line)
            )
    return out
