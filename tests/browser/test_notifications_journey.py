"""Notifications in a real browser: Bob replies to Ann's post, Ann sees the bell's count, opens
her notifications, marks them all read, likes Bob's reply and watches Bob's thread, whose next
reply then reaches her. The pages on the way pass the axe-core WCAG 2.2 AA check.

The workers do not run on their own in tests: the test runs the scheduler, which makes the
notifications, where a deployment's worker would.
"""

from __future__ import annotations

import pytest

from server.appkeys import SCHEDULER
from tests.browser.axe import assert_accessible
from tests.browser.members import sign_up

pytestmark = pytest.mark.browser


async def _start_thread(page, title: str, body: str) -> str:
    await page.get_by_text("Start a thread").click()
    await page.get_by_label("Title").fill(title)
    await page.get_by_label("What would you like to share or ask?").fill(body)
    await page.get_by_role("button", name="Post to Wound Care Nurses").click()
    assert await page.get_by_role("heading", name=title).is_visible()
    return page.url


async def _reply(page, to: str, text: str) -> None:
    await page.locator("details.reply summary").last.click()
    await page.get_by_label(f"Your reply to {to}").last.fill(text)
    await page.locator("details.reply[open] button[type=submit]").click()


async def _make_notifications(site) -> None:
    while await site.app[SCHEDULER].run_once():
        pass


async def test_bell_notifications_like_and_watch(browser, site):
    base = site.url
    ann = await sign_up(browser, base, "ann")
    await ann.get_by_role("link", name="Start a community").click()
    await ann.get_by_label("Name").fill("Wound Care Nurses")
    await ann.get_by_label("Address").fill("wound_care")
    await ann.get_by_label("What is it about?").fill("Tissue viability.")
    await ann.get_by_role("button", name="Start the community").click()
    first = await _start_thread(ann, "Honey dressings", "Who audited them?")

    bob = await sign_up(browser, base, "bob")
    await bob.goto(base + "/c/wound_care")
    assert await bob.get_by_role("button", name="Follow new threads").is_visible()
    await assert_accessible(bob, "a CoP page with its follow button")
    await bob.get_by_role("button", name="Join this community").click()
    await bob.goto(first)
    await _reply(bob, "Ann", "We did, on twelve leg ulcers.")
    await _make_notifications(site)

    await ann.goto(base + "/")
    assert await ann.locator("#bell-count").inner_text() == "1"
    await ann.get_by_role("link", name="Notifications 1 unread").click()
    await assert_accessible(ann, "the notifications page")
    entry = ann.locator("ol.notifications li").first
    assert "Bob replied to your post: Honey dressings" in await entry.inner_text()
    await ann.get_by_role("button", name="Mark all read").click()
    assert await ann.get_by_text("All your notifications are marked read.").is_visible()
    assert await ann.locator("#bell-count").count() == 0
    await assert_accessible(ann, "the notifications page, all read")

    # Ann follows the link to the reply and likes it.
    await ann.get_by_role("link", name="Honey dressings").first.click()
    await ann.get_by_role("button", name="Like the post by Bob").click()
    liked = ann.get_by_role("button", name="Like the post by Bob")
    assert await liked.get_attribute("aria-pressed") == "true"
    assert await ann.get_by_text("1 like", exact=True).is_visible()
    await assert_accessible(ann, "a thread with a liked post")

    # Bob starts a thread; Ann watches it, and Bob's next reply there reaches her.
    await bob.goto(base + "/c/wound_care")
    second = await _start_thread(bob, "Silver dressings", "Worth the cost?")
    await ann.goto(second)
    await ann.get_by_role("button", name="Watch this thread").click()
    assert await ann.get_by_text("You are watching this thread.").is_visible()
    assert await ann.get_by_role("button", name="Stop watching").is_visible()
    await assert_accessible(ann, "a watched thread")
    await bob.goto(second)
    await _reply(bob, "Bob", "Costs came down this year.")
    await _make_notifications(site)

    await ann.goto(base + "/notifications")
    text = await ann.locator("ol.notifications").inner_text()
    assert "Bob replied in a thread you watch: Silver dressings" in text
    assert "Bob started a new thread: Silver dressings" in text
    assert await ann.locator("#bell-count").inner_text() == "2"
    # Bob hears of Ann's like.
    await bob.goto(base + "/notifications")
    assert (
        "Ann liked your post: Honey dressings" in await bob.locator("ol.notifications").inner_text()
    )
