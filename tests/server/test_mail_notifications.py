"""Notification mail by each member's preferences, digests, the Network digest, unsubscribing.

Notification rows are inserted directly (the notify branch makes them in production); the
mail goes through the scheduler to a real SMTP server in this process.
"""

from __future__ import annotations

import re
from datetime import timedelta

import aiohttp
import pytest
from sqlalchemy import select

from models import account_queries as accounts
from models import mail_queries
from models import notifications as kinds
from models.base import utcnow
from models.documents import Document
from models.events import Event
from models.mail import MailProfile
from models.notifications import Notification
from models.posts import Post
from server.appkeys import SCHEDULER, SESSIONS, URLS, WRITE_SESSIONS
from server.mail import network_mail, notify_jobs, recurring
from server.mail.network_mail import send_network_digest
from server.settings import load_settings
from tests.server.test_auth import HTML, make_member, start_web
from tests.support.instances import add_community
from tests.support.smtp import start_relay


@pytest.fixture
def relay(tmp_path):
    running = start_relay("plain", tmp_path)
    yield running
    running.stop()


@pytest.fixture
async def web(aiohttp_server, aiohttp_client, database_url, relay):
    web = await start_web(aiohttp_server, aiohttp_client, database_url, smtp_url=relay.url)
    for name in ("sam", "kim"):
        account = await make_member(web.app, name, email=f"{name}@ward.example")
        async with web.app[WRITE_SESSIONS]() as session:
            await mail_queries.mark_verified(session, account.actor_id, f"{name}@ward.example")
            await session.commit()
    return web


async def member_id(app, name: str) -> int:
    async with app[SESSIONS]() as session:
        return (await accounts.member_by_name(session, name)).account.actor_id


async def a_thread(app, title: str, *, cop: str = "nursing", private: bool = False) -> Post:
    community = await add_community(app, cop, cop.title())
    async with app[WRITE_SESSIONS]() as session:
        if private:
            found = await session.get(type(community), community.actor_id)
            found.manually_approves_followers = True
        post = Post(
            community_id=community.actor_id,
            author_id=await member_id(app, "kim"),
            title=title,
            source="What works for you?",
        )
        session.add(post)
        await session.commit()
        return post


async def notify(app, name: str, kind: str, **links) -> None:
    async with app[WRITE_SESSIONS]() as session:
        session.add(Notification(account_id=await member_id(app, name), kind=kind, **links))
        await session.commit()


async def run_job(app, kind: str, *, at=None) -> None:
    """Run one recurring mail job now through the scheduler, then send what it queued."""
    async with app[WRITE_SESSIONS]() as session:
        await recurring.ensure(session, utcnow())
        await recurring.jobs.schedule(session, kind=kind, key=kind, run_at=utcnow())
        await session.commit()
    scheduler = app[SCHEDULER]
    if at is not None:
        scheduler.clock = lambda: at
    for _ in range(20):  # the job, its next batches, the mails they queued
        if not await scheduler.run_once():
            return
    raise AssertionError("the mail jobs never settled")


async def test_each_kind_is_mailed_at_once_in_a_digest_or_never_and_only_once(web, relay):
    app = web.app
    post = await a_thread(app, "Night shift handovers")
    kim = await member_id(app, "kim")
    await notify(app, "sam", kinds.REPLY, actor_id=kim, post_id=post.id)
    await notify(app, "sam", kinds.LIKE, actor_id=kim, post_id=post.id)
    await notify(app, "sam", kinds.NEW_THREAD, community_id=post.community_id, post_id=post.id)

    await run_job(app, recurring.MAIL_NOTIFICATIONS)
    [reply] = relay.messages
    assert reply.rcpt_tos == ["sam@ward.example"]
    assert reply.message["Subject"] == "Kim replied to your post “Night shift handovers”"
    assert f"https://copnet.test/t/{post.id}" in reply.part("plain")
    assert f'href="https://copnet.test/t/{post.id}"' in reply.part("html")
    assert "/mail/unsubscribe/" in reply.message["List-Unsubscribe"]
    assert "/reply/" in reply.message["List-Unsubscribe"]

    await run_job(app, recurring.MAIL_DAILY)
    assert len(relay.messages) == 2
    digest = relay.messages[1]
    assert digest.message["Subject"] == "1 new on copnet today"
    assert "New thread in Nursing: “Night shift handovers”" in digest.part("plain")
    assert "/daily/" in digest.message["List-Unsubscribe"]

    await run_job(app, recurring.MAIL_NOTIFICATIONS)
    await run_job(app, recurring.MAIL_DAILY)
    assert len(relay.messages) == 2  # nothing twice; the like (never) was passed over
    async with app[SESSIONS]() as session:
        unmailed = await session.scalars(
            select(Notification).where(Notification.emailed_at.is_(None))
        )
        assert list(unmailed) == []


