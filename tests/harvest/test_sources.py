"""The sources file: every problem reported with its line; secrets only by name; the CLI check."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from everest_elearn.harvest.sources import SourcesInvalid, parse

GOOD = """\
sources:
  - name: s1-malawi
    kind: stac
    url: https://earth-search.aws.element84.com/v1
    collection: sentinel-1-grd
    area: [32.6, -17.2, 36.0, -9.3]
    time: {start: 2024-01-01, end: 2024-12-31}
    product_type: GRD
    incremental: updated
    schedule: 6h
    auth: bearer
    credential: EARTH_SEARCH_TOKEN
    mirror: true
    limits: {seconds: 10m, pages: 200, response_bytes: 20 MB, records: 5000}
  - name: archive
    kind: s3
    url: s3://eo-archive/sentinel
    into: s1
"""


def test_a_good_file() -> None:
    first, second = parse(GOOD)
    assert (first.name, first.kind, first.target, first.product_type) == (
        "s1-malawi",
        "stac",
        "sentinel-1-grd",
        "GRD",
    )
    assert first.area == (32.6, -17.2, 36.0, -9.3)
    assert first.start == datetime(2024, 1, 1, tzinfo=UTC) and first.schedule == timedelta(hours=6)
    assert (first.limits.seconds, first.limits.pages, first.limits.response_bytes) == (
        600,
        200,
        20_000_000,
    )
    assert first.mirror and first.credential == "EARTH_SEARCH_TOKEN" and first.line == 2
    assert (second.target, second.schedule, second.mirror) == ("s1", None, False)


BAD = """\
sources:
  - name: one
    kind: ftp
    url: https://x.org
  - name: two
    kind: stac
    url: https://user:pw@x.org/stac
    area: [40, 10, 30]
    time: {start: yesterday}
    schedule: often
    password: hunter2
    limits: {pages: -1, size: 3}
  - name: one
    kind: local
    url: /data
  - kind: opensearch
    url: ftp://x.org/description.xml
    auth: basic
"""


def test_every_problem_names_its_line() -> None:
    with pytest.raises(SourcesInvalid) as caught:
        parse(BAD, "sources.yaml")
    problems: dict[int, str] = {}
    for line, message in caught.value.problems:
        problems[line] = problems.get(line, "") + message + " | "
    assert "kind 'ftp' is not one of" in problems[3]
    assert "user or password" in problems[7]
    assert "area must be" in problems[8]
    assert "is not a date" in problems[9]
    assert "schedule" in problems[10]
    assert "secret" in problems[11] and "hunter2" not in str(caught.value)
    assert (
        "limits pages: -1 is not a whole number" in problems[12]
        and "unknown key 'size'" in problems[12]
    )
    assert "already defined on line 2" in problems[13]
    assert "'name' is required" in problems[16]
    assert "must start with http" in problems[17]
    assert "needs 'credential: NAME'" in problems[18]
    assert str(caught.value).startswith("sources.yaml: line 3:")


def test_not_yaml_names_the_line() -> None:
    with pytest.raises(SourcesInvalid) as caught:
        parse("sources:\n  - name: a\n    kind: [stac\n")
    assert caught.value.problems[0][0] in (3, 4) and "not valid YAML" in caught.value.problems[0][1]


def test_check_sources_command(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(GOOD)
    bad.write_text(BAD)
    command = [sys.executable, "-m", "everest_elearn.cli", "harvest", "check-sources"]
    ok = subprocess.run([*command, str(good)], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0 and "s1-malawi" in ok.stdout and "every 6:00:00" in ok.stdout
    failed = subprocess.run([*command, str(bad)], capture_output=True, text=True, timeout=120)
    assert failed.returncode == 1
    assert f"{bad}:3" in failed.stdout.replace("\n", "") and "hunter2" not in failed.stdout
