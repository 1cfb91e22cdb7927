"""``everest-elearn catalogue`` through Typer, locally and against a real agency on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from everest_elearn.cli import app
from tests.fixtures.agency import serve_agency

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "catalogue"
runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"EVEREST_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200"}


def test_ingest_a_folder_reports_rejections_and_exits_1(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["catalogue", "ingest", str(FIXTURES)], env=env)
    assert result.exit_code == 1, result.output
    assert "Ingest report" in result.output
    assert "OData" in result.output and "unknown collection" in result.output
    assert "eodag-mundi_search.xml" in result.output


def test_samples_then_stats_and_search(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["catalogue", "ingest", "--samples"], env=env)
    assert result.exit_code == 0, result.output
    stats = runner.invoke(app, ["catalogue", "stats"], env=env)
    assert stats.exit_code == 0
    assert "sentinel-1-grd" in stats.output and "133" in stats.output and "110" in stats.output
    found = runner.invoke(
        app,
        [
            "catalogue",
            "search",
            "--bbox",
            "-0.78,38.08,-0.74,38.13",
            "--start",
            "2019-09-17",
            "--end",
            "2019-09-18",
            "-c",
            "sentinel-1-grd",
        ],
        env=env,
    )
    assert found.exit_code == 0, found.output
    assert "1 of 1 found" in found.output and "S1A_IW_GRDH_1SDV_20190917" in found.output
    cloudless = runner.invoke(
        app,
        ["catalogue", "search", "-c", "sentinel-2-l2a", "--max-cloud", "1", "-n", "500"],
        env=env,
    )
    assert "found" in cloudless.output and "96.7" not in cloudless.output
    bad = runner.invoke(app, ["catalogue", "search", "--bbox", "1,2,3"], env=env)
    assert bad.exit_code == 2 and "--bbox" in bad.output


def test_stdin_with_a_collection(env: dict[str, str]) -> None:
    runner.invoke(
        app,
        ["catalogue", "ingest", str(FIXTURES / "stac/odc-stac-sentinel-2-l2a.collection.json")],
        env=env,
    )
    atom = (FIXTURES / "opensearch/eodag-mundi_search.xml").read_bytes()
    result = runner.invoke(
        app, ["catalogue", "ingest", "-", "--collection", "sentinel-2-l2a"], input=atom, env=env
    )
    assert result.exit_code == 0, result.output
    assert "│        2 │       2 │" in result.output


@pytest.fixture
def agency(tmp_path: Path) -> Iterator[str]:
    """A real ``everest-elearn serve`` on loopback with an admin token and no samples."""
    env = {
        "EVEREST_SECURITY__ADMIN_TOKEN": "s3cret-admin",
        "EVEREST_CATALOGUE__LOAD_SAMPLES": "false",
    }
    with serve_agency(tmp_path / "agency", env) as url:
        yield url


def test_remote_ingest_with_a_token_from_the_environment(agency: str, env: dict[str, str]) -> None:
    folder = FIXTURES / "stac"
    result = runner.invoke(
        app,
        ["catalogue", "ingest", str(folder), "--url", agency],
        env={**env, "EVEREST_TOKEN": "s3cret-admin"},
    )
    # The collection file is sent first, so the real L2A item finds it; the other names its own.
    assert result.exit_code == 1, result.output
    assert "│        3 │       2 │" in result.output
    assert "sentinel-s2-l2a-cogs" in result.output
    assert "s3cret-admin" not in result.output
    stored = httpx.get(f"{agency}/catalogue/collections").json()
    assert [c["identifier"] for c in stored["collections"]] == ["sentinel-2-l2a"]


def test_remote_with_a_wrong_token_fails_cleanly(agency: str, env: dict[str, str]) -> None:
    result = runner.invoke(
        app,
        ["catalogue", "ingest", str(FIXTURES / "stac"), "--url", agency, "--token", "nope-token"],
        env=env,
    )
    assert result.exit_code != 0
    assert "401" in str(result.exception) and "nope-token" not in str(result.exception)


def test_remote_search_and_stats_go_through_stac(agency: str, env: dict[str, str]) -> None:
    token_env = {**env, "EVEREST_TOKEN": "s3cret-admin"}
    runner.invoke(
        app, ["catalogue", "ingest", str(FIXTURES / "stac"), "--url", agency], env=token_env
    )
    found = runner.invoke(
        app,
        [
            "catalogue",
            "search",
            "--url",
            agency,
            "-c",
            "sentinel-2-l2a",
            "--max-cloud",
            "1",
            "--bbox",
            "-150,60,-146,62",
            "--start",
            "2019-06-01",
            "--end",
            "2019-07-01",
        ],
        env=env,
    )
    assert found.exit_code == 0, found.output
    assert "1 of 1 found" in found.output and "T06VVN" in found.output
    none = runner.invoke(
        app,
        ["catalogue", "search", "--url", agency, "-c", "sentinel-2-l2a", "--max-cloud", "0.1"],
        env=env,
    )
    assert "0 of 0 found" in none.output
    stats = runner.invoke(app, ["catalogue", "stats", "--url", agency], env=env)
    assert stats.exit_code == 0 and "sentinel-2-l2a" in stats.output
    assert "1 collections, 1 products" in stats.output
