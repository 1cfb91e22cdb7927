"""The S3 object store (MinIO, AWS, moto) through boto3; large files go up in multipart uploads."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, unquote

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from everest_elearn.errors import BackendUnavailable, InvalidInput
from everest_elearn.gateway.objectstore import CHUNK, StoredObject, check_key

log = logging.getLogger(__name__)
T = TypeVar("T")
_MISSING = {"404", "NoSuchKey", "NotFound"}
# S3 user metadata travels in HTTP headers: ASCII only. Values are percent-encoded on the way in
# (printable ASCII but "%" unchanged, so plain values read the same) and decoded on the way out.
_META_SAFE = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) != "%")


def encode_meta(meta: dict[str, str]) -> dict[str, str]:
    return {k: quote(v, safe=_META_SAFE) for k, v in meta.items()}


def decode_meta(meta: dict[str, str]) -> dict[str, str]:
    return {k: unquote(v) for k, v in meta.items()}


class S3Store:
    """Objects under ``prefix`` in one bucket; metadata as S3 user metadata (x-amz-meta-*).

    An S3 object becomes visible only when its PUT or multipart upload completes, so an
    interrupted upload never shows as an object; ``recover`` aborts stale multipart uploads.
    """

    name = "s3"

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        multipart_threshold: int = 64 * 1024 * 1024,
        multipart_chunksize: int = 16 * 1024 * 1024,
        create_bucket: bool = True,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.create_bucket = create_bucket
        self.transfer = TransferConfig(
            multipart_threshold=multipart_threshold, multipart_chunksize=multipart_chunksize
        )
        self.client = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region or "us-east-1",
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=Config(
                connect_timeout=3,
                read_timeout=60,
                retries={"max_attempts": 2, "mode": "standard"},
                s3={"addressing_style": "path"},
            ),
        )

    async def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return await asyncio.to_thread(fn, *args, **kwargs)
        except ClientError:
            raise
        except ParamValidationError as exc:  # our request is wrong; the store is fine
            raise InvalidInput("object store (s3) request", str(exc)) from None
        except (BotoCoreError, OSError) as exc:
            log.warning("object store (s3) unreachable: %s", type(exc).__name__)
            raise BackendUnavailable("object store (s3)") from None

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)

    async def check(self) -> None:
        try:
            await self._call(self.client.head_bucket, Bucket=self.bucket)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in _MISSING | {"NoSuchBucket"} and self.create_bucket:
                try:
                    await self._call(self.client.create_bucket, Bucket=self.bucket)
                    return
                except ClientError:
                    pass
            raise BackendUnavailable("object store (s3)") from None

    async def recover(self) -> int:
        await self.check()
        cutoff = datetime.now(UTC) - timedelta(hours=1)
        removed = 0
        try:
            answer = await self._call(
                self.client.list_multipart_uploads, Bucket=self.bucket, Prefix=self.prefix
            )
        except ClientError:
            return 0
        for upload in answer.get("Uploads", []):
            # Recent uploads may belong to another agency worker still writing.
            if upload["Initiated"] < cutoff:
                await self._call(
                    self.client.abort_multipart_upload,
                    Bucket=self.bucket,
                    Key=upload["Key"],
                    UploadId=upload["UploadId"],
                )
                removed += 1
        return removed

    async def stat(self, key: str) -> StoredObject | None:
        try:
            head = await self._call(self.client.head_object, Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code", "") in _MISSING:
                return None
            raise BackendUnavailable("object store (s3)") from None
        meta = decode_meta(head.get("Metadata", {}))
        if head.get("ContentType"):
            meta.setdefault("content_type", head["ContentType"])
        return StoredObject(key, int(head["ContentLength"]), head["LastModified"], meta)

    async def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        extra = {}
        if start or end is not None:
            extra["Range"] = f"bytes={start}-{'' if end is None else end}"
        try:
            answer = await self._call(
                self.client.get_object, Bucket=self.bucket, Key=self._key(key), **extra
            )
        except ClientError:
            raise BackendUnavailable("object store (s3)") from None
        body = answer["Body"]
        try:
            while True:
                chunk = await self._call(body.read, CHUNK)
                if not chunk:
                    break
                yield chunk
        finally:
            body.close()

    async def open_file(self, key: str) -> int | None:
        return None  # no local file: served through ``read``

    async def put_file(self, key: str, path: Path, meta: dict[str, str]) -> StoredObject:
        target = self._key(key)
        extra: dict[str, Any] = {"Metadata": encode_meta(meta)}
        if meta.get("content_type"):
            extra["ContentType"] = meta["content_type"]
        try:
            await self._call(
                self.client.upload_file,
                str(path),
                self.bucket,
                target,
                ExtraArgs=extra,
                Config=self.transfer,
            )
        except ClientError:
            raise BackendUnavailable("object store (s3)") from None
        finally:
            await asyncio.to_thread(path.unlink, missing_ok=True)
        found = await self.stat(key)
        if found is None:
            raise BackendUnavailable("object store (s3)")
        return found

    async def delete(self, key: str) -> bool:
        existed = await self.stat(key) is not None
        try:
            await self._call(self.client.delete_object, Bucket=self.bucket, Key=self._key(key))
        except ClientError:
            raise BackendUnavailable("object store (s3)") from None
        return existed

    async def list(self, prefix: str = "") -> AsyncIterator[StoredObject]:
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": self.prefix + prefix}
            if token:
                kwargs["ContinuationToken"] = token
            try:
                page = await self._call(self.client.list_objects_v2, **kwargs)
            except ClientError:
                raise BackendUnavailable("object store (s3)") from None
            for item in page.get("Contents", []):
                key = item["Key"][len(self.prefix) :]
                yield StoredObject(key, int(item["Size"]), item["LastModified"])
            if not page.get("IsTruncated"):
                return
            token = page.get("NextContinuationToken")

    async def close(self) -> None:
        await asyncio.to_thread(self.client.close)
