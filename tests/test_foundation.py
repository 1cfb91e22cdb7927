"""The foundation: settings from the environment, the app factory, the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from everest_elearn import __version__
from everest_elearn.api import create_app
from everest_elearn.settings import Settings


def test_settings_read_nested_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("EVEREST_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("EVEREST_CATALOGUE__BACKEND", "elasticsearch")
    monkeypatch.setenv("EVEREST_API__PORT", "9999")
    settings = Settings()
    assert settings.data_dir == tmp_path
    assert settings.catalogue.backend == "elasticsearch"
    assert settings.api.port == 9999
    assert settings.catalogue_sqlite_path == tmp_path / "catalogue.sqlite"


def test_settings_file_is_read_and_environment_wins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "everest.yaml"
    config.write_text("api:\n  port: 8123\n  host: 127.0.0.2\n")
    monkeypatch.setenv("EVEREST_CONFIG_FILE", str(config))
    monkeypatch.setenv("EVEREST_API__HOST", "127.0.0.1")
    settings = Settings()
    assert settings.api.port == 8123
    assert settings.api.host == "127.0.0.1"


def test_settings_reject_unknown_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVEREST_CATALOGUE__BACKEND", "mongodb")
    with pytest.raises(ValueError, match="backend"):
        Settings()


async def test_health_answers(settings: Settings) -> None:
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://agency") as client:
        response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": __version__}


def test_cli_version() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "everest_elearn.cli", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == __version__
