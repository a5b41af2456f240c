"""A moderator's journey in a real browser: one member reports a post, the moderator removes it
from the report queue and bans its author, and anyone can read it all in the moderation log."""

from __future__ import annotations

import pytest

from tests.browser.members import sign_up

pytestmark = pytest.mark.browser


async def test_report_remove_ban_and_the_public_log(browser, site):
    base = site.url
    nadia = await sign_up(browser, base, "nadia")
    await nadia.get_by_role("link", name="Start a community").click()
    await nadia.get_by_label("Name").fill("Wound Care Nurses")
    await nadia.get_by_label("Address").fill("wound_care")
    await nadia.get_by_label("What is it about?").fill("Tissue viability.")
    await nadia.get_by_role("button", name="Start the community").click()

    tom = await sign_up(browser, base, "tom")
    await tom.goto(base + "/c/wound_care")
    await tom.get_by_role("button", name="Join this community").click()
    await tom.get_by_text("Start a thread").click()
    await tom.get_by_label("Title").fill("Cheap pills here")
    await tom.get_by_label("What would you like to share or ask?").fill("Buy now")
    await tom.get_by_role("button", name="Post to Wound Care Nurses").click()
    thread = tom.url

    priya = await sign_up(browser, base, "priya")
    await priya.goto(thread)
    await priya.get_by_text("Report", exact=True).click()
    await priya.get_by_label("What is wrong with it?").fill("Advertising, not practice")
    await priya.get_by_role("button", name="Send report").click()
    assert await priya.get_by_text("the moderators will look at your report").is_visible()

    await nadia.goto(base + "/reports")
    assert await nadia.get_by_text("Advertising, not practice").is_visible()
    assert await nadia.get_by_text("Priya").count() == 0  # reporters are not named
    await nadia.get_by_label("Action").select_option("remove")
    await nadia.get_by_label("Reason (public in the moderation log when you act)").fill("spam")
    await nadia.get_by_role("button", name="Resolve").click()
    assert await nadia.get_by_text("No open reports.").is_visible()

    await nadia.goto(base + "/c/wound_care/moderation")
    await nadia.locator("#ban-person").fill("tom")
    await nadia.locator("#ban-reason").fill("selling pills")
    await nadia.locator('form[action$="/moderation/ban"] button').click()
    assert await nadia.get_by_text("selling pills").first.is_visible()

    await tom.goto(thread)
    assert await tom.get_by_text("Removed by a moderator: spam").is_visible()

    visitor = await (await browser.new_context()).new_page()
    await visitor.goto(base + "/c/wound_care/modlog")
    log = await visitor.locator("ol.modlog").inner_text()
    assert "removed" in log and "banned" in log and "selling pills" in log and "spam" in log
    assert "Priya" not in log and "Cheap pills here" not in log
