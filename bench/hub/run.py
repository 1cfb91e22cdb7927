"""Hub benchmark, one run, ratios printed (not pass/fail on absolute times).

1. spawn-to-ready (POST /users/NAME/server until the server is ready) with EverestSpawner, the
   user in a course with two package volumes and a module to sync, against stock DockerSpawner
   (only what host networking needs: a free port, get_ip_and_port) on the same image; both hubs
   run side by side and rounds alternate; medians and their ratio (target <= 1.2);
2. N participants (default 20) sign in through the real OIDC provider and spawn at once:
   all ready, none timed out, time until the last is ready, and the hub API's p95 latency
   measured by a poller during the storm.

Usage: ``.venv/bin/python -m bench.hub.run [--rounds 5] [--participants 20] [--image IMAGE]``.
Everything runs on loopback; containers and volumes it made are removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from tempfile import TemporaryDirectory

import docker
import httpx
from tests.fixtures.hub import Hub, build_singleuser_image, hub_env, oidc_login, start_hub, stop_hub
from tests.fixtures.oidc import TestUser, free_port, start_provider, stop_process
from tests.hub.modules_helpers import publish

from everest_elearn.courses.backends.sqlite import SqliteCourseStore
from everest_elearn.courses.model import Course, ModulePin, PackageRef
from everest_elearn.courses.service import CourseService
from everest_elearn.modules.repository import ModuleRepository

STOCK_CONFIG = """
from dockerspawner import DockerSpawner
from jupyterhub.utils import random_port

class StockHostSpawner(DockerSpawner):
    async def start(self):
        self.port = random_port()
        started = await super().start()
        if {steady_wait!r}:
            # --stock-steady-wait: the stock hub also checks every 0.2 s instead of JupyterHub's
            # backoff, so the ratio shows what the everest spawner's own steps cost.
            import asyncio, httpx
            async with httpx.AsyncClient(timeout=5.0) as client:
                for _ in range(900):
                    try:
                        if (await client.get(f"http://127.0.0.1:{{self.port}}{{self.server.base_url}}")).status_code < 500:
                            break
                    except httpx.HTTPError:
                        pass
                    await asyncio.sleep(0.2)
        return started

    async def get_ip_and_port(self):
        return "127.0.0.1", self.port

c = get_config()
c.JupyterHub.spawner_class = StockHostSpawner
c.DockerSpawner.image = {image!r}
c.DockerSpawner.network_name = "host"
c.DockerSpawner.use_internal_ip = True
c.DockerSpawner.ip = "127.0.0.1"
c.DockerSpawner.remove = True
c.DockerSpawner.pull_policy = "never"
c.DockerSpawner.cmd = ["jupyterhub-singleuser"]
c.DockerSpawner.extra_create_kwargs = {{"labels": {{"everest.test-hub": {tag!r}}}}}
# The same patience as the everest hub's configuration, so only the spawners differ.
c.Spawner.http_timeout = 180
c.Spawner.start_timeout = 300
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allow_all = True
c.JupyterHub.bind_url = "http://127.0.0.1:{port}"
c.JupyterHub.hub_bind_url = "http://127.0.0.1:{hub_port}"
c.JupyterHub.hub_connect_url = "http://127.0.0.1:{hub_port}"
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_port}"
c.ConfigurableHTTPProxy.pid_file = {state!r} + "/proxy.pid"
c.JupyterHub.db_url = "sqlite:///" + {state!r} + "/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = {state!r} + "/cookie_secret"
c.JupyterHub.services = [{{"name": "bench", "api_token": {token!r}}}]
c.JupyterHub.load_roles = [{{"name": "admin", "services": ["bench"]}}]
"""


def load() -> str:
    return os.getloadavg().__repr__()


def keep_log(hub: Hub, name: str) -> None:
    """The hub's log under bench/out/ (not committed), to read after the run."""
    out = Path(__file__).resolve().parents[1] / "out" / "hub"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.log").write_text(hub.log_tail_all())


