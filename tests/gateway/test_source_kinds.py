"""S3 (moto's server) and local ``file:///`` sources through the real gateway, cache and pipe.

A local source hands out only files inside its folder: a product location that climbs out
(``..``, or a symlink leading elsewhere) is refused before anything outside is opened.
"""

from __future__ import annotations

import asyncio
import errno
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from everest_elearn.catalogue.model import Record
from everest_elearn.errors import Forbidden, UpstreamError
from everest_elearn.gateway import ByteRange, Origin
from everest_elearn.gateway.factory import build_gateway
from everest_elearn.gateway.service import Gateway
from everest_elearn.security.identity import ANONYMOUS
from everest_elearn.settings import GatewaySettings, Settings
from tests.fixtures.moto import MotoS3
from tests.gateway.conftest import files_under, product, read_all, sha, write_file
from tests.gateway.test_strategies import _settled

BUCKET = "archive-kinds"
PIPED = "PIPED"


def _rules(moto: MotoS3, local: Path) -> str:
    # Products typed PIPED are streamed through; everything else is cached.
    return f"""
sources:
  - name: archive
    url: s3://{BUCKET}/eo/
    auth: s3
    credential: ARCHIVE_KEYS
    endpoint: {moto.endpoint_url}
    region: {moto.region}
  - name: local
    url: {local.as_uri()}/
rules:
  - name: piped
    match: {{product_type: PIPED}}
    strategy: pipe
  - name: cached
    strategy: cache
"""


@pytest.fixture
async def sources(tmp_path: Path, moto_s3: MotoS3) -> AsyncIterator[tuple[Gateway, Path, Any]]:
    """A gateway over an S3 bucket on moto and a local folder; the folder and an S3 client."""
    client: Any = moto_s3.client()
    if BUCKET not in {b["Name"] for b in client.list_buckets()["Buckets"]}:
        client.create_bucket(Bucket=BUCKET)
    local = tmp_path / "local"
    local.mkdir()
    rules = tmp_path / "rules.yaml"
    rules.write_text(_rules(moto_s3, local))
    settings = Settings(data_dir=tmp_path / "data", gateway=GatewaySettings(rules_file=rules))
    keys = f"{moto_s3.access_key_id}:{moto_s3.secret_access_key}"
    gateway = build_gateway(settings, {"ARCHIVE_KEYS": keys})
    assert gateway.rules.error is None, gateway.rules.error
    await gateway.start()
    try:
        yield gateway, local, client
    finally:
        await gateway.close()


def _put(client: Any, scratch: Path, key: str, size: int, seed: int) -> tuple[str, bytes]:
    """An object of deterministic content in the bucket; its sha256 and bytes."""
    name = key.rsplit("/", 1)[-1]
    digest = write_file(scratch, name, size, seed=seed)
    body = (scratch / name).read_bytes()
    client.put_object(Bucket=BUCKET, Key=key, Body=body)
    return digest, body


def _stored(tmp_path: Path) -> list[str]:
    return files_under(tmp_path / "data" / "gateway" / "store" / "objects")


async def test_s3_source_is_cached_with_the_catalogued_checksum(
    sources: tuple[Gateway, Path, Any], tmp_path: Path
) -> None:
    gateway, _, client = sources
    digest, body = _put(client, tmp_path, "eo/T31/s3.tif", 2_500_000, seed=7)
    record = product(f"s3://{BUCKET}/eo/T31/s3.tif", checksum=f"sha256:{digest}")

    async with await gateway.open(record, "s3.tif", ANONYMOUS) as first:
        assert sha(await read_all(first.chunks)) == digest
    assert (first.origin, first.size) == (Origin.MISS, 2_500_000)
    await _settled(gateway)
    async with await gateway.open(record, "s3.tif", ANONYMOUS, ByteRange(1000, 1999)) as part:
        assert await read_all(part.chunks) == body[1000:2000]
    assert part.origin is Origin.HIT
    assert (part.start, part.end, part.size) == (1000, 1999, 2_500_000)
    assert part.etag == f'"{digest}"'
    assert gateway.stats.upstream_fetches == 1
    stored = await gateway.store.stat(
        f"cache/{record.parent_identifier}/{record.identifier}/s3.tif"
    )
    assert stored is not None and stored.meta["sha256"] == digest

    # The programmatic copy (what packages use) gets the same bytes.
    fetched = await gateway.fetch_to(record, "s3.tif", tmp_path / "copy.tif", ANONYMOUS)
    assert (fetched.size, fetched.sha256) == (2_500_000, digest)
    assert (tmp_path / "copy.tif").read_bytes() == body


