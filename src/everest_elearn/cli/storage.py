"""``everest-elearn storage``: schema versions of the platform's own SQLite stores."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from everest_elearn.settings import load_settings
from everest_elearn.storage.stores import versioned_stores

app = typer.Typer(help="Schema versions of the platform's own state.", no_args_is_help=True)
console = Console()


@app.command()
def versions() -> None:
    """Each store's file, its schema version and this release's; exit 1 if one is newer."""
    table = Table(title="Platform state")
    for column in ("store", "file", "version", "this release", "state"):
        table.add_column(column)
    newer = False
    for store in versioned_stores(load_settings()):
        found, known = store.version(), store.schema.version
        if found is None:
            state = "not created yet"
        elif found < known:
            state = "upgraded at next open"
        elif found > known:
            state, newer = "NEWER: refused", True
        else:
            state = "current"
        shown = "" if found is None else str(found)
        table.add_row(store.schema.store, str(store.path), shown, str(known), state)
    console.print(table)
    if newer:
        raise typer.Exit(1)


@app.command()
def migrate() -> None:
    """Bring every existing store to this release's schema now (each also does at open)."""
    for store in versioned_stores(load_settings()):
        if store.version() is None:
            console.print(f"{store.schema.store}: not created yet", highlight=False)
            continue
        before, after = store.migrate()
        change = f"{before} -> {after}" if before != after else f"{after}, current"
        console.print(f"{store.schema.store}: version {change}", highlight=False)
