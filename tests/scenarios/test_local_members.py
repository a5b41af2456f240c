"""Stories: members writing on the website reach remote followers through the CoP."""

from __future__ import annotations

from models.actors import create_local_actor
from models.base import utcnow
from models.communities import get_community
from server.appkeys import WRITE_SESSIONS
from server.services.membership import join
from server.services.posts import publish_post

AS2 = {"Accept": "application/activity+json"}


async def follow_cop(network, fake, actor, cop):
    follow = {"id": fake.new_id(actor), "type": "Follow", "actor": actor.id, "object": cop}
    await fake.send(actor, f"{cop}/inbox", follow, session=network.client)


async def member_thread(network, title="Night shift handovers", body="What works *for you*?"):
    async with network.app[WRITE_SESSIONS].begin() as session:
        member = await create_local_actor(session, "nadia", "Person", display_name="Nadia")
        community = await get_community(session, "nursing")
        await join(
            session, network.app["urls"] if False else _urls(network), member, community.actor
        )
        post = await publish_post(
            session,
            _urls(network),
            author=member,
            group=community.actor,
            community=community,
            title=title,
            body_markdown=body,
            parent=None,
            now=utcnow(),
        )
    return member, post


def _urls(network):
    from server.appkeys import URLS

    return network.app[URLS]


async def test_member_thread_reaches_mastodon_and_lemmy_followers(network, fake):
    cop = await network.community("nursing", "Nursing")
    alice = fake.actor("mastodon.test", "alice", software="mastodon")
    bob = fake.actor("lemmy.test", "bob", software="lemmy", key_index=1)
    for follower in (alice, bob):
        await follow_cop(network, fake, follower, cop)
    await network.settle()
    _member, post = await member_thread(network)
    await network.settle()
    note_id = f"{network.url}/p/{post.id}"
    (plain,) = fake.deliveries("Announce", host="mastodon.test")
    assert plain.activity["object"] == note_id
    (embedded,) = fake.deliveries("Announce", host="lemmy.test")
    assert embedded.activity["object"]["type"] == "Create"
    assert embedded.activity["object"]["object"]["id"] == note_id
    # Mastodon fetches the announced object: a Note that mentions the CoP and names its thread.
    async with network.client.get(note_id, headers=AS2) as response:
        note = await response.json(content_type=None)
    assert note["type"] == "Note"
    assert note["attributedTo"] == f"{network.url}/u/nadia"
    # Without `name` (GoToSocial would make it a content warning); the title leads the text.
    assert "name" not in note
    assert note["content"].startswith("<p><strong>Night shift handovers</strong></p>")
    assert {
        "type": "Mention",
        "href": cop,
        "name": f"@nursing@copnet.test:{network.url.rsplit(':', 1)[1]}",
    } in note["tag"]
    assert note["context"] == f"{network.url}/t/{post.id}/context"
    assert "<em>for you</em>" in note["content"]


async def test_mastodon_reply_to_a_member_post_joins_the_thread(network, fake):
    cop = await network.community("nursing", "Nursing")
    alice = fake.actor("mastodon.test", "alice", software="mastodon")
    _member, post = await member_thread(network)
    note_id = f"{network.url}/p/{post.id}"
    reply_id = fake.new_id(alice, "statuses")
    reply = {
        "id": reply_id,
        "type": "Note",
        "attributedTo": alice.id,
        "inReplyTo": note_id,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "cc": [cop],
        "content": "<p>We use a printed checklist.</p>",
        "tag": [{"type": "Mention", "href": cop}],
    }
    create = {"id": reply_id + "/activity", "type": "Create", "actor": alice.id, "object": reply}
    await fake.send(alice, f"{network.url}/inbox", create, session=network.client)
    await network.settle()
    async with network.client.get(f"{network.url}/t/{post.id}/context?page=1", headers=AS2) as r:
        context = await r.json(content_type=None)
    assert context["orderedItems"] == [note_id, reply_id]


async def test_mastodon_user_follows_a_member_and_gets_their_posts(network, fake):
    cop = await network.community("nursing", "Nursing")
    alice = fake.actor("mastodon.test", "alice", software="mastodon")
    async with network.app[WRITE_SESSIONS].begin() as session:
        await create_local_actor(session, "nadia", "Person", display_name="Nadia")
    member_url = f"{network.url}/u/nadia"
    follow = {"id": fake.new_id(alice), "type": "Follow", "actor": alice.id, "object": member_url}
    assert (
        await fake.send(alice, f"{member_url}/inbox", follow, session=network.client)
    ).status == 202
    await network.settle()
    (accept,) = fake.deliveries("Accept")
    assert accept.activity["actor"] == member_url
    assert accept.verified_by == member_url
    async with network.app[WRITE_SESSIONS].begin() as session:
        from models.actors import get_local_actor

        nadia = await get_local_actor(session, "nadia")
        community = await get_community(session, "nursing")
        await join(session, _urls(network), nadia, community.actor)
        await publish_post(
            session,
            _urls(network),
            author=nadia,
            group=community.actor,
            community=community,
            title="Hello",
            body_markdown="First post",
            parent=None,
            now=utcnow(),
        )
    await network.settle()
    creates = fake.deliveries("Create", host="mastodon.test")
    assert [d.activity["actor"] for d in creates] == [member_url]
    assert cop in creates[0].activity["cc"]


async def test_thread_url_negotiates_page_or_first_post(network, fake):
    await network.community("nursing", "Nursing")
    _member, post = await member_thread(network)
    thread = f"{network.url}/t/{post.id}"
    async with network.client.get(thread, headers=AS2) as response:
        first = await response.json(content_type=None)
    assert first["id"] == f"{network.url}/p/{post.id}"  # as Lemmy: the post, its context apart
    async with network.client.get(first["context"], headers=AS2) as response:
        collection = await response.json(content_type=None)
    assert collection["type"] == "OrderedCollection"
    assert collection["id"] == thread + "/context"
    assert collection["totalItems"] == 1
    async with network.client.get(thread, headers={"Accept": "text/html"}) as response:
        assert "Night shift handovers" in await response.text()
