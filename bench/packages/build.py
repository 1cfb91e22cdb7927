"""Build a package from a warm gateway cache, against ``cp -r`` of the same files into a volume.

Both copy the gateway's cached objects (same bytes, same disk, page cache equally warm) into a
fresh Docker volume; ``sync`` runs before each timing so neither pays for the other's dirty pages.
Two baselines: ``cp -r`` in a container mounting the volume (as the issue asks), and ``cp -r`` on
the host straight into the volume's mount point (no container start: the stricter one).
Each side is timed to its return and, separately, to the end of the ``sync`` after it (durable).
Rounds alternate cp and build; the medians are compared.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.packages.services import ADMIN, MiB, Stack, make_file, stack
from everest_elearn.catalogue.model import Kind, Link, Record
from everest_elearn.images import LOCAL_BASE
from everest_elearn.packages.backends.docker_ import DockerVolumes
from everest_elearn.packages.service import PackageService


@dataclass
class BuildFigures:
    files: int
    bytes: int
    build_s: list[float] = field(default_factory=list)
    build_sync_s: list[float] = field(default_factory=list)
    cp_s: list[float] = field(default_factory=list)
    cp_sync_s: list[float] = field(default_factory=list)
    host_cp_s: list[float] = field(default_factory=list)
    api_build_s: float | None = None

    def host_ratio(self) -> float:
        return statistics.median(self.build_s) / statistics.median(self.host_cp_s)

    def ratio(self, durable: bool = False) -> float:
        build = self.build_sync_s if durable else self.build_s
        cp = self.cp_sync_s if durable else self.cp_s
        return statistics.median(build) / statistics.median(cp)


def _sync() -> float:
    began = time.perf_counter()
    os.sync()
    return time.perf_counter() - began


async def _records(s: Stack, files: int, mib: int) -> dict[str, object]:
    links = []
    for i in range(files):
        name = f"bench/BENCH_1/f{i:02d}.bin"
        digest = await asyncio.to_thread(make_file, s.provider.root / name, mib * MiB, i)
        href = f"{s.provider.url}/open/{name}"
        links.append(Link(href=href, length=mib * MiB, checksum=f"sha256:{digest}"))
    collection = Record(identifier="BENCH", kind=Kind.COLLECTION, title="bench")
    record = Record(identifier="BENCH_1", parent_identifier="BENCH",
                    start=datetime(2024, 1, 1, tzinfo=UTC),
                    properties={"platform": "bench"}, links=links)  # fmt: skip
    await s.catalogue.upsert([collection], ADMIN)
    await s.catalogue.upsert([record], ADMIN)
    return {"name": "bench", "version": "warm", "licence": "none", "max_size": "100 GB",
            "contents": [{"products": ["BENCH_1"]}]}  # fmt: skip


def _cp(source: Path, on_host: bool = False) -> tuple[float, float]:
    volume = f"everest-bench-cp-{uuid.uuid4().hex[:8]}"
    made = subprocess.run(
        ["docker", "volume", "create", volume], check=True, capture_output=True, text=True
    )
    mountpoint = subprocess.run(
        ["docker", "volume", "inspect", "-f", "{{.Mountpoint}}", made.stdout.strip()],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    command = (
        ["cp", "-r", f"{source}/.", f"{mountpoint}/"]
        if on_host
        else ["docker", "run", "--rm", "--network", "none", "-v", f"{source}:/src:ro",
              "-v", f"{volume}:/dst", LOCAL_BASE, "cp", "-r", "/src/.", "/dst/"]
    )  # fmt: skip
    try:
        _sync()
        began = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        took = time.perf_counter() - began
        return took, took + _sync()
    finally:
        subprocess.run(["docker", "volume", "rm", volume], check=False, capture_output=True)


async def _build(
    packages: PackageService, spec: dict[str, object], version: str
) -> tuple[float, float]:
    await asyncio.to_thread(_sync)
    began = time.perf_counter()
    report = await packages.build(spec | {"version": version}, ADMIN)
    took = time.perf_counter() - began
    durable = took + await asyncio.to_thread(_sync)
    if report.origins != {"hit": report.files}:
        raise RuntimeError(f"the cache was not warm: {report.origins}")
    await packages.delete("bench", version, ADMIN)
    return took, durable


async def _through_the_api(s: Stack, spec: dict[str, object], work: Path) -> float:
    """The same build through the engine's archive API (the path a remote engine takes)."""
    packages = s.settings.packages.model_copy(update={"state_path": work / "api-state.sqlite"})
    settings = s.settings.model_copy(update={"packages": packages})
    service = await PackageService.open(
        settings, s.catalogue, s.gateway, volumes=DockerVolumes.connect(host_access=False)
    )
    try:
        took, _ = await _build(service, spec, "api")
    finally:
        await service.close()
    return took


async def run(work: Path, files: int, mib: int, rounds: int, api_path: bool) -> BuildFigures:
    figures = BuildFigures(files, files * mib * MiB)
    async with stack(work / "build") as s:
        spec = await _records(s, files, mib)
        await s.packages.build(spec, ADMIN)  # fills the gateway cache (misses)
        await s.packages.delete("bench", "warm", ADMIN)
        source = s.cache_dir
        for i in range(rounds):
            cp, cp_durable = await asyncio.to_thread(_cp, source)
            figures.cp_s.append(cp)
            figures.cp_sync_s.append(cp_durable)
            took, durable = await _build(s.packages, spec, f"r{i}")
            figures.build_s.append(took)
            figures.build_sync_s.append(durable)
            host_cp, _ = await asyncio.to_thread(_cp, source, True)
            figures.host_cp_s.append(host_cp)
            print(f"  round {i + 1}: cp -r in a container {cp:.2f} s ({cp_durable:.2f} s to disk), "
                  f"build {took:.2f} s ({durable:.2f} s to disk), cp -r on the host "
                  f"{host_cp:.2f} s", flush=True)  # fmt: skip
        if api_path:
            figures.api_build_s = await _through_the_api(s, spec, work)
            print(f"  through the engine API: build {figures.api_build_s:.2f} s", flush=True)
    return figures
