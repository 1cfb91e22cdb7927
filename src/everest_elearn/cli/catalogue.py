"""``everest-elearn catalogue``: ingest metadata, search, statistics; locally or on a remote agency.

Locally the commands open the configured store (settings from the environment) through the same
Catalogue service as the API, acting as an administrator: whoever can read the data directory
already holds every record. With ``--url`` they talk to a Data Agency over HTTP instead, with the
bearer token from ``--token`` or ``EVEREST_TOKEN`` (never printed).

``ingest`` exits with status 1 when anything was rejected, so scripts and CI notice.
"""

from __future__ import annotations

import asyncio
import gzip
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from everest_elearn.catalogue.ingest.outcome import Problem
from everest_elearn.catalogue.ingest.service import IngestReport
from everest_elearn.cli import catalogue_remote as remote
from everest_elearn.cli.catalogue_query import build_query, print_records
from everest_elearn.security.identity import Identity, Role

app = typer.Typer(
    help="Ingest EO metadata into the catalogue, search it, count it.", no_args_is_help=True
)
console = Console()
LOCAL = Identity("cli", frozenset({Role.ADMIN}))
SUFFIXES = (".json", ".geojson", ".xml", ".atom", ".json.gz", ".geojson.gz", ".xml.gz")
MAX_SHOWN = 50

UrlOption = typer.Option(None, "--url", help="A remote Data Agency, e.g. http://127.0.0.1:8000.")
TokenOption = typer.Option(
    None, "--token", envvar="EVEREST_TOKEN", show_envvar=True, show_default=False,
    help="Bearer token for --url (administrator or data agent).",
)  # fmt: skip


def _documents(path: str) -> Iterator[tuple[str, bytes]]:
    if path == "-":
        yield "<stdin>", sys.stdin.buffer.read()
        return
    root = Path(path)
    if not root.exists():
        raise typer.BadParameter(f"{path} does not exist", param_hint="PATH")
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    for file in files:
        if root.is_dir() and not file.name.lower().endswith(SUFFIXES):
            continue
        data = file.read_bytes()
        name = str(file.relative_to(root)) if root.is_dir() else str(file)
        yield name, gzip.decompress(data) if file.name.endswith(".gz") else data


def _catalogue() -> Any:
    from everest_elearn.catalogue.factory import create_store
    from everest_elearn.catalogue.service import Catalogue
    from everest_elearn.settings import load_settings

    settings = load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Catalogue(create_store(settings))


async def _ingest_local(documents: list[tuple[str, bytes]], collection: str | None) -> IngestReport:
    from everest_elearn.catalogue.ingest.detect import parse_document
    from everest_elearn.catalogue.ingest.service import ingest_parsed

    catalogue = _catalogue()
    await catalogue.store.open()
    try:
        parsed = [parse_document(data, parent=collection, source=name) for name, data in documents]
        total = sum(len(p.records) for p in parsed)
        with _progress() as bar:
            task = bar.add_task("ingesting", total=total or 1)
            return await ingest_parsed(
                catalogue, parsed, LOCAL,
                progress=lambda done, _total: bar.update(task, completed=done),
            )  # fmt: skip
    finally:
        await catalogue.store.close()


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), console=console
    )


@app.command()
def ingest(
    path: str | None = typer.Argument(
        None, metavar="PATH", help="A file, a folder (walked recursively) or '-' for stdin."
    ),
    collection: str | None = typer.Option(
        None, "--collection", "-c", help="Assign every product to this (stored) collection."
    ),
    samples: bool = typer.Option(False, "--samples", help="Ingest the bundled sample catalogue."),
    url: str | None = UrlOption,
    token: str | None = TokenOption,
) -> None:
    """Ingest STAC, OGC 17-003/17-047 GeoJSON and OpenSearch Atom documents (upsert by id)."""
    if samples:
        from everest_elearn.catalogue import samples as bundled

        documents = list(bundled.documents())
    elif path is None:
        raise typer.BadParameter("give a PATH (or '-', or --samples)", param_hint="PATH")
    else:
        documents = list(_documents(path))
    if url:
        with _progress() as bar:
            task = bar.add_task("sending", total=len(documents) or 1)
            report = remote.ingest(url, token, documents, collection,
                                   lambda: bar.advance(task))  # fmt: skip
    else:
        report = asyncio.run(_ingest_local(documents, collection))
    _print_report(report)
    if report.rejected:
        raise typer.Exit(1)


