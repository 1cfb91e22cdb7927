"""Package benchmarks, one run each, ratios printed (not pass/fail on times).

1. Building a 2 GB package from a warm gateway cache into a Docker volume, against ``cp -r`` of the
   same cached files into a fresh volume (a container from the local base image; target <= 1.2).
2. ``dc.load`` of a package against reading the same files with rasterio, both inside the notebook
   image with the package mounted read-only (target <= 1.2).

Run: ``.venv/bin/python -m pytest bench/packages/bench_packages.py -s -p tests.fixtures.provider
-p tests.fixtures.postgres`` (about 3 minutes; 4 GB of disk under /tmp and Docker).
Sizes: ``EVEREST_BENCH_FILES`` x ``EVEREST_BENCH_MB`` (default 16 x 128 MB = 2 GB).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import secrets
import subprocess
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from pydantic import SecretStr
from tests.fixtures.provider import Provider

from everest_elearn.catalogue.factory import create_store
from everest_elearn.catalogue.model import Kind, Link, Record
from everest_elearn.catalogue.service import Catalogue
from everest_elearn.gateway.factory import build_gateway
from everest_elearn.images import LOCAL_BASE, ImageBuilder
from everest_elearn.packages.backends.docker_ import DockerVolumes
from everest_elearn.packages.datacube import DatacubeIndex
from everest_elearn.packages.service import PackageService
from everest_elearn.samples import generate
from everest_elearn.security.identity import Identity, Role
from everest_elearn.settings import Settings

ADMIN = Identity("bench", frozenset({Role.ADMIN}))
FILES = int(os.environ.get("EVEREST_BENCH_FILES", "16"))
MEGABYTES = int(os.environ.get("EVEREST_BENCH_MB", "128"))

TIMED_LOADS = r"""
import glob, json, statistics, sys, time
import datacube, numpy as np, rasterio
product, root = sys.argv[1], sys.argv[2]
names = set(sys.argv[3:])
files = sorted(p for p in glob.glob(root + "/**/*", recursive=True) if p.rsplit("/", 1)[-1] in names)
dc = datacube.Datacube(app="bench")
with rasterio.open(files[0]) as first:
    crs, res = first.crs.to_string(), first.res
def with_odc():
    data = dc.load(product=product, measurements=["vv", "vh"], output_crs=crs, resolution=(-res[1], res[0]))
    return float(data.vv.sum()) + float(data.vh.sum())
def with_rasterio():
    total = 0.0
    for path in files:
        with rasterio.open(path) as src:
            total += float(np.nansum(src.read(1)))
    return total
for f in (with_odc, with_rasterio):
    f()  # warm: imports, connections, page cache
times = {}
for f in (with_odc, with_rasterio):
    runs = []
    for _ in range(7):
        began = time.perf_counter(); f(); runs.append(time.perf_counter() - began)
    times[f.__name__] = statistics.median(runs)
