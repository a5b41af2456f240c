"""An address at sign-up (optional unless the admin requires it), proving it, changing it."""

from __future__ import annotations

import re

import pytest

from models import account_queries as accounts
from models import mail_queries
from models.mail import MailProfile
from server.appkeys import SCHEDULER, SESSIONS, WRITE_SESSIONS
from server.web.mail_links import BAD_VERIFY
from tests.server.test_auth import HTML, PASSWORD, make_member, start_web
from tests.support.smtp import start_relay

VERIFY_LINK = re.compile(r"https://copnet\.test(/mail/verify/[A-Za-z0-9_-]+)")


@pytest.fixture
def relay(tmp_path):
    running = start_relay("plain", tmp_path)
    yield running
    running.stop()


@pytest.fixture
async def web(aiohttp_server, aiohttp_client, database_url, relay):
    return await start_web(aiohttp_server, aiohttp_client, database_url, smtp_url=relay.url)


async def verified(app, name: str) -> bool:
    async with app[SESSIONS]() as session:
        member = await accounts.member_by_name(session, name)
        return await mail_queries.is_verified(session, member.account.actor_id)


async def test_signup_with_an_address_sends_a_link_that_confirms_it_once(web, relay):
    response = await web.signup("sam", email="Sam@Ward.Example", network_digest="yes")
    assert response.status == 303
    await web.app[SCHEDULER].run_once()
    [mail] = relay.messages
    assert mail.rcpt_tos == ["sam@ward.example"]
    assert mail.message["Subject"] == "Confirm your e-mail address for copnet"
    path = VERIFY_LINK.search(mail.part("plain")).group(1)
    assert path in mail.part("html")
    assert not await verified(web.app, "sam")

    web.forget_cookies()  # the link works in any browser, signed in or not
    page = await web.client.get(path, headers={"Accept": HTML})
    assert page.status == 200
    assert "sam@ward.example is confirmed" in await page.text()
    assert await verified(web.app, "sam")
    again = await web.client.get(path, headers={"Accept": HTML})
    assert again.status == 400
    assert BAD_VERIFY in await again.text()
    async with web.app[SESSIONS]() as session:
        member = await accounts.member_by_name(session, "sam")
        profile = await session.get(MailProfile, member.account.actor_id)
    assert profile.network_digest is True  # opted in at sign-up


async def test_no_address_no_mail_unless_the_admin_requires_one(web, relay):
    assert (await web.signup("sam")).status == 303
    await web.app[SCHEDULER].run_once()
    assert relay.messages == []

    await make_member(web.app, "ada", admin=True)
    web.forget_cookies()
    await web.login("ada")
    token = await web.token("/admin")
    data = {"signup_mode": "open", "cop_creation": "anyone", "require_email": "yes"}
    assert (await web.post("/admin/settings", data, token=token)).status == 303
    async with web.app[SESSIONS]() as session:
        assert await mail_queries.email_required(session)
    await web.logout()
    web.forget_cookies()

    page = await (await web.client.get("/signup", headers={"Accept": HTML})).text()
    assert re.search(r'name="email" type="email"[^>]* required', page)
    refused = await web.signup("kim")
    assert refused.status == 400
    assert "asks every member for an e-mail address" in await refused.text()
    assert (await web.signup("kim", email="kim@ward.example")).status == 303


async def test_addresses_are_unique_whatever_their_case(web, relay):
    await make_member(web.app, "kim", email="kim@ward.example")
    response = await web.signup("sam", email="KIM@Ward.EXAMPLE")
    assert response.status == 400
    assert "already uses that email address" in await response.text()

    assert (await web.signup("sam", email="sam@ward.example")).status == 303
    token = await web.token("/settings/mail")
    taken = await web.post(
        "/settings/mail/address",
        {"email": "Kim@WARD.example", "current_password": PASSWORD},
        token=token,
    )
    assert taken.status == 400
    assert "Another account already uses that address." in await taken.text()


async def test_changing_the_address_needs_the_password_and_unverifies_it(web, relay):
    await make_member(web.app, "sam", email="sam@ward.example")
    async with web.app[WRITE_SESSIONS]() as session:
        member = await accounts.member_by_name(session, "sam")
        await mail_queries.mark_verified(session, member.account.actor_id, "sam@ward.example")
        await session.commit()
    await web.login()
    token = await web.token("/settings/mail")
    wrong = await web.post(
        "/settings/mail/address",
        {"email": "sam@home.example", "current_password": "not my password"},
        token=token,
    )
    assert wrong.status == 400
    assert await verified(web.app, "sam")

    moved = await web.post(
        "/settings/mail/address",
        {"email": "sam@home.example", "current_password": PASSWORD},
        token=token,
    )
    assert moved.status == 303
    assert not await verified(web.app, "sam")
    await web.app[SCHEDULER].run_once()
    assert relay.messages[-1].rcpt_tos == ["sam@home.example"]
    page = await (await web.client.get("/settings/mail", headers={"Accept": HTML})).text()
    assert "not confirmed yet" in page

    resend = await web.post("/settings/mail/verify", {}, token=token)
    assert resend.status == 303
    await web.app[SCHEDULER].run_once()
    links = [VERIFY_LINK.search(m.part("plain")).group(1) for m in relay.messages]
    assert len(links) == 2
    assert (await web.client.get(links[-1], headers={"Accept": HTML})).status == 200
    assert await verified(web.app, "sam")


async def test_pages_say_when_mail_is_off(aiohttp_server, aiohttp_client, database_url):
    web = await start_web(aiohttp_server, aiohttp_client, database_url)
    page = await (await web.client.get("/password/forgot", headers={"Accept": HTML})).text()
    assert "E-mail is off on this Network" in page
    await web.signup("sam")
    page = await (await web.client.get("/settings/mail", headers={"Accept": HTML})).text()
    assert "E-mail is off on this Network" in page
