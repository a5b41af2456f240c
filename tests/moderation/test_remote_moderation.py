"""Moderation from other servers: a remote CoP's moderators (Announced by the CoP) and remote
moderators of our CoPs (sent straight to it). Lemmy's own documents are used as captured
(tests/fixtures/activitypub/lemmy/activities/community/ and block/); Lemmy accepts them only from
a moderator of the community (crates/apub/src/activities/mod.rs, verify_mod_action) and only
for objects in that community (verify_community_match / verify_person_in_community).
"""

from __future__ import annotations

import uuid

from sqlalchemy import select

from models.actors import Actor
from models.communities import CommunityModerator, get_community
from models.follows import upsert_follow
from models.moderation import CommunityBan
from models.posts import Post
from models.received import ReceivedActivity
from server.appkeys import REMOTE, SESSIONS, WRITE_SESSIONS
from tests.moderation.support import PUBLIC, follow, log_entries, member, remote_post

ALPHA = {"http://lemmy-alpha:8541": "https://ds9.lemmy.ml"}


class LemmyGroup:
    """A Lemmy community on a fake host, with its moderators collection and one post."""

    def __init__(self, net, fake, host: str, moderators: list[str]):
        self.net, self.fake, self.host = net, fake, host
        base = fake.base(host)
        fake.add_host(host, "lemmy")
        self.url = f"{base}/c/main"
        self.group = fake.actor_at(self.url, type_="Group", key_index=2)
        self.group.document["attributedTo"] = f"{self.url}/moderators"
        fake.serve(self.url, self.group.document)
        self.moderators = [fake.actor_at(url, key_index=1) for url in moderators]
        fake.serve(
            f"{self.url}/moderators",
            {
                "id": f"{self.url}/moderators",
                "type": "OrderedCollection",
                "orderedItems": [m.id for m in self.moderators],
            },
        )
        self.base = base

    async def followed_by_a_member(self) -> None:
        await member(self.net, "mia")
        group = await self.net.app[REMOTE].get(self.url)
        async with self.net.app[WRITE_SESSIONS].begin() as session:
            mia = await session.scalar(select(Actor).where(Actor.local_name == "mia"))
            await upsert_follow(
                session,
                followed_id=group.id,
                follower_id=mia.id,
                state="accepted",
                activity_ap_id=None,
            )

    async def post(self, number: int, author_url: str) -> Post:
        author = self.fake.actor_at(author_url, key_index=3)
        page_id = f"{author.id.split('/u/')[0]}/post/{number}"  # on its author's server
        page = {
            "id": page_id,
            "type": "Page",
            "attributedTo": author.id,
            "to": [self.url, PUBLIC],
            "audience": self.url,
            "name": f"Post {number}",
            "content": "<p>text</p>",
            "published": "2026-11-26T09:00:00Z",
        }
        self.fake.serve(page_id, page)
        create = {
            "id": f"{page_id}/create",
            "type": "Create",
            "actor": author.id,
            "to": [self.url, PUBLIC],
            "object": page,
        }
        await self.announce(create)
        async with self.net.app[SESSIONS]() as session:
            return await session.scalar(select(Post).where(Post.ap_id == page_id))

    async def announce(self, activity: dict, *, number: int | None = None) -> ReceivedActivity:
        announce = {
            # A fresh id each time: id(activity) was reused once a dict was freed, and the
            # second Announce then read back as the first one's row.
            "id": f"{self.base}/activities/announce/{number or uuid.uuid4().hex}",
            "type": "Announce",
            "actor": self.url,
            "to": [PUBLIC],
            "cc": [f"{self.url}/followers"],
            "object": activity,
        }
        response = await self.fake.send(
            self.group, f"{self.net.url}/inbox", announce, session=self.net.client
        )
        assert response.status == 202
        await self.net.settle()
        async with self.net.app[SESSIONS]() as session:
            return await session.scalar(
                select(ReceivedActivity).where(ReceivedActivity.ap_id == announce["id"])
            )


