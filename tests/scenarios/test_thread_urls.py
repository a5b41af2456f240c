"""A thread's browser URL resolves to its first post for ActivityPub clients, and its reply
count forgets deleted replies.

Lemmy serves a post at the post's URL and the thread at `.../context` (LemmyNet/lemmy
crates/apub/src/http/post.rs: get_apub_post; the context collection's URL from
lemmy_apub_objects::utils::functions::context_url), which is what PieFed's search expects when a
URL is pasted into it.
"""

from __future__ import annotations

from sqlalchemy import select

from models.posts import Post
from server.appkeys import SESSIONS
from tests.scenarios.test_local_members import AS2, member_thread


async def reply_from(network, fake, alice, cop: str, note_id: str) -> str:
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
    return reply_id


async def test_the_thread_url_serves_its_first_post_to_activitypub_clients(network, fake):
    await network.community("nursing", "Nursing")
    _member, post = await member_thread(network)
    async with network.client.get(f"{network.url}/t/{post.id}", headers=AS2) as response:
        assert response.status == 200
        document = await response.json(content_type=None)
    assert document["id"] == f"{network.url}/p/{post.id}"
    assert document["type"] in ("Page", "Note", "Article")
    assert document["context"] == f"{network.url}/t/{post.id}/context"
    async with network.client.get(f"{network.url}/t/{post.id}/context", headers=AS2) as response:
        collection = await response.json(content_type=None)
    assert collection["type"] == "OrderedCollection"
    async with network.client.get(f"{network.url}/t/999999", headers=AS2) as response:
        assert response.status == 404


async def test_a_reply_that_is_deleted_is_no_longer_counted(network, fake):
    cop = await network.community("nursing", "Nursing")
    alice = fake.actor("mastodon.test", "alice", software="mastodon")
    _member, post = await member_thread(network)
    note_id = f"{network.url}/p/{post.id}"
    first = await reply_from(network, fake, alice, cop, note_id)
    await reply_from(network, fake, alice, cop, note_id)
    assert await reply_count(network, post.id) == 2

    for _ in range(2):  # a repeated Delete must not count twice
        delete = {
            "id": fake.new_id(alice),
            "type": "Delete",
            "actor": alice.id,
            "object": {"id": first, "type": "Tombstone"},
        }
        fake.serve(first, {"id": first, "type": "Tombstone"})
        await fake.send(alice, f"{network.url}/inbox", delete, session=network.client)
        await network.settle()
    assert await reply_count(network, post.id) == 1


async def reply_count(network, post_id: int) -> int:
    async with network.app[SESSIONS]() as session:
        return (await session.scalar(select(Post).where(Post.id == post_id))).reply_count
