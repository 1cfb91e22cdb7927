"""LocalCourseSpawner: no Docker engine, so each server is a local process; packages are folders.

For ``everest-elearn up`` on a machine without a container engine (a demo or a laptop). The
user's home is a folder under the hub's state; each package of their courses appears as
``~/data/<name>``, the package's folder (the packages' directory backend) mounted read-only in
the server's own mount namespace (see readonly; a plain link where the machine allows no such
namespace, said in the log), and the course modules are merged in exactly as in a container.
There is no other isolation between users: this is never the production setup, and
``everest-elearn up`` says so at start.
"""

from __future__ import annotations

import asyncio
import io
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from jupyterhub.spawner import SimpleLocalProcessSpawner
from traitlets import Unicode

from everest_elearn.courses.backends.sqlite import SqliteCourseStore
from everest_elearn.courses.service import CourseService
from everest_elearn.hub.readonly import USER_PREFIX, mount_prefix, read_only_command
from everest_elearn.modules.merge import merge
from everest_elearn.modules.repository import ModuleRepository


class LocalCourseSpawner(SimpleLocalProcessSpawner):  # type: ignore[misc]
    """Course packages as read-only folders and modules merged into a per-user home folder."""

    courses_db = Unicode("", config=True, help="SQLite file of the courses service.")
    modules_dir = Unicode("", config=True, help="Folder of bare git repositories of modules.")
    packages_root = Unicode(
        "",
        config=True,
        help="Folder holding one folder per package volume (everest-pkg-<name>-<version>).",
    )

    cmd: Any  # the Spawner trait (annotated only, for the type checker)
    _base_cmd: list[str] | None = None
    _as_root_in_namespace = False

    async def start(self) -> Any:
        packages = await self.prepare_home()
        if self._base_cmd is None:
            self._base_cmd = list(self.cmd)  # as configured
        self.cmd = list(self._base_cmd)
        self._as_root_in_namespace = False
        prefix = await asyncio.to_thread(mount_prefix) if packages else None
        if prefix is not None:
            self.cmd = read_only_command(prefix, packages, self._base_cmd)
            self._as_root_in_namespace = prefix == USER_PREFIX
        elif packages:
            self.log.warning(
                "no private mount namespace here: the packages of %s are plain links, not "
                "read-only for the server",
                self.user.name,
            )
            for source, target in packages:
                target.rmdir()
                target.symlink_to(source, target_is_directory=True)
        return await super().start()

    def get_args(self) -> list[str]:
        args: list[str] = super().get_args()
        if self._as_root_in_namespace and "--allow-root" not in args:
            args.append("--allow-root")  # the server is root inside its user namespace
        return args

    async def prepare_home(self) -> list[tuple[Path, Path]]:
        """Make the home; (package folder, empty folder in ~/data) pairs to mount read-only."""
        home = Path(self.home_dir)
        (home / "data").mkdir(parents=True, exist_ok=True)
        (home / "results").mkdir(exist_ok=True)
        if not self.courses_db:
            return []
        service = CourseService(SqliteCourseStore(Path(self.courses_db)))
        repository = ModuleRepository(Path(self.modules_dir))
        packages = []
        for course, _ in await service.courses_of(self.user.name):
            for package in course.packages:
                source = Path(self.packages_root) / f"everest-pkg-{package.name}-{package.version}"
                folder = home / "data" / package.name
                if folder.is_symlink():
                    folder.unlink()  # a link of an earlier server
                if source.is_dir():
                    folder.mkdir(exist_ok=True)
                    packages.append((source, folder))
            for pin in course.modules:
                try:
                    commit = await repository.resolve(pin.name, pin.ref)
                except Exception as error:  # one unpublished module must not stop the server
                    self.log.warning("module %s of %s: %s", pin.name, course.id, error)
                    continue
                data = await repository.archive(pin.name, commit, "m/")
                target = home / "courses" / course.id / pin.name
                await asyncio.to_thread(_merge_archive, data, target, pin.ref, commit)
                await service.store.put_sync(self.user.name, course.id, pin.name, commit)
        return packages


def _merge_archive(data: bytes, target: Path, ref: str, commit: str) -> None:
    with tempfile.TemporaryDirectory() as tmp, tarfile.open(fileobj=io.BytesIO(data)) as archive:
        archive.extractall(tmp, filter="data")
        merge(Path(tmp) / "m", target, ref, commit)
