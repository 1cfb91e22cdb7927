"""``everest-elearn backup``: create, verify and restore backups of the platform."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from everest_elearn.backup.layout import Manifest, verify
from everest_elearn.backup.service import PARTS, create_backup, restore_backup
from everest_elearn.settings import load_settings

app = typer.Typer(help="Back up and restore the platform's state.", no_args_is_help=True)
Only = Annotated[
    list[str] | None,
    typer.Option("--only", help=f"Only this part (repeatable): {', '.join(PARTS)}."),
]


def _show(manifest: Manifest, title: str) -> None:
    table = Table("part", "items", "size", "files", "note", title=title)
    for part in manifest.parts:
        size = f"{part.bytes / 1e6:,.1f} MB"
        table.add_row(part.name, str(part.items), size, str(len(part.files)), part.note)
    Console().print(table)


def _progress(part: str, done: int) -> None:
    typer.echo(f"  {part}: {done}", err=True)


@app.command("create")
def create(
    into: Annotated[Path, typer.Argument(help="Folder that receives the new backup folder.")],
    only: Only = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress lines.")] = False,
) -> None:
    """Write a new backup folder (everest-backup-<time>) with a manifest of checksums."""
    settings = load_settings()
    progress = (lambda part, done: None) if quiet else _progress
    folder, manifest = asyncio.run(create_backup(settings, into, only, progress))
    _show(manifest, str(folder))
    typer.echo(str(folder))


@app.command("verify")
def verify_command(
    folder: Annotated[Path, typer.Argument(help="A backup folder.")],
) -> None:
    """Check every file of a backup against its manifest; exit 1 when one is missing or changed."""
    manifest = Manifest.read(folder)
    _show(manifest, f"{folder} (made {manifest.created}, version {manifest.version})")
    problems = verify(folder, manifest)
    for problem in problems:
        typer.secho(problem, fg=typer.colors.RED, err=True)
    if problems:
        raise typer.Exit(1)
    typer.echo("intact")


@app.command("restore")
def restore(
    folder: Annotated[Path, typer.Argument(help="A backup folder.")],
    only: Only = None,
    yes: Annotated[
        bool, typer.Option("--yes", help="Confirm: replaces state, volumes and the ODC index.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress lines.")] = False,
) -> None:
    """Restore a backup (stop the agency and the hub first)."""
    if not yes:
        typer.secho(
            "restore replaces the platform's state with the backup's; stop the agency and the "
            "hub, then run again with --yes",
            fg=typer.colors.YELLOW,
            err=True,
        )
        raise typer.Exit(2)
    settings = load_settings()
    progress = (lambda part, done: None) if quiet else _progress
    manifest = asyncio.run(restore_backup(settings, folder, only, progress))
    _show(manifest, f"restored from {folder}")
