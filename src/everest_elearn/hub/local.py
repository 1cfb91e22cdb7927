"""LocalCourseSpawner: no Docker engine, so each server is a local process; packages are folders.

For ``everest-elearn up`` on a machine without a container engine (a demo or a laptop). The
user's home is a folder under the hub's state; each package of their courses appears as
``~/data/<name>``, a link to the package's folder (the packages' directory backend), and the
course modules are merged in exactly as in a container. There is no isolation between users:
this is never the production setup, and the hub says so at start.
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
from everest_elearn.modules.merge import merge
from everest_elearn.modules.repository import ModuleRepository


class LocalCourseSpawner(SimpleLocalProcessSpawner):  # type: ignore[misc]
    """Course packages linked as folders and modules merged into a per-user home folder."""

    courses_db = Unicode("", config=True, help="SQLite file of the courses service.")
    modules_dir = Unicode("", config=True, help="Folder of bare git repositories of modules.")
    packages_root = Unicode(
        "",
        config=True,
        help="Folder holding one folder per package volume (everest-pkg-<name>-<version>).",
    )

    async def start(self) -> Any:
        await self.prepare_home()
        return await super().start()

    async def prepare_home(self) -> None:
        home = Path(self.home_dir)
        (home / "data").mkdir(parents=True, exist_ok=True)
        (home / "results").mkdir(exist_ok=True)
        if not self.courses_db:
            return
        service = CourseService(SqliteCourseStore(Path(self.courses_db)))
        repository = ModuleRepository(Path(self.modules_dir))
        for course, _ in await service.courses_of(self.user.name):
            for package in course.packages:
                source = Path(self.packages_root) / f"everest-pkg-{package.name}-{package.version}"
                link = home / "data" / package.name
                if source.is_dir() and not link.exists():
                    link.symlink_to(source, target_is_directory=True)
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


def _merge_archive(data: bytes, target: Path, ref: str, commit: str) -> None:
    with tempfile.TemporaryDirectory() as tmp, tarfile.open(fileobj=io.BytesIO(data)) as archive:
        archive.extractall(tmp, filter="data")
        merge(Path(tmp) / "m", target, ref, commit)