def start_stock_hub(image: str, data_dir: Path, tag: str, steady_wait: bool = False) -> Hub:
    state = data_dir / "hub"
    state.mkdir(parents=True)
    token = secrets.token_hex(24)
    ports = {"port": free_port(), "hub_port": free_port(), "proxy_port": free_port()}
    config = data_dir / "stock_config.py"
    config.write_text(
        STOCK_CONFIG.format(
            image=image, tag=tag, state=str(state), token=token, steady_wait=steady_wait, **ports
        )
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EVEREST_", "JUPYTERHUB_"))}
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '/usr/bin:/bin')}"
    log = (data_dir / "hub.log").open("wb")
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "jupyterhub"), "-f", str(config)],
        cwd=data_dir, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{ports['port']}"
    hub = Hub(url, f"{url}/hub/api", token, data_dir, env, tag, process)
    for _ in range(300):
        try:
            if httpx.get(f"{hub.api}/", timeout=2).status_code == 200:
                return hub
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the stock hub did not answer: {hub.log_tail()}")


def spawn_seconds(hub: Hub, name: str) -> float:
    with hub.client() as api:
        if api.get(f"/users/{name}").status_code == 404:
            api.post(f"/users/{name}")
        began = time.perf_counter()
        api.post(f"/users/{name}/server")
        while True:
            server = api.get(f"/users/{name}").json().get("servers", {}).get("", {})
            if server.get("ready"):
                took = time.perf_counter() - began
                break
            if time.perf_counter() - began > 300:
                raise RuntimeError(f"{name} not ready: {hub.log_tail()}")
            time.sleep(0.1)
    hub.stop_server(name)
    return took


def step_timings(hub: Hub, name: str) -> str:
    """The spawner's own per-step timings for this user's last spawn, from the hub's log."""
    marker = f"spawn timings of {name} ("
    lines = [line for line in hub.log_tail_all().splitlines() if marker in line]
    return lines[-1].split(marker, 1)[1] if lines else "(no timings logged)"


def make_package(image: str, volume: str) -> None:
    client = docker.from_env()
    client.volumes.create(volume, labels={"everest.kind": "package"})
    client.containers.run(
        image, ["sh", "-c", "for i in $(seq 50); do head -c 100000 /dev/urandom > /v/f$i; done"],
        user="0", network_mode="none", remove=True, volumes={volume: {"bind": "/v", "mode": "rw"}},
    )  # fmt: skip


def part_spawn(image: str, rounds: int, work: Path, steady_wait: bool = False) -> None:
    tag = "b" + secrets.token_hex(4)
    data_dir = work / "everest"
    token = secrets.token_hex(24)
    ports = {k: free_port() for k in ("port", "hub_port", "proxy_api_port", "courses_port")}
    env = hub_env(data_dir, ports, image, None, tag, token)
    env["EVEREST_HUB__CONTAINER_LABELS"] = f'{{"everest.test-hub": "{tag}"}}'
    for name in ("alpha", "beta"):
        make_package(image, f"everest-pkg-{name}-{tag}-1")
    repo = ModuleRepository(data_dir / "modules")
    bare = asyncio.run(repo.create("intro"))
    publish(bare, work / "clone", {f"nb{i}.ipynb": "{}" * 500 for i in range(10)}, "module")
    service = CourseService(SqliteCourseStore(data_dir / "courses.sqlite"))
    users = [f"spawn{i}" for i in range(rounds)]

    async def setup() -> None:
        packages = (PackageRef(f"alpha-{tag}", "1"), PackageRef(f"beta-{tag}", "1"))
        await service.create(
            Course("bench", "Bench", modules=(ModulePin("intro"),), packages=packages)
        )
        await service.enrol("bench", users)

    asyncio.run(setup())
    ours = start_hub(env, data_dir, tag, token)
    stock = start_stock_hub(image, work / "stock", tag, steady_wait)
    try:
        spawn_seconds(ours, "warmup")
        spawn_seconds(stock, "warmup")
        everest, plain = [], []
        for user in users:
            everest.append(spawn_seconds(ours, user))
            plain.append(spawn_seconds(stock, user))
            print(
                f"  round {user}: everest {everest[-1]:.2f} s, stock {plain[-1]:.2f} s  load {load()}"
            )
            print(f"    everest steps: {step_timings(ours, user)}")
        ratio = statistics.median(everest) / statistics.median(plain)
        print(f"spawn-to-ready median: everest {statistics.median(everest):.2f} s "
              f"(2 packages + module sync), stock {statistics.median(plain):.2f} s")  # fmt: skip
        print(f"RATIO everest/stock = {ratio:.2f} (target <= 1.2)")
    finally:
        stop_hub(ours)
        stop_hub(stock)
        keep_log(ours, "spawn-everest")
        keep_log(stock, "spawn-stock")


