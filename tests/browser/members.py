"""What several browser journeys do first: a new member signs up through the website."""

from __future__ import annotations

PASSPHRASE = "a long safe passphrase"


async def sign_up(browser, base: str, name: str):
    """A fresh browser context where `name` has just joined the Network; returns its page."""
    page = await (await browser.new_context()).new_page()
    await page.goto(base + "/")
    await page.get_by_role("link", name="Join").first.click()
    await page.get_by_label("Username").fill(name)
    await page.get_by_label("Display name").fill(name.title())
    await page.get_by_label("Password", exact=True).fill(PASSPHRASE)
    await page.get_by_label("Repeat password").fill(PASSPHRASE)
    await page.get_by_role("button", name="Create account").click()
    return page
