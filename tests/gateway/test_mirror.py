"""Mirroring ahead of need (``Gateway.mirror``, called by the data agent for sources that mirror)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from everest_elearn.errors import Forbidden, UpstreamError
from everest_elearn.gateway import Origin
from everest_elearn.security.identity import ANONYMOUS
from tests.fixtures.provider import Provider
from tests.gateway.conftest import GatewayMaker, files_under, product, read_all, sha, write_file
from tests.gateway.test_strategies import _settled

CACHE_MAY_MIRROR = """
rules:
  - name: cached, mirrored when asked
    strategy: cache
    allow: [mirror]
"""


async def test_mirror_ahead_of_need_then_requests_hit_it(
    make_gateway: GatewayMaker, provider: Provider
) -> None:
    digest = write_file(provider.root, "ahead.tif", 1_500_000)
    gateway = await make_gateway(CACHE_MAY_MIRROR)
    record = product(f"{provider.url}/open/ahead.tif", checksum=f"sha256:{digest}")
    keys = await gateway.mirror(record, ANONYMOUS)
    assert keys == [f"mirror/{record.parent_identifier}/{record.identifier}/ahead.tif"]
    stored = await gateway.store.stat(keys[0])
    assert stored is not None and stored.meta["sha256"] == digest
    assert "expires" not in stored.meta
    assert provider.gets("/open/ahead.tif") == 1
    async with await gateway.open(record, "ahead.tif", ANONYMOUS) as stream:
        assert stream.origin is Origin.HIT
        assert sha(await read_all(stream.chunks)) == digest
    assert await gateway.mirror(record, ANONYMOUS) == keys  # already there: nothing fetched
    assert provider.gets("/open/ahead.tif") == 1


async def test_a_cached_copy_is_copied_into_the_mirror_not_fetched_again(
    make_gateway: GatewayMaker, provider: Provider
) -> None:
    digest = write_file(provider.root, "seen.tif", 800_000)
    gateway = await make_gateway(CACHE_MAY_MIRROR)
    record = product(f"{provider.url}/open/seen.tif", checksum=f"sha256:{digest}")
    async with await gateway.open(record, "seen.tif", ANONYMOUS) as stream:
        await read_all(stream.chunks)
    await _settled(gateway)
    [key] = await gateway.mirror(record, ANONYMOUS)
    stored = await gateway.store.stat(key)
    assert stored is not None and stored.size == 800_000 and "expires" not in stored.meta
    chunks = [c async for c in gateway.store.read(key)]
    assert sha(b"".join(chunks)) == digest
    assert provider.gets("/open/seen.tif") == 1


async def test_mirror_joins_a_download_in_flight(
    make_gateway: GatewayMaker, provider: Provider
) -> None:
    provider.rate = 2 * 1024 * 1024
    digest = write_file(provider.root, "busy.tif", 3_000_000)
    gateway = await make_gateway("rules:\n  - name: m\n    strategy: mirror\n")
    record = product(f"{provider.url}/slow/busy.tif", checksum=f"sha256:{digest}")
    stream = await gateway.open(record, "busy.tif", ANONYMOUS)
    reading = asyncio.create_task(read_all(stream.chunks))
    await asyncio.sleep(0.3)
    [key] = await gateway.mirror(record, ANONYMOUS)
    assert sha(await reading) == digest
    await stream.aclose()
    assert await gateway.store.stat(key) is not None
    assert provider.gets("/slow/busy.tif") == 1


async def test_mirror_refused_by_the_rule_and_bad_files_are_not_kept(
    make_gateway: GatewayMaker, provider: Provider, tmp_path: Path
) -> None:
    write_file(provider.root, "terms.tif", 10_000)
    only_cache = await make_gateway("rules:\n  - name: c\n    strategy: cache\n")
    record = product(f"{provider.url}/open/terms.tif")
    with pytest.raises(Forbidden, match="does not allow mirroring"):
        await only_cache.mirror(record, ANONYMOUS)
    assert provider.gets("/open/terms.tif") == 0

    gateway = await make_gateway(CACHE_MAY_MIRROR)
    wrong = product(f"{provider.url}/open/terms.tif", checksum="sha256:" + "0" * 64)
    with pytest.raises(UpstreamError, match="checksum mismatch"):
        await gateway.mirror(wrong, ANONYMOUS)
    assert not any("terms.tif" in name for name in files_under(tmp_path / "data"))