def part_crowd(image: str, participants: int, work: Path) -> None:
    tag = "b" + secrets.token_hex(4)
    data_dir = work / "crowd"
    ports = {k: free_port() for k in ("port", "hub_port", "proxy_api_port", "courses_port")}
    users = [TestUser(f"p{i:02d}", ["cohort-bench"]) for i in range(participants)]
    provider = start_provider(
        [f"http://127.0.0.1:{ports['port']}/hub/oauth_callback"], users, work / "oidc"
    )
    token = secrets.token_hex(24)
    env = hub_env(data_dir, ports, image, provider, tag, token)
    env["EVEREST_HUB__CONTAINER_LABELS"] = f'{{"everest.test-hub": "{tag}"}}'
    env["EVEREST_HUB__MEM_LIMIT"] = "512M"
    hub = start_hub(env, data_dir, tag, token)
    latencies: list[float] = []
    stop = threading.Event()

    def poll() -> None:
        with hub.client() as api:
            while not stop.is_set():
                began = time.perf_counter()
                api.get("/users/p00")
                latencies.append(time.perf_counter() - began)
                time.sleep(0.2)

    def participant(user: TestUser) -> None:
        client = oidc_login(hub, user.username, user.password)
        client.get(hub.url + "/hub/spawn", follow_redirects=False)
        client.close()

    try:
        poller = threading.Thread(target=poll)
        poller.start()
        began = time.perf_counter()
        threads = [threading.Thread(target=participant, args=(u,)) for u in users]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        logged_in = time.perf_counter() - began
        ready: set[str] = set()
        failed: set[str] = set()
        began_spawning: set[str] = set()
        # Between the spawner's start returning and the hub's wait for the server, a user can
        # briefly show neither a pending spawn nor a server: only a state that lasts is a failure.
        gone: dict[str, int] = {}
        names = {u.username for u in users}
        with hub.client() as api:
            while len(ready | failed) < participants and time.perf_counter() - began < 600:
                for model in api.get("/users").json():
                    name = model["name"]
                    if name not in names:
                        continue
                    server = (model.get("servers") or {}).get("", {})
                    if model.get("pending") or server:
                        began_spawning.add(name)
                    if server.get("ready"):
                        ready.add(name)
                        failed.discard(name)
                    elif name in began_spawning and not server and not model.get("pending"):
                        gone[name] = gone.get(name, 0) + 1
                        if gone[name] >= 5:
                            failed.add(name)  # its spawn ended without a server
                    else:
                        gone.pop(name, None)
                time.sleep(1)
        total = time.perf_counter() - began
        stop.set()
        poller.join()
        p95 = (
            statistics.quantiles(latencies, n=20)[18] * 1000
            if len(latencies) > 20
            else float("nan")
        )
        print(f"{participants} participants: signed in within {logged_in:.1f} s, "
              f"{len(ready)} ready, {len(failed)} failed, {participants - len(ready) - len(failed)} "
              f"timed out; last ready after {total:.1f} s  load {load()}")  # fmt: skip
        print(f"hub API p95 during the storm: {p95:.0f} ms over {len(latencies)} requests")
    finally:
        stop.set()
        stop_hub(hub)
        stop_process(provider.process)
        keep_log(hub, "crowd")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--participants", type=int, default=20)
    parser.add_argument("--image", default=None, help="default: the tests' single-user image")
    parser.add_argument("--skip-crowd", action="store_true")
    parser.add_argument("--skip-spawn", action="store_true")
    parser.add_argument(
        "--stock-steady-wait",
        action="store_true",
        help="the stock hub polls its server every 0.2 s like the everest spawner (a stricter baseline)",
    )
    args = parser.parse_args()
    image = args.image or build_singleuser_image()
    print(f"image {image}; load {load()}")
    with TemporaryDirectory(prefix="bench-hub-") as tmp:
        if not args.skip_spawn:
            part_spawn(image, args.rounds, Path(tmp), args.stock_steady_wait)
        if not args.skip_crowd:
            part_crowd(image, args.participants, Path(tmp))


if __name__ == "__main__":
    main()
