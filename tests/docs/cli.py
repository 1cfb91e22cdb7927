"""Parse an ``everest-elearn`` command line with the real CLI, without running it."""

from __future__ import annotations

from typing import Any

import typer.main

from everest_elearn.cli import app


def command_of(where: str, words: list[str]) -> tuple[Any, list[str], list[str]]:
    """The click command ``words`` (starting at ``everest-elearn``) names, its path and the rest."""
    # Typer carries its own copy of click: its classes are reached through the objects it builds.
    command: Any = typer.main.get_command(app)
    args = words[1:]
    path = ["everest-elearn"]
    while hasattr(command, "list_commands") and args and not args[0].startswith("-"):
        sub = command.get_command(command.context_class(command), args[0])
        assert sub is not None, f"{where}: no command {' '.join([*path, args[0]])!r}"
        path.append(args.pop(0))
        command = sub
    return command, path, args


def parse(where: str, words: list[str]) -> None:
    """A whole command: its group, command, arguments and options are what the CLI takes."""
    command, path, args = command_of(where, words)
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
