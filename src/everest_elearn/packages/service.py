"""The packages service: the one entry point the API and the CLI call."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict
from typing import Any

from everest_elearn.errors import Conflict, Forbidden, NotFound, Unauthorized
from everest_elearn.packages.backends import open_volumes
from everest_elearn.packages.builder import Builder, BuildReport, FileGateway, PackageIndex
from everest_elearn.packages.claims import claim_volume, owns_volume
from everest_elearn.packages.estimate import Estimate, estimate
from everest_elearn.packages.indexing import OdcPackageIndex
from everest_elearn.packages.plan import Plan, ProductCatalogue, resolve
from everest_elearn.packages.progress import BuildProgress
from everest_elearn.packages.spec import PackageSpec, parse_spec
from everest_elearn.packages.state import BuildState, PackageState, runner_alive
from everest_elearn.packages.volumes import Volumes
from everest_elearn.security.identity import Identity, Role
from everest_elearn.settings import Settings

log = logging.getLogger(__name__)

WRITERS = frozenset({Role.ADMIN, Role.MANAGER, Role.DEVELOPER})


def open_index(
    settings: Settings, catalogue: ProductCatalogue, volumes: Volumes
) -> OdcPackageIndex:
    """The ODC index of ``datacube.db_url``; datacube is imported only when one is configured."""
    from everest_elearn.packages.datacube import DatacubeIndex

    return OdcPackageIndex(
        DatacubeIndex.from_settings(settings.datacube),
        catalogue,
        volumes,
        settings.datacube.mount_root,
    )


def require_writer(identity: Identity) -> None:
    if identity.anonymous:
        raise Unauthorized("a bearer token is required to change packages")
    if not identity.roles & WRITERS:
        raise Forbidden(
            "only administrators, course managers and module developers change packages"
        )


def require_reader(identity: Identity) -> None:
    if identity.anonymous:
        raise Unauthorized("a bearer token is required to see packages")


class PackageService:
    """Specs, estimates, builds, status and deletion of data packages."""

    def __init__(
        self,
        settings: Settings,
        catalogue: ProductCatalogue,
        gateway: FileGateway,
        volumes: Volumes,
        state: PackageState,
        index: PackageIndex | None = None,
    ) -> None:
        self.settings = settings
        self.catalogue = catalogue
        self.gateway = gateway
        self.volumes = volumes
        self.state = state
        self.index = index
        self.builder = Builder(
            gateway,
            volumes,
            state,
            index,
            settings.packages.flush_bytes,
            verify_cached=settings.packages.verify_cached,
        )
        self.progress: dict[tuple[str, str], BuildProgress] = {}
        self.tasks: dict[tuple[str, str], asyncio.Task[BuildReport]] = {}

    @classmethod
    async def open(
        cls,
        settings: Settings,
        catalogue: ProductCatalogue,
        gateway: FileGateway,
        index: PackageIndex | None = None,
        volumes: Volumes | None = None,
        use_datacube: bool = True,
    ) -> PackageService:
        """Open the registry and the volumes; the ODC index too when ``datacube.db_url`` is set."""
        state = PackageState(settings.packages.state_path or settings.data_dir / "packages.sqlite")
        await state.open()
        volumes = volumes or open_volumes(settings)
        if index is None and use_datacube and settings.datacube.db_url is not None:
            index = open_index(settings, catalogue, volumes)
        service = cls(settings, catalogue, gateway, volumes, state, index)
        for line in await service.recover():
            log.warning("packages: %s", line)
        return service

    async def close(self) -> None:
        for task in self.tasks.values():
            task.cancel()
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)
        await self.state.close()
        if isinstance(self.index, OdcPackageIndex):
            await self.index.index.close()

    def describe(self) -> str:
        return self.volumes.describe()

    # specs -------------------------------------------------------------------------------

    async def plan(self, spec: PackageSpec | dict[str, Any], identity: Identity) -> Plan:
        """Validate a spec against the catalogue and the limits; fetches nothing."""
        require_reader(identity)
        parsed = spec if isinstance(spec, PackageSpec) else parse_spec(spec)
        await claim_volume(
            self.state, self.volumes, parsed.name, parsed.version, parsed.volume_name
        )
        return await resolve(
            parsed, self.catalogue, identity, self.settings.packages.max_package_bytes
        )

    async def save_spec(
        self, spec: PackageSpec | dict[str, Any], identity: Identity
    ) -> PackageSpec:
        require_writer(identity)
        plan = await self.plan(spec, identity)
        data = plan.spec.model_dump(mode="json", exclude_none=True)
        await self.state.put_spec(plan.spec.name, plan.spec.version, data, identity.subject)
        return plan.spec

    async def get_spec(self, name: str, version: str, identity: Identity) -> PackageSpec:
        require_reader(identity)
        data = await self.state.get_spec(name, version)
        if data is None:
            raise NotFound("package spec", f"{name} {version}")
        return parse_spec(data)

    async def list_specs(self, identity: Identity) -> list[PackageSpec]:
        require_reader(identity)
        return [parse_spec(d) for d in await self.state.list_specs()]

    async def estimate(self, spec: PackageSpec | dict[str, Any], identity: Identity) -> Estimate:
        return await estimate(await self.plan(spec, identity), self.gateway, identity)

    # builds ------------------------------------------------------------------------------

    async def build(
        self,
        spec: PackageSpec | dict[str, Any],
        identity: Identity,
        progress: BuildProgress | None = None,
    ) -> BuildReport:
        """Build in the foreground (the CLI); raises with the reason when the build fails."""
        require_writer(identity)
        plan = await self.plan(spec, identity)
        key = (plan.spec.name, plan.spec.version)
        if key in self.tasks and not self.tasks[key].done():
            raise Conflict(f"package {key[0]} {key[1]} is being built")
        progress = progress or BuildProgress(*key)
        self.progress[key] = progress
        return await self._build(plan, identity, progress)

    async def _build(self, plan: Plan, identity: Identity, progress: BuildProgress) -> BuildReport:
        data = plan.spec.model_dump(mode="json", exclude_none=True)
        await self.state.put_spec(plan.spec.name, plan.spec.version, data, identity.subject)
        return await self.builder.build(plan, identity, progress)

    async def start_build(
        self, spec: PackageSpec | dict[str, Any], identity: Identity
    ) -> BuildProgress:
        """Validate now, build in the background (the API); follow it with ``status``."""
        require_writer(identity)
        plan = await self.plan(spec, identity)
        key = (plan.spec.name, plan.spec.version)
        if key in self.tasks and not self.tasks[key].done():
            raise Conflict(f"package {key[0]} {key[1]} is being built")
        progress = BuildProgress(*key)
        self.progress[key] = progress
        self.tasks[key] = asyncio.create_task(self._background(plan, identity, progress))
        return progress

    async def _background(
        self, plan: Plan, identity: Identity, progress: BuildProgress
    ) -> BuildReport:
        spec = plan.spec
        try:
            return await self._build(plan, identity, progress)
        except Exception as exc:
            # The reason is in the registry and the progress; the task must not log it twice.
            log.warning("package %s %s failed: %s", spec.name, spec.version, exc)
            raise

    async def wait(self, name: str, version: str) -> BuildReport | None:
        task = self.tasks.get((name, version))
        if task is None:
            return None
        results = await asyncio.gather(task, return_exceptions=True)
        return results[0] if isinstance(results[0], BuildReport) else None

    async def status(self, name: str, version: str, identity: Identity) -> dict[str, Any]:
        """The registry's view plus, while this process builds it, live per-file progress."""
        require_reader(identity)
        build = await self.state.get(name, version)
        live = self.progress.get((name, version))
        if build is None and live is not None and live.phase != "failed":
            return {"name": name, "version": version, "state": "building", "current": False,
                    "error": None, "progress": live.to_dict()}  # fmt: skip
        if build is None:
            raise NotFound("package", f"{name} {version}")
        data = asdict(build)
        data.pop("runner", None)
        data["state"] = build.state.value
        if live is not None and build.state is BuildState.BUILDING:
            data["progress"] = live.to_dict()
        else:
            rows = await self.state.files(name, version)
            data["progress"] = {
                "phase": build.state.value,
                "total_bytes": sum(r.size or 0 for r in rows),
                "done_bytes": sum(r.done for r in rows),
                "files": [
                    {"path": r.path, "size": r.size, "done": r.done, "state": r.state.value}
                    for r in rows
                ],
            }
        current = await self.state.current(name)
        data["current"] = current is not None and current.version == version
        return data

    async def list_packages(self, identity: Identity) -> list[dict[str, Any]]:
        require_reader(identity)
        out = []
        for build in await self.state.builds("package"):
            current = await self.state.current(build.name)
            out.append(
                {
                    "name": build.name,
                    "version": build.version,
                    "state": build.state.value,
                    "volume": build.volume,
                    "backend": build.backend,
                    "files": build.total_files,
                    "bytes": build.total_bytes,
                    "datasets": len(build.datasets),
                    "current": current is not None and current.version == build.version,
                    "error": build.error,
                    "finished": build.finished,
                }
            )
        return out

    async def delete(self, name: str, version: str, identity: Identity) -> None:
        """Frees the volume and the index entries; refused while a build runs or it is mounted."""
        require_writer(identity)
        await self._delete(name, version)

    async def _delete(self, name: str, version: str) -> None:
        build = await self.state.get(name, version)
        if build is None:
            raise NotFound("package", f"{name} {version}")
        if build.state is BuildState.BUILDING and runner_alive(build.runner):
            raise Conflict(f"package {name} {version} is being built")
        sources = (
            BuildState.READY,
            BuildState.FAILED,
            BuildState.INTERRUPTED,
            BuildState.DELETING,
            BuildState.BUILDING,
        )
        if not await self.state.transition(name, version, sources, BuildState.DELETING):
            raise Conflict(f"package {name} {version} changed state; try again")
        try:
            if await owns_volume(self.volumes, build):
                await self.volumes.remove(build.volume)
        except Conflict:
            await self.state.transition(name, version, (BuildState.DELETING,), build.state)
            raise Conflict(
                f"the volume {build.volume} is in use by containers; stop them first"
            ) from None
        if build.datasets and self.index is not None:
            await self.index.remove(build.datasets)
        await self.state.forget(name, version)
        self.progress.pop((name, version), None)

    async def recover(self) -> list[str]:
        """At start: builds whose process died become interrupted (resumed by the next build) or
        are cleaned up, as configured; deletions that were cut short are finished."""
        lines = []
        for build in await self.state.stale():
            await self.state.transition(
                build.name,
                build.version,
                (BuildState.BUILDING,),
                BuildState.INTERRUPTED,
                error="the build process stopped before it finished",
            )
            if self.settings.packages.on_interrupted == "cleanup":
                await self._delete(build.name, build.version)
                lines.append(f"{build.name} {build.version}: interrupted build cleaned up")
            else:
                lines.append(
                    f"{build.name} {build.version}: interrupted; the next build resumes it"
                )
        for build in await self.state.builds():
            if build.state is BuildState.DELETING:
                try:
                    await self._delete(build.name, build.version)
                except Conflict:  # a revoked share a running server still mounts
                    lines.append(f"{build.name} {build.version}: deletion waits, volume in use")
                    continue
                lines.append(f"{build.name} {build.version}: unfinished deletion completed")
        return lines