async def test_weekly_digest_and_members_without_a_verified_address(web, relay):
    app = web.app
    post = await a_thread(app, "Falls prevention")
    sam = await member_id(app, "sam")
    async with app[WRITE_SESSIONS]() as session:
        await mail_queries.set_preferences(session, sam, {kinds.REPLY: "weekly"})
        kim = await accounts.member_by_name(session, "kim")
        kim.account.email = "kim.new@ward.example"  # changed, not verified
        await session.commit()
    await notify(app, "sam", kinds.REPLY, actor_id=kim.account.actor_id, post_id=post.id)
    await notify(app, "sam", kinds.MENTION, actor_id=kim.account.actor_id, post_id=post.id)
    await notify(app, "kim", kinds.REPLY, actor_id=sam, post_id=post.id)
    await run_job(app, recurring.MAIL_NOTIFICATIONS)
    assert [m.message["Subject"] for m in relay.messages] == [
        "Kim mentioned you in “Falls prevention”"
    ]
    await run_job(app, recurring.MAIL_WEEKLY)
    weekly = relay.messages[-1]
    assert weekly.message["Subject"] == "1 new on copnet this week"
    assert "Kim replied to your post “Falls prevention”" in weekly.part("plain")
    assert all(m.rcpt_tos == ["sam@ward.example"] for m in relay.messages)


async def test_preferences_page_saves_each_kind_and_the_network_digest(web, relay):
    assert (await web.login()).status == 303
    page = await web.client.get("/settings/mail", headers={"Accept": HTML})
    text = await page.text()
    assert "sam@ward.example is confirmed" in text
    assert "E-mail is off" not in text
    choices = {kind: "never" for kind in kinds.KINDS}
    choices[kinds.LIKE] = "immediate"
    choices["network_digest"] = "yes"
    token = await web.token("/settings/mail")
    response = await web.post("/settings/mail", choices, token=token)
    assert response.status == 303
    sam = await member_id(web.app, "sam")
    async with web.app[SESSIONS]() as session:
        chosen = await mail_queries.preferences(session, sam)
        profile = await session.get(MailProfile, sam)
    assert chosen[kinds.LIKE] == "immediate" and chosen[kinds.REPLY] == "never"
    assert profile.network_digest is True

    bad = dict(choices, reply="hourly")
    response = await web.post("/settings/mail", bad, token=token)
    assert response.status == 400
    assert "Choose how to get" in await response.text()


