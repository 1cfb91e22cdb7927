"""``everest-elearn modules``: the git-backed module repository that courses pin modules in."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from everest_elearn.modules.repository import ModuleRepository
from everest_elearn.settings import load_settings

app = typer.Typer(help="Course modules (one git repository each).", no_args_is_help=True)


def repository() -> ModuleRepository:
    settings = load_settings()
    return ModuleRepository(Path(settings.hub.modules_dir or settings.data_dir / "modules"))


@app.command("create")
def create(name: str) -> None:
    """Create an empty module repository; prints where developers push."""
    path = asyncio.run(repository().create(name))
    typer.echo(f"created {name}: git remote add platform {path}")


@app.command("list")
def list_modules() -> None:
    """The modules, with the commit their main branch points at."""

    async def work() -> list[tuple[str, str]]:
        repo = repository()
        out = []
        for name in await repo.names():
            try:
                out.append((name, (await repo.resolve(name, "main"))[:12]))
            except Exception:  # an empty repository has no main yet
                out.append((name, "(empty)"))
        return out

    for name, commit in asyncio.run(work()):
        typer.echo(f"{name}\t{commit}")


@app.command("resolve")
def resolve(
    name: str, ref: Annotated[str, typer.Argument(help="Branch, tag or commit.")] = "main"
) -> None:
    """The commit a module's ref points at now (what the next sync brings)."""
    typer.echo(asyncio.run(repository().resolve(name, ref)))


@app.command("fetch")
def fetch(name: str, remote: Annotated[str, typer.Argument(help="Any git URL or path.")]) -> None:
    """Mirror a module from a git remote the administrator trusts."""
    asyncio.run(repository().fetch(name, remote))
    typer.echo(f"fetched {name} from {remote}")


# Module developers' tools (notebook validation, course data): implemented in modules_validate.
from everest_elearn.cli.modules_validate import samples_command, validate_command  # noqa: E402

app.command("validate")(validate_command)
app.command("samples")(samples_command)
