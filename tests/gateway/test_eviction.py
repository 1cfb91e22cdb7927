"""Least-recently-used eviction over several workers and restarts, on both object stores.

Two gateways on one data directory stand for two uvicorn workers: they share the spool, the
object store and the record of last reads beside it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from everest_elearn.catalogue.model import Record
from everest_elearn.gateway import Origin
from everest_elearn.gateway.backends.s3 import S3Store
from everest_elearn.gateway.objectstore import ObjectStore
from everest_elearn.gateway.service import Gateway
from everest_elearn.security.identity import ANONYMOUS
from tests.fixtures.moto import MotoS3
from tests.fixtures.provider import Provider
from tests.gateway.conftest import GatewayMaker, product, read_all, write_file
from tests.gateway.test_strategies import _settled

LRU_BUDGET = "cache:\n  budget: 2.5 MB\n  eviction: lru\nrules:\n  - name: c\n    strategy: cache\n"

StoreMaker = Callable[[], ObjectStore | None]


@pytest.fixture(params=["local", "s3"])
def new_store(request: pytest.FixtureRequest) -> StoreMaker:
    """Each call: one worker's handle on the shared store (None: the local store of the data
    directory, as settings choose it)."""
    if request.param == "local":
        return lambda: None
    moto: MotoS3 = request.getfixturevalue("moto_s3")
    bucket = f"lru-{uuid.uuid4().hex[:12]}"
    return lambda: S3Store(
        bucket,
        endpoint_url=moto.endpoint_url,
        access_key_id=moto.access_key_id,
        secret_access_key=moto.secret_access_key,
    )


def _records(provider: Provider) -> list[Record]:
    records = []
    for name in ("one", "two", "three"):
        digest = write_file(provider.root, f"{name}.tif", 1_000_000, seed=len(name))
        records.append(
            product(f"{provider.url}/open/{name}.tif", identifier=name, checksum=f"sha256:{digest}")
        )
    return records


async def _read(gateway: Gateway, record: Record) -> Origin:
    async with await gateway.open(record, f"{record.identifier}.tif", ANONYMOUS) as stream:
        await read_all(stream.chunks)
    await _settled(gateway)  # a miss is stored (and the budget enforced) after the last byte
    return stream.origin


async def _cached(gateway: Gateway) -> list[str]:
    return sorted([found.key async for found in gateway.store.list("cache/")])


async def test_a_read_in_one_worker_keeps_the_object_when_another_evicts(
    make_gateway: GatewayMaker, provider: Provider, new_store: StoreMaker
) -> None:
    one, two, three = _records(provider)
    worker_a = await make_gateway(LRU_BUDGET, store=new_store())
    worker_b = await make_gateway(LRU_BUDGET, store=new_store())
    assert await _read(worker_b, one) is Origin.MISS
    assert await _read(worker_b, two) is Origin.MISS
    # "one" is read again, through the other worker: now "two" is the least recently used.
    assert await _read(worker_a, one) is Origin.HIT
    assert await _read(worker_b, three) is Origin.MISS  # over the budget: B evicts
    assert await _cached(worker_a) == [
        "cache/S2_MSI_L2A/one/one.tif",
        "cache/S2_MSI_L2A/three/three.tif",
    ]
    assert worker_b.stats.evictions == 1 and worker_b.stats.bytes_evicted == 1_000_000
    assert await _read(worker_a, one) is Origin.HIT
    assert provider.gets("/open/one.tif") == 1


async def test_last_reads_outlive_a_restart(
    make_gateway: GatewayMaker, provider: Provider, new_store: StoreMaker
) -> None:
    one, two, three = _records(provider)
    before = await make_gateway(LRU_BUDGET, store=new_store())
    for record in (one, two, one):
        await _read(before, record)
    await before.close()  # the worker restarts
    after = await make_gateway(LRU_BUDGET, store=new_store())
    assert await _read(after, three) is Origin.MISS
    assert await _cached(after) == [
        "cache/S2_MSI_L2A/one/one.tif",
        "cache/S2_MSI_L2A/three/three.tif",
    ]
    assert after.stats.evictions == 1