async def test_one_click_unsubscribe_works_without_signing_in_and_get_changes_nothing(web, relay):
    app = web.app
    post = await a_thread(app, "Dementia-friendly wards")
    await notify(app, "sam", kinds.REPLY, actor_id=await member_id(app, "kim"), post_id=post.id)
    await run_job(app, recurring.MAIL_NOTIFICATIONS)
    link = relay.messages[0].message["List-Unsubscribe"].strip("<>")
    path = link.removeprefix("https://copnet.test")
    sam = await member_id(app, "sam")

    async with aiohttp.ClientSession() as stranger:  # no cookies, no CSRF token
        url = str(web.client.make_url(path))
        scanned = await stranger.get(url, headers={"Accept": HTML})
        assert scanned.status == 200
        async with app[SESSIONS]() as session:
            assert (await mail_queries.preferences(session, sam))[kinds.REPLY] == "immediate"
        # What RFC 8058 clients send (section 3.1).
        clicked = await stranger.post(
            url,
            data="List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert clicked.status == 200
        assert "you will get no more" in await clicked.text()
        forged = await stranger.post(url[:-1] + ("0" if url[-1] != "0" else "1"))
        assert forged.status == 400
        other = await stranger.post(url.replace(f"/{sam}/", f"/{await member_id(app, 'kim')}/"))
        assert other.status == 400
    async with app[SESSIONS]() as session:
        assert (await mail_queries.preferences(session, sam))[kinds.REPLY] == "never"


async def test_the_weekly_network_digest_goes_to_those_who_asked(web, relay):
    app = web.app
    sam = await member_id(app, "sam")
    async with app[WRITE_SESSIONS]() as session:
        await mail_queries.set_network_digest(session, sam, True)
        await session.commit()
    thread = await a_thread(app, "Sharing rotas across wards")
    hidden = await a_thread(app, "Private matters", cop="private_ward", private=True)
    kim = await member_id(app, "kim")
    async with app[WRITE_SESSIONS]() as session:
        for root in (thread, hidden):
            for _ in range(2):
                session.add(
                    Post(
                        community_id=root.community_id,
                        author_id=kim,
                        thread_id=root.id,
                        parent_id=root.id,
                        depth=1,
                        source="Agreed",
                    )
                )
        session.add(
            Document(community_id=thread.community_id, uploader_id=kim, title="Handover checklist")
        )
        start = utcnow() + timedelta(days=3)
        session.add(
            Event(
                organizer_id=thread.community_id,
                name="Basecamp Leeds",
                starts_at=start,
                ends_at=start + timedelta(hours=3),
            )
        )
        await session.commit()
    settings = load_settings({}, url="https://copnet.test")
    async with app[WRITE_SESSIONS]() as session:
        queued = await send_network_digest(session, settings, app[URLS], utcnow(), batch=1)
        await session.commit()
    assert queued == 1
    await app[SCHEDULER].run_once()
    [digest] = relay.messages
    assert digest.rcpt_tos == ["sam@ward.example"]
    assert digest.message["Subject"] == "This week on copnet"
    text = digest.part("plain")
    for expected in ("Nursing", "Sharing rotas across wards", "2 new replies"):
        assert expected in text
    assert "Handover checklist" in text and "Basecamp Leeds" in text
    assert "Private matters" not in text and "Private_Ward" not in text
    assert "/network/" in digest.message["List-Unsubscribe"]
    assert re.search(r"<h2[^>]*>Busiest threads</h2>", digest.part("html"))


async def test_digests_run_one_batch_of_members_per_transaction(web, relay, monkeypatch):
    monkeypatch.setattr(notify_jobs, "BATCH", 1)
    monkeypatch.setattr(network_mail, "BATCH", 1)
    app = web.app
    post = await a_thread(app, "Hand hygiene audits")
    for name in ("sam", "kim"):
        await notify(app, name, kinds.NEW_THREAD, community_id=post.community_id, post_id=post.id)
        async with app[WRITE_SESSIONS]() as session:
            await mail_queries.set_network_digest(session, await member_id(app, name), True)
            await session.commit()
    await run_job(app, recurring.MAIL_DAILY)
    await run_job(app, recurring.MAIL_NETWORK)
    received = sorted((m.rcpt_tos[0], m.message["Subject"]) for m in relay.messages)
    assert received == [
        ("kim@ward.example", "1 new on copnet today"),
        ("kim@ward.example", "This week on copnet"),
        ("sam@ward.example", "1 new on copnet today"),
        ("sam@ward.example", "This week on copnet"),
    ]
    # Each moved to its next fixed time (which may be minutes away), from the start.
    fixed = {
        recurring.MAIL_DAILY: recurring.DIGEST_TIME,
        recurring.MAIL_NETWORK: recurring.NETWORK_TIME,
    }
    async with app[SESSIONS]() as session:
        for kind, at in fixed.items():
            job = await recurring.jobs.get_job(session, kind)
            assert job.state == "pending" and job.payload == "{}"
            assert job.run_at > utcnow() and job.run_at.time() == at
