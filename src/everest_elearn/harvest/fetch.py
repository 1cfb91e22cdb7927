"""HTTP for harvesters: every response bounded in time and size, transient failures retried."""

from __future__ import annotations

import asyncio
import base64
import random
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from everest_elearn import __version__
from everest_elearn.errors import Timeout, UpstreamError
from everest_elearn.harvest.harvester import LimitReached

# Answers worth another try: the provider is busy or briefly broken.
RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}


@dataclass(frozen=True)
class Limits:
    """What one run of one source may consume before it is stopped."""

    seconds: float = 900.0  # the whole run
    pages: int = 1000
    response_bytes: int = 32 * 1024 * 1024
    records: int = 100_000
    request_seconds: float = 60.0  # one response, first byte to last
    retries: int = 3
    backoff: float = 1.0  # first retry delay, doubling per attempt
    backoff_max: float = 300.0


@dataclass(frozen=True)
class Auth:
    """How requests authenticate; ``value`` comes from a named credential, never from the file."""

    kind: str = "none"  # none | basic ("user:password") | bearer | header ("Name: value")
    value: str = ""

    def headers(self) -> dict[str, str]:
        if self.kind == "basic":
            return {"Authorization": "Basic " + base64.b64encode(self.value.encode()).decode()}
        if self.kind == "bearer":
            return {"Authorization": f"Bearer {self.value}"}
        if self.kind == "header":
            name, _, value = self.value.partition(":")
            return {name.strip(): value.strip()}
        return {}

    def __repr__(self) -> str:  # the value is a secret
        return f"Auth(kind={self.kind!r})"


@dataclass
class Response:
    url: str
    status: int
    content: bytes
    content_type: str
    retry_after: str | None = None


def backoff_delay(attempt: int, limits: Limits, retry_after: str | None = None) -> float:
    """Seconds to wait before retry ``attempt`` (1-based): Retry-After if sane, else doubling."""
    if retry_after:
        try:
            wanted = float(retry_after)
        except ValueError:
            try:
                wanted = parsedate_to_datetime(retry_after).timestamp() - time.time()
            except (TypeError, ValueError):
                wanted = -1.0
        if 0 <= wanted <= limits.backoff_max:
            return wanted
    delay: float = min(limits.backoff * 2.0 ** (attempt - 1), limits.backoff_max)
    return delay * (0.75 + random.random() / 2)  # jitter: sources polled by many agents


def safe_url(url: str) -> str:
    """The URL for messages: without user info, and with query values that might be keys masked."""
    try:
        parts = httpx.URL(url)
        query = "&".join(
            f"{k}=***" if _secretish(k) else f"{k}={v}" for k, v in parts.params.multi_items()
        )
        return str(parts.copy_with(userinfo=b"", query=query.encode() or None))
    except (httpx.InvalidURL, TypeError, ValueError, UnicodeError):
        return url.split("?", 1)[0].rsplit("@", 1)[-1][:200]


def _secretish(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in ("key", "token", "secret", "password", "signature"))


class Http:
    """One client per source run: bounded reads, retries with backoff, auth headers."""

    def __init__(self, limits: Limits, auth: Auth | None = None) -> None:
        self.limits = limits
        self.auth = auth or Auth()
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(limits.request_seconds, connect=min(limits.request_seconds, 10)),
            follow_redirects=True,
            headers={"User-Agent": f"everest-elearn-harvester/{__version__}"},
        )
        self.bytes = 0

    async def close(self) -> None:
        await self.client.aclose()

    async def get(self, url: str, **kw: Any) -> Response:
        return await self.request("GET", url, **kw)

    async def request(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        headers: dict[str, str] | None = None,
        ok: tuple[int, ...] = (200,),
    ) -> Response:
        """The whole body of a successful answer; UpstreamError/Timeout after the retries."""
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._once(method, url, json, headers or {})
            except (httpx.TransportError, Timeout) as exc:
                error: Exception = exc
                retry_after: str | None = None
            else:
                if response.status in ok:
                    return response
                if response.status not in RETRY_STATUS:
                    raise UpstreamError(
                        f"{safe_url(url)} answered {response.status}"
                        + (
                            " (check the source's credential)"
                            if response.status in (401, 403)
                            else ""
                        )
                    )
                error = UpstreamError(f"{safe_url(url)} answered {response.status}")
                retry_after = response.retry_after
            if attempt > self.limits.retries:
                if isinstance(error, (UpstreamError, Timeout)):
                    raise error
                raise UpstreamError(f"{safe_url(url)}: {type(error).__name__}: {error}") from None
            await asyncio.sleep(backoff_delay(attempt, self.limits, retry_after))

    async def _once(self, method: str, url: str, body: Any, headers: dict[str, str]) -> Response:
        merged = {**self.auth.headers(), **headers}
        try:
            # The overall deadline also catches a server that drips one byte at a time,
            # which per-read timeouts never would.
            async with asyncio.timeout(self.limits.request_seconds):
                request = self.client.build_request(method, url, json=body, headers=merged)
                response = await self.client.send(request, stream=True)
                try:
                    content = await self._body(response, url)
                finally:
                    await response.aclose()
        except TimeoutError:
            raise Timeout(
                f"{safe_url(url)} did not answer within {self.limits.request_seconds:g} s"
            ) from None
        return Response(
            str(response.url),
            response.status_code,
            content,
            response.headers.get("content-type", ""),
            response.headers.get("retry-after"),
        )

    async def _body(self, response: httpx.Response, url: str) -> bytes:
        limit = self.limits.response_bytes
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise LimitReached(
                "response_bytes", f"{safe_url(url)} sends {int(declared)} bytes (limit {limit})"
            )
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise LimitReached(
                    "response_bytes", f"{safe_url(url)} sent more than {limit} bytes; stopped"
                )
            chunks.append(chunk)
        self.bytes += size
        return b"".join(chunks)
