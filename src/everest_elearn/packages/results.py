"""Results: every user's results volume, and snapshots of it published as read-only packages.

A share is a package of kind "share": its own volume (a copy, so later edits of the results do
not leak into it), a manifest, ODC entries for its GeoTIFFs (``rasters.py``; they point where the
hub mounts shares, ``packages.shares_mount``), the users/groups it is granted to. Only its owner
(or an administrator) can revoke it; revoking frees the volume, the datasets and the products.
A volume a grantee's running server still mounts is emptied at once (that server sees an empty
folder) and goes once the server stopped: the next look at the shares removes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from everest_elearn.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from everest_elearn.packages.claims import owns_volume
from everest_elearn.packages.indexing import OdcPackageIndex
from everest_elearn.packages.manifest import MANIFEST_PATH, READY_PATH, Manifest, ManifestFile
from everest_elearn.packages.rasters import RasterOutcome, index_rasters
from everest_elearn.packages.spec import NAME_PATTERN, volume_name
from everest_elearn.packages.state import Build, BuildState
from everest_elearn.packages.volumes import LABEL_KIND, LABEL_NAME, LABEL_OWNER, VolumeInfo
from everest_elearn.security.identity import Identity, Role

if TYPE_CHECKING:
    from everest_elearn.packages.datacube import DatacubeIndex
    from everest_elearn.packages.service import PackageService

RESULTS_PREFIX = "everest-results-"
_SLUG = re.compile(r"[^a-z0-9]+")
GRANT = re.compile(r"^(user|group|course):[A-Za-z0-9._@+-]{1,128}$")


def slug(subject: str) -> str:
    """A volume-safe, collision-resistant form of a user's subject."""
    readable = _SLUG.sub("-", subject.lower()).strip("-")[:24] or "user"
    return f"{readable}-{hashlib.sha256(subject.encode()).hexdigest()[:8]}"


def results_volume_name(subject: str) -> str:
    return RESULTS_PREFIX + slug(subject)


def _require_user(identity: Identity) -> str:
    if identity.subject is None:
        raise Unauthorized("a bearer token is required for results")
    return identity.subject


