"""Commands shown inline in prose (`` `everest-elearn ...` ``, `` `docker compose ...` ``,
`` `./dev ...` ``) and the README's ``dev`` block name what exists, as blocks do.

``everest-elearn`` spans name a real command (``a/b/c`` lists alternatives, each checked); a span
with arguments is parsed whole by the real CLI unless it shows usage syntax (``[...]``).
``docker compose`` spans use a subcommand docker-compose documents and services of the rendered
file; output redirected from ``exec`` needs ``-T`` (a TTY would mangle a dump). ``./dev`` spans
and blocks name a command of the checkout's ``dev`` script.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from typing import Any

import pytest

from tests.deploy.compose import compose_cli
from tests.docs.blocks import ROOT, doc_files, inline_spans, shell_blocks
from tests.docs.cli import command_of, parse
from tests.docs.test_compose_blocks import config  # noqa: F401 (the rendered compose file)

SPANS = [(w, t) for p in doc_files() for w, t in inline_spans(p)]
CLI = [(w, t) for w, t in SPANS if t.startswith("everest-elearn ")]
COMPOSE = [(w, t) for w, t in SPANS if t.startswith("docker compose ")]
DEV = [(w, t) for w, t in SPANS if t.startswith("./dev ")] + [
    (b.where, line) for b in shell_blocks("dev") for line in b.text.splitlines() if line.strip()
]
SERVICE_FIRST = {"exec", "run"}
SERVICES_AFTER = {"logs", "ps", "restart", "stop", "up", "build", "pull", "start"}


def test_spans_are_found() -> None:
    assert len(CLI) >= 20 and len(COMPOSE) >= 8 and len(DEV) >= 3, (len(CLI), len(COMPOSE))


@pytest.mark.parametrize(("where", "text"), CLI, ids=[f"{w}:{t}" for w, t in CLI])
def test_cli_span_names_a_command(where: str, text: str) -> None:
    words = text.split()
    # Alternatives in the command's position: `packages validate/estimate/build`.
    position = next((i for i, w in enumerate(words) if "/" in w and i <= 2), None)
    if position is not None and not words[position].startswith(("/", ".")):
        for alternative in words[position].split("/"):
            command_of(where, [*words[:position], alternative])
        return
    command, _, rest = command_of(where, shlex.split(text))
    if (
        rest
        and not any(mark in text for mark in ("[", "..."))
        and not hasattr(command, "list_commands")
    ):
        parse(where, shlex.split(text))


def compose_usage(sub: str) -> str:
    done = subprocess.run([compose_cli(), sub, "--help"], capture_output=True, text=True)
    assert done.returncode == 0, f"docker-compose has no {sub!r}"
    return done.stdout


@pytest.mark.parametrize(("where", "text"), COMPOSE, ids=[f"{w}:{t}" for w, t in COMPOSE])
def test_compose_span_names_what_exists(
    where: str,
    text: str,
    config: dict[str, Any],  # noqa: F811
) -> None:
    command, _, redirect = text.partition(">")
    words = command.split()[2:]
    sub, args = words[0], words[1:]
    usage = compose_usage(sub)
    # Options come before the first service; what follows a service in exec/run is its command.
    first = next((i for i, a in enumerate(args) if not a.startswith("-")), len(args))
    options = args[:first]
    for option in options:
        assert option.split("=")[0] in usage, f"{where}: {sub} has no {option}"
    positional = [a for a in args[first:] if a != "..."]
    if sub in SERVICE_FIRST:
        positional = positional[:1]
    services = set(config["services"])
    if sub in SERVICE_FIRST:
        assert positional and positional[0] in services, f"{where}: {text}"
        if redirect:
            assert "-T" in options, f"{where}: redirected output of {sub} needs -T (no TTY)"
    elif sub in SERVICES_AFTER:
        assert set(positional) <= services, f"{where}: no services {set(positional) - services}"


def dev_commands() -> set[str]:
    done = subprocess.run([str(ROOT / "dev")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr  # no command: usage only, nothing done
    return set(re.findall(r"\./dev (\w+)", done.stderr))


@pytest.mark.parametrize(("where", "text"), DEV, ids=[f"{w}:{t}" for w, t in DEV])
def test_dev_command_exists(where: str, text: str) -> None:
    words = shlex.split(text, comments=True)
    assert words[0] == "./dev" and words[1] in dev_commands(), f"{where}: {text}"
