"""Data packages benchmark, one run, ratios printed against baselines measured in the same run.

1. build: a package of ``--files`` x ``--mib`` (default 16 x 128 MiB = 2 GiB) from a warm gateway
   cache into a Docker volume, against ``cp -r`` of the same cached files into a fresh volume in a
   container (target <= 1.2), and against ``cp -r`` on the host into the volume's mount point;
   ``--api-path`` also times the build through the engine's archive API (a remote engine's path);
2. load: ``dc.load`` of realistic scenes (4-band 2048x2048 COGs, 512-pixel internal tiles,
   overviews; band- and pixel-interleaved) from a package mounted read-only in the notebook image,
   against rasterio windowed reads of the same region at the same resolution in the same
   container (target <= 1.2): a time stack of one tile, and a 2x2 mosaic on one day.

Usage: ``.venv/bin/python -m bench.packages [--files 16] [--mib 128] [--rounds 3] [--tile 2048]
[--only build|load] [--api-path]``; ``BENCH_PROFILE=odc`` prints a profile of one ``dc.load``.
Needs the Docker engine and PostgreSQL 15 binaries; about 3x the package size of disk under
``--work`` (default a temporary folder, removed at the end); 10-15 minutes on 2 busy cores.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path

from bench.packages import build, load

TARGET = 1.2


def _median(values: list[float]) -> float:
    return statistics.median(values)


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.packages", description=__doc__)
    parser.add_argument("--files", type=int, default=16)
    parser.add_argument("--mib", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tile", type=int, default=2048)
    parser.add_argument("--only", choices=["build", "load"])
    parser.add_argument("--api-path", action="store_true", help="also time the engine-API build")
    parser.add_argument("--work", type=Path)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="everest-bench-packages-"))
    lines = [f"load before: {_uptime()}"]
    try:
        if args.only in (None, "build"):
            print(f"build: {args.files} x {args.mib} MiB", flush=True)
            b = asyncio.run(build.run(work, args.files, args.mib, args.rounds, args.api_path))
            gib = b.bytes / 1024**3
            lines.append(
                f"build {gib:.2f} GiB, {b.files} files from a warm cache, medians of "
                f"{len(b.build_s)} rounds: builder {_median(b.build_s):.2f} s, cp -r in a "
                f"container into a volume {_median(b.cp_s):.2f} s: ratio {b.ratio():.2f} (to disk "
                f"{b.ratio(durable=True):.2f}; target <= {TARGET}); cp -r on the host into the "
                f"volume's mount point {_median(b.host_cp_s):.2f} s: ratio {b.host_ratio():.2f}"
            )
            if b.api_build_s is not None:
                lines.append(
                    f"  the same build through the engine's archive API: {b.api_build_s:.2f} s"
                )
            lines.append(f"load after build: {_uptime()}")
        if args.only in (None, "load"):
            print(f"load: scenes of {args.tile} x {args.tile} pixels", flush=True)
            for case in asyncio.run(load.run(work, args.tile)):
                rio, odc = case["rasterio_s"], case["odc_s"]
                best_rio, best_odc = case["rasterio_min_s"], case["odc_min_s"]
                lines.append(
                    f"dc.load {case['name']} {case['shape']}, {case['runs']} runs each, median"
                    f" (best): rasterio windowed reads {rio * 1000:.0f} ({best_rio * 1000:.0f}) ms,"
                    f" dc.load {odc * 1000:.0f} ({best_odc * 1000:.0f}) ms; ratio {odc / rio:.2f} "
                    f"({best_odc / best_rio:.2f}; target <= {TARGET}); identical values: "
                    f"{case['equal']}; rasterio on the files as published "
                    f"{case['source_s'] * 1000:.0f} ms (dc.load against it "
                    f"{odc / case['source_s']:.2f})"
                )
            lines.append(f"load after dc.load: {_uptime()}")
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    print("\nbench packages")
    for line in lines:
        print("  " + line)
