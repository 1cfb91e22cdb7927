"""Every shell block of docs/ marked ``runnable`` runs, in order per page, against the real CLI.

Blocks are fenced as ```` ```sh runnable ````; each page's blocks share one temporary folder (the
current directory, holding links to the checkout's deployment files) and data folder. Blocks
marked ``stack`` need a deployment (tests/deploy/test_ci_stack.py covers what of them runs here);
blocks marked ``compose`` are compose commands, checked by tests/docs/test_compose_blocks.py.
Blocks marked ``dev`` run the checkout's ``./dev`` script (tests/docs/test_inline_commands.py
checks they name its commands). Plain ```` ```sh ```` blocks are not allowed: every command shown
is marked, in docs/ and in the README.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.docs.blocks import ROOT, SHELL, blocks, doc_files, shell_blocks

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
MARKS = {"runnable", "stack", "compose", "dev"}
# A shell command hiding in a text, YAML or other block: a prompt or one of the platform's tools.
PROMPT = re.compile(r"^\s*(\$ |everest-elearn |docker |\./dev )", re.MULTILINE)


def test_every_block_is_accounted_for() -> None:
    """Every fenced block of docs/ and the README says what it is, and every command is checked:
    shell blocks are runnable, stack, compose or dev; Python is notebook (run by
    test_notebook_blocks); a block of another language shows no shell command."""
    problems = []
    for page in doc_files():
        for block in blocks(page):
            if not block.lang:
                problems.append(f"{block.where}: a fence without a language")
            elif block.lang in SHELL and not block.marks & MARKS:
                problems.append(f"{block.where}: mark it one of {sorted(MARKS)}")
            elif block.lang == "python" and "notebook" not in block.marks:
                problems.append(f"{block.where}: mark it notebook (it is run)")
            elif block.lang not in (*SHELL, "python") and PROMPT.search(block.text):
                problems.append(f"{block.where}: a command in a {block.lang} block")
    assert problems == [], "\n".join(problems)


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


def test_fences_in_lists_and_with_tildes_are_found(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "1. Step:\n\n   ```sh\n   everest-elearn --version\n   ```\n\n~~~\ndocker ps\n~~~\n",
        encoding="utf-8",
    )
    found = [(b.line, b.lang, b.text) for b in blocks(page)]
    assert found == [(3, "sh", "everest-elearn --version\n"), (7, "", "docker ps\n")]
