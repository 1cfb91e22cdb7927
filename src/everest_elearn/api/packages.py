"""Data packages over HTTP: specs, estimates, background builds with per-file status, deletion, shares."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response

from everest_elearn.api.deps import IdentityDep, lifespan_service
from everest_elearn.errors import InvalidInput
from everest_elearn.packages.results import ResultsService
from everest_elearn.packages.service import PackageService
from everest_elearn.packages.spec import PackageSpec, load_spec, parse_spec
from everest_elearn.settings import Settings

log = logging.getLogger(__name__)

router = APIRouter(prefix="/packages", tags=["packages"])


@asynccontextmanager
async def lifespan(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    """Open the registry and the volumes after the catalogue's and the gateway's lifespans."""
    catalogue = getattr(app.state, "catalogue", None)
    gateway = getattr(app.state, "gateway", None)
    if catalogue is None or gateway is None:
        log.warning("packages: no catalogue or gateway on this server; packages are unavailable")
        yield
        return
    service = await PackageService.open(settings, catalogue, gateway)
    log.info("packages: %s", service.describe())
    app.state.packages = service
    app.state.results = ResultsService(service)
    try:
        yield
    finally:
        await service.close()


def get_packages(request: Request) -> PackageService:
    service: PackageService = lifespan_service(request, "packages", "packages", retry_after=10)
    return service


def get_results(request: Request) -> ResultsService:
    service: ResultsService = lifespan_service(request, "results", "packages", retry_after=10)
    return service


PackagesDep = Annotated[PackageService, Depends(get_packages)]
ResultsDep = Annotated[ResultsService, Depends(get_results)]


async def spec_body(request: Request) -> PackageSpec:
    """A spec sent as JSON or YAML (``Content-Type: application/yaml``)."""
    raw = await request.body()
    if len(raw) > 1_000_000:
        raise InvalidInput("body", "a package spec is at most 1 MB")
    if "yaml" in request.headers.get("content-type", ""):
        return load_spec(raw)
    try:
        data = json.loads(raw or b"null")
    except ValueError as exc:
        raise InvalidInput("body", f"not JSON: {exc}") from None
    return parse_spec(data)


SpecBody = Annotated[PackageSpec, Depends(spec_body)]


@router.get("")
async def list_packages(service: PackagesDep, identity: IdentityDep) -> dict[str, Any]:
    return {"volumes": service.describe(), "packages": await service.list_packages(identity)}


@router.get("/specs")
async def list_specs(service: PackagesDep, identity: IdentityDep) -> list[dict[str, Any]]:
    return [s.model_dump(mode="json") for s in await service.list_specs(identity)]


@router.post("/specs", status_code=201)
async def save_spec(spec: SpecBody, service: PackagesDep, identity: IdentityDep) -> dict[str, Any]:
    saved = await service.save_spec(spec, identity)
    return saved.model_dump(mode="json")


@router.get("/specs/{name}/{version}")
async def get_spec(
    name: str, version: str, service: PackagesDep, identity: IdentityDep
) -> dict[str, Any]:
    return (await service.get_spec(name, version, identity)).model_dump(mode="json")


@router.post("/estimate")
async def estimate(spec: SpecBody, service: PackagesDep, identity: IdentityDep) -> dict[str, Any]:
    result = await service.estimate(spec, identity)
    return result.to_dict() | {"summary": result.summary()}


@router.post("/builds", status_code=202)
async def build(
    spec: SpecBody, service: PackagesDep, identity: IdentityDep, response: Response
) -> dict[str, Any]:
    """Validated now (errors answer 4xx); built in the background; follow ``status``."""
    progress = await service.start_build(spec, identity)
    status = f"/packages/{spec.name}/{spec.version}"
    response.headers["Location"] = status
    return {"name": spec.name, "version": spec.version, "phase": progress.phase, "status": status}


@router.get("/shares")
async def list_shares(results: ResultsDep, identity: IdentityDep) -> list[dict[str, Any]]:
    return await results.shares(identity)


@router.post("/shares", status_code=201)
async def publish(request: Request, results: ResultsDep, identity: IdentityDep) -> dict[str, Any]:
    """Body: ``{"name": ..., "description": ..., "licence": ..., "grant": [users or groups]}``."""
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError as exc:
        raise InvalidInput("body", f"not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise InvalidInput("body", "a JSON object is expected")
    return await results.publish(identity, body)


@router.delete("/shares/{name}", status_code=204)
async def revoke(name: str, results: ResultsDep, identity: IdentityDep) -> Response:
    """The owner (or an administrator) withdraws a share at once: no longer listed nor mounted,
    and a grantee's running server sees its folder empty; the owner's results stay."""
    await results.revoke(identity, name)
    return Response(status_code=204)


@router.get("/{name}/{version}")
async def status(
    name: str, version: str, service: PackagesDep, identity: IdentityDep
) -> dict[str, Any]:
    return await service.status(name, version, identity)


@router.delete("/{name}/{version}", status_code=204)
async def delete(name: str, version: str, service: PackagesDep, identity: IdentityDep) -> Response:
    await service.delete(name, version, identity)
    return Response(status_code=204)
