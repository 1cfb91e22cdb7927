"""``configure(c, settings)``: the whole JupyterHub configuration, from the one settings object."""

from __future__ import annotations

import base64
import os
import secrets
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from everest_elearn.errors import BackendUnavailable, InvalidInput
from everest_elearn.settings import Settings

COURSES_SERVICE = "courses"
SERVER_TOKEN_SCOPES = [
    "users:activity!user",
    "access:servers!server",
    "read:users:name!user",
    "read:users:groups!user",
]


def hub_paths(settings: Settings) -> dict[str, Path]:
    state = settings.hub.state_dir or settings.data_dir / "hub"
    return {
        "state": state,
        "courses_db": settings.hub.courses_db or settings.data_dir / "courses.sqlite",
        "modules_dir": settings.hub.modules_dir or settings.data_dir / "modules",
    }


def hub_instance(settings: Settings) -> str:
    """This hub's name among hubs on one Docker engine: the setting, else an id kept in its state.

    Random rather than derived from paths: two hubs in containers see the same paths.
    """
    if settings.hub.instance:
        return settings.hub.instance
    path = hub_paths(settings)["state"] / "instance"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f"instance.{os.getpid()}")
        draft.write_text(secrets.token_hex(3) + "\n")
        try:
            os.link(draft, path)  # the first writer wins; never a half-written file
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


def public_url(settings: Settings) -> str:
    return (settings.hub.public_url or f"http://{settings.hub.host}:{settings.hub.port}").rstrip(
        "/"
    )


def hub_api_url(settings: Settings) -> str:
    return f"http://127.0.0.1:{settings.hub.hub_port}/hub/api"


def discover(issuer: str) -> dict[str, Any]:
    """The provider's endpoints from its discovery document (read once, at hub start)."""
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        response = httpx.get(url, timeout=10)
        response.raise_for_status()
    except httpx.HTTPError:
        raise BackendUnavailable(f"the identity provider at {issuer}") from None
    document: dict[str, Any] = response.json()
    return document


def crypt_key(settings: Settings) -> bytes | None:
    if settings.hub.crypt_key is None:
        return None
    text = settings.hub.crypt_key.get_secret_value().strip()
    try:
        key = bytes.fromhex(text) if len(text) == 64 else base64.urlsafe_b64decode(text + "==")
    except ValueError:
        raise InvalidInput("hub.crypt_key", "must be 32 bytes, hex or base64") from None
    if len(key) != 32:
        raise InvalidInput("hub.crypt_key", "must be 32 bytes, hex or base64")
    return key


def configure(c: Any, settings: Settings) -> None:
    """Fill a JupyterHub config object ``c``; nothing here reads the environment."""
    hub = settings.hub
    paths = hub_paths(settings)
    paths["state"].mkdir(parents=True, exist_ok=True)
    paths["modules_dir"].mkdir(parents=True, exist_ok=True)
    base = public_url(settings)

    c.JupyterHub.bind_url = f"http://{hub.host}:{hub.port}"
    c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{hub.hub_port}"
    # Containers share the host's network: they reach the hub on loopback.
    c.JupyterHub.hub_connect_url = f"http://127.0.0.1:{hub.hub_port}"
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{hub.proxy_api_port}"
    c.ConfigurableHTTPProxy.pid_file = str(paths["state"] / "proxy.pid")
    c.JupyterHub.db_url = f"sqlite:///{paths['state'] / 'jupyterhub.sqlite'}"
    c.JupyterHub.cookie_secret_file = str(paths["state"] / "jupyterhub_cookie_secret")
    c.JupyterHub.pid_file = str(paths["state"] / "jupyterhub.pid")
    c.JupyterHub.log_level = settings.log_level
    # Spawns queue in the spawner (with a position shown) instead of the hub's 429 refusal.
    c.JupyterHub.concurrent_spawn_limit = 0
    c.JupyterHub.active_server_limit = hub.active_server_limit

    configure_auth(c, settings, paths)
    configure_spawner(c, settings, paths)
    configure_services(c, settings, paths, base)