async def _post(net, post_id: int) -> Post:
    async with net.app[SESSIONS]() as session:
        return await session.get(Post, post_id)


async def test_lemmy_lock_and_unlock_by_the_communitys_moderator(net, fake):
    lemmy = LemmyGroup(net, fake, "ds9.lemmy.ml", [f"{fake.base('ds9.lemmy.ml')}/u/lemmy_alpha"])
    await lemmy.followed_by_a_member()
    post = await lemmy.post(2, f"{lemmy.base}/u/carol")
    assert post is not None
    lock = fake.fixture("lemmy/activities/community/lock_page.json", ALPHA)
    row = await lemmy.announce(lock)
    assert row.state == "done", row.last_error
    assert (await _post(net, post.id)).locked_at is not None
    (entry,) = await log_entries(net)
    assert entry.action == "lock" and entry.reason == "A reason for the lock"
    unlock = fake.fixture("lemmy/activities/community/undo_lock_page.json", ALPHA)
    assert (await lemmy.announce(unlock)).state == "done"
    assert (await _post(net, post.id)).locked_at is None


async def test_lemmy_unpin_remove_and_restore_by_the_communitys_moderator(net, fake):
    lemmy = LemmyGroup(net, fake, "ds9.lemmy.ml", [f"{fake.base('ds9.lemmy.ml')}/u/lemmy_alpha"])
    await lemmy.followed_by_a_member()
    post = await lemmy.post(2, f"{lemmy.base}/u/carol")
    async with net.app[WRITE_SESSIONS].begin() as session:
        (await session.get(Post, post.id)).pinned_at = post.published
    unpin = fake.fixture("lemmy/activities/community/remove_featured_post.json")
    assert (await lemmy.announce(unpin)).state == "done"
    assert (await _post(net, post.id)).pinned_at is None
    # Lemmy's removal: the moderator's Delete with a reason (deletion/remove_note.json's shape).
    removal = {
        "id": f"{lemmy.base}/activities/delete/1",
        "type": "Delete",
        "actor": lemmy.moderators[0].id,
        "to": [PUBLIC],
        "cc": [lemmy.url],
        "audience": lemmy.url,
        "object": post.ap_id,
        "summary": "bad post",
    }
    assert (await lemmy.announce(removal)).state == "done"
    stored = await _post(net, post.id)
    assert stored.is_removed and stored.removal_reason == "bad post" and not stored.is_deleted
    restore = {
        "id": f"{lemmy.base}/activities/undo/1",
        "type": "Undo",
        "actor": lemmy.moderators[0].id,
        "to": [PUBLIC],
        "cc": [lemmy.url],
        "object": removal,
    }
    assert (await lemmy.announce(restore)).state == "done"
    assert not (await _post(net, post.id)).is_removed
    assert [e.action for e in await log_entries(net)] == ["unpin", "remove", "restore"]


async def test_lemmy_block_and_add_mod_by_the_communitys_moderator(net, fake):
    enterprise = fake.base("enterprise.lemmy.ml")
    lemmy = LemmyGroup(net, fake, "enterprise.lemmy.ml", [f"{enterprise}/u/lemmy_beta"])
    await lemmy.followed_by_a_member()
    alpha = fake.fixture("lemmy/activities/block/block_user.json")["object"]
    post = await lemmy.post(7, alpha)
    block = fake.fixture(
        "lemmy/activities/block/block_user.json", {"2021-11-01T12:23:50": "2031-11-01T12:23:50"}
    )
    row = await lemmy.announce(block)
    assert row.state == "done", row.last_error
    async with net.app[SESSIONS]() as session:
        ban = await session.scalar(select(CommunityBan))
    assert ban.reason == "spam post" and ban.expires_at.year == 2031
    assert (await _post(net, post.id)).is_removed  # removeData: true
    add = fake.fixture("lemmy/activities/community/add_mod.json")
    assert (await lemmy.announce(add)).state == "done"
    assert [e.action for e in await log_entries(net)] == ["ban", "add_moderator"]


