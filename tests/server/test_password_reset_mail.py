"""Password reset by mail, end to end over HTTP with a real SMTP server in the test process."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select

from models import account_queries as accounts
from models import jobs, stored_secrets
from models.accounts import Account, WebSession
from models.base import utcnow
from models.mail import RESET, MailToken
from models.mail_queries import is_verified, issue_token
from server.appkeys import SESSIONS, WRITE_SESSIONS
from server.web.password_reset import BAD_LINK
from tests.server.test_auth import HTML, PASSWORD, make_member, start_web
from tests.support.smtp import run_jobs, start_relay

NEW_PASSWORD = "a fresh passphrase for spring"
LINK = re.compile(r"https://copnet\.test/password/reset/[A-Za-z0-9_-]+")


@pytest.fixture
def relay(tmp_path):
    running = start_relay("plain", tmp_path)
    yield running
    running.stop()


@pytest.fixture
async def web(aiohttp_server, aiohttp_client, database_url, relay):
    web = await start_web(aiohttp_server, aiohttp_client, database_url, smtp_url=relay.url)
    await make_member(web.app, "sam", email="sam@ward.example")
    return web


async def ask_for_link(web, email: str):
    return await web.post("/password/forgot", {"email": email}, form="/password/forgot")


async def mailed_link(web, relay) -> str:
    await run_jobs(web.app)
    message = relay.messages[-1]
    text_links = LINK.findall(message.part("plain"))
    assert text_links and set(text_links) <= set(LINK.findall(message.part("html")))
    return text_links[0].removeprefix("https://copnet.test")  # the test client wants a path


async def choose(web, link: str, password: str = NEW_PASSWORD, confirm: str | None = None):
    path = link
    token = await web.token(path)
    data = {"new_password": password, "new_password_confirm": confirm or password}
    return await web.post(path, data, token=token)


async def session_count(app) -> int:
    async with app[SESSIONS]() as session:
        return int(await session.scalar(select(func.count()).select_from(WebSession)))


async def test_forgot_mail_link_new_password_signed_in_and_other_sessions_ended(web, relay):
    assert (await web.login()).status == 303  # another browser, signed in before
    web.forget_cookies()
    assert await session_count(web.app) == 1

    answer = await ask_for_link(web, "  SAM@Ward.Example ")
    assert answer.status == 303 and answer.headers["Location"] == "/password/forgot?sent=1"
    page = await web.client.get(answer.headers["Location"], headers={"Accept": HTML})
    assert "If an account here uses that address" in await page.text()

    link = await mailed_link(web, relay)
    [received] = relay.messages
    assert received.rcpt_tos == ["sam@ward.example"]
    assert received.message["Subject"] == "Reset your password on copnet"
    assert received.message["List-Unsubscribe"] is None  # asked for: essential

    form = await web.client.get(link, headers={"Accept": HTML})
    assert form.status == 200
    assert form.headers["Referrer-Policy"] == "no-referrer"
    response = await choose(web, link)
    assert response.status == 303
    assert response.headers["Location"] == "/settings/password?saved=reset"
    assert "copnet_session" in response.cookies
    settings_page = await web.client.get(response.headers["Location"], headers={"Accept": HTML})
    assert settings_page.status == 200  # signed in with the fresh session
    assert "Every other browser" in await settings_page.text()
    assert await session_count(web.app) == 1  # the old browser's session is gone

    web.forget_cookies()
    assert (await web.login(password=PASSWORD)).status == 400
    assert (await web.login(password=NEW_PASSWORD)).status == 303
    async with web.app[SESSIONS]() as session:
        member = await accounts.member_by_name(session, "sam")
        assert await is_verified(session, member.account.actor_id)  # the link proved it


async def test_only_a_hash_of_the_token_is_kept_and_the_sent_mail_is_forgotten(web, relay):
    await ask_for_link(web, "sam@ward.example")
    link = await mailed_link(web, relay)
    token = link.rsplit("/", 1)[1]
    async with web.app[SESSIONS]() as session:
        hashes = list(await session.scalars(select(MailToken.token_hash)))
        payloads = list(await session.scalars(select(jobs.Job.payload)))
    assert hashes == [stored_secrets.digest(token)]
    assert all(token not in payload for payload in payloads)
    assert all("sam@ward.example" not in payload for payload in payloads)  # done: emptied


async def refused(web, link: str) -> None:
    page = await web.client.get(link, headers={"Accept": HTML})
    assert page.status == 400
    assert BAD_LINK in await page.text()
    # Posting to it directly is refused the same way.
    path = link
    token = await web.token("/password/forgot")
    data = {"new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD}
    response = await web.post(path, data, token=token)
    assert response.status == 400
    assert BAD_LINK in await response.text()


async def test_a_link_works_once(web, relay):
    await ask_for_link(web, "sam@ward.example")
    link = await mailed_link(web, relay)
    assert (await choose(web, link)).status == 303
    web.forget_cookies()
    await refused(web, link)


async def test_expired_tampered_and_deleted_account_links_get_the_same_answer(web, relay):
    async with web.app[WRITE_SESSIONS]() as session:
        sam = await accounts.member_by_name(session, "sam")
        old = await issue_token(
            session,
            sam.account.actor_id,
            RESET,
            "sam@ward.example",
            now=utcnow() - timedelta(minutes=61),
        )
        await session.commit()
    await refused(web, f"/password/reset/{old}")

    await ask_for_link(web, "sam@ward.example")
    link = await mailed_link(web, relay)
    tampered = link[:-1] + ("A" if link[-1] != "A" else "B")
    await refused(web, tampered)
    await refused(web, "/password/reset/" + "x" * 500)

    async with web.app[WRITE_SESSIONS]() as session:
        await session.execute(delete(Account).where(Account.actor_id == sam.account.actor_id))
        await session.commit()
    await refused(web, link)


async def test_an_unknown_address_gets_the_same_answer_and_no_mail(web, relay):
    known = await ask_for_link(web, "sam@ward.example")
    unknown = await ask_for_link(web, "nobody@ward.example")
    assert (unknown.status, unknown.headers["Location"]) == (
        known.status,
        known.headers["Location"],
    )
    await run_jobs(web.app)
    assert [m.rcpt_tos for m in relay.messages] == [["sam@ward.example"]]


async def test_a_bad_address_and_a_weak_password_are_explained(web, relay):
    response = await ask_for_link(web, "not an address")
    assert response.status == 400
    assert "Enter the e-mail address of your account." in await response.text()
    await ask_for_link(web, "sam@ward.example")
    link = await mailed_link(web, relay)
    weak = await choose(web, link, password="short")
    assert weak.status == 400
    mismatch = await choose(web, link, confirm="another passphrase entirely")
    assert mismatch.status == 400
    assert "not the same" in await mismatch.text()
    assert (await choose(web, link)).status == 303  # still usable after the mistakes


async def test_reset_requests_are_rate_limited(web, relay):
    for _ in range(5):
        assert (await ask_for_link(web, "sam@ward.example")).status == 303
    await run_jobs(web.app)
    assert len(relay.messages) == 3  # per address asked about: quietly, the same answer
    for index in range(5):
        assert (await ask_for_link(web, f"other{index}@ward.example")).status == 303
    limited = await ask_for_link(web, "sam@ward.example")
    assert limited.status == 429  # per client address
    assert "Retry-After" in limited.headers
