"""The rules file (pure): validation names lines, matching, policies, sources."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from everest_elearn.errors import Forbidden
from everest_elearn.gateway import Strategy
from everest_elearn.gateway.matching import ProductFacts, decide, locate
from everest_elearn.gateway.rules import AuthKind, RulesInvalid, parse, parse_duration, parse_size
from everest_elearn.security.identity import ANONYMOUS, Identity
from tests.gateway.conftest import product

GOOD = """\
version: 1
cache:
  retention: 3d
  budget: 2 GiB
  eviction: oldest
sources:
  - name: esa
    url: https://data.example.org/eo/
    auth: basic
    credential: ESA_HUB
  - name: archive
    url: s3://archive/eo/
    endpoint: http://127.0.0.1:9000
    auth: s3
    credential: ARCHIVE
rules:
  - name: small recent S2 cached
    match:
      collection: ["S2*"]
      provider: esa
      product_type: S2MSI2A
      platform: sentinel-2*
      host: data.example.org
      size: {max: 1 GB}
      age: {max: 30d}
    strategy: cache
    retention: 12h
    fallback: redirect
  - name: the rest redirected
    strategy: redirect
    allow: [mirror]
"""


def test_a_good_file_parses() -> None:
    rules = parse(GOOD)
    assert rules.cache.retention == timedelta(days=3)
    assert rules.cache.budget == 2 * 2**30
    assert [s.name for s in rules.sources] == ["esa", "archive"]
    assert rules.sources[0].auth is AuthKind.BASIC and rules.sources[0].credential == "ESA_HUB"
    first = rules.rules[0]
    assert first.strategy is Strategy.CACHE and first.fallback is Strategy.REDIRECT
    assert first.retention == timedelta(hours=12)
    assert first.match.max_size == 10**9
    assert rules.rules[1].allow == {Strategy.REDIRECT, Strategy.MIRROR}
    assert rules.policies is None


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("rules:\n  - name: a\n    strategy: teleport\n", 3, "teleport"),
        ("rules:\n  - name: a\n    strategy: cache\n    colour: red\n", 4, "unknown key 'colour'"),
        ("sources:\n  - name: s\n    url: ftp://x/\n", 3, "url must start"),
        ("sources:\n  - name: s\n    url: https://u:p@x.org/\n", 3, "must not carry credentials"),
        ("sources:\n  - name: s\n    url: https://x.org/\n    password: hunter2\n", 4, "secret"),
        (
            "sources:\n  - name: s\n    url: https://x.org/\n    auth: bearer\n",
            2,
            "needs 'credential",
        ),
        ("rules:\n  - strategy: cache\n    match:\n      size: {max: lots}\n", 4, "not a size"),
        ("rules:\n  - strategy: cache\n    match: {provider: ghost}\n", 3, "not a source"),
        ("rules:\n  - strategy: cache\n    fallback: mirror\n", 3, "fallback must be"),
        ("policies:\n  - groups: [a]\n    access: maybe\n", 3, "allow or deny"),
        ("rules: [\n", 2, "not valid YAML"),
        # An empty caller selector must not silently mean "everyone".
        ("policies:\n  - name: p\n    groups:\n", 3, "'groups' is empty"),
        ("policies:\n  - name: p\n    roles: []\n", 3, "'roles' is empty"),
        ("policies:\n  - name: p\n    users: null\n", 3, "'users' is empty"),
        # Ranges that match nothing, retentions that keep nothing, names that are ambiguous.
        ("rules:\n  - strategy: cache\n    match:\n      size: {min: 2 GB, max: 1 GB}\n", 4, "min"),
        (
            "rules:\n  - strategy: cache\n    match:\n      age:\n        min: 30d\n"
            "        max: 1d\n",
            5,
            "age min is larger than max",
        ),
        ("rules:\n  - strategy: cache\n    retention: 0\n", 3, "longer than zero"),
        ("rules:\n  - strategy: cache\n    retention: 0d\n", 3, "longer than zero"),
        ("rules:\n  - strategy: cache\n    retention: -1h\n", 3, "not a duration"),
        ("cache:\n  retention: 0s\n", 2, "longer than zero"),
        (
            "rules:\n  - {name: a, strategy: cache}\n  - {name: a, strategy: pipe}\n",
            3,
            "rule 'a' is defined twice (first at line 2)",
        ),
        (
            "policies:\n  - name: p\n  - name: q\n  - name: p\n",
            4,
            "policy 'p' is defined twice (first at line 2)",
        ),
        (
            "sources:\n  - {name: s, url: 'https://a.org/'}\n  - {name: s, url: 'https://b.org/'}\n",
            3,
            "source 's' is defined twice (first at line 2)",
        ),
        (
            "sources:\n  - name: s\n    url: s3://b/\n    redirect_hosts: [a.org]\n",
            4,
            "redirect_hosts applies to http(s) sources only",
        ),
        (
            "sources:\n  - name: s\n    url: https://x.org/\n    redirect_hosts: ['http://a/']\n",
            4,
            "must be a host name[:port]",
        ),
        # A policy strategy no rule allows could never take effect.
        (
            "rules:\n  - {name: r, strategy: redirect, allow: [mirror]}\npolicies:\n"
            "  - name: p\n    strategy: pipe\n",
            5,
            "strategy pipe is allowed by no rule",
        ),
        ("rules:\n  - {strategy: cache}\n  - {strategy: cache, strategy: pipe}\n", 3, "duplicate"),
    ],
)
def test_problems_name_their_line(text: str, line: int, fragment: str) -> None:
    with pytest.raises(RulesInvalid) as caught:
        parse(text, "rules.yaml")
    assert any(p.line == line and fragment in p.message for p in caught.value.problems), (
        caught.value
    )
    assert str(caught.value).startswith("rules.yaml: line ")


def test_every_problem_is_reported_not_only_the_first() -> None:
    text = "rules:\n  - strategy: a\n  - strategy: b\n"
    with pytest.raises(RulesInvalid) as caught:
        parse(text)
    assert [p.line for p in caught.value.problems] == [2, 3]


def test_sizes_and_durations() -> None:
    assert parse_size("500 MB") == 500 * 10**6
    assert parse_size("1.5GiB") == int(1.5 * 2**30)
    assert parse_size(42) == 42
    assert parse_duration("90s") == timedelta(seconds=90)
    assert parse_duration("2w") == timedelta(weeks=2)
    with pytest.raises(ValueError):
        parse_size("-1 MB")
    with pytest.raises(ValueError):
        parse_duration("soon")


def _facts(**changes: object) -> ProductFacts:
    base = {
        "collection": "S2_MSI_L2A",
        "provider": "esa",
        "product_type": "S2MSI2A",
        "platform": "Sentinel-2A",
        "size": 500 * 10**6,
        "age": timedelta(days=3),
        "host": "data.example.org",
    }
    base.update(changes)
    return ProductFacts(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, "small recent S2 cached"),
        ({"collection": "LANDSAT"}, "the rest redirected"),
        ({"size": 2 * 10**9}, "the rest redirected"),
        ({"size": None}, "the rest redirected"),
        ({"age": timedelta(days=60)}, "the rest redirected"),
        ({"host": "mirror.example.org"}, "the rest redirected"),
        ({"provider": "archive"}, "the rest redirected"),
        ({"platform": "SENTINEL-2B"}, "small recent S2 cached"),  # case-insensitive glob
    ],
)
def test_first_matching_rule_wins(changes: dict[str, object], expected: str) -> None:
    assert decide(parse(GOOD), _facts(**changes), ANONYMOUS).rule.name == expected


def test_policy_picks_only_strategies_the_rule_allows() -> None:
    # The first rule allows pipe, so the staff policy is valid, yet not for the second rule.
    text = GOOD.replace("    retention: 12h\n", "    retention: 12h\n    allow: [pipe]\n") + (
        "policies:\n"
        "  - name: course\n    groups: [course-*]\n    strategy: mirror\n"
        "  - name: staff\n    users: [admin]\n    strategy: pipe\n"
        "  - name: rest\n"
    )
    rules = parse(text)
    participant = Identity("ana", groups=frozenset({"course-eo"}))
    redirected = _facts(collection="LANDSAT")
    assert decide(rules, redirected, participant).strategy is Strategy.MIRROR
    assert decide(rules, _facts(), Identity("admin")).strategy is Strategy.PIPE
    # pipe is not in this rule's allow list: the rule's own strategy applies, and says so.
    staff = decide(rules, redirected, Identity("admin"))
    assert (staff.strategy, staff.overridden) == (Strategy.REDIRECT, Strategy.PIPE)
    assert decide(rules, redirected, participant).overridden is None
    assert decide(rules, redirected, ANONYMOUS).policy.name == "rest"  # type: ignore[union-attr]


def test_no_rule_no_access() -> None:
    with pytest.raises(Forbidden):
        decide(parse("rules: []"), _facts(), ANONYMOUS)


def test_facts_from_a_record() -> None:
    record = product("https://data.example.org/eo/S2/x.tif", length=10)
    source = parse(GOOD).sources[0]
    facts = ProductFacts.of(record, record.links[0], source, datetime(2024, 6, 11, tzinfo=UTC))
    assert facts.age == timedelta(days=10)
    assert (facts.provider, facts.host, facts.size) == ("esa", "data.example.org", 10)
    assert facts.platform == "sentinel-2a" and facts.product_type == "S2MSI2A"


@pytest.mark.parametrize(
    ("href", "found"),
    [
        ("https://data.example.org/eo/S2/x.tif", "esa"),
        ("https://DATA.example.org/eo/x.tif", "esa"),
        ("https://data.example.org/eo/", None),
        ("https://data.example.org/eox/x.tif", None),
        ("https://data.example.org/eo/../secret", None),
        ("https://data.example.org/eo/a/%2E%2E/%2E%2E/secret", None),
        ("https://data.example.org/eo/x.tif?u=http://evil/", None),
        ("https://user:pw@data.example.org/eo/x.tif", None),
        ("http://data.example.org/eo/x.tif", None),
        ("s3://archive/eo/x.tif", "archive"),
        ("s3://other/eo/x.tif", None),
    ],
)
def test_only_named_sources_are_located(href: str, found: str | None) -> None:
    source = locate(href, parse(GOOD).sources)
    assert (source.name if source else None) == found


def test_the_documented_example_is_valid() -> None:
    from pathlib import Path

    doc = (Path(__file__).parents[2] / "docs" / "gateway.md").read_text()
    example = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    rules = parse(example, "docs/gateway.md")
    assert [r.name for r in rules.rules] == ["recent Sentinel-2 cached", "everything else"]
    assert rules.policies is not None and len(rules.policies) == 4
