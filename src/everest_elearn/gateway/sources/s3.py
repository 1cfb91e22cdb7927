"""S3 sources (``s3://bucket/prefix/``) through boto3, with the rule's named credential."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from everest_elearn.errors import UpstreamError
from everest_elearn.gateway.credentials import Credentials
from everest_elearn.gateway.delivery import ByteRange
from everest_elearn.gateway.objectstore import CHUNK
from everest_elearn.gateway.rules import AuthKind, Source
from everest_elearn.gateway.upstream import UpstreamFile

T = TypeVar("T")


class S3Reader:
    """One boto3 client per source (endpoint and credential differ per provider)."""

    def __init__(self, credentials: Credentials) -> None:
        self.credentials = credentials
        self._clients: dict[tuple[str, str | None, str | None, str | None], Any] = {}

    def _client(self, source: Source) -> Any:
        key = (source.name, source.endpoint, source.region, source.credential)
        if key not in self._clients:
            access = secret = None
            if source.auth is AuthKind.S3 and source.credential:
                access, _, secret = self.credentials.get(source.credential).partition(":")
            config = Config(connect_timeout=5, read_timeout=60, retries={"max_attempts": 2})
            if access is None:
                from botocore import UNSIGNED

                config = config.merge(Config(signature_version=UNSIGNED))
            self._clients[key] = boto3.session.Session().client(
                "s3",
                endpoint_url=source.endpoint,
                region_name=source.region or "us-east-1",
                aws_access_key_id=access,
                aws_secret_access_key=secret,
                config=config,
            )
        return self._clients[key]

    async def _call(self, source: Source, fn: Callable[..., T], *args: Any, **kw: Any) -> T:
        try:
            return await asyncio.to_thread(fn, *args, **kw)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            raise UpstreamError(f"provider '{source.name}' (s3) answered {code}") from None
        except (BotoCoreError, OSError) as exc:
            raise UpstreamError(
                f"provider '{source.name}' (s3) unreachable ({type(exc).__name__})"
            ) from None

    async def open(self, source: Source, href: str, byte_range: ByteRange | None) -> UpstreamFile:
        parts = urlsplit(href)
        bucket, key = parts.netloc, unquote(parts.path.lstrip("/"))
        client = self._client(source)
        extra: dict[str, str] = {}
        if byte_range is not None:
            end = "" if byte_range.end is None else str(byte_range.end)
            extra["Range"] = f"bytes={byte_range.start}-{end}"
        answer = await self._call(source, client.get_object, Bucket=bucket, Key=key, **extra)
        body = answer["Body"]
        length = int(answer["ContentLength"])
        start, end_ = 0, (length - 1 if length else None)
        size: int | None = length
        content_range = answer.get("ContentRange")
        if content_range:
            span, _, total = content_range.removeprefix("bytes ").partition("/")
            first, _, last = span.partition("-")
            start, end_, size = int(first), int(last), int(total) if total.isdigit() else None

        async def chunks() -> AsyncIterator[bytes]:
            try:
                while True:
                    chunk = await self._call(source, body.read, CHUNK)
                    if not chunk:
                        break
                    yield chunk
            finally:
                body.close()

        async def close() -> None:
            body.close()

        return UpstreamFile(
            chunks=chunks(),
            size=size,
            start=start,
            end=end_,
            media_type=answer.get("ContentType"),
            etag=answer.get("ETag"),
            last_modified=answer.get("LastModified"),
            close=close,
        )

    async def close(self) -> None:
        for client in self._clients.values():
            client.close()
