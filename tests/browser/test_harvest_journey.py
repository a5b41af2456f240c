"""Harvest in a real browser: a member harvests two replies of a thread into a new page, edits
it twice, compares two revisions side by side, restores the first, and finds the page in
search, above the thread it came from."""

from __future__ import annotations

import re

import pytest

from tests.browser.axe import assert_accessible
from tests.browser.members import sign_up

pytestmark = pytest.mark.browser


async def _reply(page, root_id: str, text: str) -> None:
    await page.locator(f"#post-{root_id} details.reply summary").click()
    await page.locator(f"#reply-{root_id}").fill(text)
    await page.locator(f"#post-{root_id} details.reply button").click()


async def _edit(page, change, note: str) -> None:
    """Open the editor, change the page's text (its source lines stay where they are), save."""
    await page.get_by_role("link", name="Edit", exact=True).click()
    box = page.get_by_label("Page", exact=True)
    await box.fill(change(await box.input_value()))
    await page.get_by_label("Edit note").fill(note)
    await page.get_by_role("button", name="Save changes").click()


async def test_harvest_edit_diff_restore_and_search(browser, site):
    base = site.url
    nadia = await sign_up(browser, base, "nadia")
    await nadia.get_by_role("link", name="Start a community").click()
    await nadia.get_by_label("Name").fill("Wound Care Nurses")
    await nadia.get_by_label("Address").fill("wound_care")
    await nadia.get_by_label("What is it about?").fill("Tissue viability.")
    await nadia.get_by_role("button", name="Start the community").click()
    await nadia.get_by_text("Start a thread").click()
    await nadia.get_by_label("Title").fill("Repositioning at night")
    await nadia.get_by_label("What would you like to share or ask?").fill(
        "How do your wards do it?"
    )
    await nadia.get_by_role("button", name="Post to Wound Care Nurses").click()
    thread = nadia.url.split("#")[0]
    root_id = re.search(r"/t/(\d+)", thread).group(1)

    tom = await sign_up(browser, base, "tom")
    await tom.goto(base + "/c/wound_care")
    await tom.get_by_role("button", name="Join this community").click()
    await tom.goto(thread)
    await _reply(tom, root_id, "We turn every two hours and log each turn.")
    await tom.goto(thread)
    await _reply(tom, root_id, "Foam wedges keep patients at thirty degrees.")
    await nadia.goto(thread)
    first, second = [
        (await article.get_attribute("id")).removeprefix("post-")
        for article in (await nadia.locator("article.post").all())[1:3]
    ]

    # Harvest the two replies into a new page.
    await nadia.locator(f"#post-{first}").get_by_role("link", name="Harvest").click()
    assert await nadia.locator(f"#pick-{first}").is_checked()
    await assert_accessible(nadia, "the harvest form")
    await nadia.locator(f"#pick-{second}").check()
    await nadia.get_by_label("Or a new page called").fill("Night repositioning")
    await nadia.get_by_role("button", name="Harvest", exact=True).click()
    assert re.search(r"/h/\d+$", nadia.url)
    page_url = nadia.url
    body = nadia.locator(".harvest-body")
    assert "We turn every two hours" in await body.inner_text()
    assert "Foam wedges keep patients" in await body.inner_text()
    assert await nadia.locator(".harvest-body blockquote").count() == 2
    await assert_accessible(nadia, "a harvest page")
    assert await nadia.get_by_text("Tom (@tom@127.0.0.1").count() >= 2

    # Two edits, each with a note.
    await _edit(nadia, lambda text: f"## What wards do\n\n{text}", "added a heading")
    await _edit(nadia, lambda text: f"{text}\n\n## Checklist\n\n- Log every turn", "checklist")
    assert await nadia.get_by_text("Revision 3").count() == 1

    # History and the side-by-side diff of revisions 2 and 3.
    await nadia.get_by_role("link", name="History").click()
    assert await nadia.get_by_text("added a heading").is_visible()
    await nadia.get_by_role("button", name="Compare the selected revisions").click()
    assert "/diff?" in nadia.url and "from=2" in nadia.url and "to=3" in nadia.url
    added = nadia.locator("tr.diff-added td.diff-right")
    assert "- Log every turn" in " ".join(await added.all_inner_texts())
    await assert_accessible(nadia, "the diff of two revisions")

    # Restore revision 1: the heading and the checklist go, the quotes stay.
    await nadia.goto(page_url + "/history")
    await assert_accessible(nadia, "a page's history")
    await nadia.get_by_role("button", name="Restore revision 1").click()
    assert nadia.url == page_url
    text = await nadia.locator(".harvest-body").inner_text()
    assert "Checklist" not in text and "We turn every two hours" in text
    assert await nadia.get_by_text("Revision 4").count() == 1

    # The thread shows where its replies went; search finds the page above the thread.
    await nadia.goto(thread)
    assert await nadia.locator(f"#post-{first} .harvested-into").inner_text() == (
        "Harvested into Night repositioning"
    )
    visitor = await (await browser.new_context()).new_page()
    await visitor.goto(base + "/search")
    await visitor.get_by_role("searchbox").fill("repositioning")
    await visitor.get_by_role("button", name="Search").click()
    hits = visitor.locator("li.search-hit h3 a")
    assert await hits.first.inner_text() == "Night repositioning"
    assert await visitor.locator("li.search-hit-page").count() == 1
