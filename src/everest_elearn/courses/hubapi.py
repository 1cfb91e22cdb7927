"""The few hub API calls the courses service makes, with its own scoped service token."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from everest_elearn.errors import BackendUnavailable, NotFound, UpstreamError


class HubApi:
    """Users, their servers, start and stop; the token carries only the scopes it needs."""

    def __init__(self, api_url: str, token: str) -> None:
        self.client = httpx.AsyncClient(
            base_url=api_url.rstrip("/"), headers={"Authorization": f"token {token}"}, timeout=30
        )

    async def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self.client.request(method, path, **kwargs)
        except httpx.HTTPError:
            raise BackendUnavailable("the hub") from None
        if response.status_code == 404:
            raise NotFound("hub user", path.split("/")[2] if path.count("/") >= 2 else path)
        if response.status_code >= 400:
            raise UpstreamError(f"the hub answered {response.status_code} to {method} {path}")
        return response

    async def user(self, name: str) -> dict[str, Any]:
        model: dict[str, Any] = (await self._call("GET", f"/users/{quote(name)}")).json()
        return model

    async def users(self) -> list[dict[str, Any]]:
        models: list[dict[str, Any]] = (await self._call("GET", "/users")).json()
        return models

    async def start(self, name: str, course: str | None = None) -> None:
        options = {"course": course} if course else {}
        await self._call("POST", f"/users/{quote(name)}/server", json=options)

    async def stop(self, name: str) -> None:
        await self._call("DELETE", f"/users/{quote(name)}/server")

    async def aclose(self) -> None:
        await self.client.aclose()
