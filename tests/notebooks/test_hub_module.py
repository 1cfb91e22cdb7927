"""A participant running a module in the hub gets the results `modules validate` got.

The module's package is built and the notebook validated as in CI; then a hub (dummy login) with a
course holding that package spawns the participant's server from the same notebook image, and the
module's notebook, unchanged (no injected parameters), is executed inside that server's container
with the environment the hub gave it.
"""

from __future__ import annotations

import asyncio
import io
import json
import secrets
import tarfile
from pathlib import Path
from typing import Any

import nbformat
import pytest
from sqlalchemy import make_url

from everest_elearn.courses.backends.sqlite import SqliteCourseStore
from everest_elearn.courses.model import Course as HubCourse
from everest_elearn.courses.model import PackageRef
from everest_elearn.courses.service import CourseService
from everest_elearn.modules.validate import _RUNNER, load_module, results_of, validate
from tests.fixtures.hub import hub_env, start_hub, stop_hub
from tests.notebooks.conftest import ADMIN, ARTIFACTS, ROOT, Course

pytestmark = [pytest.mark.notebooks, pytest.mark.docker, pytest.mark.services,
              pytest.mark.asyncio(loop_scope="module")]  # fmt: skip
# One on generated data, one on generated and real data (Sen1Floods11, a real calibration LUT).
MODULES = ("s3-algal-bloom", "s1-flood-mapping-malawi")


def _tar(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        folder = tarfile.TarInfo("module")
        folder.type, folder.mode = tarfile.DIRTYPE, 0o777
        archive.addfile(folder)
        info = tarfile.TarInfo(f"module/{name}")
        info.size, info.mode = len(data), 0o666
        archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def run_in_participant_server(
    env: dict[str, str], data_dir: Path, notebooks: list[Path], username: str
) -> dict[str, dict[str, Any]]:
    """Each notebook's results, executed in ``username``'s server of a hub run with ``env``."""
    tag = json.loads(env["EVEREST_HUB__CONTAINER_LABELS"])["everest.test-hub"]
    hub = start_hub(env, data_dir, tag, env["EVEREST_HUB__ADMIN_API_TOKEN"])
    try:
        hub.start_server(username)
        container = hub.container(username)
        out: dict[str, dict[str, Any]] = {}
        for notebook in notebooks:
            assert container.put_archive("/tmp", _tar(notebook.name, notebook.read_bytes()))
            done = container.exec_run(
                ["python", "-c", _RUNNER, f"/tmp/module/{notebook.name}",
                 "/tmp/module/out.ipynb", "600", "/tmp/module"],
            )  # fmt: skip
            assert done.exit_code == 0, done.output.decode()[-2000:]
            stream, _ = container.get_archive("/tmp/module/out.ipynb")
            with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as archive:
                member = archive.extractfile("out.ipynb")
                assert member is not None
                executed = nbformat.reads(member.read().decode(), as_version=4)
            errors = [o for c in executed.cells for o in c.get("outputs", [])
                      if o.get("output_type") == "error"]  # fmt: skip
            assert not errors, (notebook.name, errors)
            out[notebook.stem] = results_of(executed)
        return out
    finally:
        stop_hub(hub)


async def test_a_participant_in_the_hub_gets_the_validated_results(
    course: Course,
    odc_db_url: str,
    hub_ports: dict[str, int],
    tmp_path: Path,
) -> None:
    modules = [load_module(ROOT / "notebooks" / name) for name in MODULES]
    validated = {}
    for module in modules:
        outcome = await validate(module, course.service, ADMIN, course.runtime, ARTIFACTS)
        assert outcome.ok and outcome.results, module.meta.id
        validated[module.meta.id] = outcome.results

    data_dir = tmp_path / "hub"
    data_dir.mkdir()
    service = CourseService(SqliteCourseStore(data_dir / "courses.sqlite"))
    packages = tuple(PackageRef(m.spec.name, m.spec.version) for m in modules)
    await service.create(HubCourse("eo-course", "Earth observation", packages=packages))
    await service.enrol("eo-course", ["alice"])
    tag = "t" + secrets.token_hex(4)
    env = hub_env(data_dir, hub_ports, course.runtime.image, None, tag, secrets.token_hex(24))
    env["EVEREST_HUB__CONTAINER_LABELS"] = json.dumps({"everest.test-hub": tag})
    env["EVEREST_HUB__MEM_LIMIT"] = "3G"
    env["EVEREST_DATACUBE__DB_URL"] = odc_db_url
    password = make_url(course.runtime.odc_url).password
    assert password
    env["EVEREST_DATACUBE__READONLY_PASSWORD"] = password
    notebooks = [m.folder / m.meta.notebook for m in modules]
    results = await asyncio.to_thread(run_in_participant_server, env, data_dir, notebooks, "alice")
    # The same numbers, to the last bit: same image, same package, same index.
    assert results == validated
