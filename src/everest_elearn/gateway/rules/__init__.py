"""The rules file: parsing with line-numbered errors, and matching products to rules (pure).

Split by section: ``model`` (what a rules file holds), ``values`` (sizes, durations),
``checker`` (shared checks), ``sources``, ``matchers`` (rules and match conditions),
``policies`` and ``document`` (the top level).
"""

from __future__ import annotations

from everest_elearn.gateway import yamlines
from everest_elearn.gateway.matching import Match, ProductFacts
from everest_elearn.gateway.rules.checker import Checker
from everest_elearn.gateway.rules.document import document
from everest_elearn.gateway.rules.model import (
    CREDENTIAL_NAME,
    REDIRECT_HOST,
    SECRET_KEYS,
    AuthKind,
    CacheConfig,
    Eviction,
    Policy,
    Problem,
    Rule,
    RuleSet,
    RulesInvalid,
    Source,
)
from everest_elearn.gateway.rules.values import parse_duration, parse_retention, parse_size


def parse(text: str, source: str = "rules") -> RuleSet:
    """Parse and validate a rules file; raises ``RulesInvalid`` listing every problem by line."""
    try:
        data = yamlines.load(text)
    except yamlines.YamlSyntaxError as exc:
        raise RulesInvalid(source, [Problem(exc.line, f"not valid YAML: {exc.message}")]) from None
    parser = Checker()
    ruleset = document(parser, data)
    if parser.problems:
        raise RulesInvalid(source, sorted(parser.problems, key=lambda p: p.line))
    return ruleset


__all__ = [
    "CREDENTIAL_NAME",
    "REDIRECT_HOST",
    "SECRET_KEYS",
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
    "parse_retention",
    "parse_size",
]
