"""The courses service behind a real hub: managers create and run courses, participants give feedback."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.fixtures.hub import Hub, oidc_login, user_token
from tests.fixtures.oidc import OidcProvider

pytestmark = [pytest.mark.docker, pytest.mark.services]

SCOPE = "access:services!service=courses"


def service(hub: Hub, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=hub.url + "/services/courses/api",
        headers={"Authorization": f"token {token}"},
        timeout=60,
    )


@pytest.fixture(scope="module")
def logged_in(hub: Hub, oidc_provider: OidcProvider) -> dict[str, str]:
    """carol (manager), alice and bob (participants) signed in once through the provider."""
    tokens = {}
    for name in ("carol", "alice", "bob"):
        oidc_login(hub, name, oidc_provider.users[name].password).close()
        tokens[name] = user_token(hub, name, SCOPE)
    return tokens


def test_roles_and_course_groups_come_from_the_provider_and_the_platform(
    hub: Hub, logged_in: dict[str, str], oidc_provider: OidcProvider
) -> None:
    with hub.client() as api:
        assert "role-course-manager" in api.get("/users/carol").json()["groups"]
    with service(hub, logged_in["carol"]) as carol:
        created = carol.post(
            "/courses",
            json={"id": "forest", "title": "Forests", "idp_groups": ["cohort-forest-2025"]},
        )
        assert created.status_code == 201, created.text
        assert (
            carol.post("/courses/forest/enrolments", json={"usernames": ["bob"]}).status_code == 201
        )
    # alice is enrolled from her provider group at her next login; bob's manual enrolment survives
    # his next login although the provider knows nothing of it (manage_groups resets groups).
    oidc_login(hub, "alice", oidc_provider.users["alice"].password).close()
    oidc_login(hub, "bob", oidc_provider.users["bob"].password).close()
    with hub.client() as api:
        assert "course-forest" in api.get("/users/alice").json()["groups"]
        bob_groups = api.get("/users/bob").json()["groups"]
    assert "course-forest" in bob_groups and "cohort-ocean-2025" in bob_groups
    with service(hub, logged_in["carol"]) as carol:
        enrolments = carol.get("/courses/forest").json()["enrolments"]
    sources = {e["username"]: e["source"] for e in enrolments}
    assert sources["alice"] == "idp:cohort-forest-2025"
    assert sources["bob"] == "manual"
    assert sources["carol"] == "manual"


def test_participants_cannot_manage_and_see_only_their_courses(
    hub: Hub, logged_in: dict[str, str]
) -> None:
    with service(hub, logged_in["alice"]) as alice:
        refused = alice.post("/courses", json={"id": "mine", "title": "Mine"})
        assert refused.status_code == 403
        assert "course managers" in refused.json()["detail"]
        assert alice.get("/courses/forest").status_code == 403
        assert [c["id"] for c in alice.get("/courses").json()] == ["forest"]
    with httpx.Client(base_url=hub.url + "/services/courses/api", timeout=30) as anonymous:
        assert anonymous.get("/courses").status_code in (401, 403)


def test_feedback_summary_and_export(hub: Hub, logged_in: dict[str, str]) -> None:
    with service(hub, logged_in["carol"]) as carol:
        updated = carol.put(
            "/courses/forest",
            json={
                "title": "Forests",
                "modules": [{"name": "intro", "ref": "main"}],
                "idp_groups": ["cohort-forest-2025"],
            },
        )
        assert updated.status_code == 200, updated.text
    with service(hub, logged_in["alice"]) as alice:
        bad = alice.post("/courses/forest/feedback", json={"module": "intro", "rating": 9})
        assert bad.status_code == 400 and bad.json()["parameter"] == "rating"
        ok = alice.post(
            "/courses/forest/feedback", json={"module": "intro", "rating": 4, "comment": "clear"}
        )
        assert ok.status_code == 201
    with service(hub, logged_in["bob"]) as bob:
        assert (
            bob.post("/courses/forest/feedback", json={"module": "intro", "rating": 2}).status_code
            == 201
        )
    with service(hub, logged_in["carol"]) as carol:
        summary = carol.get("/courses/forest/feedback").json()
        export = carol.get("/courses/forest/feedback.csv")
    assert summary[0]["module"] == "intro"
    assert summary[0]["count"] == 2 and summary[0]["average"] == 3.0
    assert summary[0]["comments"] == [["alice", "clear"]]
    assert export.headers["content-type"].startswith("text/csv")
    assert "forest,intro,alice,4,clear" in export.text


def test_manager_starts_and_stops_a_participant_server(hub: Hub, logged_in: dict[str, str]) -> None:
    with service(hub, logged_in["carol"]) as carol:
        assert carol.post("/courses/forest/servers/bob").status_code == 202
        for _ in range(240):
            rows = {r["username"]: r for r in carol.get("/courses/forest/servers").json()}
            if rows["bob"]["server"] == "ready":
                break
            time.sleep(0.5)
        assert rows["bob"]["server"] == "ready"
        # Who runs what: the course the server was started for, and its image.
        assert rows["bob"]["course"] == "forest"
        assert rows["bob"]["image"] == hub.env["EVEREST_HUB__NOTEBOOK_IMAGE"]
        assert rows["alice"]["server"] in ("stopped", "never logged in")
        assert carol.delete("/courses/forest/servers/bob").status_code == 202
        # Only participants of the course: not anybody on the hub.
        assert carol.post("/courses/forest/servers/dave").status_code == 404
    for _ in range(120):
        with hub.client() as api:
            if not api.get("/users/bob").json().get("servers"):
                break
        time.sleep(0.5)
    with hub.client() as api:
        assert not api.get("/users/bob").json().get("servers")


def test_own_server_dashboard_starts_and_stops_it(hub: Hub, logged_in: dict[str, str]) -> None:
    with service(hub, logged_in["alice"]) as alice:
        assert alice.get("/me/server").json() == {"server": "stopped"}
        assert alice.post("/me/server").status_code == 202
        for _ in range(240):
            if alice.get("/me/server").json()["server"] == "running":
                break
            time.sleep(0.5)
        assert alice.get("/me/server").json()["server"] == "running"
        assert alice.delete("/me/server").status_code == 202
        for _ in range(120):
            if alice.get("/me/server").json()["server"] == "stopped":
                break
            time.sleep(0.5)
        assert alice.get("/me/server").json()["server"] == "stopped"
