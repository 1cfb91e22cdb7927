"""Faults: cut-off transfers, wrong checksums, an unreachable object store, restarts, eviction."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from everest_elearn.errors import BackendUnavailable, UpstreamError
from everest_elearn.gateway import Origin, Redirect
from everest_elearn.gateway.backends.local import LocalStore
from everest_elearn.gateway.backends.s3 import S3Store
from everest_elearn.security.identity import ANONYMOUS
from tests.fixtures.provider import Provider, free_port
from tests.gateway.conftest import GatewayMaker, files_under, product, read_all, sha, write_file
from tests.gateway.test_strategies import CACHE_ALL, _settled


def _store_files(tmp_path: Path) -> list[str]:
    return files_under(tmp_path / "data" / "gateway" / "store")


async def test_cut_off_download_leaves_nothing_and_a_retry_succeeds(
    make_gateway: GatewayMaker, provider: Provider, tmp_path: Path
) -> None:
    digest = write_file(provider.root, "cut.tif", 2_000_000)
    gateway = await make_gateway(CACHE_ALL)
    record = product(f"{provider.url}/open/cut.tif", checksum=f"sha256:{digest}", length=2_000_000)
    provider.cut_next = 1
    stream = await gateway.open(record, "cut.tif", ANONYMOUS)
    with pytest.raises(UpstreamError, match=r"cut off|broke off"):
        await read_all(stream.chunks)
    await stream.aclose()
    await _settled(gateway)
    assert _store_files(tmp_path) == []
    assert files_under(tmp_path / "data" / "gateway" / "spool") == []
    assert gateway.stats.upstream_errors == 1
    async with await gateway.open(record, "cut.tif", ANONYMOUS) as retry:
        assert sha(await read_all(retry.chunks)) == digest
    await _settled(gateway)
    assert any(name.endswith("cut.tif") for name in _store_files(tmp_path))


async def test_cut_off_pipe_is_an_error_not_a_short_file(
    make_gateway: GatewayMaker, provider: Provider
) -> None:
    write_file(provider.root, "cut.tif", 1_000_000)
    gateway = await make_gateway("rules:\n  - name: p\n    strategy: pipe\n")
    # The provider breaks off mid-body; then it sends less than the catalogue's length.
    broken = product(f"{provider.url}/cutoff/cut.tif", identifier="BROKEN", length=1_000_000)
    short = product(f"{provider.url}/open/cut.tif", identifier="SHORT", length=1_200_000)
    for n, (record, message) in enumerate([(broken, "broke off"), (short, "cut off")], 1):
        with pytest.raises(UpstreamError, match=message):
            async with await gateway.open(record, "cut.tif", ANONYMOUS) as stream:
                await read_all(stream.chunks)
        report = await gateway.report()
        # Each cut-off counts once as an upstream error, like a failure to open would.
        assert (report["upstream_errors"], report["pipes"]) == (n, n)


async def test_checksum_mismatch_is_an_error_and_never_cached(
    make_gateway: GatewayMaker, provider: Provider, tmp_path: Path
) -> None:
    write_file(provider.root, "bad.tif", 1_500_000)
    gateway = await make_gateway(CACHE_ALL)
    record = product(f"{provider.url}/open/bad.tif", checksum="sha256:" + "0" * 64)
    for _ in range(2):
        stream = await gateway.open(record, "bad.tif", ANONYMOUS)
        with pytest.raises(UpstreamError, match="checksum mismatch"):
            await read_all(stream.chunks)
        await stream.aclose()
        await _settled(gateway)
    assert _store_files(tmp_path) == []
    assert gateway.stats.checksum_failures == 2
    assert provider.gets("/open/bad.tif") == 2
    dest = tmp_path / "out" / "bad.tif"
    dest.parent.mkdir()
    with pytest.raises(UpstreamError, match="checksum mismatch"):
        await gateway.fetch_to(record, "bad.tif", dest, ANONYMOUS)
    assert list(dest.parent.iterdir()) == []


async def test_fetch_to_writes_the_verified_file(
    make_gateway: GatewayMaker, provider: Provider, tmp_path: Path
) -> None:
    digest = write_file(provider.root, "f.tif", 1_234_567)
    gateway = await make_gateway(CACHE_ALL)
    record = product(f"{provider.url}/open/f.tif", checksum=f"sha256:{digest}")
    dest = tmp_path / "volume" / "f.tif"
    dest.parent.mkdir()
    fetched = await gateway.fetch_to(record, "f.tif", dest, ANONYMOUS)
    assert (fetched.size, fetched.sha256) == (1_234_567, digest)
    assert sha(dest.read_bytes()) == digest
    assert [p.name for p in dest.parent.iterdir()] == ["f.tif"]


def _unreachable_store() -> S3Store:
    # A real S3 client against a port where nothing listens: the store is down.
    return S3Store(
        "gateway",
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        access_key_id="x",
        secret_access_key="y",
    )


@pytest.mark.parametrize("fallback", ["pipe", "redirect", None])
async def test_unreachable_store_falls_back_as_the_rule_allows(
    make_gateway: GatewayMaker,
    provider: Provider,
    caplog: pytest.LogCaptureFixture,
    fallback: str | None,
) -> None:
    digest = write_file(provider.root, "fb.tif", 50_000)
    rule = "rules:\n  - name: cached with fallback\n    strategy: cache\n"
    if fallback:
        rule += f"    fallback: {fallback}\n"
    gateway = await make_gateway(rule, store=_unreachable_store())
    record = product(f"{provider.url}/open/fb.tif", checksum=f"sha256:{digest}")
    caplog.set_level(logging.WARNING, "everest_elearn.gateway")
    if fallback is None:
        with pytest.raises(BackendUnavailable):
            await gateway.serve(record, "fb.tif", ANONYMOUS)
    elif fallback == "redirect":
        assert await gateway.serve(record, "fb.tif", ANONYMOUS) == Redirect(record.links[0].href)
    else:
        async with await gateway.open(record, "fb.tif", ANONYMOUS) as stream:
            assert sha(await read_all(stream.chunks)) == digest
        assert stream.origin is Origin.FALLBACK
    assert gateway.stats.fallbacks == 1
    assert "object store s3 unreachable" in caplog.text
    assert f"falls back to {fallback or 'nothing'}" in caplog.text


async def test_restart_during_a_fetch_leaves_nothing_marked_complete(
    make_gateway: GatewayMaker, provider: Provider, tmp_path: Path
) -> None:
    provider.rate = 1024 * 1024
    digest = write_file(provider.root, "big.tif", 4_000_000)
    gateway = await make_gateway(CACHE_ALL)
    record = product(f"{provider.url}/slow/big.tif", checksum=f"sha256:{digest}")
    stream = await gateway.open(record, "big.tif", ANONYMOUS)
    got = 0
    async for chunk in stream.chunks:
        got += len(chunk)
        if got >= 1_000_000:
            break
    await stream.aclose()
    await gateway.close()  # the process stops mid-transfer
    assert _store_files(tmp_path) == []
    # A hard crash leaves debris: a spool file, a staged object, metadata without data.
    store = tmp_path / "data" / "gateway" / "store"
    (tmp_path / "data" / "gateway" / "spool" / "dead.part").write_bytes(b"x" * 100)
    (store / "tmp").mkdir(parents=True, exist_ok=True)
    (store / "tmp" / "staged.part").write_bytes(b"x" * 100)
    orphan = store / "meta" / "cache" / "S2_MSI_L2A" / "p" / "big.tif.json"
    orphan.parent.mkdir(parents=True)
    orphan.write_text('{"sha256": "00", "size": "100"}')
    again = await make_gateway(CACHE_ALL)
    assert _store_files(tmp_path) == []
    assert files_under(tmp_path / "data" / "gateway" / "spool") == []
    async with await again.open(record, "big.tif", ANONYMOUS) as fresh:
        assert fresh.origin is Origin.MISS
        assert sha(await read_all(fresh.chunks)) == digest


async def test_cache_is_evicted_by_budget_least_recently_used_first(
    make_gateway: GatewayMaker, provider: Provider, tmp_path: Path
) -> None:
    gateway = await make_gateway(
        "cache:\n  budget: 2.5 MB\n  eviction: lru\nrules:\n  - name: c\n    strategy: cache\n"
    )
    records = []
    for name in ("one", "two", "three"):
        digest = write_file(provider.root, f"{name}.tif", 1_000_000, seed=len(name))
        records.append(
            product(f"{provider.url}/open/{name}.tif", identifier=name, checksum=f"sha256:{digest}")
        )
    for record in records[:2]:
        async with await gateway.open(record, f"{record.identifier}.tif", ANONYMOUS) as s:
            await read_all(s.chunks)
        await _settled(gateway)
    await asyncio.sleep(0.01)
    async with await gateway.open(records[0], "one.tif", ANONYMOUS) as s:  # "one" used again
        await read_all(s.chunks)
    async with await gateway.open(records[2], "three.tif", ANONYMOUS) as s:
        await read_all(s.chunks)
    await _settled(gateway)
    kept = [n for n in _store_files(tmp_path) if n.startswith("objects/")]
    assert kept == [
        "objects/cache/S2_MSI_L2A/one/one.tif",
        "objects/cache/S2_MSI_L2A/three/three.tif",
    ]
    assert gateway.stats.evictions == 1 and gateway.stats.bytes_evicted == 1_000_000


async def test_cache_retention_expires_but_mirror_stays(
    make_gateway: GatewayMaker, provider: Provider
) -> None:
    gateway = await make_gateway(
        "rules:\n"
        "  - name: short\n    match: {provider: slow}\n    strategy: cache\n    retention: 1s\n"
        "  - name: keep\n    strategy: mirror\n"
    )
    write_file(provider.root, "x.tif", 1000)
    write_file(provider.root, "y.tif", 1000)
    short = product(f"{provider.url}/slow/x.tif", identifier="x")
    kept = product(f"{provider.url}/open/y.tif", identifier="y")
    for record, name in ((kept, "y.tif"), (short, "x.tif")):
        async with await gateway.open(record, name, ANONYMOUS) as s:
            await read_all(s.chunks)
        await _settled(gateway)
    assert await gateway.store.stat("cache/S2_MSI_L2A/x/x.tif") is not None
    await asyncio.sleep(1.1)
    assert await gateway.keeper.enforce(gateway.rules.rules.cache) == 1
    assert await gateway.store.stat("cache/S2_MSI_L2A/x/x.tif") is None
    assert await gateway.store.stat("mirror/S2_MSI_L2A/y/y.tif") is not None


def test_local_store_is_the_default(tmp_path: Path) -> None:
    from everest_elearn.gateway.factory import build_store
    from everest_elearn.settings import Settings

    store = build_store(Settings(data_dir=tmp_path))
    assert isinstance(store, LocalStore)
    assert store.root == tmp_path / "gateway" / "store"
