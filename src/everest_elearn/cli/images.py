"""``everest-elearn images``: build and list the project's Docker images."""

from __future__ import annotations

import asyncio
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from everest_elearn.images import IMAGES, BuildEvent, BuiltImage, ImageBuilder
from everest_elearn.settings import load_settings

app = typer.Typer(help="Build and list the notebook, agency and hub images.", no_args_is_help=True)


class Which(StrEnum):
    notebook = "notebook"
    agency = "agency"
    hub = "hub"
    all = "all"


def _size(n: int) -> str:
    return f"{n / 1e6:,.0f} MB"


@app.command("build")
def build(
    which: Annotated[Which, typer.Argument(help="Which image to build.")] = Which.notebook,
    force: Annotated[
        bool, typer.Option("--force", help="Build even when the inputs are unchanged.")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Print the engine's output.")
    ] = False,
) -> None:
    """Build images whose inputs changed (keyed by a hash of the Dockerfile and context)."""
    settings = load_settings()
    builder = ImageBuilder(settings.images)
    names = list(IMAGES) if which is Which.all else [which.value]
    console = Console(stderr=True)
    results: list[BuiltImage] = []
    with Progress(
        TextColumn("[bold]{task.fields[image]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}", style="dim"),
        console=console,
        transient=False,
    ) as progress:
        for name in names:
            task = progress.add_task("", total=None, image=name)

            def show(event: BuildEvent, task: TaskID = task) -> None:
                if event.total:
                    progress.update(task, total=event.total, completed=event.step)
                progress.update(task, description=event.line[:70])
                if verbose:
                    progress.console.print(event.line, markup=False, highlight=False)

            result = asyncio.run(builder.build(name, show, force))
            progress.update(task, description="built" if result.built else "up to date")
            results.append(result)
    for r in results:
        state = "built" if r.built else "unchanged"
        typer.echo(
            f"{r.tag}  {state}  {_size(r.size_bytes)}  {r.seconds:.1f} s  {r.context_hash[:12]}"
        )


@app.command("list")
def list_images() -> None:
    """List the images built by this project, with their size and input hash."""
    builder = ImageBuilder(load_settings().images)
    table = Table("image", "tag", "size", "hash", "id")
    for image in asyncio.run(builder.list()):
        table.add_row(
            image.name,
            image.tag,
            _size(image.size_bytes),
            image.context_hash[:12],
            image.image_id[7:19],
        )
    Console().print(table)