def configure_auth(c: Any, settings: Settings, paths: dict[str, Path]) -> None:
    hub = settings.hub
    key = crypt_key(settings)
    if key is not None:
        c.CryptKeeper.keys = [key]
        c.Authenticator.enable_auth_state = True
    if hub.authenticator == "dummy":
        c.JupyterHub.authenticator_class = "dummy"
        c.Authenticator.allow_all = True
        return
    if not hub.oidc_issuer:
        raise InvalidInput("hub.oidc_issuer", "single sign-on needs the provider's issuer URL")
    if hub.oidc_client_secret is None:
        raise InvalidInput("hub.oidc_client_secret", "single sign-on needs the client secret")
    endpoints: dict[str, Any] = {}
    if not (hub.oidc_authorize_url and hub.oidc_token_url and hub.oidc_userinfo_url):
        endpoints = discover(hub.oidc_issuer)
    c.JupyterHub.authenticator_class = "everest-oidc"
    c.Authenticator.auto_login = hub.auto_login
    g = c.GenericOAuthenticator
    g.client_id = hub.oidc_client_id
    g.client_secret = hub.oidc_client_secret.get_secret_value()
    g.oauth_callback_url = public_url(settings) + "/hub/oauth_callback"
    g.authorize_url = hub.oidc_authorize_url or endpoints["authorization_endpoint"]
    g.token_url = hub.oidc_token_url or endpoints["token_endpoint"]
    g.userdata_url = hub.oidc_userinfo_url or endpoints["userinfo_endpoint"]
    g.scope = list(hub.oidc_scopes)
    g.username_claim = hub.oidc_username_claim
    g.enable_pkce = True
    g.login_service = "single sign-on"
    g.manage_groups = True
    c.EverestOAuthenticator.groups_claim = hub.oidc_groups_claim
    c.EverestOAuthenticator.group_roles = dict(hub.group_roles)
    c.EverestOAuthenticator.courses_db = str(paths["courses_db"])
    admin_groups = {g_ for g_, role in hub.group_roles.items() if role == "administrator"}
    if admin_groups:
        g.admin_groups = admin_groups
    if hub.allowed_groups:
        g.allowed_groups = set(hub.allowed_groups)
    else:
        g.allow_all = True


def configure_spawner(c: Any, settings: Settings, paths: dict[str, Path]) -> None:
    hub = settings.hub
    c.Spawner.start_timeout = hub.start_timeout
    c.Spawner.http_timeout = 180
    c.Spawner.default_url = "/lab"
    # The server's own token (JUPYTERHUB_API_TOKEN) calls the Data Agency as the user: the
    # agency asks the hub who owns it, so it carries the user's name and groups, nothing more.
    c.Spawner.server_token_scopes = SERVER_TOKEN_SCOPES
    if hub.spawner == "local":
        from everest_elearn.packages.backends import directory_root

        c.JupyterHub.spawner_class = "everest_elearn.hub.local.LocalCourseSpawner"
        local = c.LocalCourseSpawner
        local.home_dir_template = str(paths["state"] / "homes" / "{username}")
        local.courses_db = str(paths["courses_db"])
        local.modules_dir = str(paths["modules_dir"])
        local.packages_root = str(directory_root(settings))
        local.cmd = [str(Path(sys.executable).parent / "jupyterhub-singleuser")]
        if os.geteuid() == 0:
            # The demo runs servers as the hub's own user; Jupyter refuses root without this.
            local.args = ["--allow-root"]
        return
    c.JupyterHub.spawner_class = "everest"
    s = c.EverestSpawner
    s.image = hub.notebook_image
    s.mem_limit = hub.mem_limit
    s.cpu_limit = hub.cpu_limit
    s.role_limits = dict(hub.role_limits)
    s.courses_db = str(paths["courses_db"])
    s.packages_db = str(settings.packages.state_path or settings.data_dir / "packages.sqlite")
    s.modules_dir = str(paths["modules_dir"])
    s.home_volume_template = hub.home_volume
    s.results_volume_template = hub.results_volume
    s.results_path = settings.packages.results_mount
    s.packages_path = settings.datacube.mount_root
    s.spawn_slots = max(1, hub.concurrent_spawn_limit)
    s.hub_instance = instance = hub_instance(settings)
    # DockerSpawner renders {raw_username} here: the courses service finds a user's container by
    # the owner and hub labels.
    labels = {
        "everest.kind": "notebook",
        "everest.owner": "{raw_username}",
        **hub.container_labels,
        "everest.hub": instance,
    }
    s.extra_create_kwargs = {"labels": labels}
    if hub.agency_url:
        s.agency_url = hub.agency_url
    if hub.docker_url:
        s.client_kwargs = {"base_url": hub.docker_url}
    reader = reader_db_url(settings)
    if reader:
        s.odc_db_url = reader


