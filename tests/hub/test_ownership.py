"""Ownership fixing at spawn: only new writable volumes, stale mount points only when mounts went away."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from everest_elearn.hub.plan import Mount, SpawnPlan
from everest_elearn.hub.spawner import EverestSpawner

HOME = Mount("home-a", "/home/jovyan", "rw", "home")
RESULTS = Mount("results-a", "/home/jovyan/results", "rw", "results")
S2 = Mount("pkg-s2", "/home/jovyan/data/s2", "ro", "s2")
S3 = Mount("pkg-s3", "/home/jovyan/data/s3", "ro", "s3")


def plan(*mounts: Mount) -> SpawnPlan:
    return SpawnPlan("img", None, None, mounts, (), (), None)


def spawner(state: dict[str, Any] | None = None) -> EverestSpawner:
    made = EverestSpawner(user=SimpleNamespace(name="alice", id=1, url="/user/alice/"))
    if state is not None:
        made.load_state(state)
    return made


def test_a_first_spawn_hands_over_every_writable_volume_and_needs_no_tidy_in_a_new_home() -> None:
    first = spawner()
    first._fresh_volumes = {"home-a", "results-a"}
    chown, stale = first.ownership_work(plan(HOME, RESULTS, S2))
    assert [m.source for m in chown] == ["home-a", "results-a"]
    assert stale is False


def test_a_returning_user_with_the_same_mounts_needs_nothing() -> None:
    state: dict[str, Any] = {
        "everest_owned_volumes": ["home-a", "results-a"],
        "everest_mounted": [S2.target],
    }
    again = spawner(state)
    assert again.ownership_work(plan(HOME, RESULTS, S2)) == ([], False)
    # ...and the state survives the hub's round trip through its database.
    assert spawner(again.get_state()).ownership_work(plan(HOME, RESULTS, S2)) == ([], False)


def test_a_mount_that_went_away_or_an_unknown_history_asks_for_the_tidy() -> None:
    owned = ["home-a", "results-a"]
    gone = spawner({"everest_owned_volumes": owned, "everest_mounted": [S2.target, S3.target]})
    assert gone.ownership_work(plan(HOME, RESULTS, S2)) == ([], True)
    unknown = spawner({"everest_owned_volumes": owned})
    assert unknown.ownership_work(plan(HOME, RESULTS, S2)) == ([], True)


def test_a_recreated_or_foreign_volume_is_handed_over_again() -> None:
    state: dict[str, Any] = {"everest_owned_volumes": ["home-a"], "everest_mounted": []}
    chown, _ = spawner(state).ownership_work(plan(HOME, RESULTS))
    assert [m.source for m in chown] == ["results-a"]
