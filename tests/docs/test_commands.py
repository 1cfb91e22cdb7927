"""Every shell block of docs/ marked ``runnable`` runs, in order per page, against the real CLI.

Blocks are fenced as ```` ```sh runnable ````; each page's blocks share one temporary folder (the
current directory, holding links to the checkout's deployment files) and data folder. Blocks
marked ``stack`` need a deployment (tests/deploy/test_ci_stack.py covers what of them runs here);
blocks marked ``compose`` are compose commands, checked by tests/docs/test_compose_blocks.py.
Plain ```` ```sh ```` blocks are not allowed: every command shown is marked.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.docs.blocks import ROOT, doc_files, shell_blocks

LINKED = [
    ".env.example",
    "docker-compose.yml",
    "deploy",
    "hub_config",
    "docker",
    "docs",
    "notebooks",
]
PAGES = sorted({b.path for b in shell_blocks("runnable")})
# Pages other features own: their runnable blocks run here too, unmarked ones are their call.
OTHERS = {"gateway.md", "opensearch.md"}


def test_every_shell_block_is_marked() -> None:
    from tests.docs.blocks import blocks

    unmarked = [
        b.where
        for p in doc_files()
        if p.name not in OTHERS or p.parent.name != "docs"
        for b in blocks(p)
        if b.lang in ("sh", "bash", "shell", "console")
        and not b.marks & {"runnable", "stack", "compose"}
    ]
    assert unmarked == [], f"mark these blocks runnable, stack or compose: {unmarked}"


def workspace(tmp: Path) -> dict[str, str]:
    for name in LINKED:
        (tmp / name).symlink_to(ROOT / name)
    (tmp / "home").mkdir()
    bin_dir = Path(sys.executable).parent
    return {
        "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
        "HOME": str(tmp / "home"),
        "LANG": "C.UTF-8",
        "COLUMNS": "120",
        "EVEREST_DATA_DIR": str(tmp / "data"),
        "EVEREST_CATALOGUE__LOAD_SAMPLES": "false",
    }


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_runnable_blocks_of_page(page: Path, tmp_path: Path) -> None:
    env = workspace(tmp_path)
    for block in [b for b in shell_blocks("runnable") if b.path == page]:
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", block.text],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, (
            f"{block.where} failed ({done.returncode}):\n{block.text}\n"
            f"--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}"
        )


def test_there_are_runnable_blocks() -> None:
    assert len(shell_blocks("runnable")) >= 8
    assert os.path.isdir(ROOT / "docs" / "reference")