async def test_s3_object_not_matching_the_catalogue_is_not_kept(
    sources: tuple[Gateway, Path, Any], tmp_path: Path
) -> None:
    gateway, _, client = sources
    _put(client, tmp_path, "eo/changed.tif", 300_000, seed=8)
    record = product(f"s3://{BUCKET}/eo/changed.tif", checksum=f"sha256:{'0' * 64}")
    with pytest.raises(UpstreamError, match="checksum mismatch"):
        async with await gateway.open(record, "changed.tif", ANONYMOUS) as stream:
            await read_all(stream.chunks)
    await _settled(gateway)
    assert gateway.stats.checksum_failures == 1
    assert not [p for p in _stored(tmp_path) if p.endswith("changed.tif")]


async def test_s3_pipe_passes_a_range_and_a_missing_key_is_a_clean_error(
    sources: tuple[Gateway, Path, Any], tmp_path: Path
) -> None:
    gateway, _, client = sources
    digest, body = _put(client, tmp_path, "eo/p.tif", 200_000, seed=9)
    record = product(
        f"s3://{BUCKET}/eo/p.tif", checksum=f"sha256:{digest}", length=200_000, productType=PIPED
    )
    async with await gateway.open(record, "p.tif", ANONYMOUS) as whole:
        assert sha(await read_all(whole.chunks)) == digest
    assert whole.origin is Origin.PIPE
    async with await gateway.open(record, "p.tif", ANONYMOUS, ByteRange(-100)) as tail:
        assert await read_all(tail.chunks) == body[-100:]
    assert (tail.start, tail.end, tail.size) == (199_900, 199_999, 200_000)

    missing = product(f"s3://{BUCKET}/eo/none.tif", identifier="MISSING", productType=PIPED)
    with pytest.raises(UpstreamError, match="'archive' \\(s3\\) answered NoSuchKey") as caught:
        await gateway.open(missing, "none.tif", ANONYMOUS)
    assert "testing" not in str(caught.value)  # the credential stays out of the message
    assert _stored(tmp_path) == []  # piping keeps nothing


async def test_local_source_pipes_and_caches_the_files_in_its_folder(
    sources: tuple[Gateway, Path, Any], tmp_path: Path
) -> None:
    gateway, local, _ = sources
    digest = write_file(local, "T31/l.tif", 1_500_000, seed=11)
    body = (local / "T31" / "l.tif").read_bytes()
    href = (local / "T31" / "l.tif").as_uri()
    piped = product(href, identifier="L_PIPED", checksum=f"sha256:{digest}", productType=PIPED)
    async with await gateway.open(piped, "l.tif", ANONYMOUS, ByteRange(10, 19)) as part:
        assert await read_all(part.chunks) == body[10:20]
    assert (part.origin, part.start, part.end, part.size) == (Origin.PIPE, 10, 19, 1_500_000)
    async with await gateway.open(piped, "l.tif", ANONYMOUS) as whole:
        assert sha(await read_all(whole.chunks)) == digest
    assert _stored(tmp_path) == []

    cached = product(href, identifier="L_CACHED", checksum=f"sha256:{digest}")
    async with await gateway.open(cached, "l.tif", ANONYMOUS) as first:
        assert sha(await read_all(first.chunks)) == digest
    await _settled(gateway)
    async with await gateway.open(cached, "l.tif", ANONYMOUS) as again:
        assert sha(await read_all(again.chunks)) == digest
    assert (first.origin, again.origin) == (Origin.MISS, Origin.HIT)
    assert _stored(tmp_path) == ["cache/S2_MSI_L2A/L_CACHED/l.tif"]

    # A symlink that stays inside the folder is just another name for a file in it.
    (local / "alias.tif").symlink_to(local / "T31" / "l.tif")
    alias = product((local / "alias.tif").as_uri(), identifier="L_ALIAS", productType=PIPED)
    async with await gateway.open(alias, "alias.tif", ANONYMOUS) as aliased:
        assert sha(await read_all(aliased.chunks)) == digest


