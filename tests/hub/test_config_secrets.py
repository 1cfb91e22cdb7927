"""The hub's secrets come from the environment or secret files, never from the configuration."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from traitlets.config import Config

from everest_elearn.errors import InvalidInput
from everest_elearn.hub.config import configure
from everest_elearn.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
KEY = "ab" * 32


def hub_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Config:
    """The hub configuration as ``hub_config/jupyterhub_config.py`` makes it here."""
    monkeypatch.setenv("EVEREST_DATA_DIR", str(tmp_path / "data"))
    for name in ("AUTHORIZE_URL", "TOKEN_URL", "USERINFO_URL"):  # no discovery needed
        monkeypatch.setenv(f"EVEREST_HUB__OIDC_{name}", f"http://127.0.0.1:9/{name.lower()}")
    monkeypatch.setenv("EVEREST_HUB__OIDC_ISSUER", "http://127.0.0.1:9")
    c = Config()
    configure(c, load_settings())
    return c


def test_secrets_are_read_from_files_in_the_secrets_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "secrets"
    folder.mkdir()
    # Files as orchestrators mount them: one per secret, often ending in a newline.
    (folder / "EVEREST_HUB__OIDC_CLIENT_SECRET").write_text("from-a-file\n")
    (folder / "EVEREST_HUB__CRYPT_KEY").write_text(KEY + "\n")
    (folder / "EVEREST_HUB__ADMIN_API_TOKEN").write_text("admin-token-from-a-file")
    monkeypatch.setenv("EVEREST_SECRETS_DIR", str(folder))
    c = hub_config(tmp_path, monkeypatch)
    assert c.GenericOAuthenticator.client_secret == "from-a-file"
    assert c.CryptKeeper["keys"] == [bytes.fromhex(KEY)]
    assert c.Authenticator.enable_auth_state is True
    admin = next(s for s in c.JupyterHub.services if s["name"] == "everest-admin")
    assert admin["api_token"] == "admin-token-from-a-file"


def test_the_environment_wins_over_a_file_and_the_config_file_still_counts_for_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "secrets"
    folder.mkdir()
    (folder / "EVEREST_HUB__OIDC_CLIENT_SECRET").write_text("from-a-file")
    (folder / "EVEREST_HUB__ADMIN_API_TOKEN").write_text("admin-from-a-file")
    config = tmp_path / "everest.yaml"
    config.write_text("hub:\n  port: 8900\n")
    monkeypatch.setenv("EVEREST_SECRETS_DIR", str(folder))
    monkeypatch.setenv("EVEREST_CONFIG_FILE", str(config))
    monkeypatch.setenv("EVEREST_HUB__ADMIN_API_TOKEN", "admin-from-the-environment")
    c = hub_config(tmp_path, monkeypatch)
    assert c.GenericOAuthenticator.client_secret == "from-a-file"
    admin = next(s for s in c.JupyterHub.services if s["name"] == "everest-admin")
    assert admin["api_token"] == "admin-from-the-environment"
    assert c.JupyterHub.bind_url.endswith(":8900")


def test_a_secret_in_the_config_file_is_refused_naming_the_key_not_the_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "everest.yaml"
    config.write_text(
        "hub:\n  port: 8900\n  oidc_client_secret: yaml-secret-value\n"
        "datacube:\n  db_url: postgresql://odc:yaml-db-password@127.0.0.1/odc\n"
    )
    monkeypatch.setenv("EVEREST_CONFIG_FILE", str(config))
    # Even with the same secret in the environment: the file must not hold it.
    monkeypatch.setenv("EVEREST_HUB__OIDC_CLIENT_SECRET", "from-the-environment")
    with pytest.raises(InvalidInput) as refused:
        load_settings()
    said = str(refused.value)
    assert str(config) in said
    assert "hub.oidc_client_secret" in said and "datacube.db_url" in said
    assert "EVEREST_HUB__OIDC_CLIENT_SECRET" in said and "EVEREST_SECRETS_DIR" in said
    assert "yaml-secret-value" not in said and "yaml-db-password" not in said
    # The command line says the same in one line, and fails.
    result = subprocess.run(
        [sys.executable, "-m", "everest_elearn.cli", "courses", "list"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1
    assert "hub.oidc_client_secret" in result.stderr and str(config) in result.stderr
    assert "yaml-secret-value" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_secrets_still_come_from_the_environment_beside_a_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "everest.yaml"
    config.write_text("hub:\n  port: 8900\n")
    monkeypatch.setenv("EVEREST_CONFIG_FILE", str(config))
    monkeypatch.setenv("EVEREST_HUB__OIDC_CLIENT_SECRET", "from-the-environment")
    c = hub_config(tmp_path, monkeypatch)
    assert c.GenericOAuthenticator.client_secret == "from-the-environment"
    assert c.JupyterHub.bind_url.endswith(":8900")


def test_a_missing_secrets_folder_is_an_error_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVEREST_SECRETS_DIR", str(tmp_path / "absent"))
    with pytest.raises(Exception, match="absent"):
        load_settings()


def test_the_hub_configuration_file_holds_no_values() -> None:
    """hub_config/ (kept in a repository) only hands the settings to configure()."""
    assert sorted(p.name for p in (ROOT / "hub_config").iterdir() if p.is_file()) == [
        "jupyterhub_config.py"
    ]
    tree = ast.parse((ROOT / "hub_config" / "jupyterhub_config.py").read_text())
    constants = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)]
    assert constants == [ast.get_docstring(tree, clean=False)]
