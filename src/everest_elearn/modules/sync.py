"""Bring pinned modules into a running container: upload the files, merge them in as the user."""

from __future__ import annotations

import asyncio
import io
import json
import tarfile
from pathlib import Path
from typing import Any, Protocol

from everest_elearn.courses.model import ModulePin
from everest_elearn.errors import EverestError
from everest_elearn.modules import merge
from everest_elearn.modules.repository import ModuleRepository

# Inside the participant's container (its own /tmp), never on the hub's host.
STAGING = "/tmp/everest-sync"  # noqa: S108


class Container(Protocol):
    """What the sync needs of a running container (the spawner provides it)."""

    container_id: str

    async def docker(self, method: str, *args: Any, **kwargs: Any) -> Any: ...

    async def exec(self, cmd: list[str], user: str | None = None) -> str: ...


class ModuleSyncer:
    """Stages each pinned module at its commit in the container and runs ``merge.py`` there."""

    def __init__(self, repository: ModuleRepository, modules_path: str) -> None:
        self.repository = repository
        self.modules_path = modules_path.rstrip("/")

    async def bundle(
        self, modules: list[tuple[str, ModulePin]]
    ) -> tuple[bytes, list[dict[str, str]], list[dict[str, str]]]:
        """One tar: merge.py plus every module's files; what was resolved, and what could not be."""
        buffer = io.BytesIO()
        resolved = []
        missing = []
        with tarfile.open(fileobj=buffer, mode="w") as out:
            script = await asyncio.to_thread(Path(merge.__file__).read_bytes)
            info = tarfile.TarInfo("everest-sync/merge.py")
            info.size, info.mode = len(script), 0o644
            out.addfile(info, io.BytesIO(script))
            for course_id, pin in modules:
                try:
                    commit = await self.repository.resolve(pin.name, pin.ref)
                except EverestError as error:
                    # One unpublished module must not keep the participant out of their server.
                    missing.append(
                        {
                            "course": course_id,
                            "module": pin.name,
                            "ref": pin.ref,
                            "error": str(error),
                        }
                    )
                    continue
                prefix = f"everest-sync/{course_id}/{pin.name}/"
                data = await self.repository.archive(pin.name, commit, prefix)
                with tarfile.open(fileobj=io.BytesIO(data)) as archive:
                    for member in archive.getmembers():
                        if (
                            member.name.startswith(prefix)
                            and not member.issym()
                            and not member.islnk()
                        ):
                            member.uid = member.gid = 0
                            member.mode = 0o755 if member.isdir() else 0o644
                            out.addfile(
                                member, archive.extractfile(member) if member.isfile() else None
                            )
                resolved.append(
                    {"course": course_id, "module": pin.name, "ref": pin.ref, "commit": commit}
                )
        return buffer.getvalue(), resolved, missing

    async def sync(
        self, container: Container, modules: list[tuple[str, ModulePin]]
    ) -> list[dict[str, Any]]:
        """Merge every module into ``<modules_path>/<course>/<module>``; returns each summary."""
        if not modules:
            return []
        data, resolved, missing = await self.bundle(modules)
        if not resolved:
            return missing
        await container.exec(["rm", "-rf", STAGING], user="0")
        await container.docker("put_archive", container.container_id, "/tmp", data)  # noqa: S108
        results: list[dict[str, Any]] = list(missing)
        try:
            for item in resolved:
                source = f"{STAGING}/{item['course']}/{item['module']}"
                target = f"{self.modules_path}/{item['course']}/{item['module']}"
                out = await container.exec(
                    [
                        "python3",
                        f"{STAGING}/merge.py",
                        source,
                        target,
                        "--ref",
                        item["ref"],
                        "--commit",
                        item["commit"],
                    ]
                )
                results.append({**item, **json.loads(out.strip().splitlines()[-1])})
        finally:
            await container.exec(["rm", "-rf", STAGING], user="0")
        return results

    async def sync_all(self, container: Container, plan: Any) -> list[dict[str, Any]]:
        return await self.sync(container, list(plan.modules))