def _print_report(report: IngestReport) -> None:
    summary = Table(title="Ingest report")
    for column in ("received", "created", "updated", "skipped", "rejected", "warnings"):
        summary.add_column(column, justify="right")
    summary.add_row(
        *(str(v) for v in (report.received, report.created, report.updated,
                           len(report.skipped), len(report.rejected), len(report.warnings)))
    )  # fmt: skip
    console.print(summary)
    for title, problems in (("Rejected", report.rejected), ("Skipped", report.skipped)):
        if problems:
            console.print(_problems(title, problems))


def _problems(title: str, problems: list[Problem]) -> Table:
    table = Table(title=f"{title} ({len(problems)})", show_lines=False)
    for column in ("source", "#", "identifier", "reason"):
        table.add_column(column, overflow="fold")
    for p in problems[:MAX_SHOWN]:
        table.add_row(p.source or "", str(p.position or ""), p.identifier or "", p.reason)
    if len(problems) > MAX_SHOWN:
        table.caption = f"{len(problems) - MAX_SHOWN} more not shown"
    return table


@app.command()
def search(
    collection: str | None = typer.Option(
        None, "--collection", "-c", help="Products of this collection."
    ),
    text: str | None = typer.Option(None, "--text", "-q", help="Free text (words are ANDed)."),
    bbox: str | None = typer.Option(None, "--bbox", help="west,south,east,north (EPSG:4326)."),
    start: str | None = typer.Option(None, "--start", help="From this date-time (RFC 3339)."),
    end: str | None = typer.Option(None, "--end", help="Until this date-time (RFC 3339)."),
    platform: str | None = typer.Option(None, "--platform", help="e.g. Sentinel-1"),
    product_type: str | None = typer.Option(None, "--product-type", help="e.g. S2MSI2A"),
    max_cloud: float | None = typer.Option(None, "--max-cloud", help="Cloud cover at most (%)."),
    collections: bool = typer.Option(False, "--collections", help="Search collections instead."),
    limit: int = typer.Option(20, "--limit", "-n", min=1, max=500),
    url: str | None = UrlOption,
    token: str | None = TokenOption,
) -> None:
    """Search the catalogue and print a table of what was found."""
    query = build_query(collection, text, bbox, start, end, platform, product_type, max_cloud,
                        collections, limit)  # fmt: skip
    if url:
        records, total = remote.search(url, token, query)
    else:
        records, total = asyncio.run(_search_local(query))
    print_records(console, records, total)


async def _search_local(query: Any) -> tuple[list[Any], int]:
    catalogue = _catalogue()
    await catalogue.store.open()
    try:
        result = await catalogue.search(query, LOCAL)
        return result.records, result.total
    finally:
        await catalogue.store.close()


@app.command()
def stats(url: str | None = UrlOption, token: str | None = TokenOption) -> None:
    """Products per collection, with their time span."""
    rows = remote.stats(url, token) if url else asyncio.run(_stats_local())
    table = Table(title="Catalogue")
    for column in ("collection", "title", "products"):
        table.add_column(column, justify="right" if column == "products" else "left")
    for identifier, title, count in rows:
        table.add_row(identifier, title or "", str(count))
    table.caption = f"{len(rows)} collections, {sum(r[2] for r in rows)} products"
    console.print(table)


async def _stats_local() -> list[tuple[str, str | None, int]]:
    from everest_elearn.catalogue.query import Query

    catalogue = _catalogue()
    await catalogue.store.open()
    try:
        rows = []
        for record in await catalogue.collections(LOCAL):
            found = await catalogue.search(Query(parent=record.identifier, limit=0), LOCAL)
            rows.append((record.identifier, record.title, found.total))
        return rows
    finally:
        await catalogue.store.close()


@app.command()
def reindex(
    chunk: int = typer.Option(500, "--chunk", min=1, max=10000, help="Documents per bulk request."),
) -> None:
    """Rebuild the search-engine indices with this release's mapping; searches keep answering."""
    from everest_elearn.catalogue.backends.es_reindex import reindex_catalogue
    from everest_elearn.settings import load_settings

    async def step(name: str, copied: int, total: int) -> None:
        console.print(f"  {name}: {copied}/{total}", highlight=False)

    report = asyncio.run(reindex_catalogue(load_settings(), chunk=chunk, progress=step))
    table = Table(title="Re-indexed")
    for column in ("index", "from", "to", "documents"):
        table.add_column(column, justify="right" if column == "documents" else "left")
    for rebuilt in report.indices:
        table.add_row(rebuilt.name, rebuilt.old, rebuilt.new, str(rebuilt.documents))
    table.caption = f"{len(report.indices)} indices, {report.documents} documents"
    console.print(table)
