"""The ``everest-elearn`` command: one Typer sub-app per noun, one error boundary."""

from __future__ import annotations

import sys

import typer

from everest_elearn import __version__
from everest_elearn.cli import serve, up
from everest_elearn.errors import EverestError

app = typer.Typer(
    name="everest-elearn",
    help="Run and manage an everest-elearn platform: catalogue, gateway, packages, hub.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
serve.register(app)
up.register(app)


def _version(value: bool) -> None:
    if value:
        typer.echo(__version__)
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """everest-elearn: EO courses on a data cube."""


def _register_nouns() -> None:
    # Sub-apps register themselves here; each lives in its own module.
    import importlib

    for name in (
        "catalogue",
        "harvest",
        "gateway",
        "packages",
        "courses",
        "hub",
        "modules",
        "images",
        "samples",
        "backup",
        "storage",
    ):
        try:
            module = importlib.import_module(f"everest_elearn.cli.{name}")
        except ModuleNotFoundError as exc:  # a noun not built yet
            if exc.name != f"everest_elearn.cli.{name}":
                raise
            continue
        app.add_typer(module.app, name=name)


_register_nouns()


def main() -> None:
    """Entry point: domain errors become one readable line and exit status 1."""
    try:
        app()
    except EverestError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(1)