async def _read(gateway: Gateway, record: Record, name: str) -> bytes:
    async with await gateway.open(record, name, ANONYMOUS) as stream:
        return await read_all(stream.chunks)


def _has_reader(fifo: Path) -> bool:
    """Whether anyone holds the FIFO open for reading (opening the write end succeeds)."""
    try:
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    except OSError as exc:
        assert exc.errno == errno.ENXIO, exc
        return False
    os.close(fd)  # the reader, if any, sees the end of the file and lets go
    return True


@pytest.mark.parametrize("strategy", [PIPED, "CACHED"])
async def test_a_symlink_out_of_the_local_folder_is_refused_unread(
    sources: tuple[Gateway, Path, Any], tmp_path: Path, strategy: str
) -> None:
    gateway, local, _ = sources
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.tif").write_bytes(b"not for the gateway")
    # A FIFO: whoever opens it for reading shows up as its reader, so a read would be seen.
    os.mkfifo(outside / "trap.tif")
    (local / "secret.tif").symlink_to(outside / "secret.tif")
    (local / "trap.tif").symlink_to(outside / "trap.tif")
    (local / "sub").symlink_to(outside, target_is_directory=True)
    for n, name in enumerate(["secret.tif", "trap.tif", "sub/secret.tif", "sub/trap.tif"]):
        record = product((local / name).as_uri(), identifier=f"ESCAPE{n}", productType=strategy)
        try:
            with pytest.raises(UpstreamError, match="source 'local' does not contain this") as e:
                # Bounded: opening the FIFO would block; the check below releases and tells.
                await asyncio.wait_for(_read(gateway, record, name.rsplit("/")[-1]), timeout=30)
        finally:
            trapped = _has_reader(outside / "trap.tif")
        assert not trapped, f"{name}: the gateway opened a file outside its folder"
        assert "not for the gateway" not in str(e.value)
    await _settled(gateway)
    assert _stored(tmp_path) == []


@pytest.mark.parametrize(
    "relative",
    ["../outside/secret.tif", "sub/../../outside/secret.tif", "%2e%2e/outside/secret.tif"],
)
async def test_a_dotdot_location_is_refused_before_the_file_system(
    sources: tuple[Gateway, Path, Any], tmp_path: Path, relative: str
) -> None:
    gateway, local, _ = sources
    outside = tmp_path / "outside"
    outside.mkdir()
    os.mkfifo(outside / "secret.tif")
    record = product(f"{local.as_uri()}/{relative}", productType=PIPED)
    try:
        with pytest.raises(Forbidden, match="not a source named in the gateway rules"):
            await asyncio.wait_for(_read(gateway, record, "secret.tif"), timeout=30)
    finally:
        trapped = _has_reader(outside / "secret.tif")
    assert not trapped, "the gateway opened a file outside its folder"
    # A sibling folder whose name merely starts with the source's is not inside it either.
    (tmp_path / "local-other").mkdir()
    write_file(tmp_path / "local-other", "x.tif", 100)
    sibling = product((tmp_path / "local-other" / "x.tif").as_uri(), identifier="SIBLING")
    with pytest.raises(Forbidden, match="not a source named"):
        await _read(gateway, sibling, "x.tif")
