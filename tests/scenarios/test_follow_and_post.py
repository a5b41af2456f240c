"""Stories: people on other servers follow a CoP, post into it and see each other's posts."""

from __future__ import annotations

from sqlalchemy import select

from models.posts import Post
from server.appkeys import SESSIONS


async def test_mastodon_user_follows_cop_and_gets_accept(network, fake):
    cop = await network.community("nursing", "Nursing")
    alice = fake.actor("mastodon.test", "alice", software="mastodon")
    follow = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": fake.new_id(alice),
        "type": "Follow",
        "actor": alice.id,
        "object": cop,
    }
    response = await fake.send(alice, f"{cop}/inbox", follow, session=network.client)
    assert response.status == 202
    await network.settle()
    (accept,) = fake.deliveries("Accept")
    assert accept.path == "/users/alice/inbox"
    assert accept.activity["actor"] == cop
    assert accept.activity["object"]["id"] == follow["id"]
    assert accept.verified_by == cop
    followers = await network.client.get(
        f"{cop}/followers", headers={"Accept": "application/activity+json"}
    )
    assert (await followers.json(content_type=None))["totalItems"] == 1


async def test_mastodon_post_mentioning_cop_starts_thread_and_is_announced(network, fake):
    cop = await network.community("nursing", "Nursing")
    alice = fake.actor("mastodon.test", "alice", software="mastodon")
    bob = fake.actor("lemmy.test", "bob", software="lemmy", key_index=1)
    for follower in (alice, bob):
        follow = {
            "id": fake.new_id(follower),
            "type": "Follow",
            "actor": follower.id,
            "object": cop,
        }
        await fake.send(follower, f"{cop}/inbox", follow, session=network.client)
    await network.settle()
    note_id = fake.new_id(alice, "statuses")
    note = {
        "id": note_id,
        "type": "Note",
        "attributedTo": alice.id,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "cc": [cop, alice.id + "/followers"],
        "content": f'<p><a href="{cop}" class="u-url mention">@nursing</a> Handover tips?</p>',
        "tag": [{"type": "Mention", "href": cop, "name": "@nursing"}],
        "published": "2026-11-26T09:00:00Z",
    }
    create = {"id": note_id + "/activity", "type": "Create", "actor": alice.id, "object": note}
    fake.serve(note_id, note)
    response = await fake.send(alice, f"{network.url}/inbox", create, session=network.client)
    assert response.status == 202
    await network.settle()
    async with network.app[SESSIONS]() as session:
        post = await session.scalar(select(Post).where(Post.ap_id == note_id))
    assert post.title == "Handover tips?"
    plain = fake.deliveries("Announce", host="mastodon.test")
    assert [d.activity["object"] for d in plain] == [note_id]
    embedded = fake.deliveries("Announce", host="lemmy.test")
    assert [d.activity["object"]["id"] for d in embedded] == [create["id"]]
    assert all(d.activity.get("published") for d in plain + embedded)


async def test_a_new_followers_actor_document_is_fetched_once(network, fake):
    cop = await network.community("nursing", "Nursing")
    alice = fake.actor("mastodon.test", "alice", software="mastodon")
    follow = {"id": fake.new_id(alice), "type": "Follow", "actor": alice.id, "object": cop}
    await fake.send(alice, f"{cop}/inbox", follow, session=network.client)
    await network.settle()
    assert len(fake.deliveries("Accept")) == 1
    # The signature check fetched it; the intake reused that copy.
    assert fake.gets.count(("mastodon.test", "/users/alice")) == 1
