"""Python blocks of docs/ marked ``notebook`` run as a participant's notebook runs them.

The data cube is a real one: the bundled sample package, indexed in an ODC database on
PostgreSQL (as the agency indexes a built package) with its files where the index points, and
the environment the hub gives a notebook container (``ODC_DEFAULT_DB_URL``, ``EVEREST_DATA_ROOT``).
Each block must leave a ``cube`` holding data: what the page promises its reader.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from everest_elearn.packages.datacube import DatacubeIndex
from everest_elearn.samples import generate
from tests.docs.blocks import Block, blocks, doc_files

pytestmark = [pytest.mark.services]
PACKAGE = "samples"
BLOCKS = [b for p in doc_files() for b in blocks(p) if "notebook" in b.marks]
# Runs the block, then reports what its `cube` holds.
WRAPPER = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    namespace = {"__name__": "__main__"}
    exec(compile(open(sys.argv[1]).read(), sys.argv[1], "exec"), namespace)
    cube = namespace["cube"]
    finite = {name: int(np.isfinite(cube[name].values.astype("float64")).sum())
              for name in cube.data_vars}
    print(json.dumps({"sizes": {k: int(v) for k, v in cube.sizes.items()}, "finite": finite}))
    """
)


@pytest.fixture(scope="module")
def cube_env(odc_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("notebook-data")
    package_dir = root / PACKAGE

    async def index() -> None:
        cube = DatacubeIndex(odc_db_url)
        try:
            for item in generate(package_dir):
                await cube.ensure_product(item.collection)
                await cube.index_record(
                    item.collection, item.record, item.files,
                    package=PACKAGE, package_dir=package_dir, mount_root=str(root),
                )  # fmt: skip
        finally:
            await cube.close()

    asyncio.run(index())
    return {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": str(root),
        "ODC_DEFAULT_DB_URL": odc_db_url,
        "ODC_DEFAULT_INDEX_DRIVER": "postgres",
        "EVEREST_DATA_ROOT": str(root),
    }


def test_there_are_notebook_blocks() -> None:
    pages = {b.path.name for b in BLOCKS}
    assert {"participants.md", "module-developers.md"} <= pages, pages


@pytest.mark.parametrize("block", BLOCKS, ids=[b.where for b in BLOCKS])
def test_notebook_block_loads_data(block: Block, cube_env: dict[str, str], tmp_path: Path) -> None:
    source = tmp_path / "block.py"
    source.write_text(block.text, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-c", WRAPPER, str(source)],
        env=cube_env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"{block.where}:\n{block.text}\n{done.stderr[-3000:]}"
    report = json.loads(done.stdout.strip().splitlines()[-1])
    sizes, finite = report["sizes"], report["finite"]
    assert sizes.get("time", 0) >= 1 and sizes["x"] > 0 and sizes["y"] > 0, (block.where, report)
    assert finite and all(n > 0 for n in finite.values()), (block.where, finite)
    # What the block printed (product names, values) is the reader's; it must name a product.
    assert "synthetic_" in done.stdout, done.stdout
