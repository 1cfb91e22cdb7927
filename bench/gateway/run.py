"""Gateway benchmark, one run, ratios printed (not pass/fail on absolute times).

1. cache-hit download through the gateway vs nginx serving the same stored file from the same
   disk to the same client (curl): throughput ratio, target >= 0.8; rounds interleaved, best and
   median, and each server's CPU seconds per GiB sent (robust on a loaded machine);
2. N concurrent clients asking for one uncached file from a throttled provider: upstream fetches
   (target exactly 1) and total time against one client's download of a same-size uncached file
   (target <= 1.3); plus the upper bound: nginx serving the same N concurrent downloads of a
   stored file of that size, measured in the same run;
3. a large file streamed through the gateway (pipe, then cache miss): the gateway's peak resident
   memory, all worker processes together (target < 200 MB).

The gateway runs under uvicorn (``--workers`` processes sharing one data directory); the provider
is the tests' loopback provider. The machine's load (``uptime``) is printed with every part.
Usage: ``.venv/bin/python -m bench.gateway.run [--hit-mib 1024] [--crowd-mib 200] [--clients 100]
[--rate-mib 10] [--big-mib 2048] [--workers 1] [--rounds 5]``
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]
MiB = 1024 * 1024
TOKEN = "bench-admin-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def make_file(path: Path, size: int, seed: int) -> str:
    block = os.urandom(MiB)
    digest = hashlib.sha256()
    with path.open("wb") as handle:
        written, counter = 0, seed << 32
        while written < size:
            piece = (counter.to_bytes(8, "big") + block[8:])[: min(MiB, size - written)]
            handle.write(piece)
            digest.update(piece)
            written += len(piece)
            counter += 1
    return digest.hexdigest()


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children (uvicorn workers, nginx workers)."""
    parent = psutil.Process(pid)
    total = 0.0
    for process in [parent, *parent.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def wait_http(url: str, timeout: float = 30, headers: dict[str, str] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            request = urllib.request.Request(url, headers=headers or {})
            with urllib.request.urlopen(request, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer") from None
            time.sleep(0.1)


def curl(url: str) -> tuple[int, int, float]:
    """(status, bytes, seconds) for one download by curl to /dev/null."""
    out = subprocess.run(
        ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download} %{time_total}", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return int(out[0]), int(out[1]), float(out[2])


def gateway_json(base: str, path: str) -> dict[str, object]:
    request = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        body: dict[str, object] = json.loads(response.read())
        return body


def settle(base: str) -> None:
    for _ in range(1200):
        if not gateway_json(base, "/gateway/stats")["in_flight"]:
            return
        time.sleep(0.1)
    raise RuntimeError("downloads did not settle")


def record(
    identifier: str, href: str, size: int, digest: str, product_type: str
) -> dict[str, object]:
    return {
        "identifier": identifier,
        "parent_identifier": "BENCH",
        "start": "2024-06-01T00:00:00Z",
        "properties": {"productType": product_type, "platform": "sentinel-2a"},
        "links": [
            {
                "href": href,
                "rel": "enclosure",
                "type": "application/octet-stream",
                "length": size,
                "checksum": f"sha256:{digest}",
            }
        ],
    }


RULES = """
version: 1
cache: {{retention: 1d, eviction: lru}}
sources:
  - name: provider
    url: {url}/open/
  - name: throttled
    url: {url}/slow/
rules:
  - name: mirrored
    match: {{product_type: MIRROR}}
    strategy: mirror
  - name: piped
    match: {{product_type: PIPE}}
    strategy: pipe
  - name: cached
    strategy: cache
"""

NGINX = """
worker_processes 1;
daemon off;
user root;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  sendfile on;
  sendfile_max_chunk 2m;
  tcp_nopush on;
  default_type application/octet-stream;
  client_body_temp_path {work}/nginx-tmp;
  proxy_temp_path {work}/nginx-tmp;
  fastcgi_temp_path {work}/nginx-tmp;
  uwsgi_temp_path {work}/nginx-tmp;
  scgi_temp_path {work}/nginx-tmp;
  server {{
    listen 127.0.0.1:{port};
    root {root};
  }}
  server {{
    listen 127.0.0.1:{port2};
    root {root};
    sendfile off;
    output_buffers 2 1m;
  }}
}}
"""


NGINX_ONE = """
worker_processes 1;
daemon off;
user root;
pid {work}/nginx-crowd.pid;
error_log {work}/nginx-crowd-error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  sendfile on;
  sendfile_max_chunk 2m;
  tcp_nopush on;
  default_type application/octet-stream;
  client_body_temp_path {work}/nginx-crowd-tmp;
  proxy_temp_path {work}/nginx-crowd-tmp;
  fastcgi_temp_path {work}/nginx-crowd-tmp;
  uwsgi_temp_path {work}/nginx-crowd-tmp;
  scgi_temp_path {work}/nginx-crowd-tmp;
  server {{
    listen 127.0.0.1:{port};
    root {root};
  }}
}}
"""


class Peak(threading.Thread):
    """Samples the resident memory of a process and its children (workers) until stopped;
    keeps the peak of their sum."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.peak = 0  # of the sum over the processes
        self.largest = 0  # of any one process
        self.running = True

    @staticmethod
    def resident(pid: int) -> int:
        """Resident memory of a process and its children now, summed."""
        parent = psutil.Process(pid)
        return sum(p.memory_info().rss for p in [parent, *parent.children(recursive=True)])

    def run(self) -> None:
        while self.running:
            total = 0
            for process in [self.process, *self.process.children(recursive=True)]:
                try:
                    rss = process.memory_info().rss
                except psutil.NoSuchProcess:
                    continue
                total += rss
                self.largest = max(self.largest, rss)
            self.peak = max(self.peak, total)
            time.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hit-mib", type=int, default=1024)
    parser.add_argument("--crowd-mib", type=int, default=200)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--rate-mib", type=float, default=10.0, help="throttled provider, MiB/s")
    parser.add_argument("--big-mib", type=int, default=2048)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--only", default="123", help="which parts to run, e.g. 2 or 13")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--rounds", type=int, default=5, help="cache-hit rounds (part 1)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="gateway-bench-", dir=args.workdir))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        run(args, work, processes)
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def run(args: argparse.Namespace, work: Path, processes: list[subprocess.Popen[bytes]]) -> None:
    provider_root = work / "provider"
    provider_root.mkdir()
    print(f"workdir {work}; making files ...", flush=True)
    sizes = {
        "hit.bin": args.hit_mib * MiB,
        "solo.bin": args.crowd_mib * MiB,
        "crowd.bin": args.crowd_mib * MiB,
        "big.bin": args.big_mib * MiB,
    }
    digests = {
        name: make_file(provider_root / name, size, i)
        for i, (name, size) in enumerate(sizes.items())
    }

    provider_port, gateway_port, nginx_port, nginx_port2 = (free_port() for _ in range(4))
    provider_url = f"http://127.0.0.1:{provider_port}"
    rate = int(args.rate_mib * MiB)
    processes.append(
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.fixtures.provider",
                str(provider_root),
                str(provider_port),
                str(rate),
            ],
            cwd=ROOT,
        )
    )
    records = [
        record(
            "HIT", f"{provider_url}/open/hit.bin", sizes["hit.bin"], digests["hit.bin"], "MIRROR"
        ),
        record(
            "SOLO", f"{provider_url}/slow/solo.bin", sizes["solo.bin"], digests["solo.bin"], "CACHE"
        ),
        record(
            "CROWD",
            f"{provider_url}/slow/crowd.bin",
            sizes["crowd.bin"],
            digests["crowd.bin"],
            "CACHE",
        ),
        record(
            "BIGPIPE", f"{provider_url}/open/big.bin", sizes["big.bin"], digests["big.bin"], "PIPE"
        ),
        record(
            "BIGCACHE",
            f"{provider_url}/open/big.bin",
            sizes["big.bin"],
            digests["big.bin"],
            "CACHE",
        ),
    ]
    (work / "records.json").write_text(json.dumps(records))
    (work / "rules.yaml").write_text(RULES.format(url=provider_url))
    env = {
        **os.environ,
        "EVEREST_DATA_DIR": str(work / "data"),
        "EVEREST_GATEWAY__RULES_FILE": str(work / "rules.yaml"),
        "EVEREST_SECURITY__ADMIN_TOKEN": TOKEN,
        "BENCH_RECORDS": str(work / "records.json"),
    }
    gateway = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "bench.gateway.app:create",
            "--host",
            "127.0.0.1",
            "--port",
            str(gateway_port),
            "--no-access-log",
            "--log-level",
            "warning",
            "--workers",
            str(args.workers),
        ],
        cwd=ROOT,
        env=env,
    )
    processes.append(gateway)
    print(f"gateway: uvicorn, {args.workers} worker(s); {os.cpu_count()} cores; {load()}")
    base = f"http://127.0.0.1:{gateway_port}"
    wait_http(f"{provider_url}/_stats")
    wait_http(f"{base}/gateway/status", headers={"Authorization": f"Bearer {TOKEN}"})
    data = f"{base}/data/BENCH"

    if "1" in args.only:
        hit_vs_nginx(args, work, base, data, sizes, nginx_port, nginx_port2, processes, gateway.pid)
    if "2" in args.only:
        crowd(args, work, base, data, sizes, provider_url, processes, gateway.pid)
    if "3" in args.only:
        big(args, base, data, sizes, gateway.pid)
    stats = gateway_json(base, "/gateway/stats")
    print(
        "gateway stats:",
        json.dumps(
            {
                k: stats[k]
                for k in (
                    "hits",
                    "misses",
                    "upstream_fetches",
                    "joined_fetches",
                    "pipes",
                    "bytes_served",
                    "bytes_fetched",
                    "checksum_failures",
                    "upstream_errors",
                )
            }
        ),
        flush=True,
    )


def hit_vs_nginx(
    args: argparse.Namespace,
    work: Path,
    base: str,
    data: str,
    sizes: dict[str, int],
    nginx_port: int,
    nginx_port2: int,
    processes: list[subprocess.Popen[bytes]],
    gateway_pid: int,
) -> None:
    """1. cache hit vs nginx on the same stored file."""
    status, _, _ = curl(f"{data}/HIT/hit.bin")
    assert status == 200, status
    settle(base)
    objects = work / "data" / "gateway" / "store" / "objects"
    assert (objects / "mirror/BENCH/HIT/hit.bin").is_file()
    (work / "nginx-tmp").mkdir()
    (work / "nginx.conf").write_text(
        NGINX.format(work=work, port=nginx_port, port2=nginx_port2, root=objects)
    )
    processes.append(
        subprocess.Popen(["/usr/sbin/nginx", "-c", str(work / "nginx.conf"), "-p", str(work)])
    )
    wait_http(f"http://127.0.0.1:{nginx_port}/mirror/BENCH/HIT/hit.bin", timeout=10)
    nginx_pid = processes[-1].pid
    # Interleaved rounds; nginx in its two configurations (sendfile on and off), the gateway.
    runs: dict[str, list[tuple[float, float]]] = {"gateway": [], "nginx": []}
    # The gateway between nginx's two runs of each round; each round's ratio is taken against
    # the better nginx of that round (pairs in time, so drifting load cancels out).
    targets = [
        ("nginx", f"http://127.0.0.1:{nginx_port}/mirror/BENCH/HIT/hit.bin", nginx_pid),
        ("gateway", f"{data}/HIT/hit.bin", gateway_pid),
        ("nginx", f"http://127.0.0.1:{nginx_port2}/mirror/BENCH/HIT/hit.bin", nginx_pid),
    ]
    print(f"[1] {load()}", flush=True)
    paired: list[float] = []
    for _ in range(args.rounds):
        speeds: dict[str, float] = {}
        for name, url, pid in targets:
            before = cpu_seconds(pid)
            s, n, t = curl(url)
            used = cpu_seconds(pid) - before
            assert s == 200 and n == sizes["hit.bin"], (name, s, n)
            runs[name].append((n / t, used / (n / 2**30)))
            speeds[name] = max(speeds.get(name, 0.0), n / t)
        paired.append(speeds["gateway"] / speeds["nginx"])
    best = {k: max(v for v, _ in runs[k]) for k in runs}
    median = {k: statistics.median(v for v, _ in runs[k]) for k in runs}
    cpu = {k: statistics.median(c for _, c in runs[k]) for k in runs}
    print(
        f"[1] cache hit {args.hit_mib} MiB, {args.rounds} rounds (client curl; nginx with and "
        f"without sendfile): gateway best {best['gateway'] / MiB:.0f} MiB/s, median "
        f"{median['gateway'] / MiB:.0f}; nginx best {best['nginx'] / MiB:.0f} MiB/s, median "
        f"{median['nginx'] / MiB:.0f} -> ratio best {best['gateway'] / best['nginx']:.2f}, "
        f"median {median['gateway'] / median['nginx']:.2f}, median of paired rounds "
        f"{statistics.median(paired):.2f} (target >= 0.8); server CPU per GiB "
        f"sent: gateway {cpu['gateway']:.2f} s, nginx {cpu['nginx']:.2f} s; {load()}",
        flush=True,
    )


def many(url: str, clients: int, size: int) -> tuple[int, float]:
    """N concurrent curl downloads of one URL: (how many complete, seconds until the last)."""
    began = time.monotonic()
    downloads = [
        subprocess.Popen(
            ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", url],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(clients)
    ]
    answers = [c.communicate()[0].split() for c in downloads]
    total = time.monotonic() - began
    return sum(1 for a in answers if a == ["200", str(size)]), total


def crowd(
    args: argparse.Namespace,
    work: Path,
    base: str,
    data: str,
    sizes: dict[str, int],
    provider_url: str,
    processes: list[subprocess.Popen[bytes]],
    gateway_pid: int,
) -> None:
    """2. one uncached download, then N clients on another uncached file of the same size; then
    nginx serving N concurrent downloads of that file from disk (the machine's upper bound)."""
    print(f"[2] {load()}", flush=True)
    s, n, solo = curl(f"{data}/SOLO/solo.bin")
    assert s == 200 and n == sizes["solo.bin"], (s, n)
    peak = Peak(gateway_pid)
    peak.start()
    complete, total = many(f"{data}/CROWD/crowd.bin", args.clients, sizes["crowd.bin"])
    peak.running = False
    peak.join()
    with urllib.request.urlopen(f"{provider_url}/_stats") as response:
        counts = ast.literal_eval(response.read().decode())
    fetches = counts.get("/slow/crowd.bin", 0)
    after = load()
    settle(base)
    port = free_port()
    (work / "nginx-crowd-tmp").mkdir()
    (work / "nginx-crowd.conf").write_text(
        NGINX_ONE.format(work=work, port=port, root=work / "provider")
    )
    processes.append(
        subprocess.Popen(["/usr/sbin/nginx", "-c", str(work / "nginx-crowd.conf"), "-p", str(work)])
    )
    url = f"http://127.0.0.1:{port}/crowd.bin"
    wait_http(url, timeout=10)
    nginx_complete, nginx_total = many(url, args.clients, sizes["crowd.bin"])
    bound = max(solo, nginx_total)
    print(
        f"[2] {args.clients} clients, one uncached {args.crowd_mib} MiB file, provider at "
        f"{args.rate_mib:g} MiB/s: {complete}/{args.clients} complete, upstream fetches {fetches} "
        f"(target 1); total {total:.1f} s vs one download {solo:.1f} s -> ratio {total / solo:.2f} "
        f"(target <= 1.3); gateway peak RSS {peak.peak / MiB:.0f} MiB; {after}",
        flush=True,
    )
    print(
        f"[2] upper bound: nginx serving the same {args.clients} concurrent downloads of the "
        f"stored file: {nginx_complete}/{args.clients} complete in {nginx_total:.1f} s; so no "
        f"server could do better than ratio {bound / solo:.2f} here; gateway vs that bound "
        f"{total / bound:.2f}; {load()}",
        flush=True,
    )


def big(args: argparse.Namespace, base: str, data: str, sizes: dict[str, int], pid: int) -> None:
    """3. a large file streamed: pipe, then a cache miss (spooled and stored)."""
    for product in ("BIGPIPE", "BIGCACHE"):
        before = Peak.resident(pid)
        peak = Peak(pid)
        peak.start()
        s, n, t = curl(f"{data}/{product}/big.bin")
        peak.running = False
        peak.join()
        assert s == 200 and n == sizes["big.bin"], (s, n)
        print(
            f"[3] {args.big_mib} MiB streamed ({product.removeprefix('BIG').lower()}) in {t:.1f} s: "
            f"gateway peak RSS {peak.largest / MiB:.0f} MiB in one process, "
            f"{peak.peak / MiB:.0f} MiB all processes together (target < 200), "
            f"{before / MiB:.0f} MiB before the request (uvicorn, FastAPI and the agency "
            f"loaded); {load()}",
            flush=True,
        )
        settle(base)


if __name__ == "__main__":
    main()
