"""The module repository: one bare git repository per module under a folder (or fetched from a remote)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from everest_elearn.errors import InvalidInput, NotFound, UpstreamError

MODULE_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")


class ModuleRepository:
    """Module ``m`` lives in ``<root>/m.git``; developers push to it like to any git remote."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, name: str) -> Path:
        if not MODULE_NAME.match(name):
            raise InvalidInput("module", f"{name!r} is not a valid module name")
        return self.root / f"{name}.git"

    async def _git(self, *args: str, cwd: Path | None = None) -> bytes:
        process = await asyncio.create_subprocess_exec(
            "git",
            *args,
            cwd=cwd,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={"GIT_TERMINAL_PROMPT": "0", "PATH": "/usr/local/bin:/usr/bin:/bin"},
        )
        out, err = await process.communicate()
        if process.returncode:
            raise UpstreamError(
                f"git {args[0]} failed: {err.decode(errors='replace').strip()[-300:]}"
            )
        return out

    async def create(self, name: str) -> Path:
        """An empty bare repository for a new module (idempotent)."""
        path = self.path(name)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            await self._git("init", "--bare", "--initial-branch=main", str(path))
        return path

    async def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name[: -len(".git")] for p in self.root.glob("*.git") if p.is_dir())

    async def fetch(self, name: str, remote: str) -> None:
        """Mirror a remote repository the administrator configured into the local one."""
        if remote.startswith("-"):
            raise InvalidInput("remote", f"{remote!r} is not a git URL or path")
        path = await self.create(name)
        await self._git(
            "--git-dir",
            str(path),
            "fetch",
            "--prune",
            remote,
            "+refs/heads/*:refs/heads/*",
            "+refs/tags/*:refs/tags/*",
        )

    async def resolve(self, name: str, ref: str) -> str:
        """The commit a branch, tag or commit id points at now."""
        path = self.path(name)
        if not path.is_dir():
            raise NotFound("module", name)
        if ref.startswith("-") or ".." in ref:
            raise InvalidInput("ref", f"{ref!r} is not a git ref")
        try:
            out = await self._git(
                "--git-dir", str(path), "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"
            )
        except UpstreamError:
            raise NotFound(f"ref of module {name!r}", ref) from None
        return out.decode().strip()

    async def archive(self, name: str, commit: str, prefix: str) -> bytes:
        """A tar of the module's files at ``commit``, each path under ``prefix``."""
        if not re.fullmatch(r"[0-9a-f]{40,64}", commit):
            raise InvalidInput("commit", f"{commit!r} is not a commit id")
        return await self._git(
            "--git-dir",
            str(self.path(name)),
            "archive",
            "--format=tar",
            f"--prefix={prefix}",
            commit,
        )
