"""``everest-elearn packages validate|estimate|build|list|status|delete`` as a user runs them.

Each command is a separate ``everest-elearn`` process on one data folder: an SQLite catalogue
holding the SYNTHETIC samples, a gateway rules file caching from a loopback provider that
serves them, and plain-directory volumes.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from everest_elearn.catalogue.factory import create_store
from everest_elearn.catalogue.service import Catalogue
from everest_elearn.packages.spec import format_size
from everest_elearn.samples import SampleProduct, generate
from everest_elearn.security.identity import Identity, Role
from everest_elearn.settings import Settings
from tests.fixtures.provider import Provider

SPEC = """\
name: flood-demo
version: "1"
licence: CC-BY-4.0
max_size: {max_size}
contents:
  - query: {{parentIdentifier: synthetic-s1-grd}}
    files: ["*_vv.tif", "*_vh.tif"]
"""
VOLUME = "everest-pkg-flood-demo-1"


@dataclass
class Agency:
    """The host's data folder, the environment the CLI reads, and the files the spec selects."""

    data: Path
    env: dict[str, str]
    wanted: list[Path]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(Path(sys.executable).parent / "everest-elearn"), "packages", *args]
        return subprocess.run(
            command, capture_output=True, text=True, env=self.env, timeout=300, check=False
        )

    def spec(self, name: str, text: str) -> str:
        path = self.data.parent / name
        path.write_text(text)
        return str(path)


async def _ingest(settings: Settings, samples: list[SampleProduct]) -> None:
    store = create_store(settings)
    await store.open()
    try:
        catalogue = Catalogue(store)
        admin = Identity("admin", frozenset({Role.ADMIN}))
        await catalogue.upsert(
            list({p.collection.identifier: p.collection for p in samples}.values()), admin
        )
        await catalogue.upsert([p.record for p in samples], admin)
    finally:
        await store.close()


@pytest.fixture
def agency(tmp_path: Path, provider: Provider) -> Agency:
    samples = generate(provider.root, base_url=f"{provider.url}/open")
    data = tmp_path / "data"
    asyncio.run(_ingest(Settings(data_dir=data, catalogue={"load_samples": False}), samples))
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        f"sources:\n  - name: provider\n    url: {provider.url}/open/\n"
        "rules:\n  - name: cache everything\n    strategy: cache\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVEREST_")}
    env |= {"EVEREST_DATA_DIR": str(data), "EVEREST_PACKAGES__VOLUMES": "directory",
            "EVEREST_CATALOGUE__LOAD_SAMPLES": "false", "EVEREST_GATEWAY__RULES_FILE": str(rules),
            "COLUMNS": "250"}  # fmt: skip
    wanted = [
        p.files[band]
        for p in samples
        if p.collection.identifier == "synthetic-s1-grd"
        for band in ("vv", "vh")
    ]
    return Agency(data, env, wanted)


def _said(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


def test_a_package_from_validation_to_deletion(agency: Agency) -> None:
    spec = agency.spec("spec.yaml", SPEC.format(max_size="50 MB"))
    total = format_size(sum(f.stat().st_size for f in agency.wanted))

    valid = agency.run("validate", spec)
    assert valid.returncode == 0, _said(valid)
    assert f"valid: flood-demo 1: 2 products, 4 files, {total}" in valid.stdout
    estimate = agency.run("estimate", spec)
    assert estimate.returncode == 0, _said(estimate)
    assert f"flood-demo 1: 2 products, 4 files, {total}; already held by the gateway: nothing" in (
        estimate.stdout
    )
    assert not (agency.data / "volumes" / VOLUME).exists()  # neither fetched anything

    build = agency.run("build", spec)
    assert build.returncode == 0, _said(build)
    bar = next(line for line in build.stdout.splitlines() if line.startswith("flood-demo 1: "))
    assert "ready" in bar and "━" in bar  # the progress bar, finished
    report = build.stdout.splitlines()
    assert any("package flood-demo 1: ready" in line for line in report), build.stdout
    for row in (
        ("volume", f"{VOLUME} (directory)"),
        ("files", "4 (0 resumed from an earlier run)"),
        ("size", total),
        ("sources", "miss: 4"),
        ("ODC datasets", "0"),
        ("note", "no Open Data Cube configured"),
    ):
        assert any(row[0] in line and row[1] in line for line in report), (row, build.stdout)
    volume = agency.data / "volumes" / VOLUME
    copied = {p.name: p.read_bytes() for p in volume.rglob("*.tif")}
    assert copied == {f.name: f.read_bytes() for f in agency.wanted}
    assert (volume / "READY").exists() and (volume / "manifest.json").exists()

    held = agency.run("estimate", spec)
    assert f"already held by the gateway: {total} in cache" in held.stdout, _said(held)
    listed = agency.run("list")
    assert listed.returncode == 0, _said(listed)
    row = next(line for line in listed.stdout.splitlines() if "flood-demo" in line)
    assert [cell.strip() for cell in row.strip("│ ").split("│")] == [
        "flood-demo", "1", "ready", "yes", "4", total, "0", VOLUME,
    ]  # fmt: skip
    status = agency.run("status", "flood-demo", "1")
    assert status.returncode == 0, _said(status)
    assert status.stdout.startswith("flood-demo 1: ready")
    files = [line for line in status.stdout.splitlines() if ".tif" in line]
    assert len(files) == 4
    for wanted in agency.wanted:
        assert any(wanted.name in line and "durable" in line for line in files), status.stdout

    deleted = agency.run("delete", "flood-demo", "1")
    assert deleted.returncode == 0, _said(deleted)
    assert "deleted flood-demo 1" in deleted.stdout
    assert not volume.exists()
    assert "flood-demo" not in agency.run("list").stdout
    gone = agency.run("status", "flood-demo", "1")
    assert gone.returncode == 1 and "package 'flood-demo 1' not found" in _said(gone)
    again = agency.run("delete", "flood-demo", "1")
    assert again.returncode == 1 and "not found" in _said(again)


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (("name: flood-demo", "name: Flood Demo"), "error: name: "),
        (("max_size: 50 MB", "max_size: lots"), "error: max_size: 'lots' is not a size"),
        (("licence: CC-BY-4.0\n", ""), "error: licence: Field required"),
        (("licence:", "colour: red\nlicence:"), "error: colour: Extra inputs are not permitted"),
        (
            ("query: {parentIdentifier: synthetic-s1-grd}", "products: [NO_SUCH_PRODUCT]"),
            "error: contents.0.products.0: unknown product 'NO_SUCH_PRODUCT'",
        ),
        (("max_size: 50 MB", "max_size: 100 kB"), "error: max_size: the selected files hold"),
    ],
    ids=["name", "size", "licence", "unknown-field", "product", "too-big"],
)
def test_a_bad_spec_fails_naming_the_field(
    agency: Agency, change: tuple[str, str], error: str
) -> None:
    spec = agency.spec("bad.yaml", SPEC.format(max_size="50 MB").replace(*change))
    for command in ("validate", "estimate", "build"):
        result = agency.run(command, spec)
        assert result.returncode == 1, (command, _said(result))
        assert error in result.stderr, (command, _said(result))
        assert "Traceback" not in _said(result)
    assert not list((agency.data / "volumes").glob("everest-pkg-*"))
    assert "flood-demo" not in agency.run("list").stdout
