"""Hubs sharing one Docker engine never touch each other's containers.

Each hub has an instance name (``hub.instance``, else an id it makes at its first start): its
containers are named ``everest-<instance>-<user>`` and labelled ``everest.hub=<instance>``.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from pydantic import ValidationError
from traitlets.config import Config

from everest_elearn.hub.config import configure
from everest_elearn.settings import HubSettings, Settings
from tests.fixtures.hub import Hub, hub_env, start_hub, stop_hub
from tests.fixtures.oidc import free_port


def configured(data_dir: Path, **hub: str) -> Config:
    c = Config()
    configure(c, Settings(data_dir=data_dir, hub=HubSettings(authenticator="dummy", **hub)))
    return c


def test_each_hub_has_its_own_instance_kept_across_restarts(tmp_path: Path) -> None:
    first = configured(tmp_path / "course-a").EverestSpawner
    second = configured(tmp_path / "course-b").EverestSpawner
    assert first.hub_instance != second.hub_instance
    assert re.fullmatch(r"[a-z0-9]+", first.hub_instance)
    assert first.extra_create_kwargs["labels"]["everest.hub"] == first.hub_instance
    # A restart (the configuration read again) keeps the name: it finds its servers again.
    assert configured(tmp_path / "course-a").EverestSpawner.hub_instance == first.hub_instance


def test_an_instance_set_in_the_settings_wins_and_reaches_the_courses_service(
    tmp_path: Path,
) -> None:
    c = configured(tmp_path, instance="forest-2026")
    assert c.EverestSpawner.hub_instance == "forest-2026"
    courses = next(s for s in c.JupyterHub.services if s["name"] == "courses")
    assert courses["environment"]["EVEREST_HUB__INSTANCE"] == "forest-2026"


@pytest.mark.parametrize("name", ["Forest", "a_b", "-a", "a" * 25, "a.b"])
def test_instances_that_would_not_read_well_in_container_names_are_refused(name: str) -> None:
    with pytest.raises(ValidationError):
        HubSettings(instance=name)


@pytest.fixture
def two_hubs(singleuser_image: str, tmp_path: Path) -> Iterator[tuple[Hub, Hub]]:
    """Two hubs on one engine, each with its own data folder and the default instance."""
    hubs: list[Hub] = []
    try:
        for course in ("a", "b"):
            tag = "t" + secrets.token_hex(4)
            token = secrets.token_hex(24)
            ports = {n: free_port() for n in ("port", "hub_port", "proxy_api_port", "courses_port")}
            data_dir = tmp_path / course
            env = hub_env(data_dir, ports, singleuser_image, None, tag, token)
            env["EVEREST_HUB__CONTAINER_LABELS"] = json.dumps({"everest.test-hub": tag})
            hubs.append(start_hub(env, data_dir, tag, token))
        yield hubs[0], hubs[1]
    finally:
        for hub in hubs:
            stop_hub(hub)


@pytest.mark.docker
@pytest.mark.services
def test_two_hubs_serve_one_user_without_touching_each_others_container(
    two_hubs: tuple[Hub, Hub],
) -> None:
    a, b = two_hubs
    a.start_server("alice")
    b.start_server("alice")
    mine, theirs = a.container("alice"), b.container("alice")
    assert mine.name == f"everest-{a.instance}-alice"
    assert theirs.name == f"everest-{b.instance}-alice"
    assert mine.id != theirs.id

    # Stopping and starting again on one hub (it removes leftovers of its own name) ...
    a.stop_server("alice")
    a.start_server("alice")
    # ... and that hub's whole shutdown, which stops every server it runs ...
    stop_hub(a)
    # ... leave the other hub's container running, the same one.
    theirs.reload()
    assert theirs.status == "running"
    assert docker.from_env().containers.get(theirs.id).labels["everest.hub"] == b.instance
    with b.client() as api:
        assert api.get("/users/alice").json()["servers"][""]["ready"]
