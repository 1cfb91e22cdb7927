"""The harvest edge: sources with status and last error, and a trigger to run one now."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from everest_elearn.api.deps import IdentityDep, lifespan_service
from everest_elearn.errors import Forbidden, NotFound, Unauthorized
from everest_elearn.harvest.agent import Agent, from_settings
from everest_elearn.security.identity import Identity, Role
from everest_elearn.settings import Settings

log = logging.getLogger(__name__)
router = APIRouter(prefix="/harvest", tags=["harvest"])


@asynccontextmanager
async def lifespan(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    """The agent over the catalogue (and the gateway, for sources that mirror); its scheduler."""
    catalogue = getattr(app.state, "catalogue", None)
    if catalogue is None:
        yield
        return
    agent = from_settings(settings, catalogue, os.environ, getattr(app.state, "gateway", None))
    app.state.harvest_agent = agent
    scheduler = None
    if settings.harvest.agent_enabled:
        scheduler = asyncio.create_task(agent.serve(), name="harvest-scheduler")
    try:
        yield
    finally:
        if scheduler is not None:
            scheduler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await scheduler
        await agent.close()


def get_agent(request: Request) -> Agent:
    agent: Agent = lifespan_service(request, "harvest_agent", "harvest agent")
    return agent


AgentDep = Annotated[Agent, Depends(get_agent)]


def _require(identity: Identity, roles: set[Role], what: str) -> None:
    if identity.anonymous:
        raise Unauthorized("a bearer token is required")
    if not identity.roles & roles:
        raise Forbidden(what)


@router.get("/sources")
async def sources(agent: AgentDep, identity: IdentityDep) -> dict[str, Any]:
    """Every source: kind, schedule, state, last success, last error, totals, last run."""
    _require(identity, {Role.ADMIN, Role.AGENT, Role.MANAGER}, "only operators see harvest sources")
    return await agent.status()


@router.get("/sources/{name}")
async def source(name: str, agent: AgentDep, identity: IdentityDep) -> dict[str, Any]:
    _require(identity, {Role.ADMIN, Role.AGENT, Role.MANAGER}, "only operators see harvest sources")
    for row in (await agent.status())["sources"]:
        if row["name"] == name:
            result: dict[str, Any] = row
            return result
    raise NotFound("harvest source", name)


@router.post("/sources/{name}/run", status_code=202)
async def trigger(name: str, agent: AgentDep, identity: IdentityDep, wait: bool = False) -> Any:
    """Run a source now: in the background (202), or with ``wait=true`` to get the run's report."""
    _require(
        identity, {Role.ADMIN, Role.AGENT}, "only administrators and the data agent run harvests"
    )
    if wait:
        report = await agent.run(name)
        return JSONResponse(report.to_dict(), status_code=200)
    started = agent.start_run(name)
    return {"source": name, "started": started, "running": True}