print(json.dumps(times | {"files": len(files)}))
"""


def _sh(command: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, check=check, capture_output=True, text=True)


def _write(root: Path, name: str, size: int, seed: int) -> tuple[int, str]:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    block = os.urandom(1 << 20)
    digest = hashlib.sha256()
    with path.open("wb") as handle:
        for i in range(size >> 20):
            piece = seed.to_bytes(4, "big") + i.to_bytes(4, "big") + block[8:]
            handle.write(piece)
            digest.update(piece)
    return size, digest.hexdigest()


async def _services(
    tmp: Path, provider: Provider, **extra: object
) -> tuple[PackageService, Catalogue, list[object]]:
    rules = tmp / "rules.yaml"
    rules.write_text(
        f"sources:\n  - name: p\n    url: {provider.url}/open/\nrules:\n  - name: cache\n    strategy: cache\n"
    )
    settings = Settings(
        data_dir=tmp / "data",
        catalogue={"load_samples": False},
        gateway={"rules_file": rules},
        **extra,
    )
    store = create_store(settings)
    await store.open()
    catalogue = Catalogue(store)
    gateway = build_gateway(settings, {}, lookup=catalogue)
    await gateway.start()
    service = await PackageService.open(
        settings, catalogue, gateway, volumes=DockerVolumes.connect()
    )
    return service, catalogue, [gateway, store]


async def _close(service: PackageService, closers: list[object]) -> None:
    for build in await service.state.builds():
        await service._delete(build.name, build.version)
    await service.close()
    for item in closers:
        await item.close()  # type: ignore[attr-defined]


def test_build_from_warm_cache_against_cp(tmp_path: Path, provider: Provider) -> None:
    async def run() -> None:
        collection = Record(identifier="BENCH", kind=Kind.COLLECTION, title="bench")
        links = []
        for i in range(FILES):
            size, digest = _write(provider.root, f"bench/f{i:02d}.bin", MEGABYTES << 20, i)
            links.append(
                Link(
                    href=f"{provider.url}/open/bench/f{i:02d}.bin",
                    length=size,
                    checksum=f"sha256:{digest}",
                )
            )
        record = Record(identifier="BENCH_1", parent_identifier="BENCH", start=datetime(2024, 1, 1, tzinfo=UTC),
                        properties={"platform": "bench"}, links=links)  # fmt: skip
        service, catalogue, closers = await _services(tmp_path, provider)
        try:
            await catalogue.upsert([collection], ADMIN)
            await catalogue.upsert([record], ADMIN)
            spec = {"name": "bench", "version": "0", "licence": "none", "max_size": "100 GB",
                    "contents": [{"products": ["BENCH_1"]}]}  # fmt: skip
            await service.build(spec, ADMIN)  # fills the gateway cache
            await service.delete("bench", "0", ADMIN)
            began = time.perf_counter()
            report = await service.build(spec | {"version": "1"}, ADMIN)
            build_s = time.perf_counter() - began
            assert report.origins == {"hit": FILES}, report.origins
            # The same bytes as the gateway's cached objects, on the same disk.
            cached = provider.root / "bench"
            target = f"everest-bench-cp-{uuid.uuid4().hex[:6]}"
            await asyncio.to_thread(_sh, ["docker", "volume", "create", target])
            try:
                began = time.perf_counter()
                await asyncio.to_thread(
                    _sh,
                    ["docker", "run", "--rm", "--network", "none", "-v", f"{cached}:/src:ro",
                     "-v", f"{target}:/dst", LOCAL_BASE, "cp", "-r", "/src/.", "/dst/"],
                )  # fmt: skip
                cp_s = time.perf_counter() - began
            finally:
                await asyncio.to_thread(_sh, ["docker", "volume", "rm", target], False)
            gigabytes = FILES * MEGABYTES / 1024
            print(
                f"\nbench packages/build: {gigabytes:.2f} GiB, {FILES} files; builder {build_s:.2f} s "
                f"({gigabytes / build_s:.2f} GiB/s), cp -r into a volume {cp_s:.2f} s; "
                f"ratio {build_s / cp_s:.2f} (target <= 1.2)"
            )
        finally:
            await _close(service, closers)

    asyncio.run(run())


def test_dc_load_against_rasterio(tmp_path: Path, provider: Provider, odc_db_url: str) -> None:
    async def run() -> None:
        samples = [s for s in generate(provider.root, base_url=f"{provider.url}/open")
                   if s.record.identifier.startswith("S1B_IW_GRDH")]  # fmt: skip
        service, catalogue, closers = await _services(
            tmp_path, provider, datacube={"db_url": odc_db_url}
        )
        try:
            await catalogue.upsert([samples[0].collection], ADMIN)
            await catalogue.upsert([s.record for s in samples], ADMIN)
            spec = {"name": "bench-load", "version": "1", "licence": "none", "max_size": "1 GB",
                    "contents": [{"products": [s.record.identifier for s in samples]}]}  # fmt: skip
            report = await service.build(spec, ADMIN)
            index = DatacubeIndex(odc_db_url)
            password = SecretStr(secrets.token_urlsafe(12))
            await index.ensure_readonly_role("everest_reader", password)
            url = index.reader_url("everest_reader", password, host="127.0.0.1").get_secret_value()
            await index.close()
            image = ImageBuilder(service.settings.images).build_sync("notebook").tag
            mount = f"{service.settings.datacube.mount_root}/bench-load"
            done = await asyncio.to_thread(
                _sh,
                ["docker", "run", "--rm", "--network", "host", "-v", f"{report.volume}:{mount}:ro",
                 "-e", f"ODC_DEFAULT_DB_URL={url}", "-e", "ODC_DEFAULT_INDEX_DRIVER=postgres",
                 image, "python", "-c", TIMED_LOADS, samples[0].collection.identifier.replace("-", "_"), mount,
                 *(s.files[band].name for s in samples for band in ("vv", "vh"))],
                False,
            )  # fmt: skip
            assert done.returncode == 0, done.stderr[-2000:]
            times = json.loads(done.stdout.strip().splitlines()[-1])
            print(
                f"\nbench packages/load: {times['files']} files; dc.load {times['with_odc'] * 1000:.1f} ms, "
                f"rasterio {times['with_rasterio'] * 1000:.1f} ms (medians of 7); "
                f"ratio {times['with_odc'] / times['with_rasterio']:.2f} (target <= 1.2)"
            )
        finally:
            await _close(service, closers)

    asyncio.run(run())
