"""Feed discovery as a browser sees it: each page's <link rel="alternate"> names an Atom feed
the browser can fetch, and the visible "In a feed reader" links pass the WCAG 2.2 AA check."""

from __future__ import annotations

import pytest

from models.communities import get_community
from server.appkeys import WRITE_SESSIONS
from tests.browser.axe import assert_accessible
from tests.server.test_auth import make_member
from tests.server.test_feeds import publish
from tests.support.instances import add_community

pytestmark = pytest.mark.browser

ANNOUNCED = """async () => {
  const found = [];
  for (const link of document.querySelectorAll('link[rel="alternate"]')) {
    if (link.type !== "application/atom+xml") continue;
    const response = await fetch(link.href);
    const body = await response.text();
    found.push({title: link.title, href: link.href, status: response.status,
                type: response.headers.get("content-type"), atom: body.includes("<feed")});
  }
  return found;
}"""


async def test_pages_lead_browsers_to_their_atom_feeds(browser, site):
    app = site.app
    await make_member(app, "ada")
    await add_community(app, "wound_care", "Wound Care")
    await add_community(app, "closed_ward", "Closed Ward")
    async with app[WRITE_SESSIONS]() as session:
        (await get_community(session, "closed_ward")).manually_approves_followers = True
        await session.commit()
    thread = await publish(app, "ada", "wound_care", "Honey dressings", "Do they work?")
    pages = {
        "/": ["/threads.atom", "/basecamps.atom"],
        "/c/wound_care": ["/c/wound_care/threads.atom"],
        f"/t/{thread}": [f"/t/{thread}/replies.atom"],
        "/u/ada": ["/u/ada/posts.atom"],
        "/basecamps": ["/basecamps.atom"],
        "/c/closed_ward": [],
    }
    page = await browser.new_page()
    for path, feeds in pages.items():
        await page.goto(site.url + path)
        found = await page.evaluate(ANNOUNCED)
        assert [item["href"] for item in found] == [site.url + feed for feed in feeds], path
        for item in found:
            assert item["status"] == 200 and item["atom"], item
            assert item["type"] == "application/atom+xml; charset=utf-8"
        visible = page.locator("footer.site a[type='application/atom+xml']")
        assert await visible.count() == len(feeds)
        await assert_accessible(page, f"the page {path} with its feed links")
