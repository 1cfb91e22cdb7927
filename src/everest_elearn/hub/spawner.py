"""EverestSpawner: DockerSpawner with course packages, results, shares, ODC and modules mounted.

The class holds the order of a spawn's steps; its traits and the steps themselves live beside
it: spawner_settings, naming (container names per hub), volumes, module_sync, environment
(roles, the notebook's variables) and progress (messages, failures, readiness).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import docker.errors
from dockerspawner import DockerSpawner
from jupyterhub.utils import random_port
from traitlets import default, validate

from everest_elearn.courses.backends.sqlite import SqliteCourseStore
from everest_elearn.courses.service import CourseService
from everest_elearn.hub import environment, module_sync, volumes
from everest_elearn.hub.environment import ROLE_GROUP_PREFIX
from everest_elearn.hub.naming import INSTANCE, checked_instance, container_prefix
from everest_elearn.hub.plan import Mount, SpawnPlan, make_plan
from everest_elearn.hub.progress import (
    ENGINE_REFUSED,
    IMAGE_MISSING,
    LAB_SILENT,
    SpawnFailed,
    SpawnReport,
    follow,
    lab_answers,
)
from everest_elearn.hub.queue import SpawnQueue
from everest_elearn.hub.shares import shared_with
from everest_elearn.hub.spawner_settings import SpawnerSettings
from everest_elearn.modules.sync import ModuleSyncer

# Other code imports these from here.
__all__ = ["INSTANCE", "ROLE_GROUP_PREFIX", "EverestSpawner", "SpawnFailed"]
RUNNING_KEY = "everest_running"


class EverestSpawner(SpawnerSettings, DockerSpawner):  # type: ignore[misc]
    """One container per user on the host network, with the user's courses mounted."""

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
        return container_prefix(self.hub_instance)

    @validate("hub_instance")
    def _valid_instance(self, proposal: Any) -> str:
        return checked_instance(str(proposal.value))

    @validate("spawn_slots")
    def _valid_slots(self, proposal: Any) -> int:
        value = int(proposal.value)
        if value < 1:
            raise ValueError("spawn_slots must be at least 1")
        return value

    _queues: dict[int, SpawnQueue] = {}
    _report: SpawnReport | None = None
    _plan: SpawnPlan | None = None
    # What earlier servers already did to the user's volumes, kept in the hub's database (see
    # volumes); the volumes made by the current spawn.
    prepared_volumes: set[str]
    mounted_before: list[str] | None = None
    running_what: dict[str, Any] | None = None
    provider_token: str | None = None
    _fresh_volumes: set[str]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.prepared_volumes = set()
        self._fresh_volumes = set()

    def load_state(self, state: dict[str, Any]) -> None:
        super().load_state(state)
        volumes.load_state(self, state)
        self.running_what = state.get(RUNNING_KEY)

    def get_state(self) -> dict[str, Any]:
        state: dict[str, Any] = super().get_state()
        volumes.save_state(self, state)
        if self.running_what:
            # The courses service reads it (admin:server_state): who runs which course, image.
            state[RUNNING_KEY] = self.running_what
        return state

    def clear_state(self) -> None:
        super().clear_state()
        self.running_what = None  # a stopped server runs nothing

    # -- spawning ---------------------------------------------------------------------------

    def _emit(self, progress: int, message: str) -> None:
        if self._report is None:
            self._report = SpawnReport(self.log, self.user.name)
        self._report.emit(progress, message)

    async def progress(self) -> AsyncIterator[dict[str, Any]]:
        """Spawn progress as the hub's progress page shows it."""
        events = lambda: self._report.events if self._report else []  # noqa: E731
        async for event in follow(events, lambda: bool(self._spawn_pending)):
            yield event

    def course_service(self) -> CourseService:
        return CourseService(SqliteCourseStore(Path(self.courses_db)))

    def user_roles(self) -> set[str]:
        return environment.user_roles(self.user)

    async def start(self) -> tuple[str, int]:
        self._report = report = SpawnReport(self.log, self.user.name)
        self._fresh_volumes = set()
        queue = self._queues.setdefault(self.spawn_slots, SpawnQueue(self.spawn_slots))
        outcome = "failed"
        began = time.perf_counter()
        try:
            async with queue.slot(lambda position: self._emit(5, queue.message(position))):
                report.timings["queue"] = time.perf_counter() - began
                result = await self._start_in_slot(report)
            outcome = "ready"
            return result
        finally:
            report.log_timings(outcome)

    async def _start_in_slot(self, report: SpawnReport) -> tuple[str, int]:
        self._emit(10, "Looking up your courses")
        with report.timed("plan"):
            plan = await self.make_plan()
        self._plan = plan
        self.running_what = {"course": plan.course, "image": plan.image}
        self.image = plan.image
        if plan.mem_limit:
            self.mem_limit = plan.mem_limit
        if plan.cpu_limit:
            self.cpu_limit = plan.cpu_limit
        self.volumes = {m.source: {"bind": m.target, "mode": m.mode} for m in plan.mounts}
        with report.timed("volumes"):
            await self.check_volumes(plan)
        self.port = random_port()
        self._emit(40, f"Starting your server ({plan.describe()})")
        try:
            with report.timed("container"):
                await super().start()
        except docker.errors.ImageNotFound as error:
            raise SpawnFailed(IMAGE_MISSING.format(image=self.image)) from error
        except docker.errors.APIError as error:
            self.log.error("docker refused to start %s: %s", self.user.name, error)
            raise SpawnFailed(ENGINE_REFUSED) from error
        with report.timed("ownership"):
            await self.fix_ownership(plan)
        if self.sync_modules and plan.modules:
            self._emit(70, f"Bringing {len(plan.modules)} course module(s) into your home folder")
            with report.timed("modules"):
                await self.bring_modules(plan)
        ip, port = await self.get_ip_and_port()
        # Hold the queue place until JupyterLab answers: starting it is the costly part, and
        # what the spawn limit protects at the start of a class.
        self._emit(90, "Waiting for JupyterLab to answer")
        url = f"http://{ip}:{port}{self.server.base_url if self.server else '/'}"
        with report.timed("lab"):
            answered = await self.wait_for_lab(url, float(self.http_timeout))
        if not answered:
            # Keep the evidence: the container is removed as soon as it stops.
            tail = await self.docker("logs", self.container_id, tail=40)
            text = tail.decode("utf-8", "replace") if isinstance(tail, bytes) else str(tail)
            self.log.warning(
                "server of %s not answering at %s; its last lines:\n%s", self.user.name, url, text
            )
            raise SpawnFailed(LAB_SILENT)
        return ip, port

    async def wait_for_lab(self, url: str, patience: float) -> bool:
        """True once the server answers below 500; checks at a steady short interval, no backoff."""
        return await lab_answers(url, patience, self.ready_poll_interval)

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
        await volumes.check_volumes(self, plan)

    def ownership_work(self, plan: SpawnPlan) -> tuple[list[Mount], bool]:
        """Writable mounts still to hand to the user, and whether stale mount points may exist."""
        fresh, before = self._fresh_volumes, self.mounted_before
        return volumes.ownership_work(plan, self.prepared_volumes, fresh, before)

    async def fix_ownership(self, plan: SpawnPlan) -> None:
        """Hand new writable volumes' top folder to the notebook user; clear stale mount points."""
        await volumes.fix_ownership(self, plan)

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

    async def run_auth_state_hook(self, auth_state: dict[str, Any] | None) -> None:
        await super().run_auth_state_hook(auth_state)
        token = (auth_state or {}).get("access_token")
        self.provider_token = str(token) if token and self.pass_provider_token else None

    def get_env(self) -> dict[str, str]:
        env: dict[str, str] = super().get_env()
        env.update(environment.everest_env(self))
        return env

    async def bring_modules(self, plan: SpawnPlan) -> list[dict[str, Any]]:
        """Sync the course modules into the home; record which commit each user now has."""
        return await module_sync.bring_modules(self, plan)

    def syncer(self) -> ModuleSyncer:
        return module_sync.syncer(self)
