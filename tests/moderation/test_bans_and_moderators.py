"""Bans (for a time or for good, optionally removing content) and the moderators collection.

Lemmy's ban is `Block{object: person, target: community, removeData, summary, expires,
endTime}` by the moderator, Announced by the community and also sent to the banned person's
inbox (crates/apub/src/activities/block/block_user.rs: `BlockUser::send`, `expires` and
`end_time` both set); moderators change by `Add`/`Remove` with `target` the moderators
collection (activities/community/collection_add.rs; fixture community/add_mod.json).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from models.communities import CommunityModerator
from models.follows import Follow
from models.posts import Post
from models.received import ReceivedActivity
from server.appkeys import SESSIONS
from tests.moderation.support import (
    AS2,
    PUBLIC,
    follow,
    log_entries,
    make_moderator,
    member,
    remote_post,
)


def _announced(fake, inner_type: str, host: str):
    return [
        d.activity
        for d in fake.deliveries("Announce", host=host)
        if isinstance(d.activity["object"], dict) and d.activity["object"]["type"] == inner_type
    ]


async def _row(net, ap_id: str) -> ReceivedActivity:
    async with net.app[SESSIONS]() as session:
        return await session.scalar(select(ReceivedActivity).where(ReceivedActivity.ap_id == ap_id))


async def test_ban_for_a_week_removes_content_and_refuses_everything_until_unban(net, fake):
    cop = await net.community("nursing", "Nursing")
    mona = await member(net, "mona", joins="nursing")
    await make_moderator(net, "nursing", "mona")
    lemmy = fake.actor("lemmy.test", "bob", software="lemmy", key_index=1)
    alice = fake.actor("mastodon.test", "alice", software="mastodon")
    await follow(net, fake, lemmy, cop)
    await follow(net, fake, alice, cop)
    earlier = await remote_post(net, fake, alice, cop)

    response = await mona.post(
        "/c/nursing/moderation/ban",
        person=alice.id,
        reason="spam",
        days="7",
        remove_content="on",
    )
    assert response.status == 303
    await net.settle()
    (announce,) = _announced(fake, "Block", "lemmy.test")
    block = announce["object"]
    assert block["actor"] == f"{net.url}/u/mona" and block["object"] == alice.id
    assert block["target"] == cop and block["removeData"] is True and block["summary"] == "spam"
    assert block["expires"] == block["endTime"]
    assert datetime.fromisoformat(block["expires"].replace("Z", "+00:00")).year >= 2026
    assert PUBLIC in block["to"]
    # The banned person's server hears it too, and their follow of the CoP is gone.
    assert _announced(fake, "Block", "mastodon.test")
    async with net.app[SESSIONS]() as session:
        post = await session.scalar(select(Post).where(Post.ap_id == earlier["object"]["id"]))
        assert post.is_removed
        follows = await session.scalars(select(Follow.follower_id))
        assert len(list(follows)) == 2  # bob and mona remain
    status, page = await mona.page("/c/nursing/moderation")
    assert status == 200 and "spam" in page and "alice" in page.lower()

    fake.received.clear()
    later = await remote_post(net, fake, alice, cop)
    row = await _row(net, later["id"])
    assert row.state == "rejected" and "banned" in row.last_error
    assert not fake.deliveries("Announce")  # never announced
    again = {"id": fake.new_id(alice), "type": "Follow", "actor": alice.id, "object": cop}
    await fake.send(alice, f"{cop}/inbox", again, session=net.client)
    await net.settle()
    assert (await _row(net, again["id"])).state == "rejected"
    assert not fake.deliveries("Accept")

    response = await mona.post(
        "/c/nursing/moderation/ban", person=alice.id, action="unban", reason="appeal"
    )
    assert response.status == 303
    await net.settle()
    (undo,) = _announced(fake, "Undo", "lemmy.test")
    assert undo["object"]["object"]["type"] == "Block" and undo["object"]["summary"] == "appeal"
    afterwards = await remote_post(net, fake, alice, cop)
    assert (await _row(net, afterwards["id"])).state == "done"
    assert [e.action for e in await log_entries(net)] == ["ban", "unban"]


async def test_a_banned_member_cannot_post_reply_or_rejoin_on_the_web(net, fake):
    await net.community("nursing", "Nursing")
    mona = await member(net, "mona", joins="nursing")
    await make_moderator(net, "nursing", "mona")
    tom = await member(net, "tom", joins="nursing")
    started = await tom.post("/c/nursing/threads", title="Hello", body="first")
    thread = started.headers["Location"]
    response = await mona.post("/c/nursing/moderation/ban", person="tom", reason="rude")
    assert response.status == 303
    assert (await tom.post("/c/nursing/threads", title="Again", body="x")).status == 403
    assert (await tom.post("/c/nursing/join")).status == 403
    root = thread.rsplit("/", 1)[1]
    assert (await tom.post(f"{thread}/reply", parent=root, body="x")).status == 403


async def test_moderators_are_added_and_removed_but_never_the_last(net, fake):
    cop = await net.community("nursing", "Nursing")
    mona = await member(net, "mona", joins="nursing")
    await make_moderator(net, "nursing", "mona")
    lemmy = fake.actor("lemmy.test", "bob", software="lemmy", key_index=1)
    await follow(net, fake, lemmy, cop)
    await member(net, "tom")
    response = await mona.post("/c/nursing/moderation/moderators", person="tom", action="add")
    assert response.status == 303
    await net.settle()
    (announce,) = _announced(fake, "Add", "lemmy.test")
    assert announce["object"]["object"] == f"{net.url}/u/tom"
    assert announce["object"]["target"] == f"{cop}/moderators"
    mods = await (await net.client.get(f"{cop}/moderators", headers=AS2)).json(content_type=None)
    assert set(mods["orderedItems"]) == {f"{net.url}/u/mona", f"{net.url}/u/tom"}

    response = await mona.post("/c/nursing/moderation/moderators", person="tom", action="remove")
    assert response.status == 303
    await net.settle()
    (removal,) = _announced(fake, "Remove", "lemmy.test")
    assert removal["object"]["target"] == f"{cop}/moderators"
    last = await mona.post("/c/nursing/moderation/moderators", person="mona", action="remove")
    assert last.status == 400 and "at least one moderator" in await last.text()
    async with net.app[SESSIONS]() as session:
        assert len(list(await session.scalars(select(CommunityModerator)))) == 1


async def test_a_banned_persons_join_of_a_basecamp_hosted_by_the_cop_is_refused(net, fake):
    from tests.scenarios.test_basecamp_federation import network_actor_url, organise

    await net.community("nursing", "Nursing")
    mona = await member(net, "mona", joins="nursing")
    await make_moderator(net, "nursing", "mona")
    network_url = await network_actor_url(net)
    event_url = f"{net.url}/b/{await organise(net.app)}"
    sanof = fake.actor("mobilizon.test", "sanof44", software="mobilizon")
    await mona.post("/c/nursing/moderation/ban", person=sanof.id, reason="disruptive")
    join = {"id": fake.new_id(sanof), "type": "Join", "actor": sanof.id, "object": event_url}
    await fake.send(sanof, f"{network_url}/inbox", join, session=net.client)
    await net.settle()
    row = await _row(net, join["id"])
    assert row.state == "rejected" and "banned" in row.last_error
    assert fake.deliveries("Accept", host="mobilizon.test") == []
