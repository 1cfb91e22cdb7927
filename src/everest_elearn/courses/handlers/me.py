"""The caller's own courses, module updates and server (the participant's and developer's view)."""

from __future__ import annotations

from everest_elearn.courses.handlers.base import Base
from everest_elearn.courses.hubapi import HubApi
from everest_elearn.courses.updates import module_status
from everest_elearn.modules.container import NotebookContainer
from everest_elearn.modules.sync import ModuleSyncer


class MeApi(Base):
    """The caller's courses and, per module, whether an update is available."""

    async def get(self) -> None:
        self.write_json(
            await module_status(self.service, self.settings["modules"], self.identity.subject or "")
        )


class SyncApi(Base):
    """Bring the caller's course modules into their running server now."""

    async def post(self) -> None:
        subject = self.identity.subject or ""
        container = await NotebookContainer.of_user(
            subject, self.settings["docker_url"], self.settings["hub_instance"]
        )
        modules = [
            (c.id, pin) for c, _ in await self.service.courses_of(subject) for pin in c.modules
        ]
        syncer = ModuleSyncer(self.settings["modules"], self.settings["modules_path"])
        results = await syncer.sync(container, modules)
        for item in results:
            if "error" not in item:
                await self.service.store.put_sync(
                    subject, item["course"], item["module"], item["commit"]
                )
        self.write_json(results)


async def my_server(hub_api: HubApi, name: str) -> str:
    model = await hub_api.user(name)
    server = (model.get("servers") or {}).get("", {})
    if server.get("ready"):
        return "running"
    return str(model.get("pending") or "stopped")


class MyServerApi(Base):
    """The caller's own server (the module developers' dashboard): state, start, stop."""

    async def get(self) -> None:
        self.write_json({"server": await my_server(self.hub_api, self.identity.subject or "")})

    async def post(self) -> None:
        await self.hub_api.start(self.identity.subject or "")
        self.write_json({"server": "starting"}, 202)

    async def delete(self) -> None:
        await self.hub_api.stop(self.identity.subject or "")
        self.write_json({"server": "stopping"}, 202)
