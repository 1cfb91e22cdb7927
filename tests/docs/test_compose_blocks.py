"""Shell blocks of docs/ marked ``compose``: checked against docker-compose.yml and the real CLIs.

``docker compose up`` needs the vendor images (Elasticsearch, MinIO, Keycloak) that no registry
here serves, so these blocks are not run. Instead every command in them must be a ``docker
compose`` command whose subcommand and options docker-compose itself documents, whose profiles and
services exist in the file docker-compose renders (with every secret filled), and whose command
run inside a service (``exec``/``run``) is a real ``everest-elearn`` command.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.compose import compose, compose_cli, filled_env, rendered
from tests.docs.blocks import Block, shell_blocks

BLOCKS = shell_blocks("compose")
# Subcommands whose first argument (after options) is a service; the rest is run in it.
IN_SERVICE = {"exec", "run"}
# Options of these subcommands that take a value (the value is not a service name).
WITH_VALUE = {"-e", "--env", "-u", "--user", "-w", "--workdir", "--index", "--name"}


def commands(block: Block) -> list[list[str]]:
    found = []
    for line in block.text.splitlines():
        words = shlex.split(line, comments=True)
        if words:
            found.append(words)
    return found


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("compose-blocks")
    return rendered(tmp, filled_env(tmp), *profiles_of_file(tmp))


def profiles_of_file(tmp: Path) -> list[str]:
    done = compose(tmp, filled_env(tmp), "config", "--profiles")
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_there_are_compose_blocks() -> None:
    assert len(BLOCKS) >= 3, [b.where for b in BLOCKS]


@pytest.mark.parametrize("block", BLOCKS, ids=[b.where for b in BLOCKS])
def test_compose_block_names_what_exists(block: Block, config: dict[str, Any]) -> None:
    services = set(config["services"])
    declared_profiles = {p for s in config["services"].values() for p in s.get("profiles", [])}
    cmds = commands(block)
    assert cmds, f"{block.where}: no command"
    for words in cmds:
        assert words[:2] == ["docker", "compose"], f"{block.where}: not a compose command: {words}"
        rest = words[2:]
        while rest and rest[0] == "--profile":
            assert rest[1] in declared_profiles, f"{block.where}: no profile {rest[1]!r}"
            rest = rest[2:]
        assert rest, f"{block.where}: no subcommand in {words}"
        sub, args = rest[0], rest[1:]
        usage = subprocess.run(
            [compose_cli(), sub, "--help"], capture_output=True, text=True, check=False
        )
        assert usage.returncode == 0, f"{block.where}: docker-compose has no {sub!r}"
        positional: list[str] = []
        i = 0
        while i < len(args):
            arg = args[i]
            if arg.startswith("-") and not positional:
                assert arg.split("=")[0] in usage.stdout, f"{block.where}: {sub} has no {arg}"
                i += 2 if arg in WITH_VALUE else 1
                continue
            positional.append(arg)
            if sub in IN_SERVICE:
                positional += args[i + 1 :]
                break
            i += 1
        if sub in IN_SERVICE:
            assert positional and positional[0] in services, f"{block.where}: {positional}"
            check_inner_command(block, positional[1:])
        elif sub in {"build", "up", "ps", "logs", "restart", "stop", "pull"}:
            unknown = set(positional) - services
            assert not unknown, f"{block.where}: no services {unknown}"


def check_inner_command(block: Block, words: list[str]) -> None:
    """A command run in a project image: a real ``everest-elearn`` command (its --help works)."""
    assert words and words[0] == "everest-elearn", f"{block.where}: {words}"
    nouns = [w for w in words[1:] if not w.startswith("-")][:2]
    done = subprocess.run(
        [str(Path(sys.executable).parent / "everest-elearn"), *nouns, "--help"],
        capture_output=True,
        text=True,
        check=False,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, f"{block.where}: {' '.join(words)}: {done.stdout}{done.stderr}"
    assert "Usage:" in done.stdout
