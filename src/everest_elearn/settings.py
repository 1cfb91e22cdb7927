"""The one settings object: environment variables ``EVEREST_...`` (``__`` nests) and an optional file.

Read once at an edge (app factory, CLI, ``hub_config/jupyterhub_config.py``) and passed down typed;
nothing else in the package reads the environment.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    NestedSecretsSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from everest_elearn.config_file import SecretFreeYamlSource


def default_data_dir() -> Path:
    """A per-user data folder, following the XDG convention."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "everest-elearn"


class ApiSettings(BaseModel):
    """Where the Data Agency listens and how it names itself in links."""

    host: str = "127.0.0.1"
    port: int = 8000
    # Absolute base URL used in links when the agency sits behind a proxy; None = from the request.
    public_url: str | None = None
    # Longest request URI accepted before answering 414 (CEOS BP-005).
    max_uri_length: int = 8192


class CatalogueSettings(BaseModel):
    """Which catalogue backend to use and how to reach it."""

    backend: Literal["sqlite", "elasticsearch"] = "sqlite"
    # Embedded backend file; None = <data_dir>/catalogue.sqlite.
    sqlite_path: Path | None = None
    elasticsearch_url: str = "http://127.0.0.1:9200"
    elasticsearch_username: str | None = None
    elasticsearch_password: SecretStr | None = None
    # Which client speaks to the engine: "auto" asks the server (GET /) once at open.
    elasticsearch_flavour: Literal["auto", "elasticsearch", "opensearch"] = "auto"
    elasticsearch_ca_certs: Path | None = None
    elasticsearch_timeout: float = 10.0
    # Deepest from+size served directly (also set as index.max_result_window); deeper pages
    # are reached by search_after steps of this size.
    elasticsearch_max_window: int = 10_000
    # Products in one collection's base index before new products go to per-year indices.
    elasticsearch_partition_threshold: int = 2_000_000
    # "engine": trust geo_shape relations (Elasticsearch, OpenSearch); "refine": bbox candidates
    # from the engine, exact relation with shapely (engines with approximate geo_shape, osmem).
    elasticsearch_geometry_check: Literal["engine", "refine"] = "engine"
    elasticsearch_facet_size: int = 200
    # Bulk refresh policy: "wait_for" makes writes visible to the next search.
    elasticsearch_refresh: Literal["true", "wait_for", "false"] = "wait_for"
    index_prefix: str = "everest"
    # Upper bound on exact hit counting; beyond it totals are reported as a lower bound.
    track_total_hits: int = 100_000
    default_count: int = 10
    # Larger OpenSearch ``count`` values are clamped to this (itemsPerPage says so).
    max_count: int = 500
    # Contact and attribution written in the OpenSearch description documents.
    opensearch_contact: str = "catalogue@everest-elearn.invalid"
    opensearch_attribution: str = (
        "Metadata: the data providers; service: the everest-elearn project"
    )
    # Load the bundled sample catalogue into an empty embedded catalogue at start.
    load_samples: bool = True
    # Data host of the samples' generated products (placeholder ``.invalid`` host when None).
    samples_base_url: str | None = None
    # Largest document ``POST /catalogue/ingest`` accepts, in bytes; larger ones answer 413.
    ingest_max_bytes: int = 50_000_000


class SecuritySettings(BaseModel):
    """Tokens that grant write access to the agency. Empty means no such principal."""

    admin_token: SecretStr | None = None
    agent_token: SecretStr | None = None
    # Hub API URL used to resolve hub-issued tokens (wired by the hub issue).
    hub_api_url: str | None = None
    # The identity provider's userinfo endpoint: its access tokens (handed to users' servers
    # from the hub's auth_state) identify users; claims and roles as in the hub section.
    provider_userinfo_url: str | None = None


class GatewaySettings(BaseModel):
    """The data gateway: rules file, object store, cache budget (issue: gateway)."""

    # Rules file (YAML); None = <data_dir>/gateway-rules.yaml, created with safe defaults.
    rules_file: Path | None = None
    store: Literal["local", "s3"] = "local"
    # Seconds between checks of the rules file for changes.
    reload_interval: float = 2.0
    # Local object store folder; None = <data_dir>/gateway/store.
    store_dir: Path | None = None
    # Downloads in progress (same file system as store_dir, so promotion is a rename).
    spool_dir: Path | None = None
    s3_bucket: str = "everest-gateway"
    s3_prefix: str = ""
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    s3_multipart_threshold: int = 64 * 1024 * 1024
    s3_multipart_chunksize: int = 16 * 1024 * 1024
    # Provider credentials named in the rules: a file <secrets_dir>/<NAME>, else variable NAME.
    secrets_dir: Path | None = None
    # Seconds without progress before a provider counts as stalled.
    upstream_timeout: float = 60.0
    # Send stored files with sendfile (no copy) instead of read + write through a buffer: pays
    # for clients across a network card; on loopback (the hub's containers) copying is faster.
    zero_copy: bool = False


