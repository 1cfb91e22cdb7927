"""One small async engine interface over the Elasticsearch and the OpenSearch Python clients.

Elasticsearch 8+ clients send ``application/vnd.elasticsearch+json; compatible-with=N`` and check
the ``X-Elastic-Product`` header, which OpenSearch rejects (406) and lacks; opensearch-py speaks
plain JSON. So the flavour picks the client: ``elasticsearch`` uses ``AsyncElasticsearch`` (client
major must match the server's), ``opensearch`` uses ``AsyncOpenSearch``, and ``auto`` asks the
server once (``GET /``, plain JSON, which both engines accept) for ``version.distribution``.
"""

from __future__ import annotations

import logging
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit, urlunsplit

import httpx

from everest_elearn.errors import BackendUnavailable, UpstreamError

log = logging.getLogger(__name__)
SERVICE = "catalogue search engine"
Flavour = Literal["elasticsearch", "opensearch"]


class EngineError(UpstreamError):
    """An error answer from the engine (not a connection failure); a 502 if nobody handles it."""

    def __init__(self, status: int, kind: str, reason: str) -> None:
        self.status = status
        self.kind = kind
        self.reason = reason
        super().__init__(f"{status} {kind}: {reason}")


class Engine(Protocol):
    """The handful of engine calls the store makes."""

    flavour: Flavour

    async def info(self) -> dict[str, Any]: ...
    async def create_index(self, name: str, body: dict[str, Any]) -> bool: ...
    async def indices_of(self, alias: str) -> list[str]: ...
    async def delete_indices(self, names: list[str]) -> None: ...
    async def bulk(self, operations: list[dict[str, Any]], refresh: str) -> dict[str, Any]: ...
    async def search(self, index: str, body: dict[str, Any]) -> dict[str, Any]: ...
    async def count(self, index: str) -> int: ...
    async def aliases(self, pattern: str) -> dict[str, list[str]]: ...
    async def update_aliases(self, actions: list[dict[str, Any]]) -> None: ...
    async def put_settings(self, index: str, settings: dict[str, Any]) -> None: ...
    async def refresh(self, index: str) -> None: ...
    async def close(self) -> None: ...


