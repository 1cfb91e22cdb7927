"""``everest-elearn packages validate|estimate|build|list|status|delete|publish|shares|revoke``."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from everest_elearn.packages.progress import BuildProgress, FileProgress
from everest_elearn.packages.results import ResultsService
from everest_elearn.packages.service import PackageService
from everest_elearn.packages.spec import format_size, load_spec
from everest_elearn.security.identity import Identity, Role
from everest_elearn.settings import Settings, load_settings

app = typer.Typer(
    help="Data packages: validate, estimate, build, list, status, delete; shares of results: "
    "publish, shares, revoke.",
    no_args_is_help=True,
)
console = Console()
# The CLI runs on the agency's host with its files: it acts as the local administrator.
OPERATOR = Identity("cli", frozenset({Role.ADMIN}))
T = TypeVar("T")
SpecFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="spec (YAML or JSON)")]


@asynccontextmanager
async def local_service(settings: Settings) -> AsyncIterator[PackageService]:
    """The packages service over this host's catalogue and gateway, closed with them on exit."""
    from everest_elearn.catalogue.factory import create_store
    from everest_elearn.catalogue.service import Catalogue
    from everest_elearn.gateway.factory import build_gateway

    store = create_store(settings)
    await store.open()
    catalogue = Catalogue(store)
    gateway = build_gateway(settings, os.environ, lookup=catalogue)
    await gateway.start()
    service = await PackageService.open(settings, catalogue, gateway)
    try:
        yield service
    finally:
        await service.close()
        await gateway.close()
        await store.close()


@asynccontextmanager
async def _service() -> AsyncIterator[PackageService]:
    settings = load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    async with local_service(settings) as service:
        yield service


def _run(work: Callable[[PackageService], Awaitable[T]]) -> T:
    async def main() -> T:
        async with _service() as service:
            return await work(service)

    return asyncio.run(main())


def _spec_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@app.command()
def validate(spec: SpecFile) -> None:
    """Check a spec (YAML or JSON) against the catalogue and the limits; fetches nothing."""
    parsed = load_spec(_spec_text(spec))
    plan = _run(lambda service: service.plan(parsed, OPERATOR))
    console.print(
        f"[green]valid[/]: {parsed.name} {parsed.version}: {len(plan.records)} products, "
        f"{len(plan.files)} files, {format_size(plan.known_bytes)}"
    )


@app.command()
def estimate(spec: SpecFile) -> None:
    """Bytes, files, and how much the gateway already holds."""
    parsed = load_spec(_spec_text(spec))
    result = _run(lambda service: service.estimate(parsed, OPERATOR))
    console.print(result.summary())


@app.command()
def build(spec: SpecFile) -> None:
    """Build a package with a progress bar, then print the final report."""
    parsed = load_spec(_spec_text(spec))
    progress = BuildProgress(parsed.name, parsed.version)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task(f"{parsed.name} {parsed.version}: resolving", total=None)

        def show(state: BuildProgress, item: FileProgress | None) -> None:
            label = f"{state.name} {state.version}: {state.phase}"
            if item is not None and state.phase == "fetching":
                label += f" {item.path.rpartition('/')[2]}"
            bar.update(
                task, description=label, total=state.total_bytes or None, completed=state.done_bytes
            )

        progress.listeners.append(show)
        report = _run(lambda service: service.build(parsed, OPERATOR, progress))
    table = Table(
        title=f"package {report.name} {report.version}: {report.state}", show_header=False
    )
    for key, value in (
        ("volume", f"{report.volume} ({report.backend})"),
        ("files", f"{report.files} ({report.skipped_files} resumed from an earlier run)"),
        ("size", format_size(report.bytes)),
        ("sources", ", ".join(f"{k}: {v}" for k, v in sorted(report.origins.items())) or "-"),
        ("ODC datasets", str(report.datasets)),
        ("time", f"{report.seconds:.1f} s"),
    ):
        table.add_row(key, value)
    for note in report.notes:
        table.add_row("note", note)
    console.print(table)