class PackagesSettings(BaseModel):
    """Data packages: where volumes live and how they are indexed (issue: packages)."""

    # "auto": Docker volumes when an engine answers, else plain directories (and it says so).
    volumes: Literal["auto", "docker", "directory"] = "auto"
    # Docker engine URL; None = the local socket.
    docker_url: str | None = None
    # With an engine on this host: read and write volumes through their mount points (as root),
    # not through the engine's archive API. False forces the API path a remote engine takes.
    host_access: bool = True
    # Directory backend root; None = <data_dir>/volumes.
    directory: Path | None = None
    # Package registry (SQLite); None = <data_dir>/packages.sqlite.
    state_path: Path | None = None
    # Where a user's results volume is mounted in their container.
    results_mount: str = "/home/jovyan/results"
    # Where shares granted to a user are mounted (<shares_mount>/<share>; the hub's shared_path):
    # the ODC entries of a share's GeoTIFFs point there.
    shares_mount: str = "/home/jovyan/shared"
    # Largest package a spec may ask for, in bytes (guards against impossible sizes).
    max_package_bytes: int = 2 * 1024**4
    # Interrupted builds found at start: resume them on the next build, or clean them up now.
    on_interrupted: Literal["resume", "cleanup"] = "resume"
    # Files written into a volume per engine request before progress is made durable.
    flush_bytes: int = 512 * 1024**2
    # Hash files taken from the gateway's local store again while copying them into a volume
    # (the gateway hashed them when it kept them and checked the catalogue's checksum).
    verify_cached: bool = False


class DatacubeSettings(BaseModel):
    """The Open Data Cube index (PostgreSQL) used by packages and notebooks."""

    # Owner's URL (creates products, indexes datasets): postgresql+psycopg2://user:pw@host:port/db.
    db_url: SecretStr | None = None
    # Login role the notebook containers use: it can read the index, never write it.
    readonly_role: str = "everest_reader"
    readonly_password: SecretStr | None = None
    # Host the containers reach the database on (host networking: usually the same host).
    container_db_host: str | None = None
    # Where containers mount packages; eo3 documents point at <mount_root>/<package>/...
    mount_root: str = "/home/jovyan/data"


class ImagesSettings(BaseModel):
    """Building the Docker images (notebook, agency, hub) without a registry."""

    # "auto": the public python:3.11-slim-bookworm when present locally, else the local Debian
    # base (docker/base/build.sh); or any image reference.
    base_image: str = "auto"
    tag: str = "latest"
    # Slow things cached outside the checkout (base rootfs tarball); optional.
    cache_dir: Path = Path("/var/cache/everest")
    # Extra CA bundle trusted by pip inside builds (a proxy's certificate); None = none.
    extra_ca_file: Path | None = Path("/etc/ssl/certs/ca-certificates.crt")
    # Checkout holding docker/ and src/; None = the one this package is installed from.
    project_dir: Path | None = None


class HubSettings(BaseModel):
    """The JupyterHub edge: spawner, OIDC, courses service (issue: hub)."""

    notebook_image: str = "everest/notebook:latest"
    # Where participants' browsers reach the hub (the proxy), and the hub's own API port.
    host: str = "127.0.0.1"
    port: int = 8800
    hub_port: int = 8801
    proxy_api_port: int = 8802
    courses_port: int = 8803
    # Public base URL when behind another proxy; None = http://<host>:<port>.
    public_url: str | None = None
    # Hub state (database, cookie secret, proxy token); None = <data_dir>/hub.
    state_dir: Path | None = None
    # "oidc": GenericOAuthenticator against oidc_issuer; "dummy": local demo only (no real login).
    authenticator: Literal["oidc", "dummy"] = "oidc"
    oidc_issuer: str | None = None
    # Endpoints; None = from <issuer>/.well-known/openid-configuration at start.
    oidc_authorize_url: str | None = None
    oidc_token_url: str | None = None
    oidc_userinfo_url: str | None = None
    oidc_client_id: str = "everest-hub"
    oidc_client_secret: SecretStr | None = None
    oidc_scopes: list[str] = Field(default_factory=lambda: ["openid", "profile", "email", "groups"])
    oidc_username_claim: str = "preferred_username"
    oidc_groups_claim: str = "groups"
    # Identity-provider group -> platform role (administrator, course-manager, module-developer,
    # participant). Users in none of them are participants.
    group_roles: dict[str, str] = Field(default_factory=dict)
    # Only members of these provider groups may log in; empty = everyone the provider knows.
    allowed_groups: list[str] = Field(default_factory=list)
    # Encrypts auth_state (like JUPYTERHUB_CRYPT_KEY): 32 bytes, hex or base64.
    crypt_key: SecretStr | None = None
    # "docker": one container per user; "local": local processes (no Docker engine; demo only).
    spawner: Literal["docker", "local"] = "docker"
    docker_url: str | None = None
    mem_limit: str | None = "4G"
    cpu_limit: float | None = 2.0
    # Per role overrides: {"module-developer": {"image": ..., "mem_limit": "8G", "cpu_limit": 4}}.
    role_limits: dict[str, dict[str, str | float]] = Field(default_factory=dict)
    home_volume: str = "everest-home-{username}"
    # {slug}: the packages service's name for the user (so both agree on the results volume).
    results_volume: str = "everest-results-{slug}"
    # Servers idle this long (seconds) are stopped; 0 = never.
    idle_timeout: int = 3600
    # Spawns in flight at once; later ones wait with their queue position shown.
    concurrent_spawn_limit: int = 20
    active_server_limit: int = 0
    start_timeout: int = 300
    # Courses, enrolments, feedback (SQLite); None = <data_dir>/courses.sqlite.
    courses_db: Path | None = None
    # Module repositories: a folder of bare git repositories; None = <data_dir>/modules.
    modules_dir: Path | None = None
    # Where the Data Agency is reached from containers (they call it as the user).
    agency_url: str | None = None
    # Token of the "everest-admin" hub service (CLI and operators call the hub API with it).
    admin_api_token: SecretStr | None = None
    # Opening the hub goes straight to the provider's login page.
    auto_login: bool = True
    # Labels put on every notebook container (operators find them by these).
    container_labels: dict[str, str] = Field(default_factory=dict)
    # This hub among hubs sharing one Docker engine: its containers are named
    # everest-<instance>-<user> and labelled everest.hub=<instance>, so one hub never stops or
    # adopts another's. None = a random id made at first start, kept in the state folder.
    instance: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]{0,23}$")


