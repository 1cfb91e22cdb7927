"""Backups: a real round trip of every part (back up, wipe, restore, compare) on real services."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from osmem_server import OsmemServer

from everest_elearn.backup.layout import Manifest, verify
from everest_elearn.backup.service import create_backup, restore_backup
from everest_elearn.catalogue.factory import create_store
from everest_elearn.catalogue.model import Kind, Record
from everest_elearn.catalogue.query import Query, SortKey
from everest_elearn.gateway.factory import build_store
from everest_elearn.packages.backends import open_volumes
from everest_elearn.packages.volumes import LABEL_KIND, LABEL_OWNER
from everest_elearn.settings import CatalogueSettings, Settings
from tests.contract.records import everything
from tests.fixtures.moto import MotoS3
from tests.fixtures.postgres import PostgresServer

pytestmark = [pytest.mark.services, pytest.mark.docker]


async def all_records(settings: Settings) -> list[Record]:
    store = create_store(settings)
    await store.open()
    try:
        found: list[Record] = []
        for kind in (Kind.COLLECTION, Kind.PRODUCT):
            query = Query(kind=kind, limit=1000, sort=(SortKey("start"),), visible_groups=None)
            found += (await store.search(query)).records
        return found
    finally:
        await store.close()


@pytest.fixture
def platform(
    tmp_path: Path,
    es_catalogue_settings: CatalogueSettings,
    moto_s3: MotoS3,
    postgres_server: PostgresServer,
) -> Iterator[Settings]:
    """Settings of a platform on real services, each on its own names."""
    tag = secrets.token_hex(4)
    bucket = f"backup-{tag}"
    moto_s3.client().create_bucket(Bucket=bucket)  # type: ignore[attr-defined]
    database = f"odc_backup_{tag}"
    postgres_server.psql(f"CREATE DATABASE {database}")
    settings = Settings.model_validate(
        {
            "data_dir": tmp_path / "data",
            "catalogue": es_catalogue_settings.model_dump(),
            "gateway": {
                "store": "s3",
                "s3_bucket": bucket,
                "s3_endpoint_url": moto_s3.endpoint_url,
                "s3_region": moto_s3.region,
                "s3_access_key_id": moto_s3.access_key_id,
                "s3_secret_access_key": moto_s3.secret_access_key,
            },
            "packages": {"volumes": "docker"},
            "datacube": {"db_url": postgres_server.url(database)},
            # The engine is shared with other tests: only this test's volumes, by their kind label.
            "backup": {"pg_bin": "/usr/lib/postgresql/15/bin", "volume_kinds": [f"results-{tag}"]},
        }
    )
    yield settings
    volumes = open_volumes(settings)
    asyncio.run(volumes.remove(f"everest-results-backup-{tag}"))


def digest(path: Path) -> str:
    if path.suffix == ".sqlite":  # same rows, not necessarily the same pages
        with sqlite3.connect(path) as db:
            return "\n".join(db.iterdump())
    return hashlib.sha256(path.read_bytes()).hexdigest()


def state_of(data: Path) -> dict[Path, str]:
    """Every platform file under the data folder (volumes are compared through their interface)."""
    return {
        p.relative_to(data): digest(p)
        for p in sorted(data.rglob("*"))
        if p.is_file() and p.relative_to(data).parts[0] != "volumes"
    }


async def test_back_up_wipe_restore_compare(
    platform: Settings, tmp_path: Path, postgres_server: PostgresServer, osmem: OsmemServer
) -> None:
    settings = platform
    data = settings.data_dir
    tag = settings.gateway.s3_bucket.removeprefix("backup-")
    database = f"odc_backup_{tag}"

    # --- a platform with something in every part ------------------------------------------
    store = create_store(settings)
    await store.open()
    await store.upsert(everything())
    await store.close()
    records_before = await all_records(settings)

    data.mkdir(parents=True)
    with sqlite3.connect(data / "courses.sqlite") as db:
        db.execute("CREATE TABLE courses (id TEXT PRIMARY KEY, doc TEXT)")
        db.execute("INSERT INTO courses VALUES ('forest-2025', '{\"title\": \"Forests\"}')")
    (data / "gateway-rules.yaml").write_text("# rules kept by the backup\nrules: []\n")
    await asyncio.to_thread(
        subprocess.run,
        ["git", "init", "-q", "--bare", str(data / "modules" / "forest.git")],
        check=True,
    )
    state_before = state_of(data)

    postgres_server.psql(
        "CREATE TABLE dataset (id int PRIMARY KEY, uri text); "
        "INSERT INTO dataset SELECT g, 'file:///data/' || g FROM generate_series(1, 50) g",
        database,
    )

    objects = build_store(settings)
    mirrored, cached = tmp_path / "m.bin", tmp_path / "c.bin"
    mirrored.write_bytes(secrets.token_bytes(300_000))
    cached.write_bytes(b"refetchable")
    mirror_sha = digest(mirrored)
    await objects.put_file("mirror/S2/tile.jp2", mirrored, {"sha256": mirror_sha})
    await objects.put_file("cache/S1/grd.tiff", cached, {})

    volumes = open_volumes(settings)
    volume = f"everest-results-backup-{tag}"
    await volumes.create(volume, {LABEL_KIND: f"results-{tag}", LABEL_OWNER: "alice"})
    async with volumes.writer(volume) as writer:
        payload = b"ndvi,0.61\n" * 1000

        async def body() -> object:
            yield payload

        await writer.write("analysis/ndvi.csv", body(), len(payload))  # type: ignore[arg-type]
    files_before = await volumes.files(volume)

    # --- back up ----------------------------------------------------------------------------
    folder, manifest = await create_backup(settings, tmp_path / "backups")
    assert [p.name for p in manifest.parts] == ["catalogue", "state", "odc", "volumes", "mirror"]
    assert manifest.part("catalogue").items == len(records_before)  # type: ignore[union-attr]
    assert manifest.part("mirror").items == 1  # the cache is not copied  # type: ignore[union-attr]
    assert verify(folder, Manifest.read(folder)) == []
    assert settings.gateway.s3_secret_access_key is not None
    for path in folder.rglob("*"):  # no secret of the settings lands in the backup
        if path.is_file() and path.suffix in (".json", ".yaml"):
            assert "testing" not in path.read_text()

    # --- wipe everything --------------------------------------------------------------------
    async with httpx.AsyncClient() as client:
        (await client.delete(f"{osmem.url}/{settings.catalogue.index_prefix}-*")).raise_for_status()
    await asyncio.to_thread(shutil.rmtree, data)
    postgres_server.psql("DROP TABLE dataset", database)
    await objects.delete("mirror/S2/tile.jp2")
    await objects.delete("cache/S1/grd.tiff")
    await volumes.remove(volume)
    assert await all_records(settings) == []

    # --- restore and compare ----------------------------------------------------------------
    await restore_backup(settings, folder)
    restored = await all_records(settings)
    assert [r.model_dump() for r in restored] == [r.model_dump() for r in records_before]
    assert state_of(data) == state_before
    rows = postgres_server.psql("SELECT count(*), max(uri) FROM dataset", database)
    assert rows == "50|file:///data/9"
    stat = await objects.stat("mirror/S2/tile.jp2")
    assert stat is not None and stat.meta.get("sha256") == mirror_sha
    chunks = [c async for c in objects.read("mirror/S2/tile.jp2")]
    assert hashlib.sha256(b"".join(chunks)).hexdigest() == mirror_sha
    assert await objects.stat("cache/S1/grd.tiff") is None
    info = await volumes.get(volume)
    assert info is not None and info.labels.get(LABEL_OWNER) == "alice"
    assert await volumes.files(volume) == files_before
    await objects.close()


async def test_a_damaged_backup_is_refused_before_anything_changes(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    settings.data_dir.mkdir()
    (settings.data_dir / "gateway-rules.yaml").write_text("rules: []\n")
    folder, _ = await create_backup(settings, tmp_path / "b", only=["state"])
    (folder / "state" / "gateway-rules.yaml").write_text("rules: [tampered]\n")
    (settings.data_dir / "gateway-rules.yaml").write_text("rules: [current]\n")
    with pytest.raises(Exception, match=r"damaged backup: state/gateway-rules\.yaml: checksum"):
        await restore_backup(settings, folder)
    assert (settings.data_dir / "gateway-rules.yaml").read_text() == "rules: [current]\n"
