"""``everest-elearn harvest``: run a source now, show every source's status, check a sources file.

Commands work on the local platform (settings from the environment): the configured catalogue,
the sources file (``EVEREST_HARVEST__SOURCES_FILE``) and the checkpoint database. ``run`` exits
with status 1 when the run failed or was stopped by a limit, so scripts and cron notice.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from everest_elearn.errors import InvalidInput

app = typer.Typer(
    help="Harvest EO metadata from remote sources into the catalogue.", no_args_is_help=True
)
console = Console()
SourcesFileArg = typer.Argument(..., exists=True, dir_okay=False, help="A sources file (YAML).")


@contextlib.asynccontextmanager
async def _agent(with_mirror: bool) -> AsyncIterator[Any]:
    from everest_elearn.catalogue.factory import create_store
    from everest_elearn.catalogue.service import Catalogue
    from everest_elearn.harvest.agent import from_settings
    from everest_elearn.settings import load_settings

    settings = load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = create_store(settings)
    await store.open()
    catalogue = Catalogue(store)
    gateway = None
    try:
        if with_mirror:
            from everest_elearn.gateway.factory import build_gateway

            gateway = build_gateway(settings, os.environ, lookup=catalogue)
            await gateway.start()
        yield from_settings(settings, catalogue, os.environ, gateway)
    finally:
        if gateway is not None:
            await gateway.close()
        await store.close()


async def _run(name: str, full: bool) -> Any:
    async with _agent(with_mirror=True) as agent:
        config = agent.source(name)
        columns = (
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console) as bar:
            task = bar.add_task(f"harvest {name}", total=config.limits.pages, info="starting")

            def show(report: Any) -> None:
                info = f"page {report.pages}: {report.created} new, {report.updated} updated, {report.rejected} rejected"
                bar.update(task, completed=report.pages, info=info)

            report = await agent.run(name, progress=show, full=full)
            bar.update(task, total=max(report.pages, 1), completed=max(report.pages, 1))
        return report


@app.command()
def run(
    source: str = typer.Argument(
        ..., metavar="SOURCE", help="The source's name in the sources file."
    ),
    full: bool = typer.Option(
        False,
        "--full",
        help="Read the whole source again, not only what is newer than its checkpoint "
        "(files that arrived with an older time); stored products are updated, not duplicated.",
    ),
) -> None:
    """Harvest one source now (incrementally, from its checkpoint), with a progress bar."""
    report = asyncio.run(_run(source, full))
    table = Table(title=f"Harvest of {source}: {report.state}")
    for column in ("pages", "received", "created", "updated", "skipped", "rejected", "mirrored"):
        table.add_column(column, justify="right")
    table.add_row(
        *(
            str(getattr(report, c))
            for c in ("pages", "received", "created", "updated", "skipped", "rejected", "mirrored")
        )
    )
    console.print(table)
    for problem in report.rejections[:50]:
        console.print(f"[yellow]rejected[/] {problem.describe()}")
    for error in report.mirror_errors[:20]:
        console.print(f"[yellow]not mirrored[/] {error}")
    if report.error:
        console.print(f"[red]{report.state}[/]: {report.error}")
    if report.state != "ok":
        raise typer.Exit(1)


async def _status() -> dict[str, Any]:
    async with _agent(with_mirror=False) as agent:
        result: dict[str, Any] = await agent.status()
        return result


@app.command()
def status() -> None:
    """Every source: state, last success, last error, totals."""
    found = asyncio.run(_status())
    if found["sources_error"]:
        console.print(
            f"[red]sources file rejected[/] (the previous sources stay in force): {found['sources_error']}"
        )
    table = Table(title=f"Harvest sources ({found['sources_file']})")
    for column in (
        "source",
        "kind",
        "state",
        "since",
        "last success",
        "next due",
        "stored",
        "rejected",
        "last error",
    ):
        table.add_column(column)
    for row in found["sources"]:
        totals = row["totals"]
        table.add_row(
            row["name"], row["kind"], row["state"] + (" (resuming)" if row["resuming"] else ""),
            row["since"] or "-", row["last_success"] or "-", row["next_due"] or "-",
            str(totals.get("created", 0) + totals.get("updated", 0)), str(totals.get("rejected", 0)),
            (row["last_error"] or "")[:120],
        )  # fmt: skip
    console.print(table)


@app.command("check-sources")
def check_sources(file: Path = SourcesFileArg) -> None:
    """Validate a sources file; every problem is printed with its line, exit 1 if any."""
    from everest_elearn.harvest.sources import SourcesInvalid, parse

    try:
        found = parse(file.read_text(encoding="utf-8"), str(file))
    except SourcesInvalid as exc:
        for line, message in exc.problems:
            console.print(f"[red]{file}:{line}[/]: {message}")
        raise typer.Exit(1) from None
    except InvalidInput as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    for config in found:
        every = f"every {config.schedule}" if config.schedule else "on demand"
        console.print(
            f"[green]ok[/] {config.name}: {config.kind} {config.url} -> {config.target} ({every})"
        )
