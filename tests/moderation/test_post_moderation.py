"""Remove/restore, lock/unlock, pin/unpin by a CoP's moderator, and how the fediverse hears it.

Wire shapes are Lemmy's: a moderator's `Delete` with `summary` for a removal
(lemmy crates/apub/src/activities/deletion/, fixture lemmy/activities/deletion/remove_note.json),
`Lock`/`Undo{Lock}` (activities/community/lock_page.rs, fixture community/lock_page.json),
`Add`/`Remove` with `target` the featured collection (community/collection_add.rs,
fixture community/add_featured_post.json), each Announced by the community to its followers
(activities/community/announce.rs, send_activity_in_community).
"""

from __future__ import annotations

from sqlalchemy import select

from models.posts import Post
from models.received import ReceivedActivity
from server.appkeys import SESSIONS
from tests.moderation.support import (
    AS2,
    follow,
    log_entries,
    make_moderator,
    member,
    remote_post,
)


async def _setup(net, fake):
    cop = await net.community("nursing", "Nursing")
    mona = await member(net, "mona", joins="nursing")
    await make_moderator(net, "nursing", "mona")
    lemmy = fake.actor("lemmy.test", "bob", software="lemmy", key_index=1)
    alice = fake.actor("mastodon.test", "alice", software="mastodon")
    await follow(net, fake, lemmy, cop)
    create = await remote_post(net, fake, alice, cop)
    async with net.app[SESSIONS]() as session:
        post = await session.scalar(select(Post).where(Post.ap_id == create["object"]["id"]))
    return cop, mona, lemmy, alice, post


def _announced(fake, inner_type: str, host: str):
    return [
        d.activity
        for d in fake.deliveries("Announce", host=host)
        if isinstance(d.activity["object"], dict) and d.activity["object"]["type"] == inner_type
    ]


async def test_moderator_removes_and_restores_a_remote_thread_and_both_sides_hear(net, fake):
    cop, mona, _lemmy, _alice, post = await _setup(net, fake)
    response = await mona.post(
        f"/t/{post.id}/moderate", post=str(post.id), action="remove", reason="off topic"
    )
    assert response.status == 303
    await net.settle()
    async with net.app[SESSIONS]() as session:
        stored = await session.get(Post, post.id)
    assert stored.is_removed and stored.removal_reason == "off topic"
    (announce,) = _announced(fake, "Delete", "lemmy.test")
    delete = announce["object"]
    assert announce["actor"] == cop
    assert delete["actor"] == f"{net.url}/u/mona"
    assert delete["object"] == post.ap_id and delete["summary"] == "off topic"
    assert delete["audience"] == cop and cop in delete["cc"]
    # The author's own server hears of the removal too (Lemmy sends it there the same way).
    assert _announced(fake, "Delete", "mastodon.test")[0]["object"]["id"] == delete["id"]
    # The moderator's activity dereferences at its id.
    got = await net.client.get(delete["id"], headers=AS2)
    assert (await got.json(content_type=None))["type"] == "Delete"
    # The CoP's page no longer lists it; its thread page says it was removed, and why.
    assert "Handover tips?" not in (await mona.page("/c/nursing"))[1]
    status, page = await mona.page(f"/t/{post.id}")
    assert status == 200 and "Removed by a moderator: off topic" in page

    response = await mona.post(
        f"/t/{post.id}/moderate", post=str(post.id), action="restore", reason="on reflection"
    )
    assert response.status == 303
    await net.settle()
    async with net.app[SESSIONS]() as session:
        assert not (await session.get(Post, post.id)).is_removed
    (undo,) = _announced(fake, "Undo", "lemmy.test")
    assert undo["object"]["object"]["type"] == "Delete"
    assert undo["object"]["object"]["object"] == post.ap_id
    assert [e.action for e in await log_entries(net)] == ["remove", "restore"]


async def test_locked_thread_refuses_remote_and_local_replies_until_unlocked(net, fake):
    cop, mona, _lemmy, alice, post = await _setup(net, fake)
    assert (
        await mona.post(f"/t/{post.id}/moderate", post=str(post.id), action="lock")
    ).status == 303
    await net.settle()
    (announce,) = _announced(fake, "Lock", "lemmy.test")
    assert announce["object"]["object"] == post.ap_id
    assert announce["object"]["actor"] == f"{net.url}/u/mona"

    reply = await remote_post(net, fake, alice, cop, in_reply_to=post.ap_id)
    async with net.app[SESSIONS]() as session:
        row = await session.scalar(
            select(ReceivedActivity).where(ReceivedActivity.ap_id == reply["id"])
        )
        assert await session.scalar(select(Post).where(Post.ap_id == reply["object"]["id"])) is None
    assert row.state == "rejected" and "locked" in row.last_error
    local = await mona.post(f"/t/{post.id}/reply", parent=str(post.id), body="me too")
    assert local.status == 403

    assert (
        await mona.post(f"/t/{post.id}/moderate", post=str(post.id), action="unlock")
    ).status == 303
    await net.settle()
    (undo,) = _announced(fake, "Undo", "lemmy.test")
    assert undo["object"]["object"]["type"] == "Lock"
    assert (
        await mona.post(f"/t/{post.id}/reply", parent=str(post.id), body="me too")
    ).status == 303


async def test_pinned_thread_is_featured_and_announced_as_add_and_remove(net, fake):
    cop, mona, _lemmy, _alice, post = await _setup(net, fake)
    assert (
        await mona.post(f"/t/{post.id}/moderate", post=str(post.id), action="pin")
    ).status == 303
    await net.settle()
    (announce,) = _announced(fake, "Add", "lemmy.test")
    assert announce["object"]["target"] == f"{cop}/featured"
    assert announce["object"]["object"] == post.ap_id
    featured = await (await net.client.get(f"{cop}/featured", headers=AS2)).json(content_type=None)
    assert featured["totalItems"] == 1 and featured["orderedItems"] == [post.ap_id]

    assert (
        await mona.post(f"/t/{post.id}/moderate", post=str(post.id), action="unpin")
    ).status == 303
    await net.settle()
    (removal,) = _announced(fake, "Remove", "lemmy.test")
    assert removal["object"]["target"] == f"{cop}/featured"
    featured = await (await net.client.get(f"{cop}/featured", headers=AS2)).json(content_type=None)
    assert featured["totalItems"] == 0
