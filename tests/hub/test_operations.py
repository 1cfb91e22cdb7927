"""Operations on a real hub: spawns beyond the limit queue with their position shown; idle culling."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.fixtures.hub import Hub, tagged_hub
from tests.fixtures.oidc import OidcProvider

pytestmark = [pytest.mark.docker, pytest.mark.services]
IDLE = 20


@pytest.fixture(scope="module")
def busy_hub(
    oidc_provider: OidcProvider,
    hub_ports: dict[str, int],
    singleuser_image: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Hub]:
    """One container start at a time, and servers culled after IDLE seconds without activity."""
    data_dir = tmp_path_factory.mktemp("busyhub")
    settings = {"EVEREST_HUB__CONCURRENT_SPAWN_LIMIT": "1", "EVEREST_HUB__IDLE_TIMEOUT": str(IDLE)}
    with tagged_hub(data_dir, hub_ports, singleuser_image, oidc_provider, settings) as running:
        yield running


def test_second_spawn_waits_in_the_queue_and_is_told_its_place(busy_hub: Hub) -> None:
    hub = busy_hub
    events: dict[str, str] = {}

    def watch(name: str) -> None:
        with httpx.Client(timeout=300, headers={"Authorization": f"token {hub.token}"}) as c:
            events[name] = c.get(f"{hub.api}/users/{name}/server/progress").text

    with hub.client() as api:
        for name in ("ann", "ben"):
            api.post(f"/users/{name}")

    def request(name: str) -> None:
        with hub.client() as api:
            assert api.post(f"/users/{name}/server").status_code in (201, 202)

    # Both ask at the same moment, as a class does at its start.
    requests = [threading.Thread(target=request, args=(n,)) for n in ("ann", "ben")]
    for r in requests:
        r.start()
    time.sleep(0.5)
    watchers = [threading.Thread(target=watch, args=(n,)) for n in ("ann", "ben")]
    for w in watchers:
        w.start()
    for r in requests:
        r.join(timeout=300)
    for name in ("ann", "ben"):
        hub.start_server(name)  # waits until ready
    for w in watchers:
        w.join(timeout=300)
    queued = [n for n in ("ann", "ben") if "you are number 1 in the queue" in events[n]]
    assert len(queued) == 1, events
    assert '"ready": true' in events[queued[0]]


def test_idle_servers_are_culled(busy_hub: Hub) -> None:
    hub = busy_hub
    hub.start_server("cal")
    deadline = time.monotonic() + IDLE + 120
    with hub.client() as api:
        while api.get("/users/cal").json().get("servers"):
            assert time.monotonic() < deadline, "the idle server was not culled"
            time.sleep(2)
    assert "Culling server" in hub.log_tail() or "cull" in hub.log_tail().lower()
