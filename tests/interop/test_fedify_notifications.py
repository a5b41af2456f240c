"""A member of a Fedify-built server replies to a local member's post: the local member gets a
notification, made by copnet's scheduler after the intake stored the reply.

member_server.mjs is carol's real Fedify server on loopback; copnet runs over TLS beside it and
both sides sign and verify every POST. copnet's workers do not run on their own in tests:
`copnet.settle` runs intake and delivery, and the test runs the scheduler itself.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import account_queries as accounts
from models.actors import Actor
from models.base import utcnow
from models.communities import get_community
from models.notifications import REPLY, Notification
from models.posts import Post
from server.appkeys import SCHEDULER, SESSIONS, URLS, WRITE_SESSIONS
from server.services.membership import join
from server.services.posts import publish_post
from tests.interop.node import NodeAgent, require_fedify
from tests.support.instances import add_community, free_port

pytestmark = pytest.mark.interop


async def test_a_fedify_reply_notifies_the_local_author(start_copnet, node_env):
    require_fedify()
    copnet = await start_copnet()
    await add_community(copnet.app, "nursing", "Nursing Practice", "Ward nurses talk.")
    cop = f"{copnet.url}/c/nursing"
    async with copnet.app[WRITE_SESSIONS].begin() as session:
        account = await accounts.create_account(session, "nadia", "-", display_name="Nadia")
        nadia = await session.get(Actor, account.actor_id)
        community = await get_community(session, "nursing")
        await join(session, copnet.app[URLS], nadia, community.actor)
        thread = await publish_post(
            session,
            copnet.app[URLS],
            author=nadia,
            group=community.actor,
            community=community,
            title="Night shift handovers",
            body_markdown="What works for you?",
            parent=None,
            now=utcnow(),
        )
    while await copnet.app[SCHEDULER].run_once():
        pass  # nadia's own thread notifies nobody (she is its only member)
    port = free_port()
    async with NodeAgent("member_server.mjs", str(port), env=node_env) as fedify:
        await fedify.send(
            {
                "cmd": "reply",
                "cop": cop,
                "inReplyTo": f"{copnet.url}/p/{thread.id}",
                "content": "A printed checklist at the bedside.",
            }
        )
        sent = await fedify.expect("sent", explain=copnet.queues)
        assert sent["type"] == "Create"
        await copnet.settle()
        async with copnet.app[SESSIONS]() as session:
            reply = await session.scalar(select(Post).where(Post.ap_id == sent["object"]))
            assert reply is not None, await copnet.queues()
            assert await session.scalar(select(Notification.id)) is None  # not in the request
        assert await copnet.app[SCHEDULER].run_once() == 1
        async with copnet.app[SESSIONS]() as session:
            (notification,) = list(await session.scalars(select(Notification)))
            carol = await session.get(Actor, notification.actor_id)
        assert notification.account_id == nadia.id
        assert notification.kind == REPLY
        assert notification.post_id == reply.id
        assert carol.ap_id == f"http://127.0.0.1:{port}/users/carol"
        assert fedify.untaken("inbox-error") == []
