"""The modules' world: course data served on loopback, catalogue, gateway, Docker volumes, ODC.

Module-scoped and async on one event loop: every notebook test builds its module's package in
this world and runs the notebook in the notebook image with the read-only ODC role.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest_asyncio
from pydantic import SecretStr

from everest_elearn.eo.course_data import course_products
from everest_elearn.images import BuiltImage
from everest_elearn.modules.validate import Runtime
from everest_elearn.packages.backends.docker_ import DockerVolumes
from everest_elearn.packages.datacube import DatacubeIndex
from everest_elearn.packages.service import PackageService
from everest_elearn.samples import SampleProduct, fixtures_dir
from everest_elearn.security.identity import Identity, Role
from tests.fixtures.package_stack import package_service
from tests.fixtures.provider import Provider

ROOT = Path(__file__).resolve().parents[2]
ADMIN = Identity("module-ci", frozenset({Role.ADMIN}))
ARTIFACTS = ROOT / "var" / "artifacts" / "notebooks"


@dataclass
class Course:
    service: PackageService
    products: dict[str, SampleProduct]
    runtime: Runtime


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def course(odc_db_url: str, notebook_image: BuiltImage) -> AsyncIterator[Course]:
    # Module scope: tmp_path is per test, so the course's folder is made here and removed after.
    base = Path(tempfile.mkdtemp(prefix="everest-course-"))
    root = base / "provider"
    provider = Provider(root, rate=200 * 1024 * 1024)
    root.mkdir()
    provider.start()
    products = course_products(root, f"http://127.0.0.1:{provider.port}/open", fixtures_dir(ROOT))
    source = ("course", f"http://127.0.0.1:{provider.port}/open/")
    volumes = DockerVolumes.connect()
    try:
        async with package_service(
            base, source, products, volumes, ADMIN, datacube={"db_url": odc_db_url}
        ) as service:
            index = DatacubeIndex(odc_db_url)
            password = SecretStr(secrets.token_urlsafe(12))
            await index.ensure_readonly_role("everest_reader", password)
            reader = index.reader_url("everest_reader", password, host="127.0.0.1")
            await index.close()
            # By id: "latest" moves when anyone rebuilds the image from another checkout.
            runtime = Runtime(notebook_image.image_id, reader.get_secret_value())
            yield Course(service, {p.record.identifier: p for p in products}, runtime)
    finally:
        provider.stop()
        shutil.rmtree(base, ignore_errors=True)
