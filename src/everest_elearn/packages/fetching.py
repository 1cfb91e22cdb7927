"""One file of a package, fetched through the gateway into the volume and checked.

A hit of the gateway's local store is copied in one step (``cached.py``); anything else is
streamed, hashed on the way, and its checksum compared with the catalogue's.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from everest_elearn.errors import TooLarge, UpstreamError
from everest_elearn.gateway.delivery import FileStream
from everest_elearn.packages.cached import stored_path
from everest_elearn.packages.manifest import ManifestFile
from everest_elearn.packages.plan import PlannedFile
from everest_elearn.packages.progress import BuildProgress
from everest_elearn.packages.spec import PackageSpec
from everest_elearn.packages.volumes import FileCopier, VolumeWriter
from everest_elearn.security.identity import Identity

if TYPE_CHECKING:
    from everest_elearn.packages.builder import FileGateway


@dataclass(frozen=True)
class Budget:
    """Bytes a file may still take, and the limit that sets it (``max_size``, ``contents.N...``)."""

    left: int
    limit: str

    def check(self, key: str, size: int) -> None:
        if size > self.left:
            raise TooLarge(
                f"{self.limit}: {key} brings more than the {self.left} bytes left of it; "
                "nothing of it is kept"
            )


class Usage:
    """Bytes taken so far by the whole package and by each entry of its contents."""

    def __init__(self, spec: PackageSpec) -> None:
        self.spec = spec
        self.total = 0
        self.by_content: dict[int, int] = {}

    def take(self, content: int, size: int) -> None:
        self.total += size
        self.by_content[content] = self.by_content.get(content, 0) + size

    def budget(self, content: int) -> Budget:
        budget = Budget(self.spec.max_size - self.total, "max_size")
        limit = self.spec.contents[content].max_size
        if limit is not None and limit - self.by_content.get(content, 0) < budget.left:
            budget = Budget(limit - self.by_content.get(content, 0), f"contents.{content}.max_size")
        return budget


async def _chunks(
    stream: FileStream, hashers: list[Any], progress: BuildProgress, path: str, budget: Budget
) -> AsyncIterator[bytes]:
    received = 0
    async for chunk in stream:
        received += len(chunk)
        budget.check(path, received)  # a stream longer than announced stops here
        for hasher in hashers:
            hasher.update(chunk)
        progress.advance(path, len(chunk))
        yield chunk


class FileFetcher:
    """Copies planned files from the gateway into a volume writer."""

    def __init__(self, gateway: FileGateway, verify_cached: bool = False) -> None:
        self.gateway = gateway
        self.verify_cached = verify_cached

    async def copy(
        self,
        planned: PlannedFile,
        writer: VolumeWriter,
        identity: Identity,
        progress: BuildProgress,
        budget: Budget,
    ) -> ManifestFile:
        """The file copied and checked; TooLarge, before a byte is written, when its size does not
        fit ``budget`` (a catalogue without sizes leaves the spec's limits to this point)."""
        key = f"{planned.record.identifier}/{planned.file_name}"
        stream = await self.gateway.open(planned.record, planned.file_name, identity)
        async with stream:
            size = stream.size if stream.size is not None else planned.size
            if size is None:
                raise UpstreamError(f"{key}: neither the catalogue nor the provider gives its size")
            if planned.size is not None and size != planned.size:
                raise UpstreamError(
                    f"{key}: the provider sends {size} bytes, the catalogue says {planned.size}"
                )
            budget.check(key, size)
            expected = planned.link.checksum
            algorithm, _, digest = (expected or "").partition(":")
            progress.file(planned.path, "fetching", done=0, origin=stream.origin.value)
            copied = await self._copy_stored(planned, stream, writer, identity, size, progress)
            if copied is not None:
                file_sha256 = received = copied
            else:
                sha256 = hashlib.sha256()
                hashers: list[Any] = [sha256]
                if expected and algorithm != "sha256":
                    hashers.append(hashlib.new(algorithm))
                chunks = _chunks(stream, hashers, progress, planned.path, budget)
                try:
                    await writer.write(planned.path, chunks, size)
                except UpstreamError as exc:
                    # The gateway's stream errors (checksum, cut off) do not name the file.
                    progress.file(planned.path, "failed")
                    raise UpstreamError(f"{key}: {exc}") from exc
                file_sha256, received = sha256.hexdigest(), hashers[-1].hexdigest()
        if expected and received != digest.lower():
            progress.file(planned.path, "failed")
            raise UpstreamError(
                f"{key}: checksum mismatch (catalogue {algorithm}:{digest.lower()}, "
                f"received {algorithm}:{received})"
            )
        progress.file(planned.path, "written")
        return ManifestFile(
            path=planned.path,
            size=size,
            sha256=file_sha256,
            product=planned.record.identifier,
            collection=planned.record.parent_identifier,
            file_name=planned.file_name,
            source=planned.link.href,
            strategy=stream.strategy.value,
            rule=stream.rule,
            origin=stream.origin.value,
            media_type=stream.media_type or planned.link.type,
        )

    async def _copy_stored(
        self,
        planned: PlannedFile,
        stream: FileStream,
        writer: VolumeWriter,
        identity: Identity,
        size: int,
        progress: BuildProgress,
    ) -> str | None:
        """A hit of the gateway's local store copied in one step (``cached.py``); its SHA-256.

        None when that does not apply: the caller streams the file instead. The gateway computed
        the stored file's SHA-256 when it kept it and matched it with the catalogue's, so it is not
        hashed again unless ``packages.verify_cached`` asks for it.
        """
        expected = (planned.link.checksum or "sha256:").lower()
        if not isinstance(writer, FileCopier) or not expected.startswith("sha256:"):
            return None
        source = await stored_path(
            self.gateway, planned.record, planned.file_name, identity, stream
        )
        if source is None:
            return None

        def advance(step: int) -> None:
            progress.advance(planned.path, step)

        try:
            digest = await writer.copy_file(planned.path, source, size, advance, self.verify_cached)
        except FileNotFoundError:
            return None  # evicted since the gateway answered: stream it after all
        return digest or (stream.checksum or "").removeprefix("sha256:")
