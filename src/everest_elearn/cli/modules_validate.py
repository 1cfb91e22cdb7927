"""``everest-elearn modules validate PATH`` and ``modules samples DEST`` (registered by cli/modules.py).

``validate`` checks a module folder (or a folder of modules): its metadata and package spec, then
finds or builds its package on this agency and runs its notebook inside the notebook image, and
prints every failing cell by number. ``samples`` writes the course data the modules' packages
are built from, with a catalogue file to ingest.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from pathlib import Path
from typing import Annotated

import typer
from pydantic import SecretStr
from rich.console import Console

from everest_elearn.errors import InvalidInput
from everest_elearn.modules.validate import Module, Runtime, Validation, load_module, validate
from everest_elearn.security.identity import Identity, Role
from everest_elearn.settings import Settings, load_settings

console = Console()
# The CLI runs on the agency's host: it acts as the local administrator (as `packages build`).
OPERATOR = Identity("cli", frozenset({Role.ADMIN}))


def module_folders(path: Path) -> list[Path]:
    """``path`` itself when it holds module.yaml, else every direct subfolder that does."""
    if (path / "module.yaml").is_file():
        return [path]
    found = sorted(
        p.parent for p in path.glob("*/module.yaml") if not p.parent.name.startswith("_")
    )
    if not found:
        raise InvalidInput(str(path), "no module.yaml here or in its subfolders")
    return found


def notebook_runtime(settings: Settings, image_id: str, password: SecretStr) -> Runtime:
    """What a module's notebook runs with; the hub gives its participants the same mount path
    and read-only database URL (hub.config), so a module's results there are the validated ones."""
    from everest_elearn.packages.datacube import DatacubeIndex

    reader = DatacubeIndex.from_settings(settings.datacube).reader_url(
        settings.datacube.readonly_role, password, host=settings.datacube.container_db_host
    )
    return Runtime(image_id, reader.get_secret_value(), settings.datacube.mount_root)


async def _run_all(settings: Settings, modules: list[Module], out: Path) -> list[Validation]:
    from everest_elearn.cli.packages import local_service
    from everest_elearn.images import ImageBuilder
    from everest_elearn.packages.datacube import DatacubeIndex

    if settings.datacube.db_url is None:
        raise InvalidInput("datacube.db_url", "set the ODC database (EVEREST_DATACUBE__DB_URL)")
    image = await ImageBuilder(settings.images).build("notebook")
    index = DatacubeIndex.from_settings(settings.datacube)
    password = settings.datacube.readonly_password or SecretStr(secrets.token_urlsafe(16))
    try:
        await index.ensure_readonly_role(settings.datacube.readonly_role, password)
    finally:
        await index.close()
    runtime = notebook_runtime(settings, image.image_id, password)
    outcomes = []
    async with local_service(settings) as service:
        for module in modules:
            console.print(
                f"[bold]{module.meta.id}[/]: package {module.spec.name} {module.spec.version}"
            )
            outcomes.append(await validate(module, service, OPERATOR, runtime, out))
    return outcomes


def validate_command(
    path: Annotated[
        Path,
        typer.Argument(
            exists=True, file_okay=False, help="A module folder or a folder of modules."
        ),
    ],
    out: Annotated[Path, typer.Option(help="Where the executed notebooks are written.")] = Path(
        "var/artifacts/notebooks"
    ),
    check_only: Annotated[
        bool, typer.Option("--check-only", help="Check metadata and specs; run nothing.")
    ] = False,
) -> None:
    """Check a module's metadata, find or build its package, run its notebook in the notebook image."""
    modules = [load_module(folder) for folder in module_folders(path)]
    for module in modules:
        console.print(f"[green]metadata ok[/]: {module.meta.id} ({module.meta.level.value}, "
                      f"package {module.spec.name} {module.spec.version})")  # fmt: skip
    if check_only:
        return
    outcomes = asyncio.run(_run_all(load_settings(), modules, out))
    failed = False
    for outcome in outcomes:
        if outcome.ok:
            console.print(
                f"[green]passed[/]: {outcome.module} (package {outcome.package}, {outcome.package_state}); {outcome.executed}"
            )
            continue
        failed = True
        console.print(f"[red]failed[/]: {outcome.module}; {outcome.executed}")
        for failure in outcome.failures:
            console.print(
                f"  cell {failure.cell}: {failure.error}: {failure.message}  [dim]{failure.source}[/]",
                markup=True,
            )
    if failed:
        raise typer.Exit(1)


def samples_command(
    dest: Annotated[Path, typer.Argument(help="Folder to write the course data into.")],
    base_url: Annotated[
        str | None, typer.Option(help="URL a provider will serve DEST at; default file://")
    ] = None,
    fixtures: Annotated[
        Path | None, typer.Option(help="The real fixtures; default ../shared/fixtures.")
    ] = None,
) -> None:
    """Write the modules' data (generated scenes, real fixtures copied) and DEST/catalogue.json."""
    from everest_elearn.eo.course_data import course_products
    from everest_elearn.images import project_root
    from everest_elearn.samples import fixtures_dir

    products = course_products(dest, base_url, fixtures or fixtures_dir(project_root()))
    collections = {p.collection.identifier: p.collection for p in products}
    document = {
        "collections": [c.model_dump(mode="json") for c in collections.values()],
        "products": [p.record.model_dump(mode="json") for p in products],
    }
    (dest / "catalogue.json").write_text(json.dumps(document, indent=1))
    console.print(
        f"{len(products)} products ({len(collections)} collections) in {dest}; records in {dest / 'catalogue.json'}"
    )
