"""Retention and budget hold without new downloads: expired objects are misses, and a budget
lowered in the rules is applied when they are reloaded."""

from __future__ import annotations

import asyncio
import time

from everest_elearn.gateway import Origin
from everest_elearn.security.identity import ANONYMOUS
from tests.fixtures.provider import Provider
from tests.gateway.conftest import GatewayMaker, product, read_all, sha, sources_yaml, write_file
from tests.gateway.test_strategies import _settled


async def test_an_expired_cached_file_is_fetched_again_not_served_stale(
    make_gateway: GatewayMaker, provider: Provider
) -> None:
    gateway = await make_gateway("rules:\n  - name: c\n    strategy: cache\n    retention: 1s\n")
    record = product(f"{provider.url}/open/e.tif", identifier="e")  # no checksum to compare
    old = write_file(provider.root, "e.tif", 200_000, seed=1)
    async with await gateway.open(record, "e.tif", ANONYMOUS) as first:
        assert sha(await read_all(first.chunks)) == old
    await _settled(gateway)
    async with await gateway.open(record, "e.tif", ANONYMOUS) as fresh:
        assert sha(await read_all(fresh.chunks)) == old
    assert fresh.origin is Origin.HIT  # within its retention
    new = write_file(provider.root, "e.tif", 200_000, seed=2)  # the provider's file changes
    await asyncio.sleep(1.1)  # the retention ends; nothing has evicted it yet
    assert await gateway.store.stat("cache/S2_MSI_L2A/e/e.tif") is not None
    async with await gateway.open(record, "e.tif", ANONYMOUS) as again:
        assert sha(await read_all(again.chunks)) == new
    assert again.origin is Origin.MISS
    assert provider.gets("/open/e.tif") == 2


async def test_a_lowered_budget_is_applied_when_the_rules_reload(
    make_gateway: GatewayMaker, provider: Provider
) -> None:
    rules = "rules:\n  - name: c\n    strategy: cache\n"
    gateway = await make_gateway("cache:\n  budget: 2.5 MB\n  eviction: lru\n" + rules)
    for name in ("one", "two"):
        write_file(provider.root, f"{name}.tif", 1_000_000, seed=len(name))
        record = product(f"{provider.url}/open/{name}.tif", identifier=name)
        async with await gateway.open(record, f"{name}.tif", ANONYMOUS) as stream:
            await read_all(stream.chunks)
        await _settled(gateway)
    assert len([o async for o in gateway.store.list("cache/")]) == 2
    # An administrator lowers the budget; the watcher reloads the file. No download follows.
    gateway.rules.path.write_text(
        sources_yaml(provider.url) + "cache:\n  budget: 1.5 MB\n  eviction: lru\n" + rules
    )
    assert gateway.rules.reload()
    deadline = time.monotonic() + 15
    while [o.key async for o in gateway.store.list("cache/")] != ["cache/S2_MSI_L2A/two/two.tif"]:
        assert time.monotonic() < deadline, "the lowered budget was not applied"
        await asyncio.sleep(0.1)
    assert gateway.stats.evictions == 1
    assert provider.gets("/open/one.tif") == provider.gets("/open/two.tif") == 1
