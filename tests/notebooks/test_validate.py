"""`modules validate` without running anything: metadata, specs, notebook sections, cell numbers."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from sqlalchemy import make_url
from traitlets.config import Config
from typer.testing import CliRunner

from everest_elearn.cli import app
from everest_elearn.cli.modules_validate import notebook_runtime
from everest_elearn.errors import InvalidInput, NotFound
from everest_elearn.hub.config import configure
from everest_elearn.hub.spawner_settings import SpawnerSettings
from everest_elearn.images import IMAGES
from everest_elearn.modules.validate import failures_of, load_module, results_of, with_parameters
from everest_elearn.settings import HubSettings, Settings

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
MODULES = sorted(
    p.parent.name for p in NOTEBOOKS.glob("*/module.yaml") if not p.parent.name.startswith("_")
)


def test_the_nine_modules_and_the_template_are_valid() -> None:
    assert len(MODULES) == 9
    levels = {}
    for name in [*MODULES, "_template"]:
        module = load_module(NOTEBOOKS / name)
        assert module.spec.name == f"mod-{module.meta.id}"
        levels[module.meta.id] = module.meta.level.value
        kinds = {d.kind for d in module.meta.data}
        assert kinds <= {"real", "generated"} and kinds
    assert (
        levels["s1-change-detection"] == "advanced"
        and levels["s1-product-information"] == "beginner"
    )


def test_cli_check_only_lists_every_module() -> None:
    result = CliRunner().invoke(app, ["modules", "validate", str(NOTEBOOKS), "--check-only"])
    assert result.exit_code == 0, result.output
    for name in MODULES:
        assert name in result.output


def copy(tmp_path: Path, name: str = "s3-algal-bloom") -> Path:
    target = tmp_path / name
    shutil.copytree(NOTEBOOKS / name, target)
    return target


def test_bad_metadata_names_the_file_and_the_field(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    text = (folder / "module.yaml").read_text().replace("level: intermediate", "level: expert")
    (folder / "module.yaml").write_text(text)
    with pytest.raises(InvalidInput) as err:
        load_module(folder)
    assert err.value.where == "s3-algal-bloom/module.yaml: level"
    result = CliRunner().invoke(app, ["modules", "validate", str(folder), "--check-only"])
    assert result.exit_code == 1


def test_a_bad_spec_and_a_missing_notebook_are_named(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    (folder / "package.yaml").write_text(
        (folder / "package.yaml").read_text().replace("max_size: 20 MB", "max_size: lots")
    )
    with pytest.raises(InvalidInput) as err:
        load_module(folder)
    assert err.value.where == "s3-algal-bloom/package.yaml: max_size"
    folder = copy(tmp_path / "again")
    (folder / "s3-algal-bloom.ipynb").unlink()
    with pytest.raises(NotFound):
        load_module(folder)


def test_a_notebook_without_parameters_or_sections_is_refused(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    path = folder / "s3-algal-bloom.ipynb"
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        cell.metadata.pop("tags", None)
    nbformat.write(nb, path)
    with pytest.raises(InvalidInput, match="parameters"):
        load_module(folder)
    nb = nbformat.read(NOTEBOOKS / "s3-algal-bloom" / "s3-algal-bloom.ipynb", as_version=4)
    nb.cells = [c for c in nb.cells if "## References" not in c.source]
    nbformat.write(nb, path)
    with pytest.raises(InvalidInput, match="references"):
        load_module(folder)


def test_failures_are_numbered_as_in_the_original_notebook() -> None:
    module = load_module(NOTEBOOKS / "s3-algal-bloom")
    injected = with_parameters(module.notebook, {"PACKAGE": "x", "DATA_ROOT": "/data"})
    assert len(injected.cells) == len(module.notebook.cells) + 1
    # As nbclient records them: an error in the 6th original cell, a results line in the last.
    injected.cells[6].outputs = [
        nbformat.v4.new_output("error", ename="ValueError", evalue="bad", traceback=[])
    ]
    injected.cells[-2].outputs = [
        nbformat.v4.new_output("stream", name="stdout", text='EVEREST_RESULTS {"a": 1}\n')
    ]
    failures = failures_of(injected)
    assert [(f.cell, f.error, f.message) for f in failures] == [(6, "ValueError", "bad")]
    assert results_of(injected) == {"a": 1}


def test_a_participant_in_the_hub_runs_a_module_as_validate_runs_it(tmp_path: Path) -> None:
    # The hub's participants and `modules validate` must see the same image, the package at the
    # same path (the ODC documents point there) and the same database through the read-only role.
    db = "postgresql+psycopg2://admin:pw@127.0.0.1:5433/odc?sslmode=require"
    settings = Settings(
        data_dir=tmp_path,
        hub=HubSettings(authenticator="dummy"),
        datacube={"db_url": db, "readonly_password": "read only", "container_db_host": "10.0.0.5"},
    )
    config = Config()
    configure(config, settings)
    spawner = config.EverestSpawner
    password = settings.datacube.readonly_password
    assert password is not None
    runtime = notebook_runtime(settings, "sha256:built", password)
    assert spawner.image == f"{IMAGES['notebook'].repository}:{settings.images.tag}"
    assert spawner.packages_path == runtime.mount_root == "/home/jovyan/data"
    default = SpawnerSettings.class_traits()["odc_index_driver"].default_value
    driver = config.EverestSpawner.get("odc_index_driver", default)
    assert driver == "postgres"  # as run_notebook sets ODC_DEFAULT_INDEX_DRIVER
    hub_url, validate_url = make_url(spawner.odc_db_url), make_url(runtime.odc_url)
    for part in ("username", "password", "host", "port", "database", "query"):
        assert getattr(hub_url, part) == getattr(validate_url, part), part
    assert hub_url.get_driver_name() == validate_url.get_driver_name() == "psycopg2"
    assert (validate_url.username, validate_url.host) == ("everest_reader", "10.0.0.5")
    assert dict(validate_url.query) == {"sslmode": "require"}
