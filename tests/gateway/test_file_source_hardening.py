"""A local source opens regular files only, and checks the opened file, not just its name.

A FIFO in the source folder would otherwise block a worker thread until some writer came, and
a device could stream without end; both are refused at once, while regular files still serve.
"""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from everest_elearn.errors import UpstreamError
from everest_elearn.gateway.service import Gateway
from tests.gateway.conftest import product, sha, write_file
from tests.gateway.test_source_kinds import (
    PIPED,
    _has_reader,
    _read,
    _stored,
    sources,
)
from tests.gateway.test_strategies import _settled

__all__ = ["sources"]  # the fixture, imported for use here

REFUSED = "source 'local' does not contain this file"


@pytest.mark.parametrize("strategy", [PIPED, "CACHED"])
async def test_a_fifo_in_the_local_folder_is_refused_without_waiting_for_a_writer(
    sources: tuple[Gateway, Path, Any], tmp_path: Path, strategy: str
) -> None:
    gateway, local, _ = sources
    os.mkfifo(local / "pipe.tif")
    record = product((local / "pipe.tif").as_uri(), identifier="FIFO", productType=strategy)
    try:
        with pytest.raises(UpstreamError, match=f"{REFUSED} \\(not a regular file\\)"):
            # Generous bound: before, the open waited for a writer that never comes.
            await asyncio.wait_for(_read(gateway, record, "pipe.tif"), timeout=20)
    finally:
        # Opening the write end also releases a reader stuck in open, so a failure ends.
        held = _has_reader(local / "pipe.tif")
    assert not held, "the gateway kept the FIFO open"
    await _settled(gateway)
    assert _stored(tmp_path) == []


async def test_a_device_in_the_local_folder_is_refused(
    sources: tuple[Gateway, Path, Any], tmp_path: Path
) -> None:
    gateway, local, _ = sources
    # A symlink to a device leads out of the folder; it is refused before anything is opened.
    (local / "null.tif").symlink_to("/dev/null")
    linked = product((local / "null.tif").as_uri(), identifier="DEVLINK", productType=PIPED)
    with pytest.raises(UpstreamError, match=REFUSED):
        await asyncio.wait_for(_read(gateway, linked, "null.tif"), timeout=20)
    if os.geteuid() == 0:
        # A device node inside the folder passes the name check; the opened file is refused.
        os.mknod(local / "zero.tif", 0o644 | stat.S_IFCHR, os.makedev(1, 5))
        node = product((local / "zero.tif").as_uri(), identifier="DEVNODE", productType=PIPED)
        with pytest.raises(UpstreamError, match=f"{REFUSED} \\(not a regular file\\)"):
            await asyncio.wait_for(_read(gateway, node, "zero.tif"), timeout=20)
    await _settled(gateway)
    assert _stored(tmp_path) == []


@pytest.mark.parametrize("strategy", [PIPED, "CACHED"])
async def test_a_regular_file_and_an_inside_symlink_still_serve(
    sources: tuple[Gateway, Path, Any], strategy: str
) -> None:
    gateway, local, _ = sources
    digest = write_file(local, "T32/r.tif", 700_000, seed=5)
    (local / "link.tif").symlink_to(local / "T32" / "r.tif")
    for n, (href, name) in enumerate(
        [(local / "T32" / "r.tif", "r.tif"), (local / "link.tif", "link.tif")]
    ):
        record = product(
            href.as_uri(), identifier=f"REG{n}", checksum=f"sha256:{digest}", productType=strategy
        )
        assert sha(await asyncio.wait_for(_read(gateway, record, name), timeout=20)) == digest
