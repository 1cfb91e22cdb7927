"""A participant opens the hub in Chromium, signs in at the provider and lands in JupyterLab."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import BrowserContext, expect

from tests.fixtures.hub import Hub
from tests.fixtures.oidc import OidcProvider

pytestmark = [pytest.mark.browser, pytest.mark.docker, pytest.mark.services]


def sign_in(context: BrowserContext, hub: Hub, username: str, password: str) -> None:
    page = context.new_page()
    page.goto(hub.url + "/hub/")
    # auto_login: the hub sends the browser straight to the provider's sign-in page.
    page.wait_for_url(re.compile(r"/interaction/"))
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#submit")
    page.wait_for_url(re.compile(rf"/user/{username}/lab"), timeout=180_000)
    expect(page.locator(".jp-DirListing-content")).to_be_visible(timeout=120_000)


def test_participant_signs_in_and_lands_in_jupyterlab(
    hub: Hub, oidc_provider: OidcProvider, browser_context: BrowserContext
) -> None:
    user = oidc_provider.users["alice"]
    sign_in(browser_context, hub, user.username, user.password)

    container = hub.container("alice")
    assert container.status == "running"
    assert container.attrs["HostConfig"]["NetworkMode"] == "host"
    out = container.exec_run(["id", "-u"], user="").output.decode().strip()
    assert out == "1000"

    with hub.client() as api:
        model = api.get("/users/alice").json()
    assert model["servers"][""]["ready"] is True
    # The provider's groups arrived through the groups claim (manage_groups).
    assert "cohort-forest-2025" in model["groups"]


def test_wrong_password_stays_at_the_provider(
    hub: Hub, oidc_provider: OidcProvider, browser_context: BrowserContext
) -> None:
    page = browser_context.new_page()
    page.goto(hub.url + "/hub/")
    page.wait_for_url(re.compile(r"/interaction/"))
    page.fill("#username", "bob")
    page.fill("#password", "not the password")
    page.click("#submit")
    expect(page.locator("#error")).to_contain_text("wrong password")
    with hub.client() as api:
        assert api.get("/users/bob").status_code == 404
