"""``modules validate``: a module's metadata, its package, and its notebook run in the notebook image.

A module is a folder with ``module.yaml`` (metadata), the notebook it names and ``package.yaml``
(the package spec of its data). Validation checks the metadata and the spec, finds the package
(ready in the registry) or builds it, then executes the notebook inside the notebook image with
the package mounted read-only and the read-only ODC role, and reports every failing cell by its
number. The notebook's results line (``EVEREST_RESULTS {...}``) is returned for checks.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from everest_elearn.errors import InvalidInput, NotFound, UpstreamError
from everest_elearn.packages.spec import PackageSpec, load_spec

RESULTS_PREFIX = "EVEREST_RESULTS "  # the line everest_elearn.eo.cube.report prints
INJECTED = "injected-parameters"
CONTAINER_HOME = "/home/jovyan"


class Level(StrEnum):
    BEGINNER = "beginner"
    INTERMEDIATE = "intermediate"
    ADVANCED = "advanced"


class DataStatement(BaseModel):
    """What data a module uses, and whether it is real or generated."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["real", "generated"]
    what: str = Field(min_length=3, max_length=500)


class ModuleMeta(BaseModel):
    """``module.yaml``."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")
    title: str = Field(min_length=3, max_length=200)
    level: Level
    notebook: str = Field(pattern=r"^[A-Za-z0-9_.-]+\.ipynb$")
    package: str = Field(default="package.yaml", pattern=r"^[A-Za-z0-9_.-]+\.ya?ml$")
    duration_minutes: int = Field(ge=5, le=600)
    objectives: list[str] = Field(min_length=1)
    prerequisites: list[str] = Field(default_factory=list)
    data: list[DataStatement] = Field(min_length=1)
    references: list[str] = Field(min_length=1)


def _nbformat() -> Any:
    # nbformat's functions are untyped; the module is used as Any in one place.
    return importlib.import_module("nbformat")


@dataclass
class Module:
    folder: Path
    meta: ModuleMeta
    spec: PackageSpec
    notebook: Any  # nbformat.NotebookNode


def _yaml(path: Path) -> Any:
    if not path.is_file():
        raise NotFound("file", str(path))
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InvalidInput(str(path), f"not YAML: {exc}") from None


def load_module(folder: Path) -> Module:
    """Read and check a module folder; the first problem is an InvalidInput naming file and field."""
    nbformat = _nbformat()

    raw = _yaml(folder / "module.yaml")
    try:
        meta = ModuleMeta.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "module"
        raise InvalidInput(f"{folder.name}/module.yaml: {where}", str(first.get("msg"))) from None
    spec_path = folder / meta.package
    if not spec_path.is_file():
        raise NotFound("package spec", str(spec_path))
    try:
        spec = load_spec(spec_path.read_text(encoding="utf-8"))
    except InvalidInput as exc:
        raise InvalidInput(f"{folder.name}/{meta.package}: {exc.where}", exc.message) from None
    path = folder / meta.notebook
    if not path.is_file():
        raise NotFound("notebook", str(path))
    try:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
    except Exception as exc:  # nbformat raises several unrelated types for a broken file
        raise InvalidInput(str(path), f"not a valid notebook: {exc}") from None
    _check_notebook(folder.name, meta, notebook)
    return Module(folder, meta, spec, notebook)


def _check_notebook(name: str, meta: ModuleMeta, notebook: Any) -> None:
    where = f"{name}/{meta.notebook}"
    tagged = [c for c in notebook.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(tagged) != 1 or tagged[0].cell_type != "code":
        raise InvalidInput(where, "needs exactly one code cell tagged 'parameters'")
    if "PACKAGE" not in tagged[0].source:
        raise InvalidInput(where, "the parameters cell must set PACKAGE (the package's name)")
    text = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown").lower()
    for heading in ("learning objectives", "prerequisites", "data", "exercise", "references"):
        if heading not in text:
            raise InvalidInput(where, f"no '{heading}' section in the notebook's text")
    if RESULTS_PREFIX.strip() not in "\n".join(
        c.source for c in notebook.cells
    ) and "report(" not in "\n".join(c.source for c in notebook.cells):
        raise InvalidInput(where, "the notebook never reports its results (eo.cube.report)")


@dataclass(frozen=True)
class CellFailure:
    """A code cell that raised: its number in the notebook (1-based, as Jupyter counts cells)."""

    cell: int
    error: str
    message: str
    source: str


@dataclass
class Validation:
    module: str
    package: str
    package_state: str  # "found" (ready in the registry) or "built"
    failures: list[CellFailure] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)
    executed: Path | None = None

    @property
    def ok(self) -> bool:
        return not self.failures


def with_parameters(notebook: Any, values: dict[str, Any]) -> Any:
    """A copy with a cell setting ``values`` after the 'parameters' cell (as papermill does)."""
    import copy

    nbformat = _nbformat()

    out = copy.deepcopy(notebook)
    index = next(i for i, c in enumerate(out.cells) if "parameters" in c.metadata.get("tags", []))
    lines = [f"{key} = {value!r}" for key, value in values.items()]
    cell = nbformat.v4.new_code_cell(
        "# Parameters injected by modules validate\n" + "\n".join(lines)
    )
    cell.metadata["tags"] = [INJECTED]
    out.cells.insert(index + 1, cell)
    return out


def failures_of(executed: Any) -> list[CellFailure]:
    """Every cell whose outputs hold an error, numbered as in the original notebook."""
    found = []
    number = 0
    for cell in executed.cells:
        if INJECTED in cell.metadata.get("tags", []):
            continue
        number += 1
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                found.append(CellFailure(number, output.get("ename", ""), output.get("evalue", ""),
                                         cell.source.strip().splitlines()[0][:120] if cell.source.strip() else ""))  # fmt: skip
    return found


def results_of(executed: Any) -> dict[str, Any]:
    for cell in executed.cells:
        for output in cell.get("outputs", []):
            for line in str(output.get("text", "")).splitlines():
                if line.startswith(RESULTS_PREFIX):
                    data: dict[str, Any] = json.loads(line.removeprefix(RESULTS_PREFIX))
                    return data
    return {}


# Runs inside the container: every cell, errors recorded in the outputs instead of stopping.
_RUNNER = """
import sys, nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
client = NotebookClient(nb, timeout=int(sys.argv[3]), kernel_name="python3", allow_errors=True,
                        resources={"metadata": {"path": sys.argv[4]}})
