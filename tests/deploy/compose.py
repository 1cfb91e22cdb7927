"""Helpers for the deployment tests: render docker-compose.yml with the real validator."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
ADDRESSES = {
    "EVEREST_PUBLIC_URL": "https://hub.example.org",
    "KEYCLOAK_URL": "https://login.example.org",
    "DOCKER_GID": "999",
}


def compose_cli() -> str:
    """docker-compose (Debian's package); the suite fails loudly without it."""
    found = shutil.which("docker-compose")
    assert found, (
        "docker-compose is needed to validate the compose file (apt-get install docker-compose)"
    )
    return found


def project_dir(tmp: Path) -> Path:
    """A project directory whose build contexts exist (the validator checks they do)."""
    for name in ("agency", "hub", "notebook"):
        (tmp / "deploy" / "build" / name).mkdir(parents=True, exist_ok=True)
    return tmp


def filled_env(tmp: Path, extra: dict[str, str] | None = None) -> Path:
    """.env.example followed by deploy/make-env.sh's secrets and test addresses."""
    secrets = subprocess.run(
        ["sh", str(ROOT / "deploy" / "make-env.sh")], capture_output=True, text=True, check=True
    ).stdout
    lines = [ENV_EXAMPLE.read_text(), secrets]
    lines += [f"{k}={v}" for k, v in {**ADDRESSES, **(extra or {})}.items()]
    env = tmp / ".env"
    env.write_text("\n".join(lines) + "\n")
    return env


def compose(tmp: Path, env_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            compose_cli(),
            "--project-directory",
            str(project_dir(tmp)),
            "--env-file",
            str(env_file),
            "-f",
            str(COMPOSE_FILE),
            *args,
        ],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp)},
    )


def rendered(tmp: Path, env_file: Path, *profiles: str) -> dict[str, Any]:
    flags = [f for p in profiles for f in ("--profile", p)]
    done = compose(tmp, env_file, *flags, "config")
    assert done.returncode == 0, done.stderr
    config: dict[str, Any] = yaml.safe_load(done.stdout)
    return config


def env_file_values(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def health_check(service: str, tmp: Path) -> list[str]:
    """The ``healthcheck`` command compose gives ``service`` (a ``CMD`` list, ``CMD`` dropped)."""
    config = rendered(tmp, filled_env(tmp))
    test: list[str] = config["services"][service]["healthcheck"]["test"]
    assert test[0] == "CMD", test
    return test[1:]
