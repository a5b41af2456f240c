"""A newcomer's first visit, in a real browser: join, start a CoP, post, edit, reply and delete,
share a PDF, search; then look after their account: a picture, a new password, and finally
leaving. Every page on the way passes an automated WCAG 2.2 AA check (axe-core) with zero
violations."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.browser.axe import assert_accessible
from tests.support.pdf import minimal_pdf

pytestmark = pytest.mark.browser

PASSPHRASE = "a long safe passphrase"
NEW_PASSPHRASE = "an even longer safe passphrase"


async def test_sign_up_start_cop_post_thread_upload_pdf_and_search(browser, site, tmp_path):
    page = await browser.new_page()
    base = site.url
    await page.goto(base + "/")
    await assert_accessible(page, "the home page")
    await page.get_by_role("link", name="Join").first.click()
    await assert_accessible(page, "the sign-up page")
    await page.get_by_label("Username").fill("nadia")
    await page.get_by_label("Display name").fill("Nadia Khan")
    await page.get_by_label("Password", exact=True).fill(PASSPHRASE)
    await page.get_by_label("Repeat password").fill(PASSPHRASE)
    await page.get_by_role("button", name="Create account").click()
    assert await page.get_by_role("heading", name="Welcome to copnet").is_visible()
    await assert_accessible(page, "the welcome page")
    await page.goto(base + "/")
    await page.get_by_role("link", name="Start a community").click()
    await assert_accessible(page, "the new community form")
    await page.get_by_label("Name").fill("Wound Care Nurses")
    await page.get_by_label("Address").fill("wound_care")
    await page.get_by_label("What is it about?").fill("Tissue viability in the community.")
    await page.get_by_role("button", name="Start the community").click()
    assert await page.get_by_role("heading", name="Wound Care Nurses").is_visible()
    await assert_accessible(page, "a CoP page")

    await page.get_by_text("Start a thread").click()
    await page.get_by_label("Title").fill("Honey dressings on venous ulcers")
    await page.get_by_label("What would you like to share or ask?").fill(
        "Has anyone audited medihoney outcomes on leg ulcers?\n\n| Dressing | Healed |\n"
        "|---|---|\n| Honey | 12 |\n"
    )
    await assert_accessible(page, "a CoP page with the thread form open")
    await page.get_by_role("button", name="Post to Wound Care Nurses").click()
    assert await page.get_by_role("heading", name="Honey dressings on venous ulcers").is_visible()
    await assert_accessible(page, "a thread")
    thread_url = page.url

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
    await assert_accessible(page, "the documents page")
    await page.get_by_label("Title").fill("Bandaging audit 2026")
    await page.get_by_label("File").set_input_files(str(pdf))
    await page.get_by_role("button", name="Upload").click()
    assert await page.get_by_role("heading", name="Bandaging audit 2026").is_visible()
    await assert_accessible(page, "a document page")

    await page.goto(base + "/search?q=medihoney")
    assert await page.get_by_role(
        "link", name="Honey dressings on venous leg ulcers"
    ).first.is_visible()
    await assert_accessible(page, "search results")
    await page.goto(base + "/search?q=zinc")
    assert await page.get_by_role("link", name="Bandaging audit 2026").first.is_visible()
    await page.goto(base + "/basecamps")
    await assert_accessible(page, "the Basecamps page")
    await page.goto(base + "/u/nadia")
    await assert_accessible(page, "a member's profile")

    # Looking after the account: a picture, a new password, then leaving.
    photo = tmp_path / "me.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (900, 600), (40, 120, 160)).save(buffer, format="JPEG")
    photo.write_bytes(buffer.getvalue())
    await page.goto(base + "/settings/profile")
    await assert_accessible(page, "the profile settings")
    await page.get_by_label("Choose a picture").set_input_files(str(photo))
    await page.get_by_role("button", name="Upload picture").click()
    assert await page.get_by_text("Your picture is saved.").is_visible()
    picture = page.get_by_role("img", name="Your current picture")
    assert "/u/nadia/picture/" in (await picture.get_attribute("src") or "")
    # The page may be shown before the picture has arrived: wait for it to load (or fail).
    width = await picture.evaluate(
        """img => img.complete ? img.naturalWidth : new Promise(done => {
            img.addEventListener("load", () => done(img.naturalWidth));
            img.addEventListener("error", () => done(0));
        })"""
    )
    assert width == 400
    await page.get_by_label("Language of your posts").select_option("cy")
    await page.get_by_role("button", name="Save profile").click()
    assert await page.get_by_text("Your profile is saved.").is_visible()

    await page.get_by_role("link", name="Password").click()
    await assert_accessible(page, "the password page")
    await page.get_by_label("Current password").fill("not my password")
    await page.get_by_label("New password", exact=True).fill(NEW_PASSPHRASE)
    await page.get_by_label("Repeat new password").fill(NEW_PASSPHRASE)
    await page.get_by_role("button", name="Change password").click()
    assert await page.get_by_text("That is not your current password.").first.is_visible()
    await assert_accessible(page, "the password page with an error")
    await page.get_by_label("Current password").fill(PASSPHRASE)
    await page.get_by_label("New password", exact=True).fill(NEW_PASSPHRASE)
    await page.get_by_label("Repeat new password").fill(NEW_PASSPHRASE)
    await page.get_by_role("button", name="Change password").click()
    assert await page.get_by_text("Your password is changed.").is_visible()

    await page.get_by_role("link", name="Delete your account").click()
    await assert_accessible(page, "the delete-account page")
    await page.get_by_label("Keep them for the communities").check()
    await page.get_by_label("Current password").fill(NEW_PASSPHRASE)
    await page.get_by_label("Type your name to confirm").fill("nadia")
    await page.get_by_role("button", name="Delete my account").click()
    assert await page.get_by_role("heading", name="Your account is deleted").is_visible()
    await assert_accessible(page, "the goodbye page")
    assert await page.get_by_role("link", name="Sign in").is_visible()
    await page.goto(thread_url)
    assert await page.get_by_text("Former member").first.is_visible()
    assert await page.get_by_role("cell", name="Honey").is_visible()  # the Markdown table


async def test_the_accessibility_check_finds_what_it_should(browser):
    """The check itself can fail: a page with known WCAG failures does not pass it."""
    page = await browser.new_page()
    await page.set_content(
        '<html><body><img src="x.png"><input type="text">'
        '<p style="color:#bbb;background:#fff">faint</p></body></html>'
    )
    with pytest.raises(pytest.fail.Exception) as failed:
        await assert_accessible(page, "a broken page")
    message = str(failed.value)
    for rule in ("image-alt", "label", "color-contrast", "html-has-lang"):
        assert rule in message
