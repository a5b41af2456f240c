"""A newcomer's first visit, in a real browser: join, start a CoP, post, edit, reply and delete,
share a PDF, search."""

from __future__ import annotations

import pytest

from tests.support.pdf import minimal_pdf

pytestmark = pytest.mark.browser


async def test_sign_up_start_cop_post_thread_upload_pdf_and_search(browser, site, tmp_path):
    page = await browser.new_page()
    base = site.url
    await page.goto(base + "/")
    await page.get_by_role("link", name="Join").first.click()
    await page.get_by_label("Username").fill("nadia")
    await page.get_by_label("Display name").fill("Nadia Khan")
    await page.get_by_label("Password", exact=True).fill("a long safe passphrase")
    await page.get_by_label("Repeat password").fill("a long safe passphrase")
    await page.get_by_role("button", name="Create account").click()
    await page.get_by_role("link", name="Start a community").click()
    await page.get_by_label("Name").fill("Wound Care Nurses")
    await page.get_by_label("Address").fill("wound_care")
    await page.get_by_label("What is it about?").fill("Tissue viability in the community.")
    await page.get_by_role("button", name="Start the community").click()
    assert await page.get_by_role("heading", name="Wound Care Nurses").is_visible()

    await page.get_by_text("Start a thread").click()
    await page.get_by_label("Title").fill("Honey dressings on venous ulcers")
    await page.get_by_label("What would you like to share or ask?").fill(
        "Has anyone audited medihoney outcomes on leg ulcers?"
    )
    await page.get_by_role("button", name="Post to Wound Care Nurses").click()
    assert await page.get_by_role("heading", name="Honey dressings on venous ulcers").is_visible()

    # Edit the thread's title, reply, then delete the reply after confirming.
    await page.get_by_role("link", name="Edit").first.click()
    await page.get_by_label("Title").fill("Honey dressings on venous leg ulcers")
    await page.get_by_role("button", name="Save the edit").click()
    assert await page.get_by_role(
        "heading", name="Honey dressings on venous leg ulcers"
    ).is_visible()
    assert await page.locator(".edited").first.is_visible()
    await page.locator("details.reply summary").first.click()
    await page.get_by_label("Your reply to Nadia Khan").fill("Named the wrong ward, sorry.")
    await page.locator("details.reply[open] button[type=submit]").click()
    assert await page.get_by_text("Named the wrong ward, sorry.").is_visible()
    await page.get_by_role("link", name="Delete").nth(1).click()
    await page.get_by_role("button", name="Yes, delete it").click()
    assert await page.get_by_text("This post was deleted.").is_visible()
    assert await page.get_by_text("Named the wrong ward, sorry.").count() == 0

    pdf = tmp_path / "audit.pdf"
    pdf.write_bytes(minimal_pdf("Compression bandaging audit with zinc paste results"))
    await page.goto(base + "/c/wound_care/documents")
    await page.get_by_label("Title").fill("Bandaging audit 2026")
    await page.get_by_label("File").set_input_files(str(pdf))
    await page.get_by_role("button", name="Upload").click()
    assert await page.get_by_role("heading", name="Bandaging audit 2026").is_visible()

    await page.goto(base + "/search?q=medihoney")
    assert await page.get_by_role(
        "link", name="Honey dressings on venous leg ulcers"
    ).first.is_visible()
    await page.goto(base + "/search?q=zinc")
    assert await page.get_by_role("link", name="Bandaging audit 2026").first.is_visible()
