"""docker-compose.yml: validated by docker-compose itself, secrets required, settings that parse."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.compose import (
    COMPOSE_FILE,
    ENV_EXAMPLE,
    ROOT,
    compose,
    env_file_values,
    filled_env,
    rendered,
)

REQUIRED = re.compile(r"\$\{([A-Z0-9_]+):\?")
LONG_RUNNING = {"postgres", "elasticsearch", "minio", "keycloak", "agency", "hub"}
PROJECT_IMAGES = {"agency", "hub", "notebook"}


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    tmp = tmp_path_factory.mktemp("compose")
    return rendered(tmp, filled_env(tmp), "build")


def test_validates_with_every_secret_filled(config: dict[str, object]) -> None:
    services = config["services"]
    assert isinstance(services, dict)
    assert set(services) == LONG_RUNNING | {"minio-init", "notebook"}


def test_refuses_to_start_while_a_secret_is_empty(tmp_path: Path) -> None:
    done = compose(tmp_path, ENV_EXAMPLE, "config", "-q")
    assert done.returncode != 0
    assert "in .env" in done.stderr  # the message says which variable and where to set it


def test_a_single_missing_secret_is_named(tmp_path: Path) -> None:
    env = filled_env(tmp_path, {"ELASTIC_PASSWORD": ""})
    done = compose(tmp_path, env, "config", "-q")
    assert done.returncode != 0
    assert "set ELASTIC_PASSWORD in .env" in done.stderr


def test_every_required_variable_is_in_env_example_and_empty_there() -> None:
    required = set(REQUIRED.findall(COMPOSE_FILE.read_text()))
    example = env_file_values(ENV_EXAMPLE)
    assert required <= set(example), required - set(example)
    assert all(example[name] == "" for name in required), "no default secret may be committed"
    made = env_file_values_from_make_env()
    addresses = {"EVEREST_PUBLIC_URL", "KEYCLOAK_URL", "DOCKER_GID"}
    assert required - addresses <= set(made), (required - addresses) - set(made)


def env_file_values_from_make_env() -> dict[str, str]:
    out = subprocess.run(
        ["sh", str(ROOT / "deploy" / "make-env.sh")], capture_output=True, text=True, check=True
    ).stdout
    values = dict(line.split("=", 1) for line in out.splitlines())
    assert len(values["EVEREST_HUB_CRYPT_KEY"]) == 64  # 32 bytes in hex, as the hub checks
    return values


def test_health_checks_restart_policies_and_named_volumes(config: dict[str, object]) -> None:
    services = config["services"]
    assert isinstance(services, dict)
    named = set(config["volumes"])  # type: ignore[arg-type]
    used: set[str] = set()
    for name in LONG_RUNNING:
        service = services[name]
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
        assert service.get("restart") == "unless-stopped", name
        assert service.get("network_mode") == "host", name
        for volume in service.get("volumes", []):
            source, _target, *mode = volume.split(":")
            if not source.startswith("/"):
                used.add(source)
            else:  # bind mounts: configuration, the Docker socket, provider secrets only
                assert mode == ["ro"] or source.endswith("docker.sock"), volume
    assert used == named, f"unused or undeclared volumes: {used ^ named}"


def test_vendor_images_pinned_project_images_built_from_base_argument(
    config: dict[str, object],
) -> None:
    services = config["services"]
    assert isinstance(services, dict)
    for name, service in services.items():
        if name in PROJECT_IMAGES:
            assert service["image"].startswith(f"everest/{name}:")
            assert service["build"]["args"]["BASE_IMAGE"] == "python:3.11-slim-bookworm"
            assert (ROOT / "docker" / name / "Dockerfile").read_text().count("ARG BASE_IMAGE")
        else:
            tag = service["image"].rsplit(":", 1)[-1]
            assert tag not in ("latest", service["image"]), f"{name} image is not pinned"
    assert "build" in services["notebook"]["profiles"]


def test_every_everest_variable_is_a_setting_the_services_accept(
    config: dict[str, object],
) -> None:
    services = config["services"]
    assert isinstance(services, dict)
    for name in ("agency", "hub"):
        env = {k: str(v) for k, v in services[name]["environment"].items()}
        assert all(k.startswith("EVEREST_") for k in env), name
        dumped = settings_as_service_sees_them(env)
        if name == "agency":
            assert dumped["catalogue"]["backend"] == "elasticsearch"
            assert dumped["gateway"]["store"] == "s3"
            assert dumped["packages"]["volumes"] == "docker"
        else:
            roles = dumped["hub"]["group_roles"]
            assert roles["everest-admins"] == "administrator"
            assert dumped["hub"]["oidc_issuer"].endswith("/realms/everest")


def settings_as_service_sees_them(env: dict[str, str]) -> dict[str, dict[str, object]]:
    # A fresh interpreter reads exactly this environment, as the container's edge does.
    code = (
        "from everest_elearn.settings import load_settings; "
        "print(load_settings().model_dump_json())"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={"PATH": "/usr/bin:/bin", "HOME": "/tmp", **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    loaded: dict[str, dict[str, object]] = json.loads(done.stdout)
    return loaded
