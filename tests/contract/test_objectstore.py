"""One contract for every object store: the local directory and S3 (moto's server on loopback)."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from everest_elearn.errors import BackendUnavailable, InvalidInput
from everest_elearn.gateway.backends.local import LocalStore
from everest_elearn.gateway.backends.s3 import S3Store
from everest_elearn.gateway.objectstore import ObjectStore
from tests.fixtures.moto import MotoS3

MiB = 1024 * 1024


@pytest.fixture(params=["local", "s3"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ObjectStore]:
    made: ObjectStore
    if request.param == "local":
        made = LocalStore(tmp_path / "store")
    else:
        moto: MotoS3 = request.getfixturevalue("moto_s3")
        made = S3Store(
            f"test-{uuid.uuid4().hex[:12]}",
            prefix="gateway",
            endpoint_url=moto.endpoint_url,
            access_key_id=moto.access_key_id,
            secret_access_key=moto.secret_access_key,
            # S3's smallest part is 5 MiB: a 12 MiB file goes up in three parts.
            multipart_threshold=5 * MiB,
            multipart_chunksize=5 * MiB,
        )
    await made.check()
    yield made
    await made.close()


def _file(tmp_path: Path, size: int, name: str = "f.bin") -> tuple[Path, bytes]:
    data = os.urandom(size)
    path = tmp_path / name
    path.write_bytes(data)
    return path, data


async def _read(store: ObjectStore, key: str, start: int = 0, end: int | None = None) -> bytes:
    return b"".join([chunk async for chunk in store.read(key, start, end)])


async def test_put_then_stat_and_read(store: ObjectStore, tmp_path: Path) -> None:
    path, data = _file(tmp_path, 300_000)
    meta = {"sha256": hashlib.sha256(data).hexdigest(), "content_type": "image/tiff"}
    stored = await store.put_file("cache/C/p/f.tif", path, meta)
    assert stored.size == 300_000
    assert not path.exists()  # consumed
    found = await store.stat("cache/C/p/f.tif")
    assert found is not None
    assert found.size == 300_000
    assert found.meta["sha256"] == meta["sha256"]
    assert found.meta["content_type"] == "image/tiff"
    assert await _read(store, "cache/C/p/f.tif") == data


async def test_any_text_in_meta_reads_back_as_written(store: ObjectStore, tmp_path: Path) -> None:
    # S3 user metadata is ASCII only: the store encodes what it must and decodes it again.
    meta = {"source": "Zürich provider", "etag": '"Łódź 50%25"', "plain": "a-b_c.d e"}
    path, _ = _file(tmp_path, 100)
    await store.put_file("cache/C/p/Łódź.tif", path, meta)
    found = await store.stat("cache/C/p/Łódź.tif")
    assert found is not None
    assert {k: found.meta[k] for k in meta} == meta


async def test_ranges(store: ObjectStore, tmp_path: Path) -> None:
    path, data = _file(tmp_path, 3 * MiB + 17)
    await store.put_file("k/f", path, {})
    assert await _read(store, "k/f", 10, 19) == data[10:20]
    assert await _read(store, "k/f", 3 * MiB) == data[3 * MiB :]
    assert await _read(store, "k/f", 0, 3 * MiB + 16) == data


async def test_large_file_goes_up_whole(store: ObjectStore, tmp_path: Path) -> None:
    path, data = _file(tmp_path, 12 * MiB + 5)
    await store.put_file("mirror/big", path, {"sha256": hashlib.sha256(data).hexdigest()})
    found = await store.stat("mirror/big")
    assert found is not None and found.size == len(data)
    assert (
        hashlib.sha256(await _read(store, "mirror/big")).digest() == hashlib.sha256(data).digest()
    )


async def test_missing_and_delete(store: ObjectStore, tmp_path: Path) -> None:
    assert await store.stat("nothing/here") is None
    assert await store.delete("nothing/here") is False
    path, _ = _file(tmp_path, 10)
    await store.put_file("a/b", path, {})
    assert await store.delete("a/b") is True
    assert await store.stat("a/b") is None


async def test_replace_is_whole(store: ObjectStore, tmp_path: Path) -> None:
    first, _ = _file(tmp_path, 1000, "1")
    second, data = _file(tmp_path, 2000, "2")
    await store.put_file("x/y", first, {"sha256": "one"})
    await store.put_file("x/y", second, {"sha256": "two"})
    found = await store.stat("x/y")
    assert found is not None and found.size == 2000 and found.meta["sha256"] == "two"
    assert await _read(store, "x/y") == data


async def test_list_by_prefix(store: ObjectStore, tmp_path: Path) -> None:
    for key in ("cache/a/1", "cache/b/2", "mirror/a/3"):
        path, _ = _file(tmp_path, 100, key.replace("/", "_"))
        await store.put_file(key, path, {})
    cached = sorted([o.key async for o in store.list("cache/")])
    assert cached == ["cache/a/1", "cache/b/2"]
    assert [o.size async for o in store.list("mirror/")] == [100]


@pytest.mark.parametrize("key", ["", "/abs", "a/../b", "a//b", "./a", "a\\b"])
async def test_unsafe_keys_are_refused(store: ObjectStore, key: str) -> None:
    with pytest.raises(InvalidInput):
        await store.stat(key)


async def test_recover_after_a_crash_shows_nothing_incomplete(
    store: ObjectStore, tmp_path: Path
) -> None:
    path, _ = _file(tmp_path, 100)
    await store.put_file("done/1", path, {})
    await store.recover()
    assert await store.stat("done/1") is not None
    assert [o.key async for o in store.list("")] == ["done/1"]


async def test_unreachable_store_says_so(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    s3 = S3Store(
        "b", endpoint_url=f"http://127.0.0.1:{port}", access_key_id="a", secret_access_key="b"
    )
    with pytest.raises(BackendUnavailable):
        await s3.check()
    with pytest.raises(BackendUnavailable):
        await s3.stat("a/b")
    await s3.close()
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    with pytest.raises(BackendUnavailable):
        await LocalStore(blocked / "store").check()
