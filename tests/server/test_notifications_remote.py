"""Notifications from the fediverse, over real HTTP with real signatures: a Mastodon reply that
mentions a member, a remote Like; and a member's Like and Undo reaching a remote author."""

from __future__ import annotations

from sqlalchemy import select

from models import account_queries as accounts
from models.actors import Actor
from models.base import utcnow
from models.communities import get_community
from models.notifications import LIKE, NEW_THREAD, REPLY
from models.posts import Post
from server.appkeys import REMOTE, SESSIONS, URLS, WRITE_SESSIONS
from server.services.likes import like_post, unlike_post
from server.services.membership import join
from server.services.posts import publish_post
from tests.scenarios.test_two_instances import settle_all
from tests.server.notification_helpers import notifications_of, run_jobs
from tests.support.instances import start_copnet

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


async def member_thread(network) -> tuple[int, Post]:
    async with network.app[WRITE_SESSIONS].begin() as session:
        account = await accounts.create_account(session, "nadia", "-", display_name="Nadia")
        member = await session.get(Actor, account.actor_id)
        community = await get_community(session, "nursing")
        await join(session, network.app[URLS], member, community.actor)
        post = await publish_post(
            session,
            network.app[URLS],
            author=member,
            group=community.actor,
            community=community,
            title="Night shift handovers",
            body_markdown="What works for you?",
            parent=None,
            now=utcnow(),
        )
    return member.id, post


async def test_a_mastodon_reply_that_mentions_the_member_is_one_notification(network, fake):
    cop = await network.community("nursing", "Nursing")
    alice = fake.actor("mastodon.test", "alice", software="mastodon")
    _nadia, post = await member_thread(network)
    note_id = f"{network.url}/p/{post.id}"
    reply_id = fake.new_id(alice, "statuses")
    member = f"{network.url}/u/nadia"
    # Mastodon's reply: the parent's author mentioned in `tag` and `cc`
    # (mastodon app/lib/activitypub/activity/create.rb reads Mention tags to notify).
    reply = {
        "id": reply_id,
        "type": "Note",
        "attributedTo": alice.id,
        "inReplyTo": note_id,
        "to": [PUBLIC],
        "cc": [cop, member],
        "content": '<p><span class="h-card"><a href="#">@nadia</a></span> A checklist.</p>',
        "tag": [{"type": "Mention", "href": cop}, {"type": "Mention", "href": member}],
    }
    create = {"id": reply_id + "/activity", "type": "Create", "actor": alice.id, "object": reply}
    assert (
        await fake.send(alice, f"{network.url}/inbox", create, session=network.client)
    ).status == 202
    await network.settle()
    await run_jobs(network.app)
    async with network.app[SESSIONS]() as session:
        stored = await session.scalar(select(Post).where(Post.ap_id == reply_id))
    assert await notifications_of(network.app, "nadia") == [(REPLY, "alice", stored.id)]

    like = {"id": fake.new_id(alice), "type": "Like", "actor": alice.id, "object": note_id}
    await fake.send(alice, f"{network.url}/inbox", like, session=network.client)
    await network.settle()
    await run_jobs(network.app)
    assert (LIKE, "alice", post.id) in await notifications_of(network.app, "nadia")


