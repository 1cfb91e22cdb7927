"""`harvest run SOURCE`: --full finds files listed with an older time than the checkpoint; a failed run exits 1."""

from __future__ import annotations

from pathlib import Path

from tests.harvest.test_files import PYROSAR, S1A
from tests.harvest.test_restart import _cli

SOURCES = """\
sources:
  - name: web
    kind: http
    url: {url}index.txt
    into: s1
"""


def _run(tmp_path: Path, *args: str) -> str:
    process = _cli(tmp_path, "run", "web", *args)
    output = process.communicate(timeout=120)[0].decode()
    assert process.returncode == 0, output
    return output


def test_a_full_run_reads_what_an_incremental_run_cannot_see(
    nginx_tree: str, tmp_path: Path
) -> None:
    (tmp_path / "sources.yaml").write_text(SOURCES.format(url=nginx_tree))
    index = tmp_path / "www" / "index.txt"
    index.write_text(f"S1/GRD/2015/02/{S1A}.zip,1754936,2015-02-22T22:38:00\n")
    assert "Harvest of web: ok" in _run(tmp_path)
    # A provider's index gains a file dated before the checkpoint (copied with its own time).
    index.write_text(index.read_text() + f"rasters/{PYROSAR}.tif,233244,2015-01-01T00:00:00\n")
    incremental = _run(tmp_path)
    # only the entry at the mark is read again; the older one is not seen
    assert "0 new, 1 updated, 0 rejected" in incremental, incremental
    full = _run(tmp_path, "--full")
    # both listed entries read: the GeoTIFF created, the SAFE zip updated, nothing duplicated
    assert "1 new, 1 updated, 0 rejected" in full, full


def test_a_failed_run_exits_1_and_says_why(tmp_path: Path) -> None:
    (tmp_path / "sources.yaml").write_text(
        "sources:\n  - name: web\n    kind: http\n    url: http://127.0.0.1:9/\n"
        "    limits: {retries: 0}\n"
    )
    process = _cli(tmp_path, "run", "web")
    output = process.communicate(timeout=120)[0].decode()
    assert process.returncode == 1, output
    assert "failed" in output and "127.0.0.1:9" in output, output