class HarvestSettings(BaseModel):
    """Harvest sources and the data agent (issue: harvesters)."""

    # Sources file (YAML) administrators edit; None = <data_dir>/harvest-sources.yaml.
    sources_file: Path | None = None
    # Checkpoints, status and last errors per source (SQLite); None = <data_dir>/harvest.sqlite.
    state_path: Path | None = None
    # Run the agent's scheduler inside the Data Agency process.
    agent_enabled: bool = True
    # Seconds between the scheduler's looks at which source is due.
    tick: float = 5.0
    # Source credentials named in the sources file: a file <secrets_dir>/<NAME>, else variable NAME.
    secrets_dir: Path | None = None
    # Defaults of the per-source limits (each source may lower or raise them).
    max_seconds: float = 900.0
    max_pages: int = 1000
    max_response_bytes: int = 32 * 1024 * 1024
    max_records: int = 100_000
    request_timeout: float = 60.0
    retries: int = 3
    # First retry delay in seconds; doubles per attempt up to backoff_max.
    backoff: float = 1.0
    backoff_max: float = 300.0


class BackupSettings(BaseModel):
    """Backups and restores of the platform's state (issue: deployment)."""

    # Folder holding pg_dump and pg_restore; None = found on PATH.
    pg_bin: Path | None = None
    # Volumes whose files are backed up, by their everest.kind label (package volumes are rebuilt
    # from the catalogue and the gateway, so they are left out unless named here).
    volume_kinds: list[str] = Field(default_factory=lambda: ["results", "share"])
    # Also copy the gateway's cache (refetchable from the providers); the mirror is always copied.
    include_cache: bool = False


class Settings(BaseSettings):
    """Everything configurable about everest-elearn."""

    model_config = SettingsConfigDict(
        env_prefix="EVEREST_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    data_dir: Path = Field(default_factory=default_data_dir)
    log_level: str = "INFO"
    api: ApiSettings = Field(default_factory=ApiSettings)
    catalogue: CatalogueSettings = Field(default_factory=CatalogueSettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    gateway: GatewaySettings = Field(default_factory=GatewaySettings)
    packages: PackagesSettings = Field(default_factory=PackagesSettings)
    datacube: DatacubeSettings = Field(default_factory=DatacubeSettings)
    images: ImagesSettings = Field(default_factory=ImagesSettings)
    hub: HubSettings = Field(default_factory=HubSettings)
    harvest: HarvestSettings = Field(default_factory=HarvestSettings)
    backup: BackupSettings = Field(default_factory=BackupSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Precedence: explicit arguments, environment, secret files, then the optional YAML
        # file. EVEREST_SECRETS_DIR holds one file per secret, named like its variable
        # (EVEREST_HUB__CRYPT_KEY): secrets stay out of the configuration a repository keeps,
        # and the YAML file refuses them (config_file.py).
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        secrets_dir = os.environ.get("EVEREST_SECRETS_DIR")
        if secrets_dir:
            sources.append(
                NestedSecretsSettingsSource(
                    file_secret_settings, secrets_dir=secrets_dir, secrets_dir_missing="error"
                )
            )
        config_file = os.environ.get("EVEREST_CONFIG_FILE")
        if config_file:
            sources.append(SecretFreeYamlSource(settings_cls, yaml_file=config_file))
        return tuple(sources)

    @property
    def catalogue_sqlite_path(self) -> Path:
        return self.catalogue.sqlite_path or self.data_dir / "catalogue.sqlite"


def load_settings(**overrides: Any) -> Settings:
    """Build the settings from the environment and the optional file; for the edges only."""
    return Settings(**overrides)
