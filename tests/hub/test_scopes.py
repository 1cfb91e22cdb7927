"""Every token the hub configuration hands out carries only the scopes its holder needs."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr
from traitlets.config import Config

from everest_elearn.hub.config import configure
from everest_elearn.settings import HubSettings, Settings


def roles(tmp_path: Path, **hub: object) -> dict[str, dict[str, object]]:
    c = Config()
    settings = Settings(data_dir=tmp_path, hub=HubSettings(authenticator="dummy", **hub))
    configure(c, settings)
    return {r["name"]: r for r in c.JupyterHub.load_roles}


def test_services_get_only_what_they_call(tmp_path: Path) -> None:
    loaded = roles(tmp_path, idle_timeout=600)
    # The courses service reads users and groups, starts and stops their servers and reads
    # what the spawner noted (the course and image a server runs); no admin, no tokens.
    assert sorted(loaded["courses-service"]["scopes"]) == [  # type: ignore[call-overload]
        "admin:server_state",
        "read:groups",
        "read:servers",
        "read:users",
        "servers",
    ]
    assert loaded["courses-service"]["services"] == ["courses"]
    # The culler lists users and their activity and stops servers; nothing else.
    assert sorted(loaded["idle-culler"]["scopes"]) == [  # type: ignore[call-overload]
        "delete:servers",
        "list:users",
        "read:servers",
        "read:users:activity",
    ]
    # Users: themselves and the courses service, not other users' servers.
    assert loaded["user"]["scopes"] == ["self", "access:services!service=courses"]


def test_the_admin_service_exists_only_with_a_configured_token(tmp_path: Path) -> None:
    assert "admin" not in roles(tmp_path)
    with_token = roles(tmp_path / "b", admin_api_token=SecretStr("t" * 32))
    assert with_token["admin"]["services"] == ["everest-admin"]


def test_no_culler_without_an_idle_timeout(tmp_path: Path) -> None:
    assert "idle-culler" not in roles(tmp_path, idle_timeout=0)