class ResultsService:
    """Results volumes and shares, on the packages service's volumes and registry."""

    def __init__(self, packages: PackageService) -> None:
        self.packages = packages
        self.volumes = packages.volumes
        self.state = packages.state

    async def results_volume(self, identity: Identity) -> VolumeInfo:
        """The caller's results volume, created on first use (the hub mounts it read-write)."""
        subject = _require_user(identity)
        return await self.volumes.create(
            results_volume_name(subject), {LABEL_KIND: "results", LABEL_OWNER: subject}
        )

    async def publish(self, identity: Identity, body: dict[str, Any]) -> dict[str, Any]:
        """Snapshot the caller's results as a read-only package granted to users/groups/courses."""
        subject = _require_user(identity)
        name = str(body.get("name", ""))
        if not re.fullmatch(NAME_PATTERN, name) or len(name) > 24:
            raise InvalidInput("name", "lower-case letters, digits and '-', at most 24 characters")
        grants = body.get("grant", [])
        if not isinstance(grants, list) or not all(
            isinstance(g, str) and GRANT.match(g) for g in grants
        ):
            raise InvalidInput("grant", "a list such as ['user:bob', 'group:course-flood']")
        source = await self.volumes.get(results_volume_name(subject))
        if source is None:
            raise NotFound("results volume of", subject)
        package = f"share-{slug(subject)}-{name}"
        taken = datetime.now(UTC).replace(microsecond=0)
        version = taken.strftime("%Y%m%dt%H%M%S")
        target = await self.volumes.create(
            volume_name(package, version),
            {LABEL_KIND: "share", LABEL_NAME: package, LABEL_OWNER: subject},
        )
        spec = {
            "name": package,
            "version": version,
            "grant": sorted(set(grants)),
            "source": source.name,
        }
        await self.state.begin(
            Build(package, version, "share", BuildState.BUILDING, target.name, self.volumes.backend,
                  owner=subject, spec=spec)
        )  # fmt: skip
        indexed = RasterOutcome()
        try:
            await self.volumes.copy(source.name, target.name)
            files = await self.volumes.files(target.name)
            odc = self._odc()
            if odc is not None:
                indexed = await index_rasters(
                    odc, self.volumes, target.name, package, files, taken,
                    self.packages.settings.packages.shares_mount,
                )  # fmt: skip
            manifest = Manifest(
                kind="results",
                name=package,
                version=version,
                description=str(body.get("description", ""))[:10_000],
                licence=str(body.get("licence", "as stated by the owner"))[:2_000],
                owner=subject,
                built_by=subject,
                volume_backend=self.volumes.backend,
                spec=spec,
                files=[
                    ManifestFile(path=f.path, size=f.size, sha256=f.sha256, product=package,
                                 file_name=f.path.rpartition("/")[2],
                                 source=f"results:{subject}/{f.path}")
                    for f in files
                ],
                datasets=indexed.datasets,
            )  # fmt: skip
            body_bytes = manifest.to_bytes()
            ready = f"{package} {version}\n".encode()
            async with self.volumes.writer(target.name) as writer:
                await writer.write(MANIFEST_PATH, _once(body_bytes), len(body_bytes))
                await writer.flush()
                await writer.write(READY_PATH, _once(ready), len(ready))
            await self.state.transition(
                package, version, (BuildState.BUILDING,), BuildState.READY,
                total_files=len(files), total_bytes=manifest.total_bytes,
                datasets=indexed.datasets, notes=indexed.notes,
                spec=json.dumps(spec | {"odc_products": indexed.products}, sort_keys=True),
            )  # fmt: skip
        except BaseException:
            await asyncio.shield(self._unindex(indexed.datasets, indexed.products))
            await asyncio.shield(self.volumes.remove(target.name))
            await asyncio.shield(self.state.forget(package, version))
            raise
        return {"name": package, "version": version, "volume": target.name, "grant": spec["grant"],
                "files": len(files), "bytes": manifest.total_bytes,
                "odc_products": indexed.products, "datasets": len(indexed.datasets),
                "notes": indexed.notes}  # fmt: skip

    def _odc(self) -> DatacubeIndex | None:
        index = self.packages.index
        return index.index if isinstance(index, OdcPackageIndex) else None

    async def _unindex(self, datasets: list[str], products: list[str]) -> None:
        odc = self._odc()
        if odc is None:
            return
        if datasets:
            await self.packages.index.remove(datasets)  # type: ignore[union-attr]
        for product in products:
            await odc.remove_product(product)

    def _visible(self, build: Build, identity: Identity) -> bool:
        if Role.ADMIN in identity.roles or build.owner == identity.subject:
            return True
        grants = set((build.spec or {}).get("grant", []))
        mine = {f"user:{identity.subject}"} | {f"group:{g}" for g in identity.groups}
        mine |= {f"course:{g}" for g in identity.groups}
        return bool(grants & mine)

    async def shares(self, identity: Identity) -> list[dict[str, Any]]:
        """Shares the caller owns or was granted; what the hub mounts read-only."""
        _require_user(identity)
        await self.finish_revoked()
        return [
            {"name": b.name, "version": b.version, "owner": b.owner, "volume": b.volume,
             "grant": (b.spec or {}).get("grant", []), "files": b.total_files,
             "bytes": b.total_bytes, "state": b.state.value}
            for b in await self.state.builds("share")
            if b.state is BuildState.READY and self._visible(b, identity)
        ]  # fmt: skip

    async def revoke(self, identity: Identity, name: str) -> None:
        """The owner (or an administrator) withdraws a share: its volume and entries go; a volume
        still mounted is emptied now and removed later."""
        subject = _require_user(identity)
        builds = [b for b in await self.state.builds("share") if b.name == name]
        if not builds:
            raise NotFound("share", name)
        for build in builds:
            if build.owner != subject and Role.ADMIN not in identity.roles:
                raise Forbidden("only the owner of a share can revoke it")
        products: set[str] = set()
        datasets: list[str] = []
        busy: list[Build] = []
        for build in builds:
            products.update((build.spec or {}).get("odc_products", []))
            try:
                await self.packages._delete(build.name, build.version)  # volume and datasets
            except Conflict:
                # A grantee's running server still mounts it. Withdrawn now all the same: no
                # longer listed nor mounted by any new server, and emptied (the volume is the
                # platform's copy, the owner's results are elsewhere), so the running server
                # sees an empty folder at once; the volume itself goes once it is free.
                await self.state.transition(
                    build.name, build.version, (BuildState.READY,), BuildState.DELETING
                )
                datasets.extend(build.datasets)
                busy.append(build)
        await self._unindex(datasets, sorted(products))
        for build in busy:
            if await owns_volume(self.volumes, build):
                with contextlib.suppress(NotFound):  # freed meanwhile
                    await self.volumes.empty(build.volume)

    async def finish_revoked(self) -> None:
        """Remove the volumes of revoked shares no server mounts any more."""
        for build in await self.state.builds("share"):
            if build.state is BuildState.DELETING:
                with contextlib.suppress(Conflict, NotFound):  # still in use; or gone meanwhile
                    await self.packages._delete(build.name, build.version)


async def _once(data: bytes) -> Any:
    yield data
