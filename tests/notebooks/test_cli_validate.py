"""`everest-elearn modules validate PATH` end to end on the directory volume backend.

The agency is configured only through its environment, as an operator would: embedded catalogue
holding the module's records, gateway rules towards a loopback provider, the ODC on PostgreSQL,
packages as plain directories (bind-mounted read-only into the notebook image).
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import nbformat
import pytest
from typer.testing import CliRunner

from everest_elearn.catalogue.factory import create_store
from everest_elearn.catalogue.service import Catalogue
from everest_elearn.cli import app
from everest_elearn.eo.course_data import olci_bloom
from everest_elearn.errors import EverestError
from everest_elearn.images import BuiltImage
from everest_elearn.security.identity import Identity, Role
from everest_elearn.settings import Settings
from tests.fixtures.provider import Provider

pytestmark = [pytest.mark.notebooks, pytest.mark.docker, pytest.mark.services]
ROOT = Path(__file__).resolve().parents[2]
ADMIN = Identity("module-ci", frozenset({Role.ADMIN}))


async def load_catalogue(settings: Settings, provider_url: str, root: Path) -> None:
    product = olci_bloom(root, f"{provider_url}/open")
    store = create_store(settings)
    await store.open()
    try:
        catalogue = Catalogue(store)
        await catalogue.upsert([product.collection], ADMIN)
        await catalogue.upsert([product.record], ADMIN)
    finally:
        await store.close()


def test_validate_builds_the_package_and_runs_the_notebook(
    tmp_path: Path, provider: Provider, odc_db_url: str, notebook_image: BuiltImage
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        f"sources:\n  - name: course\n    url: {provider.url}/open/\n"
        "rules:\n  - name: cache everything\n    strategy: cache\n"
    )
    env = {
        "EVEREST_DATA_DIR": str(tmp_path / "data"),
        "EVEREST_CATALOGUE__LOAD_SAMPLES": "false",
        "EVEREST_GATEWAY__RULES_FILE": str(rules),
        "EVEREST_DATACUBE__DB_URL": odc_db_url,
        "EVEREST_PACKAGES__VOLUMES": "directory",
    }
    settings = Settings(data_dir=tmp_path / "data", catalogue={"load_samples": False})
    (tmp_path / "data").mkdir()
    asyncio.run(load_catalogue(settings, provider.url, provider.root))
    out = tmp_path / "executed"
    result = CliRunner().invoke(
        app,
        ["modules", "validate", str(ROOT / "notebooks" / "s3-algal-bloom"), "--out", str(out)],
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert "passed: s3-algal-bloom" in result.output and "built" in result.output
    assert (out / "s3-algal-bloom.ipynb").is_file()
    assert "postgresql" not in result.output  # the read-only role's URL never reaches the output
    again = CliRunner().invoke(
        app,
        ["modules", "validate", str(ROOT / "notebooks" / "s3-algal-bloom"), "--out", str(out)],
        env=env,
    )
    assert again.exit_code == 0 and "found" in again.output, again.output

    # A broken cell: exit status 1, the cell named by its number, the executed notebook kept.
    broken = tmp_path / "s3-algal-bloom"
    shutil.copytree(ROOT / "notebooks" / "s3-algal-bloom", broken)
    path = broken / "s3-algal-bloom.ipynb"
    nb = nbformat.read(path, as_version=4)
    number = next(i for i, c in enumerate(nb.cells, 1) if "threshold.otsu(mci)" in c.source)
    nb.cells[number - 1].source = "1 / 0\n" + nb.cells[number - 1].source
    nbformat.write(nb, path)
    failed = CliRunner().invoke(
        app, ["modules", "validate", str(broken), "--out", str(tmp_path / "broken")], env=env
    )
    assert failed.exit_code == 1, failed.output
    assert "failed: s3-algal-bloom" in failed.output
    assert f"cell {number}: ZeroDivisionError: division by zero" in failed.output
    assert (tmp_path / "broken" / "s3-algal-bloom.ipynb").is_file()

    # A package that cannot be built (a product the catalogue does not hold) is named.
    spec = broken / "package.yaml"
    spec.write_text(spec.read_text().replace("SYNTH_BALTIC", "SYNTH_NOWHERE").replace(
        'version: "1"', 'version: "2"').replace("version: '1'", "version: '2'"))  # fmt: skip
    unbuilt = CliRunner().invoke(app, ["modules", "validate", str(broken)], env=env)
    assert unbuilt.exit_code != 0
    assert isinstance(unbuilt.exception, EverestError), unbuilt.output
    assert "SYNTH_NOWHERE" in str(unbuilt.exception)
