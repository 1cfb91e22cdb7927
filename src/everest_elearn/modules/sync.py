"""Bring pinned modules into a running container: upload the files, merge them in as the user."""

from __future__ import annotations

import asyncio
import io
import json
import secrets
import tarfile
from pathlib import Path
from typing import Any, Protocol

from everest_elearn.courses.model import ModulePin
from everest_elearn.errors import EverestError
from everest_elearn.modules import merge
from everest_elearn.modules.repository import ModuleRepository

# Inside the participant's container (its own /tmp), never on the hub's host.
STAGING_ROOT = "/tmp"  # noqa: S108


class Container(Protocol):
    """What the sync needs of a running container (the spawner provides it)."""

    container_id: str

    async def docker(self, method: str, *args: Any, **kwargs: Any) -> Any: ...

    async def exec(self, cmd: list[str], user: str | None = None) -> str: ...


class ModuleSyncer:
    """Stages each pinned module at its commit in the container and runs ``merge.py`` there."""

    def __init__(self, repository: ModuleRepository, modules_path: str, uid: int = 1000) -> None:
        self.repository = repository
        self.modules_path = modules_path.rstrip("/")
        # Staged files belong to the notebook user, so the merge (run as that user) removes them.
        self.uid = uid

    async def bundle(
        self, modules: list[tuple[str, ModulePin]], staging: str = "everest-sync"
    ) -> tuple[bytes, list[dict[str, str]], list[dict[str, str]]]:
        """One tar: merge.py plus every module's files; what was resolved, and what could not be."""
        buffer = io.BytesIO()
        resolved = []
        missing = []
        with tarfile.open(fileobj=buffer, mode="w") as out:
            script = await asyncio.to_thread(Path(merge.__file__).read_bytes)
            self._dir(out, staging)
            info = tarfile.TarInfo(f"{staging}/merge.py")
            info.size, info.mode, info.uid, info.gid = len(script), 0o644, self.uid, self.uid
            out.addfile(info, io.BytesIO(script))
            courses = set()
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
                if course_id not in courses:
                    self._dir(out, f"{staging}/{course_id}")
                    courses.add(course_id)
                prefix = f"{staging}/{course_id}/{pin.name}/"
                data = await self.repository.archive(pin.name, commit, prefix)
                with tarfile.open(fileobj=io.BytesIO(data)) as archive:
                    for member in archive.getmembers():
                        if (
                            member.name.startswith(prefix)
                            and not member.issym()
                            and not member.islnk()
                        ):
                            member.uid = member.gid = self.uid
                            member.mode = 0o755 if member.isdir() else 0o644
                            out.addfile(
                                member, archive.extractfile(member) if member.isfile() else None
                            )
                resolved.append(
                    {"course": course_id, "module": pin.name, "ref": pin.ref, "commit": commit}
                )
        return buffer.getvalue(), resolved, missing

    def _dir(self, out: tarfile.TarFile, name: str) -> None:
        info = tarfile.TarInfo(name)
        info.type, info.mode, info.uid, info.gid = tarfile.DIRTYPE, 0o755, self.uid, self.uid
        out.addfile(info)

    async def sync(
        self, container: Container, modules: list[tuple[str, ModulePin]]
    ) -> list[dict[str, Any]]:
        """Merge every module into ``<modules_path>/<course>/<module>``; returns each summary."""
        if not modules:
            return []
        name = f"everest-sync-{secrets.token_hex(4)}"
        staging = f"{STAGING_ROOT}/{name}"
        data, resolved, missing = await self.bundle(modules, name)
        if not resolved:
            return missing
        # One upload and one command, whatever the number of modules: spawn time matters.
        await container.docker("put_archive", container.container_id, STAGING_ROOT, data)
        cmd = ["python3", f"{staging}/merge.py", "--remove", staging]
        for item in resolved:
            cmd += [
                "--module",
                f"{staging}/{item['course']}/{item['module']}",
                f"{self.modules_path}/{item['course']}/{item['module']}",
                item["ref"],
                item["commit"],
            ]
        out = await container.exec(cmd)
        merged = json.loads(out.strip().splitlines()[-1])
        return [*missing, *({**item, **m} for item, m in zip(resolved, merged, strict=True))]

    async def sync_all(self, container: Container, plan: Any) -> list[dict[str, Any]]:
        return await self.sync(container, list(plan.modules))
