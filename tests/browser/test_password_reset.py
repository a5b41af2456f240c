"""Forgotten password in a real browser: forgot -> mail (a real SMTP server in this process)
-> link -> new password -> signed in; the browser signed in before is signed out."""

from __future__ import annotations

import re

import pytest

from server.app import create_app
from tests.browser.axe import assert_accessible
from tests.browser.test_focus_and_borders import MEASURE
from tests.server.test_auth import PASSWORD, make_member
from tests.support.instances import free_port, settings_for
from tests.support.smtp import run_jobs, start_relay

pytestmark = pytest.mark.browser

NEW_PASSPHRASE = "spring rota, second draft"


@pytest.fixture
def relay(tmp_path):
    running = start_relay("plain", tmp_path)
    yield running
    running.stop()


@pytest.fixture
async def mail_site(aiohttp_server, database_url, relay):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app = create_app(settings_for(database_url, url=url, smtp_url=relay.url))
    await aiohttp_server(app, port=port)
    return app, url


async def sign_in(page, base: str, password: str) -> None:
    await page.goto(base + "/login")
    await page.get_by_label("Name or email").fill("sam")
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()


async def test_forgot_password_mail_link_new_password_signed_in(browser, mail_site, relay):
    app, base = mail_site
    await make_member(app, "sam", email="sam@ward.example")

    earlier = await browser.new_context()  # a browser signed in before the reset
    old_page = await earlier.new_page()
    await sign_in(old_page, base, PASSWORD)
    await old_page.goto(base + "/settings/profile")
    assert await old_page.get_by_role("heading", name="Your profile").is_visible()

    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(base + "/login")
    await page.get_by_role("link", name="Forgot your password?").click()
    await assert_accessible(page, "the forgotten password page")
    assert await page.evaluate(MEASURE) == []  # focus rings and control borders
    await page.get_by_label("E-mail address").fill("sam@ward.example")
    await page.get_by_role("button", name="Send me a link").click()
    assert await page.get_by_text("If an account here uses that address").is_visible()

    await run_jobs(app)  # the jobs worker makes and sends the mail
    [mail] = relay.messages
    assert mail.rcpt_tos == ["sam@ward.example"]
    link = re.search(re.escape(base) + r"/password/reset/\S+", mail.part("plain")).group(0)

    await page.goto(link)
    assert await page.get_by_role("heading", name="Choose a new password").is_visible()
    await assert_accessible(page, "the new password page")
    await page.get_by_label("New password", exact=True).fill(NEW_PASSPHRASE)
    await page.get_by_label("Repeat new password").fill(NEW_PASSPHRASE)
    await page.get_by_role("button", name="Save new password").click()
    assert await page.get_by_text("Your password is changed").is_visible()
    assert await page.get_by_role("heading", name="Change your password").is_visible()

    await old_page.goto(base + "/settings/profile")  # the old session is over
    assert "/login" in old_page.url
    assert await old_page.get_by_role("heading", name="Sign in").is_visible()

    await page.goto(link)  # the link worked once
    assert await page.get_by_text("This link to reset a password cannot be used").is_visible()

    await sign_in(old_page, base, NEW_PASSPHRASE)
    await old_page.goto(base + "/settings/mail")
    assert await old_page.get_by_role("heading", name="What we mail you").is_visible()
    await assert_accessible(old_page, "the mail settings page")
    assert await old_page.evaluate(MEASURE) == []
    await earlier.close()
    await context.close()
