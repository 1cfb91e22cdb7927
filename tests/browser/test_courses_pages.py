"""A course manager and a participant use the courses pages in Chromium, signed in through SSO."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.fixtures.hub import Hub
from tests.fixtures.oidc import OidcProvider

pytestmark = [pytest.mark.browser, pytest.mark.docker, pytest.mark.services]


def open_courses_as(context: BrowserContext, hub: Hub, oidc: OidcProvider, name: str) -> Page:
    """Sign in (fresh cookies) and open the courses service's home page."""
    context.clear_cookies()
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(hub.url + "/services/courses/")
    page.wait_for_url(re.compile(r"/interaction/"))
    page.fill("#username", name)
    page.fill("#password", oidc.users[name].password)
    page.click("#submit")
    page.wait_for_url(re.compile(r"/services/courses/$"))
    expect(page.get_by_text(f"Signed in as {name}")).to_be_visible()
    return page


def test_manager_runs_a_course_and_reads_feedback(
    hub: Hub, oidc_provider: OidcProvider, browser_context: BrowserContext, tmp_path: Path
) -> None:
    page = open_courses_as(browser_context, hub, oidc_provider, "carol")
    expect(page.locator("#my-server")).to_have_text("stopped")
    page.get_by_label("course id").fill("rivers")
    page.get_by_label("title").fill("Rivers from space")
    page.get_by_label("modules").fill("intro@main, change@v1")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("status")).to_have_text("Done.")
    page.get_by_role("link", name="Rivers from space").click()
    page.get_by_label("user names to enrol").fill("alice bob")
    page.get_by_role("button", name="Enrol").click()
    expect(page.get_by_role("status")).to_have_text("Done.")
    page.reload()
    participants = page.locator("#participants")
    expect(participants).to_contain_text("alice")
    expect(participants).to_contain_text("bob")
    # Who runs what: alice has not signed in on this hub yet.
    expect(participants.locator("tr", has_text="alice").locator("td.server")).to_have_text(
        "never logged in"
    )

    page = open_courses_as(browser_context, hub, oidc_provider, "alice")
    expect(page.get_by_role("heading", name="Rivers from space")).to_be_visible()
    page.get_by_label("rating for intro").select_option("4")
    page.get_by_label("comment for intro").fill("Clear and to the point")
    page.locator("form", has=page.get_by_label("rating for intro")).get_by_role("button").click()
    expect(page.get_by_role("status")).to_have_text("Done.")
    # A participant cannot open the manager's page of the course.
    denied = page.request.get(hub.url + "/services/courses/courses/rivers")
    assert denied.status == 403

    page = open_courses_as(browser_context, hub, oidc_provider, "carol")
    page.goto(hub.url + "/services/courses/courses/rivers")
    intro = page.locator("section.feedback[data-module='intro']")
    expect(intro).to_contain_text("1 rating(s), average 4.00")
    expect(intro).to_contain_text("Clear and to the point")
    expect(intro.get_by_role("img", name="ratings of intro")).to_be_visible()
    page.screenshot(path=str(tmp_path / "course-page.png"), full_page=True)
    export = page.request.get(hub.url + "/services/courses/api/courses/rivers/feedback.csv")
    assert export.ok
    assert "rivers,intro,alice,4,Clear and to the point" in export.text()
