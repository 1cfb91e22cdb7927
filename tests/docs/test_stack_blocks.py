"""Shell blocks of docs/ marked ``stack`` (not run here): their ``everest-elearn`` lines must parse.

Each such command is parsed by the real command line (its group, command, arguments and options,
without running it), so a renamed command or a missing argument in a page fails here.
"""

from __future__ import annotations

import shlex
import subprocess

import pytest

from tests.docs.blocks import Block, shell_blocks
from tests.docs.cli import parse


def cli_lines() -> list[tuple[str, list[str]]]:
    """(where, words) of every line of a stack or compose block that runs ``everest-elearn``."""
    found = []
    for block in shell_blocks("stack") + shell_blocks("compose"):
        for line in block.text.splitlines():
            words = shlex.split(line, comments=True)
            if "everest-elearn" in words:
                found.append((block.where, words[words.index("everest-elearn") :]))
    return found


LINES = cli_lines()


def test_stack_blocks_show_commands() -> None:
    assert len(LINES) >= 5, LINES


@pytest.mark.parametrize(("where", "words"), LINES, ids=[f"{w}:{' '.join(c)}" for w, c in LINES])
def test_command_parses(where: str, words: list[str]) -> None:
    parse(where, words)


@pytest.mark.parametrize(
    "block", shell_blocks("stack") + shell_blocks("compose"), ids=lambda b: b.where
)
def test_block_is_valid_shell(block: Block) -> None:
    done = subprocess.run(["bash", "-n"], input=block.text, capture_output=True, text=True)
    assert done.returncode == 0, f"{block.where}: {done.stderr}"
