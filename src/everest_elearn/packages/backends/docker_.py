"""Docker volumes: filled through the engine, or through their mount point when it is on this host.

Through the engine, files travel as a tar stream ``put_archive``-d into a helper container created
from a one-file image imported locally (no registry, no pull); it mounts the volume and is never
started: the engine mounts a stopped container's volumes for archive requests, so no process of
ours runs inside it. That works with any engine, local or remote.

When the engine listens on a local socket and the volume is a plain ``local`` volume whose mount
point this process may write (root), files are written there directly instead: the same bytes on
the same disk without the tar stream and the engine in between (``host_access``; off forces the
engine path, as with a remote engine).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import logging
import os
import posixpath
import shutil
import tarfile
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import docker.errors
from docker.client import DockerClient
from docker.types import Mount

from everest_elearn.errors import BackendUnavailable, Conflict, InvalidInput, NotFound
from everest_elearn.packages.backends.docker_stream import (
    CHUNK,
    MOUNT,
    DockerWriter,
    StreamReader,
)
from everest_elearn.packages.backends.hostfiles import (
    DirectoryWriter,
    empty_dir,
    export_from,
    read_inside,
    walk_files,
)
from everest_elearn.packages.volumes import (
    Capabilities,
    FileEntry,
    VolumeInfo,
    VolumeWriter,
    check_owner,
    check_path,
    check_volume_name,
)

log = logging.getLogger(__name__)

HELPER_IMAGE = "everest/volume-helper:1"


class DockerVolumes:
    """Named Docker volumes (driver ``local``), labelled, filled and read through the engine."""

    backend = "docker"
    capabilities = Capabilities(engine=True, host_path=False)

    def __init__(
        self, client: Any, helper_image: str = HELPER_IMAGE, host_access: bool = False
    ) -> None:
        self.client = client
        self.helper_image = helper_image
        # Read and write volumes through their mount points on this host (see the docstring).
        self.host_access = host_access
        self._image_lock = asyncio.Lock()
        self._image_ready = False

    @classmethod
    def connect(
        cls, base_url: str | None = None, timeout: int = 120, host_access: bool = True
    ) -> DockerVolumes:
        """Connect and ping; BackendUnavailable when no engine answers.

        ``host_access`` is honoured only for an engine on a local socket: a remote engine's mount
        points are on another machine, whatever folders of the same name exist here.
        """
        url = base_url or "unix:///var/run/docker.sock"
        try:
            client = DockerClient(base_url=url, timeout=timeout)
            client.ping()
        except Exception as exc:
            raise BackendUnavailable("docker engine") from exc
        return cls(client, host_access=host_access and url.startswith(("unix://", "/")))

    def describe(self) -> str:
        version = self.client.version().get("Version", "?")
        how = "mount points on this host" if self.host_access else "the engine's archive API"
        return (
            f"Docker volumes through the engine {version} at {self.client.api.base_url} "
            f"(files through {how})"
        )

    def _info(self, volume: Any) -> VolumeInfo:
        labels = volume.attrs.get("Labels") or {}
        return VolumeInfo(volume.name, self.backend, "volume", volume.name, dict(labels))

    async def _call(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await asyncio.to_thread(function, *args, **kwargs)
        except docker.errors.NotFound:
            raise
        except docker.errors.APIError as exc:
            if exc.status_code == 409:
                raise Conflict(str(exc.explanation)) from exc
            raise BackendUnavailable("docker engine") from exc
        except Exception as exc:
            if isinstance(exc, (NotFound, Conflict, InvalidInput)):
                raise
            raise BackendUnavailable("docker engine") from exc

    async def create(self, name: str, labels: Mapping[str, str]) -> VolumeInfo:
        volume = await self._call(
            self.client.volumes.create,
            name=check_volume_name(name),
            driver="local",
            labels=dict(labels),
        )
        # The engine returns an existing volume as it is, with the labels it was made with.
        return check_owner(self._info(volume), labels)

    async def get(self, name: str) -> VolumeInfo | None:
        try:
            return self._info(await self._call(self.client.volumes.get, check_volume_name(name)))
        except docker.errors.NotFound:
            return None

    async def list(self, labels: Mapping[str, str] | None = None) -> list[VolumeInfo]:
        wanted = [f"{k}={v}" for k, v in (labels or {}).items()] or ["everest.kind"]
        volumes = await self._call(self.client.volumes.list, filters={"label": wanted})
        return sorted((self._info(v) for v in volumes), key=lambda v: v.name)

    async def remove(self, name: str) -> bool:
        try:
            volume = await self._call(self.client.volumes.get, check_volume_name(name))
        except docker.errors.NotFound:
            return False
        # Our own stopped helpers may still reference it (after a crash): they go first.
        for helper in await self._call(
            self.client.containers.list,
            all=True,
            filters={"volume": name, "label": "everest.helper"},
        ):
            await self._call(helper.remove, force=True)
        await self._call(volume.remove)
        return True

    async def empty(self, name: str) -> None:
        direct = await self._host_dir(check_volume_name(name), write=True)
        if direct is not None:
            await asyncio.to_thread(empty_dir, direct)
            return
        async with self._helper((name, MOUNT, False)) as container:
            # The archive API deletes nothing, but unpacking a file over a folder first removes
            # the folder with all it holds: a file over the mount point empties the volume, then
            # the engine fails to remove the mount point itself (busy), which is expected.
            with contextlib.suppress(BackendUnavailable, Conflict):
                await self._call(self._file_over_mount, container)
            left = await self._call(self._first_entry, container)
        if left is not None:
            raise BackendUnavailable(f"docker engine (could not empty {name}: {left} remains)")

    def _file_over_mount(self, container: str) -> None:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as archive:
            archive.addfile(tarfile.TarInfo(MOUNT.strip("/")), io.BytesIO(b""))
        self.client.api.put_archive(container, "/", data=buffer.getvalue())

    def _first_entry(self, container: str) -> str | None:
        stream, _ = self.client.api.get_archive(container, f"{MOUNT}/.", chunk_size=CHUNK)
        names = []
        with tarfile.open(fileobj=StreamReader(stream), mode="r|") as archive:
            names = [posixpath.normpath(member.name) for member in archive]
        return next((n for n in names if n not in (".", "")), None)

    async def local_path(self, name: str) -> Path | None:
        """The volume's mount point when the engine runs on this host and we may read it."""
        return await self._host_dir(name, write=False)

    async def _host_dir(self, name: str, write: bool) -> Path | None:
        if not self.host_access:
            return None
        try:
            volume = await self._call(self.client.volumes.get, check_volume_name(name))
        except docker.errors.NotFound:
            return None
        # Driver options (NFS, tmpfs, bind) mean the mount point holds the files only while a
        # container mounts the volume: those go through the engine.
        if volume.attrs.get("Driver") != "local" or volume.attrs.get("Options"):
            return None
        mountpoint = Path(volume.attrs.get("Mountpoint") or "/nonexistent")
        usable = await asyncio.to_thread(_usable_dir, mountpoint, write)
        return mountpoint if usable else None

    async def _ensure_image(self) -> None:
        async with self._image_lock:
            if self._image_ready:
                return
            try:
                await self._call(self.client.images.get, self.helper_image)
            except docker.errors.NotFound:
                await self._call(self._import_helper)
            self._image_ready = True

    def _import_helper(self) -> None:
        # A one-file image, imported rather than pulled: works without any registry.
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as archive:
            info = tarfile.TarInfo("helper")
            info.size, info.mode = 0, 0o755
            archive.addfile(info, io.BytesIO(b""))
        repository, _, tag = self.helper_image.partition(":")
        self.client.api.import_image_from_data(
            buffer.getvalue(),
            repository=repository,
            tag=tag or "latest",
            changes=['CMD ["/helper"]'],
        )

    @asynccontextmanager
    async def _helper(self, *mounts: tuple[str, str, bool]) -> AsyncIterator[str]:
        """A stopped container with ``(volume, target, read_only)`` mounts; removed afterwards."""
        await self._ensure_image()
        for volume, _, _ in mounts:
            if await self.get(volume) is None:
                raise NotFound("volume", volume)
        host_config = self.client.api.create_host_config(
            mounts=[
                Mount(target, volume, type="volume", read_only=ro) for volume, target, ro in mounts
            ],
            network_mode="none",
        )
        created = await self._call(
            self.client.api.create_container,
            self.helper_image,
            name=f"everest-helper-{uuid.uuid4().hex[:12]}",
            host_config=host_config,
            labels={"everest.helper": "1"},
            network_disabled=True,
        )
        container = created["Id"]
        try:
            yield container
        finally:
            await self._call(self.client.api.remove_container, container, force=True)

    @asynccontextmanager
    async def writer(self, name: str) -> AsyncIterator[VolumeWriter]:
        direct = await self._host_dir(check_volume_name(name), write=True)
        if direct is not None:
            yield DirectoryWriter(direct)
            return
        async with self._helper((check_volume_name(name), MOUNT, False)) as container:
            writer = DockerWriter(self.client.api, container)
            try:
                yield writer
            except BaseException:
                await writer.abort()
                raise
            await writer.flush()

    async def read(self, name: str, path: str) -> bytes:
        check_path(path)
        direct = await self._host_dir(check_volume_name(name), write=False)
        if direct is not None:
            return await asyncio.to_thread(read_inside, direct, path, name)
        async with self._helper((check_volume_name(name), MOUNT, True)) as container:
            try:
                data = await self._call(self._get_archive, container, f"{MOUNT}/{path}")
            except docker.errors.NotFound as exc:
                raise NotFound("file", f"{name}/{path}") from exc
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            member = archive.next()
            extracted = archive.extractfile(member) if member is not None else None
            if extracted is None:
                raise NotFound("file", f"{name}/{path}")
            return extracted.read()

    def _get_archive(self, container: str, path: str) -> bytes:
        stream, _ = self.client.api.get_archive(container, path)
        return b"".join(stream)

    async def copy(self, source: str, target: str) -> None:
        async with self._helper(
            (check_volume_name(source), "/src", True), (check_volume_name(target), MOUNT, False)
        ) as container:
            await self._call(self._pipe, container)

    async def files(self, name: str) -> Sequence[FileEntry]:
        direct = await self._host_dir(check_volume_name(name), write=False)
        if direct is not None:
            return await asyncio.to_thread(walk_files, direct)
        async with self._helper((name, MOUNT, True)) as container:
            found = await self._call(self._scan, container)
        return sorted(found, key=lambda f: f.path)

    def _scan(self, container: str) -> Sequence[FileEntry]:
        # The whole volume as one tar stream, hashed as it passes: nothing is held or stored.
        stream, _ = self.client.api.get_archive(container, f"{MOUNT}/.", chunk_size=CHUNK)
        found = []
        with tarfile.open(fileobj=StreamReader(stream), mode="r|") as archive:
            for member in archive:
                if not member.isreg():
                    continue
                digest = hashlib.sha256()
                extracted = archive.extractfile(member)
                assert extracted is not None
                while block := extracted.read(CHUNK):
                    digest.update(block)
                path = posixpath.normpath(member.name).lstrip("/")
                found.append(FileEntry(path, member.size, digest.hexdigest()))
        return found

    async def export(self, name: str, paths: Sequence[str], into: Path) -> None:
        for path in paths:
            check_path(path)
        direct = await self._host_dir(check_volume_name(name), write=False)
        if direct is not None:
            await asyncio.to_thread(export_from, direct, list(paths), into, name)
            return
        async with self._helper((name, MOUNT, True)) as container:
            for path in paths:
                try:
                    await self._call(self._export_one, container, path, into / path)
                except docker.errors.NotFound as exc:
                    raise NotFound("file", f"{name}/{path}") from exc

    def _export_one(self, container: str, path: str, target: Path) -> None:
        stream, _ = self.client.api.get_archive(container, f"{MOUNT}/{path}", chunk_size=CHUNK)
        with tarfile.open(fileobj=StreamReader(stream), mode="r|") as archive:
            member = archive.next()
            # A link in a user's volume is archived as a link: it is not a file to export.
            if member is None or not member.isreg():
                raise NotFound("file", path)
            extracted = archive.extractfile(member)
            assert extracted is not None
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("wb") as handle:
                shutil.copyfileobj(extracted, handle, CHUNK)

    def _pipe(self, container: str) -> None:
        # "/src/." archives the folder's contents; the stream goes straight back in, never to disk.
        stream, _ = self.client.api.get_archive(container, "/src/.")
        if not self.client.api.put_archive(container, MOUNT, data=stream):
            raise BackendUnavailable("docker engine (put_archive refused)")


def _usable_dir(path: Path, write: bool) -> bool:
    mode = os.R_OK | os.X_OK | (os.W_OK if write else 0)
    return path.is_dir() and not path.is_symlink() and os.access(path, mode)
