"""A user's running notebook container, reached through the Docker engine (for syncs on request)."""

from __future__ import annotations

import asyncio
from typing import Any

import docker
from docker.api import APIClient

from everest_elearn.errors import BackendUnavailable, Conflict


class NotebookContainer:
    """Implements what ``ModuleSyncer`` needs: ``docker(...)`` calls and ``exec`` as the user."""

    def __init__(self, client: APIClient, container_id: str, uid: int = 1000) -> None:
        self.client = client
        self.container_id = container_id
        self.uid = uid

    @classmethod
    async def of_user(
        cls, username: str, base_url: str | None = None, hub: str | None = None
    ) -> NotebookContainer:
        """The user's running container of hub ``hub``, found by the labels the spawner puts on it."""
        labels = ["everest.kind=notebook", f"everest.owner={username}"]
        if hub:
            labels.append(f"everest.hub={hub}")  # another hub on the engine may serve the user too
        try:
            client = APIClient(base_url=base_url or "unix:///var/run/docker.sock")
            found = await asyncio.to_thread(
                client.containers, filters={"label": labels, "status": "running"}
            )
        except docker.errors.DockerException:
            raise BackendUnavailable("the container engine") from None
        if not found:
            raise Conflict("your server is not running: start it first, then ask for the update")
        return cls(client, found[0]["Id"])

    async def docker(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(getattr(self.client, method), *args, **kwargs)

    async def exec(self, cmd: list[str], user: str | None = None) -> str:
        exec_id = await self.docker(
            "exec_create", self.container_id, cmd, user=user or str(self.uid)
        )
        output = await self.docker("exec_start", exec_id)
        info = await self.docker("exec_inspect", exec_id)
        text = output.decode("utf-8", "replace") if isinstance(output, bytes) else str(output)
        if info.get("ExitCode"):
            raise RuntimeError(f"{cmd[0]} failed in the notebook container: {text.strip()[-500:]}")
        return text
