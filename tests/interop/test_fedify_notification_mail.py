"""A Fedify member replies to a local member's post: the local member gets a notification and,
having chosen immediate mail for replies, one e-mail; after one-click unsubscribing, none.

Everything is real: carol's Fedify server (member_server.mjs) signs her reply to copnet over TLS
on loopback, copnet's intake stores it, the scheduler's notify job makes the notification, the
scheduler's mail sweep queues the mail and its mail job sends it to an aiosmtpd server in this
process. Workers do not run on their own in tests: `copnet.settle` runs intake and delivery,
and the test runs the scheduler itself, as the neighbouring tests do.
"""

from __future__ import annotations

import ssl

import aiohttp
import pytest
from sqlalchemy import select

from models import account_queries as accounts
from models import jobs, mail_queries
from models.actors import Actor
from models.base import utcnow
from models.communities import get_community
from models.mail import IMMEDIATE, NEVER
from models.notifications import REPLY, Notification
from models.posts import Post
from server.appkeys import SCHEDULER, SESSIONS, URLS, WRITE_SESSIONS
from server.mail import recurring
from server.mail.message import ONE_CLICK
from server.services.membership import join
from server.services.posts import publish_post
from tests.interop.node import NodeAgent, require_fedify
from tests.support.instances import add_community, free_port
from tests.support.smtp import run_jobs, start_relay

pytestmark = pytest.mark.interop

ADDRESS = "nadia@ward.example"


@pytest.fixture
def relay():
    running = start_relay("plain")
    yield running
    running.stop()


async def sweep_mail(app) -> None:
    """Make the minute's immediate-mail sweep due now (the worker start schedules it, then it
    repeats every minute) and run the scheduler until the mails it queued are sent."""
    async with app[WRITE_SESSIONS]() as session:
        await recurring.ensure(session, utcnow())
        kind = recurring.MAIL_NOTIFICATIONS
        await jobs.schedule(session, kind=kind, key=kind, run_at=utcnow())
        await session.commit()
    await run_jobs(app)


async def fedify_reply(copnet, fedify, cop: str, thread: Post, content: str) -> Post:
    """carol replies to the thread from her Fedify server; returns the stored reply once the
    scheduler's notify job has run."""
    await fedify.send(
        {
            "cmd": "reply",
            "cop": cop,
            "inReplyTo": f"{copnet.url}/p/{thread.id}",
            "content": content,
        }
    )
    sent = await fedify.expect("sent", explain=copnet.queues)
    assert sent["type"] == "Create"
    await copnet.settle()
    async with copnet.app[SESSIONS]() as session:
        reply = await session.scalar(select(Post).where(Post.ap_id == sent["object"]))
    assert reply is not None, await copnet.queues()
    assert await copnet.app[SCHEDULER].run_once() == 1  # the notify job
    return reply


async def test_a_fedify_reply_notifies_and_mails_until_one_click_unsubscribe(
    start_copnet, node_env, tls, relay
):
    require_fedify()
    copnet = await start_copnet(smtp_url=relay.url)
    app = copnet.app
    await add_community(app, "nursing", "Nursing Practice", "Ward nurses talk.")
    cop = f"{copnet.url}/c/nursing"
    async with app[WRITE_SESSIONS].begin() as session:
        account = await accounts.create_account(
            session, "nadia", "-", display_name="Nadia", email=ADDRESS
        )
        await mail_queries.mark_verified(session, account.actor_id, ADDRESS)
        await mail_queries.set_preferences(session, account.actor_id, {REPLY: IMMEDIATE})
        nadia = await session.get(Actor, account.actor_id)
        community = await get_community(session, "nursing")
        await join(session, app[URLS], nadia, community.actor)
        thread = await publish_post(
            session,
            app[URLS],
            author=nadia,
            group=community.actor,
            community=community,
            title="Night shift handovers",
            body_markdown="What works for you?",
            parent=None,
            now=utcnow(),
        )
    await run_jobs(app)  # nadia's own thread notifies nobody (she is its only member)
    await sweep_mail(app)
    assert relay.messages == []

    port = free_port()
    async with NodeAgent("member_server.mjs", str(port), env=node_env) as fedify:
        reply = await fedify_reply(copnet, fedify, cop, thread, "A printed checklist.")
        async with app[SESSIONS]() as session:
            (notification,) = list(await session.scalars(select(Notification)))
            carol = await session.get(Actor, notification.actor_id)
        assert (notification.account_id, notification.kind) == (nadia.id, REPLY)
        assert notification.post_id == reply.id
        assert carol.ap_id == f"http://127.0.0.1:{port}/users/carol"

        await sweep_mail(app)
        [mail] = relay.messages
        assert mail.rcpt_tos == [ADDRESS]
        assert mail.message["To"].addresses[0].addr_spec == ADDRESS
        assert mail.message["Subject"] == "Carol replied to your post “Night shift handovers”"
        link = f"{copnet.url}/t/{thread.id}#post-{reply.id}"
        assert link in mail.part("plain")
        assert f'href="{link}"' in mail.part("html")
        assert mail.message.get_content_type() == "multipart/alternative"
        assert mail.message["List-Unsubscribe-Post"] == ONE_CLICK
        unsubscribe = mail.message["List-Unsubscribe"].strip("<>")
        assert unsubscribe.startswith(f"{copnet.url}/mail/unsubscribe/{nadia.id}/")
        async with app[SESSIONS]() as session:
            stamped = await session.get(Notification, notification.id)
            assert stamped.emailed_at is not None

        trust = ssl.create_default_context(cafile=str(tls.cert_file))
        async with aiohttp.ClientSession() as mail_client:  # no session cookie, no CSRF token
            # What RFC 8058 clients send (section 3.1).
            clicked = await mail_client.post(
                unsubscribe,
                data=ONE_CLICK,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                ssl=trust,
            )
            assert clicked.status == 200, await clicked.text()
        async with app[SESSIONS]() as session:
            assert (await mail_queries.preferences(session, nadia.id))[REPLY] == NEVER

        second = await fedify_reply(copnet, fedify, cop, thread, "And a huddle at 7.")
        async with app[SESSIONS]() as session:
            rows = list(await session.scalars(select(Notification).order_by(Notification.id)))
        assert [(row.kind, row.post_id) for row in rows] == [(REPLY, reply.id), (REPLY, second.id)]
        await sweep_mail(app)
        assert len(relay.messages) == 1  # the in-app notification still came; no mail
        assert fedify.untaken("inbox-error") == []