def reader_db_url(settings: Settings) -> str | None:
    """The ODC database as the read-only role sees it from inside a container."""
    dc = settings.datacube
    if dc.db_url is None:
        return None
    url = httpx.URL(dc.db_url.get_secret_value().replace("postgresql+psycopg2://", "http://", 1))
    password = dc.readonly_password.get_secret_value() if dc.readonly_password else ""
    auth = quote(dc.readonly_role, safe="") + (f":{quote(password, safe='')}" if password else "")
    host = dc.container_db_host or url.host
    port = f":{url.port}" if url.port else ""
    # Keep the query (sslmode, ...): a container connects as `modules validate` does.
    query = f"?{url.query.decode()}" if url.query else ""
    return f"postgresql+psycopg2://{auth}@{host}{port}{url.path}{query}"


def configure_services(c: Any, settings: Settings, paths: dict[str, Path], base: str) -> None:
    hub = settings.hub
    services: list[dict[str, Any]] = [
        {
            "name": COURSES_SERVICE,
            "url": f"http://127.0.0.1:{hub.courses_port}",
            "command": [sys.executable, "-m", "everest_elearn.courses.service_app"],
            "oauth_no_confirm": True,
            "display": True,
            "info": {"description": "Courses, enrolment and feedback"},
            # The service reads the same settings; these pin what it must agree on with the hub.
            "environment": {
                "EVEREST_DATA_DIR": str(settings.data_dir),
                "EVEREST_HUB__COURSES_DB": str(paths["courses_db"]),
                "EVEREST_HUB__COURSES_PORT": str(hub.courses_port),
                "EVEREST_HUB__MODULES_DIR": str(paths["modules_dir"]),
                "EVEREST_HUB__HUB_PORT": str(hub.hub_port),
                "EVEREST_HUB__INSTANCE": hub_instance(settings),
                "EVEREST_HUB__PUBLIC_URL": base,
            },
        }
    ]
    roles: list[dict[str, Any]] = [
        {
            "name": "courses-service",
            # Only what the service needs: read users and groups, start and stop their servers.
            "scopes": [
                "read:users",
                "read:groups",
                "servers",
                "read:servers",
                "admin:server_state",
            ],
            "services": [COURSES_SERVICE],
        },
        {"name": "user", "scopes": ["self", f"access:services!service={COURSES_SERVICE}"]},
    ]
    if hub.idle_timeout > 0:
        services.append(
            {
                "name": "idle-culler",
                "command": [
                    sys.executable,
                    "-m",
                    "jupyterhub_idle_culler",
                    f"--timeout={hub.idle_timeout}",
                    # Look often enough that nobody waits much past the timeout.
                    f"--cull-every={max(5, min(300, hub.idle_timeout // 4))}",
                ],
            }
        )
        roles.append(
            {
                "name": "idle-culler",
                "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
                "services": ["idle-culler"],
            }
        )
    if hub.admin_api_token is not None:
        services.append(
            {"name": "everest-admin", "api_token": hub.admin_api_token.get_secret_value()}
        )
        roles.append({"name": "admin", "services": ["everest-admin"]})
    c.JupyterHub.services = services
    c.JupyterHub.load_roles = roles
