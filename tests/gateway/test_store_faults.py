"""The object store under the gateway: names it must encode, torn replacements, failures mid-way."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from everest_elearn.errors import InvalidInput
from everest_elearn.gateway import Origin
from everest_elearn.gateway.backends.local import LocalStore
from everest_elearn.gateway.backends.s3 import S3Store
from everest_elearn.gateway.factory import build_gateway
from everest_elearn.gateway.objectstore import StoredObject
from everest_elearn.security.identity import ANONYMOUS
from everest_elearn.settings import GatewaySettings, Settings
from tests.fixtures.moto import MotoS3
from tests.fixtures.provider import Provider
from tests.gateway.conftest import ENVIRON, GatewayMaker, product, read_all, sha, write_file
from tests.gateway.test_strategies import _settled


async def test_a_unicode_source_name_is_kept_on_s3_and_then_hit(
    provider: Provider, moto_s3: MotoS3, tmp_path: Path
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "sources:\n"
        "  - name: Zürich provider\n"
        f"    url: {provider.url}/open/\n"
        "rules:\n  - name: cached\n    strategy: cache\n"
    )
    store = S3Store(
        f"names-{uuid.uuid4().hex[:12]}",
        endpoint_url=moto_s3.endpoint_url,
        access_key_id=moto_s3.access_key_id,
        secret_access_key=moto_s3.secret_access_key,
    )
    settings = Settings(data_dir=tmp_path / "data", gateway=GatewaySettings(rules_file=rules))
    gateway = build_gateway(settings, ENVIRON, store=store)
    assert gateway.rules.error is None, gateway.rules.error
    await gateway.start()
    try:
        digest = write_file(provider.root, "Łódź.tif", 200_000)
        record = product(
            f"{provider.url}/open/%C5%81%C3%B3d%C5%BA.tif", checksum=f"sha256:{digest}"
        )
        origins = []
        for _ in range(2):
            async with await gateway.open(record, "Łódź.tif", ANONYMOUS) as stream:
                assert sha(await read_all(stream.chunks)) == digest
            origins.append(stream.origin)
            await _settled(gateway)
        assert origins == [Origin.MISS, Origin.HIT]
        assert provider.gets("/open/%C5%81%C3%B3d%C5%BA.tif") == 1
        assert gateway.stats.store_errors == 0
        kept = await store.stat("cache/S2_MSI_L2A/S2A_20240601_T31TCJ/Łódź.tif")
        assert kept is not None and kept.meta["source"] == "Zürich provider"
    finally:
        await gateway.close()


async def test_a_request_s3_refuses_is_not_an_unreachable_store(
    moto_s3: MotoS3, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = S3Store(
        f"refused-{uuid.uuid4().hex[:12]}",
        endpoint_url=moto_s3.endpoint_url,
        access_key_id=moto_s3.access_key_id,
        secret_access_key=moto_s3.secret_access_key,
    )
    await store.check()
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 10)
    with pytest.raises(InvalidInput):  # a header name must be ASCII: boto3 refuses locally
        await store.put_file("cache/f.bin", path, {"größe": "10"})
    assert "unreachable" not in caplog.text
    await store.close()


class FailsAfterFirstLook(LocalStore):
    """A real local store whose directory is replaced by a file right after the gateway's first
    look (cache, then mirror key): the store fails between that look and the download."""

    looks = 0

    async def stat(self, key: str) -> StoredObject | None:
        found = await super().stat(key)
        self.looks += 1
        if self.looks == 2:
            self.root.rename(self.root.with_name("away"))
            self.root.write_text("not a folder any more")
        return found

    def restore(self) -> None:
        self.root.unlink()
        self.root.with_name("away").rename(self.root)


async def test_store_failing_after_the_first_look_falls_back_to_pipe(
    make_gateway: GatewayMaker, provider: Provider, tmp_path: Path
) -> None:
    digest = write_file(provider.root, "late.tif", 300_000)
    store = FailsAfterFirstLook(tmp_path / "store")
    gateway = await make_gateway(
        "rules:\n  - name: c\n    strategy: cache\n    fallback: pipe\n", store=store
    )
    record = product(f"{provider.url}/open/late.tif", checksum=f"sha256:{digest}")
    async with await gateway.open(record, "late.tif", ANONYMOUS) as stream:
        assert sha(await read_all(stream.chunks)) == digest
    assert stream.origin is Origin.FALLBACK
    assert gateway.stats.fallbacks == 1
    store.restore()  # back again: the download was not left claimed
    async with await gateway.open(record, "late.tif", ANONYMOUS) as again:
        assert sha(await read_all(again.chunks)) == digest
    assert again.origin is Origin.MISS


async def test_new_metadata_beside_old_data_is_not_a_hit(
    make_gateway: GatewayMaker, provider: Provider, tmp_path: Path
) -> None:
    # The provider's file changes (same size); the catalogue names the new checksum.
    old = write_file(provider.root, "v.tif", 400_000, seed=1)
    gateway = await make_gateway("rules:\n  - name: c\n    strategy: cache\n")
    async with await gateway.open(
        product(f"{provider.url}/open/v.tif", checksum=f"sha256:{old}"), "v.tif", ANONYMOUS
    ) as first:
        assert sha(await read_all(first.chunks)) == old
    await _settled(gateway)
    new = write_file(provider.root, "v.tif", 400_000, seed=2)
    # A replacement torn between its metadata and its data (a crash, or a reader in between):
    # the metadata a put of the new file writes, beside the old data.
    store = gateway.store
    assert isinstance(store, LocalStore)
    key = "cache/S2_MSI_L2A/S2A_20240601_T31TCJ/v.tif"
    staged = tmp_path / "v.part"
    staged.write_bytes((provider.root / "v.tif").read_bytes())
    await store.put_file("scratch/v.tif", staged, {"sha256": new, "strategy": "cache"})
    (store.meta / "scratch/v.tif.json").replace(store.meta / f"{key}.json")
    await store.delete("scratch/v.tif")
    assert await store.stat(key) is None
    record = product(f"{provider.url}/open/v.tif", checksum=f"sha256:{new}")
    async with await gateway.open(record, "v.tif", ANONYMOUS) as second:
        assert sha(await read_all(second.chunks)) == new
    assert second.origin is Origin.MISS
    assert provider.gets("/open/v.tif") == 2
    await _settled(gateway)
    async with await gateway.open(record, "v.tif", ANONYMOUS) as third:
        assert sha(await read_all(third.chunks)) == new
    assert third.origin is Origin.HIT
