"""Shell blocks of docs/ marked ``stack`` (not run here): their ``everest-elearn`` lines must parse.

Each such command is parsed by the real command line (its group, command, arguments and options,
without running it), so a renamed command or a missing argument in a page fails here.
"""

from __future__ import annotations

import shlex
from typing import Any

import pytest
import typer.main

from everest_elearn.cli import app
from tests.docs.blocks import shell_blocks


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
    # Typer carries its own copy of click: its classes are reached through the objects it builds.
    command: Any = typer.main.get_command(app)
    args = words[1:]
    path = ["everest-elearn"]
    while hasattr(command, "list_commands") and args and not args[0].startswith("-"):
        sub = command.get_command(command.context_class(command), args[0])
        assert sub is not None, f"{where}: no command {' '.join([*path, args[0]])!r}"
        path.append(args.pop(0))
        command = sub
    assert not hasattr(command, "list_commands"), f"{where}: {' '.join(path)} needs a command"
    try:
        command.make_context(" ".join(path), list(args))
    except Exception as exc:  # the vendored click's UsageError (missing or extra arguments)
        names = {cls.__name__ for cls in type(exc).__mro__}
        # Files and folders a page shows are made by its earlier blocks or are placeholders.
        if "UsageError" in names and not str(exc).endswith("does not exist."):
            raise AssertionError(f"{where}: {' '.join(words)}: {exc}") from None
        if "UsageError" not in names:
            raise