@app.command("list")
def list_() -> None:
    """Packages in the registry, their state and which version is current."""
    rows: list[dict[str, Any]] = _run(lambda service: service.list_packages(OPERATOR))
    table = Table("name", "version", "state", "current", "files", "size", "datasets", "volume")
    for row in rows:
        table.add_row(
            row["name"], row["version"], row["state"], "yes" if row["current"] else "",
            str(row["files"]), format_size(row["bytes"]), str(row["datasets"]), row["volume"],
        )  # fmt: skip
    console.print(table)


@app.command()
def status(name: str, version: str) -> None:
    """State of one package and each of its files."""
    data = _run(lambda service: service.status(name, version, OPERATOR))
    console.print(
        f"{name} {version}: [bold]{data['state']}[/]"
        + (f" ({data['error']})" if data["error"] else "")
    )
    table = Table("file", "size", "done", "state")
    for item in data["progress"]["files"]:
        table.add_row(
            item["path"], format_size(item["size"] or 0), format_size(item["done"]), item["state"]
        )
    console.print(table)


@app.command()
def delete(name: str, version: str) -> None:
    """Delete a package version: its volume and its index entries."""
    _run(lambda service: service.delete(name, version, OPERATOR))
    console.print(f"deleted {name} {version}")


# shares of results ------------------------------------------------------------------------


@app.command()
def publish(
    name: Annotated[str, typer.Argument(help="share name: lower-case letters, digits and '-'")],
    owner: Annotated[str, typer.Option(help="the user whose results are published")],
    grant: Annotated[
        list[str] | None, typer.Option(help="user:NAME, group:NAME or course:ID (repeatable)")
    ] = None,
    description: Annotated[str, typer.Option()] = "",
    licence: Annotated[str, typer.Option()] = "as stated by the owner",
) -> None:
    """Snapshot a user's results as a read-only share (manifest, ODC entries for GeoTIFFs)."""
    body = {"name": name, "grant": grant or [], "description": description, "licence": licence}
    who = Identity(owner, frozenset({Role.PARTICIPANT}))
    share = _run(lambda service: ResultsService(service).publish(who, body))
    table = Table(title=f"share {share['name']} {share['version']}", show_header=False)
    for key, value in (
        ("volume", share["volume"]),
        ("granted to", ", ".join(share["grant"]) or "nobody yet"),
        ("files", f"{share['files']} ({format_size(share['bytes'])})"),
        ("ODC products", ", ".join(share["odc_products"]) or "-"),
        ("ODC datasets", str(share["datasets"])),
    ):
        table.add_row(key, value)
    for note in share["notes"]:
        table.add_row("note", note)
    console.print(table)


@app.command()
def shares(
    user: Annotated[
        str | None, typer.Option(help="only shares this user owns or was granted")
    ] = None,
    group: Annotated[list[str] | None, typer.Option(help="the user's groups (repeatable)")] = None,
) -> None:
    """Published shares: all of them, or those a user sees."""
    who = (
        OPERATOR
        if user is None
        else Identity(user, frozenset({Role.PARTICIPANT}), frozenset(group or []))
    )
    rows = _run(lambda service: ResultsService(service).shares(who))
    table = Table("name", "version", "owner", "granted to", "files", "size", "volume")
    for row in rows:
        table.add_row(
            row["name"], row["version"], row["owner"] or "", ", ".join(row["grant"]),
            str(row["files"]), format_size(row["bytes"]), row["volume"],
        )  # fmt: skip
    console.print(table)


@app.command()
def revoke(name: str) -> None:
    """Withdraw a share: its ODC datasets and products and its volume go (a volume a running
    server mounts is emptied now, so that server sees an empty folder, and removed once free)."""
    _run(lambda service: ResultsService(service).revoke(OPERATOR, name))
    console.print(f"revoked {name}")
