"""EverestSpawner: DockerSpawner with course packages, results, shares, ODC and modules mounted."""

from __future__ import annotations

import asyncio
import re
import shlex
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import docker.errors
import httpx
from dockerspawner import DockerSpawner
from jupyterhub.utils import random_port
from traitlets import Bool, Dict, Float, Int, Unicode, default, validate

from everest_elearn.courses.backends.sqlite import SqliteCourseStore
from everest_elearn.courses.service import CourseService
from everest_elearn.hub.plan import Mount, SpawnPlan, make_plan
from everest_elearn.hub.queue import SpawnQueue
from everest_elearn.hub.shares import shared_with
from everest_elearn.modules.repository import ModuleRepository
from everest_elearn.modules.sync import ModuleSyncer

ROLE_GROUP_PREFIX = "role-"
# Part of Docker container names: [a-zA-Z0-9][a-zA-Z0-9_.-]*, kept to what reads well in them.
INSTANCE = re.compile(r"[a-z0-9][a-z0-9-]{0,23}")


class SpawnFailed(Exception):
    """A spawn failure with a message meant for the participant (JupyterHub shows it as is)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.jupyterhub_message = message


class EverestSpawner(DockerSpawner):  # type: ignore[misc]
    """One container per user on the host network, with the user's courses mounted."""

    courses_db = Unicode(
        "",
        config=True,
        help="SQLite file of the courses service: which courses, packages and modules a user has.",
    )
    packages_db = Unicode(
        "",
        config=True,
        help="SQLite registry of the packages service; shares granted to the user are read from it.",
    )
    modules_dir = Unicode(
        "",
        config=True,
        help="Folder of bare git repositories (<module>.git) that course modules are pinned in.",
    )
    package_volume_template = Unicode(
        "everest-pkg-{name}-{version}",
        config=True,
        help="Docker volume holding a data package, formatted with the package's name and version.",
    )
    packages_path = Unicode(
        "/home/jovyan/data",
        config=True,
        help="Each package of the user's courses is mounted read-only at <packages_path>/<name>.",
    )
    home_volume_template = Unicode(
        "everest-home-{username}",
        config=True,
        help="The user's home volume (keeps notebooks and edits across servers); empty = no volume.",
    )
    results_volume_template = Unicode(
        "everest-results-{username}",
        config=True,
        help="The user's results volume, mounted read-write at results_path; {username} is the "
        "escaped user name, {slug} the packages service's name for the user.",
    )
    results_path = Unicode(
        "/home/jovyan/results", config=True, help="Where the results volume is mounted."
    )
    shared_path = Unicode(
        "/home/jovyan/shared",
        config=True,
        help="Results other users shared with this user appear read-only at <shared_path>/<name>.",
    )
    modules_path = Unicode(
        "/home/jovyan/courses",
        config=True,
        help="Course modules are brought into <modules_path>/<course>/<module>.",
    )
    odc_db_url = Unicode(
        None,
        allow_none=True,
        config=True,
        help="Open Data Cube database URL with a read-only role, given to notebooks as ODC_DEFAULT_DB_URL.",
    )
    odc_index_driver = Unicode(
        "postgres", config=True, help="ODC_DEFAULT_INDEX_DRIVER in containers."
    )
    agency_url = Unicode(
        None,
        allow_none=True,
        config=True,
        help="Data Agency URL given to notebooks (EVEREST_AGENCY_URL).",
    )
    user_uid = Int(1000, config=True, help="uid the notebook server runs as (jovyan).")
    user_gid = Int(
        1000, config=True, help="gid owning the user's writable volumes (jovyan's group)."
    )
    role_limits = Dict(
        config=True,
        help="Per platform role: {'module-developer': {'image': ..., 'mem_limit': '8G', 'cpu_limit': 4}}. "
        "A course's own image and limits win over these.",
    )
    spawn_slots = Int(
        20,
        config=True,
        help="Containers started at once; later spawns wait their turn and are told their queue position.",
    )
    sync_modules = Bool(
        True, config=True, help="Bring the course modules into the home at each spawn."
    )
    hub_instance = Unicode(
        "",
        config=True,
        help="This hub among hubs sharing one Docker engine (lowercase letters, digits, '-'). "
        "Container names start with everest-<hub_instance>- (DockerSpawner's prefix), so one "
        "hub never stops, removes or adopts another's containers.",
    )
    ready_poll_interval = Float(
        0.2,
        config=True,
        help="Seconds between checks whether JupyterLab answers. JupyterHub's own wait backs off "
        "up to 5 s between checks, which alone can add seconds to a spawn.",
    )

    @default("network_name")
    def _default_network(self) -> str:
        return "host"

    @default("use_internal_ip")
    def _default_internal_ip(self) -> bool:
        # Host networking: no port bindings; get_ip_and_port answers from self.port.
        return True

    @default("ip")
    def _default_ip(self) -> str:
        return "127.0.0.1"

    @default("remove")
    def _default_remove(self) -> bool:
        # Containers are disposable: everything worth keeping lives in the home and results volumes.
        return True

    @default("pull_policy")
    def _default_pull_policy(self) -> str:
        return "never"

    @default("cmd")
    def _default_cmd(self) -> list[str]:
        return ["jupyterhub-singleuser"]

    @default("notebook_dir")
    def _default_notebook_dir(self) -> str:
        return "/home/jovyan"

    @default("prefix")
    def _default_prefix(self) -> str:
        # Named servers get DockerSpawner's "{prefix}-{username}--{servername}": "--" cannot
        # occur in an escaped user name, so names of different users never meet.
        return f"everest-{self.hub_instance}" if self.hub_instance else "everest"

    @validate("hub_instance")
    def _valid_instance(self, proposal: Any) -> str:
        value = str(proposal.value)
        if value and not INSTANCE.fullmatch(value):
            raise ValueError(f"hub_instance {value!r}: lowercase letters, digits and '-' only")
        return value

    @validate("spawn_slots")
    def _valid_slots(self, proposal: Any) -> int:
        value = int(proposal.value)
        if value < 1:
            raise ValueError("spawn_slots must be at least 1")
        return value

    _queues: dict[int, SpawnQueue] = {}
    _events: list[dict[str, Any]]
    _plan: SpawnPlan | None = None
    _timings: dict[str, float]

    @contextmanager
    def _timed(self, step: str) -> Iterator[None]:
        """Record how long a spawn step took (logged once the spawn ends, read by the bench)."""
        began = time.perf_counter()
        try:
            yield
        finally:
            self._timings[step] = self._timings.get(step, 0.0) + time.perf_counter() - began

    def _log_timings(self, outcome: str) -> None:
        steps = ", ".join(f"{k} {v:.2f}s" for k, v in self._timings.items())
        self.log.info("spawn timings of %s (%s): %s", self.user.name, outcome, steps)

    # -- spawning ---------------------------------------------------------------------------

    def _emit(self, progress: int, message: str) -> None:
        if not hasattr(self, "_events"):
            self._events = []
        self._events.append({"progress": progress, "message": message})
        self.log.info("spawn %s: %s", self.user.name, message)

    async def progress(self) -> AsyncIterator[dict[str, Any]]:
        """Spawn progress as the hub's progress page shows it."""
        seen = 0
        while True:
            events = getattr(self, "_events", [])
            while seen < len(events):
                yield events[seen]
                seen += 1
            if not self._spawn_pending and seen >= len(getattr(self, "_events", [])):
                return
            await asyncio.sleep(0.25)

    def course_service(self) -> CourseService:
        return CourseService(SqliteCourseStore(Path(self.courses_db)))

    def user_roles(self) -> set[str]:
        roles = {
            g.name[len(ROLE_GROUP_PREFIX) :]
            for g in self.user.groups
            if g.name.startswith(ROLE_GROUP_PREFIX)
        }
        if self.user.admin:
            roles.add("administrator")
        return roles

    async def start(self) -> tuple[str, int]:
        self._events = []
        self._timings = {}
        self._fresh_volumes = set()
        queue = self._queues.setdefault(self.spawn_slots, SpawnQueue(self.spawn_slots))
        outcome = "failed"
        began = time.perf_counter()
        try:
            async with queue.slot(lambda position: self._emit(5, queue.message(position))):
                self._timings["queue"] = time.perf_counter() - began
                result = await self._start_in_slot()
            outcome = "ready"
            return result
        finally:
            self._log_timings(outcome)

    async def _start_in_slot(self) -> tuple[str, int]:
        self._emit(10, "Looking up your courses")
        with self._timed("plan"):
            plan = await self.make_plan()
        self._plan = plan
        self.image = plan.image
        if plan.mem_limit:
            self.mem_limit = plan.mem_limit
        if plan.cpu_limit:
            self.cpu_limit = plan.cpu_limit
        self.volumes = {m.source: {"bind": m.target, "mode": m.mode} for m in plan.mounts}
        with self._timed("volumes"):
            await self.check_volumes(plan)
        self.port = random_port()
        self._emit(40, f"Starting your server ({plan.describe()})")
        try:
            with self._timed("container"):
                await super().start()
        except docker.errors.ImageNotFound as error:
            raise SpawnFailed(
                f"The software image {self.image!r} for your course is not installed on this server. "
                "Please tell the course manager."
            ) from error
        except docker.errors.APIError as error:
            self.log.error("docker refused to start %s: %s", self.user.name, error)
            raise SpawnFailed(
                "Your server could not be started by the container engine. Please try again in a "
                "minute; if it keeps failing, tell the course manager."
            ) from error
        with self._timed("ownership"):
            await self.fix_ownership(plan)
        if self.sync_modules and plan.modules:
            self._emit(70, f"Bringing {len(plan.modules)} course module(s) into your home folder")
            with self._timed("modules"):
                await self.bring_modules(plan)
        ip, port = await self.get_ip_and_port()
        # Hold the queue place until JupyterLab answers: starting it is the costly part, and
        # what the spawn limit protects at the start of a class.
        self._emit(90, "Waiting for JupyterLab to answer")
        url = f"http://{ip}:{port}{self.server.base_url if self.server else '/'}"
        with self._timed("lab"):
            answered = await self.wait_for_lab(url, float(self.http_timeout))
        if not answered:
            # Keep the evidence: the container is removed as soon as it stops.
            tail = await self.docker("logs", self.container_id, tail=40)
            text = tail.decode("utf-8", "replace") if isinstance(tail, bytes) else str(tail)
            self.log.warning(
                "server of %s not answering at %s; its last lines:\n%s", self.user.name, url, text
            )
            raise SpawnFailed(
                "Your server started but JupyterLab did not answer in time. Please try again; "
                "if it keeps failing, tell the course manager."
            )
        return ip, port

    async def wait_for_lab(self, url: str, patience: float) -> bool:
        """True once the server answers below 500; checks at a steady short interval, no backoff."""
        deadline = time.monotonic() + patience
        async with httpx.AsyncClient(timeout=5.0, follow_redirects=False) as client:
            while time.monotonic() < deadline:
                try:
                    response = await client.get(url)
                except httpx.HTTPError:
                    pass  # not listening yet
                else:
                    if response.status_code < 500:
                        return True
                await asyncio.sleep(self.ready_poll_interval)
        return False

    async def create_object(self) -> Any:
        """Create the container; wait while Docker still removes the user's previous one."""
        for attempt in range(30):
            try:
                return await super().create_object()
            except docker.errors.APIError as error:
                if error.status_code != 409 or attempt == 29:
                    raise
                self.log.info(
                    "previous container of %s still being removed; waiting", self.user.name
                )
                await asyncio.sleep(1)
        raise AssertionError("unreachable")

    async def get_ip_and_port(self) -> tuple[str, int]:
        return "127.0.0.1", int(self.port)

    async def make_plan(self) -> SpawnPlan:
        courses = []
        if self.courses_db:
            courses = await self.course_service().courses_of(self.user.name)
        shares = await self.find_shares([c.id for c, _ in courses])
        return make_plan(
            spawner=self,
            username=self.user.name,
            escaped=self.escaped_name,
            courses=[c for c, _ in courses],
            chosen=self.user_options.get("course"),
            roles=self.user_roles(),
            shares=shares,
        )

    async def find_shares(self, course_ids: list[str]) -> list[Mount]:
        """Results other users shared with this user (from the packages registry)."""
        if not self.packages_db:
            return []
        groups = [g.name for g in self.user.groups]
        return await shared_with(
            Path(self.packages_db), self.user.name, groups, course_ids, self.shared_path
        )

    async def check_volumes(self, plan: SpawnPlan) -> None:
        """Every package volume must exist; a missing one is named in words a participant understands."""
        self._fresh_volumes = set()
        self._emit(20, f"Mounting {len(plan.packages)} data package(s) read-only")
        for mount in plan.mounts:
            try:
                await self.docker("inspect_volume", mount.source)
            except docker.errors.NotFound:
                if mount.mode == "ro":
                    raise SpawnFailed(
                        f"The data package {mount.label!r} of your course is not available yet. "
                        "Please tell the course manager."
                    ) from None
                await self.docker("create_volume", name=mount.source, labels=mount.labels)
                # A new volume is root-owned (or has the image's owner): it needs its chown.
                self.prepared_volumes.discard(mount.source)
                self._fresh_volumes.add(mount.source)

    # What earlier servers already did to the user's volumes, kept in the hub's database
    # (get_state) so that a returning user's spawn needs no exec at all for ownership.
    prepared_volumes: set[str]
    mounted_before: list[str] | None = None
    _fresh_volumes: set[str]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.prepared_volumes = set()
        self._fresh_volumes = set()

    def load_state(self, state: dict[str, Any]) -> None:
        super().load_state(state)
        self.prepared_volumes = set(state.get("everest_owned_volumes", []))
        self.mounted_before = state.get("everest_mounted")

    def get_state(self) -> dict[str, Any]:
        state: dict[str, Any] = super().get_state()
        # Kept across stops on purpose (clear_state leaves them): they describe the volumes.
        state["everest_owned_volumes"] = sorted(self.prepared_volumes)
        if self.mounted_before is not None:
            state["everest_mounted"] = self.mounted_before
        return state

    def ownership_work(self, plan: SpawnPlan) -> tuple[list[Mount], bool]:
        """Writable mounts still to hand to the user, and whether stale mount points may exist."""
        chown = [m for m in plan.mounts if m.mode == "rw" and m.source not in self.prepared_volumes]
        home = [m for m in plan.mounts if m.target == "/home/jovyan"]
        home_fresh = not home or home[0].source in self._fresh_volumes
        now = {m.target for m in plan.mounts if m.mode == "ro"}
        before = self.mounted_before
        stale = not home_fresh and (before is None or not set(before) <= now)
        return chown, stale

    async def fix_ownership(self, plan: SpawnPlan) -> None:
        """Hand new writable volumes' top folder to the notebook user; clear stale mount points.

        Never recursive, and no exec at all when earlier servers already did it: a returning
        user's volumes keep their owner, and mount points only go stale when mounts go away.
        """
        chown, stale = self.ownership_work(plan)
        owner = f"{self.user_uid}:{self.user_gid}"
        parts = []
        if chown:
            targets = " ".join(shlex.quote(m.target) for m in chown)
            # Look before changing: a volume someone else already handed over stays untouched.
            parts.append(
                f'for t in {targets}; do [ "$(stat -c %u:%g "$t")" = {owner} ] || chown {owner} "$t" || exit 1; done'
            )
        if stale:
            # Docker leaves the mount points of earlier servers in the home volume: empty folders
            # of packages or shares no longer granted would look like data that vanished. Remove
            # them (rmdir refuses anything not empty, and current mounts are busy).
            roots = " ".join(shlex.quote(p) for p in (self.packages_path, self.shared_path))
            parts.append(
                f'for d in {roots}; do [ -d "$d" ] && find "$d" -mindepth 1 -maxdepth 1 -type d -empty -exec rmdir {{}} + ; done 2>/dev/null; true'
            )
        if parts:
            await self.exec(["sh", "-c", " && ".join(f"{{ {p}; }}" for p in parts)], user="0")
        self.prepared_volumes |= {m.source for m in chown}
        self.mounted_before = sorted(m.target for m in plan.mounts if m.mode == "ro")

    async def exec(self, cmd: list[str], user: str | None = None) -> str:
        """Run a command in the user's container; raises with its output when it fails."""
        exec_id = await self.docker(
            "exec_create", self.container_id, cmd, user=user or str(self.user_uid)
        )
        output = await self.docker("exec_start", exec_id)
        info = await self.docker("exec_inspect", exec_id)
        text = output.decode("utf-8", "replace") if isinstance(output, bytes) else str(output)
        if info.get("ExitCode"):
            raise RuntimeError(f"{cmd[0]} failed in {self.object_name}: {text.strip()[-500:]}")
        return text

    def get_env(self) -> dict[str, str]:
        env: dict[str, str] = super().get_env()
        env["EVEREST_DATA_ROOT"] = self.packages_path
        env["EVEREST_RESULTS"] = self.results_path
        if self.odc_db_url:
            env["ODC_DEFAULT_DB_URL"] = self.odc_db_url
            env["ODC_DEFAULT_INDEX_DRIVER"] = self.odc_index_driver
        if self.agency_url:
            env["EVEREST_AGENCY_URL"] = self.agency_url
        if self._plan is not None and self._plan.course:
            env["EVEREST_COURSE"] = self._plan.course
        return env

    async def bring_modules(self, plan: SpawnPlan) -> list[dict[str, Any]]:
        """Sync the course modules into the home; record which commit each user now has."""
        results = await self.syncer().sync(self, list(plan.modules))
        service = self.course_service() if self.courses_db else None
        for item in results:
            where = f"{item['course']}/{item['module']}"
            if "error" in item:
                self._emit(75, f"Module {where} is not available yet; the others are ready")
                continue
            kept = len(item.get("offered", []))
            note = (
                f"; {kept} file(s) you changed were kept, the new version is beside them"
                if kept
                else ""
            )
            self._emit(80, f"Module {where} is up to date{note}")
            if service is not None:
                await service.store.put_sync(
                    self.user.name, item["course"], item["module"], item["commit"]
                )
        return results

    def syncer(self) -> ModuleSyncer:
        return ModuleSyncer(ModuleRepository(Path(self.modules_dir)), self.modules_path)