client.execute()
nbformat.write(nb, sys.argv[2])
"""


@dataclass(frozen=True)
class Runtime:
    """Where and how notebooks run: the image, the read-only ODC URL, the packages' mount root."""

    image: str
    odc_url: str
    mount_root: str = f"{CONTAINER_HOME}/data"
    cell_timeout: int = 600


def run_notebook(module: Module, source: str, runtime: Runtime, out_dir: Path) -> Path:
    """Execute the module's notebook in the image (blocking); returns the executed notebook.

    ``source``: what holds the package, a Docker volume's name or a host folder (directory backend).
    """
    nbformat = _nbformat()

    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="everest-module-") as tmp:
        work = Path(tmp)
        work.chmod(0o777)  # the container's user (jovyan, uid 1000) writes here
        parametrised = work / module.meta.notebook
        data_root = runtime.mount_root
        nbformat.write(
            with_parameters(module.notebook, {"PACKAGE": module.spec.name, "DATA_ROOT": data_root}),
            parametrised,
        )
        parametrised.chmod(0o666)
        inside = f"{CONTAINER_HOME}/work/{module.meta.id}"
        executed = f"{inside}/executed-{module.meta.notebook}"
        command = [
            "docker", "run", "--rm", "--network", "host",
            "-v", f"{source}:{data_root}/{module.spec.name}:ro",
            "-v", f"{work}:{inside}",
            "-e", f"ODC_DEFAULT_DB_URL={runtime.odc_url}", "-e", "ODC_DEFAULT_INDEX_DRIVER=postgres",
            "-e", f"EVEREST_DATA_ROOT={data_root}",
            runtime.image, "python", "-c", _RUNNER, f"{inside}/{module.meta.notebook}", executed,
            str(runtime.cell_timeout), inside,
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=3600, check=False)
        result = work / f"executed-{module.meta.notebook}"
        if done.returncode != 0 or not result.is_file():
            # The URL holds the read-only role's password: never echo the command line.
            raise UpstreamError(
                f"the notebook runner failed in {runtime.image}: {done.stderr[-2000:]}"
            )
        target = out_dir / module.meta.notebook
        shutil.copyfile(result, target)
    return target


async def validate(
    module: Module, packages: Any, identity: Any, runtime: Runtime, out_dir: Path
) -> Validation:
    """Find or build the module's package (``packages``: a PackageService), then run the notebook."""
    nbformat = _nbformat()

    spec = module.spec
    state = "found"
    try:
        status = await packages.status(spec.name, spec.version, identity)
        ready = status.get("state") == "ready"
    except NotFound:
        ready = False
    if not ready:
        report = await packages.build(spec, identity)
        if report.state != "ready":
            raise UpstreamError(
                f"package {spec.name} {spec.version} is {report.state}: {report.notes}"
            )
        state = "built"
    source = await _mount_source(packages, spec)
    executed = await asyncio.to_thread(run_notebook, module, source, runtime, out_dir)
    notebook = nbformat.read(executed, as_version=4)
    return Validation(module.meta.id, f"{spec.name} {spec.version}", state,
                      failures_of(notebook), results_of(notebook), executed)  # fmt: skip


async def _mount_source(packages: Any, spec: PackageSpec) -> str:
    # Docker volumes mount by name; the directory backend's volumes are host folders.
    from everest_elearn.packages.backends.directory import DirectoryVolumes

    state = await packages.state.get(spec.name, spec.version)
    volume = state.volume if state is not None else spec.volume_name
    if isinstance(packages.volumes, DirectoryVolumes):
        local = await packages.volumes.local_path(volume)
        if local is None:
            raise NotFound("package folder", volume)
        return str(local)
    return str(volume)
