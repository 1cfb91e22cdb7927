"""Single sign-on against the real provider: code flow with state and PKCE (S256), auth_state
kept encrypted, and no secret in the hub's log."""

from __future__ import annotations

import sqlite3
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.fixtures.hub import Hub, oidc_login
from tests.fixtures.oidc import OidcProvider

pytestmark = [pytest.mark.docker, pytest.mark.services]


def follow_provider(client: httpx.Client, url: str, hub: Hub) -> str:
    """Follow redirects until the provider sends the browser back to the hub; that URL."""
    for _ in range(10):
        if url.startswith(hub.url):
            return url
        response = client.get(url)
        if response.status_code == 200 and "/interaction/" in str(response.url):
            return url  # the provider's sign-in page
        url = str(response.next_request.url) if response.next_request else url
    raise AssertionError(f"no way back to the hub from {url}")


def sign_in_at_provider(client: httpx.Client, hub: Hub, user: str, password: str) -> str:
    """Start the hub's login, sign in at the provider; the callback URL it sends back (unused)."""
    start = client.get(hub.url + "/hub/oauth_login?next=%2Fhub%2Fhome")
    assert start.status_code == 302
    authorize = start.headers["location"]
    page = client.get(follow_provider(client, authorize, hub))
    assert "/interaction/" in str(page.url), page.text[:300]
    done = client.post(str(page.url).rstrip("/") + "/login", data={"username": user,
                                                                   "password": password})  # fmt: skip
    assert done.next_request is not None, done.text[:300]
    return follow_provider(client, str(done.next_request.url), hub)


def test_code_flow_sends_state_and_pkce_and_refuses_a_forged_state(
    hub: Hub, oidc_provider: OidcProvider
) -> None:
    with httpx.Client(follow_redirects=False, timeout=60) as client:
        start = client.get(hub.url + "/hub/oauth_login")
        query = parse_qs(urlsplit(start.headers["location"]).query)
        assert query["response_type"] == ["code"]
        assert query["code_challenge_method"] == ["S256"]
        assert len(query["code_challenge"][0]) >= 43 and len(query["state"][0]) >= 16
        assert query["redirect_uri"] == [hub.url + "/hub/oauth_callback"]

    user = oidc_provider.users["dave"]
    with httpx.Client(follow_redirects=False, timeout=60) as client:
        callback = sign_in_at_provider(client, hub, user.username, user.password)
        parts = urlsplit(callback)
        assert parts.path == "/hub/oauth_callback"
        code = parse_qs(parts.query)["code"][0]
        refused = client.get(f"{hub.url}/hub/oauth_callback?code={code}&state=forged")
        assert refused.status_code == 400 and "state" in refused.text.lower()
    with hub.client() as api:
        assert api.get("/users/dave").status_code == 404
    with httpx.Client(follow_redirects=False, timeout=60) as client:
        callback = sign_in_at_provider(client, hub, user.username, user.password)
        # The same callback in another browser (no state cookie) is refused ...
        with httpx.Client(follow_redirects=False, timeout=60) as stranger:
            assert stranger.get(callback).status_code == 400
        with hub.client() as api:
            assert api.get("/users/dave").status_code == 404
        # ... and signs in the browser that started it: the hub sent the PKCE verifier the
        # provider insists on (tests/oidc/provider.js requires S256 PKCE for every code flow).
        accepted = client.get(callback)
        assert accepted.status_code == 302, accepted.text[:300]
        assert accepted.headers["location"].endswith("/hub/home")
    with hub.client() as api:
        model = api.get("/users/dave").json()
    assert model["admin"] is True and "role-administrator" in model["groups"]


def test_auth_state_is_kept_encrypted_and_secrets_stay_out_of_the_log(
    hub: Hub, oidc_provider: OidcProvider
) -> None:
    user = oidc_provider.users["erin"]
    with httpx.Client(follow_redirects=False, timeout=60) as client:
        callback = sign_in_at_provider(client, hub, user.username, user.password)
        assert client.get(callback).status_code == 302
    # The admin service may read it: the provider's tokens and userinfo are there ...
    with hub.client() as api:
        auth_state = api.get("/users/erin").json().get("auth_state")
    assert auth_state is not None and auth_state["access_token"]
    assert "everest-developers" in auth_state["oauth_user"]["groups"]
    # ... but on disk it is ciphertext: neither the token nor the groups appear in the database.
    with sqlite3.connect(hub.data_dir / "hub" / "jupyterhub.sqlite") as db:
        [(stored,)] = db.execute("SELECT encrypted_auth_state FROM users WHERE name = 'erin'")
    assert stored and auth_state["access_token"].encode() not in stored
    assert b"everest-developers" not in stored
    # No secret of the hub reaches its log (the hub, its proxy and the courses service log there).
    log = hub.log_tail_all()
    assert "erin" in log  # the log is the right one
    for name in (
        "EVEREST_HUB__OIDC_CLIENT_SECRET",
        "EVEREST_HUB__CRYPT_KEY",
        "EVEREST_HUB__ADMIN_API_TOKEN",
    ):
        assert hub.env[name] not in log, name
    assert auth_state["access_token"] not in log
    assert user.password not in log


def test_administrators_from_the_provider_get_the_admin_pages_participants_do_not(
    hub: Hub, oidc_provider: OidcProvider
) -> None:
    dave, alice = oidc_provider.users["dave"], oidc_provider.users["alice"]
    admin = oidc_login(hub, dave.username, dave.password)
    try:
        page = admin.get(hub.url + "/hub/admin")
        assert page.status_code == 200 and "/hub/admin" in str(page.url)
    finally:
        admin.close()
    participant = oidc_login(hub, alice.username, alice.password)
    try:
        assert participant.get(hub.url + "/hub/admin").status_code == 403
    finally:
        participant.close()