async def test_a_members_like_and_undo_reach_the_remote_author(network, fake):
    cop = await network.community("nursing", "Nursing")
    alice = fake.actor("mastodon.test", "alice", software="mastodon")
    nadia_id, post = await member_thread(network)
    reply_id = fake.new_id(alice, "statuses")
    reply = {
        "id": reply_id,
        "type": "Note",
        "attributedTo": alice.id,
        "inReplyTo": f"{network.url}/p/{post.id}",
        "to": [PUBLIC],
        "cc": [cop],
        "content": "<p>Reply.</p>",
    }
    create = {"id": reply_id + "/activity", "type": "Create", "actor": alice.id, "object": reply}
    await fake.send(alice, f"{network.url}/inbox", create, session=network.client)
    await network.settle()
    async with network.app[WRITE_SESSIONS].begin() as session:
        stored = await session.scalar(select(Post).where(Post.ap_id == reply_id))
        nadia = await session.get(Actor, nadia_id)
        assert await like_post(session, network.app[URLS], nadia, stored, now=utcnow())
    await network.settle()
    (sent,) = fake.deliveries("Like", host="mastodon.test")
    assert sent.verified_by == f"{network.url}/u/nadia"
    assert sent.activity["object"] == reply_id
    assert sent.activity["actor"] == f"{network.url}/u/nadia"
    assert sent.activity["audience"] == cop
    async with network.app[WRITE_SESSIONS].begin() as session:
        stored = await session.get(Post, stored.id)
        nadia = await session.get(Actor, nadia_id)
        assert await unlike_post(session, network.app[URLS], nadia, stored, now=utcnow())
        assert not await unlike_post(session, network.app[URLS], nadia, stored, now=utcnow())
    await network.settle()
    (undo,) = fake.deliveries("Undo", host="mastodon.test")
    # The Undo embeds the Like as it was sent (Mastodon and Lemmy match it by its id).
    assert undo.activity["object"]["id"] == sent.activity["id"]
    assert undo.activity["object"]["type"] == "Like"
    async with network.app[SESSIONS]() as session:
        assert (await session.get(Post, stored.id)).like_count == 0


async def test_a_reply_in_a_partner_cop_reaches_the_member_on_their_own_network(
    aiohttp_server, database_url, database_factory, fake
):
    a = await start_copnet(aiohttp_server, database_url, fake, host="copnet.test")
    b = await start_copnet(aiohttp_server, database_factory(), fake, host="copnet-b.test")
    try:
        cop = await a.community("nursing", "Nursing Practice")
        group = await b.app[REMOTE].get(cop)
        async with b.app[WRITE_SESSIONS].begin() as session:
            ids = {}
            for name in ("bea", "bo"):
                account = await accounts.create_account(session, name, "-", display_name=name)
                ids[name] = account.actor_id
                member = await session.get(Actor, account.actor_id)
                await join(session, b.app[URLS], member, group)
        await settle_all(a, b)
        async with b.app[WRITE_SESSIONS].begin() as session:
            post = await publish_post(
                session,
                b.app[URLS],
                author=await session.get(Actor, ids["bea"]),
                group=group,
                community=None,
                title="Falls prevention at home",
                body_markdown="Our checklist, shared.",
                parent=None,
                now=utcnow(),
            )
        await settle_all(a, b)
        await run_jobs(b.app)
        # Bo, a member of the partner CoP on Bea's Network, hears of her new thread there.
        assert await notifications_of(b.app, "bo") == [(NEW_THREAD, "bea", post.id)]
        alice = fake.actor("mastodon.test", "alice")
        reply = {
            "id": fake.new_id(alice, "statuses"),
            "type": "Note",
            "attributedTo": alice.id,
            "inReplyTo": f"{b.url}/p/{post.id}",
            "to": [PUBLIC],
            "cc": [cop],
            "content": "<p>Hip protectors too.</p>",
            "tag": [{"type": "Mention", "href": cop}],
        }
        fake.serve(reply["id"], reply)
        create = {"id": reply["id"] + "/activity", "type": "Create", "actor": alice.id}
        await fake.send(alice, f"{cop}/inbox", {**create, "object": reply}, session=a.client)
        await settle_all(a, b)
        await run_jobs(b.app)
        async with b.app[SESSIONS]() as session:
            mirrored = await session.scalar(select(Post).where(Post.ap_id == reply["id"]))
        assert mirrored is not None
        assert await notifications_of(b.app, "bea") == [(REPLY, "alice", mirrored.id)]
    finally:
        await a.client.close()
        await b.client.close()
