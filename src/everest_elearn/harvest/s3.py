"""S3 bucket listings (``s3://bucket/prefix``): products recognised from keys, read by ranges.

boto3 is wrapped once here (blocking calls run in worker threads). The credential, when named,
is ``access_key_id:secret_access_key``; links are ``s3://bucket/key``, the gateway's S3 sources.
"""

from __future__ import annotations

import asyncio
from typing import IO, Any

from everest_elearn.errors import UpstreamError
from everest_elearn.harvest.files import Entry, FileHarvester, RangeFile, read_capped
from everest_elearn.harvest.sources import SourceConfig


class S3Harvester(FileHarvester):
    def __init__(self, config: SourceConfig, secret: str | None = None) -> None:
        super().__init__(config)
        bucket, _, prefix = config.url.removeprefix("s3://").partition("/")
        self.bucket = bucket
        self.prefix = prefix.rstrip("/") + "/" if prefix.strip("/") else ""
        self._secret = secret
        self._client: Any = None

    def client(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            key_id, _, key = (self._secret or "").partition(":")
            limits = self.config.limits
            self._client = boto3.session.Session().client(
                "s3",
                endpoint_url=self.config.endpoint,
                region_name=self.config.region or "us-east-1",
                aws_access_key_id=key_id or None,
                aws_secret_access_key=key or None,
                config=Config(
                    connect_timeout=min(limits.request_seconds, 10),
                    read_timeout=limits.request_seconds,
                    retries={"max_attempts": limits.retries + 1, "mode": "standard"},
                ),
            )
        return self._client

    async def entries(self, after: str | None) -> list[Entry]:
        return await asyncio.to_thread(self._list, after)

    def _list(self, after: str | None) -> list[Entry]:
        from botocore.exceptions import BotoCoreError, ClientError

        found: list[Entry] = []
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": self.prefix}
        if after:
            # Keys after the last stored product; a SAFE folder's measurement files sort after
            # its manifest, so start at the folder to keep its links complete.
            kwargs["StartAfter"] = self.prefix + after.rsplit("/manifest.safe", 1)[0]
        try:
            for page in self.client().get_paginator("list_objects_v2").paginate(**kwargs):
                for item in page.get("Contents", []):
                    key = item["Key"][len(self.prefix) :]
                    found.append(
                        Entry(
                            key,
                            f"s3://{self.bucket}/{item['Key']}",
                            item.get("Size"),
                            item.get("LastModified"),
                        )
                    )
                if len(found) > self.config.limits.records * 20:
                    break
        except (BotoCoreError, ClientError) as exc:
            raise UpstreamError(
                f"s3://{self.bucket}/{self.prefix}: listing failed: {exc}"
            ) from None
        if after:
            found = [e for e in found if e.key > after or "/measurement/" in e.key]
        return found

    def open(self, entry: Entry) -> IO[bytes]:
        from botocore.exceptions import BotoCoreError, ClientError

        full = self.prefix + entry.key

        def fetch(start: int, end: int, deadline: float) -> bytes:
            where = f"s3://{self.bucket}/{full}"
            try:
                answer = self.client().get_object(
                    Bucket=self.bucket, Key=full, Range=f"bytes={start}-{end}"
                )
                body = answer["Body"]
                try:
                    return read_capped(
                        body.iter_chunks(64 * 1024), end - start + 1, deadline, where
                    )
                finally:
                    body.close()
            except (BotoCoreError, ClientError) as exc:
                raise OSError(f"{where}: {exc}") from None

        size = entry.size if entry.size is not None else 0
        limits = self.config.limits
        return RangeFile(fetch, size, limits.response_bytes, limits.request_seconds)  # type: ignore[return-value]