async def test_remote_moderation_by_a_non_moderator_or_outside_the_community_is_refused(net, fake):
    lemmy = LemmyGroup(net, fake, "ds9.lemmy.ml", [f"{fake.base('ds9.lemmy.ml')}/u/someone_else"])
    await lemmy.followed_by_a_member()
    post = await lemmy.post(2, f"{lemmy.base}/u/carol")
    for relative in (
        "community/lock_page.json",
        "community/remove_featured_post.json",
    ):
        fake.actor_at(f"{lemmy.base}/u/lemmy_alpha", key_index=1)
        row = await lemmy.announce(fake.fixture(f"lemmy/activities/{relative}", ALPHA))
        assert row.state == "rejected" and "not a moderator" in row.last_error, relative
    # A moderator of another community cannot act on this one's post through its own Announce.
    other = LemmyGroup(net, fake, "enterprise.lemmy.ml", [f"{lemmy.base}/u/lemmy_alpha"])
    lock = fake.fixture("lemmy/activities/community/lock_page.json", ALPHA)
    lock["id"] = f"{lemmy.base}/activities/lock/other"
    row = await other.announce(lock)
    assert row.state in ("rejected", "ignored")
    stored = await _post(net, post.id)
    assert stored.locked_at is None and not stored.is_removed
    assert await log_entries(net) == []


async def test_a_remote_moderator_of_our_cop_locks_directly_and_a_non_moderator_cannot(net, fake):
    cop = await net.community("nursing", "Nursing")
    lemmy_follower = fake.actor("lemmy.test", "bob", software="lemmy", key_index=1)
    await follow(net, fake, lemmy_follower, cop)
    alice = fake.actor("mastodon.test", "alice", software="mastodon")
    mod = fake.actor("lemmy.test", "modlady", software="lemmy", key_index=2)
    eve = fake.actor("lemmy.test", "eve", software="lemmy", key_index=3)
    create = await remote_post(net, fake, alice, cop)
    thread = create["object"]["id"]
    remote_mod = await net.app[REMOTE].get(mod.id)
    async with net.app[WRITE_SESSIONS].begin() as session:
        community = await get_community(session, "nursing")
        session.add(CommunityModerator(community_id=community.actor_id, actor_id=remote_mod.id))

    def lock_by(actor):
        return {
            "id": fake.new_id(actor),
            "type": "Lock",
            "actor": actor.id,
            "to": [PUBLIC],
            "cc": [cop],
            "audience": cop,
            "object": thread,
        }

    for kind, extra in (
        ("Lock", {}),
        ("Add", {"target": f"{cop}/featured"}),
        ("Delete", {}),
        ("Block", {"object": alice.id, "target": cop}),
        ("Add", {"object": eve.id, "target": f"{cop}/moderators"}),
    ):
        forged = {**lock_by(eve), "type": kind, **extra}
        await fake.send(eve, f"{cop}/inbox", forged, session=net.client)
        await net.settle()
        async with net.app[SESSIONS]() as session:
            row = await session.scalar(
                select(ReceivedActivity).where(ReceivedActivity.ap_id == forged["id"])
            )
        assert row.state == "rejected" and "not a moderator" in row.last_error, kind
    async with net.app[SESSIONS]() as session:
        post = await session.scalar(select(Post).where(Post.ap_id == thread))
        assert post.locked_at is None and post.pinned_at is None and not post.is_removed
        assert await session.scalar(select(CommunityBan)) is None
    assert await log_entries(net) == []

    fake.received.clear()
    lock = lock_by(mod)
    await fake.send(mod, f"{cop}/inbox", lock, session=net.client)
    await net.settle()
    async with net.app[SESSIONS]() as session:
        post = await session.scalar(select(Post).where(Post.ap_id == thread))
    assert post.locked_at is not None
    (announce,) = fake.deliveries("Announce", host="lemmy.test")
    assert announce.activity["object"]["id"] == lock["id"]
