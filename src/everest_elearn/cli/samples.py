"""``everest-elearn samples``: write the SYNTHETIC sample scenes and list the real fixtures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from everest_elearn.images import project_root
from everest_elearn.samples import SampleProduct, fixtures_dir, generate, real_products

app = typer.Typer(help="Sample data: SYNTHETIC scenes and the real fixtures.", no_args_is_help=True)


def _catalogue(products: list[SampleProduct]) -> dict[str, object]:
    collections = {p.collection.identifier: p.collection for p in products}
    return {
        "collections": [c.model_dump(mode="json") for c in collections.values()],
        "products": [p.record.model_dump(mode="json") for p in products],
    }


@app.command("generate")
def generate_command(
    dest: Annotated[Path, typer.Argument(help="Folder to write the scenes into.")],
    base_url: Annotated[
        str | None, typer.Option(help="URL a provider will serve DEST at (links); default file://")
    ] = None,
) -> None:
    """Write the SYNTHETIC scenes as COGs and their catalogue records (DEST/catalogue.json)."""
    products = generate(dest, base_url)
    (dest / "catalogue.json").write_text(json.dumps(_catalogue(products), indent=1))
    for p in products:
        truth = ", ".join(f"{k}={v}" for k, v in p.truth.items())
        typer.echo(f"{p.record.identifier}  {len(p.files)} files  {truth}")
    typer.echo(f"{len(products)} SYNTHETIC products in {dest} (records: {dest / 'catalogue.json'})")


@app.command("real")
def real_command(
    fixtures: Annotated[
        Path | None, typer.Option(help="The fixtures folder; default ../shared/fixtures.")
    ] = None,
) -> None:
    """Print the catalogue records of the real raster fixtures as JSON."""
    products = real_products(fixtures or fixtures_dir(project_root()))
    typer.echo(json.dumps(_catalogue(products), indent=1))
