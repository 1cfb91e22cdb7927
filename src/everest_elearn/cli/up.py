"""``everest-elearn up``: the Data Agency and the hub together, on embedded defaults, with a demo course."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import typer

from everest_elearn.courses.backends.sqlite import SqliteCourseStore
from everest_elearn.courses.model import Course, ModulePin
from everest_elearn.courses.service import CourseService
from everest_elearn.errors import Conflict
from everest_elearn.modules.repository import ModuleRepository
from everest_elearn.settings import Settings, load_settings

WELCOME = """{"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# Welcome\\n",
"Your course's data packages are under `~/data` (read-only); keep what you make in `~/results`."]}],
"metadata": {}, "nbformat": 4, "nbformat_minor": 5}
"""


def docker_engine(settings: Settings) -> str | None:
    """Why there is no usable Docker engine, or None when there is one."""
    try:
        from docker.client import DockerClient

        client = DockerClient(base_url=settings.hub.docker_url or "unix:///var/run/docker.sock")
        client.ping()
        client.close()
    except Exception as error:  # any failure means: no engine to use
        return f"no Docker engine ({type(error).__name__})"
    return None


def seed_module(bare: Path) -> None:
    """A first commit written with git plumbing: no working copy needed."""
    env = {**os.environ, "GIT_AUTHOR_NAME": "everest", "GIT_AUTHOR_EMAIL": "everest@localhost",
           "GIT_COMMITTER_NAME": "everest", "GIT_COMMITTER_EMAIL": "everest@localhost"}  # fmt: skip
    git = ["git", "--git-dir", str(bare)]
    blob = subprocess.run([*git, "hash-object", "-w", "--stdin"], input=WELCOME, text=True,
                          capture_output=True, check=True).stdout.strip()  # fmt: skip
    tree = subprocess.run([*git, "mktree"], input=f"100644 blob {blob}\twelcome.ipynb\n",
                          text=True, capture_output=True, check=True).stdout.strip()  # fmt: skip
    commit = subprocess.run([*git, "commit-tree", tree, "-m", "Welcome module"], env=env,
                            text=True, capture_output=True, check=True).stdout.strip()  # fmt: skip
    subprocess.run([*git, "update-ref", "refs/heads/main", commit], check=True)


async def demo_course(settings: Settings) -> None:
    """A demo course with a welcome module, made once (kept as edited afterwards)."""
    modules = ModuleRepository(settings.hub.modules_dir or settings.data_dir / "modules")
    bare = await modules.create("welcome")
    if not (bare / "refs" / "heads" / "main").exists():
        await asyncio.to_thread(seed_module, bare)
    service = CourseService(
        SqliteCourseStore(settings.hub.courses_db or settings.data_dir / "courses.sqlite")
    )
    try:
        await service.create(Course("demo", "Demo course", modules=(ModulePin("welcome"),)))
        await service.enrol("demo", ["demo"])
    except Conflict:
        pass


def wait_for(
    url: str, process: subprocess.Popen[bytes], exact: bool = False, seconds: float = 120
) -> None:
    """Until ``url`` answers (200 when ``exact``: the proxy answers 404 before the hub is in)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise typer.Exit(1)
        try:
            status = httpx.get(url, timeout=2).status_code
            if status == 200 or (not exact and status < 500):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    @app.command()
    def up() -> None:
        """Start the Data Agency and the hub with a demo course; Ctrl-C stops both."""

        def stop(signum: int, frame: object) -> None:
            raise KeyboardInterrupt  # SIGTERM too stops both children, not only this process

        signal.signal(signal.SIGTERM, stop)
        settings = load_settings()
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        notes = []
        missing = docker_engine(settings)
        if missing:
            env["EVEREST_HUB__SPAWNER"] = "local"
            env["EVEREST_PACKAGES__VOLUMES"] = "directory"
            notes.append(
                f"{missing}: servers run as local processes, packages are read-only folders"
            )
        if not settings.hub.oidc_issuer and settings.hub.authenticator == "oidc":
            env["EVEREST_HUB__AUTHENTICATOR"] = "dummy"
            notes.append(
                "no identity provider configured: demo sign-in (any name, no password); loopback only"
            )
        if settings.hub.admin_api_token is None:
            env["EVEREST_HUB__ADMIN_API_TOKEN"] = secrets.token_hex(24)
        env["EVEREST_SECURITY__HUB_API_URL"] = f"http://127.0.0.1:{settings.hub.hub_port}/hub/api"
        asyncio.run(demo_course(settings))
        exe = [sys.executable, "-m", "everest_elearn.cli"]
        agency = subprocess.Popen([*exe, "serve"], env=env)
        hub = subprocess.Popen([*exe, "hub", "run"], env=env, cwd=Path.cwd())
        try:
            wait_for(f"http://{settings.api.host}:{settings.api.port}/", agency)
            wait_for(f"http://127.0.0.1:{settings.hub.port}/hub/api/", hub, exact=True)
            for note in notes:
                typer.secho(f"note: {note}", fg=typer.colors.YELLOW, err=True)
            typer.echo(f"Data Agency: http://{settings.api.host}:{settings.api.port}/")
            typer.echo(
                f"Hub:         http://{settings.hub.host}:{settings.hub.port}/ (demo course: 'demo')"
            )
            while agency.poll() is None and hub.poll() is None:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
        finally:
            for process in (hub, agency):
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in (hub, agency):
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    process.kill()
