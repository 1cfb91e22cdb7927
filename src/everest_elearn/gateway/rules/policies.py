"""The rules' policies: who gets which products, by which strategy, or is denied."""

from __future__ import annotations

from typing import Any

from everest_elearn.gateway.rules.checker import Checker
from everest_elearn.gateway.rules.matchers import matcher
from everest_elearn.gateway.rules.model import Policy, Rule


def policy_list(
    p: Checker, value: Any, line: int, sources: set[str], rules: list[Rule]
) -> tuple[Policy, ...]:
    if value is None:
        return ()
    out: list[Policy] = []
    names: dict[str, int] = {}
    for index, node in p.entries(value, line, "policies", "a policy"):
        allowed = {"name", "groups", "roles", "users", "authenticated", "match", "strategy"}
        p.keys(node, allowed | {"access"}, "policy")
        name = p.text(node, "name", "policy") or f"policy {index + 1}"
        what = f"policy '{name}'"
        p.unique(names, name, node, what)
        access = (p.text(node, "access", what) or "allow").lower()
        if access not in ("allow", "deny"):
            p.fail(node.line_of("access"), f"{what}: access must be allow or deny")
        strategy = p.strategy(node, "strategy", what)
        if strategy is not None and rules and not any(strategy in r.allow for r in rules):
            # No rule lets a policy choose it: it could only ever be replaced.
            p.fail(
                node.line_of("strategy"),
                f"{what}: strategy {strategy.value} is allowed by no rule "
                "(add it to a rule's 'allow')",
            )
        authenticated = node.get("authenticated", False)
        if not isinstance(authenticated, bool):
            p.fail(node.line_of("authenticated"), f"{what}: authenticated must be true or false")
            authenticated = False
        out.append(
            Policy(
                name=name,
                groups=p.selector(node, "groups", what),
                roles=p.selector(node, "roles", what),
                users=p.selector(node, "users", what),
                authenticated=authenticated,
                match=matcher(p, node.get("match"), node.line_of("match"), what, sources),
                strategy=strategy,
                deny=access == "deny",
                line=node.line,
            )
        )
    return tuple(out)
