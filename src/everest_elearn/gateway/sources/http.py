"""HTTP(S) sources through httpx: ranges, basic/bearer/cookie authentication, checked redirects."""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterator, Callable, Sequence
from urllib.parse import urljoin, urlsplit

import httpx

from everest_elearn.errors import Timeout, UpstreamError
from everest_elearn.gateway.credentials import Credentials
from everest_elearn.gateway.delivery import ByteRange
from everest_elearn.gateway.matching import locate
from everest_elearn.gateway.objectstore import CHUNK
from everest_elearn.gateway.ranges import RangeNotSatisfiable
from everest_elearn.gateway.rules import AuthKind, Source
from everest_elearn.gateway.upstream import UpstreamFile, http_date

_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")
MAX_REDIRECTS = 5


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def _host(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return f"{host}:{parts.port}" if parts.port else host


class HttpReader:
    """Opens files at HTTP(S) sources; credentials go only to the source's own origin.

    ``sources`` gives the sources of the rules in force: a provider's redirect is followed only
    to a location one of them names, or to a host in the source's ``redirect_hosts``, so that
    no provider can make the gateway fetch an arbitrary URL (loopback, internal hosts).
    Without it, only the source's own location counts.
    """

    def __init__(
        self,
        credentials: Credentials,
        timeout: float = 30.0,
        sources: Callable[[], Sequence[Source]] | None = None,
    ) -> None:
        self.credentials = credentials
        self.sources = sources
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            follow_redirects=False,
            trust_env=False,
        )

    def _auth_headers(self, source: Source) -> dict[str, str]:
        if source.auth is AuthKind.NONE or source.credential is None:
            return {}
        value = self.credentials.get(source.credential)
        if source.auth is AuthKind.BASIC:
            return {"Authorization": "Basic " + base64.b64encode(value.encode()).decode()}
        if source.auth is AuthKind.BEARER:
            return {"Authorization": f"Bearer {value}"}
        if source.auth is AuthKind.COOKIE:
            return {"Cookie": value}
        return {}

    def _may_follow(self, source: Source, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or parts.username or parts.password:
            return False
        named = tuple(self.sources()) if self.sources is not None else (source,)
        if locate(url, named) is not None:
            return True
        if source.scheme == "https" and parts.scheme.lower() != "https":
            return False  # a listed host, but not by a downgrade to plain http
        hostname = (parts.hostname or "").lower()
        return hostname in source.redirect_hosts or _host(url) in source.redirect_hosts

    async def open(self, source: Source, href: str, byte_range: ByteRange | None) -> UpstreamFile:
        headers = {"Accept-Encoding": "identity"}
        if byte_range is not None:
            end = "" if byte_range.end is None else str(byte_range.end)
            headers["Range"] = f"bytes={byte_range.start}-{end}"
        secret = self._auth_headers(source)
        own = _origin(source.url)
        url = href
        for _ in range(MAX_REDIRECTS + 1):
            # Provider redirects (e.g. to signed storage URLs) are followed where the rules allow,
            # but the credentials travel only to the source's own origin.
            sent = {**headers, **secret} if _origin(url) == own else headers
            try:
                request = self.client.build_request("GET", url, headers=sent)
                response = await self.client.send(request, stream=True)
            except httpx.TimeoutException:
                raise Timeout(f"provider '{source.name}' did not answer in time") from None
            except httpx.HTTPError as exc:
                raise UpstreamError(
                    f"provider '{source.name}' unreachable ({type(exc).__name__})"
                ) from None
            if response.status_code in (301, 302, 303, 307, 308) and "location" in response.headers:
                await response.aclose()
                target = urljoin(url, response.headers["location"])
                if not self._may_follow(source, target):
                    # Only the host is named: a signed URL's query may itself be a secret.
                    raise UpstreamError(
                        f"provider '{source.name}' redirected to {_host(target) or 'a non-URL'}, "
                        "a location the gateway rules do not name (see redirect_hosts)"
                    )
                url = target
                continue
            return self._file(source, response, byte_range)
        raise UpstreamError(f"provider '{source.name}' redirected too often")

    def _file(
        self, source: Source, response: httpx.Response, byte_range: ByteRange | None
    ) -> UpstreamFile:
        status = response.status_code
        if status == 416:
            total = response.headers.get("content-range", "").rpartition("/")[2]
            raise RangeNotSatisfiable(int(total) if total.isdigit() else 0)
        if status not in (200, 206):
            reason = {
                401: "refused the credentials",
                403: "refused access",
                404: "has no such file",
            }
            detail = reason.get(status, f"answered {status}")
            raise UpstreamError(f"provider '{source.name}' {detail}")
        length = response.headers.get("content-length")
        size = int(length) if length and length.isdigit() else None
        start, end = 0, None
        if status == 206:
            m = _CONTENT_RANGE.match(response.headers.get("content-range", ""))
            if not m:
                raise UpstreamError(f"provider '{source.name}' sent a malformed Content-Range")
            start, end = int(m.group(1)), int(m.group(2))
            size = int(m.group(3)) if m.group(3) != "*" else None
        elif size is not None:
            end = size - 1 if size else None
        name = source.name

        async def chunks() -> AsyncIterator[bytes]:
            try:
                async for chunk in response.aiter_raw(CHUNK):
                    yield chunk
            except httpx.TimeoutException:
                raise Timeout(f"provider '{name}' stalled") from None
            except httpx.HTTPError as exc:
                raise UpstreamError(
                    f"provider '{name}' broke off the transfer ({type(exc).__name__})"
                ) from None
            finally:
                await response.aclose()

        return UpstreamFile(
            chunks=chunks(),
            size=size,
            start=start,
            end=end,
            media_type=(response.headers.get("content-type") or "").split(";")[0] or None,
            etag=response.headers.get("etag"),
            last_modified=http_date(response.headers.get("last-modified")),
            close=response.aclose,
        )

    async def close(self) -> None:
        await self.client.aclose()