def redact(url: str) -> str:
    """The URL without user information, for messages and logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _error_parts(status: Any, body: Any, fallback: str) -> EngineError:
    kind, reason = "error", fallback
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
        root = (error.get("root_cause") or [error])[0]
        kind = str(root.get("type", kind))
        reason = str(root.get("reason", reason))
    elif isinstance(body, dict) and isinstance(body.get("error"), str):
        kind = reason = body["error"]
    return EngineError(int(status) if isinstance(status, int) else 0, kind, reason)


def _is_alias_name(exc: EngineError) -> bool:
    """Creating an index whose name a re-index turned into an alias: it exists (as the alias)."""
    return exc.kind == "invalid_index_name_exception" and "alias" in exc.reason


def _unavailable(url: str, exc: BaseException) -> BackendUnavailable:
    # The exception text may carry the URL; log only the redacted address and the class.
    log.warning("%s at %s unreachable: %s", SERVICE, redact(url), type(exc).__name__)
    return BackendUnavailable(SERVICE)


class _ClientEngine:
    """The engine calls both Python clients spell the same way; a subclass wraps its client's
    errors (``_call``) and supplies the calls whose keyword names differ."""

    _url: str
    _client: Any

    async def _call(self, coro: Any) -> Any:
        raise NotImplementedError

    def _create(self, name: str, body: dict[str, Any]) -> Any:
        """The client's (not yet awaited) index creation call."""
        raise NotImplementedError

    async def info(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._call(self._client.info())
        return result

    async def create_index(self, name: str, body: dict[str, Any]) -> bool:
        try:
            await self._call(self._create(name, body))
        except EngineError as exc:
            if "already_exists" in exc.kind or _is_alias_name(exc):
                return False
            raise
        return True

    async def indices_of(self, alias: str) -> list[str]:
        try:
            result = await self._call(self._client.indices.get_alias(name=alias))
        except EngineError as exc:
            if exc.status == 404:
                return []
            raise
        return sorted(result)

    async def delete_indices(self, names: list[str]) -> None:
        if names:
            await self._call(self._client.indices.delete(index=",".join(names)))

    async def search(self, index: str, body: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = await self._call(
            self._client.search(index=index, body=body, ignore_unavailable=True)
        )
        return result

    async def count(self, index: str) -> int:
        return int((await self._call(self._client.count(index=index)))["count"])

    async def aliases(self, pattern: str) -> dict[str, list[str]]:
        """index -> its aliases, for the indices matching ``pattern``."""
        result = await self._call(self._client.indices.get_alias(index=pattern))
        return {name: sorted(body.get("aliases", {})) for name, body in result.items()}

    async def refresh(self, index: str) -> None:
        await self._call(self._client.indices.refresh(index=index))

    async def close(self) -> None:
        await self._client.close()


class ElasticsearchEngine(_ClientEngine):
    """``AsyncElasticsearch`` (elasticsearch-py 8/9) behind the Engine interface."""

    flavour: Flavour = "elasticsearch"

    def __init__(
        self, url: str, auth: tuple[str, str] | None, timeout: float, ca_certs: str | None
    ):
        from elastic_transport import HttpxAsyncHttpNode
        from elasticsearch import AsyncElasticsearch

        self._url = url
        kwargs: dict[str, Any] = {"request_timeout": timeout, "max_retries": 0}
        if auth:
            kwargs["basic_auth"] = auth
        if ca_certs:
            kwargs["ca_certs"] = ca_certs
        # httpx node: no aiohttp session to leak, and httpx is a core dependency anyway.
        self._client = AsyncElasticsearch(url, node_class=HttpxAsyncHttpNode, **kwargs)

    async def _call(self, coro: Any) -> Any:
        import elasticsearch

        try:
            return (await coro).body
        except elasticsearch.UnsupportedProductError as exc:
            raise UpstreamError(
                f"{SERVICE} at {redact(self._url)} is not Elasticsearch; "
                "set catalogue.elasticsearch_flavour to 'opensearch' (or 'auto')"
            ) from exc
        except elasticsearch.ApiError as exc:
            if exc.meta.status == 406:
                raise UpstreamError(
                    f"{SERVICE} at {redact(self._url)} refused the Elasticsearch media type "
                    "(406): it is not Elasticsearch or not this client's major version; set "
                    "catalogue.elasticsearch_flavour to 'opensearch', or install the matching client"
                ) from exc
            raise _error_parts(exc.meta.status, exc.body, str(exc.message)) from exc
        except elasticsearch.TransportError as exc:
            raise _unavailable(self._url, exc) from None

    def _create(self, name: str, body: dict[str, Any]) -> Any:
        return self._client.indices.create(index=name, **body)

    async def bulk(self, operations: list[dict[str, Any]], refresh: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call(
            self._client.bulk(operations=operations, refresh=refresh)
        )
        return result

    async def update_aliases(self, actions: list[dict[str, Any]]) -> None:
        await self._call(self._client.indices.update_aliases(actions=actions))

    async def put_settings(self, index: str, settings: dict[str, Any]) -> None:
        await self._call(self._client.indices.put_settings(index=index, settings=settings))


class OpenSearchEngine(_ClientEngine):
    """``AsyncOpenSearch`` (opensearch-py) behind the Engine interface."""

    flavour: Flavour = "opensearch"

    def __init__(
        self, url: str, auth: tuple[str, str] | None, timeout: float, ca_certs: str | None
    ):
        from opensearchpy import AsyncOpenSearch

        self._url = url
        kwargs: dict[str, Any] = {"timeout": timeout, "max_retries": 0}
        if auth:
            kwargs["http_auth"] = auth
        if ca_certs:
            kwargs["ca_certs"] = ca_certs
        self._client = AsyncOpenSearch(hosts=[url], **kwargs)

    async def _call(self, coro: Any) -> Any:
        import opensearchpy

        try:
            return await coro
        except opensearchpy.ConnectionError as exc:
            raise _unavailable(self._url, exc) from None
        except opensearchpy.TransportError as exc:
            raise _error_parts(exc.status_code, exc.info, str(exc.error)) from exc

    def _create(self, name: str, body: dict[str, Any]) -> Any:
        return self._client.indices.create(index=name, body=body)

    async def bulk(self, operations: list[dict[str, Any]], refresh: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call(
            self._client.bulk(body=operations, refresh=refresh)
        )
        return result

    async def update_aliases(self, actions: list[dict[str, Any]]) -> None:
        await self._call(self._client.indices.update_aliases(body={"actions": actions}))

    async def put_settings(self, index: str, settings: dict[str, Any]) -> None:
        await self._call(self._client.indices.put_settings(index=index, body=settings))


async def detect_flavour(
    url: str, auth: tuple[str, str] | None, seconds: float, ca_certs: str | None
) -> Flavour:
    """Ask the server which engine it is: OpenSearch says so in ``version.distribution``."""
    verify: str | bool = ca_certs or True
    try:
        async with httpx.AsyncClient(timeout=seconds, auth=auth, verify=verify) as http:
            response = await http.get(url.rstrip("/") + "/", headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        raise _unavailable(url, exc) from None
    if response.status_code != 200:
        raise UpstreamError(f"{SERVICE} at {redact(url)} answered {response.status_code} to GET /")
    try:
        version = response.json().get("version", {})
    except ValueError:
        raise UpstreamError(f"{SERVICE} at {redact(url)} did not answer JSON to GET /") from None
    return "opensearch" if version.get("distribution") == "opensearch" else "elasticsearch"


def make_engine(
    flavour: Flavour, url: str, auth: tuple[str, str] | None, timeout: float, ca_certs: str | None
) -> Engine:
    if flavour == "opensearch":
        return OpenSearchEngine(url, auth, timeout, ca_certs)
    return ElasticsearchEngine(url, auth, timeout, ca_certs)
